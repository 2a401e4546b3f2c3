//! What every replay indicator shares: gate values along the path, and the
//! plumbing from a batched sweep to the engine's value-function trait.

use aumann_engine::{NodeWeights, Path};

/// Rows of agents handed to one parallel task: large enough to amortise
/// scheduling, small enough to balance heavy-tailed rows over cores. Fixed,
/// so that chunked sums do not depend on the thread count.
pub(crate) const AGENT_CHUNK: usize = 2048;

/// A replay indicator evaluated at k path nodes in one sweep.
pub(crate) trait Sweep: Sync {
    fn players(&self) -> usize;

    /// Writes F(x(tau_m)) into `values`; with `gradient` = (weights, acc),
    /// also adds `sum_m weights[r][m] dF/dx_g(x(tau_m))` into `acc[r*P + g]`.
    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<(NodeWeights<'_>, &mut [f64])>);
}

/// alpha_g at each node: baseline_g + tau_m (input_g - baseline_g).
#[inline]
pub(crate) fn gate_at_nodes(path: &Path<'_>, gate: usize, taus: &[f64], out: &mut [f64]) {
    let (b, x) = (path.baseline[gate], path.input[gate]);
    for (o, &t) in out.iter_mut().zip(taus) {
        *o = b + t * (x - b);
    }
}

/// Adds `sum_m weights[r][m] * grad[m]` to row r of the accumulator at `gate`.
#[inline]
pub(crate) fn accumulate_gate(weights: &NodeWeights<'_>, acc: &mut [f64], players: usize, gate: usize, grad: &[f64]) {
    for r in 0..weights.rows {
        let w = weights.row(r);
        let mut s = 0.0;
        for (w, g) in w.iter().zip(grad) {
            s += w * g;
        }
        acc[r * players + gate] += s;
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

/// Implements the engine's trait for a [`Sweep`]: a single point is the
/// degenerate path from x to x, evaluated at one node.
macro_rules! value_function_via_sweep {
    ($ty:ident) => {
        impl aumann_engine::ValueFunction for $ty<'_> {
            fn players(&self) -> usize {
                crate::indicators::sweep::Sweep::players(self)
            }

            fn value(&self, x: &[f64]) -> f64 {
                let mut v = [0.0];
                let path = aumann_engine::Path {
                    baseline: x,
                    input: x,
                };
                crate::indicators::sweep::Sweep::sweep(self, path, &[0.0], &mut v, None);
                v[0]
            }

            fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
                let mut v = [0.0];
                gradient.fill(0.0);
                let path = aumann_engine::Path {
                    baseline: x,
                    input: x,
                };
                let weights = aumann_engine::NodeWeights::new(1, 1, &[1.0]);
                crate::indicators::sweep::Sweep::sweep(self, path, &[0.0], &mut v, Some((weights, gradient)));
                v[0]
            }

            fn accumulate_path_gradients(
                &self,
                path: aumann_engine::Path<'_>,
                taus: &[f64],
                weights: aumann_engine::NodeWeights<'_>,
                values: &mut [f64],
                accumulator: &mut [f64],
            ) {
                crate::indicators::sweep::Sweep::sweep(self, path, taus, values, Some((weights, accumulator)));
            }
        }
    };
}
pub(crate) use value_function_via_sweep;
