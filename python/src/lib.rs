//! `pagesieve._native`: the pipeline's phases for Python, over the same Rust code the CLI
//! runs. Structured results cross as JSON text (the Python layer, `pagesieve/__init__.py`,
//! parses them); errors become `pagesieve.PagesieveError` subclasses carrying the CLI's
//! message (`pagesieve.exit_code` maps them to the CLI's exit codes).

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use serde_json::{json, Value};

use pagesieve::dedup::columns::Columns;
use pagesieve::dedup::DedupStats;
use pagesieve::ingest::walk::Skipped;
use pagesieve::ingest::InputFile;
use pagesieve::record::{hex64, Reject, RejectReason};
use pagesieve::run::file_tasks::FileTasks;
use pagesieve::run::verification;
use pagesieve::run::{partitions, shard};
use pagesieve::run::{Finish, Phase1, RunOptions, Settings, Summary};
use pagesieve::scan::Outcome;
use pagesieve::{Error, Rules};

create_exception!(
    pagesieve._native,
    PagesieveError,
    PyException,
    "A pagesieve command failed."
);
create_exception!(
    pagesieve._native,
    UsageError,
    PagesieveError,
    "Wrong arguments or paths (the CLI's exit 2)."
);
create_exception!(
    pagesieve._native,
    ConfigError,
    PagesieveError,
    "An invalid profile: one line per problem, with key and line (exit 2)."
);
create_exception!(
    pagesieve._native,
    PagesieveIOError,
    PagesieveError,
    "Reading the input or writing the output failed (exit 1)."
);

/// The Python exception for a pagesieve error: the CLI's message, and `exit_code`.
fn py_err(e: Error) -> PyErr {
    let msg = e.to_string();
    match &e {
        Error::Config(_) => ConfigError::new_err(msg),
        Error::Usage(_) => UsageError::new_err(msg),
        _ => PagesieveIOError::new_err(msg),
    }
}

/// A validated, compiled profile (what `--config` names).
#[pyclass(module = "pagesieve._native", frozen)]
#[derive(Clone)]
struct Config {
    rules: Arc<Rules>,
    text: String,
}

#[pymethods]
impl Config {
    /// Reads and validates a profile file.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Config> {
        let text = Rules::read_text(&path).map_err(py_err)?;
        Config::from_text(&text, &path.display().to_string())
    }

    /// Validates a profile given as TOML text; `name` names it in messages.
    #[staticmethod]
    #[pyo3(signature = (text, name = "profile"))]
    fn from_text(text: &str, name: &str) -> PyResult<Config> {
        // A task unpickling the job's profile reuses the one its worker compiled before.
        let rules = Rules::shared_from_text(text, name).map_err(py_err)?;
        Ok(Config {
            rules,
            text: text.to_string(),
        })
    }

    /// The profile a run uses: `path`, else `config/default.toml` in the working folder
    /// when it exists, else the built-in one (the CLI's lookup).
    #[staticmethod]
    #[pyo3(signature = (path = None))]
    fn lookup(path: Option<PathBuf>) -> PyResult<Config> {
        match Rules::lookup_path(path.as_deref()) {
            Some(p) => Config::load(p),
            None => Ok(Config::builtin()),
        }
    }

    /// The profile bundled into pagesieve (`config/default.toml`).
    #[staticmethod]
    fn builtin() -> Config {
        Config {
            rules: Arc::new(Rules::builtin()),
            text: pagesieve::config::BUILTIN_PROFILE.to_string(),
        }
    }

    /// The TOML text (what a remote task rebuilds the profile from).
    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    /// How the profile is named in messages (its path, or `built-in profile`).
    #[getter]
    fn source(&self) -> &str {
        &self.rules.source
    }

    /// The profile's `profile.name`.
    #[getter]
    fn name(&self) -> &str {
        &self.rules.config.profile.name
    }

    /// The effective configuration, defaults filled in, as JSON.
    fn effective_json(&self) -> String {
        serde_json::to_string(&self.rules.config).expect("config serializes")
    }

    /// Warnings for a person (a profile without markers …).
    fn warnings(&self) -> Vec<String> {
        self.rules.warnings()
    }

    fn __reduce__(&self, py: Python<'_>) -> PyResult<(PyObject, (String, String))> {
        let from_text = py.get_type::<Config>().getattr("from_text")?.unbind();
        Ok((from_text, (self.text.clone(), self.rules.source.clone())))
    }
}

/// One page as `run` reads it: its article record or reject, fingerprints, signature and
/// related blocks, as JSON.
#[pyfunction]
fn scan_page(py: Python<'_>, data: &[u8], source: &str, config: &Config) -> String {
    let rules = config.rules.clone();
    let data = data.to_vec();
    let source = source.to_string();
    py.allow_threads(move || {
        let p = pagesieve::scan::scan_data(&source, &data, &rules);
        page_json(&p).to_string()
    })
}

fn page_json(p: &pagesieve::scan::ScannedPage) -> Value {
    let snippets: Vec<Value> = p
        .snippets
        .iter()
        .map(|s| {
            json!({
                "id": pagesieve::record::snippet_id(s.key),
                "title": s.block.title, "text": s.block.text,
                "category": s.block.category, "date": s.block.date,
                "complete": s.block.complete, "answer": s.answer, "truncated": s.truncated,
            })
        })
        .collect();
    let mut v = json!({
        "source": p.source, "id": p.id, "title": p.title,
        "encoding": p.encoding, "compression": p.compression,
        "stripped": p.stripped.names(), "snippets": snippets,
    });
    match &p.outcome {
        Outcome::Article(record, f) => {
            let (fp, sig) = (&f.fp, &f.signature);
            v["kind"] = json!("article");
            v["record"] = serde_json::to_value(record).expect("record serializes");
            v["fingerprint"] = json!({
                "simhash": hex64(fp.primary),
                "simhashes": (0..pagesieve::config::MAX_FINGERPRINTS)
                    .map(|i| hex64(fp.simhash(i))).collect::<Vec<_>>(),
                "exact": format!("{:016x}{:016x}", fp.exact[0], fp.exact[1]),
                "chars": fp.chars,
                "signature": sig.0.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            });
        }
        Outcome::Reject(r) => {
            v["kind"] = json!("reject");
            v["reject"] = json!({"reason": r.reason.as_str(), "detail": r.detail});
        }
    }
    v
}

/// The run options the Python functions take as keyword arguments.
fn options(
    threads: Option<usize>,
    force: bool,
    against: Vec<PathBuf>,
    index: Option<PathBuf>,
    max_drop_rate: Option<f64>,
) -> RunOptions {
    RunOptions {
        threads,
        force,
        against,
        index,
        max_drop_rate,
        ..RunOptions::default()
    }
}

/// The validated settings of a run (the library's checks, as the CLI's).
fn settings(
    input: PathBuf,
    output: PathBuf,
    config: &Config,
    opts: RunOptions,
) -> PyResult<Settings> {
    Settings::with(input, output, (*config.rules).clone(), opts).map_err(py_err)
}

fn summary_json(s: &Summary) -> String {
    json!({
        "report": serde_json::to_value(&s.report).expect("report serializes"),
        "written": s.written,
        "held": s.held.as_ref().map(|p| p.display().to_string()),
        "warnings": s.walk_problems.iter().chain(&s.warnings).collect::<Vec<_>>(),
        "paragraph": s.paragraph(),
    })
    .to_string()
}

/// The whole job, as `pagesieve run` does it; returns the summary as JSON.
#[pyfunction]
#[pyo3(signature = (input, output, config, threads=None, force=false, against=vec![], index=None, max_drop_rate=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    config: &Config,
    threads: Option<usize>,
    force: bool,
    against: Vec<PathBuf>,
    index: Option<PathBuf>,
    max_drop_rate: Option<f64>,
) -> PyResult<String> {
    let opts = options(threads, force, against, index, max_drop_rate);
    let s = settings(input, output, config, opts)?;
    let summary = py
        .allow_threads(|| pagesieve::run::run(&s))
        .map_err(py_err)?;
    Ok(summary_json(&summary))
}

/// The input files of a run over `input` into `output`, sorted: `(files, excluded,
/// problems, skipped)`, each file `(path, source, walk_error)` with `walk_error`
/// `"reason: detail"` when the walk refused it, each skipped folder `(path, why)`.
#[pyfunction]
#[allow(clippy::type_complexity)]
fn list_files(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    config: &Config,
) -> PyResult<(
    Vec<(PathBuf, String, Option<String>)>,
    usize,
    Vec<String>,
    Vec<(String, String)>,
)> {
    let s = settings(input, output, config, RunOptions::default())?;
    let listing = py
        .allow_threads(|| pagesieve::run::list(&s))
        .map_err(py_err)?;
    let files = listing
        .files
        .into_iter()
        .map(|f| {
            let e = f
                .walk_error
                .map(|r| format!("{}: {}", r.reason.as_str(), r.detail));
            (f.path, f.source, e)
        })
        .collect();
    let skipped = listing
        .skipped
        .into_iter()
        .map(|s| (s.path, s.why))
        .collect();
    Ok((files, listing.excluded, listing.problems, skipped))
}

/// A walk's refusal as `list_files` wrote it (`"reason: detail"`); an unknown reason is
/// an `io_error` with the whole text.
fn walk_reject(text: &str) -> Reject {
    let (name, detail) = text.split_once(": ").unwrap_or(("", text));
    match RejectReason::from_name(name) {
        Some(reason) => Reject::new(reason, detail),
        None => Reject::new(RejectReason::IoError, text),
    }
}

/// Phase 1 over one shard (files from `list_files`) of a run of `input` over
/// `total_files` files, written into `work_dir` as `shard-NNNNNN.*`, on `threads`
/// threads (default: one per core), with the CLI's scan loop: each opened file must
/// resolve into `input` unless `follow_symlinks`, and the page-cache decision is the
/// run's; returns `(pages, articles, snippets)`.
#[pyfunction]
#[pyo3(signature = (files, total_files, config, work_dir, shard, input, threads=None, follow_symlinks=false))]
#[allow(clippy::too_many_arguments)]
fn scan_shard(
    py: Python<'_>,
    files: Vec<(PathBuf, String, Option<String>)>,
    total_files: usize,
    config: &Config,
    work_dir: PathBuf,
    shard: u32,
    input: PathBuf,
    threads: Option<usize>,
    follow_symlinks: bool,
) -> PyResult<(usize, usize, usize)> {
    let files: Vec<InputFile> = files
        .into_iter()
        .map(|(path, source, walk_error)| InputFile {
            path,
            source,
            walk_error: walk_error.map(|e| walk_reject(&e)),
        })
        .collect();
    let rules = config.rules.clone();
    // A fresh pool: the scan's threads keep per-thread buffers sized to the largest
    // page they read, which go with the threads when the task ends (a kept pool held
    // them in the worker for every later task).
    let pool = pagesieve::run::thread_pool(threads).map_err(py_err)?;
    let of = shard::ShardOf {
        total_files,
        input: &input,
        follow_symlinks,
    };
    let stats = py
        .allow_threads(|| pool.install(|| shard::scan_shard(files, of, &rules, &work_dir, shard)))
        .map_err(py_err)?;
    Ok((stats.pages, stats.articles, stats.snippets))
}

/// Phase 2 over the shards `0..shards` in `work_dir`: decisions, records, reports and the
/// index, exactly as `pagesieve run` writes them; returns the summary as JSON.
/// `before` is the job's wall time before phase 2 in seconds, `phases` its phases
/// (`(name, seconds)`), for `report.json`; `extra(staging)` is called once every file
/// is staged, before the commit, and what it writes there is published with the run.
/// `search(columns)`, when given, runs the article search's candidate stage: it is
/// called with the columns file written into `WORK/search` and returns the partitions'
/// round-2 files (`search_keys`, `search_pairs`), which are read and removed.
/// `verify(jobs)`, when given, runs the article search's verification in `parts`
/// partitions: it is called with the job files written into `WORK/verify` and returns
/// their outcome files (`search_verify`), in order; `inline` puts every record in
/// the job files (for tasks that cannot read the shard files in `work_dir`).
/// `write(plans)`, when given, writes the articles' lines of `articles.jsonl` and
/// `dropped.jsonl` in `parts` runs: it is called with the plan files written into
/// `WORK/write` and returns their line lists (`search_write`), in order.
#[pyfunction]
#[pyo3(signature = (input, output, config, work_dir, shards, pages, excluded, problems, skipped=vec![], threads=None, force=false, against=vec![], index=None, max_drop_rate=None, before=0.0, phases=vec![], extra=None, search=None, verify=None, parts=1, inline=false, write=None))]
#[allow(clippy::too_many_arguments)]
fn finish(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    config: &Config,
    work_dir: PathBuf,
    shards: u32,
    pages: usize,
    excluded: usize,
    problems: Vec<String>,
    skipped: Vec<(String, String)>,
    threads: Option<usize>,
    force: bool,
    against: Vec<PathBuf>,
    index: Option<PathBuf>,
    max_drop_rate: Option<f64>,
    before: f64,
    phases: Vec<(String, f64)>,
    extra: Option<PyObject>,
    search: Option<PyObject>,
    verify: Option<PyObject>,
    parts: u32,
    inline: bool,
    write: Option<PyObject>,
) -> PyResult<String> {
    if parts == 0 {
        return Err(UsageError::new_err("parts must be at least 1"));
    }
    let search_dir = work_dir.join("search");
    let verify_dir = work_dir.join("verify");
    let write_dir = work_dir.join("write");
    let opts = options(threads, force, against, index, max_drop_rate);
    let s = settings(input, output, config, opts)?;
    let phase1 = Phase1::Shards {
        dir: work_dir,
        count: shards,
        pages,
    };
    let walked = pagesieve::run::WalkFacts {
        excluded,
        problems,
        skipped: skipped
            .into_iter()
            .map(|(path, why)| Skipped { path, why })
            .collect(),
    };
    let seconds = |x: f64| std::time::Duration::from_secs_f64(x.max(0.0));
    let call_extra = |staging: &std::path::Path| -> Result<(), Error> {
        let Some(f) = &extra else { return Ok(()) };
        Python::with_gil(|py| f.call1(py, (staging.to_path_buf(),)).map(drop)).map_err(|e| {
            Error::Output {
                path: staging.to_path_buf(),
                what: Some("the files written before the commit"),
                source: std::io::Error::other(e.to_string()),
            }
        })
    };
    let call_search = |cols: Columns<'_>, stats: &mut DedupStats| {
        let f = search.as_ref().expect("only set with a callback");
        let columns = partitions::write_columns(&search_dir, &cols)?;
        // The tasks read the file: the columns are not held while they run.
        drop(cols);
        pagesieve::trim::phase_end("dedup: columns written");
        let files: Vec<PathBuf> = Python::with_gil(|py| {
            f.call1(py, (columns.clone(),))
                .and_then(|r| r.extract::<Vec<PathBuf>>(py))
        })
        .map_err(|e| Error::Output {
            path: search_dir.clone(),
            what: Some("the partitioned candidate search"),
            source: std::io::Error::other(e.to_string()),
        })?;
        pagesieve::trim::phase_end("dedup: partition tasks");
        let found = partitions::gather(&files, stats);
        let _ = std::fs::remove_dir_all(&search_dir);
        found
    };
    let call_jobs = |f: &PyObject, dir: &PathBuf, what, jobs: &[PathBuf]| {
        Python::with_gil(|py| {
            f.call1(py, (jobs.to_vec(),))
                .and_then(|r| r.extract::<Vec<PathBuf>>(py))
        })
        .map_err(|e| Error::Output {
            path: dir.clone(),
            what: Some(what),
            source: std::io::Error::other(e.to_string()),
        })
    };
    let call_verify = verify.as_ref().map(|f| {
        let dir = &verify_dir;
        move |jobs: &[PathBuf]| call_jobs(f, dir, "the verification tasks", jobs)
    });
    let call_write = write.as_ref().map(|f| {
        let dir = &write_dir;
        move |plans: &[PathBuf]| call_jobs(f, dir, "the writer tasks", plans)
    });
    let finish = Finish {
        before: seconds(before),
        phases: phases.into_iter().map(|(n, x)| (n, seconds(x))).collect(),
        extra: Some(&call_extra),
        candidates: match search {
            Some(_) => Some(&call_search),
            None => None,
        },
        verify: call_verify.as_ref().map(|run| FileTasks {
            dir: &verify_dir,
            parts,
            inline,
            run,
        }),
        write: call_write.as_ref().map(|run| FileTasks {
            dir: &write_dir,
            parts,
            inline,
            run,
        }),
    };
    let summary = py
        .allow_threads(|| pagesieve::run::run_shards(&s, phase1, walked, finish))
        .map_err(py_err)?;
    Ok(summary_json(&summary))
}

/// Checks a run's settings as the CLI does before anything is read or written (threads,
/// drop rate, `--input` / `--output`): what the Ray job's driver calls before phase 1.
#[pyfunction]
#[pyo3(signature = (input, output, config, threads=None, force=false, against=vec![], index=None, max_drop_rate=None))]
#[allow(clippy::too_many_arguments)]
fn check_settings(
    input: PathBuf,
    output: PathBuf,
    config: &Config,
    threads: Option<usize>,
    force: bool,
    against: Vec<PathBuf>,
    index: Option<PathBuf>,
    max_drop_rate: Option<f64>,
) -> PyResult<()> {
    let opts = options(threads, force, against, index, max_drop_rate);
    let s = settings(input, output, config, opts)?;
    match s.input.to_string_lossy().contains("://") {
        // An object-store input is listed by the driver itself.
        true => pagesieve::run::check_output(&s.output).map_err(py_err)?,
        false => pagesieve::run::check_paths(&s.input, &s.output)
            .map(drop)
            .map_err(py_err)?,
    }
    Ok(())
}

/// The input files of a listing made elsewhere (an object store's keys relative to the
/// input prefix, with sizes), as the CLI's walk takes a folder: hidden names skipped,
/// globs applied, sorted as every step orders them. Returns `(files, excluded)`, each
/// file `(source, size)`.
#[pyfunction]
fn select_listing(names: Vec<(String, u64)>, config: &Config) -> (Vec<(String, u64)>, usize) {
    pagesieve::ingest::walk::select_listing(names, &config.rules.input)
}

/// `"too_large: detail"` when a file of `size` bytes starting with `head` would be
/// refused before it is read (not compressed, over `input.max_file_bytes`): the CLI's
/// reject, for an object that is then not fetched.
#[pyfunction]
fn refused_before_reading(source: &str, head: &[u8], size: u64, config: &Config) -> Option<String> {
    let max = config.rules.input.config.max_file_bytes;
    pagesieve::ingest::decode::refused_before_reading(source, head, size, max)
        .map(|r| format!("{}: {}", r.reason.as_str(), r.detail))
}

/// The duplicate decisions over `texts` (item `i` is text `i`), with the run's search and
/// verification under `config`'s `[dedup]`: one JSON object per dropped text.
#[pyfunction]
fn dedup(py: Python<'_>, texts: Vec<String>, config: &Config) -> String {
    let rules = config.rules.clone();
    py.allow_threads(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (dups, stats) = pagesieve::dedup::deduplicate_texts(&refs, &rules.dedup);
        let drops: Vec<Value> = dups
            .iter()
            .map(|d| {
                json!({
                    "member": d.member, "kept": d.kept, "match": d.kind.as_str(),
                    "similarity": d.similarity, "hamming": d.hamming,
                    "proposed_by": d.proposed_by, "kept_by": d.kept_by,
                })
            })
            .collect();
        json!({"duplicates": drops, "stats": stats}).to_string()
    })
}

/// Writes the synthetic corpus `pagesieve synth` writes.
#[pyfunction]
#[pyo3(signature = (out, pages, seed=1, shape="templated", sample=false))]
fn synth(out: PathBuf, pages: usize, seed: u64, shape: &str, sample: bool) -> PyResult<usize> {
    let shape = match shape {
        "site" => pagesieve::synth::Shape::Site,
        "templated" => pagesieve::synth::Shape::Templated,
        other => {
            return Err(UsageError::new_err(format!(
                "shape {other:?}: use \"templated\" or \"site\""
            )))
        }
    };
    let opts = pagesieve::synth::Options {
        pages,
        seed,
        sample,
        shape,
        encodings: Default::default(),
    };
    let stats = pagesieve::synth::generate(&opts, &out).map_err(|source| {
        py_err(Error::Output {
            path: out.clone(),
            what: Some("synthetic pages"),
            source,
        })
    })?;
    Ok(stats.files)
}

/// Splits a partitioned candidate search's LSH band tables by partition
/// (`pagesieve.split`): one file a partition beside `columns`, which its rounds then read
/// instead of computing every text's keys; returns the files (none without LSH).
#[pyfunction]
#[pyo3(signature = (columns, config, parts))]
fn search_split(
    py: Python<'_>,
    columns: PathBuf,
    config: &Config,
    parts: u32,
) -> PyResult<Vec<PathBuf>> {
    check_part(0, parts)?;
    let rules = config.rules.clone();
    py.allow_threads(|| partitions::split(&columns, &rules.dedup, parts))
        .map_err(py_err)
}

/// Round 1 of partition `part` of `parts` of a partitioned candidate search
/// (`pagesieve.keys[p]`): its oversized key groups, written beside `columns`; returns
/// the file.
#[pyfunction]
#[pyo3(signature = (columns, config, part, parts, threads=None))]
fn search_keys(
    py: Python<'_>,
    columns: PathBuf,
    config: &Config,
    part: u32,
    parts: u32,
    threads: Option<usize>,
) -> PyResult<PathBuf> {
    check_part(part, parts)?;
    let pool = task_pool(threads)?;
    let rules = config.rules.clone();
    py.allow_threads(|| pool.install(|| partitions::round1(&columns, &rules.dedup, part, parts)))
        .map_err(py_err)
}

/// Round 2 of partition `part` (`pagesieve.pairs[p]`), given every partition's round-1
/// file: its candidate pairs and counts, written beside `columns`; returns the file.
#[pyfunction]
#[pyo3(signature = (columns, config, part, parts, oversized, threads=None))]
fn search_pairs(
    py: Python<'_>,
    columns: PathBuf,
    config: &Config,
    part: u32,
    parts: u32,
    oversized: Vec<PathBuf>,
    threads: Option<usize>,
) -> PyResult<PathBuf> {
    check_part(part, parts)?;
    if oversized.len() != parts as usize {
        return Err(UsageError::new_err(format!(
            "{} round-1 files for {parts} partitions",
            oversized.len()
        )));
    }
    let pool = task_pool(threads)?;
    let rules = config.rules.clone();
    py.allow_threads(|| {
        pool.install(|| partitions::round2(&columns, &rules.dedup, part, parts, &oversized))
    })
    .map_err(py_err)
}

/// One partition's verification (`pagesieve.verify[p]`): runs the job file `job`
/// written by phase 2 (its components, members and where their texts are) and writes
/// its outcomes beside it; returns that file.
#[pyfunction]
#[pyo3(signature = (job, config, threads=None))]
fn search_verify(
    py: Python<'_>,
    job: PathBuf,
    config: &Config,
    threads: Option<usize>,
) -> PyResult<PathBuf> {
    let pool = task_pool(threads)?;
    let rules = config.rules.clone();
    py.allow_threads(|| pool.install(|| verification::run_job(&job, &rules.dedup)))
        .map_err(py_err)
}

/// One run of the articles' lines (`pagesieve.write[p]`): renders the plan file `plan`
/// written by phase 2 into its `.kept` and `.dropped` parts and its `.lines` list, beside
/// it; returns the `.lines` file.
#[pyfunction]
#[pyo3(signature = (plan, threads=None))]
fn search_write(py: Python<'_>, plan: PathBuf, threads: Option<usize>) -> PyResult<PathBuf> {
    let pool = task_pool(threads)?;
    py.allow_threads(|| pool.install(|| pagesieve::run::write_parts::run_plan(&plan)))
        .map_err(py_err)
}

/// The thread pool of the search's tasks a worker process runs one after another (keys,
/// pairs, verify, write), one per thread count and kept for the process: Ray reuses a
/// worker for many tasks (the 16 keys and the 16 pairs tasks of a search run in the same
/// two workers here), and a pool built and dropped per task left fragments of its
/// threads' arenas behind every time. (Not the scan's: its threads' buffers must go.)
fn task_pool(threads: Option<usize>) -> PyResult<std::sync::Arc<rayon::ThreadPool>> {
    type Pools = Vec<(Option<usize>, std::sync::Arc<rayon::ThreadPool>)>;
    static POOLS: std::sync::Mutex<Pools> = std::sync::Mutex::new(Vec::new());
    let mut pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = pools.iter().find(|(n, _)| *n == threads) {
        return Ok(p.clone());
    }
    let pool = std::sync::Arc::new(pagesieve::run::thread_pool(threads).map_err(py_err)?);
    pools.push((threads, pool.clone()));
    Ok(pool)
}

fn check_part(part: u32, parts: u32) -> PyResult<()> {
    match part < parts {
        true => Ok(()),
        false => Err(UsageError::new_err(format!(
            "partition {part} of {parts}: partitions are numbered from 0"
        ))),
    }
}

/// The pagesieve version the module was built from.
#[pyfunction]
fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Config>()?;
    m.add_function(wrap_pyfunction!(scan_page, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(list_files, m)?)?;
    m.add_function(wrap_pyfunction!(scan_shard, m)?)?;
    m.add_function(wrap_pyfunction!(finish, m)?)?;
    m.add_function(wrap_pyfunction!(search_split, m)?)?;
    m.add_function(wrap_pyfunction!(search_keys, m)?)?;
    m.add_function(wrap_pyfunction!(search_pairs, m)?)?;
    m.add_function(wrap_pyfunction!(search_verify, m)?)?;
    m.add_function(wrap_pyfunction!(search_write, m)?)?;
    m.add_function(wrap_pyfunction!(check_settings, m)?)?;
    m.add_function(wrap_pyfunction!(select_listing, m)?)?;
    m.add_function(wrap_pyfunction!(refused_before_reading, m)?)?;
    m.add_function(wrap_pyfunction!(dedup, m)?)?;
    m.add_function(wrap_pyfunction!(synth, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    // The CLI's exit code for each error, from the library's own mapping.
    let codes = [
        (
            py.get_type::<PagesieveError>(),
            Error::Spill(std::io::Error::other("")).exit_code(),
        ),
        (
            py.get_type::<UsageError>(),
            Error::Usage(String::new()).exit_code(),
        ),
        (
            py.get_type::<ConfigError>(),
            Error::Config(Vec::new()).exit_code(),
        ),
        (
            py.get_type::<PagesieveIOError>(),
            Error::Spill(std::io::Error::other("")).exit_code(),
        ),
    ];
    for (t, code) in codes {
        t.setattr("exit_code", code)?;
    }
    m.add("PagesieveError", py.get_type::<PagesieveError>())?;
    m.add("UsageError", py.get_type::<UsageError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    m.add("PagesieveIOError", py.get_type::<PagesieveIOError>())?;
    Ok(())
}
