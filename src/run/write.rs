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
use crate::output::html;
use crate::output::report::Report;
use crate::output::Staging;
use crate::record::{
    hex64, related_list, ClusterMember, ClusterRecord, DroppedRecord, RecordKind, RejectRecord,
    SnippetMeta, SnippetRecord,
};
use crate::rules::Rules;
use crate::run::decide::{Cluster, Decisions};
use crate::run::store::ArticleStore;
use crate::run::summarize::{MergedSnippet, Scanned, SummaryKind};

/// Pages whose records are rendered in parallel before being written in order.
const WRITE_CHUNK: usize = 2048;

/// What the reports need from the record files.
#[derive(Debug, Default)]
pub struct Written {
    /// `duplicates.jsonl`, in order.
    pub clusters: Vec<ClusterRecord>,
    /// `rejects.jsonl`, in order.
    pub rejects: Vec<RejectRecord>,
    /// (title, text) of every record `report.html` shows in full, by id.
    pub texts: HashMap<String, (String, String)>,
}

/// Source and title of an article, read back once for everything that names it.
type Names = HashMap<u32, (String, String)>;

/// Writes `articles.jsonl`, `dropped.jsonl`, `snippets.jsonl`, `duplicates.jsonl` and
/// `rejects.jsonl` into the staging folder.
pub fn write_records(
    st: &mut Staging,
    scanned: &Scanned,
    d: &Decisions,
    rules: &Rules,
    store: &dyn ArticleStore,
    bar: &indicatif::ProgressBar,
) -> Result<Written, Error> {
    let names = article_names(scanned, d, store)?;
    write_articles(st, scanned, d, &names, rules, store, bar)?;
    write_snippets(st, scanned, d, rules)?;
    let io = Error::output(st.out());
    let clusters: Vec<ClusterRecord> = d
        .clusters
        .iter()
        .map(|c| cluster_record(c, scanned, d, &names, rules))
        .collect();
    st.write_jsonl("duplicates.jsonl", &clusters).map_err(&io)?;
    let rejects = reject_records(scanned, d);
    st.write_jsonl("rejects.jsonl", &rejects).map_err(&io)?;
    let texts = shown_texts(&d.clusters, scanned, d, rules, store)?;
    Ok(Written {
        clusters,
        rejects,
        texts,
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
    let page = html::render(report, &w.clusters, &w.rejects, &w.texts, &extra);
    st.write_bytes("report.html", page.as_bytes())
        .map_err(&io)?;
    let json = serde_json::to_vec_pretty(report).map_err(|e| io(std::io::Error::other(e)))?;
    st.write_bytes("report.json", &json).map_err(&io)
}

/// Source and title of every article in a cluster (read back once, in parallel).
fn article_names(
    scanned: &Scanned,
    d: &Decisions,
    store: &dyn ArticleStore,
) -> Result<Names, Error> {
    let pages: Vec<u32> = d
        .articles
        .members
        .iter()
        .flat_map(|(k, v)| std::iter::once(*k).chain(v.iter().copied()))
        .collect();
    pages
        .par_iter()
        .map(|&pi| {
            let title = store.load(pi)?.title;
            Ok((pi, (scanned.pages[pi as usize].source.clone(), title)))
        })
        .collect()
}

/// `articles.jsonl` and `dropped.jsonl` (dropped articles in input order, then dropped
/// snippets).
fn write_articles(
    st: &mut Staging,
    scanned: &Scanned,
    d: &Decisions,
    names: &Names,
    rules: &Rules,
    store: &dyn ArticleStore,
    bar: &indicatif::ProgressBar,
) -> Result<(), Error> {
    let io = Error::output(st.out());
    let mut kept_file = st.create("articles.jsonl").map_err(&io)?;
    let mut dropped_file = st.create("dropped.jsonl").map_err(&io)?;
    let articles: Vec<u32> = (0..scanned.pages.len() as u32)
        .filter(|&pi| scanned.pages[pi as usize].article_fp().is_some())
        .collect();
    for chunk in articles.chunks(WRITE_CHUNK) {
        let lines: Vec<(bool, Vec<u8>)> = chunk
            .par_iter()
            .map(|&pi| article_line(pi, scanned, d, names, rules, store))
            .collect::<Result<_, Error>>()?;
        for (dropped, line) in lines {
            let f = if dropped {
                &mut dropped_file
            } else {
                &mut kept_file
            };
            f.write_all(&line).map_err(&io)?;
        }
        bar.inc(chunk.len() as u64);
    }
    let n_fp = rules.dedup.fingerprints;
    for (si, sn) in scanned.snippets.iter().enumerate() {
        if let Some(dup) = d.snippets.decided.dropped.get(&(si as u32)) {
            let b = &sn.occ.block;
            let row = dropped_record(
                RecordKind::Snippet,
                &d.ids.snippets[si],
                &scanned.pages[sn.first.0 as usize].source,
                &b.title,
                &b.text,
                &d.ids.snippets[dup.kept as usize],
                dup,
                n_fp,
            );
            json_line(&mut dropped_file, &row).map_err(&io)?;
        }
    }
    crate::output::jsonl::finish(kept_file).map_err(&io)?;
    crate::output::jsonl::finish(dropped_file).map_err(&io)
}

/// One article's line: `(true, line)` for `dropped.jsonl`, `(false, line)` for
/// `articles.jsonl`.
fn article_line(
    pi: u32,
    scanned: &Scanned,
    d: &Decisions,
    names: &Names,
    rules: &Rules,
    store: &dyn ArticleStore,
) -> Result<(bool, Vec<u8>), Error> {
    let sp = store.load(pi)?;
    let id = &d.ids.pages[pi as usize];
    let mut line = Vec::with_capacity(sp.text.len() * 2 + 512);
    if let Some(dup) = d.articles.dropped.get(&pi) {
        let row = dropped_record(
            RecordKind::Article,
            id,
            &scanned.pages[pi as usize].source,
            &sp.title,
            &sp.text,
            &d.ids.pages[dup.kept as usize],
            dup,
            rules.dedup.fingerprints,
        );
        json_line(&mut line, &row).map_err(Error::output(Path::new("dropped.jsonl")))?;
        return Ok((true, line));
    }
    let related = related_list(
        sp.related
            .iter()
            .filter_map(|key| d.snippets.resolved.get(key))
            .map(|&si| d.ids.snippets[si as usize].as_str()),
    );
    let related: Vec<&str> = related.iter().map(String::as_str).collect();
    let (duplicates, aliases) = match d.articles.members.get(&pi) {
        Some(members) => (
            members
                .iter()
                .map(|&m| d.ids.pages[m as usize].clone())
                .collect(),
            aliases(
                &sp.title,
                members.iter().map(|m| names[m].1.as_str()),
                rules,
            ),
        ),
        None => (Vec::new(), Vec::new()),
    };
    sp.write_article(&mut line, id, &related, &duplicates, &aliases);
    line.push(b'\n');
    Ok((false, line))
}

/// `snippets.jsonl`: every kept snippet, with the pages and titles of its duplicates.
fn write_snippets(
    st: &mut Staging,
    scanned: &Scanned,
    d: &Decisions,
    rules: &Rules,
) -> Result<(), Error> {
    let io = Error::output(st.out());
    let mut w = st.create("snippets.jsonl").map_err(&io)?;
    for si in 0..scanned.snippets.len() {
        if d.snippets.decided.dropped.contains_key(&(si as u32)) {
            continue;
        }
        let rec = snippet_record(si as u32, scanned, d, rules);
        json_line(&mut w, &rec).map_err(&io)?;
    }
    crate::output::jsonl::finish(w).map_err(&io)
}

/// The record of kept snippet `si`: its own pages and occurrences plus its duplicates'.
fn snippet_record(si: u32, scanned: &Scanned, d: &Decisions, rules: &Rules) -> SnippetRecord {
    let all = &scanned.snippets;
    let sn = &all[si as usize];
    let members: &[u32] = d
        .snippets
        .decided
        .members
        .get(&si)
        .map_or(&[], Vec::as_slice);
    let mut seen: Vec<u32> = sn.seen_in.clone();
    let mut occurrences = sn.occurrences;
    for &m in members {
        seen.extend_from_slice(&all[m as usize].seen_in);
        occurrences += all[m as usize].occurrences;
    }
    seen.sort_unstable();
    seen.dedup();
    let b = &sn.occ.block;
    SnippetRecord {
        id: d.ids.snippets[si as usize].clone(),
        text: b.text.clone(),
        source: scanned.pages[sn.first.0 as usize].source.clone(),
        metadata: SnippetMeta {
            title: b.title.clone(),
            category: b.category.clone().unwrap_or_default(),
            date: b.date.clone(),
            truncated: sn.occ.truncated,
            seen_in: seen
                .iter()
                .filter(|&&p| scanned.pages[p as usize].article_fp().is_some())
                .map(|&p| d.ids.pages[p as usize].clone())
                .collect(),
            seen_in_rejected: seen
                .iter()
                .filter(|&&p| scanned.pages[p as usize].article_fp().is_none())
                .map(|&p| d.ids.pages[p as usize].clone())
                .collect(),
            simhash: hex64(d.snippets.fps[si as usize].primary()),
            duplicates: members
                .iter()
                .map(|&m| d.ids.snippets[m as usize].clone())
                .collect(),
            aliases: aliases(
                &b.title,
                members
                    .iter()
                    .map(|&m| all[m as usize].occ.block.title.as_str()),
                rules,
            ),
            article: d.links[si as usize].map(|pi| d.ids.pages[pi as usize].clone()),
            answer: sn.occ.answer.clone(),
            occurrences,
        },
    }
}

/// The titles of a kept record's duplicates that differ from its own and from each other
/// (compared in dedup's normalized form), in member order.
fn aliases<'a>(kept: &str, members: impl Iterator<Item = &'a str>, rules: &Rules) -> Vec<String> {
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
    }
}

/// One line of `duplicates.jsonl`: the kept record first, then each member with its
/// evidence.
fn cluster_record(
    c: &Cluster,
    scanned: &Scanned,
    d: &Decisions,
    names: &Names,
    rules: &Rules,
) -> ClusterRecord {
    let n_fp = rules.dedup.fingerprints;
    let (ids, decided) = match c.kind {
        RecordKind::Article => (&d.ids.pages, &d.articles),
        RecordKind::Snippet => (&d.ids.snippets, &d.snippets.decided),
    };
    let who = |i: u32| -> (String, String) {
        match c.kind {
            RecordKind::Article => names[&i].clone(),
            RecordKind::Snippet => {
                let sn: &MergedSnippet = &scanned.snippets[i as usize];
                (
                    scanned.pages[sn.first.0 as usize].source.clone(),
                    sn.occ.block.title.clone(),
                )
            }
        }
    };
    let member = |i: u32, dup: Option<&Duplicate>| {
        let (source, title) = who(i);
        ClusterMember {
            id: ids[i as usize].clone(),
            source,
            title,
            match_kind: dup.map_or(MatchKind::Exact, |d| d.kind),
            hamming: dup.map_or(0, |d| d.hamming),
            similarity: dup.map_or(1.0, |d| round4(d.similarity)),
            hammings: dup.map_or(vec![0; n_fp], |d| d.hammings[..n_fp].to_vec()),
            proposed_by: dup.map_or(crate::dedup::Proposers::EXACT, |d| d.proposed_by),
            kept_by: dup.map(|d| d.kept_by),
        }
    };
    let mut members = vec![member(c.kept, None)];
    members.extend(
        c.members
            .iter()
            .map(|&m| member(m, decided.dropped.get(&m))),
    );
    let kept = members[0].id.clone();
    ClusterRecord {
        cluster: format!("c-{}", &kept[2..]),
        kind: c.kind,
        kept,
        keep: rules.dedup.keep,
        members,
    }
}

/// `rejects.jsonl`, in input order.
fn reject_records(scanned: &Scanned, d: &Decisions) -> Vec<RejectRecord> {
    scanned
        .pages
        .iter()
        .enumerate()
        .filter_map(|(pi, p)| match &p.kind {
            SummaryKind::Reject {
                reject,
                title,
                snippets,
            } => Some(RejectRecord {
                source: p.source.clone(),
                reason: reject.reason,
                detail: reject.detail.clone(),
                id: d.ids.pages[pi].clone(),
                title: title.clone(),
                snippets: *snippets,
            }),
            SummaryKind::Article { .. } => None,
        })
        .collect()
}

/// (title, text) of the records `report.html` shows in full: the members of the first
/// `html_max_clusters` clusters, at most `html_max_members` beside each kept record.
fn shown_texts(
    clusters: &[Cluster],
    scanned: &Scanned,
    d: &Decisions,
    rules: &Rules,
    store: &dyn ArticleStore,
) -> Result<HashMap<String, (String, String)>, Error> {
    let out = &rules.config.output;
    let mut texts = HashMap::new();
    for c in clusters.iter().take(out.html_max_clusters) {
        let shown = std::iter::once(c.kept).chain(c.members.iter().copied());
        for i in shown.take(out.html_max_members.saturating_add(1)) {
            let (id, title, text) = match c.kind {
                RecordKind::Article => {
                    let r = store.load(i)?;
                    (&d.ids.pages[i as usize], r.title, r.text)
                }
                RecordKind::Snippet => {
                    let b = &scanned.snippets[i as usize].occ.block;
                    (&d.ids.snippets[i as usize], b.title.clone(), b.text.clone())
                }
            };
            texts.insert(id.clone(), (title, text));
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

    #[test]
    fn aliases_are_distinct_titles_other_than_the_kept_one() {
        let rules = Rules::builtin();
        let got = aliases(
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
