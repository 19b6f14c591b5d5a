//! Near-duplicate recall at every text length (the recall-curve bench, smaller): planted
//! pairs from the seed pages' real text (read at run time; synthetic text alone, with a
//! notice, when `../shared/seeds` is absent) and synthetic text, by length bucket ×
//! true 4-gram Jaccard bucket, each deduplicated on its own with the default rules.
//!
//! Floors (issue "near-duplicate recall that holds at every text length"): recall ≥ 0.99
//! in every cell with Jaccard ≥ 0.6 and ≥ 0.95 for 0.5–0.6; precision ≥ 0.995; no hard
//! negative merged.

mod common;

use pagesieve::Rules;
use pagesieve_eval::recall::{evaluate, make_pairs, Plan, RealText};

#[test]
fn recall_holds_at_every_length_and_similarity() {
    let rules = Rules::builtin();
    let real = match common::seeds() {
        Some(dir) => RealText::read(&dir, &rules),
        None => RealText::default(),
    };
    let plan = Plan {
        per_cell: 100,
        negatives: 400,
        seed: 2026,
    };
    let pairs = make_pairs(&real, &plan, &rules.dedup);
    let table = evaluate(&pairs, &rules.dedup);
    println!("{table}");
    for row in &table.cells {
        for c in row {
            assert!(
                c.total >= plan.per_cell * 9 / 10,
                "a cell was not filled:\n{table}"
            );
        }
    }
    if !real.paragraphs.is_empty() {
        assert!(table.real.total > 500, "real text was not used:\n{table}");
    }
    assert_eq!(table.misses_targets(), Vec::<String>::new(), "\n{table}");
    assert!(table.precision() >= 0.995, "{table}");
    assert_eq!(table.negatives.found, 0, "{table}");
    assert!(table.negatives.total >= plan.negatives, "{table}");
}
