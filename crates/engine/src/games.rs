//! Reference games with known attributions: closed forms for tests,
//! examples and benchmarks.

use crate::game::ValueFunction;

/// F(x) = sum_i w_i x_i. Aumann–Shapley and Shapley both give w_i (x_i - x'_i).
#[derive(Clone, Debug)]
pub struct Linear {
    pub weights: Vec<f64>,
}

impl Linear {
    pub fn new(weights: Vec<f64>) -> Self {
        Self { weights }
    }
}

impl ValueFunction for Linear {
    fn players(&self) -> usize {
        self.weights.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.weights.iter().zip(x).map(|(w, x)| w * x).sum()
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        gradient.copy_from_slice(&self.weights);
        self.value(x)
    }
}

/// F(x) = f(sum_i w_i x_i) for a differentiable f. With baseline 0,
/// phi_i = w_i x_i / (sum_j w_j x_j) * (f(sum w x) - f(0)).
pub struct ComposedLinear<F, D> {
    pub weights: Vec<f64>,
    pub f: F,
    pub derivative: D,
}

impl<F, D> ComposedLinear<F, D>
where
    F: Fn(f64) -> f64 + Sync,
    D: Fn(f64) -> f64 + Sync,
{
    pub fn new(weights: Vec<f64>, f: F, derivative: D) -> Self {
        Self { weights, f, derivative }
    }

    fn inner(&self, x: &[f64]) -> f64 {
        self.weights.iter().zip(x).map(|(w, x)| w * x).sum()
    }
}

impl<F, D> ValueFunction for ComposedLinear<F, D>
where
    F: Fn(f64) -> f64 + Sync,
    D: Fn(f64) -> f64 + Sync,
{
    fn players(&self) -> usize {
        self.weights.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        (self.f)(self.inner(x))
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let s = self.inner(x);
        let d = (self.derivative)(s);
        for (g, w) in gradient.iter_mut().zip(&self.weights) {
            *g = w * d;
        }
        (self.f)(s)
    }
}

/// The glove game on 0/1 participation: v(S) = min(left gloves in S, right
/// gloves in S). Extended to real inputs as min(sum of left inputs, sum of
/// right inputs), whose (sub)gradient is what path methods see.
#[derive(Clone, Debug)]
pub struct Glove {
    pub left: Vec<bool>,
}

impl ValueFunction for Glove {
    fn players(&self) -> usize {
        self.left.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        let (l, r) = self.sides(x);
        l.min(r)
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let (l, r) = self.sides(x);
        for (g, &left) in gradient.iter_mut().zip(&self.left) {
            *g = if (l < r) == left || l == r {
                if l == r { 0.5 } else { 1.0 }
            } else {
                0.0
            };
        }
        l.min(r)
    }
}

impl Glove {
    fn sides(&self, x: &[f64]) -> (f64, f64) {
        let mut l = 0.0;
        let mut r = 0.0;
        for (&v, &left) in x.iter().zip(&self.left) {
            if left { l += v } else { r += v }
        }
        (l, r)
    }
}

/// A weighted majority (voting) game on 0/1 participation: v(S) = 1 when the
/// members' weights reach the quota. A step function: its gradient is zero
/// almost everywhere, so it is a game for coalition methods only.
#[derive(Clone, Debug)]
pub struct WeightedMajority {
    pub quota: f64,
    pub weights: Vec<f64>,
}

impl ValueFunction for WeightedMajority {
    fn players(&self) -> usize {
        self.weights.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        let s: f64 = self.weights.iter().zip(x).map(|(w, x)| w * x).sum();
        if s >= self.quota { 1.0 } else { 0.0 }
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        gradient.fill(0.0);
        self.value(x)
    }
}
