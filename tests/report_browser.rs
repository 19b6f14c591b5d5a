//! `report.html` as a person sees it: rendered by headless Chromium (Debian's `chromium`,
//! which `.ci/run` installs). Checks the DOM for the summary figures and a marked cluster
//! diff, checks that a scraped `<script>` is shown as text and never becomes an element,
//! and saves a screenshot to `target/report-screenshot.png` for a person to look at.
//! Skips with a notice when no Chromium is installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

fn headless(browser: &Path, profile: &Path, extra: &[&str], url: &str) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium")
}

#[test]
fn report_renders_summary_diffs_and_escapes_scraped_markup() {
    let Some(browser) = chromium() else {
        common::notice("chromium not installed; skipping the browser test (.ci/run installs it)");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let body = "医保个人账户的钱可以在定点药店购药，也可以支付门诊费用。<script>alert(1)</script>\
                异地使用前需要先办理备案，备案后在就医地直接结算，费用按参保地待遇报销。";
    std::fs::write(
        input.join("a.txt"),
        format!("临川医保个人账户怎么用\n\n{body}\n\n提示:本内容不能代替面诊。\n"),
    )
    .unwrap();
    // A near copy: one sentence changed, so the cluster shows a character diff.
    let near = body.replace("直接结算", "刷卡直接结算");
    std::fs::write(
        input.join("b.txt"),
        format!("临川医保个人账户如何使用\n\n{near}\n\n提示:本内容不能代替面诊。\n"),
    )
    .unwrap();
    std::fs::write(input.join("c.txt"), "").unwrap();
    let out = d.path().join("out");
    common::run_ok(&input, &out, &[]);
    let url = format!("file://{}", out.join("report.html").display());

    let o = headless(&browser, &d.path().join("profile1"), &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains("pagesieve report"),
        "no DOM: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The run line at the top: when, on what, with which profile.
    assert!(dom.contains("started 20") && dom.contains(" UTC"), "{dom}");
    assert!(dom.contains(&format!("input <code>{}</code>", input.display())));
    // Rejects come right after the summary, before the long cluster tables.
    let at = |s: &str| dom.find(s).unwrap_or_else(|| panic!("no {s}"));
    assert!(
        at("id=\"summary\"") < at("id=\"rejects\"") && at("id=\"rejects\"") < at("id=\"clusters\"")
    );
    // Summary figures, as rendered.
    assert!(
        dom.contains("<th>files seen</th><td class=\"n\">3</td>"),
        "{dom}"
    );
    assert!(dom.contains("<th>articles kept</th><td class=\"n\">1</td>"));
    assert!(dom.contains("<th>dropped as near duplicates</th><td class=\"n\">1</td>"));
    // The cluster diff marks the inserted characters.
    assert!(
        dom.contains("<ins>刷卡</ins>") || dom.contains("<del>刷卡</del>"),
        "{dom}"
    );
    // Scraped markup is text, never an element: no script element exists at all.
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !dom.contains("<script"),
        "a script element made it into the DOM"
    );

    let shot = d.path().join("report.png");
    let o = headless(
        &browser,
        &d.path().join("profile2"),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600",
        ],
        &url,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| {
        panic!(
            "no screenshot ({e}): {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000);
    let keep = common::repo().join("target/report-screenshot.png");
    let _ = std::fs::write(&keep, &png);
    eprintln!("screenshot saved to {}", keep.display());
}
