//! The command line end to end: the bundled sample, determinism, exit codes, rejects that
//! need the file system (size limits, dangling links, corrupt archives), snippet merging.

mod common;

use std::path::Path;

use common::{assert_invariant, jsonl, pagesieve, report, run_ok, snapshot, FILES};

fn contract_check(out: &Path, input: &Path) {
    let tool = common::repo().join("../shared/tools/contract_check.py");
    if !tool.is_file() {
        common::notice("../shared/tools/contract_check.py not found; skipping the contract check");
        return;
    }
    let o = std::process::Command::new("python3")
        .arg(&tool)
        .arg(out)
        .arg("--input")
        .arg(input)
        .output();
    match o {
        Ok(o) => {
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success(), "contract check failed:\n{stdout}");
            assert!(stdout.contains("contract: OK"), "{stdout}");
        }
        Err(e) => common::notice(&format!(
            "python3 not runnable ({e}); skipping the contract check"
        )),
    }
}

#[test]
fn bundled_sample_writes_every_contract_file() {
    let input = common::repo().join("input");
    let out = tempfile::tempdir().unwrap();
    run_ok(&input, out.path(), &[]);
    for f in FILES {
        assert!(out.path().join(f).is_file(), "{f} missing");
    }
    assert_invariant(out.path());
    contract_check(out.path(), &input);
    let r = report(out.path());
    // The sample shows every feature: encodings, compression, rejects, duplicates.
    for enc in ["UTF-8", "GB18030", "UTF-16LE"] {
        assert!(r["encodings"][enc].as_u64().unwrap_or(0) > 0, "{enc}");
    }
    for z in ["gzip", "zstd"] {
        assert!(r["compression"][z].as_u64().unwrap_or(0) > 0, "{z}");
    }
    for reason in ["binary", "empty", "no_answer"] {
        assert_eq!(r["rejects"][reason], 1, "{reason}");
    }
    // Planted copies: exact ones and near ones both show up as clusters.
    assert!(r["articles"]["dropped_exact"].as_u64().unwrap() >= 1);
    assert!(r["articles"]["dropped_near"].as_u64().unwrap() >= 1);
    let clusters = jsonl(&out.path().join("duplicates.jsonl"));
    assert!(clusters.len() >= 4, "{clusters:?}");
    // No staging folder is left behind.
    let left = common::hidden_entries(out.path());
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn output_is_byte_identical_for_any_thread_count() {
    let input = common::repo().join("input");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run_ok(&input, a.path(), &["--threads", "1"]);
    run_ok(&input, b.path(), &["--threads", "2"]);
    let (x, y) = (snapshot(a.path()), snapshot(b.path()));
    for (i, f) in FILES.iter().enumerate() {
        assert!(x[i] == y[i], "{f} differs between --threads 1 and 2");
    }
}

#[test]
fn bad_config_exits_2_naming_the_key_before_touching_output() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let cases = [
        ("[input]\nmax_file_byte = 10\n", "max_file_byte"),
        (
            "[profile]\nfooter_disclaimer = ['(unclosed']\n",
            "profile.footer_disclaimer[0]",
        ),
        ("[dedup]\nmin_similarity = 2.0\n", "dedup.min_similarity"),
    ];
    for (i, (text, key)) in cases.iter().enumerate() {
        let cfg = d.path().join(format!("bad{i}.toml"));
        std::fs::write(&cfg, text).unwrap();
        let o = pagesieve(&[
            "run",
            "--input",
            "input",
            "--output",
            out.to_str().unwrap(),
            "--config",
            cfg.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(key), "stderr should name {key}: {err}");
        assert!(
            !out.exists(),
            "output must not be touched on a config error"
        );
    }
    let o = pagesieve(&["run", "--config", "/nonexistent/x.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/x.toml"));
}

#[test]
fn missing_input_is_a_usage_error_and_unwritable_output_an_io_error() {
    let d = tempfile::tempdir().unwrap();
    let o = pagesieve(&["run", "--input", d.path().join("nope").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope"));

    let blocker = d.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let o = pagesieve(&[
        "run",
        "--quiet",
        "--input",
        "input",
        "--output",
        blocker.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write output"));
    let o = pagesieve(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn size_limits_corrupt_archives_and_unreadable_files_are_rejects() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let page =
        std::fs::read_to_string(common::repo().join("tests/fixtures/pages/standard.txt")).unwrap();
    std::fs::write(input.join("ok.txt"), &page).unwrap();
    std::fs::write(input.join("big.txt"), page.repeat(40)).unwrap();
    // Small on disk, large once decompressed: the limit applies to what comes out.
    std::fs::write(
        input.join("bomb.txt.gz"),
        common::gzip(&vec![b'a'; 2_000_000]),
    )
    .unwrap();
    std::fs::write(input.join("corrupt.txt.gz"), b"\x1f\x8b\x08\x00garbage").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(d.path().join("missing"), input.join("dangling.txt")).unwrap();
    let cfg = d.path().join("small.toml");
    let profile = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
    std::fs::write(
        &cfg,
        profile.replace("# max_file_bytes = 67108864", "max_file_bytes = 20000"),
    )
    .unwrap();
    let out = d.path().join("out");
    run_ok(&input, &out, &["--config", cfg.to_str().unwrap()]);
    assert_invariant(&out);
    let rejects = jsonl(&out.join("rejects.jsonl"));
    let reason = |s: &str| {
        rejects
            .iter()
            .find(|r| r["source"] == s)
            .map(|r| r["reason"].as_str().unwrap().to_string())
    };
    assert_eq!(reason("big.txt").as_deref(), Some("too_large"));
    assert_eq!(reason("bomb.txt.gz").as_deref(), Some("too_large"));
    assert_eq!(reason("corrupt.txt.gz").as_deref(), Some("undecodable"));
    #[cfg(unix)]
    assert_eq!(reason("dangling.txt").as_deref(), Some("io_error"));
    assert_eq!(reason("ok.txt"), None);
    contract_check(&out, &input);
}

#[test]
fn identical_snippets_are_one_record_seen_on_every_page() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let block = "相关推荐\n\n东屏医保卡补办要多久\n\n补办一般当场可以领取，邮寄需要三到五个工作日\n\n健康新闻 2025-01-02\n";
    std::fs::write(
        input.join("a.txt"),
        format!("东屏医保怎么查余额\n\n通过医保服务平台查询个人账户余额。\n\n{block}"),
    )
    .unwrap();
    std::fs::write(
        input.join("b.txt"),
        format!("东屏医保卡补办要多久\n\n本人携带身份证到经办窗口申请补办，当场制卡。\n\n{block}"),
    )
    .unwrap();
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let snippets = jsonl(&out.join("snippets.jsonl"));
    assert_eq!(snippets.len(), 1);
    let s = &snippets[0];
    let articles = jsonl(&out.join("articles.jsonl"));
    let ids: Vec<&str> = articles.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(s["metadata"]["seen_in"], serde_json::json!(ids));
    assert_eq!(s["metadata"]["occurrences"], 2);
    assert_eq!(s["source"], "a.txt");
    // The snippet's title is the title of b.txt: linked to that article.
    assert_eq!(s["metadata"]["article"], ids[1]);
    for a in &articles {
        assert_eq!(a["metadata"]["related"], serde_json::json!([s["id"]]));
    }
    assert_eq!(report(&out)["snippets"]["linked"], 1);
}

#[test]
fn default_run_from_the_repo_root_uses_input_and_config() {
    // `pagesieve run` with no flags reads input/ and config/default.toml; use a temp output
    // through --output only, so the repo's output/ is not written by tests.
    let out = tempfile::tempdir().unwrap();
    let o = pagesieve(&["run", "--output", out.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("kept"),
        "summary paragraph on stdout: {stdout}"
    );
    assert!(
        o.stderr.is_empty(),
        "no progress bars when stderr is not a terminal"
    );
}

fn boilerplate_corpus(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let cities = [
        "临川", "松阳", "青阳", "柳溪", "东屏", "南陵", "河口", "石门",
    ];
    for (i, city) in cities.iter().enumerate() {
        std::fs::write(
            dir.join(format!("p{i}.txt")),
            format!(
                "{city}医保第{i}个问题怎么办\n\n{city}的参保人可以在第{i}个工作日办理，需要携带身份证。\n\n\
                 本页内容由小站编辑部整理发布\n\n提示:本内容不能代替面诊。\n"
            ),
        )
        .unwrap();
    }
}

#[test]
fn learned_boilerplate_is_listed_and_stripped_on_request() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    boilerplate_corpus(&input);
    let out = d.path().join("out");
    run_ok(&input, &out, &[]);
    let lb = &report(&out)["learned_boilerplate"];
    assert_eq!(lb["sampled_pages"], 8);
    let lines = lb["lines"].as_array().unwrap();
    let find = |t: &str| {
        lines
            .iter()
            .find(|l| l["text"].as_str().unwrap().starts_with(t))
    };
    let editor = find("本页内容由小站编辑部整理发布").expect("body boilerplate is learned");
    assert_eq!(editor["part"], "body");
    assert_eq!(editor["pages"], 8);
    let footer = find("提示:本内容不能代替面诊").expect("footer is learned");
    assert_eq!(footer["part"], "footer_disclaimer");
    // Off by default: the line stays in the text.
    let arts = jsonl(&out.join("articles.jsonl"));
    assert!(arts[0]["text"].as_str().unwrap().contains("小站编辑部"));

    let cfg = d.path().join("strip.toml");
    let profile = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
    std::fs::write(&cfg, format!("{profile}\n[boilerplate]\nstrip = true\n")).unwrap();
    let out2 = d.path().join("out2");
    run_ok(&input, &out2, &["--config", cfg.to_str().unwrap()]);
    assert_invariant(&out2);
    for a in jsonl(&out2.join("articles.jsonl")) {
        assert!(!a["text"].as_str().unwrap().contains("小站编辑部"), "{a}");
        assert!(a["metadata"]["stripped"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("learned_boilerplate")));
    }
    assert_eq!(report(&out2)["learned_boilerplate"]["stripped_pages"], 8);
}

#[test]
fn check_config_reports_key_and_line_and_explain_labels_lines() {
    let d = tempfile::tempdir().unwrap();
    let good = common::repo().join("config/default.toml");
    let o = pagesieve(&["check-config", good.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("OK"));

    let bad = d.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[profile]\nname = \"x\"\nrelated = ['^x$']\nrelated_date = '^(\\d+)$'\n",
    )
    .unwrap();
    let o = pagesieve(&["check-config", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.toml:4: profile.related_date"), "{err}");

    let page = common::repo().join("tests/fixtures/pages/standard.txt");
    let o = common::pagesieve_env(&["explain", page.to_str().unwrap()], &[("NO_COLOR", "1")]);
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(
        !s.contains('\x1b'),
        "no colour when NO_COLOR is set or not a terminal"
    );
    for want in [
        "header disclaimer",
        "profile.header_disclaimer[0]",
        "trending",
        "related block 2 date",
        "profile.related_date",
        "navigation",
        "\"title\": \"临川医保个人账户可以异地使用吗\"",
    ] {
        assert!(s.contains(want), "explain output lacks {want}:\n{s}");
    }
}

/// The same site served in GB18030 reads as the same articles, every one recorded as
/// GB18030 (`synth --encodings gb18030` writes the pages of the mixed corpus, only the
/// bytes differ).
#[test]
fn a_site_in_gb18030_reads_as_the_same_articles() {
    let d = tempfile::tempdir().unwrap();
    let texts = |encodings: &str| {
        let input = d.path().join(format!("in-{encodings}"));
        let out = d.path().join(format!("out-{encodings}"));
        let o = pagesieve(&[
            "synth",
            "--pages",
            "80",
            "--seed",
            "5",
            "--shape",
            "site",
            "--encodings",
            encodings,
            "--out",
            input.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        run_ok(&input, &out, &[]);
        let mut arts: Vec<(String, String, String)> = jsonl(&out.join("articles.jsonl"))
            .iter()
            .map(|a| {
                (
                    a["metadata"]["title"].as_str().unwrap().to_string(),
                    a["text"].as_str().unwrap().to_string(),
                    a["metadata"]["encoding"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        arts.sort();
        arts
    };
    let (mixed, gb) = (texts("mixed"), texts("gb18030"));
    assert!(mixed.len() > 40, "{} articles", mixed.len());
    assert!(mixed.iter().any(|a| a.2 == "UTF-8"));
    assert!(gb.iter().all(|a| a.2 == "GB18030"));
    let strip = |v: &[(String, String, String)]| -> Vec<(String, String)> {
        v.iter().map(|a| (a.0.clone(), a.1.clone())).collect()
    };
    assert_eq!(strip(&mixed), strip(&gb));
}

/// The workers' memory of related lines and blocks never changes the output: site-shaped
/// pages (blocks repeating across pages) give the same files with the cache off, with one
/// so small that it is emptied every few pages, and with the default.
#[test]
fn output_does_not_depend_on_the_line_and_block_cache() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let o = pagesieve(&[
        "synth",
        "--pages",
        "150",
        "--seed",
        "3",
        "--shape",
        "site",
        "--out",
        input.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let profile = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
    let run = |name: &str, bytes: Option<usize>| {
        let out = d.path().join(name);
        let cfg = d.path().join(format!("{name}.toml"));
        let scan = bytes.map_or(String::new(), |b| {
            format!("\n[scan]\nline_cache_bytes = {b}\n")
        });
        std::fs::write(&cfg, format!("{profile}{scan}")).unwrap();
        run_ok(
            &input,
            &out,
            &["--threads", "2", "--config", cfg.to_str().unwrap()],
        );
        snapshot(&out)
    };
    let default = run("default", None);
    for (name, bytes) in [("off", 0), ("tiny", 4_000)] {
        let got = run(name, Some(bytes));
        // report.json records the setting itself.
        for (i, f) in FILES.iter().enumerate().filter(|f| *f.1 != "report.json") {
            assert!(
                got[i] == default[i],
                "{f} differs with line_cache_bytes = {bytes}"
            );
        }
    }
}
