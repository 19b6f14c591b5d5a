//! The benchmark that chose the HTML parser: html5ever (through `scraper`, what
//! `ingest::html` uses), `lol_html` (Cloudflare's streaming rewriter) and `tl` (a fast
//! non-validating parser), each turning pages into lines the way innerText does.
//!
//! ```sh
//! cargo run --release --example html_parsers -- DIR_OF_HTML_PAGES [ROUNDS]
//! ```
//!
//! Two measures: pages a second over the folder (every file, `ROUNDS` times), and tolerance
//! — a set of broken pages, each with the lines a browser shows, scored by lines lost and
//! by markup or script text leaked into the lines.

use std::time::Instant;

use pagesieve::ingest::html::{to_lines, HtmlRules};

/// Elements that end a line.
const BLOCKS: [&str; 20] = [
    "p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "ul", "ol", "section",
    "article", "main", "header", "footer", "nav", "table",
];

/// Elements whose content is not text (plus the default `[html] drop`).
const SKIP: [&str; 9] = [
    "script", "style", "noscript", "template", "head", "header", "nav", "footer", "aside",
];

fn html5ever(page: &str) -> Vec<String> {
    let rules = HtmlRules::default();
    to_lines(page, &rules)
        .text
        .split('\n')
        .map(str::to_string)
        .collect()
}

fn collapse(lines: &str) -> Vec<String> {
    lines
        .split('\n')
        .map(|l| l.split_ascii_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

fn lol(page: &str) -> Vec<String> {
    use lol_html::{element, text, HtmlRewriter, Settings};
    use std::cell::RefCell;
    use std::rc::Rc;
    let out = Rc::new(RefCell::new(String::new()));
    let (o1, o2, o3) = (out.clone(), out.clone(), out.clone());
    let mut handlers = vec![element!("*", move |el| {
        let name = el.tag_name();
        if SKIP.contains(&name.as_str()) {
            el.remove();
            return Ok(());
        }
        if BLOCKS.contains(&name.as_str()) {
            o1.borrow_mut().push('\n');
            let o = o2.clone();
            if let Some(h) = el.end_tag_handlers() {
                let end: lol_html::EndTagHandler<'static> = Box::new(move |_| {
                    o.borrow_mut().push('\n');
                    Ok(())
                });
                h.push(end);
            }
        }
        Ok(())
    })];
    handlers.push(text!("*", move |t| {
        if !t.removed() {
            // Text chunks are raw: entities stay encoded.
            o3.borrow_mut().push_str(&html_unescape(t.as_str()));
        }
        Ok(())
    }));
    let mut rw = HtmlRewriter::new(
        Settings {
            element_content_handlers: handlers,
            ..Settings::new()
        },
        |_: &[u8]| {},
    );
    let _ = rw.write(page.as_bytes());
    let _ = rw.end();
    let text = out.borrow().clone();
    collapse(&text)
}

/// The few entities the pages use (lol_html and tl leave them encoded).
fn html_unescape(s: &str) -> String {
    s.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn tl_lines(page: &str) -> Vec<String> {
    let Ok(dom) = tl::parse(page, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    let parser = dom.parser();
    let mut out = String::new();
    fn walk(n: &tl::Node, parser: &tl::Parser, out: &mut String) {
        match n {
            tl::Node::Tag(t) => {
                let name = t.name().as_utf8_str().to_ascii_lowercase();
                if SKIP.contains(&name.as_str()) {
                    return;
                }
                let block = BLOCKS.contains(&name.as_str());
                if block {
                    out.push('\n');
                }
                for c in t.children().top().iter() {
                    if let Some(n) = c.get(parser) {
                        walk(n, parser, out);
                    }
                }
                if block {
                    out.push('\n');
                }
            }
            tl::Node::Raw(b) => out.push_str(&html_unescape(&b.as_utf8_str())),
            tl::Node::Comment(_) => {}
        }
    }
    for c in dom.children() {
        if let Some(n) = c.get(parser) {
            walk(n, parser, &mut out);
        }
    }
    collapse(&out)
}

/// Broken pages and the lines a browser shows for each.
fn tolerance_cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        (
            "unclosed p",
            "<body><p>第一段<p>第二段<p>第三段</body>".into(),
            vec!["第一段", "第二段", "第三段"],
        ),
        (
            "stray <",
            "<body><p>一 < 二</p><p>三 <四</p></body>".into(),
            vec!["一 < 二", "三 <四"],
        ),
        (
            "< in attribute",
            "<body><div title=\"a<p>b</p>c\">属性之后</div><p>下一行</p></body>".into(),
            vec!["属性之后", "下一行"],
        ),
        (
            "script with markup",
            "<body><script>var s='<p>脚本</p>';</script><p>正文</p></body>".into(),
            vec!["正文"],
        ),
        (
            "script with </div>",
            "<body><div>前<script>if(a</div>b){}</script>后</div></body>".into(),
            vec!["前后"],
        ),
        (
            "unclosed div and li",
            "<body><div><ul><li>甲<li>乙</ul><div>丙</body>".into(),
            vec!["甲", "乙", "丙"],
        ),
        (
            "misnested inline",
            "<body><p><b>粗<i>斜</b>体</i></p><p>尾</p></body>".into(),
            vec!["粗斜体", "尾"],
        ),
        (
            "entities",
            "<body><p>A&amp;B&nbsp;C &#x533B;&#20445;</p></body>".into(),
            vec!["A&B C 医保"],
        ),
    ]
}

type Parser = (&'static str, fn(&str) -> Vec<String>);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).expect("usage: html_parsers DIR [ROUNDS]");
    let rounds: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5);
    let pages: Vec<String> = std::fs::read_dir(dir)
        .expect("a folder")
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
        .collect();
    let bytes: usize = pages.iter().map(String::len).sum();
    let parsers: [Parser; 3] = [
        ("html5ever (scraper)", html5ever),
        ("lol_html", lol),
        ("tl", tl_lines),
    ];
    println!(
        "{} pages, {:.1} MB, {rounds} rounds\n",
        pages.len(),
        bytes as f64 / 1e6
    );
    println!("| parser | pages/s | MB/s | tolerance: cases right | lines lost | leaks |");
    println!("|---|---|---|---|---|---|");
    for (name, f) in parsers {
        let t = Instant::now();
        let mut n = 0usize;
        for _ in 0..rounds {
            for p in &pages {
                n += f(p).len();
            }
        }
        let secs = t.elapsed().as_secs_f64();
        std::hint::black_box(n);
        let (mut right, mut lost, mut leaks) = (0, 0, 0);
        for (_, html, want) in tolerance_cases() {
            let got = f(&html);
            right += usize::from(got == want);
            lost += want.iter().filter(|w| !got.iter().any(|g| g == *w)).count();
            leaks += got
                .iter()
                .filter(|g| g.contains("<p") || g.contains("脚本") || g.contains("</"))
                .count();
        }
        println!(
            "| {name} | {:.0} | {:.1} | {right} of {} | {lost} | {leaks} |",
            (pages.len() * rounds) as f64 / secs,
            (bytes * rounds) as f64 / secs / 1e6,
            tolerance_cases().len()
        );
    }
}
