//! Ids: an article's is `a-` + xxh3-64 of its source path, a snippet's `s-` + the folded
//! xxh3-128 of its title and text; both stable under reordering the input. A later id
//! equal to an earlier one gets `-2`, `-3` … (64-bit ids make this astronomically rare, but
//! uniqueness is a contract, not a probability).

use std::collections::HashSet;

use crate::record::{page_id, snippet_id};
use crate::run::summarize::{MergedSnippet, PageSummary};

/// Every page's and every merged snippet's id, by index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ids {
    /// Page ids, in input order (rejects have one too: snippets list them in `seen_in`).
    pub pages: Vec<String>,
    /// Snippet ids, in order of first occurrence.
    pub snippets: Vec<String>,
}

impl Ids {
    /// The ids of `pages` and `snippets`.
    pub fn assign(pages: &[PageSummary], snippets: &[MergedSnippet]) -> Ids {
        Ids {
            pages: unique_ids(pages.iter().map(|p| page_id(&p.source))),
            snippets: unique_ids(snippets.iter().map(|s| snippet_id(s.key))),
        }
    }
}

/// Makes ids unique in order: a repeat of an earlier id gets the first free `-n` suffix.
pub fn unique_ids(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
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
