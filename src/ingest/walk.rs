//! Finding input files: a recursive walk in a stable (byte-wise sorted) order.
//!
//! Hidden files and folders (names starting with `.`) are skipped and include/exclude globs
//! from the config select what is read. Nothing outside `--input` is read unless the run
//! says so ([`WalkOptions::follow_symlinks`]):
//! - a symlink to a file inside the input is read like the file; one whose target is
//!   outside is an `outside_input` reject (never opened);
//! - a symlinked folder is not walked (its files inside the input are walked where they
//!   are); it is a named skip in [`Walk::skipped`], so that no entry vanishes;
//! - a FIFO, a socket or a device is a `not_regular` reject (never opened: a FIFO would
//!   block the run); a dangling symlink or an entry that cannot be stat'ed, `io_error`.
//!
//! With `follow_symlinks`, symlinks to files and folders are followed wherever they lead
//! (a loop is reported, never walked twice). The walk's verdict is checked again when a
//! file is opened ([`crate::ingest::decode::read_file`]): an entry swapped after the walk
//! for a FIFO or a symlink out of the input is refused then.

use std::path::{Path, PathBuf};

use crate::ingest::InputRules;
use crate::record::{Reject, RejectReason};

/// One file to read, with its path relative to `--input` as the record `source`.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFile {
    /// Absolute or `--input`-joined path used to open the file.
    pub path: PathBuf,
    /// Path relative to `--input`, `/`-separated; the `source` of every record made from it.
    /// A name byte that is not UTF-8 is written `\xNN`, and a backslash `\\`, so that two
    /// names never share a source.
    pub source: String,
    /// Why the walk refused it (it is then never opened): a reject of its own.
    pub walk_error: Option<Reject>,
}

/// How the input is walked.
#[derive(Debug, Clone, Copy, Default)]
pub struct WalkOptions<'a> {
    /// A folder under the root (relative to it) that is not read: the output folder, when
    /// it is inside the input folder.
    pub skip: Option<&'a Path>,
    /// Follow symlinks out of the input and into symlinked folders (`--follow-symlinks`).
    pub follow_symlinks: bool,
}

/// An entry the walk did not read and that is not a file: named in `report.json`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Path relative to `--input` (escaped as a `source` is), with a trailing `/`.
    pub path: String,
    /// Why.
    pub why: String,
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
    /// Symlinked folders that were not walked, sorted.
    pub skipped: Vec<Skipped>,
}

/// Lists every input file under `root` (see the module docs for what is read).
pub fn walk(root: &Path, rules: &InputRules, opts: WalkOptions<'_>) -> std::io::Result<Walk> {
    let meta = std::fs::metadata(root)?;
    if !meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a directory", root.display()),
        ));
    }
    // What "inside the input" means: the input folder with every symlink resolved.
    let real_root = std::fs::canonicalize(root)?;
    let mut out = Walk::default();
    let skip = opts.skip;
    let it = walkdir::WalkDir::new(root)
        .follow_links(opts.follow_symlinks)
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
                if e.depth() == 0 || e.file_type().is_dir() {
                    continue;
                }
                let source = source_of(root, e.path());
                let verdict = match e.path_is_symlink() && !opts.follow_symlinks {
                    true => symlink_verdict(e.path(), &real_root),
                    false => Verdict::File(entry_problem(e.path())),
                };
                let walk_error = match verdict {
                    Verdict::Folder(why) => {
                        out.skipped.push(Skipped {
                            path: format!("{source}/"),
                            why,
                        });
                        continue;
                    }
                    Verdict::File(problem) => problem,
                };
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
                // An unreadable folder or a loop: report it; an entry that cannot be
                // stat'ed: an input that becomes an io_error reject.
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
                            walk_error: Some(Reject::new(RejectReason::IoError, err.to_string())),
                        });
                    }
                } else {
                    out.problems.push(err.to_string());
                }
            }
        }
    }
    out.files.sort_by(|a, b| a.source.cmp(&b.source));
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// What the walk makes of one entry.
enum Verdict {
    /// An input file, refused (`Some`) or to read.
    File(Option<Reject>),
    /// A symlinked folder, not walked: why.
    Folder(String),
}

/// A symlink, not followed out of the input: read when it leads to a file inside.
fn symlink_verdict(path: &Path, real_root: &Path) -> Verdict {
    let target = match std::fs::canonicalize(path) {
        Ok(t) => t,
        Err(err) => {
            return Verdict::File(Some(Reject::new(
                RejectReason::IoError,
                format!("dangling symlink: {err}"),
            )))
        }
    };
    let inside = target.starts_with(real_root);
    if target.is_dir() {
        let where_ = match inside {
            true => "a folder inside the input, walked where it is",
            false => "a folder outside the input",
        };
        return Verdict::Folder(format!(
            "symlink to {} ({where_}); --follow-symlinks walks it",
            target.display()
        ));
    }
    if !inside {
        return Verdict::File(Some(Reject::new(
            RejectReason::OutsideInput,
            format!(
                "symlink to {}, outside --input (--follow-symlinks reads it)",
                target.display()
            ),
        )));
    }
    Verdict::File(entry_problem(path))
}

/// Why an entry (its target, for a symlink) cannot be read as a file, if it cannot.
fn entry_problem(path: &Path) -> Option<Reject> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => None,
        Ok(m) => Some(Reject::new(
            RejectReason::NotRegular,
            format!("not a regular file ({})", kind_of(&m.file_type())),
        )),
        Err(err) => Some(Reject::new(
            RejectReason::IoError,
            format!("cannot read: {err}"),
        )),
    }
}

pub(crate) fn kind_of(ft: &std::fs::FileType) -> &'static str {
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

/// The files of a listing made elsewhere (an object store's keys under the input
/// prefix, `/`-separated, with their sizes) as the walk would take them: hidden names
/// (any component starting with `.`) skipped, the include/exclude globs applied, the
/// rest in the walk's order (component by component). Returns the sources kept with
/// their sizes, and how many the globs excluded.
pub fn select_listing(
    names: Vec<(String, u64)>,
    rules: &InputRules,
) -> (Vec<(String, u64)>, usize) {
    let mut excluded = 0;
    // Sorted by the raw names, as the walk sorts a folder's entries.
    let mut kept: Vec<(Vec<String>, String, u64)> = Vec::new();
    for (name, size) in names {
        let parts: Vec<String> = name
            .split('/')
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect();
        if parts.is_empty() || parts.iter().any(|p| is_hidden(std::ffi::OsStr::new(p))) {
            continue;
        }
        let source: Vec<String> = parts
            .iter()
            .map(|p| escape_name(std::ffi::OsStr::new(p)))
            .collect();
        let source = source.join("/");
        if !rules.selects(&source) {
            excluded += 1;
            continue;
        }
        kept.push((parts, source, size));
    }
    kept.sort();
    let kept = kept
        .into_iter()
        .map(|(_, source, size)| (source, size))
        .collect();
    (kept, excluded)
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
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
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

    /// A listing from elsewhere (object-store keys) is taken as the walk takes the same
    /// tree: same sources, same order, same exclusions.
    #[test]
    fn a_listing_from_elsewhere_is_selected_and_ordered_as_the_walk_would() {
        let d = tempfile::tempdir().unwrap();
        let names = [
            "b.txt",
            "a/z.txt",
            "a/.hid/x.txt",
            "a0.txt",
            ".h.txt",
            "a/b/c.log",
            "a/b/c.txt",
            "A.txt",
        ];
        for n in names {
            let p = d.path().join(n);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, n).unwrap();
        }
        let rules = InputRules::compile(&InputConfig {
            exclude: vec!["**/*.log".into()],
            ..InputConfig::default()
        })
        .unwrap();
        let w = walk(d.path(), &rules, WalkOptions::default()).unwrap();
        let walked: Vec<&str> = w.files.iter().map(|f| f.source.as_str()).collect();
        let listing: Vec<(String, u64)> = names.iter().rev().map(|n| (n.to_string(), 1)).collect();
        let (kept, excluded) = select_listing(listing, &rules);
        let selected: Vec<&str> = kept.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(selected, walked);
        assert_eq!(excluded, w.excluded);
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
        let w = walk(d, &rules, WalkOptions::default()).unwrap();
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
        let w = walk(
            d,
            &all(),
            WalkOptions {
                skip: Some(Path::new("out")),
                ..WalkOptions::default()
            },
        )
        .unwrap();
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
        let w = walk(d, &all(), WalkOptions::default()).unwrap();
        let names: Vec<&str> = w.files.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(names, ["dangling", "x/page.txt"]);
        assert_eq!(
            w.files[0].walk_error.as_ref().unwrap().reason,
            RejectReason::IoError
        );
        assert_eq!(w.skipped.len(), 1);
        assert_eq!(w.skipped[0].path, "x/loop/");
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
        let w = walk(dir.path(), &all(), WalkOptions::default()).unwrap();
        assert_eq!(w.files.len(), 1);
        let e = w.files[0].walk_error.as_ref().unwrap();
        assert_eq!(e.reason, RejectReason::NotRegular);
        assert!(e.detail.contains("FIFO"), "{}", e.detail);
    }

    #[cfg(unix)]
    #[test]
    fn non_utf8_name_is_escaped() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::from_bytes(b"bad\xffname.txt");
        std::fs::write(dir.path().join(name), "t").unwrap();
        let w = walk(dir.path(), &all(), WalkOptions::default()).unwrap();
        assert_eq!(w.files[0].source, "bad\\xFFname.txt");
    }

    #[test]
    fn a_backslash_and_an_escaped_byte_get_different_sources() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a\\xFF.txt"), "t").unwrap();
        let w = walk(dir.path(), &all(), WalkOptions::default()).unwrap();
        assert_eq!(w.files[0].source, "a\\\\xFF.txt");
    }

    /// In `d`: `in/page.txt`, `in/inside.txt` → `page.txt`, `in/outside.txt` →
    /// `secret.txt` beside `in`, and `in/day2` → the folder `day2` beside it.
    #[cfg(unix)]
    fn tree_with_symlinks(d: &Path) -> PathBuf {
        let input = d.join("in");
        std::fs::create_dir_all(&input).unwrap();
        std::fs::create_dir_all(d.join("day2")).unwrap();
        std::fs::write(input.join("page.txt"), "t").unwrap();
        std::fs::write(d.join("secret.txt"), "s").unwrap();
        std::fs::write(d.join("day2/p.txt"), "t").unwrap();
        std::os::unix::fs::symlink(input.join("page.txt"), input.join("inside.txt")).unwrap();
        std::os::unix::fs::symlink(d.join("secret.txt"), input.join("outside.txt")).unwrap();
        std::os::unix::fs::symlink(d.join("day2"), input.join("day2")).unwrap();
        input
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_input_are_rejects_and_symlinked_folders_named_skips() {
        let dir = tempfile::tempdir().unwrap();
        let input = tree_with_symlinks(dir.path());
        let w = walk(&input, &all(), WalkOptions::default()).unwrap();
        let got: Vec<(&str, Option<RejectReason>)> = w
            .files
            .iter()
            .map(|f| (f.source.as_str(), f.walk_error.as_ref().map(|e| e.reason)))
            .collect();
        assert_eq!(
            got,
            [
                ("inside.txt", None),
                ("outside.txt", Some(RejectReason::OutsideInput)),
                ("page.txt", None),
            ]
        );
        assert_eq!(w.skipped.len(), 1);
        assert_eq!(w.skipped[0].path, "day2/");
        assert!(w.skipped[0].why.contains("--follow-symlinks"));
    }

    #[cfg(unix)]
    #[test]
    fn follow_symlinks_reads_them_all() {
        let dir = tempfile::tempdir().unwrap();
        let input = tree_with_symlinks(dir.path());
        let opts = WalkOptions {
            follow_symlinks: true,
            ..WalkOptions::default()
        };
        let w = walk(&input, &all(), opts).unwrap();
        let names: Vec<&str> = w.files.iter().map(|f| f.source.as_str()).collect();
        assert_eq!(
            names,
            ["day2/p.txt", "inside.txt", "outside.txt", "page.txt"]
        );
        assert!(w.files.iter().all(|f| f.walk_error.is_none()));
        assert!(w.skipped.is_empty());
    }
}
