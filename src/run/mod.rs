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

use std::path::PathBuf;

use crate::error::Error;
use crate::ingest::walk;
use crate::output::report::Report;
use crate::output::Staging;
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
}

/// What a finished run reports.
#[derive(Debug)]
pub struct Summary {
    /// The report written to `report.json`.
    pub report: Report,
    /// Folders that could not be listed.
    pub walk_problems: Vec<String>,
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
    if !s.input.is_dir() {
        return Err(Error::Usage(format!(
            "input folder {} does not exist or is not a folder (--input)",
            s.input.display()
        )));
    }
    let pool = thread_pool(s.threads)?;
    let walked = timings
        .time("walk", || walk(&s.input, &s.rules.input))
        .map_err(|source| Error::Input {
            path: s.input.clone(),
            source,
        })?;
    let mut staging = Staging::new(&s.output).map_err(Error::output(&s.output))?;
    let spill = Spill::create(&staging.scratch_path("records.spill"), &s.output)?;
    let excluded = walked.excluded;
    let result = pool.install(|| phases(s, walked.files, excluded, &mut staging, &spill, timings));
    drop(spill);
    match result {
        Ok(report) => {
            staging.commit().map_err(Error::output(&s.output))?;
            Ok(Summary {
                report,
                walk_problems: walked.problems,
            })
        }
        Err(e) => {
            staging.abort();
            Err(e)
        }
    }
}

/// Everything after the walk, on the run's thread pool.
fn phases(
    s: &Settings,
    files: Vec<crate::ingest::InputFile>,
    excluded: usize,
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
    let decisions = timings.time("dedup", || decide::decide(&scanned, rules, &store))?;
    let (a, sn) = (&decisions.articles.stats, &decisions.snippets.decided.stats);
    timings.record("dedup_candidates", a.candidate_time + sn.candidate_time);
    timings.record("dedup_verify", a.verify_time + sn.verify_time);
    let written = timings.time("write", || {
        write::write_records(staging, &scanned, &decisions, rules, &store)
    })?;
    let report = report::build(
        &scanned,
        &decisions,
        learned,
        excluded,
        rules,
        timings.snapshot(),
    );
    write::write_reports(staging, &report, &written, rules)?;
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
