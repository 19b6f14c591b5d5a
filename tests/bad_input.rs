//! The bad-input suite: every kind of garbage a nightly job over millions of scraped files
//! meets. Each test runs the binary over an input folder holding the bad file (and one good
//! page, so the run has something to do), and checks: exit 0, the bad file gets the right
//! reject reason or a correct article, and the `report.json` invariant holds.

mod common;

use std::path::{Path, PathBuf};

use common::{assert_invariant, jsonl, run_ok};
use serde_json::Value;

const GOOD: &str = "东屏医保怎么查余额\n\n通过医保服务平台查询个人账户余额，也可以到经办窗口查询。\n\n提示:本内容不能代替面诊。\n";

struct Case {
    _dir: tempfile::TempDir,
    input: PathBuf,
    out: PathBuf,
}

fn case(setup: impl FnOnce(&Path)) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("good.txt"), GOOD).unwrap();
    setup(&input);
    let out = dir.path().join("out");
    Case {
        _dir: dir,
        input,
        out,
    }
}

impl Case {
    /// Runs under the shipped profile with `input.max_file_bytes` set to `limit`.
    fn run_with_file_limit(&self, limit: u64) -> &Self {
        let cfg = self.input.parent().unwrap().join("small.toml");
        let profile = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
        let profile = profile.replace(
            "# max_file_bytes = 67108864",
            &format!("max_file_bytes = {limit}"),
        );
        std::fs::write(&cfg, profile).unwrap();
        self.run(&["--config", cfg.to_str().unwrap()])
    }

    fn run(&self, extra: &[&str]) -> &Self {
        run_ok(&self.input, &self.out, extra);
        assert_invariant(&self.out);
        let good = jsonl(&self.out.join("articles.jsonl"))
            .into_iter()
            .any(|a| a["source"] == "good.txt");
        assert!(good, "the good page must survive");
        self
    }

    fn reject(&self, source: &str) -> Option<String> {
        jsonl(&self.out.join("rejects.jsonl"))
            .into_iter()
            .find(|r| r["source"] == source)
            .map(|r| r["reason"].as_str().unwrap().to_string())
    }

    fn article(&self, source: &str) -> Value {
        jsonl(&self.out.join("articles.jsonl"))
            .into_iter()
            .find(|a| a["source"] == source)
            .unwrap_or_else(|| {
                panic!(
                    "{source} is not an article; rejects: {:?}",
                    jsonl(&self.out.join("rejects.jsonl"))
                )
            })
    }
}

fn page(title: &str, body: &str) -> String {
    format!("{title}\n\n{body}\n\n提示:本内容不能代替面诊。\n相关推荐\n\n松阳医保缴费标准\n\n每年四百元，集中缴费\n\n健康新闻 2025-04-18\n")
}

#[test]
fn empty_file() {
    let c = case(|d| std::fs::write(d.join("x.txt"), b"").unwrap());
    assert_eq!(c.run(&[]).reject("x.txt").as_deref(), Some("empty"));
}

#[test]
fn whitespace_only() {
    let c = case(|d| std::fs::write(d.join("x.txt"), " \n\u{3000}\t\r\n \u{a0}\n").unwrap());
    assert_eq!(c.run(&[]).reject("x.txt").as_deref(), Some("empty"));
}

#[test]
fn binary_file() {
    let c = case(|d| {
        let bytes: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
            .collect();
        std::fs::write(d.join("x.bin"), bytes).unwrap()
    });
    assert_eq!(c.run(&[]).reject("x.bin").as_deref(), Some("binary"));
}

#[test]
fn nul_in_otherwise_good_text() {
    let c = case(|d| {
        let mut b = page("临川医保问题", "正文一句。").into_bytes();
        b.insert(20, 0);
        std::fs::write(d.join("x.txt"), b).unwrap()
    });
    assert_eq!(c.run(&[]).reject("x.txt").as_deref(), Some("binary"));
}

#[test]
fn utf8_sequence_cut_at_the_end() {
    let c = case(|d| {
        let mut b = page("临川医保问题", "正文一句。").into_bytes();
        b.extend_from_slice(&"账".as_bytes()[..2]);
        std::fs::write(d.join("x.txt"), b).unwrap()
    });
    let a = c.run(&[]).article("x.txt");
    assert_eq!(a["metadata"]["title"], "临川医保问题");
    assert_eq!(a["metadata"]["encoding"], "UTF-8");
    assert_eq!(a["text"], "正文一句。");
}

#[test]
fn invalid_gb18030_bytes() {
    let c = case(|d| {
        let text = page(
            "松阳医保报销比例是多少",
            &"住院报销比例一般在七成左右，门诊另有规定。".repeat(20),
        );
        let mut b = encoding_rs::GB18030.encode(&text).0.into_owned();
        // Two invalid two-byte sequences (a lead byte followed by a byte no trail can be).
        let at = b.len() / 2;
        b.splice(at..at, [0x81, 0x20, 0xFE, 0x7F]);
        std::fs::write(d.join("x.txt"), b).unwrap()
    });
    let a = c.run(&[]).article("x.txt");
    assert_eq!(a["metadata"]["encoding"], "GB18030");
    assert_eq!(a["metadata"]["title"], "松阳医保报销比例是多少");
    assert_eq!(a["metadata"]["lossy"], true);
}

#[test]
fn utf16_without_bom() {
    let c = case(|d| {
        let b: Vec<u8> = page("青阳异地就医怎么备案", "在手机上办理，即时生效。")
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        std::fs::write(d.join("x.txt"), b).unwrap()
    });
    let a = c.run(&[]).article("x.txt");
    assert_eq!(a["metadata"]["encoding"], "UTF-16LE");
    assert_eq!(a["text"], "在手机上办理，即时生效。");
}

#[test]
fn page_mixing_encodings() {
    let c = case(|d| {
        let mut b = "柳溪医保个人账户能给家人用吗\n\n可以，办理家庭共济后使用。\n"
            .as_bytes()
            .to_vec();
        b.extend_from_slice(
            &encoding_rs::GB18030
                .encode("绑定后家人就医时直接扣减。\n提示:本内容不能代替面诊。\n")
                .0,
        );
        std::fs::write(d.join("x.txt"), b).unwrap()
    });
    let a = c.run(&[]).article("x.txt");
    assert_eq!(a["metadata"]["encoding"], "UTF-8+GB18030");
    assert_eq!(
        a["text"],
        "可以，办理家庭共济后使用。\n绑定后家人就医时直接扣减。"
    );
}

#[cfg(unix)]
#[test]
fn a_200_mb_single_line_keeps_memory_bounded() {
    let c = case(|d| {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(d.join("huge.txt")).unwrap());
        let chunk = "医保".repeat(1 << 16).into_bytes();
        let mut written = 0;
        while written < 200 << 20 {
            f.write_all(&chunk).unwrap();
            written += chunk.len();
        }
    });
    let (code, rss_kb, err) = common::run_io_measured(&c.input, &c.out, None);
    assert_eq!(code, Some(0), "{err}");
    assert_invariant(&c.out);
    assert_eq!(c.reject("huge.txt").as_deref(), Some("too_large"));
    assert!(
        rss_kb < 100 * 1024,
        "peak RSS {rss_kb} KiB for a 200 MB file"
    );
}

#[test]
fn corrupt_gzip() {
    let c = case(|d| {
        let mut gz = common::gzip(page("石门医保问题", "正文。").as_bytes());
        let n = gz.len();
        gz[n / 2] ^= 0xFF;
        gz.truncate(n - 6);
        std::fs::write(d.join("x.txt.gz"), gz).unwrap()
    });
    assert_eq!(
        c.run(&[]).reject("x.txt.gz").as_deref(),
        Some("undecodable")
    );
}

#[test]
fn gzip_expanding_past_the_size_limit() {
    let c =
        case(|d| std::fs::write(d.join("bomb.gz"), common::gzip(&vec![b' '; 3 << 20])).unwrap());
    c.run_with_file_limit(1_000_000);
    assert_eq!(c.reject("bomb.gz").as_deref(), Some("too_large"));
}

/// bzip2 and xz bombs are cut off at the size limit, truncated streams are `undecodable`.
#[test]
fn bzip2_and_xz_bombs_and_truncated_streams() {
    let spaces = vec![b' '; 3 << 20];
    let (bz2, xz) = (common::bzip2(&spaces), common::xz(&spaces));
    // A page's streams cut halfway.
    let text = "医保个人账户\n\n个人账户可以支付门诊费用和药店购药费用。\n".repeat(20);
    let (page_bz2, page_xz) = (common::bzip2(text.as_bytes()), common::xz(text.as_bytes()));
    let c = case(|d| {
        std::fs::write(d.join("bomb.bz2"), &bz2).unwrap();
        std::fs::write(d.join("bomb.xz"), &xz).unwrap();
        std::fs::write(d.join("cut.bz2"), &page_bz2[..page_bz2.len() / 2]).unwrap();
        std::fs::write(d.join("cut.xz"), &page_xz[..page_xz.len() / 2]).unwrap();
    });
    c.run_with_file_limit(1_000_000);
    assert_eq!(c.reject("bomb.bz2").as_deref(), Some("too_large"));
    assert_eq!(c.reject("bomb.xz").as_deref(), Some("too_large"));
    assert_eq!(c.reject("cut.bz2").as_deref(), Some("undecodable"));
    assert_eq!(c.reject("cut.xz").as_deref(), Some("undecodable"));
}

#[test]
fn corrupt_zstd() {
    let c = case(|d| std::fs::write(d.join("x.txt.zst"), b"\x28\xb5\x2f\xfd\x00garbage").unwrap());
    assert_eq!(
        c.run(&[]).reject("x.txt.zst").as_deref(),
        Some("undecodable")
    );
}

#[test]
fn deep_nesting() {
    let mut rel = PathBuf::new();
    for i in 0..120 {
        rel.push(format!("d{i}"));
    }
    let rel2 = rel.clone();
    let c = case(move |d| {
        std::fs::create_dir_all(d.join(&rel2)).unwrap();
        std::fs::write(
            d.join(&rel2).join("x.txt"),
            page("永宁医保问题", "深处的正文。"),
        )
        .unwrap()
    });
    let src = format!("{}/x.txt", rel.to_str().unwrap());
    assert_eq!(c.run(&[]).article(&src)["text"], "深处的正文。");
}

#[cfg(unix)]
#[test]
fn symlink_loop() {
    let c = case(|d| {
        std::fs::create_dir(d.join("a")).unwrap();
        std::os::unix::fs::symlink(d.join("a"), d.join("a/back")).unwrap();
        std::os::unix::fs::symlink(d, d.join("a/root")).unwrap();
        std::fs::write(d.join("a/x.txt"), page("长丰医保问题", "循环里的正文。")).unwrap()
    });
    assert_eq!(c.run(&[]).article("a/x.txt")["text"], "循环里的正文。");
}

#[cfg(unix)]
#[test]
fn unreadable_file() {
    let c = case(|d| {
        let p = d.join("x.txt");
        std::fs::write(&p, page("白水医保问题", "读不到的正文。")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads through permissions: use a link to nowhere there instead.
        if std::fs::read(&p).is_ok() {
            std::fs::remove_file(&p).unwrap();
            std::os::unix::fs::symlink(d.join("gone"), &p).unwrap();
        }
    });
    assert_eq!(c.run(&[]).reject("x.txt").as_deref(), Some("io_error"));
}

#[test]
fn file_deleted_during_the_run() {
    // Between the walk and the read: the walk listed it, the read finds nothing.
    let c = common::compiled();
    let d = tempfile::tempdir().unwrap();
    let file = pagesieve::ingest::InputFile {
        path: d.path().join("vanished.txt"),
        source: "vanished.txt".into(),
        walk_error: None,
    };
    let r = pagesieve::scan::scan_file(&file, &c);
    match r.outcome {
        pagesieve::scan::Outcome::Reject(rej) => {
            assert_eq!(rej.reason.as_str(), "io_error");
            assert!(rej.detail.contains("No such file"), "{}", rej.detail);
        }
        _ => panic!("a vanished file must be an io_error reject"),
    }
}

#[cfg(unix)]
#[test]
fn fifo_in_the_input_is_rejected_not_opened() {
    let c = case(|d| {
        let _ = std::process::Command::new("mkfifo")
            .arg(d.join("pipe.txt"))
            .status();
    });
    if !c.input.join("pipe.txt").exists() {
        common::notice("mkfifo unavailable; skipping the FIFO test");
        return;
    }
    assert_eq!(
        c.run(&[]).reject("pipe.txt").as_deref(),
        Some("not_regular")
    );
}

#[cfg(unix)]
#[test]
fn non_utf8_file_name() {
    use std::os::unix::ffi::OsStrExt;
    let c = case(|d| {
        let name = std::ffi::OsStr::from_bytes(b"p\xff\xfe.txt");
        std::fs::write(d.join(name), page("泽州医保问题", "名字坏了的正文。")).unwrap()
    });
    assert_eq!(
        c.run(&[]).article("p\\xFF\\xFE.txt")["text"],
        "名字坏了的正文。"
    );
}

#[test]
fn markers_repeated_and_out_of_order() {
    let c = case(|d| {
        let text = "海晏医保卡丢了怎么办\n\n提示:本内容不能代替面诊。\n本信息整理自互联网公开渠道,仅供参考。\n\
                    先挂失，再到窗口补办。\n大家都在搜\n补卡流程\n补卡期间可以使用电子凭证，不影响就医结算，也可以先行垫付。\n\
                    相关推荐\n\n相关推荐\n兰溪补卡要多久\n当场可以领取\n健康新闻 2025-02-02\n首页 顶部\n首页 顶部\n";
        std::fs::write(d.join("x.txt"), text).unwrap()
    });
    let a = c.run(&[]).article("x.txt");
    assert_eq!(a["text"], "先挂失，再到窗口补办。");
    // Between the trending marker and 相关推荐 every line is trending (the layout decides,
    // not the punctuation), so the sentence there is kept as a term, not lost.
    assert_eq!(
        a["metadata"]["trending"],
        serde_json::json!([
            "补卡流程",
            "补卡期间可以使用电子凭证，不影响就医结算，也可以先行垫付。"
        ])
    );
    assert_eq!(a["metadata"]["related"].as_array().unwrap().len(), 1);
}

#[test]
fn marker_words_inside_body_sentences() {
    let c = case(|d| {
        let body = "按提示:本内容不能代替面诊的说法是网站的声明。\n相关推荐的内容也值得一看。\n大家都在搜索的问题在这里。";
        std::fs::write(d.join("x.txt"), page("桐城医保问题", body)).unwrap()
    });
    let a = c.run(&[]).article("x.txt");
    assert_eq!(a["text"].as_str().unwrap().lines().count(), 3, "{a}");
}

#[test]
fn only_a_related_list() {
    let c = case(|d| {
        std::fs::write(
            d.join("x.txt"),
            "相关推荐\n\n云岭医保标准\n每年四百元\n健康新闻 2025-04-18\n",
        )
        .unwrap()
    });
    c.run(&[]);
    assert_eq!(c.reject("x.txt").as_deref(), Some("no_title"));
    // Its snippet still counts.
    assert_eq!(jsonl(&c.out.join("snippets.jsonl")).len(), 1);
}

#[test]
fn only_a_title() {
    let c = case(|d| std::fs::write(d.join("x.txt"), "沙洲医保怎么报销\n").unwrap());
    assert_eq!(c.run(&[]).reject("x.txt").as_deref(), Some("no_answer"));
}

#[test]
fn a_100k_line_body() {
    let c = case(|d| {
        let body: Vec<String> = (0..100_000).map(|i| format!("第{i}行正文内容。")).collect();
        std::fs::write(d.join("x.txt"), page("北岸医保长文", &body.join("\n"))).unwrap()
    });
    let a = c.run(&[]).article("x.txt");
    assert_eq!(a["text"].as_str().unwrap().lines().count(), 100_000);
}

#[test]
fn a_first_line_too_long_to_be_a_title() {
    let c = case(|d| {
        std::fs::write(
            d.join("x.txt"),
            format!("{}\n\n正文。\n", "很长".repeat(200)),
        )
        .unwrap()
    });
    assert_eq!(c.run(&[]).reject("x.txt").as_deref(), Some("no_title"));
}

#[test]
fn control_characters_everywhere() {
    let c = case(|d| {
        let noise: String = (0..400)
            .map(|i| char::from_u32(1 + (i % 8)).unwrap())
            .collect();
        std::fs::write(d.join("x.txt"), format!("标题\n{noise}\n")).unwrap()
    });
    assert_eq!(c.run(&[]).reject("x.txt").as_deref(), Some("binary"));
}

// Issue "Nothing hangs, nothing leaks in from outside the input": regression tests named
// after its items.

#[cfg(unix)]
#[test]
fn a_symlink_to_etc_passwd_is_not_read() {
    let c = case(|d| {
        std::os::unix::fs::symlink("/etc/passwd", d.join("x.txt")).unwrap();
        std::os::unix::fs::symlink("/proc/self/status", d.join("status.txt")).unwrap();
    });
    c.run(&[]);
    assert_eq!(c.reject("x.txt").as_deref(), Some("outside_input"));
    assert_eq!(c.reject("status.txt").as_deref(), Some("outside_input"));
    let all = std::fs::read_to_string(c.out.join("articles.jsonl")).unwrap()
        + &std::fs::read_to_string(c.out.join("rejects.jsonl")).unwrap();
    assert!(!all.contains("root:") && !all.contains("VmRSS"), "{all}");
}

#[cfg(unix)]
#[test]
fn a_symlink_to_a_file_that_blocks_on_read_does_not_hang() {
    // /proc/kmsg blocks a reader until the kernel logs something; a FIFO outside the input
    // blocks its opener until a writer comes. Neither is read by default, and with
    // --follow-symlinks neither blocks: the FIFO is refused by its type, and a file is
    // opened without blocking.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("outside-pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    let c = case(|d| {
        std::os::unix::fs::symlink("/proc/kmsg", d.join("kmsg.txt")).unwrap();
        std::os::unix::fs::symlink(&fifo, d.join("pipe.txt")).unwrap();
    });
    c.run(&[]);
    assert_eq!(c.reject("kmsg.txt").as_deref(), Some("outside_input"));
    if made.is_ok_and(|s| s.success()) {
        assert_eq!(c.reject("pipe.txt").as_deref(), Some("outside_input"));
        std::fs::remove_file(c.input.join("kmsg.txt")).unwrap();
        c.run(&["--follow-symlinks"]);
        assert_eq!(c.reject("pipe.txt").as_deref(), Some("not_regular"));
    }
}

#[cfg(unix)]
#[test]
fn a_symlinked_folder_is_a_named_skip() {
    let outside = tempfile::tempdir().unwrap();
    let other = page(
        "松阳医保异地就医备案",
        "异地就医先在参保地备案，再持卡就医结算。",
    );
    std::fs::write(outside.path().join("p.txt"), other).unwrap();
    let c = case(|d| std::os::unix::fs::symlink(outside.path(), d.join("day2")).unwrap());
    c.run(&[]);
    let report: Value =
        serde_json::from_slice(&std::fs::read(c.out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["files"]["seen"], 1);
    assert_eq!(report["files"]["skipped"], 1);
    assert_eq!(report["skipped"][0]["path"], "day2/");
    c.run(&["--follow-symlinks"]);
    let report: Value =
        serde_json::from_slice(&std::fs::read(c.out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["files"]["seen"], 2);
    assert_eq!(report["files"]["skipped"], 0);
}

#[test]
fn threads_far_past_the_cores_are_refused() {
    let c = case(|_| {});
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_pagesieve"))
        .args(["run", "--quiet", "--threads", "100000", "--input"])
        .arg(&c.input)
        .arg("--output")
        .arg(&c.out)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--threads 100000") && err.contains("per core"),
        "{err}"
    );
    assert!(!c.out.exists(), "nothing is written");
}

#[cfg(unix)]
#[test]
fn a_backslash_name_and_a_raw_byte_name_get_different_sources() {
    use std::os::unix::ffi::OsStrExt;
    let c = case(|d| {
        let raw = std::ffi::OsStr::from_bytes(b"p\xff.txt");
        std::fs::write(
            d.join(raw),
            page("东屏医保报销比例", "住院报销比例按医院等级确定。"),
        )
        .unwrap();
        std::fs::write(
            d.join("p\\xFF.txt"),
            page("松阳医保报销比例", "门诊报销按年度限额。"),
        )
        .unwrap();
    });
    c.run(&[]);
    let sources: Vec<String> = jsonl(&c.out.join("articles.jsonl"))
        .into_iter()
        .map(|a| a["source"].as_str().unwrap().to_string())
        .collect();
    assert!(sources.contains(&"p\\xFF.txt".to_string()), "{sources:?}");
    assert!(sources.contains(&"p\\\\xFF.txt".to_string()), "{sources:?}");
}

/// A profile with `^\w{1,150}N$` patterns (each ~9 MB compiled) once took 58 s and 8.7 GB
/// in check-config and 206 s and 14 GB in a run: now refused at once, with the key and the
/// limit, exit 2.
#[test]
fn costly_patterns_are_refused_in_seconds() {
    let base = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
    let d = tempfile::tempdir().unwrap();
    for (n, want) in [
        (1000, "profile.navigation: 1000 patterns; at most 256"),
        (1, "profile.navigation[0]: the pattern"),
    ] {
        let pats: Vec<String> = (0..n).map(|i| format!("'^\\w{{1,150}}{i}N$'")).collect();
        let start = base
            .find("\nnavigation = [")
            .expect("the profile has navigation")
            + 1;
        let end = start + base[start..].find('\n').unwrap();
        let text = format!(
            "{}navigation = [{}]{}",
            &base[..start],
            pats.join(","),
            &base[end..]
        );
        let cfg = d.path().join(format!("bomb{n}.toml"));
        std::fs::write(&cfg, text).unwrap();
        let out = common::pagesieve(&["check-config", cfg.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(want), "{err}");
    }
}

/// An HTML page of the site, with `extra` markup put before `</body>`.
fn html_page(title: &str, body: &str, extra: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
         <h1>{title}</h1><p>{body}</p><p>提示:本内容不能代替面诊。</p>{extra}</body></html>"
    )
}

#[test]
fn html_nested_past_the_limit_is_refused_in_milliseconds() {
    let deep = format!(
        "{}深处{}",
        "<div>".repeat(200_000),
        "</div>".repeat(200_000)
    );
    let c = case(|d| {
        std::fs::write(
            d.join("deep.html"),
            html_page("金湖深层页面", "正文", &deep),
        )
        .unwrap()
    });
    let t = std::time::Instant::now();
    c.run(&[]);
    assert_eq!(c.reject("deep.html").as_deref(), Some("undecodable"));
    // The parser's cost is quadratic in depth: 200,000 levels would take minutes.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn html_with_only_scripts_and_styles_is_empty() {
    let c = case(|d| {
        std::fs::write(
            d.join("blank.html"),
            "<!DOCTYPE html><html><head><style>p{}</style></head><body><script>var a='<p>文字</p>';</script>\
             <!-- 注释 --></body></html>",
        )
        .unwrap()
    });
    c.run(&[]);
    assert_eq!(c.reject("blank.html").as_deref(), Some("empty"));
}

#[test]
fn hostile_html_leaks_no_markup() {
    let hostile = [
        // An unterminated comment swallows the rest, as in a browser.
        ("comment.html", "<p>尾部</p><!-- 没有结束的注释 <p>藏起来"),
        // `<plaintext>` makes the rest text; `<` inside attributes and scripts.
        (
            "attr.html",
            "<div title=\"a<p>b</p>c\" data-x='<script>'>属性之后</div>",
        ),
        (
            "script.html",
            "<script>document.write(\"<p>脚本\" + \"</p>\")</script><p>脚本之后</p>",
        ),
        ("stray.html", "<p>一 < 二 > 三 <<>> 四</p></div></span></p>"),
        ("tags.html", &"<b><i><u>嵌套</b></i></u>".repeat(2000)),
        (
            "attrs.html",
            &format!("<p {}>很多属性</p>", "a=1 ".repeat(50_000)),
        ),
    ];
    let c = case(|d| {
        for (name, extra) in hostile {
            std::fs::write(
                d.join(name),
                html_page("兴安医保异地备案", "备案后直接结算。", extra),
            )
            .unwrap();
        }
    });
    c.run(&[]);
    for (name, _) in hostile {
        let a = c.article(name);
        let text = a["text"].as_str().unwrap();
        assert!(
            !text.contains('<') || name == "stray.html",
            "{name}: {text}"
        );
        assert!(
            !text.contains("脚本\"") && !text.contains("藏起来"),
            "{name}: {text}"
        );
        assert_eq!(a["metadata"]["title"], "兴安医保异地备案", "{name}");
    }
    assert!(c.article("stray.html")["text"]
        .as_str()
        .unwrap()
        .contains("一 < 二 > 三"));
}

#[test]
fn html_in_utf16_and_under_a_bogus_label_is_read() {
    let page = html_page("宁远医保门诊报销", "门诊费用按比例报销。", "");
    let mut utf16: Vec<u8> = vec![0xFF, 0xFE];
    utf16.extend(page.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let bogus = html_page("宁远医保住院报销", "住院费用按比例报销。", "")
        .replace("charset=\"utf-8\"", "charset=\"x-no-such-encoding\"");
    let c = case(|d| {
        std::fs::write(d.join("wide.html"), &utf16).unwrap();
        std::fs::write(d.join("bogus.html"), &bogus).unwrap();
    });
    c.run(&[]);
    assert_eq!(c.article("wide.html")["text"], "门诊费用按比例报销。");
    assert_eq!(c.article("bogus.html")["text"], "住院费用按比例报销。");
    assert_eq!(c.article("wide.html")["metadata"]["encoding"], "UTF-16LE");
}

/// Pages in encodings a Chinese site does not use, or no longer does: Japanese and Korean
/// legacy bytes decode as GB18030 without an error into plausible-looking ideographs, and
/// HZ-GB-2312 is pure ASCII. Each is read in its own encoding, never kept as mojibake.
#[test]
fn japanese_korean_and_hz_pages_are_read_in_their_encodings() {
    let ja = "医療保険の質問\n医療保険の個人口座のお金は家族のために使えますか。地域によって規則が違いますが、一般的には配偶者や両親の外来費用に使えます。\n";
    let ja2 = "遠方の病院の質問\n住んでいる地域の外で治療を受けるときは、事前に届け出をしてください。届け出がないと払い戻しの割合が下がることがあります。\n";
    let ko = "건강보험 질문\n건강보험 개인 계좌의 돈을 가족에게 쓸 수 있나요? 지역마다 규정이 다르지만 보통 배우자와 부모의 외래 진료비에 쓸 수 있습니다.\n";
    // "医保问题" and a sentence of our own, as Python's `hz` codec encodes them.
    let hz: &[u8] = b"~{R=1#NJLb~}\n~{R=1#8vHKUK;'@o5DG.D\\2;D\\8xGWJtSC#?8w5XU~2_2;M,!#~}\n";
    let c = case(|d| {
        for (name, text, enc) in [
            ("sjis.txt", ja, encoding_rs::SHIFT_JIS),
            ("eucjp.txt", ja2, encoding_rs::EUC_JP),
            ("euckr.txt", ko, encoding_rs::EUC_KR),
        ] {
            std::fs::write(d.join(name), enc.encode(text).0).unwrap();
        }
        std::fs::write(d.join("hz.txt"), hz).unwrap();
    });
    c.run(&[]);
    for (name, enc) in [
        ("sjis.txt", "Shift_JIS"),
        ("eucjp.txt", "EUC-JP"),
        ("euckr.txt", "EUC-KR"),
        ("hz.txt", "HZ-GB-2312"),
    ] {
        assert_eq!(c.article(name)["metadata"]["encoding"], enc, "{name}");
    }
    assert!(c.article("sjis.txt")["text"]
        .as_str()
        .unwrap()
        .starts_with("医療保険の個人口座"));
    assert!(c.article("euckr.txt")["text"]
        .as_str()
        .unwrap()
        .starts_with("건강보험 개인 계좌"));
    assert_eq!(
        c.article("hz.txt")["text"],
        "医保个人账户里的钱能不能给亲属用？各地政策不同。"
    );
}

/// A Big5 page that declares `gb2312` reads as GBK without one bad byte, but into text of
/// which half is not what pages are made of: it was rejected as `undecodable`. The
/// declaration now loses to the detector's choice; a GBK page declaring `big5` keeps
/// being read as GBK.
#[test]
fn a_page_whose_declared_encoding_gives_mojibake_is_read_in_its_own() {
    let tw = "醫保個人賬戶裡的錢可以給家人用嗎？各地的規定不一樣，一般可以支付配偶、父母和子女在定點醫院的門診費用。";
    let big5 = html_page("醫保個人賬戶", &tw.repeat(3), "").replace("utf-8", "gb2312");
    let gbk = html_page(
        "医保异地备案",
        "异地就医需要先在参保地办理备案手续，否则报销比例会降低。",
        "",
    )
    .replace("utf-8", "big5");
    let c = case(|d| {
        std::fs::write(d.join("big5.html"), encoding_rs::BIG5.encode(&big5).0).unwrap();
        std::fs::write(d.join("gbk.html"), encoding_rs::GB18030.encode(&gbk).0).unwrap();
    });
    c.run(&[]);
    let a = c.article("big5.html");
    assert_eq!(a["metadata"]["encoding"], "Big5");
    assert_eq!(a["text"], tw.repeat(3));
    assert_eq!(c.article("gbk.html")["metadata"]["encoding"], "GB18030");
}
