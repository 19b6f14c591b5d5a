//! Whether a GB18030 reading of a page looks like Japanese or Korean bytes misread.
//!
//! Shift_JIS, EUC-JP and EUC-KR text decodes as GB18030 without a single bad byte, into
//! characters that are all "plausible" (ideographs, kana): the legacy candidates' test
//! cannot tell, and a tie goes to the profile's legacy encodings. Three signs in the
//! text say that it did not come from Chinese bytes, each cheap and each rare in Chinese:
//!
//! - **kana**: EUC-JP's kana rows are GB2312's, so a misread EUC-JP page keeps its
//!   hiragana and katakana between the ideographs;
//! - **ideographs outside GB2312**: Shift_JIS lead bytes fall in GBK's extension rows, so
//!   a misread Shift_JIS page is mostly ideographs that a simplified-Chinese page hardly
//!   uses;
//! - **spaces between ideographs**: Korean separates words with spaces, Chinese does not
//!   (EUC-KR's Hangul rows land on common GB2312 ideographs, so only the spacing shows).
//!
//! A sign only sends the page to chardetng, whose guess must then decode the page as
//! plausibly as GB18030 did (`decode::pick`): a Chinese page with one of the signs (a
//! traditional-Chinese page written in GBK, a menu of spaced words) stays GB18030 unless
//! the detector names a Japanese or Korean encoding.

use std::sync::OnceLock;

use encoding_rs::GB18030;

/// Characters looked at, ASCII left out (an HTML page's markup is ASCII): the signs show
/// within the first lines.
const SAMPLE: usize = 512;

/// Bytes looked at, at most.
const SAMPLE_BYTES: usize = 32 * 1024;

/// Whether `text`, a GB18030 reading, shows a sign of Japanese or Korean bytes.
pub fn looks_misread(text: &str) -> bool {
    let Signs {
        ideographs,
        kana,
        outside,
        spaced,
    } = signs(text);
    let cjk = ideographs + kana;
    cjk >= 16 && (kana * 10 >= cjk || outside * 5 >= ideographs.max(1) || spaced * 8 >= ideographs)
}

/// What [`looks_misread`] counts in the first [`SAMPLE`] non-ASCII characters (and
/// the ASCII among them), within [`SAMPLE_BYTES`].
#[derive(Debug, Default, PartialEq)]
struct Signs {
    /// Ideographs (U+4E00..=U+9FFF).
    ideographs: usize,
    /// Hiragana and katakana letters.
    kana: usize,
    /// Ideographs not in GB2312.
    outside: usize,
    /// Ideographs after a space after an ideograph.
    spaced: usize,
}

fn signs(text: &str) -> Signs {
    let (mut ideographs, mut kana, mut outside, mut spaced) = (0usize, 0usize, 0usize, 0usize);
    // The last two characters: whether the one before the last was an ideograph, whether
    // the last was one and whether it was a space (a space between two ideographs is
    // counted at the second).
    let (mut before_ideograph, mut last_ideograph, mut last_space) = (false, false, false);
    // Walked by bytes (every page of a GBK site comes here): the characters that count
    // are all three bytes long in UTF-8.
    let b = text.as_bytes();
    let gb2312 = GB2312.get_or_init(gb2312_ideographs);
    let (mut i, mut n) = (0, 0);
    let b = &b[..b.len().min(SAMPLE_BYTES)];
    while i < b.len() && n < SAMPLE {
        let x = b[i];
        let len = match x {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        let mut ideograph = false;
        if len == 3 && i + 2 < b.len() {
            let u = u32::from(x & 0x0F) << 12
                | u32::from(b[i + 1] & 0x3F) << 6
                | u32::from(b[i + 2] & 0x3F);
            if (0x4E00..=0x9FFF).contains(&u) {
                ideograph = true;
                ideographs += 1;
                outside += usize::from(!in_set(gb2312, u));
                spaced += usize::from(last_space && before_ideograph);
            } else if matches!(u, 0x3041..=0x3096 | 0x30A1..=0x30FA) {
                kana += 1;
            }
        }
        (before_ideograph, last_ideograph, last_space) = (last_ideograph, ideograph, x == b' ');
        i += len;
        n += usize::from(len > 1);
    }
    Signs {
        ideographs,
        kana,
        outside,
        spaced,
    }
}

fn is_ideograph(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}')
}

/// Whether code point `u` (U+4E00..=U+9FFF) is one of GB2312's 6,763 ideographs.
#[cfg(test)]
fn in_gb2312(u: u32) -> bool {
    in_set(GB2312.get_or_init(gb2312_ideographs), u)
}

/// Whether ideograph `u` is in `set` (a bit per code point from U+4E00).
fn in_set(set: &[u64], u: u32) -> bool {
    let i = u as usize - 0x4E00;
    set[i / 64] >> (i % 64) & 1 == 1
}

/// A bit per code point U+4E00..=U+9FFF.
static GB2312: OnceLock<Vec<u64>> = OnceLock::new();

/// GB2312's ideograph rows (16–87: lead bytes 0xB0–0xF7, trail bytes 0xA1–0xFE), decoded
/// by `encoding_rs`.
fn gb2312_ideographs() -> Vec<u64> {
    let mut set = vec![0u64; (0xA000 - 0x4E00) / 64];
    for lead in 0xB0u8..=0xF7 {
        for trail in 0xA1u8..=0xFE {
            let code = [lead, trail];
            let (text, _) = GB18030.decode_without_bom_handling(&code);
            if let Some(c) = text.chars().next().filter(|&c| is_ideograph(c)) {
                let i = c as usize - 0x4E00;
                set[i / 64] |= 1 << (i % 64);
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{EUC_JP, EUC_KR, SHIFT_JIS};

    /// Text of our own in each language.
    const ZH: &str = "医保个人账户里的钱可以给家人用吗？各地的规定不一样，一般可以支付配偶、父母和子女在定点医院的门诊费用，异地就医要先办理备案。";
    const ZH_TW: &str = "醫保個人賬戶裡的錢可以給家人用嗎？各地的規定不一樣，一般可以支付配偶、父母和子女在定點醫院的門診費用，異地就醫要先辦理備案。";
    const JA: &str = "医療保険の個人口座のお金は家族のために使えますか。地域によって規則が違いますが、一般的には配偶者や両親の外来費用に使えます。";
    const KO: &str = "건강보험 개인 계좌의 돈을 가족에게 쓸 수 있나요? 지역마다 규정이 다르지만 보통 배우자와 부모의 외래 진료비에 쓸 수 있습니다.";

    /// `text` in `enc`, read back as GB18030.
    fn misread(text: &str, enc: &'static encoding_rs::Encoding) -> String {
        let (bytes, _, unmappable) = enc.encode(text);
        assert!(!unmappable, "{} cannot hold the sample", enc.name());
        GB18030.decode_without_bom_handling(&bytes).0.into_owned()
    }

    #[test]
    fn japanese_and_korean_bytes_read_as_gb18030_show_a_sign() {
        for (text, enc) in [(JA, SHIFT_JIS), (JA, EUC_JP), (KO, EUC_KR)] {
            let read = misread(text, enc);
            assert!(looks_misread(&read), "{}: {read}", enc.name());
        }
    }

    #[test]
    fn chinese_shows_none() {
        assert!(!looks_misread(ZH));
        assert!(!looks_misread(&ZH.repeat(40)));
        // A menu line of spaced words does not outweigh a page of text.
        assert!(!looks_misread(&format!(
            "首页 医保 问答 政策 报销\n{}",
            ZH.repeat(3)
        )));
        // Too little text to tell.
        assert!(!looks_misread("医保 报销"));
    }

    #[test]
    fn traditional_chinese_in_gbk_shows_a_sign_that_the_detector_settles() {
        // Its ideographs are GBK's extension rows: the detector is asked, and keeps GBK
        // (the decoding test in `decode` covers the choice).
        assert!(looks_misread(ZH_TW));
    }

    /// The byte walk counts what a walk over the characters counts.
    #[test]
    fn signs_are_counted_as_over_the_characters() {
        let by_chars = |t: &str| {
            let mut s = Signs::default();
            let (mut before, mut last) = ('\n', '\n');
            let mut seen = 0;
            for (at, c) in t.char_indices() {
                if seen == SAMPLE || at + c.len_utf8() > SAMPLE_BYTES {
                    break;
                }
                seen += usize::from(!c.is_ascii());
                if is_ideograph(c) {
                    s.ideographs += 1;
                    s.outside += usize::from(!in_gb2312(c as u32));
                    s.spaced += usize::from(last == ' ' && is_ideograph(before));
                } else if matches!(c, '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}') {
                    s.kana += 1;
                }
                (before, last) = (last, c);
            }
            s
        };
        let pool: Vec<char> = "医保醫偺の ア\u{30FB}ー a\n、é😀\u{3040}\u{9FFF}\u{4E00}\u{A000}"
            .chars()
            .collect();
        let mut rng = crate::synth::Rng::new(5);
        for _ in 0..3000 {
            let n = rng.below(1200);
            let n = if rng.below(10) == 0 { 20_000 } else { n };
            let t: String = (0..n).map(|_| pool[rng.below(pool.len())]).collect();
            assert_eq!(signs(&t), by_chars(&t), "{t:?}");
        }
    }

    #[test]
    fn the_gb2312_set_has_its_ideographs() {
        let set = GB2312.get_or_init(gb2312_ideographs);
        let n: u32 = set.iter().map(|w| w.count_ones()).sum();
        assert_eq!(n, 6763);
        assert!(in_gb2312('医' as u32) && in_gb2312('保' as u32) && !in_gb2312('醫' as u32));
    }
}
