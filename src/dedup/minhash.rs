//! MinHash signatures: 256 bytes per text that both propose candidate pairs (LSH bands,
//! [`crate::dedup::lsh`]) and screen them (an estimate of their Jaccard similarity), with
//! no text read back.
//!
//! The signature is one-permutation MinHash (Li, Owen & Zhang 2012) with optimal
//! densification (Shrivastava 2017), stored as b-bit minima (Li & König 2010) of 8 bits:
//! every shingle is hashed once (xxh3, the same hash [`crate::dedup::shingle::shingle_set`]
//! gives the verifier, so the signature estimates exactly the similarity verification
//! computes), the hash's high half picks one of [`SIGNATURE_BINS`] bins, each bin keeps the
//! smallest low half it saw, and the lowest 8 bits of that minimum are stored. An empty bin
//! (a text with fewer shingles than bins) borrows the minimum of a non-empty bin chosen by a
//! probe sequence that depends only on the bin, so two texts borrow alike. Each bin of two
//! texts agrees with probability `J + (1 − J)/256`.
//!
//! * **Bands.** `lsh_bands × lsh_rows` consecutive bins form the bands; a band's `rows`
//!   bytes are its key. Two texts share a band with probability ≈ `J^rows`, so they are
//!   proposed with probability `1 − (1 − J^rows)^bands` — whatever their length
//!   (docs/ARCHITECTURE.md has the curve).
//! * **Screening.** [`estimate`] inverts the agreement rate over all bins: standard
//!   deviation ≈ √(J(1−J)/256) ≈ 0.031 at J = 0.5 when the shorter text fills the bins,
//!   more for a text with fewer shingles than bins (borrowed bins are copies); the screen's
//!   margin widens with it ([`screen_margin`]).

use xxhash_rust::xxh3::xxh3_64;

use crate::dedup::shingle::{shingles, CharStarts};

/// Bins in a signature (one byte each).
pub const SIGNATURE_BINS: usize = 256;

/// A text's MinHash signature.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub struct Signature(pub [u8; SIGNATURE_BINS]);

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signature({:02x?}…)", &self.0[..8])
    }
}

impl Default for Signature {
    fn default() -> Self {
        Signature([0; SIGNATURE_BINS])
    }
}

/// Signatures a sequential reader passes over between two [`release_read`]s (4 MB).
pub const RELEASE_EVERY: usize = 1 << 14;

/// The ranges `0..len` is passed over in, [`RELEASE_EVERY`] signatures each: what a
/// sequential reader hands back behind itself after each.
pub fn release_ranges(len: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..len)
        .step_by(RELEASE_EVERY)
        .map(move |from| from..(from + RELEASE_EVERY).min(len))
}

/// Drops from the resident set the pages of a mapped signature column that `read` point
/// into (the range from the lowest to the highest; signatures anywhere else are left
/// alone: [`crate::trim::release_read`] acts on registered shared file mappings only).
/// What a reader passing over a column in order calls behind itself every
/// [`RELEASE_EVERY`] signatures.
pub fn release_read(read: &[&Signature]) {
    let lo = read.iter().map(|s| s.0.as_ptr()).min();
    let hi = read.iter().map(|s| s.0.as_ptr_range().end).max();
    if let (Some(lo), Some(hi)) = (lo, hi) {
        crate::trim::release_read(lo, hi);
    }
}

/// The signatures of a search's texts by position: references (the in-process search
/// borrows each item's) or signatures laid end to end (a columns file, read in place: no
/// 8-byte reference a text, which in every partition task was 8 MB at a million texts).
#[derive(Debug, Clone, PartialEq)]
pub enum SigColumn<'a> {
    /// Each text's signature, wherever it lies.
    Refs(Vec<&'a Signature>),
    /// One after another.
    Laid(&'a [Signature]),
}

impl<'a> SigColumn<'a> {
    /// How many texts.
    pub fn len(&self) -> usize {
        match self {
            SigColumn::Refs(r) => r.len(),
            SigColumn::Laid(l) => l.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Text `i`'s signature.
    #[inline]
    pub fn get(&self, i: usize) -> &'a Signature {
        match self {
            SigColumn::Refs(r) => r[i],
            SigColumn::Laid(l) => &l[i],
        }
    }

    /// Hands back the pages of texts `from..to`'s signatures where they are pages of a
    /// mapped column ([`release_read`]).
    pub fn release(&self, from: usize, to: usize) {
        match self {
            SigColumn::Refs(r) => release_read(&r[from..to]),
            SigColumn::Laid(l) => {
                let l = &l[from..to];
                if let (Some(a), Some(b)) = (l.first(), l.last()) {
                    crate::trim::release_read(a.0.as_ptr(), b.0.as_ptr_range().end);
                }
            }
        }
    }
}

impl Signature {
    /// The signatures laid end to end in `b` (a whole number of them: the rest is
    /// ignored), read in place.
    pub fn slice_from_bytes(b: &[u8]) -> &[Signature] {
        // SAFETY: `Signature` is a transparent wrapper of a byte array (alignment 1), and
        // the slice covers whole signatures inside `b`.
        unsafe {
            std::slice::from_raw_parts(b.as_ptr().cast::<Signature>(), b.len() / SIGNATURE_BINS)
        }
    }

    /// The signature stored in these bytes (a segment's, read in place).
    pub fn from_bytes(b: &[u8; SIGNATURE_BINS]) -> &Signature {
        // SAFETY: `Signature` is a transparent wrapper of the array.
        unsafe { &*(b as *const [u8; SIGNATURE_BINS]).cast::<Signature>() }
    }

    /// The key of band `band` of `rows` bins: the bins' bytes, packed (hashed when
    /// `rows > 4`).
    #[inline(always)]
    pub fn band_key(&self, band: usize, rows: usize) -> u32 {
        let b = &self.0[band * rows..(band + 1) * rows];
        match rows {
            4 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            r if r < 4 => b.iter().fold(0u32, |k, &x| (k << 8) | u32::from(x)),
            _ => xxh3_64(b) as u32,
        }
    }
}

/// Asks the CPU to start loading `x` into its cache, so that a comparison a few steps
/// later does not wait for memory: at a million texts the signatures are ~256 MB, and a
/// bucket's members lie anywhere in them. A hint only; nothing where unsupported.
#[inline(always)]
pub fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = (x as *const T).cast::<i8>();
        let size = std::mem::size_of::<T>();
        // Every cache line `x` touches: one address in each, and its last byte.
        let lines = (0..size)
            .step_by(64)
            .chain(std::iter::once(size.saturating_sub(1)));
        for off in lines {
            // SAFETY: a prefetch never faults, whatever the address; these are in `x`.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.add(off)) }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// The bin of a shingle hash: its high half, scaled to the bin count.
#[inline]
fn bin_of(h: u64) -> usize {
    (((h >> 32) * SIGNATURE_BINS as u64) >> 32) as usize
}

/// Signs a normalized text's `n`-character shingles.
pub fn signature(norm: &str, n: usize) -> Signature {
    sign(shingles(norm, n).map(str::as_bytes))
}

/// [`signature`], with the shingles taken from the text's character boundaries.
pub fn signature_of(norm: &str, starts: &CharStarts, n: usize) -> Signature {
    sign(starts.shingles(norm, n))
}

/// The signature of these shingles.
fn sign<'a>(shingles: impl Iterator<Item = &'a [u8]>) -> Signature {
    let mut mins = [u32::MAX; SIGNATURE_BINS];
    let mut filled = [false; SIGNATURE_BINS];
    let mut any = false;
    for s in shingles {
        let h = xxh3_64(s);
        let bin = bin_of(h);
        let v = h as u32;
        if !filled[bin] || v < mins[bin] {
            mins[bin] = v;
            filled[bin] = true;
        }
        any = true;
    }
    let mut out = Signature::default();
    if !any {
        return out;
    }
    for i in 0..SIGNATURE_BINS {
        out.0[i] = if filled[i] {
            mins[i] as u8
        } else {
            // Borrow from the first non-empty bin of this bin's probe sequence, remixed
            // with the bin index so that bins borrowing from one source do not share a
            // byte by construction.
            let mut attempt = 0u64;
            let source = loop {
                attempt += 1;
                let j = bin_of(splitmix(((i as u64) << 32) | attempt));
                if filled[j] {
                    break j;
                }
            };
            splitmix(u64::from(mins[source]) ^ ((i as u64) << 40)) as u8
        };
    }
    out
}

/// Number of equal bytes in two 8-byte words.
#[inline]
fn equal_bytes(a: u64, b: u64) -> u32 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let x = a ^ b;
    // A byte of `y` has its top bit set exactly when the byte of `x` is zero.
    let y = !(((x & LOW7) + LOW7) | x | LOW7);
    y.count_ones()
}

/// Bins on which two signatures agree: 16 bytes at a time on x86-64 (the screen makes
/// ~120 comparisons per text at 1M texts; this was a fifth of the candidate phase as eight
/// bytes at a time), eight elsewhere.
#[inline]
pub fn agreeing_bins(a: &Signature, b: &Signature) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        agreeing_bins_sse2(a, b)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        agreeing_bins_swar(a, b)
    }
}

/// [`agreeing_bins`] with SSE2 (part of every x86-64): each 16-byte compare gives -1 per
/// equal byte, subtracted into per-byte counters (at most 16 each), summed at the end.
#[cfg(target_arch = "x86_64")]
#[inline]
fn agreeing_bins_sse2(a: &Signature, b: &Signature) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_sad_epu8,
        _mm_setzero_si128, _mm_srli_si128, _mm_sub_epi8,
    };
    const LANES: usize = 16;
    // SAFETY: SSE2 is in the x86-64 baseline; every load reads 16 bytes inside one of the
    // two 256-byte arrays (unaligned loads).
    unsafe {
        let zero = _mm_setzero_si128();
        let mut counts = zero;
        for k in 0..SIGNATURE_BINS / LANES {
            let x = _mm_loadu_si128(a.0.as_ptr().add(k * LANES).cast::<__m128i>());
            let y = _mm_loadu_si128(b.0.as_ptr().add(k * LANES).cast::<__m128i>());
            counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(x, y));
        }
        let sums = _mm_sad_epu8(counts, zero);
        let total = _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128::<8>(sums));
        total as u32
    }
}

/// [`agreeing_bins`] eight bytes at a time in plain integers (elsewhere; the oracle of the
/// SSE2 form).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn agreeing_bins_swar(a: &Signature, b: &Signature) -> u32 {
    a.0.chunks_exact(8)
        .zip(b.0.chunks_exact(8))
        .map(|(x, y)| {
            equal_bytes(
                u64::from_le_bytes(x.try_into().expect("8 bytes")),
                u64::from_le_bytes(y.try_into().expect("8 bytes")),
            )
        })
        .sum()
}

/// Estimated Jaccard similarity of the two shingle sets: a bin agrees with probability
/// `J + (1 − J)/256`, so `J ≈ (agreeing/bins − 1/256) / (1 − 1/256)`.
pub fn estimate(a: &Signature, b: &Signature) -> f64 {
    const CHANCE: f64 = 1.0 / 256.0;
    let p = f64::from(agreeing_bins(a, b)) / SIGNATURE_BINS as f64;
    ((p - CHANCE) / (1.0 - CHANCE)).clamp(0.0, 1.0)
}

/// How far below the verification threshold an estimate may fall and still be verified,
/// for a pair whose shorter text has `shingles` shingles: at least `margin`, and at least
/// 2.5 standard deviations of the estimate at J = 0.5, counted over the bins such a text
/// fills (a text with fewer shingles than bins leaves the rest to borrowed copies).
pub fn screen_margin(margin: f64, shingles: usize) -> f64 {
    let bins = SIGNATURE_BINS as f64;
    let filled = bins * (1.0 - (-(shingles.max(1) as f64) / bins).exp());
    margin.max(2.5 * (0.25 / filled).sqrt())
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
    fn equal_bytes_counts_exactly() {
        assert_eq!(equal_bytes(0, 0), 8);
        assert_eq!(equal_bytes(0x0102_0304_0506_0708, 0x0102_0304_0506_0709), 7);
        assert_eq!(equal_bytes(u64::MAX, 0), 0);
        assert_eq!(equal_bytes(0x8000_0000_0000_0080, 0), 6);
        let mut rng = Rng::new(3);
        for _ in 0..10_000 {
            let (a, b) = (rng.next_u64(), rng.next_u64() & rng.next_u64());
            let b = a ^ (b & 0xFF00_FF00_00FF_0000);
            let slow = a
                .to_le_bytes()
                .iter()
                .zip(b.to_le_bytes())
                .filter(|(x, y)| **x == *y)
                .count() as u32;
            assert_eq!(equal_bytes(a, b), slow);
        }
    }

    #[test]
    fn agreeing_bins_equal_the_byte_by_byte_count() {
        let mut rng = Rng::new(7);
        for round in 0..5_000 {
            let mut a = Signature::default();
            let mut b = Signature::default();
            for i in 0..SIGNATURE_BINS {
                a.0[i] = rng.next_u64() as u8;
                // From all bins different to all equal, and 255/0 bytes at the lane edges.
                b.0[i] = match rng.below(100) < round % 101 {
                    true => a.0[i],
                    false => a.0[i].wrapping_add(1 + rng.below(255) as u8),
                };
            }
            let slow = a.0.iter().zip(&b.0).filter(|(x, y)| x == y).count() as u32;
            assert_eq!(agreeing_bins(&a, &b), slow);
            assert_eq!(agreeing_bins_swar(&a, &b), slow);
        }
        let same = Signature([0xFF; SIGNATURE_BINS]);
        assert_eq!(agreeing_bins(&same, &same), SIGNATURE_BINS as u32);
    }

    #[test]
    fn identical_texts_estimate_one_and_empty_texts_agree() {
        let mut rng = Rng::new(1);
        let t = normalize(&text(&mut rng, 800));
        assert_eq!(estimate(&signature(&t, 4), &signature(&t, 4)), 1.0);
        assert_eq!(estimate(&signature("", 4), &signature("", 4)), 1.0);
        // One shingle only: every bin is borrowed from the same one.
        assert_eq!(estimate(&signature("医保", 4), &signature("医保", 4)), 1.0);
    }

    /// The estimate tracks the exact Jaccard similarity that verification computes, within
    /// the screen's margin, across lengths (short texts exercise densification) and edits.
    #[test]
    fn estimate_tracks_exact_jaccard_within_the_margin() {
        let mut rng = Rng::new(2024);
        for len in [30usize, 80, 200, 600, 2000, 6000] {
            let mut worst: f64 = 0.0;
            for frac in [0.0, 0.02, 0.05, 0.1, 0.2, 0.4] {
                for _ in 0..10 {
                    let a = normalize(&text(&mut rng, len));
                    let b = normalize(&edit(&mut rng, &a, frac));
                    let exact = jaccard(&shingle_set(&a, 4), &shingle_set(&b, 4));
                    let est = estimate(&signature(&a, 4), &signature(&b, 4));
                    worst = worst.max((est - exact).abs());
                }
            }
            // 60 pairs per length, every error within the margin the screen allows.
            let margin = screen_margin(0.05, len - 3);
            assert!(
                worst < margin * 1.6,
                "len {len}: worst error {worst}, margin {margin}"
            );
        }
    }

    #[test]
    fn unrelated_texts_estimate_low() {
        let mut rng = Rng::new(5);
        for _ in 0..50 {
            let a = normalize(&text(&mut rng, 1500));
            let b = normalize(&text(&mut rng, 1500));
            let exact = jaccard(&shingle_set(&a, 4), &shingle_set(&b, 4));
            let est = estimate(&signature(&a, 4), &signature(&b, 4));
            assert!(est < exact + 0.12, "est {est} exact {exact}");
        }
    }

    #[test]
    fn band_keys_are_the_band_bytes() {
        let mut s = Signature::default();
        s.0[4..8].copy_from_slice(&[1, 2, 3, 4]);
        // Rows of 2: band 1 is bytes 2..4, band 2 bytes 4..6.
        s.0[2..4].copy_from_slice(&[3, 4]);
        assert_eq!(s.band_key(1, 4), 0x0403_0201);
        assert_eq!(s.band_key(1, 2), 0x0304);
        assert_eq!(s.band_key(0, 4), 0x0403_0000);
        assert_eq!(s.band_key(2, 4), 0);
        assert_ne!(s.band_key(0, 6), s.band_key(1, 6));
    }

    #[test]
    fn margins_widen_for_short_texts() {
        // 2.5 standard deviations over 256 filled bins: 0.078.
        assert!((screen_margin(0.05, 100_000) - 0.0781).abs() < 1e-3);
        assert_eq!(screen_margin(0.2, 100_000), 0.2);
        assert!(screen_margin(0.05, 30) > 0.2);
        assert!(screen_margin(0.05, 190) < screen_margin(0.05, 50));
    }
}
