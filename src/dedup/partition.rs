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

use crate::dedup::candidates::{merge_parts, pairs_in, Candidate};
use crate::dedup::columns::Columns;
use crate::dedup::pass::{Oversized, PartPairs, Pass};
use crate::dedup::{DedupRules, DedupStats};

/// The candidate search of `cols` in `parts` partitions run one after another in this
/// process, through the files' encodings: round 1 for every partition, the merge, round
/// 2 for every partition, [`merge_parts`]. What the Ray job's tasks compute, in one
/// place (and the tests' way of checking that it equals the whole search).
pub fn candidate_pairs_partitioned(
    cols: &Columns<'_>,
    cfg: &DedupRules,
    parts: u32,
    stats: &mut DedupStats,
) -> std::io::Result<Vec<Candidate>> {
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
    use crate::dedup::buckets::{Limits, TableStats};
    use crate::dedup::candidates::candidate_pairs;
    use crate::dedup::columns::ColumnFile;
    use crate::dedup::pass::part_of;
    use crate::dedup::shingle::normalize;
    use crate::dedup::{fingerprint, Fingerprinted, Item};
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
            let fps: Vec<Fingerprinted> = ts.iter().map(|t| fingerprint(t, &cfg)).collect();
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
                // And as the Ray tasks run it: the band tables split into a file a
                // partition, each round reading its own.
                let dir = tempfile::tempdir().unwrap();
                let mut stats = DedupStats::default();
                let got = crate::run::partitions::in_process(
                    dir.path(),
                    &cfg,
                    parts,
                    &file.columns(),
                    &mut stats,
                )
                .unwrap();
                assert_eq!(
                    got, whole,
                    "split tables, simhash {simhash}, {parts} partitions"
                );
                assert_eq!(stats, whole_stats, "split tables, {parts} partitions");
            }
        }
    }

    #[test]
    fn split_band_tables_of_another_search_or_damaged_are_errors() {
        use crate::run::partitions::{round1, split, tables_file, write_columns};
        let mut rng = Rng::new(5);
        let ts = texts(&mut rng, 200);
        let cfg = rules(false, 16);
        let fps: Vec<Fingerprinted> = ts.iter().map(|t| fingerprint(t, &cfg)).collect();
        let items: Vec<Item> = crate::dedup::types::items_of(&fps, |_| false);
        let near: Vec<u32> = (0..items.len() as u32).collect();
        let dir = tempfile::tempdir().unwrap();
        let columns = write_columns(dir.path(), &Columns::of(&items, &near, &cfg)).unwrap();
        let files = split(&columns, &cfg, 3).unwrap();
        assert_eq!(files.len(), 3);
        assert!(round1(&columns, &cfg, 1, 3).is_ok());
        // Split for 3 partitions, read as one of 4.
        assert!(round1(&columns, &cfg, 1, 4).is_err());
        let t = tables_file(dir.path(), 2);
        let bytes = std::fs::read(&t).unwrap();
        std::fs::write(&t, &bytes[..bytes.len() - 5]).unwrap();
        assert!(round1(&columns, &cfg, 2, 3).is_err());
        let mut long = bytes.clone();
        long.push(0);
        std::fs::write(&t, &long).unwrap();
        assert!(round1(&columns, &cfg, 2, 3).is_err());
        // An entry naming a text the search does not have.
        let mut bad = bytes.clone();
        bad[32 + 8..32 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&t, &bad).unwrap();
        assert!(round1(&columns, &cfg, 2, 3).is_err());
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
