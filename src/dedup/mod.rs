//! Duplicate detection: features (shingle) → fingerprints and sketches (fingerprint,
//! sketch) → candidates (index) → screened, verified clusters (cluster), under one set of
//! [`DedupRules`].

pub mod cluster;
pub mod fingerprint;
pub mod index;
pub mod rules;
pub mod shingle;
pub mod sketch;

pub use cluster::{deduplicate, DedupStats, Duplicate, Item, MatchKind};
pub use fingerprint::{fingerprint, Fingerprint};
pub use rules::DedupRules;
