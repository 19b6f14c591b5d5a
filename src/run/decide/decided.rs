//! The duplicates among one kind of record, by record index, in two sorted arrays: each
//! dropped record's decision, and each kept record's dropped ones. Phase 2 holds them
//! from the search to the end of the writing; as a hash map of decisions and an ordered
//! map of vectors (one allocation per kept record) they took ~28 MB at a million site
//! pages (~180k duplicates), as arrays ~9 MB.

use crate::dedup::{DedupStats, Duplicate};

/// The duplicates among one kind of record (page indices for articles, snippet indices
/// for snippets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decided {
    /// Each dropped record → its decision (`member` and `kept` are record indices).
    pub dropped: DroppedMap,
    /// Each kept record that has duplicates → the records dropped for it, ascending.
    pub members: MemberLists,
    /// How the search went.
    pub stats: DedupStats,
}

impl Decided {
    /// Decisions over items `0..n` of a search, where item `i` is record `records[i]`.
    /// An item dropped twice keeps its last decision.
    pub fn from_items(duplicates: Vec<Duplicate>, records: &[u32], stats: DedupStats) -> Decided {
        let mut dropped: Vec<Duplicate> = duplicates
            .into_iter()
            .map(|dup| Duplicate {
                member: records[dup.member as usize],
                kept: records[dup.kept as usize],
                ..dup
            })
            .collect();
        // Stable: of two decisions for one record, the later one stays (as a map's
        // insert would).
        dropped.sort_by_key(|d| d.member);
        dropped.reverse();
        dropped.dedup_by_key(|d| d.member);
        dropped.reverse();
        dropped.shrink_to_fit();
        let members = MemberLists::of(dropped.iter().map(|d| (d.kept, d.member)));
        Decided {
            dropped: DroppedMap(dropped),
            members,
            stats,
        }
    }

    /// The record that stands for record `i`: itself, or the one it was dropped for.
    pub fn kept_of(&self, i: u32) -> u32 {
        self.dropped.get(&i).map_or(i, |d| d.kept)
    }
}

/// Each dropped record's decision, sorted by the dropped record (`Duplicate::member`),
/// with the lookups of a map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DroppedMap(Vec<Duplicate>);

impl DroppedMap {
    /// The decision that dropped record `i`, if it was dropped.
    pub fn get(&self, i: &u32) -> Option<&Duplicate> {
        let at = self.0.binary_search_by_key(i, |d| d.member).ok()?;
        Some(&self.0[at])
    }

    /// Whether record `i` was dropped.
    pub fn contains_key(&self, i: &u32) -> bool {
        self.get(i).is_some()
    }

    /// Every decision, by dropped record.
    pub fn values(&self) -> std::slice::Iter<'_, Duplicate> {
        self.0.iter()
    }

    /// How many records were dropped.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no record was dropped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Each kept record that has duplicates → the records dropped for it (ascending), as
/// one array of kept records, one of members and where each one's members start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberLists {
    /// The kept records, ascending.
    kept: Vec<u32>,
    /// `starts[k]..starts[k + 1]` are `kept[k]`'s members in `members`.
    starts: Vec<u32>,
    /// Every member, grouped by kept record, each group ascending.
    members: Vec<u32>,
}

impl MemberLists {
    /// The lists of `(kept, member)` pairs, in any order.
    pub fn of(pairs: impl Iterator<Item = (u32, u32)>) -> MemberLists {
        let mut pairs: Vec<(u32, u32)> = pairs.collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut lists = MemberLists {
            members: Vec::with_capacity(pairs.len()),
            ..MemberLists::default()
        };
        for (kept, member) in pairs {
            if lists.kept.last() != Some(&kept) {
                lists.kept.push(kept);
                lists.starts.push(lists.members.len() as u32);
            }
            lists.members.push(member);
        }
        lists.starts.push(lists.members.len() as u32);
        lists.kept.shrink_to_fit();
        lists.starts.shrink_to_fit();
        lists
    }

    /// The members of kept record `kept`, if it has any.
    pub fn get(&self, kept: &u32) -> Option<&[u32]> {
        let k = self.kept.binary_search(kept).ok()?;
        Some(self.list(k))
    }

    fn list(&self, k: usize) -> &[u32] {
        &self.members[self.starts[k] as usize..self.starts[k + 1] as usize]
    }

    /// Every kept record with its members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = (&u32, &[u32])> + '_ {
        self.kept
            .iter()
            .enumerate()
            .map(|(k, kept)| (kept, self.list(k)))
    }

    /// The kept records that have members, ascending.
    pub fn keys(&self) -> std::slice::Iter<'_, u32> {
        self.kept.iter()
    }

    /// How many kept records have members.
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Whether no record has members.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty()
    }
}

impl std::ops::Index<&u32> for MemberLists {
    type Output = [u32];

    /// The members of `kept`; panics if it has none (tests).
    fn index(&self, kept: &u32) -> &[u32] {
        self.get(kept).expect("a kept record with members")
    }
}

impl std::ops::Index<&u32> for DroppedMap {
    type Output = Duplicate;

    /// The decision that dropped `i`; panics if it was not dropped (tests).
    fn index(&self, i: &u32) -> &Duplicate {
        self.get(i).expect("a dropped record")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::MatchKind;
    use crate::run::decide::tests::dup;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn item_indices_become_record_indices() {
        // Items 0..3 are records 4, 7, 9; item 2 dropped for item 0, item 1 for item 0.
        let d = Decided::from_items(
            vec![dup(2, 0, MatchKind::Near), dup(1, 0, MatchKind::Exact)],
            &[4, 7, 9],
            DedupStats::default(),
        );
        assert_eq!(d.members[&4], [7, 9]);
        assert_eq!((d.dropped[&9].member, d.dropped[&9].kept), (9, 4));
        assert_eq!(d.kept_of(7), 4);
        assert_eq!(d.kept_of(4), 4);
        assert!(d.members.get(&7).is_none() && !d.dropped.contains_key(&4));
    }

    /// The arrays answer as the maps they replace did (the oracle): every lookup, every
    /// list in order, a record decided twice keeping its last decision.
    #[test]
    fn the_arrays_answer_as_the_maps_did() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n) as u32
        };
        let items = 5_000u32;
        let records: Vec<u32> = (0..items).map(|i| i * 3 + 1).collect();
        let dups: Vec<Duplicate> = (0..4_000)
            .map(|n| {
                let kind = if n % 3 == 0 {
                    MatchKind::Near
                } else {
                    MatchKind::Exact
                };
                let mut d = dup(next(items as u64), next(items as u64), kind);
                d.hamming = n;
                d
            })
            .collect();
        let mut dropped: HashMap<u32, Duplicate> = HashMap::new();
        let mut members: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for d in &dups {
            let (member, kept) = (records[d.member as usize], records[d.kept as usize]);
            dropped.insert(member, Duplicate { member, kept, ..*d });
        }
        for d in dropped.values() {
            members.entry(d.kept).or_default().push(d.member);
        }
        members.values_mut().for_each(|v| v.sort_unstable());
        let got = Decided::from_items(dups, &records, DedupStats::default());
        assert_eq!(got.dropped.len(), dropped.len());
        for r in 0..items * 3 + 2 {
            assert_eq!(got.dropped.get(&r), dropped.get(&r), "record {r}");
            assert_eq!(got.members.get(&r), members.get(&r).map(Vec::as_slice));
        }
        let lists: Vec<(u32, Vec<u32>)> =
            got.members.iter().map(|(&k, v)| (k, v.to_vec())).collect();
        assert_eq!(lists, members.into_iter().collect::<Vec<_>>());
        let by_member: Vec<u32> = got.dropped.values().map(|d| d.member).collect();
        assert!(by_member.windows(2).all(|w| w[0] < w[1]));
    }
}
