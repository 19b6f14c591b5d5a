//! Text → [`PageParts`]: which line is title, body, boilerplate or a related block.
//!
//! A single pass over the lines with a small state machine. Markers are recognised in every
//! state (so a marker that is missing, repeated or out of order does not derail the rest),
//! and only whole lines are markers: a sentence that merely contains a marker word stays
//! where it is. Every non-blank line gets exactly one [`Label`] with the rule that decided
//! it, which is what `explain` prints and what the property tests check.
//!
//! Related blocks are anchored on their date line (`健康新闻 2025-04-18`): the lines
//! collected since the previous date line are the block's title and text. When two short
//! title-like lines come first, the first is a block the site cut off after its title. Lines
//! left after the last date line are a cut-off block without a date.

use std::rc::Rc;
use std::sync::Arc;

use regex::Regex;

use crate::config::{CleanConfig, ConfigError, ProfileConfig};
use crate::page::cleanup::clean_line;
pub use crate::page::facts::{LineClass, LineFacts};
use crate::page::line_cache;
use crate::page::patterns::{compile_list, first_match, FirstBytes, PatternBudget, Sentences};
use crate::page::strip::{LineKind, StripKind, StripSet};
use crate::text::{char_len, match_form};

/// The segmenter's rules, compiled once from `[profile]` and `[clean]`.
#[derive(Debug, Clone)]
pub struct SegmentRules {
    /// Header disclaimer patterns.
    pub header: Vec<Regex>,
    /// Footer disclaimer patterns.
    pub footer: Vec<Regex>,
    /// Trending marker patterns.
    pub trending: Vec<Regex>,
    /// Related marker patterns.
    pub related: Vec<Regex>,
    /// Related block date line (named groups `category` and `date`).
    pub related_date: Option<Regex>,
    /// Navigation patterns.
    pub navigation: Vec<Regex>,
    /// `profile.title_max_chars`.
    pub title_max_chars: usize,
    /// `profile.trending_term_max_chars`.
    pub trending_term_max_chars: usize,
    /// `profile.snippet_title_max_chars`.
    pub snippet_title_max_chars: usize,
    /// How a sentence ends.
    pub sentences: Sentences,
    /// Cleanup of kept lines.
    pub clean: CleanConfig,
    /// Bytes of line facts each worker keeps for lines that repeat (0: none).
    pub cache_bytes: usize,
    /// Identifies these rules in a worker's line cache.
    pub(crate) id: u64,
    /// What each pattern list's matches can begin with, in [`SegmentRules::classify`]'s
    /// order (navigation, related, header, footer, trending, the date line).
    first: [FirstBytes; 6],
}

impl SegmentRules {
    /// Compiles the profile's patterns; every pattern that does not compile is reported
    /// with its key. `cache_bytes` is the line cache of each worker (`scan.line_cache_bytes`).
    pub fn compile(
        p: &ProfileConfig,
        clean: &CleanConfig,
        cache_bytes: usize,
    ) -> Result<SegmentRules, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let mut budget = PatternBudget::default();
        let mut list = |key: &str, pats: &[String], errors: &mut Vec<ConfigError>| {
            compile_list(key, pats, &mut budget, errors)
        };
        let header = list(
            "profile.header_disclaimer",
            &p.header_disclaimer,
            &mut errors,
        );
        let footer = list(
            "profile.footer_disclaimer",
            &p.footer_disclaimer,
            &mut errors,
        );
        let trending = list("profile.trending", &p.trending, &mut errors);
        let related = list("profile.related", &p.related, &mut errors);
        let navigation = list("profile.navigation", &p.navigation, &mut errors);
        let related_date = compile_date(&p.related_date, &mut budget, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        let of = |v: &[Regex]| FirstBytes::of(v.iter().map(Regex::as_str));
        let first = [
            of(&navigation),
            of(&related),
            of(&header),
            of(&footer),
            of(&trending),
            FirstBytes::of(related_date.iter().map(Regex::as_str)),
        ];
        Ok(SegmentRules {
            first,
            header,
            footer,
            trending,
            related,
            related_date,
            navigation,
            title_max_chars: p.title_max_chars,
            trending_term_max_chars: p.trending_term_max_chars,
            snippet_title_max_chars: p.snippet_title_max_chars,
            sentences: Sentences::new(p),
            clean: clean.clone(),
            cache_bytes,
            id: line_cache::next_rules_id(),
        })
    }
}

impl SegmentRules {
    /// The facts of one line (uncached).
    pub fn facts(&self, raw: &str) -> LineFacts {
        let m = match_form(raw);
        let cleaned = clean_line(raw, &self.clean);
        LineFacts {
            chars: char_len(&m),
            ends_sentence: self.sentences.ends(&m),
            class: self.classify(&m),
            cleaned_is_raw: cleaned == raw,
            cleaned: cleaned.as_ref().into(),
            m,
            bkey: Default::default(),
        }
    }

    /// The facts of one line from this worker's [`line_cache`] when the line was kept
    /// before; else computed, and kept when `keep` is set (lines of the related list).
    pub fn cached_facts(&self, raw: &str, keep: bool) -> std::rc::Rc<LineFacts> {
        line_cache::facts(raw, self.id, self.cache_bytes, keep, || self.facts(raw))
    }

    fn classify(&self, m: &str) -> LineClass {
        // A list is run only on a line that begins as one of its matches can.
        let [nav, rel, head, foot, trend, dated] = &self.first;
        let find = |first: &FirstBytes, pats: &[Regex]| {
            first.may_match(m).then(|| first_match(pats, m)).flatten()
        };
        if let Some(i) = find(nav, &self.navigation) {
            return LineClass::Navigation(i);
        }
        if let Some(i) = find(rel, &self.related) {
            return LineClass::Related(i);
        }
        if let Some(i) = find(head, &self.header) {
            return LineClass::Header(i);
        }
        if let Some(i) = find(foot, &self.footer) {
            return LineClass::Footer(i);
        }
        if let Some(i) = find(trend, &self.trending) {
            let rest = self.trending[i].find(m).map_or("", |x| &m[x.end()..]);
            let terms = rest
                .split([' ', ',', '、', '|'])
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            return LineClass::Trending(i, terms);
        }
        // Most lines are not dates: a match test first, which needs no capture slots.
        let date = self
            .related_date
            .as_ref()
            .filter(|r| dated.may_match(m) && r.is_match(m));
        if let Some(caps) = date.and_then(|r| r.captures(m)) {
            return LineClass::Date {
                category: caps.name("category").map(|x| x.as_str().to_string()),
                date: caps.name("date").and_then(|x| iso_date(x.as_str())),
            };
        }
        LineClass::Plain
    }
}

/// `profile.related_date`: empty (no related list), or a regex with the named groups
/// `category` and `date`.
fn compile_date(
    pat: &str,
    budget: &mut PatternBudget,
    errors: &mut Vec<ConfigError>,
) -> Option<Regex> {
    if pat.is_empty() {
        return None;
    }
    let key = "profile.related_date";
    match crate::page::patterns::compile_one(pat, budget) {
        Ok(r) => {
            let names: Vec<&str> = r.capture_names().flatten().collect();
            for need in ["category", "date"] {
                if !names.contains(&need) {
                    errors.push(ConfigError {
                        key: key.into(),
                        message: format!("needs a named group (?P<{need}>…)"),
                    });
                }
            }
            Some(r)
        }
        Err(e) => {
            errors.push(ConfigError {
                key: key.into(),
                message: e.message(pat),
            });
            None
        }
    }
}

/// The part of the page a line went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// The question.
    Title,
    /// Header disclaimer (stripped).
    HeaderDisclaimer,
    /// Answer body (kept).
    Body,
    /// Footer disclaimer (stripped).
    FooterDisclaimer,
    /// Trending searches marker or term (stripped, terms kept in metadata).
    Trending,
    /// The related-list marker (stripped).
    RelatedMarker,
    /// Title line of related block n (0-based).
    RelatedTitle(usize),
    /// Text line of related block n.
    RelatedText(usize),
    /// Date line of related block n, or of no block when it stands alone.
    RelatedDate(Option<usize>),
    /// Navigation (stripped).
    Navigation,
}

impl Part {
    /// Where the learned-boilerplate counter groups a line of this part.
    pub fn kind(self) -> LineKind {
        match self {
            Part::Title => LineKind::Title,
            Part::HeaderDisclaimer => LineKind::Stripped(StripKind::HeaderDisclaimer),
            Part::Body => LineKind::Body,
            Part::FooterDisclaimer => LineKind::Stripped(StripKind::FooterDisclaimer),
            Part::Trending => LineKind::Stripped(StripKind::Trending),
            Part::RelatedMarker | Part::RelatedDate(_) => LineKind::Stripped(StripKind::Related),
            Part::RelatedTitle(_) | Part::RelatedText(_) => LineKind::RelatedBlock,
            Part::Navigation => LineKind::Stripped(StripKind::Navigation),
        }
    }

    /// A short human name for reports and `explain`.
    pub fn name(self) -> String {
        match self {
            Part::Title => "title".into(),
            Part::HeaderDisclaimer => "header disclaimer".into(),
            Part::Body => "body".into(),
            Part::FooterDisclaimer => "footer disclaimer".into(),
            Part::Trending => "trending".into(),
            Part::RelatedMarker => "related marker".into(),
            Part::RelatedTitle(n) => format!("related block {} title", n + 1),
            Part::RelatedText(n) => format!("related block {} text", n + 1),
            Part::RelatedDate(Some(n)) => format!("related block {} date", n + 1),
            Part::RelatedDate(None) => "related date (no block)".into(),
            Part::Navigation => "navigation".into(),
        }
    }
}

/// Why a line went where it went: a profile key (with the pattern's index) or a built-in
/// layout rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Matched `profile.<key>[index]`.
    Pattern(&'static str, usize),
    /// Matched the single pattern `profile.<key>`.
    Key(&'static str),
    /// A layout rule of the segmenter, described in words.
    Layout(&'static str),
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Pattern(key, i) => write!(f, "profile.{key}[{i}]"),
            Rule::Key(key) => write!(f, "profile.{key}"),
            Rule::Layout(s) => f.write_str(s),
        }
    }
}

/// One non-blank input line and where it went.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// 1-based line number in the decoded text.
    pub line: usize,
    /// The part.
    pub part: Part,
    /// The rule that decided it.
    pub rule: Rule,
}

/// One block of the related list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnippetBlock {
    /// The snippet title.
    pub title: String,
    /// The snippet text (lines joined with `\n`), empty when the site cut the block off.
    pub text: String,
    /// The category of the date line.
    pub category: Option<String>,
    /// The date, ISO `YYYY-MM-DD`.
    pub date: Option<String>,
    /// Title, text and date line were all present.
    pub complete: bool,
}

/// A page split into its parts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageParts {
    /// The question, cleaned.
    pub title: Option<String>,
    /// Kept body lines, cleaned, non-empty.
    pub body: Vec<Arc<str>>,
    /// Trending search terms.
    pub trending: Vec<String>,
    /// Related blocks in page order.
    pub related: Vec<SnippetBlock>,
    /// Lines stripped per boilerplate kind.
    pub stripped: StripCounts,
    /// Where every non-blank line went.
    pub labels: Vec<Label>,
}

/// Lines stripped per [`StripKind`] on one page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StripCounts([u32; StripKind::ALL.len()]);

impl StripCounts {
    /// Counts one line of kind `k`.
    pub fn add(&mut self, k: StripKind) {
        self.0[k as usize] += 1;
    }

    /// Lines of kind `k`.
    pub fn get(&self, k: StripKind) -> u32 {
        self.0[k as usize]
    }

    /// The kinds with at least one line.
    pub fn kinds(&self) -> StripSet {
        let mut s = StripSet::default();
        for k in StripKind::ALL {
            if self.get(k) > 0 {
                s.insert(k);
            }
        }
        s
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    Body,
    AfterFooter,
    Trending,
    Related,
}

/// Splits a decoded page into its parts.
pub fn segment(text: &str, rules: &SegmentRules) -> PageParts {
    Segmenter::new(rules).run(text, None)
}

/// The facts of a page's lines as its segmentation computed them, by line index (0-based;
/// `None` for blank lines): what the learned-boilerplate sample reads of a sampled page,
/// so that its lines are not computed twice.
pub type PageFacts = Vec<Option<Rc<LineFacts>>>;

/// [`segment`], also returning every line's facts.
pub fn segment_keeping_facts(text: &str, rules: &SegmentRules) -> (PageParts, PageFacts) {
    let mut facts = Vec::new();
    let parts = Segmenter::new(rules).run(text, Some(&mut facts));
    (parts, facts)
}

struct Segmenter<'c> {
    c: &'c SegmentRules,
    parts: PageParts,
    state: State,
    /// Lines after the footer disclaimer whose fate is not known yet: body, unless a date
    /// line shows they are related blocks whose marker is missing.
    after_footer: Vec<(usize, Arc<str>)>,
    /// Related lines since the last date line.
    pending: Vec<(usize, Arc<str>)>,
    /// Lines after the trending marker, held until the next marker says what they are:
    /// (line, cleaned, whether it looks like a term).
    after_trending: Vec<(usize, Arc<str>, bool)>,
    /// Bare links and dates before the title (a scraper's first line): body once the
    /// title comes, or the first of them the title when none does.
    before_title: Vec<(usize, Arc<str>)>,
}

impl<'c> Segmenter<'c> {
    fn new(c: &'c SegmentRules) -> Self {
        Segmenter {
            c,
            parts: PageParts::default(),
            state: State::Start,
            after_footer: Vec::new(),
            pending: Vec::new(),
            after_trending: Vec::new(),
            before_title: Vec::new(),
        }
    }

    fn label(&mut self, line: usize, part: Part, rule: Rule) {
        self.parts.labels.push(Label { line, part, rule });
    }

    fn strip(&mut self, kind: StripKind) {
        self.parts.stripped.add(kind);
    }

    fn run(mut self, text: &str, mut facts: Option<&mut PageFacts>) -> PageParts {
        for (i, raw) in crate::text::lines(text).enumerate() {
            if raw.bytes().all(|b| b == b' ' || b == b'\t') {
                continue;
            }
            // Lines of the related list repeat across pages: their facts are kept.
            let keep = self.state == State::Related;
            let f = self.c.cached_facts(raw, keep);
            if let Some(all) = facts.as_deref_mut() {
                all.resize(i + 1, None);
                all[i] = Some(f.clone());
            }
            if f.m.is_empty() {
                continue;
            }
            self.line(i + 1, &f);
        }
        self.finish();
        self.parts.labels.sort_by_key(|l| l.line);
        self.parts
    }

    fn line(&mut self, n: usize, f: &LineFacts) {
        let c = self.c;
        if self.state == State::Start {
            match f.class {
                LineClass::Plain if f.chars <= c.title_max_chars => {
                    if bare_link_or_date(&f.cleaned) {
                        self.before_title.push((n, f.cleaned.clone()));
                        return;
                    }
                    self.title(n, &f.cleaned, "first non-empty line");
                    return;
                }
                // Navigation (a breadcrumb) and a header disclaimer before the title are
                // stripped; the title may still come.
                LineClass::Navigation(_) | LineClass::Header(_) => {}
                // No title: the page goes on as if the title were missing.
                _ => self.no_title(),
            }
        }
        // Lines held after a trending marker are terms when the layout goes on (related
        // list, a date line, navigation, another trending marker, the page end); a
        // disclaimer after them means the marker stood inside the body.
        match &f.class {
            LineClass::Plain => {}
            LineClass::Header(_) | LineClass::Footer(_) => self.resolve_trending(false),
            LineClass::Date { .. } if self.state == State::Trending => self.trending_to_block(),
            _ => self.resolve_trending(true),
        }
        match &f.class {
            LineClass::Navigation(i) => {
                self.strip(StripKind::Navigation);
                self.label(n, Part::Navigation, Rule::Pattern("navigation", *i));
            }
            LineClass::Related(i) => {
                self.strip(StripKind::Related);
                self.resolve_after_footer();
                self.label(n, Part::RelatedMarker, Rule::Pattern("related", *i));
                self.state = State::Related;
            }
            LineClass::Header(i) => {
                self.strip(StripKind::HeaderDisclaimer);
                self.label(
                    n,
                    Part::HeaderDisclaimer,
                    Rule::Pattern("header_disclaimer", *i),
                );
            }
            LineClass::Footer(i) => {
                self.strip(StripKind::FooterDisclaimer);
                self.label(
                    n,
                    Part::FooterDisclaimer,
                    Rule::Pattern("footer_disclaimer", *i),
                );
                if self.state != State::Related {
                    self.resolve_after_footer();
                    self.state = State::AfterFooter;
                }
            }
            LineClass::Trending(i, terms) => {
                self.strip(StripKind::Trending);
                self.resolve_after_footer();
                self.label(n, Part::Trending, Rule::Pattern("trending", *i));
                // Terms may follow the marker on the same line.
                self.parts.trending.extend(terms.iter().cloned());
                if self.state != State::Related {
                    self.state = State::Trending;
                }
            }
            LineClass::Date { category, date } => {
                self.date_line(n, category.clone(), date.clone());
            }
            LineClass::Plain => self.plain(n, f),
        }
    }

    /// A line that is not a marker: where it goes depends on the state.
    fn plain(&mut self, n: usize, f: &LineFacts) {
        let c = self.c;
        match self.state {
            State::Start | State::Body => self.body(n, &f.cleaned, Rule::Layout("body text")),
            State::AfterFooter => self.after_footer.push((n, f.cleaned.clone())),
            State::Trending => {
                let term_like = f.chars <= c.trending_term_max_chars && !f.ends_sentence;
                self.after_trending.push((n, f.cleaned.clone(), term_like));
            }
            State::Related => self.pending.push((n, f.cleaned.clone())),
        }
    }

    fn body(&mut self, n: usize, cleaned: &Arc<str>, rule: Rule) {
        if !cleaned.is_empty() {
            self.parts.body.push(cleaned.clone());
        }
        self.label(n, Part::Body, rule);
    }

    /// Decides the lines held after a trending marker: all terms when `layout` (the page
    /// goes on with its related list or navigation), else — the marker stood inside the
    /// body — short lines that do not end a sentence are terms until the first that is
    /// not, which returns to the body with the rest.
    fn resolve_trending(&mut self, layout: bool) {
        let mut in_body = false;
        for (n, t, term_like) in std::mem::take(&mut self.after_trending) {
            if layout {
                self.term(n, t, "line between the trending marker and the next marker");
            } else if term_like && !in_body {
                self.term(n, t, "short line after trending marker");
            } else {
                in_body = true;
                self.state = State::Body;
                self.body(n, &t, Rule::Layout("long line after trending terms"));
            }
        }
    }

    /// A date line right after trending terms: the related marker is missing, and the
    /// last title and text lines are the block the date line closes.
    fn trending_to_block(&mut self) {
        let mut held = std::mem::take(&mut self.after_trending);
        let block = held.split_off(held.len().saturating_sub(2));
        for (n, t, _) in held {
            self.term(n, t, "line between the trending marker and the next marker");
        }
        self.pending = block.into_iter().map(|(n, t, _)| (n, t)).collect();
        self.state = State::Related;
    }

    fn term(&mut self, n: usize, t: Arc<str>, rule: &'static str) {
        self.strip(StripKind::Trending);
        self.parts.trending.push(t.to_string());
        self.label(n, Part::Trending, Rule::Layout(rule));
    }

    /// Lines after the footer go back to the body once we know no related block follows.
    fn resolve_after_footer(&mut self) {
        for (n, t) in std::mem::take(&mut self.after_footer) {
            self.parts.body.push(t);
            self.label(
                n,
                Part::Body,
                Rule::Layout("text after the footer disclaimer"),
            );
        }
    }

    fn date_line(&mut self, n: usize, category: Option<String>, date: Option<String>) {
        match self.state {
            State::Related => {}
            State::AfterFooter => {
                // The related marker is missing: what followed the footer are blocks.
                self.pending = std::mem::take(&mut self.after_footer);
                self.state = State::Related;
            }
            _ => {
                // Marker and footer both missing: the block is the last title and text
                // lines before this date line.
                let take = self.parts.body.len().min(2);
                let mut moved = Vec::new();
                for _ in 0..take {
                    let line = self
                        .parts
                        .labels
                        .iter()
                        .rposition(|l| l.part == Part::Body)
                        .map(|i| self.parts.labels.remove(i).line);
                    if let (Some(line), Some(t)) = (line, self.parts.body.pop()) {
                        moved.push((line, t));
                    }
                }
                moved.reverse();
                self.pending = moved;
                self.state = State::Related;
            }
        }
        self.strip(StripKind::Related);
        self.close_block(Some(n), category, date);
    }

    fn is_title_like(&self, s: &str) -> bool {
        let c = self.c;
        let len = char_len(s);
        (4..=c.snippet_title_max_chars).contains(&len) && !c.sentences.ends(s)
    }

    fn close_block(
        &mut self,
        date_line: Option<usize>,
        category: Option<String>,
        date: Option<String>,
    ) {
        let mut lines = std::mem::take(&mut self.pending);
        // Blocks cut off after their title: two title-like lines in a row.
        while lines.len() >= 3 && self.is_title_like(&lines[0].1) && self.is_title_like(&lines[1].1)
        {
            let (n, title) = lines.remove(0);
            self.push_block(vec![(n, title)], None, None, None);
        }
        if lines.is_empty() {
            if let Some(d) = date_line {
                self.label(
                    d,
                    Part::RelatedDate(None),
                    Rule::Layout("date line with no block"),
                );
            }
            return;
        }
        self.push_block(lines, date_line, category, date);
    }

    fn push_block(
        &mut self,
        lines: Vec<(usize, Arc<str>)>,
        date_line: Option<usize>,
        category: Option<String>,
        date: Option<String>,
    ) {
        let idx = self.parts.related.len();
        let mut it = lines.into_iter();
        let (tn, title) = it.next().expect("a block has a title line");
        self.label(
            tn,
            Part::RelatedTitle(idx),
            Rule::Layout("first line of a related block"),
        );
        let mut text = Vec::new();
        for (n, t) in it {
            self.label(
                n,
                Part::RelatedText(idx),
                Rule::Layout("line after a block title"),
            );
            text.push(t);
        }
        if let Some(d) = date_line {
            self.label(d, Part::RelatedDate(Some(idx)), Rule::Key("related_date"));
        }
        let complete = !text.is_empty() && date_line.is_some();
        self.parts.related.push(SnippetBlock {
            title: title.to_string(),
            text: text.join("\n"),
            category,
            date,
            complete,
        });
    }

    /// The page's title is line `n`; the bare links and dates held before it are body.
    fn title(&mut self, n: usize, cleaned: &Arc<str>, why: &'static str) {
        self.parts.title = Some(cleaned.to_string());
        self.label(n, Part::Title, Rule::Layout(why));
        self.state = State::Body;
        for (m, line) in std::mem::take(&mut self.before_title) {
            self.body(m, &line, Rule::Layout("bare link or date before the title"));
        }
    }

    /// The page has no title line of its own: the first bare link or date held before
    /// the title is the title, as any first line would be (else there is none).
    fn no_title(&mut self) {
        if self.before_title.is_empty() {
            self.state = State::Body;
            return;
        }
        let (n, first) = self.before_title.remove(0);
        self.title(n, &first, "first non-empty line");
    }

    fn finish(&mut self) {
        if self.state == State::Start {
            self.no_title();
        }
        self.resolve_trending(true);
        self.resolve_after_footer();
        if !self.pending.is_empty() {
            self.close_block(None, None, None);
        }
    }
}

/// A line that is only a link (`https://…`, `www.…`) or only a date and time (digits and
/// `-/:.` or 年月日时分秒): what scrapers put before a page's title, never a title itself.
fn bare_link_or_date(line: &str) -> bool {
    let link =
        (line.starts_with("http://") || line.starts_with("https://") || line.starts_with("www."))
            && !line.contains(char::is_whitespace);
    let digits = line.chars().filter(char::is_ascii_digit).count();
    let date = digits >= 4
        && line
            .chars()
            .all(|c| c.is_ascii_digit() || " -/:.年月日号时分秒".contains(c));
    link || date
}

/// A related block's date in any form the profile's `date` group matches — `2025/4/8`,
/// `2025.4.8`, `2025年4月8日`, `2025-04-08` — as `2025-04-08`; `None` when it is not a
/// calendar date (three numbers: a four-digit year, a month and a day).
pub fn iso_date(s: &str) -> Option<String> {
    let nums: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|x| !x.is_empty())
        .collect();
    let [y, m, d] = nums[..] else {
        return None;
    };
    let (m, d) = (m.parse::<u32>().ok()?, d.parse::<u32>().ok()?);
    (y.len() == 4 && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then(|| format!("{y}-{m:02}-{d:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, BUILTIN_PROFILE};

    /// The body lines of `p` as strings.
    fn body(p: &PageParts) -> Vec<&str> {
        p.body.iter().map(|l| &**l).collect()
    }

    fn compiled() -> SegmentRules {
        let c = Config::parse(BUILTIN_PROFILE).unwrap();
        SegmentRules::compile(&c.profile, &c.clean, 0).unwrap()
    }

    fn cached_rules(cache_bytes: usize) -> SegmentRules {
        let c = Config::parse(BUILTIN_PROFILE).unwrap();
        SegmentRules::compile(&c.profile, &c.clean, cache_bytes).unwrap()
    }

    /// What scrapers put before a page's title — a breadcrumb, the header disclaimer, the
    /// page's link, its date — is not the title: the title is the next line, the link and
    /// date go to the body, the breadcrumb and disclaimer are stripped. A page with no
    /// other title line keeps its first line as the title, as before.
    #[test]
    fn what_comes_before_the_title_is_not_the_title() {
        let rest = "医保个人账户能给家人用吗\n\n可以用于配偶、父母和子女的门诊费用。\n";
        let cases: [(&str, &[&str]); 5] = [
            ("首页 > 医保问答 > 个人账户\n", &[]),
            ("当前位置：首页 » 医保 » 问答\n", &[]),
            ("本信息整理自互联网公开渠道,仅供参考\n", &[]),
            (
                "https://example.com/ask/123.html\n",
                &["https://example.com/ask/123.html"],
            ),
            ("2025-03-02 10:22\n\n", &["2025-03-02 10:22"]),
        ];
        for (before, extra) in cases {
            let p = segment(&format!("{before}{rest}"), &compiled());
            assert_eq!(
                p.title.as_deref(),
                Some("医保个人账户能给家人用吗"),
                "{before}"
            );
            let mut want = extra.to_vec();
            want.push("可以用于配偶、父母和子女的门诊费用。");
            assert_eq!(body(&p), want, "{before}");
        }
        // The answer's only line is too long to be a title: the link stays the title.
        let page = format!(
            "https://example.com/ask/123.html\n\n{}",
            "很长的回答内容，".repeat(40)
        );
        let p = segment(&page, &compiled());
        assert_eq!(p.title.as_deref(), Some("https://example.com/ask/123.html"));
        assert!(!bare_link_or_date("2025年医保缴费标准"));
        assert!(!bare_link_or_date("https://example.com 医保"));
    }

    /// A related block's date line may carry a time after the date: it still closes the
    /// block, and the date is the day.
    #[test]
    fn a_date_line_with_a_time_closes_its_block() {
        let page = "医保问题\n\n可以用于门诊费用。\n\n相关推荐\n\n异地备案\n\n先在参保地备案。\n\n\
                    健康新闻 2025-03-02 10:22\n\n门诊统筹\n\n按次报销。\n\n健康新闻 2025/3/4 8:05:09\n";
        let p = segment(page, &compiled());
        let blocks: Vec<(&str, &str, Option<&str>)> = p
            .related
            .iter()
            .map(|b| (b.title.as_str(), b.text.as_str(), b.date.as_deref()))
            .collect();
        assert_eq!(
            blocks,
            [
                ("异地备案", "先在参保地备案。", Some("2025-03-02")),
                ("门诊统筹", "按次报销。", Some("2025-03-04")),
            ]
        );
    }

    #[test]
    fn cached_facts_are_the_same_facts_and_the_cache_stays_bounded() {
        let r = cached_rules(2_000);
        let line = "健康新闻 2025-04-18";
        let a = r.cached_facts(line, true);
        let b = r.cached_facts(line, true);
        assert!(std::rc::Rc::ptr_eq(&a, &b), "the second lookup is a hit");
        assert_eq!(*a, r.facts(line));
        // Filling past the budget empties the cache; results stay right.
        for i in 0..200 {
            let l = format!("相关推荐的第{i}条推荐标题");
            assert_eq!(*r.cached_facts(&l, true), r.facts(&l));
        }
        assert!(line_cache::cached_bytes() <= 2_000);
    }

    #[test]
    fn other_rules_do_not_see_these_facts() {
        let (r1, r2) = (cached_rules(1 << 20), cached_rules(1 << 20));
        let a = r1.cached_facts("首页 顶部", true);
        let b = r2.cached_facts("首页 顶部", true);
        assert!(!std::rc::Rc::ptr_eq(&a, &b));
        assert_eq!(*a, *b);
    }

    const PAGE: &str = "医保卡可以给家人用吗

本信息整理自互联网公开渠道,仅供参考。

一、可以共济

职工医保个人账户可以 家庭共济 。

提示:本内容不能代替面诊,如有不适请尽快就医。
大家都在搜
医保共济
异地备案
相关推荐

临川医保缴费标准

临川居民医保个人缴费为每年四百元,集中缴费期

健康新闻 2025-04-18

松阳生育津贴怎么领

可以 松阳生育津贴由单位申领。

健康新闻 2025-04-19
首页 顶部
";

    #[test]
    fn splits_the_standard_layout() {
        let p = segment(PAGE, &compiled());
        assert_eq!(p.title.as_deref(), Some("医保卡可以给家人用吗"));
        assert_eq!(
            body(&p),
            ["一、可以共济", "职工医保个人账户可以 家庭共济。"]
        );
        assert_eq!(p.trending, ["医保共济", "异地备案"]);
        assert_eq!(p.related.len(), 2);
        assert_eq!(p.related[0].title, "临川医保缴费标准");
        assert_eq!(p.related[0].category.as_deref(), Some("健康新闻"));
        assert_eq!(p.related[1].date.as_deref(), Some("2025-04-19"));
        assert!(p.related.iter().all(|b| b.complete));
        assert!(StripKind::PROFILE
            .iter()
            .all(|&k| p.stripped.kinds().contains(k)));
        assert!(!p.stripped.kinds().contains(StripKind::LearnedBoilerplate));
    }

    #[test]
    fn every_non_blank_line_is_labelled_once() {
        let p = segment(PAGE, &compiled());
        let non_blank: Vec<usize> = PAGE
            .split('\n')
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, _)| i + 1)
            .collect();
        let labelled: Vec<usize> = p.labels.iter().map(|l| l.line).collect();
        assert_eq!(labelled, non_blank);
    }

    #[test]
    fn cut_off_block_and_orphan_title() {
        let page = "标题问题是什么\n\n正文一句。\n\n相关推荐\n\n只剩标题的推荐\n\n下一条推荐标题\n\n下一条推荐的正文内容很长很长\n\n健康新闻 2025-03-14\n\n最后一条标题\n\n最后一条正文被截断";
        let p = segment(page, &compiled());
        let titles: Vec<&str> = p.related.iter().map(|b| b.title.as_str()).collect();
        assert_eq!(titles, ["只剩标题的推荐", "下一条推荐标题", "最后一条标题"]);
        assert!(!p.related[0].complete && p.related[0].text.is_empty());
        assert!(p.related[1].complete);
        assert!(!p.related[2].complete);
        assert_eq!(p.related[2].text, "最后一条正文被截断");
        assert_eq!(p.related[2].date, None);
    }

    #[test]
    fn marker_word_inside_a_sentence_is_not_a_marker() {
        let page =
            "标题问题是什么\n根据提示填写信息,相关推荐请看首页 顶部。\n提示:本内容不能代替面诊。";
        let p = segment(page, &compiled());
        assert_eq!(body(&p), ["根据提示填写信息,相关推荐请看首页 顶部。"]);
    }

    #[test]
    fn missing_related_marker_after_footer() {
        let page = "标题问题是什么\n正文。\n提示：本内容不能代替面诊\n推荐标题一二\n推荐正文。\n健康新闻 2025-01-02";
        let p = segment(page, &compiled());
        assert_eq!(body(&p), ["正文。"]);
        assert_eq!(p.related.len(), 1);
        assert_eq!(p.related[0].title, "推荐标题一二");
    }

    #[test]
    fn text_after_footer_without_blocks_stays_body() {
        let page = "标题问题是什么\n正文。\n提示：本内容不能代替面诊\n补充说明一段。";
        let p = segment(page, &compiled());
        assert_eq!(body(&p), ["正文。", "补充说明一段。"]);
    }

    #[test]
    fn trending_marker_inside_the_body_gives_its_sentences_back() {
        // The footer comes after the trending lines: the marker stood inside the body, so
        // short lines are terms and the first sentence returns to the body with the rest.
        let page = "标题问题是什么\n正文一句。\n大家都在搜\n医保共济\n这是一句完整的正文，说明备案后可以直接结算。\n短行\n提示:本内容不能代替面诊。";
        let p = segment(page, &compiled());
        assert_eq!(p.trending, ["医保共济"]);
        assert_eq!(
            body(&p),
            [
                "正文一句。",
                "这是一句完整的正文，说明备案后可以直接结算。",
                "短行"
            ]
        );
    }

    #[test]
    fn related_date_needs_named_groups() {
        let c = Config::default();
        let mut p = c.profile.clone();
        p.related_date = r"^\d{4}$".into();
        let errs = SegmentRules::compile(&p, &c.clean, 0).unwrap_err();
        assert!(
            errs.iter().any(|e| e.message.contains("category")),
            "{errs:?}"
        );
    }

    #[test]
    fn iso_dates() {
        for (s, want) in [
            ("2025/4/8", Some("2025-04-08")),
            ("2025-04-18", Some("2025-04-18")),
            ("2025.4.18", Some("2025-04-18")),
            ("2025年04月18日", Some("2025-04-18")),
            ("2025年4月8号", Some("2025-04-08")),
            ("2025-13-01", None),
            ("4月18日", None),
            ("25/4/18", None),
        ] {
            assert_eq!(iso_date(s).as_deref(), want, "{s}");
        }
    }
}
