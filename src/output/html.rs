//! `report.html`: the run for a person. One self-contained file (inline CSS, no script, no
//! network), every scraped string escaped.

use std::collections::HashMap;
use std::fmt::Write;

use crate::output::report::Report;
use crate::record::{ClusterRecord, DroppedRecord, RejectRecord};

/// Figures the report shows beyond `report.json`.
#[derive(Debug, Clone)]
pub struct Extra {
    /// Candidate pairs the article index returned.
    pub article_candidates: usize,
    /// Candidate pairs the snippet index returned.
    pub snippet_candidates: usize,
    /// Clusters rendered in full; the rest are counted.
    pub max_clusters: usize,
}

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

const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;\
margin:2em auto;max-width:1200px;padding:0 1em;color:#222;line-height:1.5}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;\
text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right;\
font-variant-numeric:tabular-nums}details{margin:.6em 0;border:1px solid #ddd;padding:.4em .8em;\
border-radius:4px}summary{cursor:pointer;font-weight:600}.pair{display:grid;\
grid-template-columns:1fr 1fr;gap:1em}.pair pre{white-space:pre-wrap;word-break:break-all;\
background:#fafafa;border:1px solid #eee;padding:.5em;max-height:24em;overflow:auto;margin:0}\
.muted{color:#777}.tag{display:inline-block;background:#eef;border-radius:3px;padding:0 .4em;\
margin-right:.3em}del{background:#fdd;text-decoration:line-through}ins{background:#dfd;\
text-decoration:none}";

/// Renders the whole report. `texts` maps a kept record's id to its (title, text).
pub fn render(
    r: &Report,
    clusters: &[ClusterRecord],
    dropped: &[DroppedRecord],
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
         <h1>pagesieve report</h1><p class=\"muted\">pagesieve {} · profile {}</p>",
        escape(&r.version),
        escape(&r.profile)
    );

    h.push_str("<h2 id=\"summary\">Summary</h2><table>");
    let rows: [(&str, usize); 12] = [
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
    ];
    for (k, v) in rows {
        let _ = write!(h, "<tr><th>{k}</th><td class=\"n\">{v}</td></tr>");
    }
    h.push_str("</table>");

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
    kv(
        &mut h,
        "Rejected files by reason",
        "rejects-by-reason",
        &r.rejects,
    );
    kv(
        &mut h,
        "Boilerplate stripped (pages)",
        "stripped",
        &r.stripped,
    );
    kv(&mut h, "Encodings (pages)", "encodings", &r.encodings);
    kv(&mut h, "Timings (ms)", "timings", &r.timings_ms);

    let _ = write!(
        h,
        "<h2 id=\"clusters\">Duplicate clusters ({})</h2>",
        clusters.len()
    );
    if clusters.is_empty() {
        h.push_str("<p class=\"muted\">No duplicates found.</p>");
    }
    let dropped_text: HashMap<&str, &DroppedRecord> =
        dropped.iter().map(|d| (d.id.as_str(), d)).collect();
    for (i, c) in clusters.iter().enumerate() {
        if i >= extra.max_clusters {
            let _ = write!(
                h,
                "<p class=\"muted\">{} more clusters are not shown here; see duplicates.jsonl \
                 (output.html_max_clusters).</p>",
                clusters.len() - extra.max_clusters
            );
            break;
        }
        let kept = &c.members[0];
        let _ = write!(
            h,
            "<details class=\"cluster\" id=\"{}\"{}><summary><span class=\"tag\">{}</span>{} — \
             {} members, kept <code>{}</code></summary>",
            escape(&c.cluster),
            if i < 10 { " open" } else { "" },
            escape(&c.kind),
            escape(&kept.title),
            c.members.len(),
            escape(&kept.id)
        );
        let kept_text = texts.get(&kept.id).map(|t| t.1.as_str()).unwrap_or("");
        for m in &c.members[1..] {
            let text = dropped_text
                .get(m.id.as_str())
                .map(|d| d.text.as_str())
                .unwrap_or("");
            let _ = write!(
                h,
                "<p><b>{}</b> match, hamming {}, similarity {:.4}</p><div class=\"pair\">\
                 <div><p>kept <code>{}</code><br>{}<br><span class=\"muted\">{}</span></p>\
                 <pre>{}</pre></div><div><p>dropped <code>{}</code><br>{}<br>\
                 <span class=\"muted\">{}</span></p><pre>{}</pre></div></div>",
                escape(&m.match_kind),
                m.hamming,
                m.similarity,
                escape(&kept.id),
                escape(&kept.title),
                escape(&kept.source),
                escape(kept_text),
                escape(&m.id),
                escape(&m.title),
                escape(&m.source),
                escape(text)
            );
        }
        h.push_str("</details>");
    }

    let _ = write!(
        h,
        "<h2 id=\"rejects\">Rejected files ({})</h2>",
        rejects.len()
    );
    if !rejects.is_empty() {
        h.push_str("<table><tr><th>source</th><th>reason</th><th>detail</th></tr>");
        for rj in rejects {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&rj.source),
                escape(rj.reason.as_str()),
                escape(&rj.detail)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert(1)</script> & \"x\" 'y'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;"
        );
    }
}
