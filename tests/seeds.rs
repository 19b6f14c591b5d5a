//! The five real pages in `../shared/seeds/` (read-only, beside the checkout). Skipped with
//! a printed notice when that folder is not there.
//!
//! Expectations are computed independently of the segmenter, from the raw lines: the title
//! is the first non-empty line; every line between it and the footer disclaimer (less the
//! header disclaimer) must survive in the text; the related list has one snippet per date
//! line, with that date.

mod common;

use pagesieve::ingest::InputFile;
use pagesieve::scan::{scan_file, Outcome};

const MARKERS: [&str; 5] = [
    "本信息整理自互联网公开渠道",
    "本内容不能代替面诊",
    "相关推荐",
    "大家都在搜",
    "首页 顶部",
];

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn every_seed_is_segmented_correctly() {
    let Some(dir) = common::seeds() else { return };
    let c = common::compiled();
    let date_re = regex::Regex::new(r"^\S+ (\d{4}-\d{2}-\d{2})$").unwrap();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for name in names {
        let raw = std::fs::read_to_string(dir.join(&name)).unwrap();
        let lines: Vec<&str> = raw.lines().map(str::trim).collect();
        let title = lines.iter().find(|l| !l.is_empty()).unwrap().to_string();
        let footer = lines
            .iter()
            .position(|l| l.starts_with("提示"))
            .expect("seed has a footer");
        let body: Vec<&str> = lines[1..footer]
            .iter()
            .copied()
            .filter(|l| !l.is_empty() && !l.starts_with("本信息整理自互联网公开渠道"))
            .collect();
        let dates: Vec<String> = lines
            .iter()
            .filter_map(|l| date_re.captures(l).map(|c| c[1].to_string()))
            .collect();

        let r = scan_file(
            &InputFile {
                path: dir.join(&name),
                source: name.clone(),
                walk_error: None,
            },
            &c,
        );
        let Outcome::Article(a, _) = &r.outcome else {
            panic!("{name}: not an article: {:?}", r.outcome)
        };
        assert_eq!(a.metadata.title, title, "{name}: title");
        for m in MARKERS {
            assert!(!a.text.contains(m), "{name}: marker {m} left in text");
        }
        assert!(!date_re.is_match(&a.text), "{name}: date line in text");
        let text = squeeze(&a.text);
        for line in &body {
            // Cleanup only removes spaces, so the squeezed line must be in the squeezed text.
            assert!(
                text.contains(&squeeze(line)),
                "{name}: body line lost: {line}"
            );
        }
        assert_eq!(r.snippets.len(), dates.len(), "{name}: snippet count");
        let got: Vec<String> = r
            .snippets
            .iter()
            .map(|s| s.block.date.clone().unwrap())
            .collect();
        assert_eq!(got, dates, "{name}: snippet dates");
        assert!(r
            .snippets
            .iter()
            .all(|s| s.block.complete && !s.block.text.is_empty()));
    }
}

#[test]
fn run_over_the_seeds_keeps_the_contract() {
    let Some(dir) = common::seeds() else { return };
    let out = tempfile::tempdir().unwrap();
    common::run_ok(&dir, out.path(), &[]);
    common::assert_invariant(out.path());
    let arts = common::jsonl(&out.path().join("articles.jsonl"));
    assert_eq!(arts.len(), 5);
    let snippets = common::jsonl(&out.path().join("snippets.jsonl"));
    let dropped = common::jsonl(&out.path().join("dropped.jsonl"));
    // 100 blocks over 5 pages, none shared; the two texts the site shows under a second
    // title are dropped with an alias.
    let occ: u64 = snippets
        .iter()
        .map(|s| s["metadata"]["occurrences"].as_u64().unwrap())
        .sum();
    assert_eq!(occ as usize, 100);
    assert_eq!(snippets.len() + dropped.len(), 100);
    for d in &dropped {
        let kept = snippets
            .iter()
            .find(|s| s["id"] == d["duplicate_of"])
            .unwrap();
        assert!(kept["metadata"]["aliases"]
            .as_array()
            .unwrap()
            .contains(&d["title"]));
    }
}

/// `explain` shows the segmenter's labels; on every seed each line must carry the label its
/// raw text implies.
#[test]
fn explain_labels_every_seed_line_correctly() {
    use pagesieve::page::{segment, Part};
    let Some(dir) = common::seeds() else { return };
    let c = common::compiled();
    let date_re = regex::Regex::new(r"^\S+ \d{4}-\d{2}-\d{2}$").unwrap();
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let parts = segment(&text, &c.segment);
        let lines: Vec<&str> = text.split('\n').collect();
        let mut in_related = false;
        let mut block = 0usize;
        let mut expect_title = true;
        let mut seen_title = false;
        for l in &parts.labels {
            let raw = lines[l.line - 1].trim();
            let want = if !seen_title {
                seen_title = true;
                Part::Title
            } else if raw.starts_with("本信息整理自互联网公开渠道") {
                Part::HeaderDisclaimer
            } else if raw.starts_with("提示") {
                Part::FooterDisclaimer
            } else if raw == "大家都在搜" {
                Part::Trending
            } else if raw == "相关推荐" {
                in_related = true;
                Part::RelatedMarker
            } else if raw == "首页 顶部" {
                Part::Navigation
            } else if in_related && date_re.is_match(raw) {
                block += 1;
                expect_title = true;
                Part::RelatedDate(Some(block - 1))
            } else if in_related && expect_title {
                expect_title = false;
                Part::RelatedTitle(block)
            } else if in_related {
                Part::RelatedText(block)
            } else {
                Part::Body
            };
            assert_eq!(l.part, want, "{}:{}: {raw}", path.display(), l.line);
        }
        let out = pagesieve::explain::explain(&path, &c, false).unwrap();
        assert!(!out.contains("(unlabelled)"), "{}", path.display());
    }
}
