//! NFKC with a fast path for the characters Chinese pages are made of.
//!
//! Profiling the 10k-page bench corpus (BENCHMARKS.md) put the `unicode-normalization`
//! iterator at a fifth of all CPU time: every character goes through decomposition,
//! canonical ordering and recomposition, each a perfect-hash lookup. Almost every character
//! of a Chinese page is ASCII, a CJK unified ideograph, common CJK punctuation or a
//! full-width ASCII form, whose NFKC is known without a lookup:
//!
//! * ASCII, CJK unified ideographs and the CJK brackets and marks in [`fast`] are stable
//!   (no decomposition, canonical combining class 0, never the second character of a
//!   composition), so they pass through and also end any composition;
//! * full-width ASCII `！`–`～` (U+FF01–FF5E) decomposes to ASCII, and the ideographic space
//!   to a space;
//! * the other punctuation these pages use (`×`, `·`, dashes, curly quotes, `•`) is stable
//!   like the CJK marks.
//!
//! Everything else is handed to the crate in segments: a maximal run of other characters
//! together with the fast character before it (which a combining mark could compose with).
//! Because a fast character is a starter that never composes with what precedes it, the
//! text splits there without changing the result. The crate stays the oracle: the tests
//! compare both on every fast character, next to combining marks, and on random mixtures.

use unicode_normalization::UnicodeNormalization;

/// The NFKC of `c` when it is one of the characters handled without the crate.
#[inline]
pub fn fast(c: char) -> Option<char> {
    let u = c as u32;
    if u < 0x80 || (0x4E00..=0x9FFF).contains(&u) {
        return Some(c);
    }
    match u {
        // Full-width ASCII: <wide> decompositions to U+0021–007E.
        0xFF01..=0xFF5E => char::from_u32(u - 0xFEE0),
        0x3000 => Some(' '),
        // 、。〈〉《》「」『』【】〔〕〖〗〘〙〚〛 — no decomposition, combining class 0.
        0x3001..=0x3002 | 0x3008..=0x3011 | 0x3014..=0x301B => Some(c),
        // × · – — ‘ ’ “ ” • (the punctuation of Chinese pages outside those blocks): no
        // decomposition, combining class 0, in no composition.
        0xD7 | 0xB7 | 0x2013 | 0x2014 | 0x2018 | 0x2019 | 0x201C | 0x201D | 0x2022 => Some(c),
        _ => None,
    }
}

/// Calls `f` with every character of the NFKC normalization of `text`, in order.
pub fn nfkc_each(text: &str, mut f: impl FnMut(char)) {
    // The last fast character, not emitted yet: a combining mark after it would compose.
    let mut held: Option<(usize, char)> = None;
    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if let Some(m) = fast(c) {
            if let Some((_, h)) = held.replace((i, m)) {
                f(h);
            }
            continue;
        }
        let start = held.take().map_or(i, |(s, _)| s);
        let mut end = text.len();
        while let Some(&(j, d)) = iter.peek() {
            if fast(d).is_some() {
                end = j;
                break;
            }
            iter.next();
        }
        text[start..end].nfkc().for_each(&mut f);
    }
    if let Some((_, h)) = held {
        f(h);
    }
}

/// The NFKC normalization of `text` as a new string.
pub fn nfkc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    nfkc_each(text, |c| out.push(c));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::Rng;

    fn oracle(s: &str) -> String {
        s.nfkc().collect()
    }

    /// Characters that interact with composition: combining marks, Hangul jamo, a
    /// compatibility ideograph, ligatures, characters that compose with ASCII.
    const TRICKY: &[char] = &[
        '\u{0301}',
        '\u{0308}',
        '\u{0327}',
        '\u{0323}',
        '\u{3099}',
        '\u{309A}',
        '\u{1161}',
        '\u{11A8}',
        '\u{1100}',
        '\u{AC00}',
        '\u{F900}',
        '\u{FB01}',
        '\u{2026}',
        '\u{00A0}',
        '\u{2460}',
        '\u{FF76}',
        '\u{FF9E}',
        '\u{0BBE}',
        '\u{0CD5}',
        '\u{1E0A}',
        '\u{212B}',
        '\u{0344}',
        '\u{0F73}',
        '\u{2FA1D}',
        'é',
        'Å',
        'ﬀ',
        '㍿',
        '｡',
        '･',
    ];

    fn fast_chars() -> impl Iterator<Item = char> {
        (0u32..0x80)
            .chain(0x4E00..=0x9FFF)
            .chain(0xFF01..=0xFF5E)
            .chain([0x3000, 0x3001, 0x3002])
            .chain(0x3008..=0x3011)
            .chain(0x3014..=0x301B)
            .chain([
                0xD7, 0xB7, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
            ])
            .filter_map(char::from_u32)
    }

    #[test]
    fn every_fast_character_agrees_with_the_crate() {
        for c in fast_chars() {
            assert_eq!(
                fast(c).map(String::from),
                Some(oracle(&c.to_string())),
                "{c:?}"
            );
        }
    }

    #[test]
    fn fast_characters_next_to_tricky_ones_agree() {
        for c in fast_chars().step_by(7).chain([
            'A', 'e', 'Ａ', '\u{3000}', '医', '×', '·', '—', '“', '”', '•',
        ]) {
            for &t in TRICKY {
                for s in [
                    format!("{c}{t}"),
                    format!("{t}{c}"),
                    format!("{c}{t}{t}{c}"),
                    format!("{t}{c}{t}"),
                ] {
                    assert_eq!(nfkc(&s), oracle(&s), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn random_mixtures_agree() {
        let mut alphabet: Vec<char> =
            "医保账户报销，。：！（）ＡＢｃ１２ abcXYZ0123《》【】、\u{3000}"
                .chars()
                .collect();
        alphabet.extend_from_slice(TRICKY);
        let mut rng = Rng::new(7);
        for len in 0..60 {
            for _ in 0..200 {
                let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
                assert_eq!(nfkc(&s), oracle(&s), "{s:?}");
            }
        }
    }
}
