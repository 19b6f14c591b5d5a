//! Phase 1 split over processes or machines (the Ray job, `python -m pagesieve.ray`): each
//! contiguous shard of the sorted file list is scanned on its own into two files named by
//! its number — `shard-000007.spill` (its article records) and `shard-000007.pages` (each
//! page's summary, related blocks and learned-boilerplate sample) — and phase 2 loads them
//! in shard order into exactly what [`crate::run::summarize::summarize_all`] would have
//! produced over all the files. So the records and reports are the CLI's, byte for byte.
//!
//! Repeated related blocks cost a key: within a shard, a block's title, text and the rest
//! are written at its first occurrence only, and later occurrences name its key (on the
//! site's pages, ~75% of whose bytes are repeated blocks, this keeps `.pages` at a few
//! hundred bytes a page instead of ~10 KB).
//!
//! A shard's files are a pure function of its files and the run's rules (pages are scanned
//! in parallel, then written in page order), written under temporary names and renamed,
//! `.pages` last: a task that is killed and retried rewrites the same bytes, and a shard
//! whose `.pages` file exists is complete. (The scan's CPU times, which vary, go to a
//! third file, `.cpu`, read for `report.json`'s timings only.)

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::boilerplate::{PageSample, Samples};
use crate::codec::{corrupt, Dec, Enc};
use crate::dedup::minhash::{Signature, SIGNATURE_BINS};
use crate::dedup::{Fingerprint, MAX_FINGERPRINTS_EXTRA};
use crate::error::Error;
use crate::ingest::names::NameCode;
use crate::ingest::InputFile;
use crate::page::{LineKind, SnippetBlock, StripKind, StripSet};
use crate::record::{Reject, RejectReason};
use crate::rules::Rules;
use crate::run::seen_in::SeenInPool;
use crate::run::spill::{Spill, SpillRef};
use crate::run::summarize::{
    reading_rules, scan_in_chunks, ColumnWriters, PageSummary, Scanned, SnippetMerge, SpillOrder,
    Summarized, SummaryKind,
};
use crate::scan::{LineSample, ScanCpu, ScannedPage, SnippetOccurrence};

const MAGIC: &[u8; 8] = b"PSSHARD3";

/// A shard's file: `shard-000007.pages` or `shard-000007.spill`.
pub fn shard_file(dir: &Path, shard: u32, ext: &str) -> PathBuf {
    dir.join(format!("shard-{shard:06}.{ext}"))
}

/// What scanning one shard found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShardStats {
    /// Files scanned.
    pub pages: usize,
    /// Of those, articles.
    pub articles: usize,
    /// Related blocks seen.
    pub snippets: usize,
}

/// Where a shard's files come from: the run they are part of.
#[derive(Debug, Clone, Copy)]
pub struct ShardOf<'a> {
    /// Files in the whole run (the learned-boilerplate sample rate and the page-cache
    /// decision are the run's).
    pub total_files: usize,
    /// The run's `--input`: every file opened must resolve into it unless
    /// `follow_symlinks`.
    pub input: &'a Path,
    /// `--follow-symlinks`.
    pub follow_symlinks: bool,
}

/// Scans one shard (`files`, contiguous in the run's sorted list) with the CLI's scan
/// loop (`scan_in_chunks`) and writes its files into `dir`.
pub fn scan_shard(
    files: Vec<InputFile>,
    of: ShardOf<'_>,
    rules: &Rules,
    dir: &Path,
    shard: u32,
) -> Result<ShardStats, Error> {
    let rules = reading_rules(rules, &files, of.total_files, of.input, of.follow_symlinks);
    std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
    let spill_path = shard_file(dir, shard, "spill");
    let pages_path = shard_file(dir, shard, "pages");
    let tmp = |p: &Path| p.with_extension(format!("tmp-{}", std::process::id()));
    let spill = Spill::create(&tmp(&spill_path), dir)?;
    let mut e = Enc::default();
    e.0.extend_from_slice(MAGIC);
    e.u32(shard);
    e.u64(files.len() as u64);
    let mut stats = ShardStats {
        pages: files.len(),
        ..ShardStats::default()
    };
    let mut written = HashSet::new();
    let take = |_, r: &mut ScannedPage, sample| (std::mem::take(&mut r.snippets), sample);
    let cpu = scan_in_chunks(
        files,
        of.total_files,
        &rules,
        (&spill, SpillOrder::PageOrder),
        take,
        |page, (sn, sample)| {
            stats.snippets += sn.len();
            stats.articles += usize::from(matches!(page.summary.kind, SummaryKind::Article { .. }));
            put_page(&mut e, &page, &sn, &sample, &mut written);
            Ok(())
        },
    )?;
    spill.flush()?;
    drop(spill);
    let io = Error::output(dir);
    let times: Vec<u8> = [cpu.read, cpu.decode, cpu.segment]
        .iter()
        .flat_map(|d| (d.as_nanos() as u64).to_le_bytes())
        .collect();
    std::fs::write(shard_file(dir, shard, "cpu"), times).map_err(&io)?;
    std::fs::rename(tmp(&spill_path), &spill_path).map_err(&io)?;
    std::fs::write(tmp(&pages_path), &e.0).map_err(&io)?;
    std::fs::rename(tmp(&pages_path), &pages_path).map_err(&io)?;
    Ok(stats)
}

/// Loads shards `0..count` from `dir`, in order, attaching their spill files to `spill`
/// and appending the pages' signatures to `sigs`: the pages, merged snippets and samples
/// phase 1 would have produced over all the files.
pub fn load_shards(
    dir: &Path,
    count: u32,
    (spill, mut columns): (&Spill, ColumnWriters),
) -> Result<Scanned, Error> {
    let merge = SnippetMerge::new();
    let mut seen_in = SeenInPool::default();
    let mut samples = Samples::default();
    let mut cpu = ScanCpu::default();
    // One buffer for every shard file: a file of ~1 MB each, read anew into the heap,
    // left holes among the run's small allocations that only the phase's end handed back.
    let mut bytes = Vec::new();
    for shard in 0..count {
        let path = shard_file(dir, shard, "pages");
        bytes.clear();
        std::fs::File::open(&path)
            .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut bytes))
            .map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
        let file = spill.attach(&shard_file(dir, shard, "spill"))?;
        let bad = |source| Error::Read {
            path: path.clone(),
            source,
        };
        let mut d = Dec(&bytes);
        if d.take(8).map_err(bad)? != MAGIC || d.u32().map_err(bad)? != shard {
            return Err(bad(corrupt("shard file (wrong magic or shard number)")));
        }
        let n = d.u64().map_err(bad)?;
        // CPU times are informative: a missing or short file adds nothing.
        let times = std::fs::read(shard_file(dir, shard, "cpu")).unwrap_or_default();
        let mut t = Dec(&times);
        for field in [&mut cpu.read, &mut cpu.decode, &mut cpu.segment] {
            *field += std::time::Duration::from_nanos(t.u64().unwrap_or(0));
        }
        for _ in 0..n {
            let pi = columns.pages() as u32;
            let (page, snippets, sample) = get_page(&mut d, file).map_err(bad)?;
            for (bi, (key, occ)) in snippets.iter().enumerate() {
                let list = match occ {
                    Some(occ) => Some(merge.add(pi, bi as u32, occ)),
                    None => merge.add_again(*key),
                };
                let Some(list) = list else {
                    return Err(bad(corrupt(
                        "shard file (a block named before it is written)",
                    )));
                };
                seen_in.push(list, pi);
            }
            columns.push(page)?;
            samples.push(pi, sample);
        }
        if !d.is_empty() {
            return Err(bad(corrupt("shard file (bytes after the last page)")));
        }
    }
    columns.finish((merge, &seen_in), samples, cpu)
}

/// One page's summary, related blocks and sample; `written` holds the keys of the blocks
/// this shard has written in full, so that a repeated block is written as its key alone.
fn put_page(
    e: &mut Enc,
    page: &Summarized,
    snippets: &[SnippetOccurrence],
    sample: &PageSample,
    written: &mut HashSet<u128>,
) {
    let (p, sig) = (&page.summary, page.sig.as_ref());
    e.str(&page.source);
    e.u128(page.key);
    e.bool(p.html);
    e.opt_str(p.encoding.name());
    e.opt_str(p.compression.name());
    e.u8(p.stripped.bits());
    match &p.kind {
        SummaryKind::Article {
            spill,
            fp,
            title_key,
            replacements,
        } => {
            e.u8(0);
            let (_, offset, len) = spill.parts();
            e.u64(offset);
            e.u32(len);
            put_fingerprint(e, fp, sig.copied().unwrap_or_default());
            e.u64(*title_key);
            e.u32(*replacements);
        }
        SummaryKind::Reject {
            reject,
            title,
            snippets,
        } => {
            e.u8(1);
            let reason = RejectReason::ALL.iter().position(|r| *r == reject.reason);
            e.u8(reason.unwrap_or(0) as u8);
            e.str(&reject.detail);
            e.opt_str(title.as_deref());
            e.u64(*snippets as u64);
        }
    }
    e.u32(snippets.len() as u32);
    for s in snippets {
        e.u128(s.key);
        let first = written.insert(s.key);
        e.bool(first);
        if !first {
            continue;
        }
        let b = &s.block;
        e.str(&b.title);
        e.str(&b.text);
        e.opt_str(b.category.as_deref());
        e.opt_str(b.date.as_deref());
        e.bool(b.complete);
        e.opt_str(s.answer.as_deref());
        e.bool(s.truncated);
        e.opt_str(s.url.as_deref());
    }
    e.u64(sample.title);
    e.u64(sample.body);
    e.u32(sample.lines.len() as u32);
    for l in &sample.lines {
        e.u64(l.hash);
        e.str(l.kind.as_str());
        e.str(&l.text);
    }
}

fn put_fingerprint(e: &mut Enc, fp: &Fingerprint, sig: Signature) {
    e.u64(fp.primary);
    match &fp.more {
        Some(more) => {
            e.u8(1);
            for m in more.iter() {
                e.u64(*m);
            }
        }
        None => e.u8(0),
    }
    e.u64(fp.exact[0]);
    e.u64(fp.exact[1]);
    e.u32(fp.chars);
    e.0.extend_from_slice(&sig.0);
}

/// A page as a shard file holds it: each related block is its key, with the block itself
/// at the block's first occurrence in the shard.
type Page = (
    Summarized,
    Vec<(u128, Option<SnippetOccurrence>)>,
    PageSample,
);

fn get_page(d: &mut Dec<'_>, file: u32) -> std::io::Result<Page> {
    let source = d.string()?;
    let key = d.u128()?;
    let html = d.bool()?;
    let encoding = NameCode::of_name(d.opt_string()?.as_deref());
    let compression = NameCode::of_name(d.opt_string()?.as_deref());
    let stripped = StripSet::from_bits(d.u8()?);
    let mut sig = None;
    let kind = match d.u8()? {
        0 => {
            let offset = d.u64()?;
            let len = d.u32()?;
            let (fp, signature) = get_fingerprint(d)?;
            sig = Some(signature);
            SummaryKind::Article {
                spill: SpillRef::new(file, offset, len),
                fp,
                title_key: d.u64()?,
                replacements: d.u32()?,
            }
        }
        1 => {
            let reason = *RejectReason::ALL
                .get(d.u8()? as usize)
                .ok_or_else(|| corrupt("reject reason"))?;
            SummaryKind::Reject {
                reject: Reject::new(reason, d.string()?),
                title: d.opt_string()?,
                snippets: d.u64()? as usize,
            }
        }
        _ => return Err(corrupt("page kind")),
    };
    let n = d.u32()?;
    let mut snippets = Vec::with_capacity((n as usize).min(4096));
    for _ in 0..n {
        let key = d.u128()?;
        if !d.bool()? {
            snippets.push((key, None));
            continue;
        }
        let block = SnippetBlock {
            title: d.string()?,
            text: d.string()?,
            category: d.opt_string()?,
            date: d.opt_string()?,
            complete: d.bool()?,
        };
        let occ = SnippetOccurrence {
            key,
            block,
            answer: d.opt_string()?,
            truncated: d.bool()?,
            url: d.opt_string()?,
        };
        snippets.push((key, Some(occ)));
    }
    let mut sample = PageSample {
        title: d.u64()?,
        body: d.u64()?,
        lines: Vec::new(),
    };
    let n = d.u32()?;
    for _ in 0..n {
        let hash = d.u64()?;
        let kind = line_kind(&d.string()?)?;
        sample.lines.push(LineSample {
            hash,
            kind,
            text: d.string()?.into(),
        });
    }
    let summary = PageSummary {
        html,
        kind,
        encoding,
        stripped,
        compression,
    };
    let page = Summarized {
        key,
        summary,
        sig,
        source,
    };
    Ok((page, snippets, sample))
}

fn get_fingerprint(d: &mut Dec<'_>) -> std::io::Result<(Fingerprint, Signature)> {
    let primary = d.u64()?;
    let more = match d.u8()? {
        0 => None,
        _ => {
            let mut m = [0u64; MAX_FINGERPRINTS_EXTRA];
            for x in &mut m {
                *x = d.u64()?;
            }
            Some(Box::new(m))
        }
    };
    let exact = [d.u64()?, d.u64()?];
    let chars = d.u32()?;
    let mut signature = Signature::default();
    signature.0.copy_from_slice(d.take(SIGNATURE_BINS)?);
    let fp = Fingerprint {
        primary,
        more,
        exact,
        chars,
    };
    Ok((fp, signature))
}

fn line_kind(name: &str) -> std::io::Result<LineKind> {
    let fixed = [LineKind::Title, LineKind::Body, LineKind::RelatedBlock];
    fixed
        .into_iter()
        .chain(StripKind::ALL.into_iter().map(LineKind::Stripped))
        .find(|k| k.as_str() == name)
        .ok_or_else(|| corrupt("line kind"))
}
