//! What the page stages share when they compile their rules: pattern lists named by their
//! config key, and how a sentence ends.

use regex::Regex;

use crate::config::{ConfigError, ProfileConfig};

/// Compiles the regexes of the config list `key`; a pattern that does not compile is an
/// error naming `key[i]`, and the others are still compiled (every problem is reported).
pub fn compile_list(key: &str, pats: &[String], errors: &mut Vec<ConfigError>) -> Vec<Regex> {
    pats.iter()
        .enumerate()
        .filter_map(|(i, pat)| match Regex::new(pat) {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(ConfigError {
                    key: format!("{key}[{i}]"),
                    message: format!("invalid regex {pat:?}: {e}"),
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
