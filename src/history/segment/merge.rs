//! Merging segments (compaction): the entries of the parts, one after the other, and their
//! sorted tables merged k ways, so memory stays ∝ the number of parts, not their entries.
//!
//! A part is one kind of one segment, with its runs mapped to the new segment's runs; the
//! entries of a run that is not mapped (an index that listed the run twice, through two
//! `--against` folders) are left out. Entry order is kept: part after part, each in its
//! own order, so a merged index numbers its entries as the segments did.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::dedup::minhash::Signature;
use crate::history::rows::{EntryRow, IndexRows};
use crate::history::segment::read::{KindView, Problem};
use crate::history::segment::WideTable;

/// One kind of one segment, as merged into a new segment.
pub struct Part<'a> {
    view: KindView<'a>,
    /// Output index of the part's first entry.
    base: u32,
    /// The part's runs → the new segment's runs (`None`: left out).
    runs: Vec<Option<u32>>,
    /// Visible entries' local indices, when some are left out.
    locals: Option<Vec<u32>>,
    /// Local index → visible position (`u32::MAX`: left out), when some are.
    visible: Option<Vec<u32>>,
    len: usize,
    near: usize,
}

impl<'a> Part<'a> {
    /// The part of `view` whose run `r` becomes run `runs[r]`, its first visible entry
    /// numbered `base`. Reads and checks every row, signature and string once (the
    /// segment's blocks are verified on the way), so that the reads of the merge cannot
    /// fail.
    pub fn new(view: KindView<'a>, base: u32, runs: Vec<Option<u32>>) -> Result<Part<'a>, Problem> {
        let min = view.segment().header.min_chars_near;
        let mut locals = Vec::new();
        let mut visible = Vec::new();
        let mut near = 0;
        let masked = runs.iter().any(Option::is_none);
        for i in 0..view.len() {
            let (row, s) = view.row(i)?;
            let keep = match runs.get(row.run as usize) {
                Some(r) => r.is_some(),
                None => return Err(format!("entry {i} names run {}, past the runs", row.run)),
            };
            view.strings(i, s)?;
            view.signature(i)?;
            if masked {
                visible.push(if keep { locals.len() as u32 } else { u32::MAX });
            }
            if i % 65_536 == 65_535 {
                view.segment().release_all();
            }
            if keep {
                near += usize::from(row.chars as usize >= min);
                locals.push(i as u32);
            }
        }
        let len = locals.len();
        Ok(Part {
            view,
            base,
            runs,
            locals: masked.then_some(locals),
            visible: masked.then_some(visible),
            len,
            near,
        })
    }

    /// Visible entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether none is visible.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Visible entries in the band tables.
    pub fn near(&self) -> usize {
        self.near
    }

    /// The output index of local entry `local`, unless it is left out.
    fn out(&self, local: u32) -> Option<u32> {
        match &self.visible {
            None => Some(self.base + local),
            Some(v) => match v.get(local as usize) {
                Some(&p) if p != u32::MAX => Some(self.base + p),
                _ => None,
            },
        }
    }

    fn local(&self, visible: usize) -> usize {
        self.locals
            .as_ref()
            .map_or(visible, |l| l[visible] as usize)
    }

    const CHECKED: &'static str = "checked when the part was made";

    fn row(&self, visible: usize) -> EntryRow {
        let (mut row, _) = self.view.row(self.local(visible)).expect(Self::CHECKED);
        row.run = self.runs[row.run as usize].expect(Self::CHECKED);
        row
    }

    fn strings(&self, visible: usize) -> (&'a str, &'a str) {
        let local = self.local(visible);
        let (_, s) = self.view.row(local).expect(Self::CHECKED);
        self.view.strings(local, s).expect(Self::CHECKED)
    }
}

/// The visible entries of several parts, one after the other.
pub struct Concat<'a> {
    parts: &'a [Part<'a>],
    starts: Vec<usize>,
}

impl<'a> Concat<'a> {
    /// The parts' entries in order (each part's `base` must be its start here).
    pub fn new(parts: &'a [Part<'a>]) -> Concat<'a> {
        let mut starts = Vec::with_capacity(parts.len());
        let mut at = 0;
        for p in parts {
            debug_assert_eq!(p.base as usize, at);
            starts.push(at);
            at += p.len();
        }
        Concat { parts, starts }
    }

    fn at(&self, i: usize) -> (&Part<'a>, usize) {
        let p = self.starts.partition_point(|&s| s <= i) - 1;
        (&self.parts[p], i - self.starts[p])
    }
}

impl IndexRows for Concat<'_> {
    fn len(&self) -> usize {
        self.parts.iter().map(Part::len).sum()
    }
    fn row(&self, i: usize) -> EntryRow {
        let (p, k) = self.at(i);
        p.row(k)
    }
    fn signature(&self, i: usize) -> &Signature {
        let (p, k) = self.at(i);
        p.view.signature(p.local(k)).expect(Part::CHECKED)
    }
    fn id(&self, i: usize) -> std::borrow::Cow<'_, str> {
        let (p, k) = self.at(i);
        std::borrow::Cow::Borrowed(p.strings(k).0)
    }
    fn source(&self, i: usize) -> &str {
        let (p, k) = self.at(i);
        p.strings(k).1
    }
    fn pages_done(&self) {
        for p in self.parts {
            p.view.segment().release_all();
        }
    }
}

/// The merged rows of wide table `t` over `parts`, sorted by key then output entry.
pub fn merge_wide<'a>(
    parts: &'a [Part<'a>],
    t: WideTable,
) -> impl Iterator<Item = std::io::Result<(u64, u32)>> + 'a {
    let streams: Vec<_> = parts
        .iter()
        .map(|p| {
            p.view
                .wide_rows(t)
                .filter_map(move |r| r.map(|(k, e)| p.out(e).map(|o| (k, o))).transpose())
        })
        .collect();
    kway(streams)
}

/// The merged rows of band `band`'s table over `parts`, sorted by key then output entry.
pub fn merge_bands<'a>(
    parts: &'a [Part<'a>],
    band: usize,
) -> impl Iterator<Item = std::io::Result<(u32, u32)>> + 'a {
    let streams: Vec<_> = parts
        .iter()
        .map(|p| {
            p.view.band_rows(band).filter_map(move |r| {
                r.map(|(k, e)| p.out(e).map(|o| (u64::from(k), o)))
                    .transpose()
            })
        })
        .collect();
    kway(streams).map(|r| r.map(|(k, e)| (k as u32, e)))
}

/// Merges sorted streams of `(key, entry)` into one sorted stream.
fn kway<'a, I>(streams: Vec<I>) -> impl Iterator<Item = std::io::Result<(u64, u32)>> + 'a
where
    I: Iterator<Item = Result<(u64, u32), Problem>> + 'a,
{
    let mut streams = streams;
    let mut heap: BinaryHeap<Reverse<(u64, u32, usize)>> = BinaryHeap::new();
    let mut failed: Option<Problem> = None;
    for (s, it) in streams.iter_mut().enumerate() {
        match it.next() {
            Some(Ok((k, e))) => heap.push(Reverse((k, e, s))),
            Some(Err(p)) => failed = Some(p),
            None => {}
        }
    }
    std::iter::from_fn(move || {
        if let Some(p) = failed.take() {
            return Some(Err(std::io::Error::other(p)));
        }
        let Reverse((k, e, s)) = heap.pop()?;
        match streams[s].next() {
            Some(Ok((k2, e2))) => heap.push(Reverse((k2, e2, s))),
            Some(Err(p)) => failed = Some(p),
            None => {}
        }
        Some(Ok((k, e)))
    })
}
