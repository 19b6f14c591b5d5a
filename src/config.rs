//! What the pipeline does: the profile of a site and the thresholds of every stage.
//!
//! Configuration is plain TOML read with serde (`deny_unknown_fields` everywhere, so a typo
//! is an error, not a silently ignored key). Every numeric default lives once, in the
//! `Default` impls below; every marker and pattern of a site lives in the profile file
//! (`config/default.toml` for the bundled site), never in code.
//!
//! This module is plain data: the serde schema, the defaults, the range checks
//! ([`Config::validate`]) and where a key is in the file ([`locate_key`]). Patterns are
//! compiled by the stage that uses them, gathered once by [`crate::rules::Rules`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub mod parse;

/// The most simhash fingerprints a text can carry (`dedup.fingerprints`).
pub const MAX_FINGERPRINTS: usize = 4;

/// Bins of a text's MinHash signature: `dedup.lsh_bands × dedup.lsh_rows` may use at most
/// this many.
pub const MAX_LSH_BINS: usize = 256;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Which files are read and how they are decoded.
    pub input: InputConfig,
    /// How a page is split into its parts.
    pub profile: ProfileConfig,
    /// Whitespace and punctuation cleanup of the kept text.
    pub clean: CleanConfig,
    /// What is extracted into `metadata`.
    pub metadata: MetadataConfig,
    /// Duplicate detection.
    pub dedup: DedupConfig,
    /// Output options.
    pub output: OutputConfig,
    /// Lines that recur verbatim across many pages (learned boilerplate).
    pub boilerplate: BoilerplateConfig,
    /// How the scan keeps work it has done once.
    pub scan: ScanConfig,
    /// How raw HTML pages become lines.
    pub html: HtmlConfig,
}

/// `[html]`: which parts of an HTML page are not part of its text. Selectors are CSS
/// (`nav`, `.class`, `#id`, `div.ad`); a subtree `drop` matches is left out unless `keep`
/// matches it too. `script`, `style`, `noscript`, `template`, `iframe`, `svg`, `math`,
/// `object` and comments are always left out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HtmlConfig {
    /// Subtrees left out.
    pub drop: Vec<String>,
    /// Subtrees kept even where `drop` matches.
    pub keep: Vec<String>,
}

impl Default for HtmlConfig {
    fn default() -> Self {
        HtmlConfig {
            drop: ["head", "header", "nav", "footer", "aside"]
                .map(String::from)
                .to_vec(),
            keep: Vec::new(),
        }
    }
}

/// Memory the scan spends to avoid repeating work.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScanConfig {
    /// Bytes of line facts (match form, cleaned text, marker) each worker keeps for the
    /// lines of related lists, which repeat across pages; 0 turns the cache off (results
    /// are the same either way).
    pub line_cache_bytes: usize,
}

impl Default for ScanConfig {
    fn default() -> Self {
        ScanConfig {
            line_cache_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Learned boilerplate: lines that recur verbatim across a large share of pages are counted
/// on a deterministic sample of pages and listed in the reports, with the rule (if any)
/// that already strips them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BoilerplateConfig {
    /// At most about this many pages are sampled (chosen by a hash of their path, so the
    /// sample does not depend on thread timing or input order).
    pub sample_pages: usize,
    /// A line is boilerplate when it is on at least this share of sampled pages …
    pub min_share: f64,
    /// … and on at least this many of them.
    pub min_pages: usize,
    /// Longer lines are not counted.
    pub max_line_chars: usize,
    /// At most this many lines are listed.
    pub max_listed: usize,
    /// Strip learned boilerplate lines that the profile leaves in article bodies.
    pub strip: bool,
}

impl Default for BoilerplateConfig {
    fn default() -> Self {
        BoilerplateConfig {
            sample_pages: 5000,
            min_share: 0.05,
            min_pages: 3,
            max_line_chars: 200,
            max_listed: 100,
            strip: false,
        }
    }
}

/// Input selection and decoding limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InputConfig {
    /// Glob patterns (relative to `--input`, `/`-separated) a file must match to be read.
    pub include: Vec<String>,
    /// Glob patterns that exclude a file even if it matches `include`.
    pub exclude: Vec<String>,
    /// Files (after decompression) larger than this are rejected as `too_large`.
    pub max_file_bytes: u64,
    /// Share of replacement characters above which a decoded page is `undecodable`.
    pub max_replacement_ratio: f64,
    /// Share of control characters above which a page is `binary`.
    pub max_control_ratio: f64,
    /// A page not in UTF-8 whose best decoding has fewer plausible text characters (CJK,
    /// ASCII, common punctuation …) than this share is `undecodable` (mojibake).
    pub min_plausible_ratio: f64,
    /// Legacy encodings (WHATWG labels) always tried for a page that is not UTF-8, besides
    /// chardetng's guess: the encodings the site is known to use.
    pub legacy_encodings: Vec<String>,
    /// Whether the scan asks the kernel to drop each input file from its page cache once
    /// the file is read.
    pub evict_after_read: EvictInput,
}

/// `input.evict_after_read`: whether input files leave the page cache once read.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum EvictInput {
    /// When the input is larger than half the machine's memory: it cannot stay cached
    /// anyway, and keeping it would push out the run's spill, which deduplication and the
    /// writer read back.
    #[default]
    Auto,
    /// Always (a nightly job over pages it never reads again).
    Always,
    /// Never (repeated runs over the same input).
    Never,
}

impl Default for InputConfig {
    fn default() -> Self {
        InputConfig {
            include: vec!["**".to_string()],
            exclude: Vec::new(),
            max_file_bytes: 64 * 1024 * 1024,
            max_replacement_ratio: 0.01,
            max_control_ratio: 0.01,
            min_plausible_ratio: 0.8,
            legacy_encodings: vec!["GB18030".to_string()],
            evict_after_read: EvictInput::Auto,
        }
    }
}

/// The layout of one site's pages. Patterns are regexes matched against each line after
/// it is NFKC-normalized (full-width punctuation becomes ASCII, every kind of space a plain
/// space), trimmed, and its inner runs of spaces collapsed to one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileConfig {
    /// A name for the profile, shown in reports.
    pub name: String,
    /// A first line longer than this is not a title (the page is rejected `no_title`).
    pub title_max_chars: usize,
    /// Lines that start a header disclaimer (stripped).
    pub header_disclaimer: Vec<String>,
    /// Lines that start the footer disclaimer; the answer body ends before it.
    pub footer_disclaimer: Vec<String>,
    /// The line that starts the trending-search terms.
    pub trending: Vec<String>,
    /// Trending terms longer than this are not terms: the line goes back to the body.
    pub trending_term_max_chars: usize,
    /// The line that starts the related-recommendation list.
    pub related: Vec<String>,
    /// The line that closes one related block; must have the named groups `category` and
    /// `date`.
    pub related_date: String,
    /// Navigation lines (stripped).
    pub navigation: Vec<String>,
    /// A snippet title is at most this long; two such short lines in a row before a date
    /// line mean the first is a block the site cut off after its title.
    pub snippet_title_max_chars: usize,
    /// Characters that end a complete sentence; a snippet text ending otherwise is marked
    /// `truncated`.
    pub sentence_end: String,
    /// Closing quotes and brackets that may follow a sentence end (`。”`); they are skipped
    /// when looking at how a text ends.
    pub sentence_closers: String,
}

impl Default for ProfileConfig {
    fn default() -> Self {
        ProfileConfig {
            name: "unnamed".to_string(),
            title_max_chars: 200,
            header_disclaimer: Vec::new(),
            footer_disclaimer: Vec::new(),
            trending: Vec::new(),
            trending_term_max_chars: 40,
            related: Vec::new(),
            related_date: String::new(),
            navigation: Vec::new(),
            snippet_title_max_chars: 60,
            sentence_end: "。！？!?.…".to_string(),
            sentence_closers: "”’\"'）)】」』".to_string(),
        }
    }
}

/// Cleanup of kept lines.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CleanConfig {
    /// Spaces directly before any of these characters are removed (`骨科 、` → `骨科、`).
    pub no_space_before: String,
    /// Spaces directly after any of these characters are removed (`( 如` → `(如`).
    pub no_space_after: String,
}

impl Default for CleanConfig {
    fn default() -> Self {
        CleanConfig {
            no_space_before: "，。、；：？！,.;:?!）)】」』”’%".to_string(),
            no_space_after: "（(【「『“‘".to_string(),
        }
    }
}

/// Metadata extraction.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetadataConfig {
    /// Regexes for body lines that are section headings.
    pub heading_patterns: Vec<String>,
    /// A body line at most this long, not ending a sentence and followed by more body, is a
    /// heading too (0 turns this off).
    pub heading_max_chars: usize,
    /// Words a snippet's short answer may start with (`可以`, `不能` …).
    pub answer_words: Vec<String>,
    /// A snippet's leading phrase up to the first space is a short answer if it is at most
    /// this long …
    pub answer_max_chars: usize,
    /// … and shares less than this share of its character bigrams with the title (or starts
    /// with one of `answer_words`). A lead that restates the title is a heading, not an
    /// answer.
    pub answer_max_title_overlap: f64,
    /// … and the words after it restate the question: they hold at least this share of the
    /// title's character bigrams.
    pub answer_min_restatement: f64,
    /// Leads ending with one of these are headings, not answers (`…概览`).
    pub heading_suffixes: Vec<String>,
    /// Province (or other top-level region) → the cities in it, matched in titles.
    pub places: BTreeMap<String, Vec<String>>,
    /// Tag → keywords; a page gets the tag when its title or body holds a keyword.
    pub tags: BTreeMap<String, Vec<String>>,
}

impl Default for MetadataConfig {
    fn default() -> Self {
        MetadataConfig {
            heading_patterns: Vec::new(),
            heading_max_chars: 0,
            answer_words: Vec::new(),
            answer_max_chars: 20,
            answer_max_title_overlap: 0.5,
            answer_min_restatement: 0.25,
            heading_suffixes: Vec::new(),
            places: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }
}

/// A way of proposing candidate pairs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Generator {
    /// MinHash LSH bands over each text's signature: recall independent of length.
    Lsh,
    /// Simhash fingerprints within `max_hamming` (block-permutation index).
    Simhash,
}

/// Which record of a group of duplicates is kept (see `dedup::keep`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum KeepPolicy {
    /// The member most similar to the rest of its group, then the one with fewer decoding
    /// problems, then the first in input order.
    #[default]
    MostCentral,
    /// The longest normalized text, then the first in input order.
    Longest,
    /// The first in input order.
    First,
}

/// Duplicate detection thresholds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Length of the character shingles (n-grams) whose Jaccard similarity verifies a pair.
    pub shingle_chars: usize,
    /// What proposes candidate pairs for verification: `lsh`, `simhash`, or both.
    pub candidates: Vec<Generator>,
    /// LSH: bands of the MinHash signature; a pair sharing any band is a candidate.
    pub lsh_bands: usize,
    /// LSH: signature bins per band (all must agree).
    pub lsh_rows: usize,
    /// A bucket (texts sharing a band or block key) of up to this many texts is enumerated
    /// pair by pair; a larger LSH bucket is split by the signature bins after its band, and
    /// a part still larger after 8 bins (or a large simhash bucket) compares each text with
    /// at most `bucket_leaders` leaders.
    pub max_bucket: usize,
    /// Leaders of an oversized bucket.
    pub bucket_leaders: usize,
    /// Length of the character shingles the simhash fingerprints are computed over (shorter
    /// shingles change fewer features per edited character, so near copies stay closer).
    pub fingerprint_chars: usize,
    /// Independent simhash fingerprints per text (1–4); with the `simhash` generator a pair
    /// is a candidate when any of them is within `max_hamming`. The first is
    /// `metadata.simhash`.
    pub fingerprints: usize,
    /// Fingerprints within this Hamming distance (inclusive) are candidate pairs (`simhash`
    /// generator).
    pub max_hamming: u32,
    /// A candidate pair is a duplicate when the Jaccard similarity of its shingle sets is at
    /// least this (inclusive).
    pub min_similarity: f64,
    /// A candidate pair is verified exactly only when the signature's estimate of its
    /// similarity is at least `min_similarity` minus a margin: this, or 2.5 standard
    /// deviations of the estimate for the pair's shorter text if that is more (1 screens
    /// nothing out; see `dedup::minhash`).
    pub sketch_margin: f64,
    /// Texts with fewer normalized characters than this are only deduplicated exactly.
    pub min_chars_near: usize,
    /// Which record of a group of duplicates is kept.
    pub keep: KeepPolicy,
    /// How texts are normalized before any duplicate decision.
    pub normalize: NormalizeConfig,
}

/// Normalization of texts (and titles, for aliases and links) before duplicate decisions.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NormalizeConfig {
    /// Apply Unicode NFKC (full-width → half-width, compatibility forms folded).
    pub nfkc: bool,
    /// Lower-case letters.
    pub lowercase: bool,
    /// What to drop: `non_alphanumeric` (whitespace, punctuation, symbols), `whitespace`,
    /// or `nothing`.
    pub drop: DropChars,
}

/// Characters dropped by normalization.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DropChars {
    /// Keep only letters and digits.
    NonAlphanumeric,
    /// Drop whitespace only.
    Whitespace,
    /// Keep every character.
    Nothing,
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        NormalizeConfig {
            nfkc: true,
            lowercase: true,
            drop: DropChars::NonAlphanumeric,
        }
    }
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            shingle_chars: 4,
            candidates: vec![Generator::Lsh],
            lsh_bands: 64,
            lsh_rows: 4,
            max_bucket: 16,
            bucket_leaders: 4,
            fingerprint_chars: 2,
            fingerprints: 1,
            max_hamming: 3,
            min_similarity: 0.5,
            sketch_margin: 0.05,
            min_chars_near: 20,
            keep: KeepPolicy::MostCentral,
            normalize: NormalizeConfig::default(),
        }
    }
}

/// Output options.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OutputConfig {
    /// At most this many duplicate clusters are rendered in full in `report.html`.
    pub html_max_clusters: usize,
    /// At most this many members of one cluster are shown side by side with its kept record.
    pub html_max_members: usize,
}

impl Default for OutputConfig {
    fn default() -> Self {
        OutputConfig {
            html_max_clusters: 200,
            html_max_members: 10,
        }
    }
}

/// A configuration problem, naming the key that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// Dotted key (`profile.footer_disclaimer[0]`), or empty when the file itself is bad.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.key, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// The 1-based line of `key` (`profile.footer_disclaimer[1]`, `metadata.places.河北`) in
/// TOML `text`: the line of the key's assignment inside its table, when it can be found.
pub fn locate_key(text: &str, key: &str) -> Option<usize> {
    let path: Vec<&str> = key
        .split('.')
        .map(|p| p.split('[').next().unwrap_or(p))
        .collect();
    let (last, tables) = path.split_last()?;
    let mut table: Vec<String> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(h) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = h
                .split('.')
                .map(|p| p.trim().trim_matches('"').to_string())
                .collect();
            continue;
        }
        let Some((k, _)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim().trim_matches('"');
        if k == *last && table.iter().map(String::as_str).eq(tables.iter().copied()) {
            return Some(i + 1);
        }
    }
    // A whole table (`metadata.places`): its header.
    let header = format!("[{}]", path.join("."));
    text.lines().position(|l| l.trim() == header).map(|i| i + 1)
}

/// The profile bundled into the binary, used when no `--config` is given and
/// `config/default.toml` is not beside the working directory.
pub const BUILTIN_PROFILE: &str = include_str!("../config/default.toml");

impl Config {
    /// Parses TOML text. Errors carry the line and the key, as the toml crate reports them.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError {
            key: String::new(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    /// Checks every value that has a range; all problems are returned at once. Patterns
    /// are checked where they are compiled ([`crate::rules::Rules::compile`]).
    pub fn validate(&self) -> Vec<ConfigError> {
        let mut errors = Vec::new();
        let mut err = |key: &str, message: String| {
            errors.push(ConfigError {
                key: key.to_string(),
                message,
            })
        };
        if self.input.max_file_bytes == 0 {
            err("input.max_file_bytes", "must be greater than 0".into());
        }
        for (key, v) in [
            (
                "input.max_replacement_ratio",
                self.input.max_replacement_ratio,
            ),
            ("input.max_control_ratio", self.input.max_control_ratio),
            ("input.min_plausible_ratio", self.input.min_plausible_ratio),
            (
                "metadata.answer_max_title_overlap",
                self.metadata.answer_max_title_overlap,
            ),
            (
                "metadata.answer_min_restatement",
                self.metadata.answer_min_restatement,
            ),
            ("dedup.min_similarity", self.dedup.min_similarity),
            ("dedup.sketch_margin", self.dedup.sketch_margin),
            ("boilerplate.min_share", self.boilerplate.min_share),
        ] {
            if !(0.0..=1.0).contains(&v) {
                err(key, format!("must be between 0 and 1, got {v}"));
            }
        }
        if self.profile.title_max_chars == 0 {
            err("profile.title_max_chars", "must be greater than 0".into());
        }
        let d = &self.dedup;
        for (key, v) in [
            ("dedup.shingle_chars", d.shingle_chars),
            ("dedup.fingerprint_chars", d.fingerprint_chars),
        ] {
            if v == 0 || v > 32 {
                err(key, format!("must be between 1 and 32, got {v}"));
            }
        }
        if !(1..=MAX_FINGERPRINTS).contains(&d.fingerprints) {
            err(
                "dedup.fingerprints",
                format!(
                    "must be between 1 and {MAX_FINGERPRINTS}, got {}",
                    d.fingerprints
                ),
            );
        }
        if d.max_hamming > 16 {
            err(
                "dedup.max_hamming",
                format!(
                    "must be at most 16 (the index splits 64 bits into max_hamming + 2 blocks), got {}",
                    d.max_hamming
                ),
            );
        }
        if d.candidates.is_empty() {
            err(
                "dedup.candidates",
                "needs at least one of \"lsh\", \"simhash\"".into(),
            );
        }
        if !(1..=8).contains(&d.lsh_rows) {
            err(
                "dedup.lsh_rows",
                format!("must be between 1 and 8, got {}", d.lsh_rows),
            );
        } else if d.lsh_bands == 0 || d.lsh_bands * d.lsh_rows > MAX_LSH_BINS {
            err(
                "dedup.lsh_bands",
                format!(
                    "must be at least 1, and lsh_bands × lsh_rows at most {MAX_LSH_BINS} \
                     (the signature's bins), got {} × {}",
                    d.lsh_bands, d.lsh_rows
                ),
            );
        }
        if d.max_bucket < 2 {
            err(
                "dedup.max_bucket",
                format!("must be at least 2, got {}", d.max_bucket),
            );
        }
        if d.bucket_leaders == 0 {
            err("dedup.bucket_leaders", "must be at least 1".into());
        }
        if self.profile.related_date.is_empty() && !self.profile.related.is_empty() {
            err(
                "profile.related_date",
                "is required when profile.related is set".into(),
            );
        }
        for (province, cities) in &self.metadata.places {
            if province.trim().is_empty() || cities.iter().any(|c| c.trim().is_empty()) {
                err(
                    &format!("metadata.places.{province}"),
                    "place names must not be empty".into(),
                );
            }
        }
        for (tag, words) in &self.metadata.tags {
            if words.is_empty() || words.iter().any(|w| w.trim().is_empty()) {
                err(
                    &format!("metadata.tags.{tag}"),
                    "needs one or more non-empty keywords".into(),
                );
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_parses_and_validates() {
        let c = Config::parse(BUILTIN_PROFILE).unwrap();
        assert!(!c.profile.footer_disclaimer.is_empty());
        assert_eq!(c.validate(), []);
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let e = Config::parse("[input]\nmax_file_byte = 3\n").unwrap_err();
        assert!(e.message.contains("max_file_byte"), "{e}");
        assert!(e.message.contains("line 2"), "{e}");
    }

    #[test]
    fn ranges_are_reported_with_their_keys() {
        let mut c = Config::default();
        c.dedup.min_similarity = 1.5;
        c.dedup.fingerprints = 0;
        c.profile.related = vec!["^x$".into()];
        let keys: Vec<String> = c.validate().into_iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            [
                "dedup.min_similarity",
                "dedup.fingerprints",
                "profile.related_date"
            ]
        );
    }

    #[test]
    fn keys_are_located_in_the_file() {
        let text = "[profile]\nname = \"x\"\nfooter_disclaimer = [\"ok\"]\n\n[dedup]\nmin_similarity = 3.0\n";
        assert_eq!(locate_key(text, "profile.footer_disclaimer[0]"), Some(3));
        assert_eq!(locate_key(text, "dedup.min_similarity"), Some(6));
        assert_eq!(
            locate_key("[metadata.places]\n\"河北\" = []\n", "metadata.places.河北"),
            Some(2)
        );
    }
}
