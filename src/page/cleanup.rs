//! Cleanup of kept lines: [`clean_line`] keeps the site's own characters (full-width
//! punctuation stays full-width), makes every kind of space a plain space, collapses runs,
//! trims the ends, and removes the spaces that removed markup left before punctuation
//! (`骨科 、内科 ,`) or after an opening bracket. No other character is ever removed.

use crate::config::CleanConfig;
use crate::text::{is_ideograph, is_invisible, is_space};

/// True when [`clean_line`] would return `line` unchanged: no ASCII space, control or
/// DEL byte, and none of the UTF-8 sequences of the other spaces, controls and invisible
/// characters (U+0080–00BF, U+1680, U+2000–200F, U+2028–202F, U+205F–2060, U+3000,
/// U+FEFF). One pass over the bytes instead of a decode per character: most lines of
/// Chinese text have none of these.
fn already_clean(line: &str) -> bool {
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

/// Cleans one kept line (see the module docs).
pub fn clean_line(line: &str, cfg: &CleanConfig) -> String {
    if already_clean(line) {
        return line.to_string();
    }
    clean_chars(line, cfg)
}

/// [`clean_line`] one character at a time.
fn clean_chars(line: &str, cfg: &CleanConfig) -> String {
    let mut out = String::with_capacity(line.len());
    let mut pending_space = false;
    let mut last: Option<char> = None;
    for c in line.chars() {
        // Printable ASCII other than the space, and ideographs, are none of the characters
        // tested below: skip the tests.
        let plain = matches!(c, '!'..='~') || is_ideograph(c);
        if !plain && (is_invisible(c) || (c.is_control() && !is_space(c))) {
            continue;
        }
        if !plain && is_space(c) {
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
