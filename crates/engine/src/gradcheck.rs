//! Gradient checks against central finite differences, for every model's tests.

use crate::game::{NodeWeights, Path, ValueFunction};

/// The worst disagreement between an analytic gradient and central
/// differences over the checked coordinates.
#[derive(Clone, Debug)]
pub struct GradientCheck {
    pub checked: usize,
    pub worst_index: usize,
    pub analytic: f64,
    pub numeric: f64,
    /// |analytic - numeric| / (atol + rtol |numeric|) at the worst index:
    /// at most 1 passes.
    pub worst_ratio: f64,
}

impl GradientCheck {
    pub fn passed(&self) -> bool {
        self.worst_ratio <= 1.0
    }
}

/// Compares `value_and_gradient` at `x` with central differences
/// (F(x + h e_i) - F(x - h e_i)) / 2h for the given coordinates (all when
/// `indices` is None). `h` is scaled by max(1, |x_i|). Coordinates that sit
/// on a domain edge (gates in [0, 1], say) can be kept inside by `clamp`,
/// which turns the difference one-sided-safe: the step is shrunk so that
/// x_i +- h stays within [lo, hi].
pub fn check_gradient<G: ValueFunction + ?Sized>(
    game: &G,
    x: &[f64],
    indices: Option<&[usize]>,
    h: f64,
    rtol: f64,
    atol: f64,
    clamp: Option<(f64, f64)>,
) -> GradientCheck {
    let n = game.players();
    assert_eq!(x.len(), n);
    let mut gradient = vec![0.0; n];
    game.value_and_gradient(x, &mut gradient);
    let all: Vec<usize>;
    let indices = match indices {
        Some(ix) => ix,
        None => {
            all = (0..n).collect();
            &all
        }
    };
    let mut point = x.to_vec();
    let mut worst = GradientCheck {
        checked: 0,
        worst_index: 0,
        analytic: 0.0,
        numeric: 0.0,
        worst_ratio: 0.0,
    };
    for &i in indices {
        let mut step = h * x[i].abs().max(1.0);
        if let Some((lo, hi)) = clamp {
            step = step.min(x[i] - lo).min(hi - x[i]);
            assert!(step > 0.0, "coordinate {i} = {} sits on the clamp edge", x[i]);
        }
        point[i] = x[i] + step;
        let plus = game.value(&point);
        point[i] = x[i] - step;
        let minus = game.value(&point);
        point[i] = x[i];
        let numeric = (plus - minus) / (2.0 * step);
        let ratio = (gradient[i] - numeric).abs() / (atol + rtol * numeric.abs());
        worst.checked += 1;
        if ratio > worst.worst_ratio || ratio.is_nan() {
            worst = GradientCheck {
                checked: worst.checked,
                worst_index: i,
                analytic: gradient[i],
                numeric,
                worst_ratio: if ratio.is_nan() { f64::INFINITY } else { ratio },
            };
        }
    }
    worst
}

/// Checks a game's batched path sweep against single-point gradients at the
/// same nodes (values at every node, and both accumulator rows under
/// arbitrary weights). Returns the largest disagreement found, relative to
/// the largest value or accumulated gradient; callers compare it with
/// their tolerance.
pub fn check_path_batch<G: ValueFunction + ?Sized>(game: &G, baseline: &[f64], input: &[f64], taus: &[f64]) -> f64 {
    let n = game.players();
    let k = taus.len();
    let weights: Vec<f64> = (0..2 * k).map(|j| 0.5 + 0.25 * (j as f64).sin()).collect();
    let path = Path { baseline, input };
    let mut values = vec![0.0; k];
    let mut accumulator = vec![0.0; 2 * n];
    game.accumulate_path_gradients(
        path,
        taus,
        NodeWeights::new(2, k, &weights),
        &mut values,
        &mut accumulator,
    );

    let mut expected_values = vec![0.0; k];
    let mut expected = vec![0.0; 2 * n];
    let mut point = vec![0.0; n];
    let mut gradient = vec![0.0; n];
    for (m, &tau) in taus.iter().enumerate() {
        path.point_into(tau, &mut point);
        expected_values[m] = game.value_and_gradient(&point, &mut gradient);
        for r in 0..2 {
            for i in 0..n {
                expected[r * n + i] += weights[r * k + m] * gradient[i];
            }
        }
    }
    let scale = |v: &[f64]| v.iter().fold(1e-300f64, |m, x| m.max(x.abs()));
    let value_scale = scale(&expected_values);
    let gradient_scale = scale(&expected);
    let value_err = values
        .iter()
        .zip(&expected_values)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs() / value_scale));
    let gradient_err = accumulator
        .iter()
        .zip(&expected)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs() / gradient_scale));
    value_err.max(gradient_err)
}
