//! The `pagesieve` binary: parse the command line, load the config, call the library, map
//! errors to exit codes (0 done, 1 I/O failure, 2 usage or configuration error, 3 the run
//! was held by `--max-drop-rate`).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::{CheckConfigArgs, Cli, Command, ExplainArgs, IndexArgs, RunArgs, SynthArgs};
use pagesieve::run::RunOptions;
use pagesieve::{Error, Rules, Settings};

/// `println!` that does not panic when stdout is closed (`pagesieve run … | head`): the
/// run's work is done and written; a reader that left early is not an error.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `eprintln!` that does not panic when stderr is closed.
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// How a command that did not fail ended.
enum Outcome {
    /// Done (exit 0).
    Done,
    /// `run` held its output (exit 3).
    Held,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Synth(args) => synth(args),
        Command::Explain(args) => explain(args),
        Command::CheckConfig(args) => check_config(args),
        Command::Index(args) => index(args),
    };
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Held) => ExitCode::from(3),
        Err(e) => {
            report(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// Prints an error on stderr: one line per configuration problem.
fn report(e: &Error) {
    match e {
        Error::Config(problems) => {
            for p in problems {
                warn!("pagesieve: configuration error: {p}");
            }
        }
        other => warn!("pagesieve: {other}"),
    }
}

fn check_config(args: CheckConfigArgs) -> Result<Outcome, Error> {
    let r = match Rules::load(&args.file) {
        Ok(r) => r,
        Err(Error::Config(problems)) => {
            for p in &problems {
                warn!("{p}");
            }
            warn!("{}: {} problem(s)", args.file.display(), problems.len());
            return Err(Error::Usage(format!(
                "{} is not a valid profile",
                args.file.display()
            )));
        }
        Err(e) => return Err(e),
    };
    let s = &r.segment;
    let markers = s.header.len()
        + s.footer.len()
        + s.trending.len()
        + s.related.len()
        + s.navigation.len()
        + usize::from(s.related_date.is_some());
    let m = &r.config.metadata;
    for w in r.warnings() {
        warn!("{}: warning: {w}", args.file.display());
    }
    say!(
        "{}: OK (profile {:?}: {markers} marker patterns, {} heading patterns, {} places, {} tags)",
        args.file.display(),
        r.config.profile.name,
        r.metadata.headings.len(),
        m.places.values().map(Vec::len).sum::<usize>() + m.places.len(),
        m.tags.len()
    );
    Ok(Outcome::Done)
}

fn explain(args: ExplainArgs) -> Result<Outcome, Error> {
    let rules = Rules::lookup(args.config.as_deref())?;
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let text = pagesieve::explain::explain(&args.file, &rules, color)?;
    {
        use std::io::Write as _;
        let _ = std::io::stdout().write_all(text.as_bytes());
    }
    Ok(Outcome::Done)
}

fn run(args: RunArgs) -> Result<Outcome, Error> {
    pagesieve::interrupt::install();
    let rules = Rules::lookup(args.config.as_deref())?;
    let opts = RunOptions {
        threads: args.threads,
        force: args.force,
        against: args.against,
        index: args.index,
        max_drop_rate: args.max_drop_rate,
        wait: args.wait,
        follow_symlinks: args.follow_symlinks,
    };
    let mut settings = Settings::with(args.input, args.output, rules, opts)?;
    settings.progress = !args.quiet && std::io::stderr().is_terminal();
    let summary = pagesieve::run(&settings)?;
    for p in summary.walk_problems.iter() {
        warn!("pagesieve: warning: {p}");
    }
    for p in &summary.report.skipped {
        warn!("pagesieve: skipped {}: {}", p.path, p.why);
    }
    for p in &summary.warnings {
        warn!("pagesieve: warning: {p}");
    }
    if let (Some(g), Some(_)) = (&summary.report.guard, &summary.held) {
        warn!(
            "pagesieve: {}",
            pagesieve::run::guard_message(g, &settings.output)
        );
        return Ok(Outcome::Held);
    }
    if !args.quiet && summary.written {
        say!("{}", summary.paragraph());
        say!("Output written to {}.", settings.output.display());
    }
    Ok(Outcome::Done)
}

fn index(args: IndexArgs) -> Result<Outcome, Error> {
    let rules = Rules::lookup(args.config.as_deref())?;
    if args.compact {
        let [dir] = args.dirs.as_slice() else {
            return Err(Error::Usage(
                "pagesieve index --compact: name one index folder".into(),
            ));
        };
        let m = pagesieve::history::compact::compact_folder(dir, &rules, args.wait)?;
        say!(
            "pagesieve index: {} compacted: {} articles and {} snippets of {} run(s) in {} segment(s)",
            dir.display(),
            m.articles,
            m.snippets,
            m.runs.len(),
            m.segments.len()
        );
        return Ok(Outcome::Done);
    }
    let out = match args.out {
        Some(o) => o,
        None => args
            .dirs
            .last()
            .expect("clap requires a folder")
            .join("index"),
    };
    let (path, articles, snippets) =
        pagesieve::history::build::rebuild(&args.dirs, &out, &rules, args.wait)?;
    say!(
        "pagesieve index: {articles} articles and {snippets} snippets of {} output folder(s) \
         indexed in {}",
        args.dirs.len(),
        path.display()
    );
    Ok(Outcome::Done)
}

fn synth(args: SynthArgs) -> Result<Outcome, Error> {
    let opts = pagesieve::synth::Options {
        pages: args.pages,
        seed: args.seed,
        sample: args.sample,
        shape: args.shape,
        encodings: args.encodings,
    };
    let stats = pagesieve::synth::generate(&opts, &args.out).map_err(|source| Error::Output {
        path: args.out.clone(),
        what: Some("synthetic pages"),
        source,
    })?;
    say!(
        "pagesieve synth: wrote {} files ({} bytes) to {}; labels in {}",
        stats.files,
        stats.bytes,
        args.out.display(),
        args.out.join(pagesieve::synth::LABELS_FILE).display()
    );
    Ok(Outcome::Done)
}
