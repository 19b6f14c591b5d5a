//! UTF-8 validation of whole pages and of the strings read back from the spill and the
//! index, with `simdutf8` (a fifth of a cycle a byte where the standard library's check
//! takes several on Chinese text); the standard library is the oracle in the tests.

/// `bytes` as a string, or `None` when they are not valid UTF-8.
#[inline]
pub fn as_str(bytes: &[u8]) -> Option<&str> {
    simdutf8::basic::from_utf8(bytes).ok()
}

/// `bytes` as a string without a copy, or `None` when they are not valid UTF-8.
#[inline]
pub fn into_string(bytes: Vec<u8>) -> Option<String> {
    match as_str(&bytes).is_some() {
        // SAFETY: simdutf8 has just checked that the bytes are valid UTF-8.
        true => Some(unsafe { String::from_utf8_unchecked(bytes) }),
        false => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Rng;

    /// Valid text, and text cut or corrupted at every kind of place, judged as the
    /// standard library judges it.
    #[test]
    fn agrees_with_the_standard_library() {
        let text = "医保个人账户 abc，。１２\u{1F600}é\u{FEFF}".repeat(40);
        let mut rng = Rng::new(3);
        let mut cases: Vec<Vec<u8>> = vec![Vec::new(), text.as_bytes().to_vec()];
        for _ in 0..2000 {
            let mut b = text.as_bytes().to_vec();
            let cut = rng.below(b.len());
            match rng.below(3) {
                0 => b.truncate(cut),
                1 => b[cut] = rng.below(256) as u8,
                _ => b.insert(cut, 0x80 | rng.below(0x40) as u8),
            }
            cases.push(b);
        }
        for b in cases {
            let want = std::str::from_utf8(&b).ok();
            assert_eq!(as_str(&b), want);
            assert_eq!(into_string(b.clone()).as_deref(), want);
        }
    }
}
