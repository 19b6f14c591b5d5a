//! Snippet → article links: a snippet links to the kept article whose normalized title
//! equals its own (a dropped article resolves to the one it was dropped for; among several,
//! an article an earlier run kept wins, then the smallest page index).

use crate::prehashed::HashedMap;

use crate::error::Error;
use crate::history::History;
use crate::rules::Rules;
use crate::run::decide::Decided;
use crate::run::summaries::Summaries;
use crate::run::summarize::{title_key, MergedSnippet, SummaryKind};

/// For each merged snippet, the page of the kept article with its title, if any (earlier
/// article `e` is `pages.len() + e`).
pub fn link(
    pages: &Summaries,
    articles: &Decided,
    snippets: &[MergedSnippet],
    rules: &Rules,
    history: &History,
) -> Result<Vec<Option<u32>>, Error> {
    let n = pages.len() as u32;
    let empty = title_key("", rules);
    let keys: Vec<u64> = snippets
        .iter()
        .map(|s| title_key(&s.occ.block.title, rules))
        .collect();
    let wanted: Vec<u64> = keys.iter().copied().filter(|&k| k != empty).collect();
    // Earlier articles first (rank: earlier before tonight's, then by index).
    let earlier = history.first_titled(&wanted)?;
    let mut by_title: HashedMap<u64, u32> = earlier.iter().map(|(&k, &e)| (k, n + e)).collect();
    let rank = |i: u32| (i < n, i);
    for (pi, p) in pages.iter().enumerate() {
        if let SummaryKind::Article { title_key, .. } = p.kind {
            let kept = articles.kept_of(pi as u32);
            let e = by_title.entry(title_key).or_insert(kept);
            if rank(kept) < rank(*e) {
                *e = kept;
            }
        }
    }
    Ok(keys
        .iter()
        .map(|&k| (k != empty).then(|| by_title.get(&k).copied()).flatten())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::MatchKind;
    use crate::run::decide::articles::tests::pages;
    use crate::run::decide::snippets::tests::merged;
    use crate::run::decide::tests::dup;

    #[test]
    fn snippets_link_to_the_kept_article_with_their_title() {
        let rules = Rules::builtin();
        let (mut ps, _, _) = pages(&[Some("正文一"), Some("正文二"), None]);
        let titles = ["医保卡能借给家人用吗", "医保卡能借给家人用吗？", "别的问题"];
        for (p, t) in ps.iter_mut().zip(titles) {
            if let SummaryKind::Article { title_key: k, .. } = &mut p.kind {
                *k = title_key(t, &rules);
            }
        }
        // Page 0 was dropped as a duplicate of page 1.
        let articles = Decided::from_items(
            vec![dup(0, 1, MatchKind::Near)],
            &[0, 1],
            Default::default(),
        );
        let s = [
            merged(0, "医保卡 能借给家人用吗", "x"),
            merged(1, "别的问题", "y"),
            merged(2, "", "z"),
        ];
        assert_eq!(
            link(
                &Summaries::in_memory(ps),
                &articles,
                &s,
                &rules,
                &History::empty()
            )
            .unwrap(),
            [Some(1), None, None]
        );
    }
}
