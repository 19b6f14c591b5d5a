//! Text forms and character classes shared by the page stages and duplicate detection.
//!
//! * [`match_form`] is what profile patterns see: NFKC (full-width `：` → `:`, NBSP and
//!   ideographic spaces → space), zero-width characters removed, trimmed, inner runs of
//!   spaces collapsed. It is never written out.
//! * [`nfkc`] is NFKC with a fast path for the characters Chinese pages are made of.
//!
//! (Duplicate detection's own *normalized* form — letters and digits only — is
//! [`crate::dedup::shingle::normalize`]; "normalize" means that and nothing else.)

pub mod nfkc;

use nfkc::nfkc_each;

/// Characters that are invisible and carry nothing: zero-width spaces and joiners, BOMs
/// inside the text, soft hyphens.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{AD}'
    )
}

/// Any kind of space (ASCII, NBSP, ideographic, en/em …) or tab.
pub fn is_space(c: char) -> bool {
    c == ' ' || c == '\t' || (c.is_whitespace() && c != '\n')
}

/// A CJK unified ideograph of the basic block (alphabetic, caseless).
#[inline]
pub fn is_ideograph(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// Number of characters (not bytes).
pub fn char_len(s: &str) -> usize {
    s.chars().count()
}

/// The form of a line that profile patterns are matched against (see the module docs).
pub fn match_form(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut pending_space = false;
    nfkc_each(line, |c| {
        if is_invisible(c) {
            return;
        }
        if is_space(c) {
            pending_space = !out.is_empty();
            return;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.push(c);
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_form_folds_width_and_spaces() {
        assert_eq!(
            match_form("\u{3000}提示：本内容\u{a0}\u{a0} 不能 "),
            "提示:本内容 不能"
        );
        assert_eq!(match_form("首页\u{200b} 顶部\r"), "首页 顶部");
        assert_eq!(match_form("   "), "");
    }
}
