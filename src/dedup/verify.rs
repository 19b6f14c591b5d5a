//! Stage 4 of the duplicate search: verification. A candidate pair is a duplicate only if
//! the exact Jaccard similarity of the two texts' shingle sets is at least
//! `min_similarity` (inclusive); nothing is merged on an estimate. The sets are handed in
//! by the caller, held for one component (or one slice of a large one) at a time.

use std::collections::{HashMap, HashSet};

use crate::dedup::candidates::Candidate;
use crate::dedup::shingle::jaccard;

/// Shingle sets by local index: what verification and the stars read.
pub type Sets = HashMap<u32, Vec<u64>>;

/// Whether a pair passes verification with the sets given.
pub fn passes(sets: &Sets, &(a, b, _): &Candidate, min_similarity: f64) -> bool {
    jaccard(&sets[&a], &sets[&b]) >= min_similarity
}

/// The pairs that pass verification, in their order (every pair's sets must be in `sets`).
pub fn verify_pairs(pairs: &[Candidate], sets: &Sets, min_similarity: f64) -> Vec<Candidate> {
    pairs
        .iter()
        .filter(|p| passes(sets, p, min_similarity))
        .copied()
        .collect()
}

/// [`verify_pairs`] for a component too large to hold every set at once (a templated
/// corpus can chain thousands of texts through unrelated survivors): the pairs are taken in
/// order in slices whose texts number at most `max_sets`, and `load` gives each slice's
/// sets. Memory stays bounded, at the price of loading a text once per slice it is in.
pub fn verify_in_slices<E>(
    pairs: &[Candidate],
    max_sets: usize,
    min_similarity: f64,
    load: impl Fn(&[u32]) -> Result<Sets, E>,
) -> Result<Vec<Candidate>, E> {
    let mut verified = Vec::new();
    let mut start = 0;
    while start < pairs.len() {
        let mut slice: HashSet<u32> = HashSet::new();
        let mut end = start;
        while end < pairs.len() && slice.len() + 2 <= max_sets.max(2) {
            slice.extend([pairs[end].0, pairs[end].1]);
            end += 1;
        }
        let held = load(&slice.into_iter().collect::<Vec<_>>())?;
        verified.extend(verify_pairs(&pairs[start..end], &held, min_similarity));
        start = end;
    }
    Ok(verified)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::shingle::shingle_set;
    use crate::dedup::Proposers;

    fn sets(texts: &[&str]) -> Sets {
        (0..texts.len() as u32)
            .map(|i| (i, shingle_set(texts[i as usize], 2)))
            .collect()
    }

    #[test]
    fn the_threshold_is_inclusive_and_slices_decide_the_same() {
        // 0 and 1 share 3 of 5 bigrams (J = 0.6); 2 is unrelated.
        let texts = ["abcde", "abcdx", "vwxyz"];
        let s = sets(&texts);
        let p = Proposers::LSH;
        let pairs = [(0, 1, p), (0, 2, p), (1, 2, p)];
        assert_eq!(verify_pairs(&pairs, &s, 0.6), [(0, 1, p)]);
        assert!(verify_pairs(&pairs, &s, 0.61).is_empty());
        let load = |ms: &[u32]| -> Result<Sets, ()> {
            Ok(ms.iter().map(|&m| (m, s[&m].clone())).collect())
        };
        assert_eq!(verify_in_slices(&pairs, 2, 0.6, load).unwrap(), [(0, 1, p)]);
    }
}
