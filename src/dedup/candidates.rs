//! Stages 2–3 of the duplicate search: candidate keys and the pairs of each key group,
//! screened by the signatures. Every configured generator contributes: MinHash LSH bands
//! ([`crate::dedup::lsh`]: a band key per text and band, [`crate::dedup::lsh::band_table`])
//! and, optionally, simhash block permutations ([`crate::dedup::index`]); dense groups are
//! bounded ([`crate::dedup::buckets`]). A pair whose signatures estimate its similarity
//! below [`crate::dedup::DedupRules::screen_floor`] is dropped as it is found, so on
//! templated text only the survivors are stored. Pairs of two pinned items are never
//! proposed.

use rayon::prelude::*;

use crate::codec::{Dec, Enc};
use crate::dedup::buckets::TableStats;
use crate::dedup::columns::Columns;
use crate::dedup::index::pairs_within_in;
use crate::dedup::lsh::{band_pairs_in, BandTables};
use crate::dedup::minhash::{estimate, prefetch, Signature};
use crate::dedup::pass::{Oversized, PartPairs, Pass};
use crate::dedup::source::ItemSource;
use crate::dedup::{DedupRules, DedupStats, Proposers};

/// A candidate pair (indices into the searched representatives, `a < b`) and what
/// proposed it.
pub type Candidate = (u32, u32, Proposers);

/// Candidate pairs among `near` (indices into `items`, ascending), sorted and distinct, from
/// every configured generator; the returned indices are positions in `near`. Adds the
/// generators' counts to `stats`.
pub fn candidate_pairs<'s, S>(
    items: &S,
    near: &[u32],
    cfg: &DedupRules,
    stats: &mut DedupStats,
) -> Vec<Candidate>
where
    S: ItemSource<'s> + ?Sized,
{
    let cols = Columns::of(items, near, cfg);
    let (found, _) = pairs_in(&cols, cfg, Pass::Whole);
    merge_parts(vec![found], stats)
}

/// The candidate pairs of the key groups `pass` owns, from every configured generator,
/// over `cols` (positions in the search), with the counts of what was tested; and the
/// oversized groups met (what round 1 of a partitioned search reports:
/// [`crate::dedup::partition`]). [`merge_parts`] over every partition's pairs gives
/// [`candidate_pairs`].
pub fn pairs_in(cols: &Columns<'_>, cfg: &DedupRules, pass: Pass<'_>) -> (PartPairs, Oversized) {
    pairs_in_keyed(cols, cfg, pass, None).expect("band tables computed from the signatures")
}

/// [`pairs_in`] with the LSH band tables from `tables` when given
/// ([`crate::dedup::lsh::band_pairs_in`]); its first error stops the search.
pub fn pairs_in_keyed(
    cols: &Columns<'_>,
    cfg: &DedupRules,
    pass: Pass<'_>,
    tables: Option<&mut BandTables<'_>>,
) -> std::io::Result<(PartPairs, Oversized)> {
    let sigs = &cols.sigs;
    // The floor falls with the shorter text's length: a pair's floor is its texts' lower.
    let floors = Floors::new(cfg);
    let chars = &cols.chars;
    let floor = |i: usize| floors.of(cfg, chars[i]);
    let pinned = &cols.pinned;
    let any_pinned = pinned.iter().any(|&p| p);
    // `sa`, `sb`: the pair's signatures, wherever the stage read them from.
    let screen_sigs = |a: u32, b: u32, sa: &Signature, sb: &Signature| {
        let (a, b) = (a as usize, b as usize);
        if any_pinned && pinned[a] && pinned[b] {
            return false;
        }
        estimate(sa, sb) >= floor(a).min(floor(b))
    };
    let screen = |a: u32, b: u32| screen_sigs(a, b, sigs.get(a as usize), sigs.get(b as usize));
    let mut found = PartPairs::default();
    let mut big = Oversized::default();
    if let Some(bands) = cfg.lsh {
        // The band stage prefetches the signatures it gathered itself.
        let ahead = |i: u32| prefetch(&chars[i as usize]);
        let b = band_pairs_in(sigs, bands, cfg.limits, screen_sigs, ahead, pass, tables)?;
        found.lsh = Some((b.pairs, b.stats));
        big.lsh = b.oversized;
    }
    if cfg.simhash {
        let fps = &cols.simhashes;
        for (f, these) in fps.iter().enumerate() {
            // Each pair once, on the first fingerprint within k.
            let keep = |a: u32, b: u32| {
                let (a, b) = (a as usize, b as usize);
                let earlier = fps[..f]
                    .iter()
                    .any(|g| (g[a] ^ g[b]).count_ones() <= cfg.max_hamming);
                (!earlier).then(|| screen(a as u32, b as u32))
            };
            let t = pairs_within_in(these, cfg.max_hamming, cfg.limits, keep, pass, f);
            found.simhash.push((t.pairs, t.stats));
            big.simhash.push(t.oversized);
        }
    }
    Ok((found, big))
}

/// The screen's floors by text length ([`DedupRules::screen_floor`]), from a table for
/// the lengths up to [`Floors::TABLE`] characters: a column of a floor a text was 8
/// bytes a text in every partition task. Past the table the floor is computed (and is
/// constant in `f64` long before it: the sketch's bins are all filled).
struct Floors {
    table: Vec<f64>,
}

impl Floors {
    /// Lengths the table covers.
    const TABLE: u32 = 1 << 14;

    fn new(cfg: &DedupRules) -> Floors {
        Floors {
            table: (0..Self::TABLE).map(|c| cfg.screen_floor(c)).collect(),
        }
    }

    /// The floor of a text of `chars` characters: [`DedupRules::screen_floor`].
    #[inline]
    fn of(&self, cfg: &DedupRules, chars: u32) -> f64 {
        match self.table.get(chars as usize) {
            Some(&f) => f,
            None => cfg.screen_floor(chars),
        }
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

/// Sorts candidate pairs and merges the proposers of a pair found more than once.
pub fn merge_proposers(mut all: Vec<Candidate>) -> Vec<Candidate> {
    all.par_sort_unstable_by_key(|&(a, b, _)| (a, b));
    let mut merged: Vec<Candidate> = Vec::with_capacity(all.len());
    for (a, b, p) in all {
        match merged.last_mut() {
            Some(last) if (last.0, last.1) == (a, b) => last.2 = last.2.union(p),
            _ => merged.push((a, b, p)),
        }
    }
    merged
}

/// Bytes of one encoded candidate: `a`, `b` (u32 each) and the proposer bits.
pub const CANDIDATE_BYTES: usize = 9;

/// Appends candidate pairs as fixed-width little-endian rows (a file between stages).
pub fn encode_candidates(pairs: &[Candidate], out: &mut Enc) {
    for &(a, b, p) in pairs {
        out.u32(a);
        out.u32(b);
        out.u8(p.bits());
    }
}

/// Reads rows written by [`encode_candidates`]; a damaged buffer is an error.
pub fn decode_candidates(bytes: &[u8]) -> std::io::Result<Vec<Candidate>> {
    if !bytes.len().is_multiple_of(CANDIDATE_BYTES) {
        return Err(std::io::Error::other(format!(
            "{} bytes is not a whole number of candidate rows",
            bytes.len()
        )));
    }
    let mut d = Dec(bytes);
    let mut out = Vec::with_capacity(bytes.len() / CANDIDATE_BYTES);
    while !d.0.is_empty() {
        let (a, b) = (d.u32()?, d.u32()?);
        out.push((a, b, Proposers::from_bits(d.u8()?)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::fingerprint;
    use crate::dedup::Item;

    const A: &str = "医保个人账户的钱可以用于门诊使用，包括挂号费、检查费和药品费等个人负担的医疗费用，也可以在定点零售药店购买药品和医疗器械。";

    #[test]
    fn a_near_copy_is_a_candidate_and_an_unrelated_text_is_not() {
        let rules = DedupRules::default();
        let near = A.replace("门诊使用", "门诊和住院使用");
        let texts = [
            A,
            &near,
            "生育津贴由单位向社保经办机构申请，材料包括出生医学证明和住院病历等",
        ];
        let fps: Vec<_> = texts.iter().map(|t| fingerprint(t, &rules)).collect();
        let items: Vec<Item> = crate::dedup::types::items_of(&fps, |_| false);
        let mut stats = DedupStats::default();
        let pairs = candidate_pairs(&items, &[0, 1, 2], &rules, &mut stats);
        assert_eq!(pairs, [(0, 1, Proposers::LSH)]);
        assert!(stats.candidates >= 1 && stats.by_generator.lsh == stats.candidates);
        // Two pinned items are never a pair.
        let pinned: Vec<Item> = items
            .iter()
            .map(|i| Item {
                pinned: true,
                ..i.clone()
            })
            .collect();
        let mut stats = DedupStats::default();
        assert!(candidate_pairs(&pinned, &[0, 1, 2], &rules, &mut stats).is_empty());
    }

    #[test]
    fn the_floor_table_gives_the_computed_floors() {
        for rules in [
            DedupRules::default(),
            DedupRules {
                sketch_margin: 0.0,
                ..DedupRules::default()
            },
        ] {
            let floors = Floors::new(&rules);
            for c in (0..40_000)
                .step_by(7)
                .chain([Floors::TABLE - 1, Floors::TABLE, u32::MAX])
            {
                assert_eq!(floors.of(&rules, c), rules.screen_floor(c), "{c}");
            }
        }
    }

    #[test]
    fn candidates_round_trip_and_proposers_merge() {
        let pairs = merge_proposers(vec![
            (3, 9, Proposers::SIMHASH),
            (0, 1, Proposers::LSH),
            (3, 9, Proposers::LSH),
        ]);
        assert_eq!(
            pairs,
            [
                (0, 1, Proposers::LSH),
                (3, 9, Proposers::LSH.union(Proposers::SIMHASH))
            ]
        );
        let mut e = Enc::default();
        encode_candidates(&pairs, &mut e);
        assert_eq!(e.0.len(), 2 * CANDIDATE_BYTES);
        assert_eq!(decode_candidates(&e.0).unwrap(), pairs);
        assert!(decode_candidates(&e.0[..5]).is_err());
    }
}
