//! Ids: an article's is `a-` + the 128-bit [`page_key`](crate::record::page_key) of its
//! source path and bytes, a snippet's `s-` + the folded xxh3-128 of its title and text; both
//! functions of the page or block alone — of neither the input's order nor the earlier runs.
//! A later id equal to an earlier one of the same run gets `-2`, `-3` … (the hashes make
//! this astronomically rare, but uniqueness within a run is a contract, not a probability).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use crate::error::Error;
use crate::history::{History, Loc};
use crate::record::{page_id, snippet_id, RecordKind};
use crate::run::page_keys::PageKeys;
use crate::run::summarize::MergedSnippet;

/// Every page's and every merged snippet's id, by index; records of earlier runs that
/// tonight's decisions refer to are numbered after them (earlier article `e` is
/// `pages.len() + e`).
#[derive(Debug, Default, PartialEq)]
pub struct Ids {
    /// Page keys, in input order (rejects have one too: snippets list them in `seen_in`):
    /// the id is [`page_id`] of the key — made when it is written, so that a million ids
    /// are 16 MB of keys rather than 38 MB of strings.
    pub pages: PageKeys,
    /// The pages whose id repeats an earlier page's of this run, with their `-n` suffix
    /// (only by a collision of 128-bit keys: never seen, but uniqueness is a contract).
    pub repeated: HashMap<u32, String>,
    /// Snippet ids, in order of first occurrence.
    pub snippets: IdList,
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
    /// The ids of the pages with these `keys` ([`crate::run::summarize::Scanned::keys`]) and
    /// of `snippets`, from the pages and blocks alone: the earlier
    /// runs are not asked (a page's id is the same run alone or against them; an earlier
    /// run's page with the same id is the same path with the same bytes, so tonight's is
    /// its exact duplicate).
    pub fn assign(keys: PageKeys, snippets: &[MergedSnippet]) -> Ids {
        let repeated = repeated_keys(&keys);
        // That read every key: none is needed again until the writers.
        keys.release();
        let fresh: Vec<String> = snippets.iter().map(|s| snippet_id(s.key)).collect();
        let snippets = unique_ids_after(&fresh, &[]);
        Ids {
            pages: keys,
            repeated,
            snippets,
            ..Ids::default()
        }
    }

    /// Article record `i`'s id (tonight's page, or an earlier article registered with
    /// [`Ids::refer`]).
    pub fn page(&self, i: u32) -> Cow<'_, str> {
        if let Some(id) = self.repeated.get(&i) {
            return Cow::Borrowed(id);
        }
        match self.pages.get(i as usize) {
            Some(key) => Cow::Owned(page_id(key)),
            None => Cow::Borrowed(self.earlier_articles.get(&i).map_or("", |x| x.id.as_str())),
        }
    }

    /// Appends the JSON string of [`Ids::page`]`(i)` to `out`, without making the id a
    /// `String` when it is computed from the page's key.
    pub fn write_page_json(&self, i: u32, out: &mut Vec<u8>) {
        match (self.repeated.contains_key(&i), self.pages.get(i as usize)) {
            (false, Some(key)) => crate::record::push_page_id_json(out, key),
            _ => crate::output::json_str::write_json_str(out, &self.page(i)),
        }
    }

    /// Snippet record `i`'s id.
    pub fn snippet(&self, i: u32) -> &str {
        self.snippets
            .get(i as usize)
            .or_else(|| self.earlier_snippets.get(&i).map(|x| x.id.as_str()))
            .unwrap_or("")
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

/// Ids in one buffer, each found by where it ends: ~22 bytes an id where a `String`
/// each took ~56 (at a million pages, 34 MB).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdList {
    text: String,
    ends: Vec<u32>,
}

impl IdList {
    /// Id `i`, if there are more than `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        self.text.get(start..end)
    }

    /// How many ids.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Appends an id.
    ///
    /// # Panics
    /// When the ids together pass 4 GiB (at ~20 bytes an id, 200M of them: far past what
    /// a run's u32 record indices allow).
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        let end = u32::try_from(self.text.len()).expect("ids fit in 4 GiB");
        self.ends.push(end);
    }
}

impl FromIterator<String> for IdList {
    fn from_iter<I: IntoIterator<Item = String>>(ids: I) -> Self {
        let mut list = IdList::default();
        for id in ids {
            list.push(&id);
        }
        list
    }
}

/// The pages whose key repeats an earlier page's, with the id [`unique_ids`] gives them
/// (the first free `-n` suffix); found by sorting the keys, so nothing is held per page.
fn repeated_keys(keys: &PageKeys) -> HashMap<u32, String> {
    let mut sorted: Vec<u128> = keys.iter().collect();
    sorted.sort_unstable();
    let twice: HashSet<u128> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    drop(sorted);
    if twice.is_empty() {
        return HashMap::new();
    }
    // Every page of a repeated key, in input order, named as `unique_ids` names them.
    let at: Vec<u32> = (0..keys.len() as u32)
        .filter(|&i| keys.get(i as usize).is_some_and(|k| twice.contains(&k)))
        .collect();
    let id_of = |i: u32| page_id(keys.get(i as usize).unwrap_or_default());
    let named = unique_ids(at.iter().map(|&i| id_of(i)));
    at.iter()
        .enumerate()
        .filter_map(|(n, &i)| {
            let id = named.get(n)?;
            (*id != id_of(i)).then(|| (i, id.to_string()))
        })
        .collect()
}

/// Makes ids unique in order: a repeat of an earlier id gets the first free `-n` suffix.
pub fn unique_ids(ids: impl Iterator<Item = String>) -> IdList {
    let ids: Vec<String> = ids.collect();
    unique_ids_after(&ids, &[])
}

/// [`unique_ids`], with the ids in `taken` already used. Only ids with one base (the id
/// without its `-n` suffix) can meet, so the bases that occur more than once (or that
/// `taken` holds) are found by sorting, and only their ids go through a set of the ids
/// used — at a million pages the ids alone are held, not a set of them all.
fn unique_ids_after(ids: &[String], taken: &[&str]) -> IdList {
    let mut sorted: Vec<&str> = ids.iter().map(|id| base_of(id)).collect();
    sorted.sort_unstable();
    let mut contested: HashSet<&str> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .collect();
    drop(sorted);
    contested.extend(taken.iter().map(|t| base_of(t)));
    let mut seen: HashSet<String> = taken.iter().map(|t| t.to_string()).collect();
    let mut out = IdList::default();
    for id in ids {
        if !contested.contains(base_of(id)) {
            out.push(id);
            continue;
        }
        if seen.insert(id.clone()) {
            out.push(id);
            continue;
        }
        let mut n = 2;
        loop {
            let alt = format!("{id}-{n}");
            if seen.insert(alt.clone()) {
                out.push(&alt);
                break;
            }
            n += 1;
        }
    }
    out
}

/// An id without its `-n` suffix.
fn base_of(id: &str) -> &str {
    crate::history::segment::base_id(id)
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
        let ids: Vec<&str> = (0..ids.len()).filter_map(|i| ids.get(i)).collect();
        assert_eq!(ids, ["a-1", "a-2", "a-1-2", "a-1-2-2", "a-1-3"]);
    }

    #[test]
    fn taken_ids_push_tonights_repeats_past_them() {
        let ids = ["a-1", "a-2", "a-1"].map(String::from);
        let got = unique_ids_after(&ids, &["a-1", "a-1-2", "a-9"]);
        let got: Vec<&str> = (0..got.len()).filter_map(|i| got.get(i)).collect();
        assert_eq!(got, ["a-1-3", "a-2", "a-1-4"]);
    }

    #[test]
    fn a_repeated_page_key_gets_a_suffix_and_the_others_keep_theirs() {
        let keys = [7u128, 9, 7, 7];
        let r = repeated_keys(&keys.into_iter().collect());
        assert_eq!(r.len(), 2);
        assert_eq!(r[&2], format!("{}-2", page_id(7)));
        assert_eq!(r[&3], format!("{}-3", page_id(7)));
        assert!(repeated_keys(&[1, 2, 3].into_iter().collect()).is_empty());
    }

    #[test]
    fn the_id_list_gives_back_what_was_pushed() {
        let list: IdList = ["a-0", "", "s-ffff"]
            .map(String::from)
            .into_iter()
            .collect();
        assert_eq!(list.len(), 3);
        assert_eq!(
            (list.get(0), list.get(1), list.get(2)),
            (Some("a-0"), Some(""), Some("s-ffff"))
        );
        assert_eq!(list.get(3), None);
    }
}
