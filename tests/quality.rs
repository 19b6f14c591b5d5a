//! Duplicate-detection quality on a labelled synthetic corpus (our own text, made by
//! `pagesieve synth`): the targets of the dedup issue, asserted.
//!
//! Tiers: exact (same body, other boilerplate/related list/encoding), A (spacing and
//! punctuation, ≤ 1% characters edited, one sentence added or removed), B (2–5% characters
//! edited, or one paragraph of four or more dropped), and hard negatives (a different article
//! sharing one paragraph). The figures are printed; docs/ARCHITECTURE.md records them.

mod common;

use pagesieve::synth::{generate, Options};
use pagesieve_eval::quality::{clusters_from_output, read_labels, score};

#[test]
fn planted_duplicates_are_found_and_hard_negatives_are_not() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    let out = d.path().join("out");
    generate(
        &Options {
            pages: 3000,
            seed: 2024,
            sample: false,
            shape: Default::default(),
            encodings: Default::default(),
        },
        &input,
    )
    .unwrap();
    common::run_ok(&input, &out, &[]);
    common::assert_invariant(&out);
    let q = score(
        &read_labels(&input).unwrap(),
        &clusters_from_output(&out).unwrap(),
    );
    println!("{}", serde_json::to_string_pretty(&q).unwrap());
    let recall = |t: &str| q.tiers.iter().find(|x| x.tier == t).unwrap();
    for t in ["exact", "near_a", "near_b"] {
        assert!(recall(t).pairs >= 100, "too few {t} pairs planted: {q:?}");
    }
    assert!(q.negatives >= 50, "{q:?}");
    assert_eq!(recall("exact").recall, 1.0, "{q:?}");
    assert!(recall("near_a").recall >= 0.98, "{q:?}");
    assert!(recall("near_b").recall >= 0.90, "{q:?}");
    assert!(q.precision >= 0.99, "{q:?}");
    assert_eq!(q.negatives_merged, 0, "{q:?}");
}
