//! Ids: an article's is `a-` + xxh3-64 of its source path, a snippet's `s-` + the folded
//! xxh3-128 of its title and text; both stable under reordering the input. A later id
//! equal to an earlier one gets `-2`, `-3` … (64-bit ids make this astronomically rare, but
//! uniqueness is a contract, not a probability).

use std::collections::{HashMap, HashSet};

use crate::history::History;
use crate::record::{page_id, snippet_id};
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
    /// Ids of the earlier articles referred to, by record index.
    pub earlier_articles: HashMap<u32, String>,
    /// Ids of the earlier snippets referred to, by record index.
    pub earlier_snippets: HashMap<u32, String>,
}

impl Ids {
    /// The ids of `pages` and `snippets`. A page id an earlier run already used gets a
    /// suffix (a page re-scraped under the same path is another record); a snippet id
    /// is the same block's, so it is not made unique against earlier runs.
    pub fn assign(pages: &[PageSummary], snippets: &[MergedSnippet], history: &History) -> Ids {
        let earlier = &history.articles.ids;
        let taken: HashSet<&str> = if earlier.is_empty() {
            HashSet::new()
        } else {
            let fresh: HashSet<String> = pages.iter().map(|p| page_id(&p.source)).collect();
            // An earlier id is tonight's base id, or it with a `-n` suffix.
            fn base(id: &str) -> &str {
                match id.get(2..).and_then(|rest| rest.find('-')) {
                    Some(k) => &id[..k + 2],
                    None => id,
                }
            }
            (0..earlier.len())
                .map(|e| earlier.get(e))
                .filter(|id| fresh.contains(base(id)))
                .collect()
        };
        Ids {
            pages: unique_ids_after(pages.iter().map(|p| page_id(&p.source)), &taken),
            snippets: unique_ids(snippets.iter().map(|s| snippet_id(s.key))),
            ..Ids::default()
        }
    }

    /// Article record `i`'s id (tonight's page, or an earlier article registered with
    /// [`Ids::refer`]).
    pub fn page(&self, i: u32) -> &str {
        self.pages
            .get(i as usize)
            .or_else(|| self.earlier_articles.get(&i))
            .map_or("", String::as_str)
    }

    /// Snippet record `i`'s id.
    pub fn snippet(&self, i: u32) -> &str {
        self.snippets
            .get(i as usize)
            .or_else(|| self.earlier_snippets.get(&i))
            .map_or("", String::as_str)
    }

    /// Registers the ids of the earlier records `articles` and `snippets` (record indices
    /// past tonight's) refer to.
    pub fn refer(
        &mut self,
        history: &History,
        articles: impl Iterator<Item = u32>,
        snippets: impl Iterator<Item = u32>,
    ) {
        let (np, ns) = (self.pages.len() as u32, self.snippets.len() as u32);
        for r in articles {
            if let Some(e) = r.checked_sub(np) {
                let id = history.articles.ids.get(e as usize).to_string();
                self.earlier_articles.insert(r, id);
            }
        }
        for r in snippets {
            if let Some(e) = r.checked_sub(ns) {
                let id = history.snippets.ids.get(e as usize).to_string();
                self.earlier_snippets.insert(r, id);
            }
        }
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
