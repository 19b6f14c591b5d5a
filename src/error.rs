//! One error type for a run: what went wrong, the operation and the path, and the exit
//! code it maps to. A bad *page* is never an error (it becomes a reject with a reason);
//! only the command line, the configuration and the output (or input folder) are fatal.

use std::path::PathBuf;

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line is wrong (exit 2); nothing was written.
    #[error("{0}")]
    Usage(String),
    /// The configuration is invalid (exit 2): one message per problem, each naming its
    /// key and, where it can be found, its line.
    #[error("{}", .0.join("\n"))]
    Config(Vec<String>),
    /// The input folder could not be listed (exit 1).
    #[error("cannot read input folder {}: {source}", path.display())]
    Input {
        /// The folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file named on the command line could not be read (exit 1).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the output failed (exit 1); the previous output is intact.
    #[error("cannot write output to {}{}: {source}", path.display(), what.map(|w| format!(" ({w})")).unwrap_or_default())]
    Output {
        /// The output folder.
        path: PathBuf,
        /// What was being written, when it is not an output file itself.
        what: Option<&'static str>,
        /// The cause.
        source: std::io::Error,
    },
    /// The scratch file between the phases could not be read back (exit 1).
    #[error("cannot read the spill file: {0}")]
    Spill(std::io::Error),
}

impl Error {
    /// The process exit code: 2 for usage and configuration errors, 1 for I/O errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config(_) => 2,
            Error::Input { .. } | Error::Read { .. } | Error::Output { .. } | Error::Spill(_) => 1,
        }
    }

    /// Makes output errors on the folder `path` (for `map_err`).
    pub fn output(path: &std::path::Path) -> impl Fn(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Output {
            path: path.clone(),
            what: None,
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_operation_and_path() {
        let e = Error::output("/tmp/out".as_ref())(std::io::Error::other("disk full"));
        assert_eq!(e.to_string(), "cannot write output to /tmp/out: disk full");
        assert_eq!(e.exit_code(), 1);
        let e = Error::Output {
            path: "/o".into(),
            what: Some("spill file between the phases"),
            source: std::io::Error::other("x"),
        };
        assert_eq!(
            e.to_string(),
            "cannot write output to /o (spill file between the phases): x"
        );
        assert_eq!(
            Error::Config(vec!["a".into(), "b".into()]).to_string(),
            "a\nb"
        );
        assert_eq!(Error::Usage("u".into()).exit_code(), 2);
    }
}
