//! `aumann bench`: the benchmarks behind BENCHMARKS.md.

use crate::options::Engine;
use aumann_bench::replay::{ReplayRun, measure, streaming_rate};
use aumann_bench::shapley::ShapleyBench;
use aumann_data::staged::write_file;
use aumann_models::Indicator;
use clap::Subcommand;
use std::path::PathBuf;

/// Benchmarks: the replay at scale, Aumann–Shapley against sampled Shapley,
/// and the stance estimate. Results go to stdout (a table, or --json) and
/// to --out.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    which: Which,
}

#[derive(Subcommand)]
enum Which {
    /// One full attribution (every node, gradients included) per population
    /// size and indicator: wall time, peak memory, passes over the graph,
    /// and graph bytes read per second against the machine's streaming rate.
    /// Each size runs in a child process so that peak memory is its own.
    Replay {
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000,1671587")]
        sizes: Vec<usize>,
        #[arg(long, value_delimiter = ',', default_value = "polarization,cascade")]
        indicators: Vec<String>,
        #[arg(long, default_value_t = 14)]
        days: usize,
        /// Rounds of load, build and attribution in each child process. The
        /// first touches every page fresh; the later ones reuse the pages
        /// the round before freed, which shows what the work itself costs
        /// on a machine whose fresh pages are dear (a virtual machine whose
        /// host takes freed memory back). Each round must give the first
        /// round's φ bit for bit.
        #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
        rounds: u32,
        #[command(flatten)]
        engine: Engine,
        #[arg(long, default_value = "out/bench", value_name = "DIR")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Aumann–Shapley against permutation Shapley (and exact Shapley where
    /// N <= 20) on the same indicator and machine.
    Shapley {
        #[arg(long, value_delimiter = ',', default_value = "16,100,1000,10000")]
        sizes: Vec<usize>,
        /// Aumann–Shapley alone at these larger sizes.
        #[arg(long, value_delimiter = ',', default_value = "100000,1000000,1671587")]
        large: Vec<usize>,
        #[arg(long, default_value = "polarization")]
        indicator: String,
        #[arg(long, default_value_t = 14)]
        days: usize,
        /// Permutations of the small-scale literature.
        #[arg(long, default_value_t = 1000)]
        permutations: usize,
        /// Seconds of sampled Shapley per size; past it the cost per
        /// permutation is measured and scaled (reported as extrapolated).
        #[arg(long, default_value_t = 60.0)]
        time_cap: f64,
        #[command(flatten)]
        engine: Engine,
        #[arg(long, default_value = "out/bench", value_name = "DIR")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// The `follows` stance: recovery of the built-in population's planted
    /// communities at several homophily levels, and its time at full scale
    /// against the polarization attribution it feeds.
    Stance {
        /// Population of the recovery table.
        #[arg(long, default_value_t = 200_000)]
        recovery_agents: usize,
        /// Homophily levels (share of follows within one's community).
        #[arg(long, value_delimiter = ',', default_value = "0.5,0.55,0.6,0.65,0.7,0.8,0.9")]
        homophily: Vec<f64>,
        /// Population of the speed run (0 skips it).
        #[arg(long, default_value_t = 1_671_587)]
        agents: usize,
        #[arg(long, default_value_t = 14)]
        days: usize,
        #[command(flatten)]
        settings: crate::options::StanceSettings,
        #[command(flatten)]
        engine: Engine,
        #[arg(long, default_value = "out/bench", value_name = "DIR")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Planted recovery of a fit (docs/fit.md): the cascade's first
    /// responses drawn at known beta and c, or polarization's stances per
    /// step at a known kappa, over the built-in population, fitted back;
    /// how often the 95% intervals cover the planted values.
    Planted {
        /// cascade or polarization.
        #[arg(long, default_value = "cascade", value_name = "NAME")]
        indicator: String,
        #[arg(long, default_value_t = 20_000)]
        agents: usize,
        #[arg(long, default_value_t = 8)]
        days: usize,
        /// Seed of the population.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Draws of the responses, each fitted.
        #[arg(long, default_value_t = 100)]
        draws: usize,
        #[arg(long, default_value = "out/bench", value_name = "DIR")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Real retweet cascades: the cascade's attribution of the Twitter15/16
    /// trees (a population from `aumann ingest twitter-trees`) against each
    /// user's descendants in its tree, tree by tree: quartiles of the rank
    /// correlation, by label.
    Trees {
        /// The population directory of the trees.
        #[arg(long, value_name = "DIR")]
        input: PathBuf,
        /// Trees with fewer users are left out.
        #[arg(long, default_value_t = 10)]
        min_users: usize,
        #[command(flatten)]
        engine: Engine,
        #[arg(long, default_value = "out/bench", value_name = "DIR")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// One replay measurement (used by `bench replay` in a child process).
    #[command(hide = true)]
    One {
        #[arg(long)]
        agents: usize,
        #[arg(long)]
        indicator: String,
        #[arg(long)]
        days: usize,
        #[arg(long, default_value_t = 1)]
        rounds: u32,
        #[command(flatten)]
        engine: Engine,
    },
}

/// Writes a benchmark's JSON report (whole or not at all), and prints it
/// with --json.
fn write_report(path: &std::path::Path, report: &serde_json::Value, json: bool) -> Result<(), crate::Error> {
    let text = serde_json::to_string_pretty(report)?;
    write_file(path, (text.clone() + "\n").as_bytes())?;
    if json {
        println!("{text}");
    }
    Ok(())
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    match args.which {
        Which::One {
            agents,
            indicator,
            days,
            rounds,
            engine,
        } => {
            let indicator: Indicator = indicator.parse()?;
            let run = measure(agents, days, indicator, &engine.build()?, rounds as usize)?;
            println!("{}", serde_json::to_string(&run)?);
        }
        Which::Replay {
            sizes,
            indicators,
            days,
            rounds,
            engine,
            out,
            json,
        } => {
            std::fs::create_dir_all(&out)?;
            let rate = streaming_rate();
            let mut runs = Vec::new();
            for &n in &sizes {
                for indicator in &indicators {
                    let output = std::process::Command::new(std::env::current_exe()?)
                        .args([
                            "bench",
                            "one",
                            "--agents",
                            &n.to_string(),
                            "--indicator",
                            indicator,
                            "--days",
                            &days.to_string(),
                            "--rounds",
                            &rounds.to_string(),
                        ])
                        .args(engine.to_args())
                        .output()?;
                    if !output.status.success() {
                        return Err(format!(
                            "bench at {n} agents failed: {}",
                            String::from_utf8_lossy(&output.stderr)
                        )
                        .into());
                    }
                    let run: ReplayRun = serde_json::from_slice(&output.stdout)?;
                    if !json {
                        println!("{}", run.line(rate));
                    }
                    runs.push(run);
                }
            }
            let report = serde_json::json!({ "streaming_bytes_per_second": rate, "runs": runs });
            write_report(&out.join("replay.json"), &report, json)?;
        }
        Which::Stance {
            recovery_agents,
            homophily,
            agents,
            days,
            settings,
            engine,
            out,
            json,
        } => {
            std::fs::create_dir_all(&out)?;
            let ca = settings.request(aumann_data::stance::StanceMethod::Follows, None).ca;
            let mut rows = Vec::new();
            for &h in &homophily {
                let row = aumann_bench::stance::recovery(recovery_agents, h, &ca)?;
                if !json {
                    println!(
                        "homophily {:.2}: AUC {:.4}, |Spearman| {:.3}, {:.1}% estimated, inertia {:.2}%, bimodality {:.3} ({:.1} s)",
                        row.homophily,
                        row.auc,
                        row.spearman,
                        100.0 * row.estimated_share,
                        100.0 * row.explained_inertia.unwrap_or(0.0),
                        row.bimodality.unwrap_or(0.0),
                        row.seconds
                    );
                }
                rows.push(row);
            }
            let speed = if agents > 0 {
                let run = aumann_bench::stance::speed(agents, days, &ca, &engine.build()?)?;
                if !json {
                    println!(
                        "{} agents, {} follows: stance {:.2} s, replay build {:.2} s, polarization attribution {:.2} s ({} nodes, {} evaluations, gap {:.1e}): stance / attribution = {:.3}",
                        run.agents,
                        run.follows,
                        run.stance_seconds,
                        run.build_seconds,
                        run.attribute_seconds,
                        run.nodes,
                        run.gradient_evaluations,
                        run.relative_gap,
                        run.ratio
                    );
                }
                Some(run)
            } else {
                None
            };
            let report = serde_json::json!({ "settings": ca, "recovery": rows, "speed": speed });
            write_report(&out.join("stance.json"), &report, json)?;
        }
        Which::Trees {
            input,
            min_users,
            engine,
            out,
            json,
        } => {
            std::fs::create_dir_all(&out)?;
            let data = aumann_data::format::read(&input)?;
            let r = aumann_bench::trees::trees(&data, &engine.build()?, min_users)?;
            if !json {
                println!(
                    "{} agents in {} trees; cascade F(all) - F(none) = {:.1}, relative gap {:.1e}, {:.1} s",
                    r.agents, r.trees, r.delta, r.relative_gap, r.attribute_seconds
                );
                println!(
                    "  {:<12}{:>7}{:>28}{:>22}",
                    "label", "trees", "Spearman(phi, descendants)", "top-phi user has most"
                );
                for a in &r.by_label {
                    let [q1, q2, q3] = a.spearman_quartiles;
                    println!(
                        "  {:<12}{:>7}{:>28}{:>21.1}%",
                        a.label,
                        a.trees,
                        format!("{q2:.3} [{q1:.3}, {q3:.3}]"),
                        100.0 * a.top_user_agrees
                    );
                }
            }
            write_report(&out.join("trees.json"), &serde_json::to_value(&r)?, json)?;
        }
        Which::Planted {
            indicator,
            agents,
            days,
            seed,
            draws,
            out,
            json,
        } => {
            if indicator != "cascade" && indicator != "polarization" {
                return Err(format!("--indicator {indicator}: planted recovery fits cascade or polarization").into());
            }
            std::fs::create_dir_all(&out)?;
            let terminal = aumann_data::progress::Terminal::new();
            aumann_data::progress::Observer::stage(&terminal, "planted draws, each fitted", Some(draws as u64));
            let on_draw = |done: usize, total: usize| {
                aumann_data::progress::Observer::advance(&terminal, done as u64, total as u64, "draws")
            };
            if indicator == "polarization" {
                let r = aumann_bench::planted::planted_polarization(agents, days, seed, draws, &on_draw)?;
                terminal.finish();
                if !json {
                    println!(
                        "{} agents, {} steps, {} draws (noise sd {}): kappa {} covered in {} of {} ({} identified), mean estimate {:.4}, sd {:.4}; held out, the fitted replay beat no dynamics in {} and the defaults in {}; {:.2} s a fit, {:.2} s a draw",
                        r.agents,
                        r.steps,
                        r.draws,
                        r.noise_sd,
                        r.kappa,
                        r.kappa_covered,
                        r.draws,
                        r.kappa_identified,
                        r.kappa_mean,
                        r.kappa_sd,
                        r.held_out_beats_no_dynamics,
                        r.held_out_beats_defaults,
                        r.fit_seconds,
                        r.draw_seconds
                    );
                }
                write_report(&out.join("planted-polarization.json"), &serde_json::to_value(&r)?, json)?;
                return Ok(());
            }
            let r = aumann_bench::planted::planted_recovery(agents, days, seed, draws, &on_draw)?;
            terminal.finish();
            if !json {
                println!(
                    "{} agents, {} steps, {} draws ({:.0} first responses each): beta {:.4e} covered in {} of {} ({} identified), mean estimate {:.4e}; c {} covered in {} ({} identified), mean {:.3}; {:.2} s a fit, {:.2} s a draw",
                    r.agents,
                    r.steps,
                    r.draws,
                    r.responses_mean,
                    r.beta,
                    r.beta_covered,
                    r.draws,
                    r.beta_identified,
                    r.beta_mean,
                    r.c,
                    r.c_covered,
                    r.c_identified,
                    r.c_mean,
                    r.fit_seconds,
                    r.draw_seconds
                );
            }
            write_report(&out.join("planted.json"), &serde_json::to_value(&r)?, json)?;
        }
        Which::Shapley {
            sizes,
            large,
            indicator,
            days,
            permutations,
            time_cap,
            engine,
            out,
            json,
        } => {
            std::fs::create_dir_all(&out)?;
            let bench = ShapleyBench {
                indicator: indicator.parse()?,
                steps: days,
                permutations,
                time_cap,
                engine: engine.build()?,
            };
            let mut rows = Vec::new();
            for &n in &sizes {
                rows.push(bench.row(n, true)?);
            }
            for &n in &large {
                rows.push(bench.row(n, false)?);
            }
            let table = bench.table(&rows);
            let (aumann_growth, shapley_growth) = ShapleyBench::growth(&rows);
            write_file(&out.join("shapley.md"), table.as_bytes())?;
            write_file(&out.join("shapley.svg"), bench.plot(&rows).as_bytes())?;
            let report = serde_json::json!({
                "indicator": bench.indicator.name(), "permutations": permutations, "time_cap_seconds": time_cap,
                "engine": bench.engine_label(),
                "aumann_growth_exponent": aumann_growth, "shapley_growth_exponent": shapley_growth, "rows": rows,
            });
            write_report(&out.join("shapley.json"), &report, json)?;
            if !json {
                print!("{table}");
                println!("wrote {}/shapley.md, shapley.svg, shapley.json", out.display());
            }
        }
    }
    Ok(())
}
