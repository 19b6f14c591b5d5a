//! `report.html`: the run for a person. One self-contained file (inline CSS, no script, no
//! network), every scraped string escaped.

use std::collections::HashMap;
use std::fmt::Write;

use rayon::prelude::*;

use crate::output::report::Report;
use crate::record::{ClusterRecord, RejectRecord};

/// Figures the report shows beyond `report.json`.
#[derive(Debug, Clone)]
pub struct Extra {
    /// Candidate pairs the article index returned.
    pub article_candidates: usize,
    /// Candidate pairs the snippet index returned.
    pub snippet_candidates: usize,
    /// Clusters rendered in full; the rest are counted.
    pub max_clusters: usize,
    /// Members shown side by side per cluster; the rest are listed by id.
    pub max_members: usize,
    /// When and on what the run ran (varies between runs, like the timings).
    pub run: RunInfo,
}

/// The run line at the top of the report.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    /// Start time, UTC (`2026-11-23 14:55:01 UTC`).
    pub started: String,
    /// `--input` as given.
    pub input: String,
    /// The config file, or `built-in profile`.
    pub config: String,
}

/// Learned-boilerplate lines shown in the table; the rest are under "show all".
const LEARNED_SHOWN: usize = 20;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A scraped name (a source path, a title) for the report: escaped, its bidirectional
/// controls shown as visible codes (`invoice\u{202e}gnp.exe` must not display as
/// "invoiceexe.png"), and isolated in `<bdi>` so that it cannot reorder the text around it.
pub fn name(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str("<bdi>");
    for c in s.chars() {
        if is_bidi_control(c) {
            let _ = write!(out, "<span class=\"ctl\">[U+{:04X}]</span>", c as u32);
        } else {
            out.push_str(&escape(c.encode_utf8(&mut [0; 4])));
        }
    }
    out.push_str("</bdi>");
    out
}

/// Characters that change the direction of the text after them.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'PingFang SC','Hiragino Sans GB',\
'Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC','WenQuanYi Micro Hei',sans-serif;\
margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.5}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0}.grid{display:flex;flex-wrap:wrap;gap:0 2.5em;\
align-items:flex-start}.grid h2{font-size:1.05em;border:0;margin:1em 0 0}td,th{border:1px solid #ccc;padding:.25em .6em;\
text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right;\
font-variant-numeric:tabular-nums}details{margin:.6em 0;border:1px solid #ddd;padding:.4em .8em;\
border-radius:4px}summary{cursor:pointer;font-weight:600}.pair{display:grid;\
grid-template-columns:1fr 1fr;gap:1em}.pair pre{white-space:pre-wrap;word-break:break-all;\
background:#fafafa;border:1px solid #eee;padding:.5em;max-height:24em;overflow:auto;margin:0}\
.muted{color:#777}.tag{display:inline-block;background:#eef;border-radius:3px;padding:0 .4em;\
margin-right:.3em}del{background:#fcc;text-decoration:none}ins{background:#cfc;\
text-decoration:none}.warn{color:#a00;font-weight:600}.ctl{color:#a00;font-size:.8em}";

/// The clusters `report.html` shows, and how many `duplicates.jsonl` holds.
#[derive(Debug, Clone, Copy)]
pub struct Clusters<'a> {
    /// The first clusters, in report order (at most `Extra::max_clusters` are shown).
    pub shown: &'a [ClusterRecord],
    /// Clusters in all.
    pub total: usize,
}

/// Renders the whole report. `texts` maps the id of every record shown in full (kept
/// records and the members beside them) to its (title, text).
pub fn render(
    r: &Report,
    clusters: Clusters<'_>,
    rejects: &[RejectRecord],
    texts: &HashMap<String, (String, String)>,
    extra: &Extra,
) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>pagesieve report</title><style>{STYLE}</style></head><body>\
         <h1>pagesieve report</h1><p class=\"muted\" id=\"run\">started {} · input <code>{}</code> \
         · config <code>{}</code> · pagesieve {} · profile {}</p>",
        escape(&extra.run.started),
        escape(&extra.run.input),
        escape(&extra.run.config),
        escape(&r.version),
        escape(&r.profile)
    );
    for w in &r.warnings {
        let _ = write!(h, "<p class=\"warn\">warning: {}</p>", escape(w));
    }
    summary_section(&mut h, r, extra);
    rejects_section(&mut h, rejects);
    tables_section(&mut h, r);
    clusters_section(&mut h, clusters, texts, extra);
    learned_section(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

/// The run's main figures.
fn summary_section(h: &mut String, r: &Report, extra: &Extra) {
    h.push_str("<h2 id=\"summary\">Summary</h2><table>");
    let rows: [(&str, usize); 15] = [
        ("files seen", r.files.seen),
        ("articles kept", r.articles.kept),
        ("dropped as exact duplicates", r.articles.dropped_exact),
        ("dropped as near duplicates", r.articles.dropped_near),
        ("files rejected", r.files.rejected),
        ("files excluded by globs", r.files.excluded),
        ("related snippets seen", r.snippets.occurrences),
        ("unique snippets kept", r.snippets.unique),
        ("snippets dropped (exact)", r.snippets.dropped_exact),
        ("snippets dropped (near)", r.snippets.dropped_near),
        ("snippets linked to an article", r.snippets.linked),
        ("article candidate pairs checked", extra.article_candidates),
        (
            "articles dropped for a record of an earlier run",
            r.articles.dropped_against_earlier,
        ),
        (
            "snippets dropped for a record of an earlier run",
            r.snippets.dropped_against_earlier,
        ),
        (
            "snippets an earlier run already wrote (seen again)",
            r.snippets.seen_again,
        ),
    ];
    for (k, v) in rows {
        let _ = write!(h, "<tr><th>{k}</th><td class=\"n\">{v}</td></tr>");
    }
    h.push_str("</table>");
    let ix = &r.index;
    if !ix.against.is_empty() {
        let _ = write!(
            h,
            "<p id=\"against\">Deduplicated against {} articles and {} snippets kept by {} \
             earlier run(s) (index {}); earlier records are never dropped.</p>",
            ix.earlier_articles,
            ix.earlier_snippets,
            ix.earlier_runs.len(),
            ix.against
                .iter()
                .map(|p| format!("<code>{}</code>", escape(p)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

/// Rejects by reason, boilerplate stripped, encodings and timings, side by side.
fn tables_section(h: &mut String, r: &Report) {
    fn kv<V: std::fmt::Display>(
        h: &mut String,
        title: &str,
        id: &str,
        m: &std::collections::BTreeMap<String, V>,
    ) {
        let _ = write!(h, "<h2 id=\"{id}\">{title}</h2><table>");
        for (k, v) in m {
            let _ = write!(h, "<tr><th>{}</th><td class=\"n\">{v}</td></tr>", escape(k));
        }
        h.push_str("</table>");
    }
    h.push_str("<div class=\"grid\">");
    for (title, id, m) in [
        ("Rejected files by reason", "rejects-by-reason", &r.rejects),
        ("Boilerplate stripped (pages)", "stripped", &r.stripped),
        ("Encodings (pages)", "encodings", &r.encodings),
    ] {
        h.push_str("<div>");
        kv(h, title, id, m);
        h.push_str("</div>");
    }
    h.push_str("<div>");
    kv(h, "Timings (ms)", "timings", &r.timings_ms);
    h.push_str("</div></div>");
}

/// Every cluster (up to `max_clusters`), each member beside the kept record with the
/// differences marked.
fn clusters_section(
    h: &mut String,
    all: Clusters<'_>,
    texts: &HashMap<String, (String, String)>,
    extra: &Extra,
) {
    let clusters = all.shown;
    let _ = write!(
        h,
        "<h2 id=\"clusters\">Duplicate clusters ({})</h2>",
        all.total
    );
    if clusters.is_empty() {
        h.push_str("<p class=\"muted\">No duplicates found.</p>");
    } else {
        h.push_str(
            "<p class=\"muted\">Largest first. In each pair, <del>red</del> is text only the \
             kept record has, <ins>green</ins> text only the dropped one has; hamming is the \
             distance of the primary fingerprints, similarity the Jaccard similarity of the \
             4-gram shingle sets that decided it.</p>",
        );
    }
    let mut diffs = cluster_diffs(clusters, texts, extra).into_iter();
    let n = clusters.len().min(extra.max_clusters);
    for (i, c) in clusters[..n].iter().enumerate() {
        cluster(h, i, c, &mut diffs, extra);
    }
    if all.total > n {
        let _ = write!(
            h,
            "<p class=\"muted\">{} more clusters are not shown here; see duplicates.jsonl \
             (output.html_max_clusters).</p>",
            all.total - n
        );
    }
}

/// The character diffs are the costly part: computed in parallel, used in order.
fn cluster_diffs(
    clusters: &[ClusterRecord],
    texts: &HashMap<String, (String, String)>,
    extra: &Extra,
) -> Vec<(String, String)> {
    let jobs: Vec<(&str, &str)> = clusters
        .iter()
        .take(extra.max_clusters)
        .flat_map(|c| {
            let kept = texts.get(&c.members[0].id).map_or("", |t| t.1.as_str());
            let shown = c.members.len().min(extra.max_members.saturating_add(1));
            c.members[1..shown]
                .iter()
                .map(move |m| (kept, texts.get(&m.id).map_or("", |t| t.1.as_str())))
        })
        .collect();
    jobs.par_iter().map(|&(k, o)| diff_html(k, o)).collect()
}

/// One cluster: a `<details>` with each shown member beside the kept record.
fn cluster(
    h: &mut String,
    i: usize,
    c: &ClusterRecord,
    diffs: &mut impl Iterator<Item = (String, String)>,
    extra: &Extra,
) {
    let kept = &c.members[0];
    let earlier = kept.earlier.as_ref().map_or(String::new(), |e| {
        format!(
            " <span class=\"tag\">earlier run</span> <span class=\"muted\">(kept in \
             <code>{}</code>, byte {}, run of {})</span>",
            escape(&format!("{}/{}", e.output, e.file)),
            e.offset,
            escape(&e.started)
        )
    });
    let _ = write!(
        h,
        "<details class=\"cluster\" id=\"{}\"{}><summary><span class=\"tag\">{}</span>{} — \
         {} members, kept <code>{}</code>{earlier}</summary>",
        escape(&c.cluster),
        if i < 10 { " open" } else { "" },
        c.kind.as_str(),
        name(&kept.title),
        c.members.len(),
        escape(&kept.id)
    );
    let shown = c.members.len().min(extra.max_members.saturating_add(1));
    for m in &c.members[1..shown] {
        let (left, right) = diffs.next().unwrap_or_default();
        let hammings: Vec<String> = m.hammings.iter().map(u32::to_string).collect();
        let _ = write!(
            h,
            "<p class=\"evidence\"><b>{}</b> match · proposed by {} · kept by {} · hamming {} \
             (all fingerprints: {}) · similarity {:.4}</p><div class=\"pair\">\
             <div><p>kept <code>{}</code><br>{}<br><span class=\"muted\">{}</span></p>\
             <pre class=\"kept\">{}</pre></div><div><p>dropped <code>{}</code><br>{}<br>\
             <span class=\"muted\">{}</span></p><pre class=\"dropped\">{}</pre></div></div>",
            m.match_kind.as_str(),
            m.proposed_by.names().join(" + "),
            m.kept_by.map_or("", |k| k.as_str()),
            m.hamming,
            hammings.join(", "),
            m.similarity,
            escape(&kept.id),
            name(&kept.title),
            name(&kept.source),
            left,
            escape(&m.id),
            name(&m.title),
            name(&m.source),
            right
        );
    }
    if c.members.len() > shown {
        let rest: Vec<String> = c.members[shown..]
            .iter()
            .map(|m| format!("<code>{}</code>", escape(&m.id)))
            .collect();
        let _ = write!(
            h,
            "<p class=\"muted\">{} more members (output.html_max_members): {}</p>",
            rest.len(),
            rest.join(" ")
        );
    }
    h.push_str("</details>");
}

/// Every rejected file with its reason.
fn rejects_section(h: &mut String, rejects: &[RejectRecord]) {
    let _ = write!(
        h,
        "<h2 id=\"rejects\">Rejected files ({})</h2>",
        rejects.len()
    );
    if rejects.is_empty() {
        return;
    }
    h.push_str("<table><tr><th>source</th><th>reason</th><th>detail</th></tr>");
    for rj in rejects {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            name(&rj.source),
            escape(rj.reason.as_str()),
            escape(&rj.detail)
        );
    }
    h.push_str("</table>");
}

fn learned_section(h: &mut String, r: &Report) {
    let lb = &r.learned_boilerplate;
    let _ = write!(
        h,
        "<h2 id=\"boilerplate\">Learned boilerplate ({} lines)</h2><p class=\"muted\">Lines \
         that recur verbatim on many of {} sampled pages, and what the profile does with them; \
         <b>not stripped</b> marks what the rules miss{}.</p>",
        lb.lines.len(),
        lb.sampled_pages,
        if lb.strip {
            format!(
                " (boilerplate.strip removed them from {} articles)",
                lb.stripped_pages
            )
        } else {
            " (set boilerplate.strip to remove them)".to_string()
        }
    );
    if lb.lines.is_empty() {
        return;
    }
    let shown = lb.lines.len().min(LEARNED_SHOWN);
    learned_table(h, &lb.lines[..shown]);
    if lb.lines.len() > shown {
        let _ = write!(
            h,
            "<details><summary>show all {} lines</summary>",
            lb.lines.len()
        );
        learned_table(h, &lb.lines[shown..]);
        h.push_str("</details>");
    }
}

fn learned_table(h: &mut String, lines: &[crate::boilerplate::Learned]) {
    h.push_str("<table><tr><th>pages</th><th>share</th><th>handled by</th><th>line</th></tr>");
    for l in lines {
        let handled = if l.part == crate::page::LineKind::Body {
            format!("<b>{}</b>", escape(&l.handled_by))
        } else {
            escape(&l.handled_by)
        };
        let _ = write!(
            h,
            "<tr><td class=\"n\">{}</td><td class=\"n\">{:.1}%</td><td>{handled}</td>\
             <td>{}</td></tr>",
            l.pages,
            l.share * 100.0,
            escape(&l.text)
        );
    }
    h.push_str("</table>");
}

/// Texts longer than this are diffed on their first this-many characters (the rest shown
/// plain), so one huge page cannot stall the report.
const DIFF_MAX_CHARS: usize = 20_000;

/// A changed run of lines is diffed character by character only when each side has at most
/// this many characters; a longer one is marked whole. This bounds the work of every diff
/// (Myers' cost grows with length × differences) by the text, never by a clock: the report
/// is the same bytes on an idle machine and on a loaded one.
const HUNK_MAX_CHARS: usize = 4_000;

/// Character-level diff of `kept` against `other`, as two escaped HTML fragments: what only
/// the kept text has is `<del>` on the left, what only the other has is `<ins>` on the
/// right. Lines are matched first; changed runs of lines are then diffed by character
/// ([`HUNK_MAX_CHARS`]).
pub fn diff_html(kept: &str, other: &str) -> (String, String) {
    let cut = |s: &str| -> (String, String) {
        let head: String = s.chars().take(DIFF_MAX_CHARS).collect();
        let tail = s[head.len()..].to_string();
        (head, tail)
    };
    let (a, a_rest) = cut(kept);
    let (b, b_rest) = cut(other);
    let lines = similar::TextDiff::from_lines(&a, &b);
    let (old, new) = (lines.old_slices(), lines.new_slices());
    let mut marks = Marks::default();
    let (mut old_at, mut new_at) = (0, 0);
    for op in lines.ops() {
        let (o, n) = (op.old_range(), op.new_range());
        if op.tag() == similar::DiffTag::Equal {
            marks.lines(&old[old_at..o.start], &new[new_at..n.start]);
            marks.equal(&old[o.clone()].concat());
            (old_at, new_at) = (o.end, n.end);
        }
    }
    marks.lines(&old[old_at..], &new[new_at..]);
    marks.left.push_str(&escape(&a_rest));
    marks.right.push_str(&escape(&b_rest));
    (
        merge_marks(&marks.left, "del"),
        merge_marks(&marks.right, "ins"),
    )
}

/// The two sides of a diff being written.
#[derive(Default)]
struct Marks {
    left: String,
    right: String,
}

impl Marks {
    /// Text both sides have.
    fn equal(&mut self, text: &str) {
        let v = escape(text);
        self.left.push_str(&v);
        self.right.push_str(&v);
    }

    /// Text only the kept side has.
    fn del(&mut self, text: &str) {
        if !text.is_empty() {
            self.left.push_str("<del>");
            self.left.push_str(&escape(text));
            self.left.push_str("</del>");
        }
    }

    /// Text only the other side has.
    fn ins(&mut self, text: &str) {
        if !text.is_empty() {
            self.right.push_str("<ins>");
            self.right.push_str(&escape(text));
            self.right.push_str("</ins>");
        }
    }

    /// A changed run of lines: as one hunk when it is short enough, else line by line in
    /// pairs (the lines one side has more of marked whole).
    fn lines(&mut self, a: &[&str], b: &[&str]) {
        let (ja, jb) = (a.concat(), b.concat());
        let short = |s: &str| s.chars().count() <= HUNK_MAX_CHARS;
        if short(&ja) && short(&jb) {
            return self.hunk(&ja, &jb);
        }
        let paired = a.len().min(b.len());
        for (x, y) in a.iter().zip(b) {
            self.hunk(x, y);
        }
        self.del(&a[paired..].concat());
        self.ins(&b[paired..].concat());
    }

    /// Two texts: diffed by character when both sides are short enough, marked whole
    /// otherwise.
    fn hunk(&mut self, a: &str, b: &str) {
        if a.is_empty() || b.is_empty() {
            self.del(a);
            self.ins(b);
            return;
        }
        if a.chars().count() > HUNK_MAX_CHARS || b.chars().count() > HUNK_MAX_CHARS {
            self.del(a);
            self.ins(b);
            return;
        }
        let diff = similar::TextDiff::from_chars(a, b);
        for change in diff.iter_all_changes() {
            match change.tag() {
                similar::ChangeTag::Equal => self.equal(change.value()),
                similar::ChangeTag::Delete => self.del(change.value()),
                similar::ChangeTag::Insert => self.ins(change.value()),
            }
        }
    }
}

/// `<del>a</del><del>b</del>` → `<del>ab</del>`: one mark per run, a smaller file.
fn merge_marks(s: &str, tag: &str) -> String {
    s.replace(&format!("</{tag}><{tag}>"), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changes_and_escapes() {
        let (l, r) = diff_html("医保<可以>报销", "医保<不可以>报销");
        assert_eq!(l, "医保&lt;可以&gt;报销");
        assert_eq!(r, "医保&lt;<ins>不</ins>可以&gt;报销");
        let (l, r) = diff_html("甲乙丙", "甲丙丁");
        assert_eq!(
            (l.as_str(), r.as_str()),
            ("甲<del>乙</del>丙", "甲丙<ins>丁</ins>")
        );
    }

    /// Same input, same bytes: the diff's work is bounded by the text (lines first, changed
    /// runs by character up to a size), never by a clock, so a loaded machine writes the
    /// same report as an idle one. Two long texts with an edit in every line are still
    /// diffed by character, and a run too long for that is marked whole.
    #[test]
    fn bidi_controls_in_names_are_shown_and_isolated() {
        let n = name("invoice\u{202e}gnp.exe<");
        assert_eq!(
            n,
            "<bdi>invoice<span class=\"ctl\">[U+202E]</span>gnp.exe&lt;</bdi>"
        );
        assert!(!n.contains('\u{202e}'));
    }

    #[test]
    fn the_diff_is_bounded_by_work_not_time() {
        let line = |i: usize, w: &str| format!("第{i}条：医保个人账户{w}用于门诊和药店购药。\n");
        let a: String = (0..400).map(|i| line(i, "可以")).collect();
        let b: String = (0..400).map(|i| line(i, "不能")).collect();
        let (l, r) = diff_html(&a, &b);
        assert_eq!(l.matches("<del>").count(), 400, "one mark a line");
        assert_eq!(r.matches("<ins>").count(), 400);
        assert_eq!(diff_html(&a, &b), (l, r), "the same bytes every time");
        let long_a = "甲".repeat(HUNK_MAX_CHARS + 1);
        let long_b = "乙".repeat(HUNK_MAX_CHARS + 1);
        let (l, r) = diff_html(&long_a, &long_b);
        assert_eq!(
            (l.matches("<del>").count(), r.matches("<ins>").count()),
            (1, 1)
        );
    }

    #[test]
    fn ten_thousand_clusters_stay_a_small_file() {
        use crate::record::ClusterMember;
        let member = |i: usize, j: usize| ClusterMember {
            id: format!("a-{i:08}-{j}"),
            source: format!("p{i}.txt"),
            title: "标题".into(),
            match_kind: crate::dedup::MatchKind::Near,
            hamming: 2,
            similarity: 0.9,
            hammings: vec![2, 3, 4, 5],
            proposed_by: crate::dedup::Proposers::LSH,
            kept_by: None,
            earlier: None,
        };
        let clusters: Vec<ClusterRecord> = (0..10_000)
            .map(|i| ClusterRecord {
                cluster: format!("c-{i}"),
                kind: crate::record::RecordKind::Article,
                kept: format!("a-{i:08}-0"),
                keep: Default::default(),
                members: (0..if i == 0 { 500 } else { 3 })
                    .map(|j| member(i, j))
                    .collect(),
            })
            .collect();
        let texts: HashMap<String, (String, String)> = clusters
            .iter()
            .map(|c| (c.kept.clone(), ("标题".into(), "正文".repeat(500))))
            .collect();
        let report = Report::default();
        let extra = Extra {
            article_candidates: 0,
            snippet_candidates: 0,
            max_clusters: 200,
            max_members: 10,
            run: RunInfo::default(),
        };
        let all = Clusters {
            shown: &clusters,
            total: clusters.len(),
        };
        let html = render(&report, all, &[], &texts, &extra);
        assert!(html.len() < 8 * 1024 * 1024, "{} bytes", html.len());
        assert!(html.contains("9800 more clusters are not shown"));
        assert!(html.contains("489 more members"));
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert(1)</script> & \"x\" 'y'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;"
        );
    }
}
