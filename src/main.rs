//! The `pagesieve` binary: parse the command line, load the config, call the library, map
//! errors to exit codes (0 done, 1 I/O failure, 2 usage or configuration error).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{Cli, Command, RunArgs, SynthArgs};
use pagesieve::config::{Compiled, Config, BUILTIN_PROFILE};
use pagesieve::{RunError, Settings};

const DEFAULT_CONFIG: &str = "config/default.toml";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Synth(args) => synth(args),
    }
}

/// Loads and validates the configuration, printing every problem with its key.
fn load_config(path: Option<&Path>) -> Result<Compiled, ExitCode> {
    let config = match path {
        Some(p) => Config::load(p),
        None if Path::new(DEFAULT_CONFIG).is_file() => Config::load(Path::new(DEFAULT_CONFIG)),
        None => Config::parse(BUILTIN_PROFILE),
    };
    let config = config.map_err(|e| {
        eprintln!("pagesieve: configuration error: {e}");
        ExitCode::from(2)
    })?;
    config.compile().map_err(|errors| {
        for e in errors {
            eprintln!("pagesieve: configuration error: {e}");
        }
        ExitCode::from(2)
    })
}

fn run(args: RunArgs) -> ExitCode {
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if args.threads == Some(0) {
        eprintln!("pagesieve: --threads must be at least 1");
        return ExitCode::from(2);
    }
    let settings = Settings {
        input: args.input,
        output: args.output,
        config,
        threads: args.threads,
        progress: !args.quiet && std::io::stderr().is_terminal(),
    };
    match pagesieve::run(&settings) {
        Ok(summary) => {
            for p in &summary.walk_problems {
                eprintln!("pagesieve: warning: {p}");
            }
            if !args.quiet {
                println!("{}", summary.paragraph());
                println!("Output written to {}.", settings.output.display());
            }
            ExitCode::SUCCESS
        }
        Err(RunError::Usage(msg)) => {
            eprintln!("pagesieve: {msg}");
            ExitCode::from(2)
        }
        Err(RunError::Io(msg)) => {
            eprintln!("pagesieve: {msg}");
            ExitCode::from(1)
        }
    }
}

fn synth(args: SynthArgs) -> ExitCode {
    let opts = pagesieve::synth::Options {
        pages: args.pages,
        seed: args.seed,
        sample: args.sample,
    };
    match pagesieve::synth::generate(&opts, &args.out) {
        Ok(stats) => {
            println!(
                "pagesieve synth: wrote {} files ({} bytes) to {}; labels in {}",
                stats.files,
                stats.bytes,
                args.out.display(),
                args.out.join(pagesieve::synth::LABELS_FILE).display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pagesieve synth: cannot write {}: {e}", args.out.display());
            ExitCode::from(1)
        }
    }
}
