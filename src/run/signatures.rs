//! The pages' MinHash signatures, a column beside the page summaries: 256 bytes a page in
//! page order (zeros for a reject), in a scratch file of the run that phase 2 maps.
//!
//! The signature is most of what phase 2 would otherwise hold for a page (256 of the
//! summary's ~350 bytes at the candidate stage). In a file it is pages of the page cache,
//! not of the heap: the kernel can write them out and read them again under pressure, the
//! candidate search reads them where they are, and the heap no longer grows by a quarter
//! of a kilobyte a page. Phase 1 appends each page's signature in page order as its
//! summary is kept ([`SignatureWriter`]); [`SignatureWriter::finish`] maps the file
//! writable, so that learned boilerplate can replace the signature of a page it changed
//! ([`Signatures::set`]) before the duplicate search reads them
//! ([`Signatures::get`]).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::dedup::minhash::{Signature, SIGNATURE_BINS};
use crate::error::Error;
use crate::run::scratch_map::{self, WritableColumn};

/// Appends the pages' signatures to the column file, in page order.
#[derive(Debug)]
pub struct SignatureWriter {
    out: BufWriter<File>,
    output: PathBuf,
    pages: usize,
}

impl SignatureWriter {
    /// A new, empty column at `path` (a scratch file of the run's staging folder; `output`
    /// names the run's output in errors).
    pub fn create(path: &Path, output: &Path) -> Result<SignatureWriter, Error> {
        let file =
            scratch_map::create(path).map_err(|e| scratch_map::write_error(output, WHAT, e))?;
        Ok(SignatureWriter {
            out: BufWriter::with_capacity(1 << 16, file),
            output: output.to_path_buf(),
            pages: 0,
        })
    }

    /// Appends the next page's signature (`None`: a page with no article, whose slot is
    /// zeros).
    pub fn push(&mut self, sig: Option<&Signature>) -> Result<(), Error> {
        static NONE: [u8; SIGNATURE_BINS] = [0; SIGNATURE_BINS];
        let bytes = sig.map_or(&NONE, |s| &s.0);
        self.out.write_all(bytes).map_err(self.failed())?;
        self.pages += 1;
        Ok(())
    }

    /// Pages appended so far.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// The column, written and mapped.
    pub fn finish(self) -> Result<Signatures, Error> {
        let fail = self.failed();
        let file = self.out.into_inner().map_err(|e| fail(e.into_error()))?;
        let len = self.pages * SIGNATURE_BINS;
        Ok(Signatures {
            bytes: WritableColumn::map(&file, len, self.pages, "signatures").map_err(fail)?,
        })
    }

    fn failed(&self) -> impl Fn(std::io::Error) -> Error {
        let output = self.output.clone();
        move |e| scratch_map::write_error(&output, WHAT, e)
    }
}

/// What a write error of this column names.
const WHAT: &str = "signature column between the phases";

/// Every page's signature, by page index.
#[derive(Debug)]
pub struct Signatures {
    bytes: WritableColumn,
}

impl Default for Signatures {
    fn default() -> Self {
        Signatures::in_memory(Vec::new())
    }
}

impl Signatures {
    /// A column held on the heap, page `i`'s signature `sigs[i]`.
    pub fn in_memory(sigs: Vec<Signature>) -> Signatures {
        Signatures {
            bytes: WritableColumn::Heap(sigs.iter().flat_map(|s| s.0).collect()),
        }
    }

    fn bytes(&self) -> &[u8] {
        self.bytes.bytes()
    }

    /// How many pages.
    pub fn len(&self) -> usize {
        self.bytes().len() / SIGNATURE_BINS
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Page `i`'s signature (zeros for a reject).
    pub fn get(&self, i: u32) -> &Signature {
        let at = i as usize * SIGNATURE_BINS;
        let b = &self.bytes()[at..at + SIGNATURE_BINS];
        Signature::from_bytes(b.try_into().expect("a signature's bytes"))
    }

    /// Drops the column's pages from the process's resident set (they stay in the page
    /// cache, and a later [`Signatures::get`] maps them again): once the candidate search
    /// has read every signature, they would otherwise count in the run's memory to its
    /// end. (Sequential readers of the borrowed signatures release behind themselves with
    /// [`crate::trim::release_read`].)
    pub fn release(&self) {
        self.bytes.release(0, usize::MAX);
    }

    /// Replaces page `i`'s signature.
    pub fn set(&mut self, i: u32, sig: &Signature) {
        let at = i as usize * SIGNATURE_BINS;
        self.bytes.bytes_mut()[at..at + SIGNATURE_BINS].copy_from_slice(&sig.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(b: u8) -> Signature {
        Signature(std::array::from_fn(|i| b.wrapping_add(i as u8)))
    }

    #[test]
    fn the_file_column_reads_back_what_was_pushed_and_takes_rewrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sigs");
        let mut w = SignatureWriter::create(&path, dir.path()).unwrap();
        let pushed = [Some(sig(1)), None, Some(sig(9))];
        for s in &pushed {
            w.push(s.as_ref()).unwrap();
        }
        assert_eq!(w.pages(), 3);
        let mut col = w.finish().unwrap();
        assert_eq!(col.len(), 3);
        assert_eq!(*col.get(0), sig(1));
        assert_eq!(*col.get(1), Signature::default());
        assert_eq!(*col.get(2), sig(9));
        col.set(1, &sig(5));
        assert_eq!(*col.get(1), sig(5));
        assert_eq!(*col.get(2), sig(9));
        let heap = Signatures::in_memory(vec![sig(1), sig(5), sig(9)]);
        assert!((0..3).all(|i| heap.get(i) == col.get(i)));
    }

    /// The mapping's resident kilobytes (`/proc/self/smaps`), found by its address.
    #[cfg(target_os = "linux")]
    fn resident_kib(col: &Signatures) -> u64 {
        let start = format!("{:x}-", col.bytes().as_ptr() as usize);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let entry = smaps.split_once(&start).expect("the mapping is listed").1;
        let rss = entry.split_once("\nRss:").unwrap().1;
        rss.split_whitespace().next().unwrap().parse().unwrap()
    }

    /// Released pages leave the resident set and read back the same bytes, rewritten
    /// slots included; a release behind a reader leaves the pages before it resident.
    #[test]
    #[cfg(target_os = "linux")]
    fn released_pages_leave_the_resident_set_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = SignatureWriter::create(&dir.path().join("sigs"), dir.path()).unwrap();
        for i in 0..4096u32 {
            w.push(Some(&sig(i as u8))).unwrap();
        }
        let mut col = w.finish().unwrap();
        (0..4096).step_by(7).for_each(|i| col.set(i, &sig(200)));
        let want = |i: u32| {
            if i.is_multiple_of(7) {
                sig(200)
            } else {
                sig(i as u8)
            }
        };
        assert!((0..4096).all(|i| *col.get(i) == want(i)));
        assert!(resident_kib(&col) >= 1000, "{}", resident_kib(&col));
        col.release();
        assert_eq!(resident_kib(&col), 0);
        assert!((0..4096).all(|i| *col.get(i) == want(i)));
        let refs: Vec<&Signature> = (0..2048).map(|i| col.get(i)).collect();
        crate::trim::release_read(refs[0].0.as_ptr(), refs[2047].0.as_ptr().wrapping_add(256));
        // Half the column: 512 KiB released, the other half still resident.
        assert_eq!(resident_kib(&col), 512);
        assert!((0..4096).all(|i| *col.get(i) == want(i)));
    }

    #[test]
    fn an_empty_column_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let w = SignatureWriter::create(&dir.path().join("sigs"), dir.path()).unwrap();
        let col = w.finish().unwrap();
        assert!(col.is_empty());
        assert!(Signatures::default().is_empty());
    }
}
