//! The pages each related snippet was seen on, kept small: a snippet of a site's
//! recommendation pool is on thousands of pages, and at a million templated pages the
//! lists as `Vec<u32>` held ~80 MB (12.5M entries, each vector grown by doubling in the
//! scan's workers between their per-page buffers). Here a list is its ascending pages as
//! delta varints — one or two bytes a page where a snippet is common — built during the
//! scan in fixed blocks of one pool ([`SeenInPool`]), then copied out once per snippet
//! ([`SeenIn`]) when the scan has ended.

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

/// One snippet's pages, ascending and distinct.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeenIn {
    /// How many pages.
    count: u32,
    /// The first page, then each page's distance from the one before, as LEB128 varints.
    bytes: Box<[u8]>,
}

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
            bytes: bytes.into_boxed_slice(),
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
        let mut at = 0;
        let mut page = 0u32;
        (0..self.count).map(move |i| {
            let mut delta = 0u32;
            let mut shift = 0;
            loop {
                let b = self.bytes[at];
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

    /// List `list` as a [`SeenIn`] (empty when it was never named).
    pub fn get(&self, list: u32) -> SeenIn {
        let Some(h) = self.heads.get(list as usize) else {
            return SeenIn::default();
        };
        let mut bytes = Vec::new();
        let mut b = h.first;
        while b != NONE {
            let block = &self.blocks[b as usize];
            let used = if b == h.last {
                usize::from(h.used)
            } else {
                DATA
            };
            bytes.extend_from_slice(&block.data[..used]);
            b = block.next;
        }
        SeenIn {
            count: h.count,
            bytes: bytes.into_boxed_slice(),
        }
    }
}

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
        assert!(pool.get(lists as u32 + 5).is_empty());
        assert_eq!(
            SeenIn::from_sorted(&[0, u32::MAX]).iter().last(),
            Some(u32::MAX)
        );
    }
}
