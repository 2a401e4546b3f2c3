//! A sixth indicator, written outside the crate as a user would: how to add
//! one (see docs/indicators.md, "Adding an indicator").
//!
//! Participation: the expected number of agents heard at least once, when
//! each unit of activity is heard with a Poisson rate of one,
//!
//! ```text
//! P = sum_i (1 - exp(-S_i)),    S_i = sum_t alpha[i,t] a[i,t].
//! ```
//!
//! Each agent's term is a function of a weighted sum of its own gates, so
//! the Aumann–Shapley value of gate (i, t) has a closed form,
//! phi[i,t] = a[i,t] / S_i (1 - exp(-S_i)), which the run below checks,
//! along with the gradient (against finite differences) and completeness.
//!
//! Run it with `cargo run --release -p aumann-models --example participation`.

use aumann_engine::gradcheck::check_gradient;
use aumann_engine::{AumannShapley, GradientSink, Path, PathSweep, SweepGame};
use aumann_models::{Activity, Population, Replay};

/// The indicator over a replay: it reads only each gate's activity and
/// agent, so it needs no workspace.
pub struct Participation<'a> {
    pub replay: &'a Replay,
    /// Per gate: the replay agent's index and the activity.
    gates: Vec<(usize, f64)>,
}

impl<'a> Participation<'a> {
    pub fn new(replay: &'a Replay) -> Self {
        let gates = replay
            .gate_ids()
            .map(|g| (replay.gate_replay_agent(g).index(), replay.gate_activity(g)))
            .collect();
        Self { replay, gates }
    }
}

impl PathSweep for Participation<'_> {
    fn players(&self) -> usize {
        self.gates.len()
    }

    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        let k = taus.len();
        // Forward: S_i at every node (agents x k).
        let mut sums = vec![0.0; self.replay.agents() * k];
        for (g, &(agent, a)) in self.gates.iter().enumerate() {
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
        // Reverse: dP/dalpha[i,t] = a[i,t] exp(-S_i), handed to the sink
        // gate by gate.
        let Some(sink) = gradient else { return };
        let mut grad = vec![0.0; k];
        for (g, &(agent, a)) in self.gates.iter().enumerate() {
            for m in 0..k {
                grad[m] = a * (-sums[agent * k + m]).exp();
            }
            sink.add(g, &grad);
        }
    }
}

/// A small population: agent i posts i+1 times at each of two steps, some
/// twice at one step.
pub fn population() -> Population {
    let agents = 6;
    let mut activity = Vec::new();
    for i in 0..agents as u32 {
        for t in 0..2 {
            activity.push(Activity {
                agent: i,
                step: t,
                amount: 0.2 * (i + 1) as f64 + 0.1 * t as f64,
            });
        }
    }
    activity.push(Activity {
        agent: 2,
        step: 1,
        amount: 0.5,
    });
    Population {
        agents,
        steps: 2,
        stance: vec![0.5; agents],
        followers: vec![1.0; agents],
        follows: vec![(0, 1), (2, 1), (3, 4)],
        activity,
        engagements: vec![],
        orders: vec![],
        ..Default::default()
    }
}

/// Checks the gradient, the closed form and completeness; returns the
/// largest error against the closed form.
pub fn check() -> f64 {
    let population = population();
    let replay = Replay::new(&population).expect("a valid population");
    let model = SweepGame(Participation::new(&replay));
    let players = replay.players();

    let interior: Vec<f64> = (0..players).map(|g| 0.2 + 0.6 * (g as f64 / players as f64)).collect();
    let gradient = check_gradient(&model, &interior, None, 1e-6, 1e-6, 1e-9, Some((0.0, 1.0)));
    assert!(gradient.passed(), "{gradient:?}");

    let result = AumannShapley::default()
        .attribute(&model, &vec![1.0; players], &vec![0.0; players])
        .expect("attribution");
    assert!(result.relative_gap() < 1e-6);

    // The closed form, from the population's own rows.
    let mut totals = vec![0.0; population.agents];
    for a in &population.activity {
        totals[a.agent as usize] += a.amount;
    }
    let mut worst = 0.0f64;
    for g in replay.gate_ids() {
        let agent = replay.gate_agent(g) as usize;
        let step = replay.gate_step(g);
        let a: f64 = population
            .activity
            .iter()
            .filter(|r| r.agent as usize == agent && r.step == step)
            .map(|r| r.amount)
            .sum();
        let s = totals[agent];
        let expected = a / s * (1.0 - (-s).exp());
        worst = worst.max((result.phi[g.index()] - expected).abs());
    }
    worst
}

#[allow(dead_code)]
fn main() {
    let worst = check();
    println!("participation: gradient checked, largest error against the closed form {worst:.1e}");
    assert!(worst < 1e-9);
}
