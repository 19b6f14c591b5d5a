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

use crate::page::segment::{LineFacts, SegmentRules};
use crate::prehashed::HashedMap;

static NEXT_RULES_ID: AtomicU64 = AtomicU64::new(1);

/// A fresh identity for a compiled set of segment rules.
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

/// The facts of `raw` under `rules`: from this worker's cache when the line was kept
/// before, else computed (and kept when `keep` is set and the cache is on).
pub fn facts(raw: &str, rules: &SegmentRules, keep: bool) -> Rc<LineFacts> {
    if rules.cache_bytes == 0 {
        return Rc::new(rules.facts(raw));
    }
    let h = xxh3_64(raw.as_bytes());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.rules != rules.id {
            *c = Cache {
                rules: rules.id,
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
        let f = Rc::new(rules.facts(raw));
        if keep {
            let size = raw.len() + f.m.len() + f.cleaned.len() + 96;
            if c.bytes + size > rules.cache_bytes {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, BUILTIN_PROFILE};

    fn rules(cache_bytes: usize) -> SegmentRules {
        let c = Config::parse(BUILTIN_PROFILE).unwrap();
        SegmentRules::compile(&c.profile, &c.clean, cache_bytes).unwrap()
    }

    #[test]
    fn hits_are_the_same_facts_and_the_cache_stays_bounded() {
        let r = rules(2_000);
        let line = "健康新闻 2025-04-18";
        let a = facts(line, &r, true);
        let b = facts(line, &r, true);
        assert!(Rc::ptr_eq(&a, &b), "the second lookup is a hit");
        assert_eq!(*a, r.facts(line));
        // Filling past the budget empties the cache; results stay right.
        for i in 0..200 {
            let l = format!("相关推荐的第{i}条推荐标题");
            assert_eq!(*facts(&l, &r, true), r.facts(&l));
        }
        CACHE.with(|c| assert!(c.borrow().bytes <= 2_000));
    }

    #[test]
    fn other_rules_do_not_see_these_facts() {
        let (r1, r2) = (rules(1 << 20), rules(1 << 20));
        let a = facts("首页 顶部", &r1, true);
        let b = facts("首页 顶部", &r2, true);
        assert!(!Rc::ptr_eq(&a, &b));
        assert_eq!(*a, *b);
    }
}
