//! The spill file between the phases: phase 1 appends each article's full record here as
//! it is made, and keeps only a [`SpillRef`] (12 bytes) with the page's fingerprint in
//! memory; phase 2 reads records back by offset where a decision or the output needs them.
//! Memory then grows with the number of pages by a small summary each, not by their text.
//!
//! Appends from many workers go through one mutex; the file lives in the output's staging
//! folder and goes with it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::record::ArticleRecord;

/// Where one record is in the spill file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpillRef {
    offset: u64,
    len: u32,
}

/// An article record as spilled: the record, and the keys of its related blocks in page
/// order (their ids are only final after phase 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spilled {
    /// The record (id, `related`, `duplicates` and `aliases` are filled in when written).
    pub record: ArticleRecord,
    /// xxh3-128 keys of the page's related blocks, in page order, as (high, low) halves.
    pub related: Vec<(u64, u64)>,
}

impl Spilled {
    /// The keys of the page's related blocks, in page order.
    pub fn related_keys(&self) -> impl Iterator<Item = u128> + '_ {
        self.related
            .iter()
            .map(|&(hi, lo)| (u128::from(hi) << 64) | u128::from(lo))
    }

    /// Splits a block key into the halves stored in the JSON.
    pub fn key_parts(k: u128) -> (u64, u64) {
        ((k >> 64) as u64, k as u64)
    }
}

/// An append-only record file, readable by offset once flushed.
#[derive(Debug)]
pub struct Spill {
    writer: Mutex<(BufWriter<File>, u64)>,
    reader: File,
    /// The output folder the file belongs to (named in write errors).
    out: PathBuf,
}

impl Spill {
    /// Creates the spill file at `path` (truncating it), inside the output folder `out`.
    pub fn create(path: &Path, out: &Path) -> Result<Spill, Error> {
        let open = || -> std::io::Result<(File, File)> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .read(true)
                .write(true)
                .open(path)?;
            let reader = file.try_clone()?;
            Ok((file, reader))
        };
        let out = out.to_path_buf();
        let (file, reader) = open().map_err(|e| write_error(&out, e))?;
        Ok(Spill {
            writer: Mutex::new((BufWriter::with_capacity(1 << 20, file), 0)),
            reader,
            out,
        })
    }

    /// Appends one record.
    pub fn put(&self, bytes: &[u8]) -> Result<SpillRef, Error> {
        let len = u32::try_from(bytes.len()).map_err(|_| {
            write_error(&self.out, std::io::Error::other("record larger than 4 GiB"))
        })?;
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let offset = w.1;
        w.0.write_all(bytes)
            .map_err(|e| write_error(&self.out, e))?;
        w.1 += u64::from(len);
        Ok(SpillRef { offset, len })
    }

    /// Appends one article record.
    pub fn put_article(&self, s: &Spilled) -> Result<SpillRef, Error> {
        let bytes =
            serde_json::to_vec(s).map_err(|e| write_error(&self.out, std::io::Error::other(e)))?;
        self.put(&bytes)
    }

    /// Makes everything appended so far readable.
    pub fn flush(&self) -> Result<(), Error> {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .flush()
            .map_err(|e| write_error(&self.out, e))
    }

    /// Reads one record back (after [`Spill::flush`]).
    pub fn get(&self, r: SpillRef) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; r.len as usize];
        read_exact_at(&self.reader, &mut buf, r.offset).map_err(Error::Spill)?;
        Ok(buf)
    }

    /// Reads one article record back.
    pub fn article(&self, r: SpillRef) -> Result<Spilled, Error> {
        serde_json::from_slice(&self.get(r)?)
            .map_err(|e| Error::Spill(std::io::Error::other(format!("corrupt record: {e}"))))
    }
}

fn write_error(out: &Path, source: std::io::Error) -> Error {
    Error::Output {
        path: out.to_path_buf(),
        what: Some("spill file between the phases"),
        source,
    }
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = f.seek_read(buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_come_back_by_offset_from_many_threads() {
        let d = tempfile::tempdir().unwrap();
        let spill = Spill::create(&d.path().join("spill"), d.path()).unwrap();
        let refs: Vec<(usize, SpillRef)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|t| {
                    let spill = &spill;
                    s.spawn(move || {
                        (0..200)
                            .map(|i| {
                                let n = t * 1000 + i;
                                (n, spill.put(format!("记录{n}").as_bytes()).unwrap())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        spill.flush().unwrap();
        for (n, r) in refs {
            assert_eq!(spill.get(r).unwrap(), format!("记录{n}").as_bytes());
        }
    }

    #[test]
    fn block_keys_round_trip_through_their_halves() {
        let k = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
        let s = Spilled {
            record: ArticleRecord::default(),
            related: vec![Spilled::key_parts(k)],
        };
        assert_eq!(s.related_keys().collect::<Vec<_>>(), [k]);
    }
}
