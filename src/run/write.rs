//! Writing the output: the only place where decisions (indices) become strings — related
//! ids, aliases, dropped records, clusters — each made by one helper. Articles and their
//! dropped copies are streamed back from the spill file in input order, a chunk at a time.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use rayon::prelude::*;

use crate::dedup::shingle::normalize_with;
use crate::dedup::{Duplicate, MatchKind};
use crate::error::Error;
use crate::history::History;
use crate::output::html;
use crate::output::report::Report;
use crate::output::Staging;
use crate::record::{
    hex64, ClusterMember, ClusterRecord, DroppedRecord, EarlierRef, RecordKind, RejectRecord,
    SeenAgainRecord, SnippetMeta, SnippetRecord,
};
use crate::rules::Rules;
use crate::run::decide::{Cluster, Decisions};
use crate::run::file_tasks::FileTasks;
use crate::run::line::{render_line, LinePlan, Lines};
use crate::run::store::ArticleStore;
use crate::run::summarize::{Scanned, SummaryKind};
use crate::run::write_parts::{self, Plans};
use crate::text::column::StrColumn;

/// Pages whose records are rendered in parallel before being written in order.
const WRITE_CHUNK: usize = 2048;

/// What the reports need from the record files.
#[derive(Debug, Default)]
pub struct Written {
    /// The lines of `duplicates.jsonl` that `report.html` shows in full, in file order
    /// (the file itself is written as it is made): [`ClusterPlan`]'s choice.
    pub clusters: Vec<ClusterRecord>,
    /// Lines in `duplicates.jsonl`.
    pub cluster_count: usize,
    /// Clusters per report section.
    pub section_counts: [usize; 4],
    /// The near pairs to look at first.
    pub look_first: Vec<html::LookFirst>,
    /// `rejects.jsonl`, in order.
    pub rejects: Vec<RejectRecord>,
    /// (title, text) of every record `report.html` shows in full, by id.
    pub texts: HashMap<String, (String, String)>,
    /// Where each kept article's line is in `articles.jsonl`: (page, offset, length).
    pub article_lines: Vec<(u32, u64, u32)>,
    /// Where each written snippet's line is in `snippets.jsonl`: (snippet, offset, length).
    pub snippet_lines: Vec<(u32, u64, u32)>,
    /// Final length of `articles.jsonl`.
    pub articles_bytes: u64,
    /// Final length of `snippets.jsonl`.
    pub snippets_bytes: u64,
}

/// The titles of some records (a chunk of clusters' members), read back together: the
/// records sorted, their titles in one column.
pub(crate) struct Names {
    /// The records, ascending.
    records: Vec<(RecordKind, u32)>,
    /// Their titles, in the same order.
    titles: StrColumn,
}

impl Names {
    /// The title of record `i` of `kind`, if it was read.
    pub(crate) fn get(&self, kind: RecordKind, i: u32) -> Option<&str> {
        let at = self.records.binary_search(&(kind, i)).ok()?;
        Some(self.titles.get(at))
    }

    /// Reads the titles of `records` (any order, repeats allowed) in parallel, from the
    /// page summary's record or the earlier record's id entry.
    fn read(cx: Context<'_>, mut records: Vec<(RecordKind, u32)>) -> Result<Names, Error> {
        records.sort_unstable();
        records.dedup();
        let mut titles = StrColumn::with_capacity(records.len());
        for chunk in records.chunks(WRITE_CHUNK) {
            let read: Vec<String> = chunk
                .par_iter()
                .map(|&(kind, i)| match cx.earlier(kind, i) {
                    Some(e) => Ok(cx.history.record(kind, e)?.title),
                    None => Ok(cx.store.load(i)?.title),
                })
                .collect::<Result<_, Error>>()?;
            read.iter().for_each(|t| titles.push(t));
            // The records lie all over the summary column (each read located through
            // its page's row): handed back a chunk at a time.
            cx.release_columns();
        }
        Ok(Names { records, titles })
    }

    /// The titles `clusters`' records are named by: every article's, and an earlier
    /// snippet's (tonight's snippets carry theirs).
    fn of_clusters(cx: Context<'_>, clusters: &[Cluster]) -> Result<Names, Error> {
        let mut records = Vec::new();
        for c in clusters {
            let members = cx.d.members_of(c);
            match c.kind {
                RecordKind::Article => records.extend(
                    std::iter::once(c.kept)
                        .chain(members.iter().copied())
                        .map(|i| (RecordKind::Article, i)),
                ),
                RecordKind::Snippet if cx.earlier(RecordKind::Snippet, c.kept).is_some() => {
                    records.push((RecordKind::Snippet, c.kept));
                }
                RecordKind::Snippet => {}
            }
        }
        Names::read(cx, records)
    }
}

/// The `aliases` of each kept article whose duplicates have other titles (most have
/// none, so most kept articles have no entry). Made before the articles' lines, from
/// the clusters' titles read a chunk of clusters at a time: holding every cluster
/// member's title through the writing took ~17 MiB at 1M site pages.
pub(crate) struct Aliases(HashMap<u32, Vec<String>>);

impl Aliases {
    /// The aliases of every kept article with duplicates.
    fn of_articles(cx: Context<'_>) -> Result<Aliases, Error> {
        let mut aliases = HashMap::new();
        let kept: Vec<Cluster> =
            cx.d.articles
                .members
                .keys()
                .map(|&kept| Cluster {
                    kind: RecordKind::Article,
                    kept,
                })
                .collect();
        for chunk in kept.chunks(CLUSTER_CHUNK) {
            let names = Names::of_clusters(cx, chunk)?;
            let title = |i| names.get(RecordKind::Article, i).unwrap_or_default();
            for c in chunk {
                let members = cx.d.members_of(c).iter().map(|&m| title(m));
                let found = aliases_among(title(c.kept), members, cx.rules);
                if !found.is_empty() {
                    aliases.insert(c.kept, found);
                }
            }
        }
        Ok(Aliases(aliases))
    }

    /// The aliases of kept article `pi` (none if it has no duplicates).
    fn of(&self, pi: u32) -> Vec<String> {
        self.0.get(&pi).cloned().unwrap_or_default()
    }
}

/// Clusters made into `duplicates.jsonl` lines between two writes: at a million pages the
/// whole file's records would hold ~100 MB. Small, because the clusters come in id order
/// and their members lie anywhere in the mapped source and key columns: 4,096 clusters
/// read nearly every page of both before the chunk's end handed them back (+38 MiB at
/// 1M site pages); 256 read a few MiB.
const CLUSTER_CHUNK: usize = 256;

/// What the writer needs besides the decisions: the earlier runs they refer to.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Tonight's pages and snippets.
    pub scanned: &'a Scanned,
    /// Every decision.
    pub d: &'a Decisions,
    /// The rules.
    pub rules: &'a Rules,
    /// Tonight's article records.
    pub store: &'a dyn ArticleStore,
    /// What earlier runs kept.
    pub history: &'a History,
    /// Writer tasks for the articles' lines (the Ray job's `pagesieve.write[p]`); this
    /// process when `None`.
    pub tasks: Option<FileTasks<'a>>,
}

impl Context<'_> {
    /// Hands back the pages of the mapped columns the writers read a page at a time (the
    /// pages' sources and keys, the snippets' page lists): called after each chunk of
    /// lines.
    fn release_columns(&self) {
        self.scanned.sources.release();
        self.scanned.pages.release();
        self.d.ids.pages.release();
        // The lists share one file: any list hands back its pages.
        if let Some(s) = self.scanned.snippets.first() {
            s.seen_in.release();
        }
    }

    /// The earlier record behind record index `i` of `kind`, if it is one.
    fn earlier(&self, kind: RecordKind, i: u32) -> Option<u32> {
        let n = match kind {
            RecordKind::Article => self.scanned.pages.len(),
            RecordKind::Snippet => self.scanned.snippets.len(),
        } as u32;
        i.checked_sub(n)
    }

    /// Where earlier record `e` of `kind` is (registered by the decisions).
    fn earlier_ref(&self, kind: RecordKind, e: u32) -> EarlierRef {
        let n = match kind {
            RecordKind::Article => self.scanned.pages.len(),
            RecordKind::Snippet => self.scanned.snippets.len(),
        } as u32;
        let loc = self.d.ids.earlier(kind, n + e).map_or(
            crate::history::Loc {
                run: 0,
                offset: 0,
                len: 0,
            },
            |x| x.loc,
        );
        let run = self.history.run(loc.run);
        EarlierRef {
            output: run.dir.display().to_string(),
            file: match kind {
                RecordKind::Article => "articles.jsonl",
                RecordKind::Snippet => "snippets.jsonl",
            }
            .to_string(),
            offset: loc.offset,
            started: run.started.clone(),
        }
    }

    /// The reference of record `i` when an earlier run wrote it.
    fn earlier_of(&self, kind: RecordKind, i: u32) -> Option<EarlierRef> {
        self.earlier(kind, i).map(|e| self.earlier_ref(kind, e))
    }
}

/// Writes `articles.jsonl`, `dropped.jsonl`, `snippets.jsonl`, `duplicates.jsonl` and
/// `rejects.jsonl` into the staging folder.
pub fn write_records(
    st: &mut Staging,
    cx: Context<'_>,
    bar: &indicatif::ProgressBar,
) -> Result<Written, Error> {
    let aliases = Aliases::of_articles(cx)?;
    crate::trim::phase_end("write: aliases");
    let (article_lines, articles_bytes) = write_articles(st, cx, &aliases, bar)?;
    drop(aliases);
    crate::trim::phase_end("write: articles");
    let (snippet_lines, snippets_bytes) = write_snippets(st, cx)?;
    crate::trim::phase_end("write: snippets");
    let io = Error::output(st.out());
    if !cx.history.indexes.is_empty() {
        write_seen_again(st, cx)?;
    }
    let plan = ClusterPlan::new(cx);
    let (clusters, look_first) = write_clusters(st, cx, &plan)?;
    crate::trim::phase_end("write: clusters");
    let rejects = reject_records(cx.scanned, cx.d);
    cx.release_columns();
    st.write_jsonl("rejects.jsonl", &rejects).map_err(&io)?;
    let texts = shown_texts(cx, &plan.shown)?;
    Ok(Written {
        clusters,
        cluster_count: cx.d.clusters.len(),
        section_counts: plan.counts,
        look_first,
        rejects,
        texts,
        article_lines,
        snippet_lines,
        articles_bytes,
        snippets_bytes,
    })
}

/// Writes `report.html` and then `report.json` (the last file renamed into place).
pub fn write_reports(
    st: &mut Staging,
    report: &Report,
    w: &Written,
    rules: &Rules,
    run: html::RunInfo,
) -> Result<(), Error> {
    let io = Error::output(st.out());
    let out = &rules.config.output;
    let extra = html::Extra {
        article_candidates: report.dedup.articles.candidates,
        snippet_candidates: report.dedup.snippets.candidates,
        max_clusters: out.html_max_clusters,
        max_members: out.html_max_members,
        run,
    };
    let clusters = html::Clusters {
        shown: &w.clusters,
        total: w.cluster_count,
        counts: w.section_counts,
        look_first: &w.look_first,
    };
    let page = html::render(report, clusters, &w.rejects, &w.texts, &extra);
    st.write_bytes("report.html", page.as_bytes())
        .map_err(&io)?;
    let json = serde_json::to_vec_pretty(report).map_err(|e| io(std::io::Error::other(e)))?;
    st.write_bytes("report.json", &json).map_err(&io)
}

/// `articles.jsonl` and `dropped.jsonl` (dropped articles in input order, then dropped
/// snippets); returns where each kept article's line is and the file's length.
fn write_articles(
    st: &mut Staging,
    cx: Context<'_>,
    aliases: &Aliases,
    bar: &indicatif::ProgressBar,
) -> Result<Lines, Error> {
    let (scanned, d) = (cx.scanned, cx.d);
    let io = Error::output(st.out());
    let mut kept_file = st.create("articles.jsonl").map_err(&io)?;
    let mut dropped_file = st.create("dropped.jsonl").map_err(&io)?;
    let articles: Vec<u32> = (0..scanned.pages.len() as u32)
        .filter(|&pi| scanned.pages.is_article(pi as usize))
        .collect();
    let (lines_at, offset) = match &cx.tasks {
        Some(tasks) => {
            let plan = |pi: u32| line_plan(pi, cx, aliases);
            let locate = |pi: u32| cx.store.locate(pi);
            let load = |pi: u32| cx.store.load(pi);
            let related: Vec<(u128, &str)> = d
                .snippets
                .resolved
                .iter()
                .map(|(&key, &si)| (key, d.ids.snippet(si)))
                .collect();
            let plans = Plans {
                articles: &articles,
                plan: &plan,
                locate: &locate,
                load: &load,
                related: &related,
                chunk_done: &|| cx.release_columns(),
            };
            let files = (&mut kept_file as &mut dyn Write, &mut dropped_file as _);
            write_parts::through_tasks(tasks, &plans, files, bar)?
        }
        None => {
            let files = (&mut kept_file as &mut dyn Write, &mut dropped_file as _);
            write_here(&articles, cx, aliases, files, (st.out(), bar))?
        }
    };
    let n_fp = cx.rules.dedup.fingerprints;
    for (si, sn) in scanned.snippets.iter().enumerate() {
        if let Some(dup) = d.snippets.decided.dropped.get(&(si as u32)) {
            let b = &sn.occ.block;
            let mut row = dropped_record(
                RecordKind::Snippet,
                d.ids.snippet(si as u32),
                scanned.source(sn.first.0),
                &b.title,
                &b.text,
                d.ids.snippet(dup.kept),
                dup,
                n_fp,
            );
            row.earlier = cx.earlier_of(RecordKind::Snippet, dup.kept);
            json_line(&mut dropped_file, &row).map_err(&io)?;
        }
    }
    cx.release_columns();
    crate::output::jsonl::finish(kept_file).map_err(&io)?;
    crate::output::jsonl::finish(dropped_file).map_err(&io)?;
    Ok((lines_at, offset))
}

/// The articles' lines rendered here, a chunk at a time in parallel, and written in
/// order; returns each kept line's (page, offset, length) and the bytes written to
/// `kept`.
fn write_here(
    articles: &[u32],
    cx: Context<'_>,
    aliases: &Aliases,
    (kept_file, dropped_file): (&mut dyn Write, &mut dyn Write),
    (out, bar): (&Path, &indicatif::ProgressBar),
) -> Result<Lines, Error> {
    let io = Error::output(out);
    let mut lines_at = Vec::new();
    let mut offset = 0u64;
    for chunk in articles.chunks(WRITE_CHUNK) {
        let lines: Vec<(bool, Vec<u8>)> = chunk
            .par_iter()
            .map(|&pi| article_line(pi, cx, aliases))
            .collect::<Result<_, Error>>()?;
        for (&pi, (dropped, line)) in chunk.iter().zip(lines) {
            if dropped {
                dropped_file.write_all(&line).map_err(&io)?;
            } else {
                kept_file.write_all(&line).map_err(&io)?;
                lines_at.push((pi, offset, line.len() as u32));
                offset += line.len() as u64;
            }
        }
        bar.inc(chunk.len() as u64);
        cx.release_columns();
    }
    Ok((lines_at, offset))
}

/// One article's line: `(true, line)` for `dropped.jsonl`, `(false, line)` for
/// `articles.jsonl`.
fn article_line(pi: u32, cx: Context<'_>, aliases: &Aliases) -> Result<(bool, Vec<u8>), Error> {
    let plan = line_plan(pi, cx, aliases)?;
    let d = cx.d;
    let related = |key: u128| d.snippets.resolved.get(&key).map(|&si| d.ids.snippet(si));
    Ok(render_line(&plan, &cx.store.load(pi)?, &related))
}

/// The plan of page `pi`'s line (an article).
pub(crate) fn line_plan(pi: u32, cx: Context<'_>, aliases: &Aliases) -> Result<LinePlan, Error> {
    let (d, rules) = (cx.d, cx.rules);
    let id = d.ids.page(pi).into_owned();
    if let Some(dup) = d.articles.dropped.get(&pi) {
        let mut row = dropped_record(
            RecordKind::Article,
            &id,
            cx.scanned.source(pi),
            "",
            "",
            &d.ids.page(dup.kept),
            dup,
            rules.dedup.fingerprints,
        );
        row.earlier = cx.earlier_of(RecordKind::Article, dup.kept);
        return LinePlan::dropped(&row).map_err(Error::output(Path::new("dropped.jsonl")));
    }
    let (duplicates, aliases) = match d.articles.members.get(&pi) {
        Some(members) => (
            members
                .iter()
                .map(|&m| d.ids.page(m).into_owned())
                .collect(),
            aliases.of(pi),
        ),
        None => (Vec::new(), Vec::new()),
    };
    Ok(LinePlan::Kept {
        id,
        duplicates,
        aliases,
    })
}

/// `snippets.jsonl`: every kept snippet (not those an earlier run wrote), with the pages
/// and titles of its duplicates; returns where each line is and the file's length.
fn write_snippets(st: &mut Staging, cx: Context<'_>) -> Result<Lines, Error> {
    let io = Error::output(st.out());
    let mut w = st.create("snippets.jsonl").map_err(&io)?;
    let mut lines_at = Vec::new();
    let mut offset = 0u64;
    let mut line = Vec::new();
    for si in 0..cx.scanned.snippets.len() as u32 {
        if !cx.d.snippets.is_written(si) {
            continue;
        }
        line.clear();
        let (record, seen) = snippet_record(si, cx);
        write_seen_line(&mut line, &record, &seen, &cx.d.ids).map_err(&io)?;
        w.write_all(&line).map_err(&io)?;
        lines_at.push((si, offset, line.len() as u32));
        offset += line.len() as u64;
        if lines_at.len() % SNIPPETS_BETWEEN_RELEASES == 0 {
            cx.release_columns();
        }
    }
    cx.release_columns();
    crate::output::jsonl::finish(w).map_err(&io)?;
    Ok((lines_at, offset))
}

/// The pages a snippet was seen on, as its record lists them: those that yielded an
/// article (`seen_in`) and the rejected ones (`seen_in_rejected`), each in input order.
struct SeenOn {
    articles: Vec<u32>,
    rejected: Vec<u32>,
}

/// Tonight's article and rejected pages among `pages` (sorted, distinct).
fn seen_on(pages: &[u32], cx: Context<'_>) -> SeenOn {
    let (articles, rejected): (Vec<u32>, Vec<u32>) = pages
        .iter()
        .partition(|&&p| cx.scanned.pages.is_article(p as usize));
    SeenOn { articles, rejected }
}

/// Snippet lines written between two hand-backs of the mapped columns (their page lists
/// are read in order, their pages' keys anywhere).
const SNIPPETS_BETWEEN_RELEASES: usize = 256;

/// Ids written into a snippet's page lists between two hand-backs of the key column's
/// pages (a page of the column holds 256 keys).
const KEYS_BETWEEN_RELEASES: usize = 16_384;

/// Where [`write_snippet_line`] puts the page lists: what serde writes for a record whose
/// lists are empty. Inside a JSON string every `"` is escaped, so these bytes can only be
/// the record's own fields.
const EMPTY_SEEN: &[u8] = br#""seen_in":[],"seen_in_rejected":[]"#;

/// The `snippets.jsonl` or `seen_again.jsonl` line of `record` (its `seen_in` lists
/// empty) with the ids of the pages in `seen` written into its lists straight from their
/// keys: what serde writes for the record with the lists filled (the oracle in a test),
/// without a `String` for each of the thousands of ids a repeated snippet lists.
fn write_seen_line(
    out: &mut Vec<u8>,
    record: &impl serde::Serialize,
    seen: &SeenOn,
    ids: &crate::run::decide::ids::Ids,
) -> std::io::Result<()> {
    let start = out.len();
    serde_json::to_writer(&mut *out, record)?;
    let at = memchr::memmem::find(&out[start..], EMPTY_SEEN)
        .map(|i| start + i)
        .ok_or_else(|| std::io::Error::other("a snippet record without its seen_in lists"))?;
    let tail = out.split_off(at + EMPTY_SEEN.len());
    out.truncate(at);
    let list = |out: &mut Vec<u8>, pages: &[u32]| {
        out.push(b'[');
        for (n, &p) in pages.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            ids.write_page_json(p, out);
            // A common snippet lists most pages: their keys are handed back as it goes.
            if n % KEYS_BETWEEN_RELEASES == KEYS_BETWEEN_RELEASES - 1 {
                ids.pages.release();
            }
        }
        out.push(b']');
    };
    out.extend_from_slice(br#""seen_in":"#);
    list(out, &seen.articles);
    out.extend_from_slice(br#","seen_in_rejected":"#);
    list(out, &seen.rejected);
    out.extend_from_slice(&tail);
    out.push(b'\n');
    Ok(())
}

/// The record of kept snippet `si`, its own pages and occurrences plus its duplicates',
/// with its `seen_in` lists left empty, and the pages that go in them.
fn snippet_record(si: u32, cx: Context<'_>) -> (SnippetRecord, SeenOn) {
    let (scanned, d) = (cx.scanned, cx.d);
    let all = &scanned.snippets;
    let sn = &all[si as usize];
    let members: &[u32] = d.snippets.decided.members.get(&si).unwrap_or_default();
    let mut seen: Vec<u32> = sn.seen_in.iter().collect();
    let mut occurrences = sn.occurrences;
    for &m in members {
        seen.extend(all[m as usize].seen_in.iter());
        occurrences += all[m as usize].occurrences;
    }
    seen.sort_unstable();
    seen.dedup();
    let seen = seen_on(&seen, cx);
    let b = &sn.occ.block;
    let record = SnippetRecord {
        id: d.ids.snippet(si).to_string(),
        text: b.text.clone(),
        source: scanned.source(sn.first.0).to_string(),
        metadata: SnippetMeta {
            title: b.title.clone(),
            category: b.category.clone().unwrap_or_default(),
            date: b.date.clone(),
            truncated: sn.occ.truncated,
            seen_in: Vec::new(),
            seen_in_rejected: Vec::new(),
            simhash: hex64(d.snippets.fps[si as usize].fp.primary()),
            duplicates: members
                .iter()
                .map(|&m| d.ids.snippet(m).to_string())
                .collect(),
            aliases: aliases_among(
                &b.title,
                members
                    .iter()
                    .map(|&m| all[m as usize].occ.block.title.as_str()),
                cx.rules,
            ),
            article: d.links[si as usize].map(|pi| d.ids.page(pi).into_owned()),
            answer: sn.occ.answer.clone(),
            url: sn.occ.url.clone(),
            occurrences,
        },
    };
    (record, seen)
}

/// `seen_again.jsonl`: a line per earlier snippet seen again tonight, with tonight's
/// pages that carried it, written a line at a time: a snippet common on the site lists
/// most pages, and as records of `String` ids every line was held before the file was
/// written (1.6M ids, a 58 MB file, on a night of 100k site pages against the last).
fn write_seen_again(st: &mut Staging, cx: Context<'_>) -> Result<(), Error> {
    let io = Error::output(st.out());
    let mut w = st.create("seen_again.jsonl").map_err(&io)?;
    let all = &cx.scanned.snippets;
    let ns = all.len() as u32;
    let mut line = Vec::new();
    for (n, (&e, tonight)) in cx.d.snippets.seen_again.iter().enumerate() {
        let mut pages: Vec<u32> = tonight
            .iter()
            .flat_map(|&si| all[si as usize].seen_in.iter())
            .collect();
        pages.sort_unstable();
        pages.dedup();
        let seen = seen_on(&pages, cx);
        let record = SeenAgainRecord {
            id: cx.d.ids.snippet(ns + e).to_string(),
            earlier: cx.earlier_ref(RecordKind::Snippet, e),
            seen_in: Vec::new(),
            seen_in_rejected: Vec::new(),
            occurrences: tonight.iter().map(|&si| all[si as usize].occurrences).sum(),
        };
        line.clear();
        write_seen_line(&mut line, &record, &seen, &cx.d.ids).map_err(&io)?;
        w.write_all(&line).map_err(&io)?;
        if (n + 1) % SNIPPETS_BETWEEN_RELEASES == 0 {
            cx.release_columns();
        }
    }
    cx.release_columns();
    crate::output::jsonl::finish(w).map_err(&io)
}

/// The titles of a kept record's duplicates that differ from its own and from each other
/// (compared in dedup's normalized form), in member order.
fn aliases_among<'a>(
    kept: &str,
    members: impl Iterator<Item = &'a str>,
    rules: &Rules,
) -> Vec<String> {
    let norm = |t: &str| normalize_with(t, &rules.dedup.normalize);
    let mut seen: HashSet<String> = HashSet::from([norm(kept)]);
    members
        .filter(|t| seen.insert(norm(t)))
        .map(str::to_string)
        .collect()
}

/// One line of `dropped.jsonl`.
#[allow(clippy::too_many_arguments)]
fn dropped_record(
    kind: RecordKind,
    id: &str,
    source: &str,
    title: &str,
    text: &str,
    kept_id: &str,
    dup: &Duplicate,
    n_fp: usize,
) -> DroppedRecord {
    DroppedRecord {
        id: id.to_string(),
        kind,
        source: source.to_string(),
        title: title.to_string(),
        text: text.to_string(),
        duplicate_of: kept_id.to_string(),
        match_kind: dup.kind,
        hamming: dup.hamming,
        similarity: round4(dup.similarity),
        hammings: dup.hammings[..n_fp].to_vec(),
        proposed_by: dup.proposed_by,
        kept_by: dup.kept_by,
        earlier: None,
    }
}

/// Which clusters the report shows in full and lists first, chosen from the decisions
/// before `duplicates.jsonl` is written (its lines are not kept).
#[derive(Debug)]
pub struct ClusterPlan {
    /// Clusters per section ([`html::Section::ALL`] order).
    pub counts: [usize; 4],
    /// Indices (in cluster order) of the clusters shown in full: the first of each section
    /// within `output.html_max_clusters` ([`html::clusters::shown_quota`]), and those of
    /// the pairs to look at first.
    pub shown: Vec<usize>,
    /// The pairs to look at first: (cluster index, dropped member), lowest similarity
    /// first.
    pub look_first: Vec<(usize, u32)>,
}

impl ClusterPlan {
    /// The plan for `cx`'s clusters.
    pub fn new(cx: Context<'_>) -> ClusterPlan {
        let d = cx.d;
        let decided = |kind| d.decided(kind);
        let sections: Vec<html::Section> = d
            .clusters
            .iter()
            .map(|c| {
                let dropped = &decided(c.kind).dropped;
                let near = d
                    .members_of(c)
                    .iter()
                    .any(|m| dropped.get(m).is_some_and(|x| x.kind == MatchKind::Near));
                html::Section::classify(c.kind, cx.earlier(c.kind, c.kept).is_some(), near)
            })
            .collect();
        let mut counts = [0; 4];
        for s in &sections {
            counts[s.index()] += 1;
        }
        let budget = cx.rules.config.output.html_max_clusters;
        let mut quota = html::clusters::shown_quota(counts, budget);
        let mut shown: Vec<usize> = Vec::new();
        for (i, s) in sections.iter().enumerate() {
            if quota[s.index()] > 0 {
                quota[s.index()] -= 1;
                shown.push(i);
            }
        }
        // The near merges of lowest similarity; ties in cluster and member order.
        let mut near: Vec<(u64, usize, u32)> = Vec::new();
        for (i, c) in d.clusters.iter().enumerate() {
            for &m in d.members_of(c) {
                if let Some(x) = decided(c.kind).dropped.get(&m) {
                    if x.kind == MatchKind::Near {
                        near.push((x.similarity.max(0.0).to_bits(), i, m));
                        if near.len() > 4 * html::clusters::LOOK_FIRST {
                            near.sort_unstable();
                            near.truncate(html::clusters::LOOK_FIRST);
                        }
                    }
                }
            }
        }
        near.sort_unstable();
        near.truncate(html::clusters::LOOK_FIRST);
        let look_first: Vec<(usize, u32)> = near.into_iter().map(|(_, i, m)| (i, m)).collect();
        shown.extend(look_first.iter().map(|&(i, _)| i));
        shown.sort_unstable();
        shown.dedup();
        ClusterPlan {
            counts,
            shown,
            look_first,
        }
    }
}

/// `duplicates.jsonl` and the paged cluster files beside `report.html`, made and written a
/// chunk of clusters at a time; returns the records `report.html` shows in full and the
/// pairs to look at first.
fn write_clusters(
    st: &mut Staging,
    cx: Context<'_>,
    plan: &ClusterPlan,
) -> Result<(Vec<ClusterRecord>, Vec<html::LookFirst>), Error> {
    let io = Error::output(st.out());
    let mut w = st.create("duplicates.jsonl").map_err(&io)?;
    let mut pages = html::clusters::Pages::new(plan.counts);
    let mut shown: Vec<(usize, ClusterRecord)> = Vec::new();
    let mut next = plan.shown.iter().peekable();
    let mut at = 0;
    for chunk in cx.d.clusters.chunks(CLUSTER_CHUNK) {
        let names = Names::of_clusters(cx, chunk)?;
        let records: Vec<ClusterRecord> = chunk
            .par_iter()
            .map(|c| cluster_record(c, cx, &names))
            .collect();
        for r in records {
            json_line(&mut w, &r).map_err(&io)?;
            let in_report = next.next_if_eq(&&at).is_some();
            if let Some((name, page)) = pages.add(&r, in_report) {
                st.write_bytes(&name, page.as_bytes()).map_err(&io)?;
            }
            if in_report {
                shown.push((at, r));
            }
            at += 1;
        }
        cx.release_columns();
    }
    crate::output::jsonl::finish(w).map_err(&io)?;
    for (name, page) in pages.finish() {
        st.write_bytes(&name, page.as_bytes()).map_err(&io)?;
    }
    let look_first = plan
        .look_first
        .iter()
        .filter_map(|&(ci, m)| {
            let (_, c) = shown.iter().find(|(i, _)| *i == ci)?;
            let id = match c.kind {
                RecordKind::Article => cx.d.ids.page(m),
                RecordKind::Snippet => cx.d.ids.snippet(m).into(),
            };
            let member = c.members.iter().find(|x| x.id == *id)?.clone();
            Some(html::LookFirst {
                cluster: c.cluster.clone(),
                kind: c.kind,
                kept_title: c.members[0].title.clone(),
                member,
            })
        })
        .collect();
    Ok((shown.into_iter().map(|(_, r)| r).collect(), look_first))
}

/// One line of `duplicates.jsonl`: the kept record first, then each member with its
/// evidence.
fn cluster_record(c: &Cluster, cx: Context<'_>, names: &Names) -> ClusterRecord {
    let (scanned, d) = (cx.scanned, cx.d);
    let n_fp = cx.rules.dedup.fingerprints;
    let decided = d.decided(c.kind);
    let id = |i: u32| match c.kind {
        RecordKind::Article => d.ids.page(i),
        RecordKind::Snippet => d.ids.snippet(i).into(),
    };
    let who = |i: u32| -> (String, String) {
        let source = match (d.ids.earlier(c.kind, i), c.kind) {
            (Some(e), _) => e.source.clone(),
            (None, RecordKind::Article) => scanned.source(i).to_string(),
            (None, RecordKind::Snippet) => {
                let first = scanned.snippets[i as usize].first.0;
                scanned.source(first).to_string()
            }
        };
        let title = match names.get(c.kind, i) {
            Some(t) => t.to_string(),
            None => scanned.snippets[i as usize].occ.block.title.clone(),
        };
        (source, title)
    };
    let member = |i: u32, dup: Option<&Duplicate>| {
        let (source, title) = who(i);
        ClusterMember {
            id: id(i).to_string(),
            source,
            title,
            match_kind: dup.map_or(MatchKind::Exact, |d| d.kind),
            hamming: dup.map_or(0, |d| d.hamming),
            similarity: dup.map_or(1.0, |d| round4(d.similarity)),
            hammings: dup.map_or(vec![0; n_fp], |d| d.hammings[..n_fp].to_vec()),
            proposed_by: dup.map_or(crate::dedup::Proposers::EXACT, |d| d.proposed_by),
            kept_by: dup.map(|d| d.kept_by),
            earlier: cx.earlier_of(c.kind, i),
        }
    };
    let mut members = vec![member(c.kept, None)];
    members.extend(
        d.members_of(c)
            .iter()
            .map(|&m| member(m, decided.dropped.get(&m))),
    );
    let kept = members[0].id.clone();
    ClusterRecord {
        cluster: format!("c-{}", &kept[2..]),
        kind: c.kind,
        kept,
        keep: cx.rules.dedup.keep,
        members,
    }
}

/// `rejects.jsonl`, in input order.
fn reject_records(scanned: &Scanned, d: &Decisions) -> Vec<RejectRecord> {
    scanned
        .pages
        .rejects()
        .map(|pi| (pi, scanned.pages.get(pi)))
        .filter_map(|(pi, p)| match &p.kind {
            SummaryKind::Reject {
                reject,
                title,
                snippets,
            } => Some(RejectRecord {
                source: scanned.source(pi as u32).to_string(),
                reason: reject.reason,
                detail: reject.detail.clone(),
                id: d.ids.page(pi as u32).into_owned(),
                title: title.clone(),
                snippets: *snippets,
            }),
            SummaryKind::Article { .. } => None,
        })
        .collect()
}

/// (title, text) of the records `report.html` shows in full: the members of the clusters
/// `shown` (indices), at most `html_max_members` beside each kept record.
fn shown_texts(
    cx: Context<'_>,
    shown: &[usize],
) -> Result<HashMap<String, (String, String)>, Error> {
    let out = &cx.rules.config.output;
    let d = cx.d;
    let mut texts = HashMap::new();
    for c in shown.iter().map(|&i| &d.clusters[i]) {
        let shown = std::iter::once(c.kept).chain(d.members_of(c).iter().copied());
        for i in shown.take(out.html_max_members.saturating_add(1)) {
            let (id, title, text) = match (c.kind, cx.earlier(c.kind, i)) {
                (kind, Some(e)) => {
                    let r = cx.history.record(kind, e)?;
                    let id = match kind {
                        RecordKind::Article => d.ids.page(i),
                        RecordKind::Snippet => d.ids.snippet(i).into(),
                    };
                    (id, r.title, r.text)
                }
                (RecordKind::Article, None) => {
                    let r = cx.store.load(i)?;
                    (d.ids.page(i), r.title, r.text)
                }
                (RecordKind::Snippet, None) => {
                    let b = &cx.scanned.snippets[i as usize].occ.block;
                    (d.ids.snippet(i).into(), b.title.clone(), b.text.clone())
                }
            };
            texts.insert(id.to_string(), (title, text));
        }
    }
    Ok(texts)
}

fn json_line<W: Write, T: serde::Serialize>(w: &mut W, row: &T) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, row)?;
    w.write_all(b"\n")
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::spill::Spilled;

    /// A dropped row rendered from its plan (serialized without title and text, the
    /// record's put where they go) is what serde writes for the whole row: titles and
    /// texts with quotes, breaks and the cut's own bytes, a source that holds them too,
    /// with and without an earlier run's reference.
    #[test]
    fn dropped_rows_from_plans_are_serdes() {
        let dup = crate::run::decide::tests::dup(3, 1, MatchKind::Near);
        let odd = r#","title":"","text":"""#;
        for (source, title, text, earlier) in [
            ("a/页.txt", "医保 \"问\"", "第一行\n第二行\t\u{1}", false),
            (odd, odd, odd, true),
            ("", "", "", false),
        ] {
            let mut row = dropped_record(
                RecordKind::Article,
                "a-2",
                source,
                title,
                text,
                "a-1",
                &dup,
                2,
            );
            let mut blank =
                dropped_record(RecordKind::Article, "a-2", source, "", "", "a-1", &dup, 2);
            if earlier {
                let r = EarlierRef {
                    output: "/out/一".into(),
                    file: "articles.jsonl".into(),
                    offset: 7,
                    started: "2026-01-01T00:00:00Z".into(),
                };
                (row.earlier, blank.earlier) = (Some(r.clone()), Some(r));
            }
            let mut want = Vec::new();
            json_line(&mut want, &row).unwrap();
            let plan = LinePlan::dropped(&blank).unwrap();
            let sp = Spilled::new(
                crate::record::ArticleRecord {
                    text: text.into(),
                    metadata: crate::record::ArticleMeta {
                        title: title.into(),
                        ..Default::default()
                    },
                    ..Default::default()
                },
                Vec::new(),
            );
            let (dropped, got) = render_line(&plan, &sp, &|_| None);
            assert!(dropped);
            assert_eq!(
                String::from_utf8(got).unwrap(),
                String::from_utf8(want).unwrap()
            );
        }
    }

    /// A snippet line with its page lists written from the keys is what serde writes for
    /// the record with the lists filled: ids computed, repeated (`-2`) and of earlier
    /// runs; empty lists; a text that holds the lists' own bytes, quotes and breaks; with
    /// and without a link.
    #[test]
    fn snippet_lines_with_written_id_lists_are_serdes() {
        use crate::run::decide::ids::{EarlierId, Ids};
        let keys: Vec<u128> = (0..6u128)
            .map(|k| k * 0x1234_5678_9abc_def0_1122_3344)
            .collect();
        let mut ids = Ids {
            pages: keys.into_iter().collect(),
            ..Ids::default()
        };
        ids.repeated.insert(2, "a-repeated-2".into());
        ids.earlier_articles.insert(
            9,
            EarlierId {
                id: "a-earlier\"id".into(),
                source: String::new(),
                loc: crate::history::Loc {
                    run: 0,
                    offset: 0,
                    len: 0,
                },
            },
        );
        let meta = |url: Option<&str>| SnippetMeta {
            title: "异地就医\"备案\"".into(),
            category: "健康新闻".into(),
            date: Some("2025-04-08".into()),
            truncated: true,
            seen_in: Vec::new(),
            seen_in_rejected: Vec::new(),
            simhash: hex64(7),
            duplicates: vec!["s-1".into()],
            aliases: vec![],
            article: None,
            answer: Some("可以".into()),
            occurrences: 3,
            url: url.map(str::to_string),
        };
        let texts = [
            "可以报销。",
            r#"正文里写着 "seen_in":[],"seen_in_rejected":[] 和\n换行"#,
        ];
        let lists: [(Vec<u32>, Vec<u32>); 3] = [
            (vec![0, 1, 2, 9], vec![3, 5]),
            (vec![], vec![]),
            (vec![4], vec![]),
        ];
        for text in texts {
            for url in [None, Some("https://example.org/a?b=1")] {
                for (articles, rejected) in &lists {
                    let record = SnippetRecord {
                        id: "s-1".into(),
                        text: text.into(),
                        source: "p/1.txt".into(),
                        metadata: meta(url),
                    };
                    let seen = SeenOn {
                        articles: articles.clone(),
                        rejected: rejected.clone(),
                    };
                    let mut ours = b"earlier line\n".to_vec();
                    write_seen_line(&mut ours, &record, &seen, &ids).unwrap();
                    let mut full = record.clone();
                    let strings = |v: &[u32]| v.iter().map(|&p| ids.page(p).into_owned()).collect();
                    full.metadata.seen_in = strings(articles);
                    full.metadata.seen_in_rejected = strings(rejected);
                    let mut want = b"earlier line\n".to_vec();
                    json_line(&mut want, &full).unwrap();
                    assert_eq!(
                        String::from_utf8(ours).unwrap(),
                        String::from_utf8(want).unwrap()
                    );
                }
            }
        }
    }

    #[test]
    fn aliases_are_distinct_titles_other_than_the_kept_one() {
        let rules = Rules::builtin();
        let got = aliases_among(
            "医保卡能借给家人用吗",
            [
                "医保卡能借给家人用吗？",
                "医保卡可以给家人用吗",
                "医保卡 可以给家人用吗",
            ]
            .into_iter(),
            &rules,
        );
        assert_eq!(got, ["医保卡可以给家人用吗"]);
    }

    #[test]
    fn dropped_records_carry_the_evidence_rounded() {
        let dup = Duplicate {
            member: 3,
            kept: 1,
            kind: MatchKind::Near,
            hamming: 2,
            hammings: [2, 5, 1, 7],
            similarity: 0.876_54,
            proposed_by: crate::dedup::Proposers::LSH,
            kept_by: crate::dedup::keep::KeptBy::MostCentral,
        };
        let r = dropped_record(
            RecordKind::Article,
            "a-3",
            "p3.txt",
            "t",
            "x",
            "a-1",
            &dup,
            2,
        );
        assert_eq!(r.duplicate_of, "a-1");
        assert_eq!(r.similarity, 0.8765);
        assert_eq!(r.hammings, [2, 5]);
        assert_eq!(
            serde_json::to_value(&r).unwrap()["match"],
            serde_json::json!("near")
        );
    }
}
