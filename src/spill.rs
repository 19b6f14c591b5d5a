//! The spill file between the phases: phase 1 appends each page's full record here as it is
//! made, and keeps only a [`SpillRef`] (12 bytes) with the page's fingerprint in memory;
//! phase 2 reads records back by offset where a decision or the output needs them. Memory
//! then grows with the number of pages by a small summary each, not by their text.
//!
//! Appends from many workers go through one mutex; the file lives in the output's staging
//! folder and goes with it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Mutex;

/// Where one record is in the spill file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpillRef {
    offset: u64,
    len: u32,
}

/// An append-only record file, readable by offset once flushed.
#[derive(Debug)]
pub struct Spill {
    writer: Mutex<(BufWriter<File>, u64)>,
    reader: File,
}

impl Spill {
    /// Creates the spill file at `path` (truncating it).
    pub fn create(path: &Path) -> std::io::Result<Spill> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(path)?;
        let reader = file.try_clone()?;
        Ok(Spill {
            writer: Mutex::new((BufWriter::with_capacity(1 << 20, file), 0)),
            reader,
        })
    }

    /// Appends one record.
    pub fn put(&self, bytes: &[u8]) -> std::io::Result<SpillRef> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| std::io::Error::other("record larger than 4 GiB"))?;
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let offset = w.1;
        w.0.write_all(bytes)?;
        w.1 += u64::from(len);
        Ok(SpillRef { offset, len })
    }

    /// Makes everything appended so far readable.
    pub fn flush(&self) -> std::io::Result<()> {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .flush()
    }

    /// Reads one record back (after [`Spill::flush`]).
    pub fn get(&self, r: SpillRef) -> std::io::Result<Vec<u8>> {
        let mut buf = vec![0u8; r.len as usize];
        read_exact_at(&self.reader, &mut buf, r.offset)?;
        Ok(buf)
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
        let spill = Spill::create(&d.path().join("spill")).unwrap();
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
}
