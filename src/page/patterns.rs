//! What the page stages share when they compile their rules: pattern lists named by their
//! config key, and how a sentence ends.

use regex::Regex;

use crate::config::{ConfigError, ProfileConfig};

/// The most patterns one config list may hold: a profile names a handful; thousands are a
/// mistake or an attack (1,000 costly patterns once took 206 s and 14 GB on 500 pages).
pub const MAX_PATTERNS_PER_LIST: usize = 256;

/// The most memory one compiled pattern may take. `^\w{1,150}N$` (Unicode `\w`, 150
/// times) compiles to ~9 MB and is refused; a profile's patterns take a few KB each.
pub const PATTERN_SIZE_LIMIT: usize = 1 << 20;

/// The lazy DFA cache each pattern may grow per thread when matching: the bound on what
/// matching adds to the compiled size.
pub const PATTERN_DFA_LIMIT: usize = 256 << 10;

/// The most memory the compiled patterns of one set of rules (the segmenter's lists, or the
/// metadata's) may take together.
pub const PATTERNS_TOTAL_LIMIT: usize = 16 << 20;

/// What is left of [`PATTERNS_TOTAL_LIMIT`] while a set of rules is compiled: each pattern
/// is compiled within what is left, so a profile of many large patterns is refused before
/// it has cost more than the limit.
#[derive(Debug, Clone)]
pub struct PatternBudget {
    left: usize,
}

impl Default for PatternBudget {
    fn default() -> Self {
        PatternBudget {
            left: PATTERNS_TOTAL_LIMIT,
        }
    }
}

/// Why a pattern was refused.
#[derive(Debug)]
pub enum PatternError {
    /// It does not parse.
    Invalid(String),
    /// It compiles larger than the limit for one pattern.
    TooBig(usize),
    /// It does not fit in what the other patterns left of the total.
    OverBudget,
}

impl PatternError {
    /// The message for the config error on `pat`.
    pub fn message(&self, pat: &str) -> String {
        match self {
            PatternError::Invalid(e) => format!("invalid regex {pat:?}: {e}"),
            PatternError::TooBig(limit) => format!(
                "the pattern {pat:?} compiles to more than {limit} bytes (the limit for one \
                 pattern): simplify it (a bounded repeat of a Unicode class such as \
                 \\w{{1,150}} is the usual cause)"
            ),
            PatternError::OverBudget => format!(
                "the pattern {pat:?} does not fit: the patterns before it took the \
                 {PATTERNS_TOTAL_LIMIT} bytes all compiled patterns may take together"
            ),
        }
    }
}

/// Compiles one pattern within [`PATTERN_SIZE_LIMIT`], what is left of `budget` (which it
/// then takes), and [`PATTERN_DFA_LIMIT`]. Its size is measured on regex-automata's
/// `meta::Regex`, the engine `regex::Regex` is built on, compiled with the same limit.
pub fn compile_one(pat: &str, budget: &mut PatternBudget) -> Result<Regex, PatternError> {
    use regex_automata::meta;
    let limit = PATTERN_SIZE_LIMIT.min(budget.left);
    let config = meta::Config::new().nfa_size_limit(Some(limit));
    let measured = meta::Regex::builder().configure(config).build(pat);
    let used = match measured {
        Ok(m) => m.memory_usage(),
        Err(e) if e.size_limit().is_some() && limit < PATTERN_SIZE_LIMIT => {
            return Err(PatternError::OverBudget)
        }
        Err(e) if e.size_limit().is_some() => return Err(PatternError::TooBig(limit)),
        // The regex crate words a syntax error better (the meta engine says "error
        // parsing pattern 0"); its error is the one shown.
        Err(e) => {
            let why = match regex::Regex::new(pat) {
                Err(regex::Error::Syntax(s)) => syntax_message(&s),
                _ => e.to_string(),
            };
            return Err(PatternError::Invalid(why));
        }
    };
    if used > budget.left {
        return Err(PatternError::OverBudget);
    }
    let r = regex::RegexBuilder::new(pat)
        .size_limit(limit)
        .dfa_size_limit(PATTERN_DFA_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(n) => PatternError::TooBig(n),
            e => PatternError::Invalid(e.to_string()),
        })?;
    budget.left -= used;
    Ok(r)
}

/// A regex syntax error on one line: what is wrong and at which character (the regex
/// crate draws it over several lines, with a caret under the place).
fn syntax_message(full: &str) -> String {
    let lines: Vec<&str> = full.lines().collect();
    let what = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(full.trim());
    let at = lines
        .iter()
        .find(|l| !l.trim().is_empty() && l.trim().chars().all(|c| c == '^'))
        .map(|l| {
            l.chars()
                .take_while(|&c| c == ' ')
                .count()
                .saturating_sub(4)
                + 1
        });
    match at {
        Some(at) => format!("{what} (at character {at})"),
        None => what.to_string(),
    }
}

/// Compiles the regexes of the config list `key` within `budget`; a pattern that does not
/// compile (or compiles larger than [`PATTERN_SIZE_LIMIT`], or past the budget) is an
/// error naming `key[i]`, and the others are still compiled (every problem is reported).
/// A list longer than [`MAX_PATTERNS_PER_LIST`] is refused before anything is compiled.
pub fn compile_list(
    key: &str,
    pats: &[String],
    budget: &mut PatternBudget,
    errors: &mut Vec<ConfigError>,
) -> Vec<Regex> {
    if pats.len() > MAX_PATTERNS_PER_LIST {
        errors.push(ConfigError {
            key: key.to_string(),
            message: format!(
                "{} patterns; at most {MAX_PATTERNS_PER_LIST} in one list",
                pats.len()
            ),
        });
        return Vec::new();
    }
    pats.iter()
        .enumerate()
        .filter_map(|(i, pat)| match compile_one(pat, budget) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(ConfigError {
                    key: format!("{key}[{i}]"),
                    message: e.message(pat),
                });
                None
            }
        })
        .collect()
}

/// The bytes a match of any of some patterns can begin with, when each of them is anchored
/// at the start of the text (`^`) and every match begins with one of finitely many
/// non-empty literals (regex-syntax's prefix extraction): a line that begins with another
/// byte meets none of them, and the segmenter does not run them on it — most lines are
/// prose that no marker pattern can match. Without such a bound (a pattern not anchored, or
/// one that can begin with anything) every line is tried.
#[derive(Debug, Clone)]
pub struct FirstBytes(Option<Box<[bool; 256]>>);

impl FirstBytes {
    /// The first bytes of `patterns`' matches (as the regex crate parses them).
    pub fn of<'a>(patterns: impl IntoIterator<Item = &'a str>) -> FirstBytes {
        let mut set = Box::new([false; 256]);
        for p in patterns {
            match first_bytes(p) {
                Some(bytes) => bytes.into_iter().for_each(|b| set[usize::from(b)] = true),
                None => return FirstBytes(None),
            }
        }
        FirstBytes(Some(set))
    }

    /// Whether some pattern may match `line` (false only when none can).
    #[inline]
    pub fn may_match(&self, line: &str) -> bool {
        match (&self.0, line.as_bytes().first()) {
            (Some(set), Some(&b)) => set[usize::from(b)],
            _ => true,
        }
    }
}

/// The first bytes of the literals every match of `pattern` begins with, when it is anchored
/// at the text's start and they are finitely many and none is empty.
fn first_bytes(pattern: &str) -> Option<Vec<u8>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    use regex_syntax::hir::Look;
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    if !hir.properties().look_set_prefix().contains(Look::Start) {
        return None;
    }
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    seq.literals()?
        .iter()
        .map(|l| l.as_bytes().first().copied())
        .collect()
}

/// Index of the first pattern of `pats` that matches `line`.
pub fn first_match(pats: &[Regex], line: &str) -> Option<usize> {
    pats.iter().position(|r| r.is_match(line))
}

/// How a sentence ends (`profile.sentence_end`, `profile.sentence_closers`).
#[derive(Debug, Clone)]
pub struct Sentences {
    /// The ending characters, distinct (a handful: a linear scan beats a search of the
    /// string, which is asked of every line).
    end: Box<[char]>,
    closers: Box<[char]>,
}

impl Sentences {
    /// The profile's sentence ends.
    pub fn new(p: &ProfileConfig) -> Sentences {
        let distinct = |s: &str| {
            let mut v: Vec<char> = s.chars().collect();
            v.sort_unstable();
            v.dedup();
            v.into_boxed_slice()
        };
        Sentences {
            end: distinct(&p.sentence_end),
            closers: distinct(&p.sentence_closers),
        }
    }

    /// Whether `s` ends a sentence (a `sentence_end` character, possibly followed by
    /// `sentence_closers`; trailing white space aside).
    pub fn ends(&self, s: &str) -> bool {
        s.trim_end()
            .chars()
            .rev()
            .find(|c| !self.closers.contains(c))
            .is_some_and(|c| self.end.contains(&c))
    }

    /// Whether `c` is a sentence-ending character.
    pub fn is_end(&self, c: char) -> bool {
        self.end.contains(&c)
    }
}

#[cfg(test)]
mod first_bytes_tests {
    use super::*;

    /// What the prefix bound says of the profile's kind of patterns, and where it gives up.
    #[test]
    fn anchored_literal_patterns_give_their_first_bytes() {
        let set = |p: &str| {
            FirstBytes::of([p]).0.map(|s| {
                (0..=255u8)
                    .filter(|&b| s[usize::from(b)])
                    .collect::<Vec<u8>>()
            })
        };
        assert_eq!(set("^返回顶部$"), Some(vec!["返".as_bytes()[0]]));
        assert_eq!(set("^(?:abc|xyz) ?$"), Some(vec![b'a', b'x']));
        assert_eq!(set("(?i)^ab"), Some(vec![b'A', b'a']));
        assert_eq!(set("^[0-9]{4}"), Some((b'0'..=b'9').collect()));
        for unbounded in [
            "返回顶部",
            "^.*x",
            "^$",
            "^(?:a|)b?",
            "(?m)^x",
            "^a|b",
            "^\\w+",
        ] {
            assert_eq!(set(unbounded), None, "{unbounded}");
        }
        assert!(FirstBytes::of(["^x", "y"]).0.is_none());
        // An empty list matches nothing; an empty line is always tried.
        assert!(!FirstBytes::of([]).may_match("x"));
        assert!(FirstBytes::of(["^x"]).may_match(""));
    }

    /// A line the bound rules out is matched by no pattern of the list: the default
    /// profile's lists and patterns a user might write, on lines beginning with every
    /// kind of character.
    #[test]
    fn a_line_ruled_out_matches_no_pattern() {
        let p = crate::config::ProfileConfig::default();
        let mut lists: Vec<Vec<String>> = vec![
            p.header_disclaimer.clone(),
            p.footer_disclaimer.clone(),
            p.trending.clone(),
            p.related.clone(),
            p.navigation.clone(),
            vec![p.related_date.clone()],
        ];
        lists.extend(
            [
                vec!["(?i)^see also", "^(?:相关|推荐)阅读"],
                vec!["^[一二三四五六七八九十]+、", "^\\d{1,2}[.、]"],
                vec!["^声明", "免责"],
                vec!["^.{0,3}提示"],
            ]
            .map(|v| v.into_iter().map(String::from).collect()),
        );
        let starts = [
            "返回顶部",
            "相关推荐",
            "推荐阅读",
            "See also",
            "see ALSO x",
            "一、医保",
            "12. 报销",
            "声明：",
            "本信息",
            "大家都在搜 医保",
            "健康新闻 2025-04-18",
            "免责声明",
            "提示",
            "温馨提示：",
            "医保卡",
            "abc",
            "",
            " ",
            "\u{3000}",
            "😀",
        ];
        for pats in &lists {
            let compiled: Vec<Regex> = pats.iter().map(|x| Regex::new(x).unwrap()).collect();
            let first = FirstBytes::of(pats.iter().map(String::as_str));
            for a in starts {
                for b in ["", "返回顶部", "相关推荐", "2025-04-18", " x"] {
                    let line = format!("{a}{b}");
                    if !first.may_match(&line) {
                        assert_eq!(first_match(&compiled, &line), None, "{pats:?} {line:?}");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_pattern_is_reported_by_key() {
        let mut errs = Vec::new();
        let pats = ["ok".to_string(), "(bad".to_string(), "[x".to_string()];
        let v = compile_list(
            "profile.navigation",
            &pats,
            &mut PatternBudget::default(),
            &mut errs,
        );
        assert_eq!(v.len(), 1);
        let keys: Vec<&str> = errs.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["profile.navigation[1]", "profile.navigation[2]"]);
    }

    #[test]
    fn sentence_ends_skip_closers() {
        let s = Sentences::new(&ProfileConfig::default());
        assert!(s.ends("可以报销。”"));
        assert!(!s.ends("可以报销，"));
    }

    /// Patterns each under the limit for one, but together past the total: the ones that
    /// do not fit are refused by name, before they are compiled for matching.
    #[test]
    fn patterns_past_the_total_are_refused() {
        let pats: Vec<String> = (0..200).map(|i| format!("^\\w{{1,12}}{i}N$")).collect();
        let mut errs = Vec::new();
        let ok = compile_list(
            "profile.navigation",
            &pats,
            &mut PatternBudget::default(),
            &mut errs,
        );
        assert!(!ok.is_empty(), "the first ones fit");
        assert!(!errs.is_empty(), "the rest do not");
        assert!(
            errs[0].message.contains("does not fit"),
            "{}",
            errs[0].message
        );
        assert_eq!(ok.len() + errs.len(), 200);
    }

    /// The string searches `ends` was written with, as the oracle.
    fn ends_by_strings(end: &str, closers: &str, s: &str) -> bool {
        s.trim_end()
            .trim_end_matches(|c| closers.contains(c))
            .chars()
            .last()
            .is_some_and(|c| end.contains(c))
    }

    #[test]
    fn sentence_ends_agree_with_the_string_searches() {
        let mut rng = crate::synth::Rng::new(5);
        let alphabet = [
            '。', '！', '?', '”', '）', ')', ' ', '\u{3000}', '医', 'a', '.', '\n',
        ];
        let pick = |rng: &mut crate::synth::Rng, n: usize| -> String {
            (0..n)
                .map(|_| alphabet[rng.below(alphabet.len())])
                .collect()
        };
        for _ in 0..2000 {
            let (n_end, n_cl, n_s) = (rng.below(4), rng.below(4), rng.below(8));
            let end = pick(&mut rng, n_end);
            let closers = pick(&mut rng, n_cl);
            let s = pick(&mut rng, n_s);
            let p = ProfileConfig {
                sentence_end: end.clone(),
                sentence_closers: closers.clone(),
                ..ProfileConfig::default()
            };
            let sent = Sentences::new(&p);
            assert_eq!(
                sent.ends(&s),
                ends_by_strings(&end, &closers, &s),
                "{s:?} with ends {end:?}, closers {closers:?}"
            );
            for c in s.chars() {
                assert_eq!(sent.is_end(c), end.contains(c));
            }
        }
    }
}
