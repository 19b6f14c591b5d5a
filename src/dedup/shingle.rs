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
use crate::text::nfkc::nfkc_each;

/// The normalized form of a text with the default normalization (NFKC, lower case, letters
/// and digits only).
pub fn normalize(text: &str) -> String {
    normalize_with(text, &NormalizeConfig::default())
}

/// The normalized form of a text used for every duplicate decision.
pub fn normalize_with(text: &str, cfg: &NormalizeConfig) -> String {
    let mut out = String::with_capacity(text.len());
    let mut push = |c: char| {
        // CJK unified ideographs are letters with no case: skip the table lookups.
        if is_ideograph(c) {
            out.push(c);
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
    };
    if cfg.nfkc {
        nfkc_each(text, &mut push);
    } else {
        text.chars().for_each(&mut push);
    }
    out
}

/// The character n-grams of a normalized text as string slices, in order (with repeats).
/// A text shorter than `n` characters is one shingle; an empty text has none.
pub fn shingles(norm: &str, n: usize) -> impl Iterator<Item = &str> {
    let bounds: Vec<usize> = norm
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(norm.len()))
        .collect();
    let chars = bounds.len() - 1;
    let count = if chars == 0 {
        0
    } else if chars < n {
        1
    } else {
        chars - n + 1
    };
    (0..count).map(move |i| {
        let end = bounds[(i + n).min(chars)];
        &norm[bounds[i]..end]
    })
}

/// The set of shingle hashes (sorted, distinct) used to verify a candidate pair.
pub fn shingle_set(norm: &str, n: usize) -> Vec<u64> {
    let mut v: Vec<u64> = shingles(norm, n).map(|s| xxh3_64(s.as_bytes())).collect();
    v.sort_unstable();
    v.dedup();
    v
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
mod tests {
    use super::*;

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
