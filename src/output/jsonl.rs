//! Atomic output: every file is written into a hidden staging folder inside `--output`,
//! flushed and synced, and only then renamed over its final name, one file at a time and
//! `report.json` last. A run that fails or is killed leaves each previous file intact (or
//! absent), never half-written; the staging folder of a killed run is removed by the next.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

/// A staging folder whose files are renamed into the output folder on [`Staging::commit`].
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    files: Vec<String>,
}

const STAGING_PREFIX: &str = ".pagesieve-staging-";

impl Staging {
    /// Creates `out` if needed and a fresh staging folder inside it (removing stale ones).
    pub fn new(out: &Path) -> std::io::Result<Staging> {
        std::fs::create_dir_all(out)?;
        if let Ok(rd) = std::fs::read_dir(out) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().starts_with(STAGING_PREFIX) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = out.join(format!("{STAGING_PREFIX}{}", std::process::id()));
        std::fs::create_dir(&dir)?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            files: Vec::new(),
        })
    }

    /// The output folder the staged files go to.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// A path in the staging folder for scratch data (not an output file): it goes away
    /// with the folder on commit or abort.
    pub fn scratch_path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Opens a staged file for writing.
    pub fn create(&mut self, name: &str) -> std::io::Result<BufWriter<File>> {
        let path = self.path_for(name)?;
        Ok(BufWriter::with_capacity(1 << 20, File::create(path)?))
    }

    /// Registers a staged file (`name` may name a subfolder: `index/dedup.idx`) and
    /// returns the path to write it to; the caller writes and syncs it.
    pub fn path_for(&mut self, name: &str) -> std::io::Result<PathBuf> {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        self.files.push(name.to_string());
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

    /// Renames every staged file into the output folder (in the order they were created)
    /// and removes the staging folder.
    pub fn commit(self) -> std::io::Result<()> {
        let out = self.out.clone();
        self.commit_into(&out)
    }

    /// Renames every staged file into `dir` instead (replacing what was there), leaving
    /// the output folder as it was: where a held run's output goes.
    pub fn commit_to(self, dir: &Path) -> std::io::Result<()> {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
        self.commit_into(dir)
    }

    fn commit_into(self, dir: &Path) -> std::io::Result<()> {
        for name in &self.files {
            let target = dir.join(name);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::rename(self.dir.join(name), target)?;
        }
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        std::fs::remove_dir_all(&self.dir)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_abort_keeps_previous() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a.jsonl"), "old\n").unwrap();
        let mut s = Staging::new(d.path()).unwrap();
        s.write_jsonl("a.jsonl", &[serde_json::json!({"x": 1})])
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("a.jsonl")).unwrap(),
            "old\n"
        );
        s.abort();
        assert_eq!(
            std::fs::read_to_string(d.path().join("a.jsonl")).unwrap(),
            "old\n"
        );
        let mut s = Staging::new(d.path()).unwrap();
        s.write_jsonl("a.jsonl", &[serde_json::json!({"x": 1})])
            .unwrap();
        s.commit().unwrap();
        assert_eq!(
            std::fs::read_to_string(d.path().join("a.jsonl")).unwrap(),
            "{\"x\":1}\n"
        );
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
    }
}
