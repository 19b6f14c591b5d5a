//! Stage 5 of the duplicate search: clusters. Union-find over the verified pairs, walked
//! in sorted order, gives the groups; inside a group the preferred member under the keep
//! policy's total order is kept and every other member is verified against *it* (not
//! just against a neighbour): a member that fails starts the next star among the rest, so
//! a chain A≈B≈C never drops C as a duplicate of a dissimilar A.

use std::collections::HashMap;

use crate::dedup::candidates::Candidate;
use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::keep::{centralities, KeepPolicy, Standing};
use crate::dedup::order::{kept_by, prefer, standing};
use crate::dedup::shingle::jaccard;
use crate::dedup::union_find::UnionFind;
use crate::dedup::verify::Sets;
use crate::dedup::{DedupRules, Duplicate, Item, MatchKind, Proposers};

/// The connected groups of the verified pairs among `members` (local indices, ascending),
/// each sorted, in the order of their smallest member.
pub fn verified_groups(verified: &[Candidate], members: &[u32]) -> Vec<Vec<u32>> {
    let pos: HashMap<u32, usize> = members.iter().enumerate().map(|(i, &m)| (m, i)).collect();
    let mut uf = UnionFind::new(members.len());
    for &(a, b, _) in verified {
        uf.union(pos[&a], pos[&b]);
    }
    let mut groups: HashMap<usize, Vec<u32>> = HashMap::new();
    for &(a, b, _) in verified {
        for x in [a, b] {
            groups.entry(uf.find(pos[&x])).or_default().push(x);
        }
    }
    let mut groups: Vec<Vec<u32>> = groups.into_values().collect();
    for g in &mut groups {
        g.sort_unstable();
        g.dedup();
    }
    groups.sort_by_key(|g| g[0]);
    groups
}

/// The members of a verified group (local indices, ascending; item `near[l]`), best first
/// under the keep policy, each with what the policy compared.
pub fn rank(
    group: &[u32],
    near: &[u32],
    items: &[Item<'_>],
    sets: &Sets,
    keep: KeepPolicy,
) -> Vec<(u32, Standing)> {
    // Input order is the local order: `near` is ascending in item order.
    let centrality = match keep {
        KeepPolicy::MostCentral => centralities(group, |a, b| jaccard(&sets[&a], &sets[&b])),
        _ => vec![0.0; group.len()],
    };
    let mut ranked: Vec<(u32, Standing)> = group
        .iter()
        .zip(centrality)
        .map(|(&l, c)| {
            let s = Standing {
                centrality: c,
                ..standing(items, near[l as usize])
            };
            (l, s)
        })
        .collect();
    ranked.sort_by(|a, b| {
        prefer(
            items,
            keep,
            (near[a.0 as usize], &a.1),
            (near[b.0 as usize], &b.1),
        )
    });
    ranked
}

/// Splits one ranked group into stars: the preferred remaining member is kept and takes
/// every remaining member verified against it; the rest start the next star. `pairs` (the
/// component's candidates, sorted) say what proposed each drop. Returns the drops (item
/// indices) and how many members the first star left out (chain splits).
pub fn star_clusters(
    ranked: &[(u32, Standing)],
    near: &[u32],
    items: &[Item<'_>],
    sets: &Sets,
    cfg: &DedupRules,
    pairs: &[Candidate],
) -> (Vec<Duplicate>, usize) {
    let proposed = |a: u32, b: u32| {
        let key = (a.min(b), a.max(b));
        pairs
            .binary_search_by_key(&key, |&(x, y, _)| (x, y))
            .map_or(Proposers::COMPONENT, |i| pairs[i].2)
    };
    let mut drops = Vec::new();
    let mut splits = 0;
    let mut remaining: Vec<(u32, Standing)> = ranked.to_vec();
    let mut first = true;
    while remaining.len() >= 2 {
        let (kept, kept_standing) = remaining[0];
        let mut rest = Vec::new();
        for &(m, m_standing) in &remaining[1..] {
            if items[near[m as usize] as usize].pinned {
                // Kept by an earlier run: it stays, and may keep members of its own.
                rest.push((m, m_standing));
                continue;
            }
            let sim = jaccard(&sets[&kept], &sets[&m]);
            if sim >= cfg.min_similarity {
                let (gk, gm) = (near[kept as usize], near[m as usize]);
                let (fk, fm) = (&items[gk as usize].fp, &items[gm as usize].fp);
                let hammings: [u32; MAX_FINGERPRINTS] =
                    std::array::from_fn(|i| (fk.simhash(i) ^ fm.simhash(i)).count_ones());
                drops.push(Duplicate {
                    member: gm,
                    kept: gk,
                    kind: MatchKind::Near,
                    hamming: hammings[0],
                    hammings,
                    similarity: sim,
                    proposed_by: proposed(kept, m),
                    kept_by: kept_by(items, cfg.keep, (gk, &kept_standing), &m_standing),
                });
            } else {
                rest.push((m, m_standing));
            }
        }
        if first {
            splits += rest
                .iter()
                .filter(|(m, _)| !items[near[*m as usize] as usize].pinned)
                .count();
            first = false;
        }
        remaining = rest;
    }
    (drops, splits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::shingle::shingle_set;
    use crate::dedup::{fingerprint, Fingerprinted};

    #[test]
    fn groups_follow_verified_pairs_only() {
        let p = Proposers::LSH;
        let g = verified_groups(&[(4, 7, p), (1, 2, p), (2, 9, p)], &[1, 2, 4, 7, 9]);
        assert_eq!(g, [vec![1, 2, 9], vec![4, 7]]);
    }

    #[test]
    fn a_chain_is_split_into_stars_around_the_kept_member() {
        let cfg = DedupRules {
            shingle_chars: 2,
            min_similarity: 0.3,
            keep: KeepPolicy::First,
            ..DedupRules::default()
        };
        // a ≈ b and b ≈ c (bigram Jaccard 9/29 each), a and c share nothing.
        let texts = [
            "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉",
            "甲乙丙丁戊己庚辛壬癸一二三四五六七八九十",
            "天地玄黄宇宙洪荒日月一二三四五六七八九十",
        ];
        let fps: Vec<Fingerprinted> = texts.iter().map(|t| fingerprint(t, &cfg)).collect();
        let items: Vec<Item> = crate::dedup::types::items_of(&fps, |_| false);
        let sets: Sets = (0..3u32)
            .map(|i| (i, shingle_set(texts[i as usize], 2)))
            .collect();
        let near = [0, 1, 2];
        let ranked = rank(&[0, 1, 2], &near, &items, &sets, cfg.keep);
        let (drops, splits) = star_clusters(&ranked, &near, &items, &sets, &cfg, &[]);
        // 0 is kept and takes 1; 2 fails against 0 and is left alone.
        assert_eq!(drops.len(), 1);
        assert_eq!((drops[0].member, drops[0].kept), (1, 0));
        assert_eq!(drops[0].proposed_by, Proposers::COMPONENT);
        assert_eq!(splits, 1);
    }
}
