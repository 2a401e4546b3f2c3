//! One step's senders and who reads them.

use super::Gates;
use super::network::ExtraEdges;
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
    /// Timed follows and exposures of this step, if any.
    extra: Option<ExtraEdges>,
}

/// Marks an agent that did not post at a step, in [`StepGraph::positions_of`].
pub(crate) const SILENT: u32 = u32::MAX;

impl StepGraph {
    /// The step's senders, in gate order (so by agent).
    pub(crate) fn senders_of(gates: &Gates, activity: &[f64], step: usize) -> Vec<u32> {
        gates
            .range(step)
            .filter(|&g| activity[g] > 0.0)
            .map(|g| g as u32)
            .collect()
    }

    /// Per agent, its position among `senders`, or [`SILENT`].
    pub(crate) fn positions_of(gates: &Gates, senders: &[u32], agents: usize) -> Vec<u32> {
        let mut position = vec![SILENT; agents];
        for (p, &g) in senders.iter().enumerate() {
            position[gates.agent(g as usize) as usize] = p as u32;
        }
        position
    }

    /// The step over the follow graph, for `senders` at their `position`s,
    /// with the step's extra edges.
    pub(crate) fn build(graph: &FollowGraph, senders: Vec<u32>, position: &[u32], extra: Option<ExtraEdges>) -> Self {
        let n = graph.agents();
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
            extra,
        }
    }

    /// The step's timed follows and exposures, if any.
    #[inline]
    pub(crate) fn extra(&self) -> Option<&ExtraEdges> {
        self.extra.as_ref()
    }

    /// Positions read at this step: the senders, then the extra sources.
    pub(crate) fn sources(&self) -> usize {
        self.senders.len() + self.extra.as_ref().map_or(0, |e| e.sources.len())
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

    /// Edges from a source to a receiver at this step.
    pub(crate) fn edges(&self) -> usize {
        self.positions.len() + self.extra.as_ref().map_or(0, ExtraEdges::edges)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.len() * 8
            + self.positions.len() * 4
            + self.senders.len() * 4
            + self.extra.as_ref().map_or(0, ExtraEdges::memory_bytes)
    }
}
