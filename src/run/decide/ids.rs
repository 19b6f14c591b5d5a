//! Ids: an article's is `a-` + xxh3-64 of its source path, a snippet's `s-` + the folded
//! xxh3-128 of its title and text; both stable under reordering the input. A later id
//! equal to an earlier one gets `-2`, `-3` … (64-bit ids make this astronomically rare, but
//! uniqueness is a contract, not a probability).

use std::collections::{HashMap, HashSet};

use crate::error::Error;
use crate::history::{History, Loc};
use crate::record::{page_id, snippet_id, RecordKind};
use crate::run::summarize::{MergedSnippet, PageSummary};

/// Every page's and every merged snippet's id, by index; records of earlier runs that
/// tonight's decisions refer to are numbered after them (earlier article `e` is
/// `pages.len() + e`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ids {
    /// Page ids, in input order (rejects have one too: snippets list them in `seen_in`).
    pub pages: Vec<String>,
    /// Snippet ids, in order of first occurrence.
    pub snippets: Vec<String>,
    /// The earlier articles referred to, by record index.
    pub earlier_articles: HashMap<u32, EarlierId>,
    /// The earlier snippets referred to, by record index.
    pub earlier_snippets: HashMap<u32, EarlierId>,
}

/// What the writer names an earlier record by.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierId {
    /// Its id.
    pub id: String,
    /// Its source.
    pub source: String,
    /// Where its record is (`run` indexes [`History::runs`]).
    pub loc: Loc,
}

impl Ids {
    /// The ids of `pages` and `snippets`. A page id an earlier run already used gets a
    /// suffix (a page re-scraped under the same path is another record); a snippet id
    /// is the same block's, so it is not made unique against earlier runs.
    pub fn assign(
        pages: &[PageSummary],
        snippets: &[MergedSnippet],
        history: &History,
    ) -> Result<Ids, Error> {
        let fresh: Vec<String> = pages.iter().map(|p| page_id(&p.source)).collect();
        // An earlier id is tonight's base id, or it with a `-n` suffix.
        let bases: Vec<&str> = fresh.iter().map(String::as_str).collect();
        let earlier = history.with_base_ids(RecordKind::Article, &bases)?;
        let taken: HashSet<&str> = earlier.iter().map(|(_, id)| id.as_str()).collect();
        Ok(Ids {
            pages: unique_ids_after(fresh.iter().cloned(), &taken),
            snippets: unique_ids(snippets.iter().map(|s| snippet_id(s.key))),
            ..Ids::default()
        })
    }

    /// Article record `i`'s id (tonight's page, or an earlier article registered with
    /// [`Ids::refer`]).
    pub fn page(&self, i: u32) -> &str {
        self.pages
            .get(i as usize)
            .or_else(|| self.earlier_articles.get(&i).map(|x| &x.id))
            .map_or("", String::as_str)
    }

    /// Snippet record `i`'s id.
    pub fn snippet(&self, i: u32) -> &str {
        self.snippets
            .get(i as usize)
            .or_else(|| self.earlier_snippets.get(&i).map(|x| &x.id))
            .map_or("", String::as_str)
    }

    /// The earlier record behind record index `i` of `kind`, when it is one that was
    /// registered.
    pub fn earlier(&self, kind: RecordKind, i: u32) -> Option<&EarlierId> {
        match kind {
            RecordKind::Article => self.earlier_articles.get(&i),
            RecordKind::Snippet => self.earlier_snippets.get(&i),
        }
    }

    /// Registers the earlier records `articles` and `snippets` (record indices past
    /// tonight's) refer to: their ids, sources and places, read from the index once.
    pub fn refer(
        &mut self,
        history: &History,
        articles: impl Iterator<Item = u32>,
        snippets: impl Iterator<Item = u32>,
    ) -> Result<(), Error> {
        let (np, ns) = (self.pages.len() as u32, self.snippets.len() as u32);
        for (kind, records, n) in [
            (RecordKind::Article, articles.collect::<Vec<_>>(), np),
            (RecordKind::Snippet, snippets.collect::<Vec<_>>(), ns),
        ] {
            let mut es: Vec<u32> = records.iter().filter_map(|r| r.checked_sub(n)).collect();
            es.sort_unstable();
            es.dedup();
            let found = history.entries(kind, &es)?;
            let into = match kind {
                RecordKind::Article => &mut self.earlier_articles,
                RecordKind::Snippet => &mut self.earlier_snippets,
            };
            for (e, x) in es.into_iter().zip(found) {
                let loc = x.loc();
                into.insert(
                    n + e,
                    EarlierId {
                        id: x.id,
                        source: x.source,
                        loc,
                    },
                );
            }
        }
        Ok(())
    }
}

/// Makes ids unique in order: a repeat of an earlier id gets the first free `-n` suffix.
pub fn unique_ids(ids: impl Iterator<Item = String>) -> Vec<String> {
    unique_ids_after(ids, &HashSet::new())
}

/// [`unique_ids`], with the ids in `taken` already used.
fn unique_ids_after(ids: impl Iterator<Item = String>, taken: &HashSet<&str>) -> Vec<String> {
    let mut seen: HashSet<String> = taken.iter().map(|s| s.to_string()).collect();
    ids.map(|id| {
        if seen.insert(id.clone()) {
            return id;
        }
        let mut n = 2;
        loop {
            let alt = format!("{id}-{n}");
            if seen.insert(alt.clone()) {
                return alt;
            }
            n += 1;
        }
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_get_the_first_free_suffix() {
        let ids = unique_ids(
            ["a-1", "a-2", "a-1", "a-1-2", "a-1"]
                .iter()
                .map(|s| s.to_string()),
        );
        assert_eq!(ids, ["a-1", "a-2", "a-1-2", "a-1-2-2", "a-1-3"]);
    }
}
