//! What the candidate search reads of each text, as columns in the searched order: the
//! MinHash signature, the normalized length (the screen's floor), whether an earlier run
//! kept it, and its simhashes. [`Columns`] reads them from an item source in one process
//! ([`crate::dedup::source`]; the signatures borrowed); [`ColumnFile`] owns them, read
//! from the file a partitioned search's tasks share ([`ColumnFile::encode`],
//! [`ColumnFile::decode`]).

use crate::codec::{corrupt, Dec, Enc};
use crate::dedup::minhash::{release_ranges, SigColumn, Signature, SIGNATURE_BINS};
use crate::dedup::source::{self, ItemSource};
use crate::dedup::DedupRules;

/// The searched texts' columns, indexed by position in the search (`near`).
#[derive(Debug, Clone)]
pub struct Columns<'a> {
    /// MinHash signatures.
    pub sigs: SigColumn<'a>,
    /// Normalized characters.
    pub chars: Vec<u32>,
    /// Kept by an earlier run.
    pub pinned: Vec<bool>,
    /// Per configured fingerprint, every text's simhash (empty without the simhash
    /// generator).
    pub simhashes: Vec<Vec<u64>>,
}

impl<'a> Columns<'a> {
    /// The columns of `near` (indices into `items`, read in one pass) under `cfg`.
    pub fn of<S>(items: &S, near: &[u32], cfg: &DedupRules) -> Columns<'a>
    where
        S: ItemSource<'a> + ?Sized,
    {
        let mut sigs = Vec::with_capacity(near.len());
        let mut chars = Vec::with_capacity(near.len());
        let mut pinned = Vec::with_capacity(near.len());
        let prints = if cfg.simhash { cfg.fingerprints } else { 0 };
        let mut simhashes = vec![Vec::with_capacity(near.len()); prints];
        source::each(items, near.iter().copied(), |_, it| {
            sigs.push(it.sig);
            chars.push(it.fp.chars);
            pinned.push(it.pinned);
            for (f, column) in simhashes.iter_mut().enumerate() {
                column.push(it.fp.simhash(f));
            }
        });
        Columns {
            sigs: SigColumn::Refs(sigs),
            chars,
            pinned,
            simhashes,
        }
    }

    /// How many texts.
    pub fn len(&self) -> usize {
        self.sigs.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sigs.is_empty()
    }
}

/// Owned columns, as a file between the processes of a partitioned search.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnFile {
    /// MinHash signatures.
    pub sigs: Vec<Signature>,
    /// Normalized characters.
    pub chars: Vec<u32>,
    /// Kept by an earlier run.
    pub pinned: Vec<bool>,
    /// Per fingerprint, every text's simhash.
    pub simhashes: Vec<Vec<u64>>,
}

const MAGIC: &[u8; 8] = b"PSCOLS01";

impl ColumnFile {
    /// Borrowed columns over these.
    pub fn columns(&self) -> Columns<'_> {
        Columns {
            sigs: SigColumn::Laid(&self.sigs),
            chars: self.chars.clone(),
            pinned: self.pinned.clone(),
            simhashes: self.simhashes.clone(),
        }
    }

    /// The bytes of `cols`: a header (texts, fingerprints), then each column whole.
    pub fn encode(cols: &Columns<'_>) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEAD + cols.len() * row_bytes(cols.simhashes.len()));
        ColumnFile::write(cols, &mut out).expect("writing to memory");
        out
    }

    /// Writes [`ColumnFile::encode`]'s bytes to `w` as they are made (the columns of a
    /// million texts are ~270 MB: they are not held a second time); give it a buffered
    /// writer.
    pub fn write(cols: &Columns<'_>, w: &mut impl std::io::Write) -> std::io::Result<()> {
        let mut e = Enc::default();
        e.0.extend_from_slice(MAGIC);
        e.u64(cols.len() as u64);
        e.u32(cols.simhashes.len() as u32);
        w.write_all(&e.0)?;
        // Signatures read from a mapped column leave the resident set behind the writer,
        // a few MB at a time: a pass over a million of them would otherwise leave 256 MB
        // of file pages counted in the writer's memory.
        for range in release_ranges(cols.len()) {
            for i in range.clone() {
                w.write_all(&cols.sigs.get(i).0)?;
            }
            cols.sigs.release(range.start, range.end);
        }
        // Value by value: the writer buffers (a file is written through a `BufWriter`).
        for c in &cols.chars {
            w.write_all(&c.to_le_bytes())?;
        }
        for &p in &cols.pinned {
            w.write_all(&[u8::from(p)])?;
        }
        for h in cols.simhashes.iter().flatten() {
            w.write_all(&h.to_le_bytes())?;
        }
        Ok(())
    }

    /// Reads the file [`ColumnFile::encode`] wrote, column by column, without holding
    /// its bytes beside the columns (a partition task's memory is these columns).
    pub fn read(path: &std::path::Path) -> std::io::Result<ColumnFile> {
        let f = std::fs::File::open(path)?;
        let size = f.metadata()?.len();
        ColumnFile::read_from(std::io::BufReader::with_capacity(1 << 20, f), size)
    }

    /// Reads what [`ColumnFile::encode`] wrote; a damaged or truncated buffer is an error.
    pub fn decode(bytes: &[u8]) -> std::io::Result<ColumnFile> {
        ColumnFile::read_from(bytes, bytes.len() as u64)
    }

    /// The columns from `size` bytes of `r`, checked against the header's counts.
    fn read_from(mut r: impl std::io::Read, size: u64) -> std::io::Result<ColumnFile> {
        let mut head = [0u8; HEAD];
        r.read_exact(&mut head)
            .map_err(|_| corrupt("search columns"))?;
        let (n, fps) = header(&head, size)?;
        let mut sigs = vec![Signature([0; SIGNATURE_BINS]); n];
        for s in &mut sigs {
            r.read_exact(&mut s.0)?;
        }
        let mut column = |width: usize| -> std::io::Result<Vec<u8>> {
            let mut b = vec![0u8; n * width];
            r.read_exact(&mut b)?;
            Ok(b)
        };
        let chars = column(4)?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let pinned = flags(&column(1)?)?;
        let simhashes = (0..fps)
            .map(|_| {
                Ok(column(8)?
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect())
            })
            .collect::<std::io::Result<_>>()?;
        Ok(ColumnFile {
            sigs,
            chars,
            pinned,
            simhashes,
        })
    }
}

/// Bytes of the header: magic, texts, fingerprints.
const HEAD: usize = 20;

/// Bytes a text takes in the file with `fps` simhashes.
fn row_bytes(fps: usize) -> usize {
    SIGNATURE_BINS + 5 + 8 * fps
}

/// `(texts, fingerprints)` from a header, checked against the file's `size`.
fn header(head: &[u8], size: u64) -> std::io::Result<(usize, usize)> {
    let mut d = Dec(head);
    if d.take(8)? != MAGIC.as_slice() {
        return Err(corrupt("search columns"));
    }
    let (n, fps) = (d.u64()?, d.u32()? as usize);
    let want = n
        .checked_mul(row_bytes(fps) as u64)
        .and_then(|b| b.checked_add(HEAD as u64));
    if want != Some(size) {
        return Err(corrupt("search column sizes"));
    }
    Ok((n as usize, fps))
}

fn flags(bytes: &[u8]) -> std::io::Result<Vec<bool>> {
    bytes
        .iter()
        .map(|&b| match b {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(corrupt("search column flag")),
        })
        .collect()
}

/// A columns file mapped into memory: the signatures (~94% of it) are read in place, as
/// pages of the file, never copied into the process. The tasks of one node that search
/// the same file then share one copy of it in the page cache (sixteen partition tasks
/// held sixteen copies in their own memory), and the kernel can drop its pages under
/// pressure and read them again. The small columns are copied out when asked for.
#[derive(Debug)]
pub struct MappedColumns {
    map: memmap2::Mmap,
    n: usize,
    fps: usize,
}

impl Drop for MappedColumns {
    fn drop(&mut self) {
        crate::trim::unregister_shared_file_map(self.map.as_ptr());
    }
}

impl MappedColumns {
    /// Maps the file [`ColumnFile::encode`] wrote at `path`, checking its header against
    /// its size.
    pub fn open(path: &std::path::Path) -> std::io::Result<MappedColumns> {
        let f = std::fs::File::open(path)?;
        let size = f.metadata()?.len();
        let mut head = [0u8; HEAD];
        std::io::Read::read_exact(&mut &f, &mut head).map_err(|_| corrupt("search columns"))?;
        let (n, fps) = header(&head, size)?;
        // SAFETY: a columns file is written whole under a temporary name and renamed into
        // place, and nothing writes it afterwards; the tasks only read it.
        let map = unsafe { memmap2::Mmap::map(&f)? };
        if map.len() as u64 != size {
            return Err(corrupt("search column sizes"));
        }
        // A shared mapping of a file: readers may release its pages behind them.
        crate::trim::register_shared_file_map(map.as_ptr(), map.len());
        Ok(MappedColumns { map, n, fps })
    }

    /// The columns, the signatures borrowed from the mapping.
    pub fn columns(&self) -> std::io::Result<Columns<'_>> {
        let n = self.n;
        let mut at = HEAD;
        let mut take = |len: usize| {
            let s = &self.map[at..at + len];
            at += len;
            s
        };
        let sigs = SigColumn::Laid(Signature::slice_from_bytes(take(n * SIGNATURE_BINS)));
        let chars = take(n * 4)
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        let pinned = flags(take(n))?;
        let simhashes = (0..self.fps)
            .map(|_| {
                take(n * 8)
                    .chunks_exact(8)
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect()
            })
            .collect();
        Ok(Columns {
            sigs,
            chars,
            pinned,
            simhashes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::fingerprint;

    #[test]
    fn the_file_reads_back_whole_and_a_cut_one_is_an_error() {
        let cfg = DedupRules {
            simhash: true,
            fingerprints: 2,
            ..DedupRules::default()
        };
        let texts = [
            "医保个人账户的钱可以用于门诊",
            "异地就医需要先在参保地办理备案",
            "生育津贴由单位申请",
        ];
        let fps: Vec<_> = texts.iter().map(|t| fingerprint(t, &cfg)).collect();
        let items = crate::dedup::types::items_of(&fps, |i| i == 1);
        let cols = Columns::of(&items, &[0, 2, 1], &cfg);
        let bytes = ColumnFile::encode(&cols);
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("search.cols");
        std::fs::write(&path, &bytes).unwrap();
        let read = ColumnFile::read(&path).unwrap();
        assert_eq!(read, ColumnFile::decode(&bytes).unwrap());
        assert_eq!(read.pinned, [false, false, true]);
        assert_eq!(read.simhashes.len(), 2);
        assert_eq!(read.sigs[1], fps[2].signature);
        // Mapped, the same columns; written as they are made, the same bytes.
        let mapped = MappedColumns::open(&path).unwrap();
        let from_map = mapped.columns().unwrap();
        assert_eq!(from_map.sigs, read.columns().sigs);
        assert_eq!(
            (&from_map.chars, &from_map.pinned, &from_map.simhashes),
            (&read.chars, &read.pinned, &read.simhashes)
        );
        let mut streamed = Vec::new();
        ColumnFile::write(&cols, &mut streamed).unwrap();
        assert_eq!(streamed, bytes);
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(ColumnFile::read(&path).is_err());
        assert!(MappedColumns::open(&path).is_err());
        let mut flag = bytes.clone();
        flag[HEAD + 3 * (SIGNATURE_BINS + 4)] = 7;
        std::fs::write(&path, &flag).unwrap();
        assert!(MappedColumns::open(&path).unwrap().columns().is_err());
        assert!(ColumnFile::decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
