//! Bytes → text: decompression, encoding detection and decoding, binary and empty checks.
//!
//! The order is the one that is right for scraped Chinese pages (and the one ripgrep's
//! searcher uses for BOMs): a byte-order mark decides first; then valid UTF-8 is UTF-8;
//! then UTF-8 with a handful of bad bytes (a sequence cut at the end) stays UTF-8 with
//! replacement characters; otherwise chardetng guesses a legacy encoding (GBK is decoded as
//! its superset GB18030) and BOM-less UTF-16 is tried, and the most plausible decoding wins.
//! Decoding never fails: bad bytes become U+FFFD, and too many of them make the page
//! `undecodable`. NUL or other control characters in the decoded text make it `binary`.

use std::io::Read;
use std::path::{Path, PathBuf};

use encoding_rs::{
    Encoding, EUC_JP, EUC_KR, GB18030, GBK, ISO_2022_JP, SHIFT_JIS, UTF_16BE, UTF_16LE, UTF_8,
};

use crate::ingest::{html, hz, misread, InputFile, InputRules};
use crate::record::{Reject, RejectReason};
use crate::text::utf8;

/// The bytes of one input file, decompressed.
#[derive(Debug, Clone)]
pub struct RawFile {
    /// The (decompressed) content.
    pub bytes: Vec<u8>,
    /// `gzip` or `zstd` when the file was compressed.
    pub compression: Option<&'static str>,
}

/// A page's text, with how it was decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedPage {
    /// The text with line endings normalized to `\n` and any BOM removed.
    pub text: String,
    /// The encoding's name (`UTF-8`, `GB18030`, `UTF-16LE`, …).
    pub encoding: &'static str,
    /// Whether the file started with a byte-order mark.
    pub bom: bool,
    /// Number of U+FFFD replacement characters decoding produced.
    pub replacements: usize,
    /// What the markup of an HTML page became (`text` is then its lines); `None` for a
    /// text page.
    pub html: Option<Box<crate::ingest::html::HtmlPage>>,
}

/// Reads a file, decompressing `.gz` and `.zst`, refusing more than
/// `input.max_file_bytes`; drops it from the page cache afterwards when the rules say so
/// ([`crate::ingest::cache`]).
pub fn read_file(file: &InputFile, rules: &InputRules) -> Result<RawFile, Reject> {
    if let Some(e) = &file.walk_error {
        return Err(e.clone());
    }
    let io = |e: std::io::Error| Reject::new(RejectReason::IoError, e.to_string());
    let f = open_checked(&file.path, rules.confine.as_deref())?;
    let meta = f.metadata().map_err(io)?;
    let raw = read_from(&file.source, &f, meta.len(), rules.config.max_file_bytes);
    if rules.evict_after_read {
        crate::fadvise::evict(&f);
    }
    raw
}

/// Opens a file the walk listed, checking again what the walk checked, on the opened
/// descriptor (the entry may have changed since): opened without blocking (a FIFO put in
/// its place must not stall the run), a regular file, and — with `confine` — one whose
/// real path is inside `confine` (a symlink out of the input put in its place is not
/// read).
fn open_checked(path: &Path, confine: Option<&Path>) -> Result<std::fs::File, Reject> {
    let io = |e: std::io::Error| Reject::new(RejectReason::IoError, e.to_string());
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let f = opts.open(path).map_err(io)?;
    let meta = f.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(Reject::new(
            RejectReason::NotRegular,
            format!(
                "not a regular file when opened ({}): it changed after the walk",
                crate::ingest::walk::kind_of(&meta.file_type())
            ),
        ));
    }
    if let Some(root) = confine {
        if let Some(real) = real_path(&f) {
            if !real.starts_with(root) {
                return Err(Reject::new(
                    RejectReason::OutsideInput,
                    format!(
                        "opened as {}, outside --input: it changed after the walk \
                         (--follow-symlinks reads it)",
                        real.display()
                    ),
                ));
            }
        }
    }
    Ok(f)
}

/// The path an open descriptor refers to (Linux: `/proc/self/fd/N`; elsewhere unknown).
fn real_path(f: &std::fs::File) -> Option<PathBuf> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd())).ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = f;
        None
    }
}

/// [`read_file`] for content already in memory (`source` names it: a `.gz` or `.zst`
/// name is decompressed).
pub fn read_bytes(source: &str, data: &[u8], max_bytes: u64) -> Result<RawFile, Reject> {
    read_from(source, data, data.len() as u64, max_bytes)
}

/// Whether a file of `size` bytes whose first bytes are `head` is refused before it is
/// read (`too_large`: not compressed, and over `max_bytes`), worded as [`read_file`]
/// words it: for a store whose objects are fetched, so that an oversized one is not.
pub fn refused_before_reading(
    source: &str,
    head: &[u8],
    size: u64,
    max_bytes: u64,
) -> Option<Reject> {
    (compression_of(head, source).is_none() && size > max_bytes).then(|| too_large(size, max_bytes))
}

/// Reads `size` bytes from `r`, decompressing by the name's extension, within the limit.
fn read_from(source: &str, mut r: impl Read, size: u64, max_bytes: u64) -> Result<RawFile, Reject> {
    let io = |e: std::io::Error| Reject::new(RejectReason::IoError, e.to_string());
    let mut magic = [0u8; 4];
    let n = read_head(&mut r, &mut magic).map_err(io)?;
    let head = &magic[..n];
    let compression = compression_of(head, source);
    if compression.is_none() && size > max_bytes {
        return Err(too_large(size, max_bytes));
    }
    let limit = max_bytes.saturating_add(1);
    let read = match compression {
        // A plain file is read straight into a buffer of its size: no copy through a
        // reader's buffer, no growing (the size may be stale: the buffer then grows, up
        // to the limit, as before).
        None => {
            let mut bytes = Vec::with_capacity(size.min(max_bytes) as usize);
            bytes.extend_from_slice(head);
            r.take(limit - n as u64)
                .read_to_end(&mut bytes)
                .map(|_| bytes)
                .map_err(io)
        }
        Some(kind) => decompress(kind, std::io::Cursor::new(head).chain(r), limit),
    };
    let bytes = read?;
    if bytes.len() as u64 > max_bytes {
        return Err(Reject::new(
            RejectReason::TooLarge,
            format!(
                "{} content exceeds the limit of {max_bytes} bytes (input.max_file_bytes)",
                if compression.is_some() {
                    "decompressed"
                } else {
                    "file"
                }
            ),
        ));
    }
    Ok(RawFile { bytes, compression })
}

/// Reads up to `buf.len()` bytes, fewer only at the end of the stream; returns how many.
fn read_head(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// The decompressed bytes of a gzip, zstd, bzip2 or xz stream, up to `limit` bytes.
fn decompress(kind: &str, r: impl Read, limit: u64) -> Result<Vec<u8>, Reject> {
    let mut r = std::io::BufReader::with_capacity(64 * 1024, r);
    let mut bytes = Vec::new();
    let read = match kind {
        "gzip" => flate2::read::MultiGzDecoder::new(r)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt("gzip", e)),
        "bzip2" => bzip2::read::MultiBzDecoder::new(r)
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt("bzip2", e)),
        "xz" => {
            // lzma-rs writes what it decodes: the writer stops it at the limit (the
            // caller then rejects the page as too large).
            let mut out = Capped {
                bytes: &mut bytes,
                limit,
            };
            match lzma_rs::xz_decompress(&mut r, &mut out) {
                Ok(()) => Ok(0),
                Err(_) if bytes.len() as u64 >= limit => Ok(0),
                Err(e) => Err(corrupt("xz", std::io::Error::other(e.to_string()))),
            }
        }
        _ => match zstd::stream::read::Decoder::new(r) {
            Ok(d) => d
                .take(limit)
                .read_to_end(&mut bytes)
                .map_err(|e| corrupt("zstd", e)),
            Err(e) => Err(corrupt("zstd", e)),
        },
    };
    read.map(|_| bytes)
}

/// A buffer that takes at most `limit` bytes, then fails the write.
struct Capped<'a> {
    bytes: &'a mut Vec<u8>,
    limit: u64,
}

impl std::io::Write for Capped<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.limit.saturating_sub(self.bytes.len() as u64);
        if room == 0 {
            return Err(std::io::Error::other("past the size limit"));
        }
        let n = buf.len().min(room as usize);
        self.bytes.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn too_large(len: u64, max: u64) -> Reject {
    Reject::new(
        RejectReason::TooLarge,
        format!("{len} bytes exceeds the limit of {max} bytes (input.max_file_bytes)"),
    )
}

fn corrupt(kind: &str, e: std::io::Error) -> Reject {
    Reject::new(
        RejectReason::Undecodable,
        format!("corrupt {kind} stream: {e}"),
    )
}

/// The compression of a file: by its first bytes (gzip `1f 8b`, zstd `28 b5 2f fd`,
/// bzip2 `BZh` and a block size digit, xz `fd 37 7a 58`), whatever its name; a `.gz` /
/// `.zst` / `.bz2` / `.xz` name whose bytes are too short to tell is taken at its word (and
/// then fails as a corrupt stream).
fn compression_of(head: &[u8], source: &str) -> Option<&'static str> {
    const GZIP: &[u8] = &[0x1f, 0x8b];
    const ZSTD: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
    const XZ: &[u8] = &[0xfd, 0x37, 0x7a, 0x58];
    if head.starts_with(GZIP) {
        return Some("gzip");
    }
    if head.starts_with(ZSTD) {
        return Some("zstd");
    }
    if head.starts_with(XZ) {
        return Some("xz");
    }
    if head.len() == 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        return Some("bzip2");
    }
    let lower = source.to_ascii_lowercase();
    match head.len() < ZSTD.len() {
        true if lower.ends_with(".gz") => Some("gzip"),
        true if lower.ends_with(".zst") => Some("zstd"),
        true if lower.ends_with(".bz2") => Some("bzip2"),
        true if lower.ends_with(".xz") => Some("xz"),
        _ => None,
    }
}

/// What a binary file's first bytes say it is, when they carry a well-known signature.
pub fn looks_like(raw: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"%PDF-", "a PDF document"),
        (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
        (b"\x7fELF", "an ELF executable"),
        (b"MZ", "a Windows executable"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"Rar!\x1a\x07", "a RAR archive"),
        (b"SQLite format 3\x00", "an SQLite database"),
        (b"\x00asm", "a WebAssembly module"),
        (b"wOFF", "a WOFF font"),
        (b"wOF2", "a WOFF2 font"),
    ];
    if raw.len() >= 12 && &raw[..4] == b"RIFF" && &raw[8..12] == b"WEBP" {
        return Some("a WebP image");
    }
    SIGNATURES
        .iter()
        .find(|(magic, _)| raw.starts_with(magic))
        .map(|(_, what)| *what)
}

/// A binary reject, saying what the bytes look like when they have a known signature,
/// else `fallback` (what the decoding found).
fn binary(raw: &[u8], fallback: String) -> Reject {
    match looks_like(raw) {
        Some(what) => Reject::new(RejectReason::Binary, format!("the bytes look like {what}")),
        None => Reject::new(RejectReason::Binary, fallback),
    }
}

/// Decodes a file's bytes into a page (see the module docs for the order of decisions).
/// The rules' legacy encodings are always tried besides chardetng's guess.
pub fn decode(raw: &[u8], rules: &InputRules) -> Result<DecodedPage, Reject> {
    if raw.is_empty() {
        return Err(Reject::new(RejectReason::Empty, "0 bytes"));
    }
    let html = html::looks_like_html(raw);
    let (picked, note) = match html {
        true => pick_html_decoding(raw, &rules.legacy_encodings),
        false => (pick(raw, &rules.legacy_encodings), None),
    };
    let mut page = picked.page;
    // The choice's plausibility holds for the text as checked unless line endings change.
    let plausible = picked
        .plausible
        .filter(|_| memchr::memchr(b'\r', page.text.as_bytes()).is_none());
    page.text = normalize_newlines(page.text);
    check(raw, &page, plausible, &rules.config)?;
    if html {
        let depth = html::nesting(&page.text);
        if depth > html::MAX_DEPTH {
            return Err(Reject::new(
                RejectReason::Undecodable,
                format!(
                    "HTML nested {depth} elements deep (more than {}): not parsed",
                    html::MAX_DEPTH
                ),
            ));
        }
        let mut h = html::to_lines(&page.text, &rules.html);
        if h.text.trim().is_empty() {
            return Err(Reject::new(
                RejectReason::Empty,
                "HTML with no text outside the parts left out (script, style, [html] drop)",
            ));
        }
        page.text = std::mem::take(&mut h.text);
        h.note = note;
        page.html = Some(Box::new(h));
    }
    Ok(page)
}

/// An HTML page's decoding, as a browser chooses it: a BOM, else the encoding its
/// `<meta>` declares, else the detector. A declaration the bytes contradict (valid UTF-8
/// declared as another encoding, or a declared encoding that leaves bytes unreadable where
/// the detector's choice leaves fewer) loses to the most plausible decoding, with a note.
fn pick_html_decoding(raw: &[u8], legacy: &[&'static Encoding]) -> (Picked, Option<String>) {
    let declared = match (Encoding::for_bom(raw), html::meta_charset(raw)) {
        (None, Some(enc)) => enc,
        _ => return (pick(raw, legacy), None),
    };
    let mut labelled = Picked::unscored(decode_with(declared, raw, false));
    let utf8 = declared != UTF_8 && !raw.is_ascii() && utf8::as_str(raw).is_some();
    if !utf8 && labelled.page.replacements == 0 {
        // What nearly every page is: the declaration reads the bytes cleanly — into text,
        // not into mojibake: Big5 bytes declared `gb2312` read as GBK without a bad byte,
        // but about half of the non-ASCII characters they give are not what pages are
        // made of.
        if declared == UTF_8 {
            return (labelled, None);
        }
        let mut score = Plausibility::default();
        score.add(&labelled.page.text);
        // Kept: the checks after decoding need it (and would otherwise measure it).
        labelled.plausible = Some(score.ratio());
        if score.beyond_ascii() >= CLEAN_BUT_DOUBTFUL {
            return (labelled, None);
        }
    }
    let best = pick(raw, legacy);
    let more_plausible = || {
        best.page.replacements <= labelled.page.replacements
            && best.plausible.unwrap_or(0.0) > labelled.plausible.unwrap_or(1.0)
    };
    match utf8 || best.page.replacements < labelled.page.replacements || more_plausible() {
        false => (labelled, None),
        true => {
            let note = format!(
                "the page declares {} but its bytes read as {}: read as {}",
                display_name(declared),
                best.page.encoding,
                best.page.encoding
            );
            (best, Some(note))
        }
    }
}

/// Below this share of plausible characters among the non-ASCII ones (markup and English
/// cannot dilute it), a page its declared encoding reads without a bad byte is compared
/// with the detector's choice: a clean Chinese page scores ~1.0, Big5 bytes read as GBK
/// about half.
const CLEAN_BUT_DOUBTFUL: f64 = 0.95;

/// The checks every decoded page passes: not blank, not binary, plausible text, few
/// unreadable characters.
/// `plausible` is the page's [`plausibility`] when it is already known.
fn check(
    raw: &[u8],
    page: &DecodedPage,
    plausible: Option<f64>,
    cfg: &crate::config::InputConfig,
) -> Result<(), Reject> {
    // Counted only for a page with control or replacement characters (the ratios are
    // validated to be ≥ 0, so none means under the limit).
    let total = || page.text.chars().count().max(1);
    if page.text.trim().is_empty() {
        return Err(Reject::new(RejectReason::Empty, "only whitespace"));
    }
    let (nul, control) = control_chars(&page.text);
    if nul > 0 {
        let raw_nul = raw.iter().filter(|&&b| b == 0).count();
        return Err(binary(
            raw,
            format!("{raw_nul} NUL byte(s) in {} bytes", raw.len()),
        ));
    }
    if control > 0 && control as f64 / total() as f64 > cfg.max_control_ratio {
        return Err(binary(
            raw,
            format!(
                "{control} control characters in {} (input.max_control_ratio)",
                total()
            ),
        ));
    }
    if page.encoding != "UTF-8" {
        let plausible = plausible.unwrap_or_else(|| plausibility(page));
        if plausible < cfg.min_plausible_ratio {
            // NUL or control bytes in what no encoding reads as text: a binary file.
            let controls = raw
                .iter()
                .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C))
                .count();
            if controls as f64 > cfg.max_control_ratio * raw.len() as f64 {
                return Err(binary(
                    raw,
                    format!(
                        "{controls} NUL or control bytes, and no encoding reads it as text \
                         (best: {}, {:.0}% plausible)",
                        page.encoding,
                        plausible * 100.0
                    ),
                ));
            }
            return Err(Reject::new(
                RejectReason::Undecodable,
                format!(
                    "best decoding ({}) gives only {:.0}% plausible text characters \
                     (input.min_plausible_ratio)",
                    page.encoding,
                    plausible * 100.0
                ),
            ));
        }
    }
    // A handful of bad bytes (a sequence cut at the end of a short page) never rejects.
    if page.replacements > 4
        && page.replacements as f64 / total() as f64 > cfg.max_replacement_ratio
    {
        return Err(Reject::new(
            RejectReason::Undecodable,
            format!(
                "best decoding ({}) leaves {} of {} characters unreadable \
                 (input.max_replacement_ratio)",
                page.encoding,
                page.replacements,
                total()
            ),
        ));
    }
    Ok(())
}

/// The NUL characters of `text`, and its other control characters (Unicode `Cc`) that are
/// not line or page breaks or tabs — counted on the bytes: in UTF-8 a `Cc` character is a
/// byte below 0x20, 0x7F, or 0xC2 followed by 0x80–0x9F, and text without them (nearly
/// every page) is passed over a block at a time ([`Block`]). (`char::is_control` over
/// every character was 4% of a run on long answers; it stays the oracle in the tests.)
fn control_chars(text: &str) -> (usize, usize) {
    let b = text.as_bytes();
    let (mut nul, mut control) = (0usize, 0usize);
    let mut i = 0;
    while i < b.len() {
        if let Some(block) = b.get(i..i + Block::BYTES) {
            if !Block::suspect(block) {
                i += Block::BYTES;
                continue;
            }
        }
        // One byte at a time to the end of this block (a C2 sequence may cross it).
        let end = (i + Block::BYTES).min(b.len());
        while i < end {
            match b[i] {
                0 => nul += 1,
                b'\n' | b'\t' | 0x0B | 0x0C => {}
                0x01..=0x1F | 0x7F => control += 1,
                0xC2 if matches!(b.get(i + 1), Some(0x80..=0x9F)) => control += 1,
                _ => {}
            }
            i += 1;
        }
    }
    (nul, control)
}

/// The blocks [`control_chars`] passes over: sixteen bytes in an SSE2 register on x86-64,
/// where the test is exact (a block of text with line breaks but no control character is
/// passed over too, most of a page's blocks), eight in a `u64` elsewhere.
struct Block;

impl Block {
    #[cfg(target_arch = "x86_64")]
    const BYTES: usize = 16;
    #[cfg(not(target_arch = "x86_64"))]
    const BYTES: usize = 8;

    /// Whether `b` (`BYTES` long) may hold a byte [`control_chars`] counts or that starts
    /// one: below 0x20 but a tab or a line or page break (0x09–0x0C), 0x7F or 0xC2.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn suspect(b: &[u8]) -> bool {
        use std::arch::x86_64::{
            _mm_andnot_si128, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
            _mm_or_si128, _mm_set1_epi8, _mm_sub_epi8,
        };
        assert_eq!(b.len(), Self::BYTES);
        // SAFETY: SSE2 is part of x86-64 (every x86-64 processor has it, and the compiler
        // assumes it there); the load reads the 16 bytes of `b`, checked above, unaligned.
        unsafe {
            let x = _mm_loadu_si128(b.as_ptr().cast());
            // x ≤ 0x1F, and x − 9 ≤ 3 (a tab or a break), as unsigned bytes.
            let low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
            let t = _mm_sub_epi8(x, _mm_set1_epi8(0x09));
            let breaks = _mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(3)), t);
            let del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F));
            let c2 = _mm_cmpeq_epi8(x, _mm_set1_epi8(0xC2u8 as i8));
            let hit = _mm_or_si128(_mm_andnot_si128(breaks, low), _mm_or_si128(del, c2));
            _mm_movemask_epi8(hit) != 0
        }
    }

    /// Whether `b` (`BYTES` long) may hold a byte below 0x20, 0x7F or 0xC2 (exact for
    /// "none").
    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn suspect(b: &[u8]) -> bool {
        use crate::text::swar::{has_byte, has_byte_below};
        let w = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        has_byte_below(w, 0x20) || has_byte(w, 0x7F) || has_byte(w, 0xC2)
    }
}

/// Bytes of a page chardetng is shown.
const CHARDET_PREFIX: usize = 4096;

/// Chooses the decoding; the second value lists every candidate tried, for `explain`.
/// `legacy` are encodings always tried besides chardetng's guess (`input.legacy_encodings`).
pub fn pick_decoding(raw: &[u8], legacy: &[&'static Encoding]) -> (DecodedPage, Vec<&'static str>) {
    let p = pick(raw, legacy);
    (p.page, p.tried)
}

/// A decoding chosen, with what choosing it measured.
struct Picked {
    page: DecodedPage,
    /// Every candidate tried.
    tried: Vec<&'static str>,
    /// The page's [`plausibility`], when the choice measured it.
    plausible: Option<f64>,
}

impl Picked {
    fn unscored(page: DecodedPage) -> Picked {
        Picked {
            tried: vec![page.encoding],
            page,
            plausible: None,
        }
    }
}

/// [`pick_decoding`].
fn pick(raw: &[u8], legacy: &[&'static Encoding]) -> Picked {
    if let Some((enc, bom_len)) = Encoding::for_bom(raw) {
        return Picked::unscored(decode_with(enc, &raw[bom_len..], true));
    }
    // An HZ-GB-2312 page is pure ASCII: it would pass as UTF-8 below.
    if let Some(text) = hz::decode(raw) {
        return Picked::unscored(DecodedPage {
            text,
            encoding: "HZ-GB-2312",
            bom: false,
            replacements: 0,
            html: None,
        });
    }
    let has_nul = memchr::memchr(0, raw).is_some();
    if let (Ok(s), false) = (utf8::as_str(raw).ok_or(()), has_nul) {
        return Picked::unscored(DecodedPage {
            text: s.to_string(),
            encoding: "UTF-8",
            bom: false,
            replacements: 0,
            html: None,
        });
    }
    // A few bad bytes in otherwise valid UTF-8 (a sequence cut at the end, one corrupt
    // byte) keep the page UTF-8: a legacy decoding would turn the rest into mojibake.
    // (Counted only as far as the limit: a legacy page passes it within a few lines.)
    let few = 3.max(raw.len() / 1000);
    if !has_nul && utf8_errors(raw, few + 1) <= few {
        return Picked::unscored(decode_with(UTF_8, raw, false));
    }
    if !has_nul {
        if let Some(page) = decode_mixed(raw) {
            let name = page.encoding;
            return Picked {
                tried: vec!["UTF-8", name],
                page,
                plausible: None,
            };
        }
    }
    // The legacy encodings first: when exactly one of them decodes the page into nothing
    // but plausible characters, it wins whatever chardetng would guess (the guess comes
    // before them in the list and the last of equally plausible candidates is taken), so
    // chardetng — ~1,600 instructions a byte — is not run.
    let mut tried: Vec<(&'static Encoding, f64, DecodedPage)> = Vec::new();
    for &e in legacy {
        if !tried.iter().any(|t| t.0 == e) {
            let page = decode_with(e, raw, false);
            tried.push((e, plausibility(&page), page));
        }
    }
    let sure = tried.iter().filter(|t| t.1 == 1.0).count() == 1;
    let mut guessed = None;
    if !sure {
        // The first few kilobytes of a page tell its encoding as well as the whole page
        // (the candidates are then all decoded in full and the most plausible wins).
        let mut det = chardetng::EncodingDetector::new();
        det.feed(&raw[..raw.len().min(CHARDET_PREFIX)], true);
        let guess = det.guess(None, false);
        let guess = if guess == GBK { GB18030 } else { guess };
        guessed = Some(match tried.iter().position(|t| t.0 == guess) {
            Some(i) => tried.remove(i).2,
            None => decode_with(guess, raw, false),
        });
    }
    // `None` stands for the UTF-8 reading, first in the list: it is not built unless it is
    // kept, which on a page in a legacy encoding it practically never is.
    let mut scored: Vec<(f64, Option<DecodedPage>)> = vec![(0.0, None)];
    scored.extend(guessed.map(|c| (plausibility(&c), Some(c))));
    scored.extend(tried.into_iter().map(|t| (t.1, Some(t.2))));
    let mut push = |page: DecodedPage| scored.push((plausibility(&page), Some(page)));
    // BOM-less UTF-16 only with evidence: a newline aligned as UTF-16 would store it.
    if raw.len().is_multiple_of(2) {
        let units = raw.chunks_exact(2);
        let (mut le, mut be) = (false, false);
        for u in units {
            le |= u == [0x0A, 0x00];
            be |= u == [0x00, 0x0A];
        }
        if le {
            push(decode_with(UTF_16LE, raw, false));
        }
        if be {
            push(decode_with(UTF_16BE, raw, false));
        }
    }
    // The first of equals wins nothing, so the UTF-8 reading can only win by scoring above
    // every other: not when one of them reads the page wholly as plausible text.
    if scored.iter().all(|c| c.0 < 1.0) {
        scored[0].0 = utf8_plausibility(raw);
    }
    let names = scored
        .iter()
        .map(|c| c.1.as_ref().map_or("UTF-8", |p| p.encoding))
        .collect();
    let (score, best) = scored
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("at least one candidate");
    let mut picked = Picked {
        page: best.unwrap_or_else(|| decode_with(UTF_8, raw, false)),
        tried: names,
        plausible: Some(score),
    };
    unless_japanese_or_korean(raw, &mut picked);
    picked
}

/// A GB18030 reading that shows a sign of Japanese or Korean bytes ([`misread`]) gives
/// way to the detector's guess when that is a Japanese or Korean encoding reading the page
/// at least as plausibly and with no more replacement characters.
fn unless_japanese_or_korean(raw: &[u8], picked: &mut Picked) {
    if picked.page.encoding != "GB18030" || !misread::looks_misread(&picked.page.text) {
        return;
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(&raw[..raw.len().min(CHARDET_PREFIX)], true);
    let guess = det.guess(None, false);
    if ![SHIFT_JIS, EUC_JP, EUC_KR, ISO_2022_JP].contains(&guess) {
        return;
    }
    let page = decode_with(guess, raw, false);
    let score = plausibility(&page);
    if score >= picked.plausible.unwrap_or(0.0) && page.replacements <= picked.page.replacements {
        picked.tried.push(page.encoding);
        picked.page = page;
        picked.plausible = Some(score);
    }
}

/// A page whose lines mix UTF-8 and a legacy encoding (a scraper concatenating fragments):
/// lines that are valid UTF-8 are UTF-8, the others are decoded with the legacy encoding
/// chardetng guesses from them alone. Used only when the valid lines hold real multi-byte
/// UTF-8 (at least 8 characters: legacy Chinese text is practically never valid UTF-8)
/// and some lines are not valid UTF-8.
fn decode_mixed(raw: &[u8]) -> Option<DecodedPage> {
    // Most pages that come here are wholly in a legacy encoding: the valid lines are
    // looked at first, and nothing is collected unless they hold enough UTF-8.
    let valid_multibyte: usize = raw
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_ascii())
        .filter_map(|l| utf8::as_str(l))
        .map(|s| s.chars().filter(|c| !c.is_ascii()).count())
        .sum();
    if valid_multibyte < 8 {
        return None;
    }
    let lines: Vec<&[u8]> = raw.split(|&b| b == b'\n').collect();
    let mut multibyte = 0usize;
    let mut invalid: Vec<u8> = Vec::new();
    let mut valid = Vec::with_capacity(lines.len());
    for l in &lines {
        match utf8::as_str(l) {
            Some(s) => {
                multibyte += s.chars().filter(|c| !c.is_ascii()).count();
                valid.push(true);
            }
            None => {
                invalid.extend_from_slice(l);
                invalid.push(b'\n');
                valid.push(false);
            }
        }
    }
    if multibyte < 8 || invalid.is_empty() {
        return None;
    }
    let mut det = chardetng::EncodingDetector::new();
    det.feed(&invalid, true);
    let legacy = det.guess(None, false);
    let legacy = if legacy == GBK { GB18030 } else { legacy };
    let name = match display_name(legacy) {
        "GB18030" => "UTF-8+GB18030",
        "Big5" => "UTF-8+Big5",
        "Shift_JIS" => "UTF-8+Shift_JIS",
        "EUC-KR" => "UTF-8+EUC-KR",
        _ => "UTF-8+legacy",
    };
    let mut text = String::with_capacity(raw.len());
    for (i, (l, ok)) in lines.iter().zip(&valid).enumerate() {
        if i > 0 {
            text.push('\n');
        }
        if *ok {
            text.push_str(std::str::from_utf8(l).expect("checked valid"));
        } else {
            text.push_str(&legacy.decode_without_bom_handling(l).0);
        }
    }
    let replacements = text.chars().filter(|&c| c == '\u{FFFD}').count();
    Some(DecodedPage {
        text,
        encoding: name,
        bom: false,
        replacements,
        html: None,
    })
}

fn decode_with(enc: &'static Encoding, bytes: &[u8], bom: bool) -> DecodedPage {
    let (text, _had_errors) = enc.decode_without_bom_handling(bytes);
    let text = text.into_owned();
    let replacements = replacement_chars(&text);
    DecodedPage {
        text,
        encoding: display_name(enc),
        bom,
        replacements,
        html: None,
    }
}

/// The name recorded in `metadata.encoding`.
fn display_name(enc: &'static Encoding) -> &'static str {
    if enc == GBK || enc == GB18030 {
        "GB18030"
    } else {
        enc.name()
    }
}

/// Characters of a text [`plausibility`] looks at.
const PLAUSIBILITY_CHARS: usize = 200_000;

/// Share of characters that are what a Chinese or English page is made of; replacement
/// characters and NULs count against it. Mojibake lands in rarely used blocks and scores low.
fn plausibility(page: &DecodedPage) -> f64 {
    let mut score = Plausibility::default();
    score.add(&page.text);
    score.ratio()
}

/// Plausible characters among the first [`PLAUSIBILITY_CHARS`] of a text given in pieces.
#[derive(Default)]
struct Plausibility {
    good: usize,
    total: usize,
    /// Of those, the ASCII characters and the plausible ones among them.
    ascii: usize,
    ascii_good: usize,
}

impl Plausibility {
    fn add(&mut self, s: &str) {
        let room = PLAUSIBILITY_CHARS - self.total;
        if s.len() > room {
            // Perhaps more characters than are looked at (never more than bytes).
            let mut n = 0;
            for c in s.chars().take(room) {
                n += 1;
                let good = usize::from(plausible(c as u32));
                self.good += good;
                if c.is_ascii() {
                    self.ascii += 1;
                    self.ascii_good += good;
                }
            }
            self.total += n;
            return;
        }
        // Every character, read from the bytes: ASCII by itself, a three-byte sequence
        // (CJK) by its block, which its first two bytes give.
        let b = s.as_bytes();
        let (mut i, mut n, mut good) = (0, 0, 0);
        let (mut ascii, mut ascii_good) = (0, 0);
        while i < b.len() {
            let x = b[i];
            n += 1;
            if x < 0x80 {
                ascii += 1;
                ascii_good += usize::from(matches!(x, 0x09 | 0x0A | 0x0D | 0x20..=0x7E));
                i += 1;
                continue;
            }
            if (0xE0..0xF0).contains(&x) {
                let b1 = u32::from(b[i + 1]) & 0x3F;
                let block = (u32::from(x) & 0x0F) << 4 | b1 >> 2;
                good += match PLAUSIBLE_BLOCKS[block as usize] {
                    0 => 0,
                    1 => 1,
                    _ => {
                        let u = block << 8 | (b1 & 0x03) << 6 | u32::from(b[i + 2]) & 0x3F;
                        usize::from(is_plausible(u))
                    }
                };
                i += 3;
                continue;
            }
            let c = s[i..].chars().next().expect("a character starts here");
            good += usize::from(plausible(c as u32));
            i += c.len_utf8();
        }
        self.good += good + ascii_good;
        self.total += n;
        self.ascii += ascii;
        self.ascii_good += ascii_good;
    }

    /// A replacement character (never plausible).
    fn add_bad(&mut self) {
        if self.total < PLAUSIBILITY_CHARS {
            self.total += 1;
        }
    }

    fn ratio(&self) -> f64 {
        match self.total {
            0 => 0.0,
            t => self.good as f64 / t as f64,
        }
    }

    /// The share among the non-ASCII characters (1.0 when there are none): markup and
    /// English cannot dilute it.
    fn beyond_ascii(&self) -> f64 {
        match self.total - self.ascii {
            0 => 1.0,
            t => (self.good - self.ascii_good) as f64 / t as f64,
        }
    }
}

/// The [`plausibility`] of `raw` decoded as UTF-8, without building the text: a valid run
/// is read in place and each maximal invalid subsequence is one U+FFFD, as in the WHATWG
/// decoder `encoding_rs` implements (which stays the oracle in a test).
fn utf8_plausibility(raw: &[u8]) -> f64 {
    let mut score = Plausibility::default();
    for chunk in raw.utf8_chunks() {
        score.add(chunk.valid());
        if !chunk.invalid().is_empty() {
            score.add_bad();
        }
    }
    score.ratio()
}

/// Replacement characters the UTF-8 reading of `raw` would have, counted only until
/// `limit` is reached: one per maximal invalid subsequence, and the U+FFFD characters
/// already in the bytes, counted on the whole input (their first byte, 0xEF, never
/// continues a sequence, so an invalid subsequence never swallows one).
fn utf8_errors(raw: &[u8], limit: usize) -> usize {
    let mut n = 0;
    for chunk in raw.utf8_chunks() {
        if n >= limit {
            return n;
        }
        n += usize::from(!chunk.invalid().is_empty());
    }
    n + memchr::memmem::find_iter(raw, REPLACEMENT).count()
}

/// U+FFFD in UTF-8.
const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

/// U+FFFD characters in `text`: its three bytes, which in UTF-8 can only be that
/// character.
fn replacement_chars(text: &str) -> usize {
    memchr::memmem::find_iter(text.as_bytes(), REPLACEMENT).count()
}

/// BMP blocks of 256 code points by what [`is_plausible`] says of their characters:
/// 0 none, 1 all, 2 some.
const PLAUSIBLE_BLOCKS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut block = 0;
    while block < 256 {
        let mut yes = 0;
        let mut u = block << 8;
        while u < (block + 1) << 8 {
            if is_plausible(u as u32) {
                yes += 1;
            }
            u += 1;
        }
        t[block] = match yes {
            0 => 0,
            256 => 1,
            _ => 2,
        };
        block += 1;
    }
    t
};

/// [`is_plausible`], for most characters by their block.
#[inline]
fn plausible(u: u32) -> bool {
    if u < 0x80 {
        return matches!(u, 0x09 | 0x0A | 0x0D | 0x20..=0x7E);
    }
    match PLAUSIBLE_BLOCKS.get((u >> 8) as usize) {
        Some(0) => false,
        Some(1) => true,
        _ => is_plausible(u),
    }
}

/// Characters real pages are made of. Latin-1 letters are left out on purpose: a legacy
/// Chinese page decoded with a Western code page lands there, and must score low.
const fn is_plausible(u: u32) -> bool {
    matches!(u,
        0x09 | 0x0A | 0x0D | 0x20..=0x7E
        | 0xA0 | 0xB0 | 0xB1 | 0xB2 | 0xB3 | 0xB7 | 0xD7 | 0xF7
        | 0x0100..=0x024F   // Latin extended
        | 0x0370..=0x04FF   // Greek, Cyrillic
        | 0x2000..=0x206F   // general punctuation
        | 0x2100..=0x23FF   // letterlike, number forms, arrows, math
        | 0x2460..=0x27BF   // enclosed numbers (①), box drawing, shapes (●), dingbats
        | 0x3000..=0x30FF   // CJK punctuation, kana
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // Hangul
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFE30..=0xFE4F   // CJK compatibility forms
        | 0xFF00..=0xFFEF   // full-width forms
        | 0x1F300..=0x1FAFF) // emoji
}

/// CRLF and lone CR become LF.
pub fn normalize_newlines(text: String) -> String {
    // The memchr crate's search (core's `contains` walks two words at a time: ~1
    // instruction a byte over every page).
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "医保个人账户可以异地使用吗\n\n可以，需要先办理备案。\n";

    /// `control_chars` counts what `char::is_control` counts, character by character.
    #[test]
    fn control_characters_are_counted_as_the_char_tests_count_them() {
        let by_chars = |t: &str| {
            let nul = t.chars().filter(|&c| c == '\0').count();
            let control = t
                .chars()
                .filter(|&c| {
                    c != '\0' && c.is_control() && !matches!(c, '\n' | '\t' | '\u{c}' | '\u{b}')
                })
                .count();
            (nul, control)
        };
        let pool: Vec<char> =
            "医保a \n\t\u{b}\u{c}\r\0\u{1}\u{1f}\u{7f}\u{80}\u{85}\u{9f}\u{a0}×·é\u{2028}😀"
                .chars()
                .collect();
        let mut rng = crate::synth::Rng::new(9);
        for _ in 0..5000 {
            let n = rng.below(40);
            let t: String = (0..n).map(|_| pool[rng.below(pool.len())]).collect();
            assert_eq!(control_chars(&t), by_chars(&t), "{t:?}");
        }
        for c in (0..0x800u32).filter_map(char::from_u32) {
            let t = format!("医保个人{c}账户");
            assert_eq!(control_chars(&t), by_chars(&t), "{c:?}");
        }
        // Every byte position of a block and across two, among line breaks.
        for c in ['\0', '\u{1}', '\r', '\u{7f}', '\u{85}', '\n', '\u{a0}'] {
            for pad in 0..40 {
                let t = format!("{}{c}\n医保个人账户可以\n\n异地使用\t吗", "a".repeat(pad));
                assert_eq!(control_chars(&t), by_chars(&t), "{c:?} at {pad}");
            }
        }
    }

    /// The default rules: GB18030 always tried.
    fn rules() -> InputRules {
        InputRules::compile(&crate::config::InputConfig::default()).unwrap()
    }

    fn listed(path: PathBuf, source: &str) -> InputFile {
        InputFile {
            path,
            source: source.into(),
            walk_error: None,
        }
    }

    /// The walk saw a regular file; a FIFO took its place before the read: refused at
    /// once by the opened descriptor's type (a blocking open would wait for a writer
    /// forever).
    #[cfg(unix)]
    #[test]
    fn a_page_replaced_by_a_fifo_after_the_walk_does_not_hang() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("zzzz.txt");
        let made = std::process::Command::new("mkfifo").arg(&p).status();
        if !made.is_ok_and(|s| s.success()) {
            return;
        }
        let err = read_file(&listed(p, "zzzz.txt"), &rules()).unwrap_err();
        assert_eq!(err.reason, RejectReason::NotRegular);
        assert!(err.detail.contains("FIFO"), "{}", err.detail);
    }

    /// The walk saw a file inside the input; a symlink out of it took its place: the
    /// opened descriptor's real path is outside the input, so nothing is read.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_page_replaced_by_a_symlink_out_of_the_input_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        std::fs::create_dir(&input).unwrap();
        std::fs::write(dir.path().join("secret.txt"), PAGE).unwrap();
        let p = input.join("page.txt");
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), &p).unwrap();
        let mut r = rules();
        r.confine = Some(std::fs::canonicalize(&input).unwrap());
        let err = read_file(&listed(p.clone(), "page.txt"), &r).unwrap_err();
        assert_eq!(err.reason, RejectReason::OutsideInput);
        r.confine = None;
        assert!(read_file(&listed(p, "page.txt"), &r).is_ok());
    }

    #[test]
    fn utf8_and_bom() {
        let p = decode(PAGE.as_bytes(), &rules()).unwrap();
        assert_eq!((p.encoding, p.bom, p.text.as_str()), ("UTF-8", false, PAGE));
        let mut b = vec![0xEF, 0xBB, 0xBF];
        b.extend_from_slice(PAGE.as_bytes());
        let p = decode(&b, &rules()).unwrap();
        assert_eq!((p.encoding, p.bom, p.text.as_str()), ("UTF-8", true, PAGE));
    }

    /// Japanese and Korean bytes read as GB18030 give ideographs and kana that all count as
    /// plausible; the text's signs ([`misread`]) send them to the detector, which names
    /// their encoding. Chinese pages in GBK, simplified or traditional, stay GB18030.
    #[test]
    fn japanese_and_korean_pages_are_not_read_as_gb18030() {
        use encoding_rs::{BIG5, EUC_JP, EUC_KR, SHIFT_JIS};
        let ja = "医療保険の質問\n医療保険の個人口座のお金は家族のために使えますか。地域によって規則が違いますが、一般的には配偶者や両親の外来費用に使えます。\n";
        let ko = "건강보험 질문\n건강보험 개인 계좌의 돈을 가족에게 쓸 수 있나요? 지역마다 규정이 다르지만 보통 배우자와 부모의 외래 진료비에 쓸 수 있습니다.\n";
        let zh = "醫保問題\n醫保個人賬戶裡的錢可以給家人用嗎？各地的規定不一樣，一般可以支付配偶、父母和子女在定點醫院的門診費用。\n";
        for (text, enc, name) in [
            (ja, SHIFT_JIS, "Shift_JIS"),
            (ja, EUC_JP, "EUC-JP"),
            (ko, EUC_KR, "EUC-KR"),
            (zh, GB18030, "GB18030"),
            (zh, BIG5, "Big5"),
            (PAGE, GB18030, "GB18030"),
        ] {
            let page = text.repeat(3);
            let (bytes, _, bad) = enc.encode(&page);
            assert!(!bad);
            let p = decode(&bytes, &rules()).unwrap();
            assert_eq!(
                (p.encoding, p.text.as_str()),
                (name, page.as_str()),
                "{}",
                enc.name()
            );
        }
    }

    /// HZ-GB-2312 pages, plain and declared in HTML (a label browsers map to the
    /// replacement encoding), are read as HZ; an ASCII page with a stray `~{` is ASCII.
    #[test]
    fn hz_pages_are_read_as_hz() {
        let hz = b"~{R=1#NJLb~}\n~{R=1#8vHKUK;'@o5DG.D\\2;D\\8xGWJtSC#?~}\n";
        let p = decode(hz, &rules()).unwrap();
        assert_eq!(p.encoding, "HZ-GB-2312");
        assert_eq!(p.text, "医保问题\n医保个人账户里的钱能不能给亲属用？\n");
        let mut html =
            b"<html><head><meta charset=hz-gb-2312><title>x</title></head><body><p>".to_vec();
        html.extend_from_slice(hz);
        html.extend_from_slice(b"</p></body></html>");
        let p = decode(&html, &rules()).unwrap();
        assert_eq!(p.encoding, "HZ-GB-2312");
        assert!(p.text.contains("医保个人账户"), "{}", p.text);
        let p = decode(
            b"x ~{R=1#~} y, and a page of English around it.\n",
            &rules(),
        )
        .unwrap();
        assert_eq!(p.encoding, "UTF-8");
    }

    #[test]
    fn gb18030_without_bom() {
        let (bytes, _, _) = GB18030.encode(PAGE);
        let p = decode(&bytes, &rules()).unwrap();
        assert_eq!(p.encoding, "GB18030");
        assert_eq!(p.text, PAGE);
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let units: Vec<u16> = PAGE.encode_utf16().collect();
        let le: Vec<u8> = units.iter().flat_map(|u| u.to_le_bytes()).collect();
        let be: Vec<u8> = units.iter().flat_map(|u| u.to_be_bytes()).collect();
        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend_from_slice(&le);
        assert_eq!(decode(&with_bom, &rules()).unwrap().encoding, "UTF-16LE");
        let p = decode(&le, &rules()).unwrap();
        assert_eq!((p.encoding, p.text.as_str()), ("UTF-16LE", PAGE));
        let p = decode(&be, &rules()).unwrap();
        assert_eq!((p.encoding, p.text.as_str()), ("UTF-16BE", PAGE));
    }

    #[test]
    fn legacy_candidates_survive_a_bad_guess() {
        // Invalid sequences make chardetng give up on GBK; GB18030 is still tried.
        let text = format!(
            "松阳医保报销比例是多少\n{}\n",
            "住院报销比例一般在七成左右。".repeat(20)
        );
        let mut b = GB18030.encode(&text).0.into_owned();
        let at = b.len() / 2;
        b.splice(at..at, [0x81, 0x20, 0xFE, 0x7F]);
        let p = decode(&b, &rules()).unwrap();
        assert_eq!(p.encoding, "GB18030");
        assert!(p.text.starts_with("松阳医保报销比例是多少\n"));
    }

    /// The choice as it was made before the shortcut, for a page that is not nearly UTF-8:
    /// chardetng's guess always decoded, then the legacy encodings, the most plausible
    /// (the last of equals) taken, and the check for Japanese or Korean bytes.
    fn pick_with_every_candidate(raw: &[u8], legacy: &[&'static Encoding]) -> DecodedPage {
        let mut det = chardetng::EncodingDetector::new();
        det.feed(&raw[..raw.len().min(CHARDET_PREFIX)], true);
        let guess = det.guess(None, false);
        let mut encodings = vec![if guess == GBK { GB18030 } else { guess }];
        for &e in legacy {
            if !encodings.contains(&e) {
                encodings.push(e);
            }
        }
        let (score, page) = std::iter::once(decode_with(UTF_8, raw, false))
            .chain(encodings.into_iter().map(|e| decode_with(e, raw, false)))
            .map(|c| (plausibility(&c), c))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .expect("a candidate");
        // Then, as `pick`, a GB18030 reading with a sign of Japanese or Korean bytes is
        // put to the detector.
        let mut picked = Picked {
            page,
            tried: Vec::new(),
            plausible: Some(score),
        };
        unless_japanese_or_korean(raw, &mut picked);
        picked.page
    }

    /// chardetng is skipped only where its guess could not win: the same decoding as with
    /// every candidate, for pages in each legacy encoding, clean or damaged, under legacy
    /// lists in either order and with two encodings that both read the page cleanly.
    #[test]
    fn skipping_the_guess_never_changes_the_choice() {
        use encoding_rs::{BIG5, EUC_KR, SHIFT_JIS, WINDOWS_1252};
        let text = format!(
            "门诊报销怎么算\n{}\n",
            "参保人员在定点医院就医，费用按比例报销。".repeat(30)
        );
        let mut pages: Vec<Vec<u8>> = Vec::new();
        for enc in [GB18030, BIG5, SHIFT_JIS, EUC_KR] {
            let clean = enc.encode(&text).0.into_owned();
            let mut damaged = clean.clone();
            let at = damaged.len() / 3;
            damaged.splice(at..at, [0x81, 0x20, 0xFE, 0x7F, 0xFF]);
            // Latin-1 bytes that two encodings read as plausible text.
            let mut odd = clean.clone();
            odd.extend_from_slice(&[0xA1, 0xA1, 0xB0, 0xA1]);
            pages.extend([clean, damaged, odd]);
        }
        pages.push(b"caf\xe9 cr\xe8me \xe0 la carte\n".repeat(20));
        let lists: [&[&'static Encoding]; 5] = [
            &[GB18030],
            &[GB18030, BIG5],
            &[BIG5, GB18030],
            &[SHIFT_JIS, EUC_KR, GB18030],
            &[WINDOWS_1252, GB18030],
        ];
        for legacy in lists {
            for raw in &pages {
                let want = pick_with_every_candidate(raw, legacy);
                let (got, _) = pick_decoding(raw, legacy);
                assert_eq!(
                    (got.encoding, &got.text),
                    (want.encoding, &want.text),
                    "{legacy:?}"
                );
            }
        }
    }
    /// The UTF-8 reading measured in place gives what `encoding_rs` decoding it gives:
    /// the same replacement characters and plausibility, on legacy pages, UTF-16, text
    /// cut or corrupted anywhere (surrogates, overlong forms, sequences cut at the end)
    /// and random bytes.
    #[test]
    fn the_utf8_reading_is_measured_as_encoding_rs_decodes_it() {
        use encoding_rs::BIG5;
        let text = "医保个人账户 abc，。１２\u{1F600}é\u{FFFD}\r\n".repeat(30);
        let mut rng = crate::synth::Rng::new(11);
        let mut cases: Vec<Vec<u8>> = vec![
            Vec::new(),
            text.as_bytes().to_vec(),
            GB18030.encode(&text).0.into_owned(),
            BIG5.encode(&text).0.into_owned(),
            UTF_16LE.encode(&text).0.into_owned(),
            b"\xED\xA0\x80\xC0\xAF\xE0\x80\xAF\xF4\x90\x80\x80\xF0\x9F\x98".to_vec(),
        ];
        for _ in 0..3000 {
            let mut b = match rng.below(2) {
                0 => text.as_bytes().to_vec(),
                _ => GB18030.encode(&text).0.into_owned(),
            };
            for _ in 0..rng.below(4) {
                if b.is_empty() {
                    break;
                }
                let at = rng.below(b.len());
                match rng.below(3) {
                    0 => b.truncate(at),
                    1 => b[at] = rng.below(256) as u8,
                    _ => b.insert(at, 0x80 | rng.below(0x80) as u8),
                }
            }
            cases.push(b);
        }
        for _ in 0..500 {
            let n = rng.below(64);
            cases.push((0..n).map(|_| rng.below(256) as u8).collect());
        }
        for b in cases {
            let page = decode_with(UTF_8, &b, false);
            let bad = utf8_errors(&b, usize::MAX);
            assert_eq!(bad, page.replacements, "{b:x?}");
            assert_eq!(utf8_errors(&b, 2).min(2), bad.min(2));
            assert_eq!(utf8_plausibility(&b), plausibility(&page), "{b:x?}");
        }
    }

    /// Plausibility read from the bytes is the share the characters give, within the
    /// first 200,000 of a text given whole or in pieces.
    #[test]
    fn plausibility_counts_the_characters_as_listed() {
        let reference = |t: &str| {
            let total = t.chars().take(PLAUSIBILITY_CHARS).count();
            let good = t
                .chars()
                .take(PLAUSIBILITY_CHARS)
                .filter(|&c| is_plausible(c as u32))
                .count();
            if total == 0 {
                0.0
            } else {
                good as f64 / total as f64
            }
        };
        let pool: Vec<char> =
            "医保a \n\t\r\0\u{7f}\u{85}é×Āπ\u{2028}①\u{3105}\u{4DC0}\u{FFFD}😀\u{10FFFF}"
                .chars()
                .collect();
        let mut rng = crate::synth::Rng::new(4);
        let mut texts: Vec<String> = (0..3000)
            .map(|_| {
                let n = rng.below(60);
                (0..n).map(|_| pool[rng.below(pool.len())]).collect()
            })
            .collect();
        texts.push("账".repeat(PLAUSIBILITY_CHARS - 1) + "é\u{85}\u{85}");
        texts.push("\u{85}".repeat(PLAUSIBILITY_CHARS + 10));
        for t in &texts {
            let mut whole = Plausibility::default();
            whole.add(t);
            assert_eq!(whole.ratio(), reference(t), "{t:?}");
            let cut = t
                .char_indices()
                .nth(t.chars().count() / 2)
                .map_or(0, |c| c.0);
            let mut pieces = Plausibility::default();
            pieces.add(&t[..cut]);
            pieces.add(&t[cut..]);
            assert_eq!(pieces.ratio(), reference(t));
        }
    }

    /// Every character alone, read from its bytes, is judged as the character test judges it.
    #[test]
    fn every_character_read_from_its_bytes_is_judged_as_listed() {
        let mut buf = [0u8; 4];
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut p = Plausibility::default();
            p.add(c.encode_utf8(&mut buf));
            assert_eq!(p.good == 1, is_plausible(c as u32), "{c:?}");
            assert_eq!(p.total, 1);
        }
    }

    /// The block table answers as the character test does, for every code point.
    #[test]
    fn plausible_characters_by_block_are_the_listed_ones() {
        for u in 0..=0x10FFFF {
            assert_eq!(plausible(u), is_plausible(u), "U+{u:04X}");
        }
    }

    #[test]
    fn utf8_cut_at_the_end_stays_utf8() {
        let mut b = PAGE.as_bytes().to_vec();
        b.extend_from_slice(&"账".as_bytes()[..2]);
        let p = decode(&b, &rules()).unwrap();
        assert_eq!((p.encoding, p.replacements), ("UTF-8", 1));
        assert!(p.text.starts_with(PAGE));
    }

    #[test]
    fn lines_mixing_utf8_and_gbk_are_each_decoded() {
        let head = "医保个人账户可以异地使用吗\n可以，需要先办理备案。\n";
        let tail = "备案后在就医地直接结算费用。\n";
        let mut b = head.as_bytes().to_vec();
        b.extend_from_slice(&GB18030.encode(tail).0);
        let p = decode(&b, &rules()).unwrap();
        assert_eq!(p.encoding, "UTF-8+GB18030");
        assert_eq!(p.text, format!("{head}{tail}"));
        assert_eq!(p.replacements, 0);
    }

    #[test]
    fn crlf_is_normalized() {
        let p = decode(b"a\r\nb\rc\n", &rules()).unwrap();
        assert_eq!(p.text, "a\nb\nc\n");
    }

    #[test]
    fn rejects() {
        let reason = |b: &[u8]| decode(b, &rules()).unwrap_err().reason;
        assert_eq!(reason(b""), RejectReason::Empty);
        assert_eq!(reason(b" \n\t\r\n"), RejectReason::Empty);
        assert_eq!(reason(b"title\n\0\0\0body"), RejectReason::Binary);
        let png: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        let r = reason(&png);
        assert!(
            matches!(r, RejectReason::Binary | RejectReason::Undecodable),
            "{r:?}"
        );
        // High bytes with no NUL: every legacy decoding is mojibake.
        let mut x = 0x1234_5678u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                0x80 | (x as u8)
            })
            .collect();
        assert_eq!(reason(&noise), RejectReason::Undecodable);
    }
}
