//! A scratch file of the run, written and then mapped, whose pages a reader hands back
//! behind itself: read-only ([`ScratchMap`]: the columns phase 2 reads a page at a time
//! while it writes, [`crate::run::sources`], [`crate::run::page_keys`]) or writable
//! ([`WritableColumn`]: [`crate::run::signatures`], [`crate::run::summaries`], which
//! learned boilerplate rewrites). Either way they are pages of the page cache, not of
//! the heap.

use std::fs::File;
use std::path::Path;

use crate::error::Error;

/// A finished scratch file, mapped; registered for [`crate::trim::release_read`] while
/// it lives.
#[derive(Debug)]
pub struct ScratchMap(memmap2::Mmap);

impl ScratchMap {
    /// Maps `file`, which must be a non-empty scratch file of this run that nothing writes
    /// any more.
    pub fn of(file: &File) -> std::io::Result<ScratchMap> {
        // SAFETY: the file is the run's own scratch file, created and truncated by the
        // column's writer, and written only by it before this; nothing writes it after.
        let map = unsafe { memmap2::Mmap::map(file) }?;
        crate::trim::register_shared_file_map(map.as_ptr(), map.len());
        Ok(ScratchMap(map))
    }

    /// Drops the file's pages from the process's resident set: they stay in the page
    /// cache, and reading them again maps them again.
    pub fn release(&self) {
        let b: &[u8] = &self.0;
        crate::trim::release_read(b.as_ptr(), b.as_ptr().wrapping_add(b.len()));
    }
}

impl std::ops::Deref for ScratchMap {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for ScratchMap {
    fn drop(&mut self) {
        crate::trim::unregister_shared_file_map(self.0.as_ptr());
    }
}

/// A finished scratch column that phase 2 may rewrite in place (learned boilerplate
/// replaces the signatures and summaries of the pages it changed): the file mapped
/// writable and registered for [`crate::trim::release_read`], or bytes on the heap
/// (tests, and runs with no page).
#[derive(Debug)]
pub enum WritableColumn {
    /// The run's scratch file, mapped writable.
    Mapped(memmap2::MmapMut),
    /// On the heap.
    Heap(Vec<u8>),
}

impl WritableColumn {
    /// Maps `file`, to which a column's writer wrote `len` bytes (`items` of `what`, for
    /// the error when the sizes differ); an empty column stays on the heap.
    pub fn map(file: &File, len: usize, items: usize, what: &str) -> std::io::Result<Self> {
        if len == 0 {
            return Ok(WritableColumn::Heap(Vec::new()));
        }
        // SAFETY: the file is the run's own scratch file, created and truncated by the
        // column's writer; no other code opens it, and this process writes it only
        // through the mapping from now on.
        let map = unsafe { memmap2::MmapMut::map_mut(file) }?;
        if map.len() != len {
            return Err(std::io::Error::other(format!(
                "{} bytes mapped for {items} {what}",
                map.len()
            )));
        }
        crate::trim::register_shared_file_map(map.as_ptr(), map.len());
        Ok(WritableColumn::Mapped(map))
    }

    /// The column's bytes.
    pub fn bytes(&self) -> &[u8] {
        match self {
            WritableColumn::Mapped(m) => m,
            WritableColumn::Heap(v) => v,
        }
    }

    /// The column's bytes, writable.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        match self {
            WritableColumn::Mapped(m) => m,
            WritableColumn::Heap(v) => v,
        }
    }

    /// Drops the whole pages of bytes `from..to` from the process's resident set (a
    /// mapped column's: they stay in the page cache, written bytes included).
    pub fn release(&self, from: usize, to: usize) {
        let b = self.bytes();
        let to = to.min(b.len());
        if from < to {
            crate::trim::release_read(
                b[from..].as_ptr(),
                b[from..].as_ptr().wrapping_add(to - from),
            );
        }
    }
}

impl Drop for WritableColumn {
    fn drop(&mut self) {
        if let WritableColumn::Mapped(m) = self {
            crate::trim::unregister_shared_file_map(m.as_ptr());
        }
    }
}

/// Creates (truncating) the scratch file at `path`, open for reading and writing: how
/// each column's writer starts its file.
pub fn create(path: &Path) -> std::io::Result<File> {
    File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
}

/// A failure to write the run's scratch file `what` (the run whose output is `output`).
pub fn write_error(output: &Path, what: &'static str, source: std::io::Error) -> Error {
    Error::Output {
        path: output.to_path_buf(),
        what: Some(what),
        source,
    }
}

/// Rows of a mapped column read one by one between two hand-backs of the whole column.
/// Read at random — an exact group's members, the texts of a component, the sources and
/// keys of a cluster's members — each read maps the 64 KiB around it (the kernel's
/// fault-around), so without a bound scattered reads leave the whole column counted in
/// the process; this many hold at most 16 MiB of it.
pub const RELEASE_EVERY_READS: usize = 256;

/// Counts a mapped column's scattered reads ([`RELEASE_EVERY_READS`]).
#[derive(Debug, Default)]
pub struct ScatteredReads(std::sync::atomic::AtomicUsize);

impl ScatteredReads {
    /// Counts one read; every [`RELEASE_EVERY_READS`]th first calls `release`.
    pub fn read(&self, release: impl FnOnce()) {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if n % RELEASE_EVERY_READS == RELEASE_EVERY_READS - 1 {
            release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scattered_reads_release_once_every_so_many() {
        let reads = ScatteredReads::default();
        let released = std::cell::Cell::new(0);
        for _ in 0..RELEASE_EVERY_READS * 3 + 5 {
            reads.read(|| released.set(released.get() + 1));
        }
        assert_eq!(released.get(), 3);
    }
}
