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

/// Appends position `p` of a row to `out` as its gap from the row's
/// previous position `last` (0 before the first).
#[inline]
fn push_gap(out: &mut Vec<u16>, last: u32, p: u32) {
    let gap = p - last;
    if gap < ESCAPE as u32 {
        out.push(gap as u16);
    } else {
        out.extend_from_slice(&[ESCAPE, p as u16, (p >> 16) as u16]);
    }
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

/// The rows of the receivers in `held` at one step (`position` per agent,
/// or [`SILENT`]), as gaps, and their offsets.
///
/// One pass over the followee lists: each chunk of receivers gathers and
/// encodes its rows into a buffer of its own while they are in cache, then
/// every chunk copies its piece into the step's array where the chunks
/// before it end. The build counted every row first (a table of 4 bytes
/// per agent and step, and a pass over every followee list) and staged
/// the positions as `u32` before encoding them: two large arrays touched
/// for nothing on a machine where fresh memory is dear, and a second pass
/// over the positions (BENCHMARKS.md, "Step rows in one pass per step").
fn rows_at(graph: &FollowGraph, position: &[u32], held: std::ops::Range<usize>) -> (Vec<u64>, Vec<u16>) {
    const CHUNK: usize = 1024;
    let chunks: Vec<(Vec<u16>, Vec<u64>)> = (0..held.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let receivers = held.start + c * CHUNK..(held.start + (c + 1) * CHUNK).min(held.end);
            let (mut gaps, mut ends) = (Vec::new(), Vec::with_capacity(receivers.len()));
            for j in receivers {
                let mut last = 0;
                for &i in graph.followees(j) {
                    let p = position[i as usize];
                    if p != SILENT {
                        push_gap(&mut gaps, last, p);
                        last = p;
                    }
                }
                ends.push(gaps.len() as u64);
            }
            (gaps, ends)
        })
        .collect();
    let mut bases = Vec::with_capacity(chunks.len());
    let mut total = 0u64;
    for (gaps, _) in &chunks {
        bases.push(total);
        total += gaps.len() as u64;
    }
    let mut offsets = vec![0u64; held.len() + 1];
    offsets[1..]
        .par_chunks_mut(CHUNK)
        .zip(&chunks)
        .zip(&bases)
        .for_each(|((slots, (_, ends)), &base)| {
            for (slot, &end) in slots.iter_mut().zip(ends) {
                *slot = base + end;
            }
        });
    let mut gaps = vec![0u16; total as usize];
    split_rows(&mut gaps, chunks.iter().map(|(g, _)| g.len()))
        .into_par_iter()
        .zip(&chunks)
        .for_each(|(out, (piece, _))| out.copy_from_slice(piece));
    (offsets, gaps)
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
    /// Rows keep the followee order (by id, so by popularity), which keeps
    /// the sums over a row reproducible. Only the receivers in `rows` get
    /// their rows filled (a worker of a cluster holds its shard's); the
    /// others' rows are empty, and every step still counts its edges over
    /// all receivers: each posting agent's followers.
    pub(crate) fn build_all(
        graph: &FollowGraph,
        senders: Vec<Vec<u32>>,
        positions: &[&[u32]],
        extras: Vec<Option<ExtraEdges>>,
        rows: std::ops::Range<usize>,
        on_step: &dyn Fn(usize, usize),
    ) -> Vec<Self> {
        let steps = senders.len();
        let mut built = Vec::with_capacity(steps);
        for (t, position) in positions.iter().enumerate() {
            let follow_edges = position
                .par_iter()
                .enumerate()
                .filter(|&(_, &p)| p != SILENT)
                .map(|(i, _)| graph.follower_count(i))
                .sum::<usize>();
            let (offsets, gaps) = rows_at(graph, position, rows.clone());
            built.push((offsets, gaps, follow_edges));
            on_step(t + 1, steps);
        }
        senders
            .into_iter()
            .zip(built)
            .zip(extras)
            .map(|((senders, (offsets, gaps, follow_edges)), extra)| Self {
                senders,
                first: rows.start,
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
        let encoded = |positions: &[u32]| {
            let (mut gaps, mut last) = (Vec::new(), 0);
            for &p in positions {
                push_gap(&mut gaps, last, p);
                last = p;
            }
            gaps
        };
        for positions in rows {
            let gaps = encoded(positions);
            let row = Row {
                gaps: &gaps,
                at: 0,
                last: 0,
            };
            assert_eq!(row.collect::<Vec<_>>(), positions);
        }
        // A gap below the escape takes one slot, others three.
        assert_eq!(encoded(&[0, 65_534, 131_069]).len(), 3 + 2);
        assert_eq!(encoded(&[65_535, 65_536]).len(), 3 + 1);
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
        assert_eq!(whole.edges(), expected.iter().map(Vec::len).sum::<usize>());
        assert_eq!(part.edges(), whole.edges());
        assert_eq!(part.row(usize::MAX).count(), 0);
    }

    #[test]
    fn rows_over_many_chunks_are_each_receivers_posting_followees_in_order() {
        // 5,000 agents (five chunks of receivers), a pseudo-random graph,
        // half the agents posting; positions far apart enough that some
        // gaps take the escape. Whole, and a shard whose bounds fall
        // inside chunks.
        let n = 5000usize;
        let mut state = 7u64;
        let mut next = |below: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % below
        };
        let follows: Vec<(u32, u32)> = (0..n as u32)
            .flat_map(|j| (0..next(12)).map(move |_| j))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|j| (j, next(n as u64) as u32))
            .collect();
        let graph = FollowGraph::from_follows(n, &follows).unwrap();
        let mut sent = 0u32;
        let position: Vec<u32> = (0..n)
            .map(|_| {
                if next(2) == 0 {
                    SILENT
                } else {
                    sent += 1 + 30_000 * (next(40) == 0) as u32;
                    sent
                }
            })
            .collect();
        assert!(sent > u16::MAX as u32, "some gaps escape");
        let expected: Vec<Vec<u32>> = (0..n)
            .map(|j| {
                graph
                    .followees(j)
                    .iter()
                    .map(|&i| position[i as usize])
                    .filter(|&p| p != SILENT)
                    .collect()
            })
            .collect();
        for held in [0..n, 1500..4100] {
            let step = StepGraph::build_all(
                &graph,
                vec![Vec::new()],
                &[&position],
                vec![None],
                held.clone(),
                &|_, _| {},
            )
            .remove(0);
            for j in 0..n {
                let want = if held.contains(&j) {
                    expected[j].clone()
                } else {
                    Vec::new()
                };
                assert_eq!(step.row(j).collect::<Vec<_>>(), want, "receiver {j} of {held:?}");
            }
            assert_eq!(step.edges(), expected.iter().map(Vec::len).sum::<usize>());
        }
    }
}
