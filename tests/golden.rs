//! Golden tests: each page in `tests/fixtures/pages/` is scanned and its outcome (article
//! parts or reject reason) compared with `tests/expected/<name>.json`.
//!
//! Run with `UPDATE_EXPECTED=1 cargo test --test golden` to rewrite the expected files after
//! an intended change, then review the diff in git.

mod common;

use std::path::Path;

use pagesieve::ingest::InputFile;
use pagesieve::scan::{scan_file, Outcome};
use serde_json::{json, Value};

fn view(dir: &Path, name: &str) -> Value {
    let c = common::compiled();
    let file = InputFile {
        path: dir.join(name),
        source: name.to_string(),
        walk_error: None,
    };
    let r = scan_file(&file, &c);
    let related: Vec<Value> = r
        .snippets
        .iter()
        .map(|s| {
            json!({
                "title": s.block.title, "text": s.block.text, "category": s.block.category,
                "date": s.block.date, "complete": s.block.complete, "truncated": s.truncated,
                "answer": s.answer,
            })
        })
        .collect();
    match &r.outcome {
        Outcome::Article(a, _) => json!({
            "outcome": "article",
            "title": a.metadata.title,
            "encoding": a.metadata.encoding,
            "text": a.text.split('\n').collect::<Vec<_>>(),
            "trending": a.metadata.trending,
            "stripped": a.metadata.stripped,
            "headings": a.metadata.headings,
            "related": related,
        }),
        Outcome::Reject(rej) => json!({
            "outcome": rej.reason.as_str(),
            "title": r.title,
            "related": related,
        }),
    }
}

#[test]
fn fixtures_match_expected() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let pages = root.join("fixtures/pages");
    let update = std::env::var_os("UPDATE_EXPECTED").is_some();
    let mut names: Vec<String> = std::fs::read_dir(&pages)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 20, "fixtures missing: {names:?}");
    let mut failures = Vec::new();
    for name in &names {
        let got = serde_json::to_string_pretty(&view(&pages, name)).unwrap() + "\n";
        let exp_path = root.join("expected").join(format!("{name}.json"));
        if update {
            std::fs::write(&exp_path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&exp_path)
            .unwrap_or_else(|_| panic!("no expected file {}", exp_path.display()));
        if got != want {
            failures.push(format!("{name}:\n{}", common::line_diff(&want, &got)));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches:\n{}",
        failures.join("\n")
    );
}

/// The same page in every encoding and compression gives the same parts.
#[test]
fn encodings_and_compression_give_the_same_page() {
    let pages = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
    let text = std::fs::read_to_string(pages.join("standard.txt")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let units: Vec<u16> = text.encode_utf16().collect();
    let variants: Vec<(&str, Vec<u8>, &str)> = vec![
        ("utf8.txt", text.as_bytes().to_vec(), "UTF-8"),
        (
            "bom.txt",
            [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
            "UTF-8",
        ),
        (
            "gb.txt",
            encoding_rs::GB18030.encode(&text).0.into_owned(),
            "GB18030",
        ),
        (
            "le.txt",
            [
                vec![0xFF, 0xFE],
                units.iter().flat_map(|u| u.to_le_bytes()).collect(),
            ]
            .concat(),
            "UTF-16LE",
        ),
        (
            "be_no_bom.txt",
            units.iter().flat_map(|u| u.to_be_bytes()).collect(),
            "UTF-16BE",
        ),
        ("crlf.txt", text.replace('\n', "\r\n").into_bytes(), "UTF-8"),
        ("z.txt.gz", common::gzip(text.as_bytes()), "UTF-8"),
        (
            "z.txt.zst",
            zstd::encode_all(text.as_bytes(), 3).unwrap(),
            "UTF-8",
        ),
    ];
    let base = view(&pages, "standard.txt");
    for (name, bytes, enc) in variants {
        std::fs::write(d.join(name), bytes).unwrap();
        let mut v = view(d, name);
        assert_eq!(v["encoding"], enc, "{name}");
        v["encoding"] = base["encoding"].clone();
        assert_eq!(v, base, "{name}");
    }
}
