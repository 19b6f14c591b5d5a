//! The run: phase 1 scans every file in parallel and keeps only a small summary of each page
//! (its record goes to the spill file), merging identical related blocks as it goes; phase 2
//! decides duplicates and links from the summaries, then streams the records back from the
//! spill into the output files. See docs/ARCHITECTURE.md.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::boilerplate;
use crate::config::Compiled;
use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::shingle::{normalize_with, shingle_set};
use crate::dedup::{deduplicate, fingerprint, DedupStats, Drop, Fingerprint, Item, MatchKind};
use crate::ingest::{walk, InputFile};
use crate::output::report::{ArticleCounts, FileCounts, Report, SnippetCounts};
use crate::output::{html, Staging};
use crate::record::{
    hex64, page_id, snippet_id, ArticleRecord, ClusterMember, ClusterRecord, DroppedRecord, Reject,
    RejectReason, RejectRecord, SnippetMeta, SnippetRecord,
};
use crate::scan::{scan_file_sampled, LineSample, Outcome, PageResult, SnippetOccurrence};
use crate::spill::{Spill, SpillRef};

/// How one run is carried out (the CLI's flags).
#[derive(Debug)]
pub struct Settings {
    /// Folder read recursively.
    pub input: PathBuf,
    /// Folder the output files are written to.
    pub output: PathBuf,
    /// The validated configuration.
    pub config: Compiled,
    /// Worker threads (None: one per core).
    pub threads: Option<usize>,
    /// Show progress bars (on stderr).
    pub progress: bool,
}

/// Why a run stopped.
#[derive(Debug)]
pub enum RunError {
    /// The command line or configuration is wrong (exit 2); nothing was written.
    Usage(String),
    /// Reading the input folder or writing the output failed (exit 1).
    Io(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Usage(s) | RunError::Io(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for RunError {}

/// What a finished run reports.
#[derive(Debug)]
pub struct Summary {
    /// The report written to `report.json`.
    pub report: Report,
    /// Folders that could not be listed.
    pub walk_problems: Vec<String>,
}

impl Summary {
    /// The one-paragraph summary printed at the end of a run.
    pub fn paragraph(&self) -> String {
        let r = &self.report;
        let mut rejects: Vec<String> = r
            .rejects
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if rejects.is_empty() {
            rejects.push("none".into());
        }
        format!(
            "pagesieve: read {} files in {} ms: kept {} articles, dropped {} exact and {} near \
             duplicates, rejected {} ({}); {} related snippets became {} unique records \
             ({} dropped as duplicates, {} linked to a full article).",
            r.files.seen,
            r.timings_ms.get("total").copied().unwrap_or(0),
            r.articles.kept,
            r.articles.dropped_exact,
            r.articles.dropped_near,
            r.files.rejected,
            rejects.join(", "),
            r.snippets.occurrences,
            r.snippets.unique,
            r.snippets.dropped_exact + r.snippets.dropped_near,
            r.snippets.linked,
        )
    }
}

/// What phase 2 keeps of one page: a few dozen bytes, whatever the page's size.
struct Page {
    source: String,
    kind: PageKind,
    encoding: Option<&'static str>,
    /// Boilerplate kinds stripped, one bit per entry of [`STRIP_KINDS`] (a page summary is
    /// kept for every input file: at a million files every byte here is a megabyte).
    stripped: u8,
    compression: Option<&'static str>,
    lines: Vec<LineSample>,
}

/// The kinds of stripped boilerplate a page summary records: the profile's rules, then
/// learned boilerplate.
const STRIP_KINDS: [&str; 6] = {
    let r = crate::page::segment::STRIP_RULES;
    [r[0], r[1], r[2], r[3], r[4], "learned_boilerplate"]
};

fn strip_bit(kind: &str) -> u8 {
    STRIP_KINDS
        .iter()
        .position(|k| *k == kind)
        .map_or(0, |i| 1 << i)
}

enum PageKind {
    /// The record is in the spill file.
    Article {
        spill: SpillRef,
        fp: Fingerprint,
        /// xxh3 of the normalized title, for snippet → article links.
        title_key: u64,
    },
    Reject {
        reject: Reject,
        title: Option<String>,
        snippets: usize,
    },
}

/// An article record as spilled: the record, and the keys of its related blocks in page
/// order (their ids are only final after phase 2).
#[derive(Serialize, Deserialize)]
struct Spilled {
    record: ArticleRecord,
    related: Vec<(u64, u64)>,
}

fn key_parts(k: u128) -> (u64, u64) {
    ((k >> 64) as u64, k as u64)
}

fn key_of(p: (u64, u64)) -> u128 {
    (u128::from(p.0) << 64) | u128::from(p.1)
}

/// One distinct (title, text) related block, merged over all pages.
struct Snippet {
    key: u128,
    occ: SnippetOccurrence,
    /// (page, block) of its first occurrence in input order.
    first: (u32, u32),
    /// Fingerprint of the text, computed once per distinct block in phase 2.
    fp: Fingerprint,
    seen_in: Vec<u32>,
    occurrences: usize,
}

/// Identical related blocks, merged by key while phase 1 runs. Which worker sees a block
/// first does not matter: the block kept is the one from the smallest (page, block).
struct SnippetMerge {
    shards: Vec<Mutex<HashMap<u128, Snippet>>>,
}

impl SnippetMerge {
    fn new() -> Self {
        SnippetMerge {
            shards: (0..64).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn add(&self, page: u32, block: u32, occ: &SnippetOccurrence) {
        let shard = &self.shards[(occ.key % 64) as usize];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        let e = map.entry(occ.key).or_insert_with(|| Snippet {
            key: occ.key,
            occ: occ.clone(),
            first: (page, block),
            fp: EMPTY_FP,
            seen_in: Vec::new(),
            occurrences: 0,
        });
        if (page, block) < e.first {
            e.first = (page, block);
            e.occ = occ.clone();
        }
        e.seen_in.push(page);
        e.occurrences += 1;
    }

    /// The merged snippets in order of first occurrence, `seen_in` sorted and distinct.
    fn finish(self) -> Vec<Snippet> {
        let mut v: Vec<Snippet> = self
            .shards
            .into_iter()
            .flat_map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .into_values()
            })
            .collect();
        v.par_sort_unstable_by_key(|s| s.first);
        v.par_iter_mut().for_each(|s| {
            s.seen_in.sort_unstable();
            s.seen_in.dedup();
        });
        v
    }
}

const EMPTY_FP: Fingerprint = Fingerprint {
    simhash: [0; MAX_FINGERPRINTS],
    exact: 0,
    chars: 0,
    sketch: crate::dedup::sketch::Sketch([0; crate::dedup::sketch::SKETCH_BINS / 64]),
};

fn io_err(what: &str, e: std::io::Error) -> RunError {
    RunError::Io(format!("{what}: {e}"))
}

/// The spill file lives in the output folder's staging area: failing to write it is
/// failing to write the output.
fn spill_err(s: &Settings, e: std::io::Error) -> RunError {
    RunError::Io(format!(
        "cannot write output to {} (spill file between the phases): {e}",
        s.output.display()
    ))
}

/// Runs the whole pipeline: walk, scan in parallel, decide, write.
pub fn run(s: &Settings) -> Result<Summary, RunError> {
    let t_start = Instant::now();
    let mut timings: BTreeMap<String, u64> = BTreeMap::new();
    let c = &s.config;
    if !s.input.is_dir() {
        return Err(RunError::Usage(format!(
            "input folder {} does not exist or is not a folder (--input)",
            s.input.display()
        )));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(n) = s.threads {
        builder = builder.num_threads(n);
    }
    let pool = builder
        .build()
        .map_err(|e| RunError::Usage(format!("cannot start {:?} threads: {e}", s.threads)))?;

    let t = Instant::now();
    let walked = walk(&s.input, &c.include, &c.exclude).map_err(|e| {
        RunError::Io(format!(
            "cannot read input folder {}: {e}",
            s.input.display()
        ))
    })?;
    timings.insert("walk".into(), t.elapsed().as_millis() as u64);

    let io = |e: std::io::Error| {
        RunError::Io(format!(
            "cannot write output to {}: {e}",
            s.output.display()
        ))
    };
    let mut staging = Staging::new(&s.output).map_err(io)?;
    let spill = Spill::create(&staging.scratch_path("records.spill")).map_err(io)?;
    let result = (|| {
        // The file list is only needed by the scan: at a million files it is ~200 MB.
        let files = walked.files;
        let scanned = scan_all(s, &pool, &files, &spill)?;
        drop(files);
        timings.insert("scan".into(), t.elapsed().as_millis() as u64);
        finish_run(
            s,
            &pool,
            &mut staging,
            &spill,
            scanned,
            &mut timings,
            walked.excluded,
            t_start,
        )
    })();
    match result {
        Ok(report) => {
            drop(spill);
            staging.commit().map_err(io)?;
            Ok(Summary {
                report,
                walk_problems: walked.problems,
            })
        }
        Err(e) => {
            drop(spill);
            staging.abort();
            Err(e)
        }
    }
}

/// What phase 1 hands to phase 2.
struct Scanned {
    pages: Vec<Page>,
    snippets: Vec<Snippet>,
    /// CPU time spent reading, decoding, segmenting, summed over workers (µs).
    micros: [u64; 3],
}

/// Phase 1: every file scanned in parallel; records spilled, snippets merged.
fn scan_all(
    s: &Settings,
    pool: &rayon::ThreadPool,
    files: &[InputFile],
    spill: &Spill,
) -> Result<Scanned, RunError> {
    let c = &s.config;
    let bar = crate::progress::bar(files.len() as u64, "scan", s.progress);
    let rate = boilerplate::sample_rate(files.len(), &c.config.boilerplate);
    let merge = SnippetMerge::new();
    let micros = Mutex::new([0u64; 3]);
    // An indexed collect writes every summary straight into its slot of one vector (a
    // `Result` collect would gather lists of vectors and copy them: twice the memory).
    let spill_error: Mutex<Option<std::io::Error>> = Mutex::new(None);
    let pages: Vec<Page> = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .map(|(pi, f)| {
                let r = scan_file_sampled(f, c, boilerplate::is_sampled(&f.source, rate));
                for (bi, occ) in r.snippets.iter().enumerate() {
                    merge.add(pi as u32, bi as u32, occ);
                }
                {
                    let mut m = micros.lock().unwrap_or_else(|e| e.into_inner());
                    for (a, b) in m.iter_mut().zip(r.micros) {
                        *a += b;
                    }
                }
                bar.inc(1);
                let (page, failed) = summarize(r, c, spill);
                if let Some(e) = failed {
                    let mut slot = spill_error.lock().unwrap_or_else(|e| e.into_inner());
                    slot.get_or_insert(e);
                }
                page
            })
            .collect()
    });
    bar.finish_and_clear();
    if let Some(e) = spill_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(spill_err(s, e));
    }
    Ok(Scanned {
        pages,
        snippets: merge.finish(),
        micros: micros.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// Keeps what phase 2 needs of a page and spills its record.
/// On a spill write error, also returns the error (with a placeholder summary: the run
/// stops).
fn summarize(r: PageResult, c: &Compiled, spill: &Spill) -> (Page, Option<std::io::Error>) {
    let mut failed = None;
    let kind = match r.outcome {
        Outcome::Article(record, fp) => {
            let title_key = xxhash_rust::xxh3::xxh3_64(
                normalize_with(&record.metadata.title, &c.config.dedup.normalize).as_bytes(),
            );
            let spilled = Spilled {
                record: *record,
                related: r.snippets.iter().map(|s| key_parts(s.key)).collect(),
            };
            let put = serde_json::to_vec(&spilled)
                .map_err(std::io::Error::other)
                .and_then(|bytes| spill.put(&bytes));
            match put {
                Ok(r) => PageKind::Article {
                    spill: r,
                    fp,
                    title_key,
                },
                Err(e) => {
                    failed = Some(e);
                    PageKind::Reject {
                        reject: Reject::new(RejectReason::IoError, "the spill file failed"),
                        title: None,
                        snippets: 0,
                    }
                }
            }
        }
        Outcome::Reject(reject) => PageKind::Reject {
            reject,
            title: r.title,
            snippets: r.snippets.len(),
        },
    };
    let page = Page {
        source: r.source,
        kind,
        encoding: r.encoding,
        stripped: r.stripped.iter().fold(0, |acc, k| acc | strip_bit(k)),
        compression: r.compression,
        lines: r.lines,
    };
    (page, failed)
}

fn read_spilled(spill: &Spill, r: SpillRef) -> Result<Spilled, RunError> {
    let bytes = spill
        .get(r)
        .map_err(|e| io_err("cannot read the spill file", e))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| RunError::Io(format!("the spill file is corrupt: {e}")))
}

/// Learned boilerplate, then phase 2, then the output files.
#[allow(clippy::too_many_arguments)]
fn finish_run(
    s: &Settings,
    pool: &rayon::ThreadPool,
    staging: &mut Staging,
    spill: &Spill,
    scanned: Scanned,
    timings: &mut BTreeMap<String, u64>,
    excluded: usize,
    t_start: Instant,
) -> Result<Report, RunError> {
    let c = &s.config;
    let Scanned {
        mut pages,
        snippets,
        micros,
    } = scanned;
    spill.flush().map_err(|e| spill_err(s, e))?;

    // Learned boilerplate: counted on the sample, optionally stripped from every body.
    let sampled: Vec<&[LineSample]> = pages
        .iter()
        .filter(|p| !p.lines.is_empty())
        .map(|p| p.lines.as_slice())
        .collect();
    let (mut learned, in_body) = boilerplate::learn(&sampled, &c.config.boilerplate);
    drop(sampled);
    for p in &mut pages {
        p.lines = Vec::new();
    }
    if c.config.boilerplate.strip && !in_body.is_empty() {
        learned.stripped_pages = pool.install(|| strip_learned(s, &mut pages, &in_body, spill))?;
        spill.flush().map_err(|e| spill_err(s, e))?;
    }

    let t = Instant::now();
    let counts = page_counts(&pages);
    let d = pool.install(|| decide(&pages, snippets, c, spill))?;
    timings.insert("dedup".into(), t.elapsed().as_millis() as u64);

    let t_write = Instant::now();
    let mut report = build_report(counts, pages.len(), &d, c, excluded);
    report.learned_boilerplate = learned;
    pool.install(|| {
        write_all(
            s,
            staging,
            spill,
            &pages,
            &d,
            &mut report,
            timings,
            micros,
            t_write,
            t_start,
        )
    })?;
    Ok(report)
}

/// Removes learned boilerplate lines from every article (`boilerplate.strip`): the changed
/// records are spilled again and their fingerprints recomputed; an article left with no
/// body becomes a `no_answer` reject. Returns how many articles changed.
fn strip_learned(
    s: &Settings,
    pages: &mut [Page],
    learned: &HashSet<u64>,
    spill: &Spill,
) -> Result<usize, RunError> {
    let c = &s.config;
    let changed: Result<Vec<bool>, RunError> = pages
        .par_iter_mut()
        .map(|p| {
            let PageKind::Article { spill: r, fp, .. } = &mut p.kind else {
                return Ok(false);
            };
            let mut sp = read_spilled(spill, *r)?;
            let Some(text) = boilerplate::strip_lines(&sp.record.text, learned) else {
                return Ok(false);
            };
            p.stripped |= strip_bit("learned_boilerplate");
            if text.is_empty() {
                p.kind = PageKind::Reject {
                    reject: Reject::new(
                        RejectReason::NoAnswer,
                        "the body held only learned boilerplate lines (boilerplate.strip)",
                    ),
                    title: Some(sp.record.metadata.title),
                    snippets: sp.related.len(),
                };
                return Ok(true);
            }
            *fp = fingerprint(&text, &c.config.dedup);
            let m = &mut sp.record.metadata;
            m.headings
                .retain(|h| !learned.contains(&crate::scan::boilerplate_key(h)));
            m.chars = text.chars().count();
            m.simhash = hex64(fp.primary());
            m.stripped.push("learned_boilerplate".into());
            sp.record.text = text;
            let bytes = serde_json::to_vec(&sp).map_err(|e| RunError::Io(e.to_string()))?;
            *r = spill.put(&bytes).map_err(|e| spill_err(s, e))?;
            Ok(true)
        })
        .collect();
    Ok(changed?.into_iter().filter(|&c| c).count())
}

/// Everything phase 2 decided. Article records stay in the spill file; what is here is
/// small per page.
struct Decided {
    page_ids: Vec<String>,
    snippet_ids: Vec<String>,
    /// page → (kept page, decision), for dropped articles.
    art_dropped: HashMap<u32, (u32, Drop)>,
    /// kept page → (duplicate ids, aliases).
    art_dups: HashMap<u32, (Vec<String>, Vec<String>)>,
    /// snippet key → index of the kept snippet it resolves to.
    snippet_of_key: HashMap<u128, u32>,
    snippets: Vec<SnippetRecord>,
    /// `seen_in` of each snippet record, as page indices (ids are filled in as written).
    snippet_seen: Vec<Vec<u32>>,
    snippet_dropped: Vec<DroppedRecord>,
    clusters: Vec<ClusterRecord>,
    /// (title, text) of every record shown in full in report.html.
    html_texts: HashMap<String, (String, String)>,
    rejects: Vec<RejectRecord>,
    counts_articles: ArticleCounts,
    counts_snippets: SnippetCounts,
    article_stats: DedupStats,
    snippet_stats: DedupStats,
}

fn decide(
    pages: &[Page],
    mut snippets: Vec<Snippet>,
    c: &Compiled,
    spill: &Spill,
) -> Result<Decided, RunError> {
    let dc = &c.config.dedup;
    let n_shingle = dc.shingle_chars;
    let normalize = |t: &str| normalize_with(t, &dc.normalize);
    let n_fp = dc.fingerprints.clamp(1, MAX_FINGERPRINTS);

    snippets.par_iter_mut().for_each(|s| {
        s.fp = fingerprint(&s.occ.block.text, dc);
    });
    let snippet_ids = unique_ids(snippets.iter().map(|s| snippet_id(s.key)));
    let page_ids = unique_ids(pages.iter().map(|p| page_id(&p.source)));

    // Article duplicates, from the fingerprints; texts are read back only for the pairs
    // the index proposes.
    let art_pages: Vec<u32> = (0..pages.len() as u32)
        .filter(|&i| matches!(pages[i as usize].kind, PageKind::Article { .. }))
        .collect();
    let art = |pi: u32| -> (SpillRef, &Fingerprint, u64) {
        match &pages[pi as usize].kind {
            PageKind::Article {
                spill,
                fp,
                title_key,
            } => (*spill, fp, *title_key),
            PageKind::Reject { .. } => unreachable!("art_pages holds articles only"),
        }
    };
    let items: Vec<Item> = art_pages
        .iter()
        .map(|&pi| Item {
            fp: art(pi).1,
            order: pi,
        })
        .collect();
    let read_error: Mutex<Option<RunError>> = Mutex::new(None);
    let (art_drops, article_stats) = deduplicate(&items, dc, |i| {
        match read_spilled(spill, art(art_pages[i as usize]).0) {
            Ok(sp) => shingle_set(&normalize(&sp.record.text), n_shingle),
            Err(e) => {
                *read_error.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                Vec::new()
            }
        }
    });
    if let Some(e) = read_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(e);
    }

    // Snippet duplicates: identical (title, text) are merged already; the same text under
    // another title, or a near text, is a dropped duplicate.
    let with_text: Vec<u32> = (0..snippets.len() as u32)
        .filter(|&i| !snippets[i as usize].occ.block.text.is_empty())
        .collect();
    let sitems: Vec<Item> = with_text
        .iter()
        .map(|&i| Item {
            fp: &snippets[i as usize].fp,
            order: i,
        })
        .collect();
    let (snip_drops, snippet_stats) = deduplicate(&sitems, dc, |i| {
        shingle_set(
            &normalize(&snippets[with_text[i as usize] as usize].occ.block.text),
            n_shingle,
        )
    });
    let mut snip_dropped: HashMap<u32, (u32, Drop)> = HashMap::new();
    for d in &snip_drops {
        snip_dropped.insert(
            with_text[d.member as usize],
            (with_text[d.kept as usize], *d),
        );
    }
    let snippet_of_key: HashMap<u128, u32> = snippets
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let i = i as u32;
            (s.key, snip_dropped.get(&i).map_or(i, |(k, _)| *k))
        })
        .collect();

    // Article decisions.
    let mut art_dropped: HashMap<u32, (u32, Drop)> = HashMap::new();
    for d in &art_drops {
        art_dropped.insert(
            art_pages[d.member as usize],
            (art_pages[d.kept as usize], *d),
        );
    }
    let mut dups_of: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&m, &(k, _)) in &art_dropped {
        dups_of.entry(k).or_default().push(m);
    }
    for v in dups_of.values_mut() {
        v.sort_unstable();
    }
    let mut counts_articles = ArticleCounts::default();
    for &pi in &art_pages {
        match art_dropped.get(&pi).map(|x| x.1.kind) {
            Some(MatchKind::Exact) => counts_articles.dropped_exact += 1,
            Some(MatchKind::Near) => counts_articles.dropped_near += 1,
            None => counts_articles.kept += 1,
        }
    }
    // Source and title of every article in a cluster (read back once).
    let mut in_clusters: Vec<u32> = dups_of
        .iter()
        .flat_map(|(k, v)| std::iter::once(*k).chain(v.iter().copied()))
        .collect();
    in_clusters.sort_unstable();
    let cluster_info: HashMap<u32, (String, String)> = in_clusters
        .par_iter()
        .map(|&pi| {
            read_spilled(spill, art(pi).0)
                .map(|sp| (pi, (sp.record.source, sp.record.metadata.title)))
        })
        .collect::<Result<_, _>>()?;
    let mut art_dups: HashMap<u32, (Vec<String>, Vec<String>)> = HashMap::new();
    for (&k, ms) in &dups_of {
        let mut titles: HashSet<String> = HashSet::new();
        titles.insert(normalize(&cluster_info[&k].1));
        let mut ids = Vec::new();
        let mut aliases = Vec::new();
        for &m in ms {
            ids.push(page_ids[m as usize].clone());
            let t = &cluster_info[&m].1;
            if titles.insert(normalize(t)) {
                aliases.push(t.clone());
            }
        }
        art_dups.insert(k, (ids, aliases));
    }

    // Normalized title → kept article, for snippet links.
    let mut title_to_article: HashMap<u64, u32> = HashMap::new();
    for &pi in &art_pages {
        let kept = art_dropped.get(&pi).map_or(pi, |(k, _)| *k);
        let e = title_to_article.entry(art(pi).2).or_insert(kept);
        if kept < *e {
            *e = kept;
        }
    }
    let empty_title = xxhash_rust::xxh3::xxh3_64(b"");

    // Snippet records.
    let mut sdups_of: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&m, &(k, _)) in &snip_dropped {
        sdups_of.entry(k).or_default().push(m);
    }
    for v in sdups_of.values_mut() {
        v.sort_unstable();
    }
    let mut counts_snippets = SnippetCounts {
        occurrences: snippets.iter().map(|s| s.occurrences).sum(),
        ..SnippetCounts::default()
    };
    let mut snippet_records = Vec::new();
    let mut snippet_seen: Vec<Vec<u32>> = Vec::new();
    let mut snippet_dropped = Vec::new();
    for (si, sn) in snippets.iter().enumerate() {
        let si = si as u32;
        let b = &sn.occ.block;
        if !b.complete {
            counts_snippets.incomplete += 1;
        }
        let source = pages[sn.first.0 as usize].source.clone();
        if let Some(&(k, d)) = snip_dropped.get(&si) {
            match d.kind {
                MatchKind::Exact => counts_snippets.dropped_exact += 1,
                MatchKind::Near => counts_snippets.dropped_near += 1,
            }
            snippet_dropped.push(DroppedRecord {
                id: snippet_ids[si as usize].clone(),
                kind: "snippet".into(),
                source,
                title: b.title.clone(),
                text: b.text.clone(),
                duplicate_of: snippet_ids[k as usize].clone(),
                match_kind: d.kind.as_str().into(),
                hamming: d.hamming,
                similarity: round4(d.similarity),
                hammings: d.hammings[..n_fp].to_vec(),
            });
            continue;
        }
        let mut seen: Vec<u32> = sn.seen_in.clone();
        let mut duplicates = Vec::new();
        let mut aliases = Vec::new();
        let mut occurrences = sn.occurrences;
        if let Some(ds) = sdups_of.get(&si) {
            let mut titles: HashSet<String> = HashSet::new();
            titles.insert(normalize(&b.title));
            for &m in ds {
                let other = &snippets[m as usize];
                duplicates.push(snippet_ids[m as usize].clone());
                if titles.insert(normalize(&other.occ.block.title)) {
                    aliases.push(other.occ.block.title.clone());
                }
                seen.extend_from_slice(&other.seen_in);
                occurrences += other.occurrences;
            }
            seen.sort_unstable();
            seen.dedup();
        }
        let title_key = xxhash_rust::xxh3::xxh3_64(normalize(&b.title).as_bytes());
        let article = (title_key != empty_title)
            .then(|| title_to_article.get(&title_key))
            .flatten()
            .map(|&pi| page_ids[pi as usize].clone());
        if article.is_some() {
            counts_snippets.linked += 1;
        }
        snippet_seen.push(seen);
        snippet_records.push(SnippetRecord {
            id: snippet_ids[si as usize].clone(),
            text: b.text.clone(),
            source,
            metadata: SnippetMeta {
                title: b.title.clone(),
                category: b.category.clone().unwrap_or_default(),
                date: b.date.clone(),
                truncated: sn.occ.truncated,
                // Filled when written: 12.5M page-id strings at 1M pages would be ~0.7 GB.
                seen_in: Vec::new(),
                simhash: hex64(sn.fp.primary()),
                duplicates,
                aliases,
                article,
                answer: sn.occ.answer.clone(),
                complete: b.complete,
                occurrences,
            },
        });
    }
    counts_snippets.unique = snippet_records.len();

    // Clusters for audit.
    let mut clusters = build_clusters("article", &dups_of, &art_dropped, n_fp, |i| {
        let (source, title) = &cluster_info[&i];
        (page_ids[i as usize].clone(), source.clone(), title.clone())
    });
    clusters.extend(build_clusters(
        "snippet",
        &sdups_of,
        &snip_dropped,
        n_fp,
        |i| {
            let sn = &snippets[i as usize];
            (
                snippet_ids[i as usize].clone(),
                pages[sn.first.0 as usize].source.clone(),
                sn.occ.block.title.clone(),
            )
        },
    ));
    // Articles before snippets, larger clusters first, then by kept id.
    clusters.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.members.len().cmp(&a.members.len()))
            .then(a.kept.cmp(&b.kept))
    });

    // Texts of the records report.html shows in full.
    let out = &c.config.output;
    let page_of_id: HashMap<&str, u32> = in_clusters
        .iter()
        .map(|&pi| (page_ids[pi as usize].as_str(), pi))
        .collect();
    let snippet_of_id: HashMap<&str, u32> = (0..snippets.len() as u32)
        .map(|i| (snippet_ids[i as usize].as_str(), i))
        .collect();
    let mut html_texts: HashMap<String, (String, String)> = HashMap::new();
    for cl in clusters.iter().take(out.html_max_clusters) {
        for m in cl
            .members
            .iter()
            .take(out.html_max_members.saturating_add(1))
        {
            let text = if let Some(&pi) = page_of_id.get(m.id.as_str()) {
                read_spilled(spill, art(pi).0)?.record.text
            } else if let Some(&si) = snippet_of_id.get(m.id.as_str()) {
                snippets[si as usize].occ.block.text.clone()
            } else {
                continue;
            };
            html_texts.insert(m.id.clone(), (m.title.clone(), text));
        }
    }

    let rejects = pages
        .iter()
        .enumerate()
        .filter_map(|(pi, p)| match &p.kind {
            PageKind::Reject {
                reject,
                title,
                snippets,
            } => Some(RejectRecord {
                source: p.source.clone(),
                reason: reject.reason,
                detail: reject.detail.clone(),
                id: page_ids[pi].clone(),
                title: title.clone(),
                snippets: *snippets,
            }),
            PageKind::Article { .. } => None,
        })
        .collect();

    Ok(Decided {
        page_ids,
        snippet_ids,
        art_dropped,
        art_dups,
        snippet_of_key,
        snippets: snippet_records,
        snippet_seen,
        snippet_dropped,
        clusters,
        html_texts,
        rejects,
        counts_articles,
        counts_snippets,
        article_stats,
        snippet_stats,
    })
}

/// The audit clusters of one kind: `dups_of` maps each kept index to the indices dropped as
/// its duplicates, `drops` each dropped index to its decision, and `who(i)` gives a record's
/// (id, source, title). The kept record comes first.
fn build_clusters(
    kind: &str,
    dups_of: &HashMap<u32, Vec<u32>>,
    drops: &HashMap<u32, (u32, Drop)>,
    n_fp: usize,
    who: impl Fn(u32) -> (String, String, String),
) -> Vec<ClusterRecord> {
    let member = |i: u32, d: Option<&Drop>| {
        let (id, source, title) = who(i);
        ClusterMember {
            id,
            source,
            title,
            match_kind: d.map_or("exact", |d| d.kind.as_str()).to_string(),
            hamming: d.map_or(0, |d| d.hamming),
            similarity: d.map_or(1.0, |d| round4(d.similarity)),
            hammings: d.map_or(vec![0; n_fp], |d| d.hammings[..n_fp].to_vec()),
        }
    };
    let mut kept: Vec<u32> = dups_of.keys().copied().collect();
    kept.sort_unstable();
    kept.into_iter()
        .map(|k| {
            let mut members = vec![member(k, None)];
            members.extend(dups_of[&k].iter().map(|&m| member(m, Some(&drops[&m].1))));
            let id = members[0].id.clone();
            ClusterRecord {
                cluster: format!("c-{}", &id[2..]),
                kind: kind.into(),
                kept: id,
                members,
            }
        })
        .collect()
}

/// Makes ids unique: a later id equal to an earlier one gets `-2`, `-3` … (64-bit ids make
/// this astronomically rare, but uniqueness is a contract, not a probability).
fn unique_ids(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::new();
    ids.map(|id| {
        if seen.insert(id.clone()) {
            return id;
        }
        let mut n = 2;
        loop {
            let alt = format!("{id}-{n}");
            if seen.insert(alt.clone()) {
                return alt;
            }
            n += 1;
        }
    })
    .collect()
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Per-page counts for the report: boilerplate kinds, encodings, compression.
struct PageCounts {
    stripped: BTreeMap<String, usize>,
    encodings: BTreeMap<String, usize>,
    compression: BTreeMap<String, usize>,
}

fn page_counts(pages: &[Page]) -> PageCounts {
    let mut stripped: BTreeMap<String, usize> = crate::page::segment::STRIP_RULES
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    let mut encodings: BTreeMap<String, usize> = BTreeMap::new();
    let mut compression: BTreeMap<String, usize> = BTreeMap::new();
    for p in pages {
        for (i, k) in STRIP_KINDS.iter().enumerate() {
            if p.stripped & (1 << i) != 0 {
                *stripped.entry(k.to_string()).or_default() += 1;
            }
        }
        if let Some(e) = p.encoding {
            *encodings.entry(e.to_string()).or_default() += 1;
        }
        if let (Some(z), PageKind::Article { .. }) = (p.compression, &p.kind) {
            *compression.entry(z.to_string()).or_default() += 1;
        }
    }
    PageCounts {
        stripped,
        encodings,
        compression,
    }
}

fn build_report(
    pages: PageCounts,
    seen: usize,
    d: &Decided,
    c: &Compiled,
    excluded: usize,
) -> Report {
    let mut rejects: BTreeMap<String, usize> = RejectReason::ALL
        .iter()
        .map(|r| (r.as_str().to_string(), 0))
        .collect();
    for r in &d.rejects {
        *rejects.entry(r.reason.as_str().to_string()).or_default() += 1;
    }
    let a = &d.counts_articles;
    Report {
        version: env!("CARGO_PKG_VERSION").to_string(),
        profile: c.config.profile.name.clone(),
        config: c.config.clone(),
        files: FileCounts {
            seen,
            articles: a.kept + a.dropped_exact + a.dropped_near,
            rejected: d.rejects.len(),
            excluded,
        },
        articles: a.clone(),
        snippets: d.counts_snippets.clone(),
        rejects,
        stripped: pages.stripped,
        encodings: pages.encodings,
        compression: pages.compression,
        dedup: crate::output::report::DedupReport {
            articles: d.article_stats,
            snippets: d.snippet_stats,
        },
        learned_boilerplate: Default::default(),
        timings_ms: BTreeMap::new(),
    }
}

/// Pages whose records are rendered in parallel before being written in order.
const WRITE_CHUNK: usize = 2048;

/// Writes every output file into the staging folder: articles and their dropped copies are
/// streamed back from the spill file in input order, a chunk at a time.
#[allow(clippy::too_many_arguments)]
fn write_all(
    s: &Settings,
    st: &mut Staging,
    spill: &Spill,
    pages: &[Page],
    d: &Decided,
    report: &mut Report,
    timings: &mut BTreeMap<String, u64>,
    micros: [u64; 3],
    t_write: Instant,
    t_start: Instant,
) -> Result<(), RunError> {
    let io = |e: std::io::Error| {
        RunError::Io(format!(
            "cannot write output to {}: {e}",
            s.output.display()
        ))
    };
    let n_fp = s
        .config
        .config
        .dedup
        .fingerprints
        .clamp(1, MAX_FINGERPRINTS);
    {
        use std::io::Write;
        let mut arts = st.create("articles.jsonl").map_err(io)?;
        let mut dropped = st.create("dropped.jsonl").map_err(io)?;
        // Records are read back, completed and serialized in parallel, a chunk of pages at
        // a time, and written in input order.
        let render = |pi: usize, r: SpillRef| -> Result<(bool, Vec<u8>), RunError> {
            let pi = pi as u32;
            let sp = read_spilled(spill, r)?;
            let mut rec = sp.record;
            rec.id = d.page_ids[pi as usize].clone();
            let mut related: Vec<String> = Vec::new();
            for &k in &sp.related {
                if let Some(&si) = d.snippet_of_key.get(&key_of(k)) {
                    let id = &d.snippet_ids[si as usize];
                    if !related.contains(id) {
                        related.push(id.clone());
                    }
                }
            }
            rec.metadata.related = related;
            let json = |e: serde_json::Error| io(e.into());
            if let Some(&(k, dr)) = d.art_dropped.get(&pi) {
                let row = DroppedRecord {
                    id: rec.id,
                    kind: "article".into(),
                    source: rec.source,
                    title: rec.metadata.title,
                    text: rec.text,
                    duplicate_of: d.page_ids[k as usize].clone(),
                    match_kind: dr.kind.as_str().into(),
                    hamming: dr.hamming,
                    similarity: round4(dr.similarity),
                    hammings: dr.hammings[..n_fp].to_vec(),
                };
                let mut line = serde_json::to_vec(&row).map_err(json)?;
                line.push(b'\n');
                return Ok((true, line));
            }
            if let Some((ids, aliases)) = d.art_dups.get(&pi) {
                rec.metadata.duplicates = ids.clone();
                rec.metadata.aliases = aliases.clone();
            }
            let mut line = serde_json::to_vec(&rec).map_err(json)?;
            line.push(b'\n');
            Ok((false, line))
        };
        let articles: Vec<(usize, SpillRef)> = pages
            .iter()
            .enumerate()
            .filter_map(|(pi, p)| match &p.kind {
                PageKind::Article { spill: r, .. } => Some((pi, *r)),
                PageKind::Reject { .. } => None,
            })
            .collect();
        for chunk in articles.chunks(WRITE_CHUNK) {
            let lines: Vec<(bool, Vec<u8>)> = chunk
                .par_iter()
                .map(|&(pi, r)| render(pi, r))
                .collect::<Result<_, _>>()?;
            for (is_dropped, line) in lines {
                let out = if is_dropped { &mut dropped } else { &mut arts };
                out.write_all(&line).map_err(io)?;
            }
        }
        for row in &d.snippet_dropped {
            serde_json::to_writer(&mut dropped, row).map_err(|e| io(e.into()))?;
            dropped.write_all(b"\n").map_err(io)?;
        }
        crate::output::jsonl::finish(arts).map_err(io)?;
        crate::output::jsonl::finish(dropped).map_err(io)?;
    }
    {
        use std::io::Write;
        let mut w = st.create("snippets.jsonl").map_err(io)?;
        for (rec, seen) in d.snippets.iter().zip(&d.snippet_seen) {
            let mut rec = rec.clone();
            rec.metadata.seen_in = seen
                .iter()
                .map(|&p| d.page_ids[p as usize].clone())
                .collect();
            serde_json::to_writer(&mut w, &rec).map_err(|e| io(e.into()))?;
            w.write_all(b"\n").map_err(io)?;
        }
        crate::output::jsonl::finish(w).map_err(io)?;
    }
    st.write_jsonl("duplicates.jsonl", &d.clusters)
        .map_err(io)?;
    st.write_jsonl("rejects.jsonl", &d.rejects).map_err(io)?;
    timings.insert("read_cpu".into(), micros[0] / 1000);
    timings.insert("decode_cpu".into(), micros[1] / 1000);
    timings.insert("segment_cpu".into(), micros[2] / 1000);
    timings.insert("write".into(), t_write.elapsed().as_millis() as u64);
    timings.insert("total".into(), t_start.elapsed().as_millis() as u64);
    report.timings_ms = timings.clone();
    let extra = html::Extra {
        article_candidates: d.article_stats.candidates,
        snippet_candidates: d.snippet_stats.candidates,
        max_clusters: s.config.config.output.html_max_clusters,
        max_members: s.config.config.output.html_max_members,
    };
    let page = html::render(report, &d.clusters, &d.rejects, &d.html_texts, &extra);
    st.write_bytes("report.html", page.as_bytes()).map_err(io)?;
    let json = serde_json::to_vec_pretty(&*report).map_err(|e| io(std::io::Error::other(e)))?;
    st.write_bytes("report.json", &json).map_err(io)?;
    Ok(())
}
