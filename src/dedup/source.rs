//! Where the duplicate search reads its items. The search does not take every text's
//! [`Item`] at once: it asks an [`ItemSource`] for them stage by stage — a pass over every
//! text for the exact hashes, one over the representatives for the candidate columns,
//! then only the members of the candidate components for verification — so what it
//! holds between stages is a few bytes a text, not an item a text (72 bytes: at a
//! million pages the difference is most of a partitioned search's gathering task).
//!
//! A run's source reads its pages' fingerprints from the mapped summary rows and hands
//! their pages back as it goes ([`ItemSource::release`]); a slice of items is a source
//! too (the snippets' search, tests, [`crate::dedup::deduplicate_texts`]).

use crate::dedup::minhash::Signature;
use crate::dedup::Item;

/// The texts of one search, read by index (`0..len()`).
pub trait ItemSource<'s>: Sync {
    /// How many texts.
    fn len(&self) -> usize;

    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Text `i`'s item.
    ///
    /// # Panics
    /// When `i` is not below [`ItemSource::len`].
    fn get(&self, i: u32) -> Item<'s>;

    /// Text `i`'s signature alone (what the candidate columns and the history's probe
    /// read of most texts).
    fn sig(&self, i: u32) -> &'s Signature {
        self.get(i).sig
    }

    /// A hint that the texts read so far will not be read again soon: a source over a
    /// mapped file hands its pages back to the system (they stay in the page cache).
    fn release(&self) {}
}

impl<'s> ItemSource<'s> for [Item<'s>] {
    fn len(&self) -> usize {
        <[Item<'s>]>::len(self)
    }

    fn get(&self, i: u32) -> Item<'s> {
        self[i as usize].clone()
    }

    fn sig(&self, i: u32) -> &'s Signature {
        self[i as usize].sig
    }
}

/// A vector of items reads as its slice.
impl<'s> ItemSource<'s> for Vec<Item<'s>> {
    fn len(&self) -> usize {
        self.as_slice().len()
    }

    fn get(&self, i: u32) -> Item<'s> {
        ItemSource::get(self.as_slice(), i)
    }

    fn sig(&self, i: u32) -> &'s Signature {
        ItemSource::sig(self.as_slice(), i)
    }
}

/// Items read between two [`ItemSource::release`] calls in a pass: a pass over a million
/// mapped summary rows holds at most this many rows' pages.
pub const READ_BETWEEN_RELEASES: usize = 4096;

/// Reads the items `which` names, in that order, handing each to `f` with its index; the
/// source's pages are handed back every [`READ_BETWEEN_RELEASES`] items and at the end.
pub fn each<'s, S>(
    items: &S,
    which: impl IntoIterator<Item = u32>,
    mut f: impl FnMut(u32, Item<'s>),
) where
    S: ItemSource<'s> + ?Sized,
{
    for (n, i) in which.into_iter().enumerate() {
        f(i, items.get(i));
        if n % READ_BETWEEN_RELEASES == READ_BETWEEN_RELEASES - 1 {
            items.release();
        }
    }
    items.release();
}

/// The items `which` names, in that order ([`each`]).
pub fn collect<'s, S>(items: &S, which: &[u32]) -> Vec<Item<'s>>
where
    S: ItemSource<'s> + ?Sized,
{
    let mut out = Vec::with_capacity(which.len());
    each(items, which.iter().copied(), |_, it| out.push(it));
    out
}

/// The texts `keep` names of another source, renumbered `0..keep.len()`.
pub struct Subset<'a, S: ?Sized> {
    /// The source.
    pub source: &'a S,
    /// Index `i` here is index `keep[i]` there.
    pub keep: &'a [u32],
}

impl<'s, S: ItemSource<'s> + ?Sized> ItemSource<'s> for Subset<'_, S> {
    fn len(&self) -> usize {
        self.keep.len()
    }

    fn get(&self, i: u32) -> Item<'s> {
        self.source.get(self.keep[i as usize])
    }

    fn sig(&self, i: u32) -> &'s Signature {
        self.source.sig(self.keep[i as usize])
    }

    fn release(&self) {
        self.source.release()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{fingerprint, DedupRules};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A slice that counts its releases.
    struct Counting<'a, 's> {
        items: &'a [Item<'s>],
        released: AtomicUsize,
    }

    impl<'s> ItemSource<'s> for Counting<'_, 's> {
        fn len(&self) -> usize {
            self.items.len()
        }
        fn get(&self, i: u32) -> Item<'s> {
            self.items[i as usize].clone()
        }
        fn release(&self) {
            self.released.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn passes_hand_pages_back_as_they_go_and_subsets_renumber() {
        let rules = DedupRules::default();
        let fps: Vec<_> = ["医保报销", "异地就医备案", "个人账户"]
            .iter()
            .map(|t| fingerprint(t, &rules))
            .collect();
        let items = crate::dedup::types::items_of(&fps, |i| i == 2);
        let src = Counting {
            items: &items,
            released: AtomicUsize::new(0),
        };
        let got = collect(&src, &[2, 0]);
        assert_eq!((got[0].order, got[0].pinned, got[1].order), (2, true, 0));
        assert_eq!(src.released.load(Ordering::Relaxed), 1);
        let many: Vec<u32> = (0..READ_BETWEEN_RELEASES as u32 * 2)
            .map(|i| i % 3)
            .collect();
        collect(&src, &many);
        assert_eq!(src.released.load(Ordering::Relaxed), 1 + 2 + 1);
        let sub = Subset {
            source: &src,
            keep: &[1, 2],
        };
        assert_eq!((sub.len(), sub.get(0).order, sub.get(1).order), (2, 1, 2));
        assert_eq!(sub.sig(1), &fps[2].signature);
    }
}
