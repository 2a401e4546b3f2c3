//! The expected reach of an information cascade (mean-field independent cascade).

use super::Indicator;
use super::declaration::{Bounds, Declaration, Parameter};
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

default_from_declaration!(CascadeParams, Cascade);

pub(super) const DECLARATION: Declaration = Declaration {
    name: "cascade",
    summary: "the expected number of accounts an information cascade reaches",
    section: "Cascade (mean-field independent cascade)",
    parameters: &[
        Parameter {
            name: "beta",
            symbol: "β",
            help: "the hazard per unit of content read",
            unit: "per unit of activity",
            default: Some(0.05),
            when_absent: "",
            bounds: Bounds::NonNegative,
        },
        Parameter {
            name: "cascade-c",
            symbol: "c",
            help: "the share of the hazard that any content carries; the rest (1 - c) needs a reached author",
            unit: "share",
            default: Some(0.2),
            when_absent: "",
            bounds: Bounds::Share,
        },
    ],
    make: |v| {
        Indicator::Cascade(CascadeParams {
            beta: v[0].expect("beta has a default"),
            c: v[1].expect("c has a default"),
        })
    },
    values: |i| match i {
        Indicator::Cascade(p) => vec![Some(p.beta), Some(p.c)],
        _ => unreachable!("the cascade's values"),
    },
};

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
