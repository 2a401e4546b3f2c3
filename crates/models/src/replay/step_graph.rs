//! One step's senders and who reads them.

use super::Gates;
use super::network::ExtraEdges;
use crate::graph::FollowGraph;
use crate::slots::for_each_row;
use rayon::prelude::*;

/// For one step: the gates with activity (the senders), and for every
/// receiver the positions, among the senders, of the followees that posted.
///
/// Only senders transmit anything, so the sweeps gather the senders' states
/// into a compact array and each receiver pulls over its own list of
/// positions: no lookup and no work for followees that stayed silent,
/// against the half of every scan that a dense "did it post?" map wastes.
///
/// A row's positions increase (followees are sorted by id, senders by
/// agent), so each is stored as its gap from the one before in a `u16`
/// ([`Row`] decodes them): about 2 bytes per active edge and step rather
/// than 4. The rows are the largest part of a replay (1.3 GB as `u32` at
/// 1,671,587 agents and 14 steps, 0.65 GB as gaps), and every sweep streams
/// them.
#[derive(Clone, Debug)]
pub(crate) struct StepGraph {
    senders: Vec<u32>,
    /// The first receiver whose row is held.
    first: usize,
    /// offsets[r]..offsets[r+1] index `gaps` for receiver first + r, over
    /// the rows this replay holds only (a cluster worker's shard: the
    /// offsets of every receiver on every worker were 8 bytes per agent and
    /// step, 187 MB at full scale, whatever the shard).
    offsets: Vec<u64>,
    gaps: Vec<u16>,
    /// Follow edges of the step over all receivers, held or not.
    follow_edges: usize,
    /// Timed follows and exposures of this step, if any.
    extra: Option<ExtraEdges>,
}

/// Marks an agent that did not post at a step, among a step's sender positions.
pub(crate) const SILENT: u32 = u32::MAX;

/// A gap that does not fit below it is written as `ESCAPE`, then the
/// position itself in two halves, low first.
const ESCAPE: u16 = u16::MAX;

/// Appends a row's increasing positions to `out` as gaps.
fn encode(positions: &[u32], out: &mut [u16]) {
    let (mut last, mut at) = (0u32, 0);
    for &p in positions {
        let gap = p - last;
        if gap < ESCAPE as u32 {
            out[at] = gap as u16;
            at += 1;
        } else {
            out[at..at + 3].copy_from_slice(&[ESCAPE, p as u16, (p >> 16) as u16]);
            at += 3;
        }
        last = p;
    }
    debug_assert_eq!(at, out.len());
}

/// The `u16` slots a row's increasing positions take as gaps.
fn encoded_len(positions: &[u32]) -> usize {
    let mut last = 0;
    positions
        .iter()
        .map(|&p| {
            let gap = p - last;
            last = p;
            if gap < ESCAPE as u32 { 1 } else { 3 }
        })
        .sum()
}

/// A receiver's positions at a step, decoded from their gaps, in
/// increasing order.
#[derive(Clone, Debug)]
pub(crate) struct Row<'a> {
    gaps: &'a [u16],
    at: usize,
    last: u32,
}

impl Iterator for Row<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        let &gap = self.gaps.get(self.at)?;
        if gap == ESCAPE {
            self.last = self.gaps[self.at + 1] as u32 | (self.gaps[self.at + 2] as u32) << 16;
            self.at += 3;
        } else {
            self.last += gap as u32;
            self.at += 1;
        }
        Some(self.last)
    }
}

impl StepGraph {
    /// The step's senders, in gate order (so by agent).
    pub(crate) fn senders_of(gates: &Gates, activity: &[f64], step: usize) -> Vec<u32> {
        gates
            .range(step)
            .filter(|&g| activity[g] > 0.0)
            .map(|g| g as u32)
            .collect()
    }

    /// Per agent, its position among `senders`, or [`SILENT`]: the
    /// definition that the build's in-place form (`GateTables::take_positions`)
    /// is tested against.
    #[cfg(test)]
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
        positions: &[&[u32]],
        extras: Vec<Option<ExtraEdges>>,
        rows: std::ops::Range<usize>,
        on_step: &dyn Fn(usize, usize),
    ) -> Vec<Self> {
        let n = graph.agents();
        let steps = senders.len();
        let held = rows;
        let mut offsets: Vec<Vec<u64>> = Vec::with_capacity(steps);
        let mut rows: Vec<Vec<u16>> = Vec::with_capacity(steps);
        let mut follow_edges: Vec<usize> = Vec::with_capacity(steps);
        // One step's positions as u32, reused from step to step, before
        // they are written as gaps.
        let mut plain: Vec<u32> = Vec::new();
        let mut plain_offsets = vec![0u64; n + 1];
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
            // Allocated once for the largest step and not cleared between
            // steps: every slot a step reads, it has written.
            let largest = (0..width)
                .map(|b| held.clone().map(|j| counts[j * width + b] as usize).sum::<usize>())
                .max()
                .unwrap_or(0);
            if plain.len() < largest {
                plain = vec![0u32; largest];
            }
            // One step at a time, each receiver's row in place: writing
            // all the steps' rows in one scan was slower (one write stream
            // per step and thread).
            for (b, position) in group.iter().enumerate() {
                for j in 0..n {
                    let count = if held.contains(&j) { counts[j * width + b] } else { 0 };
                    plain_offsets[j + 1] = plain_offsets[j] + count as u64;
                }
                // Rows outside `held` are empty, so the held rows fill the
                // buffer from its start.
                let held_offsets = &plain_offsets[held.start..=held.end];
                let plain = &mut plain[..plain_offsets[n] as usize];
                // Each row is written, then measured as gaps while it is in
                // cache; the prefix sum below turns the lengths into offsets.
                let mut o = vec![0u64; held.len() + 1];
                for_each_row(plain, held_offsets, &mut o[1..], |r, row, encoded| {
                    let active = graph
                        .followees(held.start + r)
                        .iter()
                        .map(|&i| position[i as usize])
                        .filter(|&p| p != SILENT);
                    for (slot, p) in row.iter_mut().zip(active) {
                        *slot = p;
                    }
                    *encoded = encoded_len(row) as u64;
                });
                let row = |r: usize| &plain[held_offsets[r] as usize..held_offsets[r + 1] as usize];
                for r in 0..held.len() {
                    o[r + 1] += o[r];
                }
                let mut gaps = vec![0u16; o[held.len()] as usize];
                for_each_row(&mut gaps, &o, &mut vec![(); held.len()], |r, out, _| {
                    encode(row(r), out)
                });
                offsets.push(o);
                rows.push(gaps);
                on_step(first + b + 1, steps);
            }
        }
        senders
            .into_iter()
            .zip(offsets)
            .zip(rows)
            .zip(extras)
            .zip(follow_edges)
            .map(|((((senders, offsets), gaps), extra), follow_edges)| Self {
                senders,
                first: held.start,
                offsets,
                gaps,
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
    /// `receiver` that posted at this step (none for a receiver whose row
    /// this replay does not hold).
    #[inline]
    pub(crate) fn row(&self, receiver: usize) -> Row<'_> {
        let r = receiver.wrapping_sub(self.first);
        let gaps = match (self.offsets.get(r), self.offsets.get(r.wrapping_add(1))) {
            (Some(&start), Some(&end)) => &self.gaps[start as usize..end as usize],
            _ => &[],
        };
        Row { gaps, at: 0, last: 0 }
    }

    /// Edges from a source to a receiver at this step.
    pub(crate) fn edges(&self) -> usize {
        self.follow_edges + self.extra.as_ref().map_or(0, ExtraEdges::edges)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.len() * 8
            + self.gaps.len() * 2
            + self.senders.len() * 4
            + self.extra.as_ref().map_or(0, ExtraEdges::memory_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_from_their_gaps_whatever_the_gap() {
        // Gaps of 0 (a first position of 0), 1, just below and at the
        // escape, and far beyond a u16; positions past 2^16 and 2^24.
        let rows: [&[u32]; 5] = [
            &[],
            &[0, 1, 2, 65_536, 65_537, 131_071, 196_606],
            &[65_534, 131_069, 131_070],
            &[65_535],
            &[7, 70_000, 16_777_300, 4_000_000_000, u32::MAX - 1],
        ];
        for positions in rows {
            let mut gaps = vec![0u16; encoded_len(positions)];
            encode(positions, &mut gaps);
            let row = Row {
                gaps: &gaps,
                at: 0,
                last: 0,
            };
            assert_eq!(row.collect::<Vec<_>>(), positions);
        }
        // A gap below the escape takes one slot, others three.
        assert_eq!(encoded_len(&[0, 65_534, 131_069]), 3 + 2);
        assert_eq!(encoded_len(&[65_535, 65_536]), 3 + 1);
    }

    #[test]
    fn a_shard_holds_the_offsets_and_rows_of_its_receivers_only() {
        // 8 agents; agent j follows every agent of a lower id, so the rows
        // grow with j.
        let n = 8;
        let follows: Vec<(u32, u32)> = (0..n as u32).flat_map(|j| (0..j).map(move |i| (j, i))).collect();
        let graph = FollowGraph::from_follows(n, &follows).unwrap();
        // Agents 1, 2 and 5 post (positions 0, 1, 2).
        let position: Vec<u32> = (0..n as u32)
            .map(|a| match a {
                1 => 0,
                2 => 1,
                5 => 2,
                _ => SILENT,
            })
            .collect();
        let build = |rows| {
            StepGraph::build_all(
                &graph,
                vec![vec![10, 11, 12]],
                &[position.as_slice()],
                vec![None],
                rows,
                &|_, _| {},
            )
            .remove(0)
        };
        let whole = build(0..n);
        let part = build(3..6);
        let rows = |step: &StepGraph| (0..n).map(|j| step.row(j).collect::<Vec<_>>()).collect::<Vec<_>>();
        let expected: Vec<Vec<u32>> = (0..n as u32)
            .map(|j| {
                (0..j)
                    .filter_map(|i| Some(position[i as usize]).filter(|&p| p != SILENT))
                    .collect()
            })
            .collect();
        assert_eq!(rows(&whole), expected);
        let held: Vec<Vec<u32>> = (0..n)
            .map(|j| {
                if (3..6).contains(&j) {
                    expected[j].clone()
                } else {
                    Vec::new()
                }
            })
            .collect();
        assert_eq!(rows(&part), held);
        assert_eq!(part.offsets.len(), 3 + 1);
        assert_eq!(whole.offsets.len(), n + 1);
        // Edges are counted over every receiver, held or not.
        assert_eq!(part.edges(), whole.edges());
        assert_eq!(part.row(usize::MAX).count(), 0);
    }
}
