//! Phase 1 over every file: each file is scanned in parallel ([`crate::scan`]), its article
//! record appended to the spill file, and only a small [`PageSummary`] kept; identical
//! related blocks merge as they are seen ([`MergedSnippet`]).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::boilerplate::{self, PageSample, Samples};
use crate::dedup::minhash::Signature;
use crate::dedup::Fingerprinted;
use crate::error::Error;
use crate::ingest::names::NameCode;
use crate::ingest::InputFile;
use crate::prehashed::HashedMap;
use crate::rules::Rules;
use crate::run::page_keys::{KeyWriter, PageKeys};
use crate::run::seen_in::{ListWriter, SeenIn, SeenInPool};
use crate::run::signatures::{SignatureWriter, Signatures};
use crate::run::sources::{SourceWriter, Sources};
use crate::run::spill::{Spill, Spilled};
pub use crate::run::summaries::{PageSummary, SummaryKind};
use crate::run::summaries::{Summaries, SummaryWriter};
use crate::scan::{scan_file_sampled, Outcome, ScanCpu, ScannedPage, SnippetOccurrence};

/// One distinct (title, text) related block, merged over all pages.
#[derive(Debug, Clone)]
pub struct MergedSnippet {
    /// xxh3-128 of title, U+001F, text.
    pub key: u128,
    /// The block as first seen (in input order).
    pub occ: SnippetOccurrence,
    /// (page, block) of its first occurrence in input order.
    pub first: (u32, u32),
    /// Pages that carried it, ascending, distinct.
    pub seen_in: SeenIn,
    /// How many times it appeared.
    pub occurrences: usize,
}

/// The column files phase 1 appends each page to, in page order: its summary, signature,
/// source and key ([`crate::run::summaries`], [`crate::run::signatures`],
/// [`crate::run::sources`], [`crate::run::page_keys`]), and the snippets' page lists.
#[derive(Debug)]
pub struct ColumnWriters {
    /// The pages' summaries.
    pub summaries: SummaryWriter,
    /// The pages' MinHash signatures.
    pub signatures: SignatureWriter,
    /// The pages' paths relative to `--input`.
    pub sources: SourceWriter,
    /// The pages' keys.
    pub keys: KeyWriter,
    /// The pages each snippet was seen on.
    pub seen_in: ListWriter,
}

impl ColumnWriters {
    /// Appends `page`'s summary, signature, source and key (pages come in page order).
    pub(crate) fn push(&mut self, page: Summarized) -> Result<(), Error> {
        self.keys.push(page.key)?;
        self.signatures.push(page.sig.as_ref())?;
        self.sources.push(&page.source)?;
        self.summaries.push(page.summary)
    }

    /// Pages appended so far.
    pub(crate) fn pages(&self) -> usize {
        self.signatures.pages()
    }

    /// What phase 1 hands to phase 2: the columns written and mapped, and the snippets
    /// `merge` made, their page lists (`seen`) written out.
    pub(crate) fn finish(
        self,
        (merge, seen): (SnippetMerge, &SeenInPool),
        samples: Samples,
        cpu: ScanCpu,
    ) -> Result<Scanned, Error> {
        Ok(Scanned {
            pages: self.summaries.finish()?,
            keys: self.keys.finish()?,
            signatures: self.signatures.finish()?,
            sources: self.sources.finish()?,
            snippets: merge.finish(seen, self.seen_in)?,
            samples,
            cpu,
        })
    }
}

/// What phase 1 hands to phase 2.
#[derive(Debug)]
pub struct Scanned {
    /// One summary per input file, in input order (a mapped column).
    pub pages: Summaries,
    /// Each page's key, what its id is made from ([`crate::record::page_key`]), in input
    /// order. Phase 2 moves them into its [`crate::run::decide::Ids`] (this is then
    /// empty), so that a million pages do not hold their 16 MB of keys twice.
    pub keys: PageKeys,
    /// Each page's MinHash signature, by page index (zeros for a reject).
    pub signatures: Signatures,
    /// Each page's path relative to `--input`, in input order.
    pub sources: Sources,
    /// Distinct related blocks, in order of first occurrence.
    pub snippets: Vec<MergedSnippet>,
    /// The pages in the learned-boilerplate sample (emptied once learned).
    pub samples: Samples,
    /// CPU time per stage, summed over workers.
    pub cpu: ScanCpu,
}

impl Scanned {
    /// Page `i`'s path relative to `--input`.
    pub fn source(&self, i: u32) -> &str {
        self.sources.get(i as usize)
    }
}

/// Files scanned between two joins of the workers: a chunk's summaries are collected with
/// `?` (a failed spill write stops the run) and then appended, so the extra memory is one
/// chunk's, not the corpus's.
const CHUNK: usize = 16_384;

/// Scans every file in parallel, spilling records, appending each page's signature to the
/// column `sigs` in page order and merging snippets.
pub fn summarize_all(
    files: Vec<InputFile>,
    rules: &Rules,
    (spill, mut columns): (&Spill, ColumnWriters),
    progress: bool,
) -> Result<Scanned, Error> {
    let bar = crate::progress::bar(files.len() as u64, "scan", progress);
    let merge = SnippetMerge::new();
    let mut seen_in = SeenInPool::default();
    // Added by the workers as they finish: a chunk's samples are not all held at once.
    let samples = Mutex::new(Samples::default());
    let total = files.len();
    // A page's blocks are merged on its worker; the pages each block was seen on are
    // added in page order, by the sink, so that each list grows ascending.
    let each = |pi: u32, r: &mut ScannedPage, sample: PageSample| -> Vec<u32> {
        if !sample.lines.is_empty() {
            samples
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(pi, sample);
        }
        let lists = r.snippets.iter().enumerate();
        let lists = lists
            .map(|(bi, occ)| merge.add(pi, bi as u32, occ))
            .collect();
        bar.inc(1);
        lists
    };
    let spill = (spill, SpillOrder::AsScanned);
    let cpu = scan_in_chunks(files, total, rules, spill, each, |page, lists| {
        let pi = columns.pages() as u32;
        lists.into_iter().for_each(|l| seen_in.push(l, pi));
        columns.push(page)
    })?;
    bar.finish_and_clear();
    crate::trim::phase_end("scan: pages");
    let samples = samples.into_inner().unwrap_or_else(|e| e.into_inner());
    columns.finish((merge, &seen_in), samples, cpu)
}

/// Where a page's record goes to the spill during [`scan_in_chunks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpillOrder {
    /// From the worker that scanned it, as it finishes (the CLI: the spill is this run's
    /// scratch, read by reference).
    AsScanned,
    /// In page order (a Ray shard: its files must be a pure function of its pages, so a
    /// retried task rewrites the same bytes).
    PageOrder,
}

/// A page scanned by a worker: summarized there, or left for the ordered spill. (Held for
/// one chunk only; boxing the summary would cost the CLI's scan an allocation a page.)
#[allow(clippy::large_enum_variant)]
enum Scanned1 {
    Summarized(Summarized),
    Pending(Box<ScannedPage>, Vec<u128>),
}

/// The scan loop of every phase 1 (the CLI's over all files, a Ray shard task's over its
/// shard): `files` of a run over `total_files` files, scanned in parallel a chunk at a
/// time, each page's record spilled to `spill` in `order`. `each(page, scanned, sample)`
/// runs on the worker (page: its index among `files`; sample: its learned-boilerplate
/// sample) and may take what it needs of the page; `sink` gets each page [`Summarized`],
/// in page order, with what `each` returned. Returns the scan's CPU times.
pub(crate) fn scan_in_chunks<T: Send>(
    files: Vec<InputFile>,
    total_files: usize,
    rules: &Rules,
    (spill, order): (&Spill, SpillOrder),
    each: impl Fn(u32, &mut ScannedPage, PageSample) -> T + Sync,
    mut sink: impl FnMut(Summarized, T) -> Result<(), Error>,
) -> Result<ScanCpu, Error> {
    let rate = boilerplate::sample_rate(total_files, &rules.config.boilerplate);
    let mut cpu = ScanCpu::default();
    // The list cut into its chunks first, each dropped once scanned: at a million files
    // the list is ~80 MB of entries and ~80 MB of paths and names, which the page
    // summaries reuse as the scan goes (iterating the one list would hold its buffer to
    // the end, at the scan's peak).
    for (c, chunk) in into_chunks(files, CHUNK).into_iter().enumerate() {
        let done: Vec<(Scanned1, ScanCpu, T)> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, f)| {
                let pi = (c * CHUNK + i) as u32;
                let mut r = scan_file_sampled(f, rules, boilerplate::is_sampled(&f.source, rate));
                let keys: Vec<u128> = r.snippets.iter().map(|s| s.key).collect();
                let sample = page_sample(&mut r, rules);
                let got = each(pi, &mut r, sample);
                let cpu = r.cpu;
                let page = match order {
                    SpillOrder::AsScanned => {
                        Scanned1::Summarized(summarize(r, &keys, rules, spill)?)
                    }
                    SpillOrder::PageOrder => Scanned1::Pending(Box::new(r), keys),
                };
                Ok((page, cpu, got))
            })
            .collect::<Result<_, Error>>()?;
        for (page, c, got) in done {
            cpu += c;
            let page = match page {
                Scanned1::Summarized(s) => s,
                Scanned1::Pending(r, keys) => summarize(*r, &keys, rules, spill)?,
            };
            sink(page, got)?;
        }
        drop(chunk);
        // The chunk's page buffers are freed between the summaries that stay; handed back
        // now, the heap does not keep a high-water mark of them over the whole scan.
        crate::trim::trim();
    }
    // The workers' line caches are of no use after the scan.
    rayon::broadcast(|_| crate::page::line_cache::clear());
    crate::trim::trim();
    Ok(cpu)
}

/// `v` cut into vectors of `n` elements (the last one shorter), in order.
fn into_chunks<T>(v: Vec<T>, n: usize) -> Vec<Vec<T>> {
    let mut out = Vec::with_capacity(v.len().div_ceil(n));
    let mut it = v.into_iter();
    loop {
        let chunk: Vec<T> = it.by_ref().take(n).collect();
        if chunk.is_empty() {
            return out;
        }
        out.push(chunk);
    }
}

/// The rules a phase 1 reads its files with: whether each file leaves the page cache
/// once read (`input.evict_after_read`, decided from the whole run's size: `files` are
/// some of its `total_files`), and, unless symlinks are followed, the folder every
/// opened file must resolve into (`input`: a file swapped for a symlink between the
/// listing and its read is refused as `outside_input`).
pub fn reading_rules(
    rules: &Rules,
    files: &[InputFile],
    total_files: usize,
    input: &std::path::Path,
    follow_symlinks: bool,
) -> Rules {
    let mut r = rules.clone();
    r.input.evict_after_read =
        crate::ingest::cache::should_evict_run(files, total_files, r.input.config.evict_after_read);
    if !follow_symlinks {
        r.input.confine = std::fs::canonicalize(input).ok();
    }
    r
}

/// The page's sampled lines, with hashes of its title and body.
pub(crate) fn page_sample(r: &mut ScannedPage, rules: &Rules) -> PageSample {
    let lines = std::mem::take(&mut r.lines);
    if lines.is_empty() {
        return PageSample::default();
    }
    PageSample {
        title: r.title.as_deref().map_or(0, |t| title_key(t, rules)),
        body: match &r.outcome {
            Outcome::Article(_, f) => f.fp.exact[1],
            Outcome::Reject(_) => 0,
        },
        lines,
    }
}

/// What phase 1 keeps of a page.
pub(crate) struct Summarized {
    /// What its id is made from ([`crate::record::page_key`]).
    pub key: u128,
    /// Its summary.
    pub summary: PageSummary,
    /// Its article's signature (`None`: no article).
    pub sig: Option<Signature>,
    /// Its path relative to `--input`.
    pub source: String,
}

/// Keeps what phase 2 needs of a page and spills its record (`related`: the keys of its
/// related blocks, in page order); returns the summary, the article's signature and the
/// page's source.
pub(crate) fn summarize(
    r: ScannedPage,
    related: &[u128],
    rules: &Rules,
    spill: &Spill,
) -> Result<Summarized, Error> {
    let mut sig = None;
    let kind = match r.outcome {
        Outcome::Article(record, Fingerprinted { fp, signature }) => {
            sig = Some(signature);
            let title_key = title_key(&record.metadata.title, rules);
            let replacements = u32::try_from(record.metadata.replacements).unwrap_or(u32::MAX);
            let spilled = Spilled::new(*record, related.to_vec());
            SummaryKind::Article {
                spill: spill.put_article(&spilled)?,
                fp,
                title_key,
                replacements,
            }
        }
        Outcome::Reject(reject) => SummaryKind::Reject {
            reject,
            title: r.title,
            snippets: related.len(),
        },
    };
    let summary = PageSummary {
        html: r.html,
        kind,
        encoding: NameCode::of(r.encoding),
        stripped: r.stripped,
        compression: NameCode::of(r.compression),
    };
    Ok(Summarized {
        key: r.key,
        summary,
        sig,
        source: r.source,
    })
}

/// xxh3 of a title in dedup's normalized form: titles equal under it link a snippet to an
/// article.
pub fn title_key(title: &str, rules: &Rules) -> u64 {
    crate::record::title_key(title, &rules.dedup.normalize)
}

/// Identical related blocks, merged by key while phase 1 runs. Which worker sees a block
/// first does not matter: the block kept is the one from the smallest (page, block). Each
/// distinct block gets a list number, under which the caller adds the pages it was seen
/// on to a [`SeenInPool`] in page order.
pub(crate) struct SnippetMerge {
    shards: Vec<Mutex<HashedMap<u128, (u32, MergedSnippet)>>>,
    lists: AtomicU32,
}

impl SnippetMerge {
    pub(crate) fn new() -> Self {
        SnippetMerge {
            shards: (0..64).map(|_| Mutex::new(HashedMap::default())).collect(),
            lists: AtomicU32::new(0),
        }
    }

    /// Counts an occurrence of `occ`, block `block` of page `page`; returns the block's
    /// list number.
    pub(crate) fn add(&self, page: u32, block: u32, occ: &SnippetOccurrence) -> u32 {
        let shard = &self.shards[(occ.key % 64) as usize];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        let (list, e) = map.entry(occ.key).or_insert_with(|| {
            let list = self.lists.fetch_add(1, Ordering::Relaxed);
            let merged = MergedSnippet {
                key: occ.key,
                occ: occ.clone(),
                first: (page, block),
                seen_in: SeenIn::default(),
                occurrences: 0,
            };
            (list, merged)
        });
        if (page, block) < e.first {
            e.first = (page, block);
            e.occ = occ.clone();
        }
        e.occurrences += 1;
        *list
    }

    /// Counts another occurrence of a block already added; returns its list number, or
    /// `None` when no block has that key (a shard file that names a block before writing
    /// it).
    pub(crate) fn add_again(&self, key: u128) -> Option<u32> {
        let shard = &self.shards[(key % 64) as usize];
        let mut map = shard.lock().unwrap_or_else(|e| e.into_inner());
        map.get_mut(&key).map(|(list, e)| {
            e.occurrences += 1;
            *list
        })
    }

    /// The merged snippets in order of first occurrence, each with its pages from `seen`,
    /// written out in that order to `lists`' file and read from it mapped.
    pub(crate) fn finish(
        self,
        seen: &SeenInPool,
        lists: ListWriter,
    ) -> Result<Vec<MergedSnippet>, Error> {
        let mut v: Vec<(u32, MergedSnippet)> = self
            .shards
            .into_iter()
            .flat_map(|m| {
                m.into_inner()
                    .unwrap_or_else(|e| e.into_inner())
                    .into_values()
            })
            .collect();
        v.par_sort_unstable_by_key(|(_, s)| s.first);
        let order: Vec<u32> = v.iter().map(|&(list, _)| list).collect();
        let pages = seen.write_out(&order, lists)?;
        Ok(v.into_iter()
            .zip(pages)
            .map(|((_, mut s), seen_in)| {
                s.seen_in = seen_in;
                s
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::SnippetBlock;

    fn occ(key: u128, title: &str) -> SnippetOccurrence {
        SnippetOccurrence {
            key,
            block: SnippetBlock {
                title: title.into(),
                text: "正文".into(),
                category: None,
                date: None,
                complete: true,
            },
            answer: None,
            url: None,
            truncated: false,
        }
    }

    /// After the scan no worker keeps the facts of the lines it saw.
    #[test]
    fn the_scan_leaves_no_line_cache_behind() {
        let input = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("input");
        let rules = Rules::builtin();
        let opts = crate::ingest::walk::WalkOptions {
            skip: None,
            follow_symlinks: false,
        };
        let files = crate::ingest::walk::walk(&input, &rules.input, opts)
            .expect("the sample is listed")
            .files;
        let dir = std::env::temp_dir().join(format!("pagesieve-cache-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let spill = Spill::create(&dir.join("spill"), &dir).expect("a spill");
        let columns = ColumnWriters {
            summaries: SummaryWriter::create(&dir.join("summaries"), &dir, false)
                .expect("a column"),
            signatures: SignatureWriter::create(&dir.join("sigs"), &dir).expect("a column"),
            sources: SourceWriter::create(&dir.join("sources"), &dir).expect("a column"),
            keys: KeyWriter::create(&dir.join("keys"), &dir).expect("a column"),
            seen_in: ListWriter::create(&dir.join("lists"), &dir).expect("a column"),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a pool");
        let left = pool.install(|| {
            let scanned =
                summarize_all(files, &rules, (&spill, columns), false).expect("the sample scans");
            assert!(scanned.pages.len() > 40);
            rayon::broadcast(|_| crate::page::line_cache::cached_bytes())
        });
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(left, [0, 0]);
    }

    #[test]
    fn a_list_is_cut_into_chunks_in_order() {
        let cut = into_chunks((0..7).collect(), 3);
        assert_eq!(cut, [vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
        assert!(into_chunks(Vec::<u8>::new(), 3).is_empty());
    }

    #[test]
    fn merge_keeps_the_first_occurrence_whatever_the_arrival_order() {
        let m = SnippetMerge::new();
        let mut seen = SeenInPool::default();
        let add = |page, block, o| {
            let list = m.add(page, block, &o);
            (list, page)
        };
        let mut added = vec![
            add(5, 0, occ(1, "late")),
            add(2, 3, occ(1, "early")),
            add(2, 1, occ(7, "other")),
            add(5, 2, occ(1, "late again")),
        ];
        // The caller adds pages in page order.
        added.sort_by_key(|&(_, page)| page);
        added.into_iter().for_each(|(l, p)| seen.push(l, p));
        let dir = tempfile::tempdir().unwrap();
        let lists = ListWriter::create(&dir.path().join("lists"), dir.path()).unwrap();
        let v = m.finish(&seen, lists).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].key, v[0].first), (7, (2, 1)));
        assert_eq!(v[1].occ.block.title, "early");
        assert_eq!(v[1].seen_in.iter().collect::<Vec<_>>(), [2, 5]);
        assert_eq!(v[1].occurrences, 3);
    }
}
