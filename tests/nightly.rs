//! The nightly job: each night's pages deduplicated against what earlier nights kept
//! (`run --against`), through the persistent index each run writes.
//!
//! The corpus is generated in the real site's shape (`synth --shape site`) and split into
//! three "nights" by page order; the nights together must keep exactly what one run over
//! every page keeps with `dedup.keep = "first"` (the single run's version of "an earlier
//! run wins").

#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{jsonl, pagesieve, report, run_args};
use serde_json::Value;

/// A site-shaped corpus of `pages` pages split into three nights by sorted path; returns
/// the whole corpus's folder and the three nights' folders.
fn nights(root: &Path, pages: usize) -> (PathBuf, [PathBuf; 3]) {
    let all = root.join("all-pages");
    pagesieve::synth::generate(
        &pagesieve::synth::Options {
            pages,
            seed: 7,
            sample: false,
            shape: pagesieve::synth::Shape::Site,
            encodings: Default::default(),
        },
        &all,
    )
    .unwrap();
    let mut files: Vec<PathBuf> = walk(&all);
    files.sort();
    let n = files.len();
    let dirs = [1, 2, 3].map(|k| root.join(format!("in{k}")));
    for (i, f) in files.iter().enumerate() {
        let night = (i * 3 / n).min(2);
        let rel = f.strip_prefix(&all).unwrap();
        let to = dirs[night].join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(f, to).unwrap();
    }
    (all, dirs)
}

/// Every file under `dir` (links followed) with its bytes, by relative path.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn go(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name == ".pagesieve" || name == "lock" {
                continue;
            }
            if p.is_dir() {
                go(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().into(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    go(dir, dir, &mut out);
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let hidden = p.file_name().unwrap().to_string_lossy().starts_with('.');
        if p.is_dir() {
            out.extend(walk(&p));
        } else if !hidden {
            out.push(p);
        }
    }
    out
}

/// A profile: the bundled one with `extra` appended to its `[dedup]` section.
fn profile(root: &Path, name: &str, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(common::repo().join("config/default.toml")).unwrap();
    let p = root.join(name);
    std::fs::write(&p, format!("{base}\n[dedup]\n{extra}\n")).unwrap();
    p
}

fn run(input: &Path, output: &Path, config: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = run_args(input, output);
    args.extend(["--config", config.to_str().unwrap()]);
    args.extend_from_slice(extra);
    pagesieve(&args)
}

fn ok(o: std::process::Output) {
    assert!(
        o.status.success(),
        "pagesieve failed ({:?}):\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// id → text of a record file.
fn texts(path: &Path) -> BTreeMap<String, String> {
    jsonl(path)
        .into_iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().into(),
                r["text"].as_str().unwrap().into(),
            )
        })
        .collect()
}

#[test]
fn three_nights_keep_what_one_run_over_all_pages_keeps() {
    let d = tempfile::tempdir().unwrap();
    let (all, [n1, n2, n3]) = nights(d.path(), 900);
    let cfg = profile(d.path(), "first.toml", "keep = \"first\"");
    let o = |name: &str| d.path().join(name);
    ok(run(&all, &o("single"), &cfg, &[]));
    ok(run(&n1, &o("out1"), &cfg, &[]));
    ok(run(
        &n2,
        &o("out2"),
        &cfg,
        &["--against", o("out1").to_str().unwrap()],
    ));
    ok(run(
        &n3,
        &o("out3"),
        &cfg,
        &["--against", o("out2").to_str().unwrap()],
    ));

    let outs = ["out1", "out2", "out3"].map(o);
    for file in ["articles.jsonl", "snippets.jsonl"] {
        let single = texts(&o("single").join(file));
        let mut nightly = BTreeMap::new();
        for out in &outs {
            let t = texts(&out.join(file));
            for id in t.keys() {
                assert!(!nightly.contains_key(id), "{id} written by two nights");
            }
            nightly.extend(t);
        }
        assert_eq!(single, nightly, "{file}: three nights differ from one run");
    }
    // Every dropped record points at a record that exists, tonight's or an earlier night's,
    // and the drops are the single run's.
    let kept: std::collections::HashSet<String> = outs
        .iter()
        .flat_map(|out| {
            ["articles.jsonl", "snippets.jsonl"]
                .into_iter()
                .flat_map(move |f| texts(&out.join(f)).into_keys())
        })
        .collect();
    let dropped = |out: &Path| -> BTreeMap<String, String> {
        jsonl(&out.join("dropped.jsonl"))
            .into_iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().into(),
                    r["duplicate_of"].as_str().unwrap().into(),
                )
            })
            .collect()
    };
    let mut nightly_drops = BTreeMap::new();
    for out in &outs {
        nightly_drops.extend(dropped(out));
    }
    for (id, of) in &nightly_drops {
        assert!(
            kept.contains(of),
            "{id} is a duplicate of {of}, which no night wrote"
        );
    }
    assert_eq!(dropped(&o("single")), nightly_drops);

    // Night 3 found duplicates of earlier nights, said so, and pointed at the records.
    let r3 = report(&o("out3"));
    let earlier = r3["articles"]["dropped_against_earlier"].as_u64().unwrap();
    assert!(
        earlier > 0,
        "the corpus plants duplicates across nights: {r3}"
    );
    assert_eq!(r3["index"]["earlier_runs"].as_array().unwrap().len(), 2);
    let against: Vec<Value> = jsonl(&o("out3").join("dropped.jsonl"))
        .into_iter()
        .filter(|r| r["kept_by"] == "earlier_run")
        .collect();
    assert!(!against.is_empty());
    for r in &against {
        let e = &r["earlier"];
        let file = Path::new(e["output"].as_str().unwrap()).join(e["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        let at = e["offset"].as_u64().unwrap() as usize;
        let line = bytes[at..].split(|&b| b == b'\n').next().unwrap();
        let rec: Value = serde_json::from_slice(line).unwrap();
        assert_eq!(
            rec["id"], r["duplicate_of"],
            "the evidence points at the kept record"
        );
    }
    let html = std::fs::read_to_string(o("out3").join("report.html")).unwrap();
    assert!(
        html.contains("earlier run"),
        "report.html marks clusters kept earlier"
    );

    // Snippets an earlier night wrote are not written again, but every occurrence is
    // accounted for: tonight's snippet records plus seen_again.jsonl.
    let r2 = report(&o("out2"));
    let s = &r2["snippets"];
    let again = jsonl(&o("out2").join("seen_again.jsonl"));
    assert_eq!(s["seen_again"].as_u64().unwrap() as usize, again.len());
    let again_occ: u64 = again
        .iter()
        .map(|r| r["occurrences"].as_u64().unwrap())
        .sum();
    assert_eq!(s["seen_again_occurrences"].as_u64().unwrap(), again_occ);
    let written_occ: u64 = jsonl(&o("out2").join("snippets.jsonl"))
        .iter()
        .map(|r| r["metadata"]["occurrences"].as_u64().unwrap())
        .sum();
    assert_eq!(written_occ + again_occ, s["occurrences"].as_u64().unwrap());
}

#[test]
fn other_dedup_settings_stop_before_writing() {
    let d = tempfile::tempdir().unwrap();
    let (_, [n1, n2, _]) = nights(d.path(), 120);
    let base = profile(d.path(), "base.toml", "");
    let other = profile(
        d.path(),
        "other.toml",
        "shingle_chars = 5\nmin_similarity = 0.6",
    );
    let out1 = d.path().join("out1");
    ok(run(&n1, &out1, &base, &[]));
    let out2 = d.path().join("out2");
    let o = run(&n2, &out2, &other, &["--against", out1.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("dedup.shingle_chars: index 4, this run 5"),
        "{err}"
    );
    assert!(err.contains("dedup.min_similarity"), "{err}");
    assert!(!out2.exists(), "nothing written");
    // `pagesieve index` rebuilds it under the new settings, and the run goes through.
    let idx = d.path().join("idx");
    let o = pagesieve(&[
        "index",
        out1.to_str().unwrap(),
        "--out",
        idx.to_str().unwrap(),
        "--config",
        other.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    ok(run(
        &n2,
        &out2,
        &other,
        &["--against", idx.to_str().unwrap()],
    ));
}

#[test]
fn a_rebuilt_index_gives_the_same_night() {
    let d = tempfile::tempdir().unwrap();
    let (_, [n1, n2, n3]) = nights(d.path(), 300);
    let cfg = profile(d.path(), "p.toml", "");
    let o = |name: &str| d.path().join(name);
    ok(run(&n1, &o("out1"), &cfg, &[]));
    ok(run(
        &n2,
        &o("out2"),
        &cfg,
        &["--against", o("out1").to_str().unwrap()],
    ));
    ok(run(
        &n3,
        &o("out3"),
        &cfg,
        &["--against", o("out2").to_str().unwrap()],
    ));
    let idx = o("rebuilt");
    let r = pagesieve(&[
        "index",
        o("out1").to_str().unwrap(),
        o("out2").to_str().unwrap(),
        "--out",
        idx.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    ok(run(
        &n3,
        &o("again3"),
        &cfg,
        &["--against", idx.to_str().unwrap()],
    ));
    for f in [
        "articles.jsonl",
        "snippets.jsonl",
        "dropped.jsonl",
        "duplicates.jsonl",
    ] {
        assert_eq!(
            std::fs::read(o("out3").join(f)).unwrap(),
            std::fs::read(o("again3").join(f)).unwrap(),
            "{f}"
        );
    }
    // Several --against folders covering the same records count them once.
    ok(run(
        &n3,
        &o("both3"),
        &cfg,
        &[
            "--against",
            o("out1").to_str().unwrap(),
            "--against",
            o("out2").to_str().unwrap(),
        ],
    ));
    assert_eq!(
        std::fs::read(o("out3").join("dropped.jsonl")).unwrap(),
        std::fs::read(o("both3").join("dropped.jsonl")).unwrap()
    );
}

/// The one segment file of an index folder.
fn segment_of(idx: &Path) -> PathBuf {
    let mut segs: Vec<PathBuf> = std::fs::read_dir(idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "psg"))
        .collect();
    assert_eq!(segs.len(), 1, "{segs:?}");
    segs.pop().unwrap()
}

#[test]
fn a_corrupt_or_truncated_index_is_a_clear_error() {
    let d = tempfile::tempdir().unwrap();
    let (_, [n1, n2, _]) = nights(d.path(), 120);
    let cfg = profile(d.path(), "p.toml", "");
    let out1 = d.path().join("out1");
    ok(run(&n1, &out1, &cfg, &[]));
    let seg = segment_of(&out1.join("index"));
    let good = std::fs::read(&seg).unwrap();
    // Night 1's pages again: every entry is read, so damage anywhere in the entries shows.
    let entries_at = 4096 + 64;
    let cases: [(&str, Vec<u8>); 5] = [
        ("truncated", good[..good.len() / 2].to_vec()),
        ("end marker", good[..good.len() - 3].to_vec()),
        ("checksum", {
            let mut b = good.clone();
            b[entries_at] ^= 0x5a;
            b
        }),
        ("level 2", {
            let mut b = good.clone();
            let at = b.len() - 60;
            b[at] ^= 0x5a;
            b
        }),
        ("truncated", b"hello".repeat(10)),
    ];
    for (want, bytes) in cases {
        std::fs::write(&seg, &bytes).unwrap();
        let out2 = d.path().join("out2");
        let o = run(&n1, &out2, &cfg, &["--against", out1.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{want}: {err}");
        assert!(err.contains(want) && err.contains(".psg"), "{want}: {err}");
        assert!(!out2.exists(), "nothing written");
    }
    std::fs::write(&seg, &good).unwrap();
    // A manifest that does not parse.
    let manifest = out1.join("index/manifest.json");
    let m = std::fs::read(&manifest).unwrap();
    std::fs::write(&manifest, b"{\"format\": 2,").unwrap();
    let o = run(
        &n2,
        &d.path().join("out2"),
        &cfg,
        &["--against", out1.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("manifest.json does not parse"), "{err}");
    std::fs::write(&manifest, m).unwrap();
    // The against folder is not the output folder.
    let o = run(&n2, &out1, &cfg, &["--against", out1.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_killed_night_leaves_the_previous_night_readable() {
    let d = tempfile::tempdir().unwrap();
    let (_, [n1, n2, _]) = nights(d.path(), 600);
    let cfg = profile(d.path(), "p.toml", "");
    let out1 = d.path().join("out1");
    ok(run(&n1, &out1, &cfg, &[]));
    let before = tree(&out1);
    let reference = d.path().join("reference");
    ok(run(
        &n2,
        &reference,
        &cfg,
        &["--against", out1.to_str().unwrap()],
    ));
    for (step, ms) in [5u64, 40, 120, 300].into_iter().enumerate() {
        let out2 = d.path().join(format!("killed{step}"));
        let mut args = run_args(&n2, &out2);
        args.extend([
            "--config",
            cfg.to_str().unwrap(),
            "--against",
            out1.to_str().unwrap(),
        ]);
        let mut child = Command::new(env!("CARGO_BIN_EXE_pagesieve"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(ms));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(before, tree(&out1), "night 1 changed by a killed night 2");
        // The rerun of night 2 reads night 1's index and gives what it gave before.
        ok(run(
            &n2,
            &out2,
            &cfg,
            &["--against", out1.to_str().unwrap()],
        ));
        assert_eq!(
            std::fs::read(out2.join("dropped.jsonl")).unwrap(),
            std::fs::read(reference.join("dropped.jsonl")).unwrap()
        );
    }
}

#[test]
fn the_drop_rate_guard_holds_the_output_and_exits_3() {
    let d = tempfile::tempdir().unwrap();
    let (_, [n1, _, _]) = nights(d.path(), 150);
    let cfg = profile(d.path(), "p.toml", "");
    let out1 = d.path().join("out1");
    ok(run(&n1, &out1, &cfg, &[]));
    // The same pages again: every article is a duplicate of night 1's.
    let out2 = d.path().join("out2");
    std::fs::create_dir_all(&out2).unwrap();
    std::fs::write(out2.join("articles.jsonl"), "earlier\n").unwrap();
    let o = run(
        &n1,
        &out2,
        &cfg,
        &[
            "--against",
            out1.to_str().unwrap(),
            "--max-drop-rate",
            "0.2",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("held: 100.0% of tonight's articles"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out2.join("articles.jsonl")).unwrap(),
        "earlier\n"
    );
    let held = d.path().join("out2.held");
    let r = report(&held);
    assert_eq!(r["guard"]["held"], true);
    assert_eq!(r["guard"]["drop_rate"], 1.0);
    assert!(!held.join("index").exists(), "a held run writes no index");
    // Under the limit the run goes through.
    ok(run(
        &n1,
        &d.path().join("out3"),
        &cfg,
        &["--against", out1.to_str().unwrap(), "--max-drop-rate", "1"],
    ));
    // A rate outside 0..1 is a usage error.
    let o = run(
        &n1,
        &d.path().join("out4"),
        &cfg,
        &["--max-drop-rate", "20"],
    );
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn index_dir_outside_the_output_is_replaced_atomically() {
    let d = tempfile::tempdir().unwrap();
    let (_, [n1, n2, _]) = nights(d.path(), 150);
    let cfg = profile(d.path(), "p.toml", "");
    let idx = d.path().join("central-index");
    let (out1, out2) = (d.path().join("out1"), d.path().join("out2"));
    let i = idx.to_str().unwrap();
    ok(run(&n1, &out1, &cfg, &["--index", i]));
    assert!(idx.join("manifest.json").is_file());
    assert!(
        !out1.join("index").exists(),
        "--index replaces index/ in the output"
    );
    // The rolling pattern: read the central index, write it back covering both nights.
    ok(run(&n2, &out2, &cfg, &["--against", i, "--index", i]));
    let r = report(&out2);
    assert_eq!(r["index"]["earlier_runs"].as_array().unwrap().len(), 1);
    let mut leftovers: Vec<String> = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".psg"))
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        ["lock", "manifest.json"],
        "no temporary file left"
    );
    // One segment a night, the first one not rewritten.
    let segs = std::fs::read_dir(&idx)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "psg")
        })
        .count();
    assert_eq!(segs, 2);
    let articles = |o: &Path| jsonl(&o.join("articles.jsonl")).len() as u64;
    assert_eq!(
        r["index"]["articles"].as_u64().unwrap(),
        articles(&out1) + articles(&out2)
    );
}
