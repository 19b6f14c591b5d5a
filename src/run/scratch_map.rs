//! A scratch file of the run, written and then mapped read-only, whose pages a reader
//! hands back behind itself ([`ScratchMap::release`]): the columns phase 2 reads a page at
//! a time while it writes ([`crate::run::sources`], [`crate::run::page_keys`]) are pages
//! of the page cache, not of the heap.

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
