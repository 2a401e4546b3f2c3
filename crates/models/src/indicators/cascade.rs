//! The expected reach of an information cascade (mean-field independent cascade).

use super::diffusion::Dynamics;
use super::sweep::AgentSums;
use crate::replay::Replay;
use serde::Serialize;

/// q_j(0) = 0; h_j(t) = beta sum over j's followees i that posted of
/// e[i,t] (c + (1 - c) q_i(t)); q_j(t+1) = 1 - (1 - q_j(t)) exp(-h_j(t));
/// C = sum_j q_j(T), the expected number of accounts reached.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct CascadeParams {
    /// Transmission rate per unit of exposure.
    pub beta: f64,
    /// Exposure from a post whose author was not reached: organic posts
    /// carry the cascade too, reached authors carry it fully.
    pub c: f64,
}

impl Default for CascadeParams {
    fn default() -> Self {
        Self { beta: 0.05, c: 0.2 }
    }
}

/// The dynamics of [`CascadeParams`], swept by the diffusion driver.
pub(crate) struct Cascade {
    pub(crate) params: CascadeParams,
}

impl Dynamics for Cascade {
    fn initial(&self, _: &Replay, _: usize) -> f64 {
        0.0
    }

    #[inline]
    fn next(&self, q: f64, a: f64, b: f64) -> f64 {
        let CascadeParams { beta, c } = self.params;
        let h = beta * (c * a + (1.0 - c) * b);
        1.0 - (1.0 - q) * (-h).exp()
    }

    #[inline]
    fn partials(&self, q: f64, a: f64, b: f64) -> (f64, f64, f64) {
        let CascadeParams { beta, c } = self.params;
        let survive = (-beta * (c * a + (1.0 - c) * b)).exp();
        let dh = (1.0 - q) * survive;
        (survive, dh * beta * c, dh * beta * (1.0 - c))
    }

    fn indicator(&self, finals: &[f64], k: usize, values: &mut [f64], over: &dyn AgentSums) {
        let sums = over.node_sums(finals, k, &|row, sums| {
            for m in 0..k {
                sums[m] += row[m];
            }
        });
        values.copy_from_slice(&sums);
    }

    fn indicator_gradient(&self, _: &[f64], _: usize, adjoint: &mut [f64], _: &dyn AgentSums) {
        adjoint.fill(1.0);
    }
}
