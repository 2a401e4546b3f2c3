//! `aumann study`: the main job.

use crate::options::{Engine, Model, Source};
use aumann_data::progress;
use aumann_study::faithfulness::{CurveSpec, DEFAULT_RANDOM_RANKINGS};
use aumann_study::number::{percent, readable};
use aumann_study::tiers::TierSpec;
use aumann_study::when::DEFAULT_LATENCY_QUANTILE;
use aumann_study::{Figures, Finished, Run, RunError, StudyConfig, StudyResult};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Attribute an indicator over the whole population, split it by follower
/// tier, say when and how concentrated it was produced, check it with
/// deletion and insertion curves against the rankings people use
/// (followers, activity, PageRank, random), replay the 100 highest-follower
/// accounts (and 100 random ones, and a snowball of 100 connected ones) as
/// panels of their own, and test whether any global rescaling reconciles a
/// panel with the full scale.
///
/// Writes summary.json, per-agent and per-step Parquet tables and
/// report.html to --out, and prints a short summary. With no --input it runs
/// on the built-in population of 1,671,587 agents over 14 days.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    source: Source,
    #[command(flatten)]
    model: Model,
    /// Panel size: the top N accounts by followers, and N random accounts
    /// as a control (0 skips the panels).
    #[arg(long, default_value_t = 100, value_name = "N")]
    sample: usize,
    /// Permutations of permutation Shapley on each panel (0 skips it).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    permutations: usize,
    /// Tier fractions by follower count: head,middle (the rest is the tail).
    #[arg(long, default_value = "0.01,0.09", value_name = "HEAD,MIDDLE")]
    tiers: String,
    /// Seed of the random and snowball panels and of the random rankings.
    #[arg(long, default_value_t = 1)]
    panel_seed: u64,
    /// Draw the random and the snowball panels N times (seeds --panel-seed
    /// on), each attributed and compared with full scale: the spread of
    /// their verdicts, c* and r (1: the one draw of the panels section).
    #[arg(long, default_value_t = 1, value_name = "N")]
    panel_draws: usize,
    /// Skip the deletion and insertion curves.
    #[arg(long)]
    no_curves: bool,
    /// Write the figures (the report's charts as SVG, PNG and PDF files at
    /// one and two journal columns, each with its data as CSV) into DIR, a
    /// directory of their own outside --out, instead of --out's figures/.
    #[arg(long, value_name = "DIR", conflicts_with = "no_figures")]
    figures: Option<PathBuf>,
    /// Write no figures.
    #[arg(long)]
    no_figures: bool,
    #[command(flatten)]
    when: When,
    #[command(flatten)]
    fit: crate::options::FitFlags,
    #[command(flatten)]
    sensitivity: crate::options::SensitivityFlags,
    #[command(flatten)]
    engine: Engine,
    /// Output directory.
    #[arg(long, default_value = "out/study", value_name = "DIR")]
    out: PathBuf,
    /// Print summary.json on stdout instead of the text summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    cluster: super::cluster::ClusterArgs,
}

/// The statistics of when and how the outcome was produced.
#[derive(clap::Args, Clone, Debug)]
pub struct When {
    /// The share of the total that the latency T* waits for: the first
    /// step at which the cumulative sum of phi reaches it.
    #[arg(long, default_value_t = DEFAULT_LATENCY_QUANTILE, value_name = "Q")]
    pub latency_quantile: f64,
    /// Random rankings the curves average over (their spread is shown).
    #[arg(long, default_value_t = DEFAULT_RANDOM_RANKINGS, value_name = "N")]
    pub random_rankings: u64,
}

impl When {
    pub fn quantile(&self) -> Result<f64, String> {
        aumann_study::settings::check_latency_quantile(self.latency_quantile, "--latency-quantile")
    }

    pub fn curves(&self, seed: u64) -> CurveSpec {
        CurveSpec {
            random_rankings: self.random_rankings,
            seed,
            ..CurveSpec::default()
        }
    }
}

pub fn parse_tiers(text: &str) -> Result<TierSpec, String> {
    let parts: Vec<&str> = text.split(',').collect();
    let [head, middle] = parts[..] else {
        return Err(format!(
            "--tiers takes two fractions, head,middle (e.g. 0.01,0.09); got '{text}'"
        ));
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<f64>()
            .map_err(|_| format!("'{s}' in --tiers is not a number"))
    };
    let spec = TierSpec {
        head: parse(head)?,
        middle: parse(middle)?,
    };
    spec.validate()?;
    Ok(spec)
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    let started = Instant::now();
    // Before the parameters are read: --params beside --fit is refused
    // whatever the file holds.
    let (fit, stances) = args.fit.setting(&args.model)?;
    let config = StudyConfig {
        indicators: args.model.indicators()?,
        replay: args.model.replay(),
        engine: args.engine.build()?,
        tiers: parse_tiers(&args.tiers)?,
        panel_size: args.sample,
        panel_seed: args.panel_seed,
        panel_draws: args.panel_draws,
        permutations: args.permutations,
        curves: (!args.no_curves).then(|| args.when.curves(args.panel_seed)),
        latency_quantile: args.when.quantile()?,
        checkpoints: None,
        fit,
        stances,
        sensitivity: (args.sensitivity).setting(
            args.cluster.cluster()?.is_some(),
            aumann_study::sensitivity::Extent::Default,
        )?,
    };
    let figures = match (&args.figures, args.no_figures) {
        (Some(dir), _) => Figures::Apart(dir.clone()),
        (None, true) => Figures::None,
        (None, false) => Figures::InOut,
    };
    let Some(finished) = execute(&args.source, config, &args.cluster, &args.out, true, figures)? else {
        return Ok(());
    };
    if args.json {
        println!("{}", std::fs::read_to_string(args.out.join("summary.json"))?);
    } else {
        print_summary(&finished.result, started.elapsed().as_secs_f64());
        println!("report: {}", args.out.join("report.html").display());
    }
    Ok(())
}

/// Runs a study (an attribution is one without panels or report) as
/// [`Run`] does, alone or as one process of a cluster, with a bar on the
/// terminal; the result comes back where the outputs are written (alone,
/// or process 0), None on the cluster's other processes.
pub fn execute(
    source: &Source,
    config: StudyConfig,
    cluster: &super::cluster::ClusterArgs,
    out: &Path,
    report: bool,
    figures: Figures,
) -> Result<Option<Finished>, crate::Error> {
    let apart = match &figures {
        Figures::Apart(dir) => Some(dir.clone()),
        Figures::None | Figures::InOut => None,
    };
    let run = Run {
        input: source.input(),
        input_label: source.label(),
        config,
        out: Some(out.to_path_buf()),
        report,
        figures,
        checkpoint_dir: cluster.checkpoint.clone(),
        cluster: cluster.cluster()?,
        threads: None,
        option_name: crate::options::flag,
    };
    let terminal = progress::Terminal::new();
    let ran = run.execute(&terminal);
    terminal.finish();
    let ran = ran.map_err(|e| -> crate::Error {
        match (e, apart) {
            (RunError::FiguresOverlap { .. }, Some(dir)) => format!(
                "--figures {} overlaps --out {}: give a directory outside it (without --figures, the figures go to {})",
                dir.display(),
                out.display(),
                out.join("figures").display()
            )
            .into(),
            (e, _) => e.into(),
        }
    })?;
    if let Some(traffic) = &ran.traffic {
        // One write, so that the lines of processes sharing a terminal do
        // not interleave.
        let line = traffic.describe() + "\n";
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
    }
    Ok(ran.finished)
}

pub fn print_summary(result: &StudyResult, seconds: f64) {
    let p = &result.population;
    println!(
        "{} agents, {} steps, {} follow edges, {} gates ({})",
        p.agents, p.steps, p.follow_edges, p.gates, p.source
    );
    println!("{}", p.network.describe());
    for study in &result.indicators {
        let f = &study.full;
        println!();
        if let Some(cause) = &f.flat_cause {
            println!(
                "{}: flat (F = {} with everyone silent and with what happened; phi = 0 for every agent): {cause}",
                study.indicator.name(),
                readable(f.value_input)
            );
            continue;
        }
        println!(
            "{}: F(all) - F(none) = {}; {} nodes of {}, completeness gap {:.1e} (relative), {:.1} s",
            study.indicator.name(),
            readable(f.value_input - f.value_baseline),
            f.nodes,
            f.rule,
            f.relative_gap,
            f.seconds
        );
        if let Some(checkpoint) = &f.checkpoint {
            println!("  {checkpoint}");
        }
        if !f.converged {
            println!("  warning: the gap is above the tolerance; raise --max-nodes or see the levels in summary.json");
        }
        for warning in &f.warnings {
            println!("  warning: {warning}");
        }
        let e = &f.agent_errors;
        println!(
            "  per-agent error estimate: largest {:.1e} absolute, {:.1e} relative (over {} agents with |phi| >= 1e-6 of the largest)",
            e.max_abs_error, e.max_relative_error, e.agents_above_floor
        );
        if let Some(check) = &study.control_check {
            if check.passed {
                println!(
                    "  control check: c* = 1 and r = 0 on {} panels (within {:.0e})",
                    check.panels_checked,
                    aumann_study::CONTROL_TOLERANCE
                );
            } else {
                println!(
                    "  warning: the linear control is not reconciled with c = 1 (|c* - 1| = {:.1e}, r = {:.1e}): the panel replay and the full replay disagree; please report it",
                    check.worst_rescale_error, check.worst_residual
                );
            }
        }
        println!(
            "  {:<8}{:>10}{:>14}{:>12}{:>12}",
            "tier", "agents", "min followers", "share", "|share|"
        );
        for t in study.tiers.iter().flatten() {
            println!(
                "  {:<8}{:>10}{:>14}{:>12}{:>12}",
                t.tier.name(),
                t.agents,
                t.min_followers.map_or(String::new(), readable),
                percent(t.share),
                percent(t.abs_share)
            );
        }
        print_when_and_curves(study);
        print_sensitivity(study);
        for panel in &study.panels {
            print!("  {} panel of {}: ", panel.kind.name(), panel.size);
            if let Some(why) = &panel.skipped {
                println!("not attributed: {why}");
                continue;
            }
            println!("{} active, {} follows among them", panel.members_active, panel.follows);
            for a in &panel.attributions {
                let c = &a.comparison;
                println!(
                    "    {:<20} top-5 hold {:>6} of the panel (those 5: {} at full scale); Spearman {}; top-10 overlap {:.0}%; c* = {}, residual {}: {}",
                    a.method,
                    percent(c.top5_share_panel),
                    percent(c.top5_share_full),
                    c.spearman.map_or("n/a".into(), |r| format!("{r:.2}")),
                    100.0 * c.top10_overlap,
                    readable(c.rescale),
                    readable(c.residual),
                    c.verdict.describe()
                );
            }
            if let Some(curves) = &panel.curves {
                let areas: Vec<String> = curves
                    .rankings
                    .iter()
                    .map(|r| format!("{} {:.3}/{:.3}", r.ranking, r.deletion_area, r.insertion_area))
                    .collect();
                println!(
                    "    curves in the panel (deletion/insertion area): {}",
                    areas.join(", ")
                );
            }
        }
    }
    println!();
    println!("done in {seconds:.1} s");
}

/// The sensitivity analysis's verdicts, a line each.
pub fn print_sensitivity(study: &aumann_study::IndicatorStudy) {
    let Some(s) = &study.sensitivity else {
        return;
    };
    let attributed = s.alternatives.iter().skip(1).filter(|a| a.numbers.is_some()).count();
    println!(
        "  sensitivity: {} alternatives ({attributed} attributed) in {:.1} s, {:.1} attributions' worth of sweeps: {}",
        s.alternatives.len() - 1,
        s.seconds,
        s.cost_in_attributions,
        if s.robust {
            "every conclusion holds under all"
        } else {
            "some conclusions change"
        }
    );
    for c in &s.conclusions {
        println!("    {}: {}", c.statement, c.verdict);
    }
    for a in s.alternatives.iter().filter(|a| a.skipped.is_some()) {
        println!(
            "    not attributed: {}: {}",
            a.name,
            a.skipped.as_deref().unwrap_or_default()
        );
    }
}

/// The timing statistics and the curves' areas, a few lines.
pub fn print_when_and_curves(study: &aumann_study::IndicatorStudy) {
    if let Some(t) = &study.timing {
        let latency = aumann_study::when::latency_words(t.latency_step, study.full.step_phi.len());
        println!(
            "  when: {:.0}% of the total reached {latency}; synchronization Z = {}; Gini of |phi| {:.3}; top 1% hold {:.1}% of |phi|, top 100 {:.1}%",
            100.0 * t.quantile,
            t.synchronization.map_or("n/a".into(), |z| format!("{z:.3}")),
            t.gini,
            100.0 * t.top_percent_share,
            100.0 * t.top_100_share
        );
        let camps: Vec<String> = t
            .camps
            .iter()
            .chain(&t.groups)
            .map(|g| format!("{} ({} agents) {:.1}%", g.group, g.agents, 100.0 * g.share))
            .collect();
        println!("  by camp and group: {}", camps.join(", "));
    }
    if let Some(c) = &study.curves {
        println!(
            "  faithfulness over {} forward replays ({:.1} s): deletion area (lower is better) / insertion area (higher is better)",
            c.forward_replays, c.seconds
        );
        for r in &c.rankings {
            println!(
                "    {:<24} {:>7.3} ({:+.3})   {:>7.3} ({:+.3})",
                r.ranking, r.deletion_area, r.deletion_gap, r.insertion_area, r.insertion_gap
            );
        }
    }
}
