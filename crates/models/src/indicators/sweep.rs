//! What the replay indicators' sweeps share: gate values along the path, and
//! node sums that do not depend on the thread count.

use aumann_engine::Path;

/// Rows of agents handed to one parallel task: large enough to amortise
/// scheduling, small enough to balance heavy-tailed rows over cores. Fixed,
/// so that chunked sums do not depend on the thread count.
pub(crate) const AGENT_CHUNK: usize = 2048;

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

/// Sums per-node values over fixed chunks of rows (k values per row), in
/// chunk order: reproducible whatever the thread count.
pub(crate) fn chunked_node_sums(rows: &[f64], k: usize, f: impl Fn(usize, &[f64], &mut [f64]) + Sync) -> Vec<f64> {
    use rayon::prelude::*;
    let partials: Vec<Vec<f64>> = rows
        .par_chunks(AGENT_CHUNK * k)
        .enumerate()
        .map(|(c, chunk)| {
            let mut sums = vec![0.0; k];
            for (r, row) in chunk.chunks_exact(k).enumerate() {
                f(c * AGENT_CHUNK + r, row, &mut sums);
            }
            sums
        })
        .collect();
    let mut total = vec![0.0; k];
    for p in partials {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}
