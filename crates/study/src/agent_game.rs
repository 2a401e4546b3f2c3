//! An indicator as a game of agents rather than gates: one input per agent
//! that opens or closes all of its gates together.

use aumann_engine::ValueFunction;
use aumann_models::Replay;

/// v(x) = F(gates), with every gate of agent a set to x_a. On 0/1 inputs this
/// is the coalitional game "these agents act, the others stay silent" that
/// permutation Shapley samples.
pub struct AgentGame<'a> {
    model: &'a dyn ValueFunction,
    /// gate -> agent (original ids of the replay).
    agent_of_gate: Vec<u32>,
    agents: usize,
}

impl<'a> AgentGame<'a> {
    pub fn new(replay: &Replay, model: &'a dyn ValueFunction) -> Self {
        let agent_of_gate = replay.gate_ids().map(|g| replay.gate_agent(g)).collect();
        Self {
            model,
            agent_of_gate,
            agents: replay.agents(),
        }
    }

    fn gates(&self, x: &[f64]) -> Vec<f64> {
        self.agent_of_gate.iter().map(|&a| x[a as usize]).collect()
    }
}

impl ValueFunction for AgentGame<'_> {
    fn players(&self) -> usize {
        self.agents
    }

    fn value(&self, x: &[f64]) -> f64 {
        self.model.value(&self.gates(x))
    }

    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let gates = self.gates(x);
        let mut per_gate = vec![0.0; gates.len()];
        let v = self.model.value_and_gradient(&gates, &mut per_gate);
        gradient.fill(0.0);
        for (&a, g) in self.agent_of_gate.iter().zip(per_gate) {
            gradient[a as usize] += g;
        }
        v
    }
}
