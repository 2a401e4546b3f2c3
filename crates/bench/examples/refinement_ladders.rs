//! How Gauss–Legendre should refine when its first level misses the
//! tolerance: the completeness gap at each node count a ladder could visit,
//! on several populations and every nonlinear indicator, and what each
//! ladder (doubling, growing by half, growing by a third, each to a
//! multiple of 8) would pay to meet a tolerance. BENCHMARKS.md ("How
//! Gauss–Legendre refines") records a run.
//!
//!     cargo run --release -p aumann-bench --example refinement_ladders -- [AGENTS]
//!
//! Each gap comes from the engine's own attribution at that fixed node
//! count, so it is exactly what the adaptive mode would test at that level.

use aumann_engine::{AumannShapley, SweepGame, ValueFunction};
use aumann_models::{Indicator, Replay, Workspace};
use std::collections::BTreeMap;

const TOLERANCES: [f64; 5] = [1e-6, 1e-7, 1e-8, 1e-9, 1e-10];

/// A ladder's node counts from 24: `grow` maps a count to the next before
/// rounding up to a multiple of 8 (the default batch, so no sweep is short).
fn ladder(grow: fn(usize) -> usize) -> Vec<usize> {
    let mut counts = vec![24];
    while *counts.last().unwrap() < 192 {
        let n = *counts.last().unwrap();
        counts.push(grow(n).div_ceil(8) * 8);
    }
    counts
}

/// The gradient evaluations a ladder pays to meet `tolerance`, and the
/// count it stops at; None past the ladder's last count. `gap` measures a
/// count once and remembers it.
fn cost(counts: &[usize], gap: &mut dyn FnMut(usize) -> f64, tolerance: f64) -> Option<(usize, usize)> {
    let mut paid = 0;
    for &n in counts {
        paid += n;
        if gap(n) <= tolerance {
            return Some((paid, n));
        }
    }
    None
}

fn main() {
    let agents: usize = std::env::args().nth(1).map_or(200_000, |a| a.parse().expect("AGENTS"));
    let ladders: [(&str, Vec<usize>); 3] = [
        ("doubling", ladder(|n| 2 * n)),
        ("by half", ladder(|n| n + n / 2)),
        ("by a third", ladder(|n| n + n / 3)),
    ];
    for (name, counts) in &ladders {
        println!("ladder {name}: {counts:?}");
    }
    let mut totals = vec![[0usize; 3]; TOLERANCES.len()];
    let mut unmeasured = 0;
    for seed in [2605u64, 7, 31] {
        let (planted, estimated) = aumann_bench::stance::planted_and_estimated(agents, seed).expect("stance");
        let cases = [
            ("polarization, planted", &planted, "polarization"),
            ("polarization, estimated", &estimated, "polarization"),
            ("cascade", &planted, "cascade"),
            ("attention", &planted, "attention"),
            ("panic", &planted, "panic"),
        ];
        for (label, data, indicator) in cases {
            let replay = Replay::new(&data.population).expect("replay");
            let workspace = Workspace::new();
            let indicator = Indicator::from_name(indicator).expect("indicator");
            let game = SweepGame(indicator.model(&replay, &workspace));
            let n = game.players();
            let (input, baseline) = (vec![1.0; n], vec![0.0; n]);
            let mut gaps = BTreeMap::new();
            let mut gap = |count: usize| {
                *gaps.entry(count).or_insert_with(|| {
                    AumannShapley::default()
                        .fixed(count)
                        .attribute(&game, &input, &baseline)
                        .expect("attribution")
                        .relative_gap()
                })
            };
            let mut lines = Vec::new();
            for (t, &tolerance) in TOLERANCES.iter().enumerate() {
                let costs: Vec<Option<(usize, usize)>> = ladders
                    .iter()
                    .map(|(_, counts)| cost(counts, &mut gap, tolerance))
                    .collect();
                let mut line = format!("  tolerance {tolerance:.0e}:");
                for ((name, _), c) in ladders.iter().zip(&costs) {
                    line += &match c {
                        Some((paid, at)) => format!(" {name} {paid} (stops at {at});"),
                        None => format!(" {name} past its last count;"),
                    };
                }
                if costs.iter().all(Option::is_some) {
                    for (total, c) in totals[t].iter_mut().zip(&costs) {
                        *total += c.expect("all met").0;
                    }
                } else {
                    unmeasured += 1;
                }
                lines.push(line);
            }
            let shown: Vec<String> = gaps.iter().map(|(k, g)| format!("{k}: {g:.1e}")).collect();
            println!("\nseed {seed}, {label}, {n} gates: {}", shown.join(", "));
            for line in lines {
                println!("{line}");
            }
        }
    }
    println!("\ntotal gradient evaluations over the cases every ladder met:");
    for (t, tolerance) in TOLERANCES.iter().enumerate() {
        let line: Vec<String> = ladders
            .iter()
            .zip(&totals[t])
            .map(|((name, _), total)| format!("{name} {total}"))
            .collect();
        println!("  tolerance {tolerance:.0e}: {}", line.join(", "));
    }
    if unmeasured > 0 {
        println!("({unmeasured} case-and-tolerance pairs some ladder did not meet are left out)");
    }
}
