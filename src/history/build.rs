//! Making index segments from entries held in memory: tonight's kept records (borrowed
//! from the run), a format-1 index being converted, and earlier output folders
//! (`pagesieve index`, under the current settings).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::dedup::fingerprint;
use crate::dedup::lsh::Bands;
use crate::error::Error;
use crate::history::legacy;
use crate::history::manifest::{self, Manifest, RunRef, SegmentRef, SEGMENT_EXT};
use crate::history::rows::IndexRows;
use crate::history::segment::{write_segment, KindInput, RunCount, SegmentParams, TableSource};
use crate::history::{relative, settings, Entries, Loc};
use crate::record::title_key;
use crate::rules::Rules;

/// A run's unique id: a hash of its output folder, start and generation, so the same
/// run has the same id in every index that covers it.
pub fn run_uid(dir: &Path, started: &str, generation: Option<&str>) -> String {
    let key = format!(
        "{}\u{1f}{started}\u{1f}{}",
        dir.display(),
        generation.unwrap_or("")
    );
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

/// The parameters of a segment made under `rules`.
pub fn segment_params(rules: &Rules, runs: Vec<RunCount>) -> SegmentParams {
    let s = settings::of(&rules.config.dedup);
    SegmentParams {
        id: format!("{:016x}", crate::generation::token()),
        settings_hash: format!("{:016x}", settings::hash(&s)),
        fingerprints: rules.dedup.fingerprints,
        bands: rules.dedup.lsh.unwrap_or(Bands {
            bands: rules.config.dedup.lsh_bands,
            rows: rules.config.dedup.lsh_rows,
        }),
        min_chars_near: rules.dedup.min_chars_near,
        runs,
    }
}

/// Writes one segment of `articles` and `snippets` (entries in memory, their tables sorted
/// here) into `dir`; returns the manifest's reference to it.
pub fn write_new_segment(
    dir: &Path,
    params: &SegmentParams,
    articles: &dyn IndexRows,
    snippets: &dyn IndexRows,
) -> std::io::Result<SegmentRef> {
    let file = format!("seg-{}.{SEGMENT_EXT}", params.id);
    let input = |rows| KindInput {
        rows,
        tables: TableSource::Sort,
    };
    let (header, bytes) =
        write_segment(&dir.join(&file), params, input(articles), input(snippets))?;
    Ok(SegmentRef {
        file,
        id: header.id,
        bytes,
        articles: header.articles.entries,
        snippets: header.snippets.entries,
        skip_runs: Vec::new(),
    })
}

/// A manifest of `segments` and `runs` under the settings of `rules`.
pub fn manifest_of(
    rules: &Rules,
    generation: u64,
    segments: Vec<SegmentRef>,
    runs: Vec<RunRef>,
) -> Manifest {
    let s = settings::of(&rules.config.dedup);
    Manifest {
        format: manifest::FORMAT,
        tool: format!("pagesieve {}", env!("CARGO_PKG_VERSION")),
        created: crate::timings::utc(std::time::SystemTime::now()),
        generation,
        settings_hash: format!("{:016x}", settings::hash(&s)),
        settings: s,
        fingerprints: rules.dedup.fingerprints,
        articles: segments.iter().map(|s| s.articles).sum(),
        snippets: segments.iter().map(|s| s.snippets).sum(),
        segments,
        runs,
    }
}

/// Per-run entry counts of `articles` and `snippets` (whose rows name runs `0..runs`).
fn run_counts(uids: &[String], articles: &Entries, snippets: &Entries) -> Vec<RunCount> {
    let mut counts: Vec<RunCount> = uids
        .iter()
        .map(|u| RunCount {
            uid: u.clone(),
            articles: 0,
            snippets: 0,
        })
        .collect();
    for l in &articles.locs {
        counts[l.run as usize].articles += 1;
    }
    for l in &snippets.locs {
        counts[l.run as usize].snippets += 1;
    }
    counts
}

/// Converts a format-1 index (read into memory) into one segment in `dir`; returns the
/// manifest that describes it (run paths stay relative to the format-1 file's folder).
pub fn write_converted(
    header: &legacy::Header,
    articles: &Entries,
    snippets: &Entries,
    rules: &Rules,
    dir: &Path,
) -> std::io::Result<Manifest> {
    let uids: Vec<String> = header
        .runs
        .iter()
        .map(|r| run_uid(Path::new(&r.path), &r.started, None))
        .collect();
    let params = segment_params(rules, run_counts(&uids, articles, snippets));
    let seg = write_new_segment(dir, &params, articles, snippets)?;
    let runs = header
        .runs
        .iter()
        .zip(uids)
        .map(|(r, uid)| RunRef {
            uid,
            path: r.path.clone(),
            started: r.started.clone(),
            articles_bytes: r.articles_bytes,
            snippets_bytes: r.snippets_bytes,
            generation: None,
        })
        .collect();
    Ok(manifest_of(rules, 1, vec![seg], runs))
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
    let fps: Vec<crate::dedup::Fingerprinted> = read
        .rows
        .par_iter()
        .map(|(l, _, _)| fingerprint(&l.text, &rules.dedup))
        .collect();
    let mut e = Entries::with_capacity(fps.len());
    for ((l, offset, len), fp) in read.rows.iter().zip(fps) {
        e.fps.push(fp.fp);
        e.sigs.push(fp.signature);
        e.locs.push(Loc {
            run,
            offset: *offset,
            len: *len,
        });
        e.title_keys
            .push(title_key(&l.metadata.title, &rules.dedup.normalize));
        e.replacements
            .push(l.text.matches('\u{FFFD}').count().min(u32::MAX as usize) as u32);
        e.ids.push(&l.id);
        e.sources.push(&l.source);
    }
    e
}

/// Appends `from`'s entries to `into`.
fn append(into: &mut Entries, from: Entries) {
    for i in 0..from.len() {
        into.fps.push(from.fps[i].clone());
        into.sigs.push(from.sigs[i]);
        into.locs.push(from.locs[i]);
        into.title_keys.push(from.title_keys[i]);
        into.replacements.push(from.replacements[i]);
        into.ids.push(from.ids.get(i));
        into.sources.push(from.sources.get(i));
    }
}

/// `pagesieve index`: rebuilds an index over the kept records of the output folders `dirs`
/// under the settings of `rules`, into the index folder `out` (one segment; its previous
/// contents are replaced by one manifest rename, under its lock). Returns the manifest
/// written and the article and snippet entries.
pub fn rebuild(
    dirs: &[PathBuf],
    out: &Path,
    rules: &Rules,
    wait: bool,
) -> Result<(PathBuf, usize, usize), Error> {
    if dirs.is_empty() {
        return Err(Error::Usage(
            "pagesieve index: name at least one output folder".into(),
        ));
    }
    let io = Error::output(out);
    std::fs::create_dir_all(out).map_err(&io)?;
    let out_abs = out.canonicalize().map_err(&io)?;
    let _lock = crate::history::manifest::lock_index(&out_abs, wait)?;
    manifest::recover(&out_abs).map_err(&io)?;
    let mut runs = Vec::new();
    let mut uids = Vec::new();
    let (mut articles, mut snippets) = (Entries::default(), Entries::default());
    for (i, dir) in dirs.iter().enumerate() {
        let abs = dir.canonicalize().map_err(|source| Error::Read {
            path: dir.clone(),
            source,
        })?;
        let generation = crate::generation::current_name(&abs);
        let files = crate::generation::current(&abs).unwrap_or_else(|| abs.clone());
        let a = read_records(&files.join("articles.jsonl"))?;
        let s = read_records(&files.join("snippets.jsonl"))?;
        let started = std::fs::read(files.join("report.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["started"].as_str().map(str::to_string))
            .unwrap_or_default();
        let uid = run_uid(&abs, &started, generation.as_deref());
        runs.push(RunRef {
            uid: uid.clone(),
            path: relative(&out_abs, &abs).display().to_string(),
            started,
            articles_bytes: a.bytes,
            snippets_bytes: s.bytes,
            generation,
        });
        uids.push(uid);
        append(&mut articles, entries_of(&a, i as u32, rules));
        append(&mut snippets, entries_of(&s, i as u32, rules));
    }
    let (na, ns) = (articles.len(), snippets.len());
    let params = segment_params(rules, run_counts(&uids, &articles, &snippets));
    let seg = write_new_segment(&out_abs, &params, &articles, &snippets).map_err(&io)?;
    let generation = manifest::read(&out_abs.join(manifest::FILE)).map_or(0, |m| m.generation) + 1;
    let named = vec![seg.file.clone()];
    let m = manifest_of(rules, generation, vec![seg], runs);
    manifest::publish(&out_abs, &m).map_err(&io)?;
    manifest::remove_unnamed(&out_abs, &named).map_err(&io)?;
    let _ = std::fs::remove_file(out_abs.join(legacy::FILE_NAME));
    Ok((out_abs.join(manifest::FILE), na, ns))
}
