//! Raw HTML pages: detected by their bytes, decoded as a browser decodes them, and turned
//! into the lines a browser's `innerText` shows, so that the segmentation rules read the
//! same lines as from the page saved as text.
//!
//! The markup is parsed by html5ever (through `scraper`), the HTML standard's tree builder:
//! unclosed tags, stray `<`, `<` inside attribute values and scripts holding markup are
//! parsed as a browser parses them, so none leaks into the text and no line is lost
//! (`examples/html_parsers.rs` is the benchmark that chose it). The tree is walked without
//! recursion, so a hostile page nested a million deep cannot overflow the stack.

use std::sync::{Arc, LazyLock};

use encoding_rs::{Encoding, GB18030, GBK, UTF_16BE, UTF_16LE, UTF_8};
use scraper::{ElementRef, Html, Selector};

use crate::config::{ConfigError, HtmlConfig};

/// Bytes looked at to tell HTML from text, and to find a `<meta charset>` (what browsers
/// prescan).
pub const PRESCAN_BYTES: usize = 1024;

/// Elements whose content is never text a reader sees.
const NEVER_TEXT: [&str; 8] = [
    "script", "style", "noscript", "template", "iframe", "svg", "math", "object",
];

/// Elements that start and end a line (innerText's block-level boxes and table rows).
const BLOCKS: [&str; 37] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "caption",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tr",
    "ul",
];

/// Pages nested deeper than this are not parsed: the tree builder's cost grows with the
/// square of the depth (20,000 levels took 0.8 s, 100,000 took 25 s), and no page a person
/// reads is nested a thousand deep.
pub const MAX_DEPTH: usize = 4096;

/// Elements without content, or whose end tag may be left out (they do not nest as written).
const NO_DEPTH: [&str; 25] = [
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "tbody", "thead", "tfoot",
    "colgroup",
];

/// How deep the markup nests, as its tags say (without parsing: start tags of elements that
/// hold content count up, end tags down).
pub fn nesting(markup: &str) -> usize {
    let b = markup.as_bytes();
    let (mut depth, mut max) = (0usize, 0usize);
    let mut at = 0;
    while let Some(i) = memchr::memchr(b'<', &b[at..]) {
        let s = at + i + 1;
        at = s;
        let close = b.get(s) == Some(&b'/');
        let start = s + usize::from(close);
        let len = b[start..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if len == 0 {
            continue;
        }
        let name = markup[start..start + len].to_ascii_lowercase();
        if NO_DEPTH.contains(&name.as_str()) {
            continue;
        }
        if close {
            depth = depth.saturating_sub(1);
            continue;
        }
        let end = memchr::memchr(b'>', &b[start..]).map_or(b.len(), |e| start + e);
        if b[..end].ends_with(b"/") {
            continue;
        }
        depth += 1;
        max = max.max(depth);
    }
    max
}

/// The compiled `[html]` rules of a profile.
#[derive(Debug, Clone)]
pub struct HtmlRules {
    /// Subtrees dropped (`[html] drop`).
    drop: Arc<Vec<Selector>>,
    /// Subtrees kept even where `drop` matches (`[html] keep`).
    keep: Arc<Vec<Selector>>,
}

impl HtmlRules {
    /// Compiles `[html]`; a selector that does not parse is a problem naming its key.
    pub fn compile(c: &HtmlConfig) -> Result<HtmlRules, Vec<ConfigError>> {
        let mut problems = Vec::new();
        let mut list = |key: &str, sels: &[String]| -> Vec<Selector> {
            sels.iter()
                .enumerate()
                .filter_map(|(i, s)| match Selector::parse(s) {
                    Ok(sel) => Some(sel),
                    Err(e) => {
                        problems.push(ConfigError {
                            key: format!("html.{key}[{i}]"),
                            message: format!("invalid selector {s:?}: {e}"),
                        });
                        None
                    }
                })
                .collect()
        };
        let drop = list("drop", &c.drop);
        let keep = list("keep", &c.keep);
        match problems.is_empty() {
            true => Ok(HtmlRules {
                drop: Arc::new(drop),
                keep: Arc::new(keep),
            }),
            false => Err(problems),
        }
    }

    /// Whether the subtree of `e` is dropped.
    fn drops(&self, e: ElementRef<'_>) -> bool {
        self.drop.iter().any(|s| s.matches(&e)) && !self.keep.iter().any(|s| s.matches(&e))
    }
}

impl Default for HtmlRules {
    fn default() -> Self {
        HtmlRules::compile(&HtmlConfig::default()).expect("the default selectors parse")
    }
}

/// Whether `raw` (a file's bytes) is HTML: it starts (after a BOM, blanks and comments)
/// with a doctype or an `<html>`, `<head>` or `<body>` tag, or its first KiB is dense
/// with tags. A text page that quotes a tag or two stays text.
pub fn looks_like_html(raw: &[u8]) -> bool {
    // Nearly every text page: it does not open with markup (after a UTF-8 BOM), and its
    // prescan holds too few `<` to be tag-dense — what the full test answers, without
    // copying the prescan (it stays the oracle in a test).
    if !matches!(raw, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]) {
        let raw = raw.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(raw);
        let pre = &raw[..raw.len().min(PRESCAN_BYTES)];
        let opens = trim_start(pre).first() == Some(&b'<');
        if !opens && memchr::memchr_iter(b'<', pre).take(8).count() < 8 {
            return false;
        }
    }
    looks_like_html_in_full(raw)
}

/// [`looks_like_html`] from the lowercased prescan.
fn looks_like_html_in_full(raw: &[u8]) -> bool {
    let (raw, wide) = match raw {
        [0xEF, 0xBB, 0xBF, rest @ ..] => (rest, None),
        [0xFF, 0xFE, rest @ ..] => (rest, Some(UTF_16LE)),
        [0xFE, 0xFF, rest @ ..] => (rest, Some(UTF_16BE)),
        _ => (raw, None),
    };
    let mut head: Vec<u8> = match wide {
        // UTF-16: its ASCII, one byte a unit.
        Some(enc) => {
            let n = raw.len().min(2 * PRESCAN_BYTES);
            let (text, _) = enc.decode_without_bom_handling(&raw[..n - n % 2]);
            text.bytes().collect()
        }
        None => raw[..raw.len().min(PRESCAN_BYTES)].to_vec(),
    };
    head.make_ascii_lowercase();
    let mut at = head.as_slice();
    loop {
        at = trim_start(at);
        match at.strip_prefix(b"<!--") {
            Some(rest) => match find(rest, b"-->") {
                Some(end) => at = &rest[end + 3..],
                None => return true,
            },
            None => break,
        }
    }
    if [
        b"<!doctype html".as_slice(),
        b"<html",
        b"<head",
        b"<body",
        b"<?xml",
    ]
    .iter()
    .any(|p| at.starts_with(p))
    {
        return true;
    }
    tag_dense(&head)
}

/// At least 8 tags (`<` then a letter or `/`) in the prescan, and most of its lines
/// holding one.
fn tag_dense(head: &[u8]) -> bool {
    let tags = head
        .windows(2)
        .filter(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || w[1] == b'/'))
        .count();
    if tags < 8 {
        return false;
    }
    let lines: Vec<&[u8]> = head
        .split(|&b| b == b'\n')
        .filter(|l| !trim_start(l).is_empty())
        .collect();
    let tagged = lines.iter().filter(|l| l.contains(&b'<')).count();
    tagged * 2 > lines.len()
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [b, rest @ ..] = s {
        if !b.is_ascii_whitespace() {
            break;
        }
        s = rest;
    }
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The encoding a `<meta charset>` or `<meta http-equiv="Content-Type" content="…;
/// charset=…">` in the first [`PRESCAN_BYTES`] names, as the HTML standard resolves labels:
/// `gbk` and `gb2312` are GB18030's decoder, a UTF-16 label is UTF-8 (a page that says
/// UTF-16 in ASCII is not UTF-16).
pub fn meta_charset(raw: &[u8]) -> Option<&'static Encoding> {
    let head = raw[..raw.len().min(PRESCAN_BYTES)].to_ascii_lowercase();
    let mut at = 0;
    while let Some(i) = find(&head[at..], b"<meta") {
        let start = at + i + 5;
        let end = head[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(head.len(), |e| start + e);
        let tag = &head[start..end];
        if let Some(c) = find(tag, b"charset") {
            let mut v = trim_start(&tag[c + 7..]);
            if let Some(rest) = v.strip_prefix(b"=") {
                v = trim_start(rest);
                let v = v
                    .strip_prefix(b"\"")
                    .or_else(|| v.strip_prefix(b"'"))
                    .unwrap_or(v);
                let label: Vec<u8> = v
                    .iter()
                    .copied()
                    .take_while(|b| !matches!(b, b'"' | b'\'' | b';' | b' ' | b'/' | b'>'))
                    .collect();
                if let Some(enc) = Encoding::for_label(&label) {
                    return Some(match enc {
                        e if e == GBK => GB18030,
                        e if e == UTF_16LE || e == UTF_16BE => UTF_8,
                        e => e,
                    });
                }
            }
        }
        at = end;
    }
    None
}

/// What a page's markup became.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HtmlPage {
    /// The lines, as the page saved as text would hold them (`\n` between them).
    pub text: String,
    /// The element each line of `text` came from (`p`, `li`, `h1`, `title` …), by line.
    pub origins: Vec<String>,
    /// The first link (`<a href>`) of each line, resolved against the canonical URL.
    pub links: Vec<Option<String>>,
    /// The page's canonical URL (`<link rel=canonical>`, else `og:url`).
    pub canonical: Option<String>,
    /// What a person should know about the decoding (a label the bytes contradict).
    pub note: Option<String>,
}

/// The line being built.
#[derive(Default)]
struct Lines {
    text: String,
    origins: Vec<String>,
    links: Vec<Option<String>>,
    line: String,
    origin: Option<String>,
    link: Option<String>,
    /// The last character written was a collapsible space.
    space: bool,
}

impl Lines {
    /// Ends the current line (a block boundary or `<br>`); empty lines are not kept.
    fn end(&mut self) {
        let line = self.line.trim_end_matches(' ');
        if !line.trim().is_empty() {
            if !self.text.is_empty() {
                self.text.push('\n');
            }
            self.text.push_str(line);
            self.origins
                .push(self.origin.take().unwrap_or_else(|| "text".into()));
            self.links.push(self.link.take());
        }
        self.line.clear();
        self.origin = None;
        self.link = None;
        self.space = false;
    }

    /// Text of a text node: runs of ASCII whitespace become one space (none at a line's
    /// start); `&nbsp;` (decoded by the parser to U+00A0) becomes a space too.
    fn push(&mut self, s: &str, pre: bool) {
        for c in s.chars() {
            if c == '\u{a0}' {
                self.line.push(' ');
                self.space = false;
                continue;
            }
            if pre && c == '\n' {
                self.end();
                continue;
            }
            if c.is_ascii_whitespace() && !pre {
                if !self.line.is_empty() && !self.space {
                    self.line.push(' ');
                    self.space = true;
                }
                continue;
            }
            self.line.push(c);
            self.space = c == ' ';
        }
    }

    fn finish(mut self) -> (String, Vec<String>, Vec<Option<String>>) {
        self.end();
        (self.text, self.origins, self.links)
    }
}

/// How an element is named in `explain`: its tag, and its first class or its id.
fn origin_of(e: &scraper::node::Element) -> String {
    let name = e.name();
    if let Some(class) = e.classes().next() {
        return format!("{name}.{class}");
    }
    match e.id() {
        Some(id) => format!("{name}#{id}"),
        None => name.to_string(),
    }
}

/// The text of an element, whitespace collapsed (for `<title>` and `<h1>`).
fn flat_text(e: ElementRef<'_>) -> String {
    let mut l = Lines::default();
    for t in e.text() {
        l.push(t, false);
    }
    l.line.trim().to_string()
}

/// Turns a page's markup into its lines, the way innerText does: block elements and `<br>`
/// end lines, inline elements join, entities are decoded, `script`, `style` and the like
/// and comments are dropped, and so is every subtree `rules` drops. The `<h1>` (or, with
/// none, the `<title>`) is offered to the title rule as the first line when the kept text
/// does not hold it.
pub fn to_lines(markup: &str, rules: &HtmlRules) -> HtmlPage {
    let doc = Html::parse_document(markup);
    let canonical = canonical_url(&doc);
    let first = |s: &Selector| {
        doc.select(s)
            .next()
            .map(flat_text)
            .filter(|t| !t.is_empty())
    };
    let (title, h1) = (first(&FIXED.title), first(&FIXED.h1));
    let mut l = Lines::default();
    let mut skipping: Option<ego_tree::NodeId> = None;
    let mut pre = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            ego_tree::iter::Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    scraper::Node::Element(e) => {
                        let name = e.name();
                        let er = ElementRef::wrap(node).expect("an element");
                        if NEVER_TEXT.contains(&name) || name == "title" || rules.drops(er) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if name == "br" {
                            l.end();
                            continue;
                        }
                        if BLOCKS.contains(&name) {
                            l.end();
                            l.origin = Some(origin_of(e));
                        } else if l.origin.is_none() && l.line.is_empty() {
                            l.origin = Some(origin_of(e));
                        }
                        if name == "pre" {
                            pre += 1;
                        }
                        if name == "a" && l.link.is_none() {
                            l.link = e.attr("href").map(|h| resolve(h, canonical.as_deref()));
                        }
                        if matches!(name, "td" | "th") && !l.line.is_empty() {
                            l.push(" ", false);
                        }
                    }
                    scraper::Node::Text(t) => l.push(t, pre > 0),
                    _ => {}
                }
            }
            ego_tree::iter::Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                    continue;
                }
                if skipping.is_some() {
                    continue;
                }
                if let scraper::Node::Element(e) = node.value() {
                    if BLOCKS.contains(&e.name()) {
                        l.end();
                    }
                    if e.name() == "pre" {
                        pre = pre.saturating_sub(1);
                    }
                }
            }
        }
    }
    let (mut text, mut origins, mut links) = l.finish();
    let offered = match (&h1, &title) {
        (Some(h), _) => Some((h.clone(), "h1")),
        (None, Some(t)) => Some((t.clone(), "title")),
        (None, None) => None,
    };
    if let Some((t, from)) = offered {
        if !text.split('\n').any(|line| line.trim() == t) {
            text = if text.is_empty() {
                t
            } else {
                format!("{t}\n{text}")
            };
            origins.insert(0, from.to_string());
            links.insert(0, None);
        }
    }
    HtmlPage {
        text,
        origins,
        links,
        canonical,
        note: None,
    }
}

/// The selectors every page is asked, parsed once.
struct Fixed {
    title: Selector,
    h1: Selector,
    canonical: Selector,
    og_url: Selector,
}

static FIXED: LazyLock<Fixed> = LazyLock::new(|| {
    let parse = |s: &str| Selector::parse(s).expect("a fixed selector parses");
    Fixed {
        title: parse("title"),
        h1: parse("h1"),
        canonical: parse("link[rel~=canonical]"),
        og_url: parse("meta[property=\"og:url\"]"),
    }
});

/// `<link rel=canonical href>`, else `<meta property=og:url content>`, as written.
fn canonical_url(doc: &Html) -> Option<String> {
    let pick = |sel: &Selector, attr: &str| {
        doc.select(sel)
            .filter_map(|e| e.value().attr(attr))
            .map(str::trim)
            .find(|v| !v.is_empty())
            .map(str::to_string)
    };
    pick(&FIXED.canonical, "href").or_else(|| pick(&FIXED.og_url, "content"))
}

/// `href` resolved against `base` (a relative link stays as written without one).
fn resolve(href: &str, base: Option<&str>) -> String {
    let href = href.trim();
    match base.and_then(|b| url::Url::parse(b).ok()) {
        Some(b) => b
            .join(href)
            .map_or_else(|_| href.to_string(), |u| u.to_string()),
        None => href.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(html: &str) -> Vec<String> {
        to_lines(html, &HtmlRules::default())
            .text
            .split('\n')
            .map(str::to_string)
            .collect()
    }

    /// The shortcut for text pages answers as the full test does: pages opening with
    /// markup or not, with a BOM or none, with 0–12 tags anywhere in or past the prescan.
    #[test]
    fn the_text_page_shortcut_answers_as_the_full_test() {
        let mut rng = crate::synth::Rng::new(2);
        let bits = [
            "医保 ",
            "a<b ",
            "<p>",
            "</div>\n",
            "<!-- x -->",
            "\n",
            "  ",
            "<HTML>",
            "x",
        ];
        for _ in 0..4000 {
            let mut page = String::new();
            for _ in 0..rng.below(60) {
                page.push_str(bits[rng.below(bits.len())]);
            }
            if rng.below(3) == 0 {
                page = format!("{}{page}", "行".repeat(rng.below(400)));
            }
            let mut raw = page.into_bytes();
            if rng.below(4) == 0 {
                raw.splice(0..0, [0xEF, 0xBB, 0xBF]);
            }
            assert_eq!(
                looks_like_html(&raw),
                looks_like_html_in_full(&raw),
                "{:?}",
                String::from_utf8_lossy(&raw)
            );
        }
    }

    #[test]
    fn html_is_told_from_text_by_its_bytes() {
        assert!(looks_like_html(b"<!DOCTYPE html><p>x"));
        assert!(looks_like_html(
            b"\xEF\xBB\xBF  <!-- saved --> <HTML><body>"
        ));
        assert!(looks_like_html(
            b"<div><p>a</p><p>b</p><p>c</p><p>d</p></div>"
        ));
        assert!(!looks_like_html(
            "医保怎么报销\n\n答：<b>可以</b>报销。\n".as_bytes()
        ));
        assert!(!looks_like_html(
            "标题\n\n正文里引用了<script>alert(1)</script>这段代码。\n".as_bytes()
        ));
        let wide: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("<html><body>".encode_utf16().flat_map(|u| u.to_le_bytes()))
            .collect();
        assert!(looks_like_html(&wide));
    }

    #[test]
    fn meta_charset_resolves_labels_as_a_browser_does() {
        assert_eq!(meta_charset(b"<meta charset=\"gbk\">"), Some(GB18030));
        assert_eq!(
            meta_charset(b"<META http-equiv=Content-Type content='text/html; charset=GB2312'>"),
            Some(GB18030)
        );
        assert_eq!(meta_charset(b"<meta charset=utf-16>"), Some(UTF_8));
        assert_eq!(meta_charset(b"<meta name=x content=y>"), None);
    }

    #[test]
    fn markup_becomes_the_lines_a_reader_sees() {
        let got = lines(
            "<html><head><title>站</title><style>p{x:1}</style><script>var a='<p>no</p>';</script></head>\
             <body><nav>首页 导航</nav><h1>医保 怎么 报销</h1><!-- a comment -->\
             <p>第一行<b>加粗</b>和&nbsp;<a href=\"/x\">链接</a>&amp;实体</p>\
             <div>第二行<br>第三行</div><footer>页脚</footer></body></html>",
        );
        assert_eq!(
            got,
            [
                "医保 怎么 报销",
                "第一行加粗和 链接&实体",
                "第二行",
                "第三行"
            ]
        );
    }

    #[test]
    fn broken_markup_leaks_no_text_and_loses_no_line() {
        let got = lines(
            "<html><body><h1>题目</h1><p>一 < 二 的比较<p>未闭合的段落<div title=\"a<b>c\">属性里有尖括号</div>\
             <script>document.write('<p>脚本</p>')</script><p>最后一行",
        );
        assert_eq!(
            got,
            [
                "题目",
                "一 < 二 的比较",
                "未闭合的段落",
                "属性里有尖括号",
                "最后一行"
            ]
        );
    }

    #[test]
    fn drop_and_keep_take_selectors() {
        let rules = HtmlRules::compile(&HtmlConfig {
            drop: vec!["footer".into(), ".ad".into()],
            keep: vec!["footer#answer".into()],
        })
        .unwrap();
        let page = to_lines(
            "<body><h1>题</h1><div class=\"ad\">广告</div><footer id=\"answer\">保留的页脚</footer>\
             <footer>去掉的页脚</footer></body>",
            &rules,
        );
        assert_eq!(page.text, "题\n保留的页脚");
        assert!(HtmlRules::compile(&HtmlConfig {
            drop: vec!["div[".into()],
            keep: vec![],
        })
        .is_err());
    }

    #[test]
    fn the_h1_is_offered_as_the_title_and_links_are_resolved() {
        let page = to_lines(
            "<head><link rel=canonical href=\"https://example.org/q/1.html\"></head><body>\
             <header><h1>问题标题</h1></header><p><a href=\"../r/2.html\">相关问题</a></p></body>",
            &HtmlRules::default(),
        );
        assert_eq!(page.text, "问题标题\n相关问题");
        assert_eq!(page.origins, ["h1", "p"]);
        assert_eq!(
            page.canonical.as_deref(),
            Some("https://example.org/q/1.html")
        );
        assert_eq!(
            page.links[1].as_deref(),
            Some("https://example.org/r/2.html")
        );
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let n = MAX_DEPTH;
        let html = format!("{}深处的文字{}", "<div>".repeat(n), "</div>".repeat(n));
        assert_eq!(nesting(&html), n);
        assert_eq!(lines(&html), ["深处的文字"]);
        // Unclosed paragraphs and void elements do not nest.
        assert_eq!(nesting(&"<p>一<br><img src=x><li>二".repeat(10_000)), 0);
        assert_eq!(nesting("<div><span/></div><div>"), 1);
    }
}
