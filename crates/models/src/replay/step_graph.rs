//! One step's senders and who reads them.

use super::Gates;
use crate::graph::FollowGraph;
use rayon::prelude::*;

/// For one step: the gates with activity (the senders), and for every
/// receiver the positions, among the senders, of the followees that posted.
///
/// Only senders transmit anything, so the sweeps gather the senders' states
/// into a compact array and each receiver pulls over its own list of
/// positions: no lookup and no work for followees that stayed silent. The
/// lists cost 4 bytes per active edge and step (about 1.5 GB at the target
/// scale of 1.7M agents, 14 steps and 40 followees per agent), against the
/// half of every scan that a dense "did it post?" map wastes.
#[derive(Clone, Debug)]
pub(crate) struct StepGraph {
    senders: Vec<u32>,
    /// offsets[j]..offsets[j+1] index `positions` for receiver j.
    offsets: Vec<u64>,
    positions: Vec<u32>,
}

impl StepGraph {
    pub(crate) fn build(graph: &FollowGraph, gates: &Gates, activity: &[f64], step: usize) -> Self {
        let n = graph.agents();
        let senders: Vec<u32> = gates
            .range(step)
            .filter(|&g| activity[g] > 0.0)
            .map(|g| g as u32)
            .collect();
        const SILENT: u32 = u32::MAX;
        let mut position = vec![SILENT; n];
        for (p, &g) in senders.iter().enumerate() {
            position[gates.agent(g as usize) as usize] = p as u32;
        }
        let counts: Vec<u64> = (0..n)
            .into_par_iter()
            .map(|j| {
                graph
                    .followees(j)
                    .iter()
                    .filter(|&&i| position[i as usize] != SILENT)
                    .count() as u64
            })
            .collect();
        let mut offsets = vec![0u64; n + 1];
        for j in 0..n {
            offsets[j + 1] = offsets[j] + counts[j];
        }
        let mut positions = vec![0u32; offsets[n] as usize];
        // Rows follow the followee order (sorted by id, so by popularity):
        // sums over a row are reproducible.
        let mut rows: Vec<&mut [u32]> = Vec::with_capacity(n);
        let mut rest = positions.as_mut_slice();
        for c in &counts {
            let (head, tail) = rest.split_at_mut(*c as usize);
            rows.push(head);
            rest = tail;
        }
        rows.into_par_iter().enumerate().for_each(|(j, row)| {
            let active = graph
                .followees(j)
                .iter()
                .map(|&i| position[i as usize])
                .filter(|&p| p != SILENT);
            for (slot, p) in row.iter_mut().zip(active) {
                *slot = p;
            }
        });
        Self {
            senders,
            offsets,
            positions,
        }
    }

    /// Gates of this step with activity > 0, in id order (so by agent).
    pub(crate) fn senders(&self) -> &[u32] {
        &self.senders
    }

    /// Positions, among [`StepGraph::senders`], of the followees of
    /// `receiver` that posted at this step.
    #[inline]
    pub(crate) fn row(&self, receiver: usize) -> &[u32] {
        &self.positions[self.offsets[receiver] as usize..self.offsets[receiver + 1] as usize]
    }

    /// Edges from a sender to a receiver at this step.
    pub(crate) fn edges(&self) -> usize {
        self.positions.len()
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.len() * 8 + self.positions.len() * 4 + self.senders.len() * 4
    }
}
