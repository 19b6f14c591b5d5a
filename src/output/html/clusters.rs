//! The duplicate clusters for a person: by section (near, against an earlier run, exact,
//! snippets), the ones to look at first, a few in full in `report.html` with the texts side
//! by side, and every one of them in paged files beside it (`clusters/near-0001.html` …),
//! each page self-contained and script-free like the report.

use std::collections::HashMap;
use std::fmt::Write;

use rayon::prelude::*;

use super::{diff_html, escape, name, Extra, STYLE};
use crate::dedup::keep::KeptBy;
use crate::dedup::MatchKind;
use crate::record::{ClusterMember, ClusterRecord, RecordKind};

/// Clusters in one paged file.
pub const PAGE_CLUSTERS: usize = 500;

/// Near pairs listed under "look at these first".
pub const LOOK_FIRST: usize = 12;

/// Where a cluster is listed: what a person looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Section {
    /// Articles with at least one near (not identical) member, all of tonight's.
    Near,
    /// Articles whose kept record an earlier run wrote.
    Earlier,
    /// Articles identical after normalization, all of tonight's.
    Exact,
    /// Related snippets.
    Snippets,
}

impl Section {
    /// In the order the report lists them.
    pub const ALL: [Section; 4] = [
        Section::Near,
        Section::Earlier,
        Section::Exact,
        Section::Snippets,
    ];

    /// The section of a cluster of `kind` whose kept record an earlier run wrote
    /// (`kept_earlier`) and that has a near member (`any_near`).
    pub fn classify(kind: RecordKind, kept_earlier: bool, any_near: bool) -> Section {
        match (kind, kept_earlier, any_near) {
            (RecordKind::Snippet, _, _) => Section::Snippets,
            (RecordKind::Article, true, _) => Section::Earlier,
            (RecordKind::Article, false, true) => Section::Near,
            (RecordKind::Article, false, false) => Section::Exact,
        }
    }

    /// The section of a `duplicates.jsonl` line (the same as [`Section::classify`] of the
    /// decision it was made from).
    pub fn of(c: &ClusterRecord) -> Section {
        let near = c.members[1..]
            .iter()
            .any(|m| m.match_kind == MatchKind::Near);
        Section::classify(c.kind, c.members[0].earlier.is_some(), near)
    }

    /// Its place in [`Section::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Its anchor and the stem of its paged files.
    pub fn slug(self) -> &'static str {
        match self {
            Section::Near => "near",
            Section::Earlier => "earlier",
            Section::Exact => "exact",
            Section::Snippets => "snippets",
        }
    }

    /// Its heading.
    pub fn title(self) -> &'static str {
        match self {
            Section::Near => "Near duplicates (articles)",
            Section::Earlier => "Duplicates of an earlier run's record (articles)",
            Section::Exact => "Exact duplicates (articles)",
            Section::Snippets => "Duplicate snippets",
        }
    }

    /// One sentence on what is in it.
    fn about(self) -> &'static str {
        match self {
            Section::Near => {
                "Articles whose texts differ but share most of their wording; the ones a \
                 person should check, lowest similarity first under “Look at these first”."
            }
            Section::Earlier => {
                "Tonight's articles dropped because an earlier run already kept the same \
                 text (exact) or nearly the same (near); the earlier record is never dropped."
            }
            Section::Exact => {
                "Articles with the same text after normalization (letters and digits only, \
                 ignoring punctuation, spacing and case)."
            }
            Section::Snippets => {
                "Related-list snippets with another title but the same or nearly the same \
                 text; the dropped titles become aliases of the kept snippet."
            }
        }
    }
}

/// The name of page `n` (from 1) of `section`'s paged files, relative to the output folder.
pub fn page_name(section: Section, n: usize) -> String {
    format!("clusters/{}-{n:04}.html", section.slug())
}

/// Pages a section of `count` clusters takes.
pub fn pages_for(count: usize) -> usize {
    count.div_ceil(PAGE_CLUSTERS)
}

/// How many clusters of each section `report.html` shows in full, `budget` in all: an
/// equal share each, what a small section does not use going to the others.
pub fn shown_quota(counts: [usize; 4], budget: usize) -> [usize; 4] {
    let mut order: Vec<usize> = (0..4).filter(|&i| counts[i] > 0).collect();
    order.sort_by_key(|&i| (counts[i], i));
    let mut quota = [0; 4];
    let mut left = budget;
    for (k, &i) in order.iter().enumerate() {
        let share = left / (order.len() - k);
        quota[i] = counts[i].min(share);
        left -= quota[i];
    }
    quota
}

/// A near pair a person should look at first: among the lowest similarities that were
/// still merged.
#[derive(Debug, Clone, PartialEq)]
pub struct LookFirst {
    /// The cluster's id (its anchor).
    pub cluster: String,
    /// Article or snippet.
    pub kind: RecordKind,
    /// The kept record's title.
    pub kept_title: String,
    /// The dropped member.
    pub member: ClusterMember,
}

/// The clusters the report is given.
#[derive(Debug, Clone, Copy)]
pub struct Clusters<'a> {
    /// The clusters rendered in full, in `duplicates.jsonl` order.
    pub shown: &'a [ClusterRecord],
    /// Clusters in all.
    pub total: usize,
    /// Clusters per section ([`Section::ALL`] order).
    pub counts: [usize; 4],
    /// The pairs to look at first, lowest similarity first.
    pub look_first: &'a [LookFirst],
}

/// One member beside the kept record: the same text once, or the two with the
/// differences marked.
enum PairView {
    Same(String),
    Diff(String, String),
}

/// What a proposer is called in plain words, with its technical name.
fn found_by(names: &[&str]) -> String {
    let words: Vec<String> = names
        .iter()
        .map(|&n| {
            let plain = match n {
                "exact" => "identical after normalization",
                "lsh" => "shared MinHash band",
                "simhash" => "close simhash fingerprints",
                "component" => "joined through another member",
                other => other,
            };
            format!("{plain} (<code>{n}</code>)")
        })
        .collect();
    words.join(" + ")
}

/// Why the kept record won, in plain words with the technical name.
fn kept_because(k: Option<KeptBy>) -> String {
    let Some(k) = k else {
        return String::new();
    };
    let plain = match k {
        KeptBy::MostCentral => "the most central copy",
        KeptBy::FewerReplacements => "fewer undecodable characters",
        KeptBy::Longest => "the longer text",
        KeptBy::FirstInInput => "first in input order (the rule's other criteria tied)",
        KeptBy::EarlierRun => "an earlier run kept it",
    };
    format!("{plain} (<code>{}</code>)", k.as_str())
}

/// The legend: each plain word of the report with the technical term of the records.
pub fn legend(h: &mut String) {
    h.push_str(
        "<details id=\"legend\" open><summary>How to read the clusters</summary><dl>\
         <dt>exact</dt><dd>identical after normalization: the same letters and digits, \
         ignoring punctuation, spacing and case (<code>match: exact</code>, similarity 1). \
         When the two texts are the same characters too, the text is shown once.</dd>\
         <dt>near</dt><dd>similar wording: the Jaccard similarity of the two texts' \
         4-character shingles reached <code>dedup.min_similarity</code> \
         (<code>match: near</code>).</dd>\
         <dt>found by</dt><dd>what proposed the pair for checking (<code>proposed_by</code>): \
         identical after normalization (<code>exact</code>), a shared MinHash band \
         (<code>lsh</code>), close simhash fingerprints (<code>simhash</code>), or joined \
         through another member of the cluster (<code>component</code>).</dd>\
         <dt>kept because</dt><dd>the rule of <code>dedup.keep</code> (the cluster's \
         <code>keep</code>, e.g. <code>most_central</code>) is an order of criteria; each \
         member's <code>kept_by</code> names the one that decided between it and the kept \
         record: the most central copy (<code>most_central</code>), fewer undecodable \
         characters (<code>fewer_replacements</code>), the longer text \
         (<code>longest</code>), first in input order (<code>first_in_input</code>: the \
         others tied — in an exact cluster every copy is equally central), or an earlier \
         run kept it (<code>earlier_run</code>: earlier records are never dropped, whatever \
         the rule).</dd>\
         <dt>hamming</dt><dd>bits that differ between the two texts' 64-bit simhash \
         fingerprints (<code>metadata.simhash</code>).</dd>\
         <dt>colours</dt><dd><del>red</del>: text only the kept record has; \
         <ins>green</ins>: text only the dropped one has. The two texts of a pair scroll \
         together.</dd></dl></details>",
    );
}

/// The contents line's links to the sections, with their counts.
pub fn contents_links(all: &Clusters<'_>) -> Vec<String> {
    Section::ALL
        .iter()
        .map(|s| {
            format!(
                "<a href=\"#{}\">{}</a> ({})",
                s.slug(),
                s.title(),
                all.counts[s.index()]
            )
        })
        .collect()
}

/// "Look at these first": the near pairs merged at the lowest similarity.
pub fn look_first(h: &mut String, all: &Clusters<'_>) {
    h.push_str("<h2 id=\"look-first\">Look at these first</h2>");
    if all.look_first.is_empty() {
        h.push_str("<p class=\"muted\">No near duplicates: nothing borderline to check.</p>");
        return;
    }
    h.push_str(
        "<p class=\"muted\">The near duplicates merged at the lowest similarity: the \
         likeliest to be two different pages.</p><table><tr><th>similarity</th>\
         <th>kind</th><th>kept</th><th>dropped</th><th>cluster</th></tr>",
    );
    for l in all.look_first {
        let _ = write!(
            h,
            "<tr><td class=\"n\">{:.4}</td><td>{}</td><td>{}</td><td>{}<br>\
             <span class=\"muted\">{}</span></td><td><a href=\"#{}\">{}</a></td></tr>",
            l.member.similarity,
            l.kind.as_str(),
            name(&l.kept_title),
            name(&l.member.title),
            name(&l.member.source),
            escape(&l.cluster),
            escape(&l.cluster)
        );
    }
    h.push_str("</table>");
}

/// Every section: its count, links to its pages, and its first clusters in full.
pub fn sections(
    h: &mut String,
    all: &Clusters<'_>,
    texts: &HashMap<String, (String, String)>,
    extra: &Extra,
) {
    let _ = write!(
        h,
        "<h2 id=\"clusters\">Duplicate clusters ({})</h2>",
        all.total
    );
    if all.total == 0 {
        h.push_str("<p class=\"muted\">No duplicates found.</p>");
    }
    let views = pair_views(all.shown, texts, extra);
    let mut opened = 0;
    for s in Section::ALL {
        let count = all.counts[s.index()];
        let _ = write!(
            h,
            "<h3 id=\"{}\">{} ({count})</h3><p class=\"muted\">{}</p>",
            s.slug(),
            s.title(),
            s.about()
        );
        if count == 0 {
            continue;
        }
        let here: Vec<usize> = (0..all.shown.len())
            .filter(|&i| Section::of(&all.shown[i]) == s)
            .collect();
        let _ = write!(
            h,
            "<p class=\"pages\">{} shown in full here, largest first; all {count}: {}</p>",
            here.len(),
            page_links(s, count)
        );
        for i in here {
            cluster_full(h, &all.shown[i], opened < 10, &views[i], extra);
            opened += 1;
        }
    }
}

/// Links from `report.html` to the paged files of a section.
fn page_links(s: Section, count: usize) -> String {
    (1..=pages_for(count))
        .map(|n| format!("<a href=\"{}\">page {n}</a>", escape(&page_name(s, n))))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The pair views of every shown cluster's shown members: diffs are the costly part, so
/// they are computed in parallel.
fn pair_views(
    shown: &[ClusterRecord],
    texts: &HashMap<String, (String, String)>,
    extra: &Extra,
) -> Vec<Vec<PairView>> {
    shown
        .par_iter()
        .map(|c| {
            let kept = texts.get(&c.members[0].id).map_or("", |t| t.1.as_str());
            let n = c.members.len().min(extra.max_members.saturating_add(1));
            c.members[1..n]
                .iter()
                .map(|m| {
                    let other = texts.get(&m.id).map_or("", |t| t.1.as_str());
                    if m.match_kind == MatchKind::Exact && kept == other {
                        PairView::Same(escape(kept))
                    } else {
                        let (l, r) = diff_html(kept, other);
                        PairView::Diff(l, r)
                    }
                })
                .collect()
        })
        .collect()
}

/// The tag of a kept record an earlier run wrote.
fn earlier_tag(kept: &ClusterMember) -> String {
    kept.earlier.as_ref().map_or(String::new(), |e| {
        format!(
            " <span class=\"tag\">earlier run</span> <span class=\"muted\">(kept in \
             <code>{}</code>, byte {}, run of {})</span>",
            escape(&format!("{}/{}", e.output, e.file)),
            e.offset,
            escape(&e.started)
        )
    })
}

/// The evidence line of one member, in plain words.
fn evidence(m: &ClusterMember) -> String {
    let hammings: Vec<String> = m.hammings.iter().map(u32::to_string).collect();
    let what = match m.match_kind {
        MatchKind::Exact => "exact duplicate",
        MatchKind::Near => "near duplicate",
    };
    format!(
        "<b>{what}</b> · similarity {:.4} · found by {} · kept because: {} · hamming {} \
         (all fingerprints: {})",
        m.similarity,
        found_by(&m.proposed_by.names()),
        kept_because(m.kept_by),
        m.hamming,
        hammings.join(", ")
    )
}

/// One cluster in full: each shown member beside the kept record.
fn cluster_full(h: &mut String, c: &ClusterRecord, open: bool, views: &[PairView], extra: &Extra) {
    let kept = &c.members[0];
    let _ = write!(
        h,
        "<details class=\"cluster\" id=\"{}\"{}><summary><span class=\"tag\">{}</span>{} — \
         {} members, kept <code>{}</code>{}</summary>",
        escape(&c.cluster),
        if open { " open" } else { "" },
        c.kind.as_str(),
        name(&kept.title),
        c.members.len(),
        escape(&kept.id),
        earlier_tag(kept)
    );
    let head = |label: &str, m: &ClusterMember| {
        format!(
            "<p>{label} <code>{}</code><br>{}<br><span class=\"muted\">{}</span></p>",
            escape(&m.id),
            name(&m.title),
            name(&m.source)
        )
    };
    let n = c.members.len().min(extra.max_members.saturating_add(1));
    for (m, view) in c.members[1..n].iter().zip(views) {
        let _ = write!(h, "<p class=\"evidence\">{}</p>", evidence(m));
        match view {
            PairView::Same(text) => {
                let _ = write!(
                    h,
                    "<div class=\"pair\"><div>{}</div><div>{}</div></div>\
                     <div class=\"same\"><p class=\"muted\">identical text, shown once</p>\
                     <pre>{text}</pre></div>",
                    head("kept", kept),
                    head("dropped", m)
                );
            }
            PairView::Diff(left, right) => {
                let note = match m.match_kind {
                    MatchKind::Exact => {
                        "<p class=\"muted\">identical after normalization: only \
                         punctuation, spacing or letter case differ</p>"
                    }
                    MatchKind::Near => "",
                };
                let _ = write!(
                    h,
                    "{note}<div class=\"pair\"><div>{}</div><div>{}</div></div>\
                     <div class=\"scroll\"><div class=\"pair\"><pre class=\"kept\">{left}</pre>\
                     <pre class=\"dropped\">{right}</pre></div></div>",
                    head("kept", kept),
                    head("dropped", m)
                );
            }
        }
    }
    if c.members.len() > n {
        let _ = write!(
            h,
            "<p class=\"muted\">{} more members (output.html_max_members) — every member is \
             on this cluster's page: {}</p>",
            c.members.len() - n,
            escape(&c.cluster)
        );
    }
    h.push_str("</details>");
}

/// The paged files of every section, written as the clusters stream past.
#[derive(Debug)]
pub struct Pages {
    counts: [usize; 4],
    open: [String; 4],
    page: [usize; 4],
    in_page: [usize; 4],
}

impl Pages {
    /// Pages for sections of `counts` clusters.
    pub fn new(counts: [usize; 4]) -> Pages {
        Pages {
            counts,
            open: Default::default(),
            page: [0; 4],
            in_page: [0; 4],
        }
    }

    /// Adds the next cluster (in `duplicates.jsonl` order); `in_report` when report.html
    /// shows it in full. Returns a page that is complete: (name, HTML).
    pub fn add(&mut self, c: &ClusterRecord, in_report: bool) -> Option<(String, String)> {
        let s = Section::of(c);
        let i = s.index();
        if self.in_page[i] == 0 {
            self.page[i] += 1;
            self.open[i] = self.page_head(s);
        }
        cluster_row(&mut self.open[i], c, in_report);
        self.in_page[i] += 1;
        (self.in_page[i] == PAGE_CLUSTERS).then(|| self.close(s))
    }

    /// The pages still open.
    pub fn finish(mut self) -> Vec<(String, String)> {
        Section::ALL
            .into_iter()
            .filter(|s| self.in_page[s.index()] > 0)
            .collect::<Vec<_>>()
            .into_iter()
            .map(|s| self.close(s))
            .collect()
    }

    fn close(&mut self, s: Section) -> (String, String) {
        let i = s.index();
        let mut page = std::mem::take(&mut self.open[i]);
        page.push_str(&self.page_nav(s));
        page.push_str("</body></html>\n");
        self.in_page[i] = 0;
        (page_name(s, self.page[i]), page)
    }

    fn page_head(&self, s: Section) -> String {
        let (n, of) = (self.page[s.index()], pages_for(self.counts[s.index()]));
        let first = (n - 1) * PAGE_CLUSTERS + 1;
        let last = (n * PAGE_CLUSTERS).min(self.counts[s.index()]);
        format!(
            "<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{} — page {n} of {of}</title><style>{STYLE}</style></head><body>\
             <h1>{} — page {n} of {of}</h1><p class=\"muted\">Clusters {first}–{last} of \
             {}, largest first, as in <code>duplicates.jsonl</code>. <a \
             href=\"../report.html#{}\">Back to the report</a> · <a \
             href=\"../report.html#legend\">how to read them</a></p>{}",
            s.title(),
            s.title(),
            self.counts[s.index()],
            s.slug(),
            self.page_nav(s)
        )
    }

    /// Links to the previous and next pages and to every page of the section.
    fn page_nav(&self, s: Section) -> String {
        let (n, of) = (self.page[s.index()], pages_for(self.counts[s.index()]));
        let file = |k: usize| page_name(s, k).trim_start_matches("clusters/").to_string();
        let mut links = Vec::new();
        if n > 1 {
            links.push(format!("<a href=\"{}\">← previous</a>", file(n - 1)));
        }
        if n < of {
            links.push(format!("<a href=\"{}\">next →</a>", file(n + 1)));
        }
        let all: Vec<String> = (1..=of)
            .map(|k| match k == n {
                true => format!("<b>{k}</b>"),
                false => format!("<a href=\"{}\">{k}</a>", file(k)),
            })
            .collect();
        links.push(format!("pages: {}", all.join(" ")));
        format!("<p class=\"pages\">{}</p>", links.join(" · "))
    }
}

/// One cluster on a paged file: the kept record and a table of every member's evidence.
fn cluster_row(h: &mut String, c: &ClusterRecord, in_report: bool) {
    let kept = &c.members[0];
    let lowest = c.members[1..]
        .iter()
        .map(|m| m.similarity)
        .fold(1.0f64, f64::min);
    let _ = write!(
        h,
        "<details class=\"cluster\" id=\"{}\"><summary><span class=\"tag\">{}</span>{} — {} \
         members, lowest similarity {lowest:.4}</summary><p>kept <code>{}</code> · {}{}{}</p>\
         <table><tr><th>dropped</th><th>title and source</th><th>match</th>\
         <th>similarity</th><th>hamming</th><th>found by</th><th>kept because</th></tr>",
        escape(&c.cluster),
        c.kind.as_str(),
        name(&kept.title),
        c.members.len(),
        escape(&kept.id),
        name(&kept.source),
        earlier_tag(kept),
        match in_report {
            true => format!(
                " · <a href=\"../report.html#{}\">texts side by side in the report</a>",
                escape(&c.cluster)
            ),
            false => String::new(),
        }
    );
    for m in &c.members[1..] {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}<br><span class=\"muted\">{}</span></td>\
             <td>{}</td><td class=\"n\">{:.4}</td><td class=\"n\">{}</td><td>{}</td>\
             <td>{}</td></tr>",
            escape(&m.id),
            name(&m.title),
            name(&m.source),
            m.match_kind.as_str(),
            m.similarity,
            m.hamming,
            found_by(&m.proposed_by.names()),
            kept_because(m.kept_by)
        );
    }
    h.push_str("</table></details>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_shared_and_what_a_small_section_leaves_goes_to_the_others() {
        assert_eq!(shown_quota([1000, 0, 1000, 1000], 200), [66, 0, 67, 67]);
        assert_eq!(shown_quota([5, 3, 1000, 0], 200), [5, 3, 192, 0]);
        assert_eq!(shown_quota([0; 4], 200), [0; 4]);
        assert_eq!(shown_quota([10, 10, 10, 10], 0), [0; 4]);
    }

    #[test]
    fn sections_follow_the_kept_record_and_the_match() {
        assert_eq!(
            Section::classify(RecordKind::Article, true, false),
            Section::Earlier
        );
        assert_eq!(
            Section::classify(RecordKind::Article, false, true),
            Section::Near
        );
        assert_eq!(
            Section::classify(RecordKind::Article, false, false),
            Section::Exact
        );
        assert_eq!(
            Section::classify(RecordKind::Snippet, true, true),
            Section::Snippets
        );
        assert_eq!(pages_for(0), 0);
        assert_eq!(pages_for(PAGE_CLUSTERS + 1), 2);
        assert_eq!(page_name(Section::Near, 3), "clusters/near-0003.html");
    }
}
