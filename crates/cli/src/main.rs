//! `aumann`: which agents produced this emergent outcome, and how much.

/// `println!` that ends the process quietly, with exit status 0, when
/// stdout has closed: a reader that stopped early (`| head`) is not an
/// error, and every command commits its output files before it prints.
macro_rules! println {
    () => {
        $crate::print_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::print_line(format_args!($($arg)*))
    };
}

mod commands;
mod options;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Huge pages for the replay's large arrays (crates/alloc says why).
#[global_allocator]
static ALLOCATOR: aumann_alloc::HugePages = aumann_alloc::HugePages;

/// Attribute a population-level outcome (polarization, a cascade's reach,
/// attention concentration, a market panic) to the agents that produced
/// it, with the Aumann–Shapley path integral.
///
/// Start with `aumann study`: it generates the built-in Bluesky-like
/// population of 1,671,587 agents over 14 days, attributes polarization to
/// every agent, compares the full-scale answer with the 100-account panel of
/// small-scale studies, and writes a report to out/study/report.html.
#[derive(Parser)]
#[command(name = "aumann", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
}

#[derive(Subcommand)]
enum Command {
    Study(commands::study::Args),
    Attribute(commands::attribute::Args),
    Faithfulness(commands::attribute::FaithfulnessArgs),
    Fit(commands::fit::Args),
    Sensitivity(commands::sensitivity::Args),
    Synth(commands::synth::Args),
    Ingest(commands::ingest::Args),
    Stance(commands::stance::Args),
    Bench(commands::bench::Args),
    ClusterLocal(commands::cluster::LocalArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if let Some(n) = cli.threads {
        if n == 0 || n > MAX_THREADS {
            eprintln!("error: --threads takes 1 to {MAX_THREADS}, got {n}");
            return ExitCode::from(2);
        }
        if n > cores {
            eprintln!("warning: {n} threads on {cores} cores: the extra threads only wait (results are the same)");
        }
    }
    if let Some(n) = cli.threads
        && let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(n).build_global()
    {
        eprintln!("error: cannot start {n} threads: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Study(args) => commands::study::run(args),
        Command::Attribute(args) => commands::attribute::run(args),
        Command::Faithfulness(args) => commands::attribute::faithfulness(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Sensitivity(args) => commands::sensitivity::run(args),
        Command::Synth(args) => commands::synth::run(args),
        Command::Ingest(args) => commands::ingest::run(args),
        Command::Stance(args) => commands::stance::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::ClusterLocal(args) => commands::cluster::local(args, cli.threads),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// The line to stdout behind [`println!`].
fn print_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(line).and_then(|()| out.write_all(b"\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

/// More threads than this is a typo, not a machine.
const MAX_THREADS: usize = 4096;
