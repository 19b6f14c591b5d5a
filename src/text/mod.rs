//! Text forms and character classes shared by the page stages and duplicate detection.
//!
//! * [`match_form`] is what profile patterns see: NFKC (full-width `：` → `:`, NBSP and
//!   ideographic spaces → space), zero-width characters removed, trimmed, inner runs of
//!   spaces collapsed. It is never written out.
//! * [`nfkc`] is NFKC with a fast path for the characters Chinese pages are made of.
//! * [`utf8`] validates UTF-8 with SIMD.
//! * [`column`](mod@column) holds many strings in one buffer.
//!
//! (Duplicate detection's own *normalized* form — letters and digits only — is
//! [`crate::dedup::shingle::normalize`]; "normalize" means that and nothing else.)

pub mod column;
pub mod nfkc;
pub mod swar;
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

/// The lines of `text`, as `text.split('\n')` gives them (a trailing newline leaves an
/// empty last line), found with the `memchr` crate's vectorized search: `str::split`
/// with a `char` searches a word at a time, and splitting every page into lines was ~2%
/// of a run.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', text.as_bytes());
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let end = ends.next().unwrap_or_else(|| {
            done = true;
            text.len()
        });
        // A '\n' is one byte and never inside a character: both ends are boundaries.
        let line = &text[start..end];
        start = end + 1;
        Some(line)
    })
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
    let b = line.as_bytes();
    let mut out = MatchForm::new(line.len());
    // Characters that are their own match form are not pushed one by one: a run of them
    // is copied when it ends. `run` is its start (valid while `in_run`); `run_spaced`
    // whether the pending space was written when it began.
    let (mut run, mut in_run, mut run_spaced) = (0usize, false, false);
    // The last fast character: its start when it is in the run, else its start with the
    // output's length and pending space before it.
    let mut last_in_run: Option<usize> = None;
    let mut last: Option<(usize, usize, bool)> = None;
    let mut i = 0;
    while i < b.len() {
        if let Some(w) = own_form_width(b, i) {
            if !in_run {
                run_spaced = out.pending_space;
                if out.pending_space {
                    out.out.push(' ');
                    out.pending_space = false;
                }
                (run, in_run) = (i, true);
            }
            last_in_run = Some(i);
            i += w;
            continue;
        }
        if in_run {
            out.out.push_str(&line[run..i]);
            in_run = false;
        }
        let c = line[i..].chars().next().expect("a character starts here");
        let Some(m) = nfkc::fast(c) else {
            let from = match (last_in_run, last) {
                (Some(at), _) => {
                    // Back to the output as it was before that character.
                    out.out.truncate(out.out.len() - (i - at));
                    if at == run && run_spaced {
                        out.out.pop();
                        out.pending_space = true;
                    }
                    at
                }
                (None, Some((at, len, pending))) => {
                    out.out.truncate(len);
                    out.pending_space = pending;
                    at
                }
                (None, None) => i,
            };
            nfkc_each(&line[from..], |c| out.push(c));
            return out.out;
        };
        (last_in_run, last) = (None, Some((i, out.out.len(), out.pending_space)));
        if is_fast_space(m) {
            out.pending_space = !out.out.is_empty();
        } else {
            out.push_visible(m);
        }
        i += c.len_utf8();
    }
    if in_run {
        out.out.push_str(&line[run..]);
    }
    out.out
}

/// The length of the character at `b[i]` when it is its own match form (fast, visible,
/// not a space): ASCII but its spaces, the basic CJK ideographs, and the CJK and general
/// punctuation [`nfkc::fast`] keeps as it is (、。〈〉《》「」『』【】〔〕〖〗〘〙〚〛 – — ‘ ’ “ ” •),
/// decided on the bytes. `b` is UTF-8 and `i` a character boundary.
#[inline(always)]
fn own_form_width(b: &[u8], i: usize) -> Option<usize> {
    let x = b[i];
    if x < 0x80 {
        return (!matches!(x, b' ' | b'\t' | 0x0B | 0x0C | b'\r')).then_some(1);
    }
    match x {
        // U+5000–U+9FFF, and U+4E00–U+4FFF.
        0xE5..=0xE9 => Some(3),
        0xE4 if b[i + 1] >= 0xB8 => Some(3),
        0xE3 if b[i + 1] == 0x80 => {
            matches!(b[i + 2], 0x81 | 0x82 | 0x88..=0x91 | 0x94..=0x9B).then_some(3)
        }
        0xE2 if b[i + 1] == 0x80 => {
            matches!(b[i + 2], 0x93 | 0x94 | 0x98 | 0x99 | 0x9C | 0x9D | 0xA2).then_some(3)
        }
        _ => None,
    }
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
    /// [`lines`] against `str::split` (the oracle) on random text of newlines, ASCII and
    /// multi-byte characters.
    #[test]
    fn lines_are_what_split_gives() {
        let alphabet = ['\n', 'a', ' ', '医', '保', '\r', '。', '😀'];
        let mut state = 11u64;
        for len in (0..40).chain([200, 1000]) {
            for _ in 0..50 {
                let text: String = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        alphabet[(state >> 60) as usize % alphabet.len()]
                    })
                    .collect();
                let got: Vec<&str> = super::lines(&text).collect();
                let want: Vec<&str> = text.split('\n').collect();
                assert_eq!(got, want, "{text:?}");
            }
        }
    }

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
        let alphabet: Vec<char> = "医保账户报销，。：！（）ＡＢｃ１２ abc0《》【】、\t\r\u{0B}\u{0C}\n\u{1}\u{3000}\u{A0}\u{2003}\u{200B}\u{FEFF}\u{AD}\u{0301}\u{0308}\u{3099}ﬁ…é“”‘’–—•×·〈〉〔〕〘〛ｶﾞ\u{4E00}\u{4DFF}\u{9FFF}\u{A000}\u{3003}\u{3007}\u{3012}\u{301C}\u{2012}\u{2015}\u{2021}"
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
