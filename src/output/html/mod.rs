//! `report.html`: the run for a person. One self-contained file (inline CSS, no script, no
//! network), every scraped string escaped.

use std::collections::HashMap;
use std::fmt::Write;

use crate::output::report::Report;
use crate::record::RejectRecord;

pub mod clusters;
mod diff;
pub use clusters::{Clusters, LookFirst, Section};
pub use diff::diff_html;

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
    escape_into(&mut out, s);
    out
}

/// [`escape`], appended to `out`: the runs between characters to escape are copied whole
/// (the five are ASCII, found on the bytes).
pub fn escape_into(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&s[start..]);
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
grid-template-columns:1fr 1fr;gap:1em}.pair pre,.same pre{white-space:pre-wrap;\
word-break:break-all;background:#fafafa;border:1px solid #eee;padding:.5em;margin:0}\
.scroll,.same{max-height:28em;overflow:auto;margin-bottom:.6em}.pair p{margin:.2em 0}\
tr.sub th{padding-left:2em;font-weight:normal}nav{margin:.5em 0 1em;line-height:1.8}\
dt{font-weight:600;margin-top:.4em}dd{margin-left:1.5em}h3{margin-top:1.6em}\
.muted{color:#777}.tag{display:inline-block;background:#eef;border-radius:3px;padding:0 .4em;\
margin-right:.3em}del{background:#fcc;text-decoration:none}ins{background:#cfc;\
text-decoration:none}.warn{color:#a00;font-weight:600}.ctl{color:#a00;font-size:.8em}";

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
    contents(&mut h, &clusters, rejects.len());
    summary_section(&mut h, r, extra);
    clusters::legend(&mut h);
    clusters::look_first(&mut h, &clusters);
    rejects_section(&mut h, rejects);
    clusters::sections(&mut h, &clusters, texts, extra);
    learned_section(&mut h, r);
    tables_section(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

/// The line of links at the top: every section, with its count.
fn contents(h: &mut String, all: &Clusters<'_>, rejects: usize) {
    let mut links = vec![
        "<a href=\"#summary\">Summary</a>".to_string(),
        "<a href=\"#legend\">How to read the clusters</a>".to_string(),
        "<a href=\"#look-first\">Look at these first</a>".to_string(),
        format!("<a href=\"#rejects\">Rejected files</a> ({rejects})"),
        format!(
            "<a href=\"#clusters\">Duplicate clusters</a> ({})",
            all.total
        ),
    ];
    links.extend(clusters::contents_links(all));
    links.push("<a href=\"#boilerplate\">Learned boilerplate</a>".into());
    links.push("<a href=\"#details\">Details</a>".into());
    let _ = write!(
        h,
        "<nav id=\"contents\"><b>Contents</b> · {}</nav>",
        links.join(" · ")
    );
}

/// The run's main figures, in plain words: each total, then what it is made of.
fn summary_section(h: &mut String, r: &Report, extra: &Extra) {
    let (a, sn, f) = (&r.articles, &r.snippets, &r.files);
    // (label, count, a part of the row above)
    let rows: [(&str, usize, bool); 19] = [
        ("files seen", f.seen, false),
        ("read as HTML", f.html, true),
        ("articles kept", a.kept, false),
        (
            "articles dropped as duplicates",
            a.dropped_exact + a.dropped_near,
            false,
        ),
        ("dropped as exact duplicates", a.dropped_exact, true),
        ("dropped as near duplicates", a.dropped_near, true),
        (
            "of these, duplicates of an earlier run's record",
            a.dropped_against_earlier,
            true,
        ),
        ("files rejected", f.rejected, false),
        ("files excluded by globs", f.excluded, false),
        ("folders skipped", f.skipped, false),
        ("related snippets seen on the pages", sn.occurrences, false),
        ("distinct snippet blocks", sn.distinct(), false),
        ("written as new snippet records", sn.unique, true),
        (
            "already written by an earlier run (seen again)",
            sn.seen_again,
            true,
        ),
        ("dropped as duplicates (exact)", sn.dropped_exact, true),
        ("dropped as duplicates (near)", sn.dropped_near, true),
        (
            "of these, duplicates of an earlier run's record",
            sn.dropped_against_earlier,
            true,
        ),
        ("snippets linked to an article", sn.linked, false),
        (
            "article candidate pairs checked",
            extra.article_candidates,
            false,
        ),
    ];
    h.push_str("<h2 id=\"summary\">Summary</h2><table>");
    for (k, v, part) in rows {
        let class = if part { " class=\"sub\"" } else { "" };
        let _ = write!(h, "<tr{class}><th>{k}</th><td class=\"n\">{v}</td></tr>");
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
    h.push_str(
        "<details id=\"details\"><summary>Details: rejects by reason, boilerplate stripped, \
         encodings, timings</summary><div class=\"grid\">",
    );
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
    h.push_str("</div></div></details>");
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ten_thousand_clusters_stay_a_small_file() {
        use crate::record::{ClusterMember, ClusterRecord};
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
        let shown = &clusters[..200];
        let all = Clusters {
            shown,
            total: clusters.len(),
            counts: [clusters.len(), 0, 0, 0],
            look_first: &[],
        };
        let html = render(&report, all, &[], &texts, &extra);
        assert!(html.len() < 8 * 1024 * 1024, "{} bytes", html.len());
        assert!(html.contains("200 shown in full here"));
        // Every page of the section is linked.
        let pages = clusters::pages_for(clusters.len());
        assert!(html.contains(&format!(
            "href=\"{}\"",
            clusters::page_name(Section::Near, pages)
        )));
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
