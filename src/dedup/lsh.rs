//! Candidate pairs from MinHash LSH bands: two texts are proposed when all `rows` bins of
//! some band of their signatures agree ([`crate::dedup::minhash`]). A pair with Jaccard
//! similarity `J` is proposed with probability `1 − (1 − J^rows)^bands`, whatever the
//! texts' length; with the defaults (64 bands of 4 rows) that is 0.984 at J = 0.5, 0.998 at
//! 0.55, 0.9999 at 0.6, and 5·10⁻⁴ for an unrelated pair at J = 0.05.
//!
//! One band table lives at a time (`key << 32 | item`, radix-sorted, 16 bytes per text);
//! a pair is compared once, in the first band where it shares a bucket of normal size;
//! oversized buckets are walked with leaders ([`crate::dedup::buckets`]).

use rayon::prelude::*;

use crate::dedup::buckets::{radix_sort_by_high, table_pairs, Limits, TableStats};
use crate::dedup::minhash::{prefetch, Signature};

/// The banding of the signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bands {
    /// Number of bands.
    pub bands: usize,
    /// Bins per band.
    pub rows: usize,
}

impl Bands {
    /// Probability that a pair with Jaccard similarity `j` shares at least one band (each
    /// bin agreeing with probability `j + (1 − j)/256`).
    pub fn probability(&self, j: f64) -> f64 {
        let p = j + (1.0 - j) / 256.0;
        1.0 - (1.0 - p.powi(self.rows as i32)).powi(self.bands as i32)
    }
}

/// The pairs `(a, b)`, `a < b`, of indices into `sigs` that share a band and that `keep`
/// accepts, sorted and distinct, with the counts of the comparisons.
pub fn band_pairs(
    sigs: &[&Signature],
    bands: Bands,
    limits: Limits,
    keep: impl Fn(u32, u32) -> bool + Sync,
) -> (Vec<(u32, u32)>, TableStats) {
    assert!(
        sigs.len() < u32::MAX as usize,
        "too many texts for one index"
    );
    let rows = bands.rows;
    let key_bits = (8 * rows.min(4)) as u32;
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut stats = TableStats::default();
    // Keys of each finished band's oversized buckets, sorted: a pair agreeing on such a
    // band was not necessarily compared there.
    let mut oversized: Vec<Vec<u32>> = Vec::new();
    let mut table: Vec<u64> = Vec::with_capacity(sigs.len());
    let mut scratch: Vec<u64> = Vec::new();
    for band in 0..bands.bands {
        table.clear();
        table.par_extend(
            sigs.par_iter()
                .enumerate()
                .map(|(i, s)| (u64::from(s.band_key(band, rows)) << 32) | i as u64),
        );
        radix_sort_by_high(&mut table, &mut scratch, key_bits);
        let test = |a: u32, b: u32| {
            let (sa, sb) = (sigs[a as usize], sigs[b as usize]);
            (!compared_before(sa, sb, band, rows, &oversized)).then(|| keep(a, b))
        };
        let ahead = |i: u32| prefetch(sigs[i as usize]);
        let (found, st, big) = table_pairs(
            &table,
            |e| (e >> 32) as u32,
            |e| *e as u32,
            limits,
            test,
            ahead,
        );
        out.extend(found);
        stats += st;
        let mut big = big;
        big.sort_unstable();
        oversized.push(big);
    }
    out.par_sort_unstable();
    out.dedup();
    (out, stats)
}

/// Whether a pair sharing band `band` was compared in an earlier band: it shares an earlier
/// band whose bucket was not oversized.
#[inline]
fn compared_before(
    a: &Signature,
    b: &Signature,
    band: usize,
    rows: usize,
    oversized: &[Vec<u32>],
) -> bool {
    (0..band).any(|j| {
        let k = a.band_key(j, rows);
        k == b.band_key(j, rows) && oversized[j].binary_search(&k).is_err()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::minhash::{estimate, signature};
    use crate::dedup::shingle::{jaccard, normalize, shingle_set};
    use crate::synth::Rng;

    fn text(rng: &mut Rng, len: usize) -> String {
        let alphabet: Vec<char> =
            "医保个人账户门诊住院报销比例异地就医备案缴费年限职工居民药店定点机构"
                .chars()
                .collect();
        (0..len).map(|_| *rng.pick(&alphabet)).collect()
    }

    fn edit(rng: &mut Rng, t: &str, frac: f64) -> String {
        let mut cs: Vec<char> = t.chars().collect();
        for _ in 0..(cs.len() as f64 * frac) as usize {
            let i = rng.below(cs.len());
            cs[i] = '改';
        }
        cs.into_iter().collect()
    }

    fn random_signature(rng: &mut Rng) -> Signature {
        let mut s = Signature::default();
        for b in s.0.iter_mut() {
            *b = rng.next_u64() as u8;
        }
        s
    }

    /// A copy of `s` with a share of its bins (outside band 0) changed.
    fn edited(rng: &mut Rng, s: &Signature, share: f64) -> Signature {
        let mut t = *s;
        for b in t.0[4..].iter_mut() {
            if rng.chance(share) {
                *b = b.wrapping_add(1 + rng.below(255) as u8);
            }
        }
        t
    }

    const BIG: usize = 50_000;
    const LIMITS: Limits = Limits {
        max_bucket: 200,
        leaders: 16,
    };

    /// A planted near duplicate inside a 50,000-member bucket of unrelated texts is still
    /// found, with bounded work: the bucket is walked with leaders (each member against at
    /// most 16), and the pair meets in the bands of normal size it also shares.
    #[test]
    fn planted_pair_in_a_50000_member_bucket_is_found() {
        let mut rng = Rng::new(50);
        let mut sigs: Vec<Signature> = (0..BIG)
            .map(|_| {
                let mut s = random_signature(&mut rng);
                s.0[..4].copy_from_slice(&[7, 7, 7, 7]);
                s
            })
            .collect();
        let mut a = random_signature(&mut rng);
        a.0[..4].copy_from_slice(&[7, 7, 7, 7]);
        let b = edited(&mut rng, &a, 0.4);
        sigs.push(a);
        sigs.push(b);
        let refs: Vec<&Signature> = sigs.iter().collect();
        let bands = Bands { bands: 64, rows: 4 };
        let screen = |x: u32, y: u32| estimate(refs[x as usize], refs[y as usize]) >= 0.4;
        let (pairs, st) = band_pairs(&refs, bands, LIMITS, screen);
        assert_eq!(pairs, [(BIG as u32, BIG as u32 + 1)]);
        assert_eq!(st.oversized, 1);
        assert!(st.compared <= (BIG + 2) * 16, "{st:?}");
        assert!(st.cut > 1_000_000_000, "{st:?}");
    }

    /// A bucket of 50,000 near-identical texts (a template that survived cleanup) costs a
    /// linear number of comparisons and still links every member.
    #[test]
    fn a_50000_member_cluster_is_linked_through_its_leaders() {
        let mut rng = Rng::new(51);
        let base = random_signature(&mut rng);
        let sigs: Vec<Signature> = (0..BIG).map(|_| edited(&mut rng, &base, 0.05)).collect();
        let refs: Vec<&Signature> = sigs.iter().collect();
        let bands = Bands { bands: 64, rows: 4 };
        let screen = |x: u32, y: u32| estimate(refs[x as usize], refs[y as usize]) >= 0.4;
        let (pairs, st) = band_pairs(&refs, bands, LIMITS, screen);
        let mut linked = vec![false; BIG];
        for &(a, b) in &pairs {
            linked[a as usize] = true;
            linked[b as usize] = true;
        }
        assert!(linked.iter().all(|&l| l));
        // Linear: a few comparisons per member and band (members whose edited bins agree
        // meet in small buckets too), against 6·10^10 for every pair of every band.
        assert!(st.compared < BIG * 64 * 6, "{st:?}");
        assert_eq!(st.oversized, 64);
    }

    #[test]
    fn the_curve_is_steep_around_the_threshold() {
        let b = Bands { bands: 64, rows: 4 };
        assert!(b.probability(0.5) > 0.98);
        assert!(b.probability(0.6) > 0.9998);
        assert!(b.probability(0.05) < 6e-4);
    }

    /// Every pair is found exactly when some band agrees (brute force over all pairs), and
    /// each once.
    #[test]
    fn pairs_are_those_sharing_a_band() {
        let mut rng = Rng::new(8);
        let mut texts = Vec::new();
        for _ in 0..60 {
            let len = 30 + rng.below(400);
            let a = normalize(&text(&mut rng, len));
            let frac = 0.02 * rng.below(10) as f64;
            let b = normalize(&edit(&mut rng, &a, frac));
            texts.push(a);
            texts.push(b);
        }
        let sigs: Vec<Signature> = texts.iter().map(|t| signature(t, 4)).collect();
        let refs: Vec<&Signature> = sigs.iter().collect();
        let bands = Bands { bands: 64, rows: 4 };
        let (got, st) = band_pairs(&refs, bands, Limits::UNBOUNDED, |_, _| true);
        let mut want = Vec::new();
        for a in 0..refs.len() {
            for b in a + 1..refs.len() {
                if (0..64).any(|j| refs[a].band_key(j, 4) == refs[b].band_key(j, 4)) {
                    want.push((a as u32, b as u32));
                }
            }
        }
        assert_eq!(got, want);
        assert_eq!(st.compared, want.len(), "each pair compared once");
        // And the planted pairs with a high similarity are among them.
        for i in 0..60u32 {
            let (a, b) = (&texts[2 * i as usize], &texts[2 * i as usize + 1]);
            if jaccard(&shingle_set(a, 4), &shingle_set(b, 4)) >= 0.7 {
                assert!(got.contains(&(2 * i, 2 * i + 1)), "pair {i}");
            }
        }
    }
}
