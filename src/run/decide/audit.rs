//! What the audit sees: the duplicate clusters (kept record first, then the dropped ones)
//! in report order, and the counts of `report.json`.

use crate::dedup::MatchKind;
use crate::output::report::{ArticleCounts, SnippetCounts};
use crate::record::RecordKind;
use crate::run::decide::{Decided, Ids, SnippetDecisions};
use crate::run::summarize::Scanned;

/// One duplicate cluster, as indices: its members are the kept record's in the
/// decisions ([`Decisions::members_of`](super::Decisions::members_of)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cluster {
    /// Articles or snippets.
    pub kind: RecordKind,
    /// The kept record (page or snippet index).
    pub kept: u32,
}

/// Every cluster: articles before snippets, larger clusters first, then by kept id.
pub fn clusters(articles: &Decided, snippets: &Decided, ids: &Ids) -> Vec<Cluster> {
    let decided = |kind| match kind {
        RecordKind::Article => articles,
        RecordKind::Snippet => snippets,
    };
    let of = |kind: RecordKind| {
        decided(kind)
            .members
            .keys()
            .map(move |&kept| Cluster { kind, kept })
    };
    let mut v: Vec<Cluster> = of(RecordKind::Article)
        .chain(of(RecordKind::Snippet))
        .collect();
    let size = |c: &Cluster| decided(c.kind).members.get(&c.kept).map_or(0, <[u32]>::len);
    let id = |c: &Cluster| match c.kind {
        RecordKind::Article => ids.page(c.kept),
        RecordKind::Snippet => ids.snippet(c.kept).into(),
    };
    v.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(size(b).cmp(&size(a)))
            .then(id(a).cmp(&id(b)))
    });
    v
}

/// The report's article and snippet counts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    /// `articles`.
    pub articles: ArticleCounts,
    /// `snippets`.
    pub snippets: SnippetCounts,
}

/// Counts kept and dropped records of each kind.
pub fn counts(
    scanned: &Scanned,
    articles: &Decided,
    snippets: &SnippetDecisions,
    links: &[Option<u32>],
) -> Counts {
    let mut a = ArticleCounts::default();
    let np = scanned.pages.len() as u32;
    for pi in 0..scanned.pages.len() {
        if scanned.pages.is_article(pi) {
            let dup = articles.dropped.get(&(pi as u32));
            match dup.map(|d| d.kind) {
                Some(MatchKind::Exact) => a.dropped_exact += 1,
                Some(MatchKind::Near) => a.dropped_near += 1,
                None => a.kept += 1,
            }
            a.dropped_against_earlier += usize::from(dup.is_some_and(|d| d.kept >= np));
        }
    }
    let mut s = SnippetCounts::default();
    let ns = scanned.snippets.len() as u32;
    for (si, sn) in scanned.snippets.iter().enumerate() {
        s.occurrences += sn.occurrences;
        s.incomplete += usize::from(!sn.occ.block.complete);
        let dup = snippets.decided.dropped.get(&(si as u32));
        s.dropped_against_earlier += usize::from(dup.is_some_and(|d| d.kept >= ns));
        if snippets.is_seen_again(si as u32) {
            s.seen_again += 1;
            s.seen_again_occurrences += sn.occurrences;
            continue;
        }
        match dup.map(|d| d.kind) {
            Some(MatchKind::Exact) => s.dropped_exact += 1,
            Some(MatchKind::Near) => s.dropped_near += 1,
            None => {
                s.unique += 1;
                s.linked += usize::from(links[si].is_some());
            }
        }
    }
    Counts {
        articles: a,
        snippets: s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::decide::tests::dup;

    #[test]
    fn counts_split_kept_exact_and_near_for_each_kind() {
        use crate::run::decide::articles::tests::pages;
        use crate::run::decide::snippets::tests::merged;
        use crate::run::sources::Sources;
        let (pages, _, signatures) = pages(&[Some("甲"), None, Some("乙"), Some("丙")]);
        let mut snippets = vec![
            merged(0, "t0", "x"),
            merged(1, "t1", ""),
            merged(2, "t2", "y"),
        ];
        snippets[2].occurrences = 4;
        let source = |i| format!("p{i}.txt");
        let scanned = Scanned {
            sources: Sources::in_memory((0..pages.len()).map(source).collect()),
            keys: (0..pages.len())
                .map(|i| crate::record::page_key(&source(i), None))
                .collect(),
            pages: crate::run::summaries::Summaries::in_memory(pages),
            signatures,
            snippets,
            samples: Default::default(),
            cpu: Default::default(),
        };
        let articles = Decided::from_items(
            vec![dup(1, 0, MatchKind::Near)],
            &[0, 2, 3],
            Default::default(),
        );
        let sdec = SnippetDecisions {
            fps: Vec::new(),
            decided: Decided::from_items(
                vec![dup(2, 0, MatchKind::Exact)],
                &[0, 1, 2],
                Default::default(),
            ),
            resolved: Default::default(),
            seen_again: Default::default(),
            again_of: Default::default(),
        };
        let c = counts(&scanned, &articles, &sdec, &[Some(0), None, Some(3)]);
        assert_eq!(
            (
                c.articles.kept,
                c.articles.dropped_exact,
                c.articles.dropped_near
            ),
            (2, 0, 1)
        );
        let s = &c.snippets;
        assert_eq!(
            (s.occurrences, s.unique, s.dropped_exact, s.dropped_near),
            (6, 2, 1, 0)
        );
        assert_eq!((s.linked, s.incomplete), (1, 1));
    }

    #[test]
    fn clusters_are_in_report_order() {
        let ids = Ids {
            // Keys whose ids sort as the keys do.
            pages: [3, 1, 2, 0, 4].into_iter().collect(),
            snippets: ["s-0", "s-1", "s-2"]
                .map(String::from)
                .into_iter()
                .collect(),
            ..Ids::default()
        };
        let articles = Decided::from_items(
            vec![
                dup(3, 1, MatchKind::Near),
                dup(0, 2, MatchKind::Exact),
                dup(4, 2, MatchKind::Near),
            ],
            &[0, 1, 2, 3, 4],
            Default::default(),
        );
        let snippets = Decided::from_items(
            vec![dup(1, 0, MatchKind::Exact), dup(2, 0, MatchKind::Near)],
            &[0, 1, 2],
            Default::default(),
        );
        let c = clusters(&articles, &snippets, &ids);
        let shape: Vec<(RecordKind, u32, usize)> = c
            .iter()
            .map(|c| {
                let d = match c.kind {
                    RecordKind::Article => &articles,
                    RecordKind::Snippet => &snippets,
                };
                (c.kind, c.kept, d.members[&c.kept].len())
            })
            .collect();
        // Two-member clusters first; the tie between kept a-1 and nothing else.
        assert_eq!(
            shape,
            [
                (RecordKind::Article, 2, 2),
                (RecordKind::Article, 1, 1),
                (RecordKind::Snippet, 0, 2)
            ]
        );
    }
}
