//! What the candidate search reads of each text, as columns in the searched order: the
//! MinHash signature, the normalized length (the screen's floor), whether an earlier run
//! kept it, and its simhashes. [`Columns`] borrows them from the [`Item`]s of one
//! process; [`ColumnFile`] owns them, read from the file a partitioned search's tasks
//! share ([`ColumnFile::encode`], [`ColumnFile::decode`]).

use crate::codec::{corrupt, Dec, Enc};
use crate::dedup::minhash::{Signature, SIGNATURE_BINS};
use crate::dedup::{DedupRules, Item};

/// The searched texts' columns, indexed by position in the search (`near`).
#[derive(Debug, Clone)]
pub struct Columns<'a> {
    /// MinHash signatures.
    pub sigs: Vec<&'a Signature>,
    /// Normalized characters.
    pub chars: Vec<u32>,
    /// Kept by an earlier run.
    pub pinned: Vec<bool>,
    /// Per configured fingerprint, every text's simhash (empty without the simhash
    /// generator).
    pub simhashes: Vec<Vec<u64>>,
}

impl<'a> Columns<'a> {
    /// The columns of `near` (indices into `items`) under `cfg`.
    pub fn of(items: &[Item<'a>], near: &[u32], cfg: &DedupRules) -> Columns<'a> {
        let fp = |i: u32| items[i as usize].fp;
        let simhashes = match cfg.simhash {
            true => (0..cfg.fingerprints)
                .map(|f| near.iter().map(|&i| fp(i).simhash(f)).collect())
                .collect(),
            false => Vec::new(),
        };
        Columns {
            sigs: near.iter().map(|&i| &fp(i).signature).collect(),
            chars: near.iter().map(|&i| fp(i).chars).collect(),
            pinned: near.iter().map(|&i| items[i as usize].pinned).collect(),
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
            sigs: self.sigs.iter().collect(),
            chars: self.chars.clone(),
            pinned: self.pinned.clone(),
            simhashes: self.simhashes.clone(),
        }
    }

    /// The bytes of `cols`: a header (texts, fingerprints), then each column whole.
    pub fn encode(cols: &Columns<'_>) -> Vec<u8> {
        let n = cols.len();
        let mut e = Enc::default();
        e.0.reserve(16 + n * (SIGNATURE_BINS + 5 + 8 * cols.simhashes.len()));
        e.0.extend_from_slice(MAGIC);
        e.u64(n as u64);
        e.u32(cols.simhashes.len() as u32);
        cols.sigs.iter().for_each(|s| e.0.extend_from_slice(&s.0));
        cols.chars.iter().for_each(|&c| e.u32(c));
        cols.pinned.iter().for_each(|&p| e.bool(p));
        for f in &cols.simhashes {
            f.iter().for_each(|&h| e.u64(h));
        }
        e.0
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
        const HEAD: usize = 20;
        let mut head = [0u8; HEAD];
        r.read_exact(&mut head)
            .map_err(|_| corrupt("search columns"))?;
        let mut d = Dec(&head);
        if d.take(8)? != MAGIC.as_slice() {
            return Err(corrupt("search columns"));
        }
        let (n, fps) = (d.u64()? as usize, d.u32()? as usize);
        let want = (n as u64)
            .checked_mul((SIGNATURE_BINS + 5 + 8 * fps) as u64)
            .and_then(|b| b.checked_add(HEAD as u64));
        if want != Some(size) {
            return Err(corrupt("search column sizes"));
        }
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
        let pinned = column(1)?
            .iter()
            .map(|&b| match b {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(corrupt("search column flag")),
            })
            .collect::<std::io::Result<_>>()?;
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
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(ColumnFile::read(&path).is_err());
        assert!(ColumnFile::decode(&bytes[..bytes.len() - 1]).is_err());
    }
}
