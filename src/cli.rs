//! The command line (clap derive): how the process runs. What the pipeline does is in the
//! config file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Turn raw scraped Q&A pages into clean, deduplicated JSONL.
#[derive(Debug, Parser)]
#[command(name = "pagesieve", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read every page under --input and write the clean records and reports to --output.
    Run(RunArgs),
    /// Generate synthetic pages in the site's layout (the bundled sample, or a benchmark
    /// corpus with labelled duplicates).
    Synth(SynthArgs),
    /// Show how one page is read: every line with the part it went to and the rule that
    /// decided it, then the metadata and the records it would write.
    Explain(ExplainArgs),
    /// Validate a profile: every problem with its key and line (exit 2 if any).
    CheckConfig(CheckConfigArgs),
    /// Rebuild a dedup index from earlier output folders under the current settings (for
    /// outputs made before indexes existed, or after a change of dedup settings).
    Index(IndexArgs),
}

/// `pagesieve index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Output folders of earlier runs (their articles.jsonl and snippets.jsonl are read);
    /// with --compact, the one index folder to compact.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Index folder to write [default: index/ in the last folder named]
    #[arg(long, conflicts_with = "compact")]
    pub out: Option<PathBuf>,
    /// Profile whose [dedup] settings the index is made under [default: config/default.toml,
    /// or the built-in copy of it]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Merge every segment of the index folder into one instead of rebuilding (also
    /// converts an index of pagesieve 0.2, dedup.idx).
    #[arg(long)]
    pub compact: bool,
    /// Wait for a run that holds the index folder instead of stopping.
    #[arg(long)]
    pub wait: bool,
}

/// `pagesieve explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The page to explain (any encoding; .gz and .zst are read too).
    pub file: PathBuf,
    /// Profile [default: config/default.toml, or the built-in copy of it]
    #[arg(long)]
    pub config: Option<PathBuf>,
}

/// `pagesieve check-config`.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The profile to check.
    pub file: PathBuf,
}

/// `pagesieve run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Folder read recursively (hidden files and folders are skipped).
    #[arg(long, default_value = "input")]
    pub input: PathBuf,
    /// Folder the output files are written to (created if missing).
    #[arg(long, default_value = "output")]
    pub output: PathBuf,
    /// Profile and thresholds [default: config/default.toml, or the built-in copy of it when
    /// that file is not there]
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Worker threads [default: one per core; at most 4 per core]. Output is identical for
    /// any value.
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bars and no summary.
    #[arg(long)]
    pub quiet: bool,
    /// Replace an earlier output even when the input folder holds no pages (by default it
    /// is left as it was).
    #[arg(long)]
    pub force: bool,
    /// An earlier output folder, or an index folder, to deduplicate against (repeatable):
    /// tonight's pages that duplicate a record kept earlier are dropped, earlier records
    /// never are.
    #[arg(long, value_name = "DIR")]
    pub against: Vec<PathBuf>,
    /// Write the index covering the earlier runs and this one here instead of index/ in
    /// the output folder: one new segment, published with the output in one commit.
    #[arg(long, value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// If more than this share (0–1) of tonight's articles would be dropped as duplicates,
    /// leave --output untouched, put this run's output beside it in OUTPUT.held, and exit 3.
    #[arg(long, value_name = "R")]
    pub max_drop_rate: Option<f64>,
    /// When another run holds the output or index folder, wait for it to finish (by
    /// default the run stops at once with exit 2, naming the holder).
    #[arg(long)]
    pub wait: bool,
    /// Read symlinks whose targets are outside --input and walk symlinked folders (by
    /// default such a symlink is a reject `outside_input`, and a symlinked folder a named
    /// skip in report.json: nothing outside --input is read).
    #[arg(long)]
    pub follow_symlinks: bool,
}

/// `pagesieve synth`.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of pages (the sample adds its bad files to these).
    #[arg(long, default_value_t = 40)]
    pub pages: usize,
    /// Seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Folder to write to (created; existing files with the same names are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Make the bundled sample: every feature at least once (encodings, compression,
    /// duplicates of each tier, bad files).
    #[arg(long)]
    pub sample: bool,
    /// What the pages look like: `templated` (few templates: a dense corpus) or `site`
    /// (the real site's proportions and varied prose).
    #[arg(long, value_enum, default_value_t = pagesieve::synth::Shape::Templated)]
    pub shape: pagesieve::synth::Shape,
    /// How the pages' bytes are written: `mixed` (mostly UTF-8, every other encoding and
    /// compression now and then) or `gb18030` (every page, as a site serving GBK).
    #[arg(long, value_enum, default_value_t = pagesieve::synth::Encodings::Mixed)]
    pub encodings: pagesieve::synth::Encodings,
}
