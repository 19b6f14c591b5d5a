//! Diagnostic behind the dedup design (docs/ARCHITECTURE.md): for every labelled pair of a
//! synthetic corpus, the simhash Hamming distance and shingle Jaccard similarity per tier and
//! shingle size, and the recall of "any of F fingerprints within k" with the share of
//! unrelated pairs it makes candidates.
//!
//! ```sh
//! cargo run --release -- synth --pages 3000 --seed 11 --out /tmp/q3000
//! cargo run --release --example tier_stats -- /tmp/q3000
//! ```

use std::collections::HashMap;
use std::path::Path;

use pagesieve::dedup::fingerprint::{fingerprint_normalized, Fingerprint};
use pagesieve::dedup::shingle::{jaccard, normalize, shingle_set};
use pagesieve::ingest::InputFile;
use pagesieve::scan::{scan_file, Outcome};
use pagesieve_eval::quality::read_labels;

fn quantile<T: Copy>(sorted: &[T], p: f64) -> T {
    sorted[((sorted.len() - 1) as f64 * p) as usize]
}

fn main() {
    let dir = std::env::args().nth(1).expect("usage: tier_stats DIR");
    let dir = Path::new(&dir);
    let c = pagesieve::Rules::builtin();
    let labels = read_labels(dir).expect("DIR/.labels.jsonl");
    let mut text: HashMap<String, String> = HashMap::new();
    for l in &labels {
        let f = InputFile {
            path: dir.join(&l.source),
            source: l.source.clone(),
            walk_error: None,
        };
        if let Outcome::Article(a, _) = scan_file(&f, &c).outcome {
            text.insert(l.source.clone(), normalize(&a.text));
        }
    }
    let pairs: Vec<(&str, &String, &String)> = labels
        .iter()
        .filter_map(|l| {
            let base = l.base.as_ref()?;
            Some((l.role.as_str(), text.get(&l.source)?, text.get(base)?))
        })
        .collect();

    println!("Distance of planted pairs (fingerprint 0) and Jaccard, by shingle size:");
    for n in [2usize, 3, 4, 5] {
        println!("shingle_chars = {n}");
        for tier in ["exact", "near_a", "near_b", "negative"] {
            let mut hs = Vec::new();
            let mut js = Vec::new();
            for (_, a, b) in pairs.iter().filter(|p| p.0 == tier) {
                let (fa, fb) = (
                    fingerprint_normalized(a, n, 1),
                    fingerprint_normalized(b, n, 1),
                );
                hs.push((fa.primary() ^ fb.primary()).count_ones());
                js.push(jaccard(&shingle_set(a, n), &shingle_set(b, n)));
            }
            if hs.is_empty() {
                continue;
            }
            hs.sort_unstable();
            js.sort_by(f64::total_cmp);
            println!(
                "  {tier:9} n={:4} hamming p50={:2} p90={:2} p98={:2} max={:2} | jaccard min={:.3} p02={:.3} p50={:.3} max={:.3}",
                hs.len(),
                quantile(&hs, 0.5),
                quantile(&hs, 0.9),
                quantile(&hs, 0.98),
                hs[hs.len() - 1],
                js[0],
                quantile(&js, 0.02),
                quantile(&js, 0.5),
                js[js.len() - 1]
            );
        }
    }

    println!("\nRecall of 'any of F fingerprints within k', and unrelated candidate pairs:");
    let originals: Vec<&String> = labels
        .iter()
        .filter(|l| l.role == "original")
        .filter_map(|l| text.get(&l.source))
        .take(800)
        .collect();
    for n in [2usize, 3] {
        let orig: Vec<Fingerprint> = originals
            .iter()
            .map(|t| fingerprint_normalized(t, n, 4))
            .collect();
        let fp: Vec<(&str, Fingerprint, Fingerprint)> = pairs
            .iter()
            .map(|(t, a, b)| {
                (
                    *t,
                    fingerprint_normalized(a, n, 4),
                    fingerprint_normalized(b, n, 4),
                )
            })
            .collect();
        for f in 1..=4usize {
            for k in [3u32, 4] {
                let within = |x: &Fingerprint, y: &Fingerprint| {
                    (0..f).any(|i| (x.simhash(i) ^ y.simhash(i)).count_ones() <= k)
                };
                let mut line = format!("n={n} F={f} k={k}:");
                for tier in ["near_a", "near_b", "negative"] {
                    let v: Vec<_> = fp.iter().filter(|p| p.0 == tier).collect();
                    let hit = v.iter().filter(|p| within(&p.1, &p.2)).count();
                    line += &format!(" {tier} {hit}/{}", v.len());
                }
                let (mut cand, mut total) = (0u64, 0u64);
                for i in 0..orig.len() {
                    for j in i + 1..orig.len() {
                        total += 1;
                        cand += u64::from(within(&orig[i], &orig[j]));
                    }
                }
                println!("{line} | unrelated candidates {cand}/{total}");
            }
        }
        // Mean distance over all four fingerprints: true copies against unrelated pairs
        // that one fingerprint made candidates.
        let mean = |x: &Fingerprint, y: &Fingerprint| {
            (0..4)
                .map(|i| (x.simhash(i) ^ y.simhash(i)).count_ones())
                .sum::<u32>() as f64
                / 4.0
        };
        for tier in ["near_a", "near_b"] {
            let mut v: Vec<f64> = fp
                .iter()
                .filter(|p| p.0 == tier)
                .map(|p| mean(&p.1, &p.2))
                .collect();
            v.sort_by(f64::total_cmp);
            if !v.is_empty() {
                println!(
                    "n={n} {tier}: mean distance over 4 fingerprints p50={:.2} p98={:.2} max={:.2}",
                    quantile(&v, 0.5),
                    quantile(&v, 0.98),
                    v[v.len() - 1]
                );
            }
        }
        let mut u: Vec<f64> = Vec::new();
        for i in 0..orig.len() {
            for j in i + 1..orig.len() {
                if (0..4).any(|x| (orig[i].simhash(x) ^ orig[j].simhash(x)).count_ones() <= 3) {
                    u.push(mean(&orig[i], &orig[j]));
                }
            }
        }
        u.sort_by(f64::total_cmp);
        if !u.is_empty() {
            println!(
                "n={n} unrelated candidates: mean distance over 4 fingerprints min={:.2} p02={:.2} p50={:.2}",
                u[0],
                quantile(&u, 0.02),
                quantile(&u, 0.5)
            );
        }
    }
}
