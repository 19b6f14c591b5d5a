//! The duplicate search's rules, made once from `[dedup]`: what every fingerprint,
//! candidate search and verification of a run agrees on.

use crate::config::{DedupConfig, Generator, NormalizeConfig, MAX_FINGERPRINTS};
use crate::dedup::buckets::Limits;
use crate::dedup::lsh::Bands;
use crate::dedup::minhash::screen_margin;

/// `[dedup]`, validated, with what is derived from it.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupRules {
    /// Characters per verification shingle (`dedup.shingle_chars`).
    pub shingle_chars: usize,
    /// The LSH banding, when `lsh` is a generator.
    pub lsh: Option<Bands>,
    /// Whether `simhash` is a generator.
    pub simhash: bool,
    /// How dense buckets are handled.
    pub limits: Limits,
    /// Characters per simhash feature (`dedup.fingerprint_chars`).
    pub fingerprint_chars: usize,
    /// Simhash fingerprints per text, 1 ..= [`MAX_FINGERPRINTS`].
    pub fingerprints: usize,
    /// Candidate distance, inclusive (`dedup.max_hamming`).
    pub max_hamming: u32,
    /// Verification threshold, inclusive (`dedup.min_similarity`).
    pub min_similarity: f64,
    /// The screen's smallest margin below `min_similarity` (`dedup.sketch_margin`).
    pub sketch_margin: f64,
    /// Shorter normalized texts are only deduplicated exactly (`dedup.min_chars_near`).
    pub min_chars_near: usize,
    /// Which record of a group of duplicates is kept.
    pub keep: crate::config::KeepPolicy,
    /// How texts are normalized before any decision.
    pub normalize: NormalizeConfig,
}

impl DedupRules {
    /// The rules of a validated `[dedup]` section.
    pub fn new(c: &DedupConfig) -> DedupRules {
        DedupRules {
            shingle_chars: c.shingle_chars,
            lsh: c.candidates.contains(&Generator::Lsh).then_some(Bands {
                bands: c.lsh_bands,
                rows: c.lsh_rows,
            }),
            simhash: c.candidates.contains(&Generator::Simhash),
            limits: Limits {
                max_bucket: c.max_bucket,
                leaders: c.bucket_leaders,
            },
            fingerprint_chars: c.fingerprint_chars,
            fingerprints: c.fingerprints.clamp(1, MAX_FINGERPRINTS),
            max_hamming: c.max_hamming,
            min_similarity: c.min_similarity,
            sketch_margin: c.sketch_margin,
            min_chars_near: c.min_chars_near,
            keep: c.keep,
            normalize: c.normalize.clone(),
        }
    }
}

impl DedupRules {
    /// The lowest signature estimate a pair is verified at, when its shorter text has
    /// `chars` normalized characters.
    pub fn screen_floor(&self, chars: u32) -> f64 {
        let shingles = (chars as usize + 1)
            .saturating_sub(self.shingle_chars)
            .max(1);
        self.min_similarity - screen_margin(self.sketch_margin, shingles)
    }
}

impl Default for DedupRules {
    fn default() -> Self {
        DedupRules::new(&DedupConfig::default())
    }
}
