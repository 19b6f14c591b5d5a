//! Phase 1 for one file: bytes → decoded page → parts → one article (or a reject) and its
//! snippet occurrences, with fingerprints.
//!
//! Pure with respect to everything but the one file it reads, so it runs on any number of
//! threads (or machines) and its result depends on the file and the rules alone. `run`,
//! `explain` and the fuzz target all go through [`scan_bytes`] or its two halves,
//! [`read_parts`] and [`assemble`].

use std::time::{Duration, Instant};

use xxhash_rust::xxh3::xxh3_128;

use crate::dedup::{fingerprint, Fingerprinted};
use crate::ingest::{decode, read_file, DecodedPage, InputFile, RawFile};
use crate::page::line_cache::{self, BlockFacts};
use crate::page::metadata;
use crate::page::segment::{segment_keeping_facts, PageFacts};
use crate::page::{segment, LineKind, PageParts, SnippetBlock, StripSet};
use crate::record::{hex64, page_id, page_key, ArticleMeta, ArticleRecord, Reject, RejectReason};
use crate::rules::Rules;
use crate::text::{char_len, match_form};

/// One related-block occurrence on one page.
#[derive(Debug, Clone)]
pub struct SnippetOccurrence {
    /// xxh3-128 of title + U+001F + text: identical blocks share it.
    pub key: u128,
    /// The block.
    pub block: SnippetBlock,
    /// The short answer its text leads with.
    pub answer: Option<String>,
    /// The site cut the block off: its text does not end a sentence, or it lacks its text
    /// or date line.
    pub truncated: bool,
    /// The link of its title line, on an HTML page.
    pub url: Option<String>,
}

/// One distinct line of a sampled page, counted for learned boilerplate.
#[derive(Debug, Clone)]
pub struct LineSample {
    /// [`boilerplate_key`] of the line.
    pub hash: u64,
    /// Where the segmenter put it.
    pub kind: LineKind,
    /// The line as cleaned (the segmenter's, shared).
    pub text: std::sync::Arc<str>,
}

/// The form of a line that learned boilerplate counts: cleaned, then in match form, hashed.
pub fn boilerplate_key(cleaned: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(match_form(cleaned).as_bytes())
}

/// What phase 1 produced for one file. (The fingerprint is not boxed: nearly every page
/// is an article.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum Outcome {
    /// A page with a title and a body.
    Article(Box<ArticleRecord>, Fingerprinted),
    /// A file that did not yield an article.
    Reject(Reject),
}

/// CPU time one page spent in each stage of phase 1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanCpu {
    /// Reading and decompressing.
    pub read: Duration,
    /// Decoding.
    pub decode: Duration,
    /// Segmentation, cleanup, metadata and fingerprints.
    pub segment: Duration,
}

impl std::ops::AddAssign for ScanCpu {
    fn add_assign(&mut self, o: ScanCpu) {
        self.read += o.read;
        self.decode += o.decode;
        self.segment += o.segment;
    }
}

/// Phase 1's result for one file.
#[derive(Debug, Clone)]
pub struct ScannedPage {
    /// Path relative to `--input`.
    pub source: String,
    /// The page id ([`page_id`] of `key`).
    pub id: String,
    /// What the id is made from ([`page_key`]: the source and the bytes read).
    pub key: u128,
    /// Read as HTML.
    pub html: bool,
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
    pub stripped: StripSet,
    /// Time spent per stage.
    pub cpu: ScanCpu,
    /// Distinct lines, when the page is in the learned-boilerplate sample.
    pub lines: Vec<LineSample>,
}

/// Reads, decodes and segments one file.
pub fn scan_file(file: &InputFile, rules: &Rules) -> ScannedPage {
    scan_file_sampled(file, rules, false)
}

/// Like [`scan_file`]; when `sample` is set, also returns the page's distinct lines for
/// learned boilerplate.
///
/// A page whose scan panics (a bug, never expected) becomes an `io_error` reject naming
/// the panic, so one page cannot stop a run or be lost.
pub fn scan_file_sampled(file: &InputFile, rules: &Rules, sample: bool) -> ScannedPage {
    let scan = std::panic::AssertUnwindSafe(|| scan_unguarded(file, rules, sample));
    std::panic::catch_unwind(scan).unwrap_or_else(|panic| panicked(&file.source, panic))
}

/// The reject of a page whose scan panicked.
fn panicked(source: &str, panic: Box<dyn std::any::Any + Send>) -> ScannedPage {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    rejected(
        source,
        Reject::new(
            RejectReason::IoError,
            format!("internal error while scanning this page (a pagesieve bug): {msg}"),
        ),
    )
}

fn scan_unguarded(file: &InputFile, rules: &Rules, sample: bool) -> ScannedPage {
    let t0 = Instant::now();
    let raw = read_file(file, &rules.input);
    let read = t0.elapsed();
    let mut result = match raw {
        Ok(raw) => scan_bytes(&file.source, raw, rules, sample),
        Err(rej) => rejected(&file.source, rej),
    };
    result.cpu.read = read;
    result
}

/// Scans one page given as bytes (named `source`: a `.gz` / `.zst` name is decompressed),
/// exactly as [`scan_file`] scans a file with that content; what the Python package's
/// `scan_page` calls.
pub fn scan_data(source: &str, data: &[u8], rules: &Rules) -> ScannedPage {
    let scan = std::panic::AssertUnwindSafe(|| {
        match crate::ingest::read_bytes(source, data, rules.input.config.max_file_bytes) {
            Ok(raw) => scan_bytes(source, raw, rules, false),
            Err(rej) => rejected(source, rej),
        }
    });
    std::panic::catch_unwind(scan).unwrap_or_else(|panic| panicked(source, panic))
}

/// Decodes, segments and extracts one page already in memory (what the fuzz target drives).
pub fn scan_bytes(source: &str, raw: RawFile, rules: &Rules, sample: bool) -> ScannedPage {
    let t1 = Instant::now();
    let key = page_key(source, Some(&raw.bytes));
    let page = match decode(&raw.bytes, &rules.input) {
        Ok(p) => p,
        Err(rej) => return ScannedPage::rejected(source, key, rej),
    };
    drop(raw.bytes);
    let t2 = Instant::now();
    let (parts, facts) = match sample {
        true => {
            let (parts, facts) = segment_keeping_facts(&page.text, &rules.segment);
            (parts, Some(facts))
        }
        false => (segment(&page.text, &rules.segment), None),
    };
    let read = ReadPage {
        source,
        key,
        compression: raw.compression,
    };
    let mut result = assemble(&read, &page, parts, rules, facts.as_ref());
    result.cpu.decode = t2 - t1;
    result.cpu.segment = t2.elapsed();
    result
}

/// Reads, decodes and segments one file, keeping the decoded text and every line's label
/// (what `explain` shows); a file that cannot be read or decoded is a reject.
pub fn read_parts(
    file: &InputFile,
    rules: &Rules,
) -> Result<(RawFile, DecodedPage, PageParts), Reject> {
    let raw = read_file(file, &rules.input)?;
    let page = decode(&raw.bytes, &rules.input)?;
    let parts = segment(&page.text, &rules.segment);
    Ok((raw, page, parts))
}

/// A file that was never read (its id comes from its path alone).
fn rejected(source: &str, rej: Reject) -> ScannedPage {
    ScannedPage::rejected(source, page_key(source, None), rej)
}

/// What [`assemble`] is told of the file a page was read from.
#[derive(Debug, Clone, Copy)]
pub struct ReadPage<'a> {
    /// Path relative to `--input`.
    pub source: &'a str,
    /// [`page_key`] of the path and the bytes read.
    pub key: u128,
    /// `gzip` or `zstd` when the file was compressed.
    pub compression: Option<&'static str>,
}

impl ScannedPage {
    /// A page that did not get past reading or decoding.
    fn rejected(source: &str, key: u128, rej: Reject) -> ScannedPage {
        ScannedPage {
            source: source.to_string(),
            id: page_id(key),
            key,
            html: false,
            outcome: Outcome::Reject(rej),
            title: None,
            snippets: Vec::new(),
            encoding: None,
            compression: None,
            stripped: StripSet::default(),
            cpu: ScanCpu::default(),
            lines: Vec::new(),
        }
    }
}

/// The records of a decoded, segmented page: its article (or why there is none), its
/// snippet occurrences and, when `sample` is set, its lines for learned boilerplate.
pub fn assemble(
    read: &ReadPage<'_>,
    page: &DecodedPage,
    mut parts: PageParts,
    rules: &Rules,
    sample: Option<&PageFacts>,
) -> ScannedPage {
    let (source, compression) = (read.source, read.compression);
    let id = page_id(read.key);
    let outcome = build_article(&id, source, &parts, page, compression, rules);
    let lines = match sample {
        Some(facts) => sample_lines(&page.text, &parts, facts, rules),
        None => Vec::new(),
    };
    // The related blocks move into their occurrences (the page's parts end here).
    let urls: Vec<Option<String>> = (0..parts.related.len())
        .map(|i| block_url(page, &parts, i))
        .collect();
    let snippets = std::mem::take(&mut parts.related)
        .into_iter()
        .zip(urls)
        .map(|(b, url)| occurrence(b, url, rules))
        .collect();
    ScannedPage {
        source: source.to_string(),
        outcome,
        id,
        key: read.key,
        html: page.html.is_some(),
        stripped: parts.stripped.kinds(),
        title: parts.title,
        snippets,
        encoding: Some(page.encoding),
        compression,
        cpu: ScanCpu::default(),
        lines,
    }
}

fn sample_lines(
    text: &str,
    parts: &PageParts,
    facts: &PageFacts,
    rules: &Rules,
) -> Vec<LineSample> {
    let lines: Vec<&str> = crate::text::lines(text).collect();
    let max = rules.config.boilerplate.max_line_chars;
    let mut out: Vec<LineSample> = Vec::new();
    let mut seen = crate::prehashed::HashedSet::default();
    for l in &parts.labels {
        let Some(raw) = lines.get(l.line - 1) else {
            continue;
        };
        // The segmenter's facts of the line (computed again only for a line it did not
        // look at).
        let f = match facts.get(l.line - 1) {
            Some(Some(f)) => f.clone(),
            _ => rules.segment.cached_facts(raw, false),
        };
        if f.cleaned.is_empty() || char_len(&f.cleaned) > max {
            continue;
        }
        let hash = f.boilerplate_key();
        if seen.insert(hash) {
            out.push(LineSample {
                hash,
                kind: l.part.kind(),
                text: f.cleaned.clone(),
            });
        }
    }
    out
}

fn occurrence(block: SnippetBlock, url: Option<String>, rules: &Rules) -> SnippetOccurrence {
    let mut key_src = String::with_capacity(block.title.len() + block.text.len() + 1);
    key_src.push_str(&block.title);
    key_src.push('\u{1f}');
    key_src.push_str(&block.text);
    let key = xxh3_128(key_src.as_bytes());
    // A block repeats across thousands of pages: what its text gives is remembered.
    let facts = line_cache::block_facts(
        key,
        &key_src,
        rules.metadata.id,
        rules.segment.cache_bytes,
        || BlockFacts {
            answer: metadata::short_answer(&block.title, &block.text, &rules.metadata),
            ends_sentence: rules.segment.sentences.ends(&block.text),
        },
    );
    SnippetOccurrence {
        key,
        answer: facts.answer.clone(),
        truncated: !block.complete || !facts.ends_sentence,
        block,
        url,
    }
}

/// The link on the title line of related block `i`, on an HTML page.
fn block_url(page: &DecodedPage, parts: &PageParts, i: usize) -> Option<String> {
    let html = page.html.as_ref()?;
    let line = parts
        .labels
        .iter()
        .find(|l| l.part == crate::page::Part::RelatedTitle(i))?
        .line;
    html.links.get(line - 1)?.clone()
}

fn build_article(
    id: &str,
    source: &str,
    parts: &PageParts,
    page: &DecodedPage,
    compression: Option<&'static str>,
    rules: &Rules,
) -> Outcome {
    let Some(title) = parts.title.clone() else {
        return Outcome::Reject(Reject::new(
            RejectReason::NoTitle,
            format!(
                "no first line of at most {} characters that is not boilerplate \
                 (profile.title_max_chars)",
                rules.segment.title_max_chars
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
    let fp = fingerprint(&text, &rules.dedup);
    let m = &rules.metadata;
    let (places, provinces) = m.places.find(&title);
    let mut list_dates: Vec<String> = parts
        .related
        .iter()
        .filter_map(|b| b.date.clone())
        .collect();
    list_dates.sort();
    list_dates.dedup();
    let meta = ArticleMeta {
        encoding: page.encoding.to_string(),
        stripped: parts.stripped.kinds().names(),
        related: Vec::new(),
        trending: parts.trending.clone(),
        simhash: hex64(fp.fp.primary()),
        duplicates: Vec::new(),
        aliases: Vec::new(),
        compression: compression.map(str::to_string),
        lossy: page.replacements > 0,
        replacements: page.replacements,
        chars: text.chars().count(),
        headings: metadata::headings(&parts.body, m),
        years: metadata::years(&title),
        places,
        provinces,
        tags: m.tags.find(&[&title, &text]),
        dates: metadata::dates(&text),
        list_dates,
        links: metadata::links(&text),
        url: page.html.as_ref().and_then(|h| h.canonical.clone()),
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
