//! Writing a segment: the layout is computed first (every section's size is known from the
//! entries), the header written, then the sections in order through a writer that hashes
//! each 4 KiB block as it passes, then the two checksum levels and the footer. The file is
//! synced before it is returned; it is never written again.
//!
//! The sorted tables come from one of two places ([`TableSource`]): the entries' keys
//! sorted in memory (tonight's entries: memory ∝ the night, one table at a time), or a
//! k-way merge of the already sorted tables of the segments being compacted (memory ∝ the
//! number of segments).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::dedup::lsh::{band_table, Bands};
use crate::dedup::minhash::{release_ranges, release_read, SigColumn, Signature, SIGNATURE_BINS};
use crate::history::rows::{IndexRows, StrRef};
use crate::history::segment::merge::{merge_bands, merge_wide, Part};
use crate::history::segment::{
    align, fence_keys, id_key, row_bytes, KindLayout, RunCount, SegmentHeader, WideTable, BAND_ROW,
    BLOCK, END, FORMAT, GROUP_BYTES, MAGIC, WIDE_ROW,
};

/// What a segment is made under.
#[derive(Debug, Clone)]
pub struct SegmentParams {
    /// Its unique id.
    pub id: String,
    /// The dedup settings' hash.
    pub settings_hash: String,
    /// Simhashes per entry.
    pub fingerprints: usize,
    /// The LSH banding of the band tables.
    pub bands: Bands,
    /// Entries shorter than this are left out of the band tables.
    pub min_chars_near: usize,
    /// Its runs, in the order entry rows refer to them.
    pub runs: Vec<RunCount>,
}

/// Where a kind's sorted tables come from.
#[derive(Clone, Copy)]
pub enum TableSource<'a> {
    /// The entries' keys, sorted here.
    Sort,
    /// The tables of these parts of the segments being merged, in the order of the
    /// entries written (their visible entries, one part after the other).
    Merge(&'a [Part<'a>]),
}

/// One kind's entries and where their tables come from.
#[derive(Clone, Copy)]
pub struct KindInput<'a> {
    /// The entries, in the order they are written.
    pub rows: &'a dyn IndexRows,
    /// Their sorted tables.
    pub tables: TableSource<'a>,
}

/// Writes a segment to `path` (a new file); returns its header and size in bytes.
pub fn write_segment(
    path: &Path,
    p: &SegmentParams,
    articles: KindInput<'_>,
    snippets: KindInput<'_>,
) -> std::io::Result<(SegmentHeader, u64)> {
    let near = [near_entries(articles, p), near_entries(snippets, p)];
    let mut header = SegmentHeader {
        format: FORMAT,
        id: p.id.clone(),
        created: crate::timings::utc(std::time::SystemTime::now()),
        tool: format!("pagesieve {}", env!("CARGO_PKG_VERSION")),
        settings_hash: p.settings_hash.clone(),
        fingerprints: p.fingerprints,
        bands: p.bands.bands,
        rows: p.bands.rows,
        min_chars_near: p.min_chars_near,
        runs: p.runs.clone(),
        articles: KindLayout::default(),
        snippets: KindLayout::default(),
    };
    // The header's size depends on the offsets in it: lay out until it fits.
    let mut head = BLOCK;
    let json = loop {
        let mut at = head;
        header.articles = layout(&mut at, articles, near[0].len(), p, true);
        header.snippets = layout(&mut at, snippets, near[1].len(), p, false);
        let json = serde_json::to_vec(&header).map_err(std::io::Error::other)?;
        if align(16 + json.len() as u64) <= head {
            break json;
        }
        head = align(16 + json.len() as u64);
    };
    let f = File::create(path)?;
    let mut w = BlockWriter::new(BufWriter::with_capacity(1 << 20, f));
    w.write(MAGIC)?;
    w.write(&FORMAT.to_le_bytes())?;
    w.write(&(json.len() as u32).to_le_bytes())?;
    w.write(&json)?;
    w.pad_to(head)?;
    write_kind(&mut w, &header.articles, articles, &near[0], p, true)?;
    write_kind(&mut w, &header.snippets, snippets, &near[1], p, false)?;
    let bytes = w.finish()?;
    Ok((header, bytes))
}

/// The entries of a kind long enough for the band tables (positions in `rows`); for a
/// merge, how many the parts have (their band tables are merged, not rebuilt).
fn near_entries(k: KindInput<'_>, p: &SegmentParams) -> Vec<u32> {
    match k.tables {
        TableSource::Sort => (0..k.rows.len() as u32)
            .filter(|&i| {
                done_every(k.rows, i as usize);
                k.rows.row(i as usize).chars as usize >= p.min_chars_near
            })
            .collect(),
        // Only the count matters for a merge.
        TableSource::Merge(parts) => vec![0; parts.iter().map(|x| x.near()).sum()],
    }
}

/// Lays out one kind's sections from `at` on (advancing it).
fn layout(
    at: &mut u64,
    k: KindInput<'_>,
    near: usize,
    p: &SegmentParams,
    titles: bool,
) -> KindLayout {
    let n = k.rows.len() as u64;
    let near = near as u64;
    let strings: u64 = (0..k.rows.len())
        .map(|i| (k.rows.id(i).len() + k.rows.source(i).len()) as u64)
        .sum();
    let mut take = |len: u64, aligned: bool| -> [u64; 2] {
        if aligned {
            *at = align(*at);
        }
        let s = [*at, len];
        *at += len;
        s
    };
    let mut l = KindLayout {
        entries: n,
        near,
        ..KindLayout::default()
    };
    l.rows = take(n * row_bytes(p.fingerprints), false);
    l.signatures = take(n * SIGNATURE_BINS as u64, false);
    l.strings = take(strings, false);
    l.exact = take(n * WIDE_ROW, true);
    let stride = align(near * BAND_ROW);
    let bands = take(stride * p.bands.bands as u64, true);
    l.bands = [bands[0], stride];
    let titled = if titles { n } else { 0 };
    l.titles = take(titled * WIDE_ROW, true);
    l.ids = take(n * WIDE_ROW, true);
    l.exact_fence = take(8 * fence_keys(n, WIDE_ROW), false);
    l.band_fence = take(4 * fence_keys(near, BAND_ROW) * p.bands.bands as u64, false);
    l.titles_fence = take(8 * fence_keys(titled, WIDE_ROW), false);
    l.ids_fence = take(8 * fence_keys(n, WIDE_ROW), false);
    l
}

/// Writes one kind's sections at the offsets of `l`.
fn write_kind(
    w: &mut BlockWriter,
    l: &KindLayout,
    k: KindInput<'_>,
    near: &[u32],
    p: &SegmentParams,
    titles: bool,
) -> std::io::Result<()> {
    let rows = k.rows;
    let rb = row_bytes(p.fingerprints) as usize;
    w.pad_to(l.rows[0])?;
    let mut buf = vec![0u8; rb];
    let mut offset = 0u64;
    for i in 0..rows.len() {
        let (id, source) = (rows.id(i), rows.source(i));
        let s = StrRef {
            offset,
            id_len: id.len() as u32,
            source_len: source.len() as u32,
        };
        rows.row(i).encode(s, p.fingerprints, &mut buf);
        w.write(&buf)?;
        offset += (id.len() + source.len()) as u64;
        done_every(rows, i);
    }
    // A slice at a time: tonight's signatures are pages of the run's mapped column,
    // released behind the writer.
    for range in release_ranges(rows.len()) {
        let from = range.start;
        let read: Vec<&Signature> = range.map(|i| rows.signature(i)).collect();
        for (i, s) in (from..).zip(&read) {
            w.write(&s.0)?;
            done_every(rows, i);
        }
        release_read(&read);
    }
    for i in 0..rows.len() {
        w.write(rows.id(i).as_bytes())?;
        w.write(rows.source(i).as_bytes())?;
        done_every(rows, i);
    }
    rows.pages_done();
    let mut fences = Fences::default();
    w.pad_to(l.exact[0])?;
    write_wide(w, wide_rows(k, WideTable::Exact), &mut fences.exact)?;
    for band in 0..p.bands.bands {
        w.pad_to(l.bands[0] + band as u64 * l.bands[1])?;
        let fence = &mut fences.bands;
        let mut n = 0u64;
        let mut put = |key: u32, entry: u32| -> std::io::Result<()> {
            if n.is_multiple_of(GROUP_BYTES / BAND_ROW) {
                fence.extend_from_slice(&key.to_le_bytes());
            }
            n += 1;
            w.write(&key.to_le_bytes())?;
            w.write(&entry.to_le_bytes())
        };
        match k.tables {
            TableSource::Sort => {
                for (key, entry) in sorted_band(rows, near, band, p.bands) {
                    put(key, entry)?;
                }
            }
            TableSource::Merge(parts) => {
                for r in merge_bands(parts, band) {
                    let (key, entry) = r?;
                    put(key, entry)?;
                }
                rows.pages_done();
            }
        }
    }
    if titles {
        w.pad_to(l.titles[0])?;
        write_wide(w, wide_rows(k, WideTable::Titles), &mut fences.titles)?;
    }
    w.pad_to(l.ids[0])?;
    write_wide(w, wide_rows(k, WideTable::Ids), &mut fences.ids)?;
    for (section, keys) in [
        (l.exact_fence, &fences.exact),
        (l.band_fence, &fences.bands),
        (l.titles_fence, &fences.titles),
        (l.ids_fence, &fences.ids),
    ] {
        w.pad_to(section[0])?;
        debug_assert_eq!(keys.len() as u64, section[1]);
        w.write(keys)?;
    }
    Ok(())
}

/// Tells a mapped source, every 64Ki entries, that the writer is done with them (the
/// pages' summary rows, sources and keys of tonight's kept records: each pass over the
/// entries would otherwise leave all of them counted in the run's memory).
fn done_every(rows: &dyn IndexRows, i: usize) {
    if i % 65_536 == 65_535 {
        rows.pages_done();
    }
}

/// The fence keys collected while the tables are written.
#[derive(Default)]
struct Fences {
    exact: Vec<u8>,
    bands: Vec<u8>,
    titles: Vec<u8>,
    ids: Vec<u8>,
}

/// A wide table's rows, sorted by key then entry.
fn wide_rows<'a>(
    k: KindInput<'a>,
    t: WideTable,
) -> Box<dyn Iterator<Item = std::io::Result<(u64, u32)>> + 'a> {
    match k.tables {
        TableSource::Sort => {
            let rows = k.rows;
            let key = |i: usize| match t {
                WideTable::Exact => rows.row(i).exact[0],
                WideTable::Titles => rows.row(i).title_key,
                WideTable::Ids => id_key(&rows.id(i)),
            };
            // (In parallel, each worker over a range of the entries: a mapped source is
            // told every 64Ki of them that they are read.)
            let mut v: Vec<(u64, u32)> = (0..rows.len())
                .into_par_iter()
                .map(|i| {
                    done_every(rows, i);
                    (key(i), i as u32)
                })
                .collect();
            v.par_sort_unstable();
            Box::new(v.into_iter().map(Ok))
        }
        TableSource::Merge(parts) => Box::new(merge_wide(parts, t)),
    }
}

fn write_wide(
    w: &mut BlockWriter,
    rows: impl Iterator<Item = std::io::Result<(u64, u32)>>,
    fence: &mut Vec<u8>,
) -> std::io::Result<()> {
    for (n, r) in rows.enumerate() {
        let (key, entry) = r?;
        if (n as u64).is_multiple_of(GROUP_BYTES / WIDE_ROW) {
            fence.extend_from_slice(&key.to_le_bytes());
        }
        w.write(&key.to_le_bytes())?;
        w.write(&entry.to_le_bytes())?;
        w.write(&0u32.to_le_bytes())?;
    }
    Ok(())
}

/// Band `band`'s rows of the `near` entries, sorted by key then entry.
fn sorted_band<'a>(
    rows: &dyn IndexRows,
    near: &'a [u32],
    band: usize,
    bands: Bands,
) -> impl Iterator<Item = (u32, u32)> + 'a {
    let sigs = SigColumn::Refs(near.iter().map(|&i| rows.signature(i as usize)).collect());
    let (mut table, mut scratch) = (Vec::new(), Vec::new());
    band_table(&sigs, band, bands.rows, &mut table, &mut scratch);
    // `band_table` numbers the signatures by position; `near` is ascending, so the order
    // within a key is the entries' order.
    table
        .into_iter()
        .map(move |e| ((e >> 32) as u32, near[(e as u32) as usize]))
}

/// A writer that hashes every 4 KiB block as it passes and writes the checksum levels and
/// the footer at the end.
struct BlockWriter {
    inner: BufWriter<File>,
    pos: u64,
    block: Vec<u8>,
    sums: Vec<u64>,
}

impl BlockWriter {
    fn new(inner: BufWriter<File>) -> BlockWriter {
        BlockWriter {
            inner,
            pos: 0,
            block: Vec::with_capacity(BLOCK as usize),
            sums: Vec::new(),
        }
    }

    fn write(&mut self, mut b: &[u8]) -> std::io::Result<()> {
        self.inner.write_all(b)?;
        self.pos += b.len() as u64;
        while !b.is_empty() {
            let room = BLOCK as usize - self.block.len();
            let (now, rest) = b.split_at(room.min(b.len()));
            self.block.extend_from_slice(now);
            if self.block.len() == BLOCK as usize {
                self.sums.push(xxh3_64(&self.block));
                self.block.clear();
            }
            b = rest;
        }
        Ok(())
    }

    /// Zero bytes up to offset `to` (the layout's next section).
    fn pad_to(&mut self, to: u64) -> std::io::Result<()> {
        debug_assert!(to >= self.pos, "layout and writer disagree");
        const ZEROS: [u8; 4096] = [0; 4096];
        while self.pos < to {
            let n = (to - self.pos).min(ZEROS.len() as u64) as usize;
            self.write(&ZEROS[..n])?;
        }
        Ok(())
    }

    /// Pads the data to a whole block, writes level 1, level 2 and the footer, syncs;
    /// returns the file's length.
    fn finish(mut self) -> std::io::Result<u64> {
        self.pad_to(align(self.pos))?;
        let (l1_off, blocks) = (self.pos, self.sums.len() as u64);
        let level1: Vec<u8> = self.sums.iter().flat_map(|s| s.to_le_bytes()).collect();
        self.inner.write_all(&level1)?;
        let l1_len = align(level1.len() as u64);
        self.inner
            .write_all(&vec![0u8; (l1_len - level1.len() as u64) as usize])?;
        let mut padded = level1;
        padded.resize(l1_len as usize, 0);
        let level2: Vec<u8> = padded
            .chunks(BLOCK as usize)
            .flat_map(|c| xxh3_64(c).to_le_bytes())
            .collect();
        let l2_off = l1_off + l1_len;
        self.inner.write_all(&level2)?;
        let mut footer = Vec::with_capacity(56);
        for v in [l1_off, blocks, l2_off, (level2.len() / 8) as u64] {
            footer.extend_from_slice(&v.to_le_bytes());
        }
        footer.extend_from_slice(&xxh3_64(&level2).to_le_bytes());
        let self_hash = xxh3_64(&footer);
        footer.extend_from_slice(&self_hash.to_le_bytes());
        footer.extend_from_slice(END);
        self.inner.write_all(&footer)?;
        let f = self.inner.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        Ok(l2_off + level2.len() as u64 + footer.len() as u64)
    }
}
