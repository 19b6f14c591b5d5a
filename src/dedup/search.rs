//! The duplicate search, composed from its stages ([`crate::dedup`] has the map):
//!
//! 1. **Exact** groups ([`crate::dedup::exact`]); only their representatives go on.
//! 2. **Candidates** among the representatives that are long enough: candidate keys and
//!    the pairs of each key group, screened by the signatures
//!    ([`crate::dedup::candidates`]).
//! 3. **Verification**, one connected component of candidates at a time
//!    ([`crate::dedup::components`], [`crate::dedup::verify`]), in parallel and in a fixed
//!    order, the texts of the next components asked for ahead ([`crate::dedup::queue`]).
//! 4. **Clusters**: verified groups split into stars around the preferred member
//!    ([`crate::dedup::clusters`]).
//!
//! Every decision records which generator proposed the pair, or that it was verified
//! against the kept item because both were in one component. Nothing here depends on
//! thread timing.

use std::collections::HashMap;

use crate::dedup::candidates::{candidate_pairs, Candidate};
use crate::dedup::clusters::{rank, star_clusters, verified_groups};
use crate::dedup::columns::Columns;
use crate::dedup::components::{components, Component};
use crate::dedup::exact::exact_groups;
use crate::dedup::queue::{self, WillNeed};
use crate::dedup::source::{self, ItemSource, Subset};
use crate::dedup::verify::{verify_in_slices, verify_pairs, Sets};
use crate::dedup::{DedupRules, DedupStats, Duplicate, Item};

/// Decides every duplicate among `items`. `shingles(i)` returns item `i`'s sorted, distinct
/// shingle-hash set; it is called only for items that take part in a near decision, and
/// its first error stops the search. Pinned items that cannot meet a new one are left out
/// of the search first ([`crate::dedup::probe`]).
pub fn deduplicate<'s, S, F, E>(
    items: &S,
    cfg: &DedupRules,
    shingles: F,
) -> Result<(Vec<Duplicate>, DedupStats), E>
where
    S: ItemSource<'s> + ?Sized,
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
    E: Send,
{
    deduplicate_with(items, cfg, shingles, None)
}

/// [`deduplicate`], with `will_need(i)` called ahead of `shingles(i)` in verification
/// (from another thread, a few thousand texts ahead): where texts are read from a file,
/// the hint starts the read so that the worker does not wait for it ([`queue`]).
pub fn deduplicate_with<'s, S, F, E>(
    items: &S,
    cfg: &DedupRules,
    shingles: F,
    will_need: Option<WillNeed<'_>>,
) -> Result<(Vec<Duplicate>, DedupStats), E>
where
    S: ItemSource<'s> + ?Sized,
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
    E: Send,
{
    deduplicate_using(items, cfg, shingles, will_need, Stages::default())
}

/// The candidate stage run elsewhere: given the searched texts' columns, the candidates
/// (positions in the columns) and the counts [`candidate_pairs`] would give and add to
/// the stats — the Ray job's partition tasks ([`crate::dedup::partition`]).
pub type CandidateHook<'a, E> =
    &'a (dyn Fn(Columns<'_>, &mut DedupStats) -> Result<Vec<Candidate>, E> + Sync);

/// The verification stage run elsewhere: given the components and the searched items,
/// it hands each component's [`Outcome`] to the sink, in component order — what
/// `verify_component` gives for each (the Ray job's verification tasks:
/// [`crate::dedup::verify_parts`]). The search merges each as it comes, so that a
/// million texts' outcomes are never held at once.
pub type VerifyHook<'a, E> =
    &'a (dyn Fn(&VerifyJob<'_, '_>, &mut dyn FnMut(Outcome)) -> Result<(), E> + Sync);

/// The stages of a search that may run elsewhere (none by default: all in this process).
pub struct Stages<'a, E> {
    /// The candidate stage ([`CandidateHook`]).
    pub candidates: Option<CandidateHook<'a, E>>,
    /// Verification and clusters ([`VerifyHook`]).
    pub verify: Option<VerifyHook<'a, E>>,
}

impl<E> Default for Stages<'_, E> {
    fn default() -> Self {
        Stages {
            candidates: None,
            verify: None,
        }
    }
}

impl<E> Clone for Stages<'_, E> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<E> Copy for Stages<'_, E> {}

/// What the verification stage is given: the components of the candidate graph (their
/// local indices are positions among the searched representatives) and the items of
/// their members only ([`Members`]), and `origin`, which turns an index among the
/// searched items into one among the caller's (they differ when pinned items that
/// cannot meet a new one were left out first: [`deduplicate_using`]).
pub struct VerifyJob<'c, 'i> {
    /// The components, in the order their outcomes are expected.
    pub comps: &'c [Component],
    /// Their members' items.
    pub members: &'c Members<'i>,
    /// A searched item's index among the caller's items.
    pub origin: &'c (dyn Fn(u32) -> u32 + Sync),
}

/// The items of the candidate components' members, read from the source once the
/// candidate stage is done (at most two a candidate pair, where the search would
/// otherwise hold every text's).
pub struct Members<'i> {
    /// Local index → position in `items` (`u32::MAX`: in no component).
    pub slot: Vec<u32>,
    /// The members' items, ascending by index among the searched items.
    pub items: Vec<Item<'i>>,
    /// Each member's index among the searched items.
    pub index: Vec<u32>,
}

impl<'i> Members<'i> {
    /// The members of `comps` (local indices into `near`, which holds indices among the
    /// searched items, ascending), their items read from `items`.
    pub fn of<S>(comps: &[Component], near: &[u32], items: &S) -> Members<'i>
    where
        S: ItemSource<'i> + ?Sized,
    {
        let mut locals: Vec<u32> = comps
            .iter()
            .flat_map(|c| c.members.iter().copied())
            .collect();
        locals.sort_unstable();
        locals.dedup();
        let mut slot = vec![u32::MAX; near.len()];
        for (p, &l) in locals.iter().enumerate() {
            slot[l as usize] = p as u32;
        }
        let index: Vec<u32> = locals.iter().map(|&l| near[l as usize]).collect();
        Members {
            slot,
            items: source::collect(items, &index),
            index,
        }
    }

    /// A position's item index among the searched items.
    pub fn item(&self, pos: u32) -> u32 {
        self.index[pos as usize]
    }
}

/// One component's verification: its drops (item indices), its chain splits and its
/// verified pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The items dropped, each for the item it was verified against.
    pub drops: Vec<Duplicate>,
    /// Members left out of the first star of their group ([`DedupStats::chain_splits`]).
    pub splits: usize,
    /// Candidate pairs that passed verification.
    pub verified: usize,
}

/// [`deduplicate_with`], with the stages `stages` names run elsewhere.
pub fn deduplicate_using<'s, S, F, E>(
    items: &S,
    cfg: &DedupRules,
    shingles: F,
    will_need: Option<WillNeed<'_>>,
    stages: Stages<'_, E>,
) -> Result<(Vec<Duplicate>, DedupStats), E>
where
    S: ItemSource<'s> + ?Sized,
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
    E: Send,
{
    if let Some(keep) = crate::dedup::probe::relevant(items, cfg) {
        if keep.len() < items.len() {
            let keep = &keep;
            let sub = Subset {
                source: items,
                keep,
            };
            let hint = will_need.map(|h| move |i: u32| h(keep[i as usize]));
            let hint = hint.as_ref().map(|h| h as WillNeed<'_>);
            let sets = |i: u32| shingles(keep[i as usize]);
            let origin = |i: u32| keep[i as usize];
            let (dups, stats) = search(&sub, cfg, sets, hint, stages, &origin)?;
            let back = |d: Duplicate| Duplicate {
                member: keep[d.member as usize],
                kept: keep[d.kept as usize],
                ..d
            };
            return Ok((dups.into_iter().map(back).collect(), stats));
        }
    }
    search(items, cfg, shingles, will_need, stages, &|i| i)
}

/// [`deduplicate_with`] over every item given: the stages in order.
fn search<'s, S, F, E>(
    items: &S,
    cfg: &DedupRules,
    shingles: F,
    will_need: Option<WillNeed<'_>>,
    stages: Stages<'_, E>,
    origin: &(dyn Fn(u32) -> u32 + Sync),
) -> Result<(Vec<Duplicate>, DedupStats), E>
where
    S: ItemSource<'s> + ?Sized,
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
    E: Send,
{
    let mut stats = DedupStats::default();
    let exact = exact_groups(items, cfg.keep);
    crate::trim::phase_end("dedup: exact groups");
    let mut near = Vec::new();
    source::each(items, exact.reps.iter().copied(), |r, it| {
        if it.fp.chars as usize >= cfg.min_chars_near {
            near.push(r);
        }
    });
    let t = std::time::Instant::now();
    let cands = match stages.candidates {
        Some(stage) if !near.is_empty() => stage(Columns::of(items, &near, cfg), &mut stats)?,
        _ => candidate_pairs(items, &near, cfg, &mut stats),
    };
    stats.candidate_time = t.elapsed();
    crate::trim::phase_end("dedup: candidates");
    let t = std::time::Instant::now();
    if cands.is_empty() {
        let mut drops = exact.drops;
        drops.sort_by_key(|d| d.member);
        return Ok((drops, stats));
    }
    let comps = components(cands, near.len());
    // Only now are items held again: the components' members'.
    let members = Members::of(&comps, &near, items);
    drop(near);
    crate::trim::phase_end("dedup: components");
    // Keyed by member, not a slot per item: with an earlier run's index, most items are
    // pinned and never dropped.
    let mut by_member: HashMap<u32, Duplicate> =
        exact.drops.into_iter().map(|d| (d.member, d)).collect();
    let mut merge = |o: Outcome| {
        stats.chain_splits += o.splits;
        stats.verified += o.verified;
        for d in o.drops {
            // The dropped representative's exact copies follow it to the kept item.
            if let Some(members) = exact.group_of.get(&d.member) {
                for &m in members {
                    by_member.insert(m, Duplicate { member: m, ..d });
                }
            }
            by_member.insert(d.member, d);
        }
    };
    match stages.verify {
        Some(stage) => {
            let job = VerifyJob {
                comps: &comps,
                members: &members,
                origin,
            };
            stage(&job, &mut merge)?;
        }
        None => {
            let item = |local: u32| members.item(members.slot[local as usize]);
            let hint = will_need.map(|h| move |local: u32| h(item(local)));
            let sets = |pos: u32| shingles(members.item(pos));
            let back = |d: Duplicate| Duplicate {
                member: members.item(d.member),
                kept: members.item(d.kept),
                ..d
            };
            let (slot, its) = (&members.slot, &members.items);
            queue::run(
                &comps,
                |c| &c.members,
                hint.as_ref().map(|h| h as WillNeed<'_>),
                |c| verify_component(c, slot, its, cfg, &sets, MAX_SETS_HELD),
            )?
            .into_iter()
            .for_each(|o| {
                merge(Outcome {
                    drops: o.drops.into_iter().map(back).collect(),
                    ..o
                })
            });
        }
    }
    stats.verify_time = t.elapsed();
    drop((comps, members));
    crate::trim::phase_end("dedup: verification");
    let mut drops: Vec<Duplicate> = by_member.into_values().collect();
    drops.sort_by_key(|d| d.member);
    Ok((drops, stats))
}

/// The most shingle sets one component's verification holds at a time (~16 KB each for a
/// 4k-character text).
pub(crate) const MAX_SETS_HELD: usize = 8192;

/// Verifies the candidate pairs of one component (indices into `near`) exactly, then splits
/// each connected group of verified pairs into stars. A small component keeps its sets for
/// both; a large one is verified in slices of at most `max_sets` texts and each verified
/// group gets its sets again for the stars.
pub(crate) fn verify_component<F, E>(
    comp: &Component,
    near: &[u32],
    items: &[Item<'_>],
    cfg: &DedupRules,
    shingles: &F,
    max_sets: usize,
) -> Result<Outcome, E>
where
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
{
    let (pairs, members) = (&comp.pairs, &comp.members);
    let sets_of = |ms: &[u32]| -> Result<Sets, E> {
        ms.iter()
            .map(|&local| Ok((local, shingles(near[local as usize])?)))
            .collect()
    };
    let all_sets = match members.len() <= max_sets {
        true => Some(sets_of(members)?),
        false => None,
    };
    let verified = match &all_sets {
        Some(sets) => verify_pairs(pairs, sets, cfg.min_similarity),
        None => verify_in_slices(pairs, max_sets, cfg.min_similarity, sets_of)?,
    };
    let mut drops = Vec::new();
    let mut splits = 0;
    for g in &verified_groups(&verified, members) {
        let group_sets;
        let sets = match &all_sets {
            Some(sets) => sets,
            None => {
                group_sets = sets_of(g)?;
                &group_sets
            }
        };
        let ranked = rank(g, near, items, sets, cfg.keep);
        let (d, s) = star_clusters(&ranked, near, items, sets, cfg, pairs);
        drops.extend(d);
        splits += s;
    }
    Ok(Outcome {
        drops,
        splits,
        verified: verified.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::fingerprint::fingerprint;
    use crate::dedup::keep::{KeepPolicy, KeptBy};
    use crate::dedup::shingle::jaccard;
    use crate::dedup::shingle::{normalize, shingle_set};
    use crate::dedup::{Fingerprinted, MatchKind, Proposers};

    /// Items in input order over already computed fingerprints.
    fn items_of(fps: &[Fingerprinted]) -> Vec<Item<'_>> {
        crate::dedup::types::items_of(fps, |_| false)
    }

    /// Shingle sets of already normalized texts, for verification.
    fn sets<'a>(norms: &'a [String], n: usize) -> impl Fn(u32) -> Result<Vec<u64>, ()> + Sync + 'a {
        move |i| Ok(shingle_set(&norms[i as usize], n))
    }

    fn run(texts: &[&str], cfg: &DedupRules) -> Vec<Duplicate> {
        let norms: Vec<String> = texts.iter().map(|t| normalize(t)).collect();
        let fps: Vec<Fingerprinted> = norms.iter().map(|n| fingerprint(n, cfg)).collect();
        let items = items_of(&fps);
        deduplicate(&items, cfg, sets(&norms, cfg.shingle_chars))
            .unwrap()
            .0
    }

    const A: &str = "医保个人账户的钱可以用于门诊使用，包括挂号费、检查费和药品费等个人负担的医疗费用，也可以在定点零售药店购买药品和医疗器械。";

    #[test]
    fn exact_copies_keep_the_first_of_equal_length() {
        let cfg = DedupRules::default();
        let b = A.replace('，', ", ");
        let d = run(
            &[
                A,
                &b,
                "完全不同的一段关于生育津贴申领流程的文字内容，需要单位代为申请。",
            ],
            &cfg,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(
            (d[0].member, d[0].kept, d[0].kind),
            (1, 0, MatchKind::Exact)
        );
    }

    #[test]
    fn near_copy_is_verified_and_the_policy_picks_the_kept_one() {
        let shorter = A.replace(
            "也可以在定点零售药店购买药品和医疗器械。",
            "也可以在定点零售药店购买药品。",
        );
        let longest = DedupRules {
            keep: KeepPolicy::Longest,
            ..DedupRules::default()
        };
        let d = run(&[&shorter, A], &longest);
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!((d[0].member, d[0].kept, d[0].kind), (0, 1, MatchKind::Near));
        assert_eq!(d[0].kept_by, KeptBy::Longest);
        assert!(d[0].similarity >= longest.min_similarity && d[0].similarity < 1.0);
        // The default: a pair is a tie on centrality and on decoding, so input order.
        let d = run(&[&shorter, A], &DedupRules::default());
        assert_eq!((d[0].member, d[0].kept), (1, 0));
        assert_eq!(d[0].kept_by, KeptBy::FirstInInput);
    }

    #[test]
    fn unrelated_texts_with_close_fingerprints_are_not_merged() {
        // With a generous k every pair is a candidate; verification must reject them.
        let cfg = DedupRules {
            max_hamming: 16,
            min_similarity: 0.6,
            ..DedupRules::default()
        };
        let texts = [
            A,
            "异地就医需要先在参保地办理备案手续，备案成功后可以在就医地直接结算住院费用。",
            "城乡居民医保每年集中缴费，个人缴费标准由各地根据财政补助情况确定。",
        ];
        assert!(run(&texts, &cfg).is_empty());
    }

    /// A component too large to hold every shingle set is verified in slices and reaches
    /// the same decisions.
    #[test]
    fn large_components_decide_the_same_in_slices() {
        let cfg = DedupRules::default();
        let base: Vec<String> = (0..6)
            .map(|i| {
                format!(
                    "{A}{}",
                    "第{i}条补充说明：参保人员需携带社保卡办理。".repeat(i + 1)
                )
            })
            .collect();
        let mut texts: Vec<String> = Vec::new();
        for b in &base {
            texts.push(b.clone());
            texts.push(b.replacen("门诊", "住院", 1));
            texts.push(b.replacen("药店", "医院", 1));
        }
        let norms: Vec<String> = texts.iter().map(|t| normalize(t)).collect();
        let fps: Vec<Fingerprinted> = norms.iter().map(|n| fingerprint(n, &cfg)).collect();
        let items = items_of(&fps);
        let near: Vec<u32> = (0..items.len() as u32).collect();
        let mut pairs = Vec::new();
        for a in 0..near.len() as u32 {
            for b in a + 1..near.len() as u32 {
                pairs.push((a, b, Proposers::LSH));
            }
        }
        let sh = sets(&norms, cfg.shingle_chars);
        let at_08 = DedupRules {
            min_similarity: 0.8,
            ..cfg.clone()
        };
        let comp = Component::new(pairs);
        let whole = verify_component(&comp, &near, &items, &at_08, &sh, 1000).unwrap();
        assert!(whole.verified > 0 && !whole.drops.is_empty());
        for limit in [2, 3, 5] {
            assert_eq!(
                verify_component(&comp, &near, &items, &at_08, &sh, limit).unwrap(),
                whole
            );
        }
    }

    #[test]
    fn chains_are_split_not_merged_through_a_middle_member() {
        let cfg = DedupRules {
            max_hamming: 16,
            min_similarity: 0.5,
            shingle_chars: 2,
            ..DedupRules::default()
        };
        // a ≈ b, b ≈ c, a far from c (each step replaces about half the characters).
        let a = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉";
        let b = "甲乙丙丁戊己庚辛壬癸一二三四五六七八九十";
        let c = "天地玄黄宇宙洪荒日月一二三四五六七八九十";
        let norms = [a, b, c];
        let sets: Vec<Vec<u64>> = norms.iter().map(|n| shingle_set(n, 2)).collect();
        assert!(jaccard(&sets[0], &sets[2]) < 0.5);
        let d = run(&norms, &cfg);
        for x in &d {
            let s = jaccard(&sets[x.member as usize], &sets[x.kept as usize]);
            assert!(s >= cfg.min_similarity, "{x:?} verified against kept: {s}");
        }
    }
}
