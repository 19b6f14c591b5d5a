//! `pagesieve explain FILE`: how one page is read, for someone writing or debugging a
//! profile. Every line of the decoded page is printed with the part it went to and the rule
//! that decided it (blank lines are marked as dropped), then the metadata and the records
//! the page would produce. Uses the same stages as `run`, so what it shows is what `run`
//! does.

use std::fmt::Write;
use std::path::Path;

use crate::config::Compiled;
use crate::ingest::decode::pick_decoding;
use crate::ingest::{decode, read_file, InputFile};
use crate::page::{segment, Part};
use crate::record::snippet_id;
use crate::scan::{scan_file, Outcome};

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

/// Renders the explanation of one file. Errors only when the file cannot be read at all.
pub fn explain(path: &Path, c: &Compiled, color: bool) -> Result<String, String> {
    let st = Style { on: color };
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
    let raw = match read_file(&file, c.config.input.max_file_bytes) {
        Ok(r) => r,
        Err(rej) => {
            let _ = writeln!(out, "  reject: {} — {}", rej.reason.as_str(), rej.detail);
            return Ok(out);
        }
    };
    let (_, tried) = pick_decoding(&raw.bytes, &c.legacy_encodings);
    let size = match raw.compression {
        Some(z) => format!("{} bytes after {z}", raw.bytes.len()),
        None => format!("{} bytes", raw.bytes.len()),
    };
    let page = match decode(&raw.bytes, &c.config.input, &c.legacy_encodings) {
        Ok(p) => p,
        Err(rej) => {
            let _ = writeln!(out, "  {size}; encodings tried: {}", tried.join(", "));
            let _ = writeln!(out, "  reject: {} — {}", rej.reason.as_str(), rej.detail);
            return Ok(out);
        }
    };
    let _ = writeln!(
        out,
        "  {size}, decoded as {}{} (tried {}), {} replacement character(s)\n",
        page.encoding,
        if page.bom { " with BOM" } else { "" },
        tried.join(", "),
        page.replacements
    );

    let parts = segment(&page.text, c);
    let mut labels = parts.labels.iter().peekable();
    let width = page.text.split('\n').count().to_string().len();
    for (i, line) in page.text.split('\n').enumerate() {
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
        let shown: String = line.chars().take(100).collect();
        let more = if line.chars().count() > 100 {
            "…"
        } else {
            ""
        };
        let _ = writeln!(out, "{n:>width$} {tag} │ {shown}{more}");
    }

    let result = scan_file(&file, c);
    let _ = writeln!(out, "\n{}", st.paint("1", "Stripped:"));
    let _ = writeln!(out, "  {:?}", parts.stripped);
    match &result.outcome {
        Outcome::Article(a, _) => {
            let mut rec = (**a).clone();
            rec.metadata.related = result.snippets.iter().map(|s| snippet_id(s.key)).collect();
            rec.metadata.related.dedup();
            let _ = writeln!(out, "\n{}", st.paint("1", "Record for articles.jsonl:"));
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&rec).unwrap_or_default()
            );
        }
        Outcome::Reject(rej) => {
            let _ = writeln!(
                out,
                "\n{} {} — {}",
                st.paint("1", "Reject:"),
                rej.reason.as_str(),
                rej.detail
            );
        }
    }
    if !result.snippets.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            st.paint(
                "1",
                &format!("Related snippets ({}):", result.snippets.len())
            )
        );
        for (i, s) in result.snippets.iter().enumerate() {
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
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, BUILTIN_PROFILE};

    #[test]
    fn labels_every_line_plain_without_colour() {
        let c = Config::parse(BUILTIN_PROFILE).unwrap().compile().unwrap();
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
