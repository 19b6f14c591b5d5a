//! The spill file between the phases: phase 1 appends each article's full record here as
//! it is made, and keeps only a [`SpillRef`] (12 bytes) with the page's fingerprint in
//! memory; phase 2 reads records back by offset where a decision or the output needs them.
//! Memory then grows with the number of pages by a small summary each, not by their text.
//!
//! Article records are spilled compressed (zstd at a fast level, `pack`) when the input
//! is too large for the spill to stay in the page cache: at scale the spill is read back
//! from disk, and its size is what verification and the writer wait for. Otherwise they
//! are written as they are ([`Packing::Raw`]); each record says which it is.
//! Appends from many workers go through one mutex; the file lives in the output's staging
//! folder and goes with it.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::codec::{Dec, Enc};
use crate::error::Error;
use crate::output::json_str::write_json_str;
use crate::record::ArticleRecord;

/// Where one record is: in the spill file (`file` 0), or in the `file`-th file attached to
/// it ([`Spill::attach`]: a shard's spill in a distributed run). Still 16 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpillRef {
    offset: u64,
    len: u32,
    file: u32,
}

impl SpillRef {
    /// The record at `offset`, `len` bytes long, in file `file` (0: the spill itself).
    pub fn new(file: u32, offset: u64, len: u32) -> SpillRef {
        SpillRef { offset, len, file }
    }

    /// (file, offset, length).
    pub fn parts(self) -> (u32, u64, u32) {
        (self.file, self.offset, self.len)
    }
}

/// An article record as spilled, in a binary form: its text and title as they are (all
/// that verification and the audit read), the keys of its related blocks, and the rest of
/// its JSON already rendered around the places of the fields only phase 2 knows (id,
/// `related`, `duplicates`, `aliases`). Writing it out escapes two strings and patches
/// those fields in; nothing is parsed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spilled {
    /// The article's text.
    pub text: String,
    /// Its title.
    pub title: String,
    /// xxh3-128 keys of the page's related blocks, in page order.
    pub related: Vec<u128>,
    /// The record's JSON between text and title, title and `related`, `related` and
    /// `duplicates`, and after `aliases` (copied to the output, never read).
    json: [Vec<u8>; 4],
}

/// Placeholders: NUL never occurs in a decoded page (it makes the page a `binary` reject),
/// so no scraped string can contain them.
const ID: &str = "\0id";
const TEXT: &str = "\0text";
const TITLE: &str = "\0title";
const RELATED: &str = "\0related";
const DUPLICATES: &str = "\0duplicates";
const ALIASES: &str = "\0aliases";

/// The placeholders as serde writes them in a record (NUL as `\u0000`), and what around
/// them [`Spilled::new`] cuts at: constants, where they were formatted for every article
/// (a test checks them against serde).
const JSON_HEAD: &str = r#"{"id":"\u0000id","text":"\u0000text""#;
const JSON_TITLE: &str = r#""\u0000title""#;
const JSON_RELATED: &str = r#"["\u0000related"]"#;
const JSON_DUPLICATES: &str = r#"["\u0000duplicates"]"#;
const JSON_ALIASES: &str = r#","aliases":["\u0000aliases"]"#;

impl Spilled {
    /// The spilled form of `record` (its id, `related`, `duplicates` and `aliases` are
    /// ignored: they are filled in when written) with its related blocks' keys.
    pub fn new(mut record: ArticleRecord, related: Vec<u128>) -> Spilled {
        let text = std::mem::replace(&mut record.text, TEXT.into());
        let title = std::mem::replace(&mut record.metadata.title, TITLE.into());
        record.id = ID.into();
        record.metadata.related = vec![RELATED.into()];
        record.metadata.duplicates = vec![DUPLICATES.into()];
        record.metadata.aliases = vec![ALIASES.into()];
        let json = serde_json::to_string(&record).expect("a record always serializes");
        let order = "the record's fields in their serde order";
        let rest = json.strip_prefix(JSON_HEAD).expect(order);
        let (a, rest) = rest.split_once(JSON_TITLE).expect(order);
        let (b, rest) = rest.split_once(JSON_RELATED).expect(order);
        let (c, rest) = rest.split_once(JSON_DUPLICATES).expect(order);
        let e = rest.strip_prefix(JSON_ALIASES).expect(order);
        Spilled {
            text,
            title,
            related,
            json: [a, b, c, e].map(|p| p.as_bytes().to_vec()),
        }
    }

    /// The `articles.jsonl` line of this record (without the newline).
    pub fn write_article(
        &self,
        out: &mut Vec<u8>,
        id: &str,
        related: &[&str],
        duplicates: &[String],
        aliases: &[String],
    ) {
        let s = |out: &mut Vec<u8>, v: &dyn erased::Json| v.write(out);
        out.extend_from_slice(b"{\"id\":");
        write_json_str(out, id);
        out.extend_from_slice(b",\"text\":");
        write_json_str(out, &self.text);
        out.extend_from_slice(&self.json[0]);
        write_json_str(out, &self.title);
        out.extend_from_slice(&self.json[1]);
        s(out, &related);
        out.extend_from_slice(&self.json[2]);
        s(out, &duplicates);
        out.extend_from_slice(b",\"aliases\":");
        s(out, &aliases);
        out.extend_from_slice(&self.json[3]);
    }

    /// The whole record back (for the rare paths that change a record: learned
    /// boilerplate stripping), with an empty id and lists.
    pub fn to_record(&self) -> ArticleRecord {
        let mut line = Vec::new();
        self.write_article(&mut line, "", &[], &[], &[]);
        serde_json::from_slice(&line).expect("the spilled JSON is whole")
    }

    /// The binary form.
    pub fn encode(&self) -> Vec<u8> {
        let fields = [
            self.text.as_bytes(),
            self.title.as_bytes(),
            &self.json[0],
            &self.json[1],
            &self.json[2],
            &self.json[3],
        ];
        let size = fields.iter().map(|f| 4 + f.len()).sum::<usize>() + 4 + 16 * self.related.len();
        let mut out = Enc(Vec::with_capacity(size));
        for f in fields {
            out.bytes(f);
        }
        out.u32(self.related.len() as u32);
        for &k in &self.related {
            out.u128(k);
        }
        out.0
    }

    /// Reads the binary form back.
    pub fn decode(b: &[u8]) -> std::io::Result<Spilled> {
        Spilled::decode_fields(&mut Dec(b)).map_err(|_| corrupt())
    }

    /// Only the text of a binary form, which is its first field: the buffer becomes the
    /// string, without decoding or copying the rest.
    pub fn decode_text(mut b: Vec<u8>) -> std::io::Result<String> {
        let n = Dec(&b).u32().map_err(|_| corrupt())? as usize;
        if b.len() < 4 + n {
            return Err(corrupt());
        }
        b.copy_within(4..4 + n, 0);
        b.truncate(n);
        crate::text::utf8::into_string(b).ok_or_else(corrupt)
    }

    fn decode_fields(d: &mut Dec<'_>) -> std::io::Result<Spilled> {
        let text = d.string()?;
        let title = d.string()?;
        // The strings the writer escapes and the verifier normalizes are checked; the JSON
        // pieces are only copied out.
        let mut json: [Vec<u8>; 4] = Default::default();
        for piece in &mut json {
            *piece = d.bytes()?.to_vec();
        }
        let n = d.u32()?;
        let related = (0..n)
            .map(|_| d.u128())
            .collect::<std::io::Result<Vec<u128>>>()?;
        Ok(Spilled {
            text,
            title,
            related,
            json,
        })
    }
}

fn corrupt() -> std::io::Error {
    std::io::Error::other("corrupt spilled record")
}

/// JSON values the writer patches in, serialized the way serde_json serializes the record.
mod erased {
    pub trait Json {
        fn write(&self, out: &mut Vec<u8>);
    }
    impl<T: serde::Serialize + ?Sized> Json for T {
        fn write(&self, out: &mut Vec<u8>) {
            serde_json::to_writer(&mut *out, self).expect("writing to memory");
        }
    }
}

/// An append-only record file, readable by offset once flushed.
#[derive(Debug)]
pub struct Spill {
    writer: Mutex<(BufWriter<File>, u64)>,
    reader: File,
    /// Read-only record files attached after it (file 1, 2, …), with their paths.
    attached: std::sync::RwLock<Vec<(File, PathBuf)>>,
    /// The output folder the file belongs to (named in write errors).
    out: PathBuf,
    /// Whether article records are compressed ([`Packing`]).
    packing: Packing,
}

/// How article records are written to the spill. Either way a record says which it is
/// (a zstd frame, or `RAW` and the bytes), so a reader takes any spill file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packing {
    /// Compressed at `PACK_LEVEL`: the spill is read back from disk at scale.
    Zstd,
    /// As they are: for a run whose spill stays in the page cache, where compressing
    /// costs CPU (a tenth of the scan on templated pages) and saves nothing.
    Raw,
}

impl Spill {
    /// Creates the spill file at `path` (truncating it), inside the output folder `out`,
    /// its article records compressed.
    pub fn create(path: &Path, out: &Path) -> Result<Spill, Error> {
        Spill::create_packed(path, out, Packing::Zstd)
    }

    /// [`Spill::create`], with article records written as `packing` says.
    pub fn create_packed(path: &Path, out: &Path, packing: Packing) -> Result<Spill, Error> {
        let open = || -> std::io::Result<(File, File)> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .read(true)
                .write(true)
                .open(path)?;
            let reader = file.try_clone()?;
            Ok((file, reader))
        };
        let out = out.to_path_buf();
        let (file, reader) = open().map_err(|e| write_error(&out, e))?;
        Ok(Spill {
            writer: Mutex::new((BufWriter::with_capacity(1 << 20, file), 0)),
            reader,
            attached: std::sync::RwLock::new(Vec::new()),
            out,
            packing,
        })
    }

    /// Appends one record.
    pub fn put(&self, bytes: &[u8]) -> Result<SpillRef, Error> {
        let len = u32::try_from(bytes.len()).map_err(|_| {
            write_error(&self.out, std::io::Error::other("record larger than 4 GiB"))
        })?;
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let offset = w.1;
        w.0.write_all(bytes)
            .map_err(|e| write_error(&self.out, e))?;
        w.1 += u64::from(len);
        Ok(SpillRef {
            offset,
            len,
            file: 0,
        })
    }

    /// Attaches a finished record file (a shard's spill); its records are read through
    /// refs with the returned file number.
    pub fn attach(&self, path: &Path) -> Result<u32, Error> {
        let f = File::open(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut files = self.attached.write().unwrap_or_else(|e| e.into_inner());
        // Absolute: another process, in another folder, reads it by this path.
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        files.push((f, path));
        Ok(files.len() as u32)
    }

    /// Where record `r` lies when it is in an attached file (a shard's spill, which
    /// another process can read: [`text_of_record`]): the file's path, the offset and
    /// the length. `None` for a record of this spill's own file.
    pub fn locate(&self, r: SpillRef) -> Option<(PathBuf, u64, u32)> {
        let n = r.file.checked_sub(1)? as usize;
        let files = self.attached.read().unwrap_or_else(|e| e.into_inner());
        files.get(n).map(|(_, p)| (p.clone(), r.offset, r.len))
    }

    /// Appends one article record, compressed or not as the spill was created (`pack`).
    pub fn put_article(&self, s: &Spilled) -> Result<SpillRef, Error> {
        let packed = pack(&s.encode(), self.packing).map_err(|e| write_error(&self.out, e))?;
        self.put(&packed)
    }

    /// Makes everything appended so far readable.
    pub fn flush(&self) -> Result<(), Error> {
        self.writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .flush()
            .map_err(|e| write_error(&self.out, e))
    }

    /// Reads one record back (after [`Spill::flush`]).
    pub fn get(&self, r: SpillRef) -> Result<Vec<u8>, Error> {
        let mut buf = vec![0u8; r.len as usize];
        let read = match r.file {
            0 => read_exact_at(&self.reader, &mut buf, r.offset),
            n => {
                let files = self.attached.read().unwrap_or_else(|e| e.into_inner());
                match files.get(n as usize - 1) {
                    Some((f, _)) => read_exact_at(f, &mut buf, r.offset),
                    None => Err(std::io::Error::other(format!("no attached file {n}"))),
                }
            }
        };
        read.map_err(Error::Spill)?;
        Ok(buf)
    }

    /// Asks for record `r` ahead of its read ([`crate::fadvise::will_need`]).
    pub fn will_need(&self, r: SpillRef) {
        let (offset, len) = (r.offset, u64::from(r.len));
        match r.file {
            0 => crate::fadvise::will_need(&self.reader, offset, len),
            n => {
                let files = self.attached.read().unwrap_or_else(|e| e.into_inner());
                if let Some((f, _)) = files.get(n as usize - 1) {
                    crate::fadvise::will_need(f, offset, len);
                }
            }
        }
    }

    /// Reads only the text of one article record back (what verification needs).
    pub fn text(&self, r: SpillRef) -> Result<String, Error> {
        text_of_record(self.get(r)?).map_err(Error::Spill)
    }

    /// Reads one article record back.
    pub fn article(&self, r: SpillRef) -> Result<Spilled, Error> {
        let bytes = unpack(self.get(r)?).map_err(Error::Spill)?;
        Spilled::decode(&bytes).map_err(Error::Spill)
    }
}

/// The text of an article record as a spill file holds it (the bytes [`Spill::locate`]
/// names, read by another process).
pub fn text_of_record(packed: Vec<u8>) -> std::io::Result<String> {
    Spilled::decode_text(unpack(packed)?)
}

/// An article record as a spill file holds it, decoded (the bytes [`Spill::locate`]
/// names, read by another process).
pub fn record_of(packed: Vec<u8>) -> std::io::Result<Spilled> {
    Spilled::decode(&unpack(packed)?)
}

/// The zstd level article records are spilled at: one of the fast levels. At a million
/// pages the spill is larger than what the page cache keeps, and verification and the
/// writer read it back from disk; on the 1M templated corpus this level makes the spill
/// 2.0× smaller (6.85 GB → 3.44 GB) for ~15 µs of CPU per 7-KB text to pack and ~5 to
/// unpack (BENCHMARKS.md).
const PACK_LEVEL: i32 = -3;

thread_local! {
    static PACKER: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static UNPACKER: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// The first byte of a record spilled as it is (a zstd frame begins with 0x28).
const RAW: u8 = 0;

/// A record as spilled: one zstd frame, which holds the record's length in its header, or
/// [`RAW`] and the bytes. Each thread keeps its compression context.
fn pack(raw: &[u8], packing: Packing) -> std::io::Result<Vec<u8>> {
    if packing == Packing::Raw {
        let mut out = Vec::with_capacity(raw.len() + 1);
        out.push(RAW);
        out.extend_from_slice(raw);
        return Ok(out);
    }
    PACKER.with(|p| {
        let mut p = p.borrow_mut();
        let packer = match p.as_mut() {
            Some(packer) => packer,
            None => p.insert(zstd::bulk::Compressor::new(PACK_LEVEL)?),
        };
        packer.compress(raw)
    })
}

/// The record [`pack`] packed.
fn unpack(mut packed: Vec<u8>) -> std::io::Result<Vec<u8>> {
    if packed.first() == Some(&RAW) {
        packed.remove(0);
        return Ok(packed);
    }
    let packed = &packed[..];
    let len = match zstd::zstd_safe::get_frame_content_size(packed) {
        Ok(Some(len)) => usize::try_from(len).map_err(|_| corrupt())?,
        _ => return Err(corrupt()),
    };
    UNPACKER.with(|u| {
        let mut u = u.borrow_mut();
        let unpacker = match u.as_mut() {
            Some(unpacker) => unpacker,
            None => u.insert(zstd::bulk::Decompressor::new()?),
        };
        let raw = unpacker.decompress(packed, len).map_err(|_| corrupt())?;
        match raw.len() == len {
            true => Ok(raw),
            false => Err(corrupt()),
        }
    })
}

fn write_error(out: &Path, source: std::io::Error) -> Error {
    Error::Output {
        path: out.to_path_buf(),
        what: Some("spill file between the phases"),
        source,
    }
}

#[cfg(unix)]
fn read_exact_at(f: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(f: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        let n = f.seek_read(buf, offset)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf = &mut buf[n..];
        offset += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The placeholders' JSON constants are what serde writes for them.
    #[test]
    fn the_cut_points_are_serdes_placeholders() {
        let q = |p: &str| serde_json::to_string(p).unwrap();
        let list = |p: &str| format!("[{}]", q(p));
        assert_eq!(
            JSON_HEAD,
            format!("{{\"id\":{},\"text\":{}", q(ID), q(TEXT))
        );
        assert_eq!(JSON_TITLE, q(TITLE));
        assert_eq!(JSON_RELATED, list(RELATED));
        assert_eq!(JSON_DUPLICATES, list(DUPLICATES));
        assert_eq!(JSON_ALIASES, format!(",\"aliases\":{}", list(ALIASES)));
    }

    #[test]
    fn records_come_back_by_offset_from_many_threads() {
        let d = tempfile::tempdir().unwrap();
        let spill = Spill::create(&d.path().join("spill"), d.path()).unwrap();
        let refs: Vec<(usize, SpillRef)> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|t| {
                    let spill = &spill;
                    s.spawn(move || {
                        (0..200)
                            .map(|i| {
                                let n = t * 1000 + i;
                                (n, spill.put(format!("记录{n}").as_bytes()).unwrap())
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
        });
        spill.flush().unwrap();
        for (n, r) in refs {
            assert_eq!(spill.get(r).unwrap(), format!("记录{n}").as_bytes());
        }
    }

    #[test]
    fn the_text_alone_comes_back_and_short_records_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let spill = Spill::create(&d.path().join("spill"), d.path()).unwrap();
        let s = Spilled::new(record(), vec![1, 2, 3]);
        let whole = spill.put_article(&s).unwrap();
        let packed = pack(&s.encode(), Packing::Zstd).unwrap();
        let cut = spill.put(&packed[..packed.len() - 3]).unwrap();
        let mut unframed = vec![0x7F];
        unframed.extend_from_slice(&s.encode());
        let raw = spill.put(&unframed).unwrap();
        let short_raw = spill.put(&[RAW, 3, 0]).unwrap();
        spill.flush().unwrap();
        assert_eq!(spill.text(whole).unwrap(), s.text);
        assert_eq!(spill.article(whole).unwrap(), s);
        for bad in [cut, raw, short_raw] {
            assert!(matches!(spill.text(bad), Err(Error::Spill(_))));
            assert!(matches!(spill.article(bad), Err(Error::Spill(_))));
        }
    }

    /// A spill of records as they are gives back the same records, text alone or whole,
    /// and a reader of either kind of spill takes both (a run's own spill and the shard
    /// files it attaches).
    #[test]
    fn raw_and_packed_records_read_back_alike() {
        let d = tempfile::tempdir().unwrap();
        let raw = Spill::create_packed(&d.path().join("raw"), d.path(), Packing::Raw).unwrap();
        let packed = Spill::create(&d.path().join("packed"), d.path()).unwrap();
        let mut r = record();
        r.text = "异地就医备案以后，住院费用可以直接结算。".repeat(30);
        let s = Spilled::new(r, vec![4, 5]);
        let (a, b) = (
            raw.put_article(&s).unwrap(),
            packed.put_article(&s).unwrap(),
        );
        raw.flush().unwrap();
        packed.flush().unwrap();
        assert_eq!(a.len as usize, s.encode().len() + 1);
        assert!((b.len as usize) < s.encode().len());
        let n = raw.attach(&d.path().join("packed")).unwrap();
        let b = SpillRef { file: n, ..b };
        for r in [a, b] {
            assert_eq!(raw.text(r).unwrap(), s.text);
            assert_eq!(raw.article(r).unwrap(), s);
        }
    }

    /// Records are packed: a long repetitive text takes a fraction of its size, and comes
    /// back whole from several threads at once.
    #[test]
    fn records_are_compressed_and_read_back_from_many_threads() {
        let d = tempfile::tempdir().unwrap();
        let spill = Spill::create(&d.path().join("spill"), d.path()).unwrap();
        let mut r = record();
        r.text = "职工医保个人账户的钱可以用于门诊费用和定点药店购药。".repeat(200);
        let s = Spilled::new(r, vec![9; 40]);
        let refs: Vec<SpillRef> = (0..64).map(|_| spill.put_article(&s).unwrap()).collect();
        spill.flush().unwrap();
        assert!((refs[0].len as usize) * 5 < s.encode().len());
        std::thread::scope(|sc| {
            for chunk in refs.chunks(16) {
                let (spill, s) = (&spill, &s);
                sc.spawn(move || {
                    for &r in chunk {
                        assert_eq!(spill.article(r).unwrap(), *s);
                    }
                });
            }
        });
    }

    fn record() -> ArticleRecord {
        let mut r = ArticleRecord {
            id: "a-1".into(),
            source: "dir/页面 \"1\".txt".into(),
            text: "第一行，含引号\"和反斜杠\\。\n第二行 \u{2028} <b>".into(),
            ..ArticleRecord::default()
        };
        r.metadata.title = "标题\t\"引\"".into();
        r.metadata.encoding = "GB18030".into();
        r.metadata.stripped = vec!["footer_disclaimer".into()];
        r.metadata.trending = vec!["医保".into()];
        r.metadata.simhash = "00ff00ff00ff00ff".into();
        r.metadata.compression = Some("gzip".into());
        r.metadata.headings = vec!["一、说明".into()];
        r
    }

    /// The patched line is exactly what serializing the completed record gives.
    #[test]
    fn written_lines_equal_the_serialized_record() {
        let keys = vec![7u128, u128::MAX];
        let s = Spilled::new(record(), keys.clone());
        let back = Spilled::decode(&s.encode()).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.related, keys);
        let mut want = record();
        want.metadata.related = vec!["s-1".into(), "s-2".into()];
        want.metadata.duplicates = vec!["a-9".into()];
        want.metadata.aliases = vec!["别名".into()];
        let mut line = Vec::new();
        back.write_article(
            &mut line,
            "a-1",
            &["s-1", "s-2"],
            &want.metadata.duplicates,
            &want.metadata.aliases,
        );
        assert_eq!(
            String::from_utf8(line).unwrap(),
            serde_json::to_string(&want).unwrap()
        );
        let mut plain = record();
        plain.id = String::new();
        assert_eq!(back.to_record(), plain);
    }

    #[test]
    fn corrupt_records_are_errors() {
        let b = Spilled::new(record(), vec![1]).encode();
        assert!(Spilled::decode(&b[..b.len() - 3]).is_err());
        assert!(Spilled::decode(&[0xff; 3]).is_err());
    }
}
