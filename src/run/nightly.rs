//! A run's side of the nightly job: the index folders it reads (`--against`) and writes
//! (`--index`, or `index/` in the output), checked against its output folder; tonight's kept
//! records handed to [`crate::history::night`] as index entries; the report's `index`.

use std::path::{Path, PathBuf};

use crate::dedup::minhash::Signature;
use crate::error::Error;
use crate::history::manifest;
use crate::history::night::{self, ThisRun};
use crate::history::rows::{EntryRow, IndexRows};
use crate::history::History;
use crate::history::Loc;
use crate::lock::Lock;
use crate::output::report::IndexReport;
use crate::output::Staging;
use crate::record::RecordKind;
use crate::run::commit::{self, IndexCommit};
use crate::run::decide::Decisions;
use crate::run::summarize::{self, Scanned};
use crate::run::write::Written;
use crate::run::Settings;

/// The `--index` folder, locked for the run, with what it held when the run started.
#[derive(Debug)]
pub struct IndexDir {
    /// The folder (absolute).
    pub dir: PathBuf,
    /// The generation of its manifest, 0 for a new index.
    pub generation: u64,
    created: bool,
    _lock: Lock,
}

impl IndexDir {
    /// Lets the folder go; removes it if this run created it (and nothing else did).
    pub fn forget(self) {
        if self.created {
            let (dir, lock) = (self.dir, self._lock);
            drop(lock);
            let _ = std::fs::remove_file(dir.join(manifest::LOCK));
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// Creates and locks `--index DIR`, and finishes or drops a commit a dead run left there
/// (before anything reads it).
pub fn open_index_dir(s: &Settings) -> Result<Option<IndexDir>, Error> {
    let Some(dir) = &s.index else {
        return Ok(None);
    };
    if commit::inside(dir, &s.output) {
        return Err(Error::Usage(format!(
            "--index {} is inside --output {}: the output holds its own index/ (leave \
             --index out for that)",
            dir.display(),
            s.output.display()
        )));
    }
    let err = index_error(dir);
    let created = !dir.exists();
    std::fs::create_dir_all(dir).map_err(&err)?;
    let abs = dir.canonicalize().map_err(&err)?;
    let lock = manifest::lock_index(&abs, s.wait)?;
    manifest::recover(&abs).map_err(&err)?;
    let generation = manifest::read(&abs.join(manifest::FILE)).map_or(0, |m| m.generation);
    Ok(Some(IndexDir {
        dir: abs,
        generation,
        created,
        _lock: lock,
    }))
}

fn index_error(dir: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Output {
        path: dir.to_path_buf(),
        what: Some("the dedup index (--index)"),
        source,
    }
}

/// The indexes of `--against`, checked against this run's output folder (a format-1
/// index is converted into `scratch`).
pub fn load_history(s: &Settings, scratch: &Path) -> Result<History, Error> {
    if s.against.is_empty() {
        return Ok(History::empty());
    }
    let out = s.output.canonicalize().ok();
    for dir in &s.against {
        if out.is_some() && dir.canonicalize().ok() == out {
            return Err(Error::Usage(format!(
                "--against {} is the output folder: tonight's run would replace the records \
                 its index points into; give each run its own --output",
                dir.display()
            )));
        }
    }
    let history = History::load(&s.against, &s.rules, scratch)?;
    if let Some(out) = out {
        if let Some(r) = history.runs.iter().find(|r| r.dir == out) {
            return Err(Error::Usage(format!(
                "--output {} holds records of an earlier run the index refers to ({}): \
                 writing there would break the index; give each run its own --output",
                s.output.display(),
                r.started
            )));
        }
    }
    Ok(history)
}

/// Tonight's kept articles as index entries, read in place (a copy of their rows cost
/// ~60 MB at a million pages): `lines` are (page, offset, length) in `articles.jsonl`.
pub struct KeptArticles<'a> {
    scanned: &'a Scanned,
    d: &'a Decisions,
    lines: &'a [(u32, u64, u32)],
}

impl KeptArticles<'_> {
    fn page(&self, i: usize) -> u32 {
        self.lines[i].0
    }
}

impl IndexRows for KeptArticles<'_> {
    fn len(&self) -> usize {
        self.lines.len()
    }
    fn row(&self, i: usize) -> EntryRow {
        let (_, offset, len) = self.lines[i];
        let loc = Loc {
            run: 0,
            offset,
            len,
        };
        match self.scanned.pages.get(self.page(i) as usize).kind {
            summarize::SummaryKind::Article {
                fp,
                title_key,
                replacements,
                ..
            } => EntryRow::of(&fp, title_key, replacements, loc),
            // Only articles are written to articles.jsonl.
            summarize::SummaryKind::Reject { .. } => EntryRow::default(),
        }
    }
    fn signature(&self, i: usize) -> &Signature {
        self.scanned.signatures.get(self.lines[i].0)
    }
    fn id(&self, i: usize) -> std::borrow::Cow<'_, str> {
        self.d.ids.page(self.page(i))
    }
    fn source(&self, i: usize) -> &str {
        self.scanned.source(self.page(i))
    }
    fn pages_done(&self) {
        self.scanned.sources.release();
        self.scanned.pages.release();
        self.d.ids.pages.release();
    }
}

/// Tonight's written snippets as index entries, read in place.
pub struct KeptSnippets<'a> {
    scanned: &'a Scanned,
    d: &'a Decisions,
    lines: &'a [(u32, u64, u32)],
    rules: &'a crate::rules::Rules,
}

impl IndexRows for KeptSnippets<'_> {
    fn len(&self) -> usize {
        self.lines.len()
    }
    fn row(&self, i: usize) -> EntryRow {
        let (si, offset, len) = self.lines[i];
        let sn = &self.scanned.snippets[si as usize];
        let loc = Loc {
            run: 0,
            offset,
            len,
        };
        EntryRow::of(
            &self.d.snippets.fps[si as usize].fp,
            summarize::title_key(&sn.occ.block.title, self.rules),
            sn.occ.block.text.matches('\u{FFFD}').count() as u32,
            loc,
        )
    }
    fn signature(&self, i: usize) -> &Signature {
        &self.d.snippets.fps[self.lines[i].0 as usize].signature
    }
    fn id(&self, i: usize) -> std::borrow::Cow<'_, str> {
        self.d.ids.snippet(self.lines[i].0).into()
    }
    fn source(&self, i: usize) -> &str {
        let sn = &self.scanned.snippets[self.lines[i].0 as usize];
        self.scanned.source(sn.first.0)
    }
    fn pages_done(&self) {
        self.scanned.sources.release();
        self.d.ids.pages.release();
    }
}

/// Tonight's kept records, as the index reads them.
pub struct Kept<'a> {
    /// The articles.
    pub articles: KeptArticles<'a>,
    /// The snippets.
    pub snippets: KeptSnippets<'a>,
}

/// Tonight's kept records as index entries, borrowed from the run.
pub fn kept<'a>(
    s: &'a Settings,
    scanned: &'a Scanned,
    d: &'a Decisions,
    w: &'a Written,
) -> Kept<'a> {
    Kept {
        articles: KeptArticles {
            scanned,
            d,
            lines: &w.article_lines,
        },
        snippets: KeptSnippets {
            scanned,
            d,
            lines: &w.snippet_lines,
            rules: &s.rules,
        },
    }
}

/// The run just written, for the index.
pub fn this_run<'a>(
    s: &Settings,
    kept: &'a Kept<'a>,
    w: &Written,
    started: String,
    generation: &str,
) -> Result<ThisRun<'a>, Error> {
    Ok(ThisRun {
        dir: s.output.canonicalize().map_err(Error::output(&s.output))?,
        started,
        generation: generation.to_string(),
        articles_bytes: w.articles_bytes,
        snippets_bytes: w.snippets_bytes,
        articles: &kept.articles,
        snippets: &kept.snippets,
    })
}

/// `report.json` → `index`.
pub fn index_report(history: &History, this: &ThisRun<'_>, written: Option<String>) -> IndexReport {
    let (a, sn) = (
        history.len(RecordKind::Article),
        history.len(RecordKind::Snippet),
    );
    IndexReport {
        written,
        against: history
            .indexes
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        earlier_runs: history
            .runs
            .iter()
            .map(|r| r.dir.display().to_string())
            .collect(),
        earlier_articles: a,
        earlier_snippets: sn,
        articles: a + this.articles.len(),
        snippets: sn + this.snippets.len(),
    }
}

/// The index covering the history and tonight: in the output's generation (its manifest
/// staged with the output), or in `--index DIR` (its manifest published with the output by
/// [`commit::publish`]). Returns the manifest's final path and, for `--index`, the commit.
pub fn write_index(
    s: &Settings,
    history: &History,
    this: &ThisRun<'_>,
    staging: &mut Staging,
    index: Option<&IndexDir>,
) -> Result<(PathBuf, Option<IndexCommit>), Error> {
    let next_generation = history.generation() + 1;
    match index {
        None => {
            let err = Error::output(&s.output);
            let dir = staging.path_for("index/manifest.json").map_err(&err)?;
            let dir = dir.parent().expect("a file in index/").to_path_buf();
            let final_dir = this
                .dir
                .join(crate::generation::META)
                .join(&this.generation)
                .join("index");
            let next =
                night::next_index(history, this, &dir, &final_dir, &s.rules, next_generation)
                    .map_err(&err)?;
            manifest::publish(&dir, &next.manifest).map_err(&err)?;
            Ok((s.output.join("index").join(manifest::FILE), None))
        }
        Some(ix) => {
            let generation = next_generation.max(ix.generation + 1);
            let next = night::next_index(history, this, &ix.dir, &ix.dir, &s.rules, generation)
                .map_err(index_error(&ix.dir))?;
            let commit = IndexCommit {
                dir: ix.dir.clone(),
                manifest: next.manifest,
                new_files: next.new_files,
            };
            Ok((ix.dir.join(manifest::FILE), Some(commit)))
        }
    }
}
