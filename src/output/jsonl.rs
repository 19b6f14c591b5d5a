//! The files of one run, written into its staging folder (a future generation of the output
//! folder, [`crate::generation`]): each flushed and synced when written. Nothing here is
//! visible in the output folder until the generation is published; scratch files (the
//! spill between the phases) live in a subfolder removed before that.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The subfolder of scratch files, removed before the staged folder is published.
const SCRATCH: &str = ".scratch";

/// A run's staging folder.
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
}

impl Staging {
    /// Writes into `dir` (an empty folder) for the output folder `out`.
    pub fn new(out: &Path, dir: PathBuf) -> std::io::Result<Staging> {
        create_below(&dir, &dir.join(SCRATCH))?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
        })
    }

    /// The output folder the staged files go to.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// The staging folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A path for scratch data (not an output file): it goes away before the commit.
    pub fn scratch_path(&self, name: &str) -> PathBuf {
        self.dir.join(SCRATCH).join(name)
    }

    /// Removes the scratch files: what is left is the generation.
    pub fn drop_scratch(&self) -> std::io::Result<()> {
        match std::fs::remove_dir_all(self.dir.join(SCRATCH)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Opens a staged file for writing.
    pub fn create(&mut self, name: &str) -> std::io::Result<BufWriter<File>> {
        let path = self.path_for(name)?;
        Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
    }

    /// The path to write staged file `name` to (`name` may name a subfolder:
    /// `index/manifest.json`); the caller writes and syncs it.
    pub fn path_for(&mut self, name: &str) -> std::io::Result<PathBuf> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            create_below(&self.dir, parent)?;
        }
        Ok(path)
    }

    /// Writes one JSON object per line.
    pub fn write_jsonl<'a, T, I>(&mut self, name: &str, rows: I) -> std::io::Result<usize>
    where
        T: Serialize + 'a,
        I: IntoIterator<Item = &'a T>,
    {
        let mut w = self.create(name)?;
        let mut n = 0;
        for row in rows {
            serde_json::to_writer(&mut w, row)?;
            w.write_all(b"\n")?;
            n += 1;
        }
        finish(w)?;
        Ok(n)
    }

    /// Writes a whole file at once.
    pub fn write_bytes(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        let mut w = self.create(name)?;
        w.write_all(bytes)?;
        finish(w)
    }

    /// Moves the staged files to the folder `dir` instead of publishing them (what was
    /// there is replaced): where a held run's output goes.
    pub fn move_to(self, dir: &Path) -> std::io::Result<()> {
        self.drop_scratch()?;
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        if let Some(parent) = dir.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&self.dir, dir)?;
        if let Some(parent) = dir.parent() {
            crate::generation::sync_dir(parent)?;
        }
        Ok(())
    }

    /// Removes the staging folder without touching the output.
    pub fn abort(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Flushes and syncs a staged file.
pub fn finish(w: BufWriter<File>) -> std::io::Result<()> {
    let f = w.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

/// Creates `dir` and the folders between it and `root`, but never `root` itself: once an
/// interrupt has removed a staging folder, a thread still writing into it gets an error
/// instead of making it again (with `create_dir_all`, the folder an interrupted run
/// removed could reappear before the process exits).
pub fn create_below(root: &Path, dir: &Path) -> std::io::Result<()> {
    let rel = dir.strip_prefix(root).map_err(|_| {
        std::io::Error::other(format!(
            "{} is not inside {}",
            dir.display(),
            root.display()
        ))
    })?;
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::create_dir(&at) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && at.is_dir() => {}
            r => r?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod create_below_tests {
    use super::*;

    /// A staging folder an interrupt removed is not made again by a thread still writing.
    #[test]
    fn a_removed_staging_folder_is_not_made_again() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("staging-1");
        std::fs::create_dir(&root).unwrap();
        let mut s = Staging::new(d.path(), root.clone()).unwrap();
        assert!(s
            .path_for("index/manifest.json")
            .unwrap()
            .parent()
            .unwrap()
            .is_dir());
        std::fs::remove_dir_all(&root).unwrap();
        assert!(s.path_for("clusters/near-0001.html").is_err());
        assert!(Staging::new(d.path(), root.clone()).is_err());
        assert!(!root.exists(), "the removed folder stays removed");
        assert!(
            create_below(&root, d.path()).is_err(),
            "only below the root"
        );
    }
}
