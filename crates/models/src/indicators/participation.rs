//! Participation: the expected number of agents heard at least once.

use super::Indicator;
use super::declaration::{Declaration, Parameter};
use crate::replay::Replay;
use aumann_engine::{GradientSink, Path, PathSweep};

/// S_i = sum_t alpha[i,t] a[i,t]; P = sum_i (1 - exp(-S_i)): each unit of
/// an agent's activity is heard with a Poisson rate of one. Each agent's
/// term reads only its own gates, so the Aumann–Shapley value has a closed
/// form, phi[i,t] = a[i,t] / S_i (1 - exp(-S_i)) on the path from silence.
pub(super) const DECLARATION: Declaration = Declaration {
    name: "participation",
    summary: "the expected number of agents heard at least once",
    section: "Participation",
    parameters: &[] as &[Parameter],
    make: |_| Indicator::Participation,
    values: |_| Vec::new(),
};

pub struct Participation<'a> {
    pub replay: &'a Replay,
}

impl Participation<'_> {
    /// Why it is the same at every gate setting, when it is.
    pub(super) fn proven_flat(replay: &Replay) -> Option<String> {
        replay
            .activity
            .iter()
            .all(|&a| a == 0.0)
            .then(|| "no activity in this population".to_string())
    }
}

impl PathSweep for Participation<'_> {
    fn players(&self) -> usize {
        self.replay.players()
    }

    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        let (replay, k) = (self.replay, taus.len());
        // Forward: S_i at every node (agents x k), gates in order.
        let mut sums = vec![0.0; replay.agents() * k];
        for g in 0..replay.players() {
            let a = replay.activity[g];
            if a == 0.0 {
                continue;
            }
            let agent = replay.gates.agent(g) as usize;
            let (b, x) = (path.baseline[g], path.input[g]);
            for (m, &t) in taus.iter().enumerate() {
                sums[agent * k + m] += (b + t * (x - b)) * a;
            }
        }
        values.fill(0.0);
        for row in sums.chunks_exact(k) {
            for m in 0..k {
                values[m] += 1.0 - (-row[m]).exp();
            }
        }
        // Reverse: dP/dalpha[i,t] = a[i,t] exp(-S_i).
        let Some(sink) = gradient else { return };
        let mut grad = vec![0.0; k];
        for g in 0..replay.players() {
            let a = replay.activity[g];
            if a == 0.0 {
                continue;
            }
            let agent = replay.gates.agent(g) as usize;
            for m in 0..k {
                grad[m] = a * (-sums[agent * k + m]).exp();
            }
            sink.add(g, &grad);
        }
    }
}
