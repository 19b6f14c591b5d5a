//! The pages' keys ([`crate::record::page_key`], what a page's id is made from), a column
//! in a scratch file of the run that phase 2 maps: 16 bytes a page, little-endian, in
//! page order.
//!
//! An id is made from its key when it is written; the duplicate search never reads one.
//! On the heap, a million keys (16 MB) sat beside every phase of phase 2; mapped, they
//! are pages of the page cache that the writers hand back behind themselves
//! ([`PageKeys::release`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::run::scratch_map::{self, ScatteredReads, ScratchMap};

/// Bytes a key takes in the file.
const KEY_BYTES: usize = 16;

/// Appends the pages' keys to the column file, in page order.
#[derive(Debug)]
pub struct KeyWriter {
    out: BufWriter<File>,
    count: usize,
    output: PathBuf,
}

impl KeyWriter {
    /// A new, empty column at `path` (a scratch file of the run's staging folder; `output`
    /// names the run's output in errors).
    pub fn create(path: &Path, output: &Path) -> Result<KeyWriter, Error> {
        let file =
            scratch_map::create(path).map_err(|e| scratch_map::write_error(output, WHAT, e))?;
        Ok(KeyWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            count: 0,
            output: output.to_path_buf(),
        })
    }

    /// Appends the next page's key.
    pub fn push(&mut self, key: u128) -> Result<(), Error> {
        self.out
            .write_all(&key.to_le_bytes())
            .map_err(|e| scratch_map::write_error(&self.output, WHAT, e))?;
        self.count += 1;
        Ok(())
    }

    /// The column, written and mapped.
    pub fn finish(self) -> Result<PageKeys, Error> {
        let output = self.output;
        let fail = |e: std::io::Error| scratch_map::write_error(&output, WHAT, e);
        let file = self.out.into_inner().map_err(|e| fail(e.into_error()))?;
        if self.count == 0 {
            return Ok(PageKeys::in_memory(Vec::new()));
        }
        let map = ScratchMap::of(&file).map_err(&fail)?;
        if map.len() != self.count * KEY_BYTES {
            return Err(fail(std::io::Error::other(format!(
                "{} bytes mapped for {} keys",
                map.len(),
                self.count
            ))));
        }
        Ok(PageKeys {
            backing: Backing::Mapped(map),
            reads: ScatteredReads::default(),
        })
    }
}

/// What a write error of this column names.
const WHAT: &str = "key column between the phases";

/// Where the keys are.
#[derive(Debug)]
enum Backing {
    /// The run's scratch file, mapped.
    Mapped(ScratchMap),
    /// On the heap (tests, and runs with no page).
    Held(Vec<u128>),
}

/// Every page's key, by page index.
#[derive(Debug)]
pub struct PageKeys {
    backing: Backing,
    /// Keys read one by one, which hand the column back now and then.
    reads: ScatteredReads,
}

impl FromIterator<u128> for PageKeys {
    fn from_iter<I: IntoIterator<Item = u128>>(iter: I) -> PageKeys {
        PageKeys::in_memory(iter.into_iter().collect())
    }
}

/// Equal when they hold the same keys, wherever each holds them.
impl PartialEq for PageKeys {
    fn eq(&self, other: &PageKeys) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Default for PageKeys {
    fn default() -> Self {
        PageKeys::in_memory(Vec::new())
    }
}

impl PageKeys {
    /// Keys held on the heap, page `i`'s `keys[i]`.
    pub fn in_memory(keys: Vec<u128>) -> PageKeys {
        PageKeys {
            backing: Backing::Held(keys),
            reads: ScatteredReads::default(),
        }
    }

    /// How many pages.
    pub fn len(&self) -> usize {
        match &self.backing {
            Backing::Mapped(m) => m.len() / KEY_BYTES,
            Backing::Held(k) => k.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Page `i`'s key, `None` past the last page.
    pub fn get(&self, i: usize) -> Option<u128> {
        if let Backing::Mapped(_) = &self.backing {
            self.reads.read(|| self.release());
        }
        self.at(i)
    }

    /// Page `i`'s key, uncounted (a pass in order hands pages back itself).
    fn at(&self, i: usize) -> Option<u128> {
        match &self.backing {
            Backing::Mapped(m) => {
                let b = m.get(i * KEY_BYTES..(i + 1) * KEY_BYTES)?;
                Some(u128::from_le_bytes(b.try_into().ok()?))
            }
            Backing::Held(k) => k.get(i).copied(),
        }
    }

    /// Every key, in page order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = u128> + '_ {
        (0..self.len()).map(|i| self.at(i).unwrap_or_default())
    }

    /// Drops the column's pages from the process's resident set (they stay in the page
    /// cache; a later [`PageKeys::get`] maps them again).
    pub fn release(&self) {
        if let Backing::Mapped(m) = &self.backing {
            m.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_back_as_pushed_from_the_mapped_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = KeyWriter::create(&dir.path().join("keys"), dir.path()).unwrap();
        let given = [0u128, u128::MAX, 1 << 100 | 7, 42];
        for k in given {
            w.push(k).unwrap();
        }
        let keys = w.finish().unwrap();
        assert!(matches!(keys.backing, Backing::Mapped(_)));
        assert_eq!(keys.iter().collect::<Vec<_>>(), given);
        keys.release();
        assert_eq!((keys.get(2), keys.get(4)), (Some(given[2]), None));
        let none = KeyWriter::create(&dir.path().join("none"), dir.path()).unwrap();
        assert!(none.finish().unwrap().is_empty());
    }
}
