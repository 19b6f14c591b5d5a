//! The pages' sources (paths relative to `--input`), a column in two scratch files of the
//! run that phase 2 maps: the paths one after another (`sources.text`) and where each
//! ends, a little-endian `u64` per page (`sources.ends`).
//!
//! A source is read when a page's line, cluster member, reject, snippet or index row is
//! written, and never by the duplicate search: on the heap, a million pages' paths (~25
//! MB for paths of ~16 bytes; more for a crawl's URL-shaped paths) sat
//! beside every phase of phase 2, the search's included. Mapped, they are pages of the
//! page cache that the writers read where they lie and hand back behind themselves
//! ([`Sources::release`]), as the signature column is ([`crate::run::signatures`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::run::scratch_map::{self, ScatteredReads, ScratchMap};
use crate::text::column::StrColumn;

/// Appends the pages' sources to the column's files, in page order.
#[derive(Debug)]
pub struct SourceWriter {
    text: BufWriter<File>,
    ends: BufWriter<File>,
    /// Bytes of text written.
    len: u64,
    /// Sources written.
    count: usize,
    output: PathBuf,
}

impl SourceWriter {
    /// A new, empty column in `path.text` and `path.ends` (scratch files of the run's
    /// staging folder; `output` names the run's output in errors).
    pub fn create(path: &Path, output: &Path) -> Result<SourceWriter, Error> {
        let open = |ext: &str| {
            scratch_map::create(&path.with_extension(ext))
                .map(|f| BufWriter::with_capacity(1 << 16, f))
                .map_err(|e| scratch_map::write_error(output, WHAT, e))
        };
        Ok(SourceWriter {
            text: open("text")?,
            ends: open("ends")?,
            len: 0,
            count: 0,
            output: output.to_path_buf(),
        })
    }

    /// Appends the next page's source.
    pub fn push(&mut self, source: &str) -> Result<(), Error> {
        self.text
            .write_all(source.as_bytes())
            .map_err(|e| scratch_map::write_error(&self.output, WHAT, e))?;
        self.len += source.len() as u64;
        self.ends
            .write_all(&self.len.to_le_bytes())
            .map_err(|e| scratch_map::write_error(&self.output, WHAT, e))?;
        self.count += 1;
        Ok(())
    }

    /// The column, written and mapped.
    pub fn finish(self) -> Result<Sources, Error> {
        let output = self.output;
        let fail = |e: std::io::Error| scratch_map::write_error(&output, WHAT, e);
        let text = self.text.into_inner().map_err(|e| fail(e.into_error()))?;
        let ends = self.ends.into_inner().map_err(|e| fail(e.into_error()))?;
        if self.count == 0 {
            return Ok(Sources::in_memory(StrColumn::default()));
        }
        let ends = ScratchMap::of(&ends).map_err(&fail)?;
        // A file of no bytes cannot be mapped: every source is empty.
        let text = match self.len {
            0 => None,
            _ => Some(ScratchMap::of(&text).map_err(&fail)?),
        };
        let mapped = Mapped { text, ends };
        mapped.check(self.count, self.len).map_err(fail)?;
        // The check read every page of both files: none is needed until the writers.
        mapped.maps().for_each(ScratchMap::release);
        Ok(Sources {
            backing: Backing::Mapped(mapped),
            reads: ScatteredReads::default(),
        })
    }
}

/// What a write error of this column names.
const WHAT: &str = "source column between the phases";

/// The column's two mapped files.
#[derive(Debug)]
struct Mapped {
    /// Every source, one after the other (`None` when all are empty).
    text: Option<ScratchMap>,
    /// Where each ends in `text`.
    ends: ScratchMap,
}

impl Mapped {
    fn maps(&self) -> impl Iterator<Item = &ScratchMap> {
        self.text.iter().chain(std::iter::once(&self.ends))
    }

    fn text(&self) -> &[u8] {
        self.text.as_deref().unwrap_or_default()
    }

    fn end(&self, i: usize) -> usize {
        let b = &self.ends[i * 8..i * 8 + 8];
        u64::from_le_bytes(b.try_into().unwrap_or_default()) as usize
    }

    /// That the files hold what was written: `count` ends, ascending, up to `len` bytes
    /// of text, each source a string ([`Mapped::get`] reads them without asking again).
    fn check(&self, count: usize, len: u64) -> std::io::Result<()> {
        let bad = |what: &str| std::io::Error::other(format!("source column: {what}"));
        if self.ends.len() != count * 8 || self.text().len() as u64 != len {
            return Err(bad("files of the wrong size"));
        }
        let mut start = 0;
        for i in 0..count {
            let end = self.end(i);
            if end < start || end > self.text().len() {
                return Err(bad("ends out of order"));
            }
            if std::str::from_utf8(&self.text()[start..end]).is_err() {
                return Err(bad("a source that is not UTF-8"));
            }
            start = end;
        }
        Ok(())
    }

    fn get(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.end(i - 1),
        };
        // Checked when mapped ([`Mapped::check`]); the files are the run's own.
        std::str::from_utf8(&self.text()[start..self.end(i)]).unwrap_or_default()
    }
}

/// Where the column's strings are.
#[derive(Debug)]
enum Backing {
    /// The run's scratch files, mapped.
    Mapped(Mapped),
    /// On the heap (tests, and runs with no page).
    Held(StrColumn),
}

/// Every page's source, by page index.
#[derive(Debug)]
pub struct Sources {
    backing: Backing,
    /// Sources read one by one, which hand the column back now and then.
    reads: ScatteredReads,
}

impl Default for Sources {
    fn default() -> Self {
        Sources::in_memory(StrColumn::default())
    }
}

impl Sources {
    /// A column held on the heap.
    pub fn in_memory(column: StrColumn) -> Sources {
        Sources {
            backing: Backing::Held(column),
            reads: ScatteredReads::default(),
        }
    }

    /// Page `i`'s source.
    ///
    /// # Panics
    /// When `i` is not below [`Sources::len`].
    pub fn get(&self, i: usize) -> &str {
        match &self.backing {
            Backing::Mapped(m) => {
                self.reads.read(|| self.release());
                m.get(i)
            }
            Backing::Held(c) => c.get(i),
        }
    }

    /// How many pages.
    pub fn len(&self) -> usize {
        match &self.backing {
            Backing::Mapped(m) => m.ends.len() / 8,
            Backing::Held(c) => c.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the column's pages from the process's resident set (they stay in the page
    /// cache; a later [`Sources::get`] maps them again): what a writer calls after each
    /// chunk of lines, so that a pass over every page does not leave the whole column
    /// counted in the run's memory.
    pub fn release(&self) {
        if let Backing::Mapped(m) = &self.backing {
            m.maps().for_each(ScratchMap::release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(given: &[&str]) -> (tempfile::TempDir, Sources) {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SourceWriter::create(&dir.path().join("sources"), dir.path()).unwrap();
        for s in given {
            w.push(s).unwrap();
        }
        let sources = w.finish().unwrap();
        (dir, sources)
    }

    #[test]
    fn sources_come_back_as_pushed_from_the_mapped_files() {
        let given = ["a/页面.txt", "", "b.html.gz", "", "c/d/问答-12.html"];
        let (_dir, s) = written(&given);
        assert!(matches!(s.backing, Backing::Mapped(_)));
        assert_eq!(s.len(), 5);
        for (i, g) in given.iter().enumerate() {
            assert_eq!(s.get(i), *g);
        }
        s.release();
        assert_eq!(
            s.get(4),
            given[4],
            "read again after the pages were handed back"
        );
    }

    #[test]
    fn no_pages_and_only_empty_sources_are_columns_too() {
        let (_dir, none) = written(&[]);
        assert!(none.is_empty());
        let (_dir, empty) = written(&["", ""]);
        assert_eq!((empty.len(), empty.get(0), empty.get(1)), (2, "", ""));
    }

    #[test]
    fn damaged_files_are_refused_when_mapped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sources");
        let mut w = SourceWriter::create(&path, dir.path()).unwrap();
        for s in ["页面一.txt", "页面二.txt"] {
            w.push(s).unwrap();
        }
        w.ends.flush().unwrap();
        // The first end cut inside a character.
        let mut ends = std::fs::read(path.with_extension("ends")).unwrap();
        ends[0] = 1;
        std::fs::write(path.with_extension("ends"), &ends).unwrap();
        let e = w.finish().unwrap_err().to_string();
        assert!(e.contains("not UTF-8"), "{e}");
    }
}
