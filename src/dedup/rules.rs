//! The duplicate search's rules, made once from `[dedup]`: what every fingerprint,
//! candidate search and verification of a run agrees on.

use crate::config::{DedupConfig, NormalizeConfig, MAX_FINGERPRINTS};

/// `[dedup]`, validated, with what is derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupRules {
    /// Characters per verification shingle (`dedup.shingle_chars`).
    pub shingle_chars: usize,
    /// Characters per simhash feature (`dedup.fingerprint_chars`).
    pub fingerprint_chars: usize,
    /// Simhash fingerprints per text, 1 ..= [`MAX_FINGERPRINTS`].
    pub fingerprints: usize,
    /// Candidate distance, inclusive (`dedup.max_hamming`).
    pub max_hamming: u32,
    /// Verification threshold, inclusive (`dedup.min_similarity`).
    pub min_similarity: f64,
    /// Sketch estimates below this are screened out: `min_similarity − sketch_margin`.
    pub screen_floor: f64,
    /// Shorter normalized texts are only deduplicated exactly (`dedup.min_chars_near`).
    pub min_chars_near: usize,
    /// How texts are normalized before any decision.
    pub normalize: NormalizeConfig,
}

impl DedupRules {
    /// The rules of a validated `[dedup]` section.
    pub fn new(c: &DedupConfig) -> DedupRules {
        DedupRules {
            shingle_chars: c.shingle_chars,
            fingerprint_chars: c.fingerprint_chars,
            fingerprints: c.fingerprints.clamp(1, MAX_FINGERPRINTS),
            max_hamming: c.max_hamming,
            min_similarity: c.min_similarity,
            screen_floor: c.min_similarity - c.sketch_margin,
            min_chars_near: c.min_chars_near,
            normalize: c.normalize.clone(),
        }
    }
}

impl Default for DedupRules {
    fn default() -> Self {
        DedupRules::new(&DedupConfig::default())
    }
}
