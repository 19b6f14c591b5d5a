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
pub mod rules;
pub mod shingle;

pub use cluster::{deduplicate, DedupStats, Duplicate, Item, MatchKind, Proposers};
pub use fingerprint::{fingerprint, Fingerprint};
pub use rules::DedupRules;

/// Simhashes a fingerprint holds besides the primary one (boxed, when configured).
pub const MAX_FINGERPRINTS_EXTRA: usize = crate::config::MAX_FINGERPRINTS - 1;
