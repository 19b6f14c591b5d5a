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

/// Compiles one pattern within [`PATTERN_SIZE_LIMIT`] and [`PATTERN_DFA_LIMIT`].
pub fn compile_one(pat: &str) -> Result<Regex, regex::Error> {
    regex::RegexBuilder::new(pat)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_DFA_LIMIT)
        .build()
}

/// Compiles the regexes of the config list `key`; a pattern that does not compile (or
/// compiles larger than [`PATTERN_SIZE_LIMIT`]) is an error naming `key[i]`, and the others
/// are still compiled (every problem is reported). A list longer than
/// [`MAX_PATTERNS_PER_LIST`] is refused before anything is compiled.
pub fn compile_list(key: &str, pats: &[String], errors: &mut Vec<ConfigError>) -> Vec<Regex> {
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
        .filter_map(|(i, pat)| match compile_one(pat) {
            Ok(r) => Some(r),
            Err(e) => {
                let message = match e {
                    regex::Error::CompiledTooBig(limit) => format!(
                        "the pattern {pat:?} compiles to more than {limit} bytes (the limit \
                         for one pattern): simplify it (a bounded repeat of a Unicode class \
                         such as \\w{{1,150}} is the usual cause)"
                    ),
                    e => format!("invalid regex {pat:?}: {e}"),
                };
                errors.push(ConfigError {
                    key: format!("{key}[{i}]"),
                    message,
                });
                None
            }
        })
        .collect()
}

/// Index of the first pattern of `pats` that matches `line`.
pub fn first_match(pats: &[Regex], line: &str) -> Option<usize> {
    pats.iter().position(|r| r.is_match(line))
}

/// How a sentence ends (`profile.sentence_end`, `profile.sentence_closers`).
#[derive(Debug, Clone)]
pub struct Sentences {
    end: String,
    closers: String,
}

impl Sentences {
    /// The profile's sentence ends.
    pub fn new(p: &ProfileConfig) -> Sentences {
        Sentences {
            end: p.sentence_end.clone(),
            closers: p.sentence_closers.clone(),
        }
    }

    /// Whether `s` ends a sentence (a `sentence_end` character, possibly followed by
    /// `sentence_closers`).
    pub fn ends(&self, s: &str) -> bool {
        s.trim_end()
            .trim_end_matches(|c| self.closers.contains(c))
            .chars()
            .last()
            .is_some_and(|c| self.end.contains(c))
    }

    /// Whether `c` is a sentence-ending character.
    pub fn is_end(&self, c: char) -> bool {
        self.end.contains(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_pattern_is_reported_by_key() {
        let mut errs = Vec::new();
        let pats = ["ok".to_string(), "(bad".to_string(), "[x".to_string()];
        let v = compile_list("profile.navigation", &pats, &mut errs);
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
}
