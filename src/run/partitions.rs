//! The article search's candidate stage over partition tasks, through files in a work
//! folder every task sees (the Ray job's `partitions=N`; [`crate::dedup::partition`] has
//! the stage itself):
//!
//! ```text
//! phase 2 (pagesieve.finish)   the searched texts' columns → search.cols
//! pagesieve.split              search.cols → tables-PPPP.keys (each partition's LSH
//!                              band tables, band by band, in text order)
//! pagesieve.keys[p], p < N     search.cols + tables-PPPP.keys → keys-PPPP.over
//!                              (its oversized groups)
//! pagesieve.pairs[p], p < N    search.cols + tables-PPPP.keys + every .over
//!                              → pairs-PPPP.pairs
//! phase 2                      every .pairs → the candidates, as one process finds them
//! ```
//!
//! The split computes every text's 64 band keys once, and deals each entry to the
//! partition that owns its group; a round then reads its own tables (its share: 8 bytes
//! an entry, 1/N of them) instead of computing every text's keys again to find them,
//! and touches a text's signature only when the text is in a group of two or more. A
//! round without its tables file (none was split) computes them from the signatures, as
//! the whole search does.
//!
//! Every file is written under a temporary name and renamed, so a task that is killed
//! and run again rewrites the same bytes, and a file that exists is whole. The columns are
//! written once per search; a task reads all of them (a partition owns key groups, not
//! texts) and keeps only its own groups' tables. The signatures are read in place from a
//! mapping of the file ([`MappedColumns`]): the partition tasks of one node share one copy
//! of them in the page cache.

use std::path::{Path, PathBuf};

use crate::dedup::candidates::{merge_parts, pairs_in, pairs_in_keyed, Candidate};
use crate::dedup::columns::{ColumnFile, Columns, MappedColumns};
use crate::dedup::lsh::{band_entry, sort_band_table, Bands};
use crate::dedup::minhash::release_ranges;
use crate::dedup::pass::{lsh_table, part_of, Oversized, PartPairs, Pass};
use crate::dedup::{DedupRules, DedupStats};
use crate::error::Error;
use crate::run::file_tasks::{damaged, read, temp_of, write_whole};

/// The columns file of a search in `dir`.
pub fn columns_file(dir: &Path) -> PathBuf {
    dir.join("search.cols")
}

/// Partition `part`'s LSH band tables in `dir` ([`split`]).
pub fn tables_file(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("tables-{part:04}.keys"))
}

/// Partition `part`'s round-1 file in `dir`.
pub fn oversized_file(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("keys-{part:04}.over"))
}

/// Partition `part`'s round-2 file in `dir`.
pub fn pairs_file(dir: &Path, part: u32) -> PathBuf {
    dir.join(format!("pairs-{part:04}.pairs"))
}

/// Writes the searched texts' columns into `dir` (created) as they are encoded, whole
/// or not at all; returns the file.
pub fn write_columns(dir: &Path, cols: &Columns<'_>) -> Result<PathBuf, Error> {
    use std::io::Write;
    std::fs::create_dir_all(dir).map_err(Error::output(dir))?;
    let path = columns_file(dir);
    let write = || -> std::io::Result<()> {
        let f = std::fs::File::create(temp_of(&path))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        ColumnFile::write(cols, &mut w)?;
        w.flush()
    };
    write().map_err(Error::output(&path))?;
    std::fs::rename(temp_of(&path), &path).map_err(Error::output(&path))?;
    Ok(path)
}

/// The columns file, mapped (its signatures stay pages of the file).
fn load_columns(path: &Path) -> Result<MappedColumns, Error> {
    MappedColumns::open(path).map_err(damaged(path))
}

const TABLES_MAGIC: &[u8; 8] = b"PSKEYS01";

/// Splits the LSH band tables of the search in `columns` by partition, one file a
/// partition beside it ([`tables_file`]): a header (partition, partitions, bands, rows,
/// texts), then band by band the count and the entries (`key << 32 | text`, 8 bytes
/// little-endian) of the groups the partition owns, in text order — what
/// [`crate::dedup::lsh`] builds for that partition before sorting. Returns the files
/// (none when the rules have no LSH candidates).
pub fn split(columns: &Path, rules: &DedupRules, parts: u32) -> Result<Vec<PathBuf>, Error> {
    use std::io::Write;
    let Some(bands) = rules.lsh else {
        return Ok(Vec::new());
    };
    let mapped = load_columns(columns)?;
    let cols = mapped.columns().map_err(damaged(columns))?;
    let dir = parent(columns);
    let paths: Vec<PathBuf> = (0..parts).map(|p| tables_file(dir, p)).collect();
    let write = || -> std::io::Result<()> {
        let mut out = Vec::with_capacity(paths.len());
        for (part, p) in paths.iter().enumerate() {
            let mut w =
                std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(temp_of(p))?);
            w.write_all(TABLES_MAGIC)?;
            for x in [part as u32, parts, bands.bands as u32, bands.rows as u32] {
                w.write_all(&x.to_le_bytes())?;
            }
            w.write_all(&(cols.len() as u64).to_le_bytes())?;
            out.push(w);
        }
        let mut by_part: Vec<Vec<u64>> = vec![Vec::new(); parts as usize];
        for band in 0..bands.bands {
            by_part.iter_mut().for_each(Vec::clear);
            for range in release_ranges(cols.len()) {
                for i in range.clone() {
                    let e = band_entry(cols.sigs.get(i), i, band, bands.rows);
                    by_part[part_of(lsh_table(band), e >> 32, parts) as usize].push(e);
                }
                // Pages of the mapped columns file, released behind the pass.
                cols.sigs.release(range.start, range.end);
            }
            for (w, entries) in out.iter_mut().zip(&by_part) {
                w.write_all(&(entries.len() as u64).to_le_bytes())?;
                for e in entries {
                    w.write_all(&e.to_le_bytes())?;
                }
            }
        }
        out.into_iter().try_for_each(|mut w| w.flush())
    };
    write().map_err(Error::output(dir))?;
    for p in &paths {
        std::fs::rename(temp_of(p), p).map_err(Error::output(p))?;
    }
    Ok(paths)
}

/// A partition's band tables read band by band from its [`split`] file.
struct TablesFile {
    r: std::io::BufReader<std::fs::File>,
    texts: u64,
    rows: usize,
}

impl TablesFile {
    /// Opens partition `part`'s file, checking that it was split for this search.
    fn open(
        path: &Path,
        part: u32,
        parts: u32,
        bands: Bands,
        texts: usize,
    ) -> std::io::Result<Self> {
        use std::io::Read;
        let mut r = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
        let mut head = [0u8; 32];
        r.read_exact(&mut head)?;
        let word =
            |i: usize| u32::from_le_bytes(head[8 + 4 * i..12 + 4 * i].try_into().expect("4 bytes"));
        let n = u64::from_le_bytes(head[24..32].try_into().expect("8 bytes"));
        let want = [part, parts, bands.bands as u32, bands.rows as u32];
        if &head[..8] != TABLES_MAGIC || (0..4).any(|i| word(i) != want[i]) || n != texts as u64 {
            return Err(crate::codec::corrupt(
                "band tables (another search's, or damaged)",
            ));
        }
        Ok(TablesFile {
            r,
            texts: n,
            rows: bands.rows,
        })
    }

    /// The next band's table, sorted.
    fn band(&mut self, table: &mut Vec<u64>, scratch: &mut Vec<u64>) -> std::io::Result<()> {
        use std::io::Read;
        let mut word = [0u8; 8];
        self.r.read_exact(&mut word)?;
        let count = u64::from_le_bytes(word);
        if count > self.texts {
            return Err(crate::codec::corrupt("band table size"));
        }
        table.clear();
        table.reserve(count as usize);
        let mut buf = vec![0u8; 8 << 12];
        let mut left = count as usize;
        while left > 0 {
            let take = left.min(1 << 12);
            self.r.read_exact(&mut buf[..8 * take])?;
            for c in buf[..8 * take].chunks_exact(8) {
                let e = u64::from_le_bytes(c.try_into().expect("8 bytes"));
                if e & 0xFFFF_FFFF >= self.texts {
                    return Err(crate::codec::corrupt("band table entry"));
                }
                table.push(e);
            }
            left -= take;
        }
        sort_band_table(table, scratch, self.rows);
        Ok(())
    }

    /// Checks that nothing follows the last band.
    fn end(mut self) -> std::io::Result<()> {
        use std::io::Read;
        match self.r.read(&mut [0u8; 1])? {
            0 => Ok(()),
            _ => Err(crate::codec::corrupt(
                "band tables (bytes after the last band)",
            )),
        }
    }
}

/// A round's candidate search over `cols`: with the partition's tables when the search
/// was split ([`split`]), else computing them.
fn search_part(
    columns: &Path,
    cols: &Columns<'_>,
    rules: &DedupRules,
    pass: Pass<'_>,
    part: u32,
    parts: u32,
) -> Result<(PartPairs, Oversized), Error> {
    let path = tables_file(parent(columns), part);
    let Some(bands) = rules.lsh.filter(|_| path.exists()) else {
        return Ok(pairs_in(cols, rules, pass));
    };
    let run = || -> std::io::Result<(PartPairs, Oversized)> {
        let mut file = TablesFile::open(&path, part, parts, bands, cols.len())?;
        let mut tables = |_band: usize, t: &mut Vec<u64>, s: &mut Vec<u64>| file.band(t, s);
        let found = pairs_in_keyed(cols, rules, pass, Some(&mut tables))?;
        file.end()?;
        Ok(found)
    };
    run().map_err(damaged(&path))
}

/// Round 1 for partition `part` of `parts`: its oversized groups, written beside the
/// columns file; returns the file.
pub fn round1(columns: &Path, rules: &DedupRules, part: u32, parts: u32) -> Result<PathBuf, Error> {
    let mapped = load_columns(columns)?;
    let cols = mapped.columns().map_err(damaged(columns))?;
    let (_, big) = search_part(
        columns,
        &cols,
        rules,
        Pass::Oversized { part, parts },
        part,
        parts,
    )?;
    drop(cols);
    drop(mapped);
    let path = oversized_file(parent(columns), part);
    write_whole(&path, &big.encode())?;
    // A Ray worker runs task after task: what this one freed goes back to the system.
    crate::trim::phase_end("search: round 1");
    Ok(path)
}

/// Round 2 for partition `part` of `parts`, given every partition's round-1 file: its
/// pairs and counts, written beside the columns file; returns the file.
pub fn round2(
    columns: &Path,
    rules: &DedupRules,
    part: u32,
    parts: u32,
    oversized: &[PathBuf],
) -> Result<PathBuf, Error> {
    let lists = oversized
        .iter()
        .map(|p| Oversized::decode(&read(p)?).map_err(damaged(p)))
        .collect::<Result<Vec<_>, Error>>()?;
    let oversized = Oversized::merge(lists);
    let mapped = load_columns(columns)?;
    let cols = mapped.columns().map_err(damaged(columns))?;
    let pass = Pass::Pairs {
        part,
        parts,
        oversized: &oversized,
    };
    let (found, _) = search_part(columns, &cols, rules, pass, part, parts)?;
    drop(cols);
    drop(mapped);
    let path = pairs_file(parent(columns), part);
    write_whole(&path, &found.encode())?;
    crate::trim::phase_end("search: round 2");
    Ok(path)
}

/// The candidates from every partition's round-2 file, adding their counts to `stats`.
pub fn gather(pairs: &[PathBuf], stats: &mut DedupStats) -> Result<Vec<Candidate>, Error> {
    let parts = pairs
        .iter()
        .map(|p| PartPairs::decode(&read(p)?).map_err(damaged(p)))
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(merge_parts(parts, stats))
}

/// Both rounds of `parts` partitions run here, one after another, through the files in
/// `dir`: the candidate stage the Ray job's tasks run, for tests and for checking.
pub fn in_process(
    dir: &Path,
    rules: &DedupRules,
    parts: u32,
    cols: &Columns<'_>,
    stats: &mut DedupStats,
) -> Result<Vec<Candidate>, Error> {
    let columns = write_columns(dir, cols)?;
    let tables = split(&columns, rules, parts)?;
    let over = (0..parts)
        .map(|p| round1(&columns, rules, p, parts))
        .collect::<Result<Vec<_>, Error>>()?;
    let pairs = (0..parts)
        .map(|p| round2(&columns, rules, p, parts, &over))
        .collect::<Result<Vec<_>, Error>>()?;
    let found = gather(&pairs, stats)?;
    for f in over.iter().chain(&pairs).chain(&tables).chain([&columns]) {
        let _ = std::fs::remove_file(f);
    }
    Ok(found)
}

fn parent(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}
