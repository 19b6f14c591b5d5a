//! pagesieve turns raw scraped web pages into clean, deduplicated JSONL.
//!
//! The pipeline has two phases (see `docs/ARCHITECTURE.md`):
//!
//! 1. **Scan**, in parallel, one file at a time: [`ingest`] (walk, read, decompress,
//!    decode) → [`page`] (segment into title, body, boilerplate and related blocks; clean;
//!    extract metadata) → [`scan`] (records and fingerprints, or a reject with a reason).
//! 2. **Decide and write** ([`pipeline`]): merge identical snippets, find exact and near
//!    duplicates ([`dedup`]), link snippets to articles, write every file atomically
//!    ([`output`]).
//!
//! [`pipeline::run`] is the whole job; `main.rs` only parses the command line and maps
//! errors to exit codes. What the pipeline does is configuration ([`config`]); how the
//! process runs (paths, threads, progress) is [`pipeline::Settings`].

#![deny(missing_docs)]

pub mod boilerplate;
pub mod config;
pub mod dedup;
pub mod explain;
pub mod ingest;
pub mod output;
pub mod page;
pub mod pipeline;
pub mod progress;
pub mod quality;
pub mod record;
pub mod scan;
pub mod spill;
pub mod synth;

pub use config::{Compiled, Config};
pub use pipeline::{run, RunError, Settings, Summary};
