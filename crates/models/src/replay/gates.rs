//! The gates: one per (agent, step) pair that did anything.

use crate::slots::{filled, split_rows};
use rayon::prelude::*;

/// Gates sorted by (step, agent), stored step-major: the gates of step t are
/// the contiguous ids `range(t)`, sorted by agent.
#[derive(Clone, Debug)]
pub(crate) struct Gates {
    step_offsets: Vec<u32>,
    agent: Vec<u32>,
}

impl Gates {
    /// Builds the gates from (step, agent) keys, duplicates allowed, and
    /// returns them with their dense lookup table: `index[step * agents +
    /// agent]` is the gate, u32::MAX where there is none (4 bytes per agent
    /// and step, for bulk lookups while a replay is built).
    ///
    /// The keys are marked in the table rather than sorted: at full scale
    /// they are some 30 million (an engagement names two), and a pass of
    /// random writes into the table, then a scan of it per step in
    /// parallel, costs a fraction of a comparison sort.
    pub(crate) fn with_index(keys: impl Iterator<Item = (u32, u32)>, steps: usize, agents: usize) -> (Self, Vec<u32>) {
        // Below u32::MAX (no gate) and above every gate id: `check_size`
        // keeps agents x steps under it.
        const MARK: u32 = u32::MAX - 1;
        let mut index = filled(agents * steps, u32::MAX);
        for (t, a) in keys {
            index[t as usize * agents + a as usize] = MARK;
        }
        let counts: Vec<u32> = index
            .par_chunks(agents.max(1))
            .map(|row| row.iter().filter(|&&g| g == MARK).count() as u32)
            .collect();
        let mut step_offsets = vec![0u32; steps + 1];
        for t in 0..steps {
            step_offsets[t + 1] = step_offsets[t] + counts[t];
        }
        let mut agent = vec![0u32; step_offsets[steps] as usize];
        let rows = split_rows(&mut agent, counts.iter().map(|&c| c as usize));
        index
            .par_chunks_mut(agents.max(1))
            .zip(rows)
            .zip(&step_offsets)
            .for_each(|((row, gate_agents), &first)| {
                let mut next = 0;
                for (a, g) in row.iter_mut().enumerate() {
                    if *g == MARK {
                        *g = first + next as u32;
                        gate_agents[next] = a as u32;
                        next += 1;
                    }
                }
            });
        (Self { step_offsets, agent }, index)
    }

    pub(crate) fn len(&self) -> usize {
        self.agent.len()
    }

    pub(crate) fn steps(&self) -> usize {
        self.step_offsets.len() - 1
    }

    /// Gate ids of step t.
    pub(crate) fn range(&self, step: usize) -> std::ops::Range<usize> {
        self.step_offsets[step] as usize..self.step_offsets[step + 1] as usize
    }

    pub(crate) fn agent(&self, gate: usize) -> u32 {
        self.agent[gate]
    }

    /// The agents of step t's gates, ascending.
    pub(crate) fn step_agents(&self, step: usize) -> &[u32] {
        &self.agent[self.range(step)]
    }

    pub(crate) fn step(&self, gate: usize) -> u32 {
        (self.step_offsets.partition_point(|&o| o as usize <= gate) - 1) as u32
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.agent.len() * 4 + self.step_offsets.len() * 4
    }
}
