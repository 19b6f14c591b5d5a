//! Stage 1 of the duplicate search: exact groups. Items whose normalized texts are equal
//! (same xxh3-128) form a group; the preferred item is kept, the others are `exact`
//! (hamming 0, similarity 1). Only the groups' representatives go on to the near search.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::keep::{KeepPolicy, KeptBy};
use crate::dedup::order::standing_of;
use crate::dedup::source::{self, ItemSource};
use crate::dedup::{Duplicate, Item, MatchKind, Proposers};

/// Items with equal normalized texts, grouped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExactGroups {
    /// The preferred item of every group (singletons included), ascending.
    pub reps: Vec<u32>,
    /// Each representative with copies → its copies, to redirect if it is dropped.
    pub group_of: HashMap<u32, Vec<u32>>,
    /// Each copy dropped for its representative.
    pub drops: Vec<Duplicate>,
}

/// Groups the texts of `items` by exact hash. Within a group pinned items come first, then
/// the keep policy's order for exact copies; pinned copies (two earlier runs that each
/// kept the text) are left alone. Holds 24 bytes a text (its hash and index, sorted) and
/// the items of one group at a time.
pub fn exact_groups<'s, S>(items: &S, keep: KeepPolicy) -> ExactGroups
where
    S: ItemSource<'s> + ?Sized,
{
    let mut keys: Vec<([u64; 2], u32)> = Vec::with_capacity(items.len());
    source::each(items, 0..items.len() as u32, |i, it| {
        keys.push((it.fp.exact, i))
    });
    keys.par_sort_unstable();
    let mut g = ExactGroups::default();
    for run in keys.chunk_by(|a, b| a.0 == b.0) {
        if let [(_, single)] = run {
            g.reps.push(*single);
            continue;
        }
        let mut group: Vec<(u32, Item<'s>)> = run.iter().map(|&(_, i)| (i, items.get(i))).collect();
        group.sort_by(|(_, a), (_, b)| {
            b.pinned
                .cmp(&a.pinned)
                .then(keep.cmp_exact(&standing_of(a), &standing_of(b)))
        });
        let (rep, rep_item) = &group[0];
        g.reps.push(*rep);
        let rs = standing_of(rep_item);
        let copies: Vec<&(u32, Item<'s>)> = group[1..].iter().filter(|(_, m)| !m.pinned).collect();
        if !copies.is_empty() {
            g.drops.extend(copies.iter().map(|(m, it)| Duplicate {
                member: *m,
                kept: *rep,
                kind: MatchKind::Exact,
                hamming: 0,
                hammings: [0; MAX_FINGERPRINTS],
                similarity: 1.0,
                proposed_by: Proposers::EXACT,
                kept_by: match rep_item.pinned {
                    true => KeptBy::EarlierRun,
                    false => keep.decided_by(&rs, &standing_of(it)),
                },
            }));
            g.group_of
                .insert(*rep, copies.iter().map(|(m, _)| *m).collect());
        }
    }
    items.release();
    g.reps.sort_unstable();
    g
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{fingerprint, DedupRules};

    #[test]
    fn equal_texts_group_and_the_pinned_copy_wins() {
        let rules = DedupRules::default();
        let texts = [
            "医保报销需要哪些材料",
            "医保 报销需要哪些材料。",
            "异地就医怎么备案",
        ];
        let fps: Vec<_> = texts.iter().map(|t| fingerprint(t, &rules)).collect();
        let items: Vec<Item> = crate::dedup::types::items_of(&fps, |i| i == 1);
        let g = exact_groups(&items[..], KeepPolicy::MostCentral);
        assert_eq!(g.reps, [1, 2]);
        assert_eq!(g.group_of[&1], [0]);
        assert_eq!(
            (g.drops[0].member, g.drops[0].kept, g.drops[0].kind),
            (0, 1, MatchKind::Exact)
        );
        assert_eq!(g.drops[0].kept_by, crate::dedup::keep::KeptBy::EarlierRun);
    }
}
