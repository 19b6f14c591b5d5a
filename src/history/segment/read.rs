//! Reading a segment: memory-mapped (`memmap2`), every byte read through its block's
//! checksum, found by binary search.
//!
//! Opening reads only the footer, level 2 of the checksums and the header. A read of any
//! range verifies the blocks it overlaps the first time they are read (and the level-1
//! page holding their checksums the first time any of them is), so a night reads — and
//! hashes — what its lookups touch, whatever the segment's size. Lookups come in sorted
//! batches per table: the fence is read, the group pages of the batch are asked for at once
//! (`posix_fadvise(WILLNEED)`: a cold index is read with many reads in flight, not one at a
//! time), then each group is read with `pread` into a buffer. Lookups do not go through
//! the mapping because a page fault on a mapped file also maps the cached pages around it
//! (the kernel's fault-around): at 10M entries the random pages of one night's lookups made
//! ~200 MB of resident memory that way; the rows and signatures of the few entries found
//! are read from the mapping.
//!
//! A segment is never written again once published; a file that another process truncates
//! while it is mapped would fault on access (this is the usual contract of a mapped index:
//! the lock and the manifest keep pagesieve itself from doing it).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::{Advice, Mmap, UncheckedAdvice};
use xxhash_rust::xxh3::xxh3_64;

use crate::dedup::minhash::{Signature, SIGNATURE_BINS};
use crate::dedup::Fingerprint;
use crate::history::rows::{EntryRow, StrRef};
use crate::history::segment::{
    KindLayout, SegmentHeader, WideTable, BAND_ROW, BLOCK, END, FOOTER_BYTES, FORMAT, GROUP_BYTES,
    MAGIC, WIDE_ROW,
};
use crate::record::RecordKind;

/// What a failed read says (the caller adds context).
pub type Problem = String;

/// An open segment.
pub struct Segment {
    path: PathBuf,
    file: std::fs::File,
    map: Mmap,
    /// Its header.
    pub header: SegmentHeader,
    l1_off: u64,
    blocks: u64,
    level2: Vec<u64>,
    verified: Vec<AtomicU64>,
    verified_l1: Vec<AtomicU64>,
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("path", &self.path)
            .field("id", &self.header.id)
            .finish()
    }
}

fn u64_at(b: &[u8], k: usize) -> u64 {
    u64::from_le_bytes(b[k..k + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], k: usize) -> u32 {
    u32::from_le_bytes(b[k..k + 4].try_into().expect("4 bytes"))
}

fn bits(n: u64) -> Vec<AtomicU64> {
    (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect()
}

impl Segment {
    /// Opens and checks a segment file: its footer, checksum level 2 and header.
    pub fn open(path: &Path) -> Result<Segment, Problem> {
        let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
        let size = file.metadata().map_err(|e| e.to_string())?.len();
        if size < BLOCK + FOOTER_BYTES {
            return Err(format!("truncated: {size} bytes"));
        }
        // SAFETY: segments are immutable once published (see the module's note).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| format!("cannot map: {e}"))?;
        let _ = map.advise(Advice::Random);
        let foot = &map[(size - FOOTER_BYTES) as usize..];
        if &foot[48..56] != END {
            return Err("not a segment, or truncated (no end marker)".into());
        }
        if xxh3_64(&foot[..40]) != u64_at(foot, 40) {
            return Err("the footer does not match its checksum".into());
        }
        let (l1_off, blocks, l2_off, l2_n) = (
            u64_at(foot, 0),
            u64_at(foot, 8),
            u64_at(foot, 16),
            u64_at(foot, 24),
        );
        let l1_len = (blocks * 8).div_ceil(BLOCK) * BLOCK;
        let fits = blocks.checked_mul(BLOCK) == Some(l1_off)
            && l1_off.checked_add(l1_len) == Some(l2_off)
            && l2_n == l1_len / BLOCK
            && l2_off.checked_add(8 * l2_n).map(|e| e + FOOTER_BYTES) == Some(size);
        if !fits {
            return Err(format!(
                "the footer's offsets do not fit a file of {size} bytes"
            ));
        }
        let l2_bytes = &map[l2_off as usize..(l2_off + 8 * l2_n) as usize];
        if xxh3_64(l2_bytes) != u64_at(foot, 32) {
            return Err("checksum level 2 does not match the footer".into());
        }
        let level2 = (0..l2_n as usize)
            .map(|k| u64_at(l2_bytes, 8 * k))
            .collect();
        let mut seg = Segment {
            path: path.to_path_buf(),
            file,
            map,
            header: empty_header(),
            l1_off,
            blocks,
            level2,
            verified: bits(blocks),
            verified_l1: bits(l2_n),
        };
        let prefix = seg.bytes(0, 16)?;
        if &prefix[..8] != MAGIC {
            return Err("not a pagesieve segment (bad magic bytes)".into());
        }
        let format = u32_at(prefix, 8);
        if format != FORMAT {
            return Err(format!(
                "segment format {format}; this pagesieve reads format {FORMAT}"
            ));
        }
        let hlen = u64::from(u32_at(prefix, 12));
        let json = seg.bytes(16, hlen)?;
        seg.header =
            serde_json::from_slice(json).map_err(|e| format!("the header does not parse: {e}"))?;
        for k in [RecordKind::Article, RecordKind::Snippet] {
            check_layout(seg.header.kind(k), &seg.header, l1_off)?;
        }
        Ok(seg)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length.
    pub fn size(&self) -> u64 {
        self.map.len() as u64
    }

    /// `len` bytes at `off`, each of their blocks verified against its checksum.
    pub fn bytes(&self, off: u64, len: u64) -> Result<&[u8], Problem> {
        let end = off
            .checked_add(len)
            .filter(|&e| e <= self.l1_off)
            .ok_or_else(|| format!("a read of {len} bytes at {off} is past the data"))?;
        if len > 0 {
            for b in off / BLOCK..end.div_ceil(BLOCK) {
                self.verify_block(b)?;
            }
        }
        Ok(&self.map[off as usize..end as usize])
    }

    fn verify_block(&self, b: u64) -> Result<(), Problem> {
        if test(&self.verified, b) {
            return Ok(());
        }
        let want = self.checksum(b)?;
        let block = &self.map[(b * BLOCK) as usize..((b + 1) * BLOCK) as usize];
        if xxh3_64(block) != want {
            return Err(damaged(b));
        }
        set(&self.verified, b);
        Ok(())
    }

    /// Block `b`'s checksum, its level-1 page verified against level 2 first.
    fn checksum(&self, b: u64) -> Result<u64, Problem> {
        use std::os::unix::fs::FileExt;
        let page = b * 8 / BLOCK;
        let l1 = self.l1_off + page * BLOCK;
        let io = |e: std::io::Error| format!("cannot read: {e}");
        if !test(&self.verified_l1, page) {
            let mut bytes = vec![0u8; BLOCK as usize];
            self.file.read_exact_at(&mut bytes, l1).map_err(io)?;
            if xxh3_64(&bytes) != self.level2[page as usize] {
                return Err(format!(
                    "checksum page {page} does not match level 2: the file is damaged"
                ));
            }
            set(&self.verified_l1, page);
            let at = (b * 8 % BLOCK) as usize;
            return Ok(u64_at(&bytes, at));
        }
        let mut sum = [0u8; 8];
        self.file
            .read_exact_at(&mut sum, self.l1_off + 8 * b)
            .map_err(io)?;
        Ok(u64::from_le_bytes(sum))
    }

    /// Verifies every block (before a segment is merged into another).
    pub fn verify_all(&self) -> Result<(), Problem> {
        for b in 0..self.blocks {
            self.verify_block(b)?;
            if b % 4096 == 4095 {
                self.release_all();
            }
        }
        self.release_all();
        Ok(())
    }

    /// Hands the mapped pages back (a scan's pages stay in the page cache, not in this
    /// process's resident memory).
    pub fn release_all(&self) {
        // SAFETY: a shared, read-only file mapping: a page is read from the file again on
        // its next access, with the same bytes.
        let _ = unsafe { self.map.unchecked_advise(UncheckedAdvice::DontNeed) };
    }

    /// The view of one kind's entries.
    pub fn kind(&self, kind: RecordKind) -> KindView<'_> {
        KindView {
            seg: self,
            l: self.header.kind(kind),
            kind,
        }
    }

    /// Asks for a range ahead of its read, with the checksum pages that verify it (a hint).
    fn will_need(&self, off: u64, len: u64) {
        crate::fadvise::will_need(&self.file, off, len);
        let (first, last) = (off / BLOCK, (off + len).div_ceil(BLOCK).min(self.blocks));
        let mut page = u64::MAX;
        for b in first..last {
            let p = b * 8 / BLOCK;
            if p != page && !test(&self.verified_l1, p) {
                crate::fadvise::will_need(&self.file, self.l1_off + p * BLOCK, BLOCK);
                page = p;
            }
        }
    }

    /// `len` bytes at `off` read with `pread` into `buf` (whole blocks, each verified),
    /// returning the range asked for: what lookups read, outside the mapping.
    pub fn read<'b>(&self, off: u64, len: u64, buf: &'b mut Vec<u8>) -> Result<&'b [u8], Problem> {
        use std::os::unix::fs::FileExt;
        let end = off
            .checked_add(len)
            .filter(|&e| e <= self.l1_off)
            .ok_or_else(|| format!("a read of {len} bytes at {off} is past the data"))?;
        let (first, last) = (off / BLOCK, end.div_ceil(BLOCK));
        buf.resize(((last - first) * BLOCK) as usize, 0);
        self.file
            .read_exact_at(buf, first * BLOCK)
            .map_err(|e| format!("cannot read: {e}"))?;
        for (k, b) in (first..last).enumerate() {
            if test(&self.verified, b) {
                continue;
            }
            let want = self.checksum(b)?;
            let block = &buf[k * BLOCK as usize..(k + 1) * BLOCK as usize];
            if xxh3_64(block) != want {
                return Err(damaged(b));
            }
            set(&self.verified, b);
        }
        let at = (off - first * BLOCK) as usize;
        Ok(&buf[at..at + len as usize])
    }
}

fn damaged(b: u64) -> Problem {
    format!(
        "block {b} (bytes {}..{}) does not match its checksum: the file is damaged",
        b * BLOCK,
        (b + 1) * BLOCK
    )
}

fn test(bits: &[AtomicU64], i: u64) -> bool {
    bits[(i / 64) as usize].load(Ordering::Relaxed) & (1 << (i % 64)) != 0
}

fn set(bits: &[AtomicU64], i: u64) {
    bits[(i / 64) as usize].fetch_or(1 << (i % 64), Ordering::Relaxed);
}

fn empty_header() -> SegmentHeader {
    SegmentHeader {
        format: FORMAT,
        id: String::new(),
        created: String::new(),
        tool: String::new(),
        settings_hash: String::new(),
        fingerprints: 1,
        bands: 0,
        rows: 0,
        min_chars_near: 0,
        runs: Vec::new(),
        articles: KindLayout::default(),
        snippets: KindLayout::default(),
    }
}

/// Checks that every section of a kind lies inside the data and has the size its counts
/// give (a crafted header cannot make a read go past the file or allocate by its counts).
fn check_layout(l: &KindLayout, h: &SegmentHeader, data_end: u64) -> Result<(), Problem> {
    let n = l.entries;
    let within = |s: [u64; 2]| s[0].checked_add(s[1]).is_some_and(|e| e <= data_end);
    let sized = |s: [u64; 2], want: Option<u64>| within(s) && want == Some(s[1]);
    let wide = n.checked_mul(WIDE_ROW);
    let bands_end = l.bands[1]
        .checked_mul(h.bands as u64)
        .and_then(|b| b.checked_add(l.bands[0]));
    let ok = h.fingerprints >= 1
        && h.fingerprints <= crate::dedup::fingerprint::MAX_FINGERPRINTS
        && l.near <= n
        && sized(l.rows, n.checked_mul(h.row_bytes()))
        && sized(l.signatures, n.checked_mul(SIGNATURE_BINS as u64))
        && within(l.strings)
        && sized(l.exact, wide)
        && (l.titles[1] == 0 || sized(l.titles, wide))
        && sized(l.ids, wide)
        && l.bands[1] >= l.near * BAND_ROW
        && bands_end.is_some_and(|e| e <= data_end)
        && within(l.exact_fence)
        && within(l.band_fence)
        && within(l.titles_fence)
        && within(l.ids_fence);
    match ok {
        true => Ok(()),
        false => Err("the header's sections do not fit the file".into()),
    }
}

/// The last two groups a batch read (a key's rows may run on into the next group, and the
/// next key start back in the previous one).
#[derive(Default)]
struct GroupCache {
    held: [Option<(u64, std::rc::Rc<Vec<u8>>)>; 2],
}

impl GroupCache {
    fn get(
        &mut self,
        g: u64,
        read: impl FnOnce() -> Result<Vec<u8>, Problem>,
    ) -> Result<std::rc::Rc<Vec<u8>>, Problem> {
        for (n, b) in self.held.iter().flatten() {
            if *n == g {
                return Ok(std::rc::Rc::clone(b));
            }
        }
        let b = std::rc::Rc::new(read()?);
        self.held = [self.held[1].take(), Some((g, std::rc::Rc::clone(&b)))];
        Ok(b)
    }
}

/// The entries of `(query, entry)` pairs, ascending, each once.
fn entries_of(pairs: Vec<(u32, u32)>, out: &mut Vec<u32>) {
    let mut found: Vec<u32> = pairs.into_iter().map(|(_, e)| e).collect();
    found.sort_unstable();
    found.dedup();
    out.extend(found);
}

/// One kind's entries in a segment.
#[derive(Clone, Copy)]
pub struct KindView<'a> {
    seg: &'a Segment,
    l: &'a KindLayout,
    kind: RecordKind,
}

impl<'a> KindView<'a> {
    /// The segment.
    pub fn segment(&self) -> &'a Segment {
        self.seg
    }

    /// Which kind.
    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// Entries.
    pub fn len(&self) -> usize {
        self.l.entries as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.l.entries == 0
    }

    /// Entries in the band tables.
    pub fn near(&self) -> usize {
        self.l.near as usize
    }

    fn index(&self, i: usize) -> Result<u64, Problem> {
        match (i as u64) < self.l.entries {
            true => Ok(i as u64),
            false => Err(format!("entry {i} of {} is out of range", self.l.entries)),
        }
    }

    /// Entry `i`'s row.
    pub fn row(&self, i: usize) -> Result<(EntryRow, StrRef), Problem> {
        let rb = self.seg.header.row_bytes();
        let b = self.seg.bytes(self.l.rows[0] + self.index(i)? * rb, rb)?;
        Ok(EntryRow::decode(b, self.seg.header.fingerprints))
    }

    /// Entry `i`'s signature.
    pub fn signature(&self, i: usize) -> Result<&'a Signature, Problem> {
        let n = SIGNATURE_BINS as u64;
        let b = self
            .seg
            .bytes(self.l.signatures[0] + self.index(i)? * n, n)?;
        let arr: &[u8; SIGNATURE_BINS] = b.try_into().expect("256 bytes");
        Ok(Signature::from_bytes(arr))
    }

    /// Entry `i`'s id and source.
    pub fn strings(&self, i: usize, s: StrRef) -> Result<(&'a str, &'a str), Problem> {
        let len = u64::from(s.id_len) + u64::from(s.source_len);
        if s.offset
            .checked_add(len)
            .is_none_or(|e| e > self.l.strings[1])
        {
            return Err(format!("entry {i}'s strings are outside their section"));
        }
        let b = self.seg.bytes(self.l.strings[0] + s.offset, len)?;
        let (id, source) = b.split_at(s.id_len as usize);
        let utf8 = |x| std::str::from_utf8(x).map_err(|_| format!("entry {i}: not UTF-8"));
        Ok((utf8(id)?, utf8(source)?))
    }

    /// Entry `i`'s fingerprint.
    pub fn fingerprint(&self, i: usize) -> Result<Fingerprint, Problem> {
        let (row, _) = self.row(i)?;
        Ok(row.fingerprint(self.seg.header.fingerprints))
    }

    /// Entry `i`'s row, read with `pread` (a random read: see the module's note).
    pub fn read_row(&self, i: usize) -> Result<(EntryRow, StrRef), Problem> {
        let rb = self.seg.header.row_bytes();
        let mut buf = Vec::new();
        let b = self
            .seg
            .read(self.l.rows[0] + self.index(i)? * rb, rb, &mut buf)?;
        Ok(EntryRow::decode(b, self.seg.header.fingerprints))
    }

    /// Entry `i`'s signature, read with `pread`.
    pub fn read_signature(&self, i: usize) -> Result<Signature, Problem> {
        let n = SIGNATURE_BINS as u64;
        let mut buf = Vec::new();
        let b = self
            .seg
            .read(self.l.signatures[0] + self.index(i)? * n, n, &mut buf)?;
        Ok(*Signature::from_bytes(b.try_into().expect("256 bytes")))
    }

    /// Entry `i`'s row, signature, id and source, read with `pread`.
    pub fn read_entry(&self, i: usize) -> Result<(EntryRow, Signature, String, String), Problem> {
        let (row, s) = self.read_row(i)?;
        let sig = self.read_signature(i)?;
        let mut buf = Vec::new();
        let len = u64::from(s.id_len) + u64::from(s.source_len);
        if s.offset
            .checked_add(len)
            .is_none_or(|e| e > self.l.strings[1])
        {
            return Err(format!("entry {i}'s strings are outside their section"));
        }
        let b = self.seg.read(self.l.strings[0] + s.offset, len, &mut buf)?;
        let (id, source) = b.split_at(s.id_len as usize);
        let utf8 =
            |x: &[u8]| String::from_utf8(x.to_vec()).map_err(|_| format!("entry {i}: not UTF-8"));
        Ok((row, sig, utf8(id)?, utf8(source)?))
    }

    /// Appends the entries (ascending, each once) whose key in table `t` is one of `keys`
    /// (sorted).
    pub fn find_wide(&self, t: WideTable, keys: &[u64], out: &mut Vec<u32>) -> Result<(), Problem> {
        let (table, fence) = t.sections(self.l);
        let key = |b: &[u8], k: usize| u64_at(b, k * WIDE_ROW as usize);
        let entry = |b: &[u8], k: usize| u32_at(b, k * WIDE_ROW as usize + 8);
        let fence_key = |b: &[u8], k: usize| u64_at(b, 8 * k);
        let mut pairs = Vec::new();
        self.find(
            table, fence, WIDE_ROW, keys, key, entry, fence_key, &mut pairs,
        )?;
        entries_of(pairs, out);
        Ok(())
    }

    /// Appends the entries (ascending, each once) whose key in band `band` is one of
    /// `keys` (sorted).
    pub fn find_band(&self, band: usize, keys: &[u32], out: &mut Vec<u32>) -> Result<(), Problem> {
        let mut pairs = Vec::new();
        self.find_band_pairs(band, keys, &mut pairs)?;
        entries_of(pairs, out);
        Ok(())
    }

    /// Appends `(k, entry)` for every entry whose key in band `band` is `keys[k]` (`keys`
    /// sorted): which of the keys asked for each entry was found under.
    pub fn find_band_pairs(
        &self,
        band: usize,
        keys: &[u32],
        out: &mut Vec<(u32, u32)>,
    ) -> Result<(), Problem> {
        if band >= self.seg.header.bands {
            return Ok(());
        }
        let table = [
            self.l.bands[0] + band as u64 * self.l.bands[1],
            self.l.near * BAND_ROW,
        ];
        let fk = self.l.band_fence_keys();
        let fence = [self.l.band_fence[0] + 4 * fk * band as u64, 4 * fk];
        let key = |b: &[u8], k: usize| u32_at(b, k * BAND_ROW as usize);
        let entry = |b: &[u8], k: usize| u32_at(b, k * BAND_ROW as usize + 4);
        let fence_key = |b: &[u8], k: usize| u32_at(b, 4 * k);
        self.find(table, fence, BAND_ROW, keys, key, entry, fence_key, out)
    }

    /// The lookup behind [`KindView::find_wide`] and [`KindView::find_band`].
    #[allow(clippy::too_many_arguments)]
    fn find<K: Ord + Copy>(
        &self,
        table: [u64; 2],
        fence: [u64; 2],
        row: u64,
        keys: &[K],
        key: impl Fn(&[u8], usize) -> K,
        entry: impl Fn(&[u8], usize) -> u32,
        fence_key: impl Fn(&[u8], usize) -> K,
        out: &mut Vec<(u32, u32)>,
    ) -> Result<(), Problem> {
        let rows = table[1] / row;
        if rows == 0 || keys.is_empty() {
            return Ok(());
        }
        let per_group = GROUP_BYTES / row;
        let groups = rows.div_ceil(per_group);
        if fence[1] != groups * std::mem::size_of::<K>() as u64 {
            return Err("a fence does not fit its table".into());
        }
        let mut fence_buf = Vec::new();
        let fence_bytes = self.seg.read(fence[0], fence[1], &mut fence_buf)?;
        let group_of = |q: K| -> u64 {
            // The first group whose first key is ≥ q; the first row ≥ q may be at the end
            // of the group before it.
            let (mut lo, mut hi) = (0u64, groups);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if fence_key(fence_bytes, mid as usize) < q {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            lo.saturating_sub(1)
        };
        let starts: Vec<u64> = keys.iter().map(|&q| group_of(q)).collect();
        // Ask for every group the batch reads at once (a cold index then has many reads
        // in flight instead of one).
        let mut last = u64::MAX;
        for &g in &starts {
            if g != last {
                self.seg
                    .will_need(table[0] + g * GROUP_BYTES, 2 * GROUP_BYTES);
                last = g;
            }
        }
        let mut found = Vec::new();
        // Keys are sorted, so their groups come in order: each group is read once per
        // batch, however many keys fall in it (a large night against a small segment).
        let mut cache = GroupCache::default();
        let mut group = |g: u64| -> Result<std::rc::Rc<Vec<u8>>, Problem> {
            cache.get(g, || {
                let start = g * per_group;
                let n = per_group.min(rows - start);
                let mut buf = Vec::new();
                Ok(self
                    .seg
                    .read(table[0] + start * row, n * row, &mut buf)?
                    .to_vec())
            })
        };
        for (qi, (&q, &g0)) in keys.iter().zip(&starts).enumerate() {
            let mut g = g0;
            let mut b = group(g)?;
            let n = (b.len() as u64 / row) as usize;
            let (mut lo, mut hi) = (0usize, n);
            while lo < hi {
                let mid = (lo + hi) / 2;
                if key(&b, mid) < q {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            let mut k = lo;
            loop {
                if k == (b.len() as u64 / row) as usize {
                    g += 1;
                    if g >= groups {
                        break;
                    }
                    b = group(g)?;
                    k = 0;
                }
                if key(&b, k) != q {
                    break;
                }
                found.push((qi as u32, entry(&b, k)));
                k += 1;
            }
        }
        if found.iter().any(|&(_, e)| u64::from(e) >= self.l.entries) {
            return Err("a table names an entry past the entries".into());
        }
        out.extend(found);
        Ok(())
    }

    /// Every row of a wide table, in order (for a merge; the segment is verified first).
    pub fn wide_rows(
        &self,
        t: WideTable,
    ) -> impl Iterator<Item = Result<(u64, u32), Problem>> + 'a {
        let (table, _) = t.sections(self.l);
        self.rows_of(table, WIDE_ROW, |b| (u64_at(b, 0), u32_at(b, 8)))
    }

    /// Every row of band `band`'s table, in order.
    pub fn band_rows(&self, band: usize) -> impl Iterator<Item = Result<(u32, u32), Problem>> + 'a {
        let table = [
            self.l.bands[0] + band as u64 * self.l.bands[1],
            self.l.near * BAND_ROW,
        ];
        self.rows_of(table, BAND_ROW, |b| (u32_at(b, 0), u32_at(b, 4)))
    }

    fn rows_of<T: 'a>(
        &self,
        table: [u64; 2],
        row: u64,
        parse: impl Fn(&[u8]) -> T + 'a,
    ) -> impl Iterator<Item = Result<T, Problem>> + 'a {
        let seg = self.seg;
        (0..table[1] / row).map(move |k| seg.bytes(table[0] + k * row, row).map(&parse))
    }
}
