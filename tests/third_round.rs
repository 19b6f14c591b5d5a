//! What a new user hit in the third round (issue "ids, pipes, compressed bytes, config
//! errors, nightly counts, a report for thousands of clusters"): one test per problem,
//! named after what it guards. Pages are written here, with our own text.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::{jsonl, run_ok};

fn page(title: &str, body: &str) -> String {
    format!(
        "{title}\n\n{body}\n\n提示:本内容不能代替面诊。\n相关推荐\n\n临川医保缴费标准\n\n\
         每年三百八十元，集中缴费期内缴纳。\n\n健康新闻 2025-03-02\n"
    )
}

fn input_with(files: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("in")).unwrap();
    for (name, bytes) in files {
        std::fs::write(d.path().join("in").join(name), bytes).unwrap();
    }
    d
}

fn reject_of(out: &Path, source: &str) -> Option<(String, String)> {
    jsonl(&out.join("rejects.jsonl"))
        .into_iter()
        .find(|r| r["source"] == source)
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("reason"), s("detail"))
        })
}

/// Runs `pagesieve ARGS` with its stdout closed before it writes: exit 0, no panic.
fn with_closed_stdout(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pagesieve"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_is_not_a_panic() {
    let d = input_with(&[(
        "p.txt",
        page("东屏医保怎么报销", "住院费用按比例报销。").into_bytes(),
    )]);
    let (input, out) = (d.path().join("in"), d.path().join("out"));
    let (code, err) = with_closed_stdout(&[
        "run".as_ref(),
        "--input".as_ref(),
        input.as_os_str(),
        "--output".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(out.join("articles.jsonl").is_file());
    let p = input.join("p.txt");
    let (code, err) = with_closed_stdout(&["explain".as_ref(), p.as_os_str()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn compressed_bytes_are_known_by_their_magic_not_their_name() {
    let text = page("松阳医保异地备案", "异地就医需要先在参保地备案。");
    let gz = common::gzip(text.as_bytes());
    let other = page("东屏医保门诊统筹", "门诊统筹按次报销，年度有限额。");
    let zst = zstd::encode_all(other.as_bytes(), 3).unwrap();
    let d = input_with(&[
        ("gz-named-txt.txt", gz),
        ("zst-no-ext", zst),
        (
            "plain-named.gz",
            page("石门医保个人账户", "个人账户可以用于门诊。").into_bytes(),
        ),
    ]);
    let (input, out) = (d.path().join("in"), d.path().join("out"));
    run_ok(&input, &out, &[]);
    let records = jsonl(&out.join("articles.jsonl"));
    let compression = |source: &str| {
        records
            .iter()
            .find(|a| a["source"] == source)
            .map(|a| a["metadata"]["compression"].clone())
    };
    assert_eq!(compression("gz-named-txt.txt"), Some("gzip".into()));
    assert_eq!(compression("zst-no-ext"), Some("zstd".into()));
    assert_eq!(compression("plain-named.gz"), Some(serde_json::Value::Null));
    assert!(jsonl(&out.join("rejects.jsonl")).is_empty());
}

#[test]
fn a_binary_reject_says_what_the_bytes_look_like() {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    png.extend(std::iter::repeat_n(0u8, 64));
    let d = input_with(&[
        (
            "ok.txt",
            page("临川医保报销比例", "门诊报销比例为五成。").into_bytes(),
        ),
        ("image.txt", png),
    ]);
    let (input, out) = (d.path().join("in"), d.path().join("out"));
    run_ok(&input, &out, &[]);
    let (reason, detail) = reject_of(&out, "image.txt").unwrap();
    assert_eq!(reason, "binary");
    assert!(detail.contains("PNG image"), "{detail}");
    assert!(!detail.contains("GB18030"), "{detail}");
}

/// Item 1: nightly folders reuse file names; a page's id is a function of its source and
/// bytes, so a night's ids are the same run alone and against earlier nights, and the page
/// saved under last night's name with other text gets another id.
#[test]
fn ids_do_not_depend_on_the_history() {
    let night1 = [
        ("page_00000.txt", page("南岭医保门诊怎么报销", &"门诊费用先在定点医院结算，个人只付自付部分，统筹基金按六成支付，年度限额两千元。".repeat(8))),
        ("page_00001.txt", page("北湾异地就医如何备案", &"异地就医先在手机上办理备案，选好就医地和医院，备案后直接刷卡结算，无需回参保地报销。".repeat(8))),
    ];
    let night2 = [
        // The same name as last night's first page, another page.
        (
            "page_00000.txt",
            page(
                "西川个人账户余额能取吗",
                &"个人账户的钱只能用于本人和家属看病买药，不能取现，职工退休后每月还会划入一笔。"
                    .repeat(8),
            ),
        ),
        // Last night's second page, saved again under its name with the same bytes.
        night1[1].clone(),
    ];
    let d = tempfile::tempdir().unwrap();
    let folder = |name: &str, pages: &[(&str, String)]| {
        let p = d.path().join(name);
        std::fs::create_dir(&p).unwrap();
        for (n, text) in pages {
            std::fs::write(p.join(n), text).unwrap();
        }
        p
    };
    let (in1, in2) = (folder("n1", &night1), folder("n2", &night2));
    let (o1, alone, against) = (
        d.path().join("o1"),
        d.path().join("alone"),
        d.path().join("against"),
    );
    run_ok(&in1, &o1, &[]);
    run_ok(&in2, &alone, &[]);
    run_ok(&in2, &against, &["--against", o1.to_str().unwrap()]);
    let ids = |out: &Path, file: &str| -> Vec<(String, String)> {
        jsonl(&out.join(file))
            .iter()
            .map(|r| {
                (
                    r["source"].as_str().unwrap().into(),
                    r["id"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let first = ids(&o1, "articles.jsonl");
    let (alone_ids, against_ids) = (
        ids(&alone, "articles.jsonl"),
        ids(&against, "articles.jsonl"),
    );
    // The page both runs keep has one id, alone or against night 1.
    let new_page = |v: &[(String, String)]| v.iter().find(|(s, _)| s == "page_00000.txt").cloned();
    assert_eq!(new_page(&alone_ids), new_page(&against_ids));
    // Different pages under one name never share an id across nights.
    let id_of =
        |v: &[(String, String)], s: &str| v.iter().find(|(x, _)| x == s).map(|(_, i)| i.clone());
    assert_ne!(
        id_of(&first, "page_00000.txt"),
        id_of(&alone_ids, "page_00000.txt")
    );
    assert!(!alone_ids[0].1.ends_with("-2") && !against_ids[0].1.ends_with("-2"));
    // The page saved again with the same bytes is the same page: the same id, dropped
    // against night 1 as an exact duplicate of its record there.
    let again = jsonl(&against.join("dropped.jsonl"));
    let again = again
        .iter()
        .find(|r| r["source"] == "page_00001.txt")
        .expect("dropped again");
    assert_eq!(
        again["id"].as_str(),
        id_of(&first, "page_00001.txt").as_deref()
    );
    assert_eq!(again["duplicate_of"], again["id"]);
    assert_eq!(again["match"], "exact");
}

/// Item 4: an unknown key, a wrong type, a value out of range and a bad regex are all
/// reported in one pass, each with its line and its key.
#[test]
fn check_config_reports_every_problem_at_once() {
    let profile = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
    let bad = profile
        .replacen(
            "heading_max_chars = 24",
            "heading_max_chars = \"wide\"\nheading_colour = 3",
            1,
        )
        .replacen(
            "navigation = ['^首页 ?顶部$'",
            "navigation = ['^首页 ?(顶部$'",
            1,
        );
    let bad = format!("{bad}\n[dedup]\nmin_similarity = 7\n");
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("bad.toml");
    std::fs::write(&file, &bad).unwrap();
    let out = common::pagesieve(&["check-config", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let line_of = |needle: &str| bad.lines().position(|l| l.contains(needle)).unwrap() + 1;
    for (key, needle, what) in [
        ("profile.navigation[0]", "navigation = ", "unclosed group"),
        (
            "metadata.heading_max_chars",
            "heading_max_chars",
            "expected usize",
        ),
        ("metadata.heading_colour", "heading_colour", "unknown field"),
        (
            "dedup.min_similarity",
            "min_similarity = 7",
            "between 0 and 1",
        ),
    ] {
        let want = format!("bad.toml:{}: {key}: ", line_of(needle));
        let line = err.lines().find(|l| l.contains(&want));
        let line = line.unwrap_or_else(|| panic!("no {want:?} in\n{err}"));
        assert!(line.contains(what), "{line}");
    }
    assert!(err.contains("4 problem(s)"), "{err}");
}

/// Item 6: with more clusters than one page holds and than the report shows in full, every
/// cluster of `duplicates.jsonl` is on exactly one paged file beside `report.html`, every
/// link between them leads to a file that exists, sections are counted in the index, and
/// nothing holds a script.
#[test]
fn report_html_reaches_every_cluster() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let places = [
        "东屏", "临川", "南岭", "北湾", "西川", "青禾", "云石", "白沙",
    ];
    let topics = [
        "门诊报销",
        "住院结算",
        "异地备案",
        "个人账户",
        "慢病认定",
        "生育津贴",
    ];
    let mut n = 0;
    let mut seed = 7u64;
    for p in places.iter() {
        for (j, t) in topics.iter().enumerate() {
            for k in 0..12 {
                let body = prose(&mut seed, 6);
                let title = format!("{p}{t}问答{k}");
                let name = |c: &str| input.join(format!("{p}-{j}-{k}-{c}.txt"));
                std::fs::write(name("a"), page(&title, &body)).unwrap();
                // An exact copy (spaces and punctuation only) and a near copy.
                std::fs::write(name("b"), page(&title, &body.replace('。', "；"))).unwrap();
                let near = body.replacen("费用按", "所有合规费用统一按", 2);
                std::fs::write(name("c"), page(&format!("{title}（新）"), &near)).unwrap();
                n += 1;
            }
        }
    }
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let clusters = jsonl(&out.join("duplicates.jsonl"));
    assert!(
        clusters.len() > 500,
        "{} clusters: more than one page",
        clusters.len()
    );
    assert!(clusters.len() <= n);
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    let mut pages: Vec<std::path::PathBuf> = std::fs::read_dir(out.join("clusters"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    pages.sort();
    assert!(pages.len() >= 2, "{pages:?}");
    let href = regex::Regex::new(r##"href="([^"#]*)(#[^"]*)?""##).unwrap();
    let mut listed = std::collections::BTreeMap::new();
    for p in &pages {
        let html = std::fs::read_to_string(p).unwrap();
        assert!(!html.contains("<script"), "{}", p.display());
        for c in href.captures_iter(&html) {
            let target = &c[1];
            if !target.is_empty() {
                assert!(
                    p.parent().unwrap().join(target).exists(),
                    "{} links to {target}",
                    p.display()
                );
            }
        }
        for c in &clusters {
            let id = c["cluster"].as_str().unwrap();
            if html.contains(&format!("id=\"{id}\"")) {
                *listed.entry(id.to_string()).or_insert(0) += 1;
            }
        }
    }
    assert_eq!(listed.len(), clusters.len(), "every cluster on a page");
    assert!(listed.values().all(|&k| k == 1), "each on one page only");
    for c in href.captures_iter(&report) {
        if !c[1].is_empty() {
            assert!(out.join(&c[1]).exists(), "report.html links to {}", &c[1]);
        }
    }
    assert!(!report.contains("<script"));
    // The index names each section with its count, and the borderline pairs come first.
    let near = clusters
        .iter()
        .filter(|c| {
            c["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["match"] == "near")
        })
        .count();
    assert!(
        report.contains(&format!("Near duplicates (articles)</a> ({near})")),
        "near count"
    );
    assert!(report.find("id=\"look-first\"").unwrap() < report.find("id=\"clusters\"").unwrap());
    assert!(report.contains("shared MinHash band (<code>lsh</code>)"));
    // An exact pair that differs in punctuation is side by side and says why it matched;
    // the timings are folded away.
    assert!(report.contains("identical after normalization: only punctuation"));
    assert!(report.contains("<details id=\"details\">"));
}

/// `lines` lines of made-up sentences from a word list, different for every seed.
fn prose(seed: &mut u64, lines: usize) -> String {
    const WORDS: [&str; 40] = [
        "参保人",
        "经办机构",
        "定点医院",
        "个人账户",
        "统筹基金",
        "门诊",
        "住院",
        "药店",
        "备案",
        "结算",
        "报销",
        "比例",
        "起付线",
        "封顶线",
        "材料",
        "窗口",
        "手机",
        "线上",
        "办理",
        "审核",
        "缴费",
        "年度",
        "限额",
        "待遇",
        "异地",
        "转诊",
        "慢病",
        "目录",
        "自付",
        "支付",
        "提交",
        "发票",
        "清单",
        "证明",
        "工作日",
        "家属",
        "退休",
        "职工",
        "居民",
        "医保卡",
    ];
    let mut next = || common::lcg(seed);
    (0..lines)
        .map(|_| {
            let n = 14 + next() % 8;
            let mut line: String = (0..n).map(|_| WORDS[next() % WORDS.len()]).collect();
            line.push('。');
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Item 5: a night run again against its own output keeps nothing and says so — a
/// warning on stderr and in report.json — and the summary names what the earlier run
/// accounts for: the articles dropped against its records, the snippets it already wrote.
#[test]
fn a_night_replayed_against_itself_warns_and_counts_plainly() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let mut seed = 11u64;
    for i in 0..6 {
        let title = format!("青禾医保问题{i}怎么办");
        std::fs::write(
            input.join(format!("p{i}.txt")),
            page(&title, &prose(&mut seed, 5)),
        )
        .unwrap();
    }
    let (first, again) = (d.path().join("o1"), d.path().join("o2"));
    run_ok(&input, &first, &[]);
    let mut args = common::run_args(&input, &again);
    args.retain(|a| *a != "--quiet");
    args.extend(["--against", first.to_str().unwrap()]);
    let out = common::pagesieve(&args);
    assert_eq!(out.status.code(), Some(0));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        stderr.contains("warning: every one of the 6 articles matched a record of an earlier run"),
        "{stderr}"
    );
    assert!(stdout.contains("kept 0 articles, dropped 6 as duplicates (6 exact, 0 near; 6 of them of an earlier run's record)"), "{stdout}");
    assert!(stdout.contains("1 distinct blocks: 0 written as new records, 1 already written by an earlier run (seen_again.jsonl)"), "{stdout}");
    let warnings = common::report(&again)["warnings"].clone();
    assert!(
        warnings.to_string().contains("the same input twice"),
        "{warnings}"
    );
    // The first run, alone, warns of nothing of the kind.
    assert!(!common::report(&first)["warnings"]
        .to_string()
        .contains("earlier run"));
}

/// The paged cluster files belong to one run: a later run into the same output with no
/// duplicates leaves no `clusters` folder behind, and the link to it goes too.
#[test]
fn a_run_without_clusters_leaves_no_cluster_pages_behind() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let mut seed = 5u64;
    let body = prose(&mut seed, 5);
    std::fs::write(input.join("a.txt"), page("临川门诊统筹怎么用", &body)).unwrap();
    std::fs::write(input.join("b.txt"), page("临川门诊统筹怎么用", &body)).unwrap();
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    assert!(out.join("clusters").join("exact-0001.html").is_file());
    std::fs::remove_file(input.join("b.txt")).unwrap();
    run_ok(&input, &out, &["--force"]);
    assert!(
        std::fs::symlink_metadata(out.join("clusters")).is_err(),
        "no stale link"
    );
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!report.contains("clusters/exact-0001.html"));
}

/// bzip2 and xz are read as gzip and zstd are: by their bytes, whatever the name.
#[test]
fn bzip2_and_xz_pages_are_read() {
    let bz = page("兴宁医保慢病门诊", "慢病门诊需要先申请认定。");
    let xz = page("兴宁医保生育津贴", "生育津贴由单位代为申领。");
    let d = input_with(&[
        ("a.txt.bz2", common::bzip2(bz.as_bytes())),
        ("b-no-ext", common::xz(xz.as_bytes())),
    ]);
    let (input, out) = (d.path().join("in"), d.path().join("out"));
    run_ok(&input, &out, &[]);
    let records = jsonl(&out.join("articles.jsonl"));
    let got = |source: &str| {
        records
            .iter()
            .find(|a| a["source"] == source)
            .map(|a| (a["metadata"]["compression"].clone(), a["text"].clone()))
    };
    assert_eq!(
        got("a.txt.bz2"),
        Some(("bzip2".into(), "慢病门诊需要先申请认定。".into()))
    );
    assert_eq!(
        got("b-no-ext"),
        Some(("xz".into(), "生育津贴由单位代为申领。".into()))
    );
    assert!(jsonl(&out.join("rejects.jsonl")).is_empty());
}

/// The 相关推荐 marker as sites decorate it starts the related list under the default
/// profile; none of it is left in the answer.
#[test]
fn decorated_related_markers_start_the_related_list() {
    let markers = [
        "相关推荐",
        "相关推荐：",
        "相关推荐 >>",
        "【相关推荐】",
        "相关 推荐",
        "相关推荐 更多»",
        "相关阅读",
    ];
    let files: Vec<(String, Vec<u8>)> = markers
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let text = format!(
                "第{i}个医保问题\n\n第{i}种情况：门诊费用按比例报销，住院另算。\n\n{m}\n\n\
                 异地就医备案流程\n\n异地就医需要先在参保地办理备案，备案后直接结算。\n\n\
                 健康新闻 2025-03-02\n"
            );
            (format!("p{i}.txt"), text.into_bytes())
        })
        .collect();
    let named: Vec<(&str, Vec<u8>)> = files.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
    let d = input_with(&named);
    let (input, out) = (d.path().join("in"), d.path().join("out"));
    run_ok(&input, &out, &[]);
    let mut records = jsonl(&out.join("articles.jsonl"));
    records.extend(jsonl(&out.join("dropped.jsonl")));
    assert_eq!(records.len(), markers.len());
    for r in &records {
        let text = r["text"].as_str().unwrap();
        assert!(!text.contains("推荐") && !text.contains("相关"), "{text}");
        assert!(!text.contains("异地就医"), "{text}");
    }
    let snippets = jsonl(&out.join("snippets.jsonl"));
    assert_eq!(snippets.len(), 1);
    assert_eq!(
        snippets[0]["metadata"]["seen_in"].as_array().unwrap().len(),
        markers.len()
    );
}
