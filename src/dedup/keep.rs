//! Which record of a group of duplicates is kept (`dedup.keep`), and why.
//!
//! * `most_central` (the default): the member with the highest summed Jaccard similarity to
//!   the other members of its group — a copy that others were made from is closer to each
//!   of them than they are to each other, and junk inserted into one copy makes it the
//!   least central — then the one with fewer decoding problems (replacement characters),
//!   then the first in input order.
//! * `longest`: the longest normalized text, then the first in input order.
//! * `first`: the first in input order.
//!
//! Exact copies have the same normalized text, so among them `most_central` and `first`
//! keep the one with fewer replacement characters, then the first. The order is total
//! (input order breaks every tie), so the choice never depends on thread timing. Every
//! decision records the criterion that decided it ([`KeptBy`]).

use std::cmp::Ordering;

use serde::Serialize;

pub use crate::config::KeepPolicy;

/// The criterion that put the kept record ahead of a dropped one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeptBy {
    /// More similar to the rest of its group.
    MostCentral,
    /// Fewer replacement characters from decoding.
    FewerReplacements,
    /// Longer normalized text.
    Longest,
    /// Earlier in input order (every other criterion was equal).
    FirstInInput,
    /// Kept by an earlier run (`run --against`): earlier records are never dropped.
    EarlierRun,
}

impl KeptBy {
    /// The name written in the records.
    pub fn as_str(self) -> &'static str {
        match self {
            KeptBy::MostCentral => "most_central",
            KeptBy::FewerReplacements => "fewer_replacements",
            KeptBy::Longest => "longest",
            KeptBy::FirstInInput => "first_in_input",
            KeptBy::EarlierRun => "earlier_run",
        }
    }
}

/// What the policy compares of one member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    /// Summed similarity to the rest of the group (0 for exact groups).
    pub centrality: f64,
    /// Replacement characters from decoding.
    pub replacements: u32,
    /// Normalized characters.
    pub chars: u32,
    /// Input order.
    pub order: u32,
}

impl KeepPolicy {
    /// Orders two members, the one to keep first.
    pub fn cmp(self, a: &Standing, b: &Standing) -> Ordering {
        match self {
            KeepPolicy::MostCentral => b
                .centrality
                .total_cmp(&a.centrality)
                .then(a.replacements.cmp(&b.replacements))
                .then(a.order.cmp(&b.order)),
            KeepPolicy::Longest => b.chars.cmp(&a.chars).then(a.order.cmp(&b.order)),
            KeepPolicy::First => a.order.cmp(&b.order),
        }
    }

    /// Orders two exact copies, the one to keep first.
    pub fn cmp_exact(self, a: &Standing, b: &Standing) -> Ordering {
        match self {
            KeepPolicy::Longest => self.cmp(a, b),
            KeepPolicy::MostCentral | KeepPolicy::First => a
                .replacements
                .cmp(&b.replacements)
                .then(a.order.cmp(&b.order)),
        }
    }

    /// The criterion on which `kept` beat `other` under this policy.
    pub fn decided_by(self, kept: &Standing, other: &Standing) -> KeptBy {
        let central = kept.centrality != other.centrality;
        let fewer = kept.replacements != other.replacements;
        match self {
            KeepPolicy::MostCentral if central => KeptBy::MostCentral,
            KeepPolicy::MostCentral | KeepPolicy::First if fewer => KeptBy::FewerReplacements,
            KeepPolicy::Longest if kept.chars != other.chars => KeptBy::Longest,
            _ => KeptBy::FirstInInput,
        }
    }
}

/// Members whose centrality is summed over all others; larger groups are measured against
/// their first this-many members (in input order), so a group of thousands costs thousands
/// of comparisons, not millions.
pub const CENTRALITY_PEERS: usize = 64;

/// The centrality of each member of `group` (sorted by input order): its summed similarity
/// to the other members, or to the first [`CENTRALITY_PEERS`] of them.
pub fn centralities(group: &[u32], similarity: impl Fn(u32, u32) -> f64) -> Vec<f64> {
    let peers = &group[..group.len().min(CENTRALITY_PEERS)];
    group
        .iter()
        .map(|&m| {
            peers
                .iter()
                .filter(|&&p| p != m)
                .map(|&p| similarity(m, p))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(centrality: f64, replacements: u32, chars: u32, order: u32) -> Standing {
        Standing {
            centrality,
            replacements,
            chars,
            order,
        }
    }

    #[test]
    fn each_policy_orders_and_names_its_criterion() {
        let original = st(1.8, 0, 500, 3);
        let junked = st(1.5, 0, 520, 1);
        let p = KeepPolicy::MostCentral;
        assert_eq!(p.cmp(&original, &junked), Ordering::Less);
        assert_eq!(p.decided_by(&original, &junked), KeptBy::MostCentral);
        assert_eq!(KeepPolicy::Longest.cmp(&junked, &original), Ordering::Less);
        assert_eq!(
            KeepPolicy::Longest.decided_by(&junked, &original),
            KeptBy::Longest
        );
        assert_eq!(KeepPolicy::First.cmp(&junked, &original), Ordering::Less);
        // A pair is a tie on centrality: fewer replacements, then input order.
        let (a, b) = (st(0.9, 2, 500, 1), st(0.9, 0, 500, 2));
        assert_eq!(p.cmp(&b, &a), Ordering::Less);
        assert_eq!(p.decided_by(&b, &a), KeptBy::FewerReplacements);
        let (a, b) = (st(0.9, 0, 400, 1), st(0.9, 0, 500, 2));
        assert_eq!(p.decided_by(&a, &b), KeptBy::FirstInInput);
        assert_eq!(p.cmp_exact(&b, &a), Ordering::Greater);
    }

    #[test]
    fn names_match_serde() {
        for k in [
            KeptBy::MostCentral,
            KeptBy::FewerReplacements,
            KeptBy::Longest,
            KeptBy::FirstInInput,
        ] {
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }

    #[test]
    fn centrality_favours_the_member_the_others_were_made_from() {
        // 0 is the original; 1 and 2 each changed it in a different place.
        let sim = |a: u32, b: u32| match (a.min(b), a.max(b)) {
            (0, 1) | (0, 2) => 0.9,
            _ => 0.8,
        };
        let c = centralities(&[0, 1, 2], sim);
        assert!(c[0] > c[1] && c[0] > c[2], "{c:?}");
    }
}
