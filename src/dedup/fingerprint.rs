//! Fingerprints: up to [`MAX_FINGERPRINTS`] independent 64-bit simhashes over the character
//! shingles of the normalized text (Charikar's random-hyperplane sketch), and a 128-bit
//! strong hash of the normalized text for exact grouping.
//!
//! Why several: a simhash bit of two texts disagrees with probability θ/π (θ the angle of
//! their feature vectors), so the Hamming distance of one pair is a binomial draw. For near
//! duplicates with 2–5% of characters edited the median distance is small but the tail
//! reaches 6–12 bits, beyond any `k` the block index can afford at scale. A pair is a
//! candidate when *any* of the fingerprints is within `k`, so the misses multiply away
//! (docs/ARCHITECTURE.md has the measured figures).
//!
//! Fingerprint 0 is exactly what the `simhash` crate's `simhash_stream` returns for the
//! shingles (it is `metadata.simhash`; a test keeps the crate as the oracle). It is computed
//! here because the crate was measured to be the pipeline's bottleneck (BENCHMARKS.md): each
//! shingle is hashed once with the same SipHash-2-4, the bits are counted eight at a
//! time in byte counters (`v[i] > 0` ⟺ `2·ones[i] > n`), and fingerprint
//! `i > 0` uses the same SipHash remixed with an independent bijection, an independent set
//! of hyperplanes for one hash per shingle.

use xxhash_rust::xxh3::xxh3_128;

pub use crate::config::MAX_FINGERPRINTS;
use crate::dedup::minhash::{signature_of, Signature};
use crate::dedup::shingle::{normalize_with, shingles, CharStarts};
use crate::dedup::DedupRules;

/// What duplicate detection keeps in memory for one text besides its MinHash signature (a
/// page summary holds one for every page: at a million pages each byte here is a
/// megabyte; the pages' signatures are a column of their own, [`crate::run::signatures`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// The primary simhash (`metadata.simhash`).
    pub primary: u64,
    /// Simhashes 1.. when `dedup.fingerprints` > 1.
    pub more: Option<Box<[u64; MAX_FINGERPRINTS - 1]>>,
    /// xxh3-128 of the normalized text (high, low): equal means an exact duplicate.
    pub exact: [u64; 2],
    /// Length of the normalized text in characters.
    pub chars: u32,
}

/// A text's [`Fingerprint`] with its MinHash signature, as [`fingerprint`] computes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprinted {
    /// Hashes and length.
    pub fp: Fingerprint,
    /// MinHash signature of the `shingle_chars` shingle set: LSH bands and the screen.
    pub signature: Signature,
}

impl Fingerprint {
    /// The fingerprint written to `metadata.simhash`.
    pub fn primary(&self) -> u64 {
        self.primary
    }

    /// Simhash `i` (0 is the primary; 0 for one that was not computed).
    pub fn simhash(&self, i: usize) -> u64 {
        match i {
            0 => self.primary,
            _ => self.more.as_ref().map_or(0, |m| m[i - 1]),
        }
    }
}

/// Fingerprints a text as the dedup rules say (normalization, shingle size, count).
pub fn fingerprint(text: &str, cfg: &DedupRules) -> Fingerprinted {
    let norm = normalize_with(text, &cfg.normalize);
    let starts = CharStarts::of(&norm);
    let b = norm.as_bytes();
    let features = starts
        .windows(cfg.fingerprint_chars)
        .map(|(start, end)| Feature::read(b, start, end));
    Fingerprinted {
        fp: fingerprint_features(&norm, features, starts.chars(), cfg.fingerprints),
        signature: signature_of(&norm, &starts, cfg.shingle_chars),
    }
}

/// The SipHash-2-4 (keys 0, 0) of a feature string, as the `simhash` crate computes it
/// (`str`'s `Hash`: the bytes, then `0xff`). Written out for the short strings features
/// are (a 2-character shingle is one 8-byte block): the streaming `siphasher` buffers every
/// write, and was a tenth of the scan; it stays the oracle in the tests.
#[inline]
pub fn feature_hash(s: &str) -> u64 {
    feature_hash_bytes(s.as_bytes())
}

/// [`feature_hash`] of a string given as its bytes.
#[inline]
fn feature_hash_bytes(b: &[u8]) -> u64 {
    if let Some(block) = short_block(b) {
        return hash_of_block(block);
    }
    let len = b.len() + 1;
    let mut v = Sip::new();
    let mut blocks = b.chunks_exact(8);
    for block in &mut blocks {
        v.compress(u64::from_le_bytes(block.try_into().expect("8 bytes")));
    }
    let mut last = [0u8; 8];
    let tail = blocks.remainder();
    last[..tail.len()].copy_from_slice(tail);
    // The 0xff `str`'s `Hash` appends: in this block when the tail leaves room, else
    // alone in the next one.
    if tail.len() < 7 {
        last[tail.len()] = 0xff;
        last[7] = len as u8;
        v.compress(u64::from_le_bytes(last));
    } else {
        last[7] = 0xff;
        v.compress(u64::from_le_bytes(last));
        v.compress((len as u64) << 56);
    }
    v.finish()
}

/// A feature as the hash reads it: the one SipHash block of a short one
/// ([`short_block`]), else its bytes.
enum Feature<'a> {
    Block(u64),
    Long(&'a [u8]),
}

impl<'a> Feature<'a> {
    /// The feature `text[start..end]`. A short one is loaded as one 8-byte word when the
    /// text has eight bytes from its start, and masked to its length (the byte-by-byte
    /// [`short_block`] otherwise, and its oracle in a test).
    #[inline(always)]
    fn read(text: &'a [u8], start: usize, end: usize) -> Feature<'a> {
        let n = end - start;
        if n > 6 {
            return Feature::Long(&text[start..end]);
        }
        let block = match text.get(start..start + 8) {
            Some(w) => {
                let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                let v = w & ((1u64 << (8 * n)) - 1);
                v | 0xff << (8 * n) | ((n + 1) as u64) << 56
            }
            None => short_block(&text[start..end]).expect("at most 6 bytes"),
        };
        Feature::Block(block)
    }
}

/// The one SipHash block of a feature of at most 6 bytes (its bytes, `0xff`, the length
/// in the top byte): distinct for distinct strings, and never 0.
#[inline]
fn short_block(b: &[u8]) -> Option<u64> {
    let n = b.len();
    if n > 6 {
        return None;
    }
    // Byte by byte into the integer: a copy of a variable length was a call to `memcpy`
    // for every feature. A 2-character Chinese feature is two 3-byte reads.
    let mut v = match n {
        6 => {
            u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                | u64::from(u16::from_le_bytes([b[4], b[5]])) << 32
        }
        _ => b
            .iter()
            .enumerate()
            .fold(0u64, |v, (i, &x)| v | u64::from(x) << (8 * i)),
    };
    v |= 0xff << (8 * n);
    v |= ((n + 1) as u64) << 56;
    Some(v)
}

/// The SipHash of a message that is the one block `block`.
#[inline]
fn hash_of_block(block: u64) -> u64 {
    let mut v = Sip::new();
    v.compress(block);
    v.finish()
}

/// Slots of a worker's [`FeatureCache`] (a power of two; 256 KB).
const FEATURE_SLOTS: usize = 1 << 14;

/// A worker's feature hashes of short shingles, direct-mapped by their block: a text's
/// 2-character shingles are mostly bigrams seen before (Chinese text has a few thousand
/// common ones), and a lookup costs a tenth of SipHash. A slot holds the block itself,
/// compared on a hit, so the hash returned is always the block's own.
struct FeatureCache {
    slots: Vec<(u64, u64)>,
}

impl FeatureCache {
    fn new() -> Self {
        FeatureCache {
            slots: vec![(0, 0); FEATURE_SLOTS],
        }
    }

    /// [`feature_hash`] of a feature read as a [`Feature`].
    #[inline(always)]
    fn hash_feature(&mut self, f: Feature<'_>) -> u64 {
        match f {
            Feature::Block(block) => self.hash_block(block),
            Feature::Long(s) => feature_hash_bytes(s),
        }
    }

    /// [`feature_hash`] of the short feature whose block is `block`.
    #[inline(always)]
    fn hash_block(&mut self, block: u64) -> u64 {
        let i = (block.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 14)) as usize;
        let slot = &mut self.slots[i];
        if slot.0 != block {
            *slot = (block, hash_of_block(block));
        }
        slot.1
    }
}

thread_local! {
    static FEATURES: std::cell::RefCell<FeatureCache> = std::cell::RefCell::new(FeatureCache::new());
}

/// SipHash-2-4's state with keys 0, 0.
struct Sip([u64; 4]);

impl Sip {
    #[inline]
    fn new() -> Sip {
        Sip([
            0x736f_6d65_7073_6575,
            0x646f_7261_6e64_6f6d,
            0x6c79_6765_6e65_7261,
            0x7465_6462_7974_6573,
        ])
    }

    #[inline]
    fn round(&mut self) {
        let v = &mut self.0;
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }

    /// One message block (two compression rounds).
    #[inline]
    fn compress(&mut self, m: u64) {
        self.0[3] ^= m;
        self.round();
        self.round();
        self.0[0] ^= m;
    }

    /// The hash (four finalization rounds).
    #[inline]
    fn finish(mut self) -> u64 {
        self.0[2] ^= 0xff;
        for _ in 0..4 {
            self.round();
        }
        self.0.iter().fold(0, |h, v| h ^ v)
    }
}

/// Remixes a feature hash for fingerprint `i` (identity for 0): xor with a per-fingerprint
/// constant, then the splitmix64 finalizer, a bijection whose output bits are independent of
/// the input's.
#[inline]
fn remix(h: u64, i: usize) -> u64 {
    if i == 0 {
        return h;
    }
    let mut z = h ^ (0x9E37_79B9_7F4A_7C15u64.wrapping_mul(i as u64));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `SPREAD[b]` has byte `j` equal to bit `j` of `b`: adding it to a word of eight byte
/// counters counts the ones of eight hash bits in one addition.
const SPREAD: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut j = 0;
        while j < 8 {
            if (b >> j) & 1 == 1 {
                t[b] |= 1 << (8 * j);
            }
            j += 1;
        }
        b += 1;
    }
    t
};

/// Simhash accumulator: per-bit counts of ones. A hash is added into four bit planes, a
/// 4-bit counter for each of the 64 bits (a ripple-carry add: twelve word operations);
/// every [`PLANE_LIMIT`] hashes the planes are added into byte counters (eight per word,
/// eight table lookups per plane), and those into 32-bit totals before a byte can
/// overflow. (Adding each hash into the byte counters — eight lookups and additions a
/// hash — was a third of the fingerprint.)
struct Counts {
    planes: [u64; 4],
    in_planes: u32,
    bytes: [u64; 8],
    pending: u32,
    totals: [u32; 64],
}

/// Hashes the bit planes hold before they are added into the byte counters (a 4-bit
/// counter holds 15).
const PLANE_LIMIT: u32 = 15;

impl Counts {
    fn new() -> Counts {
        Counts {
            planes: [0; 4],
            in_planes: 0,
            bytes: [0; 8],
            pending: 0,
            totals: [0; 64],
        }
    }

    #[inline]
    fn add(&mut self, h: u64) {
        let mut carry = h;
        for p in &mut self.planes {
            let next = *p & carry;
            *p ^= carry;
            carry = next;
        }
        self.in_planes += 1;
        if self.in_planes == PLANE_LIMIT {
            self.drain_planes();
        }
    }

    /// Adds the planes' counts into the byte counters (each byte takes at most
    /// [`PLANE_LIMIT`]; they are flushed before one could pass 255).
    fn drain_planes(&mut self) {
        let [p0, p1, p2, p3] = self.planes;
        for (k, w) in self.bytes.iter_mut().enumerate() {
            let spread = |p: u64| SPREAD[((p >> (8 * k)) & 0xff) as usize];
            *w += spread(p0) + 2 * spread(p1) + 4 * spread(p2) + 8 * spread(p3);
        }
        self.planes = [0; 4];
        self.pending += self.in_planes;
        self.in_planes = 0;
        if self.pending > 255 - PLANE_LIMIT {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for (k, w) in self.bytes.iter_mut().enumerate() {
            for j in 0..8 {
                self.totals[8 * k + j] += ((*w >> (8 * j)) & 0xff) as u32;
            }
            *w = 0;
        }
        self.pending = 0;
    }

    /// Bit `i` is set when more features had it set than not (ties clear, as in the crate).
    fn finish(&mut self, n: u64) -> u64 {
        self.drain_planes();
        self.flush();
        let mut out = 0u64;
        for (i, &c) in self.totals.iter().enumerate() {
            if 2 * c as u64 > n {
                out |= 1 << i;
            }
        }
        out
    }
}

/// Fingerprints an already normalized text (simhashes, exact hash and length; no
/// signature: [`fingerprint`] computes both).
pub fn fingerprint_normalized(norm: &str, shingle_chars: usize, count: usize) -> Fingerprint {
    let chars = norm.chars().count();
    let features = shingles(norm, shingle_chars).map(|s| match short_block(s.as_bytes()) {
        Some(block) => Feature::Block(block),
        None => Feature::Long(s.as_bytes()),
    });
    fingerprint_features(norm, features, chars, count)
}

/// [`fingerprint_normalized`] of a text of `chars` characters, given its shingles.
fn fingerprint_features<'a>(
    norm: &str,
    features: impl Iterator<Item = Feature<'a>>,
    chars: usize,
    count: usize,
) -> Fingerprint {
    let count = count.clamp(1, MAX_FINGERPRINTS);
    let mut counts: Vec<Counts> = (0..count).map(|_| Counts::new()).collect();
    let mut n = 0u64;
    FEATURES.with(|cache| {
        let mut cache = cache.borrow_mut();
        for f in features {
            let h = cache.hash_feature(f);
            for (i, c) in counts.iter_mut().enumerate() {
                c.add(remix(h, i));
            }
            n += 1;
        }
    });
    let mut simhash = [0u64; MAX_FINGERPRINTS];
    for (slot, c) in simhash.iter_mut().zip(&mut counts) {
        *slot = c.finish(n);
    }
    let exact = xxh3_128(norm.as_bytes());
    Fingerprint {
        primary: simhash[0],
        more: (count > 1).then(|| Box::new([simhash[1], simhash[2], simhash[3]])),
        exact: [(exact >> 64) as u64, exact as u64],
        chars: chars.min(u32::MAX as usize) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::shingle::normalize;
    use crate::synth::Rng;

    /// The written-out SipHash gives the `siphasher` crate's value (what `metadata.simhash`
    /// has always been made of) for strings of every length around the block boundaries.
    #[test]
    fn feature_hash_is_the_crates_siphash() {
        use std::hash::Hasher;
        let oracle = |s: &str| {
            let mut h = siphasher::sip::SipHasher::new();
            h.write(s.as_bytes());
            h.write_u8(0xff);
            h.finish()
        };
        let alphabet: Vec<char> = "医保账户ab1，é\u{1F600}".chars().collect();
        let mut rng = Rng::new(5);
        for len in 0..30 {
            for _ in 0..50 {
                let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
                assert_eq!(feature_hash(&s), oracle(&s), "{s:?}");
            }
        }
        for s in [
            "",
            "a",
            "abcdef",
            "abcdefg",
            "abcdefgh",
            "医保",
            "医保账",
            "医保账户报",
        ] {
            assert_eq!(feature_hash(s), oracle(s), "{s:?}");
        }
    }

    /// A feature read as one word from its text is the block written byte by byte, at
    /// every start and length, near the text's end as well.
    #[test]
    fn features_read_as_words_are_the_blocks_written_byte_by_byte() {
        let text = "医保a1账户bc😀é".repeat(3);
        let b = text.as_bytes();
        for start in 0..b.len() {
            for end in start..=b.len().min(start + 9) {
                match Feature::read(b, start, end) {
                    Feature::Block(v) => assert_eq!(Some(v), short_block(&b[start..end])),
                    Feature::Long(s) => {
                        assert_eq!(s, &b[start..end]);
                        assert!(s.len() > 6);
                    }
                }
            }
        }
    }

    fn cfg(count: usize) -> DedupRules {
        DedupRules {
            fingerprint_chars: 2,
            fingerprints: count,
            ..DedupRules::default()
        }
    }

    #[test]
    fn equal_after_normalization_means_exact() {
        let a = fingerprint("医保个人账户可以在门诊使用，也可以在药店购药。", &cfg(3));
        let b = fingerprint("医保个人账户 可以在门诊使用, 也可以在药店购药", &cfg(3));
        assert_eq!(a, b);
        let (a, c) = (
            a.fp,
            fingerprint("医保个人账户可以在门诊使用，不可以在药店购药。", &cfg(3)).fp,
        );
        assert_ne!(a.exact, c.exact);
        for i in 0..3 {
            assert!((a.simhash(i) ^ c.simhash(i)).count_ones() < 32);
        }
        assert_eq!(a.simhash(3), 0);
    }

    /// The `simhash` crate is the oracle: fingerprint 0 agrees with `simhash_stream` bit for
    /// bit on random texts of every length (empty, one shingle, ties included).
    #[test]
    fn primary_fingerprint_equals_the_simhash_crate() {
        let alphabet: Vec<char> = "医保个人账户门诊住院报销比例异地就医备案缴费abcXYZ0123"
            .chars()
            .collect();
        let mut rng = Rng::new(99);
        for len in (0..40).chain([100, 1000, 5000]) {
            for _ in 0..20 {
                let text: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
                let norm = normalize(&text);
                for n in [1, 2, 4] {
                    let ours = fingerprint_normalized(&norm, n, 3).primary();
                    let oracle = simhash::simhash_stream(shingles(&norm, n));
                    assert_eq!(ours, oracle, "text {norm:?} n={n}");
                }
            }
        }
    }

    /// The bit planes, byte counters and totals count what adding each bit one by one
    /// counts, for every number of hashes around their drain and flush points.
    #[test]
    fn counts_are_the_per_bit_counts() {
        let mut rng = Rng::new(3);
        for n in (0..40).chain([254, 255, 256, 269, 270, 271, 1000, 5000]) {
            let mut counts = Counts::new();
            let mut naive = [0u64; 64];
            for _ in 0..n {
                // Skewed bits too: some always set, some never, so ties and majorities both occur.
                let h = rng.next_u64() & 0x0000_FFFF_FFFF_FFFF | 0xFF00_0000_0000_0000;
                counts.add(h);
                for (i, c) in naive.iter_mut().enumerate() {
                    *c += (h >> i) & 1;
                }
            }
            let want = (0..64).fold(0u64, |out, i| match 2 * naive[i] > n as u64 {
                true => out | 1 << i,
                false => out,
            });
            assert_eq!(counts.finish(n as u64), want, "{n} hashes");
            let totals: Vec<u64> = counts.totals.iter().map(|&t| u64::from(t)).collect();
            assert_eq!(totals, naive.to_vec(), "{n} hashes");
        }
    }

    #[test]
    fn fingerprints_are_independent_sketches() {
        let a = fingerprint(
            "异地就医需要先在参保地办理备案手续，备案成功后可以直接结算。",
            &cfg(4),
        )
        .fp;
        assert_ne!(a.simhash(0), a.simhash(1));
        assert_ne!(a.simhash(1), a.simhash(2));
        assert_ne!(a.simhash(2), a.simhash(3));
    }
}
