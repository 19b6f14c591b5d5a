//! The article search's candidate stage over partition tasks, through files in a work
//! folder every task sees (the Ray job's `partitions=N`; [`crate::dedup::partition`] has
//! the stage itself):
//!
//! ```text
//! phase 2 (pagesieve.finish)   the searched texts' columns → search.cols
//! pagesieve.keys[p], p < N     search.cols → keys-PPPP.over   (its oversized groups)
//! pagesieve.pairs[p], p < N    search.cols + every .over → pairs-PPPP.pairs
//! phase 2                      every .pairs → the candidates, as one process finds them
//! ```
//!
//! Every file is written under a temporary name and renamed, so a task that is killed
//! and run again rewrites the same bytes, and a file that exists is whole. The columns are
//! written once per search; a task reads all of them (a partition owns key groups, not
//! texts) and keeps only its own groups' tables. The signatures are read in place from a
//! mapping of the file ([`MappedColumns`]): the partition tasks of one node share one copy
//! of them in the page cache.

use std::path::{Path, PathBuf};

use crate::dedup::candidates::{merge_parts, pairs_in, Candidate};
use crate::dedup::columns::{ColumnFile, Columns, MappedColumns};
use crate::dedup::pass::{Oversized, PartPairs, Pass};
use crate::dedup::{DedupRules, DedupStats};
use crate::error::Error;

/// The columns file of a search in `dir`.
pub fn columns_file(dir: &Path) -> PathBuf {
    dir.join("search.cols")
}

/// Partition `part`'s round-1 file in `dir`.
pub fn oversized_file(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("keys-{part:04}.over"))
}

/// Partition `part`'s round-2 file in `dir`.
pub fn pairs_file(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("pairs-{part:04}.pairs"))
}

/// Writes `bytes` to `path` whole or not at all (a temporary name, then a rename).
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(Error::output(path))?;
    std::fs::rename(&tmp, path).map_err(Error::output(path))
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn damaged(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes the searched texts' columns into `dir` (created) as they are encoded, whole
/// or not at all; returns the file.
pub fn write_columns(dir: &Path, cols: &Columns<'_>) -> Result<PathBuf, Error> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
    let path = columns_file(dir);
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        ColumnFile::write(cols, &mut w)?;
        w.flush()
    };
    write().map_err(Error::output(&path))?;
    std::fs::rename(&tmp, &path).map_err(Error::output(&path))?;
    Ok(path)
}

/// The columns file, mapped (its signatures stay pages of the file).
fn load_columns(path: &Path) -> Result<MappedColumns, Error> {
    MappedColumns::open(path).map_err(damaged(path))
}

/// Round 1 for partition `part` of `parts`: its oversized groups, written beside the
/// columns file; returns the file.
pub fn round1(columns: &Path, rules: &DedupRules, part: u32, parts: u32) -> Result<PathBuf, Error> {
    let mapped = load_columns(columns)?;
    let cols = mapped.columns().map_err(damaged(columns))?;
    let (_, big) = pairs_in(&cols, rules, Pass::Oversized { part, parts });
    drop(cols);
    drop(mapped);
    let path = oversized_file(parent(columns), part);
    write_whole(&path, &big.encode())?;
    // A Ray worker runs task after task: what this one freed goes back to the system.
    crate::trim::phase_end("search: round 1");
    Ok(path)
}

/// Round 2 for partition `part` of `parts`, given every partition's round-1 file: its
/// pairs and counts, written beside the columns file; returns the file.
pub fn round2(
    columns: &Path,
    rules: &DedupRules,
    part: u32,
    parts: u32,
    oversized: &[PathBuf],
) -> Result<PathBuf, Error> {
    let lists = oversized
        .iter()
        .map(|p| Oversized::decode(&read(p)?).map_err(damaged(p)))
        .collect::<Result<Vec<_>, Error>>()?;
    let oversized = Oversized::merge(lists);
    let mapped = load_columns(columns)?;
    let cols = mapped.columns().map_err(damaged(columns))?;
    let pass = Pass::Pairs {
        part,
        parts,
        oversized: &oversized,
    };
    let (found, _) = pairs_in(&cols, rules, pass);
    drop(cols);
    drop(mapped);
    let path = pairs_file(parent(columns), part);
    write_whole(&path, &found.encode())?;
    crate::trim::phase_end("search: round 2");
    Ok(path)
}

/// The candidates from every partition's round-2 file, adding their counts to `stats`.
pub fn gather(pairs: &[PathBuf], stats: &mut DedupStats) -> Result<Vec<Candidate>, Error> {
    let parts = pairs
        .iter()
        .map(|p| PartPairs::decode(&read(p)?).map_err(damaged(p)))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(merge_parts(parts, stats))
}

/// Both rounds of `parts` partitions run here, one after another, through the files in
/// `dir`: the candidate stage the Ray job's tasks run, for tests and for checking.
pub fn in_process(
    dir: &Path,
    rules: &DedupRules,
    parts: u32,
    cols: &Columns<'_>,
    stats: &mut DedupStats,
) -> Result<Vec<Candidate>, Error> {
    let columns = write_columns(dir, cols)?;
    let over = (0..parts)
        .map(|p| round1(&columns, rules, p, parts))
        .collect::<Result<Vec<_>, Error>>()?;
    let pairs = (0..parts)
        .map(|p| round2(&columns, rules, p, parts, &over))
        .collect::<Result<Vec<_>, Error>>()?;
    let found = gather(&pairs, stats)?;
    for f in over.iter().chain(&pairs).chain([&columns]) {
        let _ = std::fs::remove_file(f);
    }
    Ok(found)
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}
