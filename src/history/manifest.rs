//! The manifest of an index folder: the one small file that names the folder's segments,
//! the runs their entries belong to, and the settings they were made under. It is replaced
//! whole by a rename, so a reader sees the segments of one commit or of the next.
//!
//! An index folder outside the output (`--index DIR`) changes with the output of the run
//! that writes it, and one rename cannot move two folders. So the new manifest is first
//! written beside the old one as a *pending* commit that names the output generation it
//! belongs to; the output's pointer switch is the decision; then the pending manifest is
//! renamed over the old one. A reader, and the next writer's recovery, take a pending
//! manifest as the folder's state exactly when its output generation is the published one
//! ([`resolve`], [`recover`]): before the switch the old manifest stands, after it the new.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::generation::{self, sync_dir};

/// The manifest's file name in an index folder.
pub const FILE: &str = "manifest.json";
/// The index format this build reads and writes (format 1 was the single `dedup.idx`).
pub const FORMAT: u32 = 2;
/// Prefix of a pending manifest's file name.
const PENDING: &str = "pending-";
/// Extension of segment files.
pub const SEGMENT_EXT: &str = "psg";

/// What an index folder holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Index format.
    pub format: u32,
    /// The tool that wrote it.
    pub tool: String,
    /// When it was written, UTC.
    pub created: String,
    /// Commits of this folder so far (each publish adds one).
    pub generation: u64,
    /// xxh3-64 of `settings`, hex.
    pub settings_hash: String,
    /// The dedup settings every segment was made under.
    pub settings: Map<String, Value>,
    /// Simhashes per entry.
    pub fingerprints: usize,
    /// The segments, oldest entries first (entry order is this order).
    pub segments: Vec<SegmentRef>,
    /// The runs the entries belong to.
    pub runs: Vec<RunRef>,
    /// Article entries over all segments (runs left out not counted).
    pub articles: u64,
    /// Snippet entries.
    pub snippets: u64,
}

/// One segment of an index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentRef {
    /// Its file, in the index folder.
    pub file: String,
    /// The id in its header.
    pub id: String,
    /// Its length in bytes.
    pub bytes: u64,
    /// Its article entries (those of left-out runs not counted).
    pub articles: u64,
    /// Its snippet entries.
    pub snippets: u64,
    /// Runs whose entries in this segment are not part of the index (another segment
    /// holds them: two `--against` indexes that both covered a run).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_runs: Vec<String>,
}

/// One run an index's entries belong to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunRef {
    /// The run's unique id (segment headers name runs by it).
    pub uid: String,
    /// Its output folder, relative to the index folder (absolute when no relative path
    /// exists).
    pub path: String,
    /// When the run started, UTC.
    pub started: String,
    /// Length of its `articles.jsonl`.
    pub articles_bytes: u64,
    /// Length of its `snippets.jsonl`.
    pub snippets_bytes: u64,
    /// The output generation holding its records (absent for an output written by an
    /// older pagesieve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

/// A manifest written beside the published one, waiting for its output's decision.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Pending {
    /// The output folder (absolute) whose generation decides the commit.
    pub output: String,
    /// That generation.
    pub generation: String,
    /// The manifest it publishes.
    pub manifest: Manifest,
}

impl Pending {
    /// Whether the commit happened: its output generation is the published one.
    pub fn decided(&self) -> bool {
        generation::current_name(Path::new(&self.output)).as_deref() == Some(&self.generation)
    }
}

/// The lock file of an index folder.
pub const LOCK: &str = "lock";

/// Takes the lock of index folder `dir` for a run or `pagesieve index`.
pub fn lock_index(dir: &Path, wait: bool) -> Result<crate::lock::Lock, crate::error::Error> {
    let what = format!("the index folder {}", dir.display());
    crate::lock::acquire(&dir.join(LOCK), &what, wait)
}

/// Reads a manifest file.
pub fn read(path: &Path) -> Result<Manifest, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{} does not parse: {e}", path.display()))?;
    if m.format != FORMAT {
        return Err(format!(
            "{}: index format {}; this pagesieve reads format {FORMAT}",
            path.display(),
            m.format
        ));
    }
    Ok(m)
}

fn pendings(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with(PENDING) {
            v.push(e.path());
        }
    }
    v.sort();
    Ok(v)
}

fn read_pending(path: &Path) -> Option<Pending> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// The state of index folder `dir` as a reader sees it (without its lock): a pending
/// manifest whose output generation was published, else the published manifest, else
/// none. Returns the manifest and the file it was read from.
pub fn resolve(dir: &Path) -> Result<Option<(Manifest, PathBuf)>, String> {
    for p in pendings(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))? {
        if let Some(pending) = read_pending(&p).filter(Pending::decided) {
            return Ok(Some((pending.manifest, p)));
        }
    }
    let path = dir.join(FILE);
    match path.exists() {
        true => read(&path).map(|m| Some((m, path))),
        false => Ok(None),
    }
}

/// Whether `dir` holds an index of this format (published or pending).
pub fn present(dir: &Path) -> bool {
    dir.join(FILE).is_file() || pendings(dir).is_ok_and(|p| !p.is_empty())
}

/// Writes `m` to `dir/manifest.json` through a temporary file renamed into place.
pub fn publish(dir: &Path, m: &Manifest) -> std::io::Result<()> {
    let tmp = dir.join(format!(".tmp-manifest-{:016x}", generation::token()));
    write_synced(
        &tmp,
        &serde_json::to_vec_pretty(m).map_err(std::io::Error::other)?,
    )?;
    fs::rename(&tmp, dir.join(FILE))?;
    sync_dir(dir)
}

/// Writes a pending commit into `dir`; returns its file.
pub fn write_pending(dir: &Path, p: &Pending) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("{PENDING}{}.json", p.generation));
    let tmp = dir.join(format!(".tmp-pending-{:016x}", generation::token()));
    write_synced(
        &tmp,
        &serde_json::to_vec_pretty(p).map_err(std::io::Error::other)?,
    )?;
    fs::rename(&tmp, &path)?;
    sync_dir(dir)?;
    Ok(path)
}

/// Makes a decided pending commit the published manifest.
pub fn complete(dir: &Path, pending: &Path) -> std::io::Result<()> {
    let p = read_pending(pending)
        .ok_or_else(|| std::io::Error::other(format!("{} does not parse", pending.display())))?;
    publish(dir, &p.manifest)?;
    fs::remove_file(pending)?;
    sync_dir(dir)
}

/// What a writer does first, holding the folder's lock: each pending commit is completed
/// (its output generation was published) or dropped (it was not: the run died before its
/// decision), and files no manifest names — segments of a run that died, inputs of a
/// compaction, temporary files — are removed.
pub fn recover(dir: &Path) -> std::io::Result<()> {
    for p in pendings(dir)? {
        match read_pending(&p) {
            Some(pending) if pending.decided() => complete(dir, &p)?,
            _ => fs::remove_file(&p)?,
        }
    }
    let named: Vec<String> = match dir.join(FILE).exists() {
        true => read(&dir.join(FILE))
            .map_err(std::io::Error::other)?
            .segments
            .into_iter()
            .map(|s| s.file)
            .collect(),
        false => Vec::new(),
    };
    remove_unnamed(dir, &named)
}

/// Removes the segment files and temporary files of `dir` that `named` does not list.
pub fn remove_unnamed(dir: &Path, named: &[String]) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let segment = Path::new(&name)
            .extension()
            .is_some_and(|x| x == SEGMENT_EXT);
        if (segment && !named.contains(&name)) || name.starts_with(".tmp-") {
            fs::remove_file(e.path())?;
        }
    }
    sync_dir(dir)
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn manifest(generation: u64) -> Manifest {
        Manifest {
            format: FORMAT,
            tool: "t".into(),
            created: String::new(),
            generation,
            settings_hash: String::new(),
            settings: Map::new(),
            fingerprints: 1,
            segments: Vec::new(),
            runs: Vec::new(),
            articles: 0,
            snippets: 0,
        }
    }

    #[test]
    fn a_pending_commit_counts_exactly_when_its_generation_is_published() {
        let d = tempfile::tempdir().unwrap();
        let idx = d.path().join("idx");
        fs::create_dir(&idx).unwrap();
        publish(&idx, &manifest(1)).unwrap();
        let out = d.path().join("out");
        let folder = crate::generation::OutputFolder::open(&out, false).unwrap();
        let (staged, name) = folder.stage().unwrap();
        let pending = Pending {
            output: out.canonicalize().unwrap().display().to_string(),
            generation: name.clone(),
            manifest: manifest(2),
        };
        write_pending(&idx, &pending).unwrap();
        // Before the switch a reader sees the old manifest.
        assert_eq!(resolve(&idx).unwrap().unwrap().0.generation, 1);
        folder.prepare(&staged, &name).unwrap();
        folder.switch(&name).unwrap();
        // After it, the new one, before and after recovery completes it.
        assert_eq!(resolve(&idx).unwrap().unwrap().0.generation, 2);
        recover(&idx).unwrap();
        assert_eq!(read(&idx.join(FILE)).unwrap().generation, 2);
        assert!(pendings(&idx).unwrap().is_empty());
    }

    #[test]
    fn an_undecided_pending_commit_and_its_segment_are_dropped() {
        let d = tempfile::tempdir().unwrap();
        let idx = d.path().join("idx");
        fs::create_dir(&idx).unwrap();
        publish(&idx, &manifest(1)).unwrap();
        fs::write(idx.join("seg-orphan.psg"), "x").unwrap();
        let pending = Pending {
            output: d.path().join("nowhere").display().to_string(),
            generation: "g-000001-00".into(),
            manifest: manifest(2),
        };
        write_pending(&idx, &pending).unwrap();
        recover(&idx).unwrap();
        assert_eq!(resolve(&idx).unwrap().unwrap().0.generation, 1);
        assert!(!idx.join("seg-orphan.psg").exists());
        assert!(pendings(&idx).unwrap().is_empty());
    }
}
