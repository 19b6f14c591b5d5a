//! What a new user and pages unlike the samples hit (issue "what a new user … hit"): one
//! test per problem, named after what it guards. Pages are written here, in the site's
//! layout, with our own text.

mod common;

use std::path::Path;

use common::{jsonl, pagesieve, report, run_ok};
use serde_json::Value;

/// A page in the site's layout: title, body paragraphs, footer, optional trending lines,
/// the related list's blocks (title, text, date line), navigation.
fn page(title: &str, body: &[&str], trending: &[&str], blocks: &[(&str, &str, &str)]) -> String {
    let mut s = format!("{title}\n\n");
    for p in body {
        s.push_str(&format!("{p}\n\n"));
    }
    s.push_str("提示:本内容不能代替面诊,如有不适请尽快就医。\n");
    if !trending.is_empty() {
        s.push_str("大家都在搜\n");
        for t in trending {
            s.push_str(&format!("{t}\n"));
        }
    }
    s.push_str("相关推荐\n\n");
    for (t, x, d) in blocks {
        s.push_str(&format!("{t}\n\n{x}\n\n{d}\n\n"));
    }
    s.push_str("首页 顶部\n");
    s
}

const BODY: [&str; 3] = [
    "松阳居民医保个人账户可以在本地定点药店购药,也可以支付门诊自付部分的费用。",
    "办理异地就医备案以后,在就医地定点医院住院可以直接结算,不需要先垫付再回参保地报销。",
    "备案可以通过国家医保服务平台办理,一般三个工作日内完成审核,审核结果会短信通知本人。",
];

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn record<'a>(rows: &'a [Value], source: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["source"] == source)
        .unwrap_or_else(|| panic!("no record for {source}"))
}

#[test]
fn output_folder_inside_the_input_is_not_read_back() {
    let d = tempfile::tempdir().unwrap();
    let nest = d.path().join("nest");
    write(&nest, "a.txt", &page("松阳医保能异地用吗", &BODY, &[], &[]));
    let out = nest.join("out");
    for _ in 0..2 {
        run_ok(&nest, &out, &[]);
        let r = report(&out);
        assert_eq!(r["files"]["seen"], 1, "the output was read as input: {r}");
    }
    let titles: Vec<Value> = jsonl(&out.join("articles.jsonl"))
        .iter()
        .map(|a| a["metadata"]["title"].clone())
        .collect();
    assert_eq!(titles, ["松阳医保能异地用吗"]);
}

#[test]
fn output_equal_to_input_is_refused_before_writing() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "a.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &[]),
    );
    let p = d.path().to_str().unwrap();
    let o = pagesieve(&["run", "--quiet", "--input", p, "--output", p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is the input folder"));
    assert!(!d.path().join("report.json").exists());
}

#[test]
fn trending_terms_that_are_questions_stay_trending() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let terms = [
        "跨省医保转移余额查询方法?",
        "医保卡丢了怎么补办？",
        "门诊统筹",
    ];
    let blocks = [(
        "临川医保缴费标准",
        "临川居民医保个人缴费每年四百元,集中缴费期",
        "健康新闻 2025-04-18",
    )];
    write(
        &input,
        "a.txt",
        &page("松阳医保能异地用吗", &BODY, &terms, &blocks),
    );
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let a = &jsonl(&out.join("articles.jsonl"))[0];
    assert_eq!(a["metadata"]["trending"], serde_json::json!(terms));
    let text = a["text"].as_str().unwrap();
    assert!(
        !text.contains("查询方法") && !text.contains("补办"),
        "{text}"
    );
    assert_eq!(text.lines().count(), BODY.len());
}

#[test]
fn identical_snippet_texts_under_two_titles_keep_two_related_entries() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let text = "临川居民医保个人缴费每年四百元,集中缴费期为每年九月到十二月。";
    let blocks = [
        ("临川医保缴费标准", text, "健康新闻 2025-04-18"),
        (
            "松阳生育津贴怎么领",
            "可以 松阳生育津贴由单位向医保经办机构申领。",
            "健康新闻 2025-04-19",
        ),
        ("临川医保一年交多少", text, "健康新闻 2025-04-20"),
    ];
    write(
        &input,
        "a.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &blocks),
    );
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let related = jsonl(&out.join("articles.jsonl"))[0]["metadata"]["related"].clone();
    let related: Vec<&str> = related
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(related.len(), 3, "{related:?}");
    assert_eq!(
        related[0], related[2],
        "both blocks resolve to the kept snippet"
    );
    // explain lists the same number of blocks.
    let o = pagesieve(&["explain", input.join("a.txt").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("Related snippets (3)"));
}

/// Keep policy: an original and three copies, each edited in another place, with the
/// original last in input order and a copy lengthened by inserted junk: `most_central`
/// keeps the original; `longest` and `first` keep what they say.
#[test]
fn keep_policy_keeps_the_original_over_damaged_copies() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let original: Vec<String> = BODY.iter().map(|s| s.to_string()).collect();
    let edit = |i: usize, from: &str, to: &str| -> Vec<String> {
        let mut v = original.clone();
        v[i] = v[i].replacen(from, to, 1);
        v
    };
    let copies = [
        edit(
            0,
            "本地定点药店购药",
            "本地定点药店购药囗囗囗囗囗囗囗囗囗囗囗",
        ),
        edit(1, "不需要先垫付", "无需垫付"),
        edit(2, "三个工作日", "五个工作日左右"),
    ];
    for (i, c) in copies.iter().enumerate() {
        let body: Vec<&str> = c.iter().map(String::as_str).collect();
        write(
            &input,
            &format!("{i}.txt"),
            &page("松阳医保能异地用吗", &body, &[], &[]),
        );
    }
    write(
        &input,
        "9-original.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &[]),
    );
    let kept = |policy: &str| -> (String, Value) {
        let cfg = d.path().join(format!("{policy}.toml"));
        let text = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
        std::fs::write(&cfg, format!("{text}\n[dedup]\nkeep = \"{policy}\"\n")).unwrap();
        let out = d.path().join(format!("out-{policy}"));
        run_ok(&input, &out, &["--config", cfg.to_str().unwrap()]);
        let arts = jsonl(&out.join("articles.jsonl"));
        assert_eq!(arts.len(), 1, "one cluster");
        let c = jsonl(&out.join("duplicates.jsonl"))[0].clone();
        (arts[0]["source"].as_str().unwrap().to_string(), c)
    };
    let (src, cluster) = kept("most_central");
    assert_eq!(src, "9-original.txt");
    assert_eq!(cluster["keep"], "most_central");
    assert_eq!(cluster["members"][1]["kept_by"], "most_central");
    assert_eq!(kept("longest").0, "0.txt");
    assert_eq!(kept("first").0, "0.txt");
}

/// A pair ties on centrality: the copy with decoding damage loses to the clean one even
/// when it comes first.
#[test]
fn keep_policy_prefers_the_copy_with_fewer_replacement_characters() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let mut damaged = page("松阳医保能异地用吗", &BODY, &[], &[]).into_bytes();
    // Two bytes that are not UTF-8 in the middle of the body: U+FFFD once decoded.
    let at = damaged.len() / 3;
    let at = (at..).find(|&i| damaged[i] == b',').unwrap();
    damaged.splice(at..at, [0xFF, 0xFE]);
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(input.join("a-damaged.txt"), &damaged).unwrap();
    write(
        &input,
        "b-clean.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &[]),
    );
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let arts = jsonl(&out.join("articles.jsonl"));
    assert_eq!(arts.len(), 1);
    assert_eq!(arts[0]["source"], "b-clean.txt");
    let dropped = record(&jsonl(&out.join("dropped.jsonl")), "a-damaged.txt").clone();
    assert_eq!(dropped["kept_by"], "fewer_replacements");
}

#[test]
fn related_dates_in_every_form_become_iso() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let blocks = [
        (
            "临川医保缴费标准",
            "临川居民医保个人缴费每年四百元,集中缴费期",
            "健康新闻 2025年04月18日",
        ),
        (
            "松阳生育津贴怎么领",
            "松阳生育津贴由单位向医保经办机构申领,需要准备材料",
            "健康新闻 2025/4/8",
        ),
        (
            "青阳门诊统筹额度",
            "青阳门诊统筹年度额度为两千元,超出部分个人承担",
            "健康新闻 2025.4.9",
        ),
    ];
    write(
        &input,
        "a.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &blocks),
    );
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let mut dates: Vec<String> = jsonl(&out.join("snippets.jsonl"))
        .iter()
        .map(|s| s["metadata"]["date"].as_str().unwrap().to_string())
        .collect();
    dates.sort();
    assert_eq!(dates, ["2025-04-08", "2025-04-09", "2025-04-18"]);
}

#[test]
fn a_profile_without_markers_is_warned_about() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("empty.toml");
    std::fs::write(&cfg, "[profile]\nname = \"empty\"\n").unwrap();
    let o = pagesieve(&["check-config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no markers"));
    let input = d.path().join("in");
    write(
        &input,
        "a.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &[]),
    );
    let out = d.path().join("out");
    let o = pagesieve(&[
        "run",
        "--quiet",
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no markers"));
    let w = report(&out)["warnings"].to_string();
    assert!(w.contains("no markers"), "{w}");
}

#[test]
fn an_empty_input_folder_keeps_the_earlier_output_unless_forced() {
    let d = tempfile::tempdir().unwrap();
    let (input, empty, out) = (
        d.path().join("in"),
        d.path().join("empty"),
        d.path().join("out"),
    );
    write(
        &input,
        "a.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &[]),
    );
    std::fs::create_dir(&empty).unwrap();
    run_ok(&input, &out, &[]);
    let before = std::fs::read(out.join("articles.jsonl")).unwrap();
    let args = |force: bool| {
        let mut v = vec![
            "run",
            "--input",
            empty.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ];
        if force {
            v.push("--force");
        }
        pagesieve(&v)
    };
    let o = args(false);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no input pages"));
    assert_eq!(std::fs::read(out.join("articles.jsonl")).unwrap(), before);
    assert!(args(true).status.success());
    assert!(std::fs::read(out.join("articles.jsonl"))
        .unwrap()
        .is_empty());
}

#[test]
fn explain_on_a_missing_file_or_a_folder_exits_1() {
    let d = tempfile::tempdir().unwrap();
    for p in [d.path().join("missing.txt"), d.path().to_path_buf()] {
        let o = pagesieve(&["explain", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", p.display());
        assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
    }
}

#[test]
fn output_path_that_is_a_file_says_so() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("out.txt");
    std::fs::write(&file, "x").unwrap();
    let o = pagesieve(&["run", "--quiet", "--output", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a file, not a folder"));
}

/// `seen_in` lists pages that yielded an article (each resolves in articles.jsonl or
/// dropped.jsonl); rejected pages are listed apart.
#[test]
fn seen_in_lists_only_pages_with_an_article() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let blocks = [(
        "临川医保缴费标准",
        "临川居民医保个人缴费每年四百元,集中缴费期。",
        "健康新闻 2025-04-18",
    )];
    write(
        &input,
        "a.txt",
        &page("松阳医保能异地用吗", &BODY, &[], &blocks),
    );
    write(
        &input,
        "b.txt",
        &page("松阳医保能异地用吗", &[], &[], &blocks),
    );
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let s = &jsonl(&out.join("snippets.jsonl"))[0]["metadata"];
    let ids = |f: &str| -> Vec<String> {
        jsonl(&out.join(f))
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(s["seen_in"], serde_json::json!(ids("articles.jsonl")));
    assert_eq!(
        s["seen_in_rejected"],
        serde_json::json!(ids("rejects.jsonl"))
    );
    assert!(
        s.get("complete").is_none(),
        "one field says a block was cut off: truncated"
    );
    assert_eq!(s["truncated"], false);
}

/// Learned boilerplate: an answer's own list sub-headings, repeated on copies of that one
/// answer (under new related lists), are not boilerplate; a line on pages with different
/// titles and bodies is.
#[test]
fn answer_sub_headings_repeated_in_copies_are_not_learned_boilerplate() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let body = ["1. 核对账户", BODY[0], "2. 办理备案", BODY[1]];
    for i in 0..8 {
        write(
            &input,
            &format!("copy{i}.txt"),
            &page("松阳医保能异地用吗", &body, &[], &[]),
        );
    }
    for i in 0..8 {
        let own =
            format!("第{i}个问题的回答各不相同，这里写的是第{i}种情况下的办理办法和注意事项。");
        let body = [own.as_str(), "温馨提示：以上内容仅供参考。"];
        write(
            &input,
            &format!("other{i}.txt"),
            &page(&format!("第{i}个医保问题"), &body, &[], &[]),
        );
    }
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let lines: Vec<String> = report(&out)["learned_boilerplate"]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["text"].as_str().unwrap().to_string())
        .collect();
    assert!(!lines.iter().any(|l| l.contains("核对账户")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("温馨提示")), "{lines:?}");
}

/// Titles are read a chunk of clusters at a time (the aliases before the articles'
/// lines, the members' titles with `duplicates.jsonl`): across more clusters than one
/// chunk every kept article lists exactly its copies' other titles as aliases, and every
/// cluster member carries its own record's title.
#[test]
fn aliases_and_cluster_titles_hold_across_many_clusters() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let groups = 300; // more than one chunk of clusters (256)
    let mut seed = 11u64;
    for g in 0..groups {
        let body: Vec<String> = (0..4)
            .map(|_| {
                let w: String = (0..14)
                    .map(|_| common::WORDS[common::lcg(&mut seed) % common::WORDS.len()])
                    .collect();
                format!("第{g}组{w}。")
            })
            .collect();
        let body: Vec<&str> = body.iter().map(String::as_str).collect();
        // Every group: an original, a copy under the same title, and (every other
        // group) a copy under another title.
        write(
            &input,
            &format!("g{g:03}a.txt"),
            &page(&format!("第{g}组的问题"), &body, &[], &[]),
        );
        write(
            &input,
            &format!("g{g:03}b.txt"),
            &page(&format!("第{g}组的问题"), &body, &[], &[]),
        );
        if g % 2 == 0 {
            write(
                &input,
                &format!("g{g:03}c.txt"),
                &page(&format!("第{g}组问题另一问法"), &body, &[], &[]),
            );
        }
    }
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let kept = jsonl(&out.join("articles.jsonl"));
    let dropped = jsonl(&out.join("dropped.jsonl"));
    assert_eq!(kept.len(), groups);
    assert_eq!(dropped.len(), groups + groups / 2);
    let title_of: std::collections::HashMap<&str, &str> = kept
        .iter()
        .chain(&dropped)
        .map(|r| {
            let t = r["metadata"]["title"]
                .as_str()
                .or(r["title"].as_str())
                .unwrap();
            (r["id"].as_str().unwrap(), t)
        })
        .collect();
    for a in &kept {
        let title = a["metadata"]["title"].as_str().unwrap();
        let g: usize = title
            .trim_start_matches('第')
            .split('组')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let aliases: Vec<&str> = a["metadata"]["aliases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let want: Vec<String> = match g % 2 {
            0 => vec![format!("第{g}组问题另一问法")],
            _ => vec![],
        };
        assert_eq!(aliases, want, "{title}");
    }
    let clusters = jsonl(&out.join("duplicates.jsonl"));
    assert_eq!(clusters.len(), groups);
    for c in &clusters {
        for m in c["members"].as_array().unwrap() {
            assert_eq!(
                m["title"].as_str().unwrap(),
                title_of[m["id"].as_str().unwrap()]
            );
        }
    }
}
