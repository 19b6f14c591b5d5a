//! Duplicate detection: features (shingle) → fingerprints and signatures (fingerprint,
//! minhash) → candidates (lsh, and optionally index, both over bounded buckets) →
//! screened, verified clusters (cluster), under one set of [`DedupRules`].

pub mod buckets;
pub mod cluster;
pub mod fingerprint;
pub mod index;
pub mod keep;
pub mod lsh;
pub mod minhash;
pub mod probe;
pub mod queue;
pub mod rules;
pub mod shingle;

pub use cluster::{
    deduplicate, deduplicate_with, DedupStats, Duplicate, Item, MatchKind, Proposers,
};
pub use fingerprint::{fingerprint, Fingerprint};
pub use rules::DedupRules;

/// Simhashes a fingerprint holds besides the primary one (boxed, when configured).
pub const MAX_FINGERPRINTS_EXTRA: usize = crate::config::MAX_FINGERPRINTS - 1;

/// Deduplicates `texts` the way a run deduplicates article bodies (exact groups, candidate
/// search, signature screen, exact Jaccard verification, star clusters, the keep policy);
/// item `i` is text `i`, in input order. What the Python package's `dedup` calls.
pub fn deduplicate_texts(texts: &[&str], rules: &DedupRules) -> (Vec<Duplicate>, DedupStats) {
    use rayon::prelude::*;
    let fps: Vec<Fingerprint> = texts.par_iter().map(|t| fingerprint(t, rules)).collect();
    let items: Vec<Item> = fps
        .iter()
        .enumerate()
        .map(|(i, fp)| Item {
            fp,
            replacements: texts[i].matches('\u{FFFD}').count() as u32,
            order: i as u32,
            pinned: false,
        })
        .collect();
    let shingles = |i: u32| -> Result<Vec<u64>, std::convert::Infallible> {
        let norm = shingle::normalize_with(texts[i as usize], &rules.normalize);
        Ok(shingle::shingle_set(&norm, rules.shingle_chars))
    };
    match deduplicate(&items, rules, shingles) {
        Ok(r) => r,
        Err(never) => match never {},
    }
}
