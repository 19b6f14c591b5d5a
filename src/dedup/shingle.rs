//! Features for duplicate detection: the normalized text and its character shingles.
//!
//! Normalization is NFKC, lower-casing, and dropping every character that is not a letter or
//! a digit (whitespace, punctuation, symbols), so that two copies that differ only in spacing,
//! full/half-width forms or punctuation normalize to the same string. Chinese has no word
//! boundaries, so features are character n-grams (`dedup.shingle_chars`), never
//! whitespace tokens.

use xxhash_rust::xxh3::xxh3_64;

use crate::config::{DropChars, NormalizeConfig};
use crate::text::is_ideograph;
use crate::text::nfkc::{fast, nfkc_each};

/// The normalized form of a text with the default normalization (NFKC, lower case, letters
/// and digits only).
pub fn normalize(text: &str) -> String {
    normalize_with(text, &NormalizeConfig::default())
}

/// The normalized form of a text used for every duplicate decision.
///
/// With NFKC, characters whose NFKC is known without a lookup ([`fast`]) go through one
/// loop; at the first other character the text goes on through [`nfkc_each`] from the
/// last fast character before it, the output cut back to what it was before that
/// character (as [`crate::text::match_form`] does; [`normalize_general`] is the oracle).
pub fn normalize_with(text: &str, cfg: &NormalizeConfig) -> String {
    let mut out = String::with_capacity(text.len());
    if !cfg.nfkc {
        text.chars().for_each(|c| keep_char(&mut out, c, cfg));
        return out;
    }
    // Characters kept as they are (ideographs; ASCII that is kept and not lower-cased)
    // are copied in runs, decided on the bytes; `last_in_run` / `last` are the last fast
    // character (in the run, or with the output's length before it).
    let b = text.as_bytes();
    let (mut run, mut in_run) = (0usize, false);
    let mut last_in_run: Option<usize> = None;
    let mut last: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < b.len() {
        if let Some(w) = kept_as_is_width(b, i, cfg) {
            if !in_run {
                (run, in_run) = (i, true);
            }
            last_in_run = Some(i);
            i += w;
            continue;
        }
        if in_run {
            out.push_str(&text[run..i]);
            in_run = false;
        }
        let c = text[i..].chars().next().expect("a character starts here");
        let Some(m) = fast(c) else {
            let from = match (last_in_run, last) {
                (Some(at), _) => {
                    out.truncate(out.len() - (i - at));
                    at
                }
                (None, Some((at, len))) => {
                    out.truncate(len);
                    at
                }
                (None, None) => i,
            };
            nfkc_each(&text[from..], |c| keep_char(&mut out, c, cfg));
            return out;
        };
        (last_in_run, last) = (None, Some((i, out.len())));
        keep_char(&mut out, m, cfg);
        i += c.len_utf8();
    }
    if in_run {
        out.push_str(&text[run..]);
    }
    out
}

/// The length of the character at `b[i]` when normalization keeps it as it is and
/// [`fast`] knows its NFKC: a basic CJK ideograph, or ASCII that `cfg` keeps and does not
/// lower-case. `b` is UTF-8 and `i` a character boundary.
#[inline(always)]
fn kept_as_is_width(b: &[u8], i: usize, cfg: &NormalizeConfig) -> Option<usize> {
    let x = b[i];
    if x < 0x80 {
        let keep = match cfg.drop {
            DropChars::NonAlphanumeric => x.is_ascii_alphanumeric(),
            DropChars::Whitespace => !char::from(x).is_whitespace(),
            DropChars::Nothing => true,
        };
        return (keep && !(cfg.lowercase && x.is_ascii_uppercase())).then_some(1);
    }
    match x {
        // U+5000–U+9FFF, and U+4E00–U+4FFF.
        0xE5..=0xE9 => Some(3),
        0xE4 if b[i + 1] >= 0xB8 => Some(3),
        _ => None,
    }
}

/// The characters [`fast`] passes through that are not ASCII or ideographs: CJK marks and
/// brackets, `×`, `·`, dashes, curly quotes and `•` (all punctuation or symbols).
#[inline]
fn is_fast_punctuation(c: char) -> bool {
    matches!(c as u32,
        0x3001..=0x3002 | 0x3008..=0x3011 | 0x3014..=0x301B
        | 0xD7 | 0xB7 | 0x2013 | 0x2014 | 0x2018 | 0x2019 | 0x201C | 0x201D | 0x2022)
}

/// [`normalize_with`] with every character through [`nfkc_each`] when NFKC is on and
/// every kept character through the Unicode tables (the oracle of its fast paths).
pub fn normalize_general(text: &str, cfg: &NormalizeConfig) -> String {
    let mut out = String::with_capacity(text.len());
    let mut push = |c: char| {
        let keep = match cfg.drop {
            DropChars::NonAlphanumeric => c.is_alphanumeric(),
            DropChars::Whitespace => !c.is_whitespace(),
            DropChars::Nothing => true,
        };
        match (keep, cfg.lowercase && c.is_uppercase()) {
            (false, _) => {}
            (true, true) => out.extend(c.to_lowercase()),
            (true, false) => out.push(c),
        }
    };
    match cfg.nfkc {
        true => nfkc_each(text, &mut push),
        false => text.chars().for_each(&mut push),
    }
    out
}

/// Appends `c` (a character of the NFKC form when NFKC is on) as normalization keeps it:
/// dropped, lower-cased or as it is.
#[inline(always)]
fn keep_char(out: &mut String, c: char, cfg: &NormalizeConfig) {
    // CJK unified ideographs are letters with no case, the punctuation of [`fast`] is
    // neither a letter, a digit nor a space, and ASCII has its own tests: skip the table
    // lookups.
    if is_ideograph(c) {
        out.push(c);
        return;
    }
    if is_fast_punctuation(c) {
        if cfg.drop != DropChars::NonAlphanumeric {
            out.push(c);
        }
        return;
    }
    if c.is_ascii() {
        let keep = match cfg.drop {
            DropChars::NonAlphanumeric => c.is_ascii_alphanumeric(),
            DropChars::Whitespace => !c.is_whitespace(),
            DropChars::Nothing => true,
        };
        if keep {
            out.push(match cfg.lowercase {
                true => c.to_ascii_lowercase(),
                false => c,
            });
        }
        return;
    }
    let keep = match cfg.drop {
        DropChars::NonAlphanumeric => c.is_alphanumeric(),
        DropChars::Whitespace => !c.is_whitespace(),
        DropChars::Nothing => true,
    };
    if !keep {
        return;
    }
    if cfg.lowercase && c.is_uppercase() {
        out.extend(c.to_lowercase());
    } else {
        out.push(c);
    }
}

/// The character n-grams of a normalized text as string slices, in order (with repeats).
/// A text shorter than `n` characters is one shingle; an empty text has none. A window of
/// two byte offsets slides over the text: nothing is allocated (this runs over every
/// text in the scan, twice, and again for every text verification reads back).
pub fn shingles(norm: &str, n: usize) -> impl Iterator<Item = &str> {
    let end = norm
        .char_indices()
        .nth(n.max(1))
        .map_or(norm.len(), |(i, _)| i);
    Shingles {
        text: norm,
        start: 0,
        end,
        done: norm.is_empty(),
    }
}

/// Where each character of a normalized text starts (and, last, where the text ends):
/// read once, they give every shingle of every size as two offsets, where [`shingles`]
/// finds each window's ends again. A text's fingerprints and signature take their
/// shingles from one of these.
pub struct CharStarts(Vec<usize>);

impl CharStarts {
    /// The character boundaries of `norm`.
    pub fn of(norm: &str) -> CharStarts {
        let b = norm.as_bytes();
        let mut v = Vec::with_capacity(b.len() + 1);
        // Eight bytes at a time: a byte starts a character unless it is 0b10xxxxxx, so the
        // top bit of each byte of `!w | w << 1` says whether it does.
        let mut words = b.chunks_exact(8);
        let mut at = 0;
        for w in &mut words {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            let mut starts = (!w | w << 1) & 0x8080_8080_8080_8080;
            while starts != 0 {
                v.push(at + (starts.trailing_zeros() / 8) as usize);
                starts &= starts - 1;
            }
            at += 8;
        }
        for (i, &x) in words.remainder().iter().enumerate() {
            if x & 0xC0 != 0x80 {
                v.push(at + i);
            }
        }
        v.push(b.len());
        CharStarts(v)
    }

    /// Characters in the text.
    pub fn chars(&self) -> usize {
        self.0.len() - 1
    }

    /// The bytes of [`shingles`]`(norm, n)`, for the text these boundaries were read from.
    pub fn shingles<'a>(&'a self, norm: &'a str, n: usize) -> impl Iterator<Item = &'a [u8]> {
        let b = norm.as_bytes();
        self.windows(n).map(move |(start, end)| &b[start..end])
    }

    /// Where each shingle of `n` characters starts and ends (byte offsets).
    pub fn windows(&self, n: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let chars = self.chars();
        let width = n.max(1).min(chars);
        let count = match chars {
            0 => 0,
            c => c - width + 1,
        };
        let starts = &self.0;
        (0..count).map(move |k| (starts[k], starts[k + width]))
    }
}

/// The iterator of [`shingles`]: the window `start..end` of the next shingle.
struct Shingles<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    done: bool,
}

impl<'a> Iterator for Shingles<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let s = &self.text[self.start..self.end];
        if self.end == self.text.len() {
            self.done = true;
        } else {
            let b = self.text.as_bytes();
            self.start += utf8_width(b[self.start]);
            self.end += utf8_width(b[self.end]);
        }
        Some(s)
    }
}

/// The length of the UTF-8 sequence a leading byte starts.
#[inline]
fn utf8_width(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// The set of shingle hashes (sorted, distinct) used to verify a candidate pair.
pub fn shingle_set(norm: &str, n: usize) -> Vec<u64> {
    let starts = CharStarts::of(norm);
    let mut v: Vec<u64> = starts.shingles(norm, n).map(xxh3_64).collect();
    sort_hashes(&mut v);
    v.dedup();
    v
}

/// Sorts hashes: one counting pass on their top bits puts each in its bucket, and the
/// buckets — a key or two each, since xxh3 hashes are uniform — are sorted in place
/// (insertion sort; a comparison sort for a bucket that is not small, so skewed input
/// costs no more than sorting it outright). About three times faster than a comparison
/// sort on a long text's few thousand shingles.
fn sort_hashes(v: &mut Vec<u64>) {
    if v.len() < 64 {
        v.sort_unstable();
        return;
    }
    let bits = usize::BITS - (v.len() - 1).leading_zeros();
    let shift = 64 - bits;
    let bucket = |h: u64| (h >> shift) as usize;
    let mut starts = vec![0usize; (1 << bits) + 1];
    for &h in v.iter() {
        starts[bucket(h) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![0u64; v.len()];
    for &h in v.iter() {
        let b = bucket(h);
        out[next[b]] = h;
        next[b] += 1;
    }
    for w in starts.windows(2) {
        let part = &mut out[w[0]..w[1]];
        if part.len() > 16 {
            part.sort_unstable();
            continue;
        }
        for i in 1..part.len() {
            let x = part[i];
            let mut j = i;
            while j > 0 && part[j - 1] > x {
                part[j] = part[j - 1];
                j -= 1;
            }
            part[j] = x;
        }
    }
    *v = out;
}

/// Jaccard similarity of two sorted, distinct sets (1.0 for two empty sets).
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

#[cfg(test)]
mod char_starts_tests {
    use super::*;

    /// Shingles read from the boundaries are the sliding window's, for every size and
    /// for texts shorter than a shingle, empty, ASCII, CJK and four-byte characters.
    #[test]
    fn shingles_from_the_boundaries_are_the_windows_shingles() {
        let pool: Vec<char> = "医保账户ab1é\u{1F600}".chars().collect();
        let mut rng = crate::synth::Rng::new(8);
        for len in 0..70 {
            for _ in 0..30 {
                let t: String = (0..len).map(|_| *rng.pick(&pool)).collect();
                let starts = CharStarts::of(&t);
                let want: Vec<usize> = t.char_indices().map(|c| c.0).chain([t.len()]).collect();
                assert_eq!(starts.0, want, "{t:?}");
                assert_eq!(starts.chars(), t.chars().count());
                for n in 0..7 {
                    let want: Vec<&[u8]> = shingles(&t, n).map(str::as_bytes).collect();
                    let got: Vec<&[u8]> = starts.shingles(&t, n).collect();
                    assert_eq!(got, want, "{t:?} n={n}");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast loop gives what every character through NFKC gives, under every
    /// normalization setting, on random text with characters that compose or decompose.
    #[test]
    fn the_fast_loop_agrees_with_nfkc_of_every_character() {
        let alphabet: Vec<char> = "医保账户ABCabc123，。：！（）ＡＢｃ１２ 《》【】、“”•·×\t\n\u{B}\u{1}\u{1C}\u{7F}\u{3000}\u{A0}\u{0301}\u{0308}\u{3099}ﬁ…éÅΣｶﾞ①\u{4E00}\u{4DFF}\u{9FFF}\u{A000}Zz09@[`{"
            .chars()
            .collect();
        let mut rng = crate::synth::Rng::new(13);
        for drop in [
            DropChars::NonAlphanumeric,
            DropChars::Whitespace,
            DropChars::Nothing,
        ] {
            for lowercase in [true, false] {
                let cfg = NormalizeConfig {
                    nfkc: true,
                    lowercase,
                    drop,
                };
                for len in 0..40 {
                    for _ in 0..60 {
                        let s: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
                        assert_eq!(
                            normalize_with(&s, &cfg),
                            normalize_general(&s, &cfg),
                            "{s:?}"
                        );
                    }
                }
            }
        }
    }

    /// The shingles as first written (char boundaries collected, then sliced): the oracle
    /// of the allocation-free window.
    fn shingles_oracle(norm: &str, n: usize) -> Vec<&str> {
        let bounds: Vec<usize> = norm
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(norm.len()))
            .collect();
        let chars = bounds.len() - 1;
        let count = match chars {
            0 => 0,
            c if c < n => 1,
            c => c - n + 1,
        };
        (0..count)
            .map(|i| &norm[bounds[i]..bounds[(i + n).min(chars)]])
            .collect()
    }

    #[test]
    fn the_window_gives_the_oracles_shingles_and_sets() {
        let mut rng = crate::synth::Rng::new(9);
        let alphabet: Vec<char> = "医保个人账户ab1２é𝄞 ".chars().collect();
        for len in 0..300 {
            let t: String = (0..len).map(|_| *rng.pick(&alphabet)).collect();
            for n in 1..=6 {
                let got: Vec<&str> = shingles(&t, n).collect();
                assert_eq!(got, shingles_oracle(&t, n), "{t:?} n={n}");
                let mut want: Vec<u64> = got.iter().map(|s| xxh3_64(s.as_bytes())).collect();
                want.sort_unstable();
                want.dedup();
                assert_eq!(shingle_set(&t, n), want, "{t:?} n={n}");
            }
        }
    }

    #[test]
    fn hashes_sort_like_a_comparison_sort() {
        let mut rng = crate::synth::Rng::new(10);
        for n in [0, 1, 63, 64, 65, 1000, 4096, 10_000] {
            let mut v: Vec<u64> = (0..n).map(|_| rng.next_u64()).collect();
            // Repeats, and skewed keys (not every input is uniform).
            v.extend(v.clone().iter().take(n / 10));
            v.extend((0..n as u64 / 10).map(|i| i * 3));
            v.extend((0..n as u64 / 10).rev());
            let mut want = v.clone();
            want.sort_unstable();
            sort_hashes(&mut v);
            assert_eq!(v, want);
        }
    }

    #[test]
    fn normalize_drops_space_punct_and_folds_width_case() {
        assert_eq!(
            normalize("医保 卡，ＡＢＣ abc！ 2025年"),
            "医保卡abcabc2025年"
        );
        assert_eq!(normalize("医保卡,abc"), normalize("医保卡，ＡＢＣ"));
    }

    #[test]
    fn normalization_is_configurable() {
        let keep_punct = NormalizeConfig {
            nfkc: false,
            lowercase: false,
            drop: DropChars::Whitespace,
        };
        assert_eq!(
            normalize_with("医保 卡，ＡＢＣ", &keep_punct),
            "医保卡，ＡＢＣ"
        );
        let nothing = NormalizeConfig {
            drop: DropChars::Nothing,
            ..NormalizeConfig::default()
        };
        assert_eq!(normalize_with("A b，", &nothing), "a b,");
    }

    #[test]
    fn shingles_are_char_ngrams() {
        let v: Vec<&str> = shingles("医保个人账户", 4).collect();
        assert_eq!(v, ["医保个人", "保个人账", "个人账户"]);
        assert_eq!(shingles("医保", 4).collect::<Vec<_>>(), ["医保"]);
        assert_eq!(shingles("", 4).count(), 0);
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
    }
}
