//! The value-function trait that every model implements.

use rayon::prelude::*;

/// A straight path from `baseline` (tau = 0) to `input` (tau = 1), both of
/// length N (the number of players).
#[derive(Clone, Copy, Debug)]
pub struct Path<'a> {
    pub baseline: &'a [f64],
    pub input: &'a [f64],
}

impl Path<'_> {
    pub fn players(&self) -> usize {
        self.input.len()
    }

    /// Writes the point `baseline + tau (input - baseline)` into `out`.
    pub fn point_into(&self, tau: f64, out: &mut [f64]) {
        for ((o, &b), &x) in out.iter_mut().zip(self.baseline).zip(self.input) {
            *o = b + tau * (x - b);
        }
    }
}

/// Quadrature weights for a batch of path nodes: `rows` weight vectors of
/// length `nodes`, row-major. Row r of the accumulator receives
/// `sum_m weights[r][m] * grad F(x(tau_m))`.
///
/// Two rows are used by the path integral: the primary rule and its companion
/// (the error estimate); a row per rule lets one sweep serve both.
#[derive(Clone, Copy, Debug)]
pub struct NodeWeights<'a> {
    pub rows: usize,
    pub nodes: usize,
    pub data: &'a [f64],
}

impl<'a> NodeWeights<'a> {
    pub fn new(rows: usize, nodes: usize, data: &'a [f64]) -> Self {
        assert_eq!(data.len(), rows * nodes, "weights must be rows x nodes");
        Self { rows, nodes, data }
    }

    pub fn row(&self, r: usize) -> &'a [f64] {
        &self.data[r * self.nodes..(r + 1) * self.nodes]
    }

    pub fn get(&self, r: usize, m: usize) -> f64 {
        self.data[r * self.nodes + m]
    }

    /// Adds node m's gradient, weighted, to every row of `accumulator`
    /// (`rows x N`, row-major, N the gradient's length).
    pub fn accumulate(&self, m: usize, gradient: &[f64], accumulator: &mut [f64]) {
        let n = gradient.len();
        for r in 0..self.rows {
            let w = self.get(r, m);
            for (a, &g) in accumulator[r * n..(r + 1) * n].iter_mut().zip(gradient) {
                *a += w * g;
            }
        }
    }
}

/// A differentiable value function F over N players' inputs.
///
/// `value` and `value_and_gradient` are all a game must provide. Models whose
/// evaluation is a sweep over shared structure (a follow graph, a replay over
/// time steps) override [`ValueFunction::accumulate_path_gradients`] so that
/// one sweep evaluates every quadrature node of a batch.
pub trait ValueFunction: Sync {
    /// N, the number of players (inputs).
    fn players(&self) -> usize;

    /// F(x).
    fn value(&self, x: &[f64]) -> f64;

    /// Writes dF/dx into `gradient` (length N, overwritten) and returns F(x).
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64;

    /// F at k points at once: `points` is k x N, row-major; `values` has k
    /// entries and is overwritten. The Shapley estimators hand their
    /// coalitions over this way, so that a game behind a foreign call (a
    /// Python function) pays the call once per batch. The default calls
    /// [`ValueFunction::value`] on each row, the rows spread over the
    /// threads (each value its own, so the thread count changes no bit).
    fn values(&self, points: &[f64], values: &mut [f64]) {
        use rayon::prelude::*;
        let n = self.players();
        debug_assert_eq!(points.len(), values.len() * n);
        (values.par_iter_mut())
            .zip(points.par_chunks_exact(n.max(1)))
            .for_each(|(v, x)| *v = self.value(x));
    }

    /// Whether the game is known, from its structure, to be constant
    /// along the path from `baseline` to `input` with every player's
    /// gradient along it zero (everywhere, not only at the nodes): a
    /// proof, such as a polarization whose opinions are all equal, not a
    /// measurement. Then the engine returns a flat result without
    /// quadrature. The default, false, leaves the verdict to the engine's
    /// check at the first level's nodes.
    fn constant_along(&self, input: &[f64], baseline: &[f64]) -> bool {
        let _ = (input, baseline);
        false
    }

    /// Batched evaluation along a path.
    ///
    /// Shapes: `taus` has k entries; `values` has k entries and receives
    /// F(x(tau_m)); `accumulator` is `weights.rows x N`, row-major, and is
    /// *added to*: `accumulator[r*N + i] += sum_m weights[r][m] * dF/dx_i(x(tau_m))`.
    ///
    /// The default evaluates the k nodes in parallel, one gradient buffer per
    /// node (k x N scratch, with k bounded by the caller's batch size), then
    /// reduces them in node order so that the result does not depend on the
    /// thread count.
    fn accumulate_path_gradients(
        &self,
        path: Path<'_>,
        taus: &[f64],
        weights: NodeWeights<'_>,
        values: &mut [f64],
        accumulator: &mut [f64],
    ) {
        let n = self.players();
        debug_assert_eq!(taus.len(), weights.nodes);
        debug_assert_eq!(values.len(), taus.len());
        debug_assert_eq!(accumulator.len(), weights.rows * n);
        let per_node: Vec<(f64, Vec<f64>)> = taus
            .par_iter()
            .map(|&tau| {
                let mut point = vec![0.0; n];
                path.point_into(tau, &mut point);
                let mut gradient = vec![0.0; n];
                let v = self.value_and_gradient(&point, &mut gradient);
                (v, gradient)
            })
            .collect();
        for (m, (v, gradient)) in per_node.iter().enumerate() {
            values[m] = *v;
            weights.accumulate(m, gradient, accumulator);
        }
    }
}

impl<G: ValueFunction + ?Sized> ValueFunction for &G {
    fn players(&self) -> usize {
        (**self).players()
    }
    fn value(&self, x: &[f64]) -> f64 {
        (**self).value(x)
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        (**self).value_and_gradient(x, gradient)
    }
    fn values(&self, points: &[f64], values: &mut [f64]) {
        (**self).values(points, values)
    }
    fn constant_along(&self, input: &[f64], baseline: &[f64]) -> bool {
        (**self).constant_along(input, baseline)
    }
    fn accumulate_path_gradients(
        &self,
        path: Path<'_>,
        taus: &[f64],
        weights: NodeWeights<'_>,
        values: &mut [f64],
        accumulator: &mut [f64],
    ) {
        (**self).accumulate_path_gradients(path, taus, weights, values, accumulator)
    }
}
