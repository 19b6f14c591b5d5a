//! The pages each related snippet was seen on, kept small: a snippet of a site's
//! recommendation pool is on thousands of pages, and at a million templated pages the
//! lists as `Vec<u32>` held ~80 MB (12.5M entries, each vector grown by doubling in the
//! scan's workers between their per-page buffers). Here a list is its ascending pages as
//! delta varints — one or two bytes a page where a snippet is common — built during the
//! scan in fixed blocks of one pool ([`SeenInPool`]), then written out once, every list
//! one after another, to a scratch file of the run that phase 2 maps ([`ListWriter`]):
//! only the writers read the lists (a snippet's record names its pages), so on the heap
//! they sat beside every phase (~16 MB at a million site pages).

/// Data bytes in a pool block (with its link, a block is 64 bytes).
const DATA: usize = 60;

/// No block.
const NONE: u32 = u32::MAX;

/// Appends `v` as a LEB128 varint.
fn put_varint(mut v: u32, out: &mut impl FnMut(u8)) {
    while v >= 0x80 {
        out((v as u8) | 0x80);
        v >>= 7;
    }
    out(v as u8);
}

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Error;
use crate::run::scratch_map::{self, ScratchMap};

/// Where a list's bytes are.
#[derive(Debug, Clone)]
enum ListBytes {
    /// On the heap.
    Held(Box<[u8]>),
    /// Bytes `start..end` of the run's mapped list file.
    Mapped {
        map: Arc<ScratchMap>,
        start: usize,
        end: usize,
    },
}

impl Default for ListBytes {
    fn default() -> Self {
        ListBytes::Held(Box::default())
    }
}

/// One snippet's pages, ascending and distinct.
#[derive(Debug, Clone, Default)]
pub struct SeenIn {
    /// How many pages.
    count: u32,
    /// The first page, then each page's distance from the one before, as LEB128 varints.
    bytes: ListBytes,
}

/// Equal when they list the same pages, wherever each holds them.
impl PartialEq for SeenIn {
    fn eq(&self, other: &SeenIn) -> bool {
        self.count == other.count && self.bytes() == other.bytes()
    }
}

impl Eq for SeenIn {}

impl SeenIn {
    /// The list of `pages`, which must be ascending and distinct.
    pub fn from_sorted(pages: &[u32]) -> SeenIn {
        debug_assert!(pages.windows(2).all(|w| w[0] < w[1]));
        let mut bytes = Vec::with_capacity(pages.len() * 2);
        let mut last = 0;
        for (i, &p) in pages.iter().enumerate() {
            let delta = if i == 0 { p } else { p - last };
            put_varint(delta, &mut |b| bytes.push(b));
            last = p;
        }
        SeenIn {
            count: pages.len() as u32,
            bytes: ListBytes::Held(bytes.into_boxed_slice()),
        }
    }

    fn bytes(&self) -> &[u8] {
        match &self.bytes {
            ListBytes::Held(b) => b,
            ListBytes::Mapped { map, start, end } => map.get(*start..*end).unwrap_or_default(),
        }
    }

    /// Drops the pages of the mapped file the list is in from the process's resident set
    /// (every list's: they share the file); they stay in the page cache.
    pub fn release(&self) {
        if let ListBytes::Mapped { map, .. } = &self.bytes {
            map.release();
        }
    }

    /// How many pages.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The pages, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        let bytes = self.bytes();
        let mut at = 0;
        let mut page = 0u32;
        (0..self.count).map(move |i| {
            let mut delta = 0u32;
            let mut shift = 0;
            loop {
                // The bytes are the run's own; a list cut short reads as zeros.
                let b = bytes.get(at).copied().unwrap_or_default();
                at += 1;
                delta |= u32::from(b & 0x7f) << shift;
                if b < 0x80 {
                    break;
                }
                shift += 7;
            }
            page = if i == 0 { delta } else { page + delta };
            page
        })
    }
}

/// A pool block: the next bytes of one list and the block after it.
#[derive(Clone, Copy)]
struct Block {
    data: [u8; DATA],
    next: u32,
}

/// Where one list is in the pool.
#[derive(Clone, Copy)]
struct Head {
    /// Its first and last block (`NONE` while empty).
    first: u32,
    last: u32,
    /// Bytes used in the last block.
    used: u8,
    /// Its last page and how many pages it has.
    page: u32,
    count: u32,
}

const EMPTY: Head = Head {
    first: NONE,
    last: NONE,
    used: 0,
    page: 0,
    count: 0,
};

/// Many growing page lists in one buffer of fixed blocks: no allocation per list and
/// nothing freed while the lists grow.
#[derive(Default)]
pub struct SeenInPool {
    blocks: Vec<Block>,
    heads: Vec<Head>,
}

impl SeenInPool {
    /// Adds `page` to list `list` (lists are numbered from 0 and made as they are named).
    /// Pages come in ascending order; the page just added again is ignored.
    pub fn push(&mut self, list: u32, page: u32) {
        let l = list as usize;
        if l >= self.heads.len() {
            self.heads.resize(l + 1, EMPTY);
        }
        let h = self.heads[l];
        if h.count > 0 && page <= h.page {
            debug_assert_eq!(page, h.page, "pages are added in ascending order");
            return;
        }
        let delta = if h.count == 0 { page } else { page - h.page };
        let mut head = h;
        head.page = page;
        head.count += 1;
        let blocks = &mut self.blocks;
        put_varint(delta, &mut |b| {
            if head.last == NONE || usize::from(head.used) == DATA {
                let new = u32::try_from(blocks.len()).expect("fewer than 2^32 blocks");
                blocks.push(Block {
                    data: [0; DATA],
                    next: NONE,
                });
                match head.last {
                    NONE => head.first = new,
                    last => blocks[last as usize].next = new,
                }
                head.last = new;
                head.used = 0;
            }
            blocks[head.last as usize].data[usize::from(head.used)] = b;
            head.used += 1;
        });
        self.heads[l] = head;
    }

    /// List `list` as a [`SeenIn`] on the heap (empty when it was never named).
    pub fn get(&self, list: u32) -> SeenIn {
        let mut bytes = Vec::new();
        self.for_each_part(list, |b| bytes.extend_from_slice(b));
        SeenIn {
            count: self.count(list),
            bytes: ListBytes::Held(bytes.into_boxed_slice()),
        }
    }

    /// Lists `lists` written one after another to `out`'s file, which is then mapped:
    /// each list as a [`SeenIn`] reading its bytes there, in the order given.
    pub fn write_out(&self, lists: &[u32], out: ListWriter) -> Result<Vec<SeenIn>, Error> {
        let ListWriter { file, output } = out;
        let fail = |e: std::io::Error| scratch_map::write_error(&output, WHAT, e);
        let mut w = BufWriter::with_capacity(1 << 16, file);
        let mut ranges = Vec::with_capacity(lists.len());
        let mut at = 0usize;
        for &l in lists {
            let start = at;
            let mut failed = None;
            self.for_each_part(l, |b| {
                if failed.is_none() {
                    failed = w.write_all(b).err();
                    at += b.len();
                }
            });
            if let Some(e) = failed {
                return Err(fail(e));
            }
            ranges.push((self.count(l), start, at));
        }
        let file = w.into_inner().map_err(|e| fail(e.into_error()))?;
        if at == 0 {
            // Nothing to map (no snippet, or none seen): every list is empty.
            return Ok(ranges.iter().map(|_| SeenIn::default()).collect());
        }
        let map = Arc::new(ScratchMap::of(&file).map_err(fail)?);
        Ok(ranges
            .into_iter()
            .map(|(count, start, end)| SeenIn {
                count,
                bytes: ListBytes::Mapped {
                    map: Arc::clone(&map),
                    start,
                    end,
                },
            })
            .collect())
    }

    fn count(&self, list: u32) -> u32 {
        self.heads.get(list as usize).map_or(0, |h| h.count)
    }

    /// Hands `part` each run of list `list`'s bytes, in order.
    fn for_each_part(&self, list: u32, mut part: impl FnMut(&[u8])) {
        let Some(h) = self.heads.get(list as usize) else {
            return;
        };
        let mut b = h.first;
        while b != NONE {
            let block = &self.blocks[b as usize];
            let used = if b == h.last {
                usize::from(h.used)
            } else {
                DATA
            };
            part(&block.data[..used]);
            b = block.next;
        }
    }
}

/// The scratch file the page lists are written to when the scan ends
/// ([`SeenInPool::write_out`]).
#[derive(Debug)]
pub struct ListWriter {
    file: File,
    output: PathBuf,
}

impl ListWriter {
    /// A new, empty file at `path` (a scratch file of the run's staging folder; `output`
    /// names the run's output in errors).
    pub fn create(path: &Path, output: &Path) -> Result<ListWriter, Error> {
        let file =
            scratch_map::create(path).map_err(|e| scratch_map::write_error(output, WHAT, e))?;
        Ok(ListWriter {
            file,
            output: output.to_path_buf(),
        })
    }
}

/// What a write error of this column names.
const WHAT: &str = "snippet page lists between the phases";

#[cfg(test)]
mod tests {
    use super::*;

    /// Lists built in the pool, interleaved, read back as the pages given (repeats of
    /// the last page dropped), and as `from_sorted` makes them.
    #[test]
    fn interleaved_lists_come_back_ascending_and_distinct() {
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let lists = 40;
        let mut want: Vec<Vec<u32>> = vec![Vec::new(); lists];
        let mut pool = SeenInPool::default();
        let mut page = 0u32;
        for i in 0..20_000 {
            // Gaps from 0 (the same page again) to billions (five-byte varints).
            page += match (i, next() % 10) {
                (19_990, _) => 3_000_000_000,
                (_, 0) => 0,
                (_, 1) => next() % 100_000,
                _ => next() % 300,
            };
            let l = next() % lists as u32;
            pool.push(l, page);
            if want[l as usize].last() != Some(&page) {
                want[l as usize].push(page);
            }
        }
        for (l, w) in want.iter().enumerate() {
            let got = pool.get(l as u32);
            assert_eq!(got.len(), w.len());
            assert_eq!(got.iter().collect::<Vec<_>>(), *w, "list {l}");
            assert_eq!(got, SeenIn::from_sorted(w));
        }
        // Written out and mapped, in another order, the same lists.
        let dir = tempfile::tempdir().unwrap();
        let order: Vec<u32> = (0..lists as u32).rev().chain([lists as u32 + 9]).collect();
        let out = ListWriter::create(&dir.path().join("lists"), dir.path()).unwrap();
        let mapped = pool.write_out(&order, out).unwrap();
        for (&l, m) in order.iter().zip(&mapped) {
            assert!(l as usize >= lists || matches!(m.bytes, ListBytes::Mapped { .. }));
            assert_eq!(*m, pool.get(l), "list {l}");
            m.release();
            assert_eq!(m.iter().count(), m.len());
        }
        assert!(pool.get(lists as u32 + 5).is_empty());
        assert_eq!(
            SeenIn::from_sorted(&[0, u32::MAX]).iter().last(),
            Some(u32::MAX)
        );
    }
}
