//! Reading a profile while reporting every problem in it, not only the first.
//!
//! serde stops at the first error. So the file is parsed into a TOML table once (a syntax
//! error ends it there: past a broken line nothing is certain), then deserialized again
//! and again: each time the failing key is found (`serde_path_to_error`), reported, and
//! taken out of the table, so that its default stands in while the rest is checked. What
//! comes out is every unknown key, wrong type and unknown choice, each with its dotted key,
//! plus the configuration the remaining keys make (for the range and pattern checks).

use std::collections::BTreeMap;

use serde_path_to_error::Segment;
use toml::{Table, Value};

use super::{Config, ConfigError};

/// Past this many problems in one file the rest are not looked for (each costs a pass).
const MAX_PROBLEMS: usize = 200;

/// What [`parse_all`] found.
#[derive(Debug)]
pub struct Parsed {
    /// The configuration with every bad key at its default; `None` when the text is not
    /// TOML at all.
    pub config: Option<Config>,
    /// The schema problems, in the order found.
    pub problems: Vec<ConfigError>,
    /// The keys taken out (without list indices), so checks of the defaults standing in
    /// for them are not reported as problems of their own.
    pub removed: Vec<String>,
}

/// Parses `text`, collecting every schema problem (see the module docs).
pub fn parse_all(text: &str) -> Parsed {
    let mut doc: Value = match text.parse::<Table>() {
        Ok(t) => Value::Table(t),
        Err(e) => {
            return Parsed {
                config: None,
                problems: vec![ConfigError {
                    key: String::new(),
                    message: e.to_string().trim_end().to_string(),
                }],
                removed: Vec::new(),
            }
        }
    };
    let mut problems = Vec::new();
    let mut removed = Vec::new();
    // Elements taken out of each list so far (original indices), to name later ones by
    // the index the file gives them.
    let mut gone: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    loop {
        let err = match serde_path_to_error::deserialize::<_, Config>(doc.clone()) {
            Ok(config) => {
                return Parsed {
                    config: Some(config),
                    problems,
                    removed,
                }
            }
            Err(e) => e,
        };
        let segments: Vec<Segment> = err.path().iter().cloned().collect();
        let message = err.inner().message().trim_end().to_string();
        let (key, list) = name_of(&segments, &mut gone);
        let taken = !segments.is_empty() && remove(&mut doc, &segments);
        problems.push(ConfigError {
            key: key.clone(),
            message,
        });
        removed.push(list);
        if !taken || problems.len() >= MAX_PROBLEMS {
            // Nothing could be taken out (the error is not at a key): the rest is unknown.
            return Parsed {
                config: None,
                problems,
                removed,
            };
        }
    }
}

/// The dotted key of `path` as the file spells it (list indices as the file numbers
/// them), and the key of the list or value to treat as removed. Records an element's
/// removal in `gone`.
fn name_of(path: &[Segment], gone: &mut BTreeMap<String, Vec<usize>>) -> (String, String) {
    let mut key = String::new();
    let mut bare = String::new();
    for (i, seg) in path.iter().enumerate() {
        match seg {
            Segment::Map { key: k } | Segment::Enum { variant: k } => {
                if !key.is_empty() {
                    key.push('.');
                    bare.push('.');
                }
                key.push_str(k);
                bare.push_str(k);
            }
            Segment::Seq { index } => {
                let taken = gone.entry(key.clone()).or_default();
                let mut original = *index;
                // The first original index not taken out that has `index` kept ones
                // before it.
                let mut sorted = taken.clone();
                sorted.sort_unstable();
                for t in sorted {
                    if t <= original {
                        original += 1;
                    }
                }
                if i + 1 == path.len() {
                    taken.push(original);
                }
                key.push_str(&format!("[{original}]"));
            }
            Segment::Unknown => key.push_str(".?"),
        }
    }
    (key, bare)
}

/// Takes the value at `path` out of `doc` (an element out of its list); whether it was
/// there.
fn remove(doc: &mut Value, path: &[Segment]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut here = doc;
    for seg in parents {
        let next = match (seg, here) {
            (Segment::Map { key }, Value::Table(t)) => t.get_mut(key),
            (Segment::Seq { index }, Value::Array(a)) => a.get_mut(*index),
            _ => None,
        };
        match next {
            Some(v) => here = v,
            None => return false,
        }
    }
    match (last, here) {
        (Segment::Map { key }, Value::Table(t)) => t.remove(key).is_some(),
        (Segment::Seq { index }, Value::Array(a)) if *index < a.len() => {
            a.remove(*index);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        parse_all(text)
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn every_schema_problem_is_reported_with_its_key() {
        let got = problems(
            "[dedup]\nmax_bucket = \"many\"\nbogus = 1\n[profile]\nname = 3\n\
             footer_disclaimer = [\"a\", 2, \"b\", 4]\n[nowhere]\nx = 1\n",
        );
        let keys: Vec<&str> = got.iter().map(|p| p.split(':').next().unwrap()).collect();
        for want in [
            "dedup.max_bucket",
            "dedup.bogus",
            "profile.name",
            "profile.footer_disclaimer[1]",
            "profile.footer_disclaimer[3]",
            "nowhere",
        ] {
            assert!(keys.contains(&want), "{want} missing from {got:?}");
        }
        assert_eq!(got.len(), 6, "{got:?}");
        assert!(got.iter().any(|p| p.contains("expected usize")), "{got:?}");
    }

    #[test]
    fn what_is_left_is_read_with_defaults_for_the_bad_keys() {
        let p = parse_all("[dedup]\nmax_bucket = \"many\"\nmin_similarity = 0.5\n");
        let c = p.config.expect("a config");
        assert_eq!(c.dedup.min_similarity, 0.5);
        assert_eq!(c.dedup.max_bucket, Config::default().dedup.max_bucket);
        assert_eq!(p.removed, ["dedup.max_bucket"]);
    }

    #[test]
    fn a_syntax_error_is_one_problem_with_its_line() {
        let p = parse_all("[dedup]\nmax_bucket = = 3\n");
        assert!(p.config.is_none());
        assert_eq!(p.problems.len(), 1);
        assert!(p.problems[0].message.contains("line 2"), "{:?}", p.problems);
    }

    #[test]
    fn a_good_file_has_no_problems() {
        let p = parse_all(super::super::BUILTIN_PROFILE);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.config, Config::parse(super::super::BUILTIN_PROFILE).ok());
    }
}
