//! What the rounds of a partitioned candidate search ([`crate::dedup::partition`]) hand
//! each other: which key groups a call handles ([`Pass`], [`part_of`]), the oversized
//! groups round 1 finds ([`Oversized`]) and the pairs round 2 finds ([`PartPairs`]), each
//! with a byte encoding (a file between tasks) decoded with its damage reported.

use crate::codec::{corrupt, Dec, Enc};
use crate::dedup::buckets::TableStats;

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
