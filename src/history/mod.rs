//! What earlier runs kept: the persistent dedup index, read for `run --against`, extended
//! with one segment per night, rebuilt from earlier outputs by `pagesieve index`.
//!
//! An index is a folder: immutable segments ([`segment`]) and a manifest that names them
//! ([`manifest`]). A segment holds, for every article and snippet its runs kept, the id,
//! source, title key, exact hash, fingerprints, MinHash signature and where the record is
//! (run, byte offset), and the candidate keys in sorted tables. A night opens the segments
//! (their headers only), finds the entries that can meet its texts by binary search over
//! its own keys ([`History::probe`]), and reads only those; verification reads the texts
//! of candidate pairs straight from the earlier `articles.jsonl` / `snippets.jsonl`.
//! Earlier records are *pinned* in the duplicate search ([`crate::dedup::Item::pinned`]):
//! never dropped, preferred over tonight's, never compared with each other.
//!
//! Entries are numbered across the loaded indexes, their segments and each segment's
//! entries in order: the number is an entry's place in input order among earlier records
//! (what the keep policy's ties and the links' "first earlier article" use). docs/INDEX.md
//! describes the folder for a reader without the code.

pub mod build;
pub mod compact;
pub mod legacy;
pub mod manifest;
pub mod night;
pub mod rows;
pub mod segment;
pub mod settings;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use serde::Deserialize;

use crate::dedup::minhash::{estimate, Signature};
use crate::dedup::source::{self, ItemSource};
use crate::dedup::{DedupRules, Fingerprint};
use crate::error::Error;
use crate::history::manifest::Manifest;
use crate::history::rows::{EntryRow, IndexRows};
use crate::history::segment::{Segment, WideTable};
use crate::record::RecordKind;
use crate::rules::Rules;

/// Where one indexed record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    /// Index into the runs.
    pub run: u32,
    /// Byte offset of its line in the run's `articles.jsonl` or `snippets.jsonl`.
    pub offset: u64,
    /// Length of the line, newline included.
    pub len: u32,
}

/// Many strings in one buffer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strings {
    blob: String,
    ends: Vec<usize>,
}

impl Strings {
    /// Appends one.
    pub fn push(&mut self, s: &str) {
        self.blob.push_str(s);
        self.ends.push(self.blob.len());
    }

    /// String `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.blob[start..self.ends[i]]
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Index entries of one kind held in memory, as parallel columns (a rebuilt or converted
/// index, tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entries {
    /// Fingerprints (exact hash, simhashes, length).
    pub fps: Vec<Fingerprint>,
    /// MinHash signatures.
    pub sigs: Vec<Signature>,
    /// Where each record is.
    pub locs: Vec<Loc>,
    /// xxh3-64 of the normalized title (snippet → article links).
    pub title_keys: Vec<u64>,
    /// Replacement characters from decoding (a rebuilt index counts U+FFFD in the text).
    pub replacements: Vec<u32>,
    /// Record ids.
    pub ids: Strings,
    /// Record sources.
    pub sources: Strings,
}

impl Entries {
    /// Room for `n` entries.
    pub fn with_capacity(n: usize) -> Entries {
        Entries {
            fps: Vec::with_capacity(n),
            sigs: Vec::with_capacity(n),
            locs: Vec::with_capacity(n),
            title_keys: Vec::with_capacity(n),
            replacements: Vec::with_capacity(n),
            ..Entries::default()
        }
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.fps.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fps.is_empty()
    }
}

impl IndexRows for Entries {
    fn len(&self) -> usize {
        self.fps.len()
    }
    fn row(&self, i: usize) -> EntryRow {
        EntryRow::of(
            &self.fps[i],
            self.title_keys[i],
            self.replacements[i],
            self.locs[i],
        )
    }
    fn signature(&self, i: usize) -> &Signature {
        &self.sigs[i]
    }
    fn id(&self, i: usize) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(self.ids.get(i))
    }
    fn source(&self, i: usize) -> &str {
        self.sources.get(i)
    }
}

/// An earlier output folder an index refers to; its record files are opened when first
/// read (a year of nights is hundreds of runs: they are not all held open).
#[derive(Debug)]
pub struct EarlierRun {
    /// The output folder (what records name as `earlier.output`).
    pub dir: PathBuf,
    /// When that run started.
    pub started: String,
    /// The run's unique id.
    pub uid: String,
    /// The output generation holding its records, when it has generations.
    pub generation: Option<String>,
    /// The folder the record files are read from: the generation's, or `dir`.
    files: PathBuf,
    /// Lengths of its `articles.jsonl` and `snippets.jsonl`, as the index knows them.
    pub bytes: [u64; 2],
    open: [OnceLock<Result<File, String>>; 2],
}

impl EarlierRun {
    /// Resolves run `r` of an index whose runs are relative to `base`, checking that its
    /// output still holds the records the index points into.
    fn open(base: &Path, r: &manifest::RunRef) -> Result<EarlierRun, String> {
        let dir = base.join(&r.path);
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("its run folder {} is not readable: {e}", dir.display()))?;
        let files = match &r.generation {
            None => dir.clone(),
            Some(g) => {
                let now = crate::generation::current_name(&dir);
                if now.as_deref() != Some(g.as_str()) {
                    return Err(format!(
                        "{} was written again since the index was made (generation {}, \
                         the index expects {g}): its records moved; rebuild the index \
                         with `pagesieve index`",
                        dir.display(),
                        now.as_deref().unwrap_or("none")
                    ));
                }
                dir.join(crate::generation::META).join(g)
            }
        };
        for (name, want) in [
            ("articles.jsonl", r.articles_bytes),
            ("snippets.jsonl", r.snippets_bytes),
        ] {
            let p = files.join(name);
            let have = std::fs::metadata(&p)
                .map_err(|e| format!("cannot open {}: {e}", p.display()))?
                .len();
            if have != want {
                return Err(format!(
                    "{} is {have} bytes, the index expects {want}: the output changed since \
                     the index was written (rebuild it with `pagesieve index`)",
                    p.display()
                ));
            }
        }
        Ok(EarlierRun {
            dir,
            started: r.started.clone(),
            uid: r.uid.clone(),
            generation: r.generation.clone(),
            files,
            bytes: [r.articles_bytes, r.snippets_bytes],
            open: [OnceLock::new(), OnceLock::new()],
        })
    }

    /// The record file of `kind`, opened on first use.
    fn file(&self, kind: RecordKind) -> Result<&File, Error> {
        let (k, name) = match kind {
            RecordKind::Article => (0, "articles.jsonl"),
            RecordKind::Snippet => (1, "snippets.jsonl"),
        };
        let path = self.files.join(name);
        self.open[k]
            .get_or_init(|| File::open(&path).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::Read {
                path: path.clone(),
                source: std::io::Error::other(e.clone()),
            })
    }
}

/// One segment as loaded: its runs mapped to the history's (`None`: left out).
#[derive(Debug)]
pub struct HistoryPart {
    /// The segment.
    pub segment: Arc<Segment>,
    /// Its runs → the history's runs.
    pub runs: Vec<Option<u32>>,
}

impl HistoryPart {
    /// Whether any of its runs is left out.
    pub fn masked(&self) -> bool {
        self.runs.iter().any(Option::is_none)
    }

    /// Entries of `kind` of runs not left out.
    pub fn visible(&self, kind: RecordKind) -> u64 {
        let h = &self.segment.header;
        h.runs
            .iter()
            .zip(&self.runs)
            .filter(|(_, m)| m.is_some())
            .map(|(r, _)| match kind {
                RecordKind::Article => r.articles,
                RecordKind::Snippet => r.snippets,
            })
            .sum()
    }
}

/// An earlier entry, read out of its segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Earlier {
    /// Its fingerprint.
    pub fp: Fingerprint,
    /// Its MinHash signature.
    pub sig: Signature,
    /// Its row; `run` is an index into [`History::runs`].
    pub row: EntryRow,
    /// Its record id.
    pub id: String,
    /// Its source.
    pub source: String,
}

impl Earlier {
    /// Where its record is.
    pub fn loc(&self) -> Loc {
        Loc {
            run: self.row.run,
            offset: self.row.offset,
            len: self.row.len,
        }
    }
}

/// Everything the earlier runs kept, from one or more indexes.
#[derive(Debug, Default)]
pub struct History {
    /// The manifests read.
    pub indexes: Vec<PathBuf>,
    /// The output folders the entries point into.
    pub runs: Vec<EarlierRun>,
    /// The segments, in entry order.
    pub parts: Vec<HistoryPart>,
    /// Per kind, the first entry number of each part.
    starts: [Vec<u32>; 2],
    /// Per kind, entries not left out.
    visible: [usize; 2],
    /// The highest manifest generation read.
    generation: u64,
}

/// An earlier record, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierRecord {
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    text: String,
    metadata: LineMeta,
}

#[derive(Deserialize)]
struct LineMeta {
    #[serde(default)]
    title: String,
}

fn k(kind: RecordKind) -> usize {
    match kind {
        RecordKind::Article => 0,
        RecordKind::Snippet => 1,
    }
}

/// What [`History::probe`] found.
#[derive(Debug, Default)]
pub struct Probed {
    /// The earlier entries that take part in tonight's search (sorted entry numbers).
    pub entries: Vec<u32>,
    /// Entries found by a lookup.
    pub found: usize,
    /// Of those, left out by the signature screen.
    pub screened: usize,
}

/// Tonight's band keys of one band: distinct and sorted, each with the new texts that have
/// it.
struct BandKeys {
    keys: Vec<u32>,
    starts: Vec<u32>,
    items: Vec<u32>,
}

/// Tonight's texts as the probe reads them: signatures from their source, lengths read
/// once.
struct News<'a, S: ?Sized> {
    items: &'a S,
    chars: &'a [u32],
}

impl BandKeys {
    fn of<'s, S>(fresh: &News<'_, S>, band: usize, rows: usize, min_chars: usize) -> BandKeys
    where
        S: ItemSource<'s> + ?Sized,
    {
        let mut pairs: Vec<(u32, u32)> = (0..fresh.chars.len() as u32)
            .filter(|&t| fresh.chars[t as usize] as usize >= min_chars)
            .map(|t| (fresh.items.sig(t).band_key(band, rows), t))
            .collect();
        pairs.sort_unstable();
        let mut b = BandKeys {
            keys: Vec::new(),
            starts: Vec::new(),
            items: Vec::with_capacity(pairs.len()),
        };
        for (key, t) in pairs {
            if b.keys.last() != Some(&key) {
                b.keys.push(key);
                b.starts.push(b.items.len() as u32);
            }
            b.items.push(t);
        }
        b.starts.push(b.items.len() as u32);
        b
    }

    /// The new texts with key number `q`.
    fn items(&self, q: u32) -> &[u32] {
        &self.items[self.starts[q as usize] as usize..self.starts[q as usize + 1] as usize]
    }
}

/// An index folder as a run reads it.
#[derive(Debug)]
pub struct OpenIndex {
    /// Its manifest.
    pub manifest: Manifest,
    /// The file the manifest was read from (for the report).
    pub file: PathBuf,
    /// The folder runs' paths are relative to.
    pub runs_base: PathBuf,
    /// The folder its segment files are in.
    pub segments: PathBuf,
}

impl History {
    /// No earlier runs.
    pub fn empty() -> History {
        History::default()
    }

    /// Loads the indexes of `dirs` (each an output folder holding `index/`, or an index
    /// folder), checking that each was made under the settings of `rules`. An index of
    /// pagesieve 0.2 (`dedup.idx`) is converted into a segment in `scratch`. Errors are
    /// usage errors (exit 2): nothing has been written yet.
    pub fn load(dirs: &[PathBuf], rules: &Rules, scratch: &Path) -> Result<History, Error> {
        let now = settings::of(&rules.config.dedup);
        let mut h = History::default();
        let mut run_of: HashMap<String, u32> = HashMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        for dir in dirs {
            let open = open_index(dir, rules, scratch)?;
            let bad = |m: String| Error::Usage(format!("index {}: {m}", open.file.display()));
            let m = &open.manifest;
            if m.settings != now {
                let diff = settings::differences(&m.settings, &now);
                return Err(bad(format!(
                    "made with other dedup settings than this run's, so its matches would \
                     be wrong:\n  {}\nrun with the settings it was made with, or rebuild it \
                     under these with `pagesieve index`",
                    diff.join("\n  ")
                )));
            }
            // Runs an earlier index already covers are left out of this one's segments.
            let mut covered_before: HashSet<String> = HashSet::new();
            for r in &m.runs {
                if run_of.contains_key(&r.uid) {
                    covered_before.insert(r.uid.clone());
                    continue;
                }
                let run = EarlierRun::open(&open.runs_base, r).map_err(bad)?;
                run_of.insert(r.uid.clone(), h.runs.len() as u32);
                h.runs.push(run);
            }
            for s in &m.segments {
                if !seen.insert(s.id.clone()) {
                    continue;
                }
                let path = open.segments.join(&s.file);
                let seg = Segment::open(&path)
                    .map_err(|e| bad(format!("segment {}: {e}", path.display())))?;
                if seg.header.id != s.id || seg.header.settings_hash != m.settings_hash {
                    return Err(bad(format!(
                        "segment {} is not the one the manifest names (id {}, expected {})",
                        path.display(),
                        seg.header.id,
                        s.id
                    )));
                }
                let runs: Vec<Option<u32>> = seg
                    .header
                    .runs
                    .iter()
                    .map(|r| {
                        let left_out =
                            s.skip_runs.contains(&r.uid) || covered_before.contains(&r.uid);
                        match left_out {
                            true => None,
                            false => run_of.get(&r.uid).copied(),
                        }
                    })
                    .collect();
                h.push(HistoryPart {
                    segment: Arc::new(seg),
                    runs,
                });
            }
            h.generation = h.generation.max(m.generation);
            h.indexes.push(open.file);
        }
        Ok(h)
    }

    fn push(&mut self, part: HistoryPart) {
        if part.runs.iter().all(Option::is_none) {
            return;
        }
        for kind in [RecordKind::Article, RecordKind::Snippet] {
            let n = self.end(kind);
            self.starts[k(kind)].push(n);
            self.visible[k(kind)] += part.visible(kind) as usize;
        }
        self.parts.push(part);
    }

    /// One past the last entry number of `kind` (left-out entries keep their numbers).
    fn end(&self, kind: RecordKind) -> u32 {
        match (self.parts.last(), self.starts[k(kind)].last()) {
            (Some(p), Some(&s)) => s + p.segment.kind(kind).len() as u32,
            _ => 0,
        }
    }

    /// The highest generation of the manifests read (0 without any).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Earlier entries of `kind`.
    pub fn len(&self, kind: RecordKind) -> usize {
        self.visible[k(kind)]
    }

    /// Whether there are no earlier entries (or no earlier index).
    pub fn is_empty(&self) -> bool {
        self.visible == [0, 0]
    }

    /// The part and local index of entry `e`.
    fn locate(&self, kind: RecordKind, e: u32) -> Option<(&HistoryPart, usize)> {
        let starts = &self.starts[k(kind)];
        let p = starts.partition_point(|&s| s <= e).checked_sub(1)?;
        let part = &self.parts[p];
        let local = (e - starts[p]) as usize;
        (local < part.segment.kind(kind).len()).then_some((part, local))
    }

    fn damaged(&self, seg: &Segment, p: String) -> Error {
        Error::Usage(format!(
            "index segment {}: {p}; rebuild the index with `pagesieve index`",
            seg.path().display()
        ))
    }

    /// Entry `e` of `kind`, read from its segment (`None`: a left-out entry).
    pub fn entry(&self, kind: RecordKind, e: u32) -> Result<Option<Earlier>, Error> {
        let Some((part, local)) = self.locate(kind, e) else {
            return Ok(None);
        };
        let v = part.segment.kind(kind);
        let (mut row, sig, id, source) = v
            .read_entry(local)
            .map_err(|p| self.damaged(&part.segment, p))?;
        let Some(Some(run)) = part.runs.get(row.run as usize).copied() else {
            return Ok(None);
        };
        row.run = run;
        Ok(Some(Earlier {
            fp: row.fingerprint(part.segment.header.fingerprints),
            sig,
            row,
            id,
            source,
        }))
    }

    /// Entries `es` of `kind` (each must exist), read in parallel.
    pub fn entries(&self, kind: RecordKind, es: &[u32]) -> Result<Vec<Earlier>, Error> {
        es.par_iter()
            .map(|&e| {
                self.entry(kind, e)?.ok_or_else(|| {
                    Error::Usage(format!("index entry {e} is not part of the index"))
                })
            })
            .collect()
    }

    /// The earlier entries of `kind` that can take part in tonight's decisions: those with
    /// the exact hash of one of `fresh`, and those (long enough) that share an LSH band
    /// with one and pass the signature screen against it — found by binary search over
    /// each segment's sorted tables and read one by one, nothing else read. An earlier
    /// entry that shares a band only with new texts it fails the screen against has no
    /// candidate pair: it cannot change a match, however large the history (on site-shaped
    /// text unrelated pages share some band often enough that, unscreened, the share of
    /// the history a night met grew with the history). With the `simhash` generator every
    /// earlier entry (its block-permutation tables have no such probe). Sorted entry
    /// numbers.
    pub fn probe<'s, S>(
        &self,
        kind: RecordKind,
        fresh: &S,
        cfg: &DedupRules,
    ) -> Result<Probed, Error>
    where
        S: ItemSource<'s> + ?Sized,
    {
        if self.len(kind) == 0 || fresh.is_empty() {
            return Ok(Probed::default());
        }
        if cfg.simhash {
            let all = self.all(kind)?;
            return Ok(Probed {
                found: all.len(),
                screened: 0,
                entries: all,
            });
        }
        // One pass over the new texts for what the probe reads besides their signatures.
        let mut exact: Vec<u64> = Vec::with_capacity(fresh.len());
        let mut chars: Vec<u32> = Vec::with_capacity(fresh.len());
        source::each(fresh, 0..fresh.len() as u32, |_, it| {
            exact.push(it.fp.exact[0]);
            chars.push(it.fp.chars);
        });
        exact.par_sort_unstable();
        exact.dedup();
        let news = News {
            items: fresh,
            chars: &chars,
        };
        let bands: Vec<BandKeys> = match cfg.lsh {
            Some(b) => (0..b.bands)
                .into_par_iter()
                .map(|band| BandKeys::of(&news, band, b.rows, cfg.min_chars_near))
                .collect(),
            None => Vec::new(),
        };
        // One task per segment and table; band hits as (entry, band, key).
        let tasks: Vec<(usize, Option<usize>)> = (0..self.parts.len())
            .flat_map(|p| {
                std::iter::once((p, None)).chain((0..bands.len()).map(move |b| (p, Some(b))))
            })
            .collect();
        type Found = (Vec<u32>, Vec<(u32, u32, u32)>);
        let found: Vec<Found> = tasks
            .par_iter()
            .map(|&(p, band)| {
                let part = &self.parts[p];
                let v = part.segment.kind(kind);
                let start = self.starts[k(kind)][p];
                let bad = |e| self.damaged(&part.segment, e);
                match band {
                    None => {
                        let mut out = Vec::new();
                        v.find_wide(WideTable::Exact, &exact, &mut out)
                            .map_err(bad)?;
                        Ok((out.into_iter().map(|l| start + l).collect(), Vec::new()))
                    }
                    Some(b) => {
                        let mut out = Vec::new();
                        v.find_band_pairs(b, &bands[b].keys, &mut out)
                            .map_err(bad)?;
                        let hits = out
                            .into_iter()
                            .map(|(q, l)| (start + l, b as u32, q))
                            .collect();
                        Ok((Vec::new(), hits))
                    }
                }
            })
            .collect::<Result<_, Error>>()?;
        let mut all: Vec<u32> = Vec::new();
        let mut hits: Vec<(u32, u32, u32)> = Vec::new();
        for (e, h) in found {
            all.extend(e);
            hits.extend(h);
        }
        hits.par_sort_unstable();
        let screened: Vec<Option<u32>> = hits
            .chunk_by(|a, b| a.0 == b.0)
            .collect::<Vec<_>>()
            .par_iter()
            .map(|group| self.passes_screen(kind, group, &news, &bands, cfg))
            .collect::<Result<_, Error>>()?;
        // Found: the exact matches and every entry with a band hit; kept: the exact
        // matches and the entries that passed the screen.
        all.par_sort_unstable();
        all.dedup();
        let exact = |e: &u32| all.binary_search(e).is_ok();
        let banded: Vec<u32> = hits.chunk_by(|a, b| a.0 == b.0).map(|g| g[0].0).collect();
        let found = all.len() + banded.iter().filter(|e| !exact(e)).count();
        let mut kept: Vec<u32> = screened.into_iter().flatten().collect();
        kept.retain(|e| !exact(e));
        let screened = found - all.len() - kept.len();
        all.extend(kept);
        all.par_sort_unstable();
        Ok(Probed {
            found,
            screened,
            entries: self.without_left_out(kind, all)?,
        })
    }

    /// Whether earlier entry `hits[0].0`, found under these (band, key) hits, passes the
    /// signature screen against a new text with that band key: the entry, if it does.
    fn passes_screen<'s, S>(
        &self,
        kind: RecordKind,
        hits: &[(u32, u32, u32)],
        fresh: &News<'_, S>,
        bands: &[BandKeys],
        cfg: &DedupRules,
    ) -> Result<Option<u32>, Error>
    where
        S: ItemSource<'s> + ?Sized,
    {
        let e = hits[0].0;
        let Some((part, local)) = self.locate(kind, e) else {
            return Ok(None);
        };
        let v = part.segment.kind(kind);
        let bad = |p| self.damaged(&part.segment, p);
        let sig = v.read_signature(local).map_err(bad)?;
        // The pair's floor is its shorter text's: the new text's decides unless the
        // earlier one is shorter, whose length is read only when it could matter.
        let lowest = cfg.screen_floor(cfg.min_chars_near as u32);
        let mut undecided = Vec::new();
        for &(_, b, q) in hits {
            for &t in bands[b as usize].items(q) {
                let est = estimate(&sig, fresh.items.sig(t));
                if est >= cfg.screen_floor(fresh.chars[t as usize]) {
                    return Ok(Some(e));
                }
                if est >= lowest {
                    undecided.push(est);
                }
            }
        }
        if undecided.is_empty() {
            return Ok(None);
        }
        let (row, _) = v.read_row(local).map_err(bad)?;
        let floor = cfg.screen_floor(row.chars);
        Ok(undecided.iter().any(|&est| est >= floor).then_some(e))
    }

    /// Every earlier entry of `kind`.
    fn all(&self, kind: RecordKind) -> Result<Vec<u32>, Error> {
        let all: Vec<u32> = self
            .parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| {
                let s = self.starts[k(kind)][p];
                (0..part.segment.kind(kind).len() as u32).map(move |l| s + l)
            })
            .collect();
        self.without_left_out(kind, all)
    }

    /// `es` without the entries of left-out runs (read only where a part has any).
    fn without_left_out(&self, kind: RecordKind, es: Vec<u32>) -> Result<Vec<u32>, Error> {
        if !self.parts.iter().any(HistoryPart::masked) {
            return Ok(es);
        }
        let keep: Vec<bool> = es
            .par_iter()
            .map(|&e| {
                let Some((part, local)) = self.locate(kind, e) else {
                    return Ok(false);
                };
                if !part.masked() {
                    return Ok(true);
                }
                let (row, _) = part
                    .segment
                    .kind(kind)
                    .read_row(local)
                    .map_err(|p| self.damaged(&part.segment, p))?;
                Ok(part.runs.get(row.run as usize).copied().flatten().is_some())
            })
            .collect::<Result<_, Error>>()?;
        Ok(es
            .into_iter()
            .zip(keep)
            .filter(|(_, k)| *k)
            .map(|(e, _)| e)
            .collect())
    }

    /// For each of `keys`, the entries of `kind` found under it in wide table `t`.
    fn find(&self, kind: RecordKind, t: WideTable, keys: &[u64]) -> Result<Vec<u32>, Error> {
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let found: Vec<Vec<u32>> = self
            .parts
            .par_iter()
            .enumerate()
            .map(|(p, part)| {
                let mut out = Vec::new();
                part.segment
                    .kind(kind)
                    .find_wide(t, &keys, &mut out)
                    .map_err(|e| self.damaged(&part.segment, e))?;
                let start = self.starts[k(kind)][p];
                Ok(out.into_iter().map(|l| start + l).collect())
            })
            .collect::<Result<_, Error>>()?;
        let all: Vec<u32> = found.into_iter().flatten().collect();
        self.without_left_out(kind, all)
    }

    /// The earlier entries of `kind` whose id, without its `-n` suffix, is one of
    /// `bases`: each with its id, in entry order.
    pub fn with_base_ids(
        &self,
        kind: RecordKind,
        bases: &[&str],
    ) -> Result<Vec<(u32, String)>, Error> {
        if self.len(kind) == 0 || bases.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<u64> = bases.iter().map(|b| segment::id_key(b)).collect();
        let wanted: HashSet<&str> = bases.iter().copied().collect();
        let es = self.find(kind, WideTable::Ids, &keys)?;
        let found = self.entries(kind, &es)?;
        Ok(es
            .into_iter()
            .zip(found)
            .filter(|(_, f)| wanted.contains(segment::base_id(&f.id)))
            .map(|(e, f)| (e, f.id))
            .collect())
    }

    /// For each title key of `keys` that an earlier article has, the first such article
    /// (the smallest entry number).
    pub fn first_titled(&self, keys: &[u64]) -> Result<HashMap<u64, u32>, Error> {
        let mut out: HashMap<u64, u32> = HashMap::new();
        if self.len(RecordKind::Article) == 0 || keys.is_empty() {
            return Ok(out);
        }
        let es = self.find(RecordKind::Article, WideTable::Titles, keys)?;
        for (e, f) in es.iter().zip(self.entries(RecordKind::Article, &es)?) {
            let slot = out.entry(f.row.title_key).or_insert(*e);
            *slot = (*slot).min(*e);
        }
        Ok(out)
    }

    /// The run folder of entry `e`.
    pub fn run(&self, run: u32) -> &EarlierRun {
        &self.runs[run as usize]
    }

    /// Asks for entry `e`'s record ahead of its [`History::record`] (a hint: nothing on
    /// any problem, which the read itself then reports).
    pub fn will_need(&self, kind: RecordKind, e: u32) {
        let Some((part, local)) = self.locate(kind, e) else {
            return;
        };
        let Ok((row, _)) = part.segment.kind(kind).read_row(local) else {
            return;
        };
        let Some(Some(run)) = part.runs.get(row.run as usize).copied() else {
            return;
        };
        if let Ok(f) = self.runs[run as usize].file(kind) {
            crate::fadvise::will_need(f, row.offset, u64::from(row.len));
        }
    }

    /// Reads entry `e`'s record back from its run's file, checking it is the record the
    /// index says.
    pub fn record(&self, kind: RecordKind, e: u32) -> Result<EarlierRecord, Error> {
        let entry = self
            .entry(kind, e)?
            .ok_or_else(|| Error::Usage(format!("index entry {e} is not part of the index")))?;
        self.record_of(kind, &entry)
    }

    /// Reads the record of an entry already read.
    pub fn record_of(&self, kind: RecordKind, entry: &Earlier) -> Result<EarlierRecord, Error> {
        let loc = entry.loc();
        let run = &self.runs[loc.run as usize];
        let file = run.file(kind)?;
        let name = match kind {
            RecordKind::Article => "articles.jsonl",
            RecordKind::Snippet => "snippets.jsonl",
        };
        let path = run.dir.join(name);
        let mut buf = vec![0u8; loc.len as usize];
        file.read_exact_at(&mut buf, loc.offset)
            .map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
        let id = &entry.id;
        let line: Line = serde_json::from_slice(&buf).map_err(|err| Error::Read {
            path: path.clone(),
            source: std::io::Error::other(format!(
                "the record of {id} at byte {} does not parse ({err}): the file changed \
                 since the index was written; rebuild the index with `pagesieve index`",
                loc.offset
            )),
        })?;
        if &line.id != id {
            return Err(Error::Read {
                path,
                source: std::io::Error::other(format!(
                    "byte {} holds {}, the index says {id}: the file changed since the index \
                     was written; rebuild the index with `pagesieve index`",
                    loc.offset, line.id
                )),
            });
        }
        Ok(EarlierRecord {
            title: line.metadata.title,
            text: line.text,
        })
    }
}

/// Opens the index of `dir`: an index folder, an output folder's `index/`, or a format-1
/// `dedup.idx` (converted into a segment in `scratch`).
pub fn open_index(dir: &Path, rules: &Rules, scratch: &Path) -> Result<OpenIndex, Error> {
    let idx = index_folder(dir)?;
    // A compaction running beside this reader may remove the segments of the manifest it
    // read: read the manifest again then.
    match manifest::resolve(&idx)
        .map_err(|e| Error::Usage(format!("index {}: {e}", idx.display())))?
    {
        Some((m, file)) => Ok(OpenIndex {
            manifest: m,
            file,
            runs_base: idx.clone(),
            segments: idx,
        }),
        None => legacy_index(&idx, rules, scratch),
    }
}

/// The physical index folder of `dir`.
fn index_folder(dir: &Path) -> Result<PathBuf, Error> {
    let canon = |p: &Path| p.canonicalize().ok();
    let candidates = [
        Some(dir.to_path_buf()),
        crate::generation::current(dir).map(|g| g.join("index")),
        Some(dir.join("index")),
    ];
    for c in candidates.into_iter().flatten() {
        if manifest::present(&c) || c.join(legacy::FILE_NAME).is_file() {
            if let Some(p) = canon(&c) {
                return Ok(p);
            }
        }
    }
    Err(Error::Usage(format!(
        "--against {}: no index there (an output folder holds index/{}; build one for \
         older outputs with `pagesieve index`)",
        dir.display(),
        manifest::FILE
    )))
}

/// A format-1 index, converted into one segment in `scratch` for this run (the next index
/// written is in the new format).
fn legacy_index(idx: &Path, rules: &Rules, scratch: &Path) -> Result<OpenIndex, Error> {
    let file = idx.join(legacy::FILE_NAME);
    let bad = |m: String| Error::Usage(format!("index {}: {m}", file.display()));
    let (header, articles, snippets) = legacy::read(&file).map_err(bad)?;
    std::fs::create_dir_all(scratch).map_err(Error::output(scratch))?;
    let m = build::write_converted(&header, &articles, &snippets, rules, scratch)
        .map_err(Error::output(scratch))?;
    Ok(OpenIndex {
        manifest: m,
        file,
        runs_base: idx.to_path_buf(),
        segments: scratch.to_path_buf(),
    })
}

/// `to` relative to the folder `from` (both absolute), or `to` itself when they share no
/// root.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.to_path_buf();
    }
    let mut p = PathBuf::new();
    for _ in common..f.len() {
        p.push("..");
    }
    for c in &t[common..] {
        p.push(c);
    }
    if p.as_os_str().is_empty() {
        p.push(".");
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(r("/w/out/index", "/w/out"), PathBuf::from(".."));
        assert_eq!(r("/w/idx", "/w/nights/n1"), PathBuf::from("../nights/n1"));
        assert_eq!(r("/w/a", "/w/a"), PathBuf::from("."));
    }

    #[test]
    fn strings_round_trip() {
        let mut s = Strings::default();
        for x in ["a-1", "", "文件/页面.html"] {
            s.push(x);
        }
        assert_eq!(
            (s.get(0), s.get(1), s.get(2), s.len()),
            ("a-1", "", "文件/页面.html", 3)
        );
    }
}
