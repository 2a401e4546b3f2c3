//! One step's senders: the agents that posted, and where to find them.

use super::Gates;

/// Marks an agent that did not post at the step.
pub const SILENT: u32 = u32::MAX;

/// For one step: the gates with activity (the senders), and a dense map from
/// agent to its position among them. Only senders transmit anything, so the
/// sweeps gather the senders' states into a compact array and each receiver's
/// pull over its followees does k-wide work only for those that posted. A
/// dense map costs 4 bytes per agent and step; per-step edge lists would cost
/// 4 to 8 bytes per active edge and step, several GB at the target scale.
#[derive(Clone, Debug)]
pub struct StepGraph {
    senders: Vec<u32>,
    position: Vec<u32>,
}

impl StepGraph {
    pub fn build(agents: usize, gates: &Gates, activity: &[f64], step: usize) -> Self {
        let senders: Vec<u32> = gates
            .range(step)
            .filter(|&g| activity[g] > 0.0)
            .map(|g| g as u32)
            .collect();
        let mut position = vec![SILENT; agents];
        for (p, &g) in senders.iter().enumerate() {
            position[gates.agent(g as usize) as usize] = p as u32;
        }
        Self { senders, position }
    }

    /// Gates of this step with activity > 0, in id order (so by agent).
    pub fn senders(&self) -> &[u32] {
        &self.senders
    }

    /// The agent's index among this step's senders, or [`SILENT`].
    #[inline]
    pub fn position(&self, agent: u32) -> u32 {
        self.position[agent as usize]
    }

    pub fn memory_bytes(&self) -> usize {
        self.position.len() * 4 + self.senders.len() * 4
    }
}
