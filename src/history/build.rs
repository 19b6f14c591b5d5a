//! Making an index: from a run (its kept records, at the offsets the writer put them) and
//! from earlier output folders (`pagesieve index`, under the current settings).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::dedup::fingerprint;
use crate::error::Error;
use crate::history::format::{self, Header, IndexRows, RunRef};
use crate::history::{relative, settings, Entries, History, Loc};
use crate::rules::Rules;
use crate::run::summarize::title_key;

/// One kept record of tonight's run, as the index stores it.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    /// Its fingerprint.
    pub fp: &'a crate::dedup::Fingerprint,
    /// Its title key.
    pub title_key: u64,
    /// Replacement characters from decoding.
    pub replacements: u32,
    /// Its id.
    pub id: &'a str,
    /// Its source.
    pub source: &'a str,
    /// Offset and length of its line.
    pub offset: u64,
    /// Length of its line, newline included.
    pub len: u32,
}

/// Tonight's kept records of one kind, borrowed from the run, pointing into run number
/// `run` of the index.
#[derive(Debug, Default)]
pub struct NewEntries<'a> {
    /// Tonight's run number in the index.
    pub run: u32,
    /// The records, in file order.
    pub rows: Vec<NewEntry<'a>>,
}

impl IndexRows for NewEntries<'_> {
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn fp(&self, i: usize) -> &crate::dedup::Fingerprint {
        self.rows[i].fp
    }
    fn loc(&self, i: usize) -> Loc {
        let r = &self.rows[i];
        Loc {
            run: self.run,
            offset: r.offset,
            len: r.len,
        }
    }
    fn title_key(&self, i: usize) -> u64 {
        self.rows[i].title_key
    }
    fn replacements(&self, i: usize) -> u32 {
        self.rows[i].replacements
    }
    fn id(&self, i: usize) -> &str {
        self.rows[i].id
    }
    fn source(&self, i: usize) -> &str {
        self.rows[i].source
    }
}

/// What a new index covers besides the history: the run just written.
#[derive(Debug)]
pub struct ThisRun<'a> {
    /// Its output folder (final location, absolute).
    pub dir: PathBuf,
    /// When it started.
    pub started: String,
    /// Final length of its `articles.jsonl`.
    pub articles_bytes: u64,
    /// Final length of its `snippets.jsonl`.
    pub snippets_bytes: u64,
    /// Its kept articles.
    pub articles: NewEntries<'a>,
    /// Its kept snippets.
    pub snippets: NewEntries<'a>,
}

/// Writes the index covering `history` and `run` to `path` (inside `final_dir`, the folder
/// it will be read from: run paths are stored relative to it). The caller makes the write
/// atomic (a staged file, or a temporary name renamed into place).
pub fn write_index(
    path: &Path,
    final_dir: &Path,
    history: &History,
    run: &ThisRun<'_>,
    rules: &Rules,
) -> std::io::Result<()> {
    let mut runs: Vec<RunRef> = history
        .runs
        .iter()
        .map(|r| RunRef {
            path: relative(final_dir, &r.dir).display().to_string(),
            started: r.started.clone(),
            articles_bytes: r.articles.metadata().map(|m| m.len()).unwrap_or(0),
            snippets_bytes: r.snippets.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .collect();
    runs.push(RunRef {
        path: relative(final_dir, &run.dir).display().to_string(),
        started: run.started.clone(),
        articles_bytes: run.articles_bytes,
        snippets_bytes: run.snippets_bytes,
    });
    let header = header(
        rules,
        runs,
        history.articles.len() + run.articles.len(),
        history.snippets.len() + run.snippets.len(),
    );
    format::write(
        path,
        &header,
        &[&history.articles, &run.articles],
        &[&history.snippets, &run.snippets],
    )
}

fn header(rules: &Rules, runs: Vec<RunRef>, articles: usize, snippets: usize) -> Header {
    let s = settings::of(&rules.config.dedup);
    Header {
        format: format::FORMAT,
        tool: format!("pagesieve {}", env!("CARGO_PKG_VERSION")),
        created: crate::timings::utc(std::time::SystemTime::now()),
        settings_hash: format!("{:016x}", settings::hash(&s)),
        settings: s,
        fingerprints: rules.dedup.fingerprints,
        runs,
        articles: articles as u64,
        snippets: snippets as u64,
    }
}

/// Writes an index to `dir/dedup.idx` through a temporary file renamed into place, so a
/// crash leaves the previous index whole.
pub fn write_atomically(
    dir: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<PathBuf> {
    stage(dir, write)?.commit()
}

/// An index written under a temporary name in its folder, not yet in place.
#[derive(Debug)]
#[must_use = "a staged index is removed unless committed"]
pub struct StagedIndex {
    tmp: PathBuf,
    target: PathBuf,
}

/// Writes an index into a temporary file in `dir`, to be renamed into place by
/// [`StagedIndex::commit`] (dropping it removes the file).
pub fn stage(
    dir: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<StagedIndex> {
    std::fs::create_dir_all(dir)?;
    let staged = StagedIndex {
        tmp: dir.join(format!(".{}.tmp-{}", format::FILE_NAME, std::process::id())),
        target: dir.join(format::FILE_NAME),
    };
    write(&staged.tmp)?;
    Ok(staged)
}

impl StagedIndex {
    /// Renames the index into place; returns its path.
    pub fn commit(self) -> std::io::Result<PathBuf> {
        std::fs::rename(&self.tmp, &self.target)?;
        if let Some(dir) = self.target.parent() {
            if let Ok(d) = std::fs::File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(self.target.clone())
    }
}

impl Drop for StagedIndex {
    fn drop(&mut self) {
        // After a commit the temporary name is gone and this does nothing.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

#[derive(Deserialize)]
struct Line {
    id: String,
    text: String,
    source: String,
    metadata: Meta,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    title: String,
}

/// A record file read back: each line's entry fields and text.
struct Read {
    rows: Vec<(Line, u64, u32)>,
    bytes: u64,
}

fn read_records(path: &Path) -> Result<Read, Error> {
    let err = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let f = std::fs::File::open(path).map_err(err)?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut rows = Vec::new();
    let mut offset = 0u64;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        let line: Line = serde_json::from_slice(&buf).map_err(|e| {
            err(std::io::Error::other(format!(
                "line at byte {offset} is not a pagesieve record: {e}"
            )))
        })?;
        rows.push((line, offset, n as u32));
        offset += n as u64;
    }
    Ok(Read {
        rows,
        bytes: offset,
    })
}

fn entries_of(read: &Read, run: u32, rules: &Rules) -> Entries {
    let fps: Vec<crate::dedup::Fingerprint> = read
        .rows
        .par_iter()
        .map(|(l, _, _)| fingerprint(&l.text, &rules.dedup))
        .collect();
    let mut e = Entries::with_capacity(fps.len());
    for ((l, offset, len), fp) in read.rows.iter().zip(fps) {
        e.fps.push(fp);
        e.locs.push(Loc {
            run,
            offset: *offset,
            len: *len,
        });
        e.title_keys.push(title_key(&l.metadata.title, rules));
        e.replacements
            .push(l.text.matches('\u{FFFD}').count().min(u32::MAX as usize) as u32);
        e.ids.push(&l.id);
        e.sources.push(&l.source);
    }
    e
}

/// `pagesieve index`: rebuilds an index over the kept records of the output folders `dirs`
/// under the settings of `rules`, into the folder `out`. Returns the file written and the
/// article and snippet entries.
pub fn rebuild(
    dirs: &[PathBuf],
    out: &Path,
    rules: &Rules,
) -> Result<(PathBuf, usize, usize), Error> {
    if dirs.is_empty() {
        return Err(Error::Usage(
            "pagesieve index: name at least one output folder".into(),
        ));
    }
    std::fs::create_dir_all(out).map_err(Error::output(out))?;
    let out_abs = out.canonicalize().map_err(Error::output(out))?;
    let mut runs = Vec::new();
    let (mut articles, mut snippets) = (Vec::new(), Vec::new());
    for (i, dir) in dirs.iter().enumerate() {
        let abs = dir.canonicalize().map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        let a = read_records(&abs.join("articles.jsonl"))?;
        let s = read_records(&abs.join("snippets.jsonl"))?;
        let started = std::fs::read(abs.join("report.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["started"].as_str().map(str::to_string))
            .unwrap_or_default();
        runs.push(RunRef {
            path: relative(&out_abs, &abs).display().to_string(),
            started,
            articles_bytes: a.bytes,
            snippets_bytes: s.bytes,
        });
        articles.push(entries_of(&a, i as u32, rules));
        snippets.push(entries_of(&s, i as u32, rules));
    }
    let na: usize = articles.iter().map(Entries::len).sum();
    let ns: usize = snippets.iter().map(Entries::len).sum();
    let header = header(rules, runs, na, ns);
    let a: Vec<&dyn IndexRows> = articles.iter().map(|e| e as &dyn IndexRows).collect();
    let s: Vec<&dyn IndexRows> = snippets.iter().map(|e| e as &dyn IndexRows).collect();
    let path =
        write_atomically(out, |p| format::write(p, &header, &a, &s)).map_err(Error::output(out))?;
    Ok((path, na, ns))
}
