//! What earlier runs kept: the persistent dedup index (`index/dedup.idx`), loaded for
//! `run --against`, extended with tonight's kept records, and rebuilt from earlier outputs
//! by `pagesieve index`.
//!
//! An index holds, for every kept article and snippet of the runs it covers, the id,
//! source, title key, exact hash, fingerprints and MinHash signature, and where its record
//! is (run folder, file, byte offset), so verification reads only the texts of candidate
//! pairs, straight from the earlier `articles.jsonl` / `snippets.jsonl`. Earlier records
//! are *pinned* in the duplicate search ([`crate::dedup::Item::pinned`]): never dropped,
//! preferred over tonight's, never compared with each other. The format is in
//! [`format`], the settings check in [`settings`]; docs/INDEX.md describes both for a
//! reader without the code.

pub mod build;
pub mod format;
pub mod settings;

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::dedup::Fingerprint;
use crate::error::Error;
use crate::record::RecordKind;
use crate::rules::Rules;
pub use format::{Header, RunRef};

/// Where one indexed record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Loc {
    /// Index into the runs.
    pub run: u32,
    /// Byte offset of its line in the run's `articles.jsonl` or `snippets.jsonl`.
    pub offset: u64,
    /// Length of the line, newline included.
    pub len: u32,
}

/// Many strings in one buffer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Strings {
    blob: String,
    ends: Vec<usize>,
}

impl Strings {
    /// Appends one.
    pub fn push(&mut self, s: &str) {
        self.blob.push_str(s);
        self.ends.push(self.blob.len());
    }

    /// String `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.blob[start..self.ends[i]]
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Indexed records of one kind, as parallel columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entries {
    /// Fingerprints (exact hash, simhashes, signature, length).
    pub fps: Vec<Fingerprint>,
    /// Where each record is.
    pub locs: Vec<Loc>,
    /// xxh3-64 of the normalized title (snippet → article links).
    pub title_keys: Vec<u64>,
    /// Replacement characters from decoding (a rebuilt index counts U+FFFD in the text).
    pub replacements: Vec<u32>,
    /// Record ids.
    pub ids: Strings,
    /// Record sources.
    pub sources: Strings,
}

impl Entries {
    /// Room for `n` entries.
    pub fn with_capacity(n: usize) -> Entries {
        Entries {
            fps: Vec::with_capacity(n),
            locs: Vec::with_capacity(n),
            title_keys: Vec::with_capacity(n),
            replacements: Vec::with_capacity(n),
            ..Entries::default()
        }
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.fps.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.fps.is_empty()
    }

    fn push_from(&mut self, o: &Entries, i: usize) {
        self.fps.push(o.fps[i].clone());
        self.locs.push(o.locs[i]);
        self.title_keys.push(o.title_keys[i]);
        self.replacements.push(o.replacements[i]);
        self.ids.push(o.ids.get(i));
        self.sources.push(o.sources.get(i));
    }
}

/// An earlier output folder, resolved, with its record files open.
#[derive(Debug)]
pub struct EarlierRun {
    /// The folder.
    pub dir: PathBuf,
    /// When that run started.
    pub started: String,
    articles: File,
    snippets: File,
}

/// Everything the earlier runs kept, from one or more indexes.
#[derive(Debug, Default)]
pub struct History {
    /// The index files read.
    pub indexes: Vec<PathBuf>,
    /// The output folders the entries point into.
    pub runs: Vec<EarlierRun>,
    /// Kept articles.
    pub articles: Entries,
    /// Kept snippets.
    pub snippets: Entries,
}

/// An earlier record, read back.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierRecord {
    /// Its title.
    pub title: String,
    /// Its text.
    pub text: String,
}

#[derive(Deserialize)]
struct Line {
    id: String,
    text: String,
    metadata: LineMeta,
}

#[derive(Deserialize)]
struct LineMeta {
    #[serde(default)]
    title: String,
}

impl History {
    /// No earlier runs.
    pub fn empty() -> History {
        History::default()
    }

    /// Loads the indexes of `dirs` (each an output folder holding `index/`, or an index
    /// folder), checking that each was made under the settings of `rules`. Errors are
    /// usage errors (exit 2): nothing has been written yet.
    pub fn load(dirs: &[PathBuf], rules: &Rules) -> Result<History, Error> {
        let now = settings::of(&rules.config.dedup);
        let mut h = History::default();
        let mut run_of: HashMap<PathBuf, u32> = HashMap::new();
        for dir in dirs {
            let path = index_file(dir)?;
            let bad = |m: String| Error::Usage(format!("index {}: {m}", path.display()));
            let (header, articles, snippets) = format::read(&path).map_err(bad)?;
            if header.settings != now {
                let diff = settings::differences(&header.settings, &now);
                return Err(bad(format!(
                    "made with other dedup settings than this run's, so its matches would \
                     be wrong:\n  {}\nrun with the settings it was made with, or rebuild it \
                     under these with `pagesieve index`",
                    diff.join("\n  ")
                )));
            }
            let folder = path.parent().expect("an index file has a folder");
            // Each run of this index → the merged history's run number.
            let mut map = Vec::with_capacity(header.runs.len());
            for r in &header.runs {
                let run = EarlierRun::open(folder, r).map_err(bad)?;
                let n = run_of.len() as u32;
                let k = *run_of.entry(run.dir.clone()).or_insert_with(|| {
                    h.runs.push(run);
                    n
                });
                map.push(k);
            }
            h.absorb(articles, snippets, &map);
            h.indexes.push(path);
        }
        Ok(h)
    }

    /// Adds the entries of one more index, whose run `r` is run `map[r]` here. The first
    /// index's entries are moved in; a record already here (the same run and offset: a
    /// night's index and the next night's both hold it) is counted once.
    fn absorb(&mut self, mut articles: Entries, mut snippets: Entries, map: &[u32]) {
        for e in [&mut articles, &mut snippets] {
            for loc in &mut e.locs {
                loc.run = map[loc.run as usize];
            }
        }
        if self.articles.is_empty() && self.snippets.is_empty() {
            self.articles = articles;
            self.snippets = snippets;
            return;
        }
        for (from, into) in [
            (&articles, &mut self.articles),
            (&snippets, &mut self.snippets),
        ] {
            let have: HashSet<(u32, u64)> = into.locs.iter().map(|l| (l.run, l.offset)).collect();
            for i in 0..from.len() {
                if !have.contains(&(from.locs[i].run, from.locs[i].offset)) {
                    into.push_from(from, i);
                }
            }
        }
    }

    /// The entries of one kind.
    pub fn entries(&self, kind: RecordKind) -> &Entries {
        match kind {
            RecordKind::Article => &self.articles,
            RecordKind::Snippet => &self.snippets,
        }
    }

    /// The run folder of entry `i`.
    pub fn run_of(&self, kind: RecordKind, i: u32) -> &EarlierRun {
        &self.runs[self.entries(kind).locs[i as usize].run as usize]
    }

    /// Asks for entry `i`'s record ahead of its [`History::record`]
    /// ([`crate::fadvise::will_need`]).
    pub fn will_need(&self, kind: RecordKind, i: u32) {
        let Some(&loc) = self.entries(kind).locs.get(i as usize) else {
            return;
        };
        let run = &self.runs[loc.run as usize];
        let file = match kind {
            RecordKind::Article => &run.articles,
            RecordKind::Snippet => &run.snippets,
        };
        crate::fadvise::will_need(file, loc.offset, u64::from(loc.len));
    }

    /// Reads entry `i`'s record back from its run's file, checking it is the record the
    /// index says.
    pub fn record(&self, kind: RecordKind, i: u32) -> Result<EarlierRecord, Error> {
        let e = self.entries(kind);
        let loc = e.locs[i as usize];
        let run = &self.runs[loc.run as usize];
        let (file, name) = match kind {
            RecordKind::Article => (&run.articles, "articles.jsonl"),
            RecordKind::Snippet => (&run.snippets, "snippets.jsonl"),
        };
        let path = run.dir.join(name);
        let mut buf = vec![0u8; loc.len as usize];
        file.read_exact_at(&mut buf, loc.offset)
            .map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
        let id = e.ids.get(i as usize);
        let line: Line = serde_json::from_slice(&buf).map_err(|err| Error::Read {
            path: path.clone(),
            source: std::io::Error::other(format!(
                "the record of {id} at byte {} does not parse ({err}): the file changed \
                 since the index was written; rebuild the index with `pagesieve index`",
                loc.offset
            )),
        })?;
        if line.id != id {
            return Err(Error::Read {
                path,
                source: std::io::Error::other(format!(
                    "byte {} holds {}, the index says {id}: the file changed since the index \
                     was written; rebuild the index with `pagesieve index`",
                    loc.offset, line.id
                )),
            });
        }
        Ok(EarlierRecord {
            title: line.metadata.title,
            text: line.text,
        })
    }
}

impl EarlierRun {
    /// Resolves a run folder of an index in `index_dir` and opens its record files,
    /// checking they are at least as long as when the index was written.
    fn open(index_dir: &Path, r: &RunRef) -> Result<EarlierRun, String> {
        let dir = index_dir.join(&r.path);
        let dir = dir
            .canonicalize()
            .map_err(|e| format!("its run folder {} is not readable: {e}", dir.display()))?;
        let open = |name: &str, len: u64| -> Result<File, String> {
            let p = dir.join(name);
            let f = File::open(&p).map_err(|e| format!("cannot open {}: {e}", p.display()))?;
            let have = f.metadata().map_err(|e| e.to_string())?.len();
            if have != len {
                return Err(format!(
                    "{} is {have} bytes, the index expects {len}: the output changed since \
                     the index was written (rebuild it with `pagesieve index`)",
                    p.display()
                ));
            }
            Ok(f)
        };
        Ok(EarlierRun {
            articles: open("articles.jsonl", r.articles_bytes)?,
            snippets: open("snippets.jsonl", r.snippets_bytes)?,
            dir,
            started: r.started.clone(),
        })
    }
}

/// The index file of `dir`: `dir/dedup.idx` (an index folder) or `dir/index/dedup.idx`
/// (an output folder).
pub fn index_file(dir: &Path) -> Result<PathBuf, Error> {
    let direct = dir.join(format::FILE_NAME);
    let nested = dir.join("index").join(format::FILE_NAME);
    if direct.is_file() {
        Ok(direct)
    } else if nested.is_file() {
        Ok(nested)
    } else {
        Err(Error::Usage(format!(
            "--against {}: no index there (an output folder holds index/{}; build one for \
             older outputs with `pagesieve index`)",
            dir.display(),
            format::FILE_NAME
        )))
    }
}

/// `to` relative to the folder `from` (both absolute), or `to` itself when they share no
/// root.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<_> = from.components().collect();
    let t: Vec<_> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.to_path_buf();
    }
    let mut p = PathBuf::new();
    for _ in common..f.len() {
        p.push("..");
    }
    for c in &t[common..] {
        p.push(c);
    }
    if p.as_os_str().is_empty() {
        p.push(".");
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| relative(Path::new(a), Path::new(b));
        assert_eq!(r("/w/out/index", "/w/out"), PathBuf::from(".."));
        assert_eq!(r("/w/idx", "/w/nights/n1"), PathBuf::from("../nights/n1"));
        assert_eq!(r("/w/a", "/w/a"), PathBuf::from("."));
    }

    #[test]
    fn strings_round_trip() {
        let mut s = Strings::default();
        for x in ["a-1", "", "文件/页面.html"] {
            s.push(x);
        }
        assert_eq!(
            (s.get(0), s.get(1), s.get(2), s.len()),
            ("a-1", "", "文件/页面.html", 3)
        );
    }
}
