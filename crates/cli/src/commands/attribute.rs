//! `aumann attribute`: one attribution, without the study.

use crate::options::{Engine, Model, Source};
use aumann_data::progress::{self, Observer};
use aumann_data::staged::StagedDir;
use aumann_study::{StudyConfig, output};
use std::path::PathBuf;

/// Attribute one indicator (or all) to every agent and every (agent, step),
/// and write the same tables as `aumann study` (without panels or report).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    model: Model,
    /// Tier fractions by follower count: head,middle.
    #[arg(long, default_value = "0.01,0.09", value_name = "HEAD,MIDDLE")]
    tiers: String,
    #[command(flatten)]
    engine: Engine,
    /// Output directory.
    #[arg(long, default_value = "out/attribution", value_name = "DIR")]
    out: PathBuf,
    /// Print summary.json on stdout instead of the text summary.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    let started = std::time::Instant::now();
    let config = StudyConfig {
        indicators: args.model.indicators()?,
        replay: args.model.replay(),
        engine: args.engine.build()?,
        tiers: super::study::parse_tiers(&args.tiers)?,
        panel_size: 0,
        ..Default::default()
    };
    let staged = StagedDir::create(&args.out)?;
    let data = args.source.load()?;
    let terminal = progress::Terminal::new();
    let result = aumann_study::run(&data, &config, &terminal)?;
    terminal.stage("writing outputs", None);
    output::write(staged.dir(), &data, &result)?;
    let written = staged.commit(Some(args.source.manifest(&data)))?;
    terminal.finish();
    if args.json {
        println!("{}", std::fs::read_to_string(args.out.join("summary.json"))?);
    } else {
        super::study::print_summary(&result, started.elapsed().as_secs_f64());
        for path in written {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
