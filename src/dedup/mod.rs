//! Duplicate detection, as stages with plain data between them:
//!
//! | stage | module | takes | gives |
//! |---|---|---|---|
//! | signatures | [`fingerprint`](mod@fingerprint), [`minhash`], [`shingle`] | a text | [`Fingerprint`] (exact hash, simhashes, MinHash signature, length) |
//! | items | [`source`] | where the texts lie | [`Item`]s, stage by stage |
//! | exact groups | [`exact`] | [`Item`]s | [`exact::ExactGroups`]: representatives, exact drops |
//! | candidate keys | [`lsh`] (band keys), [`index`] (simhash blocks) | signatures | sorted `(key, item)` tables |
//! | pairs per key group | [`buckets`], [`lsh`], [`candidates`] (over the copies [`gather`] makes) | one sorted table | screened [`candidates::Candidate`] pairs |
//! | components | [`components`] | candidate pairs | [`components::Component`]s |
//! | verification | [`verify`] | a component's pairs and shingle sets | verified pairs |
//! | clusters | [`clusters`], [`order`], [`keep`] | verified pairs | [`Duplicate`]s (stars, keep policy) |
//!
//! [`search`] composes them for one machine ([`deduplicate`]); [`probe`] picks the items
//! earlier runs kept that can meet tonight's. Every stage runs under one set of
//! [`DedupRules`].

pub mod buckets;
pub mod candidates;
pub mod clusters;
pub mod columns;
pub mod components;
pub mod exact;
pub mod fingerprint;
pub mod gather;
pub mod index;
pub mod keep;
pub mod lsh;
pub mod minhash;
pub mod order;
pub mod partition;
pub mod pass;
pub mod probe;
pub mod queue;
pub mod rules;
pub mod search;
pub mod shingle;
pub mod source;
pub mod types;
pub mod union_find;
pub mod verify;
pub mod verify_parts;

pub use fingerprint::{fingerprint, Fingerprint, Fingerprinted};
pub use rules::DedupRules;
pub use search::{
    deduplicate, deduplicate_using, deduplicate_with, CandidateHook, Outcome, Stages, VerifyHook,
    VerifyJob,
};
pub use types::{DedupStats, Duplicate, GeneratorCounts, Item, MatchKind, Proposers};

/// Simhashes a fingerprint holds besides the primary one (boxed, when configured).
pub const MAX_FINGERPRINTS_EXTRA: usize = crate::config::MAX_FINGERPRINTS - 1;

/// Deduplicates `texts` the way a run deduplicates article bodies (exact groups, candidate
/// search, signature screen, exact Jaccard verification, star clusters, the keep policy);
/// item `i` is text `i`, in input order. What the Python package's `dedup` calls.
pub fn deduplicate_texts(texts: &[&str], rules: &DedupRules) -> (Vec<Duplicate>, DedupStats) {
    use rayon::prelude::*;
    let fps: Vec<Fingerprinted> = texts.par_iter().map(|t| fingerprint(t, rules)).collect();
    let items: Vec<Item> = fps
        .iter()
        .enumerate()
        .map(|(i, f)| Item {
            fp: f.fp.clone(),
            sig: &f.signature,
            replacements: texts[i].matches('\u{FFFD}').count() as u32,
            order: i as u32,
            pinned: false,
        })
        .collect();
    let shingles = |i: u32| -> Result<Vec<u64>, std::convert::Infallible> {
        let norm = shingle::normalize_with(texts[i as usize], &rules.normalize);
        Ok(shingle::shingle_set(&norm, rules.shingle_chars))
    };
    match deduplicate(&items[..], rules, shingles) {
        Ok(r) => r,
        Err(never) => match never {},
    }
}
