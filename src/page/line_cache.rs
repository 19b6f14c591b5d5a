//! A worker's memory of line facts, so that a line seen before — the related blocks that
//! repeat across thousands of pages — costs a hash and a lookup instead of NFKC, the marker
//! patterns and cleanup.
//!
//! Each worker thread keeps its own cache (no locking); entries are keyed by xxh3 of the
//! raw line and hold the raw line itself, compared byte for byte on a hit, so a hash
//! collision can never change a result: cached and uncached segmentation are identical (a
//! property test compares them). The cache belongs to one set of rules and is emptied when
//! it outgrows `scan.line_cache_bytes`.

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

type Entries = HashedMap<u64, Vec<(Box<str>, Rc<LineFacts>)>>;

#[derive(Default)]
struct Cache {
    rules: u64,
    bytes: usize,
    entries: Entries,
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
        if c.rules != rules_id {
            *c = Cache {
                rules: rules_id,
                ..Cache::default()
            };
        }
        if let Some(hit) = c
            .entries
            .get(&h)
            .and_then(|v| v.iter().find(|(r, _)| &**r == raw))
        {
            return hit.1.clone();
        }
        let f = Rc::new(compute());
        if keep {
            let size = raw.len() + f.m.len() + f.cleaned.len() + 96;
            if c.bytes + size > budget {
                c.entries.clear();
                c.bytes = 0;
            }
            c.bytes += size;
            c.entries
                .entry(h)
                .or_default()
                .push((raw.into(), f.clone()));
        }
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
