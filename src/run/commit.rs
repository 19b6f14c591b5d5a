//! The commit: the output folder and its index change together or not at all.
//!
//! With the index in the output, both are one generation and the pointer switch publishes
//! them at once. With `--index DIR`, the new manifest waits beside the old one as a
//! pending commit naming the output generation; the output's pointer switch decides; then
//! the manifest is renamed into place. At every step ([`crate::fault::COMMIT`]) a crash
//! leaves the previous output and index, or the new ones: before the switch the pending
//! manifest is dropped by the next writer (and ignored by readers), after it completed.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::fault;
use crate::generation::OutputFolder;
use crate::history::manifest::{self, Manifest, Pending};
use crate::output::Staging;

/// An index outside the output, ready to be published with it.
#[derive(Debug)]
pub struct IndexCommit {
    /// The index folder (absolute).
    pub dir: PathBuf,
    /// Its next manifest.
    pub manifest: Manifest,
    /// Segment files written or linked into it for this manifest.
    pub new_files: Vec<PathBuf>,
}

impl IndexCommit {
    /// Removes what was written for a commit that will not happen.
    pub fn abort(self) {
        for f in &self.new_files {
            let _ = std::fs::remove_file(f);
        }
    }

    fn error(&self) -> impl Fn(std::io::Error) -> Error + '_ {
        move |source| Error::Output {
            path: self.dir.clone(),
            what: Some("the dedup index (--index)"),
            source,
        }
    }
}

/// Publishes `staging` as generation `name` of `folder`, with `index` when it lives
/// outside the output.
pub fn publish(
    folder: &OutputFolder,
    staging: Staging,
    name: &str,
    index: Option<IndexCommit>,
) -> Result<(), Error> {
    let out = Error::output(folder.root());
    let staged = staging.dir().to_path_buf();
    let before = || -> Result<Option<PathBuf>, Error> {
        staging.drop_scratch().map_err(&out)?;
        fault::point(fault::STAGED);
        let pending = match &index {
            None => None,
            Some(ix) => {
                let root = folder.root().canonicalize().map_err(&out)?;
                let p = Pending {
                    output: root.display().to_string(),
                    generation: name.to_string(),
                    manifest: ix.manifest.clone(),
                };
                let path = manifest::write_pending(&ix.dir, &p).map_err(ix.error())?;
                fault::point(fault::PENDING_WRITTEN);
                Some(path)
            }
        };
        folder.prepare(&staged, name).map_err(&out)?;
        fault::point(fault::GENERATION_RENAMED);
        Ok(pending)
    };
    let pending = match before() {
        Ok(p) => p,
        Err(e) => {
            // Not published: nothing of this run may stay.
            if let Some(ix) = &index {
                let _ = manifest::recover(&ix.dir);
            }
            let _ = std::fs::remove_dir_all(&staged);
            let _ = std::fs::remove_dir_all(folder.generation_dir(name));
            if let Some(ix) = index {
                ix.abort();
            }
            return Err(e);
        }
    };
    if let Err(e) = folder.switch(name) {
        // The pointer did not move: the run did not happen.
        let _ = std::fs::remove_dir_all(folder.generation_dir(name));
        if let Some(ix) = &index {
            let _ = manifest::recover(&ix.dir);
        }
        return Err(out(e));
    }
    fault::point(fault::POINTER_SWITCHED);
    // Decided: what follows completes the commit, and the next start completes it too if
    // this process dies here.
    if let (Some(ix), Some(p)) = (&index, &pending) {
        manifest::complete(&ix.dir, p).map_err(ix.error())?;
        fault::point(fault::MANIFEST_PUBLISHED);
    }
    folder.link().map_err(&out)?;
    fault::point(fault::LINKED);
    folder.clean(None).map_err(&out)?;
    if let Some(ix) = &index {
        let named: Vec<String> = ix
            .manifest
            .segments
            .iter()
            .map(|s| s.file.clone())
            .collect();
        manifest::remove_unnamed(&ix.dir, &named).map_err(ix.error())?;
    }
    fault::point(fault::CLEANED);
    Ok(())
}

/// Whether `path` is inside the folder `dir` (both resolved as far as they exist).
pub fn inside(path: &Path, dir: &Path) -> bool {
    let resolve = |p: &Path| -> PathBuf {
        let mut cur = p.to_path_buf();
        let mut tail = Vec::new();
        while !cur.exists() {
            match (cur.file_name().map(|n| n.to_os_string()), cur.parent()) {
                (Some(n), Some(parent)) => {
                    tail.push(n);
                    cur = parent.to_path_buf();
                }
                _ => break,
            }
        }
        let mut base = cur.canonicalize().unwrap_or(cur);
        for n in tail.into_iter().rev() {
            base.push(n);
        }
        base
    };
    resolve(path).starts_with(resolve(dir))
}
