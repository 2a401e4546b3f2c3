//! The gates: one per (agent, step) pair that did anything.

/// Gates sorted by (step, agent), stored step-major: the gates of step t are
/// the contiguous ids `range(t)`, sorted by agent.
#[derive(Clone, Debug)]
pub(crate) struct Gates {
    step_offsets: Vec<u32>,
    agent: Vec<u32>,
}

impl Gates {
    /// Builds the gates from (step, agent) keys, duplicates allowed.
    pub(crate) fn from_keys(mut keys: Vec<(u32, u32)>, steps: usize) -> Self {
        keys.sort_unstable();
        keys.dedup();
        let mut step_offsets = vec![0u32; steps + 1];
        for &(t, _) in &keys {
            step_offsets[t as usize + 1] += 1;
        }
        for t in 0..steps {
            step_offsets[t + 1] += step_offsets[t];
        }
        Self {
            step_offsets,
            agent: keys.into_iter().map(|(_, a)| a).collect(),
        }
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

    pub(crate) fn step(&self, gate: usize) -> u32 {
        (self.step_offsets.partition_point(|&o| o as usize <= gate) - 1) as u32
    }

    /// A dense (step, agent) -> gate table for bulk lookups while a replay
    /// is built: `table[step * agents + agent]`, u32::MAX where there is no
    /// gate. 4 bytes per agent and step, dropped after the build.
    pub(crate) fn dense_index(&self, agents: usize) -> Vec<u32> {
        let mut table = vec![u32::MAX; agents * self.steps()];
        for t in 0..self.steps() {
            for g in self.range(t) {
                table[t * agents + self.agent[g] as usize] = g as u32;
            }
        }
        table
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.agent.len() * 4 + self.step_offsets.len() * 4
    }
}
