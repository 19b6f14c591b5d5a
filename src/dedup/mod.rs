//! Duplicate detection: features (shingle) → fingerprints (fingerprint) → candidates (index)
//! → verified clusters (cluster).

pub mod cluster;
pub mod fingerprint;
pub mod index;
pub mod shingle;

pub use cluster::{deduplicate, DedupStats, Drop, Item, MatchKind};
pub use fingerprint::{fingerprint, Fingerprint};
