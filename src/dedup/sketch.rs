//! Sketches: a 128-byte estimate of a text's shingle set, kept in memory next to the
//! fingerprints so that candidate pairs can be screened without reading any text back.
//!
//! The block index proposes every pair whose simhashes are close; on templated text many of
//! those pairs are unrelated (the 100k-page bench corpus gave several unrelated candidates
//! per planted copy). Verifying them exactly means reading both records back and building
//! both shingle sets, which dominated the dedup phase's time and memory. A sketch screens
//! them first: a pair goes on to exact verification only when the sketch estimate of its
//! Jaccard similarity is at least `min_similarity − dedup.sketch_margin`.
//!
//! The sketch is one-permutation MinHash (Li, Owen & Zhang 2012) with optimal densification
//! (Shrivastava 2017), stored with one bit per bin (b-bit MinHash, Li & König 2010): every
//! shingle is hashed once (the same xxh3 hash [`crate::dedup::shingle::shingle_set`] uses,
//! so it estimates exactly the similarity that verification computes), the top 10 bits
//! choose one of 1024 bins, each bin keeps the smallest hash it saw, and the lowest bit of
//! that minimum is stored. Empty bins (texts with fewer shingles than bins) borrow the
//! value of a non-empty bin chosen by a hash sequence that depends only on the bin, so two
//! texts borrow alike. For a fixed 128 bytes, 1024 one-bit bins estimate a similarity near
//! 0.5 better than 128 full bytes (standard deviation √((1−J²)/1024) ≈ 0.027 at J = 0.5,
//! against √(J(1−J)/128) ≈ 0.044), and comparing two sketches is 16 popcounts.
//!
//! The default margin of 0.05 is 1.85 standard deviations at the threshold: a pair at
//! exactly `min_similarity` is screened out ~3% of the time, a pair 0.05 above it about
//! once in ten thousand. A wider margin (0.1) sent 3.1M unrelated templated pairs with a
//! similarity near 0.4 to exact verification on the 1M-page bench corpus, which then
//! dominated the run; on the 100k corpus the output is identical with either. Screened pairs are counted in the report
//! (`dedup.articles.screened`).

use xxhash_rust::xxh3::xxh3_64;

use crate::dedup::shingle::shingles;

/// Number of bins in a sketch (one bit each).
pub const SKETCH_BINS: usize = 1024;

/// A 1-bit one-permutation MinHash sketch of a text's shingle set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sketch(pub [u64; SKETCH_BINS / 64]);

impl std::fmt::Debug for Sketch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sketch({:016x}…)", self.0[0])
    }
}

impl Default for Sketch {
    fn default() -> Self {
        Sketch([0; SKETCH_BINS / 64])
    }
}

/// Sketches a normalized text's `n`-character shingles.
pub fn sketch(norm: &str, n: usize) -> Sketch {
    const SHIFT: u32 = 64 - SKETCH_BINS.trailing_zeros();
    let mut mins = [u64::MAX; SKETCH_BINS];
    let mut any = false;
    for s in shingles(norm, n) {
        let h = xxh3_64(s.as_bytes());
        let bin = (h >> SHIFT) as usize;
        let v = h & ((1 << SHIFT) - 1);
        if v < mins[bin] {
            mins[bin] = v;
        }
        any = true;
    }
    let mut out = Sketch::default();
    if !any {
        return out;
    }
    for i in 0..SKETCH_BINS {
        let mut j = i;
        let mut attempt = 0u64;
        while mins[j] == u64::MAX {
            attempt += 1;
            j = (splitmix(((i as u64) << 32) | attempt) >> SHIFT) as usize;
        }
        // The bin's own minimum, or the borrowed one remixed with the bin index so that
        // bins borrowing from the same source do not all agree by construction.
        let bit = if j == i {
            mins[i] & 1
        } else {
            splitmix(mins[j] ^ ((i as u64) << SHIFT)) & 1
        };
        out.0[i / 64] |= bit << (i % 64);
    }
    out
}

/// Estimated Jaccard similarity of the two shingle sets: a bin agrees with probability
/// `J + (1 − J)/2`, so `J ≈ 2·agreeing/bins − 1`.
pub fn estimate(a: &Sketch, b: &Sketch) -> f64 {
    let differ: u32 =
        a.0.iter()
            .zip(&b.0)
            .map(|(x, y)| (x ^ y).count_ones())
            .sum();
    let agree = SKETCH_BINS as f64 - differ as f64;
    (2.0 * agree / SKETCH_BINS as f64 - 1.0).clamp(0.0, 1.0)
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::shingle::{jaccard, normalize, shingle_set};
    use crate::synth::Rng;

    fn text(rng: &mut Rng, len: usize) -> String {
        let alphabet: Vec<char> = "医保个人账户门诊住院报销比例异地就医备案缴费年限职工居民药店"
            .chars()
            .collect();
        (0..len).map(|_| *rng.pick(&alphabet)).collect()
    }

    /// Edits a fraction of the characters of `t`.
    fn edit(rng: &mut Rng, t: &str, frac: f64) -> String {
        let mut cs: Vec<char> = t.chars().collect();
        let n = (cs.len() as f64 * frac) as usize;
        for _ in 0..n {
            let i = rng.below(cs.len());
            cs[i] = '改';
        }
        cs.into_iter().collect()
    }

    #[test]
    fn identical_texts_estimate_one_and_empty_texts_agree() {
        let mut rng = Rng::new(1);
        let t = normalize(&text(&mut rng, 800));
        assert_eq!(estimate(&sketch(&t, 4), &sketch(&t, 4)), 1.0);
        assert_eq!(estimate(&sketch("", 4), &sketch("", 4)), 1.0);
        // One shingle only: every bin is densified from the same value.
        assert_eq!(estimate(&sketch("医保", 4), &sketch("医保", 4)), 1.0);
    }

    /// The estimate tracks the exact Jaccard similarity that verification computes, within
    /// the stated error, across lengths (short texts exercise densification) and edit rates.
    #[test]
    fn estimate_tracks_exact_jaccard() {
        let mut rng = Rng::new(2024);
        let mut worst: f64 = 0.0;
        for len in [30usize, 80, 200, 600, 2000, 6000] {
            for frac in [0.0, 0.02, 0.05, 0.1, 0.2, 0.4] {
                for _ in 0..10 {
                    let a = normalize(&text(&mut rng, len));
                    let b = normalize(&edit(&mut rng, &a, frac));
                    let exact = jaccard(&shingle_set(&a, 4), &shingle_set(&b, 4));
                    let est = estimate(&sketch(&a, 4), &sketch(&b, 4));
                    worst = worst.max((est - exact).abs());
                }
            }
        }
        // 360 pairs, every error well within 0.1 (3.7 standard deviations).
        assert!(worst < 0.1, "worst error {worst}");
    }

    #[test]
    fn unrelated_texts_estimate_low() {
        let mut rng = Rng::new(5);
        for _ in 0..50 {
            let a = normalize(&text(&mut rng, 1500));
            let b = normalize(&text(&mut rng, 1500));
            let exact = jaccard(&shingle_set(&a, 4), &shingle_set(&b, 4));
            let est = estimate(&sketch(&a, 4), &sketch(&b, 4));
            assert!(est < exact + 0.1, "est {est} exact {exact}");
        }
    }
}
