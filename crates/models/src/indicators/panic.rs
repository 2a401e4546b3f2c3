//! Market panic: EWMA volatility of a price driven by order flow.

use super::Indicator;
use super::declaration::{Bounds, Declaration, Parameter};
use super::sweep::gate_at_nodes;
use crate::replay::Replay;
use aumann_engine::{GradientSink, Path, PathSweep};
use serde::Serialize;

/// r_t = -tanh(lambda sum_i alpha[i,t] u[i,t] / D);
/// h(t+1) = 0.94 h(t) + 0.06 r_t^2, h(0) = 1e-4; V = h(T), the
/// RiskMetrics variance after the window.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct PanicParams {
    /// Price impact of net selling per unit of depth.
    pub lambda: f64,
    /// Market depth D; None means the number of agents with any nonzero order.
    pub depth: Option<f64>,
}

default_from_declaration!(PanicParams, Panic);

pub(super) const DECLARATION: Declaration = Declaration {
    name: "panic",
    summary: "the variance of a price driven by the agents' order flow after the window (EWMA volatility)",
    section: "Market panic (EWMA volatility)",
    parameters: &[
        Parameter {
            name: "lambda",
            symbol: "λ",
            help: "the price impact of net selling per unit of depth",
            unit: "per unit of order flow",
            default: Some(1.0),
            when_absent: "",
            bounds: Bounds::NonNegative,
        },
        Parameter {
            name: "depth",
            symbol: "D",
            help: "the market depth",
            unit: "orders",
            default: None,
            when_absent: "the number of agents that traded",
            bounds: Bounds::Positive,
        },
    ],
    make: |v| {
        Indicator::Panic(PanicParams {
            lambda: v[0].expect("lambda has a default"),
            depth: v[1],
        })
    },
    values: |i| match i {
        Indicator::Panic(p) => vec![Some(p.lambda), p.depth],
        _ => unreachable!("panic's values"),
    },
};

const DECAY: f64 = 0.94;
const INITIAL_VARIANCE: f64 = 1e-4;

pub struct Panic<'a> {
    pub replay: &'a Replay,
    pub params: PanicParams,
}

impl Panic<'_> {
    pub fn depth(&self) -> f64 {
        self.params.depth.unwrap_or(self.replay.traders().max(1) as f64)
    }
}

impl PathSweep for Panic<'_> {
    fn players(&self) -> usize {
        self.replay.players()
    }

    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        let k = taus.len();
        let steps = self.replay.steps();
        let scale = self.params.lambda / self.depth();
        let mut alpha = vec![0.0; k];
        // z[t*k + m]: the scaled net flow of step t at node m.
        let mut z = vec![0.0; steps * k];
        for t in 0..steps {
            for g in self.replay.gates.range(t) {
                let u = self.replay.orders[g];
                if u != 0.0 {
                    gate_at_nodes(&path, g, taus, &mut alpha);
                    for m in 0..k {
                        z[t * k + m] += scale * alpha[m] * u;
                    }
                }
            }
        }
        for m in 0..k {
            let mut h = INITIAL_VARIANCE;
            for t in 0..steps {
                h = DECAY * h + (1.0 - DECAY) * z[t * k + m].tanh().powi(2);
            }
            values[m] = h;
        }
        let Some(sink) = gradient else { return };
        let mut grad = vec![0.0; k];
        for t in 0..steps {
            // dV/dz_t = 0.94^(T-1-t) 0.06 d(tanh^2 z)/dz.
            let carry = DECAY.powi((steps - 1 - t) as i32) * (1.0 - DECAY);
            let dz: Vec<f64> = (0..k)
                .map(|m| {
                    let th = z[t * k + m].tanh();
                    carry * 2.0 * th * (1.0 - th * th)
                })
                .collect();
            for g in self.replay.gates.range(t) {
                let u = self.replay.orders[g];
                if u != 0.0 {
                    for m in 0..k {
                        grad[m] = dz[m] * scale * u;
                    }
                    sink.add(g, &grad);
                }
            }
        }
    }
}
