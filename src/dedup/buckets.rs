//! Pairs from one table of `(key, item)` entries sorted by key — an LSH band or a
//! block-permutation table — with the cost of a dense key bounded.
//!
//! Items sharing a key form a bucket. A bucket of at most `max_bucket` items is enumerated
//! pair by pair. A larger one (templated pages, very short texts, shared boilerplate that
//! survived cleanup) would make the enumeration quadratic. LSH splits it further by more
//! signature bins ([`crate::dedup::lsh`], through [`table_pairs_with`]); what cannot be
//! split (a simhash block table, or an LSH part of near-identical texts) is walked once in
//! item order with *leaders*: each item is compared with the bucket's leaders, and an
//! item that matches none of them becomes a leader while there are fewer than `leaders`.
//! Items that are alike therefore meet through a common leader (a bucket of 50,000
//! near-identical pages costs 50,000 comparisons and still forms one component), and the
//! pairs not compared are counted (`cut`). A pair is still proposed by any other table where it
//! shares a bucket of normal size.

use rayon::prelude::*;

/// How dense buckets are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Buckets of up to this many items are enumerated pair by pair.
    pub max_bucket: usize,
    /// Larger buckets compare each item with at most this many leaders.
    pub leaders: usize,
}

impl Limits {
    /// Every bucket enumerated pair by pair (tests, and the reference).
    pub const UNBOUNDED: Limits = Limits {
        max_bucket: usize::MAX,
        leaders: usize::MAX,
    };
}

/// What one table's enumeration did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStats {
    /// Pairs tested (`test` returned a verdict).
    pub compared: usize,
    /// Of those, rejected.
    pub rejected: usize,
    /// Buckets larger than `max_bucket`.
    pub oversized: usize,
    /// Pairs of oversized buckets that were not looked at.
    pub cut: usize,
}

impl std::ops::AddAssign for TableStats {
    fn add_assign(&mut self, o: TableStats) {
        self.compared += o.compared;
        self.rejected += o.rejected;
        self.oversized += o.oversized;
        self.cut += o.cut;
    }
}

/// How far ahead of its comparisons a leader walk asks for a member's data.
const PREFETCH_AHEAD: usize = 8;

/// The pairs of one sorted table that `test` keeps, as `(a, b)` with `a < b`, with the
/// table's stats and the keys of its oversized buckets, which are walked with leaders.
/// `test(a, b)` returns `None` for a pair that is not this table's to decide (outside the
/// distance, or already compared in an earlier table), `Some(true)` to keep it,
/// `Some(false)` to reject it. `prefetch(i)` is called a little before item `i` is first
/// tested, to start loading what `test` reads.
pub fn table_pairs<T, K>(
    table: &[T],
    key: impl Fn(&T) -> K + Sync,
    item: impl Fn(&T) -> u32 + Sync,
    limits: Limits,
    test: impl Fn(u32, u32) -> Option<bool> + Sync,
    prefetch: impl Fn(u32) + Sync,
) -> (Vec<(u32, u32)>, TableStats, Vec<K>)
where
    T: Sync,
    K: PartialEq + Send,
{
    let pairer = Pairer {
        test: &test,
        prefetch: &prefetch,
    };
    let leaders = |k: K, members: &[u32], out: &mut Found, big: &mut Vec<K>| {
        big.push(k);
        pairer.with_leaders(members, limits.leaders, out)
    };
    let (found, big) = table_pairs_with(table, key, item, limits.max_bucket, &pairer, leaders);
    let (found, stats) = found.into_parts();
    (found, stats, big)
}

/// [`table_pairs`] with the handling of an oversized bucket (more than `max_bucket`
/// items) left to `oversized(key, members, out, big)`: it compares what it chooses of the
/// members (in item order), pushes onto `big` what later tables must know of the bucket,
/// and returns the number of pairs it looked at. Every bucket of normal size is compared
/// pair by pair; the oversized ones and their pairs not looked at are counted.
pub fn table_pairs_with<T, K, B, F, P>(
    table: &[T],
    key: impl Fn(&T) -> K + Sync,
    item: impl Fn(&T) -> u32 + Sync,
    max_bucket: usize,
    pairer: &Pairer<'_, F, P>,
    oversized: impl Fn(K, &[u32], &mut Found, &mut Vec<B>) -> usize + Sync,
) -> (Found, Vec<B>)
where
    T: Sync,
    K: PartialEq + Send,
    B: Send,
    F: Fn(u32, u32) -> Option<bool> + Sync,
    P: Fn(u32) + Sync,
{
    runs(table, &key)
        .par_iter()
        .fold(
            || (Found::default(), Vec::new(), Vec::new()),
            |(mut out, mut big, mut members), &(s, e)| {
                members.clear();
                members.extend(table[s..e].iter().map(&item));
                if members.len() <= max_bucket {
                    pairer.every_pair(&members, &mut out);
                } else {
                    let looked = oversized(key(&table[s]), &members, &mut out, &mut big);
                    out.stats.oversized += 1;
                    out.stats.cut += pairs_of(members.len()) - looked;
                }
                (out, big, members)
            },
        )
        .map(|(out, big, _)| (out, big))
        .reduce(
            || (Found::default(), Vec::new()),
            |(a, mut ba), (b, bb)| {
                ba.extend(bb);
                (a.merge(b), ba)
            },
        )
}

/// The number of pairs among `n` items.
pub fn pairs_of(n: usize) -> usize {
    n * n.saturating_sub(1) / 2
}

/// Pairs kept so far and the counts of the comparisons.
#[derive(Debug, Default)]
pub struct Found {
    /// Kept pairs, `(a, b)` with `a < b`.
    pub pairs: Vec<(u32, u32)>,
    /// What the comparisons did.
    pub stats: TableStats,
}

impl Found {
    /// Both, one after the other (for a parallel reduce).
    pub fn merge(mut self, o: Found) -> Found {
        self.pairs.extend(o.pairs);
        self.stats += o.stats;
        self
    }

    /// The pairs and the stats.
    pub fn into_parts(self) -> (Vec<(u32, u32)>, TableStats) {
        (self.pairs, self.stats)
    }
}

/// Compares the members of one bucket: every pair, or each with the leaders.
pub struct Pairer<'a, F, P> {
    /// The verdict on a pair (see [`table_pairs`]).
    pub test: &'a F,
    /// Starts loading what `test` will read of an item.
    pub prefetch: &'a P,
}

impl<F, P> Pairer<'_, F, P>
where
    F: Fn(u32, u32) -> Option<bool>,
    P: Fn(u32),
{
    /// Tests every pair of `members`.
    pub fn every_pair(&self, members: &[u32], out: &mut Found) {
        members.iter().for_each(|&m| (self.prefetch)(m));
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                self.verdict(a, b, out);
            }
        }
    }

    /// Compares each member with the leaders before it; a member matching none becomes a
    /// leader while there are fewer than `max_leaders`. Returns the pairs looked at.
    pub fn with_leaders(&self, members: &[u32], max_leaders: usize, out: &mut Found) -> usize {
        let mut leaders: Vec<u32> = Vec::new();
        let mut looked = 0usize;
        members
            .iter()
            .take(PREFETCH_AHEAD)
            .for_each(|&m| (self.prefetch)(m));
        for (x, &m) in members.iter().enumerate() {
            if let Some(&next) = members.get(x + PREFETCH_AHEAD) {
                (self.prefetch)(next);
            }
            let mut matched = false;
            for &l in &leaders {
                looked += 1;
                matched |= self.verdict(l, m, out);
            }
            if !matched && leaders.len() < max_leaders {
                leaders.push(m);
            }
        }
        looked
    }

    /// Tests one pair; whether it was kept.
    fn verdict(&self, a: u32, b: u32, out: &mut Found) -> bool {
        let (a, b) = (a.min(b), a.max(b));
        match (self.test)(a, b) {
            Some(true) => {
                out.stats.compared += 1;
                out.pairs.push((a, b));
                true
            }
            Some(false) => {
                out.stats.compared += 1;
                out.stats.rejected += 1;
                false
            }
            None => false,
        }
    }
}

/// Runs `[start, end)` of two or more equal keys in a sorted table.
pub fn runs<T, K: PartialEq>(table: &[T], key: impl Fn(&T) -> K) -> Vec<(usize, usize)> {
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

/// LSD radix sort of `v` by its top `key_bits` bits (above bit 32), 11 bits a pass; stable,
/// so entries `key << 32 | item` built in item order stay in item order within a key.
pub fn radix_sort_by_high(v: &mut Vec<u64>, scratch: &mut Vec<u64>, key_bits: u32) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[(u64, u32)]) -> Vec<(u64, u32)> {
        let mut t = keys.to_vec();
        t.sort();
        t
    }

    #[test]
    fn small_buckets_give_every_pair_and_big_ones_are_bounded() {
        // Key 1: 3 items (small); key 2: 1,000 items (oversized at max 100).
        let mut keys = vec![(1, 7), (1, 3), (1, 9), (0, 5)];
        keys.extend((0..1000).map(|i| (2u64, 100 + i)));
        let t = table(&keys);
        let limits = Limits {
            max_bucket: 100,
            leaders: 4,
        };
        // Items 100..1100 are alike in groups by i % 2 (two "clusters" in the bucket).
        let test = |a: u32, b: u32| Some(a < 100 || (a % 2 == b % 2));
        let (found, st, big) = table_pairs(&t, |e| e.0, |e| e.1, limits, test, |_| {});
        assert!(found.contains(&(3, 7)) && found.contains(&(3, 9)) && found.contains(&(7, 9)));
        assert_eq!(big, [2]);
        assert_eq!(st.oversized, 1);
        // Two leaders (100 and 101) take everyone: 998 members × 2 leaders + 1 comparison.
        let in_big = found.iter().filter(|p| p.0 >= 100).count();
        assert_eq!(in_big, 998);
        assert_eq!(st.compared, 3 + 1 + 998 * 2);
        assert_eq!(st.cut, 1000 * 999 / 2 - (1 + 998 * 2));
    }

    #[test]
    fn leaders_are_capped_when_nothing_matches() {
        let t: Vec<(u64, u32)> = (0..500).map(|i| (9u64, i)).collect();
        let limits = Limits {
            max_bucket: 10,
            leaders: 3,
        };
        let (found, st, _) = table_pairs(&t, |e| e.0, |e| e.1, limits, |_, _| Some(false), |_| {});
        assert!(found.is_empty());
        // Leaders 0, 1, 2; everyone else compared with the three.
        assert_eq!(st.compared, 1 + 2 + 497 * 3);
    }

    #[test]
    fn radix_sort_sorts_by_key_stably() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 33
        };
        let mut v: Vec<u64> = (0..10_000)
            .map(|i| ((next() % (1 << 26)) << 32) | i)
            .collect();
        let mut want = v.clone();
        want.sort_by_key(|x| x >> 32);
        radix_sort_by_high(&mut v, &mut Vec::new(), 26);
        assert_eq!(v, want);
    }
}
