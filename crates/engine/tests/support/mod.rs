//! Random differentiable games for the engine's property tests.
#![allow(dead_code)]

use aumann_engine::ValueFunction;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// F(x) = sum_k a_k tanh(w_k . x + b_k) + x^T Q x / 2 + c . x: smooth,
/// nonlinear, with interactions between every pair of players.
#[derive(Clone, Debug)]
pub struct Network {
    pub n: usize,
    pub w: Vec<Vec<f64>>,
    pub b: Vec<f64>,
    pub a: Vec<f64>,
    pub q: Vec<Vec<f64>>,
    pub c: Vec<f64>,
}

impl Network {
    pub fn random(n: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let hidden = 4;
        let mut u = |scale: f64| scale * (2.0 * rng.random::<f64>() - 1.0);
        let w = (0..hidden).map(|_| (0..n).map(|_| u(1.0)).collect()).collect();
        let b = (0..hidden).map(|_| u(0.5)).collect();
        let a = (0..hidden).map(|_| u(2.0)).collect();
        let mut q = vec![vec![0.0; n]; n];
        for i in 0..n {
            for j in 0..=i {
                let v = u(0.3);
                q[i][j] = v;
                q[j][i] = v;
            }
        }
        let c = (0..n).map(|_| u(1.0)).collect();
        Self { n, w, b, a, q, c }
    }

    /// Makes player `j` a copy of player `i` (same role in every term).
    pub fn symmetrize(&mut self, i: usize, j: usize) {
        for row in &mut self.w {
            row[j] = row[i];
        }
        for m in 0..self.n {
            if m != i && m != j {
                let v = self.q[i][m];
                self.q[j][m] = v;
                self.q[m][j] = v;
            }
        }
        self.q[j][j] = self.q[i][i];
        self.c[j] = self.c[i];
    }

    /// Makes player `i` a null player: F does not depend on x_i.
    pub fn silence(&mut self, i: usize) {
        for row in &mut self.w {
            row[i] = 0.0;
        }
        for m in 0..self.n {
            self.q[i][m] = 0.0;
            self.q[m][i] = 0.0;
        }
        self.c[i] = 0.0;
    }
}

impl ValueFunction for Network {
    fn players(&self) -> usize {
        self.n
    }
    fn value(&self, x: &[f64]) -> f64 {
        let mut v = 0.0;
        for k in 0..self.a.len() {
            let z: f64 = self.w[k].iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.b[k];
            v += self.a[k] * z.tanh();
        }
        for i in 0..self.n {
            v += self.c[i] * x[i];
            for j in 0..self.n {
                v += 0.5 * x[i] * self.q[i][j] * x[j];
            }
        }
        v
    }
    fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g.copy_from_slice(&self.c);
        for k in 0..self.a.len() {
            let z: f64 = self.w[k].iter().zip(x).map(|(w, x)| w * x).sum::<f64>() + self.b[k];
            let d = self.a[k] * (1.0 - z.tanh().powi(2));
            for i in 0..self.n {
                g[i] += d * self.w[k][i];
            }
        }
        for i in 0..self.n {
            for j in 0..self.n {
                g[i] += self.q[i][j] * x[j];
            }
        }
        self.value(x)
    }
}

/// F + G.
pub struct Sum<A, B>(pub A, pub B);

impl<A: ValueFunction, B: ValueFunction> ValueFunction for Sum<A, B> {
    fn players(&self) -> usize {
        self.0.players()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.0.value(x) + self.1.value(x)
    }
    fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
        let mut h = vec![0.0; g.len()];
        let v = self.0.value_and_gradient(x, g) + self.1.value_and_gradient(x, &mut h);
        for (g, h) in g.iter_mut().zip(h) {
            *g += h;
        }
        v
    }
}

/// A homogeneous polynomial of degree k: a sum of monomials c * x_a x_b ... (k factors).
#[derive(Clone, Debug)]
pub struct Homogeneous {
    pub n: usize,
    pub terms: Vec<(f64, Vec<usize>)>,
}

impl Homogeneous {
    pub fn random(n: usize, degree: usize, terms: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let terms = (0..terms)
            .map(|_| {
                let c = 2.0 * rng.random::<f64>() - 1.0;
                (c, (0..degree).map(|_| rng.random_range(0..n)).collect())
            })
            .collect();
        Self { n, terms }
    }
}

impl ValueFunction for Homogeneous {
    fn players(&self) -> usize {
        self.n
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.terms
            .iter()
            .map(|(c, f)| c * f.iter().map(|&i| x[i]).product::<f64>())
            .sum()
    }
    fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g.fill(0.0);
        for (c, factors) in &self.terms {
            for skip in 0..factors.len() {
                let rest: f64 = factors
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != skip)
                    .map(|(_, &i)| x[i])
                    .product();
                g[factors[skip]] += c * rest;
            }
        }
        self.value(x)
    }
}

pub fn random_point(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..n).map(|_| lo + (hi - lo) * rng.random::<f64>()).collect()
}

pub fn assert_close(a: &[f64], b: &[f64], atol: f64, rtol: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= atol + rtol * y.abs(),
            "{what}: player {i}: {x} vs {y} (diff {:e})",
            (x - y).abs()
        );
    }
}
