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
    /// When the run started, UTC.
    pub started: String,
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
    /// The persistent dedup index: what was searched (`--against`) and what was written.
    pub index: IndexReport,
    /// `--max-drop-rate`, when given: tonight's drop rate and whether the output was held.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardReport>,
    /// What a person should know about the run (a profile without markers, no input
    /// pages …).
    pub warnings: Vec<String>,
    /// Entries of the input the walk did not read that are not files (symlinked folders,
    /// without `--follow-symlinks`), each with why.
    pub skipped: Vec<crate::ingest::walk::Skipped>,
    /// Folders under the input that could not be listed.
    pub walk_problems: Vec<String>,
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

/// `index` section.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexReport {
    /// The index file this run wrote (absent when the run was held by `--max-drop-rate`).
    pub written: Option<String>,
    /// The index files read with `--against`.
    pub against: Vec<String>,
    /// The earlier output folders they cover.
    pub earlier_runs: Vec<String>,
    /// Articles earlier runs kept, searched tonight.
    pub earlier_articles: usize,
    /// Snippets earlier runs kept, searched tonight.
    pub earlier_snippets: usize,
    /// Article entries of the index written (earlier and tonight's).
    pub articles: usize,
    /// Snippet entries of the index written.
    pub snippets: usize,
}

/// `guard` section (`--max-drop-rate`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct GuardReport {
    /// The limit given.
    pub max_drop_rate: f64,
    /// Tonight's articles dropped as duplicates ÷ tonight's articles.
    pub drop_rate: f64,
    /// Whether the output was held (written beside `--output`, which was left untouched).
    pub held: bool,
    /// Where the held output is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_in: Option<String>,
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
    /// Symlinked folders not walked (named in [`Report::skipped`]; not files, so not in
    /// `seen`).
    pub skipped: usize,
    /// Files read as HTML (detected by their bytes), of `seen`.
    pub html: usize,
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
    /// Of those dropped (exact or near), the ones whose kept record an earlier run wrote
    /// (`run --against`).
    pub dropped_against_earlier: usize,
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
    /// Of the dropped snippets, the ones whose kept record an earlier run wrote.
    pub dropped_against_earlier: usize,
    /// Distinct blocks an earlier run already wrote (same title and text, so the same
    /// id): not written again; their pages are listed in `seen_again.jsonl`.
    pub seen_again: usize,
    /// Occurrences of those blocks on tonight's pages.
    pub seen_again_occurrences: usize,
}

impl SnippetCounts {
    /// Distinct blocks tonight's pages carried: each was written, dropped as a duplicate,
    /// or already written by an earlier run.
    pub fn distinct(&self) -> usize {
        self.unique + self.dropped_exact + self.dropped_near + self.seen_again
    }
}
