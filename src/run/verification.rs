//! The article search's verification over partition tasks, through files in a work
//! folder every task sees (the Ray job's `pagesieve.verify[p]`;
//! [`crate::dedup::verify_parts`] has the stage itself):
//!
//! ```text
//! phase 2 (pagesieve.finish)   the candidate components, dealt into N contiguous runs
//!                              → verify-PPPP.job (a run's components, its members'
//!                              fingerprints, where each member's text is)
//! pagesieve.verify[p]          verify-PPPP.job → verify-PPPP.done (each component's
//!                              drops, chain splits, verified pairs)
//! phase 2                      every .done, in partition order → the outcomes, as the
//!                              search verifying in process gives them
//! ```
//!
//! A member's text goes by reference — the shard spill file, offset and length of its
//! record, which the task reads and unpacks itself — when its record is in a shard's
//! spill; by value when it is not (an earlier run's record, one phase 2 spilled again
//! after stripping learned boilerplate) or when the tasks cannot read the shard files
//! where phase 2 reads them ([`FileTasks::inline`]: a work folder on object storage,
//! downloaded to phase 2's node). So phase 2 reads no text for verification unless it
//! has to, and holds a job's member list, not its texts, while it writes.
//!
//! Every file is written under a temporary name and renamed: a task killed and run again
//! rewrites the same bytes, and a file that exists is whole.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::dedup::verify_parts::{
    deal, decode_outcomes, encode_outcomes, JobWriter, Member, PartJob, TextAt,
};
use crate::dedup::{DedupRules, Outcome, VerifyJob};
use crate::error::Error;
use crate::run::file_tasks::{
    damaged, number_places, read, read_at, temp_of, write_whole, FileTasks,
};
use crate::run::spill::text_of_record;

/// Partition `part`'s job file in `dir`.
pub fn job_file(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("verify-{part:04}.job"))
}

/// The outcome file of the job file `job`.
pub fn outcome_file(job: &Path) -> PathBuf {
    job.with_extension("done")
}

/// What a job needs of the caller: where item `i`'s record lies when a task can read it
/// there ([`crate::run::store::ArticleStore::locate`]), and its text otherwise; `i` is an
/// index among the caller's items (the job's `origin` applied).
pub struct Texts<'a> {
    /// The record file, offset and length of item `i`'s text, if any.
    pub locate: &'a (dyn Fn(u32) -> Option<(PathBuf, u64, u32)> + Sync),
    /// Item `i`'s text.
    pub text: &'a (dyn Fn(u32) -> Result<String, Error> + Sync),
}

/// Writes the job of every partition that has components into `dir`; returns the files,
/// in partition order.
pub fn write_jobs(
    dir: &Path,
    parts: u32,
    job: &VerifyJob<'_, '_>,
    texts: &Texts<'_>,
    inline: bool,
) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
    let mut files = Vec::new();
    for (p, range) in deal(job.comps, parts).into_iter().enumerate() {
        if range.is_empty() {
            continue;
        }
        let path = job_file(dir, p as u32);
        write_job(&path, &job.comps[range], job, texts, inline)?;
        files.push(path);
    }
    Ok(files)
}

/// Members located between two hand-backs of the mapped columns' pages.
const LOCATED_BETWEEN_RELEASES: usize = 4096;

/// One partition's job file: its members in ascending item order, each text placed.
fn write_job(
    path: &Path,
    comps: &[crate::dedup::components::Component],
    job: &VerifyJob<'_, '_>,
    texts: &Texts<'_>,
    inline: bool,
) -> Result<(), Error> {
    let mut locals: Vec<u32> = comps
        .iter()
        .flat_map(|c| c.members.iter().copied())
        .collect();
    // A member's position among the job's items is its order among the searched items.
    let pos = |l: u32| job.members.slot[l as usize];
    locals.sort_unstable_by_key(|&l| pos(l));
    // The record files first (the job names them before its members). Each member is
    // located through its page's summary row, and a job's members lie all over the
    // column (a partition is a run of components, not of pages): the rows read are
    // handed back every few thousand members (16 MB of rows at most, one a 4 KB page),
    // or a job would leave the whole summary column counted in this process.
    let locations = locals.iter().enumerate().map(|(n, &l)| {
        if n % LOCATED_BETWEEN_RELEASES == LOCATED_BETWEEN_RELEASES - 1 {
            crate::trim::release_all();
        }
        (texts.locate)((job.origin)(job.members.item(pos(l))))
    });
    let (files, places) = number_places(locations, inline);
    let tmp = temp_of(path);
    let out = std::fs::File::create(&tmp).map_err(Error::output(path))?;
    let io = Error::output(path);
    let mut w = JobWriter::start(
        BufWriter::with_capacity(1 << 20, out),
        &files,
        comps,
        locals.len() as u32,
    )
    .map_err(&io)?;
    for (&l, place) in locals.iter().zip(places) {
        let (p, i) = (pos(l), job.members.item(pos(l)));
        let text = match place {
            Some((file, offset, len)) => TextAt::Record { file, offset, len },
            None => TextAt::Text((texts.text)((job.origin)(i))?),
        };
        w.member(l, &Member::of(i, &job.members.items[p as usize], text))
            .map_err(&io)?;
    }
    w.finish().map_err(&io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Runs the job in `job` (a task's work): verifies and clusters its components on the
/// current thread pool, reading each text by reference or from the job, and writes the
/// outcomes beside it ([`outcome_file`]); returns that file.
pub fn run_job(job: &Path, rules: &DedupRules) -> Result<PathBuf, Error> {
    // A Ray worker runs many tasks: what an earlier one freed goes back first.
    crate::trim::trim();
    let bytes = read(job)?;
    let part = PartJob::decode(&bytes).map_err(damaged(job))?;
    drop(bytes);
    let text = |m: &Member| -> Result<String, Error> {
        match &m.text {
            TextAt::Text(t) => Ok(t.clone()),
            &TextAt::Record { file, offset, len } => {
                let path = Path::new(&part.files[file as usize]);
                read_at(path, offset, len)
                    .and_then(text_of_record)
                    .map_err(damaged(path))
            }
        }
    };
    let outcomes = part.run(rules, text)?;
    let path = outcome_file(job);
    write_whole(&path, &encode_outcomes(&outcomes))?;
    crate::trim::trim();
    Ok(path)
}

/// Hands every outcome file's outcomes to `sink`, in the order given (partition order:
/// component order), one file read at a time.
pub fn gather(files: &[PathBuf], sink: &mut dyn FnMut(Outcome)) -> Result<(), Error> {
    for f in files {
        decode_outcomes(&read(f)?)
            .map_err(damaged(f))?
            .into_iter()
            .for_each(&mut *sink);
    }
    Ok(())
}

/// The verification stage through `tasks`: the jobs written, run, their outcomes handed
/// to `sink` in order, and every file of it removed.
pub fn through_tasks(
    tasks: &FileTasks<'_>,
    job: &VerifyJob<'_, '_>,
    texts: &Texts<'_>,
    sink: &mut dyn FnMut(Outcome),
) -> Result<(), Error> {
    let jobs = write_jobs(tasks.dir, tasks.parts, job, texts, tasks.inline)?;
    crate::trim::phase_end("dedup: verification jobs written");
    let done = tasks.run_jobs(&jobs, "the verification tasks")?;
    crate::trim::phase_end("dedup: verification tasks");
    let outcomes = gather(&done, sink);
    for f in jobs.iter().chain(&done) {
        let _ = std::fs::remove_file(f);
    }
    let _ = std::fs::remove_dir(tasks.dir);
    outcomes
}

/// Runs the jobs in this process, one after another (the tasks' work, for tests and for
/// checking).
pub fn in_process(jobs: &[PathBuf], rules: &DedupRules) -> Result<Vec<PathBuf>, Error> {
    jobs.iter().map(|j| run_job(j, rules)).collect()
}
