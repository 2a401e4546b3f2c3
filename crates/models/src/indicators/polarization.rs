//! Polarization under biased assimilation (Dandekar, Goel & Lee, PNAS 2013).

use super::Indicator;
use super::declaration::{Bounds, Declaration, Parameter};
use super::diffusion::Dynamics;
use super::sweep::AgentSums;
use crate::replay::Replay;
use serde::Serialize;

/// b_j(0) = s_j; with R_j = sum e b_i and L_j = sum e (1 - b_i) over j's
/// followees that posted,
/// b_j(t+1) = (kappa b_j + b_j R_j) / (kappa + b_j R_j + (1 - b_j) L_j);
/// P = (4/N) sum_j (b_j(T) - mean b(T))^2, which is 1 when the population
/// splits evenly at 0 and 1.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct PolarizationParams {
    /// Weight of an agent's own opinion against what it reads.
    pub kappa: f64,
}

default_from_declaration!(PolarizationParams, Polarization);

pub(super) const DECLARATION: Declaration = Declaration {
    name: "polarization",
    summary: "the spread of opinions after the window, 1 when the population splits evenly at 0 and 1",
    section: "Polarization (biased assimilation; Dandekar, Goel & Lee, PNAS 2013)",
    parameters: &[Parameter {
        name: "kappa",
        symbol: "κ",
        help: "the inertia of a stance against what it reads (larger moves stances less)",
        unit: "posts read",
        default: Some(10.0),
        when_absent: "",
        bounds: Bounds::Positive,
    }],
    make: |v| {
        Indicator::Polarization(PolarizationParams {
            kappa: v[0].expect("kappa has a default"),
        })
    },
    values: |i| match i {
        Indicator::Polarization(p) => vec![Some(p.kappa)],
        _ => unreachable!("polarization's values"),
    },
};

/// The dynamics of [`PolarizationParams`], swept by the diffusion driver.
pub(crate) struct Polarization {
    pub(crate) params: PolarizationParams,
}

impl Dynamics for Polarization {
    fn initial(&self, replay: &Replay, agent: usize) -> f64 {
        replay.stance[agent]
    }

    #[inline]
    fn next(&self, b: f64, a: f64, r: f64) -> f64 {
        // L = A - R: the posts read, less those that agree.
        let l = a - r;
        let kappa = self.params.kappa;
        b * (kappa + r) / (kappa + b * r + (1.0 - b) * l)
    }

    #[inline]
    fn partials(&self, b: f64, a: f64, r: f64) -> (f64, f64, f64) {
        let kappa = self.params.kappa;
        let l = a - r;
        let num = b * (kappa + r);
        let den = kappa + b * r + (1.0 - b) * l;
        let den2 = den * den;
        // d den / db = R - L; d den / dR = 2b - 1 (through L = A - R); d den / dA = 1 - b.
        let db = ((kappa + r) * den - num * (r - l)) / den2;
        let dr = (b * den - num * (2.0 * b - 1.0)) / den2;
        let da = -num * (1.0 - b) / den2;
        (db, da, dr)
    }

    fn indicator(&self, finals: &[f64], k: usize, values: &mut [f64], over: &dyn AgentSums) {
        let n = over.agents() as f64;
        let sums = over.node_sums(finals, k, &|row, sums| {
            for m in 0..k {
                sums[m] += row[m];
            }
        });
        let mean: Vec<f64> = sums.iter().map(|s| s / n).collect();
        let squares = over.node_sums(finals, k, &|row, sums| {
            for m in 0..k {
                let d = row[m] - mean[m];
                sums[m] += d * d;
            }
        });
        for m in 0..k {
            values[m] = 4.0 * squares[m] / n;
        }
    }

    fn indicator_gradient(&self, finals: &[f64], k: usize, adjoint: &mut [f64], over: &dyn AgentSums) {
        let n = over.agents() as f64;
        let sums = over.node_sums(finals, k, &|row, sums| {
            for m in 0..k {
                sums[m] += row[m];
            }
        });
        // The deviations sum to zero, so the mean's own derivative drops out.
        for (adj, row) in adjoint.chunks_exact_mut(k).zip(finals.chunks_exact(k)) {
            for m in 0..k {
                adj[m] = 8.0 / n * (row[m] - sums[m] / n);
            }
        }
    }
}
