//! The run, top to bottom: walk → summarize (scan every file in parallel, spill its record,
//! keep a small summary) → learn boilerplate → decide (duplicates, links, clusters, as
//! indices) → write (records, then the reports). See docs/ARCHITECTURE.md for the types
//! that flow between the steps.

pub mod decide;
pub mod learn;
pub mod report;
pub mod spill;
pub mod store;
pub mod summarize;
pub mod write;

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::ingest::walk;
use crate::output::report::Report;
use crate::output::Staging;
use crate::progress;
use crate::rules::Rules;
use crate::timings::Timings;
use spill::Spill;
use summarize::Scanned;

/// How one run is carried out (the CLI's flags).
#[derive(Debug)]
pub struct Settings {
    /// Folder read recursively.
    pub input: PathBuf,
    /// Folder the output files are written to.
    pub output: PathBuf,
    /// The validated configuration, compiled.
    pub rules: Rules,
    /// Worker threads (None: one per core).
    pub threads: Option<usize>,
    /// Show progress bars (on stderr).
    pub progress: bool,
    /// Replace an earlier output even when the input holds no pages.
    pub force: bool,
}

/// What a finished run reports.
#[derive(Debug)]
pub struct Summary {
    /// The report written to `report.json`.
    pub report: Report,
    /// Folders that could not be listed.
    pub walk_problems: Vec<String>,
    /// What a person should know about the run (a profile without markers, no input
    /// pages …), also in `report.json` → `warnings`.
    pub warnings: Vec<String>,
    /// Whether the output folder was written (not when the input held no pages and an
    /// earlier output was kept).
    pub written: bool,
}

impl Summary {
    /// The one-paragraph summary printed at the end of a run.
    pub fn paragraph(&self) -> String {
        let r = &self.report;
        let mut rejects: Vec<String> = r
            .rejects
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if rejects.is_empty() {
            rejects.push("none".into());
        }
        format!(
            "pagesieve: read {} files in {} ms: kept {} articles, dropped {} exact and {} near \
             duplicates, rejected {} ({}); {} related snippets became {} unique records \
             ({} dropped as duplicates, {} linked to a full article).",
            r.files.seen,
            r.timings_ms.get("total").copied().unwrap_or(0),
            r.articles.kept,
            r.articles.dropped_exact,
            r.articles.dropped_near,
            r.files.rejected,
            rejects.join(", "),
            r.snippets.occurrences,
            r.snippets.unique,
            r.snippets.dropped_exact + r.snippets.dropped_near,
            r.snippets.linked,
        )
    }
}

/// Runs the whole job: walk, scan in parallel, decide, write; the output folder's files
/// are replaced only when every file is written.
pub fn run(s: &Settings) -> Result<Summary, Error> {
    let mut timings = Timings::start();
    let skip = check_paths(&s.input, &s.output)?;
    let pool = thread_pool(s.threads)?;
    let spin = progress::spinner("walk", "listing the input files", s.progress);
    let walked = timings
        .time("walk", || walk(&s.input, &s.rules.input, skip.as_deref()))
        .map_err(|source| Error::Input {
            path: s.input.clone(),
            source,
        })?;
    spin.finish_and_clear();
    let mut warnings = s.rules.warnings();
    if walked.files.is_empty() {
        warnings.push(format!("no input pages under {}", s.input.display()));
        if !s.force && has_output(&s.output) {
            warnings.push(format!(
                "the earlier output in {} was left as it was (--force replaces it)",
                s.output.display()
            ));
            return Ok(Summary {
                report: Report::default(),
                walk_problems: walked.problems,
                warnings,
                written: false,
            });
        }
    }
    let mut staging = Staging::new(&s.output).map_err(Error::output(&s.output))?;
    let spill = Spill::create(&staging.scratch_path("records.spill"), &s.output)?;
    let excluded = walked.excluded;
    let result = pool.install(|| {
        phases(
            s,
            walked.files,
            excluded,
            &warnings,
            &mut staging,
            &spill,
            timings,
        )
    });
    drop(spill);
    match result {
        Ok(report) => {
            staging.commit().map_err(Error::output(&s.output))?;
            Ok(Summary {
                report,
                walk_problems: walked.problems,
                warnings,
                written: true,
            })
        }
        Err(e) => {
            staging.abort();
            Err(e)
        }
    }
}

/// Checks `--input` and `--output` before anything is read or written; returns the
/// output folder relative to the input folder when it is inside it (the walk skips it).
fn check_paths(input: &Path, output: &Path) -> Result<Option<PathBuf>, Error> {
    if !input.is_dir() {
        return Err(Error::Usage(format!(
            "input folder {} does not exist or is not a folder (--input)",
            input.display()
        )));
    }
    if output.exists() && !output.is_dir() {
        return Err(Error::Usage(format!(
            "output path {} is a file, not a folder (--output)",
            output.display()
        )));
    }
    let (Ok(inp), Ok(out)) = (input.canonicalize(), output.canonicalize()) else {
        return Ok(None);
    };
    if inp == out {
        return Err(Error::Usage(format!(
            "--output {} is the input folder: the output would be read back as pages on the \
             next run; choose another folder",
            output.display()
        )));
    }
    Ok(out.strip_prefix(&inp).ok().map(Path::to_path_buf))
}

/// Whether `dir` holds an earlier run's output.
fn has_output(dir: &Path) -> bool {
    dir.join("report.json").is_file() || dir.join("articles.jsonl").is_file()
}

/// Everything after the walk, on the run's thread pool.
fn phases(
    s: &Settings,
    files: Vec<crate::ingest::InputFile>,
    excluded: usize,
    warnings: &[String],
    staging: &mut Staging,
    spill: &Spill,
    mut timings: Timings,
) -> Result<Report, Error> {
    let rules = &s.rules;
    let mut scanned: Scanned = timings.time("scan", || {
        summarize::summarize_all(files, rules, spill, s.progress)
    })?;
    spill.flush()?;
    timings.record("read_cpu", scanned.cpu.read);
    timings.record("decode_cpu", scanned.cpu.decode);
    timings.record("segment_cpu", scanned.cpu.segment);
    let learned = learn::learn_boilerplate(&mut scanned, rules, spill)?;
    let store = store::SpillStore::new(spill, &scanned.pages);
    let articles = scanned
        .pages
        .iter()
        .filter(|p| p.article_fp().is_some())
        .count();
    let spin = progress::spinner(
        "dedup",
        &format!(
            "{articles} articles, {} distinct snippets",
            scanned.snippets.len()
        ),
        s.progress,
    );
    let decisions = timings.time("dedup", || decide::decide(&scanned, rules, &store))?;
    spin.finish_and_clear();
    let (a, sn) = (&decisions.articles.stats, &decisions.snippets.decided.stats);
    timings.record("dedup_candidates", a.candidate_time + sn.candidate_time);
    timings.record("dedup_verify", a.verify_time + sn.verify_time);
    let bar = progress::bar(articles as u64, "write", s.progress);
    let written = timings.time("write", || {
        write::write_records(staging, &scanned, &decisions, rules, &store, &bar)
    })?;
    bar.finish_and_clear();
    let report = report::build(
        &scanned,
        &decisions,
        learned,
        excluded,
        rules,
        timings.snapshot(),
        warnings,
    );
    let run = crate::output::html::RunInfo {
        started: timings.started_utc(),
        input: s.input.display().to_string(),
        config: rules.source.clone(),
    };
    write::write_reports(staging, &report, &written, rules, run)?;
    Ok(report)
}

fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    builder
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads:?} threads: {e}")))
}
