//! Raw HTML pages give the records of the same page saved as text: every page of the
//! bundled sample (our own generated text) rendered as HTML in four styles — plain, noisy
//! (head with scripts and styles, comments, nav and footer, inline tags inside lines,
//! entities, `<br>` inside blocks), minified GB18030 bytes declared `gbk` in a meta
//! charset, and broken markup — must come out as the text form does: same outcome, title,
//! text, related entries and metadata (ids aside: they are made from the bytes; and the
//! URLs only HTML has).

mod common;

use std::path::Path;

use serde_json::Value;

use common::{jsonl, report, run_ok};

/// How a text page is rendered as HTML.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Noisy,
    MinifiedGbk,
    Broken,
}

const STYLES: [Style; 4] = [
    Style::Plain,
    Style::Noisy,
    Style::MinifiedGbk,
    Style::Broken,
];

/// Text as HTML content: escaped, runs of spaces kept as the text has them.
fn esc(s: &str, noisy: bool) -> String {
    let mut out = String::new();
    let mut prev_space = true;
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            ' ' if prev_space => out.push_str("&nbsp;"),
            // A few characters as numeric references, as some sites write them.
            '医' if noisy => out.push_str("&#x533B;"),
            '保' if noisy => out.push_str("&#20445;"),
            c => out.push(c),
        }
        prev_space = c == ' ';
    }
    out
}

/// One line as a block: in the noisy style its halves are in inline elements.
fn block(tag: &str, line: &str, style: Style) -> String {
    let chars: Vec<char> = line.chars().collect();
    let inner = match style {
        Style::Noisy if chars.len() > 6 => {
            let (a, b) = chars.split_at(chars.len() / 2);
            let (a, b): (String, String) = (a.iter().collect(), b.iter().collect());
            format!(
                "<span class=\"x\">{}</span><b>{}</b><!-- c -->",
                esc(&a, true),
                esc(&b, true)
            )
        }
        _ => esc(line, style == Style::Noisy),
    };
    match style {
        Style::Broken if tag == "p" => format!("<p title=\"a<b>c\">{inner}"),
        _ => format!("<{tag}>{inner}</{tag}>"),
    }
}

/// Renders a text page in the site's layout as HTML: the title as `<h1>`, each line a
/// block, each related block's title a link.
fn render(text: &str, style: Style) -> Vec<u8> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let title = lines.first().copied().unwrap_or_default();
    let nl = if style == Style::MinifiedGbk {
        ""
    } else {
        "\n"
    };
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>");
    h.push_str(nl);
    h.push_str("<html><head>");
    match style {
        Style::MinifiedGbk => h.push_str("<meta charset=\"gbk\">"),
        _ => h.push_str("<meta charset=\"utf-8\">"),
    }
    h.push_str(&format!(
        "<title>{} - 健康问答</title><link rel=\"canonical\" href=\"https://qa.example.org/q/7.html\">",
        esc(title, false)
    ));
    if style != Style::Plain {
        h.push_str(
            "<script>var t = '<p>不该出现</p>'; if (a < b && c > d) {}</script>\
             <style>p > b { color: red }</style><!-- 注释 <p>也不该出现</p> -->",
        );
    }
    h.push_str("</head>");
    h.push_str(nl);
    h.push_str("<body>");
    if style != Style::Plain {
        h.push_str("<nav><a href=\"/\">首页</a> | <a href=\"/yb\">医保</a></nav>");
    }
    h.push_str("<main>");
    h.push_str(&format!(
        "<h1>{}</h1>{nl}",
        esc(title, style == Style::Noisy)
    ));
    let mut related = false;
    let mut i = 1;
    while i < lines.len() {
        let line = lines[i];
        if line.trim() == "相关推荐" {
            related = true;
            h.push_str(&block("h2", line, style));
            i += 1;
            continue;
        }
        // In the related list a block is title, text, date: the title is a link.
        if related && i + 2 < lines.len() && is_date_line(lines[i + 2]) {
            h.push_str(&format!(
                "<div class=\"rec\"><a href=\"../r/{i}.html\">{}</a>{}<span class=\"date\">{}</span></div>{nl}",
                esc(line, false),
                // (An unclosed `<p>` here would take the date line in, in a browser too.)
                block("p", lines[i + 1], if style == Style::Broken { Style::Plain } else { style }),
                esc(lines[i + 2], false)
            ));
            i += 3;
            continue;
        }
        // Two body lines in one block, split by `<br>`, in the noisy style.
        if style == Style::Noisy && !related && i + 1 < lines.len() && i % 5 == 0 {
            h.push_str(&format!(
                "<p>{}<br>{}</p>{nl}",
                esc(line, true),
                esc(lines[i + 1], true)
            ));
            i += 2;
            continue;
        }
        h.push_str(&block("p", line, style));
        h.push_str(nl);
        i += 1;
    }
    h.push_str("</main>");
    if style != Style::Plain {
        h.push_str("<footer>版权所有 © 健康问答网</footer><aside>热门推荐</aside>");
    }
    if style == Style::Broken {
        // Unclosed elements, an end tag without a start, mis-nested inline tags.
        h.push_str("<div><span></b><i>");
    } else {
        h.push_str("</body></html>");
    }
    h.push_str(nl);
    match style {
        Style::MinifiedGbk => encoding_rs::GB18030.encode(&h).0.into_owned(),
        _ => h.into_bytes(),
    }
}

fn is_date_line(l: &str) -> bool {
    let tail: String = l.trim().chars().rev().take(10).collect();
    tail.len() == 10 && tail.chars().filter(|c| *c == '-').count() == 2
}

/// A record with what only the bytes decide taken out: the ids (and ids it lists), the
/// URLs only HTML has, and the encoding of the GB18030 style.
fn comparable(mut r: Value) -> Value {
    if let Some(m) = r.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "url",
            "seen_in",
            "seen_in_rejected",
            "duplicates",
            "article",
            "encoding",
        ] {
            m.remove(k);
        }
    }
    let o = r.as_object_mut().unwrap();
    o.remove("id");
    o.remove("duplicate_of");
    r
}

fn records(out: &Path, file: &str) -> Vec<Value> {
    let mut v: Vec<Value> = jsonl(&out.join(file)).into_iter().map(comparable).collect();
    v.sort_by_key(|r| r.to_string());
    v
}

#[test]
fn html_pages_give_the_records_of_their_text_form() {
    let sample = common::repo().join("input");
    let d = tempfile::tempdir().unwrap();
    let text_out = d.path().join("text-out");
    run_ok(&sample, &text_out, &[]);
    for style in STYLES {
        let input = d.path().join(format!("{style:?}"));
        std::fs::create_dir(&input).unwrap();
        let mut rendered = 0;
        for e in std::fs::read_dir(&sample).unwrap() {
            let p = e.unwrap().path();
            let bytes = std::fs::read(&p).unwrap();
            let name = p.file_name().unwrap();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            // Text pages become HTML; the sample's binary and empty files stay as they are.
            let out = match std::str::from_utf8(&bytes) {
                Ok(t) if t.lines().count() > 3 => {
                    rendered += 1;
                    render(t, style)
                }
                _ => bytes,
            };
            std::fs::write(input.join(name), out).unwrap();
        }
        let out = d.path().join(format!("{style:?}-out"));
        run_ok(&input, &out, &[]);
        for file in [
            "articles.jsonl",
            "snippets.jsonl",
            "dropped.jsonl",
            "rejects.jsonl",
        ] {
            let (want, got) = (records(&text_out, file), records(&out, file));
            assert_eq!(want.len(), got.len(), "{style:?} {file}: record count");
            for (w, g) in want.iter().zip(&got) {
                assert_eq!(w, g, "{style:?} {file}");
            }
        }
        let r = report(&out);
        assert_eq!(r["files"]["html"], rendered, "{style:?}: {}", r["files"]);
        let page = std::fs::read_to_string(out.join("report.html")).unwrap();
        let row = format!("<th>read as HTML</th><td class=\"n\">{rendered}</td>");
        assert!(
            page.contains(&row),
            "{style:?}: report.html counts the HTML pages"
        );
        // What HTML adds: the canonical URL, and each related block's link resolved
        // against it.
        let a = &jsonl(&out.join("articles.jsonl"))[0];
        assert_eq!(a["metadata"]["url"], "https://qa.example.org/q/7.html");
        let s = &jsonl(&out.join("snippets.jsonl"))[0];
        let url = s["metadata"]["url"].as_str().unwrap_or_default();
        assert!(
            url.starts_with("https://qa.example.org/r/"),
            "{style:?}: {url:?}"
        );
        if style == Style::MinifiedGbk {
            assert_eq!(a["metadata"]["encoding"], "GB18030");
        }
    }
    // The text form has no URL fields at all.
    let a = &jsonl(&text_out.join("articles.jsonl"))[0];
    assert!(a["metadata"].get("url").is_none());
}

#[test]
fn explain_shows_the_element_of_each_line() {
    let sample = common::repo().join("input/page_001.txt");
    let text = std::fs::read_to_string(sample).unwrap();
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("page.html");
    std::fs::write(&file, render(&text, Style::Noisy)).unwrap();
    let out = common::pagesieve(&["explain", file.to_str().unwrap()]);
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(
        shown.contains("read as HTML, canonical URL https://qa.example.org/q/7.html"),
        "{shown}"
    );
    assert!(shown.contains("│ <h1> "), "{shown}");
    assert!(shown.contains("│ <p> "), "{shown}");
    assert!(
        !shown.contains("不该出现"),
        "script or comment text leaked: {shown}"
    );
}

#[test]
fn a_declared_charset_the_bytes_contradict_loses_to_the_bytes() {
    let sample = common::repo().join("input/page_001.txt");
    let text = std::fs::read_to_string(sample).unwrap();
    // UTF-8 bytes under a meta charset of gbk.
    let html = String::from_utf8(render(&text, Style::Plain))
        .unwrap()
        .replace("charset=\"utf-8\"", "charset=\"gbk\"");
    let d = tempfile::tempdir().unwrap();
    let (input, out) = (d.path().join("in"), d.path().join("out"));
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("p.html"), &html).unwrap();
    run_ok(&input, &out, &[]);
    let a = &jsonl(&out.join("articles.jsonl"))[0];
    assert_eq!(a["metadata"]["encoding"], "UTF-8");
    assert_eq!(a["metadata"]["title"], text.lines().next().unwrap().trim());
    let shown = common::pagesieve(&["explain", input.join("p.html").to_str().unwrap()]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("declares GB18030 but its bytes read as UTF-8"),
        "{shown}"
    );
}

/// A page in the site's layout from `seed`: a title, body lines (some bulleted or
/// numbered, some with `&` or `<` in them), the footer disclaimer, the related list.
fn made_up_page(seed: u64) -> String {
    let mut s = seed;
    let mut next = move || common::lcg(&mut s);
    let words = |n: usize, next: &mut dyn FnMut() -> usize| -> String {
        (0..n)
            .map(|_| common::WORDS[next() % common::WORDS.len()])
            .collect()
    };
    let title = format!("{}怎么办", words(3, &mut next));
    let mut lines = vec![title.clone(), String::new()];
    for i in 0..2 + next() % 6 {
        let lead = match next() % 4 {
            0 => "• ".to_string(),
            1 => format!("{}. ", i + 1),
            _ => String::new(),
        };
        let mid = if next() % 5 == 0 {
            " A&B <说明> "
        } else {
            "，"
        };
        lines.push(format!(
            "{lead}{}{mid}{}。",
            words(6, &mut next),
            words(8, &mut next)
        ));
        lines.push(String::new());
    }
    lines.push("提示:本内容不能代替面诊。".into());
    lines.push(String::new());
    lines.push("相关推荐".into());
    lines.push(String::new());
    for _ in 0..next() % 5 {
        lines.push(format!("{}吗", words(3, &mut next)));
        lines.push(String::new());
        lines.push(format!("可以 {}。", words(10, &mut next)));
        lines.push(String::new());
        lines.push(format!(
            "医保政策 2025-0{}-1{}",
            1 + next() % 9,
            next() % 10
        ));
        lines.push(String::new());
    }
    lines.join("\n")
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    /// Text page → HTML renderer → the same records, for pages made up from any seed, in
    /// any style.
    #[test]
    fn a_made_up_page_rendered_as_html_gives_its_text_records(seed in proptest::prelude::any::<u64>(), style in 0usize..4) {
        let d = tempfile::tempdir().unwrap();
        let (text_in, html_in) = (d.path().join("t"), d.path().join("h"));
        std::fs::create_dir(&text_in).unwrap();
        std::fs::create_dir(&html_in).unwrap();
        for k in 0..6u64 {
            let page = made_up_page(seed.wrapping_add(k));
            std::fs::write(text_in.join(format!("p{k}.txt")), &page).unwrap();
            std::fs::write(html_in.join(format!("p{k}.txt")), render(&page, STYLES[style])).unwrap();
        }
        let (to, ho) = (d.path().join("to"), d.path().join("ho"));
        run_ok(&text_in, &to, &[]);
        run_ok(&html_in, &ho, &[]);
        proptest::prop_assert!(!jsonl(&to.join("articles.jsonl")).is_empty());
        for file in ["articles.jsonl", "snippets.jsonl", "dropped.jsonl", "rejects.jsonl"] {
            proptest::prop_assert_eq!(records(&to, file), records(&ho, file), "{:?} {}", STYLES[style], file);
        }
    }
}
