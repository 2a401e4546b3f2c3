//! Aumann–Shapley against permutation Shapley (and exact Shapley where the
//! population is small enough) on the same indicator and machine.

use crate::BenchError;
use crate::budget::run_within;
use crate::fit::{growth_exponent, relative_l2, z_scores};
use aumann_data::synth::{SynthParams, generate};
use aumann_engine::{AumannShapley, NodeCount, PermutationShapley, SweepGame, exact_shapley};
use aumann_models::{Indicator, Replay, Workspace, attribute};
use aumann_study::agent_game::AgentGame;
use aumann_study::svg::Chart;
use serde::Serialize;
use std::time::Instant;

/// What the comparison runs: every label of its outputs comes from here.
#[derive(Clone, Debug)]
pub struct ShapleyBench {
    pub indicator: Indicator,
    pub steps: usize,
    /// The permutation budget of the small-scale literature.
    pub permutations: usize,
    /// Seconds of sampled Shapley per size; past it the cost per
    /// permutation is measured and the budget extrapolated.
    pub time_cap: f64,
    pub engine: AumannShapley,
}

/// Exact Shapley is run up to this many agents (2^N coalitions).
pub const EXACT_UP_TO: usize = 20;

#[derive(Clone, Debug, Serialize)]
pub struct ShapleyRow {
    pub agents: usize,
    pub gates: usize,
    pub aumann_seconds: f64,
    pub aumann_evaluations: usize,
    pub aumann_gap: f64,
    /// Seconds for the full permutation budget (measured or extrapolated).
    pub shapley_seconds: Option<f64>,
    pub shapley_permutations_run: usize,
    pub shapley_measured_seconds: f64,
    pub shapley_extrapolated: bool,
    pub speedup: Option<f64>,
    pub exact_seconds: Option<f64>,
    /// Relative L2 distance from exact Shapley (N <= EXACT_UP_TO).
    pub aumann_vs_exact: Option<f64>,
    pub shapley_vs_exact: Option<f64>,
    /// Mean |AS - sampled| / standard error, and the share within 2 SE.
    pub mean_z: Option<f64>,
    pub within_2se: Option<f64>,
}

impl ShapleyBench {
    /// How the engine's stopping rule reads in a label: "to gap 1e-6" for the
    /// adaptive mode, "12 nodes" for a fixed count.
    pub fn engine_label(&self) -> String {
        match self.engine.nodes {
            NodeCount::Adaptive { tolerance, .. } => format!("to gap {tolerance:.0e}"),
            NodeCount::Fixed(n) => format!("{n} nodes"),
        }
    }

    /// One row: Aumann–Shapley at `agents`, and with `sampled` also
    /// permutation Shapley within the time cap (and exact Shapley when
    /// small).
    pub fn row(&self, agents: usize, sampled: bool) -> Result<ShapleyRow, BenchError> {
        let data = generate(
            &SynthParams {
                agents,
                steps: self.steps,
                ..Default::default()
            },
            &(),
        );
        let replay = Replay::new(&data.population)?;
        drop(data);
        let t = Instant::now();
        let r = attribute(&replay, self.indicator, &self.engine)?;
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
        let workspace = Workspace::default();
        let model = self.indicator.model(&replay, &workspace);
        let swept = SweepGame(&*model);
        let game = AgentGame::new(&replay, &swept);
        let (ones, zeros) = (vec![1.0; agents], vec![0.0; agents]);
        let sampled = run_within(self.permutations, self.time_cap, |p| {
            let t = Instant::now();
            let e = PermutationShapley::default()
                .permutations(p)
                .seed(1)
                .estimate(&game, &ones, &zeros)?;
            Ok::<_, BenchError>((e, t.elapsed().as_secs_f64()))
        })?;
        let estimate = &sampled.result;
        row.shapley_permutations_run = estimate.permutations;
        row.shapley_measured_seconds = sampled.measured_seconds;
        row.shapley_extrapolated = sampled.extrapolated;
        row.shapley_seconds = Some(sampled.budget_seconds);
        row.speedup = Some(sampled.budget_seconds / aumann_seconds);
        if estimate.permutations >= 8
            && let Some((mean, within)) = z_scores(&r.agent_phi, &estimate.phi, &estimate.std_error)
        {
            row.mean_z = Some(mean);
            row.within_2se = Some(within);
        }
        if agents <= EXACT_UP_TO {
            let t = Instant::now();
            let exact = exact_shapley(&game, &ones, &zeros)?;
            row.exact_seconds = Some(t.elapsed().as_secs_f64());
            row.aumann_vs_exact = Some(relative_l2(&r.agent_phi, &exact.phi));
            row.shapley_vs_exact = Some(relative_l2(&estimate.phi, &exact.phi));
        }
        Ok(row)
    }

    /// The fitted growth exponents in N (Aumann–Shapley, sampled Shapley).
    pub fn growth(rows: &[ShapleyRow]) -> (Option<f64>, Option<f64>) {
        let aumann: Vec<(usize, f64)> = rows.iter().map(|r| (r.agents, r.aumann_seconds)).collect();
        let shapley: Vec<(usize, f64)> = rows
            .iter()
            .filter_map(|r| r.shapley_seconds.map(|s| (r.agents, s)))
            .collect();
        (growth_exponent(&aumann), growth_exponent(&shapley))
    }

    /// The Markdown table of BENCHMARKS.md, with the fitted exponents.
    pub fn table(&self, rows: &[ShapleyRow]) -> String {
        let mut table = format!(
            "| N | gates | Aumann–Shapley s ({}) | evaluations | gap | sampled Shapley s ({} perm.) | measured | speed-up | exact s | AS vs exact | SS vs exact | mean z | within 2 SE |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            self.engine_label(),
            self.permutations
        );
        let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or(String::new(), f);
        for r in rows {
            let shapley = opt(r.shapley_seconds, &|s| {
                format!("{s:.3e}{}", if r.shapley_extrapolated { " (extrapolated)" } else { "" })
            });
            let measured = if r.shapley_seconds.is_some() {
                format!(
                    "{} perm. in {:.1} s",
                    r.shapley_permutations_run, r.shapley_measured_seconds
                )
            } else {
                String::new()
            };
            table += &format!(
                "| {} | {} | {:.3} | {} | {:.1e} | {shapley} | {measured} | {} | {} | {} | {} | {} | {} |\n",
                r.agents,
                r.gates,
                r.aumann_seconds,
                r.aumann_evaluations,
                r.aumann_gap,
                opt(r.speedup, &|s| format!("{s:.2e}")),
                opt(r.exact_seconds, &|s| format!("{s:.3}")),
                opt(r.aumann_vs_exact, &|s| format!("{s:.2e}")),
                opt(r.shapley_vs_exact, &|s| format!("{s:.2e}")),
                opt(r.mean_z, &|s| format!("{s:.2}")),
                opt(r.within_2se, &|s| format!("{:.0}%", 100.0 * s)),
            );
        }
        let (aumann, shapley) = Self::growth(rows);
        let show = |g: Option<f64>| g.map_or("n/a".into(), |g| format!("{g:.2}"));
        table += &format!(
            "\nFitted growth exponent in N: Aumann–Shapley {}, sampled Shapley {}.\n",
            show(aumann),
            show(shapley)
        );
        table
    }

    /// The log-log plot of runtime against N.
    pub fn plot(&self, rows: &[ShapleyRow]) -> String {
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
            aumann_study::svg::WIDE,
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
        chart.line(&aumann, 0, &format!("Aumann–Shapley ({})", self.engine_label()));
        chart.line(
            &shapley,
            1,
            &format!("permutation Shapley, {} permutations", self.permutations),
        );
        chart.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench(engine: AumannShapley, permutations: usize) -> ShapleyBench {
        ShapleyBench {
            indicator: Indicator::Linear,
            steps: 2,
            permutations,
            time_cap: 1.0,
            engine,
        }
    }

    #[test]
    fn labels_follow_the_options() {
        let b = bench(AumannShapley::default().fixed(12), 250);
        let table = b.table(&[]);
        assert!(table.contains("(12 nodes)") && table.contains("(250 perm.)"), "{table}");
        assert!(b.plot(&[]).contains("250 permutations"));
        let b = bench(AumannShapley::default().adaptive(12, 64, 1e-4), 1000);
        assert!(b.table(&[]).contains("to gap 1e-4"));
        assert!(!b.table(&[]).contains("1e-6"));
    }

    #[test]
    fn a_small_population_gets_every_column() {
        let b = bench(AumannShapley::default(), 40);
        let row = b.row(12, true).unwrap();
        assert_eq!(row.agents, 12);
        assert!(row.shapley_seconds.is_some() && row.exact_seconds.is_some());
        // The linear control: Aumann–Shapley is exact Shapley.
        assert!(row.aumann_vs_exact.unwrap() < 1e-9, "{row:?}");
        let table = b.table(&[row]);
        assert!(table.lines().nth(2).unwrap().starts_with("| 12 |"), "{table}");
    }
}
