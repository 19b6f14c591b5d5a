//! How far apart *unrelated* texts are in simhash space: the mean Hamming distance, the
//! number of pairs within 3 bits, and how balanced the 64 bits are, with term-frequency
//! weights (what pagesieve uses) and with set semantics, for several feature hashes.
//!
//! ```sh
//! cargo run --release --example fp_spread -- seeds DIR   # distinct related snippets of real pages
//! cargo run --release --example fp_spread -- synth DIR   # 'original' pages of a synth corpus
//! ```

use std::collections::HashSet;
use std::path::Path;

use pagesieve::dedup::fingerprint::feature_hash;
use pagesieve::dedup::shingle::{normalize, shingles};
use pagesieve::ingest::InputFile;
use pagesieve::scan::{scan_file, Outcome};
use pagesieve_eval::quality::read_labels;

/// A feature hash.
type FeatureHash<'a> = &'a dyn Fn(&str) -> u64;

fn simhash(norm: &str, set: bool, f: FeatureHash) -> u64 {
    let mut c = [0u32; 64];
    let mut n = 0u64;
    let mut seen = HashSet::new();
    for s in shingles(norm, 2) {
        if set && !seen.insert(s) {
            continue;
        }
        let h = f(s);
        for (i, ci) in c.iter_mut().enumerate() {
            *ci += ((h >> i) & 1) as u32;
        }
        n += 1;
    }
    (0..64)
        .filter(|&i| 2 * c[i] as u64 > n)
        .fold(0, |o, i| o | 1 << i)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, dir) = match &args[..] {
        [m, d] => (m.as_str(), Path::new(d)),
        _ => panic!("usage: fp_spread seeds|synth DIR"),
    };
    let c = pagesieve::Rules::builtin();
    let scan = |p: &Path| {
        scan_file(
            &InputFile {
                path: p.to_path_buf(),
                source: p.display().to_string(),
                walk_error: None,
            },
            &c,
        )
    };
    let mut texts: Vec<String> = Vec::new();
    if mode == "seeds" {
        for e in std::fs::read_dir(dir).unwrap() {
            for s in scan(&e.unwrap().path()).snippets {
                texts.push(normalize(&s.block.text));
            }
        }
    } else {
        for l in read_labels(dir)
            .unwrap()
            .iter()
            .filter(|l| l.role == "original")
            .take(800)
        {
            if let Outcome::Article(a, _) = scan(&dir.join(&l.source)).outcome {
                texts.push(normalize(&a.text));
            }
        }
    }
    texts.sort();
    texts.dedup();
    println!("{} unrelated texts ({mode}), bigram features", texts.len());
    let hashes: [(&str, FeatureHash); 3] = [
        ("siphash", &|s| feature_hash(s)),
        ("siphash+salt", &|s| feature_hash(&format!("\u{1}{s}"))),
        ("xxh3", &|s| xxhash_rust::xxh3::xxh3_64(s.as_bytes())),
    ];
    for set in [false, true] {
        for (name, f) in &hashes {
            let fps: Vec<u64> = texts.iter().map(|t| simhash(t, set, *f)).collect();
            let (mut sum, mut pairs, mut within3) = (0u64, 0u64, 0u64);
            for i in 0..fps.len() {
                for j in i + 1..fps.len() {
                    let d = (fps[i] ^ fps[j]).count_ones() as u64;
                    sum += d;
                    pairs += 1;
                    within3 += u64::from(d <= 3);
                }
            }
            let ones: Vec<usize> = (0..64)
                .map(|b| fps.iter().filter(|f| (*f >> b) & 1 == 1).count())
                .collect();
            println!(
                "  {:4} {name:13} mean distance {:5.1}  pairs within 3: {within3:4} of {pairs}  \
                 bit set on {}..{} of {} texts",
                if set { "set" } else { "tf" },
                sum as f64 / pairs as f64,
                ones.iter().min().unwrap(),
                ones.iter().max().unwrap(),
                fps.len()
            );
        }
    }
}
