//! Stage 1 of the duplicate search: exact groups. Items whose normalized texts are equal
//! (same xxh3-128) form a group; the preferred item is kept, the others are `exact`
//! (hamming 0, similarity 1). Only the groups' representatives go on to the near search.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::keep::KeepPolicy;
use crate::dedup::order::{kept_by, standing};
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

/// Groups `items` by exact hash. Within a group pinned items come first, then the keep
/// policy's order for exact copies; pinned copies (two earlier runs that each kept the
/// text) are left alone.
pub fn exact_groups(items: &[Item<'_>], keep: KeepPolicy) -> ExactGroups {
    let mut idx: Vec<u32> = (0..items.len() as u32).collect();
    let exact = |i: u32| items[i as usize].fp.exact;
    let pinned = |i: u32| items[i as usize].pinned;
    idx.par_sort_unstable_by(|&a, &b| {
        exact(a)
            .cmp(&exact(b))
            .then(pinned(b).cmp(&pinned(a)))
            .then(keep.cmp_exact(&standing(items, a), &standing(items, b)))
    });
    let mut g = ExactGroups::default();
    for run in idx.chunk_by(|&a, &b| exact(a) == exact(b)) {
        let rep = run[0];
        g.reps.push(rep);
        let copies: Vec<u32> = run[1..].iter().copied().filter(|&m| !pinned(m)).collect();
        if !copies.is_empty() {
            let rs = standing(items, rep);
            g.drops.extend(copies.iter().map(|&m| Duplicate {
                member: m,
                kept: rep,
                kind: MatchKind::Exact,
                hamming: 0,
                hammings: [0; MAX_FINGERPRINTS],
                similarity: 1.0,
                proposed_by: Proposers::EXACT,
                kept_by: kept_by(items, keep, (rep, &rs), &standing(items, m)),
            }));
            g.group_of.insert(rep, copies);
        }
    }
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
        let g = exact_groups(&items, KeepPolicy::MostCentral);
        assert_eq!(g.reps, [1, 2]);
        assert_eq!(g.group_of[&1], [0]);
        assert_eq!(
            (g.drops[0].member, g.drops[0].kept, g.drops[0].kind),
            (0, 1, MatchKind::Exact)
        );
        assert_eq!(g.drops[0].kept_by, crate::dedup::keep::KeptBy::EarlierRun);
    }
}
