//! The run, top to bottom: walk → summarize (scan every file in parallel, spill its record,
//! keep a small summary) → learn boilerplate → decide (duplicates, links, clusters, as
//! indices) → write (records, then the reports). See docs/ARCHITECTURE.md for the types
//! that flow between the steps.

pub mod commit;
pub mod decide;
pub mod file_tasks;
pub mod learn;
pub mod line;
pub mod nightly;
pub mod page_keys;
pub mod partitions;
pub mod report;
pub mod scratch_map;
pub mod seen_in;
pub mod shard;
pub mod signatures;
pub mod sources;
pub mod spill;
pub mod store;
pub mod summaries;
pub mod summarize;
pub mod verification;
pub mod write;
pub mod write_parts;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::generation::OutputFolder;
use crate::history::History;
use crate::ingest::walk;
use crate::output::report::{GuardReport, Report};
use crate::output::Staging;
use crate::progress;
use crate::rules::Rules;
use crate::timings::Timings;
use signatures::SignatureWriter;
use sources::SourceWriter;
use spill::{Packing, Spill};
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
    /// Earlier output folders or index folders to deduplicate against (`--against`).
    pub against: Vec<PathBuf>,
    /// Where to write the index covering earlier runs and this one (`--index`); `None`:
    /// `index/` in the output folder.
    pub index: Option<PathBuf>,
    /// Hold the output when a larger share of tonight's articles would be dropped
    /// (`--max-drop-rate`).
    pub max_drop_rate: Option<f64>,
    /// Wait for another run holding the output or index folder instead of stopping
    /// (`--wait`).
    pub wait: bool,
    /// Read symlinks whose targets are outside `--input`, and walk symlinked folders
    /// (`--follow-symlinks`).
    pub follow_symlinks: bool,
}

impl Settings {
    /// Settings for a plain run of `input` into `output` (one thread per core, no
    /// progress, no earlier runs).
    pub fn new(input: PathBuf, output: PathBuf, rules: Rules) -> Settings {
        Settings::assemble(input, output, rules, RunOptions::default())
    }
}

/// The options of a run besides its paths and profile, as every entry point takes them
/// (the CLI's flags, the Python functions' keyword arguments).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `--threads`.
    pub threads: Option<usize>,
    /// `--force`.
    pub force: bool,
    /// `--against`, in order.
    pub against: Vec<PathBuf>,
    /// `--index`.
    pub index: Option<PathBuf>,
    /// `--max-drop-rate`.
    pub max_drop_rate: Option<f64>,
    /// `--wait`.
    pub wait: bool,
    /// `--follow-symlinks`.
    pub follow_symlinks: bool,
}

impl Settings {
    /// The settings of a run of `input` into `output` under `rules` with `opts`,
    /// validated ([`Settings::validate`]); no progress bars.
    pub fn with(
        input: PathBuf,
        output: PathBuf,
        rules: Rules,
        opts: RunOptions,
    ) -> Result<Settings, Error> {
        let s = Settings::assemble(input, output, rules, opts);
        s.validate()?;
        Ok(s)
    }

    fn assemble(input: PathBuf, output: PathBuf, rules: Rules, opts: RunOptions) -> Settings {
        Settings {
            input,
            output,
            rules,
            threads: opts.threads,
            progress: false,
            force: opts.force,
            against: opts.against,
            index: opts.index,
            max_drop_rate: opts.max_drop_rate,
            wait: opts.wait,
            follow_symlinks: opts.follow_symlinks,
        }
    }

    /// Checks the settings that do not need the file system (`--threads`,
    /// `--max-drop-rate`): every entry point — the CLI, the Python functions, the Ray
    /// job's driver and its phase 2 — calls this, so none accepts what another refuses.
    pub fn validate(&self) -> Result<(), Error> {
        check_threads(self.threads)?;
        if let Some(r) = self.max_drop_rate {
            if !(0.0..=1.0).contains(&r) {
                return Err(Error::Usage(format!(
                    "--max-drop-rate {r}: give a share between 0 and 1 (0.2 = 20%)"
                )));
            }
        }
        Ok(())
    }
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
    /// earlier output was kept, nor when the run was held).
    pub written: bool,
    /// Where the output went instead when `--max-drop-rate` held it (exit 3).
    pub held: Option<PathBuf>,
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
        let (a, sn) = (&r.articles, &r.snippets);
        let earlier = |n: usize, what: &str| match n {
            0 => String::new(),
            n => format!("; {n} of them {what} an earlier run's record"),
        };
        let dropped = sn.dropped_exact + sn.dropped_near;
        let mut blocks = vec![format!("{} written as new records", sn.unique)];
        if sn.seen_again > 0 {
            blocks.push(format!(
                "{} already written by an earlier run (seen_again.jsonl)",
                sn.seen_again
            ));
        }
        blocks.push(format!(
            "{dropped} dropped as duplicates{}",
            earlier(sn.dropped_against_earlier, "of")
        ));
        blocks.push(format!("{} linked to a full article", sn.linked));
        format!(
            "pagesieve: read {} files in {} ms: kept {} articles, dropped {} as duplicates \
             ({} exact, {} near{}), rejected {} ({}); {} related snippets were {} distinct \
             blocks: {}.",
            r.files.seen,
            r.timings_ms.get("total").copied().unwrap_or(0),
            a.kept,
            a.dropped_exact + a.dropped_near,
            a.dropped_exact,
            a.dropped_near,
            earlier(a.dropped_against_earlier, "of"),
            r.files.rejected,
            rejects.join(", "),
            sn.occurrences,
            sn.distinct(),
            blocks.join(", "),
        )
    }
}

/// Where phase 1's results come from.
#[derive(Debug)]
pub enum Phase1 {
    /// Scan these files here, in parallel.
    Scan(Vec<crate::ingest::InputFile>),
    /// Load the `count` shards a distributed run scanned into `dir` ([`shard`]), `pages`
    /// pages in all.
    Shards {
        /// The folder holding `shard-NNNNNN.pages` / `.spill`.
        dir: PathBuf,
        /// Shards `0..count`.
        count: u32,
        /// Pages over all shards.
        pages: usize,
    },
}

impl Phase1 {
    fn pages(&self) -> usize {
        match self {
            Phase1::Scan(files) => files.len(),
            Phase1::Shards { pages, .. } => *pages,
        }
    }
}

/// What the walk found besides the files: for the report.
#[derive(Debug, Clone, Default)]
pub struct WalkFacts {
    /// Files the globs excluded.
    pub excluded: usize,
    /// Folders that could not be listed.
    pub problems: Vec<String>,
    /// Symlinked folders not walked.
    pub skipped: Vec<walk::Skipped>,
}

/// The input files of a run, in the order every step uses.
#[derive(Debug)]
pub struct Listing {
    /// The files, sorted.
    pub files: Vec<crate::ingest::InputFile>,
    /// Files the globs excluded.
    pub excluded: usize,
    /// Folders that could not be listed.
    pub problems: Vec<String>,
    /// Symlinked folders not walked.
    pub skipped: Vec<walk::Skipped>,
}

impl Listing {
    /// The files, and the rest for the report.
    pub fn split(self) -> (Vec<crate::ingest::InputFile>, WalkFacts) {
        let facts = WalkFacts {
            excluded: self.excluded,
            problems: self.problems,
            skipped: self.skipped,
        };
        (self.files, facts)
    }
}

/// Checks `--input` / `--output` and lists the input files (skipping an output folder
/// inside the input): the first step of [`run`], and of a distributed run's driver.
pub fn list(s: &Settings) -> Result<Listing, Error> {
    s.validate()?;
    let skip = check_paths(&s.input, &s.output)?;
    let spin = progress::spinner("walk", "listing the input files", s.progress);
    let opts = walk::WalkOptions {
        skip: skip.as_deref(),
        follow_symlinks: s.follow_symlinks,
    };
    let walked = walk::walk(&s.input, &s.rules.input, opts).map_err(|source| Error::Input {
        path: s.input.clone(),
        source,
    })?;
    spin.finish_and_clear();
    Ok(Listing {
        files: walked.files,
        excluded: walked.excluded,
        problems: walked.problems,
        skipped: walked.skipped,
    })
}

/// Runs the whole job: walk, scan in parallel, decide, write; the output folder's files
/// are replaced only when every file is written.
pub fn run(s: &Settings) -> Result<Summary, Error> {
    let mut timings = Timings::start();
    let (files, walked) = timings.time("walk", || list(s))?.split();
    execute(s, Phase1::Scan(files), walked, timings, Hooks::default())
}

/// Called with a run's staging folder once every file of the run is in it, before the
/// commit: what it writes there (the Ray job's Parquet copies of the record files) is
/// published with the generation, or not at all.
pub type StageExtra<'a> = &'a (dyn Fn(&Path) -> Result<(), Error> + Sync);

/// What the driver of a distributed run hands its phase 2 besides the shards.
#[derive(Default)]
pub struct Finish<'a> {
    /// Wall time the job spent before phase 2 (listing, phase 1): `report.json`'s
    /// `timings_ms.total` and the summary's clock are the job's, not phase 2's.
    pub before: Duration,
    /// Those phases by name (`ray_list`, `ray_scan`), for `timings_ms`.
    pub phases: Vec<(String, Duration)>,
    /// Written into the staging folder before the commit.
    pub extra: Option<StageExtra<'a>>,
    /// Runs the article search's candidate stage (the Ray job's partition tasks:
    /// [`crate::dedup::partition`]); in this process when `None`.
    pub candidates: Option<CandidateStage<'a>>,
    /// Runs the article search's verification and clusters (the Ray job's verification
    /// tasks: [`verification`]); in this process when `None`.
    pub verify: Option<file_tasks::FileTasks<'a>>,
    /// Writes the articles' lines of `articles.jsonl` and `dropped.jsonl` (the Ray job's
    /// writer tasks: [`write_parts`]); in this process when `None`.
    pub write: Option<file_tasks::FileTasks<'a>>,
}

/// The article search's candidate stage, run elsewhere.
pub type CandidateStage<'a> = crate::dedup::CandidateHook<'a, Error>;

/// What a distributed run adds to the phases (none for the CLI).
#[derive(Clone, Copy, Default)]
struct Hooks<'a> {
    extra: Option<StageExtra<'a>>,
    tasks: decide::Tasks<'a>,
    write: Option<file_tasks::FileTasks<'a>>,
}

/// Phase 2 of a distributed run, after its shards were scanned (see [`shard`]): the
/// same decisions and files as [`run`] over the same input.
pub fn run_shards(
    s: &Settings,
    phase1: Phase1,
    walked: WalkFacts,
    finish: Finish<'_>,
) -> Result<Summary, Error> {
    s.validate()?;
    // Phase 2 reads no input file: an input the driver listed elsewhere (an object
    // store) is not a local folder, and only the output is checked here.
    match s.input.is_dir() {
        true => check_paths(&s.input, &s.output).map(drop)?,
        false => check_output(&s.output)?,
    }
    let mut timings = Timings::started_before(finish.before);
    for (name, d) in &finish.phases {
        timings.record(name, *d);
    }
    let hooks = Hooks {
        extra: finish.extra,
        tasks: decide::Tasks {
            candidates: finish.candidates,
            verify: finish.verify,
        },
        write: finish.write,
    };
    execute(s, phase1, walked, timings, hooks)
}

/// Everything after the listing: locks, history, staging, the phases, the commit.
fn execute(
    s: &Settings,
    phase1: Phase1,
    walked: WalkFacts,
    timings: Timings,
    hooks: Hooks<'_>,
) -> Result<Summary, Error> {
    let index = nightly::open_index_dir(s)?;
    let folder = match OutputFolder::open(&s.output, s.wait) {
        Ok(f) => f,
        Err(e) => {
            if let Some(ix) = index {
                ix.forget();
            }
            return Err(e);
        }
    };
    let staging = folder
        .stage()
        .and_then(|(dir, name)| Ok((Staging::new(&s.output, dir)?, name)));
    let (mut staging, name) = match staging {
        Ok(x) => x,
        Err(e) => return Err(Error::output(&s.output)(e)),
    };
    let staged = staging.dir().to_path_buf();
    let target = Target {
        generation: &name,
        index: index.as_ref(),
    };
    let result = prepare(s, phase1, walked, timings, &mut staging, target, hooks).and_then(|p| {
        if let (Prepared::Held(_) | Prepared::Commit(..), Some(extra)) = (&p, hooks.extra) {
            extra(&staged)?;
        }
        Ok(p)
    });
    // A run that publishes nothing leaves no folder it created behind.
    let release = |folder: OutputFolder, index: Option<nightly::IndexDir>| {
        if let Some(ix) = index {
            ix.forget();
        }
        folder.forget();
    };
    // Held off by an interrupt that is cleaning up, and holding one off until the
    // staging folder is published, moved or removed.
    let _guard = crate::interrupt::committing();
    crate::interrupt::untrack(&staged);
    match result {
        Err(e) => {
            staging.abort();
            release(folder, index);
            Err(e)
        }
        Ok(Prepared::Unwritten(summary)) => {
            staging.abort();
            release(folder, index);
            Ok(summary)
        }
        Ok(Prepared::Held(summary)) => {
            let held = held_dir(&s.output);
            staging.move_to(&held).map_err(Error::output(&held))?;
            release(folder, index);
            Ok(summary)
        }
        Ok(Prepared::Commit(summary, ix)) => {
            commit::publish(&folder, staging, &name, ix.map(|b| *b))?;
            Ok(summary)
        }
    }
}

/// Where a run writes: the generation it stages, its index folder.
#[derive(Clone, Copy)]
struct Target<'a> {
    generation: &'a str,
    index: Option<&'a nightly::IndexDir>,
}

/// How the phases ended.
enum Prepared {
    /// Nothing to write (no input pages and an earlier output kept).
    Unwritten(Summary),
    /// `--max-drop-rate` held the run: its output goes beside `--output`.
    Held(Summary),
    /// Staged: publish it (with the index outside the output, if any).
    Commit(Summary, Option<Box<commit::IndexCommit>>),
}

/// History, the phases, everything staged; nothing published.
fn prepare(
    s: &Settings,
    phase1: Phase1,
    walked: WalkFacts,
    mut timings: Timings,
    staging: &mut Staging,
    target: Target<'_>,
    hooks: Hooks<'_>,
) -> Result<Prepared, Error> {
    let scratch = staging.scratch_path("converted-index");
    let history = timings.time("index_load", || nightly::load_history(s, &scratch))?;
    let pool = thread_pool(s.threads)?;
    let mut warnings = s.rules.warnings();
    if phase1.pages() == 0 {
        warnings.push(format!("no input pages under {}", s.input.display()));
        if !s.force && has_output(&s.output) {
            warnings.push(format!(
                "the earlier output in {} was left as it was (--force replaces it)",
                s.output.display()
            ));
            return Ok(Prepared::Unwritten(Summary {
                report: Report::default(),
                walk_problems: walked.problems,
                warnings,
                written: false,
                held: None,
            }));
        }
    }
    // Shards bring their own (compressed) spill files; a scan whose spill stays in the
    // page cache spills records as they are.
    let packing = match &phase1 {
        Phase1::Scan(files) if crate::ingest::cache::spill_stays_cached(files) => Packing::Raw,
        _ => Packing::Zstd,
    };
    let spill = Spill::create_packed(&staging.scratch_path("records.spill"), &s.output, packing)?;
    let ctx = PhaseInput {
        s,
        history: &history,
        walked: &walked,
        warnings,
        target,
        tasks: hooks.tasks,
        write: hooks.write,
    };
    crate::fault::point(crate::fault::PHASES_STARTED);
    let done = pool.install(|| phases(&ctx, phase1, staging, &spill, timings))?;
    drop(spill);
    let held = done.held;
    let summary = Summary {
        report: done.report,
        walk_problems: walked.problems,
        warnings: done.warnings,
        written: !held,
        held: held.then(|| held_dir(&s.output)),
    };
    Ok(match held {
        true => Prepared::Held(summary),
        false => Prepared::Commit(summary, done.index.map(Box::new)),
    })
}

/// Where a held run's output goes: beside `--output`, named after it.
pub fn held_dir(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map_or("output".into(), |n| n.to_string_lossy().into_owned());
    output.with_file_name(format!("{name}.held"))
}

/// Checks `--output` before anything is written: a folder, or nothing yet.
pub fn check_output(output: &Path) -> Result<(), Error> {
    if output.exists() && !output.is_dir() {
        return Err(Error::Usage(format!(
            "output path {} is a file, not a folder (--output)",
            output.display()
        )));
    }
    Ok(())
}

/// Checks `--input` and `--output` before anything is read or written; returns the
/// output folder relative to the input folder when it is inside it (the walk skips it).
pub fn check_paths(input: &Path, output: &Path) -> Result<Option<PathBuf>, Error> {
    if !input.is_dir() {
        return Err(Error::Usage(format!(
            "input folder {} does not exist or is not a folder (--input)",
            input.display()
        )));
    }
    check_output(output)?;
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

/// What the phases read besides the files.
struct PhaseInput<'a> {
    s: &'a Settings,
    history: &'a History,
    walked: &'a WalkFacts,
    warnings: Vec<String>,
    target: Target<'a>,
    tasks: decide::Tasks<'a>,
    write: Option<file_tasks::FileTasks<'a>>,
}

/// What the phases leave for the commit.
struct Done {
    report: Report,
    /// The guard tripped: the staged output goes beside `--output`.
    held: bool,
    /// The index for `--index`, its files written, its manifest to publish.
    index: Option<commit::IndexCommit>,
    /// What a person should know (the guard's message aside: it is said on its own).
    warnings: Vec<String>,
}

/// Everything after the walk, on the run's thread pool.
fn phases<'a>(
    ctx: &PhaseInput<'a>,
    phase1: Phase1,
    staging: &mut Staging,
    spill: &Spill,
    mut timings: Timings,
) -> Result<Done, Error> {
    crate::trim::phases_start();
    let (s, history) = (ctx.s, ctx.history);
    let rules = &s.rules;
    let columns = summarize::ColumnWriters {
        summaries: summaries::SummaryWriter::create(
            &staging.scratch_path("summaries"),
            &s.output,
            rules.dedup.fingerprints > 1,
        )?,
        signatures: SignatureWriter::create(&staging.scratch_path("signatures"), &s.output)?,
        sources: SourceWriter::create(&staging.scratch_path("sources"), &s.output)?,
        keys: page_keys::KeyWriter::create(&staging.scratch_path("keys"), &s.output)?,
        seen_in: seen_in::ListWriter::create(&staging.scratch_path("seen-in"), &s.output)?,
    };
    let mut scanned = scan_phase(s, phase1, (spill, columns), &mut timings)?;
    crate::trim::phase_end("scan");
    let learned = learn::learn_boilerplate(&mut scanned, rules, spill)?;
    crate::trim::phase_end("learn");
    // The ids take the keys over (Scanned::keys).
    let keys = std::mem::take(&mut scanned.keys);
    let store = store::SpillStore::new(spill, &scanned.pages);
    let decisions = dedup_phase(ctx, (&scanned, keys), &store, &mut timings)?;
    crate::trim::phase_end("dedup");
    let guard = s.max_drop_rate.map(|max| guard(&decisions, max, &s.output));
    let held = guard.as_ref().is_some_and(|g| g.held);
    let bar = progress::bar(article_count(&scanned) as u64, "write", s.progress);
    let cx = write::Context {
        scanned: &scanned,
        d: &decisions,
        rules,
        store: &store,
        history,
        tasks: ctx.write,
    };
    let written = timings.time("write", || write::write_records(staging, cx, &bar))?;
    bar.finish_and_clear();
    crate::trim::phase_end("write");
    let generation = ctx.target.generation;
    let kept = nightly::kept(s, &scanned, &decisions, &written);
    let this = nightly::this_run(s, &kept, &written, timings.started_utc(), generation)?;
    let (index, index_commit) = match held {
        true => (nightly::index_report(history, &this, None), None),
        false => {
            let (path, ix) = timings.time("index_write", || {
                nightly::write_index(s, history, &this, staging, ctx.target.index)
            })?;
            let report = nightly::index_report(history, &this, Some(path.display().to_string()));
            (report, ix)
        }
    };
    crate::trim::phase_end("index");
    let mut warnings = ctx.warnings.clone();
    warnings.extend(replay_warning(&decisions.counts.articles));
    let run_warnings = warnings.clone();
    if let Some(g) = guard.as_ref().filter(|g| g.held) {
        warnings.push(guard_message(g, &s.output));
    }
    let facts = report::RunFacts {
        started: timings.started_utc(),
        walked: ctx.walked.clone(),
        timings: timings.snapshot(),
        warnings,
        index,
        guard,
    };
    let report = report::build(&scanned, &decisions, learned, rules, facts);
    let run = crate::output::html::RunInfo {
        started: timings.started_utc(),
        input: s.input.display().to_string(),
        config: rules.source.clone(),
    };
    if let Err(e) = write::write_reports(staging, &report, &written, rules, run) {
        if let Some(ix) = index_commit {
            ix.abort();
        }
        return Err(e);
    }
    Ok(Done {
        report,
        held,
        index: index_commit,
        warnings: run_warnings,
    })
}

/// A night whose every article duplicates a record of an earlier run is most likely the
/// same input run twice (or against its own output): said, since it exits 0 with nothing
/// kept.
fn replay_warning(a: &crate::output::report::ArticleCounts) -> Option<String> {
    let articles = a.kept + a.dropped_exact + a.dropped_near;
    (articles > 0 && a.dropped_against_earlier == articles).then(|| {
        format!(
            "every one of the {articles} articles matched a record of an earlier run, so none \
             was kept — the same input twice, or a run against its own output?"
        )
    })
}

/// Phase 1 (or the shards it was split into): every page's summary, records spilled.
fn scan_phase(
    s: &Settings,
    phase1: Phase1,
    (spill, columns): (&Spill, summarize::ColumnWriters),
    timings: &mut Timings,
) -> Result<Scanned, Error> {
    let scanned = timings.time("scan", || match phase1 {
        Phase1::Scan(files) => {
            let rules = summarize::reading_rules(
                &s.rules,
                &files,
                files.len(),
                &s.input,
                s.follow_symlinks,
            );
            summarize::summarize_all(files, &rules, (spill, columns), s.progress)
        }
        Phase1::Shards { dir, count, .. } => shard::load_shards(&dir, count, (spill, columns)),
    })?;
    spill.flush()?;
    timings.record("read_cpu", scanned.cpu.read);
    timings.record("decode_cpu", scanned.cpu.decode);
    timings.record("segment_cpu", scanned.cpu.segment);
    Ok(scanned)
}

fn article_count(scanned: &Scanned) -> usize {
    scanned.pages.articles()
}

/// The duplicate decisions, under a spinner, with their timings.
fn dedup_phase(
    ctx: &PhaseInput<'_>,
    (scanned, keys): (&Scanned, page_keys::PageKeys),
    store: &store::SpillStore<'_>,
    timings: &mut Timings,
) -> Result<decide::Decisions, Error> {
    let (s, history) = (ctx.s, ctx.history);
    let spin = progress::spinner(
        "dedup",
        &format!(
            "{} articles, {} distinct snippets, {} earlier records",
            article_count(scanned),
            scanned.snippets.len(),
            history.len(crate::record::RecordKind::Article)
                + history.len(crate::record::RecordKind::Snippet)
        ),
        s.progress,
    );
    let decisions = timings.time("dedup", || {
        decide::decide(scanned, keys, &s.rules, store, history, ctx.tasks)
    })?;
    spin.finish_and_clear();
    let (a, sn) = (&decisions.articles.stats, &decisions.snippets.decided.stats);
    timings.record("dedup_candidates", a.candidate_time + sn.candidate_time);
    timings.record("dedup_verify", a.verify_time + sn.verify_time);
    Ok(decisions)
}

/// The drop-rate guard: tonight's dropped articles ÷ tonight's articles against `max`.
fn guard(d: &decide::Decisions, max: f64, output: &Path) -> GuardReport {
    let a = &d.counts.articles;
    let total = a.kept + a.dropped_exact + a.dropped_near;
    let dropped = a.dropped_exact + a.dropped_near;
    let rate = if total == 0 {
        0.0
    } else {
        dropped as f64 / total as f64
    };
    let held = rate > max;
    GuardReport {
        max_drop_rate: max,
        drop_rate: (rate * 10_000.0).round() / 10_000.0,
        held,
        held_in: held.then(|| held_dir(output).display().to_string()),
    }
}

/// What a person reads when the guard holds a run.
pub fn guard_message(g: &GuardReport, output: &Path) -> String {
    format!(
        "held: {:.1}% of tonight's articles would be dropped as duplicates, more than \
         --max-drop-rate {}; {} was left untouched (its index too) and this run's output is \
         in {} for inspection",
        g.drop_rate * 100.0,
        g.max_drop_rate,
        output.display(),
        held_dir(output).display()
    )
}

/// The pool a run's phases work on: `threads` threads, or one per core. (Every entry
/// point starts its work here, so the allocator is set for a run here too:
/// [`crate::trim::map_large_allocations`].)
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, Error> {
    check_threads(threads)?;
    crate::trim::map_large_allocations();
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        builder = builder.num_threads(n);
    }
    builder
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads:?} threads: {e}")))
}

/// The most worker threads a run starts, per core: more only adds contention (100,000
/// threads on 500 pages ran for minutes at a load of ~1,600).
pub const MAX_THREADS_PER_CORE: usize = 4;

/// Refuses a thread count of 0 or more than [`MAX_THREADS_PER_CORE`] × the cores.
pub fn check_threads(threads: Option<usize>) -> Result<(), Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match threads {
        Some(0) => Err(Error::Usage("--threads 0: give at least 1".into())),
        Some(n) if n > MAX_THREADS_PER_CORE * cores => Err(Error::Usage(format!(
            "--threads {n}: at most {} on this machine ({MAX_THREADS_PER_CORE} per core, \
             {cores} cores)",
            MAX_THREADS_PER_CORE * cores
        ))),
        _ => Ok(()),
    }
}
