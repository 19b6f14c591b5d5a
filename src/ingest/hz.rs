//! HZ-GB-2312 (RFC 1843): the 7-bit encoding of GB2312 that older Chinese mail, news and
//! web archives use. `encoding_rs` does not decode it (the WHATWG standard maps its label
//! to the replacement encoding) and chardetng does not detect it, and an HZ page is pure
//! ASCII, so without this it would be read as UTF-8 and kept as `~{...~}` mojibake.
//!
//! Between `~{` and `~}` every two bytes in `0x21..=0x7E` are one GB2312 character (its
//! two bytes with the high bit cleared); `~~` is a tilde and `~` before a line break
//! joins the lines. The page is transcribed into GB2312 bytes and decoded by
//! `encoding_rs`'s GB18030 decoder, a superset.

use encoding_rs::GB18030;

/// Fewest GB2312 characters (and the least share of the text's non-blank characters
/// outside markup, in percent) that make an ASCII page HZ: code or prose with a stray `~{`
/// is not.
const MIN_CHARS: usize = 8;
const MIN_SHARE_PERCENT: usize = 25;

/// The text of `raw` read as HZ-GB-2312, or `None` when it is not HZ: not pure ASCII, no
/// `~{`, an escape HZ does not have, a byte pair outside GB2312's range, an unassigned
/// code, or too few Chinese characters (`MIN_CHARS`, `MIN_SHARE_PERCENT`).
pub fn decode(raw: &[u8]) -> Option<String> {
    if !raw.is_ascii() || memchr::memmem::find(raw, b"~{").is_none() {
        return None;
    }
    let gb = transcribe(raw)?;
    let text = GB18030.decode_without_bom_handling_and_without_replacement(&gb)?;
    // GB2312's unassigned rows are GBK's user-defined area: private-use characters.
    if text.chars().any(|c| ('\u{E000}'..='\u{F8FF}').contains(&c)) {
        return None;
    }
    let (chinese, visible) = counts(&text);
    (chinese >= MIN_CHARS && chinese * 100 >= visible * MIN_SHARE_PERCENT)
        .then(|| text.into_owned())
}

/// The non-ASCII characters of `text` and its non-blank ones, markup (`<…>`) left out:
/// an HTML page's tags are not its text.
fn counts(text: &str) -> (usize, usize) {
    let (mut chinese, mut visible, mut tag) = (0, 0, false);
    for c in text.chars() {
        match c {
            '<' => tag = true,
            '>' if tag => tag = false,
            _ if tag || c.is_whitespace() => {}
            _ => {
                visible += 1;
                chinese += usize::from(!c.is_ascii());
            }
        }
    }
    (chinese, visible)
}

/// HZ bytes → GB2312 bytes, or `None` at the first byte sequence HZ does not allow.
fn transcribe(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len());
    let mut gb = false;
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b == b'~' {
            match raw.get(i + 1)? {
                b'{' if !gb => gb = true,
                b'}' if gb => gb = false,
                b'~' if !gb => out.push(b'~'),
                b'\n' if !gb => {}
                b'\r' if !gb && raw.get(i + 2) == Some(&b'\n') => i += 1,
                _ => return None,
            }
            i += 2;
            continue;
        }
        if gb {
            // A line break ends GB mode (decoders accept a line whose `~}` was lost).
            if b == b'\n' || b == b'\r' {
                gb = false;
                out.push(b);
                i += 1;
                continue;
            }
            let c = *raw.get(i + 1)?;
            if !(0x21..=0x7E).contains(&b) || !(0x21..=0x7E).contains(&c) {
                return None;
            }
            out.extend_from_slice(&[b | 0x80, c | 0x80]);
            i += 2;
            continue;
        }
        out.push(b);
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Chinese text of our own, encoded by Python's `hz` codec (`str.encode("hz")`).
    const HZ: &[u8] = b"~{R=1#8vHKUK;'@o5DG.D\\2;D\\8xGWJtSC#?~}\n~{8wJ!5DU~2_2;M,#,R;0c?IRTSCSZEdE<!\"88D8!\"WSE.5DCEUo7QSC!#~}\n";
    const TEXT: &str = "医保个人账户里的钱能不能给亲属用？\n各省的政策不同，一般可以用于配偶、父母、子女的门诊费用。\n";

    #[test]
    fn hz_text_decodes_as_python_encodes_it() {
        assert_eq!(decode(HZ).as_deref(), Some(TEXT));
    }

    #[test]
    fn escapes_and_line_continuations() {
        let raw = b"a~~b ~{R=1#~} c~\nd ~{R=1#R=1#R=1#R=1#~}";
        assert_eq!(decode(raw).as_deref(), Some("a~b 医保 cd 医保医保医保医保"));
    }

    #[test]
    fn what_is_not_hz_is_left_alone() {
        // Not ASCII, no escape, too little Chinese, a bad escape, a byte pair out of range,
        // an odd byte before the end of GB mode, an unassigned GB2312 row.
        for raw in [
            "医保 ~{R=1#~}".as_bytes(),
            b"plain ASCII text without the escape",
            b"a brace ~{R=1#~} in a long line of English prose, code or a formula",
            b"~{R=1#R=1#R=1#R=1#~x~}",
            b"~{R=1#R=1#R=1#R=1# \x7f~}",
            b"~{R=1#R=1#R=1#R=1#R",
            b"~{x!x!x!x!x!x!x!x!x!~}",
        ] {
            assert_eq!(decode(raw), None, "{:?}", String::from_utf8_lossy(raw));
        }
    }
}
