//! Finding input files: a recursive walk in a stable (byte-wise sorted) order.
//!
//! Hidden files and folders (names starting with `.`) are skipped, folders reached through
//! symlinks are not followed (so a symlink loop cannot trap the walk), symlinks to files are
//! read like files, and include/exclude globs from the config select what is read. Walk
//! errors (an unreadable folder, a dangling symlink) become input files of their own so that
//! they are reported as `io_error` rejects instead of vanishing.

use std::path::{Path, PathBuf};

use crate::ingest::InputRules;

/// One file to read, with its path relative to `--input` as the record `source`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Absolute or `--input`-joined path used to open the file.
    pub path: PathBuf,
    /// Path relative to `--input`, `/`-separated; the `source` of every record made from it.
    /// A name that is not valid UTF-8 is written with each invalid byte as `\xNN`.
    pub source: String,
    /// A problem met while walking (for example a dangling symlink), reported as `io_error`.
    pub walk_error: Option<String>,
}

/// The result of a walk.
#[derive(Debug, Default)]
pub struct Walk {
    /// Files to read, sorted by `source`.
    pub files: Vec<InputFile>,
    /// Files skipped by the include/exclude globs.
    pub excluded: usize,
    /// Folders that could not be listed (they hold no input we can account for).
    pub problems: Vec<String>,
}

/// Lists every regular file under `root` (see the module docs for what is skipped).
/// `skip` is a folder under `root` (relative to it) that is not read: the output folder,
/// when it is inside the input folder.
pub fn walk(root: &Path, rules: &InputRules, skip: Option<&Path>) -> std::io::Result<Walk> {
    let meta = std::fs::metadata(root)?;
    if !meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a directory", root.display()),
        ));
    }
    let mut out = Walk::default();
    let it = walkdir::WalkDir::new(root)
        .follow_links(false)
        .sort_by(|a, b| a.file_name().cmp(b.file_name()))
        .into_iter()
        .filter_entry(|e| {
            e.depth() == 0
                || (!is_hidden(e.file_name())
                    && skip.is_none_or(|s| e.path().strip_prefix(root).ok() != Some(s)))
        });
    for entry in it {
        match entry {
            Ok(e) => {
                if e.depth() == 0 {
                    continue;
                }
                // Folders are walked (symlinked ones are not followed, so a loop cannot trap
                // the walk); every other entry is an input. A symlink to a file is read; a
                // dangling one, a FIFO, a socket or a device becomes an io_error reject
                // (never opened: a FIFO would block the run).
                let meta = std::fs::metadata(e.path());
                if meta.as_ref().is_ok_and(|m| m.is_dir()) {
                    continue;
                }
                let walk_error = match &meta {
                    Ok(m) if m.is_file() => None,
                    Ok(m) => Some(format!("not a regular file ({})", kind_of(&m.file_type()))),
                    Err(err) => Some(format!("cannot read: {err}")),
                };
                let source = source_of(root, e.path());
                if !rules.selects(&source) {
                    out.excluded += 1;
                    continue;
                }
                out.files.push(InputFile {
                    path: e.path().to_path_buf(),
                    source,
                    walk_error,
                });
            }
            Err(err) => {
                // An unreadable folder: report it; an entry that cannot be stat'ed: an input
                // that becomes an io_error reject.
                if let Some(path) = err.path() {
                    if path == root {
                        return Err(err.into());
                    }
                    let source = source_of(root, path);
                    if path.is_dir() {
                        // A folder is not an input: report it, keep walking.
                        out.problems.push(format!("{source}/: {err}"));
                    } else {
                        out.files.push(InputFile {
                            path: path.to_path_buf(),
                            source,
                            walk_error: Some(err.to_string()),
                        });
                    }
                } else {
                    out.problems.push(err.to_string());
                }
            }
        }
    }
    out.files.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(out)
}

fn kind_of(ft: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    let _ = ft;
    "not a file"
}

fn is_hidden(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// The `/`-separated path of `path` relative to `root`, with non-UTF-8 bytes escaped.
pub fn source_of(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut parts = Vec::new();
    for c in rel.components() {
        parts.push(escape_name(c.as_os_str()));
    }
    parts.join("/")
}

fn escape_name(name: &std::ffi::OsStr) -> String {
    let bytes = name.as_encoded_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::InputConfig;

    fn all() -> InputRules {
        InputRules::compile(&InputConfig::default()).unwrap()
    }

    #[test]
    fn sorted_hidden_skipped_globs_applied() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("b/sub")).unwrap();
        std::fs::create_dir_all(d.join(".git")).unwrap();
        for f in [
            "z.txt",
            "a.txt",
            "b/sub/c.txt",
            ".hidden",
            ".git/x",
            "b/skip.log",
        ] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        let rules = InputRules::compile(&InputConfig {
            exclude: vec!["**/*.log".into()],
            ..InputConfig::default()
        })
        .unwrap();
        let w = walk(d, &rules, None).unwrap();
        let names: Vec<&str> = w.files.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(names, ["a.txt", "b/sub/c.txt", "z.txt"]);
        assert_eq!(w.excluded, 1);
    }

    #[test]
    fn the_skipped_folder_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("out/sub")).unwrap();
        for f in ["a.txt", "out/report.json", "out/sub/x.txt", "outer.txt"] {
            std::fs::write(d.join(f), "x").unwrap();
        }
        let w = walk(d, &all(), Some(Path::new("out"))).unwrap();
        let names: Vec<&str> = w.files.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(names, ["a.txt", "outer.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_and_dangling_link() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("x")).unwrap();
        std::os::unix::fs::symlink(d.join("x"), d.join("x/loop")).unwrap();
        std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling")).unwrap();
        std::fs::write(d.join("x/page.txt"), "t").unwrap();
        let w = walk(d, &all(), None).unwrap();
        let names: Vec<&str> = w.files.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(names, ["dangling", "x/page.txt"]);
        assert!(w.files[0].walk_error.is_some());
    }

    #[cfg(unix)]
    #[test]
    fn fifo_is_an_input_that_is_never_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let ok = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !ok.is_ok_and(|s| s.success()) {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "NOTICE: mkfifo unavailable; skipping the FIFO test"
            );
            return;
        }
        let w = walk(dir.path(), &all(), None).unwrap();
        assert_eq!(w.files.len(), 1);
        assert!(w.files[0].walk_error.as_deref().unwrap().contains("FIFO"));
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_name_is_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::from_bytes(b"bad\xffname.txt");
        std::fs::write(dir.path().join(name), "t").unwrap();
        let w = walk(dir.path(), &all(), None).unwrap();
        assert_eq!(w.files[0].source, "bad\\xFFname.txt");
    }
}
