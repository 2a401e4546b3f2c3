//! `aumann fit`: the replay's parameters estimated from what was observed.

use crate::options::Source;
use aumann_data::progress::{self, Observer};
use aumann_data::staged::StagedDir;
use aumann_fit::{CascadeFit, Estimate, Scores};
use aumann_models::{Network, Replay, ReplayOptions};
use aumann_study::number::readable;
use std::path::PathBuf;

/// Estimate an indicator's parameters from the population's records, with
/// 95% profile-likelihood intervals, and score the fitted replay, the
/// defaults and a constant response rate on the last steps, held out of
/// the fit (docs/fit.md).
///
/// The cascade (beta and cascade-c) is fitted to who first engaged with or
/// reshared others' content, and when, given what each agent read. Writes
/// fit.json to --out and prints the estimates and the held-out scores.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// The indicator whose parameters are fitted: cascade.
    #[arg(long, default_value = "cascade", value_name = "NAME")]
    indicator: String,
    /// What the replay reads: follows, exposures or both.
    #[arg(long, default_value = "both", value_name = "NETWORK")]
    network: Network,
    /// The share of the steps held out of the fit and predicted (the last
    /// ones); 0 holds none out.
    #[arg(long, default_value_t = 0.3, value_name = "SHARE")]
    held_out: f64,
    /// Output directory.
    #[arg(long, default_value = "out/fit", value_name = "DIR")]
    out: PathBuf,
    /// Print fit.json on stdout instead of the text summary.
    #[arg(long)]
    json: bool,
}

/// The files `aumann fit` writes.
const FILES: [&str; 1] = ["fit.json"];

pub fn run(args: Args) -> Result<(), crate::Error> {
    if args.indicator != "cascade" {
        return Err(format!(
            "--indicator {}: only the cascade has an observation model so far (docs/fit.md); polarization's needs \
             stances observed per step",
            args.indicator
        )
        .into());
    }
    if !(0.0..1.0).contains(&args.held_out) {
        return Err(format!("--held-out is a share of the steps in [0, 1); got {}", args.held_out).into());
    }
    let staged = StagedDir::create(&args.out, &FILES, &args.source.inputs())?;
    let data = args.source.load()?;
    let terminal = progress::Terminal::new();
    terminal.stage("building the replay", None);
    let replay = Replay::with_progress(
        &data.population,
        ReplayOptions {
            network: args.network,
            ..Default::default()
        },
        &|done, total| terminal.advance(done as u64, total as u64, "receivers"),
    )?;
    terminal.stage("reading who responded when", None);
    let first = aumann_fit::first_response(&data.population);
    let observed = aumann_fit::observe(&replay, &first)?;
    terminal.stage("fitting", None);
    let fit = aumann_fit::fit_cascade(&observed, args.held_out)?;
    let json = serde_json::to_string_pretty(&fit)? + "\n";
    std::fs::write(staged.path("fit.json"), &json)?;
    staged.commit(Some(args.source.manifest(&data)))?;
    terminal.finish();
    if args.json {
        print!("{json}");
    } else {
        print_fit(&fit);
        println!("wrote {}", args.out.join("fit.json").display());
    }
    Ok(())
}

fn print_fit(fit: &CascadeFit) {
    let d = &fit.data;
    println!(
        "{} agents, {} steps: {} seeds (responded at step 0), {} agent-steps at risk with content read, {} first responses",
        d.agents, d.steps, d.seeds, d.at_risk, d.responses
    );
    if d.unexplained > 0 {
        println!(
            "  {} first responses followed a step at which the agent read nothing: the replay gives them probability 0 (left out)",
            d.unexplained
        );
    }
    println!();
    println!(
        "{:<12}{:>12}{:>26}{:>10}",
        "parameter", "estimate", "95% interval", "default"
    );
    for e in &fit.parameters {
        println!(
            "{:<12}{:>12}{:>26}{:>10}{}",
            e.name,
            readable(e.estimate),
            interval(e),
            readable(e.default),
            if e.identified {
                ""
            } else {
                "  not identified: the default is used"
            }
        );
        if let Some(note) = &e.note {
            println!("  {note}");
        }
    }
    println!();
    println!(
        "first responses per step: observed, and expected with the fitted parameters, the defaults, a constant rate"
    );
    println!(
        "  {:>5}{:>12}{:>10}{:>10}{:>10}{:>10}",
        "step", "at risk", "observed", "fitted", "defaults", "constant"
    );
    for s in &fit.responses_per_step {
        println!(
            "  {:>5}{:>12}{:>10}{:>10.1}{:>10.1}{:>10.1}",
            s.step, s.at_risk, s.observed, s.fitted, s.defaults, s.constant_rate
        );
    }
    match (&fit.held_out, &fit.held_out_skipped) {
        (Some(h), _) => {
            println!();
            println!(
                "held out: steps {} to {} ({} agent-steps, {} responses), fitted on steps 0 to {}",
                h.fit_steps,
                h.fit_steps + h.held_out_steps - 1,
                h.fitted.observations,
                h.fitted.responses,
                h.fit_steps - 1
            );
            println!("  {:<34}{:>22}{:>8}", "model", "log-likelihood per obs", "AUC");
            let row = |name: &str, s: &Scores| {
                println!(
                    "  {:<34}{:>22}{:>8}",
                    name,
                    s.log_likelihood_per_observation
                        .map_or("-inf".into(), |v| format!("{v:.4}")),
                    s.auc.map_or("n/a".into(), |v| format!("{v:.3}"))
                );
            };
            row(
                &format!("fitted (beta {}, c {})", readable(h.beta), readable(h.c)),
                &h.fitted,
            );
            row("defaults", &h.defaults);
            row("constant response rate", &h.constant_rate);
        }
        (None, Some(why)) => println!("\nnothing held out: {why}"),
        (None, None) => {}
    }
}

fn interval(e: &Estimate) -> String {
    let end = |x: Option<f64>, bound: &str| x.map_or(bound.to_string(), readable);
    let upper = if e.name == "beta" { "no bound" } else { "1" };
    format!("[{}, {}]", end(e.interval[0], "0"), end(e.interval[1], upper))
}
