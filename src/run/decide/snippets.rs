//! Snippet duplicates: identical (title, text) blocks are merged already; each distinct
//! block with a text is fingerprinted once, and the same text under another title, or a
//! near text, is a dropped duplicate of the kept block. Every block key resolves to the
//! index of the snippet record that stands for it.

use std::collections::BTreeMap;

use crate::prehashed::HashedMap;

use rayon::prelude::*;

use crate::dedup::queue::WillNeed;
use crate::dedup::shingle::{normalize_with, shingle_set};
use crate::dedup::{deduplicate_with, fingerprint, DedupRules, Fingerprint, Item};
use crate::error::Error;
use crate::history::History;
use crate::record::{snippet_id, RecordKind};
use crate::run::decide::Decided;
use crate::run::summarize::MergedSnippet;

/// The snippets' fingerprints and duplicates.
#[derive(Debug, Clone)]
pub struct SnippetDecisions {
    /// Fingerprint of each merged snippet's text.
    pub fps: Vec<Fingerprint>,
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
    let fps: Vec<Fingerprint> = snippets
        .par_iter()
        .map(|s| fingerprint(&s.occ.block.text, rules))
        .collect();
    let earlier = &history.snippets;
    let again = seen_again(snippets, history);
    let mut records: Vec<u32> = (0..earlier.len() as u32)
        .filter(|&e| earlier.fps[e as usize].chars > 0)
        .map(|e| n + e)
        .collect();
    records.extend(
        (0..n).filter(|&i| {
            !snippets[i as usize].occ.block.text.is_empty() && !again.contains_key(&i)
        }),
    );
    let items: Vec<Item> = records
        .iter()
        .map(|&r| match r.checked_sub(n) {
            Some(e) => Item {
                fp: &earlier.fps[e as usize],
                replacements: earlier.replacements[e as usize],
                order: e,
                pinned: true,
            },
            None => Item {
                fp: &fps[r as usize],
                replacements: replacement_chars(&snippets[r as usize].occ.block.text),
                order: r,
                pinned: false,
            },
        })
        .collect();
    let shingles = |i: u32| -> Result<Vec<u64>, Error> {
        let r = records[i as usize];
        let text = match r.checked_sub(n) {
            Some(e) => std::borrow::Cow::Owned(history.record(RecordKind::Snippet, e)?.text),
            None => std::borrow::Cow::Borrowed(snippets[r as usize].occ.block.text.as_str()),
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
    let from_files = !history.entries(RecordKind::Snippet).locs.is_empty();
    let hint = from_files.then_some(&will_need as WillNeed<'_>);
    let (dups, stats) = deduplicate_with(&items, rules, shingles, hint)?;
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
/// title and text: the same block) → that earlier snippet.
fn seen_again(snippets: &[MergedSnippet], history: &History) -> HashedMap<u32, u32> {
    let earlier = &history.snippets;
    if earlier.is_empty() {
        return HashedMap::default();
    }
    let hash = |s: &str| xxhash_rust::xxh3::xxh3_64(s.as_bytes());
    let mut by_hash: HashedMap<u64, u32> = HashedMap::default();
    for e in (0..earlier.len()).rev() {
        by_hash.insert(hash(earlier.ids.get(e)), e as u32);
    }
    snippets
        .par_iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let id = snippet_id(s.key);
            let e = *by_hash.get(&hash(&id))?;
            (earlier.ids.get(e as usize) == id).then_some((i as u32, e))
        })
        .collect()
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
                truncated: true,
            },
            first: (i, 0),
            seen_in: vec![i],
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
