//! A worker's memory of line facts, so that a line seen before — the related blocks that
//! repeat across thousands of pages — costs a hash and a lookup instead of NFKC, the marker
//! patterns and cleanup.
//!
//! Each worker thread keeps its own cache (no locking); entries are keyed by xxh3 of the
//! raw line and hold the raw line itself, compared byte for byte on a hit, so a hash
//! collision can never change a result: cached and uncached segmentation are identical (a
//! property test compares them). The cache belongs to one set of rules and is emptied when
//! it outgrows `scan.line_cache_bytes`.
//!
//! The same memory keeps what a related block's text gives ([`block_facts`]: its short
//! answer and whether it ends a sentence), keyed by the block's key and holding the
//! block's title and text, so a block seen before on this worker costs one lookup.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use xxhash_rust::xxh3::xxh3_64;

use crate::page::facts::LineFacts;
use crate::prehashed::HashedMap;

static NEXT_RULES_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh identity for a compiled set of rules: facts computed under other rules are
/// never returned.
pub(crate) fn next_rules_id() -> u64 {
    NEXT_RULES_ID.fetch_add(1, Ordering::Relaxed)
}

/// What a related block's title and text give, whatever page it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockFacts {
    /// The short answer its text leads with.
    pub answer: Option<String>,
    /// Whether its text ends a sentence.
    pub ends_sentence: bool,
}

/// Values computed from a text under one set of rules, keyed by a hash of the text and
/// holding the text itself, compared on a hit.
struct Memo<K, V> {
    rules: u64,
    entries: HashedMap<K, Vec<Kept<V>>>,
}

/// A text and what was computed from it.
type Kept<V> = (Box<str>, Rc<V>);

impl<K, V> Default for Memo<K, V> {
    fn default() -> Self {
        Memo {
            rules: 0,
            entries: HashedMap::default(),
        }
    }
}

impl<K: std::hash::Hash + Eq, V> Memo<K, V> {
    /// The value kept for `text` under the rules `rules_id` (what other rules left goes).
    fn get(&mut self, rules_id: u64, key: &K, text: &str) -> Option<Rc<V>> {
        if self.rules != rules_id {
            self.rules = rules_id;
            self.entries.clear();
        }
        let v = self.entries.get(key)?;
        v.iter().find(|(t, _)| &**t == text).map(|e| e.1.clone())
    }

    fn put(&mut self, key: K, text: &str, value: Rc<V>) {
        self.entries
            .entry(key)
            .or_default()
            .push((text.into(), value));
    }
}

#[derive(Default)]
struct Cache {
    bytes: usize,
    lines: Memo<u64, LineFacts>,
    blocks: Memo<u128, BlockFacts>,
}

impl Cache {
    /// Makes room for `size` more bytes: everything goes when the budget would be passed.
    fn room(&mut self, size: usize, budget: usize) {
        if self.bytes + size > budget {
            self.lines.entries.clear();
            self.blocks.entries.clear();
            self.bytes = 0;
        }
        self.bytes += size;
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The facts of `raw` under the rules `rules_id`: from this worker's cache when the line was
/// kept before, else `compute()` (kept when `keep` is set and `budget`, the cache's size in
/// bytes, is not 0).
pub fn facts(
    raw: &str,
    rules_id: u64,
    budget: usize,
    keep: bool,
    compute: impl FnOnce() -> LineFacts,
) -> Rc<LineFacts> {
    if budget == 0 {
        return Rc::new(compute());
    }
    let h = xxh3_64(raw.as_bytes());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(hit) = c.lines.get(rules_id, &h, raw) {
            return hit;
        }
        let f = Rc::new(compute());
        if keep {
            c.room(raw.len() + f.m.len() + f.cleaned.len() + 96, budget);
            c.lines.put(h, raw, f.clone());
        }
        f
    })
}

/// The facts of the related block whose key is `key` and whose title, U+001F and text are
/// `block`, under the rules `rules_id`: from this worker's cache when the block was seen
/// before, else `compute()`, kept within `budget` bytes (0: nothing is kept).
pub fn block_facts(
    key: u128,
    block: &str,
    rules_id: u64,
    budget: usize,
    compute: impl FnOnce() -> BlockFacts,
) -> Rc<BlockFacts> {
    if budget == 0 {
        return Rc::new(compute());
    }
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(hit) = c.blocks.get(rules_id, &key, block) {
            return hit;
        }
        let f = Rc::new(compute());
        c.room(
            block.len() + f.answer.as_ref().map_or(0, String::len) + 96,
            budget,
        );
        c.blocks.put(key, block, f.clone());
        f
    })
}

/// Empties this worker's cache and hands its memory back: the scan calls it on every
/// worker when it ends, so that the facts of related lines (up to `scan.line_cache_bytes`
/// a worker) do not stay resident through the duplicate search and the writing.
pub fn clear() {
    CACHE.with(|c| *c.borrow_mut() = Cache::default());
}

/// Bytes this worker's cache holds (for tests of its bound).
pub fn cached_bytes() -> usize {
    CACHE.with(|c| c.borrow().bytes)
}
