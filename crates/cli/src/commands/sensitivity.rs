//! `aumann sensitivity`: the attribution under other reasonable choices,
//! without the rest of the study.

use crate::options::{Engine, Model, Source};
use aumann_study::StudyConfig;
use std::path::PathBuf;

/// Attribute an indicator, then again under other baselines (every gate at
/// a half, each agent at its typical activity, a table of your own), the
/// time-ordered path (steps opened one after another), each parameter
/// halved and doubled (or at the ends of its fitted interval) and, for
/// polarization, the label-free stance methods; say for each headline
/// number (tier shares, Gini, latency, the top agents, the ranking) its
/// range, and which conclusions hold under every alternative.
///
/// Every alternative runs (--sensitivity full) unless --sensitivity default
/// asks for the study's budgeted set. Writes summary.json (its `sensitivity`
/// object), the attribution's tables and sensitivity-INDICATOR.parquet (one
/// row per alternative and number) to --out, and prints the verdicts.
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
    sensitivity: crate::options::SensitivityFlags,
    #[command(flatten)]
    fit: crate::options::FitFlags,
    #[command(flatten)]
    engine: Engine,
    #[command(flatten)]
    when: super::study::When,
    /// Output directory.
    #[arg(long, default_value = "out/sensitivity", value_name = "DIR")]
    out: PathBuf,
    /// Print summary.json on stdout instead of the text summary.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    let started = std::time::Instant::now();
    let (fit, stances) = args.fit.setting(&args.model)?;
    let sensitivity = args
        .sensitivity
        .setting(false, aumann_study::sensitivity::Extent::Full)?;
    if sensitivity.is_none() {
        return Err("aumann sensitivity with --sensitivity none has nothing to do: choose default or full".into());
    }
    let config = StudyConfig {
        indicators: args.model.indicators()?,
        replay: args.model.replay(),
        engine: args.engine.build()?,
        tiers: super::study::parse_tiers(&args.tiers)?,
        panel_size: 0,
        curves: None,
        latency_quantile: args.when.quantile()?,
        fit,
        stances,
        sensitivity,
        ..Default::default()
    };
    super::attribute::write_tables(
        &args.source,
        config,
        &super::cluster::ClusterArgs::alone(),
        &args.out,
        args.json,
        started,
    )
}
