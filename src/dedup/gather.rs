//! The signatures one slice of an LSH band's buckets reads, copied out of their column
//! in text order before the buckets are compared.
//!
//! A band's comparisons read the signatures of the texts in its buckets of two or more,
//! in key order: all over the column. When the column is a mapped file (the CLI's
//! signature column, a partition task's columns file) every page they touch stayed
//! resident: ~290 MiB of file pages at a million texts, in every partition task of a
//! node. Gathered first — the members sorted by text, copied in that order, the column's
//! pages handed back behind the copy ([`crate::trim::release_read`]) — a slice costs its
//! copies (256 bytes a member, at most [`GATHER_TEXTS`] of them unless one bucket is
//! larger) and the comparisons read a compact buffer. The copies are the same bytes, so
//! the pairs found do not change. A single bucket of more than [`GATHER_TEXTS`] members
//! (near-identical text on a large share of the pages) is not copied: its comparisons
//! read the column in place and its pages are handed back after it.

use rayon::prelude::*;

use crate::dedup::minhash::{SigColumn, Signature};

/// The most members one slice gathers (32 MiB of copies): a band whose buckets hold
/// more is compared in several slices, each cut between two buckets; a bucket larger
/// than this is a slice of its own, read in place. (1,024 in the library's own tests, so
/// that their searches go through several slices and buckets read in place.)
pub const GATHER_TEXTS: usize = if cfg!(test) { 1 << 10 } else { 1 << 17 };

/// Members one thread copies at a time.
const COPY_CHUNK: usize = 1 << 12;

/// Bytes of the column a copy passes over between two hand-backs of its pages.
const RELEASE_SPAN: usize = 4 << 20;

/// Copies of the signatures a slice of a band table reads, and where each text's is.
pub struct Gathered<'s> {
    /// The column.
    sigs: &'s SigColumn<'s>,
    /// The slice is one bucket too large to copy: its members are read in place.
    in_place: bool,
    /// Text → its copy; `u32::MAX` for a text not gathered.
    slot: Vec<u32>,
    /// The gathered texts, ascending.
    texts: Vec<u32>,
    /// Their signatures, in the same order.
    copies: Vec<Signature>,
}

impl<'s> Gathered<'s> {
    /// Room for the texts of `sigs` (4 bytes a text for the slot map).
    pub fn new(sigs: &'s SigColumn<'s>) -> Gathered<'s> {
        Gathered {
            sigs,
            in_place: false,
            slot: vec![u32::MAX; sigs.len()],
            texts: Vec::new(),
            copies: Vec::new(),
        }
    }

    /// Gathers the members of the buckets of `table` from its start (entries sorted by
    /// `key`; `item` gives an entry's text) that `wanted(bucket size)` asks for, bucket
    /// after bucket while the members stay within [`GATHER_TEXTS`] (a first bucket
    /// alone may exceed it); returns the number of entries of `table` the slice covers.
    /// The previous slice's copies are dropped first.
    pub fn slice<T: Sync>(
        &mut self,
        table: &[T],
        key: impl Fn(&T) -> u32,
        item: impl Fn(&T) -> u32,
        wanted: impl Fn(usize) -> bool,
    ) -> usize {
        self.clear();
        let mut end = 0;
        while end < table.len() {
            let k = key(&table[end]);
            let len = table[end..].iter().take_while(|e| key(e) == k).count();
            if wanted(len) {
                if !self.texts.is_empty() && self.texts.len() + len > GATHER_TEXTS {
                    break;
                }
                self.texts.extend(table[end..end + len].iter().map(&item));
            }
            end += len;
        }
        if self.texts.len() > GATHER_TEXTS {
            self.in_place = true;
            return end;
        }
        self.copy();
        end
    }

    /// Copies the gathered texts' signatures in text order, handing the column's pages
    /// back behind the copy, [`RELEASE_SPAN`] bytes of the column at a time.
    fn copy(&mut self) {
        let sigs = self.sigs;
        self.texts.sort_unstable();
        for (k, &t) in self.texts.iter().enumerate() {
            self.slot[t as usize] = k as u32;
        }
        // Every copy is overwritten below: only room beyond the last slice's is zeroed.
        self.copies.truncate(self.texts.len());
        self.copies.resize(self.texts.len(), Signature::default());
        self.texts
            .par_chunks(COPY_CHUNK)
            .zip(self.copies.par_chunks_mut(COPY_CHUNK))
            .for_each(|(texts, copies)| {
                // Handed back by stretch of the column, not by member: a chunk of
                // members spread over the whole column maps a 64 KiB window around each
                // (the kernel's fault-around), up to all of it before the chunk ends.
                let mut from = sigs.get(texts[0] as usize).0.as_ptr();
                for (c, &t) in copies.iter_mut().zip(texts) {
                    let s = sigs.get(t as usize);
                    let at = s.0.as_ptr();
                    if (at as usize).wrapping_sub(from as usize) >= RELEASE_SPAN {
                        crate::trim::release_read(from, at);
                        from = at;
                    }
                    *c = *s;
                }
                let last = sigs.get(texts[texts.len() - 1] as usize);
                crate::trim::release_read(from, last.0.as_ptr_range().end);
            });
    }

    /// Text `i`'s signature; `i` must be a member of the slice.
    #[inline]
    pub fn get(&self, i: u32) -> &Signature {
        match self.in_place {
            false => &self.copies[self.slot[i as usize] as usize],
            true => self.sigs.get(i as usize),
        }
    }

    /// Forgets the slice (a text of it asked for again is a panic, never another's
    /// signature).
    fn clear(&mut self) {
        if std::mem::take(&mut self.in_place) {
            // The pages the bucket's comparisons mapped go back.
            let read: Vec<&Signature> = self
                .texts
                .iter()
                .map(|&t| self.sigs.get(t as usize))
                .collect();
            crate::dedup::minhash::release_read(&read);
        }
        for &t in &self.texts {
            self.slot[t as usize] = u32::MAX;
        }
        self.texts.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(b: u8) -> Signature {
        Signature([b; 256])
    }

    #[test]
    fn a_slice_copies_the_wanted_buckets_members_and_stops_between_buckets() {
        let sigs: Vec<Signature> = (0..10).map(sig).collect();
        let refs = SigColumn::Refs(sigs.iter().collect());
        // (key, text), sorted by key: buckets 1 = {7, 2}, 2 = {5}, 3 = {0, 9, 4}.
        let table = [(1, 7), (1, 2), (2, 5), (3, 0), (3, 9), (3, 4)];
        let mut g = Gathered::new(&refs);
        let n = g.slice(&table, |e| e.0, |e| e.1, |len| len >= 2);
        assert_eq!(n, 6);
        for t in [7, 2, 0, 9, 4] {
            assert_eq!(g.get(t), &sig(t as u8));
        }
        assert_eq!(g.texts, [0, 2, 4, 7, 9]);
        // Text 5 (a bucket of one) was not gathered: asking for it panics.
        assert!(std::panic::catch_unwind(|| *g.get(5)).is_err());
    }

    #[test]
    fn a_large_table_is_cut_into_slices_within_the_bound() {
        let n = GATHER_TEXTS + 10;
        let sigs: Vec<Signature> = (0..n).map(|i| sig(i as u8)).collect();
        let refs = SigColumn::Laid(&sigs);
        // Buckets of two: (i / 2, i).
        let table: Vec<(u32, u32)> = (0..n as u32).map(|i| (i / 2, i)).collect();
        let mut g = Gathered::new(&refs);
        let first = g.slice(&table, |e| e.0, |e| e.1, |len| len >= 2);
        assert_eq!(first, GATHER_TEXTS);
        assert_eq!(g.get(0), &sig(0));
        let rest = g.slice(&table[first..], |e| e.0, |e| e.1, |len| len >= 2);
        assert_eq!(rest, 10);
        assert_eq!(g.get(first as u32 + 3), &sig((first + 3) as u8));
        // The first slice's texts were forgotten.
        assert!(std::panic::catch_unwind(|| *g.get(0)).is_err());
        // One bucket larger than the bound is read in place.
        let one: Vec<(u32, u32)> = (0..n as u32).map(|i| (0, i)).collect();
        assert_eq!(g.slice(&one, |e| e.0, |e| e.1, |len| len >= 2), n);
        assert!(g.in_place && g.copies.len() <= GATHER_TEXTS);
        assert_eq!(g.get(n as u32 - 1), &sig((n - 1) as u8));
    }
}
