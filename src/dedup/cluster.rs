//! Duplicate decisions: exact groups, then verified near pairs, then clusters.
//!
//! 1. **Exact**: items whose normalized texts are equal (same xxh3-128) form a group; the
//!    preferred item is kept, the others are `exact` (hamming 0, similarity 1).
//! 2. **Candidates**: the kept items of the exact groups that are long enough go through
//!    the generators: MinHash LSH bands ([`crate::dedup::lsh`]) and, when configured,
//!    the simhash block-permutation index ([`crate::dedup::index`]), both with dense
//!    buckets bounded ([`crate::dedup::buckets`]).
//! 3. **Screening**: a candidate pair whose signatures estimate a similarity below
//!    [`DedupRules::screen_floor`] is dropped before any text is read
//!    ([`crate::dedup::minhash`]).
//! 4. **Verification**, one connected component of the remaining candidates at a time (so
//!    only that component's shingle sets are in memory): a pair is a duplicate only if the
//!    exact Jaccard similarity of the two shingle sets is at least `min_similarity`.
//! 5. **Clusters**: union-find over verified pairs, walked in sorted order. Inside a
//!    component the preferred item is kept and every other member is verified against *it*
//!    (not just against a neighbour): a member that fails starts a new cluster among the
//!    rest, so a chain A≈B≈C never drops C as a duplicate of a dissimilar A.
//!
//! Every decision records which generator proposed the pair, or that it was verified
//! against the kept item because both were in one component. Preference (the documented
//! keep policy): the longest normalized text, then the smallest `order` (input order: the
//! smallest source path). Nothing here depends on thread timing.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use serde::{Serialize, Serializer};

use crate::dedup::buckets::TableStats;
use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::index::pairs_within_filtered;
use crate::dedup::keep::{centralities, KeepPolicy, KeptBy, Standing};
use crate::dedup::lsh::band_pairs;
use crate::dedup::minhash::{estimate, prefetch, Signature};
use crate::dedup::queue::{self, WillNeed};
use crate::dedup::shingle::jaccard;
use crate::dedup::{DedupRules, Fingerprint};

/// One text to deduplicate.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// Its fingerprint (borrowed: at a million texts a copy would cost ~200 MB).
    pub fp: &'a Fingerprint,
    /// Replacement characters its decoding produced (the keep policy prefers fewer).
    pub replacements: u32,
    /// Its position in input order (ties in preference go to the smaller).
    pub order: u32,
    /// Kept by an earlier run (`run --against`): never dropped, preferred over every item
    /// that is not pinned, and never compared with another pinned item (their pairs were
    /// decided by the runs that kept them).
    pub pinned: bool,
}

/// Exact or near.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// Same normalized text.
    Exact,
    /// Verified near duplicate.
    Near,
}

impl MatchKind {
    /// `exact` or `near`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchKind::Exact => "exact",
            MatchKind::Near => "near",
        }
    }
}

/// What proposed a pair for verification: generators, as bits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Proposers(u8);

impl Proposers {
    /// Equal normalized texts.
    pub const EXACT: Proposers = Proposers(1);
    /// MinHash LSH bands.
    pub const LSH: Proposers = Proposers(2);
    /// Simhash fingerprints within `max_hamming`.
    pub const SIMHASH: Proposers = Proposers(4);
    /// Not a candidate pair itself: verified against the kept item because both were in
    /// one component of candidate pairs.
    pub const COMPONENT: Proposers = Proposers(8);

    const NAMES: [(Proposers, &'static str); 4] = [
        (Proposers::EXACT, "exact"),
        (Proposers::LSH, "lsh"),
        (Proposers::SIMHASH, "simhash"),
        (Proposers::COMPONENT, "component"),
    ];

    /// Both sets of bits.
    pub fn union(self, o: Proposers) -> Proposers {
        Proposers(self.0 | o.0)
    }

    /// Whether every bit of `o` is set.
    pub fn contains(self, o: Proposers) -> bool {
        self.0 & o.0 == o.0
    }

    /// The names of the bits set, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Proposers::NAMES
            .iter()
            .filter(|(p, _)| self.contains(*p))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl Serialize for Proposers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

/// The decision to drop one item as a duplicate of a kept one, with its evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Duplicate {
    /// Index of the dropped item.
    pub member: u32,
    /// Index of the kept item.
    pub kept: u32,
    /// How they matched.
    pub kind: MatchKind,
    /// Hamming distance of their primary simhashes (`metadata.simhash`).
    pub hamming: u32,
    /// Hamming distance of each of their fingerprints (unused entries 0).
    pub hammings: [u32; MAX_FINGERPRINTS],
    /// Jaccard similarity of their shingle sets.
    pub similarity: f64,
    /// What proposed the pair.
    pub proposed_by: Proposers,
    /// The criterion that kept the other record instead of this one.
    pub kept_by: KeptBy,
}

/// Counters of one deduplication, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DedupStats {
    /// Candidate pairs looked at by the screen, over all generators (a pair both
    /// generators propose is counted by each).
    pub candidates: usize,
    /// The same, per generator.
    pub by_generator: GeneratorCounts,
    /// Candidate pairs screened out by their signatures before verification.
    pub screened: usize,
    /// Candidate pairs that passed verification.
    pub verified: usize,
    /// Members split off a component because they failed verification against its kept item.
    pub chain_splits: usize,
    /// Buckets larger than `dedup.max_bucket`, walked with leaders.
    pub oversized_buckets: usize,
    /// Pairs inside those buckets that were not compared.
    pub bucket_pairs_cut: usize,
    /// Wall time of the candidate search (not in `report.json` → `dedup`, which must not
    /// vary between runs: the run reports it in `timings_ms`).
    #[serde(skip)]
    pub candidate_time: std::time::Duration,
    /// Wall time of verification and clustering.
    #[serde(skip)]
    pub verify_time: std::time::Duration,
}

/// Candidate pairs looked at, per generator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct GeneratorCounts {
    /// By MinHash LSH bands.
    pub lsh: usize,
    /// By simhash fingerprints.
    pub simhash: usize,
}

impl DedupStats {
    fn add(&mut self, st: TableStats) -> usize {
        self.candidates += st.compared;
        self.screened += st.rejected;
        self.oversized_buckets += st.oversized;
        self.bucket_pairs_cut += st.cut;
        st.compared
    }
}

/// What the keep policy compares of item `i` (centrality is filled in per group).
fn standing(items: &[Item<'_>], i: u32) -> Standing {
    let it = &items[i as usize];
    Standing {
        centrality: 0.0,
        replacements: it.replacements,
        chars: it.fp.chars,
        order: it.order,
    }
}

/// Orders two items' standings the keep policy's way, pinned items first.
fn prefer(
    items: &[Item<'_>],
    keep: KeepPolicy,
    a: (u32, &Standing),
    b: (u32, &Standing),
) -> std::cmp::Ordering {
    let pinned = |i: u32| items[i as usize].pinned;
    pinned(b.0).cmp(&pinned(a.0)).then(keep.cmp(a.1, b.1))
}

/// The criterion on which item `kept` beat item `other`.
fn kept_by(
    items: &[Item<'_>],
    keep: KeepPolicy,
    kept: (u32, &Standing),
    other: &Standing,
) -> KeptBy {
    match items[kept.0 as usize].pinned {
        true => KeptBy::EarlierRun,
        false => keep.decided_by(kept.1, other),
    }
}

/// Decides every duplicate among `items`. `shingles(i)` returns item `i`'s sorted, distinct
/// shingle-hash set; it is called only for items that take part in a near decision, and
/// its first error stops the search. Pinned items that cannot meet a new one are left out
/// of the search first ([`crate::dedup::probe`]).
pub fn deduplicate<F, E>(
    items: &[Item<'_>],
    cfg: &DedupRules,
    shingles: F,
) -> Result<(Vec<Duplicate>, DedupStats), E>
where
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
    E: Send,
{
    deduplicate_with(items, cfg, shingles, None)
}

/// [`deduplicate`], with `will_need(i)` called ahead of `shingles(i)` in verification
/// (from another thread, a few thousand texts ahead): where texts are read from a file,
/// the hint starts the read so that the worker does not wait for it ([`queue`]).
pub fn deduplicate_with<F, E>(
    items: &[Item<'_>],
    cfg: &DedupRules,
    shingles: F,
    will_need: Option<WillNeed<'_>>,
) -> Result<(Vec<Duplicate>, DedupStats), E>
where
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
    E: Send,
{
    if items.iter().any(|i| i.pinned) {
        let keep = crate::dedup::probe::relevant(items, cfg);
        if keep.len() < items.len() {
            let sub: Vec<Item<'_>> = keep.iter().map(|&i| items[i as usize]).collect();
            let keep = &keep;
            let hint = will_need.map(|h| move |i: u32| h(keep[i as usize]));
            let hint = hint.as_ref().map(|h| h as WillNeed<'_>);
            let (dups, stats) = search(&sub, cfg, |i| shingles(keep[i as usize]), hint)?;
            let back = |d: Duplicate| Duplicate {
                member: keep[d.member as usize],
                kept: keep[d.kept as usize],
                ..d
            };
            return Ok((dups.into_iter().map(back).collect(), stats));
        }
    }
    search(items, cfg, shingles, will_need)
}

/// [`deduplicate_with`] over every item given.
fn search<F, E>(
    items: &[Item<'_>],
    cfg: &DedupRules,
    shingles: F,
    will_need: Option<WillNeed<'_>>,
) -> Result<(Vec<Duplicate>, DedupStats), E>
where
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
    E: Send,
{
    let mut stats = DedupStats::default();
    // 1. Exact groups.
    let exact = exact_groups(items, cfg.keep);
    // 2–3. Screened candidates among the long-enough representatives.
    let near: Vec<u32> = exact
        .reps
        .iter()
        .copied()
        .filter(|&r| items[r as usize].fp.chars as usize >= cfg.min_chars_near)
        .collect();
    let t = std::time::Instant::now();
    let cands = candidates(items, &near, cfg, &mut stats);
    stats.candidate_time = t.elapsed();
    let t = std::time::Instant::now();
    if cands.is_empty() {
        let mut drops = exact.drops;
        drops.sort_by_key(|d| d.member);
        return Ok((drops, stats));
    }
    // 4–5. Components of the remaining candidates, each verified and clustered on its own:
    //    only one component's shingle sets per thread are held at a time; their texts are
    //    asked for ahead of the work.
    let comps = components(cands, near.len());
    let hint = will_need.map(|h| |local: u32| h(near[local as usize]));
    let near_drops: Vec<(Vec<Duplicate>, usize, usize)> = queue::run(
        &comps,
        |c| &c.members,
        hint.as_ref().map(|h| h as WillNeed<'_>),
        |c| verify_component(c, &near, items, cfg, &shingles, MAX_SETS_HELD),
    )?;
    stats.verify_time = t.elapsed();
    // Keyed by member, not a slot per item: with an earlier run's index, most items are
    // pinned and never dropped.
    let mut by_member: HashMap<u32, Duplicate> =
        exact.drops.into_iter().map(|d| (d.member, d)).collect();
    for (ds, splits, verified) in near_drops {
        stats.chain_splits += splits;
        stats.verified += verified;
        for d in ds {
            // The dropped representative's exact copies follow it to the kept item.
            if let Some(members) = exact.group_of.get(&d.member) {
                for &m in members {
                    by_member.insert(m, Duplicate { member: m, ..d });
                }
            }
            by_member.insert(d.member, d);
        }
    }
    let mut drops: Vec<Duplicate> = by_member.into_values().collect();
    drops.sort_by_key(|d| d.member);
    Ok((drops, stats))
}

/// Items with equal normalized texts, grouped.
struct ExactGroups {
    /// The preferred item of every group (singletons included), ascending.
    reps: Vec<u32>,
    /// Each representative with copies → its copies, to redirect if it is dropped.
    group_of: HashMap<u32, Vec<u32>>,
    /// Each copy dropped for its representative.
    drops: Vec<Duplicate>,
}

fn exact_groups(items: &[Item<'_>], keep: KeepPolicy) -> ExactGroups {
    let mut idx: Vec<u32> = (0..items.len() as u32).collect();
    let exact = |i: u32| items[i as usize].fp.exact;
    let pinned = |i: u32| items[i as usize].pinned;
    idx.par_sort_unstable_by(|&a, &b| {
        exact(a)
            .cmp(&exact(b))
            .then(pinned(b).cmp(&pinned(a)))
            .then(keep.cmp_exact(&standing(items, a), &standing(items, b)))
    });
    let mut g = ExactGroups {
        reps: Vec::new(),
        group_of: HashMap::new(),
        drops: Vec::new(),
    };
    for run in idx.chunk_by(|&a, &b| exact(a) == exact(b)) {
        let rep = run[0];
        g.reps.push(rep);
        // Pinned copies (two earlier runs that each kept the text) are left alone.
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

/// A candidate pair (indices into `near`, `a < b`) and what proposed it.
type Candidate = (u32, u32, Proposers);

/// Candidate pairs, sorted and distinct, from every configured generator; each is screened
/// by the signatures as it is found, so on templated text only the survivors are stored.
fn candidates(
    items: &[Item<'_>],
    near: &[u32],
    cfg: &DedupRules,
    stats: &mut DedupStats,
) -> Vec<Candidate> {
    let fp = |i: u32| items[near[i as usize] as usize].fp;
    // What the screen reads, in `near` order and compact: at a million texts each lookup
    // through `items` would be a cache miss of its own.
    let sigs: Vec<&Signature> = (0..near.len() as u32).map(|i| &fp(i).signature).collect();
    // The floor falls with the shorter text's length: a pair's floor is its texts' lower.
    let floors: Vec<f64> = (0..near.len() as u32)
        .map(|i| cfg.screen_floor(fp(i).chars))
        .collect();
    let pinned: Vec<bool> = near.iter().map(|&i| items[i as usize].pinned).collect();
    let any_pinned = pinned.iter().any(|&p| p);
    let screen = |a: u32, b: u32| {
        let (a, b) = (a as usize, b as usize);
        if any_pinned && pinned[a] && pinned[b] {
            return false;
        }
        estimate(sigs[a], sigs[b]) >= floors[a].min(floors[b])
    };
    let mut all: Vec<Candidate> = Vec::new();
    if let Some(bands) = cfg.lsh {
        let ahead = |i: u32| {
            prefetch(sigs[i as usize]);
            prefetch(&floors[i as usize]);
        };
        let (pairs, st) = band_pairs(&sigs, bands, cfg.limits, screen, ahead);
        stats.by_generator.lsh += stats.add(st);
        all.extend(pairs.into_iter().map(|(a, b)| (a, b, Proposers::LSH)));
    }
    if cfg.simhash {
        let mut fps: Vec<u64> = Vec::with_capacity(near.len());
        for f in 0..cfg.fingerprints {
            fps.clear();
            fps.extend((0..near.len() as u32).map(|i| fp(i).simhash(f)));
            // Each pair once, on the first fingerprint within k.
            let keep = |a: u32, b: u32| {
                let (x, y) = (fp(a), fp(b));
                let earlier =
                    (0..f).any(|g| (x.simhash(g) ^ y.simhash(g)).count_ones() <= cfg.max_hamming);
                (!earlier).then(|| screen(a, b))
            };
            let (pairs, st) = pairs_within_filtered(&fps, cfg.max_hamming, cfg.limits, keep);
            stats.by_generator.simhash += stats.add(st);
            all.extend(pairs.into_iter().map(|(a, b)| (a, b, Proposers::SIMHASH)));
        }
    }
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

/// A connected component of the candidate pairs.
struct Component {
    /// Its pairs (local indices, ascending).
    pairs: Vec<Candidate>,
    /// Its members (local indices, ascending).
    members: Vec<u32>,
}

/// The connected components of the candidate graph over `n` nodes, each with its pairs
/// (sorted, since the candidates are) and members.
fn components(cands: Vec<Candidate>, n: usize) -> Vec<Component> {
    let mut uf = UnionFind::new(n);
    for &(a, b, _) in &cands {
        uf.union(a as usize, b as usize);
    }
    let mut comp_of: HashMap<usize, usize> = HashMap::new();
    let mut comps: Vec<Vec<Candidate>> = Vec::new();
    for c in cands {
        let root = uf.find(c.0 as usize);
        let i = *comp_of.entry(root).or_insert_with(|| {
            comps.push(Vec::new());
            comps.len() - 1
        });
        comps[i].push(c);
    }
    comps.into_iter().map(Component::new).collect()
}

impl Component {
    fn new(pairs: Vec<Candidate>) -> Component {
        let mut members: Vec<u32> = pairs.iter().flat_map(|&(a, b, _)| [a, b]).collect();
        members.sort_unstable();
        members.dedup();
        Component { pairs, members }
    }
}

/// The most shingle sets one component's verification holds at a time (~16 KB each for a
/// 4k-character text).
const MAX_SETS_HELD: usize = 8192;

/// Verifies the candidate pairs of one component (indices into `near`) exactly, then splits
/// each connected group of verified pairs into stars. Returns the drops, the chain splits
/// and the number of verified pairs.
fn verify_component<F, E>(
    comp: &Component,
    near: &[u32],
    items: &[Item<'_>],
    cfg: &DedupRules,
    shingles: &F,
    max_sets: usize,
) -> Result<(Vec<Duplicate>, usize, usize), E>
where
    F: Fn(u32) -> Result<Vec<u64>, E> + Sync,
{
    let (pairs, members) = (&comp.pairs, &comp.members);
    let sets_of = |ms: &[u32]| -> Result<HashMap<u32, Vec<u64>>, E> {
        ms.iter()
            .map(|&local| Ok((local, shingles(near[local as usize])?)))
            .collect()
    };
    let passes = |sets: &HashMap<u32, Vec<u64>>, &(a, b, _): &Candidate| {
        jaccard(&sets[&a], &sets[&b]) >= cfg.min_similarity
    };
    // A small component keeps its sets for verification and the stars. A large one (a
    // templated corpus can chain thousands of texts through unrelated survivors) is
    // verified in slices of at most `max_sets` texts, and each verified group gets
    // its sets again for the stars: memory stays bounded, at the price of recomputing.
    let all_sets = match members.len() <= max_sets {
        true => Some(sets_of(members)?),
        false => None,
    };
    let mut verified: Vec<Candidate> = Vec::new();
    match &all_sets {
        Some(sets) => verified.extend(pairs.iter().filter(|p| passes(sets, p))),
        None => {
            let mut start = 0;
            while start < pairs.len() {
                let mut slice: HashSet<u32> = HashSet::new();
                let mut end = start;
                while end < pairs.len() && slice.len() + 2 <= max_sets.max(2) {
                    slice.extend([pairs[end].0, pairs[end].1]);
                    end += 1;
                }
                let held = sets_of(&slice.into_iter().collect::<Vec<_>>())?;
                verified.extend(pairs[start..end].iter().filter(|p| passes(&held, p)));
                start = end;
            }
        }
    }

    // Union-find over the verified pairs, in sorted order, then stars around the preferred
    // member of each group.
    let pos: HashMap<u32, usize> = members.iter().enumerate().map(|(i, &m)| (m, i)).collect();
    let mut uf = UnionFind::new(members.len());
    for &(a, b, _) in &verified {
        uf.union(pos[&a], pos[&b]);
    }
    let mut groups: HashMap<usize, Vec<u32>> = HashMap::new();
    for &(a, b, _) in &verified {
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
    let mut drops = Vec::new();
    let mut splits = 0;
    for g in &groups {
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
    Ok((drops, splits, verified.len()))
}

/// The members of a verified group (local indices, ascending), best first under the keep
/// policy, each with what the policy compared.
fn rank(
    group: &[u32],
    near: &[u32],
    items: &[Item<'_>],
    sets: &HashMap<u32, Vec<u64>>,
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

/// Splits one component into stars: the preferred remaining member is kept and takes every
/// remaining member verified against it; the rest start the next star.
fn star_clusters(
    ranked: &[(u32, Standing)],
    near: &[u32],
    items: &[Item<'_>],
    sets: &HashMap<u32, Vec<u64>>,
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

/// Union-find with path halving and union by size; the root of a set is deterministic for a
/// given sequence of unions.
struct UnionFind {
    parent: Vec<usize>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (mut ra, mut rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        if self.size[ra] < self.size[rb] || (self.size[ra] == self.size[rb] && ra > rb) {
            std::mem::swap(&mut ra, &mut rb);
        }
        self.parent[rb] = ra;
        self.size[ra] += self.size[rb];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::fingerprint::fingerprint;
    use crate::dedup::shingle::{normalize, shingle_set};

    /// Items in input order over already computed fingerprints.
    fn items_of(fps: &[Fingerprint]) -> Vec<Item<'_>> {
        fps.iter()
            .enumerate()
            .map(|(i, fp)| Item {
                fp,
                replacements: 0,
                order: i as u32,
                pinned: false,
            })
            .collect()
    }

    /// Shingle sets of already normalized texts, for verification.
    fn sets<'a>(norms: &'a [String], n: usize) -> impl Fn(u32) -> Result<Vec<u64>, ()> + Sync + 'a {
        move |i| Ok(shingle_set(&norms[i as usize], n))
    }

    fn run(texts: &[&str], cfg: &DedupRules) -> Vec<Duplicate> {
        let norms: Vec<String> = texts.iter().map(|t| normalize(t)).collect();
        let fps: Vec<Fingerprint> = norms.iter().map(|n| fingerprint(n, cfg)).collect();
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
        let fps: Vec<Fingerprint> = norms.iter().map(|n| fingerprint(n, &cfg)).collect();
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
        assert!(whole.2 > 0 && !whole.0.is_empty());
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
