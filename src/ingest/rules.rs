//! The ingest stage's rules, compiled once from `[input]`: which files are read (globs) and
//! which legacy encodings are always tried.

use encoding_rs::Encoding;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::config::{ConfigError, InputConfig};

/// `[input]`, compiled.
#[derive(Debug, Clone)]
pub struct InputRules {
    /// Include globs.
    pub include: GlobSet,
    /// Exclude globs.
    pub exclude: GlobSet,
    /// `input.legacy_encodings`, resolved.
    pub legacy_encodings: Vec<&'static Encoding>,
    /// Size limit and decoding thresholds.
    pub config: InputConfig,
    /// Whether each file is dropped from the page cache once read: `input.evict_after_read`
    /// as the run decided it for its input (false until then).
    pub evict_after_read: bool,
    /// The input folder, symlinks resolved, that every file opened must really be in
    /// (set by the run unless `--follow-symlinks`; `None`: not checked).
    pub confine: Option<std::path::PathBuf>,
    /// How HTML pages become lines (`[html]`; the defaults until
    /// [`crate::rules::Rules::compile`] sets the profile's).
    pub html: crate::ingest::html::HtmlRules,
}

impl InputRules {
    /// Compiles the globs and resolves the encoding labels; every problem is reported with
    /// its key.
    pub fn compile(c: &InputConfig) -> Result<InputRules, Vec<ConfigError>> {
        let mut errors = Vec::new();
        let include = globs("input.include", &c.include, &mut errors);
        let exclude = globs("input.exclude", &c.exclude, &mut errors);
        let mut legacy_encodings = Vec::new();
        for (i, label) in c.legacy_encodings.iter().enumerate() {
            match Encoding::for_label(label.as_bytes()) {
                Some(e) => legacy_encodings.push(e),
                None => errors.push(ConfigError {
                    key: format!("input.legacy_encodings[{i}]"),
                    message: format!(
                        "unknown encoding {label:?} (use a WHATWG label such as \"GB18030\")"
                    ),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(InputRules {
            include,
            exclude,
            legacy_encodings,
            config: c.clone(),
            evict_after_read: false,
            confine: None,
            html: crate::ingest::html::HtmlRules::default(),
        })
    }

    /// Whether the file at `source` (relative, `/`-separated) is selected by the globs.
    pub fn selects(&self, source: &str) -> bool {
        self.include.is_match(source) && !self.exclude.is_match(source)
    }
}

fn globs(key: &str, pats: &[String], errors: &mut Vec<ConfigError>) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for (i, pat) in pats.iter().enumerate() {
        match GlobBuilder::new(pat).literal_separator(true).build() {
            Ok(g) => {
                b.add(g);
            }
            Err(e) => errors.push(ConfigError {
                key: format!("{key}[{i}]"),
                message: format!("invalid glob {pat:?}: {e}"),
            }),
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_globs_and_labels_are_reported_by_key() {
        let c = InputConfig {
            exclude: vec!["a/**".into(), "[".into()],
            legacy_encodings: vec!["GBK".into(), "klingon".into()],
            ..InputConfig::default()
        };
        let keys: Vec<String> = InputRules::compile(&c)
            .unwrap_err()
            .into_iter()
            .map(|e| e.key)
            .collect();
        assert_eq!(keys, ["input.exclude[1]", "input.legacy_encodings[1]"]);
    }

    #[test]
    fn globs_select_relative_paths() {
        let c = InputConfig {
            exclude: vec!["**/*.log".into()],
            ..InputConfig::default()
        };
        let r = InputRules::compile(&c).unwrap();
        assert!(r.selects("a/b.txt"));
        assert!(!r.selects("a/b.log"));
    }
}
