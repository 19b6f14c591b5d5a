//! The index of pagesieve 0.2 (index format 1): one file, `dedup.idx`, rewritten whole
//! every night. This build reads it once to convert it into a segment
//! ([`crate::history::segment`]); the writer stays for the conversion's tests. Binary,
//! little-endian, versioned, checksummed, read as a stream.
//!
//! ```text
//! offset  size  field
//! 0       8     magic "PSIEVEIX"
//! 8       4     format version (u32) = 1
//! 12      4     header length H (u32)
//! 16      H     header, JSON (Header: tool, settings and their hash, runs, counts)
//! then for articles, then snippets (n = header.articles / header.snippets):
//!         64·n  entries: exact hash high, low (u64, u64), primary simhash (u64),
//!               title key (u64), byte offset of the record in its run's file (u64),
//!               record length with its newline (u32), normalized characters (u32),
//!               replacement characters (u32), run number (u32, into header.runs),
//!               id length (u32), source length (u32)
//!         8·(f−1)·n  simhashes 1..f of each entry (f = header.fingerprints)
//!         256·n signatures (MinHash, one byte per bin)
//!         ids and sources, UTF-8, entry by entry (id then source), no separators
//! end     8     xxh3-64 of every byte before it
//!         8     "PSIXEND\0"
//! ```
//!
//! A short file, a checksum that does not match or a header that does not parse is a
//! clear error naming the file; nothing is read past a length the file cannot hold.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use xxhash_rust::xxh3::Xxh3;

use crate::dedup::fingerprint::MAX_FINGERPRINTS;
use crate::dedup::minhash::{Signature, SIGNATURE_BINS};
use crate::dedup::Fingerprint;
use crate::history::{Entries, Loc};

/// First bytes of an index file.
pub const MAGIC: &[u8; 8] = b"PSIEVEIX";
/// Last bytes of an index file.
pub const END: &[u8; 8] = b"PSIXEND\0";
/// The format of this file.
pub const FORMAT: u32 = 1;
/// The index file's name inside an index folder.
pub const FILE_NAME: &str = "dedup.idx";

const ENTRY_BYTES: u64 = 64;

/// The JSON header: what made the index and what it refers to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    /// Format version (also in the binary prefix).
    pub format: u32,
    /// The tool that wrote it (`pagesieve 0.2.0`).
    pub tool: String,
    /// When it was written, UTC.
    pub created: String,
    /// xxh3-64 of `settings`, hex.
    pub settings_hash: String,
    /// The dedup settings it was made under ([`crate::history::settings::of`]).
    pub settings: Map<String, Value>,
    /// Simhashes per entry.
    pub fingerprints: usize,
    /// The output folders its records live in.
    pub runs: Vec<RunRef>,
    /// Article entries.
    pub articles: u64,
    /// Snippet entries.
    pub snippets: u64,
}

/// One output folder an index points into.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRef {
    /// The folder, relative to the index folder (or absolute when no relative path
    /// exists).
    pub path: String,
    /// When that run started, UTC.
    pub started: String,
    /// Length of its `articles.jsonl` when the index was written.
    pub articles_bytes: u64,
    /// Length of its `snippets.jsonl` when the index was written.
    pub snippets_bytes: u64,
}

/// What a failed read says (the caller adds the path).
pub type Problem = String;

/// Writes an index: `header`, then the article entries of each of `articles` in order,
/// then the snippet entries.
pub fn write(
    path: &Path,
    header: &Header,
    articles: &[&Entries],
    snippets: &[&Entries],
) -> std::io::Result<()> {
    let f = File::create(path)?;
    let mut w = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, f),
        hash: Xxh3::new(),
    };
    let json = serde_json::to_vec(header).map_err(std::io::Error::other)?;
    w.write_all(MAGIC)?;
    w.write_all(&FORMAT.to_le_bytes())?;
    w.write_all(&(json.len() as u32).to_le_bytes())?;
    w.write_all(&json)?;
    for parts in [articles, snippets] {
        write_section(&mut w, parts, header.fingerprints)?;
    }
    let sum = w.hash.digest();
    let mut inner = w.inner;
    inner.write_all(&sum.to_le_bytes())?;
    inner.write_all(END)?;
    let f = inner.into_inner().map_err(|e| e.into_error())?;
    f.sync_all()
}

fn write_section(
    w: &mut impl Write,
    parts: &[&Entries],
    fingerprints: usize,
) -> std::io::Result<()> {
    for e in parts {
        for i in 0..e.len() {
            let fp = &e.fps[i];
            let loc = e.locs[i];
            let mut b = [0u8; ENTRY_BYTES as usize];
            let fields: [u64; 5] = [
                fp.exact[0],
                fp.exact[1],
                fp.primary,
                e.title_keys[i],
                loc.offset,
            ];
            for (k, v) in fields.iter().enumerate() {
                b[k * 8..k * 8 + 8].copy_from_slice(&v.to_le_bytes());
            }
            let small: [u32; 6] = [
                loc.len,
                fp.chars,
                e.replacements[i],
                loc.run,
                e.ids.get(i).len() as u32,
                e.sources.get(i).len() as u32,
            ];
            for (k, v) in small.iter().enumerate() {
                b[40 + k * 4..44 + k * 4].copy_from_slice(&v.to_le_bytes());
            }
            w.write_all(&b)?;
        }
    }
    for e in parts {
        for i in 0..e.len() {
            for f in 1..fingerprints {
                w.write_all(&e.fps[i].simhash(f).to_le_bytes())?;
            }
        }
    }
    for e in parts {
        for i in 0..e.len() {
            w.write_all(&e.sigs[i].0)?;
        }
    }
    for e in parts {
        for i in 0..e.len() {
            w.write_all(e.ids.get(i).as_bytes())?;
            w.write_all(e.sources.get(i).as_bytes())?;
        }
    }
    Ok(())
}

/// Reads an index: its header and its article and snippet entries.
pub fn read(path: &Path) -> Result<(Header, Entries, Entries), Problem> {
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let meta = file.metadata().map_err(|e| e.to_string())?;
    let size = meta.len();
    check_not_sparse(&meta)?;
    let mut r = HashingReader {
        inner: BufReader::with_capacity(1 << 20, file),
        hash: Xxh3::new(),
        read: 0,
    };
    let mut prefix = [0u8; 16];
    r.exact(&mut prefix, "the file prefix")?;
    if &prefix[..8] != MAGIC {
        return Err("not a pagesieve index (bad magic bytes)".into());
    }
    let format = u32::from_le_bytes(prefix[8..12].try_into().expect("4 bytes"));
    if format != FORMAT {
        return Err(format!(
            "index format {format}; this pagesieve reads format {FORMAT} (rebuild it with \
             `pagesieve index`)"
        ));
    }
    let hlen = u64::from(u32::from_le_bytes(
        prefix[12..16].try_into().expect("4 bytes"),
    ));
    if 16 + hlen + 16 > size {
        return Err(format!(
            "truncated: {size} bytes cannot hold a {hlen}-byte header"
        ));
    }
    let mut json = vec![0u8; hlen as usize];
    r.exact(&mut json, "the header")?;
    let header: Header =
        serde_json::from_slice(&json).map_err(|e| format!("corrupt header: {e}"))?;
    if !(1..=MAX_FINGERPRINTS).contains(&header.fingerprints) {
        return Err(format!(
            "corrupt header: {} fingerprints",
            header.fingerprints
        ));
    }
    let per_entry = ENTRY_BYTES + 8 * (header.fingerprints as u64 - 1) + SIGNATURE_BINS as u64;
    let fixed = header
        .articles
        .checked_add(header.snippets)
        .and_then(|n| n.checked_mul(per_entry))
        .and_then(|b| b.checked_add(16 + hlen + 16));
    match fixed {
        Some(b) if b <= size => {}
        _ => {
            return Err(format!(
                "truncated: {size} bytes cannot hold {} article and {} snippet entries",
                header.articles, header.snippets
            ))
        }
    }
    let articles = read_section(&mut r, header.articles as usize, &header, size)?;
    let snippets = read_section(&mut r, header.snippets as usize, &header, size)?;
    let expected = r.hash.digest();
    let mut tail = [0u8; 16];
    r.exact(&mut tail, "the checksum")?;
    if &tail[8..] != END {
        return Err("truncated or corrupt: the end marker is missing".into());
    }
    if u64::from_le_bytes(tail[..8].try_into().expect("8 bytes")) != expected {
        return Err("corrupt: the checksum does not match the contents".into());
    }
    if r.read != size {
        return Err(format!(
            "corrupt: {} bytes after the end marker",
            size - r.read
        ));
    }
    Ok((header, articles, snippets))
}

/// Refuses a file whose data is far smaller than its length (a sparse file): an index is
/// written densely, and a crafted header over a sparse file would otherwise pass the
/// length check and have its counts believed.
fn check_not_sparse(meta: &std::fs::Metadata) -> Result<(), Problem> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let data = meta.blocks().saturating_mul(512);
        // Filesystems may compress or inline; only a file mostly made of holes is refused.
        if meta.len() > (1 << 20) && data < meta.len() / 2 {
            return Err(format!(
                "corrupt: a sparse file ({data} bytes of data for a length of {} bytes)",
                meta.len()
            ));
        }
    }
    let _ = meta;
    Ok(())
}

fn read_section(
    r: &mut HashingReader<BufReader<File>>,
    n: usize,
    header: &Header,
    size: u64,
) -> Result<Entries, Problem> {
    // The counts were checked against the file's length; the vectors still grow as the
    // entries are read, so a header that lies costs what was really read.
    let mut e = Entries::with_capacity(n.min(1 << 20));
    let mut lens: Vec<(u32, u32)> = Vec::with_capacity(n.min(1 << 20));
    let mut b = [0u8; ENTRY_BYTES as usize];
    for _ in 0..n {
        r.exact(&mut b, "the entries")?;
        let u = |k: usize| u64::from_le_bytes(b[k * 8..k * 8 + 8].try_into().expect("8"));
        let w = |k: usize| u32::from_le_bytes(b[40 + k * 4..44 + k * 4].try_into().expect("4"));
        let run = w(3);
        if run as usize >= header.runs.len() {
            return Err(format!(
                "corrupt: an entry names run {run} of {}",
                header.runs.len()
            ));
        }
        e.fps.push(Fingerprint {
            primary: u(2),
            more: None,
            exact: [u(0), u(1)],
            chars: w(1),
        });
        e.sigs.push(Signature::default());
        e.title_keys.push(u(3));
        e.locs.push(Loc {
            run,
            offset: u(4),
            len: w(0),
        });
        e.replacements.push(w(2));
        lens.push((w(4), w(5)));
    }
    if header.fingerprints > 1 {
        let mut more = [0u64; MAX_FINGERPRINTS - 1];
        let mut x = [0u8; 8];
        for fp in &mut e.fps {
            for m in more.iter_mut().take(header.fingerprints - 1) {
                r.exact(&mut x, "the simhashes")?;
                *m = u64::from_le_bytes(x);
            }
            fp.more = Some(Box::new(more));
        }
    }
    for sig in &mut e.sigs {
        r.exact(&mut sig.0, "the signatures")?;
    }
    let strings: u64 = lens.iter().map(|&(a, b)| u64::from(a) + u64::from(b)).sum();
    if r.read + strings > size {
        return Err(format!(
            "truncated: {size} bytes cannot hold the ids and sources"
        ));
    }
    let mut buf = Vec::new();
    for (id_len, src_len) in lens {
        for (len, into) in [(id_len, &mut e.ids), (src_len, &mut e.sources)] {
            buf.resize(len as usize, 0);
            r.exact(&mut buf, "the ids and sources")?;
            let s = std::str::from_utf8(&buf).map_err(|_| "corrupt: an id is not UTF-8")?;
            into.push(s);
        }
    }
    Ok(e)
}

/// A writer that hashes what goes through it.
struct HashingWriter<W: Write> {
    inner: W,
    hash: Xxh3,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes what it reads and counts the bytes.
struct HashingReader<R: Read> {
    inner: R,
    hash: Xxh3,
    read: u64,
}

impl<R: Read> HashingReader<R> {
    /// Fills `buf`, naming `what` when the file ends first.
    fn exact(&mut self, buf: &mut [u8], what: &str) -> Result<(), Problem> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => format!("truncated in {what}"),
            _ => format!("cannot read {what}: {e}"),
        })?;
        // The checksum covers everything before it; the trailer is read through here too
        // but its hash is taken before.
        self.hash.update(buf);
        self.read += buf.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(articles: u64) -> Header {
        Header {
            format: FORMAT,
            tool: "test".into(),
            created: String::new(),
            settings_hash: String::new(),
            settings: Map::new(),
            fingerprints: 1,
            runs: Vec::new(),
            articles,
            snippets: 0,
        }
    }

    /// A header claiming 60M entries, over a file made long by a hole: refused by its
    /// extent before anything is allocated for the entries; over a dense short file,
    /// refused by its length.
    #[cfg(unix)]
    #[test]
    fn a_crafted_index_header_is_refused_before_allocating() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dedup.idx");
        write(&p, &header(60_000_000), &[], &[]).unwrap();
        let err = read(&p).unwrap_err();
        assert!(err.contains("cannot hold 60000000 article"), "{err}");
        let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        f.set_len(19 << 30).unwrap();
        let err = read(&p).unwrap_err();
        assert!(err.contains("sparse"), "{err}");
    }
}
