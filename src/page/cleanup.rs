//! Cleanup of kept lines: [`clean_line`] keeps the site's own characters (full-width
//! punctuation stays full-width), makes every kind of space a plain space, collapses runs,
//! trims the ends, and removes the spaces that removed markup left before punctuation
//! (`骨科 、内科 ,`) or after an opening bracket. No other character is ever removed.

use crate::config::CleanConfig;
use crate::text::{is_invisible, is_space};

/// True when [`clean_line`] would return `line` unchanged: no ASCII space, control or
/// DEL byte, and none of the UTF-8 sequences of the other spaces, controls and invisible
/// characters (U+0080–00BF, U+1680, U+2000–200F, U+2028–202F, U+205F–2060, U+3000,
/// U+FEFF). Eight bytes at a time: a word with none of the bytes such a sequence starts
/// with is passed over whole (most words of Chinese text), and in the others each such
/// byte is checked as [`clean_at`] does ([`already_clean_bytes`], a byte at a time, is
/// the oracle in the tests).
fn already_clean(line: &str) -> bool {
    use crate::text::swar::{has_byte, has_byte_below};
    let b = line.as_bytes();
    let mut words = b.chunks_exact(8);
    let mut at = 0;
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        // The bytes `clean_at` can refuse: below 0x21, 0x7F, 0xC2, 0xE0–0xE3 (0xE0 never
        // refused, a harmless extra check), 0xEF.
        let maybe = has_byte_below(w, 0x21)
            || has_byte(w, 0x7F)
            || has_byte(w, 0xC2)
            || has_byte(w, 0xEF)
            || has_byte_below(w ^ 0xE0E0_E0E0_E0E0_E0E0, 4);
        if maybe && !(at..at + 8).all(|i| clean_at(b, i)) {
            return false;
        }
        at += 8;
    }
    (at..b.len()).all(|i| clean_at(b, i))
}

/// Whether the byte at `b[i]` does not begin one of the sequences [`already_clean`]
/// looks for (the bytes after it are looked at when it may).
#[inline(always)]
fn clean_at(b: &[u8], i: usize) -> bool {
    match b[i] {
        0x00..=0x20 | 0x7F | 0xC2 => false,
        0xE1 => !b[i + 1..].starts_with(&[0x9A, 0x80]),
        0xE2 => !matches!(
            (b.get(i + 1), b.get(i + 2)),
            (Some(0x80), Some(0x80..=0x8F | 0xA8..=0xAF)) | (Some(0x81), Some(0x9F | 0xA0))
        ),
        0xE3 => !b[i + 1..].starts_with(&[0x80, 0x80]),
        0xEF => !b[i + 1..].starts_with(&[0xBB, 0xBF]),
        _ => true,
    }
}

/// [`already_clean`] a byte at a time, as it was written (the oracle of its words).
#[cfg(test)]
fn already_clean_bytes(line: &str) -> bool {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let x = b[i];
        match x {
            0x00..=0x20 | 0x7F | 0xC2 => return false,
            0xE1 if b[i + 1..].starts_with(&[0x9A, 0x80]) => return false,
            0xE2 => match (b.get(i + 1), b.get(i + 2)) {
                (Some(0x80), Some(0x80..=0x8F | 0xA8..=0xAF)) => return false,
                (Some(0x81), Some(0x9F | 0xA0)) => return false,
                _ => {}
            },
            0xE3 if b[i + 1..].starts_with(&[0x80, 0x80]) => return false,
            0xEF if b[i + 1..].starts_with(&[0xBB, 0xBF]) => return false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// Cleans one kept line (see the module docs): the line itself when it is already clean.
pub fn clean_line<'a>(line: &'a str, cfg: &CleanConfig) -> std::borrow::Cow<'a, str> {
    if already_clean(line) {
        return std::borrow::Cow::Borrowed(line);
    }
    std::borrow::Cow::Owned(clean_chars(line, cfg))
}

/// [`clean_line`] one character at a time, but for runs of printable ASCII other than
/// the space and ideographs (none of them a space, control or invisible character, decided
/// on the bytes), which are copied whole.
fn clean_chars(line: &str, cfg: &CleanConfig) -> String {
    let b = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut pending_space = false;
    let mut last: Option<char> = None;
    let mut i = 0;
    while i < b.len() {
        if plain_width(b, i).is_some() {
            let start = i;
            while let Some(w) = plain_width(b, i) {
                i += w;
            }
            let run = &line[start..i];
            if pending_space {
                let first = run.chars().next().expect("a run is not empty");
                space_before(&mut out, last, first, cfg);
                pending_space = false;
            }
            out.push_str(run);
            last = run.chars().next_back();
            continue;
        }
        let c = line[i..].chars().next().expect("a character starts here");
        i += c.len_utf8();
        if is_invisible(c) || (c.is_control() && !is_space(c)) {
            continue;
        }
        if is_space(c) {
            pending_space = last.is_some();
            continue;
        }
        if pending_space {
            space_before(&mut out, last, c, cfg);
            pending_space = false;
        }
        out.push(c);
        last = Some(c);
    }
    out
}

/// The pending space between `last` and `next`, unless it follows an opening bracket or
/// precedes punctuation (`cleanup.no_space_after`, `cleanup.no_space_before`).
#[inline]
fn space_before(out: &mut String, last: Option<char>, next: char, cfg: &CleanConfig) {
    let after_open = last.is_some_and(|l| cfg.no_space_after.contains(l));
    if !after_open && !cfg.no_space_before.contains(next) {
        out.push(' ');
    }
}

/// The length of the character at `b[i]` when it is printable ASCII other than the space
/// or a basic CJK ideograph; `b` is UTF-8 and `i` a character boundary.
#[inline(always)]
fn plain_width(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        0x21..=0x7E => Some(1),
        0xE5..=0xE9 => Some(3),
        0xE4 if b[i + 1] >= 0xB8 => Some(3),
        _ => None,
    }
}

/// The character loop [`clean_chars`] was written as (the oracle of its runs).
#[cfg(test)]
fn clean_chars_general(line: &str, cfg: &CleanConfig) -> String {
    let mut out = String::with_capacity(line.len());
    let mut pending_space = false;
    let mut last: Option<char> = None;
    for c in line.chars() {
        if is_invisible(c) || (c.is_control() && !is_space(c)) {
            continue;
        }
        if is_space(c) {
            pending_space = last.is_some();
            continue;
        }
        if pending_space {
            let after_open = last.is_some_and(|l| cfg.no_space_after.contains(l));
            if !after_open && !cfg.no_space_before.contains(c) {
                out.push(' ');
            }
            pending_space = false;
        }
        out.push(c);
        last = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time test answers as the byte loop does for every code point up to
    /// U+FFFF at every offset of a line longer than a few words (so that its bytes fall
    /// at every place in a word and across two), and on random lines of the characters
    /// it looks for among ideographs and ASCII.
    #[test]
    fn already_clean_by_words_is_the_byte_loop() {
        for u in (0u32..=0xFFFF).chain([0x1F600, 0x10FFFF]) {
            let Some(ch) = char::from_u32(u) else {
                continue;
            };
            for pad in 0..9 {
                let s = format!("{}{ch}{}", "a".repeat(pad), "医保账户门诊");
                assert_eq!(
                    already_clean(&s),
                    already_clean_bytes(&s),
                    "U+{u:04X} at {pad}"
                );
            }
        }
        let alphabet: Vec<char> =
            "医保，。、 \u{3000}\u{200B}\u{FEFF}\u{A0}\u{1680}\u{2028}\u{205F}a1\t\u{7F}é“”"
                .chars()
                .collect();
        let mut rng = crate::synth::Rng::new(11);
        for _ in 0..20_000 {
            let len = rng.below(40);
            let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
            assert_eq!(already_clean(&s), already_clean_bytes(&s), "{s:?}");
        }
    }

    /// The byte-level shortcut is safe for every code point up to U+FFFF, alone, between
    /// ideographs and at the end (it may send a few harmless Latin-1 characters to the
    /// character loop, never the reverse).
    #[test]
    fn already_clean_agrees_with_the_character_loop() {
        let c = CleanConfig::default();
        for u in 0u32..=0xFFFF {
            let Some(ch) = char::from_u32(u) else {
                continue;
            };
            let special = is_invisible(ch) || ch.is_control() || is_space(ch);
            for s in [format!("{ch}"), format!("医{ch}保"), format!("医保{ch}")] {
                // Never clean when the loop would change it; when clean, truly unchanged.
                if special {
                    assert!(!already_clean(&s), "U+{u:04X}");
                }
                if already_clean(&s) {
                    assert_eq!(clean_chars(&s, &c), s, "U+{u:04X}");
                }
            }
        }
    }

    /// The runs give what the character loop gives, on random lines of plain characters,
    /// spaces of every kind, controls, invisible characters and the punctuation the space
    /// rules look at.
    #[test]
    fn the_runs_agree_with_the_character_loop() {
        let c = CleanConfig::default();
        let alphabet: Vec<char> = "医保账户ab1(（)）,，。、:：%!~ \t\r\u{B}\u{1}\u{7F}\u{85}\u{A0}\u{3000}\u{2003}\u{200B}\u{FEFF}\u{AD}é“”•\u{4E00}\u{4DFF}\u{9FFF}\u{A000}"
            .chars()
            .collect();
        let mut rng = crate::synth::Rng::new(13);
        for len in 0..30 {
            for _ in 0..300 {
                let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
                assert_eq!(clean_chars(&s, &c), clean_chars_general(&s, &c), "{s:?}");
            }
        }
    }

    #[test]
    fn clean_removes_markup_spaces_only() {
        let c = CleanConfig::default();
        assert_eq!(
            clean_line("骨科 、内科 和妇产科 ,这些科室", &c),
            "骨科、内科 和妇产科,这些科室"
        );
        assert_eq!(
            clean_line("  • 门诊、药店购药 :备案后", &c),
            "• 门诊、药店购药:备案后"
        );
        assert_eq!(
            clean_line("费用( 如种植牙 )不报销", &c),
            "费用(如种植牙)不报销"
        );
        assert_eq!(clean_line("比例为60% 。", &c), "比例为60%。");
        assert_eq!(clean_line("a\u{3000}\u{a0} b\t\tc", &c), "a b c");
        // Full-width punctuation is kept as written.
        assert_eq!(clean_line("提示：可以，", &c), "提示：可以，");
    }

    #[test]
    fn clean_never_drops_visible_characters() {
        let c = CleanConfig::default();
        let s = "一、医保 个人账户（余额） :  可以使用 ; 2025年。";
        let kept: String = clean_line(s, &c)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let orig: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        assert_eq!(kept, orig);
    }
}
