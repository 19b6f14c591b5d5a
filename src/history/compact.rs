//! Compaction: the segments of an index merged so that a lookup touches O(log N) of them and
//! every entry is rewritten O(log N) times over its life.
//!
//! The policy is tiered by size over *consecutive* segments (a merge concatenates its
//! inputs, which keeps the entries' order): a segment's level is ⌊log₈ entries⌋, and once
//! the trailing run of segments whose levels are at most the newest one's holds
//! [`MERGE_FACTOR`] segments, it is merged into one, which may complete the next level's
//! run (a cascade). Nights of similar size therefore merge eight at a time: after 24
//! nights three segments of eight nights each, every entry written twice (2× the index).
//! A night that is much larger or smaller than its neighbours joins the run of the next
//! merge at its level or below, so no segment is stranded.
//!
//! `pagesieve index --compact DIR` merges every segment of an index into one.

use std::path::Path;
use std::sync::Arc;

use crate::error::Error;
use crate::history::manifest::{self, RunRef, SegmentRef, SEGMENT_EXT};
use crate::history::segment::merge::{Concat, Part};
use crate::history::segment::{write_segment, KindInput, RunCount, Segment, TableSource};
use crate::record::RecordKind;
use crate::rules::Rules;

/// Segments merged at once.
pub const MERGE_FACTOR: usize = 8;

/// A segment's level: ⌊log₈ of its entries⌋.
pub fn level(entries: u64) -> u32 {
    let mut l = 0;
    let mut n = entries.max(1);
    while n >= MERGE_FACTOR as u64 {
        n /= MERGE_FACTOR as u64;
        l += 1;
    }
    l
}

/// The first of the trailing segments to merge, if the policy merges any: the trailing run
/// of segments whose levels are at most the last one's, once it holds `MERGE_FACTOR`.
pub fn plan(entries: &[u64]) -> Option<usize> {
    let last = level(*entries.last()?);
    let start = entries
        .iter()
        .rposition(|&e| level(e) > last)
        .map_or(0, |p| p + 1);
    (entries.len() - start >= MERGE_FACTOR).then_some(start)
}

/// One segment going into a merge, with its runs mapped to the index's runs (`None`:
/// its entries of that run are left out).
pub struct Input {
    /// The segment.
    pub segment: Arc<Segment>,
    /// Its runs → the index's runs.
    pub runs: Vec<Option<u32>>,
}

/// Merges `inputs` (consecutive, in entry order) into one new segment in `dir`; `uids` are
/// the index's run ids. Every input is verified whole first. Returns the new segment's
/// reference and its runs mapped to the index's.
pub fn merge(
    dir: &Path,
    inputs: &[Input],
    uids: &[String],
    rules: &Rules,
) -> std::io::Result<(SegmentRef, Vec<Option<u32>>)> {
    let other = std::io::Error::other;
    for i in inputs {
        i.segment
            .verify_all()
            .map_err(|p| other(format!("{}: {p}", i.segment.path().display())))?;
    }
    // The merged segment's runs: the index runs the inputs keep, in order of appearance.
    let mut runs: Vec<u32> = Vec::new();
    let mut counts: Vec<RunCount> = Vec::new();
    for i in inputs {
        for (r, to) in i.segment.header.runs.iter().zip(&i.runs) {
            let Some(to) = *to else { continue };
            let at = match runs.iter().position(|&x| x == to) {
                Some(at) => at,
                None => {
                    runs.push(to);
                    counts.push(RunCount {
                        uid: uids[to as usize].clone(),
                        articles: 0,
                        snippets: 0,
                    });
                    runs.len() - 1
                }
            };
            counts[at].articles += r.articles;
            counts[at].snippets += r.snippets;
        }
    }
    let local_of =
        |to: Option<u32>| to.and_then(|t| runs.iter().position(|&x| x == t).map(|p| p as u32));
    let parts_of = |kind: RecordKind| -> std::io::Result<Vec<Part<'_>>> {
        let mut parts = Vec::new();
        let mut base = 0u32;
        for i in inputs {
            let map = i.runs.iter().map(|&r| local_of(r)).collect();
            let p = Part::new(i.segment.kind(kind), base, map)
                .map_err(|p| other(format!("{}: {p}", i.segment.path().display())))?;
            base += p.len() as u32;
            parts.push(p);
        }
        Ok(parts)
    };
    let (pa, ps) = (
        parts_of(RecordKind::Article)?,
        parts_of(RecordKind::Snippet)?,
    );
    let (ca, cs) = (Concat::new(&pa), Concat::new(&ps));
    let params = crate::history::build::segment_params(rules, counts);
    let file = format!("seg-{}.{SEGMENT_EXT}", params.id);
    let a = KindInput {
        rows: &ca,
        tables: TableSource::Merge(&pa),
    };
    let s = KindInput {
        rows: &cs,
        tables: TableSource::Merge(&ps),
    };
    let (header, bytes) = write_segment(&dir.join(&file), &params, a, s)?;
    let seg = SegmentRef {
        file,
        id: header.id,
        bytes,
        articles: header.articles.entries,
        snippets: header.snippets.entries,
        skip_runs: Vec::new(),
    };
    Ok((seg, runs.into_iter().map(Some).collect()))
}

/// `pagesieve index --compact DIR`: merges every segment of the index folder `dir` into
/// one (converting a format-1 `dedup.idx`), under its lock; returns the manifest.
pub fn compact_folder(dir: &Path, rules: &Rules, wait: bool) -> Result<manifest::Manifest, Error> {
    let io = Error::output(dir);
    let dir = dir.canonicalize().map_err(&io)?;
    let _lock = crate::history::manifest::lock_index(&dir, wait)?;
    manifest::recover(&dir).map_err(&io)?;
    let bad = |m: String| Error::Usage(format!("index {}: {m}", dir.display()));
    let open = crate::history::open_index(&dir, rules, &dir)?;
    let m = open.manifest;
    let uids: Vec<String> = m.runs.iter().map(|r| r.uid.clone()).collect();
    let mut inputs = Vec::new();
    for s in &m.segments {
        let seg = Segment::open(&open.segments.join(&s.file))
            .map_err(|e| bad(format!("segment {}: {e}", s.file)))?;
        let runs = seg
            .header
            .runs
            .iter()
            .map(|r| match s.skip_runs.contains(&r.uid) {
                true => None,
                false => uids.iter().position(|u| *u == r.uid).map(|p| p as u32),
            })
            .collect();
        inputs.push(Input {
            segment: Arc::new(seg),
            runs,
        });
    }
    let segments = match inputs.len() {
        0 => Vec::new(),
        _ => vec![merge(&dir, &inputs, &uids, rules).map_err(&io)?.0],
    };
    let runs: Vec<RunRef> = m.runs.clone();
    let named: Vec<String> = segments.iter().map(|s| s.file.clone()).collect();
    let next = crate::history::build::manifest_of(rules, m.generation + 1, segments, runs);
    manifest::publish(&dir, &next).map_err(&io)?;
    drop(inputs);
    manifest::remove_unnamed(&dir, &named).map_err(&io)?;
    let _ = std::fs::remove_file(dir.join(crate::history::legacy::FILE_NAME));
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_nights_merge_eight_at_a_time_and_cascade() {
        let night = 10_000u64;
        let mut segs: Vec<u64> = Vec::new();
        let mut written = 0u64;
        for _ in 0..64 {
            segs.push(night);
            written += night;
            while let Some(start) = plan(&segs) {
                let merged: u64 = segs[start..].iter().sum();
                written += merged;
                segs.truncate(start);
                segs.push(merged);
            }
            assert!(segs.len() < 2 * MERGE_FACTOR, "{segs:?}");
        }
        // 64 nights: one segment; every entry written three times (once, then two merges).
        assert_eq!(segs, [64 * night]);
        assert_eq!(written, 3 * 64 * night);
    }

    #[test]
    fn a_stranded_small_segment_joins_the_next_merge() {
        // A big night between small ones, then small nights again.
        let mut segs = vec![80_000, 10_000, 10_000, 80_000];
        segs.extend([10_000; 7]);
        assert_eq!(plan(&segs), None);
        segs.push(10_000);
        let start = plan(&segs).unwrap();
        assert_eq!(start, 4);
        segs.truncate(start);
        segs.push(80_000);
        // Later merges at the next level take the two small ones with them.
        segs.extend([80_000; 3]);
        assert_eq!(plan(&segs), Some(0));
    }
}
