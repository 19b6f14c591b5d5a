//! Snippet duplicates: identical (title, text) blocks are merged already; each distinct
//! block with a text is fingerprinted once, and the same text under another title, or a
//! near text, is a dropped duplicate of the kept block. Every block key resolves to the
//! index of the snippet record that stands for it.

use crate::prehashed::HashedMap;

use rayon::prelude::*;

use crate::dedup::shingle::{normalize_with, shingle_set};
use crate::dedup::{deduplicate, fingerprint, DedupRules, Fingerprint, Item};
use crate::run::decide::Decided;
use crate::run::summarize::MergedSnippet;

/// The snippets' fingerprints and duplicates.
#[derive(Debug, Clone)]
pub struct SnippetDecisions {
    /// Fingerprint of each merged snippet's text.
    pub fps: Vec<Fingerprint>,
    /// Duplicates, by snippet index.
    pub decided: Decided,
    /// Block key → index of the snippet record that stands for it.
    pub resolved: HashedMap<u128, u32>,
}

/// Fingerprints every merged snippet and decides their duplicates.
pub fn decide(snippets: &[MergedSnippet], rules: &DedupRules) -> SnippetDecisions {
    let fps: Vec<Fingerprint> = snippets
        .par_iter()
        .map(|s| fingerprint(&s.occ.block.text, rules))
        .collect();
    let records: Vec<u32> = (0..snippets.len() as u32)
        .filter(|&i| !snippets[i as usize].occ.block.text.is_empty())
        .collect();
    let items: Vec<Item> = records
        .iter()
        .map(|&i| Item {
            fp: &fps[i as usize],
            replacements: replacement_chars(&snippets[i as usize].occ.block.text),
            order: i,
        })
        .collect();
    let shingles = |i: u32| -> Result<Vec<u64>, std::convert::Infallible> {
        let text = &snippets[records[i as usize] as usize].occ.block.text;
        Ok(shingle_set(
            &normalize_with(text, &rules.normalize),
            rules.shingle_chars,
        ))
    };
    let (dups, stats) = match deduplicate(&items, rules, shingles) {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let decided = Decided::from_items(dups, &records, stats);
    let resolved = snippets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key, decided.kept_of(i as u32)))
        .collect();
    SnippetDecisions {
        fps,
        decided,
        resolved,
    }
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
        let d = decide(&s, &DedupRules::default());
        assert_eq!(d.decided.dropped[&2].kind, MatchKind::Exact);
        assert_eq!(d.resolved[&102], 0);
        assert_eq!(
            d.resolved[&101], 1,
            "a block without text stands for itself"
        );
        assert_eq!(d.fps.len(), 3);
    }
}
