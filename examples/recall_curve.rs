//! The recall-curve bench: planted near duplicates by length and true similarity, from the
//! seed pages' real text (read at run time) and synthetic text, through the duplicate
//! search on their own; prints the recall table of the default configuration and of the
//! earlier one (four bigram simhashes within 3 bits), and writes the pairs for the peers.
//!
//! cargo run --release --example recall_curve -- [--per-cell 200] [--negatives 1000]
//!     [--seed 7] [--seeds ../shared/seeds] [--pairs target/bench/recall-pairs.jsonl]

use std::io::Write;
use std::path::PathBuf;

use pagesieve::config::{DedupConfig, Generator};
use pagesieve::dedup::DedupRules;
use pagesieve::Rules;
use pagesieve_eval::recall::{evaluate, make_pairs, Plan, RealText};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |name: &str, default: &str| -> String {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
            .unwrap_or_else(|| default.to_string())
    };
    let plan = Plan {
        per_cell: arg("--per-cell", "200").parse().expect("--per-cell N"),
        negatives: arg("--negatives", "1000").parse().expect("--negatives N"),
        seed: arg("--seed", "7").parse().expect("--seed S"),
    };
    let rules = Rules::builtin();
    let real = RealText::read(&PathBuf::from(arg("--seeds", "../shared/seeds")), &rules);
    eprintln!(
        "real text: {} answer paragraphs, {} snippet texts",
        real.paragraphs.len(),
        real.snippets.len()
    );
    let t = std::time::Instant::now();
    let pairs = make_pairs(&real, &plan, &rules.dedup);
    eprintln!("{} pairs made in {:?}", pairs.len(), t.elapsed());
    let out = PathBuf::from(arg("--pairs", "target/bench/recall-pairs.jsonl"));
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).expect("create the pairs folder");
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&out).expect("create pairs file"));
    for p in &pairs {
        serde_json::to_writer(&mut f, p).expect("write pair");
        f.write_all(b"\n").expect("write pair");
    }
    f.flush().expect("write pairs");
    eprintln!("pairs written to {}", out.display());

    let configs: [(&str, DedupRules); 3] = [
        (
            "pagesieve default: MinHash LSH, 64 bands × 4 rows",
            rules.dedup.clone(),
        ),
        (
            "LSH and simhash (one bigram simhash within 3 bits)",
            DedupRules::new(&DedupConfig {
                candidates: vec![Generator::Lsh, Generator::Simhash],
                ..DedupConfig::default()
            }),
        ),
        (
            "earlier default: four bigram simhashes within 3 bits, no LSH",
            DedupRules::new(&DedupConfig {
                candidates: vec![Generator::Simhash],
                fingerprints: 4,
                ..DedupConfig::default()
            }),
        ),
    ];
    for (name, d) in configs {
        let t = std::time::Instant::now();
        let table = evaluate(&pairs, &d);
        println!("### {name}\n\n{table}");
        println!(
            "proposed by LSH: {}, by simhash: {}; evaluated in {:?}\n",
            table.by_generator.0,
            table.by_generator.1,
            t.elapsed()
        );
        for m in table.misses_targets() {
            println!("- below target: {m}");
        }
        println!();
    }
}
