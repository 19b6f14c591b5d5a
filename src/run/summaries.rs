//! The page summaries ([`PageSummary`]) as a column of fixed-width rows in a scratch file
//! of the run that phase 2 maps, one row a page in page order; what a reject carries
//! besides (its reason's detail, its title) stays on the heap, by page.
//!
//! At a million pages the summaries were 80 MB of heap that sat beside every step of
//! phase 2 (the largest single thing the CLI's phase 2 and the Ray finish task held,
//! measured with heaptrack). Mapped, they are pages of the page cache: a pass over them
//! ([`Summaries::iter`]) hands its pages back behind itself, and the writers, which read
//! them in no particular order, hand them back after each chunk
//! ([`Summaries::release`]). Learned boilerplate rewrites the rows of the pages it
//! changed ([`Summaries::set`]). Whether a page is an article is also a bit a page on
//! the heap ([`Summaries::is_article`]): it is asked of pages anywhere in the column.
//!
//! A row (little-endian): kind (0 article, 1 reject), html, encoding and compression
//! codes, stripped kinds, whether the fingerprint has more simhashes, two bytes of
//! padding; then for an article its spill place (offset, length, file), primary simhash,
//! exact hash, characters, replacements, title key and, when the run computes more than
//! one fingerprint, the extra simhashes. A reject's row keeps only the first eight bytes.
//! The codes are this process's ([`NameCode`]): the file is the run's scratch, read by
//! the process that wrote it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::dedup::{Fingerprint, MAX_FINGERPRINTS_EXTRA};
use crate::error::Error;
use crate::ingest::names::NameCode;
use crate::page::StripSet;
use crate::record::Reject;
use crate::run::scratch_map::{self, ScatteredReads, WritableColumn};
use crate::run::spill::SpillRef;

/// What phase 2 keeps of one page: a few dozen bytes, whatever the page's size. (Its
/// path is in [`crate::run::summarize::Scanned::sources`], its key in
/// [`crate::run::summarize::Scanned::keys`].)
#[derive(Debug, Clone)]
pub struct PageSummary {
    /// Read as HTML.
    pub html: bool,
    /// Article (record in the spill file) or reject.
    pub kind: SummaryKind,
    /// Encoding, when decoding got that far.
    pub encoding: NameCode,
    /// Boilerplate kinds stripped (one byte: at a million files every byte here is a
    /// megabyte).
    pub stripped: StripSet,
    /// `gzip` or `zstd`, when the file was compressed.
    pub compression: NameCode,
}

/// An article or a reject. (Nearly every page is an article: boxing its fingerprint would
/// add an allocation and a pointer per page to save bytes on the few rejects.)
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum SummaryKind {
    /// The record is in the spill file.
    Article {
        /// Where.
        spill: SpillRef,
        /// Its fingerprints (its signature is in [`crate::run::summarize::Scanned::signatures`]).
        fp: Fingerprint,
        /// xxh3 of the normalized title, for snippet → article links.
        title_key: u64,
        /// Replacement characters decoding produced (the keep policy prefers fewer).
        replacements: u32,
    },
    /// No article.
    Reject {
        /// Why.
        reject: Reject,
        /// The title, when one was found.
        title: Option<String>,
        /// Related blocks the page carried (they still count as snippets).
        snippets: usize,
    },
}

impl PageSummary {
    /// The article's fingerprint, or `None` for a reject.
    pub fn article_fp(&self) -> Option<&Fingerprint> {
        match &self.kind {
            SummaryKind::Article { fp, .. } => Some(fp),
            SummaryKind::Reject { .. } => None,
        }
    }
}

/// Bytes of a row without extra simhashes.
const BASE: usize = 64;

/// Rows a pass over the column reads between two releases of what it read (1 MB of
/// rows at the base width).
const RELEASE_ROWS: usize = 1 << 14;

/// What a reject carries that a row does not.
#[derive(Debug, Clone)]
struct Rejected {
    reject: Reject,
    title: Option<String>,
    snippets: usize,
}

/// The row width for a run whose articles carry extra simhashes (`extra`) or not.
fn width(extra: bool) -> usize {
    BASE + if extra { 8 * MAX_FINGERPRINTS_EXTRA } else { 0 }
}

/// Writes `p` into `row` (zeroed, [`width`] bytes); returns its reject part, which the
/// row does not hold. An article with extra simhashes in a row without room for them is
/// an error (the run's fingerprint count is fixed).
fn encode(p: PageSummary, row: &mut [u8]) -> std::io::Result<Option<Rejected>> {
    row[1] = u8::from(p.html);
    row[2] = p.encoding.code();
    row[3] = p.compression.code();
    row[4] = p.stripped.bits();
    match p.kind {
        SummaryKind::Article {
            spill,
            fp,
            title_key,
            replacements,
        } => {
            row[0] = 0;
            let (file, offset, len) = spill.parts();
            put(row, 8, &offset.to_le_bytes());
            put(row, 16, &len.to_le_bytes());
            put(row, 20, &file.to_le_bytes());
            put(row, 24, &fp.primary.to_le_bytes());
            put(row, 32, &fp.exact[0].to_le_bytes());
            put(row, 40, &fp.exact[1].to_le_bytes());
            put(row, 48, &fp.chars.to_le_bytes());
            put(row, 52, &replacements.to_le_bytes());
            put(row, 56, &title_key.to_le_bytes());
            if let Some(more) = &fp.more {
                if row.len() < width(true) {
                    return Err(std::io::Error::other(
                        "an article with more simhashes than the run computes",
                    ));
                }
                row[5] = 1;
                for (i, m) in more.iter().enumerate() {
                    put(row, BASE + 8 * i, &m.to_le_bytes());
                }
            }
            Ok(None)
        }
        SummaryKind::Reject {
            reject,
            title,
            snippets,
        } => {
            row[0] = 1;
            Ok(Some(Rejected {
                reject,
                title,
                snippets,
            }))
        }
    }
}

fn put(row: &mut [u8], at: usize, b: &[u8]) {
    row[at..at + b.len()].copy_from_slice(b);
}

fn u64_at(row: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(row[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(row: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(row[at..at + 4].try_into().expect("4 bytes"))
}

/// The spill place of an article's row.
fn spill_of(row: &[u8]) -> SpillRef {
    SpillRef::new(u32_at(row, 20), u64_at(row, 8), u32_at(row, 16))
}

/// The summary a row (and, for a reject, its heap part) holds.
fn decode(row: &[u8], rejected: Option<&Rejected>) -> PageSummary {
    let kind = match (row[0], rejected) {
        (0, _) => {
            let more =
                (row[5] == 1).then(|| Box::new(std::array::from_fn(|i| u64_at(row, BASE + 8 * i))));
            SummaryKind::Article {
                spill: spill_of(row),
                fp: Fingerprint {
                    primary: u64_at(row, 24),
                    more,
                    exact: [u64_at(row, 32), u64_at(row, 40)],
                    chars: u32_at(row, 48),
                },
                title_key: u64_at(row, 56),
                replacements: u32_at(row, 52),
            }
        }
        (_, r) => {
            let r = r.expect("every reject row has its heap part");
            SummaryKind::Reject {
                reject: r.reject.clone(),
                title: r.title.clone(),
                snippets: r.snippets,
            }
        }
    };
    PageSummary {
        html: row[1] == 1,
        kind,
        encoding: NameCode::from_code(row[2]),
        stripped: StripSet::from_bits(row[4]),
        compression: NameCode::from_code(row[3]),
    }
}

/// Appends the pages' summaries to the column file, in page order.
#[derive(Debug)]
pub struct SummaryWriter {
    out: BufWriter<File>,
    output: PathBuf,
    width: usize,
    pages: usize,
    rejects: BTreeMap<u32, Rejected>,
    articles: Bits,
}

impl SummaryWriter {
    /// A new, empty column at `path` (a scratch file of the run's staging folder; `output`
    /// names the run's output in errors), with room for extra simhashes when the run's
    /// `dedup.fingerprints` is above one (`extra`).
    pub fn create(path: &Path, output: &Path, extra: bool) -> Result<SummaryWriter, Error> {
        let file =
            scratch_map::create(path).map_err(|e| scratch_map::write_error(output, WHAT, e))?;
        Ok(SummaryWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            output: output.to_path_buf(),
            width: width(extra),
            pages: 0,
            rejects: BTreeMap::new(),
            articles: Bits::default(),
        })
    }

    /// Appends the next page's summary.
    pub fn push(&mut self, p: PageSummary) -> Result<(), Error> {
        let mut row = [0u8; BASE + 8 * MAX_FINGERPRINTS_EXTRA];
        let row = &mut row[..self.width];
        let fail = |e| scratch_map::write_error(&self.output, WHAT, e);
        let rejected = encode(p, row).map_err(fail)?;
        self.articles.push(rejected.is_none());
        if let Some(r) = rejected {
            self.rejects.insert(self.pages as u32, r);
        }
        self.out.write_all(row).map_err(fail)?;
        self.pages += 1;
        Ok(())
    }

    /// The column, written and mapped.
    pub fn finish(self) -> Result<Summaries, Error> {
        let output = self.output;
        let fail = |e: std::io::Error| scratch_map::write_error(&output, WHAT, e);
        let file = self.out.into_inner().map_err(|e| fail(e.into_error()))?;
        let len = self.pages * self.width;
        let bytes = WritableColumn::map(&file, len, self.pages, "page summaries").map_err(fail)?;
        Ok(Summaries {
            bytes,
            width: self.width,
            rejects: self.rejects,
            articles: self.articles,
            reads: Default::default(),
        })
    }
}

/// What a write error of this column names.
const WHAT: &str = "page summary column between the phases";

/// Every page's summary, by page index.
#[derive(Debug)]
pub struct Summaries {
    bytes: WritableColumn,
    width: usize,
    rejects: BTreeMap<u32, Rejected>,
    /// Which pages are articles, a bit a page on the heap (125 KB at a million pages):
    /// asked of pages anywhere in the column (a snippet's pages, a cluster's members),
    /// it reads no row.
    articles: Bits,
    /// Rows read one by one (`get`, `spill`), which hand the column back now and then.
    reads: ScatteredReads,
}

/// A bit a page.
#[derive(Debug, Default)]
struct Bits {
    words: Vec<u64>,
    len: usize,
}

impl Bits {
    fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        self.len += 1;
        self.set(self.len - 1, bit);
    }

    fn set(&mut self, i: usize, bit: bool) {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        match bit {
            true => self.words[w] |= b,
            false => self.words[w] &= !b,
        }
    }

    fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }
}

impl Default for Summaries {
    fn default() -> Self {
        Summaries::in_memory(Vec::new())
    }
}

impl Summaries {
    /// Summaries held on the heap, page `i`'s `pages[i]`.
    pub fn in_memory(pages: Vec<PageSummary>) -> Summaries {
        let extra = pages
            .iter()
            .any(|p| p.article_fp().is_some_and(|f| f.more.is_some()));
        let width = width(extra);
        let mut bytes = vec![0u8; pages.len() * width];
        let mut rejects = BTreeMap::new();
        let mut articles = Bits::default();
        for (i, (p, row)) in pages
            .into_iter()
            .zip(bytes.chunks_exact_mut(width))
            .enumerate()
        {
            let rejected = encode(p, row).expect("the width fits every page");
            articles.push(rejected.is_none());
            if let Some(r) = rejected {
                rejects.insert(i as u32, r);
            }
        }
        Summaries {
            bytes: WritableColumn::Heap(bytes),
            width,
            rejects,
            articles,
            reads: Default::default(),
        }
    }

    fn bytes(&self) -> &[u8] {
        self.bytes.bytes()
    }

    fn row(&self, i: usize) -> &[u8] {
        &self.bytes()[i * self.width..(i + 1) * self.width]
    }

    /// Row `i`, read on its own ([`ScatteredReads`]: scattered reads never hold much of
    /// the column).
    fn row_read(&self, i: usize) -> &[u8] {
        self.reads.read(|| self.release());
        self.row(i)
    }

    /// How many pages.
    pub fn len(&self) -> usize {
        self.bytes().len() / self.width
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Page `i`'s summary (decoded: a reject's strings are copied).
    ///
    /// # Panics
    /// When `i` is past the last page.
    pub fn get(&self, i: usize) -> PageSummary {
        decode(self.row_read(i), self.rejects.get(&(i as u32)))
    }

    /// Whether page `i` is an article (`false` past the last page), without reading its
    /// row.
    pub fn is_article(&self, i: usize) -> bool {
        self.articles.get(i)
    }

    /// Where page `i`'s article record is (`None`: a reject, or past the last page).
    pub fn spill(&self, i: usize) -> Option<SpillRef> {
        self.is_article(i).then(|| spill_of(self.row_read(i)))
    }

    /// Every page's summary in page order, the column's pages handed back behind the
    /// pass.
    pub fn iter(&self) -> impl Iterator<Item = PageSummary> + '_ {
        (0..self.len()).map(move |i| {
            let p = decode(self.row(i), self.rejects.get(&(i as u32)));
            if (i + 1) % RELEASE_ROWS == 0 || i + 1 == self.len() {
                self.release_rows(i / RELEASE_ROWS * RELEASE_ROWS, i + 1);
            }
            p
        })
    }

    /// The pages that are rejects, ascending.
    pub fn rejects(&self) -> impl Iterator<Item = usize> + '_ {
        self.rejects.keys().map(|&i| i as usize)
    }

    /// How many pages are articles.
    pub fn articles(&self) -> usize {
        self.articles.count()
    }

    /// Replaces page `i`'s summary.
    ///
    /// # Panics
    /// When `i` is past the last page, or `p` carries more simhashes than the run
    /// computes.
    pub fn set(&mut self, i: usize, p: PageSummary) {
        let w = self.width;
        let row = &mut self.bytes.bytes_mut()[i * w..(i + 1) * w];
        row.fill(0);
        let rejected = encode(p, row).expect("the run's fingerprint count is fixed");
        self.articles.set(i, rejected.is_none());
        match rejected {
            Some(r) => self.rejects.insert(i as u32, r),
            None => self.rejects.remove(&(i as u32)),
        };
    }

    /// Drops the column's pages from the process's resident set (they stay in the page
    /// cache, and reading them again maps them again).
    pub fn release(&self) {
        self.release_rows(0, self.len());
    }

    fn release_rows(&self, from: usize, to: usize) {
        self.bytes.release(from * self.width, to * self.width);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::RejectReason;

    fn article(i: u64, more: bool) -> PageSummary {
        PageSummary {
            html: i.is_multiple_of(2),
            kind: SummaryKind::Article {
                spill: SpillRef::new(i as u32 % 3, i * 1000 + 7, 512 + i as u32),
                fp: Fingerprint {
                    primary: i.wrapping_mul(0x9e37_79b9_7f4a_7c15),
                    more: more.then(|| Box::new([i + 1, i + 2, i + 3])),
                    exact: [i, !i],
                    chars: 600 + i as u32,
                },
                title_key: i ^ 0xabcdef,
                replacements: i as u32 % 4,
            },
            encoding: NameCode::of(Some("GBK")),
            stripped: StripSet::from_bits(i as u8 & 0x1f),
            compression: NameCode::of(if i.is_multiple_of(3) {
                Some("gzip")
            } else {
                None
            }),
        }
    }

    fn reject(i: u64) -> PageSummary {
        PageSummary {
            html: true,
            kind: SummaryKind::Reject {
                reject: Reject::new(RejectReason::NoAnswer, format!("page {i} had no answer")),
                title: i.is_multiple_of(2).then(|| format!("标题 {i}")),
                snippets: i as usize,
            },
            encoding: NameCode::of(Some("UTF-8")),
            stripped: StripSet::default(),
            compression: NameCode::of(None),
        }
    }

    fn same(a: &PageSummary, b: &PageSummary) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    fn written(
        pages: &[fn(u64) -> PageSummary],
        n: u64,
        extra: bool,
    ) -> (Summaries, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut w =
            SummaryWriter::create(&dir.path().join("summaries"), dir.path(), extra).unwrap();
        for i in 0..n {
            w.push(pages[i as usize % pages.len()](i)).unwrap();
        }
        (w.finish().unwrap(), dir)
    }

    #[test]
    fn the_column_reads_back_every_summary_and_takes_rewrites() {
        let kinds: [fn(u64) -> PageSummary; 3] =
            [|i| article(i, false), reject, |i| article(i, false)];
        let (mut col, _dir) = written(&kinds, 40_000, false);
        assert_eq!(col.len(), 40_000);
        let want = |i: u64| kinds[i as usize % 3](i);
        assert!(col.iter().zip(0..).all(|(p, i)| same(&p, &want(i))));
        assert_eq!(col.articles(), (0..40_000).filter(|i| i % 3 != 1).count());
        assert_eq!(col.spill(1), None);
        assert_eq!(
            col.spill(3),
            want(3).article_fp().map(|_| SpillRef::new(0, 3007, 515))
        );
        // An article turned into a reject and back, as learned boilerplate does.
        col.set(3, reject(99));
        assert!(same(&col.get(3), &reject(99)) && !col.is_article(3));
        col.set(1, article(5, false));
        assert!(same(&col.get(1), &article(5, false)) && col.is_article(1));
        let heap = Summaries::in_memory((0..40_000).map(|i| col.get(i)).collect());
        assert!((0..40_000).all(|i| same(&heap.get(i), &col.get(i))));
    }

    #[test]
    fn extra_simhashes_need_a_row_with_room_for_them() {
        let kinds: [fn(u64) -> PageSummary; 2] = [|i| article(i, true), reject];
        let (col, _dir) = written(&kinds, 10, true);
        assert!((0..10).all(|i| same(&col.get(i), &kinds[i % 2](i as u64))));
        let dir = tempfile::tempdir().unwrap();
        let mut w = SummaryWriter::create(&dir.path().join("s"), dir.path(), false).unwrap();
        assert!(w.push(article(1, true)).is_err());
        let heap = Summaries::in_memory(vec![article(1, true), reject(2)]);
        assert!(same(&heap.get(0), &article(1, true)));
    }

    /// The mapping's resident kilobytes (`/proc/self/smaps`), found by its address.
    #[cfg(target_os = "linux")]
    fn resident_kib(col: &Summaries) -> u64 {
        let start = format!("{:x}-", col.bytes().as_ptr() as usize);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let entry = smaps.split_once(&start).expect("the mapping is listed").1;
        let rss = entry.split_once("\nRss:").unwrap().1;
        rss.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// A pass leaves at most one chunk of rows resident; a release leaves none.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_pass_hands_the_rows_back_behind_it() {
        let kinds: [fn(u64) -> PageSummary; 1] = [|i| article(i, false)];
        let (col, _dir) = written(&kinds, 100_000, false);
        assert_eq!(col.iter().count(), 100_000);
        assert!(resident_kib(&col) <= 8, "{}", resident_kib(&col));
        (0..100_000).for_each(|i| assert!(col.is_article(i)));
        assert!(
            resident_kib(&col) <= 8,
            "whether a page is an article reads no row"
        );
        let lens: u64 = (0..100_000)
            .map(|i| u64::from(col.spill(i).expect("an article").parts().2))
            .sum();
        assert_eq!(lens, (0..100_000).map(|i| 512 + i).sum::<u64>());
        // Rows read one by one are handed back every RELEASE_EVERY_READS reads.
        assert!(resident_kib(&col) <= 1024, "{}", resident_kib(&col));
        col.spill(0);
        assert!(resident_kib(&col) > 0);
        col.release();
        // (The file's last page is partial: it stays.)
        assert!(resident_kib(&col) <= 4);
        assert!(same(&col.get(99_999), &article(99_999, false)));
    }

    /// Scattered reads (an exact group's members, a component's texts located) map the
    /// 64 KiB around each row: they hold at most RELEASE_EVERY_READS such windows, not
    /// the column.
    #[test]
    #[cfg(target_os = "linux")]
    fn scattered_reads_do_not_hold_the_column() {
        let kinds: [fn(u64) -> PageSummary; 1] = [|i| article(i, false)];
        let rows = 400_000;
        let (col, _dir) = written(&kinds, rows, false);
        let mut most = 0;
        for k in 0..rows as usize {
            let i = k * 7_919 % rows as usize;
            assert!(same(&col.get(i), &article(i as u64, false)));
            if k % 61 == 0 {
                most = most.max(resident_kib(&col));
            }
        }
        let column_kib = rows * BASE as u64 / 1024;
        let bound = (scratch_map::RELEASE_EVERY_READS * 64) as u64;
        assert!(
            bound < column_kib,
            "the test's column is larger than the bound"
        );
        assert!(
            most <= bound + 64,
            "{most} KiB of a {column_kib} KiB column"
        );
    }

    #[test]
    fn an_empty_column_is_empty() {
        let kinds: [fn(u64) -> PageSummary; 1] = [reject];
        let (col, _dir) = written(&kinds, 0, false);
        assert!(col.is_empty() && col.iter().next().is_none());
        assert!(Summaries::default().is_empty());
    }
}
