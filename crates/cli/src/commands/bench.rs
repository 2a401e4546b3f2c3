//! `aumann bench`: the benchmarks behind BENCHMARKS.md.

use aumann_data::synth::{SynthParams, generate};
use aumann_engine::{AumannShapley, PermutationShapley, exact_shapley};
use aumann_models::{Indicator, Replay, attribute};
use aumann_study::agent_game::AgentGame;
use aumann_study::svg::{COLORS, Chart};
use clap::Subcommand;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Benchmarks: the replay at scale, and Aumann–Shapley against sampled
/// Shapley. Results go to stdout (a table, or --json) and to --out.
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
    },
}

#[derive(Serialize, serde::Deserialize, Debug)]
struct ReplayRun {
    agents: usize,
    indicator: String,
    edges: usize,
    gates: usize,
    generate_seconds: f64,
    build_seconds: f64,
    attribute_seconds: f64,
    nodes: usize,
    gradient_evaluations: usize,
    relative_gap: f64,
    edges_read: u64,
    graph_passes: f64,
    graph_bytes_per_second: f64,
    peak_rss_bytes: u64,
}

fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
        .map_or(0, |kb| kb * 1024)
}

/// Bytes per second that all cores stream when summing a 1 GiB array: the
/// bandwidth a graph sweep could reach at best.
fn streaming_rate() -> f64 {
    use rayon::prelude::*;
    let data = vec![1u64; 1 << 27];
    let mut best = 0.0f64;
    for _ in 0..3 {
        let t = Instant::now();
        let s: u64 = data.par_chunks(1 << 16).map(|c| c.iter().sum::<u64>()).sum();
        std::hint::black_box(s);
        best = best.max((data.len() * 8) as f64 / t.elapsed().as_secs_f64());
    }
    best
}

fn one(agents: usize, indicator: &str, days: usize) -> Result<ReplayRun, crate::Error> {
    let indicator: Indicator = indicator.parse()?;
    let t = Instant::now();
    let data = generate(
        &SynthParams {
            agents,
            steps: days,
            ..Default::default()
        },
        &|_| {},
    );
    let generate_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let replay = Replay::new(&data.population)?;
    let build_seconds = t.elapsed().as_secs_f64();
    drop(data);
    let t = Instant::now();
    let r = attribute(&replay, indicator, &AumannShapley::default())?;
    let attribute_seconds = t.elapsed().as_secs_f64();
    Ok(ReplayRun {
        agents,
        indicator: indicator.name().into(),
        edges: replay.graph.edges(),
        gates: replay.players(),
        generate_seconds,
        build_seconds,
        attribute_seconds,
        nodes: r.gates.nodes,
        gradient_evaluations: r.gates.gradient_evaluations,
        relative_gap: r.gates.relative_gap(),
        edges_read: r.edges_read,
        graph_passes: r.edges_read as f64 / replay.graph.edges().max(1) as f64,
        // each edge read is a 4-byte index into the senders' rows
        graph_bytes_per_second: r.edges_read as f64 * 4.0 / attribute_seconds,
        peak_rss_bytes: peak_rss(),
    })
}

#[derive(Serialize)]
struct ShapleyRow {
    agents: usize,
    gates: usize,
    aumann_seconds: f64,
    aumann_evaluations: usize,
    aumann_gap: f64,
    /// Seconds for the full permutation budget (measured or extrapolated).
    shapley_seconds: Option<f64>,
    shapley_permutations_run: usize,
    shapley_measured_seconds: f64,
    shapley_extrapolated: bool,
    speedup: Option<f64>,
    exact_seconds: Option<f64>,
    /// Relative L2 distance from exact Shapley (N <= 20).
    aumann_vs_exact: Option<f64>,
    shapley_vs_exact: Option<f64>,
    /// Mean |AS - sampled| / standard error, and the share within 2 SE.
    mean_z: Option<f64>,
    within_2se: Option<f64>,
}

fn rel_l2(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let n: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    if n > 0.0 { d / n } else { d }
}

/// Least-squares slope of log(seconds) against log(N).
fn growth_exponent(points: &[(usize, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.1 > 0.0)
        .map(|&(n, s)| ((n as f64).ln(), s.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let k = pts.len() as f64;
    let (mx, my) = (
        pts.iter().map(|p| p.0).sum::<f64>() / k,
        pts.iter().map(|p| p.1).sum::<f64>() / k,
    );
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

fn shapley_row(
    agents: usize,
    indicator: Indicator,
    days: usize,
    permutations: usize,
    time_cap: f64,
    sampled: bool,
) -> Result<ShapleyRow, crate::Error> {
    let data = generate(
        &SynthParams {
            agents,
            steps: days,
            ..Default::default()
        },
        &|_| {},
    );
    let replay = Replay::new(&data.population)?;
    drop(data);
    let t = Instant::now();
    let r = attribute(&replay, indicator, &AumannShapley::default())?;
    let aumann_seconds = t.elapsed().as_secs_f64();
    let mut row = ShapleyRow {
        agents,
        gates: replay.players(),
        aumann_seconds,
        aumann_evaluations: r.gates.gradient_evaluations,
        aumann_gap: r.gates.relative_gap(),
        shapley_seconds: None,
        shapley_permutations_run: 0,
        shapley_measured_seconds: 0.0,
        shapley_extrapolated: false,
        speedup: None,
        exact_seconds: None,
        aumann_vs_exact: None,
        shapley_vs_exact: None,
        mean_z: None,
        within_2se: None,
    };
    if !sampled {
        return Ok(row);
    }
    let model = indicator.model(&replay);
    let game = AgentGame::new(&replay, &*model);
    let (ones, zeros) = (vec![1.0; agents], vec![0.0; agents]);
    // Double the permutations until the whole budget is done or a run
    // takes a tenth of the cap; then run what the cap affords at the cost
    // per permutation that run showed.
    let sample = |p: usize| -> Result<(aumann_engine::ShapleyEstimate, f64), crate::Error> {
        let t = Instant::now();
        let e = PermutationShapley::default()
            .permutations(p)
            .seed(1)
            .estimate(&game, &ones, &zeros)?;
        Ok((e, t.elapsed().as_secs_f64()))
    };
    let mut pilot = 2;
    let (mut estimate, mut measured) = sample(pilot)?;
    while pilot < permutations && measured < time_cap / 10.0 {
        pilot = (pilot * 2).min(permutations);
        (estimate, measured) = sample(pilot)?;
    }
    if pilot < permutations {
        let per_permutation = measured / pilot as f64;
        let affordable = ((time_cap / per_permutation) as usize / 2 * 2).clamp(pilot, permutations);
        if affordable > pilot {
            (estimate, measured) = sample(affordable)?;
        }
    }
    row.shapley_permutations_run = estimate.permutations;
    row.shapley_measured_seconds = measured;
    row.shapley_extrapolated = estimate.permutations < permutations;
    let full = measured / estimate.permutations as f64 * permutations as f64;
    row.shapley_seconds = Some(full);
    row.speedup = Some(full / aumann_seconds);
    if estimate.permutations >= 8 {
        let z: Vec<f64> = r
            .agent_phi
            .iter()
            .zip(estimate.phi.iter().zip(&estimate.std_error))
            .filter(|(_, (_, se))| **se > 0.0)
            .map(|(a, (s, se))| (a - s).abs() / se)
            .collect();
        if !z.is_empty() {
            row.mean_z = Some(z.iter().sum::<f64>() / z.len() as f64);
            row.within_2se = Some(z.iter().filter(|&&v| v <= 2.0).count() as f64 / z.len() as f64);
        }
    }
    if agents <= 20 {
        let t = Instant::now();
        let exact = exact_shapley(&game, &ones, &zeros)?;
        row.exact_seconds = Some(t.elapsed().as_secs_f64());
        row.aumann_vs_exact = Some(rel_l2(&r.agent_phi, &exact.phi));
        row.shapley_vs_exact = Some(rel_l2(&estimate.phi, &exact.phi));
    }
    Ok(row)
}

pub fn run(args: Args) -> Result<(), crate::Error> {
    match args.which {
        Which::One {
            agents,
            indicator,
            days,
        } => {
            println!("{}", serde_json::to_string(&one(agents, &indicator, days)?)?);
        }
        Which::Replay {
            sizes,
            indicators,
            days,
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
                        ])
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
                        println!(
                            "{:>9} agents {:<13} {:>7.2} s attribute ({:>2} nodes, {:>3} evaluations, gap {:.1e}), build {:>5.2} s, peak {:>6.2} GB, {:>5.0} graph passes, {:>5.2} GB/s of graph ({:.0}% of {:.1} GB/s streaming)",
                            run.agents,
                            run.indicator,
                            run.attribute_seconds,
                            run.nodes,
                            run.gradient_evaluations,
                            run.relative_gap,
                            run.build_seconds,
                            run.peak_rss_bytes as f64 / 1e9,
                            run.graph_passes,
                            run.graph_bytes_per_second / 1e9,
                            100.0 * run.graph_bytes_per_second / rate,
                            rate / 1e9
                        );
                    }
                    runs.push(run);
                }
            }
            let report = serde_json::json!({ "streaming_bytes_per_second": rate, "runs": runs });
            std::fs::write(out.join("replay.json"), serde_json::to_string_pretty(&report)? + "\n")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
        }
        Which::Shapley {
            sizes,
            large,
            indicator,
            days,
            permutations,
            time_cap,
            out,
            json,
        } => {
            std::fs::create_dir_all(&out)?;
            let indicator: Indicator = indicator.parse()?;
            let mut rows = Vec::new();
            for &n in &sizes {
                rows.push(shapley_row(n, indicator, days, permutations, time_cap, true)?);
            }
            for &n in &large {
                rows.push(shapley_row(n, indicator, days, permutations, time_cap, false)?);
            }
            let aumann_growth = growth_exponent(&rows.iter().map(|r| (r.agents, r.aumann_seconds)).collect::<Vec<_>>());
            let shapley_growth = growth_exponent(
                &rows
                    .iter()
                    .filter_map(|r| r.shapley_seconds.map(|s| (r.agents, s)))
                    .collect::<Vec<_>>(),
            );
            let mut table = String::from(
                "| N | gates | Aumann–Shapley s | evaluations | gap | sampled Shapley s (1000 perm.) | measured | speed-up | exact s | AS vs exact | SS vs exact | mean z | within 2 SE |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            );
            let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("".to_string(), f);
            for r in &rows {
                table += &format!(
                    "| {} | {} | {:.3} | {} | {:.1e} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    r.agents,
                    r.gates,
                    r.aumann_seconds,
                    r.aumann_evaluations,
                    r.aumann_gap,
                    opt(r.shapley_seconds, &|s| format!(
                        "{s:.3e}{}",
                        if r.shapley_extrapolated { " (extrapolated)" } else { "" }
                    )),
                    if r.shapley_seconds.is_some() {
                        format!(
                            "{} perm. in {:.1} s",
                            r.shapley_permutations_run, r.shapley_measured_seconds
                        )
                    } else {
                        String::new()
                    },
                    opt(r.speedup, &|s| format!("{s:.2e}")),
                    opt(r.exact_seconds, &|s| format!("{s:.3}")),
                    opt(r.aumann_vs_exact, &|s| format!("{s:.2e}")),
                    opt(r.shapley_vs_exact, &|s| format!("{s:.2e}")),
                    opt(r.mean_z, &|s| format!("{s:.2}")),
                    opt(r.within_2se, &|s| format!("{:.0}%", 100.0 * s)),
                );
            }
            table += &format!(
                "\nFitted growth exponent in N: Aumann–Shapley {}, sampled Shapley {}.\n",
                aumann_growth.map_or("n/a".into(), |g| format!("{g:.2}")),
                shapley_growth.map_or("n/a".into(), |g| format!("{g:.2}"))
            );
            std::fs::write(out.join("shapley.md"), &table)?;
            std::fs::write(out.join("shapley.svg"), plot(&rows))?;
            let report = serde_json::json!({
                "indicator": indicator.name(), "permutations": permutations, "time_cap_seconds": time_cap,
                "aumann_growth_exponent": aumann_growth, "shapley_growth_exponent": shapley_growth, "rows": rows,
            });
            std::fs::write(out.join("shapley.json"), serde_json::to_string_pretty(&report)? + "\n")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{table}");
                println!("wrote {}/shapley.md, shapley.svg, shapley.json", out.display());
            }
        }
    }
    Ok(())
}

fn plot(rows: &[ShapleyRow]) -> String {
    let log = |v: f64| v.max(1e-9).log10();
    let xs: Vec<f64> = rows.iter().map(|r| log(r.agents as f64)).collect();
    let ys: Vec<f64> = rows
        .iter()
        .flat_map(|r| [Some(r.aumann_seconds), r.shapley_seconds])
        .flatten()
        .map(log)
        .collect();
    let lo = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min).floor();
    let hi = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max).ceil();
    let mut chart = Chart::new(
        "Runtime against population size (log-log)",
        "log10 N (agents)",
        "log10 seconds",
        (lo(&xs), hi(&xs)),
        (lo(&ys), hi(&ys)),
    );
    let aumann: Vec<(f64, f64)> = rows
        .iter()
        .map(|r| (log(r.agents as f64), log(r.aumann_seconds)))
        .collect();
    let shapley: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.shapley_seconds.map(|s| (log(r.agents as f64), log(s))))
        .collect();
    chart.line(&aumann, COLORS[0], "Aumann–Shapley (to gap 1e-6)", false);
    chart.line(&shapley, COLORS[1], "permutation Shapley, 1000 permutations", false);
    chart.finish()
}
