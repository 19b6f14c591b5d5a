//! Snippet duplicates: identical (title, text) blocks are merged already; each distinct
//! block with a text is fingerprinted once, and the same text under another title, or a
//! near text, is a dropped duplicate of the kept block. Every block key resolves to the
//! index of the snippet record that stands for it.

use std::collections::{BTreeMap, HashMap};

use crate::prehashed::HashedMap;

use rayon::prelude::*;

use crate::dedup::queue::WillNeed;
use crate::dedup::shingle::{normalize_with, shingle_set};
use crate::dedup::{deduplicate_with, fingerprint, DedupRules, Fingerprinted, Item};
use crate::error::Error;
use crate::history::{Earlier, History};
use crate::record::{snippet_id, RecordKind};
use crate::run::decide::Decided;
use crate::run::summarize::MergedSnippet;

/// The snippets' fingerprints and duplicates.
#[derive(Debug, Clone)]
pub struct SnippetDecisions {
    /// Fingerprint and signature of each merged snippet's text.
    pub fps: Vec<Fingerprinted>,
    /// Duplicates, by snippet index (earlier snippet `e` is `snippets.len() + e`).
    pub decided: Decided,
    /// Block key → index of the snippet record that stands for it.
    pub resolved: HashedMap<u128, u32>,
    /// Earlier snippet → tonight's identical blocks (same title and text, so the same id):
    /// not written again, accounted for in `seen_again.jsonl`.
    pub seen_again: BTreeMap<u32, Vec<u32>>,
    /// Tonight's snippet → the earlier snippet it is (the inverse of `seen_again`).
    pub again_of: HashedMap<u32, u32>,
}

impl SnippetDecisions {
    /// Whether snippet `si` is written to `snippets.jsonl` (neither dropped nor kept by an
    /// earlier run).
    pub fn is_written(&self, si: u32) -> bool {
        !self.decided.dropped.contains_key(&si) && !self.is_seen_again(si)
    }

    /// Whether snippet `si` is a block an earlier run kept.
    pub fn is_seen_again(&self, si: u32) -> bool {
        self.again_of.contains_key(&si)
    }
}

/// Fingerprints every merged snippet and decides their duplicates, among themselves and
/// against the snippets earlier runs kept.
pub fn decide(
    snippets: &[MergedSnippet],
    rules: &DedupRules,
    history: &History,
) -> Result<SnippetDecisions, Error> {
    let n = snippets.len() as u32;
    let fps: Vec<Fingerprinted> = snippets
        .par_iter()
        .map(|s| fingerprint(&s.occ.block.text, rules))
        .collect();
    let again = seen_again(snippets, history)?;
    let fresh: Vec<u32> = (0..n)
        .filter(|&i| !snippets[i as usize].occ.block.text.is_empty() && !again.contains_key(&i))
        .collect();
    let tonight: Vec<Item> = fresh
        .iter()
        .map(|&r| Item {
            fp: fps[r as usize].fp.clone(),
            sig: &fps[r as usize].signature,
            replacements: replacement_chars(&snippets[r as usize].occ.block.text),
            order: r,
            pinned: false,
        })
        .collect();
    // Only the earlier snippets that can meet tonight's join the search.
    let probed = history.probe(RecordKind::Snippet, &tonight[..], rules)?;
    let es = probed.entries;
    let earlier: Vec<(u32, Earlier)> = es
        .iter()
        .copied()
        .zip(history.entries(RecordKind::Snippet, &es)?)
        .filter(|(_, x)| x.fp.chars > 0)
        .collect();
    let mut records: Vec<u32> = earlier.iter().map(|(e, _)| n + e).collect();
    records.extend(&fresh);
    let mut items: Vec<Item> = earlier
        .iter()
        .map(|(e, x)| Item {
            fp: x.fp.clone(),
            sig: &x.sig,
            replacements: x.row.replacements,
            order: *e,
            pinned: true,
        })
        .collect();
    items.extend(tonight);
    let m = earlier.len();
    let shingles = |i: u32| -> Result<Vec<u64>, Error> {
        let text = match (i as usize).checked_sub(m) {
            None => std::borrow::Cow::Owned(
                history
                    .record_of(RecordKind::Snippet, &earlier[i as usize].1)?
                    .text,
            ),
            Some(_) => std::borrow::Cow::Borrowed(
                snippets[records[i as usize] as usize]
                    .occ
                    .block
                    .text
                    .as_str(),
            ),
        };
        Ok(shingle_set(
            &normalize_with(&text, &rules.normalize),
            rules.shingle_chars,
        ))
    };
    // Only earlier runs' snippets are read from files.
    let will_need = |i: u32| {
        if let Some(e) = records[i as usize].checked_sub(n) {
            history.will_need(RecordKind::Snippet, e);
        }
    };
    let from_files = history.len(RecordKind::Snippet) > 0;
    let hint = from_files.then_some(&will_need as WillNeed<'_>);
    let (dups, mut stats) = deduplicate_with(&items[..], rules, shingles, hint)?;
    stats.earlier_found = probed.found;
    stats.earlier_screened = probed.screened;
    let decided = Decided::from_items(dups, &records, stats);
    let resolved = snippets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let i = i as u32;
            (
                s.key,
                again.get(&i).map_or_else(|| decided.kept_of(i), |&e| n + e),
            )
        })
        .collect();
    let mut seen_again: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (&si, &e) in &again {
        seen_again.entry(e).or_default().push(si);
    }
    for v in seen_again.values_mut() {
        v.sort_unstable();
    }
    Ok(SnippetDecisions {
        fps,
        decided,
        resolved,
        seen_again,
        again_of: again,
    })
}

/// Tonight's snippets whose id an earlier run already wrote (the id is a hash of the
/// title and text: the same block) → that earlier snippet (the first, in entry order).
fn seen_again(snippets: &[MergedSnippet], history: &History) -> Result<HashedMap<u32, u32>, Error> {
    if history.len(RecordKind::Snippet) == 0 {
        return Ok(HashedMap::default());
    }
    let ids: Vec<String> = snippets.par_iter().map(|s| snippet_id(s.key)).collect();
    let bases: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut first: HashMap<String, u32> = HashMap::new();
    for (e, id) in history.with_base_ids(RecordKind::Snippet, &bases)? {
        let slot = first.entry(id).or_insert(e);
        *slot = (*slot).min(e);
    }
    Ok(ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| first.get(id).map(|&e| (i as u32, e)))
        .collect())
}

/// U+FFFD characters in a text: what decoding could not read.
fn replacement_chars(text: &str) -> u32 {
    text.matches('\u{FFFD}').count().min(u32::MAX as usize) as u32
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dedup::MatchKind;
    use crate::page::SnippetBlock;
    use crate::scan::SnippetOccurrence;

    pub(crate) fn merged(i: u32, title: &str, text: &str) -> MergedSnippet {
        MergedSnippet {
            key: u128::from(i) + 100,
            occ: SnippetOccurrence {
                key: u128::from(i) + 100,
                block: SnippetBlock {
                    title: title.into(),
                    text: text.into(),
                    category: None,
                    date: None,
                    complete: !text.is_empty(),
                },
                answer: None,
                url: None,
                truncated: true,
            },
            first: (i, 0),
            seen_in: crate::run::seen_in::SeenIn::from_sorted(&[i]),
            occurrences: 1,
        }
    }

    #[test]
    fn same_text_under_another_title_resolves_to_the_first() {
        let text = "拔牙医保报销比例因地区而异，一般在百分之五十左右，需要在定点医院就诊并保留票据";
        let s = [
            merged(0, "拔牙能报销吗", text),
            merged(1, "被截断的推荐", ""),
            merged(2, "拔牙医保怎么报", text),
        ];
        let d = decide(&s, &DedupRules::default(), &History::empty()).unwrap();
        assert_eq!(d.decided.dropped[&2].kind, MatchKind::Exact);
        assert_eq!(d.resolved[&102], 0);
        assert_eq!(
            d.resolved[&101], 1,
            "a block without text stands for itself"
        );
        assert_eq!(d.fps.len(), 3);
    }
}
