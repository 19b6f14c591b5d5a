//! Fingerprints: a 64-bit simhash over the shingles (Charikar's random-hyperplane sketch,
//! computed with the `simhash` crate's `simhash_stream`) and a 128-bit strong hash of the
//! normalized text for exact grouping.

use xxhash_rust::xxh3::xxh3_128;

use crate::dedup::shingle::{normalize, shingles};

/// What duplicate detection keeps in memory for one text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    /// Simhash of the shingles.
    pub simhash: u64,
    /// xxh3-128 of the normalized text: equal means an exact duplicate.
    pub exact: u128,
    /// Length of the normalized text in characters.
    pub chars: u32,
}

/// Fingerprints a text.
pub fn fingerprint(text: &str, shingle_chars: usize) -> Fingerprint {
    let norm = normalize(text);
    fingerprint_normalized(&norm, shingle_chars)
}

/// Fingerprints an already normalized text.
pub fn fingerprint_normalized(norm: &str, shingle_chars: usize) -> Fingerprint {
    Fingerprint {
        simhash: simhash::simhash_stream(shingles(norm, shingle_chars)),
        exact: xxh3_128(norm.as_bytes()),
        chars: norm.chars().count().min(u32::MAX as usize) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_after_normalization_means_exact() {
        let a = fingerprint("医保个人账户可以在门诊使用，也可以在药店购药。", 4);
        let b = fingerprint("医保个人账户 可以在门诊使用, 也可以在药店购药", 4);
        assert_eq!(a.exact, b.exact);
        assert_eq!(a.simhash, b.simhash);
        let c = fingerprint("医保个人账户可以在门诊使用，不可以在药店购药。", 4);
        assert_ne!(a.exact, c.exact);
        assert!((a.simhash ^ c.simhash).count_ones() < 32);
    }
}
