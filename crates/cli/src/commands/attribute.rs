//! `aumann attribute`: one attribution, without the study.

use crate::options::{Engine, Model, Source};
use aumann_study::StudyConfig;
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
    fit: crate::options::FitFlags,
    #[command(flatten)]
    engine: Engine,
    /// Output directory.
    #[arg(long, default_value = DEFAULT_OUT, value_name = "DIR")]
    out: PathBuf,
    /// Print summary.json on stdout instead of the text summary.
    #[arg(long)]
    json: bool,
    /// Also draw the deletion and insertion curves (what `aumann
    /// faithfulness` does).
    #[arg(long)]
    curves: bool,
    /// Seed of the random rankings.
    #[arg(long, default_value_t = 1, value_name = "SEED")]
    ranking_seed: u64,
    #[command(flatten)]
    when: super::study::When,
    #[command(flatten)]
    cluster: super::cluster::ClusterArgs,
}

/// Deletion and insertion curves: silence the agents each ranking puts
/// first (all their gates 0) and replay forward, or open only them; compare
/// the Aumann–Shapley ranking with follower count, activity, PageRank of the
/// follow graph and random orders, at k from 0.01% to 50% of agents.
///
/// Writes the attribution's tables and summary.json (with the curves and
/// their areas) to --out; prints the areas.
#[derive(clap::Args)]
pub struct FaithfulnessArgs {
    #[command(flatten)]
    attribute: Args,
}

pub fn faithfulness(mut args: FaithfulnessArgs) -> Result<(), crate::Error> {
    args.attribute.curves = true;
    if args.attribute.out == std::path::Path::new(DEFAULT_OUT) {
        args.attribute.out = "out/faithfulness".into();
    }
    run(args.attribute)
}

const DEFAULT_OUT: &str = "out/attribution";

pub fn run(args: Args) -> Result<(), crate::Error> {
    let started = std::time::Instant::now();
    // Before the parameters are read: --params beside --fit is refused
    // whatever the file holds.
    let (fit, stances) = args.fit.setting(&args.model)?;
    let config = StudyConfig {
        indicators: args.model.indicators()?,
        replay: args.model.replay(),
        engine: args.engine.build()?,
        tiers: super::study::parse_tiers(&args.tiers)?,
        panel_size: 0,
        curves: args.curves.then(|| args.when.curves(args.ranking_seed)),
        latency_quantile: args.when.quantile()?,
        fit,
        stances,
        ..Default::default()
    };
    write_tables(&args.source, config, &args.cluster, &args.out, args.json, started)
}

/// A run without a report (an attribution, a sensitivity analysis): its
/// tables and summary.json into `out`, then summary.json (`json`) or the
/// text summary and the files written, on the process that writes.
pub fn write_tables(
    source: &Source,
    config: StudyConfig,
    cluster: &super::cluster::ClusterArgs,
    out: &std::path::Path,
    json: bool,
    started: std::time::Instant,
) -> Result<(), crate::Error> {
    let Some(finished) = super::study::execute(source, config, cluster, out, false, aumann_study::Figures::None)?
    else {
        return Ok(());
    };
    if json {
        println!("{}", std::fs::read_to_string(out.join("summary.json"))?);
    } else {
        super::study::print_summary(&finished.result, started.elapsed().as_secs_f64());
        for path in finished.written {
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
