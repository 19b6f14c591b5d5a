//! The `pagesieve` binary: parse the command line, load the config, call the library, map
//! errors to exit codes (0 done, 1 I/O failure, 2 usage or configuration error).

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{CheckConfigArgs, Cli, Command, ExplainArgs, RunArgs, SynthArgs};
use pagesieve::config::{compile_text, load_and_compile, Compiled, BUILTIN_PROFILE};
use pagesieve::{RunError, Settings};

const DEFAULT_CONFIG: &str = "config/default.toml";

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Synth(args) => synth(args),
        Command::Explain(args) => explain(args),
        Command::CheckConfig(args) => check_config(args),
    }
}

/// Loads and validates the configuration, printing every problem with its key and line.
fn load_config(path: Option<&Path>) -> Result<Compiled, ExitCode> {
    let result = match path {
        Some(p) => load_and_compile(p),
        None if Path::new(DEFAULT_CONFIG).is_file() => load_and_compile(Path::new(DEFAULT_CONFIG)),
        None => compile_text(BUILTIN_PROFILE, "built-in profile"),
    };
    result.map_err(|errors| {
        for e in errors {
            eprintln!("pagesieve: configuration error: {e}");
        }
        ExitCode::from(2)
    })
}

fn check_config(args: CheckConfigArgs) -> ExitCode {
    match load_and_compile(&args.file) {
        Ok(c) => {
            let p = &c.config.profile;
            let markers = c.header.len()
                + c.footer.len()
                + c.trending.len()
                + c.related.len()
                + c.navigation.len()
                + usize::from(c.related_date.is_some());
            println!(
                "{}: OK (profile {:?}: {markers} marker patterns, {} heading patterns, \
                 {} places, {} tags)",
                args.file.display(),
                p.name,
                c.headings.len(),
                c.config
                    .metadata
                    .places
                    .values()
                    .map(Vec::len)
                    .sum::<usize>()
                    + c.config.metadata.places.len(),
                c.config.metadata.tags.len()
            );
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            eprintln!("{}: {} problem(s)", args.file.display(), errors.len());
            ExitCode::from(2)
        }
    }
}

fn explain(args: ExplainArgs) -> ExitCode {
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    match pagesieve::explain::explain(&args.file, &config, color) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pagesieve: cannot explain {}: {e}", args.file.display());
            ExitCode::from(1)
        }
    }
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
