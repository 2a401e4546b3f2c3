//! The linear control: activity weighted by follower count.

use super::Indicator;
use super::declaration::Declaration;
use super::sweep::gate_at_nodes;
use crate::replay::Replay;
use aumann_engine::{GradientSink, Path, PathSweep};

/// Lin = sum over t and i of alpha[i,t] a[i,t] w_i. Separable and linear:
/// Aumann–Shapley equals Shapley exactly, phi[i,t] = a[i,t] w_i, and any
/// sub-population's attribution is the full one restricted. The control for
/// the scaling study.
pub(super) const DECLARATION: Declaration = Declaration {
    name: "linear",
    summary: "activity weighted by follower count: the control whose attribution is known exactly",
    section: "Linear control",
    parameters: &[],
    make: |_| Indicator::Linear,
    values: |_| Vec::new(),
};

pub struct LinearControl<'a> {
    pub replay: &'a Replay,
}

impl PathSweep for LinearControl<'_> {
    fn players(&self) -> usize {
        self.replay.players()
    }

    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        let k = taus.len();
        let replay = self.replay;
        let mut alpha = vec![0.0; k];
        values.fill(0.0);
        let players = replay.players();
        let mut gradient = gradient;
        let mut grad = vec![0.0; k];
        for g in 0..players {
            let weight = replay.activity[g] * replay.followers[replay.gates.agent(g) as usize];
            if weight == 0.0 {
                continue;
            }
            gate_at_nodes(&path, g, taus, &mut alpha);
            for m in 0..k {
                values[m] += alpha[m] * weight;
            }
            if let Some(sink) = gradient.as_mut() {
                grad.fill(weight);
                sink.add(g, &grad);
            }
        }
    }
}
