//! A night's index: the one that covers what the night ran against and what it kept.
//!
//! It names the segments of the indexes read (hard links into the new index's folder, so
//! nothing is rewritten: a copy only where the folders are on different file systems),
//! plus one new segment of tonight's kept records, merged with its neighbours when the
//! policy says so ([`crate::history::compact`]). Its manifest is published with the output
//! (in the output's generation) or, under `--index DIR`, as a pending commit decided by
//! the output's pointer switch ([`crate::history::manifest`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::history::build::{manifest_of, segment_params, write_new_segment};
use crate::history::compact::{self, Input};
use crate::history::manifest::{Manifest, RunRef, SegmentRef};
use crate::history::rows::IndexRows;
use crate::history::segment::{RunCount, Segment};
use crate::history::{relative, History};
use crate::rules::Rules;

/// What the night adds: the run just written.
pub struct ThisRun<'a> {
    /// Its output folder (absolute).
    pub dir: PathBuf,
    /// When it started.
    pub started: String,
    /// The output generation its records are in.
    pub generation: String,
    /// Final length of its `articles.jsonl`.
    pub articles_bytes: u64,
    /// Final length of its `snippets.jsonl`.
    pub snippets_bytes: u64,
    /// Its kept articles, in file order (rows name run 0).
    pub articles: &'a dyn IndexRows,
    /// Its kept snippets.
    pub snippets: &'a dyn IndexRows,
}

impl ThisRun<'_> {
    /// Its run id.
    pub fn uid(&self) -> String {
        crate::history::build::run_uid(&self.dir, &self.started, Some(&self.generation))
    }
}

/// The next index, its files written, its manifest not yet published.
#[derive(Debug)]
pub struct NextIndex {
    /// The manifest to publish.
    pub manifest: Manifest,
    /// The segment files written or linked for it (removed if the run stops first).
    pub new_files: Vec<PathBuf>,
}

/// One segment of the next index, as it is being assembled.
struct Slot {
    seg: SegmentRef,
    open: Arc<Segment>,
    /// Its runs → the next index's runs.
    runs: Vec<Option<u32>>,
    /// Made for this index (a link or a new file), not inherited from the folder.
    new: bool,
}

/// Writes into `dir` the files of the index covering `history` and `run`; `final_dir` is
/// where `dir` will be read from (run paths are relative to it); `generation` counts the
/// folder's commits.
pub fn next_index(
    history: &History,
    run: &ThisRun<'_>,
    dir: &Path,
    final_dir: &Path,
    rules: &Rules,
    generation: u64,
) -> std::io::Result<NextIndex> {
    std::fs::create_dir_all(dir)?;
    let mut new_files = Vec::new();
    let mut slots = Vec::new();
    let uid_of: Vec<String> = history.runs.iter().map(|r| r.uid.clone()).collect();
    for part in &history.parts {
        let seg = &part.segment;
        let file = seg
            .path()
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = dir.join(&file);
        // A file of that name is that segment (names are ids): nothing to do.
        let new = !same_file(seg.path(), &target) && !target.exists();
        if new {
            link_or_copy(seg.path(), &target)?;
            new_files.push(target);
        }
        let skip = seg
            .header
            .runs
            .iter()
            .zip(&part.runs)
            .filter(|(_, m)| m.is_none())
            .map(|(r, _)| r.uid.clone())
            .collect();
        slots.push(Slot {
            seg: SegmentRef {
                file,
                id: seg.header.id.clone(),
                bytes: seg.size(),
                articles: part.visible(crate::record::RecordKind::Article),
                snippets: part.visible(crate::record::RecordKind::Snippet),
                skip_runs: skip,
            },
            open: Arc::clone(seg),
            runs: part.runs.clone(),
            new,
        });
    }
    // Tonight's segment: run 0 of it is the next index's last run.
    let mut uids = uid_of;
    let tonight = uids.len() as u32;
    uids.push(run.uid());
    let counts = vec![RunCount {
        uid: run.uid(),
        articles: run.articles.len() as u64,
        snippets: run.snippets.len() as u64,
    }];
    let params = segment_params(rules, counts);
    let seg = write_new_segment(dir, &params, run.articles, run.snippets)?;
    let path = dir.join(&seg.file);
    new_files.push(path.clone());
    crate::fault::point(crate::fault::SEGMENT_WRITTEN);
    slots.push(Slot {
        open: Arc::new(Segment::open(&path).map_err(std::io::Error::other)?),
        seg,
        runs: vec![Some(tonight)],
        new: true,
    });
    compact_tail(&mut slots, &mut new_files, dir, &uids, rules)?;
    let mut runs: Vec<RunRef> = history
        .runs
        .iter()
        .map(|r| RunRef {
            uid: r.uid.clone(),
            path: relative(final_dir, &r.dir).display().to_string(),
            started: r.started.clone(),
            articles_bytes: r.bytes[0],
            snippets_bytes: r.bytes[1],
            generation: r.generation.clone(),
        })
        .collect();
    runs.push(RunRef {
        uid: run.uid(),
        path: relative(final_dir, &run.dir).display().to_string(),
        started: run.started.clone(),
        articles_bytes: run.articles_bytes,
        snippets_bytes: run.snippets_bytes,
        generation: Some(run.generation.clone()),
    });
    let segments = slots.into_iter().map(|s| s.seg).collect();
    Ok(NextIndex {
        manifest: manifest_of(rules, generation, segments, runs),
        new_files,
    })
}

/// Merges the trailing segments while the policy says so.
fn compact_tail(
    slots: &mut Vec<Slot>,
    new_files: &mut Vec<PathBuf>,
    dir: &Path,
    uids: &[String],
    rules: &Rules,
) -> std::io::Result<()> {
    loop {
        let sizes: Vec<u64> = slots
            .iter()
            .map(|s| s.seg.articles + s.seg.snippets)
            .collect();
        let Some(start) = compact::plan(&sizes) else {
            return Ok(());
        };
        let inputs: Vec<Input> = slots[start..]
            .iter()
            .map(|s| Input {
                segment: Arc::clone(&s.open),
                runs: s.runs.clone(),
            })
            .collect();
        let (seg, runs) = compact::merge(dir, &inputs, uids, rules)?;
        drop(inputs);
        // Inputs made for this index are no one's: remove them now. Inherited ones stay
        // until the new manifest is published (the old one names them).
        for s in slots.drain(start..) {
            if s.new {
                let p = dir.join(&s.seg.file);
                new_files.retain(|f| f != &p);
                std::fs::remove_file(&p)?;
            }
        }
        let path = dir.join(&seg.file);
        new_files.push(path.clone());
        slots.push(Slot {
            open: Arc::new(Segment::open(&path).map_err(std::io::Error::other)?),
            seg,
            runs,
            new: true,
        });
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// Hard-links a segment into another index folder (segments never change, so both folders
/// may hold it); copies it where the folders are on different file systems.
fn link_or_copy(from: &Path, to: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => Ok(()),
        Err(_) => {
            std::fs::copy(from, to)?;
            std::fs::File::open(to)?.sync_all()
        }
    }
}
