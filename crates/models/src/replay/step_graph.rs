//! The follow graph restricted to one step's senders.

use super::Gates;
use crate::graph::FollowGraph;

/// For one step: each agent's followees that posted at that step, with the
/// gate of that post. Only active senders transmit anything, so the sweeps
/// read these rows rather than the whole graph: the edge count is the sum of
/// the active senders' follower counts, not all edges.
#[derive(Clone, Debug)]
pub struct StepGraph {
    /// offsets[j]..offsets[j+1] index `sender` and `gate` for receiver j.
    offsets: Vec<u64>,
    sender: Vec<u32>,
    gate: Vec<u32>,
    /// Gates of this step with activity > 0, in id order.
    senders: Vec<u32>,
}

impl StepGraph {
    pub fn build(graph: &FollowGraph, gates: &Gates, activity: &[f64], step: usize) -> Self {
        let n = graph.agents();
        let senders: Vec<u32> = gates
            .range(step)
            .filter(|&g| activity[g] > 0.0)
            .map(|g| g as u32)
            .collect();
        let mut offsets = vec![0u64; n + 1];
        for &g in &senders {
            for &j in graph.followers(gates.agent(g as usize) as usize) {
                offsets[j as usize + 1] += 1;
            }
        }
        for j in 0..n {
            offsets[j + 1] += offsets[j];
        }
        let edges = offsets[n] as usize;
        let mut sender = vec![0u32; edges];
        let mut gate = vec![0u32; edges];
        let mut cursor = offsets.clone();
        // Senders are visited in gate order (sorted by agent), so each row
        // lists its senders in a fixed order: sums are reproducible.
        for &g in &senders {
            let i = gates.agent(g as usize);
            for &j in graph.followers(i as usize) {
                let c = &mut cursor[j as usize];
                sender[*c as usize] = i;
                gate[*c as usize] = g;
                *c += 1;
            }
        }
        Self {
            offsets,
            sender,
            gate,
            senders,
        }
    }

    /// (sender agents, sender gates) whose posts reach `receiver` at this step.
    #[inline]
    pub fn row(&self, receiver: usize) -> (&[u32], &[u32]) {
        let r = self.offsets[receiver] as usize..self.offsets[receiver + 1] as usize;
        (&self.sender[r.clone()], &self.gate[r])
    }

    pub fn senders(&self) -> &[u32] {
        &self.senders
    }

    pub fn edges(&self) -> usize {
        self.sender.len()
    }

    pub fn memory_bytes(&self) -> usize {
        self.offsets.len() * 8 + self.sender.len() * 8 + self.senders.len() * 4
    }
}
