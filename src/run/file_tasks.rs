//! A stage of phase 2 run by tasks through files in a folder every task sees: phase 2
//! writes one job file a partition, hands them to `run` (the Ray job's tasks, or this
//! process in tests), and reads back the file each job gave. Verification
//! ([`crate::run::verification`]) and the record writing ([`crate::run::write_parts`])
//! are run this way with `--partitions N`.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// Runs job files: given them, returns the file each gave, in order.
pub type RunJobs<'a> = &'a (dyn Fn(&[PathBuf]) -> Result<Vec<PathBuf>, Error> + Sync);

/// A stage run by tasks, as phase 2 is given it.
#[derive(Clone, Copy)]
pub struct FileTasks<'a> {
    /// Folder the job files and their results go through (every task reads and writes
    /// it).
    pub dir: &'a Path,
    /// Partitions the work is dealt into.
    pub parts: u32,
    /// Every record in the job files themselves, none by reference: for tasks that
    /// cannot read the shard files where phase 2 reads them (a work folder on object
    /// storage, downloaded to phase 2's node).
    pub inline: bool,
    /// Runs the jobs.
    pub run: RunJobs<'a>,
}

impl FileTasks<'_> {
    /// Runs `jobs` through [`FileTasks::run`], checking that each gave one file.
    pub fn run_jobs(&self, jobs: &[PathBuf], what: &'static str) -> Result<Vec<PathBuf>, Error> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let done = (self.run)(jobs)?;
        match done.len() == jobs.len() {
            true => Ok(done),
            false => Err(Error::Output {
                path: self.dir.to_path_buf(),
                what: Some(what),
                source: std::io::Error::other(format!(
                    "{} result files for {} jobs",
                    done.len(),
                    jobs.len()
                )),
            }),
        }
    }
}

/// The temporary name `path` is written under before it is renamed into place, so that a
/// file that exists is whole and a task run again rewrites it.
pub fn temp_of(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes `bytes` to `path` whole or not at all (a temporary name, then a rename).
pub fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    std::fs::write(temp_of(path), bytes).map_err(Error::output(path))?;
    std::fs::rename(temp_of(path), path).map_err(Error::output(path))
}

/// A record in a job's file list: (file number, offset, length).
pub type Place = (u32, u64, u32);

/// Where each of a job's records lies, as the job file names it: the record files
/// numbered in order of first use, and each record's (file number, offset, length), or
/// `None` for a record the job carries itself (none found by `locate`, or `inline`).
pub fn number_places(
    locations: impl Iterator<Item = Option<(PathBuf, u64, u32)>>,
    inline: bool,
) -> (Vec<String>, Vec<Option<Place>>) {
    let mut files: Vec<String> = Vec::new();
    let mut numbered: std::collections::HashMap<PathBuf, u32> = Default::default();
    let places = locations
        .map(|at| {
            let (file, offset, len) = at.filter(|_| !inline)?;
            let n = *numbered.entry(file).or_insert_with_key(|file| {
                files.push(file.to_string_lossy().into_owned());
                files.len() as u32 - 1
            });
            Some((n, offset, len))
        })
        .collect();
    (files, places)
}

/// `path`'s bytes, or an error naming it.
pub fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Turns a decoding error of `path` into one naming it.
pub fn damaged(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// The record `len` bytes long at `offset` of the file `path` (a shard's spill).
pub fn read_at(path: &Path, offset: u64, len: u32) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; len as usize];
    f.read_exact_at(&mut buf, offset)?;
    Ok(buf)
}
