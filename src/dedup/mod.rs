//! Duplicate detection: features (shingle) → fingerprints and sketches (fingerprint,
//! sketch) → candidates (index) → screened, verified clusters (cluster).

pub mod cluster;
pub mod fingerprint;
pub mod index;
pub mod shingle;
pub mod sketch;

pub use cluster::{deduplicate, DedupStats, Drop, Item, MatchKind};
pub use fingerprint::{fingerprint, Fingerprint};
