//! An output folder as generations, published by one atomic rename.
//!
//! ```text
//! out/
//!   articles.jsonl -> .pagesieve/current/articles.jsonl     (one link per output name,
//!   report.json    -> .pagesieve/current/report.json         made once, never changed)
//!   index          -> .pagesieve/current/index
//!   .pagesieve/
//!     lock                       flock of the run writing this folder (pid inside)
//!     current -> g-000007-3fa2…  the published generation: the one pointer a commit moves
//!     g-000007-3fa2…/            every file of one run
//!     staging-<pid>-<token>/     a run being written (removed at the next start if its
//!                                owner is gone)
//! ```
//!
//! A run writes everything into its staging folder, renames it to a new generation name,
//! then replaces `current` with a link to it (`rename(2)` of a symbolic link: atomic).
//! A reader that opens `out/articles.jsonl` gets the old generation's file or the new
//! one's, never a mix, at any instant of a crash; a reader that needs several files of one
//! generation resolves `current` once ([`current`]) and reads that folder. The names are
//! links made once; the first run into a folder written by an older pagesieve (plain
//! files) first turns those files into a generation of their own by hard links, so every
//! name keeps its bytes until the pointer moves.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::lock::{self, Lock};

/// The folder inside an output folder that holds its generations.
pub const META: &str = ".pagesieve";
/// The link to the published generation.
pub const CURRENT: &str = "current";
/// The lock file.
pub const LOCK: &str = "lock";
/// The names a run writes in its output folder (the index folder among them; the
/// Parquet copies of the record files only in a Ray job).
pub const NAMES: [&str; 15] = [
    "articles.jsonl",
    "snippets.jsonl",
    "dropped.jsonl",
    "duplicates.jsonl",
    "rejects.jsonl",
    "seen_again.jsonl",
    "report.json",
    "report.html",
    "clusters",
    "index",
    "articles.parquet",
    "snippets.parquet",
    "dropped.parquet",
    "duplicates.parquet",
    "rejects.parquet",
];
const STAGING: &str = "staging-";
const GENERATION: &str = "g-";

/// The published generation of output folder `root`, as a physical folder (`None`: the
/// folder has none: missing, or written by an older pagesieve).
pub fn current(root: &Path) -> Option<PathBuf> {
    let meta = root.canonicalize().ok()?.join(META);
    let name = fs::read_link(meta.join(CURRENT)).ok()?;
    let dir = meta.join(name);
    dir.is_dir().then_some(dir)
}

/// The name of the published generation of `root`.
pub fn current_name(root: &Path) -> Option<String> {
    current(root).and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
}

/// An output folder, locked for one run.
#[derive(Debug)]
pub struct OutputFolder {
    root: PathBuf,
    meta: PathBuf,
    lock: Lock,
    created: bool,
}

impl OutputFolder {
    /// Creates `root` if needed, takes its lock (`wait`: block until free), checks that
    /// its output names can be written, and clears what a dead run left (staging folders,
    /// unpublished generations, links not yet made).
    pub fn open(root: &Path, wait: bool) -> Result<OutputFolder, Error> {
        let created = !root.exists();
        let io = Error::output(root);
        let meta = root.join(META);
        fs::create_dir_all(&meta).map_err(&io)?;
        let what = format!("the output folder {}", root.display());
        let lock = lock::acquire(&meta.join(LOCK), &what, wait)?;
        let f = OutputFolder {
            root: root.to_path_buf(),
            meta,
            lock,
            created,
        };
        f.check_names()?;
        f.recover().map_err(&io)?;
        Ok(f)
    }

    /// The output folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The lock held.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Undoes [`OutputFolder::open`] on a folder that did not exist before it: a run
    /// stopped by a usage error leaves nothing behind.
    pub fn forget(self) {
        if self.created {
            let (root, lock) = (self.root, self.lock);
            drop(lock);
            let _ = fs::remove_dir_all(root);
        }
    }

    /// A new, empty staging folder and the generation name it will be published under.
    pub fn stage(&self) -> std::io::Result<(PathBuf, String)> {
        let token = token();
        let dir = self
            .meta
            .join(format!("{STAGING}{}-{token:016x}", std::process::id()));
        // Known to the interrupt handler before it exists: no instant in which a signal
        // would leave it behind.
        crate::interrupt::track(&dir);
        fs::create_dir(&dir)?;
        let n = self
            .generations()?
            .iter()
            .map(|(n, _)| *n)
            .max()
            .unwrap_or(0)
            + 1;
        Ok((dir, format!("{GENERATION}{n:06}-{token:016x}")))
    }

    /// The folder a staged generation is renamed to.
    pub fn generation_dir(&self, name: &str) -> PathBuf {
        self.meta.join(name)
    }

    /// Renames the staged folder `staged` (synced first, with everything in it) to the
    /// generation `name`, not yet published.
    pub fn prepare(&self, staged: &Path, name: &str) -> std::io::Result<PathBuf> {
        sync_tree(staged)?;
        let to = self.meta.join(name);
        fs::rename(staged, &to)?;
        sync_dir(&self.meta)?;
        Ok(to)
    }

    /// Publishes generation `name`: `current` names it from now on. An output folder an
    /// older pagesieve wrote is first made a generation of its own.
    pub fn switch(&self, name: &str) -> std::io::Result<()> {
        if fs::read_link(self.meta.join(CURRENT)).is_err() && self.has_legacy() {
            self.adopt_legacy()?;
        }
        // Names the folder does not have yet get their links first: until the pointer
        // moves they lead nowhere (the name is absent, as before), after it to the new
        // files, so a new name appears with the generation, not later.
        for e in fs::read_dir(self.meta.join(name))? {
            let n = e?.file_name();
            if fs::symlink_metadata(self.root.join(&n)).is_err() {
                self.link_name(&n)?;
            }
        }
        sync_dir(&self.root)?;
        self.point_to(name)
    }

    /// Makes every name of the published generation a link into `current`, and removes
    /// links whose target the generation no longer has, and plain files of an output
    /// name it does not have (an older Ray job wrote its Parquet files beside the
    /// generation: kept, they would sit beside another run's records).
    pub fn link(&self) -> std::io::Result<()> {
        let Some(gen) = current(&self.root) else {
            return Ok(());
        };
        for e in fs::read_dir(&gen)? {
            let name = e?.file_name();
            self.link_name(&name)?;
        }
        for name in NAMES {
            let p = self.root.join(name);
            let ours = fs::read_link(&p).is_ok_and(|t| t == link_target(OsStr::new(name)));
            let plain = fs::symlink_metadata(&p).is_ok_and(|m| m.is_file());
            if (ours || plain) && !gen.join(name).exists() {
                fs::remove_file(&p)?;
            }
        }
        sync_dir(&self.root)
    }

    /// Removes every generation but the published one, and stale staging folders (this
    /// run holds the lock, so their owners are gone).
    pub fn clean(&self, keep_staging: Option<&Path>) -> std::io::Result<()> {
        let pointer = self.meta.join(CURRENT);
        if fs::symlink_metadata(&pointer).is_ok_and(|m| !m.file_type().is_symlink()) {
            // A copy that followed the link (`cp -rL`): not a pointer; the names at the
            // top are then plain files, adopted as an older output's.
            remove_any(&pointer)?;
        }
        let current = fs::read_link(&pointer).ok();
        for e in fs::read_dir(&self.meta)? {
            let e = e?;
            let name = e.file_name();
            let s = name.to_string_lossy();
            let path = e.path();
            let stale = if s.starts_with(GENERATION) {
                current.as_deref() != Some(Path::new(&*name))
            } else if s.starts_with(STAGING) {
                keep_staging != Some(path.as_path())
            } else {
                s.starts_with(".tmp-")
            };
            if stale {
                remove_any(&path)?;
            }
        }
        sync_dir(&self.meta)
    }

    fn recover(&self) -> std::io::Result<()> {
        self.clean(None)?;
        // An older pagesieve's staging folders, and links this one had not renamed yet.
        for e in fs::read_dir(&self.root)? {
            let e = e?;
            let name = e.file_name();
            let s = name.to_string_lossy();
            if s.starts_with(".pagesieve-staging-") || s.starts_with(".pagesieve-link-") {
                remove_any(&e.path())?;
            }
        }
        self.link()
    }

    /// Refuses, before anything is written, a name the run needs that holds something else
    /// than its own link or an older pagesieve's file.
    fn check_names(&self) -> Result<(), Error> {
        for name in NAMES {
            let p = self.root.join(name);
            let Ok(m) = fs::symlink_metadata(&p) else {
                continue;
            };
            let ours = m.file_type().is_symlink()
                && fs::read_link(&p).is_ok_and(|t| t == link_target(OsStr::new(name)));
            let legacy = match name {
                "index" => m.is_dir(),
                _ => m.is_file(),
            };
            if !ours && !legacy {
                let kind = if m.is_dir() {
                    "a folder"
                } else if m.file_type().is_symlink() {
                    "a link pagesieve did not make"
                } else {
                    "not a regular file"
                };
                return Err(Error::Usage(format!(
                    "{} is {kind}; pagesieve writes its own {name} there: move it away \
                     or choose another --output",
                    p.display()
                )));
            }
        }
        Ok(())
    }

    /// Numbers and names of the generation folders present.
    fn generations(&self) -> std::io::Result<Vec<(u64, String)>> {
        let mut v = Vec::new();
        for e in fs::read_dir(&self.meta)? {
            let name = e?.file_name().to_string_lossy().into_owned();
            if let Some(n) = name
                .strip_prefix(GENERATION)
                .and_then(|r| r.split('-').next())
                .and_then(|n| n.parse().ok())
            {
                v.push((n, name));
            }
        }
        Ok(v)
    }

    fn has_legacy(&self) -> bool {
        NAMES.iter().any(|n| {
            fs::symlink_metadata(self.root.join(n)).is_ok_and(|m| !m.file_type().is_symlink())
        })
    }

    /// Turns the plain files an older pagesieve wrote into generation 0 (hard links: the
    /// bytes stay where they are) and publishes it, so that the names change only when
    /// the pointer moves.
    fn adopt_legacy(&self) -> std::io::Result<()> {
        let token = token();
        let staged = self.meta.join(format!("{STAGING}legacy-{token:016x}"));
        fs::create_dir(&staged)?;
        for name in NAMES {
            let from = self.root.join(name);
            match fs::symlink_metadata(&from) {
                Ok(m) if m.is_file() => fs::hard_link(&from, staged.join(name))?,
                Ok(m) if m.is_dir() => link_tree(&from, &staged.join(name))?,
                _ => {}
            }
        }
        let name = format!("{GENERATION}000000-{token:016x}");
        self.prepare(&staged, &name)?;
        self.point_to(&name)?;
        self.link()
    }

    fn point_to(&self, name: &str) -> std::io::Result<()> {
        let tmp = self.meta.join(format!(".tmp-current-{:016x}", token()));
        symlink(name, &tmp)?;
        fs::rename(&tmp, self.meta.join(CURRENT))?;
        sync_dir(&self.meta)
    }

    /// Makes `root/name` the link into `current` (over a file or an older folder of
    /// that name).
    fn link_name(&self, name: &OsStr) -> std::io::Result<()> {
        let p = self.root.join(name);
        let target = link_target(name);
        if fs::read_link(&p).is_ok_and(|t| t == target) {
            return Ok(());
        }
        let tmp = self.root.join(format!(".pagesieve-link-{:016x}", token()));
        symlink(&target, &tmp)?;
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {
                // A folder cannot be renamed over: swap the two names, then remove the
                // folder (its files live on in the generation through their hard links).
                exchange(&tmp, &p)?;
                fs::remove_dir_all(&tmp)
            }
            _ => fs::rename(&tmp, &p),
        }
    }
}

/// What an output name links to.
fn link_target(name: &OsStr) -> PathBuf {
    Path::new(META).join(CURRENT).join(name)
}

/// A token unique to this process and instant (names never reused).
pub fn token() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&nanos.to_le_bytes());
    b[8..16].copy_from_slice(&u64::from(std::process::id()).to_le_bytes());
    b[16..].copy_from_slice(&COUNT.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    xxhash_rust::xxh3::xxh3_64(&b)
}

/// Swaps two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`).
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (ca, cb) = (c(a)?, c(b)?);
    // SAFETY: two NUL-terminated paths relative to the working directory.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            ca.as_ptr(),
            libc::AT_FDCWD,
            cb.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    match r {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

/// Hard-links every file under `from` into a new tree at `to`.
fn link_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let m = fs::symlink_metadata(e.path())?;
        if m.is_dir() {
            link_tree(&e.path(), &to.join(e.file_name()))?;
        } else if m.is_file() {
            fs::hard_link(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}

fn remove_any(p: &Path) -> std::io::Result<()> {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Syncs a folder's entries (after renames and creations in it).
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Syncs a tree's folders (its files are synced by their writers).
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for e in fs::read_dir(dir)? {
        let e = e?;
        if e.file_type()?.is_dir() {
            sync_tree(&e.path())?;
        }
    }
    sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish(f: &OutputFolder, files: &[(&str, &str)]) {
        let (dir, name) = f.stage().unwrap();
        for (n, body) in files {
            fs::write(dir.join(n), body).unwrap();
        }
        f.prepare(&dir, &name).unwrap();
        f.switch(&name).unwrap();
        f.link().unwrap();
        f.clean(None).unwrap();
    }

    #[test]
    fn generations_replace_each_other_through_one_pointer() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("out");
        let f = OutputFolder::open(&root, false).unwrap();
        publish(
            &f,
            &[("articles.jsonl", "one\n"), ("seen_again.jsonl", "x\n")],
        );
        assert_eq!(
            fs::read_to_string(root.join("articles.jsonl")).unwrap(),
            "one\n"
        );
        let first = current_name(&root).unwrap();
        publish(&f, &[("articles.jsonl", "two\n")]);
        assert_eq!(
            fs::read_to_string(root.join("articles.jsonl")).unwrap(),
            "two\n"
        );
        assert_ne!(current_name(&root).unwrap(), first);
        // A name the new generation does not have is gone, and only it is kept.
        assert!(fs::symlink_metadata(root.join("seen_again.jsonl")).is_err());
        let gens: Vec<_> = fs::read_dir(root.join(META))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(GENERATION)
            })
            .collect();
        assert_eq!(gens.len(), 1);
    }

    #[test]
    fn an_older_output_keeps_its_bytes_until_the_pointer_moves() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("out");
        fs::create_dir_all(root.join("index")).unwrap();
        fs::write(root.join("articles.jsonl"), "old\n").unwrap();
        fs::write(root.join("index/dedup.idx"), "idx").unwrap();
        let f = OutputFolder::open(&root, false).unwrap();
        let (dir, name) = f.stage().unwrap();
        fs::write(dir.join("articles.jsonl"), "new\n").unwrap();
        fs::create_dir(dir.join("index")).unwrap();
        fs::write(dir.join("index/manifest.json"), "{}").unwrap();
        f.prepare(&dir, &name).unwrap();
        // Not published yet: the old bytes.
        assert_eq!(
            fs::read_to_string(root.join("articles.jsonl")).unwrap(),
            "old\n"
        );
        f.switch(&name).unwrap();
        f.link().unwrap();
        f.clean(None).unwrap();
        assert_eq!(
            fs::read_to_string(root.join("articles.jsonl")).unwrap(),
            "new\n"
        );
        assert!(root.join("index/manifest.json").is_file());
        assert!(!root.join("index/dedup.idx").exists());
    }

    #[test]
    fn a_file_where_a_folder_is_needed_is_refused_before_writing() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("out");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("index"), "not a folder").unwrap();
        let e = OutputFolder::open(&root, false).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.to_string().contains("index"), "{e}");
        assert_eq!(
            fs::read_to_string(root.join("index")).unwrap(),
            "not a folder"
        );
    }

    #[test]
    fn a_dead_runs_staging_is_removed_at_the_next_start() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("out");
        let f = OutputFolder::open(&root, false).unwrap();
        let (dir, _) = f.stage().unwrap();
        fs::write(dir.join("articles.jsonl"), "half").unwrap();
        drop(f);
        let _f = OutputFolder::open(&root, false).unwrap();
        assert!(!dir.exists());
    }
}
