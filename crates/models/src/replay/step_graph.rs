//! One step's senders and who reads them.

use super::Gates;
use super::network::ExtraEdges;
use crate::graph::FollowGraph;
use crate::slots::split_rows;
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
    /// offsets[j]..offsets[j+1] index `positions` for receiver j (empty
    /// outside the rows this replay holds).
    offsets: Vec<u64>,
    positions: Vec<u32>,
    /// Follow edges of the step over all receivers, held or not.
    follow_edges: usize,
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

    /// Every step over the follow graph: `senders[t]` at their
    /// `positions[t]` (per agent, or [`SILENT`]), with `extras[t]`.
    ///
    /// The row lengths of all steps come from one scan of the followee
    /// lists (each agent carries a mask of the steps at which it posted)
    /// rather than one scan per step; the rows are then filled one step at a
    /// time, each in place. Rows keep the followee order (by id, so by
    /// popularity), which keeps the sums over a row reproducible.
    ///
    /// Only the receivers in `rows` get their rows filled (a worker of a
    /// cluster holds its shard's); the others' rows are empty, and every
    /// step still counts its edges over all receivers.
    pub(crate) fn build_all(
        graph: &FollowGraph,
        senders: Vec<Vec<u32>>,
        positions: &[Vec<u32>],
        extras: Vec<Option<ExtraEdges>>,
        rows: std::ops::Range<usize>,
        on_step: &dyn Fn(usize, usize),
    ) -> Vec<Self> {
        let n = graph.agents();
        let steps = senders.len();
        let held = rows;
        let mut offsets: Vec<Vec<u64>> = Vec::with_capacity(steps);
        let mut rows: Vec<Vec<u32>> = Vec::with_capacity(steps);
        let mut follow_edges: Vec<usize> = Vec::with_capacity(steps);
        // Masks of 64 bits: longer windows go 64 steps at a time.
        for first in (0..steps).step_by(64) {
            let group = &positions[first..steps.min(first + 64)];
            let width = group.len();
            let masks: Vec<u64> = (0..n)
                .into_par_iter()
                .map(|i| {
                    group
                        .iter()
                        .enumerate()
                        .fold(0u64, |m, (b, position)| m | (((position[i] != SILENT) as u64) << b))
                })
                .collect();
            let mut counts = vec![0u32; n * width];
            counts.par_chunks_mut(width).enumerate().for_each(|(j, count)| {
                for &i in graph.followees(j) {
                    let mut m = masks[i as usize];
                    while m != 0 {
                        count[m.trailing_zeros() as usize] += 1;
                        m &= m - 1;
                    }
                }
            });
            follow_edges.extend((0..width).map(|b| (0..n).map(|j| counts[j * width + b] as usize).sum::<usize>()));
            let group_offsets: Vec<Vec<u64>> = (0..width)
                .into_par_iter()
                .map(|b| {
                    let mut o = vec![0u64; n + 1];
                    for j in 0..n {
                        let count = if held.contains(&j) { counts[j * width + b] } else { 0 };
                        o[j + 1] = o[j] + count as u64;
                    }
                    o
                })
                .collect();
            drop(counts);
            // One step at a time, each receiver's row in place: writing
            // all the steps' rows in one scan was slower (one write stream
            // per step and thread).
            let group_rows: Vec<Vec<u32>> = group_offsets
                .iter()
                .enumerate()
                .map(|(b, o)| {
                    let mut row_values = vec![0u32; o[n] as usize];
                    let rows = split_rows(&mut row_values, o.windows(2).map(|w| (w[1] - w[0]) as usize));
                    let position = &group[b];
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
                    on_step(first + b + 1, steps);
                    row_values
                })
                .collect();
            offsets.extend(group_offsets);
            rows.extend(group_rows);
        }
        senders
            .into_iter()
            .zip(offsets)
            .zip(rows)
            .zip(extras)
            .zip(follow_edges)
            .map(|((((senders, offsets), positions), extra), follow_edges)| Self {
                senders,
                offsets,
                positions,
                follow_edges,
                extra,
            })
            .collect()
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
        self.follow_edges + self.extra.as_ref().map_or(0, ExtraEdges::edges)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.len() * 8
            + self.positions.len() * 4
            + self.senders.len() * 4
            + self.extra.as_ref().map_or(0, ExtraEdges::memory_bytes)
    }
}
