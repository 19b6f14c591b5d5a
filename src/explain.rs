//! `pagesieve explain FILE`: how one page is read, for someone writing or debugging a
//! profile. Every line of the decoded page is printed with the part it went to and the rule
//! that decided it (blank lines are marked as dropped), then the metadata and the records
//! the page would produce. The file is read once and goes through the same stages as in
//! `run` ([`crate::scan::read_parts`], [`crate::scan::assemble`]), and the related list is
//! built by the same function, so what it shows is what `run` does.

use std::fmt::Write;
use std::path::Path;

use crate::error::Error;
use crate::ingest::decode::pick_decoding;
use crate::ingest::InputFile;
use crate::page::{PageParts, Part, StripKind};
use crate::record::{related_list, snippet_id, Reject};
use crate::rules::Rules;
use crate::scan::{assemble, read_parts, Outcome, ScannedPage};

/// ANSI styles, or nothing when colour is off.
struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn part(&self, p: Part, s: &str) -> String {
        let code = match p {
            Part::Title => "1;34",
            Part::Body => "32",
            Part::RelatedTitle(_) => "1;36",
            Part::RelatedText(_) | Part::RelatedDate(_) => "36",
            _ => "2;31",
        };
        self.paint(code, s)
    }
}

/// Renders the explanation of one file. Errors only when the path is not a readable file;
/// a file that yields no page is explained as a reject.
pub fn explain(path: &Path, rules: &Rules, color: bool) -> Result<String, Error> {
    let st = Style { on: color };
    let read_error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if !meta.is_file() {
        return Err(read_error(std::io::Error::other("not a file")));
    }
    let source = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let file = InputFile {
        path: path.to_path_buf(),
        source: source.clone(),
        walk_error: None,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        st.paint("1", &format!("pagesieve explain: {}", path.display()))
    );
    let (raw, page, parts) = match read_parts(&file, rules) {
        Ok(x) => x,
        Err(rej) => {
            reject_line(&mut out, &rej);
            return Ok(out);
        }
    };
    let (_, tried) = pick_decoding(&raw.bytes, &rules.input.legacy_encodings);
    let size = match raw.compression {
        Some(z) => format!("{} bytes after {z}", raw.bytes.len()),
        None => format!("{} bytes", raw.bytes.len()),
    };
    let _ = writeln!(
        out,
        "  {size}, decoded as {}{} (tried {}), {} replacement character(s)\n",
        page.encoding,
        if page.bom { " with BOM" } else { "" },
        tried.join(", "),
        page.replacements
    );
    if let Some(h) = &page.html {
        let _ = writeln!(
            out,
            "  read as HTML{}{}; each line shows the element it came from\n",
            h.canonical
                .as_deref()
                .map_or(String::new(), |u| format!(", canonical URL {u}")),
            h.note
                .as_deref()
                .map_or(String::new(), |n| format!("; {n}"))
        );
    }
    let origins = page.html.as_ref().map(|h| h.origins.as_slice());
    lines(&mut out, &st, &page.text, &parts, origins);
    stripped(&mut out, &st, &parts);
    let read = crate::scan::ReadPage {
        source: &source,
        key: crate::record::page_key(&source, Some(&raw.bytes)),
        compression: raw.compression,
    };
    let scanned = assemble(&read, &page, parts, rules, None);
    record(&mut out, &st, &scanned);
    snippets(&mut out, &st, &scanned);
    Ok(out)
}

fn reject_line(out: &mut String, rej: &Reject) {
    let _ = writeln!(out, "  reject: {} — {}", rej.reason.as_str(), rej.detail);
}

/// Every line of the decoded page with its label and rule.
/// Every line with its label (and, on an HTML page, the element it came from).
fn lines(out: &mut String, st: &Style, text: &str, parts: &PageParts, origins: Option<&[String]>) {
    let mut labels = parts.labels.iter().peekable();
    let width = text.split('\n').count().to_string().len();
    for (i, line) in text.split('\n').enumerate() {
        let n = i + 1;
        let label = labels.next_if(|l| l.line == n);
        let (name, rule, part) = match label {
            Some(l) => (l.part.name(), l.rule.to_string(), Some(l.part)),
            None if line.trim().is_empty() => ("blank (dropped)".to_string(), String::new(), None),
            None => ("(unlabelled)".to_string(), String::new(), None),
        };
        let tag = format!("{name:<24} {rule:<36}");
        let tag = match part {
            Some(p) => st.part(p, &tag),
            None => st.paint("2", &tag),
        };
        let from = origins.map_or(String::new(), |o| {
            format!("<{}> ", o.get(i).map_or("?", String::as_str))
        });
        let shown: String = line.chars().take(100).collect();
        let more = if line.chars().count() > 100 {
            "…"
        } else {
            ""
        };
        let _ = writeln!(out, "{n:>width$} {tag} │ {from}{shown}{more}");
    }
}

/// Lines stripped per boilerplate kind.
fn stripped(out: &mut String, st: &Style, parts: &PageParts) {
    let _ = writeln!(out, "\n{}", st.paint("1", "Stripped:"));
    let counts: Vec<String> = StripKind::PROFILE
        .iter()
        .filter(|&&k| parts.stripped.get(k) > 0)
        .map(|&k| format!("{}: {} line(s)", k.as_str(), parts.stripped.get(k)))
        .collect();
    let shown = if counts.is_empty() {
        "nothing".to_string()
    } else {
        counts.join(", ")
    };
    let _ = writeln!(out, "  {shown}");
}

/// The article record the page would write (its related list as `run` builds it, with
/// snippet ids before any duplicate decision), or its reject.
fn record(out: &mut String, st: &Style, scanned: &ScannedPage) {
    match &scanned.outcome {
        Outcome::Article(a, _) => {
            let mut rec = (**a).clone();
            let ids: Vec<String> = scanned.snippets.iter().map(|s| snippet_id(s.key)).collect();
            rec.metadata.related = related_list(ids.iter().map(String::as_str));
            let _ = writeln!(out, "\n{}", st.paint("1", "Record for articles.jsonl:"));
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&rec).unwrap_or_default()
            );
        }
        Outcome::Reject(rej) => {
            let _ = write!(out, "\n{} ", st.paint("1", "Reject:"));
            let _ = writeln!(out, "{} — {}", rej.reason.as_str(), rej.detail);
        }
    }
}

/// The page's related blocks, one entry per block in page order.
fn snippets(out: &mut String, st: &Style, scanned: &ScannedPage) {
    if scanned.snippets.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        st.paint(
            "1",
            &format!("Related snippets ({}):", scanned.snippets.len())
        )
    );
    for (i, s) in scanned.snippets.iter().enumerate() {
        let b = &s.block;
        let text: String = b.text.chars().take(60).collect();
        let _ = writeln!(
            out,
            "  {:>2}. {} {}  [{} {}]{}{}{}\n      {text}…",
            i + 1,
            snippet_id(s.key),
            b.title,
            b.category.as_deref().unwrap_or("-"),
            b.date.as_deref().unwrap_or("-"),
            if b.complete { "" } else { " cut off" },
            if s.truncated { " truncated" } else { "" },
            s.answer
                .as_ref()
                .map(|a| format!(" answer={a}"))
                .unwrap_or_default(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_every_line_plain_without_colour() {
        let c = Rules::builtin();
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.txt");
        std::fs::write(
            &p,
            "临川医保能异地用吗\n\n可以，先备案。\n提示:本内容不能代替面诊。\n相关推荐\n\n松阳医保缴费标准\n\n每年四百元\n\n健康新闻 2025-04-18\n首页 顶部",
        )
        .unwrap();
        let s = explain(&p, &c, false).unwrap();
        assert!(!s.contains('\x1b'));
        for want in [
            "title",
            "blank (dropped)",
            "body",
            "footer disclaimer",
            "profile.footer_disclaimer[0]",
            "related marker",
            "related block 1 title",
            "related block 1 text",
            "related block 1 date",
            "navigation",
            "Record for articles.jsonl",
        ] {
            assert!(s.contains(want), "missing {want}:\n{s}");
        }
        assert!(explain(&p, &c, true).unwrap().contains('\x1b'));
    }
}
