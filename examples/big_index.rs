//! Makes a large dedup index for the nightly bench (`bench/history.sh`): `N` synthetic
//! entries (random signatures and hashes, so they match nothing) in one segment pointing
//! into an empty stand-in run folder, followed by the real segments of one output folder's
//! index (linked, not copied).
//!
//! usage: big_index OUTPUT_DIR N INDEX_DIR

use std::path::{Path, PathBuf};

use pagesieve::dedup::minhash::Signature;
use pagesieve::dedup::Fingerprint;
use pagesieve::history::build::{manifest_of, segment_params, write_new_segment};
use pagesieve::history::manifest::{self, RunRef, SegmentRef};
use pagesieve::history::segment::RunCount;
use pagesieve::history::{relative, Entries, History, Loc};
use pagesieve::record::RecordKind;
use pagesieve::Rules;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: big_index OUTPUT_DIR N INDEX_DIR");
        std::process::exit(2);
    }
    let (from, n, dir) = (
        PathBuf::from(&args[1]),
        args[2].parse::<usize>().expect("N"),
        PathBuf::from(&args[3]),
    );
    let rules = Rules::builtin();
    std::fs::create_dir_all(dir.join("stand-in")).unwrap();
    for f in ["articles.jsonl", "snippets.jsonl"] {
        std::fs::write(dir.join("stand-in").join(f), "").unwrap();
    }
    let abs = dir.canonicalize().unwrap();
    let real = History::load(std::slice::from_ref(&from), &rules, &abs.join(".scratch"))
        .expect("load the real index");
    let t = std::time::Instant::now();
    let (na, ns) = (n * 4 / 5, n - n * 4 / 5);
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let fake_a = synthetic(na, "a", &mut seed);
    let fake_s = synthetic(ns, "s", &mut seed);
    let counts = vec![RunCount {
        uid: "stand-in".into(),
        articles: na as u64,
        snippets: ns as u64,
    }];
    let mut segments = Vec::new();
    if n > 0 {
        let params = segment_params(&rules, counts);
        segments.push(write_new_segment(&abs, &params, &fake_a, &fake_s).unwrap());
    }
    let mut runs = vec![RunRef {
        uid: "stand-in".into(),
        path: "stand-in".into(),
        started: String::new(),
        articles_bytes: 0,
        snippets_bytes: 0,
        generation: None,
    }];
    for r in &real.runs {
        runs.push(RunRef {
            uid: r.uid.clone(),
            path: relative(&abs, &r.dir).display().to_string(),
            started: r.started.clone(),
            articles_bytes: r.bytes[0],
            snippets_bytes: r.bytes[1],
            generation: r.generation.clone(),
        });
    }
    for part in &real.parts {
        let seg = &part.segment;
        let file = seg
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        link(seg.path(), &abs.join(&file));
        segments.push(SegmentRef {
            file,
            id: seg.header.id.clone(),
            bytes: seg.size(),
            articles: part.visible(RecordKind::Article),
            snippets: part.visible(RecordKind::Snippet),
            skip_runs: Vec::new(),
        });
    }
    let m = manifest_of(&rules, 1, segments, runs);
    manifest::publish(&abs, &m).unwrap();
    let _ = std::fs::remove_dir_all(abs.join(".scratch"));
    println!(
        "wrote {} entries ({} real) to {} in {:.1} s",
        m.articles + m.snippets,
        real.len(RecordKind::Article) + real.len(RecordKind::Snippet),
        abs.display(),
        t.elapsed().as_secs_f64()
    );
}

fn link(from: &Path, to: &Path) {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).unwrap();
    }
}

/// `count` entries with random signatures and hashes, in the stand-in run (run 0).
fn synthetic(count: usize, prefix: &str, seed: &mut u64) -> Entries {
    let mut next = move || {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    };
    let mut e = Entries::with_capacity(count);
    for i in 0..count {
        let mut sig = Signature::default();
        for chunk in sig.0.chunks_mut(8) {
            chunk.copy_from_slice(&next().to_le_bytes());
        }
        e.fps.push(Fingerprint {
            primary: next(),
            more: None,
            exact: [next(), next()],
            chars: 200 + (i % 1500) as u32,
        });
        e.sigs.push(sig);
        e.locs.push(Loc {
            run: 0,
            offset: i as u64,
            len: 0,
        });
        e.title_keys.push(next());
        e.replacements.push(0);
        e.ids.push(&format!("{prefix}-{:016x}", next()));
        e.sources.push(&format!("synthetic/{i:09}.html"));
    }
    e
}
