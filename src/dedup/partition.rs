//! The candidate search split by key: every candidate table's key groups are dealt to
//! `parts` partitions by a hash of (table, key), so that separate processes or machines
//! (the Ray job's `pagesieve.keys[p]` and `pagesieve.pairs[p]` tasks) can each generate the
//! pairs of their own groups, and the union of what they find is exactly what
//! [`crate::dedup::candidates::candidate_pairs`] finds in one process.
//!
//! One thing is not local to a group: a pair is compared in the first table where it
//! shares a group *of normal size*, and a later table skips it only when an earlier one
//! compared it. Which groups were oversized is therefore exchanged between two rounds:
//!
//! 1. [`Pass::Oversized`]: each partition finds its own oversized groups (and, for LSH,
//!    the oversized parts they split into) as prefix hashes, one list per table
//!    ([`Oversized`]); no pair is tested.
//! 2. [`Pass::Pairs`]: each partition, given every partition's lists merged
//!    ([`Oversized::merge`]), tests the pairs of its groups exactly as the whole search
//!    would ([`PartPairs`]).
//!
//! [`merge_parts`] joins the partitions' pairs and counts into the candidates and
//! [`crate::dedup::DedupStats`] of the whole search. Every value between the rounds has
//! a byte encoding (a file between tasks), decoded with its damage reported.

use crate::codec::{corrupt, Dec, Enc};
use crate::dedup::buckets::TableStats;
use crate::dedup::candidates::{merge_proposers, Candidate};
use crate::dedup::{DedupStats, Proposers};

/// Which key groups of the candidate tables one call handles.
#[derive(Debug, Clone, Copy)]
pub enum Pass<'a> {
    /// Every group, in one process.
    Whole,
    /// Round 1 for partition `part` of `parts`: its oversized groups only.
    Oversized {
        /// This partition.
        part: u32,
        /// How many there are.
        parts: u32,
    },
    /// Round 2 for partition `part` of `parts`: the pairs of its groups, knowing every
    /// partition's oversized groups.
    Pairs {
        /// This partition.
        part: u32,
        /// How many there are.
        parts: u32,
        /// Every partition's oversized groups, merged.
        oversized: &'a Oversized,
    },
}

impl Pass<'_> {
    /// Whether the group of `key` in table `table` belongs to this pass.
    #[inline]
    pub fn owns(&self, table: u32, key: u64) -> bool {
        match *self {
            Pass::Whole => true,
            Pass::Oversized { part, parts } | Pass::Pairs { part, parts, .. } => {
                part_of(table, key, parts) == part
            }
        }
    }

    /// Whether pairs are tested (not round 1).
    pub fn tests_pairs(&self) -> bool {
        !matches!(self, Pass::Oversized { .. })
    }
}

/// The table number of LSH band `band`.
pub fn lsh_table(band: usize) -> u32 {
    band as u32
}

/// The table number of simhash fingerprint `f`'s block-pair table `t`.
pub fn simhash_table(f: usize, t: usize) -> u32 {
    1 << 16 | (f as u32) << 8 | t as u32
}

/// The partition (of `parts`) that owns the group of `key` in table `table`: a mix of
/// both, so that a table's large groups and the tables themselves spread evenly.
#[inline]
pub fn part_of(table: u32, key: u64, parts: u32) -> u32 {
    if parts <= 1 {
        return 0;
    }
    let mut x = key ^ (u64::from(table) << 40) ^ u64::from(table).rotate_right(7);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    ((u128::from(x) * u128::from(parts)) >> 64) as u32
}

const OVERSIZED_MAGIC: &[u8; 8] = b"PSOVER01";
const PAIRS_MAGIC: &[u8; 8] = b"PSPAIR01";

/// The oversized groups (and split parts) found, as prefix hashes, one list per table:
/// `lsh[band]`, `simhash[f][t]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Oversized {
    /// Per LSH band.
    pub lsh: Vec<Vec<u64>>,
    /// Per simhash fingerprint, per block-pair table.
    pub simhash: Vec<Vec<Vec<u64>>>,
}

impl Oversized {
    /// Every partition's lists joined table by table, each sorted (the order the
    /// partitions arrive in does not matter).
    pub fn merge(parts: impl IntoIterator<Item = Oversized>) -> Oversized {
        let mut all = Oversized::default();
        for p in parts {
            join_lists(&mut all.lsh, p.lsh);
            if all.simhash.len() < p.simhash.len() {
                all.simhash.resize(p.simhash.len(), Vec::new());
            }
            for (into, from) in all.simhash.iter_mut().zip(p.simhash) {
                join_lists(into, from);
            }
        }
        all.lsh.iter_mut().for_each(|l| l.sort_unstable());
        for f in &mut all.simhash {
            f.iter_mut().for_each(|l| l.sort_unstable());
        }
        all
    }

    /// The bytes of a file between the rounds.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.0.extend_from_slice(OVERSIZED_MAGIC);
        put_lists(&mut e, &self.lsh);
        e.u32(self.simhash.len() as u32);
        for f in &self.simhash {
            put_lists(&mut e, f);
        }
        e.0
    }

    /// Reads what [`Oversized::encode`] wrote; damaged bytes are an error.
    pub fn decode(bytes: &[u8]) -> std::io::Result<Oversized> {
        let mut d = magic(bytes, OVERSIZED_MAGIC, "oversized groups")?;
        let lsh = get_lists(&mut d)?;
        let n = d.u32()? as usize;
        let simhash = (0..n)
            .map(|_| get_lists(&mut d))
            .collect::<std::io::Result<_>>()?;
        end(&d)?;
        Ok(Oversized { lsh, simhash })
    }
}

fn join_lists(into: &mut Vec<Vec<u64>>, from: Vec<Vec<u64>>) {
    if into.len() < from.len() {
        into.resize(from.len(), Vec::new());
    }
    for (a, b) in into.iter_mut().zip(from) {
        a.extend(b);
    }
}

/// One partition's round-2 result: the pairs it accepted and the counts of what it
/// tested, per generator table set (`lsh`; one entry per simhash fingerprint).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartPairs {
    /// Pairs from the LSH bands, with their counts (`None`: LSH is off).
    pub lsh: Option<(Vec<(u32, u32)>, TableStats)>,
    /// Pairs from each simhash fingerprint's tables, with their counts.
    pub simhash: Vec<(Vec<(u32, u32)>, TableStats)>,
}

impl PartPairs {
    /// The bytes of a file between the round and the merge.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.0.extend_from_slice(PAIRS_MAGIC);
        e.bool(self.lsh.is_some());
        if let Some(l) = &self.lsh {
            put_found(&mut e, l);
        }
        e.u32(self.simhash.len() as u32);
        for s in &self.simhash {
            put_found(&mut e, s);
        }
        e.0
    }

    /// Reads what [`PartPairs::encode`] wrote; damaged bytes are an error.
    pub fn decode(bytes: &[u8]) -> std::io::Result<PartPairs> {
        let mut d = magic(bytes, PAIRS_MAGIC, "partition pairs")?;
        let lsh = match d.bool()? {
            true => Some(get_found(&mut d)?),
            false => None,
        };
        let n = d.u32()? as usize;
        let simhash = (0..n)
            .map(|_| get_found(&mut d))
            .collect::<std::io::Result<_>>()?;
        end(&d)?;
        Ok(PartPairs { lsh, simhash })
    }
}

/// The candidates and counts of the whole search from every partition's round-2 result:
/// what [`crate::dedup::candidates::candidate_pairs`] returns and adds to `stats` over the
/// same texts. The partitions may come in any order.
pub fn merge_parts(parts: Vec<PartPairs>, stats: &mut DedupStats) -> Vec<Candidate> {
    let mut lsh: Option<(Vec<(u32, u32)>, TableStats)> = None;
    let mut simhash: Vec<(Vec<(u32, u32)>, TableStats)> = Vec::new();
    let join = |into: &mut (Vec<(u32, u32)>, TableStats), (p, s): (Vec<(u32, u32)>, TableStats)| {
        into.0.extend(p);
        into.1 += s;
    };
    for p in parts {
        if let Some(l) = p.lsh {
            join(lsh.get_or_insert_with(Default::default), l);
        }
        if simhash.len() < p.simhash.len() {
            simhash.resize(p.simhash.len(), Default::default());
        }
        for (into, s) in simhash.iter_mut().zip(p.simhash) {
            join(into, s);
        }
    }
    let mut all: Vec<Candidate> = Vec::new();
    let take = |all: &mut Vec<Candidate>, (mut pairs, st): (Vec<(u32, u32)>, TableStats), by| {
        pairs.sort_unstable();
        pairs.dedup();
        all.extend(pairs.into_iter().map(|(a, b)| (a, b, by)));
        st
    };
    if let Some(l) = lsh {
        let st = take(&mut all, l, Proposers::LSH);
        stats.by_generator.lsh += stats.add(st);
    }
    for s in simhash {
        let st = take(&mut all, s, Proposers::SIMHASH);
        stats.by_generator.simhash += stats.add(st);
    }
    merge_proposers(all)
}

fn put_lists(e: &mut Enc, lists: &[Vec<u64>]) {
    e.u32(lists.len() as u32);
    for l in lists {
        e.u32(l.len() as u32);
        l.iter().for_each(|&x| e.u64(x));
    }
}

fn get_lists(d: &mut Dec<'_>) -> std::io::Result<Vec<Vec<u64>>> {
    let n = d.u32()? as usize;
    let mut out = Vec::with_capacity(n.min(1 << 16));
    for _ in 0..n {
        let m = d.u32()? as usize;
        if m > d.0.len() / 8 {
            return Err(corrupt("oversized group list length"));
        }
        out.push((0..m).map(|_| d.u64()).collect::<std::io::Result<_>>()?);
    }
    Ok(out)
}

fn put_found(e: &mut Enc, (pairs, st): &(Vec<(u32, u32)>, TableStats)) {
    for x in [st.compared, st.rejected, st.oversized, st.cut] {
        e.u64(x as u64);
    }
    e.u64(pairs.len() as u64);
    for &(a, b) in pairs {
        e.u32(a);
        e.u32(b);
    }
}

fn get_found(d: &mut Dec<'_>) -> std::io::Result<(Vec<(u32, u32)>, TableStats)> {
    let mut n = || d.u64().map(|x| x as usize);
    let st = TableStats {
        compared: n()?,
        rejected: n()?,
        oversized: n()?,
        cut: n()?,
    };
    let len = d.u64()? as usize;
    if len > d.0.len() / 8 {
        return Err(corrupt("partition pair count"));
    }
    let pairs = (0..len)
        .map(|_| Ok((d.u32()?, d.u32()?)))
        .collect::<std::io::Result<_>>()?;
    Ok((pairs, st))
}

fn magic<'a>(bytes: &'a [u8], want: &[u8; 8], what: &str) -> std::io::Result<Dec<'a>> {
    match bytes.strip_prefix(want.as_slice()) {
        Some(rest) => Ok(Dec(rest)),
        None => Err(corrupt(what)),
    }
}

fn end(d: &Dec<'_>) -> std::io::Result<()> {
    match d.is_empty() {
        true => Ok(()),
        false => Err(corrupt("trailing bytes")),
    }
}

/// The candidate search of `cols` in `parts` partitions run one after another in this
/// process, through the files' encodings: round 1 for every partition, the merge, round
/// 2 for every partition, [`merge_parts`]. What the Ray job's tasks compute, in one
/// place (and the tests' way of checking that it equals the whole search).
pub fn candidate_pairs_partitioned(
    cols: &crate::dedup::columns::Columns<'_>,
    cfg: &crate::dedup::DedupRules,
    parts: u32,
    stats: &mut DedupStats,
) -> std::io::Result<Vec<Candidate>> {
    use crate::dedup::candidates::pairs_in;
    let round1 = (0..parts)
        .map(|part| {
            let (_, big) = pairs_in(cols, cfg, Pass::Oversized { part, parts });
            Oversized::decode(&big.encode())
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let oversized = Oversized::merge(round1);
    let round2 = (0..parts)
        .rev()
        .map(|part| {
            let pass = Pass::Pairs {
                part,
                parts,
                oversized: &oversized,
            };
            PartPairs::decode(&pairs_in(cols, cfg, pass).0.encode())
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    Ok(merge_parts(round2, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::buckets::Limits;
    use crate::dedup::candidates::candidate_pairs;
    use crate::dedup::columns::{ColumnFile, Columns};
    use crate::dedup::shingle::normalize;
    use crate::dedup::{fingerprint, DedupRules, Fingerprint, Item};
    use crate::synth::Rng;

    /// Texts in families: a template shared by many (crowded buckets), near copies with
    /// a few characters changed, and unrelated texts.
    fn texts(rng: &mut Rng, n: usize) -> Vec<String> {
        let alphabet: Vec<char> =
            "医保个人账户门诊住院报销比例异地就医备案缴费年限职工居民药店定点机构"
                .chars()
                .collect();
        let random = |rng: &mut Rng, len: usize| -> String {
            (0..len).map(|_| *rng.pick(&alphabet)).collect()
        };
        let template = random(rng, 300);
        let mut out = Vec::new();
        while out.len() < n {
            let base = match rng.below(3) {
                0 => template.clone(),
                _ => {
                    let len = 80 + rng.below(600);
                    random(rng, len)
                }
            };
            for _ in 0..1 + rng.below(6) {
                let mut cs: Vec<char> = base.chars().collect();
                for _ in 0..rng.below(cs.len() / 8 + 1) {
                    let i = rng.below(cs.len());
                    cs[i] = *rng.pick(&alphabet);
                }
                out.push(normalize(&cs.into_iter().collect::<String>()));
            }
        }
        out.truncate(n);
        out
    }

    fn rules(simhash: bool, max_bucket: usize) -> DedupRules {
        DedupRules {
            simhash,
            fingerprints: if simhash { 2 } else { 1 },
            max_hamming: 6,
            limits: Limits {
                max_bucket,
                leaders: 2,
            },
            ..DedupRules::default()
        }
    }

    #[test]
    fn partitions_find_what_the_whole_search_finds() {
        let mut rng = Rng::new(24);
        let ts = texts(&mut rng, 1500);
        for (simhash, max_bucket) in [(false, 16), (true, 4), (true, 3)] {
            let cfg = rules(simhash, max_bucket);
            let fps: Vec<Fingerprint> = ts.iter().map(|t| fingerprint(t, &cfg)).collect();
            let items: Vec<Item> = crate::dedup::types::items_of(&fps, |i| i % 7 == 0);
            let near: Vec<u32> = (0..items.len() as u32).filter(|i| i % 5 != 1).collect();
            let mut whole_stats = DedupStats::default();
            let whole = candidate_pairs(&items, &near, &cfg, &mut whole_stats);
            assert!(whole.len() > 500, "{}", whole.len());
            assert!(whole_stats.oversized_buckets > 0, "{whole_stats:?}");
            // Through the column file too, as the tasks read it.
            let file =
                ColumnFile::decode(&ColumnFile::encode(&Columns::of(&items, &near, &cfg))).unwrap();
            for parts in [1, 2, 3, 5, 16] {
                let mut stats = DedupStats::default();
                let got =
                    candidate_pairs_partitioned(&file.columns(), &cfg, parts, &mut stats).unwrap();
                assert_eq!(got, whole, "simhash {simhash}, {parts} partitions");
                assert_eq!(stats, whole_stats, "simhash {simhash}, {parts} partitions");
            }
        }
    }

    #[test]
    fn partitions_split_the_keys_evenly() {
        let parts = 16;
        let mut counts = vec![0usize; parts as usize];
        for table in 0..64 {
            for key in 0..2000u64 {
                counts[part_of(table, key * 0x9E37, parts) as usize] += 1;
            }
        }
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*hi < lo + lo / 5, "{counts:?}");
        assert!((0..100).all(|k| part_of(3, k, 1) == 0));
    }

    #[test]
    fn damaged_files_between_the_rounds_are_errors() {
        let big = Oversized {
            lsh: vec![vec![1, 2], vec![]],
            simhash: vec![vec![vec![9]]],
        };
        let bytes = big.encode();
        assert_eq!(Oversized::decode(&bytes).unwrap(), big);
        assert!(Oversized::decode(&bytes[..bytes.len() - 3]).is_err());
        let pairs = PartPairs {
            lsh: Some((vec![(1, 4)], TableStats::default())),
            simhash: vec![],
        };
        let bytes = pairs.encode();
        assert_eq!(PartPairs::decode(&bytes).unwrap(), pairs);
        assert!(PartPairs::decode(&bytes[1..]).is_err());
        let mut long = bytes.clone();
        long.push(0);
        assert!(PartPairs::decode(&long).is_err());
        assert!(ColumnFile::decode(b"PSCOLS01\x05").is_err());
    }
}
