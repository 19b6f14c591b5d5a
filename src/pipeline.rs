//! Phase 2: everything that needs all pages at once — snippet merging, duplicate decisions,
//! links — then the output files. Phase 1 (`scan`) runs in parallel before it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;

use crate::config::Compiled;
use crate::dedup::shingle::{normalize_with, shingle_set};
use crate::dedup::{deduplicate, fingerprint, DedupStats, Drop, Fingerprint, Item, MatchKind};

const EMPTY_FP: Fingerprint = Fingerprint {
    simhash: [0; crate::dedup::fingerprint::MAX_FINGERPRINTS],
    exact: 0,
    chars: 0,
};
use crate::boilerplate;
use crate::ingest::{walk, InputFile};
use crate::output::report::{ArticleCounts, FileCounts, Report, SnippetCounts};
use crate::output::{html, Staging};
use crate::record::{
    hex64, snippet_id, ArticleRecord, ClusterMember, ClusterRecord, DroppedRecord, RejectReason,
    RejectRecord, SnippetMeta, SnippetRecord,
};
use crate::scan::{scan_file_sampled, Outcome, PageResult, SnippetOccurrence};

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

/// One distinct (title, text) related block, merged over all pages.
struct Snippet {
    occ: SnippetOccurrence,
    /// Fingerprint of the text, computed once per distinct block (blocks repeat across
    /// thousands of pages, so this is not done in phase 1).
    fp: Fingerprint,
    first_page: u32,
    seen_in: Vec<u32>,
    occurrences: usize,
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

    // Phase 1.
    let t = Instant::now();
    let bar = crate::progress::bar(walked.files.len() as u64, "scan", s.progress);
    let rate = boilerplate::sample_rate(walked.files.len(), &c.config.boilerplate);
    let mut results: Vec<PageResult> = pool.install(|| {
        walked
            .files
            .par_iter()
            .map(|f: &InputFile| {
                let r = scan_file_sampled(f, c, boilerplate::is_sampled(&f.source, rate));
                bar.inc(1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    timings.insert("scan".into(), t.elapsed().as_millis() as u64);

    // Learned boilerplate: counted on the sample, optionally stripped from every body.
    let (mut learned, in_body) = boilerplate::learn(&results, &c.config.boilerplate);
    if c.config.boilerplate.strip && !in_body.is_empty() {
        learned.stripped_pages = boilerplate::strip(&mut results, &in_body, c);
    }
    for r in &mut results {
        r.lines = Vec::new();
    }

    // Phase 2.
    let t = Instant::now();
    // Per-page counts for the report, taken before phase 2 moves the records out.
    let page_counts = page_counts(&results);
    let out = pool.install(|| decide(&mut results, c));
    timings.insert("dedup".into(), t.elapsed().as_millis() as u64);

    let t = Instant::now();
    let mut report = build_report(page_counts, results.len(), &out, c, walked.excluded);
    report.learned_boilerplate = learned;
    let write_result = write_all(s, &out, &mut report, &results, &mut timings, t, t_start);
    write_result?;
    Ok(Summary {
        report,
        walk_problems: walked.problems,
    })
}

/// Everything phase 2 decided, ready to write.
struct Decided {
    articles: Vec<ArticleRecord>,
    snippets: Vec<SnippetRecord>,
    dropped: Vec<DroppedRecord>,
    clusters: Vec<ClusterRecord>,
    rejects: Vec<RejectRecord>,
    counts_articles: ArticleCounts,
    counts_snippets: SnippetCounts,
    article_stats: DedupStats,
    snippet_stats: DedupStats,
}

fn decide(results: &mut [PageResult], c: &Compiled) -> Decided {
    let n_shingle = c.config.dedup.shingle_chars;
    let norm_cfg = &c.config.dedup.normalize;
    let normalize = |t: &str| normalize_with(t, norm_cfg);
    let n_fp = c
        .config
        .dedup
        .fingerprints
        .clamp(1, crate::dedup::fingerprint::MAX_FINGERPRINTS);

    // Merge identical related blocks.
    let mut by_key: HashMap<u128, u32> = HashMap::new();
    let mut snippets: Vec<Snippet> = Vec::new();
    let mut page_related: Vec<Vec<u32>> = Vec::with_capacity(results.len());
    let mut occurrences = 0usize;
    for (pi, r) in results.iter().enumerate() {
        let mut rel = Vec::with_capacity(r.snippets.len());
        for occ in &r.snippets {
            occurrences += 1;
            let si = *by_key.entry(occ.key).or_insert_with(|| {
                snippets.push(Snippet {
                    occ: occ.clone(),
                    fp: EMPTY_FP,
                    first_page: pi as u32,
                    seen_in: Vec::new(),
                    occurrences: 0,
                });
                (snippets.len() - 1) as u32
            });
            let sn = &mut snippets[si as usize];
            sn.occurrences += 1;
            if sn.seen_in.last() != Some(&(pi as u32)) {
                sn.seen_in.push(pi as u32);
            }
            if !rel.contains(&si) {
                rel.push(si);
            }
        }
        page_related.push(rel);
    }
    let dc = &c.config.dedup;
    snippets.par_iter_mut().for_each(|s| {
        s.fp = fingerprint(&s.occ.block.text, dc);
    });
    let snippet_ids = unique_ids(snippets.iter().map(|s| snippet_id(s.occ.key)));
    let page_ids = unique_ids(results.iter().map(|r| r.id.clone()));

    // Article duplicates.
    let art_pages: Vec<u32> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r.outcome, Outcome::Article(..)))
        .map(|(i, _)| i as u32)
        .collect();
    let art = |pi: u32| -> (&ArticleRecord, &Fingerprint) {
        match &results[pi as usize].outcome {
            Outcome::Article(a, fp) => (a, fp),
            Outcome::Reject(_) => unreachable!("art_pages holds articles only"),
        }
    };
    let items: Vec<Item> = art_pages
        .iter()
        .map(|&pi| Item {
            fp: *art(pi).1,
            order: pi,
        })
        .collect();
    let (art_drops, article_stats) = deduplicate(&items, &c.config.dedup, |i| {
        shingle_set(&normalize(&art(art_pages[i as usize]).0.text), n_shingle)
    });

    // Snippet duplicates: identical (title, text) are merged already; the same text under
    // another title, or a near text, is a dropped duplicate.
    let with_text: Vec<u32> = (0..snippets.len() as u32)
        .filter(|&i| !snippets[i as usize].occ.block.text.is_empty())
        .collect();
    let sitems: Vec<Item> = with_text
        .iter()
        .map(|&i| Item {
            fp: snippets[i as usize].fp,
            order: i,
        })
        .collect();
    let (snip_drops, snippet_stats) = deduplicate(&sitems, &c.config.dedup, |i| {
        shingle_set(
            &normalize(&snippets[with_text[i as usize] as usize].occ.block.text),
            n_shingle,
        )
    });
    // snippet index → (kept snippet index, drop)
    let mut snip_dropped: HashMap<u32, (u32, Drop)> = HashMap::new();
    for d in &snip_drops {
        snip_dropped.insert(
            with_text[d.member as usize],
            (with_text[d.kept as usize], *d),
        );
    }
    let kept_snippet = |si: u32| snip_dropped.get(&si).map_or(si, |(k, _)| *k);

    // Article records with duplicates, aliases and related ids.
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
    // Normalized title → kept article id, for snippet links.
    let mut title_to_article: HashMap<String, u32> = HashMap::new();
    for &pi in &art_pages {
        let kept = art_dropped.get(&pi).map_or(pi, |(k, _)| *k);
        let key = normalize(&art(pi).0.metadata.title);
        if key.is_empty() {
            continue;
        }
        let e = title_to_article.entry(key).or_insert(kept);
        if kept < *e {
            *e = kept;
        }
    }

    // Clusters for audit (before the records are moved out below).
    let mut clusters = Vec::new();
    clusters.extend(build_clusters(
        "article",
        &dups_of,
        &art_dropped,
        n_fp,
        |i| {
            let a = art(i).0;
            (
                page_ids[i as usize].as_str(),
                a.source.as_str(),
                a.metadata.title.as_str(),
            )
        },
    ));
    // Titles of dropped articles, for their kept article's aliases.
    let dropped_titles: HashMap<u32, String> = art_dropped
        .keys()
        .map(|&m| (m, art(m).0.metadata.title.clone()))
        .collect();

    // Move each article record out of phase 1's results instead of copying it.
    let mut articles = Vec::new();
    let mut dropped = Vec::new();
    let mut counts_articles = ArticleCounts::default();
    for &pi in &art_pages {
        let mut rec = match &mut results[pi as usize].outcome {
            Outcome::Article(a, _) => std::mem::take(&mut **a),
            Outcome::Reject(_) => unreachable!("art_pages holds articles only"),
        };
        rec.id = page_ids[pi as usize].clone();
        let mut related: Vec<String> = Vec::new();
        for &si in &page_related[pi as usize] {
            let id = &snippet_ids[kept_snippet(si) as usize];
            if !related.contains(id) {
                related.push(id.clone());
            }
        }
        rec.metadata.related = related;
        if let Some(&(k, d)) = art_dropped.get(&pi) {
            match d.kind {
                MatchKind::Exact => counts_articles.dropped_exact += 1,
                MatchKind::Near => counts_articles.dropped_near += 1,
            }
            dropped.push(DroppedRecord {
                id: rec.id,
                kind: "article".into(),
                source: rec.source,
                title: rec.metadata.title,
                text: rec.text,
                duplicate_of: page_ids[k as usize].clone(),
                match_kind: d.kind.as_str().into(),
                hamming: d.hamming,
                similarity: round4(d.similarity),
                hammings: d.hammings[..n_fp].to_vec(),
            });
            continue;
        }
        if let Some(ds) = dups_of.get(&pi) {
            let own = normalize(&rec.metadata.title);
            let mut seen_titles: HashSet<String> = HashSet::new();
            seen_titles.insert(own);
            for &m in ds {
                rec.metadata.duplicates.push(page_ids[m as usize].clone());
                let t = &dropped_titles[&m];
                if seen_titles.insert(normalize(t)) {
                    rec.metadata.aliases.push(t.clone());
                }
            }
        }
        counts_articles.kept += 1;
        articles.push(rec);
    }

    // Snippet records.
    let mut sdups_of: HashMap<u32, Vec<u32>> = HashMap::new();
    for (&m, &(k, _)) in &snip_dropped {
        sdups_of.entry(k).or_default().push(m);
    }
    for v in sdups_of.values_mut() {
        v.sort_unstable();
    }
    let mut counts_snippets = SnippetCounts {
        occurrences,
        ..SnippetCounts::default()
    };
    let mut snippet_records = Vec::new();
    let mut snippet_dropped = Vec::new();
    for (si, sn) in snippets.iter().enumerate() {
        let si = si as u32;
        let b = &sn.occ.block;
        if !b.complete {
            counts_snippets.incomplete += 1;
        }
        let source = results[sn.first_page as usize].source.clone();
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
        let article = title_to_article
            .get(&normalize(&b.title))
            .map(|&pi| page_ids[pi as usize].clone());
        if article.is_some() {
            counts_snippets.linked += 1;
        }
        snippet_records.push(SnippetRecord {
            id: snippet_ids[si as usize].clone(),
            text: b.text.clone(),
            source,
            metadata: SnippetMeta {
                title: b.title.clone(),
                category: b.category.clone().unwrap_or_default(),
                date: b.date.clone(),
                truncated: sn.occ.truncated,
                seen_in: seen.iter().map(|&p| page_ids[p as usize].clone()).collect(),
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
    dropped.extend(snippet_dropped);

    clusters.extend(build_clusters(
        "snippet",
        &sdups_of,
        &snip_dropped,
        n_fp,
        |i| {
            let sn = &snippets[i as usize];
            (
                snippet_ids[i as usize].as_str(),
                results[sn.first_page as usize].source.as_str(),
                sn.occ.block.title.as_str(),
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

    let rejects = results
        .iter()
        .enumerate()
        .filter_map(|(pi, r)| match &r.outcome {
            Outcome::Reject(rej) => Some(RejectRecord {
                source: r.source.clone(),
                reason: rej.reason,
                detail: rej.detail.clone(),
                id: page_ids[pi].clone(),
                title: r.title.clone(),
                snippets: r.snippets.len(),
            }),
            Outcome::Article(..) => None,
        })
        .collect();

    Decided {
        articles,
        snippets: snippet_records,
        dropped,
        clusters,
        rejects,
        counts_articles,
        counts_snippets,
        article_stats,
        snippet_stats,
    }
}

/// The audit clusters of one kind: `dups_of` maps each kept index to the indices dropped as
/// its duplicates, `drops` each dropped index to its decision, and `who(i)` gives a record's
/// (id, source, title). The kept record comes first.
fn build_clusters<'a>(
    kind: &str,
    dups_of: &HashMap<u32, Vec<u32>>,
    drops: &HashMap<u32, (u32, Drop)>,
    n_fp: usize,
    who: impl Fn(u32) -> (&'a str, &'a str, &'a str),
) -> Vec<ClusterRecord> {
    let member = |i: u32, d: Option<&Drop>| {
        let (id, source, title) = who(i);
        ClusterMember {
            id: id.to_string(),
            source: source.to_string(),
            title: title.to_string(),
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
            let id = who(k).0;
            ClusterRecord {
                cluster: format!("c-{}", &id[2..]),
                kind: kind.into(),
                kept: id.to_string(),
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

fn page_counts(results: &[PageResult]) -> PageCounts {
    let mut stripped: BTreeMap<String, usize> = crate::page::segment::STRIP_RULES
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    let mut encodings: BTreeMap<String, usize> = BTreeMap::new();
    let mut compression: BTreeMap<String, usize> = BTreeMap::new();
    for r in results {
        for k in &r.stripped {
            *stripped.entry(k.clone()).or_default() += 1;
        }
        if let Some(e) = r.encoding {
            *encodings.entry(e.to_string()).or_default() += 1;
        }
        if let Outcome::Article(a, _) = &r.outcome {
            if let Some(z) = &a.metadata.compression {
                *compression.entry(z.clone()).or_default() += 1;
            }
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
        learned_boilerplate: Default::default(),
        timings_ms: BTreeMap::new(),
    }
}

fn write_all(
    s: &Settings,
    d: &Decided,
    report: &mut Report,
    results: &[PageResult],
    timings: &mut BTreeMap<String, u64>,
    t_write: Instant,
    t_start: Instant,
) -> Result<(), RunError> {
    let io = |e: std::io::Error| {
        RunError::Io(format!(
            "cannot write output to {}: {e}",
            s.output.display()
        ))
    };
    let mut st = Staging::new(&s.output).map_err(io)?;
    let res = (|| -> std::io::Result<()> {
        st.write_jsonl("articles.jsonl", &d.articles)?;
        st.write_jsonl("snippets.jsonl", &d.snippets)?;
        st.write_jsonl("dropped.jsonl", &d.dropped)?;
        st.write_jsonl("duplicates.jsonl", &d.clusters)?;
        st.write_jsonl("rejects.jsonl", &d.rejects)?;
        let scan_us: [u64; 3] = results.iter().fold([0; 3], |acc, r| {
            [
                acc[0] + r.micros[0],
                acc[1] + r.micros[1],
                acc[2] + r.micros[2],
            ]
        });
        timings.insert("read_cpu".into(), scan_us[0] / 1000);
        timings.insert("decode_cpu".into(), scan_us[1] / 1000);
        timings.insert("segment_cpu".into(), scan_us[2] / 1000);
        timings.insert("write".into(), t_write.elapsed().as_millis() as u64);
        timings.insert("total".into(), t_start.elapsed().as_millis() as u64);
        report.timings_ms = timings.clone();
        let mut texts: HashMap<String, (String, String)> = HashMap::new();
        let in_cluster: HashSet<&str> = d.clusters.iter().map(|c| c.kept.as_str()).collect();
        for a in d
            .articles
            .iter()
            .filter(|a| in_cluster.contains(a.id.as_str()))
        {
            texts.insert(a.id.clone(), (a.metadata.title.clone(), a.text.clone()));
        }
        for sn in d
            .snippets
            .iter()
            .filter(|x| in_cluster.contains(x.id.as_str()))
        {
            texts.insert(sn.id.clone(), (sn.metadata.title.clone(), sn.text.clone()));
        }
        let extra = html::Extra {
            article_candidates: d.article_stats.candidates,
            snippet_candidates: d.snippet_stats.candidates,
            max_clusters: s.config.config.output.html_max_clusters,
            max_members: s.config.config.output.html_max_members,
        };
        let page = html::render(report, &d.clusters, &d.dropped, &d.rejects, &texts, &extra);
        st.write_bytes("report.html", page.as_bytes())?;
        let json = serde_json::to_vec_pretty(&*report).map_err(std::io::Error::other)?;
        st.write_bytes("report.json", &json)?;
        Ok(())
    })();
    match res {
        Ok(()) => st.commit().map_err(io),
        Err(e) => {
            st.abort();
            Err(io(e))
        }
    }
}
