//! The configuration compiled into each stage's own rules, once, before any worker starts
//! (as ripgrep's `HiArgs` hands each library its own builder): [`InputRules`] for ingest,
//! [`SegmentRules`] and [`MetadataRules`] for the page, [`DedupRules`] for duplicates.
//! Every problem — a range, a regex, a glob, an encoding label — is reported at once,
//! with its key and, where it can be found, its line.

use std::path::Path;

use crate::config::{locate_key, Config, ConfigError, BUILTIN_PROFILE};
use crate::dedup::DedupRules;
use crate::error::Error;
use crate::ingest::InputRules;
use crate::page::{MetadataRules, SegmentRules};

/// The profile [`Rules::lookup`] reads when no `--config` is given.
pub const DEFAULT_CONFIG: &str = "config/default.toml";

/// A validated configuration and the rules compiled from it, shared by reference between
/// workers.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Where the configuration came from (a path, or `built-in profile`).
    pub source: String,
    /// The effective configuration (written to `report.json`).
    pub config: Config,
    /// Which files are read and how they are decoded.
    pub input: InputRules,
    /// How a page is split into its parts.
    pub segment: SegmentRules,
    /// What is extracted into `metadata`.
    pub metadata: MetadataRules,
    /// Duplicate detection.
    pub dedup: DedupRules,
}

impl Rules {
    /// Validates `config` and compiles every stage's rules; all problems at once.
    pub fn compile(config: Config) -> Result<Rules, Vec<ConfigError>> {
        let mut errors = config.validate();
        let mut input = take(InputRules::compile(&config.input), &mut errors);
        if let (Some(input), Some(html)) = (
            input.as_mut(),
            take(
                crate::ingest::html::HtmlRules::compile(&config.html),
                &mut errors,
            ),
        ) {
            input.html = html;
        }
        let segment = take(
            SegmentRules::compile(&config.profile, &config.clean, config.scan.line_cache_bytes),
            &mut errors,
        );
        let metadata = take(
            MetadataRules::compile(&config.metadata, &config.profile),
            &mut errors,
        );
        match (input, segment, metadata) {
            (Some(input), Some(segment), Some(metadata)) if errors.is_empty() => Ok(Rules {
                source: String::new(),
                dedup: DedupRules::new(&config.dedup),
                config,
                input,
                segment,
                metadata,
            }),
            _ => Err(errors),
        }
    }

    /// The profile a run uses: `path` (`--config`), else `config/default.toml` in the
    /// working folder when it exists, else the built-in copy of it. The CLI and the
    /// Python package both look it up here.
    pub fn lookup(path: Option<&Path>) -> Result<Rules, Error> {
        match Rules::lookup_path(path) {
            Some(p) => Rules::load(&p),
            None => Ok(Rules::builtin()),
        }
    }

    /// The file [`Rules::lookup`] reads (`None`: the built-in profile).
    pub fn lookup_path(path: Option<&Path>) -> Option<std::path::PathBuf> {
        match path {
            Some(p) => Some(p.to_path_buf()),
            None if Path::new(DEFAULT_CONFIG).is_file() => Some(DEFAULT_CONFIG.into()),
            None => None,
        }
    }

    /// Reads, parses, validates and compiles a config file.
    pub fn load(path: &Path) -> Result<Rules, Error> {
        Rules::from_text(&Rules::read_text(path)?, &path.display().to_string())
    }

    /// The text of the config file at `path` (what [`Rules::load`] reads).
    pub fn read_text(path: &Path) -> Result<String, Error> {
        std::fs::read_to_string(path).map_err(|e| {
            Error::Config(vec![format!(
                "cannot read config file {}: {e}",
                path.display()
            )])
        })
    }

    /// [`Rules::from_text`], shared: the profile this process compiled last from the same
    /// text and name is handed out again instead of compiled anew. A Ray worker runs task
    /// after task of one job, each given the job's profile as text (compiling it took
    /// ~6 ms a task); a profile that does not compile is compiled, and refused, each time.
    pub fn shared_from_text(text: &str, name: &str) -> Result<std::sync::Arc<Rules>, Error> {
        type Last = Option<(String, String, std::sync::Arc<Rules>)>;
        static LAST: std::sync::Mutex<Last> = std::sync::Mutex::new(None);
        let mut last = LAST.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((t, n, rules)) = last.as_ref() {
            if t == text && n == name {
                return Ok(rules.clone());
            }
        }
        let rules = std::sync::Arc::new(Rules::from_text(text, name)?);
        *last = Some((text.to_string(), name.to_string(), rules.clone()));
        Ok(rules)
    }

    /// Parses, validates and compiles config text; `name` is how the file is named in
    /// messages (`p.toml:4: profile.related_date: …`). Every problem is reported at once:
    /// unknown keys, wrong types, values out of range and bad patterns, each with its key
    /// and line.
    pub fn from_text(text: &str, name: &str) -> Result<Rules, Error> {
        let parsed = crate::config::parse::parse_all(text);
        let mut problems = parsed.problems;
        let compiled = parsed.config.map(Rules::compile);
        let rules = match compiled {
            Some(Ok(rules)) if problems.is_empty() => Some(rules),
            Some(Ok(_)) | None => None,
            Some(Err(errs)) => {
                // A check of the default that stands in for a bad key is not a problem of
                // its own.
                let stood_in = |key: &str| {
                    let key = key.split('[').next().unwrap_or(key);
                    parsed.removed.iter().any(|r| {
                        key == r
                            || key.starts_with(&format!("{r}."))
                            || r.starts_with(&format!("{key}."))
                    })
                };
                problems.extend(errs.into_iter().filter(|e| !stood_in(&e.key)));
                None
            }
        };
        match rules {
            Some(mut rules) => {
                rules.source = name.to_string();
                Ok(rules)
            }
            None => {
                // In the file's order, so a person can fix them top to bottom.
                let mut located: Vec<(Option<usize>, String)> = problems
                    .iter()
                    .map(
                        |e| match locate_key(text, &e.key).filter(|_| !e.key.is_empty()) {
                            Some(line) => (Some(line), format!("{name}:{line}: {e}")),
                            None => (None, format!("{name}: {e}")),
                        },
                    )
                    .collect();
                located.sort_by_key(|(line, _)| line.unwrap_or(usize::MAX));
                Err(Error::Config(located.into_iter().map(|(_, m)| m).collect()))
            }
        }
    }

    /// What a person should be warned about in this configuration (printed by `run` and
    /// `check-config`, and written to `report.json`).
    pub fn warnings(&self) -> Vec<String> {
        let p = &self.config.profile;
        let mut w = Vec::new();
        let lists = [
            &p.header_disclaimer,
            &p.footer_disclaimer,
            &p.trending,
            &p.related,
            &p.navigation,
        ];
        if lists.iter().all(|l| l.is_empty()) {
            w.push(
                "the profile has no markers (header_disclaimer, footer_disclaimer, trending, \
                 related and navigation are all empty): nothing will be stripped, and every \
                 line after the title is body"
                    .to_string(),
            );
        } else if p.footer_disclaimer.is_empty() && p.related.is_empty() {
            w.push(
                "the profile has neither footer_disclaimer nor related markers: answer bodies \
                 run to the end of the page"
                    .to_string(),
            );
        }
        w
    }

    /// The profile bundled into the binary.
    pub fn builtin() -> Rules {
        Rules::from_text(BUILTIN_PROFILE, "built-in profile")
            .expect("the built-in profile is valid")
    }
}

/// The rules of one stage, or `None` with its problems added to `errors`.
fn take<T>(r: Result<T, Vec<ConfigError>>, errors: &mut Vec<ConfigError>) -> Option<T> {
    r.map_err(|e| errors.extend(e)).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_profile_compiled_again_from_the_same_text_is_shared() {
        use super::Rules;
        use std::sync::Arc;
        let text = crate::config::BUILTIN_PROFILE;
        let a = Rules::shared_from_text(text, "p.toml").unwrap();
        let b = Rules::shared_from_text(text, "p.toml").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let other = format!("{text}\n# another profile\n");
        let c = Rules::shared_from_text(&other, "p.toml").unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        let d = Rules::shared_from_text(text, "q.toml").unwrap();
        assert!(!Arc::ptr_eq(&a, &d) && d.source == "q.toml");
        assert!(Rules::shared_from_text("[dedup]\nmin_similarity = 9", "bad.toml").is_err());
        assert!(Rules::shared_from_text("[dedup]\nmin_similarity = 9", "bad.toml").is_err());
    }

    use super::*;

    fn messages(text: &str) -> Vec<String> {
        match Rules::from_text(text, "p.toml") {
            Err(Error::Config(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn builtin_profile_compiles() {
        let r = Rules::builtin();
        assert!(!r.segment.footer.is_empty());
        assert!(r.segment.related_date.is_some());
    }

    #[test]
    fn every_problem_is_reported_with_key_and_line() {
        let text = "[profile]\nname = \"x\"\nfooter_disclaimer = [\"ok\", \"(bad\"]\n\n[dedup]\nmin_similarity = 3.0\n\n[metadata]\nheading_patterns = [\"[\"]\n";
        let errs = messages(text);
        for want in [
            "p.toml:3: profile.footer_disclaimer[1]",
            "p.toml:6: dedup.min_similarity",
            "p.toml:9: metadata.heading_patterns[0]",
        ] {
            assert!(errs.iter().any(|e| e.starts_with(want)), "{want}: {errs:?}");
        }
    }

    #[test]
    fn a_parse_error_names_the_file() {
        let errs = messages("[input\n");
        assert!(errs[0].starts_with("p.toml: "), "{errs:?}");
    }
}
