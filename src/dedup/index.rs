//! Candidate pairs within Hamming distance `k`, by block permutation, never all pairs.
//!
//! Manku, Jain & Das Sarma (WWW 2007): cut the 64 bits into `b = k + 2` blocks. Two
//! fingerprints within distance `k` differ in at most `k` blocks, so they agree exactly on at
//! least two blocks. For every pair of blocks `(p, q)` we sort the fingerprints by those two
//! blocks' bits and compare only fingerprints that share them; every pair within `k` is
//! found (the boundary `k` included), and each pair is compared once — by the first block
//! pair on which it agrees, unless that table's bucket was oversized
//! ([`crate::dedup::buckets`]), in which case a later table may compare it again. One table
//! lives at a time, so memory is the fingerprints plus one `(key, index)` array: 8 + 16
//! bytes per fingerprint.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::dedup::buckets::{radix_sort_by_high, table_pairs, Limits, TableStats};
use crate::dedup::pass::{simhash_table, Pass};

/// Bit masks of the `b` blocks of a 64-bit fingerprint.
fn block_masks(b: usize) -> Vec<u64> {
    (0..b)
        .map(|i| {
            let lo = i * 64 / b;
            let hi = (i + 1) * 64 / b;
            let width = hi - lo;
            let ones = if width == 64 {
                u64::MAX
            } else {
                (1u64 << width) - 1
            };
            ones << lo
        })
        .collect()
}

/// Every pair `(i, j)`, `i < j`, of indices into `fps` whose fingerprints are within Hamming
/// distance `k` (inclusive), with the distance; sorted, each pair once.
pub fn pairs_within(fps: &[u64], k: u32) -> Vec<(u32, u32, u32)> {
    let (pairs, _) = pairs_within_filtered(fps, k, Limits::UNBOUNDED, |_, _| Some(true));
    pairs
        .into_iter()
        .map(|(a, b)| (a, b, (fps[a as usize] ^ fps[b as usize]).count_ones()))
        .collect()
}

/// The tables' keys: two blocks packed together (at most 2·⌈64/b⌉ ≤ 32 bits when k ≥ 2),
/// or the two blocks masked in place when they are wider.
struct Tables {
    masks: Vec<u64>,
    narrow: bool,
    key_bits: u32,
}

impl Tables {
    fn new(k: u32) -> Tables {
        let b = k as usize + 2;
        let key_bits = 2 * 64usize.div_ceil(b);
        Tables {
            masks: block_masks(b),
            narrow: key_bits <= 32,
            key_bits: key_bits as u32,
        }
    }

    fn key(&self, f: u64, (p, q): (usize, usize)) -> u64 {
        let (mp, mq) = (self.masks[p], self.masks[q]);
        if self.narrow {
            let (lp, wp, lq) = (mp.trailing_zeros(), mp.count_ones(), mq.trailing_zeros());
            (((f & mq) >> lq) << wp) | ((f & mp) >> lp)
        } else {
            f & (mp | mq)
        }
    }

    /// Whether a pair (given by its xor) was compared in a table before `pq`: it agrees on
    /// an earlier block pair whose bucket was not oversized.
    fn compared_before(
        &self,
        f: u64,
        diff: u64,
        pq: (usize, usize),
        oversized: &[(usize, usize, HashSet<u64>)],
    ) -> bool {
        oversized
            .iter()
            .take_while(|(p, q, _)| (*p, *q) < pq)
            .any(|(p, q, big)| {
                diff & (self.masks[*p] | self.masks[*q]) == 0
                    && (big.is_empty() || !big.contains(&self.key(f, (*p, *q))))
            })
    }
}

/// [`pairs_within`] keeping only the pairs `keep(i, j)` accepts (`Some(true)`); it rejects
/// a pair with `Some(false)` or ignores it with `None`. The filter runs as pairs are found,
/// so a dense corpus costs time but not memory: only the pairs kept are stored. Buckets
/// larger than `limits.max_bucket` are walked with leaders ([`crate::dedup::buckets`]).
/// Returns the kept pairs, sorted and distinct, and the counts.
pub fn pairs_within_filtered(
    fps: &[u64],
    k: u32,
    limits: Limits,
    keep: impl Fn(u32, u32) -> Option<bool> + Sync,
) -> (Vec<(u32, u32)>, TableStats) {
    let found = pairs_within_in(fps, k, limits, keep, Pass::Whole, 0);
    (found.pairs, found.stats)
}

/// What [`pairs_within_in`] found: the pairs (sorted, distinct), their counts, and each
/// block-pair table's oversized buckets (their keys) this pass owns.
#[derive(Debug, Default)]
pub struct TablesFound {
    /// Accepted pairs.
    pub pairs: Vec<(u32, u32)>,
    /// Counts of the tests.
    pub stats: TableStats,
    /// Per table, in block-pair order, the keys of its oversized buckets.
    pub oversized: Vec<Vec<u64>>,
}

/// [`pairs_within_filtered`] over the buckets `pass` owns ([`Pass`]) of the tables of
/// fingerprint number `f` (which names the tables for the partitions). In
/// [`Pass::Pairs`] the earlier tables' oversized buckets come from every partition.
pub fn pairs_within_in(
    fps: &[u64],
    k: u32,
    limits: Limits,
    keep: impl Fn(u32, u32) -> Option<bool> + Sync,
    pass: Pass<'_>,
    f: usize,
) -> TablesFound {
    assert!(
        fps.len() < u32::MAX as usize,
        "too many fingerprints for one index"
    );
    let t = Tables::new(k);
    let b = t.masks.len();
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut stats = TableStats::default();
    let known: &[Vec<u64>] = match pass {
        Pass::Pairs { oversized, .. } => oversized.simhash.get(f).map_or(&[], |v| v),
        _ => &[],
    };
    // Every table's oversized keys, in block-pair order: finished ones (the whole search)
    // or all of them (round 2 of a partitioned one).
    let mut done: Vec<(usize, usize, HashSet<u64>)> = Vec::new();
    if let Pass::Pairs { .. } = pass {
        let mut n = 0;
        for p in 0..b {
            for q in p + 1..b {
                let big = known
                    .get(n)
                    .map_or_else(HashSet::new, |l| l.iter().copied().collect());
                done.push((p, q, big));
                n += 1;
            }
        }
    }
    let mut owned: Vec<Vec<u64>> = Vec::new();
    let tests = pass.tests_pairs();
    let mut table: Vec<u64> = Vec::new();
    let mut scratch: Vec<u64> = Vec::new();
    let mut wide: Vec<(u64, u32)> = Vec::new();
    let mut n = 0;
    for p in 0..b {
        for q in p + 1..b {
            let id = simhash_table(f, n);
            n += 1;
            let test = |a: u32, c: u32| {
                if !tests {
                    return None;
                }
                let (fa, fc) = (fps[a as usize], fps[c as usize]);
                let diff = fa ^ fc;
                if diff.count_ones() > k || t.compared_before(fa, diff, (p, q), &done) {
                    return None;
                }
                keep(a, c)
            };
            let (found, st, big) = if t.narrow {
                table.clear();
                let entries = fps
                    .par_iter()
                    .enumerate()
                    .map(|(i, &f)| (t.key(f, (p, q)) << 32) | i as u64);
                match pass {
                    Pass::Whole => table.par_extend(entries),
                    _ => table.par_extend(entries.filter(|e| pass.owns(id, e >> 32))),
                }
                radix_sort_by_high(&mut table, &mut scratch, t.key_bits);
                table_pairs(&table, |e| e >> 32, |e| *e as u32, limits, test, |_| {})
            } else {
                wide.clear();
                let entries = fps
                    .par_iter()
                    .enumerate()
                    .map(|(i, &f)| (t.key(f, (p, q)), i as u32));
                match pass {
                    Pass::Whole => wide.par_extend(entries),
                    _ => wide.par_extend(entries.filter(|e| pass.owns(id, e.0))),
                }
                wide.par_sort_unstable();
                table_pairs(&wide, |e| e.0, |e| e.1, limits, test, |_| {})
            };
            out.extend(found);
            stats += st;
            if matches!(pass, Pass::Whole) {
                done.push((p, q, big.iter().copied().collect()));
            }
            owned.push(big);
        }
    }
    out.par_sort_unstable();
    out.dedup();
    TablesFound {
        pairs: out,
        stats,
        oversized: owned,
    }
}

/// The reference: every pair by brute force (for tests and small inputs).
pub fn pairs_within_brute_force(fps: &[u64], k: u32) -> Vec<(u32, u32, u32)> {
    let mut out: Vec<(u32, u32, u32)> = (0..fps.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            (i + 1..fps.len()).filter_map(move |j| {
                let d = (fps[i] ^ fps[j]).count_ones();
                (d <= k).then_some((i as u32, j as u32, d))
            })
        })
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// splitmix64, so the test needs no RNG crate and is the same everywhere.
    pub(crate) fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn flip_bits(mut f: u64, n: u32, rng: &mut u64) -> u64 {
        let mut flipped = 0u64;
        while flipped.count_ones() < n {
            flipped |= 1 << (splitmix(rng) % 64);
        }
        f ^= flipped;
        f
    }

    #[test]
    fn filtered_equals_brute_force_filtered() {
        let mut rng = 9u64;
        let base = splitmix(&mut rng);
        let fps: Vec<u64> = (0..3000)
            .map(|i| {
                if i % 3 == 0 {
                    flip_bits(base, (splitmix(&mut rng) % 5) as u32, &mut rng)
                } else {
                    splitmix(&mut rng)
                }
            })
            .collect();
        let keep = |a: u32, b: u32| (a / 3 + b / 3).is_multiple_of(2);
        let all = pairs_within_brute_force(&fps, 3);
        let want: Vec<(u32, u32)> = all
            .iter()
            .filter(|&&(a, b, _)| keep(a, b))
            .map(|&(a, b, _)| (a, b))
            .collect();
        assert!(want.len() > 100, "{}", want.len());
        // Every third rejected pair is ignored instead (not counted).
        let verdict = |a: u32, b: u32| match (keep(a, b), (a + b) % 3) {
            (true, _) => Some(true),
            (false, 0) => None,
            (false, _) => Some(false),
        };
        let counted = all
            .iter()
            .filter(|&&(a, b, _)| !keep(a, b) && (a + b) % 3 != 0)
            .count();
        let (got, stats) = pairs_within_filtered(&fps, 3, Limits::UNBOUNDED, verdict);
        assert_eq!(got, want);
        assert_eq!(stats.rejected, counted);
        assert_eq!(stats.oversized, 0);
    }

    /// A dense cluster of near-identical fingerprints fills oversized buckets: they are
    /// walked with leaders (bounded comparisons), the cluster stays connected through its
    /// leaders, and a pair elsewhere is still found.
    #[test]
    fn dense_buckets_are_bounded_and_stay_connected() {
        let mut rng = 11u64;
        let base = splitmix(&mut rng);
        let mut fps: Vec<u64> = (0..5000).map(|_| flip_bits(base, 1, &mut rng)).collect();
        let lone = splitmix(&mut rng);
        fps.push(lone);
        fps.push(flip_bits(lone, 2, &mut rng));
        let limits = Limits {
            max_bucket: 50,
            leaders: 8,
        };
        let (got, stats) = pairs_within_filtered(&fps, 3, limits, |_, _| Some(true));
        assert!(got.contains(&(5000, 5001)));
        assert!(stats.oversized > 0 && stats.cut > 0);
        // Far fewer comparisons than the 12.5 million pairs of the cluster.
        assert!(stats.compared < 200_000, "{stats:?}");
        // Every member of the cluster is linked to a leader.
        let linked: std::collections::HashSet<u32> =
            got.iter().flat_map(|&(a, b)| [a, b]).collect();
        assert!((0..5000).all(|i| linked.contains(&i)));
    }

    #[test]
    fn masks_cover_all_bits_once() {
        for b in 2..=18 {
            let m = block_masks(b);
            assert_eq!(m.iter().fold(0u64, |a, x| a | x), u64::MAX);
            assert_eq!(m.iter().map(|x| x.count_ones()).sum::<u32>(), 64);
        }
    }

    #[test]
    fn equals_brute_force_on_100k_with_planted_pairs_at_every_distance() {
        let mut rng = 42u64;
        // k = 1 exercises the wide-key path (three blocks: keys over 32 bits).
        for (k, n) in [(3u32, 100_000), (5, 100_000), (1, 20_000)] {
            let mut fps: Vec<u64> = (0..n).map(|_| splitmix(&mut rng)).collect();
            // Plant pairs at every distance 0..=k+2, including the boundary k and k+1.
            for d in 0..=k + 2 {
                for _ in 0..200 {
                    let base = fps[(splitmix(&mut rng) % fps.len() as u64) as usize];
                    fps.push(flip_bits(base, d, &mut rng));
                }
            }
            // A cluster of many near-identical fingerprints (a long run in one table).
            let base = splitmix(&mut rng);
            for _ in 0..300 {
                fps.push(flip_bits(
                    base,
                    1 + (splitmix(&mut rng) % 2) as u32,
                    &mut rng,
                ));
            }
            let fast = pairs_within(&fps, k);
            let slow = pairs_within_brute_force(&fps, k);
            assert_eq!(fast.len(), slow.len(), "k={k}");
            assert_eq!(fast, slow, "k={k}");
            assert!(
                slow.iter().any(|p| p.2 == k),
                "boundary k={k} must be planted"
            );
            assert!(!fast.iter().any(|p| p.2 > k));
        }
    }
}
