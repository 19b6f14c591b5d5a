//! Phase 1: one input file → one article (or a reject) and its snippet occurrences.
//!
//! Pure with respect to everything but the one file it reads, so it runs on any number of
//! threads (or machines) and its result depends on the file and the config alone.

use std::time::Instant;

use xxhash_rust::xxh3::xxh3_128;

use crate::config::Compiled;
use crate::dedup::{fingerprint, Fingerprint};
use crate::ingest::{decode, read_file, InputFile, RawFile};
use crate::page::metadata;
use crate::page::normalize::{char_len, clean_line, match_form};
use crate::page::{segment, PageParts, Part, SnippetBlock};
use crate::record::{hex64, page_id, ArticleMeta, ArticleRecord, Reject, RejectReason};

/// One related-block occurrence on one page.
#[derive(Debug, Clone)]
pub struct SnippetOccurrence {
    /// xxh3-128 of title + U+001F + text: identical blocks share it.
    pub key: u128,
    /// The block.
    pub block: SnippetBlock,
    /// The short answer its text leads with.
    pub answer: Option<String>,
    /// The text does not end a sentence.
    pub truncated: bool,
}

/// One distinct line of a sampled page, counted for learned boilerplate.
#[derive(Debug, Clone)]
pub struct LineSample {
    /// [`boilerplate_key`] hashed.
    pub hash: u64,
    /// Where the segmenter put it (`body`, `footer_disclaimer`, `related_block` …).
    pub kind: &'static str,
    /// The line as cleaned.
    pub text: String,
}

/// The form of a line that learned boilerplate counts: cleaned, then in match form, hashed.
pub fn boilerplate_key(cleaned: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(match_form(cleaned).as_bytes())
}

fn part_kind(p: Part) -> &'static str {
    match p {
        Part::Title => "title",
        Part::HeaderDisclaimer => "header_disclaimer",
        Part::Body => "body",
        Part::FooterDisclaimer => "footer_disclaimer",
        Part::Trending => "trending",
        Part::RelatedMarker | Part::RelatedDate(_) => "related",
        Part::RelatedTitle(_) | Part::RelatedText(_) => "related_block",
        Part::Navigation => "navigation",
    }
}

/// What phase 1 produced for one file.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A page with a title and a body.
    Article(Box<ArticleRecord>, Fingerprint),
    /// A file that did not yield an article.
    Reject(Reject),
}

/// Phase 1's result for one file.
#[derive(Debug, Clone)]
pub struct PageResult {
    /// Path relative to `--input`.
    pub source: String,
    /// The page id.
    pub id: String,
    /// Article or reject.
    pub outcome: Outcome,
    /// The title, when one was found (also for rejects, for the audit).
    pub title: Option<String>,
    /// The related blocks, in page order.
    pub snippets: Vec<SnippetOccurrence>,
    /// Encoding, when decoding got that far.
    pub encoding: Option<&'static str>,
    /// Compression the file was read through (`gzip`, `zstd`), when decoding got that far.
    pub compression: Option<&'static str>,
    /// Boilerplate kinds stripped.
    pub stripped: Vec<String>,
    /// Time spent reading, decoding, segmenting, in microseconds.
    pub micros: [u64; 3],
    /// Distinct lines, when the page is in the learned-boilerplate sample.
    pub lines: Vec<LineSample>,
}

/// Reads, decodes and segments one file.
pub fn scan_file(file: &InputFile, c: &Compiled) -> PageResult {
    scan_file_sampled(file, c, false)
}

/// Like [`scan_file`]; when `sample` is set, also returns the page's distinct lines for
/// learned boilerplate.
pub fn scan_file_sampled(file: &InputFile, c: &Compiled, sample: bool) -> PageResult {
    let t0 = Instant::now();
    let raw = read_file(file, c.config.input.max_file_bytes);
    let read_us = t0.elapsed().as_micros() as u64;
    let mut result = match raw {
        Ok(raw) => scan_bytes(&file.source, raw, c, sample),
        Err(rej) => empty_result(&file.source, Outcome::Reject(rej)),
    };
    result.micros[0] = read_us;
    result
}

fn empty_result(source: &str, outcome: Outcome) -> PageResult {
    PageResult {
        source: source.to_string(),
        id: page_id(source),
        outcome,
        title: None,
        snippets: Vec::new(),
        encoding: None,
        compression: None,
        stripped: Vec::new(),
        micros: [0; 3],
        lines: Vec::new(),
    }
}

/// Decodes, segments and extracts one page already in memory (what the fuzz target drives).
pub fn scan_bytes(source: &str, raw: RawFile, c: &Compiled, sample: bool) -> PageResult {
    let t1 = Instant::now();
    let page = match decode(&raw.bytes, &c.config.input, &c.legacy_encodings) {
        Ok(p) => p,
        Err(rej) => return empty_result(source, Outcome::Reject(rej)),
    };
    drop(raw.bytes);
    let mut result = empty_result(
        source,
        Outcome::Reject(Reject::new(RejectReason::NoTitle, "")),
    );
    result.encoding = Some(page.encoding);
    result.compression = raw.compression;
    let t2 = Instant::now();
    result.micros[1] = (t2 - t1).as_micros() as u64;

    let parts = segment(&page.text, c);
    if sample {
        result.lines = sample_lines(&page.text, &parts, c);
    }
    result.stripped = parts.stripped_kinds();
    result.title = parts.title.clone();
    result.snippets = parts
        .related
        .iter()
        .map(|b| occurrence(b.clone(), c))
        .collect();
    result.outcome = build_article(&result.id, source, &parts, &page, raw.compression, c);
    result.micros[2] = t2.elapsed().as_micros() as u64;
    result
}

fn sample_lines(text: &str, parts: &PageParts, c: &Compiled) -> Vec<LineSample> {
    let lines: Vec<&str> = text.split('\n').collect();
    let max = c.config.boilerplate.max_line_chars;
    let mut out: Vec<LineSample> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in &parts.labels {
        let Some(raw) = lines.get(l.line - 1) else {
            continue;
        };
        let cleaned = clean_line(raw, &c.config.clean);
        if cleaned.is_empty() || char_len(&cleaned) > max {
            continue;
        }
        let hash = boilerplate_key(&cleaned);
        if seen.insert(hash) {
            out.push(LineSample {
                hash,
                kind: part_kind(l.part),
                text: cleaned,
            });
        }
    }
    out
}

fn occurrence(block: SnippetBlock, c: &Compiled) -> SnippetOccurrence {
    let mut key_src = String::with_capacity(block.title.len() + block.text.len() + 1);
    key_src.push_str(&block.title);
    key_src.push('\u{1f}');
    key_src.push_str(&block.text);
    let truncated = !c.config.profile.ends_sentence(&block.text);
    SnippetOccurrence {
        key: xxh3_128(key_src.as_bytes()),
        answer: metadata::short_answer(&block.title, &block.text, c),
        truncated,
        block,
    }
}

fn build_article(
    id: &str,
    source: &str,
    parts: &PageParts,
    page: &crate::ingest::DecodedPage,
    compression: Option<&'static str>,
    c: &Compiled,
) -> Outcome {
    let Some(title) = parts.title.clone() else {
        return Outcome::Reject(Reject::new(
            RejectReason::NoTitle,
            format!(
                "no first line of at most {} characters that is not boilerplate \
                 (profile.title_max_chars)",
                c.config.profile.title_max_chars
            ),
        ));
    };
    if parts.body.is_empty() {
        return Outcome::Reject(Reject::new(
            RejectReason::NoAnswer,
            format!(
                "title found but no answer body ({} related block(s))",
                parts.related.len()
            ),
        ));
    }
    let text = parts.body.join("\n");
    let fp = fingerprint(&text, &c.config.dedup);
    let (places, provinces) = c.places.find(&title);
    let mut list_dates: Vec<String> = parts
        .related
        .iter()
        .filter_map(|b| b.date.clone())
        .collect();
    list_dates.sort();
    list_dates.dedup();
    let meta = ArticleMeta {
        encoding: page.encoding.to_string(),
        stripped: parts.stripped_kinds(),
        related: Vec::new(),
        trending: parts.trending.clone(),
        simhash: hex64(fp.primary()),
        duplicates: Vec::new(),
        aliases: Vec::new(),
        compression: compression.map(str::to_string),
        lossy: page.replacements > 0,
        replacements: page.replacements,
        chars: text.chars().count(),
        headings: metadata::headings(&parts.body, c),
        years: metadata::years(&title),
        places,
        provinces,
        tags: c.tags.find(&[&title, &text]),
        dates: metadata::dates(&text),
        list_dates,
        links: metadata::links(&text),
        title,
    };
    Outcome::Article(
        Box::new(ArticleRecord {
            id: id.to_string(),
            text,
            source: source.to_string(),
            metadata: meta,
        }),
        fp,
    )
}
