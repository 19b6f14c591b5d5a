//! Union-find with path halving and union by size; the root of a set is deterministic for
//! a given sequence of unions, so walking pairs in sorted order gives the same sets
//! whatever the threads did before.

/// Disjoint sets over `0..n`.
#[derive(Debug, Clone)]
pub struct UnionFind {
    parent: Vec<usize>,
    size: Vec<u32>,
}

impl UnionFind {
    /// `n` singletons.
    pub fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    /// The root of `x`'s set.
    pub fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }

    /// Joins the sets of `a` and `b` (the larger root wins; on a tie, the smaller index).
    pub fn union(&mut self, a: usize, b: usize) {
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

    #[test]
    fn unions_join_sets_and_roots_are_deterministic() {
        let mut uf = UnionFind::new(5);
        uf.union(3, 4);
        uf.union(1, 2);
        uf.union(2, 4);
        assert_eq!(uf.find(4), uf.find(1));
        assert_ne!(uf.find(0), uf.find(1));
        // Equal sizes: the smaller root wins.
        assert_eq!(uf.find(3), 1);
    }
}
