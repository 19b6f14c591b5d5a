//! `report.json`: the run's summary, with the contract's invariant
//! `files.seen == articles.kept + articles.dropped_exact + articles.dropped_near + files.rejected`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Config;

/// The whole report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// pagesieve version.
    pub version: String,
    /// The profile's name.
    pub profile: String,
    /// The effective configuration.
    pub config: Config,
    /// File counts.
    pub files: FileCounts,
    /// Article counts.
    pub articles: ArticleCounts,
    /// Snippet counts.
    pub snippets: SnippetCounts,
    /// Rejects per reason (every reason listed, zeros included).
    pub rejects: BTreeMap<String, usize>,
    /// Pages per boilerplate kind stripped.
    pub stripped: BTreeMap<String, usize>,
    /// Pages per encoding (of those decoded).
    pub encodings: BTreeMap<String, usize>,
    /// Pages per compression.
    pub compression: BTreeMap<String, usize>,
    /// How the duplicate search went: candidate pairs, screened, verified.
    pub dedup: DedupReport,
    /// What a person should know about the run (a profile without markers, no input
    /// pages …).
    pub warnings: Vec<String>,
    /// Lines that recur verbatim across many pages, and how the profile handles them.
    pub learned_boilerplate: crate::boilerplate::LearnedReport,
    /// Wall time per stage, in milliseconds (the only part that varies between runs).
    pub timings_ms: BTreeMap<String, u64>,
}

/// `dedup` section: the duplicate search's counters for articles and for snippets.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DedupReport {
    /// Article bodies.
    pub articles: crate::dedup::DedupStats,
    /// Distinct related blocks.
    pub snippets: crate::dedup::DedupStats,
}

/// `files` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileCounts {
    /// Files read (every non-hidden file selected by the globs).
    pub seen: usize,
    /// Files that yielded an article (kept or dropped as a duplicate).
    pub articles: usize,
    /// Files rejected.
    pub rejected: usize,
    /// Files skipped by `input.exclude` / `input.include`.
    pub excluded: usize,
}

/// `articles` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArticleCounts {
    /// Articles written to `articles.jsonl`.
    pub kept: usize,
    /// Articles dropped as exact duplicates.
    pub dropped_exact: usize,
    /// Articles dropped as near duplicates.
    pub dropped_near: usize,
}

/// `snippets` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SnippetCounts {
    /// Related blocks seen over all pages.
    pub occurrences: usize,
    /// Snippet records written (identical blocks merged, duplicates dropped).
    pub unique: usize,
    /// Distinct blocks dropped because another title carried the same text.
    pub dropped_exact: usize,
    /// Distinct blocks dropped as near duplicates.
    pub dropped_near: usize,
    /// Snippet records linked to a full article.
    pub linked: usize,
    /// Blocks the site cut off (no text or no date line).
    pub incomplete: usize,
}
