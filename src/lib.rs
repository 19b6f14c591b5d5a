//! pagesieve turns raw scraped web pages into clean, deduplicated JSONL.
//!
//! The pipeline has two phases (see `docs/ARCHITECTURE.md`):
//!
//! 1. **Scan**, in parallel, one file at a time: [`ingest`] (walk, read, decompress,
//!    decode) → [`page`] (segment into title, body, boilerplate and related blocks; clean;
//!    extract metadata) → [`scan`] (records and fingerprints, or a reject with a reason).
//! 2. **Decide and write** ([`run()`]): merge identical snippets, find exact and near
//!    duplicates ([`dedup`]), link snippets to articles, write every file atomically
//!    ([`output`]).
//!
//! [`run::run`] is the whole job; `main.rs` only parses the command line and maps errors
//! to exit codes. What the pipeline does is configuration ([`config`], plain data),
//! compiled once into each stage's rules ([`rules`]); how the process runs (paths,
//! threads, progress) is [`run::Settings`].

#![deny(missing_docs)]

pub mod boilerplate;
pub mod codec;
pub mod config;
pub mod dedup;
pub mod error;
pub mod explain;
pub mod fadvise;
pub mod fault;
pub mod generation;
pub mod history;
pub mod ingest;
pub mod interrupt;
pub mod lock;
pub mod output;
pub mod page;
pub mod prehashed;
pub mod progress;
pub mod record;
pub mod rules;
pub mod run;
pub mod scan;
pub mod synth;
pub mod text;
pub mod timings;
pub mod trim;

pub use config::Config;
pub use error::Error;
pub use rules::Rules;
pub use run::{run, Settings, Summary};
