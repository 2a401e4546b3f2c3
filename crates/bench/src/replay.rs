//! One full attribution at one population size: what `aumann bench replay`
//! measures, each size in a child process of its own so that peak memory is
//! that size's.

use crate::BenchError;
use aumann_data::synth::{SynthParams, generate};
use aumann_engine::AumannShapley;
use aumann_models::{Indicator, Replay, attribute};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The measurements of one run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReplayRun {
    pub agents: usize,
    pub indicator: String,
    pub edges: usize,
    pub gates: usize,
    pub generate_seconds: f64,
    pub build_seconds: f64,
    pub attribute_seconds: f64,
    pub nodes: usize,
    pub gradient_evaluations: usize,
    pub relative_gap: f64,
    pub edges_read: u64,
    /// Edges read over the follow graph's edge count.
    pub graph_passes: f64,
    /// Each edge read is a 4-byte index into the senders' rows.
    pub graph_bytes_per_second: f64,
    pub peak_rss_bytes: u64,
}

impl ReplayRun {
    /// One line of the text table; `streaming` is the machine's rate in
    /// bytes per second (see [`streaming_rate`]).
    pub fn line(&self, streaming: f64) -> String {
        format!(
            "{:>9} agents {:<13} {:>7.2} s attribute ({:>2} nodes, {:>3} evaluations, gap {:.1e}), build {:>5.2} s, peak {:>6.2} GB, {:>5.0} graph passes, {:>5.2} GB/s of graph ({:.0}% of {:.1} GB/s streaming)",
            self.agents,
            self.indicator,
            self.attribute_seconds,
            self.nodes,
            self.gradient_evaluations,
            self.relative_gap,
            self.build_seconds,
            self.peak_rss_bytes as f64 / 1e9,
            self.graph_passes,
            self.graph_bytes_per_second / 1e9,
            100.0 * self.graph_bytes_per_second / streaming,
            streaming / 1e9
        )
    }
}

/// Generates the built-in population at `agents` and `steps`, builds the
/// replay and attributes `indicator` with `engine`, timing each stage.
pub fn measure(
    agents: usize,
    steps: usize,
    indicator: Indicator,
    engine: &AumannShapley,
) -> Result<ReplayRun, BenchError> {
    let t = Instant::now();
    let data = generate(
        &SynthParams {
            agents,
            steps,
            ..Default::default()
        },
        &(),
    );
    let generate_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let replay = Replay::new(&data.population)?;
    let build_seconds = t.elapsed().as_secs_f64();
    drop(data);
    let t = Instant::now();
    let r = attribute(&replay, indicator, engine)?;
    let attribute_seconds = t.elapsed().as_secs_f64();
    let edges = replay.graph().edges();
    Ok(ReplayRun {
        agents,
        indicator: indicator.name().into(),
        edges,
        gates: replay.players(),
        generate_seconds,
        build_seconds,
        attribute_seconds,
        nodes: r.gates.nodes,
        gradient_evaluations: r.gates.gradient_evaluations,
        relative_gap: r.gates.relative_gap(),
        edges_read: r.edges_read,
        graph_passes: r.edges_read as f64 / edges.max(1) as f64,
        graph_bytes_per_second: r.edges_read as f64 * 4.0 / attribute_seconds,
        peak_rss_bytes: peak_rss(),
    })
}

/// The process's peak resident memory (VmHWM), 0 where /proc is missing.
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
        .map_or(0, |kb| kb * 1024)
}

/// Bytes per second that all cores stream when summing a 1 GiB array, best
/// of three: the bandwidth a graph sweep could reach at best.
pub fn streaming_rate() -> f64 {
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
