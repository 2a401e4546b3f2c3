//! `aumann synth`: write the built-in population as a population directory.

use crate::options::Source;
use aumann_data::staged::StagedDir;
use aumann_data::{format, progress, stats::PopulationStats};
use std::path::PathBuf;

/// Generate the built-in Bluesky-like population and write it as a
/// population directory (Parquet tables that pandas and polars read).
///
/// 1,671,587 agents over 14 daily steps by default: heavy-tailed follower
/// counts, activity correlated with followers, two stance communities with
/// homophilous follows, engagement concentrated on popular accounts, and
/// order flow with a selling panic. Same seed, same population. The
/// generator's parameters are in docs/population.md.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// Output directory.
    #[arg(long, default_value = "out/population", value_name = "DIR")]
    out: PathBuf,
    /// Print the summary statistics as JSON on stdout.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    if args.source.input.is_some() {
        return Err("synth generates a population; it takes no --input".into());
    }
    let staged = StagedDir::create(&args.out, &format::POPULATION_FILES, &[])?;
    let started = std::time::Instant::now();
    let data = args.source.load()?;
    let generated = started.elapsed();
    let spinner = progress::spinner(&format!("writing {}", args.out.display()));
    format::write_into(staged.dir(), &data)?;
    staged.commit(Some(args.source.manifest(&data)))?;
    spinner.finish_and_clear();
    let stats = PopulationStats::of(&data.population);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        println!("{stats}");
        println!(
            "generated in {:.1} s, written to {}",
            generated.as_secs_f64(),
            args.out.display()
        );
    }
    Ok(())
}
