//! Index entries as the segment writer reads them ([`IndexRows`]), and the one fixed row a
//! segment stores for each entry ([`EntryRow`]).
//!
//! ```text
//! offset size field
//! 0      16   exact hash: xxh3-128 of the normalized text, high then low u64
//! 16     8    primary simhash (`metadata.simhash`)
//! 24     8    title key: xxh3-64 of the normalized title (snippet → article links)
//! 32     8    byte offset of the record's line in its run's articles.jsonl / snippets.jsonl
//! 40     8    offset of the entry's id and source in the kind's strings section
//! 48     4    length of the record's line, newline included
//! 52     4    normalized characters
//! 56     4    replacement characters from decoding
//! 60     4    run: index into the segment header's runs
//! 64     4    id length in bytes
//! 68     4    source length in bytes
//! 72     8·(f−1) simhashes 1 … f−1 (f = the header's fingerprints)
//! ```

use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::minhash::Signature;
use crate::dedup::Fingerprint;
use crate::history::segment::ROW_BYTES;

/// One entry's fixed fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EntryRow {
    /// xxh3-128 of the normalized text (high, low).
    pub exact: [u64; 2],
    /// The primary simhash.
    pub primary: u64,
    /// Simhashes 1 ..= 3 (0 where not computed).
    pub more: [u64; MAX_FINGERPRINTS - 1],
    /// xxh3-64 of the normalized title.
    pub title_key: u64,
    /// Byte offset of the record's line in its run's file.
    pub offset: u64,
    /// Length of that line, newline included.
    pub len: u32,
    /// Normalized characters.
    pub chars: u32,
    /// Replacement characters from decoding.
    pub replacements: u32,
    /// The run (an index into the runs of the segment, or of whatever holds the entry).
    pub run: u32,
}

/// Where an entry's strings are, as its row says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrRef {
    /// Offset in the kind's strings section.
    pub offset: u64,
    /// Id bytes (the source follows them).
    pub id_len: u32,
    /// Source bytes.
    pub source_len: u32,
}

impl EntryRow {
    /// The row of a fingerprint and its other fields.
    pub fn of(fp: &Fingerprint, title_key: u64, replacements: u32, loc: super::Loc) -> EntryRow {
        EntryRow {
            exact: fp.exact,
            primary: fp.primary,
            more: std::array::from_fn(|i| fp.simhash(i + 1)),
            title_key,
            offset: loc.offset,
            len: loc.len,
            chars: fp.chars,
            replacements,
            run: loc.run,
        }
    }

    /// The fingerprint this row describes, with `fingerprints` simhashes.
    pub fn fingerprint(&self, fingerprints: usize) -> Fingerprint {
        Fingerprint {
            primary: self.primary,
            more: (fingerprints > 1).then(|| Box::new(self.more)),
            exact: self.exact,
            chars: self.chars,
        }
    }

    /// Writes the row (`out` is [`crate::history::segment::row_bytes`] long).
    pub fn encode(&self, s: StrRef, fingerprints: usize, out: &mut [u8]) {
        let wide = [
            self.exact[0],
            self.exact[1],
            self.primary,
            self.title_key,
            self.offset,
            s.offset,
        ];
        for (k, v) in wide.iter().enumerate() {
            out[8 * k..8 * k + 8].copy_from_slice(&v.to_le_bytes());
        }
        let narrow = [
            self.len,
            self.chars,
            self.replacements,
            self.run,
            s.id_len,
            s.source_len,
        ];
        for (k, v) in narrow.iter().enumerate() {
            out[48 + 4 * k..52 + 4 * k].copy_from_slice(&v.to_le_bytes());
        }
        for f in 1..fingerprints.min(MAX_FINGERPRINTS) {
            let at = ROW_BYTES as usize + 8 * (f - 1);
            out[at..at + 8].copy_from_slice(&self.more[f - 1].to_le_bytes());
        }
    }

    /// Reads a row written by [`EntryRow::encode`].
    pub fn decode(b: &[u8], fingerprints: usize) -> (EntryRow, StrRef) {
        let u64_at = |k: usize| u64::from_le_bytes(b[k..k + 8].try_into().expect("8 bytes"));
        let u32_at = |k: usize| u32::from_le_bytes(b[k..k + 4].try_into().expect("4 bytes"));
        let mut more = [0u64; MAX_FINGERPRINTS - 1];
        for (f, m) in more
            .iter_mut()
            .enumerate()
            .take(fingerprints.saturating_sub(1))
        {
            *m = u64_at(ROW_BYTES as usize + 8 * f);
        }
        let row = EntryRow {
            exact: [u64_at(0), u64_at(8)],
            primary: u64_at(16),
            more,
            title_key: u64_at(24),
            offset: u64_at(32),
            len: u32_at(48),
            chars: u32_at(52),
            replacements: u32_at(56),
            run: u32_at(60),
        };
        let s = StrRef {
            offset: u64_at(40),
            id_len: u32_at(64),
            source_len: u32_at(68),
        };
        (row, s)
    }
}

/// Index entries of one kind as the writer reads them: tonight's kept records (borrowed
/// from the run), entries in memory, or a segment being compacted.
pub trait IndexRows: Sync {
    /// How many.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Entry `i`'s fixed fields (`run` relative to the segment being written).
    fn row(&self, i: usize) -> EntryRow;
    /// Entry `i`'s signature.
    fn signature(&self, i: usize) -> &Signature;
    /// Entry `i`'s record id (tonight's are made from their keys, so owned).
    fn id(&self, i: usize) -> std::borrow::Cow<'_, str>;
    /// Entry `i`'s source.
    fn source(&self, i: usize) -> &str;
    /// Says the writer is done with the entries read so far (a mapped source hands their
    /// pages back); by default nothing.
    fn pages_done(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::segment::row_bytes;

    #[test]
    fn rows_round_trip_with_and_without_extra_simhashes() {
        let row = EntryRow {
            exact: [1, 2],
            primary: 3,
            more: [4, 5, 6],
            title_key: 7,
            offset: 8,
            len: 9,
            chars: 10,
            replacements: 11,
            run: 12,
        };
        let s = StrRef {
            offset: 13,
            id_len: 14,
            source_len: 15,
        };
        for f in [1, 4] {
            let mut b = vec![0u8; row_bytes(f) as usize];
            row.encode(s, f, &mut b);
            let (back, sb) = EntryRow::decode(&b, f);
            assert_eq!(sb, s);
            let want = match f {
                1 => EntryRow {
                    more: [0; 3],
                    ..row
                },
                _ => row,
            };
            assert_eq!(back, want);
        }
    }
}
