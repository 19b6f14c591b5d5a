//! The article duplicate search alone, at scale, without the scan: fingerprints the texts
//! of an earlier run's `articles.jsonl` and `dropped.jsonl` (every article the run saw),
//! then runs [`pagesieve::dedup::deduplicate`] over them in source order, reading texts
//! back from those files by offset for verification (as a run reads its spill).
//!
//! ```sh
//! cargo run --release --example dedup_jsonl -- OUTPUT_DIR [THREADS]
//! ```
//! `NO_HINTS=1`: verification does not ask for texts ahead of their reads.
//! Prints the search's stats and its candidate and verify times; what BENCHMARKS.md's
//! dedup profiles at 1M pages were made with.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use serde::Deserialize;

use pagesieve::dedup::queue::WillNeed;
use pagesieve::dedup::shingle::{normalize_with, shingle_set};
use pagesieve::dedup::{
    deduplicate_with, fingerprint, DedupRules, Fingerprint, Fingerprinted, Item,
};
use pagesieve::rules::Rules;

#[derive(Deserialize)]
struct Line {
    source: String,
    text: String,
}

/// One article: where its line is, its source, its fingerprint.
struct Text {
    file: usize,
    offset: u64,
    len: usize,
    source: String,
    fp: Fingerprinted,
}

fn read_all(files: &[PathBuf], rules: &DedupRules) -> Vec<Text> {
    let mut out = Vec::new();
    for (fi, path) in files.iter().enumerate() {
        let mut r = BufReader::with_capacity(1 << 20, File::open(path).expect("readable"));
        let mut offset = 0u64;
        loop {
            let mut batch: Vec<(u64, Vec<u8>)> = Vec::new();
            while batch.len() < 20_000 {
                let mut line = Vec::new();
                let n = r.read_until(b'\n', &mut line).expect("readable");
                if n == 0 {
                    break;
                }
                batch.push((offset, line));
                offset += n as u64;
            }
            if batch.is_empty() {
                break;
            }
            out.par_extend(batch.into_par_iter().map(|(off, line)| {
                let l: Line = serde_json::from_slice(&line).expect("a record line");
                Text {
                    file: fi,
                    offset: off,
                    len: line.len(),
                    fp: fingerprint(&l.text, rules),
                    source: l.source,
                }
            }));
        }
    }
    out.sort_by(|a, b| a.source.cmp(&b.source));
    out
}

/// `FP_CACHE=FILE`: the fingerprints of a first run, so later runs skip the 1.5 minutes of
/// reading and fingerprinting a million texts (primary simhash only).
fn save_cache(path: &Path, texts: &[Text]) {
    let mut out = Vec::new();
    for t in texts {
        out.extend((t.file as u32).to_le_bytes());
        out.extend(t.offset.to_le_bytes());
        out.extend((t.len as u32).to_le_bytes());
        out.extend((t.source.len() as u32).to_le_bytes());
        out.extend(t.source.as_bytes());
        out.extend(t.fp.fp.primary.to_le_bytes());
        out.extend(t.fp.fp.exact[0].to_le_bytes());
        out.extend(t.fp.fp.exact[1].to_le_bytes());
        out.extend(t.fp.fp.chars.to_le_bytes());
        out.extend(t.fp.signature.0);
    }
    std::fs::write(path, out).expect("a writable cache");
}

fn load_cache(path: &Path) -> Vec<Text> {
    let b = std::fs::read(path).expect("a readable cache");
    let mut at = 0;
    let mut texts = Vec::new();
    while at < b.len() {
        let mut take = |n: usize| {
            at += n;
            &b[at - n..at]
        };
        let u32_ = |s: &[u8]| u32::from_le_bytes(s.try_into().unwrap());
        let u64_ = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap());
        let file = u32_(take(4)) as usize;
        let offset = u64_(take(8));
        let len = u32_(take(4)) as usize;
        let n = u32_(take(4)) as usize;
        let source = String::from_utf8(take(n).to_vec()).unwrap();
        let mut fp = Fingerprinted {
            fp: Fingerprint {
                primary: u64_(take(8)),
                more: None,
                exact: [u64_(take(8)), u64_(take(8))],
                chars: u32_(take(4)),
            },
            signature: Default::default(),
        };
        fp.signature.0.copy_from_slice(take(256));
        texts.push(Text {
            file,
            offset,
            len,
            source,
            fp,
        });
    }
    texts
}

/// User + system CPU seconds of this process so far.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = PathBuf::from(
        args.first()
            .expect("usage: dedup_jsonl OUTPUT_DIR [THREADS]"),
    );
    let threads: usize = args.get(1).map_or(2, |t| t.parse().expect("THREADS"));
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .expect("a thread pool");
    let mut rules = Rules::builtin();
    let env = |k: &str| std::env::var(k).ok().map(|v| v.parse::<usize>().expect(k));
    if let Some(n) = env("MAX_BUCKET") {
        rules.dedup.limits.max_bucket = n;
    }
    if let Some(n) = env("LEADERS") {
        rules.dedup.limits.leaders = n;
    }
    let d = &rules.dedup;
    let files: Vec<PathBuf> = ["articles.jsonl", "dropped.jsonl"]
        .iter()
        .map(|n| dir.join(n))
        .filter(|p| Path::exists(p))
        .collect();
    let t = Instant::now();
    let cache = std::env::var_os("FP_CACHE").map(PathBuf::from);
    let texts = match cache.as_deref().filter(|c| c.exists()) {
        Some(c) => load_cache(c),
        None => {
            let texts = read_all(&files, d);
            if let Some(c) = &cache {
                save_cache(c, &texts);
            }
            texts
        }
    };
    eprintln!(
        "fingerprinted {} articles in {:.2?}",
        texts.len(),
        t.elapsed()
    );
    let handles: Vec<File> = files
        .iter()
        .map(|p| File::open(p).expect("readable"))
        .collect();
    let items: Vec<Item> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| Item {
            fp: t.fp.fp.clone(),
            sig: &t.fp.signature,
            replacements: 0,
            order: i as u32,
            pinned: false,
        })
        .collect();
    let loads = std::sync::atomic::AtomicUsize::new(0);
    let loaded: Vec<std::sync::atomic::AtomicBool> =
        (0..texts.len()).map(|_| Default::default()).collect();
    let shingles = |i: u32| {
        loads.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        loaded[i as usize].store(true, std::sync::atomic::Ordering::Relaxed);
        let t = &texts[i as usize];
        let mut buf = vec![0u8; t.len];
        handles[t.file].read_exact_at(&mut buf, t.offset)?;
        let l: Line = serde_json::from_slice(&buf).map_err(std::io::Error::other)?;
        Ok::<_, std::io::Error>(shingle_set(
            &normalize_with(&l.text, &d.normalize),
            d.shingle_chars,
        ))
    };
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let will_need = |i: u32| {
        let t = &texts[i as usize];
        pagesieve::fadvise::will_need(&handles[t.file], t.offset, t.len as u64);
    };
    let hint = std::env::var_os("NO_HINTS")
        .is_none()
        .then_some(&will_need as WillNeed<'_>);
    let (dups, stats) = deduplicate_with(&items, d, shingles, hint).expect("readable records");
    let wall = t.elapsed();
    eprintln!("dedup CPU {:.2} s", cpu_seconds() - cpu0);
    println!(
        "{} texts: {} duplicates, wall {:.2?} (candidates {:.2?}, verify {:.2?}), {:.1} µs a text",
        items.len(),
        dups.len(),
        wall,
        stats.candidate_time,
        stats.verify_time,
        wall.as_secs_f64() * 1e6 / items.len() as f64
    );
    println!(
        "{}",
        serde_json::to_string(&stats).expect("stats serialize")
    );
    let distinct = loaded
        .iter()
        .filter(|l| l.load(std::sync::atomic::Ordering::Relaxed))
        .count();
    println!(
        "texts read back: {} times, {distinct} distinct",
        loads.load(std::sync::atomic::Ordering::Relaxed)
    );
}
