//! Candidate pairs from MinHash LSH bands: two texts are proposed when all `rows` bins of
//! some band of their signatures agree ([`crate::dedup::minhash`]). A pair with Jaccard
//! similarity `J` is proposed with probability `1 − (1 − J^rows)^bands`, whatever the
//! texts' length; with the defaults (64 bands of 4 rows) that is 0.984 at J = 0.5, 0.998 at
//! 0.55, 0.9999 at 0.6, and 5·10⁻⁴ for an unrelated pair at J = 0.05.
//!
//! One band table lives at a time (`key << 32 | item`, radix-sorted, 16 bytes per text);
//! a pair is compared once, in the first band where it shares a bucket of normal size.
//! An oversized bucket is split by the bins after its band until its parts are of normal
//! size; a part still too large after [`MAX_EXTENSION`] bins is walked with leaders
//! ([`crate::dedup::buckets`]).

use rayon::prelude::*;

use crate::dedup::buckets::{
    pairs_of, radix_sort_by_high, table_pairs_with, Found, Limits, Pairer, TableStats,
};
use crate::dedup::gather::Gathered;
use crate::dedup::minhash::{prefetch, release_ranges, SigColumn, Signature, SIGNATURE_BINS};
use crate::dedup::pass::{lsh_table, Pass};
use crate::prehashed::HashedSet;

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

/// How many bins past its band an oversized bucket may be split by before its members
/// are walked with leaders.
pub const MAX_EXTENSION: usize = 8;

/// The pairs `(a, b)`, `a < b`, of indices into `sigs` that share a band and that `keep`
/// accepts, sorted and distinct, with the counts of the comparisons. `prefetch(i)` is
/// called shortly before text `i` is first compared in a bucket (to start loading what
/// `keep` reads of it).
///
/// A bucket of more than `limits.max_bucket` texts is split by the next bin of the
/// signature (the bins after the band's, wrapping around), again and again while a part
/// is still too large, up to [`MAX_EXTENSION`] bins: texts that agree on the band and on
/// the following bins are compared pair by pair, others are left to the bands where they
/// meet in a bucket of normal size. A part still too large after that (near-identical
/// texts) is walked with leaders.
pub fn band_pairs(
    sigs: &[&Signature],
    bands: Bands,
    limits: Limits,
    keep: impl Fn(u32, u32) -> bool + Sync,
    prefetch: impl Fn(u32) + Sync,
) -> (Vec<(u32, u32)>, TableStats) {
    let keep = |a: u32, b: u32, _: &Signature, _: &Signature| keep(a, b);
    let sigs = SigColumn::Refs(sigs.to_vec());
    let found = band_pairs_in(&sigs, bands, limits, keep, prefetch, Pass::Whole, None)
        .expect("band tables computed from the signatures");
    (found.pairs, found.stats)
}

/// What [`band_pairs_in`] found: the pairs (sorted, distinct), their counts, and each
/// band's oversized buckets and parts as prefix hashes (what round 1 of a partitioned
/// search hands round 2: [`crate::dedup::partition`]).
#[derive(Debug, Default)]
pub struct BandsFound {
    /// Accepted pairs.
    pub pairs: Vec<(u32, u32)>,
    /// Counts of the tests.
    pub stats: TableStats,
    /// Per band, the prefixes of its oversized buckets and parts this pass owns.
    pub oversized: Vec<Vec<u64>>,
}

/// Fills `table` with a band's sorted table for a pass (`scratch`: the sort's buffer).
pub type BandTables<'a> =
    dyn FnMut(usize, &mut Vec<u64>, &mut Vec<u64>) -> std::io::Result<()> + 'a;

/// [`band_pairs`] over the buckets `pass` owns: all of them, or one partition's
/// ([`Pass`]). In [`Pass::Pairs`] the earlier bands' oversized buckets come from every
/// partition, so a pair is tested in the same band as in the whole search.
///
/// Each band's table is computed from the signatures, or taken from
/// `tables(band, table, scratch)` when given, which must give what the signatures give
/// for `pass` (a partition's tables read from the file the search split them into:
/// [`crate::run::partitions`]); its first error stops the search.
///
/// `keep(a, b, sig_a, sig_b)` is given the pair's signatures as the comparisons read
/// them — copies gathered a band slice at a time ([`crate::dedup::gather`]), not the
/// column — so it must not read `sigs` itself; `prefetch(i)` is for what else it reads.
pub fn band_pairs_in(
    sigs: &SigColumn<'_>,
    bands: Bands,
    limits: Limits,
    keep: impl Fn(u32, u32, &Signature, &Signature) -> bool + Sync,
    prefetch: impl Fn(u32) + Sync,
    pass: Pass<'_>,
    tables: Option<&mut BandTables<'_>>,
) -> std::io::Result<BandsFound> {
    let mut computed = |band: usize, table: &mut Vec<u64>, scratch: &mut Vec<u64>| {
        band_table_of(sigs, band, bands.rows, table, scratch, pass, true);
        Ok(())
    };
    let tables: &mut BandTables<'_> = match tables {
        Some(t) => t,
        None => &mut computed,
    };
    assert!(
        sigs.len() < u32::MAX as usize,
        "too many texts for one index"
    );
    let rows = bands.rows;
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut stats = TableStats::default();
    // Each finished band's oversized buckets and parts, as prefix hashes: a pair agreeing
    // on such a band was not necessarily compared there.
    let mut oversized: Vec<HashedSet<u64>> = match pass {
        Pass::Pairs { oversized, .. } => oversized
            .lsh
            .iter()
            .map(|l| l.iter().copied().collect())
            .collect(),
        _ => Vec::new(),
    };
    oversized.resize_with(bands.bands, HashedSet::default);
    let mut owned: Vec<Vec<u64>> = Vec::with_capacity(bands.bands);
    let mut table: Vec<u64> = Vec::new();
    let mut scratch: Vec<u64> = Vec::new();
    let tests = pass.tests_pairs();
    // The signatures a bucket's comparisons read: of every member of a bucket of two or
    // more, or (round 1, which tests no pair) of an oversized bucket's, which is split.
    let wanted = |len: usize| match tests {
        true => len >= 2,
        false => len > limits.max_bucket,
    };
    let key = |e: &u64| (e >> 32) as u32;
    let item = |e: &u64| *e as u32;
    let mut gathered = Gathered::new(sigs);
    for band in 0..bands.bands {
        tables(band, &mut table, &mut scratch)?;
        let mut big: Vec<u64> = Vec::new();
        let mut start = 0;
        while start < table.len() {
            // A slice of the band's buckets at a time, their signatures copied out of the
            // column first ([`crate::dedup::gather`]).
            let len = gathered.slice(&table[start..], key, item, wanted);
            let slice = &table[start..start + len];
            start += len;
            let got = &gathered;
            let test = |a: u32, b: u32| {
                if !tests {
                    return None;
                }
                let (sa, sb) = (got.get(a), got.get(b));
                (!compared_before(sa, sb, band, rows, &oversized)).then(|| keep(a, b, sa, sb))
            };
            let ahead = |i: u32| {
                if tests {
                    crate::dedup::minhash::prefetch(got.get(i));
                    prefetch(i);
                }
            };
            let pairer = Pairer {
                test: &test,
                prefetch: &ahead,
            };
            let split = Split {
                sigs: got,
                band,
                rows,
                limits,
                pairer: &pairer,
            };
            let bucket = |key: u32, items: &[u32], out: &mut Found, big: &mut Vec<u64>| {
                split.bucket(key, items, out, big)
            };
            let (found, part_big) =
                table_pairs_with(slice, key, item, limits.max_bucket, &pairer, bucket);
            let (found, st) = found.into_parts();
            out.extend(found);
            stats += st;
            big.extend(part_big);
        }
        if matches!(pass, Pass::Whole) {
            oversized[band] = big.iter().copied().collect();
        }
        owned.push(big);
    }
    drop(gathered);
    out.par_sort_unstable();
    out.dedup();
    Ok(BandsFound {
        pairs: out,
        stats,
        oversized: owned,
    })
}

/// The candidate keys of one band: `key << 32 | item` for every signature, sorted by key
/// and, within a key, by item (a stable radix sort of entries made in item order), into
/// `table` (`scratch` is the sort's buffer). Equal keys are the band's buckets. Signatures
/// that are pages of a mapped column are released behind the pass (an index segment's
/// tables read every signature once a band and nothing else).
pub fn band_table(
    sigs: &SigColumn<'_>,
    band: usize,
    rows: usize,
    table: &mut Vec<u64>,
    scratch: &mut Vec<u64>,
) {
    band_table_of(sigs, band, rows, table, scratch, Pass::Whole, true)
}

/// [`band_table`] with only the keys `pass` owns: a partition builds and sorts its
/// share of the table, not the whole.
fn band_table_of(
    sigs: &SigColumn<'_>,
    band: usize,
    rows: usize,
    table: &mut Vec<u64>,
    scratch: &mut Vec<u64>,
    pass: Pass<'_>,
    release: bool,
) {
    table.clear();
    // A slice at a time, with `release` the slice's signatures released behind it when
    // they are pages of a mapped column: every band reads four bytes of every signature,
    // so every page of the column, which would otherwise stay counted in the process's
    // memory.
    for range in release_ranges(sigs.len()) {
        let (from, to) = (range.start, range.end);
        let entries = range
            .into_par_iter()
            .map(|i| band_entry(sigs.get(i), i, band, rows));
        match pass {
            Pass::Whole => table.par_extend(entries),
            _ => table.par_extend(entries.filter(|e| pass.owns(lsh_table(band), e >> 32))),
        }
        if release {
            sigs.release(from, to);
        }
    }
    sort_band_table(table, scratch, rows);
}

/// Text `i`'s entry in the table of band `band`: its band key above its index.
#[inline]
pub fn band_entry(s: &Signature, i: usize, band: usize, rows: usize) -> u64 {
    (u64::from(s.band_key(band, rows)) << 32) | i as u64
}

/// Sorts a band table's entries made in text order by key (stable: within a key, by
/// text), as [`band_table`] does.
pub fn sort_band_table(table: &mut Vec<u64>, scratch: &mut Vec<u64>, rows: usize) {
    radix_sort_by_high(table, scratch, (8 * rows.min(4)) as u32);
}

/// A member of an oversized bucket: its index and the bins after the band (big-endian, so
/// that the integers sort as the byte strings do). Only oversized buckets gather these: a
/// band table of 16-byte entries would cost 16 MB more at a million texts, for no speed
/// measured.
#[derive(Debug, Clone, Copy)]
struct Entry {
    item: u32,
    ext: u64,
}

/// The [`MAX_EXTENSION`] bins after band `band`, wrapping around, as a big-endian integer.
#[inline]
fn extension_key(s: &Signature, band: usize, rows: usize) -> u64 {
    (0..MAX_EXTENSION).fold(0u64, |k, d| {
        (k << 8) | u64::from(s.0[extension_bin(band, rows, d)])
    })
}

/// Byte `depth` of an extension key.
#[inline]
fn ext_byte(ext: u64, depth: usize) -> u8 {
    (ext >> (8 * (MAX_EXTENSION - 1 - depth))) as u8
}

/// What splitting one band's oversized buckets needs.
struct Split<'a, F, P> {
    sigs: &'a Gathered<'a>,
    band: usize,
    rows: usize,
    limits: Limits,
    pairer: &'a Pairer<'a, F, P>,
}

impl<F, P> Split<'_, F, P>
where
    F: Fn(u32, u32) -> Option<bool>,
    P: Fn(u32),
{
    /// Compares the members (in item order) of the oversized bucket of band key `key` by
    /// splitting it; pushes the prefixes of the bucket and its oversized parts onto `big`.
    /// Returns the pairs looked at.
    fn bucket(&self, key: u32, items: &[u32], out: &mut Found, big: &mut Vec<u64>) -> usize {
        // The members' copies lie anywhere in the slice's gathered signatures: the lines
        // holding the extension bins of the member `AHEAD` places on are asked for while
        // this one is read (without it, a fifth of the 1M candidate phase waited here).
        const AHEAD: usize = 8;
        let (first, last) = (
            extension_bin(self.band, self.rows, 0),
            extension_bin(self.band, self.rows, MAX_EXTENSION - 1),
        );
        let mut bucket: Vec<Entry> = Vec::with_capacity(items.len());
        for (n, &i) in items.iter().enumerate() {
            if let Some(&later) = items.get(n + AHEAD) {
                let s = self.sigs.get(later);
                prefetch(&s.0[first]);
                prefetch(&s.0[last]);
            }
            bucket.push(Entry {
                item: i,
                ext: extension_key(self.sigs.get(i), self.band, self.rows),
            });
        }
        // Item order within equal extensions: leaders are the earliest.
        bucket.sort_unstable_by_key(|e| (e.ext, e.item));
        self.split(&bucket, 0, root_prefix(key), out, big)
    }

    /// Compares the members of an oversized bucket or part (`prefix`; they agree on the
    /// `depth` bins after the band, and are sorted by their extension keys) in parts
    /// agreeing on the next bin. Returns the pairs looked at.
    fn split(
        &self,
        members: &[Entry],
        depth: usize,
        prefix: u64,
        out: &mut Found,
        big: &mut Vec<u64>,
    ) -> usize {
        big.push(prefix);
        let items = |es: &[Entry]| -> Vec<u32> { es.iter().map(|e| e.item).collect() };
        if depth == MAX_EXTENSION {
            return self
                .pairer
                .with_leaders(&items(members), self.limits.leaders, out);
        }
        let mut looked = 0;
        for part in members.chunk_by(|a, b| ext_byte(a.ext, depth) == ext_byte(b.ext, depth)) {
            if part.len() < 2 {
                continue;
            }
            if part.len() <= self.limits.max_bucket {
                self.pairer.every_pair(&items(part), out);
                looked += pairs_of(part.len());
            } else {
                let p = child_prefix(prefix, ext_byte(part[0].ext, depth));
                looked += self.split(part, depth + 1, p, out, big);
            }
        }
        looked
    }
}

/// The signature bin an oversized bucket of `band` is split by at `depth`: the bins after
/// the band's, wrapping around.
#[inline]
fn extension_bin(band: usize, rows: usize, depth: usize) -> usize {
    ((band + 1) * rows + depth) % SIGNATURE_BINS
}

/// The prefix hash of a band key (depth 0).
#[inline]
fn root_prefix(key: u32) -> u64 {
    mix(u64::from(key) | 1 << 40)
}

/// The prefix hash of a part: its parent's, extended by one bin's byte.
#[inline]
fn child_prefix(parent: u64, byte: u8) -> u64 {
    mix(parent.rotate_left(11) ^ u64::from(byte))
}

#[inline]
fn mix(x: u64) -> u64 {
    let x = (x ^ (x >> 32)).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    x ^ (x >> 32)
}

/// Whether a pair sharing band `band` was compared in an earlier band: it shares an earlier
/// band, and agrees on the bins after it down to a bucket or part of normal size. (A
/// collision of prefix hashes can only make this answer "no" wrongly: a pair compared
/// twice, never one missed.)
#[inline]
fn compared_before(
    a: &Signature,
    b: &Signature,
    band: usize,
    rows: usize,
    oversized: &[HashedSet<u64>],
) -> bool {
    let compared_in = |j: usize| {
        let mut prefix = root_prefix(a.band_key(j, rows));
        for depth in 0..=MAX_EXTENSION {
            if !oversized[j].contains(&prefix) {
                return true;
            }
            let bin = extension_bin(j, rows, depth);
            if depth == MAX_EXTENSION || a.0[bin] != b.0[bin] {
                return false;
            }
            prefix = child_prefix(prefix, a.0[bin]);
        }
        false
    };
    if rows != 4 {
        return (0..band).any(|j| a.band_key(j, rows) == b.band_key(j, rows) && compared_in(j));
    }
    // Four-bin bands, eight bytes at a time: a band agrees when its half of the word's
    // difference is zero.
    let words = |s: &Signature, w: usize| {
        u64::from_le_bytes(s.0[8 * w..8 * w + 8].try_into().expect("8 bytes"))
    };
    (0..band.div_ceil(2)).any(|w| {
        let x = words(a, w) ^ words(b, w);
        let (j0, j1) = (2 * w, 2 * w + 1);
        (x as u32 == 0 && compared_in(j0))
            || (j1 < band && (x >> 32) as u32 == 0 && compared_in(j1))
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
    /// The defaults of `[dedup]`.
    const LIMITS: Limits = Limits {
        max_bucket: 16,
        leaders: 4,
    };

    /// 50,000 random signatures sharing band 0, and one more text `a` in that bucket.
    fn crowd(rng: &mut Rng) -> (Vec<Signature>, Signature) {
        let in_bucket = |rng: &mut Rng| {
            let mut s = random_signature(rng);
            s.0[..4].copy_from_slice(&[7, 7, 7, 7]);
            s
        };
        let sigs = (0..BIG).map(|_| in_bucket(rng)).collect();
        (sigs, in_bucket(rng))
    }

    /// A planted near duplicate inside a 50,000-member bucket of unrelated texts is still
    /// found, with bounded work: the bucket is split by the following bins into parts of
    /// at most 16 (each member compared with at most 15 others), and the pair meets in the
    /// bands of normal size it also shares.
    #[test]
    fn planted_pair_in_a_50000_member_bucket_is_found() {
        let mut rng = Rng::new(50);
        let (mut sigs, a) = crowd(&mut rng);
        let b = edited(&mut rng, &a, 0.4);
        sigs.push(a);
        sigs.push(b);
        let refs: Vec<&Signature> = sigs.iter().collect();
        let bands = Bands { bands: 64, rows: 4 };
        let screen = |x: u32, y: u32| estimate(refs[x as usize], refs[y as usize]) >= 0.4;
        let (pairs, st) = band_pairs(&refs, bands, LIMITS, screen, |_| {});
        assert_eq!(pairs, [(BIG as u32, BIG as u32 + 1)]);
        assert_eq!(st.oversized, 1);
        assert!(st.compared <= (BIG + 2) * 16, "{st:?}");
        assert!(st.cut > 1_000_000_000, "{st:?}");
    }

    /// A pair that shares only one band, whose bucket holds 50,000 texts, is found by
    /// splitting that bucket on the bins after the band (which the pair agrees on and
    /// the crowd does not), where walking it with leaders would miss it.
    #[test]
    fn a_pair_meeting_only_in_an_oversized_bucket_is_found_by_the_split() {
        let mut rng = Rng::new(52);
        let (mut sigs, a) = crowd(&mut rng);
        let mut b = a;
        // Equal on band 0 and the three bins after it; the last bin of every other band
        // differs, and 40% of the bins past band 1.
        for band in 1..64 {
            b.0[4 * band + 3] ^= 0x5a;
        }
        for bin in 8..256 {
            if rng.chance(0.4) {
                b.0[bin] = b.0[bin].wrapping_add(1 + rng.below(255) as u8);
            }
        }
        sigs.push(a);
        sigs.push(b);
        let refs: Vec<&Signature> = sigs.iter().collect();
        let bands = Bands { bands: 64, rows: 4 };
        let shared = (0..64)
            .filter(|&j| refs[BIG].band_key(j, 4) == refs[BIG + 1].band_key(j, 4))
            .count();
        assert_eq!(shared, 1, "the pair shares band 0 only");
        let screen = |x: u32, y: u32| estimate(refs[x as usize], refs[y as usize]) >= 0.4;
        let (pairs, st) = band_pairs(&refs, bands, LIMITS, screen, |_| {});
        assert_eq!(pairs, [(BIG as u32, BIG as u32 + 1)]);
        assert!(st.compared <= (BIG + 2) * 16, "{st:?}");
    }

    /// Splitting never tests a pair twice: a pair is left to a later band only when no
    /// earlier band compared it (brute force over every test made).
    #[test]
    fn no_pair_is_tested_twice_across_bands_and_parts() {
        let mut rng = Rng::new(53);
        let base = random_signature(&mut rng);
        // Three families of near-identical texts: many shared bands, crowded buckets.
        let sigs: Vec<Signature> = (0..3000)
            .map(|i| {
                let mut s = edited(&mut rng, &base, 0.3);
                s.0[0] = (i % 3) as u8;
                s
            })
            .collect();
        let refs: Vec<&Signature> = sigs.iter().collect();
        let bands = Bands { bands: 64, rows: 4 };
        let tested = std::sync::Mutex::new(Vec::new());
        let limits = Limits {
            max_bucket: 8,
            leaders: 2,
        };
        let screen = |x: u32, y: u32| {
            tested.lock().expect("not poisoned").push((x, y));
            estimate(refs[x as usize], refs[y as usize]) >= 0.6
        };
        let (_, st) = band_pairs(&refs, bands, limits, screen, |_| {});
        let mut all = tested.into_inner().expect("not poisoned");
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert!(st.oversized > 0 && st.compared == n, "{st:?}");
        // Only leader walks (past the last bin a bucket may be split by) may test a pair
        // again; they are few here.
        assert!(
            n - all.len() <= n / 100,
            "{} of {n} tested twice",
            n - all.len()
        );
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
        let (pairs, st) = band_pairs(&refs, bands, LIMITS, screen, |_| {});
        let mut linked = vec![false; BIG];
        for &(a, b) in &pairs {
            linked[a as usize] = true;
            linked[b as usize] = true;
        }
        assert!(linked.iter().all(|&l| l));
        // Linear: a few comparisons per member and band (the bulk agrees on the band and
        // the bins after it and meets the leaders; members whose edited bins agree meet
        // in small parts), against 6·10^10 for every pair of every band.
        assert!(st.compared < BIG * 64 * 6, "{st:?}");
        assert!(st.oversized >= 64, "{st:?}");
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
        let (got, st) = band_pairs(&refs, bands, Limits::UNBOUNDED, |_, _| true, |_| {});
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
