//! Predicts what a cluster's workers send each other over a population,
//! from the replay alone, for several shard counts: the model behind the
//! cluster figures of BENCHMARKS.md.
//!
//! cargo run --release -p aumann-cluster --example traffic_model -- POPULATION_DIR [SHARDS...]
//!
//! For S shards of `Shards::balanced_over` it counts, at every step, the other
//! shards that read each source (a forward entry each: 4 + 8 (2 + K)
//! bytes) and the other shards whose sources each receiver reads (an
//! adjoint entry each: 4 + 16 K bytes), follows only (no exposures), and
//! prints the bytes of a default polarization attribution: two value
//! sweeps of one node (F at the input and at the baseline: forward
//! entries, and two rounds of per-chunk sums for the indicator's mean and
//! spread), then three gradient sweeps of K = 8 nodes (forward entries
//! twice, adjoints, three rounds of per-chunk sums: the indicator's two
//! and its gradient's mean), one refinement level (every gate's phi to
//! shard 0, the gap back) and the result (phi and error per gate to shard
//! 0). Each sweep also asks every worker one flag (whether a gate is open
//! at the baseline).

use aumann_models::shards::SHARD_BLOCK;
use aumann_models::{OwnGates, Replay};
use rayon::prelude::*;

const K: u64 = 8;
const VALUE_SWEEPS: u64 = 2;
const GRADIENT_SWEEPS: u64 = 3;
/// Refinement levels of the default attribution (one: 24 nodes reach the
/// tolerance).
const LEVELS: u64 = 1;
/// An item's id.
const ID: u64 = 4;
/// Rounds of per-chunk sums in a value sweep (polarization's mean and
/// spread) and in a gradient sweep (those, and the mean again for the
/// gradient).
const SUMS_PER_VALUE_SWEEP: u64 = 2;
const SUMS_PER_GRADIENT_SWEEP: u64 = 3;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("a population directory");
    let counts: Vec<usize> = args.map(|a| a.parse().expect("a shard count")).collect();
    let counts = if counts.is_empty() { vec![2, 4, 16] } else { counts };
    let data = aumann_data::format::read_observed(std::path::Path::new(&dir), &()).expect("a population");
    let replay = Replay::new(&data.population).expect("a valid population");
    let (n, steps, gates) = (replay.agents(), replay.steps(), replay.players());
    let graph = replay.graph();
    // Per step, which agents posted.
    let mut posted = vec![vec![false; n]; steps];
    for (t, posted) in posted.iter_mut().enumerate() {
        for g in replay.step_gates(t) {
            if replay.gate_activity(g) > 0.0 {
                posted[replay.gate_replay_agent(g).index()] = true;
            }
        }
    }
    println!(
        "agents {n}, steps {steps}, gates {gates}, follow edges {}",
        graph.edges()
    );
    println!(
        "shards,forward_entries_per_step,adjoint_entries_per_step,bytes_per_attribution,bytes_forward,bytes_adjoint,bytes_chunk_sums,bytes_gates,bytes_flags"
    );
    for s in counts {
        let shards = replay.shards(s);
        let owners = shards.owners();
        let (forward, adjoint): (u64, u64) = (0..steps)
            .into_par_iter()
            .map(|t| {
                let posted = &posted[t];
                let mut seen = vec![u32::MAX; s];
                let (mut forward, mut adjoint) = (0u64, 0u64);
                for i in 0..n {
                    if posted[i] {
                        let mine = owners[i];
                        for &j in graph.followers(i) {
                            let o = owners[j as usize];
                            if o != mine && seen[o as usize] != i as u32 {
                                seen[o as usize] = i as u32;
                                forward += 1;
                            }
                        }
                    }
                }
                seen.fill(u32::MAX);
                for j in 0..n {
                    let mine = owners[j];
                    for &i in graph.followees(j) {
                        let o = owners[i as usize];
                        if posted[i as usize] && o != mine && seen[o as usize] != j as u32 {
                            seen[o as usize] = j as u32;
                            adjoint += 1;
                        }
                    }
                }
                (forward, adjoint)
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let forward_bytes = forward * ((4 + 8 * (2 + 1)) * VALUE_SWEEPS + (4 + 8 * (2 + K)) * 2 * GRADIENT_SWEEPS);
        let adjoint_bytes = adjoint * (4 + 16 * K) * GRADIENT_SWEEPS;
        let others = s as u64 - 1;
        // Every worker sends its chunks' partial sums to every other.
        let chunks = n.div_ceil(SHARD_BLOCK) as u64;
        let chunk_sums = chunks
            * others
            * ((ID + 8) * SUMS_PER_VALUE_SWEEP * VALUE_SWEEPS
                + (ID + 8 * K) * SUMS_PER_GRADIENT_SWEEP * GRADIENT_SWEEPS);
        // Every gate not on shard 0 goes there: phi once per level, then
        // phi and error; shard 0 sends the two sums of the gap back.
        let away = (gates - OwnGates::new(&replay, shards.range(0)).len()) as u64;
        let gate_bytes = away * ((ID + 8) * LEVELS + (ID + 16)) + others * (ID + 16) * LEVELS;
        let flags = s as u64 * others * (ID + 8) * (VALUE_SWEEPS + GRADIENT_SWEEPS);
        let total = forward_bytes + adjoint_bytes + chunk_sums + gate_bytes + flags;
        println!(
            "{s},{:.0},{:.0},{total},{forward_bytes},{adjoint_bytes},{chunk_sums},{gate_bytes},{flags}",
            forward as f64 / steps as f64,
            adjoint as f64 / steps as f64
        );
    }
}
