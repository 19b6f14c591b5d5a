//! One immutable segment of the dedup index: the entries one or more runs kept, with their
//! candidate keys in sorted fixed-width tables, so that a night finds the entries that can
//! meet its texts by binary search over its own keys and reads nothing else.
//!
//! ```text
//! block 0…    magic "PSIEVESG", format u32, header length u32, header JSON (SegmentHeader)
//! sections    for articles, then snippets (offsets and lengths in the header):
//!   rows        one fixed row per entry (EntryRow: hashes, record location, lengths)
//!   signatures  256 bytes per entry (MinHash, one byte per bin)
//!   strings     ids and sources, entry by entry
//!   exact       (exact hash high u64, entry u32, 0 u32), sorted   + exact_fence
//!   bands       per band (key u32, entry u32), sorted, each band 4 KiB-aligned,
//!               only entries long enough for near matching           + band_fence
//!   titles      (title key u64, entry u32, 0 u32), sorted (articles) + titles_fence
//!   ids         (xxh3-64 of the id without a -n suffix, entry u32, 0 u32), sorted + ids_fence
//! level 1     xxh3-64 of every 4 KiB block before it
//! level 2     xxh3-64 of every 4 KiB block of level 1
//! footer      56 bytes: level-1 offset, blocks, level-2 offset, level-2 count,
//!             hash of level 2, hash of the footer's first 40 bytes, "PSGEND\0\0"
//! ```
//!
//! A fence holds the key of every [`GROUP_BYTES`]-byte group of a table's rows, so a lookup
//! reads the fence (a few shared pages) and one group (one page). Every read goes through
//! the checksums: a block is hashed the first time any of its bytes is read, and its
//! level-1 page the first time any of its checksums is. docs/INDEX.md describes the format
//! field by field.

pub mod merge;
pub mod read;
pub mod write;

use serde::{Deserialize, Serialize};

use crate::record::RecordKind;

pub use read::{KindView, Segment};
pub use write::{write_segment, KindInput, SegmentParams, TableSource};

/// First bytes of a segment file.
pub const MAGIC: &[u8; 8] = b"PSIEVESG";
/// Last bytes of a segment file.
pub const END: &[u8; 8] = b"PSGEND\0\0";
/// The segment format this build reads and writes.
pub const FORMAT: u32 = 2;
/// The unit of checksums and alignment.
pub const BLOCK: u64 = 4096;
/// Bytes of table rows per fence key: one page.
pub const GROUP_BYTES: u64 = 4096;
/// Bytes of the footer.
pub const FOOTER_BYTES: u64 = 56;
/// Bytes of an entry row without extra simhashes.
pub const ROW_BYTES: u64 = 72;
/// Bytes of a row of the exact, titles and ids tables.
pub const WIDE_ROW: u64 = 16;
/// Bytes of a row of a band table.
pub const BAND_ROW: u64 = 8;

/// The JSON header of a segment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SegmentHeader {
    /// Format version (also in the binary prefix).
    pub format: u32,
    /// Unique id of the segment (the manifest names it).
    pub id: String,
    /// When it was written, UTC.
    pub created: String,
    /// The tool that wrote it.
    pub tool: String,
    /// xxh3-64 of the dedup settings the entries were made under, hex.
    pub settings_hash: String,
    /// Simhashes per entry (1: only the primary).
    pub fingerprints: usize,
    /// LSH bands and rows of the band tables.
    pub bands: usize,
    /// Signature bins per band.
    pub rows: usize,
    /// Entries with fewer normalized characters are not in the band tables.
    pub min_chars_near: usize,
    /// The runs whose entries this segment holds (an entry row's `run` is an index here).
    pub runs: Vec<RunCount>,
    /// The article entries.
    pub articles: KindLayout,
    /// The snippet entries.
    pub snippets: KindLayout,
}

impl SegmentHeader {
    /// The layout of one kind.
    pub fn kind(&self, k: RecordKind) -> &KindLayout {
        match k {
            RecordKind::Article => &self.articles,
            RecordKind::Snippet => &self.snippets,
        }
    }

    /// Bytes of an entry row (with the extra simhashes).
    pub fn row_bytes(&self) -> u64 {
        row_bytes(self.fingerprints)
    }
}

/// Bytes of an entry row for `fingerprints` simhashes.
pub fn row_bytes(fingerprints: usize) -> u64 {
    ROW_BYTES + 8 * fingerprints.saturating_sub(1) as u64
}

/// One run of a segment and how many entries of each kind it has there.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RunCount {
    /// The run's unique id (the manifest maps it to its output folder).
    pub uid: String,
    /// Its article entries here.
    pub articles: u64,
    /// Its snippet entries here.
    pub snippets: u64,
}

/// Where one kind's sections are: `[offset, length]` in bytes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KindLayout {
    /// Entries.
    pub entries: u64,
    /// Entries in the band tables.
    pub near: u64,
    /// Entry rows.
    pub rows: [u64; 2],
    /// Signatures.
    pub signatures: [u64; 2],
    /// Ids and sources.
    pub strings: [u64; 2],
    /// The exact-hash table.
    pub exact: [u64; 2],
    /// Its fence.
    pub exact_fence: [u64; 2],
    /// The band tables: `[offset of band 0, stride]`; band `b` starts at
    /// `offset + b · stride` and has `near` rows.
    pub bands: [u64; 2],
    /// The fences of the band tables, one after the other (`band_fence_keys` each).
    pub band_fence: [u64; 2],
    /// The title-key table.
    pub titles: [u64; 2],
    /// Its fence.
    pub titles_fence: [u64; 2],
    /// The id table.
    pub ids: [u64; 2],
    /// Its fence.
    pub ids_fence: [u64; 2],
}

impl KindLayout {
    /// Fence keys of one band table.
    pub fn band_fence_keys(&self) -> u64 {
        fence_keys(self.near, BAND_ROW)
    }
}

/// Fence keys of a table of `rows` rows of `row` bytes: one per group.
pub fn fence_keys(rows: u64, row: u64) -> u64 {
    (rows * row).div_ceil(GROUP_BYTES)
}

/// The sorted tables of a kind, keyed by 64-bit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideTable {
    /// High half of the exact hash.
    Exact,
    /// xxh3-64 of the normalized title.
    Titles,
    /// xxh3-64 of the id without its `-n` suffix.
    Ids,
}

impl WideTable {
    /// Every wide table, in file order.
    pub const ALL: [WideTable; 3] = [WideTable::Exact, WideTable::Titles, WideTable::Ids];

    /// The table's and its fence's sections.
    pub fn sections(self, l: &KindLayout) -> ([u64; 2], [u64; 2]) {
        match self {
            WideTable::Exact => (l.exact, l.exact_fence),
            WideTable::Titles => (l.titles, l.titles_fence),
            WideTable::Ids => (l.ids, l.ids_fence),
        }
    }
}

/// The key an id is found by in the ids table: xxh3-64 of the id without a `-n` suffix
/// (a page id made unique against earlier runs is found by its base id).
pub fn id_key(id: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(base_id(id).as_bytes())
}

/// An id without the `-n` suffix that makes it unique (`a-1f…-2` → `a-1f…`).
pub fn base_id(id: &str) -> &str {
    match id.get(2..).and_then(|rest| rest.find('-')) {
        Some(k) => &id[..k + 2],
        None => id,
    }
}

/// Rounds up to a multiple of [`BLOCK`].
pub fn align(x: u64) -> u64 {
    x.div_ceil(BLOCK) * BLOCK
}

#[cfg(test)]
mod id_tests {
    use super::*;

    #[test]
    fn base_ids_drop_the_uniqueness_suffix() {
        assert_eq!(base_id("a-00ff00ff00ff00ff-2"), "a-00ff00ff00ff00ff");
        assert_eq!(base_id("a-00ff00ff00ff00ff"), "a-00ff00ff00ff00ff");
        assert_eq!(base_id("s-1234"), "s-1234");
        assert_eq!(id_key("a-1-3"), id_key("a-1"));
        assert_eq!(fence_keys(0, 8), 0);
        assert_eq!(fence_keys(512, 8), 1);
        assert_eq!(fence_keys(513, 8), 2);
        assert_eq!(align(1), 4096);
    }
}

#[cfg(test)]
mod tests;
