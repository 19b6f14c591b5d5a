//! The records pagesieve writes, shaped exactly as `CONTRACT.md` says (fields may be added,
//! never renamed). Field order here is the order in the JSON, so output is byte-stable.

use serde::{Deserialize, Serialize};

use crate::config::KeepPolicy;
use crate::dedup::keep::KeptBy;
use crate::dedup::{MatchKind, Proposers};

/// Which kind of record: a full article or a related snippet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    /// A page's answer (`articles.jsonl`).
    Article,
    /// A related block (`snippets.jsonl`).
    Snippet,
}

impl RecordKind {
    /// `article` or `snippet`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Article => "article",
            RecordKind::Snippet => "snippet",
        }
    }
}

/// Why an input file did not yield an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Zero bytes, or only whitespace.
    Empty,
    /// NUL bytes or other control characters: not a text page.
    Binary,
    /// No encoding decodes it well enough, or a compressed stream is corrupt.
    Undecodable,
    /// No first line that can be a title.
    NoTitle,
    /// A title but no answer body.
    NoAnswer,
    /// Larger than `input.max_file_bytes` (after decompression).
    TooLarge,
    /// The file could not be read.
    IoError,
    /// A symlink (or a path that became one) leading outside `--input`: not read unless
    /// `--follow-symlinks`.
    OutsideInput,
    /// Not a regular file: a FIFO, a socket or a device (never opened for reading, so
    /// it cannot block the run), at the walk or when opened.
    NotRegular,
}

impl RejectReason {
    /// Every reason, in report order.
    pub const ALL: [RejectReason; 9] = [
        RejectReason::Empty,
        RejectReason::Binary,
        RejectReason::Undecodable,
        RejectReason::NoTitle,
        RejectReason::NoAnswer,
        RejectReason::TooLarge,
        RejectReason::IoError,
        RejectReason::OutsideInput,
        RejectReason::NotRegular,
    ];

    /// The reason's name as written in `rejects.jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::Empty => "empty",
            RejectReason::Binary => "binary",
            RejectReason::Undecodable => "undecodable",
            RejectReason::NoTitle => "no_title",
            RejectReason::NoAnswer => "no_answer",
            RejectReason::TooLarge => "too_large",
            RejectReason::IoError => "io_error",
            RejectReason::OutsideInput => "outside_input",
            RejectReason::NotRegular => "not_regular",
        }
    }

    /// The reason named `name` (as [`RejectReason::as_str`] writes it).
    pub fn from_name(name: &str) -> Option<RejectReason> {
        RejectReason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// A reason and a human-readable detail; what a scan stage returns instead of a page.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// The reason.
    pub reason: RejectReason,
    /// What exactly was wrong.
    pub detail: String,
}

impl Reject {
    /// Makes a reject.
    pub fn new(reason: RejectReason, detail: impl Into<String>) -> Reject {
        Reject {
            reason,
            detail: detail.into(),
        }
    }
}

/// One line of `rejects.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectRecord {
    /// Path relative to `--input`.
    pub source: String,
    /// The reason.
    pub reason: RejectReason,
    /// What exactly was wrong.
    pub detail: String,
    /// The page id the file would have had (snippets it carried list it in `seen_in`).
    pub id: String,
    /// The title, when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// How many related snippets the page carried (they are kept as snippet records).
    pub snippets: usize,
}

/// One line of `articles.jsonl`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArticleRecord {
    /// Stable id derived from `source`.
    pub id: String,
    /// The clean answer body, lines joined with `\n`.
    pub text: String,
    /// Path relative to `--input`.
    pub source: String,
    /// Everything else.
    pub metadata: ArticleMeta,
}

/// `metadata` of an article.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ArticleMeta {
    /// The question (first non-empty line).
    pub title: String,
    /// How the file was decoded.
    pub encoding: String,
    /// Which boilerplate parts were found and removed.
    pub stripped: Vec<String>,
    /// Ids of the snippets of the page's related blocks, one per block, in page order
    /// (an id repeats when two blocks resolve to one snippet record).
    pub related: Vec<String>,
    /// Trending search terms.
    pub trending: Vec<String>,
    /// 64-bit simhash of the normalized text, 16 lowercase hex digits.
    pub simhash: String,
    /// Ids of articles dropped as duplicates of this one.
    pub duplicates: Vec<String>,
    /// Titles of those duplicates that differ from this title.
    pub aliases: Vec<String>,
    /// `gzip` or `zstd` when the file was compressed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Whether decoding replaced unreadable bytes with U+FFFD (count in `replacements`).
    pub lossy: bool,
    /// Number of replacement characters.
    pub replacements: usize,
    /// Length of `text` in characters.
    pub chars: usize,
    /// Section headings of the body, in order.
    pub headings: Vec<String>,
    /// Years named in the title.
    pub years: Vec<u16>,
    /// Cities or regions named in the title.
    pub places: Vec<String>,
    /// Provinces of those places.
    pub provinces: Vec<String>,
    /// Tags whose keywords appear in the title or body.
    pub tags: Vec<String>,
    /// Calendar dates named in the body, ISO (`2024-09-01`, or `2024-09` for a month).
    pub dates: Vec<String>,
    /// Distinct dates of the page's related blocks (when the site listed them).
    pub list_dates: Vec<String>,
    /// URLs and e-mail addresses in the body.
    pub links: Vec<String>,
    /// The page's canonical URL (`<link rel=canonical>` or `og:url`), for an HTML page
    /// that names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One line of `snippets.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnippetRecord {
    /// Stable id derived from the snippet's title and text.
    pub id: String,
    /// The snippet text as the site showed it (often cut off).
    pub text: String,
    /// The first page (in input order) it was seen on.
    pub source: String,
    /// Everything else.
    pub metadata: SnippetMeta,
}

/// `metadata` of a snippet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnippetMeta {
    /// The snippet's title line.
    pub title: String,
    /// The category of its date line (`健康新闻`), empty when the block had none.
    pub category: String,
    /// The date of its date line, ISO, or null when the block had none.
    pub date: Option<String>,
    /// Whether the site cut the block off: its text does not end a sentence, or the block
    /// lacks its text or its date line.
    pub truncated: bool,
    /// Ids of the pages that carried it and yielded an article, in input order: each is in
    /// `articles.jsonl`, or in `dropped.jsonl` when the page was dropped as a duplicate.
    pub seen_in: Vec<String>,
    /// Ids of the pages that carried it but were rejected (in `rejects.jsonl`).
    pub seen_in_rejected: Vec<String>,
    /// 64-bit simhash of the normalized text.
    pub simhash: String,
    /// Ids of snippets dropped as duplicates of this one.
    pub duplicates: Vec<String>,
    /// Titles of those duplicates that differ from this title.
    pub aliases: Vec<String>,
    /// Id of the full article with this title, if the corpus has one.
    pub article: Option<String>,
    /// The short answer the text leads with (`可以`, `3个月` …), if any.
    pub answer: Option<String>,
    /// How many times it appeared, over all pages.
    pub occurrences: usize,
    /// The link of the block's title (`<a href>`, resolved against the page's canonical
    /// URL), when the first page it was seen on is HTML and has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// One line of `dropped.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DroppedRecord {
    /// Id of the dropped record.
    pub id: String,
    /// `article` or `snippet`.
    pub kind: RecordKind,
    /// Its source.
    pub source: String,
    /// Its title.
    pub title: String,
    /// Its text, so nothing is lost.
    pub text: String,
    /// Id of the kept record it duplicates.
    pub duplicate_of: String,
    /// `exact` or `near`.
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// Hamming distance of the two primary fingerprints (`metadata.simhash`).
    pub hamming: u32,
    /// Jaccard similarity of the two shingle sets.
    pub similarity: f64,
    /// Hamming distance of each fingerprint (`dedup.fingerprints` of them).
    pub hammings: Vec<u32>,
    /// What proposed the pair for verification: `exact`, `lsh`, `simhash`, or `component`
    /// (verified against the kept record because both were in one component of
    /// candidate pairs).
    pub proposed_by: Proposers,
    /// Why the other record was kept instead of this one: `most_central`,
    /// `fewer_replacements`, `longest`, `first_in_input` (see `dedup.keep`) or
    /// `earlier_run`.
    pub kept_by: KeptBy,
    /// Where the kept record is when an earlier run wrote it (`run --against`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<EarlierRef>,
}

/// Where a record written by an earlier run is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierRef {
    /// That run's output folder.
    pub output: String,
    /// The file in it (`articles.jsonl` or `snippets.jsonl`).
    pub file: String,
    /// Byte offset of the record's line in that file.
    pub offset: u64,
    /// When that run started, UTC.
    pub started: String,
}

/// One line of `seen_again.jsonl`: a snippet an earlier run wrote, seen again tonight (the
/// same title and text), so not written again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeenAgainRecord {
    /// The snippet's id (the earlier record's).
    pub id: String,
    /// Where the earlier record is.
    pub earlier: EarlierRef,
    /// Tonight's article pages that carried it.
    pub seen_in: Vec<String>,
    /// Tonight's rejected pages that carried it.
    pub seen_in_rejected: Vec<String>,
    /// Its occurrences on tonight's pages.
    pub occurrences: usize,
}

/// One member of a duplicate cluster.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterMember {
    /// Record id.
    pub id: String,
    /// Its source.
    pub source: String,
    /// Its title.
    pub title: String,
    /// `exact` or `near` (the kept member says `exact` with itself).
    #[serde(rename = "match")]
    pub match_kind: MatchKind,
    /// Hamming distance to the kept record (primary fingerprints).
    pub hamming: u32,
    /// Jaccard similarity to the kept record.
    pub similarity: f64,
    /// Hamming distance of each fingerprint to the kept record's.
    pub hammings: Vec<u32>,
    /// What proposed the pair (the kept member says `exact` with itself).
    pub proposed_by: Proposers,
    /// Why the kept record was kept instead of this one (absent on the kept member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kept_by: Option<KeptBy>,
    /// Where the record is when an earlier run wrote it (only ever the kept member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier: Option<EarlierRef>,
}

/// One line of `duplicates.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterRecord {
    /// Cluster id (derived from the kept record's id).
    pub cluster: String,
    /// `article` or `snippet`.
    pub kind: RecordKind,
    /// Id of the kept record.
    pub kept: String,
    /// The policy that chose it (`dedup.keep`).
    pub keep: KeepPolicy,
    /// Every member, the kept one first.
    pub members: Vec<ClusterMember>,
}

/// An article's `metadata.related` from the ids of its related blocks: one entry per
/// block, in page order (two blocks that resolve to one snippet record give its id twice).
/// `run` and `explain` both build the list here.
pub fn related_list<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    ids.into_iter().map(str::to_string).collect()
}

/// Formats a 64-bit fingerprint as 16 lowercase hex digits.
pub fn hex64(v: u64) -> String {
    let mut s = String::with_capacity(16);
    push_hex(&mut s, u128::from(v), 16);
    s
}

/// Appends the low `digits` hex digits of `v`, lowercase and zero-padded: what `{:0Nx}`
/// writes, without the formatting machinery (an id is written for every page a snippet
/// was seen on, thousands per snippet; `format!` is the oracle in a test).
fn push_hex(s: &mut String, v: u128, digits: u32) {
    s.extend(hex_digits(v, digits).map(char::from));
}

/// The low `digits` hex digits of `v`, lowercase, most significant first (ASCII bytes).
fn hex_digits(v: u128, digits: u32) -> impl Iterator<Item = u8> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    (0..digits)
        .rev()
        .map(move |i| HEX[((v >> (4 * i)) & 0xF) as usize])
}

/// The id of the related snippet whose title-and-text key is `key` (xxh3-128 of title,
/// U+001F, text), before collision suffixes.
pub fn snippet_id(key: u128) -> String {
    format!("s-{}", hex64(key as u64 ^ (key >> 64) as u64))
}

/// What a page's id is made from: xxh3-128 of its source path, a NUL byte and its content
/// (the file's bytes after decompression, before decoding), or of the path alone for a
/// file that was never read (`too_large`, `io_error`, `outside_input`, `not_regular`).
/// A path holds no NUL, so the two kinds cannot meet. It depends on the page alone: the
/// same night run alone or against earlier nights gives the same keys, and a page saved
/// again under the same name with other bytes gets another.
pub fn page_key(source: &str, content: Option<&[u8]>) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(source.as_bytes());
    if let Some(bytes) = content {
        h.update(&[0]);
        h.update(bytes);
    }
    h.digest128()
}

/// The id of the page whose [`page_key`] is `key`: `a-` and 32 lowercase hex digits (all
/// 128 bits: at a year of nightly millions of pages, 64 bits would give a shared id between
/// two different pages odds of one in tens of thousands).
pub fn page_id(key: u128) -> String {
    let mut s = String::with_capacity(34);
    s.push_str("a-");
    push_hex(&mut s, key, 32);
    s
}

/// Appends the JSON string of [`page_id`]`(key)` to `out` (`"a-…"`: ASCII, nothing to
/// escape), with no `String` made for it: a snippet's record lists the id of every page
/// it was seen on, thousands of them for a snippet a site repeats.
pub fn push_page_id_json(out: &mut Vec<u8>, key: u128) {
    out.extend_from_slice(b"\"a-");
    out.extend(hex_digits(key, 32));
    out.push(b'"');
}

/// xxh3-64 of a title in dedup's normalized form: titles equal under it link a snippet to
/// an article (and the index finds an article by it).
pub fn title_key(title: &str, normalize: &crate::config::NormalizeConfig) -> u64 {
    xxhash_rust::xxh3::xxh3_64(crate::dedup::shingle::normalize_with(title, normalize).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_id_written_as_json_is_serde_jsons() {
        for key in [
            0u128,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_fedc_ba98_7654_3210,
        ] {
            let mut out = Vec::new();
            push_page_id_json(&mut out, key);
            assert_eq!(out, serde_json::to_vec(&page_id(key)).unwrap());
        }
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let id = |source: &str, content: Option<&[u8]>| page_id(page_key(source, content));
        assert_eq!(id("a/b.txt", Some(b"x")), id("a/b.txt", Some(b"x")));
        // Another path, other bytes under the same path, or a file never read: other ids.
        assert_ne!(id("a/b.txt", Some(b"x")), id("a/c.txt", Some(b"x")));
        assert_ne!(id("a/b.txt", Some(b"x")), id("a/b.txt", Some(b"y")));
        assert_ne!(id("a/b.txt", Some(b"")), id("a/b.txt", None));
        // The path and the content do not run into each other.
        assert_ne!(id("ab", Some(b"c")), id("a", Some(b"bc")));
        assert_eq!(id("x", None).len(), 34);
    }

    /// Ids and fingerprints are what the format strings write.
    #[test]
    fn hex_is_what_format_writes() {
        let mut rng = crate::synth::Rng::new(6);
        let mut keys: Vec<u128> = vec![0, 1, u128::MAX, 0xF << 124, 0xabc];
        keys.extend(
            (0..1000).map(|_| u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())),
        );
        for k in keys {
            assert_eq!(page_id(k), format!("a-{k:032x}"));
            let v = k as u64;
            assert_eq!(hex64(v), format!("{v:016x}"));
        }
    }

    #[test]
    fn related_list_keeps_page_order_once_each() {
        assert_eq!(related_list(["s-2", "s-1", "s-2"]), ["s-2", "s-1", "s-2"]);
    }

    #[test]
    fn reason_names_match_serde() {
        for r in RejectReason::ALL {
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
        }
    }
}
