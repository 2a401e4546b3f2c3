//! `aumann fit`: the replay's parameters estimated from what was observed.

use crate::options::Source;
use aumann_data::progress::{self, Observer};
use aumann_data::staged::StagedDir;
use aumann_fit::polarization::StanceScores;
use aumann_fit::{CascadeFit, Estimate, Fit, Observed, ObservedStance, PolarizationFit, Scores};
use aumann_models::{Network, Replay, ReplayOptions};
use aumann_study::number::readable;
use std::path::PathBuf;

/// Estimate an indicator's parameters from the population's records, with
/// 95% profile-likelihood intervals, and score the fitted replay, the
/// defaults and a constant response rate on the last steps, held out of
/// the fit (docs/fit.md).
///
/// The cascade (beta and cascade-c) is fitted to who first engaged with or
/// reshared others' content, and when, given what each agent read;
/// polarization (kappa) to stances observed per step (--stances). Writes
/// fit.json to --out and prints the estimates and the held-out scores.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    /// The indicator whose parameters are fitted: cascade or polarization.
    #[arg(long, default_value = "cascade", value_name = "NAME")]
    indicator: String,
    /// Polarization's observations: a CSV of external_id,step,stance (a
    /// survey, or a stance estimated per window), steps of the population's
    /// window, stances in (0, 1).
    #[arg(long, value_name = "FILE")]
    stances: Option<PathBuf>,
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
    match (args.indicator.as_str(), &args.stances) {
        ("cascade", None) | ("polarization", Some(_)) => {}
        ("cascade", Some(_)) => {
            return Err(
                "--stances is polarization's observations: the cascade is fitted to the population's \
                        first responses"
                    .into(),
            );
        }
        ("polarization", None) => {
            return Err(
                "--indicator polarization is fitted to stances observed per step: give them with \
                        --stances FILE (external_id,step,stance; docs/fit.md)"
                    .into(),
            );
        }
        (other, _) => {
            return Err(format!(
                "--indicator {other}: the indicators with an observation model are {} (docs/fit.md)",
                aumann_fit::FITTED_INDICATORS.join(" and ")
            )
            .into());
        }
    }
    if !(0.0..1.0).contains(&args.held_out) {
        return Err(format!("--held-out is a share of the steps in [0, 1); got {}", args.held_out).into());
    }
    let mut inputs = args.source.inputs();
    inputs.extend(args.stances.as_deref());
    let staged = StagedDir::create(&args.out, &FILES, &inputs)?;
    let data = args.source.load()?;
    let mut unknown_accounts = 0;
    let stances: Option<Vec<ObservedStance>> = match &args.stances {
        None => None,
        Some(path) => {
            let read = aumann_data::stance::StancesGiven::File(path.clone()).read(&data)?;
            if read.unknown_agents > 0 {
                eprintln!(
                    "--stances {}: {} of {} rows name accounts the population does not hold (left out)",
                    path.display(),
                    read.unknown_agents,
                    read.rows
                );
            }
            unknown_accounts = read.unknown_agents;
            Some(
                read.given
                    .into_iter()
                    .map(|(agent, step, stance)| ObservedStance { agent, step, stance })
                    .collect(),
            )
        }
    };
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
    terminal.stage("fitting", None);
    let observed = match &stances {
        Some(stances) => Observed::Polarization {
            stances,
            unknown_accounts,
        },
        None => Observed::Cascade(&data.population),
    };
    let fit = aumann_fit::fit(&replay, observed, args.held_out)?;
    let json = serde_json::to_string_pretty(&fit)? + "\n";
    std::fs::write(staged.path("fit.json"), &json)?;
    staged.commit(Some(args.source.manifest(&data)))?;
    terminal.finish();
    if args.json {
        print!("{json}");
    } else {
        match &fit {
            Fit::Cascade(fit) => print_fit(fit),
            Fit::Polarization(fit) => print_polarization(fit),
        }
        println!("wrote {}", args.out.join("fit.json").display());
    }
    Ok(())
}

fn print_parameters(parameters: &[Estimate]) {
    println!(
        "{:<12}{:>12}{:>26}{:>10}",
        "parameter", "estimate", "95% interval", "default"
    );
    for e in parameters {
        println!(
            "{:<12}{:>12}{:>26}{:>10}{}",
            e.name,
            if e.estimate.is_finite() {
                readable(e.estimate)
            } else {
                "no bound".into()
            },
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
}

fn print_polarization(fit: &PolarizationFit) {
    let d = &fit.data;
    println!(
        "{} agents, {} steps: {} stances observed ({} agents, {} at step 0), {} transitions (an agent observed at consecutive steps), {} of them after reading nothing",
        d.agents, d.steps, d.observed, d.observed_agents, d.observed_at_start, d.transitions, d.read_nothing
    );
    println!();
    print_parameters(&fit.parameters);
    println!("  shocks to the stances' log-odds: sd {}", readable(fit.noise_sd));
    println!();
    println!(
        "polarization of the agents observed at each step: observed, and the replay run from step 0 with the kappa to use, the default, no dynamics"
    );
    println!(
        "  {:>5}{:>8}{:>10}{:>10}{:>10}{:>12}",
        "step", "agents", "observed", "fitted", "defaults", "no dynamics"
    );
    for s in &fit.trajectory {
        println!(
            "  {:>5}{:>8}{:>10.4}{:>10.4}{:>10.4}{:>12.4}",
            s.step, s.agents, s.observed, s.fitted, s.defaults, s.no_dynamics
        );
    }
    if let Some(e) = fit.trajectory_nrmse {
        println!("  normalised RMSE of the fitted replay's polarization: {e:.4}");
    }
    match (&fit.held_out, &fit.held_out_skipped) {
        (Some(h), _) => {
            println!();
            println!(
                "held out: steps {} to {} ({} transitions), fitted on steps 0 to {}",
                h.fit_steps + 1,
                h.fit_steps + h.held_out_steps,
                h.fitted.observations,
                h.fit_steps
            );
            println!("  {:<26}{:>22}{:>12}", "model", "log-likelihood per obs", "RMSE");
            let row = |name: &str, s: &StanceScores| {
                println!(
                    "  {:<26}{:>22.4}{:>12.5}",
                    name, s.log_likelihood_per_observation, s.rmse
                );
            };
            row(&format!("fitted (kappa {})", readable(h.kappa)), &h.fitted);
            row("defaults", &h.defaults);
            row("no dynamics", &h.no_dynamics);
        }
        (None, Some(why)) => println!("\nnothing held out: {why}"),
        (None, None) => {}
    }
    if let Some(cv) = &fit.cross_validated {
        println!();
        println!(
            "each read step left out in turn and predicted by a fit on the others ({} folds{}; {} transitions)",
            cv.folds,
            skipped(cv.folds_skipped),
            cv.fitted.observations
        );
        println!("  {:<26}{:>22}{:>12}", "model", "log-likelihood per obs", "RMSE");
        for (name, s) in [
            ("fitted", &cv.fitted),
            ("defaults", &cv.defaults),
            ("no dynamics", &cv.no_dynamics),
        ] {
            println!(
                "  {:<26}{:>22.4}{:>12.5}",
                name, s.log_likelihood_per_observation, s.rmse
            );
        }
    }
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
    print_parameters(&fit.parameters);
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
    if let Some(cv) = &fit.cross_validated {
        println!();
        println!(
            "each read step left out in turn and predicted by a fit on the others ({} folds{}; {} agent-steps)",
            cv.folds,
            skipped(cv.folds_skipped),
            cv.fitted.observations
        );
        println!("  {:<34}{:>22}{:>8}", "model", "log-likelihood per obs", "AUC");
        for (name, s) in [
            ("fitted", &cv.fitted),
            ("defaults", &cv.defaults),
            ("constant response rate", &cv.constant_rate),
        ] {
            println!(
                "  {:<34}{:>22}{:>8}",
                name,
                s.log_likelihood_per_observation
                    .map_or("-inf".into(), |v| format!("{v:.4}")),
                s.auc.map_or("n/a".into(), |v| format!("{v:.3}"))
            );
        }
    }
}

fn skipped(folds: usize) -> String {
    if folds == 0 {
        String::new()
    } else {
        format!(", {folds} of them not fitted and left out")
    }
}

fn interval(e: &Estimate) -> String {
    let end = |x: Option<f64>, bound: &str| x.map_or(bound.to_string(), readable);
    let upper = if e.name == "cascade-c" { "1" } else { "no bound" };
    format!("[{}, {}]", end(e.interval[0], "0"), end(e.interval[1], upper))
}
