//! Text forms and character classes shared by the page stages and duplicate detection.
//!
//! * [`match_form`] is what profile patterns see: NFKC (full-width `：` → `:`, NBSP and
//!   ideographic spaces → space), zero-width characters removed, trimmed, inner runs of
//!   spaces collapsed. It is never written out.
//! * [`nfkc`] is NFKC with a fast path for the characters Chinese pages are made of.
//! * [`utf8`] validates UTF-8 with SIMD.
//!
//! (Duplicate detection's own *normalized* form — letters and digits only — is
//! [`crate::dedup::shingle::normalize`]; "normalize" means that and nothing else.)

pub mod nfkc;
pub mod utf8;

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
///
/// Characters whose NFKC is known without a lookup ([`nfkc::fast`]: ASCII, CJK ideographs,
/// full-width forms, CJK brackets) are folded in one loop; at the first other character
/// the line goes on through [`nfkc_each`] from the last fast character before it (which a
/// combining mark could compose with), with the output and the pending space as they were
/// before that character. The text splits there without changing the result (a fast
/// character never composes with what precedes it), so both paths give the same string;
/// [`match_form_general`] is the oracle in the tests.
pub fn match_form(line: &str) -> String {
    let mut out = MatchForm::new(line.len());
    // Where the last fast character started, and the output's state before it.
    let mut before_last: Option<(usize, usize, bool)> = None;
    for (i, c) in line.char_indices() {
        let Some(m) = nfkc::fast(c) else {
            let from = match before_last {
                Some((at, len, pending)) => {
                    out.out.truncate(len);
                    out.pending_space = pending;
                    at
                }
                None => i,
            };
            nfkc_each(&line[from..], |c| out.push(c));
            return out.out;
        };
        before_last = Some((i, out.out.len(), out.pending_space));
        if is_fast_space(m) {
            out.pending_space = !out.out.is_empty();
        } else {
            out.push_visible(m);
        }
    }
    out.out
}

/// [`match_form`] with every character through [`nfkc_each`] (the oracle of its fast
/// loop).
pub fn match_form_general(line: &str) -> String {
    let mut out = MatchForm::new(line.len());
    nfkc_each(line, |c| out.push(c));
    out.out
}

/// Whether `m`, an output of [`nfkc::fast`] (ASCII, ideographs, CJK punctuation and
/// brackets), is a space under [`is_space`]: only ASCII ones can be.
#[inline]
fn is_fast_space(m: char) -> bool {
    matches!(m, ' ' | '\t' | '\u{0B}' | '\u{0C}' | '\r')
}

/// The match form being built: spaces collapse into one, none at the ends, invisible
/// characters dropped.
struct MatchForm {
    out: String,
    pending_space: bool,
}

impl MatchForm {
    fn new(capacity: usize) -> Self {
        MatchForm {
            out: String::with_capacity(capacity),
            pending_space: false,
        }
    }

    /// One character of the NFKC form.
    #[inline]
    fn push(&mut self, c: char) {
        if is_invisible(c) {
            return;
        }
        if is_space(c) {
            self.pending_space = !self.out.is_empty();
            return;
        }
        self.push_visible(c);
    }

    /// A character that is neither invisible nor a space.
    #[inline]
    fn push_visible(&mut self, c: char) {
        if self.pending_space {
            self.out.push(' ');
            self.pending_space = false;
        }
        self.out.push(c);
    }
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

    /// The fast loop gives what every character through NFKC gives: on random lines of
    /// fast characters, spaces of every kind, invisible ones and characters that compose
    /// (a combining mark after a fast character, a decomposing ligature).
    #[test]
    fn the_fast_loop_agrees_with_nfkc_of_every_character() {
        let alphabet: Vec<char> = "医保账户报销，。：！（）ＡＢｃ１２ abc0《》【】、\t\r\u{0B}\u{0C}\n\u{3000}\u{A0}\u{2003}\u{200B}\u{FEFF}\u{AD}\u{0301}\u{0308}\u{3099}ﬁ…é“”ｶﾞ"
            .chars()
            .collect();
        let mut rng = crate::synth::Rng::new(11);
        for len in 0..40 {
            for _ in 0..300 {
                let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
                assert_eq!(match_form(&s), match_form_general(&s), "{s:?}");
            }
        }
    }
}
