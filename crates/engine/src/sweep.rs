//! The one interface a model implements: a batched sweep along the path.
//!
//! A model whose evaluation is a pass over shared structure (a follow graph,
//! a replay over time steps) evaluates every quadrature node of a batch in
//! one pass, forward for the values and backward for the gradients. It
//! implements [`PathSweep`]; [`SweepGame`] turns it into a [`ValueFunction`]
//! for the engine, with single points as the degenerate path from x to x.

use crate::game::{NodeWeights, Path, ValueFunction};

/// Where a sweep puts its gradients: `rows` weight vectors over the batch's
/// k nodes, and an accumulator of `rows x players`, row-major.
///
/// [`GradientSink::add`] adds `sum_m weights[r][m] * grad[m]` to row r at a
/// player, so a sweep hands over each player's gradient at the k nodes once
/// and never holds a k x players block.
pub struct GradientSink<'a> {
    weights: NodeWeights<'a>,
    accumulator: &'a mut [f64],
    players: usize,
}

impl<'a> GradientSink<'a> {
    /// Panics if the accumulator is not `weights.rows x players`.
    pub fn new(weights: NodeWeights<'a>, accumulator: &'a mut [f64], players: usize) -> Self {
        assert_eq!(
            accumulator.len(),
            weights.rows * players,
            "the accumulator must be rows x players"
        );
        Self {
            weights,
            accumulator,
            players,
        }
    }

    pub fn weights(&self) -> NodeWeights<'a> {
        self.weights
    }

    /// Nodes of the batch (the length of each `grad` handed to `add`).
    pub fn nodes(&self) -> usize {
        self.weights.nodes
    }

    /// Adds `sum_m weights[r][m] * grad[m]` to every row r at `player`.
    #[inline]
    pub fn add(&mut self, player: usize, grad: &[f64]) {
        debug_assert_eq!(grad.len(), self.weights.nodes);
        for r in 0..self.weights.rows {
            let mut s = 0.0;
            for (w, g) in self.weights.row(r).iter().zip(grad) {
                s += w * g;
            }
            self.accumulator[r * self.players + player] += s;
        }
    }

    /// The same accumulator under other weights (a sub-batch of nodes, or
    /// nodes padded with zero weights).
    pub fn with_weights<'b>(&'b mut self, weights: NodeWeights<'b>) -> GradientSink<'b> {
        assert_eq!(weights.rows, self.weights.rows, "the same rows");
        GradientSink {
            weights,
            accumulator: self.accumulator,
            players: self.players,
        }
    }
}

/// A model evaluated at k nodes of a path in one sweep.
pub trait PathSweep: Sync {
    /// N, the number of players.
    fn players(&self) -> usize;

    /// Writes F(x(tau_m)) into `values[m]` for each of the k `taus`, where
    /// x(tau) = baseline + tau (input - baseline); with a `gradient` sink,
    /// also hands it dF/dx_i at the k nodes for every player i whose
    /// gradient is not zero.
    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>);

    /// Writes F(points[m]) into `values[m]`: k arbitrary points, not on one
    /// path (deletion and insertion curves silence different sets at each
    /// point). A model that can evaluate several points in one pass
    /// overrides this; the default sweeps each point as the path from it to
    /// itself.
    fn values_at(&self, points: &[&[f64]], values: &mut [f64]) {
        values_one_by_one(self, points, values)
    }

    /// Writes F at `values.len()` (at most [`MAX_SUBSETS`]) points that
    /// each take, player by player, either the path's input or its
    /// baseline: point m has player i at `path.input[i]` when bit m of
    /// `masks[i]` is set, at `path.baseline[i]` otherwise. Deletion and
    /// insertion curves are such points (a set of agents silenced or alone
    /// open); a model can evaluate them reading two values and a mask per
    /// player instead of one value per point. The default builds the points
    /// and calls [`PathSweep::values_at`].
    fn values_on_subsets(&self, path: Path<'_>, masks: &[u16], values: &mut [f64]) {
        assert!(values.len() <= MAX_SUBSETS, "at most {MAX_SUBSETS} subsets per call");
        let points = subset_points(path, masks, values.len());
        let refs: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
        self.values_at(&refs, values);
    }
}

/// F at each point, one sweep of one node per point: what
/// [`PathSweep::values_at`] does for a model that has no faster way, and
/// what a model that has one for some of its forms falls back to.
pub fn values_one_by_one<M: PathSweep + ?Sized>(model: &M, points: &[&[f64]], values: &mut [f64]) {
    assert_eq!(points.len(), values.len(), "one value per point");
    for (point, value) in points.iter().zip(values) {
        let mut out = [0.0];
        let path = Path {
            baseline: point,
            input: point,
        };
        model.sweep(path, &[0.0], &mut out, None);
        *value = out[0];
    }
}

/// The most subsets [`PathSweep::values_on_subsets`] takes at once (the bits
/// of a mask).
pub const MAX_SUBSETS: usize = 16;

/// The `count` points that masks describe: point m takes `path.input[i]`
/// where bit m of `masks[i]` is set, `path.baseline[i]` elsewhere.
pub fn subset_points(path: Path<'_>, masks: &[u16], count: usize) -> Vec<Vec<f64>> {
    assert_eq!(masks.len(), path.players(), "one mask per player");
    (0..count)
        .map(|m| {
            masks
                .iter()
                .zip(path.input.iter().zip(path.baseline))
                .map(|(mask, (&x, &b))| if mask >> m & 1 == 1 { x } else { b })
                .collect()
        })
        .collect()
}

impl<M: PathSweep + ?Sized> PathSweep for &M {
    fn players(&self) -> usize {
        (**self).players()
    }
    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        (**self).sweep(path, taus, values, gradient)
    }
    fn values_at(&self, points: &[&[f64]], values: &mut [f64]) {
        (**self).values_at(points, values)
    }
    fn values_on_subsets(&self, path: Path<'_>, masks: &[u16], values: &mut [f64]) {
        (**self).values_on_subsets(path, masks, values)
    }
}

impl<M: PathSweep + ?Sized> PathSweep for Box<M> {
    fn players(&self) -> usize {
        (**self).players()
    }
    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        (**self).sweep(path, taus, values, gradient)
    }
    fn values_at(&self, points: &[&[f64]], values: &mut [f64]) {
        (**self).values_at(points, values)
    }
    fn values_on_subsets(&self, path: Path<'_>, masks: &[u16], values: &mut [f64]) {
        (**self).values_on_subsets(path, masks, values)
    }
}

/// A [`PathSweep`] as a [`ValueFunction`]: batches go to the sweep as they
/// are, and a single point x is the path from x to x at one node.
pub struct SweepGame<M>(pub M);

impl<M: PathSweep> ValueFunction for SweepGame<M> {
    fn players(&self) -> usize {
        self.0.players()
    }

    fn value(&self, x: &[f64]) -> f64 {
        let mut v = [0.0];
        let path = Path { baseline: x, input: x };
        self.0.sweep(path, &[0.0], &mut v, None);
        v[0]
    }

    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let mut v = [0.0];
        gradient.fill(0.0);
        let path = Path { baseline: x, input: x };
        let players = self.0.players();
        let mut sink = GradientSink::new(NodeWeights::new(1, 1, &[1.0]), gradient, players);
        self.0.sweep(path, &[0.0], &mut v, Some(&mut sink));
        v[0]
    }

    fn accumulate_path_gradients(
        &self,
        path: Path<'_>,
        taus: &[f64],
        weights: NodeWeights<'_>,
        values: &mut [f64],
        accumulator: &mut [f64],
    ) {
        let players = self.0.players();
        let mut sink = GradientSink::new(weights, accumulator, players);
        self.0.sweep(path, taus, values, Some(&mut sink));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// F(x) = sum_i c_i x_i^2, swept node by node.
    struct Squares(Vec<f64>);

    impl PathSweep for Squares {
        fn players(&self) -> usize {
            self.0.len()
        }
        fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], mut gradient: Option<&mut GradientSink<'_>>) {
            values.fill(0.0);
            for (i, &c) in self.0.iter().enumerate() {
                let x: Vec<f64> = taus
                    .iter()
                    .map(|t| path.baseline[i] + t * (path.input[i] - path.baseline[i]))
                    .collect();
                for (v, x) in values.iter_mut().zip(&x) {
                    *v += c * x * x;
                }
                if let Some(sink) = gradient.as_mut() {
                    let g: Vec<f64> = x.iter().map(|x| 2.0 * c * x).collect();
                    sink.add(i, &g);
                }
            }
        }
    }

    #[test]
    fn single_points_are_the_degenerate_path() {
        let game = SweepGame(Squares(vec![1.0, 3.0]));
        assert_eq!(game.value(&[2.0, 1.0]), 7.0);
        let mut g = [9.0, 9.0];
        assert_eq!(game.value_and_gradient(&[2.0, 1.0], &mut g), 7.0);
        assert_eq!(g, [4.0, 6.0]);
    }

    #[test]
    fn the_sink_adds_weighted_rows() {
        let weights = [1.0, 2.0, 0.5, 0.0];
        let mut acc = vec![1.0; 4];
        let mut sink = GradientSink::new(NodeWeights::new(2, 2, &weights), &mut acc, 2);
        sink.add(1, &[3.0, 4.0]);
        assert_eq!(acc, vec![1.0, 1.0 + 3.0 + 8.0, 1.0, 1.0 + 1.5]);
    }

    #[test]
    fn the_path_integral_of_a_sweep_is_exact_on_a_quadratic() {
        // phi_i = c_i (x_i^2 - b_i^2) for a separable quadratic.
        let game = SweepGame(Squares(vec![1.0, 3.0]));
        let r = crate::attribute(&game, &[1.0, 2.0], &[0.5, 0.0]).unwrap();
        assert!((r.phi[0] - 0.75).abs() < 1e-14 && (r.phi[1] - 12.0).abs() < 1e-14);
    }
}
