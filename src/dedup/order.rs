//! The keep policy's total order over the items of a search: pinned items (kept by an
//! earlier run) before every other, then [`KeepPolicy::cmp`]; and the criterion that
//! decided between two items.

use crate::dedup::keep::{KeepPolicy, KeptBy, Standing};
use crate::dedup::Item;

/// What the keep policy compares of item `i` (centrality is filled in per group).
pub fn standing(items: &[Item<'_>], i: u32) -> Standing {
    standing_of(&items[i as usize])
}

/// What the keep policy compares of `it` (centrality is filled in per group).
pub fn standing_of(it: &Item<'_>) -> Standing {
    Standing {
        centrality: 0.0,
        replacements: it.replacements,
        chars: it.fp.chars,
        order: it.order,
    }
}

/// Orders two items' standings the keep policy's way, pinned items first.
pub fn prefer(
    items: &[Item<'_>],
    keep: KeepPolicy,
    a: (u32, &Standing),
    b: (u32, &Standing),
) -> std::cmp::Ordering {
    let pinned = |i: u32| items[i as usize].pinned;
    pinned(b.0).cmp(&pinned(a.0)).then(keep.cmp(a.1, b.1))
}

/// The criterion on which item `kept` beat item `other`.
pub fn kept_by(
    items: &[Item<'_>],
    keep: KeepPolicy,
    kept: (u32, &Standing),
    other: &Standing,
) -> KeptBy {
    match items[kept.0 as usize].pinned {
        true => KeptBy::EarlierRun,
        false => keep.decided_by(kept.1, other),
    }
}
