//! Between the candidate pairs and verification: the connected components of the
//! candidate graph. Each component is verified and clustered on its own, so only its
//! members' shingle sets are held at a time, and components can go to different threads
//! (or, later, machines) in a fixed order.

use std::collections::HashMap;

use crate::dedup::candidates::Candidate;
use crate::dedup::union_find::UnionFind;

/// A connected component of the candidate pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// Its pairs (local indices, ascending).
    pub pairs: Vec<Candidate>,
    /// Its members (local indices, ascending).
    pub members: Vec<u32>,
}

impl Component {
    /// The component of these pairs (sorted, all connected).
    pub fn new(pairs: Vec<Candidate>) -> Component {
        let mut members: Vec<u32> = pairs.iter().flat_map(|&(a, b, _)| [a, b]).collect();
        members.sort_unstable();
        members.dedup();
        Component { pairs, members }
    }
}

/// The connected components of the candidate graph over `n` nodes, in the order of their
/// first pair, each with its pairs (sorted, since the candidates are) and members.
pub fn components(cands: Vec<Candidate>, n: usize) -> Vec<Component> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::Proposers;

    #[test]
    fn pairs_split_into_connected_components_in_first_pair_order() {
        let p = Proposers::LSH;
        let c = components(vec![(0, 4, p), (1, 2, p), (2, 3, p), (4, 5, p)], 6);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].members, [0, 4, 5]);
        assert_eq!(c[0].pairs, [(0, 4, p), (4, 5, p)]);
        assert_eq!(c[1].members, [1, 2, 3]);
    }
}
