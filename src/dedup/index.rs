//! Candidate pairs within Hamming distance `k`, by block permutation, never all pairs.
//!
//! Manku, Jain & Das Sarma (WWW 2007): cut the 64 bits into `b = k + 2` blocks. Two
//! fingerprints within distance `k` differ in at most `k` blocks, so they agree exactly on at
//! least two blocks. For every pair of blocks `(p, q)` we sort the fingerprints by those two
//! blocks' bits and compare only fingerprints that share them; every pair within `k` is
//! found (the boundary `k` included), and each pair is reported once — by the first block
//! pair on which it agrees. One table lives at a time, so memory is the fingerprints plus
//! one `(key, index)` array: 8 + 16 bytes per fingerprint.

use rayon::prelude::*;

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
    pairs_within_filtered(fps, k, |_, _| Some(true)).0
}

/// [`pairs_within`] keeping only the pairs `keep(i, j)` accepts (`Some(true)`); it rejects
/// a pair with `Some(false)` (counted: the second value returned) or ignores it with `None`
/// (not counted). The filter runs as pairs are found, so a dense corpus (many pairs within
/// `k`) costs time but not memory: only the pairs kept are ever stored, and the count is
/// kept per worker, not in a shared counter every pair would contend for.
pub fn pairs_within_filtered(
    fps: &[u64],
    k: u32,
    keep: impl Fn(u32, u32) -> Option<bool> + Sync,
) -> (Vec<(u32, u32, u32)>, usize) {
    assert!(
        fps.len() < u32::MAX as usize,
        "too many fingerprints for one index"
    );
    let b = k as usize + 2;
    let masks = block_masks(b);
    let mut out: Vec<(u32, u32, u32)> = Vec::new();
    let mut rejected = 0;
    // One table at a time: `key << 32 | index` in one u64, radix-sorted by key. The key is
    // the bits of two blocks packed together (at most 2·⌈64/b⌉ ≤ 32 bits when k ≥ 2).
    let key_bits = 2 * 64usize.div_ceil(b);
    let mut table: Vec<u64> = Vec::new();
    let mut scratch: Vec<u64> = Vec::new();
    let mut wide: Vec<(u64, u32)> = Vec::new();
    for p in 0..b {
        for q in p + 1..b {
            let found = if key_bits <= 32 {
                let (lp, wp) = (masks[p].trailing_zeros(), masks[p].count_ones());
                let lq = masks[q].trailing_zeros();
                let (mp, mq) = (masks[p], masks[q]);
                table.clear();
                table.par_extend(fps.par_iter().enumerate().map(|(i, &f)| {
                    let key = (((f & mq) >> lq) << wp) | ((f & mp) >> lp);
                    (key << 32) | i as u64
                }));
                radix_sort_by_high(&mut table, &mut scratch, key_bits as u32);
                scan_runs(
                    &table,
                    |e| e >> 32,
                    |e| *e as u32,
                    fps,
                    k,
                    &masks,
                    (p, q),
                    &keep,
                )
            } else {
                let mask = masks[p] | masks[q];
                wide.clear();
                wide.par_extend(
                    fps.par_iter()
                        .enumerate()
                        .map(|(i, &f)| (f & mask, i as u32)),
                );
                wide.par_sort_unstable();
                scan_runs(&wide, |e| e.0, |e| e.1, fps, k, &masks, (p, q), &keep)
            };
            out.extend(found.0);
            rejected += found.1;
        }
    }
    out.par_sort_unstable();
    (out, rejected)
}

/// Compares every pair inside each run of equal keys and keeps those within `k` whose first
/// agreeing block pair is `pq` (so each pair is reported by exactly one table) and that
/// `keep` accepts.
#[allow(clippy::too_many_arguments)]
fn scan_runs<T: Sync, K: PartialEq>(
    table: &[T],
    key: impl Fn(&T) -> K + Sync,
    idx: impl Fn(&T) -> u32 + Sync,
    fps: &[u64],
    k: u32,
    masks: &[u64],
    pq: (usize, usize),
    keep: &(impl Fn(u32, u32) -> Option<bool> + Sync),
) -> (Vec<(u32, u32, u32)>, usize) {
    runs(table, &key)
        .par_iter()
        .fold(
            || (Vec::new(), 0usize),
            |(mut found, mut rejected), &(s, e)| {
                let run = &table[s..e];
                for x in 0..run.len() {
                    for y in x + 1..run.len() {
                        let (i, j) = (idx(&run[x]), idx(&run[y]));
                        let diff = fps[i as usize] ^ fps[j as usize];
                        let d = diff.count_ones();
                        if d > k || first_agreeing_pair(diff, masks) != pq {
                            continue;
                        }
                        let (a, b) = (i.min(j), i.max(j));
                        match keep(a, b) {
                            Some(true) => found.push((a, b, d)),
                            Some(false) => rejected += 1,
                            None => {}
                        }
                    }
                }
                (found, rejected)
            },
        )
        .reduce(
            || (Vec::new(), 0),
            |(mut a, ra), (b, rb)| {
                a.extend(b);
                (a, ra + rb)
            },
        )
}

/// LSD radix sort of `v` by its top `key_bits` bits (above bit 32), 11 bits a pass.
fn radix_sort_by_high(v: &mut Vec<u64>, scratch: &mut Vec<u64>, key_bits: u32) {
    const DIGIT: u32 = 11;
    scratch.clear();
    scratch.resize(v.len(), 0);
    let mut shift = 32;
    while shift < 32 + key_bits {
        let mut counts = vec![0usize; 1 << DIGIT];
        for &x in v.iter() {
            counts[((x >> shift) & ((1 << DIGIT) - 1)) as usize] += 1;
        }
        let mut sum = 0;
        for c in counts.iter_mut() {
            let n = *c;
            *c = sum;
            sum += n;
        }
        for &x in v.iter() {
            let d = ((x >> shift) & ((1 << DIGIT) - 1)) as usize;
            scratch[counts[d]] = x;
            counts[d] += 1;
        }
        std::mem::swap(v, scratch);
        shift += DIGIT;
    }
}

/// Runs `[start, end)` of two or more equal keys in a sorted table.
fn runs<T, K: PartialEq>(table: &[T], key: impl Fn(&T) -> K) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    let mut s = 0;
    for i in 1..=table.len() {
        if i == table.len() || key(&table[i]) != key(&table[s]) {
            if i - s >= 2 {
                v.push((s, i));
            }
            s = i;
        }
    }
    v
}

/// The lexicographically first pair of blocks on which two fingerprints (given by their xor)
/// agree exactly.
fn first_agreeing_pair(diff: u64, masks: &[u64]) -> (usize, usize) {
    let mut first = None;
    for (i, m) in masks.iter().enumerate() {
        if diff & m == 0 {
            match first {
                None => first = Some(i),
                Some(f) => return (f, i),
            }
        }
    }
    (usize::MAX, usize::MAX)
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
        let want: Vec<_> = all
            .iter()
            .copied()
            .filter(|&(a, b, _)| keep(a, b))
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
        assert_eq!(pairs_within_filtered(&fps, 3, verdict), (want, counted));
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
    fn radix_sort_sorts_by_key() {
        let mut rng = 7u64;
        let mut v: Vec<u64> = (0..10_000)
            .map(|i| ((splitmix(&mut rng) % (1 << 26)) << 32) | i)
            .collect();
        let mut want = v.clone();
        want.sort_by_key(|x| x >> 32);
        radix_sort_by_high(&mut v, &mut Vec::new(), 26);
        // LSD radix sort is stable: equal keys keep index order, as the stable sort does.
        assert_eq!(v, want);
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
