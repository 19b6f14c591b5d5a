//! Phase 2's decisions, made from the page summaries and merged snippets alone, and kept
//! as indices (page indices, snippet indices), the way datatrove's cluster stage writes
//! only document indices. Strings — ids excepted — are made later, once, by the writer.
//!
//! One step per concern, each a function over typed values:
//! [`ids`] (stable, unique ids) → [`articles`] and [`snippets`] (duplicates) →
//! [`links`] (snippet → article) → [`audit`] (clusters and counts).

pub mod articles;
pub mod audit;
pub mod ids;
pub mod links;
pub mod snippets;

use std::collections::{BTreeMap, HashMap};

use crate::dedup::{DedupStats, Duplicate};
use crate::error::Error;
use crate::history::History;
use crate::rules::Rules;
use crate::run::page_keys::PageKeys;
use crate::run::store::ArticleStore;
use crate::run::summarize::Scanned;

pub use articles::Tasks;
pub use audit::{Cluster, Counts};
pub use ids::Ids;
pub use snippets::SnippetDecisions;

/// The duplicates among one kind of record, by record index (page index for articles,
/// snippet index for snippets).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decided {
    /// Each dropped record → its decision (`member` and `kept` are record indices).
    pub dropped: HashMap<u32, Duplicate>,
    /// Each kept record that has duplicates → the records dropped for it, ascending.
    pub members: BTreeMap<u32, Vec<u32>>,
    /// How the search went.
    pub stats: DedupStats,
}

impl Decided {
    /// Decisions over items `0..n` of a search, where item `i` is record `records[i]`.
    pub fn from_items(duplicates: Vec<Duplicate>, records: &[u32], stats: DedupStats) -> Decided {
        let mut d = Decided {
            stats,
            ..Decided::default()
        };
        for dup in duplicates {
            let (member, kept) = (records[dup.member as usize], records[dup.kept as usize]);
            d.members.entry(kept).or_default().push(member);
            d.dropped.insert(
                member,
                Duplicate {
                    member,
                    kept,
                    ..dup
                },
            );
        }
        for v in d.members.values_mut() {
            v.sort_unstable();
        }
        d
    }

    /// The record that stands for record `i`: itself, or the one it was dropped for.
    pub fn kept_of(&self, i: u32) -> u32 {
        self.dropped.get(&i).map_or(i, |d| d.kept)
    }
}

/// Everything phase 2 decided.
#[derive(Debug)]
pub struct Decisions {
    /// Every page's and snippet's id.
    pub ids: Ids,
    /// Article duplicates.
    pub articles: Decided,
    /// Snippet fingerprints and duplicates.
    pub snippets: SnippetDecisions,
    /// For each snippet, the page of the kept article with its title, if any.
    pub links: Vec<Option<u32>>,
    /// Duplicate clusters in report order.
    pub clusters: Vec<Cluster>,
    /// What the report counts.
    pub counts: Counts,
}

/// Makes every decision of phase 2, against what earlier runs kept (`history`, empty
/// without `--against`); article texts are read from `store` (or, for earlier records,
/// their run's files) only for the candidate pairs that need verifying. The article
/// search's stages `tasks` names run there ([`crate::run::Finish`]).
/// `keys` are the pages' keys, taken from [`Scanned::keys`]: the ids keep them.
pub fn decide(
    scanned: &Scanned,
    keys: PageKeys,
    rules: &Rules,
    store: &dyn ArticleStore,
    history: &History,
    tasks: Tasks<'_>,
) -> Result<Decisions, Error> {
    let mut ids = Ids::assign(keys, &scanned.snippets);
    crate::trim::phase_end("dedup: ids");
    let pages = (&scanned.pages, &scanned.signatures);
    let articles = articles::decide(pages, &rules.dedup, store, history, tasks)?;
    crate::trim::phase_end("dedup: articles");
    let snippets = snippets::decide(&scanned.snippets, &rules.dedup, history)?;
    crate::trim::phase_end("dedup: snippets");
    let links = links::link(&scanned.pages, &articles, &scanned.snippets, rules, history)?;
    ids.refer(
        history,
        articles
            .dropped
            .values()
            .map(|d| d.kept)
            .chain(links.iter().flatten().copied()),
        snippets
            .decided
            .dropped
            .values()
            .map(|d| d.kept)
            .chain(snippets.resolved.values().copied()),
    )?;
    let clusters = audit::clusters(&articles, &snippets.decided, &ids);
    // The clusters are ordered by their kept records' ids, read from every page's key.
    ids.pages.release();
    let counts = audit::counts(scanned, &articles, &snippets, &links);
    Ok(Decisions {
        ids,
        articles,
        snippets,
        links,
        clusters,
        counts,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dedup::MatchKind;

    pub(crate) fn dup(member: u32, kept: u32, kind: MatchKind) -> Duplicate {
        Duplicate {
            member,
            kept,
            kind,
            hamming: 0,
            hammings: [0; crate::config::MAX_FINGERPRINTS],
            similarity: 1.0,
            proposed_by: crate::dedup::Proposers::EXACT,
            kept_by: crate::dedup::keep::KeptBy::FirstInInput,
        }
    }

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
    }
}
