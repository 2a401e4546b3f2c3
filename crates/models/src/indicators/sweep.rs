//! What the replay indicators' sweeps share: gate values along the path, and
//! node sums that do not depend on the thread count.

use aumann_engine::Path;

pub(crate) use crate::slots::AGENT_CHUNK;

/// The node count a batch of k nodes runs at: the diffusion sweeps take the
/// count as a compile-time constant (1, 4, 8, 12 or 16), so a batch is
/// padded up to the next one (k at most 16).
pub(crate) fn padded_nodes(k: usize) -> usize {
    match k {
        0 | 1 => 1,
        2..=4 => 4,
        5..=8 => 8,
        9..=12 => 12,
        _ => 16,
    }
}

/// alpha_g at each node: baseline_g + tau_m (input_g - baseline_g).
#[inline]
pub(crate) fn gate_at_nodes(path: &Path<'_>, gate: usize, taus: &[f64], out: &mut [f64]) {
    let (b, x) = (path.baseline[gate], path.input[gate]);
    for (o, &t) in out.iter_mut().zip(taus) {
        *o = b + t * (x - b);
    }
}

/// Per-node sums over the agents' rows (k values per agent), as the
/// indicators take them from the final states: one partial sum per chunk
/// of [`AGENT_CHUNK`] agents, the partials added in chunk order, so that
/// the result depends neither on the thread count nor on which worker
/// summed which chunk.
pub(crate) trait AgentSums: Sync {
    /// Every agent of the replay (the n of a mean), whatever the rows held
    /// here.
    fn agents(&self) -> usize;
    /// `f` summed over the rows held here and, on a cluster, over every
    /// other worker's (a collective call there).
    fn node_sums(&self, rows: &[f64], k: usize, f: &(dyn Fn(&[f64], &mut [f64]) + Sync)) -> Vec<f64>;
}

/// Every agent's rows, in this process.
pub(crate) struct AllAgents {
    pub(crate) agents: usize,
    /// The replay's gates: every one is a player here.
    pub(crate) players: usize,
}

impl AllAgents {
    pub(crate) fn of(replay: &crate::replay::Replay) -> Self {
        Self {
            agents: replay.agents(),
            players: replay.players(),
        }
    }
}

impl AgentSums for AllAgents {
    fn agents(&self) -> usize {
        self.agents
    }
    fn node_sums(&self, rows: &[f64], k: usize, f: &(dyn Fn(&[f64], &mut [f64]) + Sync)) -> Vec<f64> {
        add_in_order(&chunk_sums(rows, k, f), k)
    }
}

/// One partial per chunk of rows, in chunk order (k values each, chunk-major).
pub(crate) fn chunk_sums(rows: &[f64], k: usize, f: &(dyn Fn(&[f64], &mut [f64]) + Sync)) -> Vec<f64> {
    use rayon::prelude::*;
    rows.par_chunks(AGENT_CHUNK * k)
        .flat_map_iter(|chunk| {
            let mut sums = vec![0.0; k];
            for row in chunk.chunks_exact(k) {
                f(row, &mut sums);
            }
            sums
        })
        .collect()
}

/// The chunks' partials (k values each) added in chunk order.
pub(crate) fn add_in_order(partials: &[f64], k: usize) -> Vec<f64> {
    let mut total = vec![0.0; k];
    for p in partials.chunks_exact(k) {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}
