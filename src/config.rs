//! What the pipeline does: the profile of a site and the thresholds of every stage.
//!
//! Configuration is plain TOML read with serde (`deny_unknown_fields` everywhere, so a typo
//! is an error, not a silently ignored key). Every numeric default lives once, in the
//! `Default` impls below; every marker and pattern of a site lives in the profile file
//! (`config/default.toml` for the bundled site), never in code.
//!
//! [`load_and_compile`] reads, parses and validates ([`Config::compile`] compiles the regexes) once,
//! before any worker starts; problems are reported with the key that holds them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use regex::Regex;
use serde::{Deserialize, Serialize};

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

impl ProfileConfig {
    /// Whether `s` ends a sentence (a `sentence_end` character, possibly followed by
    /// `sentence_closers`).
    pub fn ends_sentence(&self, s: &str) -> bool {
        s.trim_end()
            .trim_end_matches(|c| self.sentence_closers.contains(c))
            .chars()
            .last()
            .is_some_and(|c| self.sentence_end.contains(c))
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

/// Duplicate detection thresholds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DedupConfig {
    /// Length of the character shingles (n-grams) whose Jaccard similarity verifies a pair.
    pub shingle_chars: usize,
    /// Length of the character shingles the simhash fingerprints are computed over (shorter
    /// shingles change fewer features per edited character, so near copies stay closer).
    pub fingerprint_chars: usize,
    /// Independent simhash fingerprints per text (1–4); a pair is a candidate when any of
    /// them is within `max_hamming`.
    pub fingerprints: usize,
    /// Fingerprints within this Hamming distance (inclusive) are candidate pairs.
    pub max_hamming: u32,
    /// A candidate pair is a duplicate when the Jaccard similarity of its shingle sets is at
    /// least this (inclusive).
    pub min_similarity: f64,
    /// A candidate pair is verified exactly only when the sketch estimate of its similarity
    /// is at least `min_similarity − sketch_margin` (1 screens nothing out; see
    /// `dedup::sketch`).
    pub sketch_margin: f64,
    /// Texts with fewer normalized characters than this are only deduplicated exactly.
    pub min_chars_near: usize,
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
            fingerprint_chars: 2,
            fingerprints: 4,
            max_hamming: 3,
            min_similarity: 0.5,
            sketch_margin: 0.05,
            min_chars_near: 20,
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

/// Loads, parses and validates a config file; every problem is reported with its key and,
/// where it can be found, its line.
pub fn load_and_compile(path: &Path) -> Result<Compiled, Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("cannot read config file {}: {e}", path.display())])?;
    compile_text(&text, &path.display().to_string())
}

/// Parses and validates config text; `name` is how the file is named in messages.
pub fn compile_text(text: &str, name: &str) -> Result<Compiled, Vec<String>> {
    let config = Config::parse(text).map_err(|e| vec![format!("{name}: {}", e.message)])?;
    config.compile().map_err(|errs| {
        errs.iter()
            .map(|e| match locate_key(text, &e.key) {
                Some(line) => format!("{name}:{line}: {e}"),
                None => format!("{name}: {e}"),
            })
            .collect()
    })
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

    /// Validates every value and compiles every pattern; all problems are returned at once.
    pub fn compile(&self) -> Result<Compiled, Vec<ConfigError>> {
        compile(self)
    }
}

/// A configuration validated and ready to share by reference between workers.
#[derive(Debug)]
pub struct Compiled {
    /// The configuration it was built from.
    pub config: Config,
    /// Include globs.
    pub include: globset::GlobSet,
    /// Exclude globs.
    pub exclude: globset::GlobSet,
    /// Header disclaimer patterns.
    pub header: Vec<Regex>,
    /// Footer disclaimer patterns.
    pub footer: Vec<Regex>,
    /// Trending marker patterns.
    pub trending: Vec<Regex>,
    /// Related marker patterns.
    pub related: Vec<Regex>,
    /// Related block date line.
    pub related_date: Option<Regex>,
    /// Navigation patterns.
    pub navigation: Vec<Regex>,
    /// Heading patterns.
    pub headings: Vec<Regex>,
    /// Place names (city or province) → their province, longest names first.
    pub places: crate::page::metadata::PlaceMatcher,
    /// Tag keyword matcher.
    pub tags: crate::page::metadata::TagMatcher,
    /// `input.legacy_encodings`, resolved.
    pub legacy_encodings: Vec<&'static encoding_rs::Encoding>,
}

fn compile(config: &Config) -> Result<Compiled, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut err = |key: String, message: String| errors.push(ConfigError { key, message });

    let input = &config.input;
    if input.max_file_bytes == 0 {
        err(
            "input.max_file_bytes".into(),
            "must be greater than 0".into(),
        );
    }
    for (key, v) in [
        ("input.max_replacement_ratio", input.max_replacement_ratio),
        ("input.max_control_ratio", input.max_control_ratio),
        ("input.min_plausible_ratio", input.min_plausible_ratio),
        (
            "metadata.answer_max_title_overlap",
            config.metadata.answer_max_title_overlap,
        ),
        (
            "metadata.answer_min_restatement",
            config.metadata.answer_min_restatement,
        ),
        ("dedup.min_similarity", config.dedup.min_similarity),
        ("dedup.sketch_margin", config.dedup.sketch_margin),
        ("boilerplate.min_share", config.boilerplate.min_share),
    ] {
        if !(0.0..=1.0).contains(&v) {
            err(key.into(), format!("must be between 0 and 1, got {v}"));
        }
    }
    let mut legacy_encodings = Vec::new();
    for (i, label) in input.legacy_encodings.iter().enumerate() {
        match encoding_rs::Encoding::for_label(label.as_bytes()) {
            Some(e) => legacy_encodings.push(e),
            None => err(
                format!("input.legacy_encodings[{i}]"),
                format!("unknown encoding {label:?} (use a WHATWG label such as \"GB18030\")"),
            ),
        }
    }
    let p = &config.profile;
    if p.title_max_chars == 0 {
        err(
            "profile.title_max_chars".into(),
            "must be greater than 0".into(),
        );
    }
    if config.dedup.shingle_chars == 0 || config.dedup.shingle_chars > 32 {
        err(
            "dedup.shingle_chars".into(),
            format!(
                "must be between 1 and 32, got {}",
                config.dedup.shingle_chars
            ),
        );
    }
    if config.dedup.fingerprint_chars == 0 || config.dedup.fingerprint_chars > 32 {
        err(
            "dedup.fingerprint_chars".into(),
            format!(
                "must be between 1 and 32, got {}",
                config.dedup.fingerprint_chars
            ),
        );
    }
    let max_fp = crate::dedup::fingerprint::MAX_FINGERPRINTS;
    if !(1..=max_fp).contains(&config.dedup.fingerprints) {
        err(
            "dedup.fingerprints".into(),
            format!(
                "must be between 1 and {max_fp}, got {}",
                config.dedup.fingerprints
            ),
        );
    }
    if config.dedup.max_hamming > 16 {
        err(
            "dedup.max_hamming".into(),
            format!(
                "must be at most 16 (the index splits 64 bits into max_hamming + 2 blocks), got {}",
                config.dedup.max_hamming
            ),
        );
    }

    let globs = |key: &str, pats: &[String], errs: &mut Vec<ConfigError>| {
        let mut b = globset::GlobSetBuilder::new();
        for (i, pat) in pats.iter().enumerate() {
            match globset::GlobBuilder::new(pat)
                .literal_separator(true)
                .build()
            {
                Ok(g) => {
                    b.add(g);
                }
                Err(e) => errs.push(ConfigError {
                    key: format!("{key}[{i}]"),
                    message: format!("invalid glob {pat:?}: {e}"),
                }),
            }
        }
        b.build().unwrap_or_else(|_| globset::GlobSet::empty())
    };
    let regexes = |key: &str, pats: &[String], errs: &mut Vec<ConfigError>| -> Vec<Regex> {
        pats.iter()
            .enumerate()
            .filter_map(|(i, pat)| match Regex::new(pat) {
                Ok(r) => Some(r),
                Err(e) => {
                    errs.push(ConfigError {
                        key: format!("{key}[{i}]"),
                        message: format!("invalid regex {pat:?}: {e}"),
                    });
                    None
                }
            })
            .collect()
    };

    let include = globs("input.include", &input.include, &mut errors);
    let exclude = globs("input.exclude", &input.exclude, &mut errors);
    let header = regexes(
        "profile.header_disclaimer",
        &p.header_disclaimer,
        &mut errors,
    );
    let footer = regexes(
        "profile.footer_disclaimer",
        &p.footer_disclaimer,
        &mut errors,
    );
    let trending = regexes("profile.trending", &p.trending, &mut errors);
    let related = regexes("profile.related", &p.related, &mut errors);
    let navigation = regexes("profile.navigation", &p.navigation, &mut errors);
    let headings = regexes(
        "metadata.heading_patterns",
        &config.metadata.heading_patterns,
        &mut errors,
    );
    let related_date = if p.related_date.is_empty() {
        if !p.related.is_empty() {
            errors.push(ConfigError {
                key: "profile.related_date".into(),
                message: "is required when profile.related is set".into(),
            });
        }
        None
    } else {
        match Regex::new(&p.related_date) {
            Ok(r) => {
                let names: Vec<&str> = r.capture_names().flatten().collect();
                for need in ["category", "date"] {
                    if !names.contains(&need) {
                        errors.push(ConfigError {
                            key: "profile.related_date".into(),
                            message: format!("needs a named group (?P<{need}>…)"),
                        });
                    }
                }
                Some(r)
            }
            Err(e) => {
                errors.push(ConfigError {
                    key: "profile.related_date".into(),
                    message: format!("invalid regex: {e}"),
                });
                None
            }
        }
    };
    for (province, cities) in &config.metadata.places {
        if province.trim().is_empty() || cities.iter().any(|c| c.trim().is_empty()) {
            errors.push(ConfigError {
                key: format!("metadata.places.{province}"),
                message: "place names must not be empty".into(),
            });
        }
    }
    for (tag, words) in &config.metadata.tags {
        if words.is_empty() || words.iter().any(|w| w.trim().is_empty()) {
            errors.push(ConfigError {
                key: format!("metadata.tags.{tag}"),
                message: "needs one or more non-empty keywords".into(),
            });
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Compiled {
        places: crate::page::metadata::PlaceMatcher::new(&config.metadata.places),
        tags: crate::page::metadata::TagMatcher::new(&config.metadata.tags),
        config: config.clone(),
        legacy_encodings,
        include,
        exclude,
        header,
        footer,
        trending,
        related,
        related_date,
        navigation,
        headings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_parses_and_compiles() {
        let c = Config::parse(BUILTIN_PROFILE).unwrap();
        assert!(!c.profile.footer_disclaimer.is_empty());
        c.compile().unwrap();
    }

    #[test]
    fn unknown_key_is_an_error_naming_it() {
        let e = Config::parse("[input]\nmax_file_byte = 3\n").unwrap_err();
        assert!(e.message.contains("max_file_byte"), "{e}");
        assert!(e.message.contains("line 2"), "{e}");
    }

    #[test]
    fn bad_regex_and_range_are_reported_with_their_keys() {
        let mut c = Config::default();
        c.profile.footer_disclaimer = vec!["ok".into(), "(unclosed".into()];
        c.dedup.min_similarity = 1.5;
        let errs = c.compile().unwrap_err();
        let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
        assert!(keys.contains(&"profile.footer_disclaimer[1]"), "{keys:?}");
        assert!(keys.contains(&"dedup.min_similarity"), "{keys:?}");
    }

    #[test]
    fn errors_carry_key_and_line() {
        let text = "[profile]\nname = \"x\"\nfooter_disclaimer = [\"ok\", \"(bad\"]\n\n[dedup]\nmin_similarity = 3.0\n";
        let errs = compile_text(text, "p.toml").unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.toml:3: profile.footer_disclaimer[1]")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.starts_with("p.toml:6: dedup.min_similarity")),
            "{errs:?}"
        );
        assert_eq!(
            locate_key("[metadata.places]\n\"河北\" = []\n", "metadata.places.河北"),
            Some(2)
        );
    }

    #[test]
    fn related_date_needs_named_groups() {
        let mut c = Config::default();
        c.profile.related = vec!["^x$".into()];
        c.profile.related_date = r"^\d{4}$".into();
        let errs = c.compile().unwrap_err();
        assert!(errs.iter().any(|e| e.message.contains("category")));
    }
}
