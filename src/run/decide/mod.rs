//! Phase 2's decisions, made from the page summaries and merged snippets alone, and kept
//! as indices (page indices, snippet indices), the way datatrove's cluster stage writes
//! only document indices. Strings — ids excepted — are made later, once, by the writer.
//!
//! One step per concern, each a function over typed values:
//! [`ids`] (stable, unique ids) → [`articles`] and [`snippets`] (duplicates) →
//! [`links`] (snippet → article) → [`audit`] (clusters and counts).

pub mod articles;
pub mod audit;
pub mod decided;
pub mod ids;
pub mod links;
pub mod snippets;

use crate::error::Error;
use crate::history::History;
use crate::record::RecordKind;
use crate::rules::Rules;
use crate::run::page_keys::PageKeys;
use crate::run::store::ArticleStore;
use crate::run::summarize::Scanned;

pub use articles::Tasks;
pub use audit::{Cluster, Counts};
pub use decided::{Decided, DroppedMap, MemberLists};
pub use ids::Ids;
pub use snippets::SnippetDecisions;

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

impl Decisions {
    /// The duplicates of `kind`.
    pub fn decided(&self, kind: RecordKind) -> &Decided {
        match kind {
            RecordKind::Article => &self.articles,
            RecordKind::Snippet => &self.snippets.decided,
        }
    }

    /// The records dropped for cluster `c`'s kept record, ascending.
    pub fn members_of(&self, c: &Cluster) -> &[u32] {
        self.decided(c.kind)
            .members
            .get(&c.kept)
            .unwrap_or_default()
    }
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
    use crate::dedup::{Duplicate, MatchKind};

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
}
