//! A string as a JSON string literal, byte for byte what `serde_json` writes (it stays the
//! oracle in the tests). The article text is escaped as the record files are written, ~7 KB
//! a page; serde_json looks every byte up in a table, this looks at eight bytes at a time
//! and copies the runs that need nothing (Chinese text escapes only its line breaks).

use crate::text::swar::{has_byte, has_byte_below};

/// Whether any byte of `w` needs escaping: a control character (< 0x20), `"` or `\`.
#[inline(always)]
fn needs_escape(w: u64) -> bool {
    has_byte_below(w, 0x20) || has_byte(w, b'"') || has_byte(w, b'\\')
}

/// The escape of one byte that needs it, as serde_json writes it.
#[inline]
fn escape_byte(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xF)],
        ]),
    }
}

#[inline(always)]
fn is_escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Appends `s` to `out` as a JSON string literal, quotes included.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0; // the first byte not yet copied
    let mut i = 0;
    while i < b.len() {
        if i + 8 <= b.len() {
            let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
            if !needs_escape(w) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(b.len());
        for j in i..end {
            if is_escaped(b[j]) {
                out.extend_from_slice(&b[start..j]);
                escape_byte(out, b[j]);
                start = j + 1;
            }
        }
        i = end;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Rng;

    fn serde(s: &str) -> Vec<u8> {
        serde_json::to_vec(s).expect("a string serializes")
    }

    #[test]
    fn every_byte_that_needs_an_escape_is_escaped_as_serde_json_does() {
        for c in (0u8..0x80).map(char::from) {
            for s in [
                c.to_string(),
                format!("医保{c}个人账户{c}{c}"),
                format!("{c}abcdefghij"),
            ] {
                let mut out = Vec::new();
                write_json_str(&mut out, &s);
                assert_eq!(out, serde(&s), "{s:?}");
            }
        }
    }

    #[test]
    fn random_texts_are_written_as_serde_json_writes_them() {
        let pool: Vec<char> =
            "医保报销个人账户异地就医。，“”！\n\r\t\"\\/ab01 \u{7f}\u{1}\u{1f}\u{2028}\u{feff}é😀"
                .chars()
                .collect();
        let mut rng = Rng::new(3);
        for _ in 0..5000 {
            let n = rng.below(60);
            let s: String = (0..n).map(|_| pool[rng.below(pool.len())]).collect();
            let mut out = b"x".to_vec();
            write_json_str(&mut out, &s);
            assert_eq!(&out[1..], serde(&s).as_slice(), "{s:?}");
        }
    }
}
