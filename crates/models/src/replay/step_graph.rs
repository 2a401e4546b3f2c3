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
pub struct StepGraph {
    senders: Vec<u32>,
    /// The first receiver whose row is held.
    first: usize,
    /// Per chunk of [`CHUNK`] held receivers (from `first`), where its
    /// rows start in `gaps`.
    chunk_starts: Vec<u64>,
    /// Per held receiver, where its row ends, counted from its chunk's
    /// start: 4 bytes per receiver and step rather than an 8-byte offset
    /// (94 MB less at full scale). Only the rows this replay holds have
    /// one (a cluster worker's shard).
    ends: Vec<u32>,
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

/// The most gaps that `rows` rows holding `edges` positions among
/// `senders` can take: one slot per position, and two more per escape. A
/// row's positions increase and stay below `senders`, so its gaps sum to
/// less than `senders` and at most `(senders - 1) / ESCAPE` of them escape.
///
/// Why a bound and not the count: the rows are written chunk by chunk into
/// one array per step, which should not move while it is written.
/// Reserving the edges alone left the escapes (6% more slots at full
/// scale) to a reallocation that moved every step's array near its end,
/// after which its pages came in 4 KiB pieces instead of huge pages: about
/// 200,000 page faults for the step rows at full scale, against 23,000
/// with the bound (BENCHMARKS.md, "Step rows that do not move"). The bound
/// only reserves address space: pages past the rows' end are never
/// touched, and the array is shrunk once written.
fn gaps_bound(edges: usize, rows: usize, senders: usize) -> usize {
    let escapes = rows
        .saturating_mul(senders.saturating_sub(1) / ESCAPE as usize)
        .min(edges);
    edges + 2 * escapes
}

/// A receiver's positions at a step, decoded from their gaps, in
/// increasing order.
#[derive(Clone, Debug)]
pub struct Row<'a> {
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

/// Which agents post at a step, 64 to a word, and how many agents of the
/// words before post: a sender's position is its rank among the step's
/// senders (they are in agent order), `before` plus the posting agents
/// below it in its word.
#[derive(Clone, Copy, Debug, Default)]
struct RankWord {
    bits: u64,
    before: u32,
}

/// The rank words of every step, word-major (`words[w * steps + t]`), so
/// that one followee's steps sit in a few adjacent cache lines: 16 bytes
/// per 64 agents and step, 5.8 MB at full scale, which stays in cache
/// while the followee lists stream past (the positions themselves are 94
/// MB).
///
/// Panics unless each step's positions are the ranks of its posting agents
/// in agent order (what [`StepGraph::senders_of`] makes them).
fn rank_words(positions: &[&[u32]], agents: usize) -> Vec<RankWord> {
    let steps = positions.len();
    let mut words = vec![RankWord::default(); agents.div_ceil(64) * steps];
    words.par_chunks_mut(steps.max(1)).enumerate().for_each(|(w, word)| {
        let agents = w * 64..(w * 64 + 64).min(agents);
        for (slot, position) in word.iter_mut().zip(positions) {
            slot.bits = position[agents.clone()]
                .iter()
                .enumerate()
                .fold(0, |bits, (b, &p)| bits | ((p != SILENT) as u64) << b);
        }
    });
    for t in 0..steps {
        let mut before = 0u32;
        for word in words[t..].iter_mut().step_by(steps) {
            word.before = before;
            before += word.bits.count_ones();
        }
    }
    words.par_chunks(steps.max(1)).enumerate().for_each(|(w, word)| {
        for (t, (slot, position)) in word.iter().zip(positions).enumerate() {
            for (b, &p) in position[w * 64..(w * 64 + 64).min(agents)].iter().enumerate() {
                assert!(
                    p == SILENT || p == slot.rank(b),
                    "agent {} at step {t}: position {p} is not its rank among the senders",
                    w * 64 + b
                );
            }
        }
    });
    words
}

impl RankWord {
    /// The position of the agent at bit `b`, which posts.
    #[inline]
    fn rank(&self, b: usize) -> u32 {
        self.before + (self.bits & ((1u64 << b) - 1)).count_ones()
    }
}

/// Steps whose rows one scan of the followee lists fills: a receiver's
/// followees' posting steps are one `u16` mask each.
const STEPS_PER_SCAN: usize = 16;

/// Receivers per task.
const CHUNK: usize = 1024;

/// Chunks filled before their rows are appended to the steps' arrays: the
/// buffers of one band (about 25 MB at full scale) are reused by the next,
/// so the build touches fresh memory for the final rows only.
const BAND: usize = 64;

/// One chunk's rows at every step of a scan, as gaps, with each row's end.
#[derive(Default)]
struct ChunkRows {
    gaps: Vec<Vec<u16>>,
    ends: Vec<Vec<u32>>,
}

impl ChunkRows {
    /// Fills the rows of `receivers` at steps `first..first + masks' width`:
    /// one pass over each followee list, a posting followee's position at
    /// step t is its rank in `words`.
    fn fill(
        &mut self,
        graph: &FollowGraph,
        masks: &[u16],
        words: &[RankWord],
        scan: std::ops::Range<usize>,
        steps: usize,
        receivers: std::ops::Range<usize>,
    ) {
        let width = scan.len();
        self.gaps.resize_with(width, Vec::new);
        self.ends.resize_with(width, Vec::new);
        for (gaps, ends) in self.gaps.iter_mut().zip(&mut self.ends) {
            gaps.clear();
            ends.clear();
        }
        let mut last = [0u32; STEPS_PER_SCAN];
        for j in receivers {
            last[..width].fill(0);
            for &i in graph.followees(j) {
                let mut mask = masks[i as usize];
                if mask == 0 {
                    continue;
                }
                let (w, b) = (i as usize / 64, i as usize % 64);
                let word = &words[w * steps + scan.start..];
                while mask != 0 {
                    let s = mask.trailing_zeros() as usize;
                    mask &= mask - 1;
                    let p = word[s].rank(b);
                    push_gap(&mut self.gaps[s], last[s], p);
                    last[s] = p;
                }
            }
            for (gaps, ends) in self.gaps.iter().zip(&mut self.ends) {
                // A chunk's rows would need billions of follows of 1,024
                // receivers at one step to reach 2^32 gaps.
                ends.push(u32::try_from(gaps.len()).expect("a chunk's rows hold fewer than 2^32 gaps"));
            }
        }
    }
}

/// The rows of the receivers in `held` at every step (`positions[t]` per
/// agent, or [`SILENT`]), as gaps with each chunk's start and each row's end; `on_rows(done,
/// total)` after each band of receivers. `reserve[t]` is the room made
/// for step t's gaps beforehand: at least what they take ([`gaps_bound`]).
///
/// One pass over the followee lists per sixteen steps: each followee's
/// posting steps are a mask, and its position at a step is its rank, read
/// from [`rank_words`]. Each chunk of receivers gathers and encodes its
/// rows at every step into buffers of its own while its lists are in
/// cache; then each step appends the chunks' pieces to its array, steps in
/// parallel. The build scanned every followee list once per step, looking
/// up the followee's position at that step each time: fourteen scans and
/// 935 million lookups at full scale for 325 million posting followees
/// (BENCHMARKS.md, "One scan of the followee lists for every step").
fn rows_all(
    graph: &FollowGraph,
    positions: &[&[u32]],
    held: std::ops::Range<usize>,
    reserve: &[usize],
    on_rows: &dyn Fn(usize, usize),
) -> Vec<Rows> {
    let steps = positions.len();
    let agents = graph.agents();
    let words = rank_words(positions, agents);
    let chunks = held.len().div_ceil(CHUNK);
    let scans = steps.div_ceil(STEPS_PER_SCAN);
    let mut rows: Vec<Rows> = reserve
        .iter()
        .map(|&edges| Rows {
            chunk_starts: Vec::with_capacity(chunks),
            ends: Vec::with_capacity(held.len()),
            gaps: Vec::with_capacity(edges),
        })
        .collect();
    let mut buffers: Vec<ChunkRows> = (0..BAND.min(chunks)).map(|_| ChunkRows::default()).collect();
    for (k, first) in (0..steps).step_by(STEPS_PER_SCAN).enumerate() {
        let scan = first..(first + STEPS_PER_SCAN).min(steps);
        let masks: Vec<u16> = (0..agents)
            .into_par_iter()
            .map(|i| {
                let word = &words[i / 64 * steps..][scan.clone()];
                word.iter()
                    .enumerate()
                    .fold(0u16, |mask, (s, w)| mask | ((w.bits >> (i % 64) & 1) as u16) << s)
            })
            .collect();
        for band in (0..chunks).step_by(BAND) {
            let band = band..(band + BAND).min(chunks);
            buffers[..band.len()]
                .par_iter_mut()
                .zip(band.clone())
                .for_each(|(buffer, c)| {
                    let receivers = held.start + c * CHUNK..(held.start + (c + 1) * CHUNK).min(held.end);
                    buffer.fill(graph, &masks, &words, scan.clone(), steps, receivers);
                });
            let pieces = &buffers[..band.len()];
            rows[scan.clone()].par_iter_mut().enumerate().for_each(|(s, rows)| {
                for piece in pieces {
                    rows.chunk_starts.push(rows.gaps.len() as u64);
                    rows.ends.extend_from_slice(&piece.ends[s]);
                    rows.gaps.extend_from_slice(&piece.gaps[s]);
                }
            });
            on_rows(k * held.len() + (band.end * CHUNK).min(held.len()), scans * held.len());
        }
    }
    for (rows, &reserved) in rows.iter_mut().zip(reserve) {
        debug_assert!(
            rows.gaps.len() <= reserved,
            "{} gaps over a bound of {reserved}",
            rows.gaps.len()
        );
        rows.gaps.shrink_to_fit();
    }
    rows
}

/// One step's rows as [`rows_all`] builds them (see [`StepGraph`]).
struct Rows {
    chunk_starts: Vec<u64>,
    ends: Vec<u32>,
    gaps: Vec<u16>,
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
    /// `positions[t]` (per agent, or [`SILENT`]: each sender's rank among
    /// the step's senders in agent order), with `extras[t]`;
    /// `on_rows(done, total)` as the rows are filled, counting receivers
    /// (once per sixteen steps).
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
        on_rows: &dyn Fn(usize, usize),
    ) -> Vec<Self> {
        // Per step: its edges (each posting agent's followers) and its
        // posting agents.
        let counts: Vec<(usize, usize)> = positions
            .iter()
            .map(|position| {
                position
                    .par_iter()
                    .enumerate()
                    .filter(|&(_, &p)| p != SILENT)
                    .map(|(i, _)| (graph.follower_count(i), 1))
                    .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
            })
            .collect();
        let held_followees = graph.followee_total(rows.clone());
        let reserve: Vec<usize> = (counts.iter())
            .map(|&(edges, posting)| gaps_bound(edges.min(held_followees), rows.len(), posting))
            .collect();
        let follow_edges = counts.iter().map(|&(edges, _)| edges);
        let built = rows_all(graph, positions, rows.clone(), &reserve, on_rows);
        senders
            .into_iter()
            .zip(built)
            .zip(follow_edges)
            .zip(extras)
            .map(|(((senders, built), follow_edges), extra)| Self {
                senders,
                first: rows.start,
                chunk_starts: built.chunk_starts,
                ends: built.ends,
                gaps: built.gaps,
                follow_edges,
                extra,
            })
            .collect()
    }

    /// The step's timed follows and exposures, if any.
    #[inline]
    pub fn extra(&self) -> Option<&ExtraEdges> {
        self.extra.as_ref()
    }

    /// Positions read at this step: the senders, then the extra sources.
    pub fn sources(&self) -> usize {
        self.senders.len() + self.extra.as_ref().map_or(0, |e| e.sources.len())
    }

    /// Gates of this step with activity > 0, in id order (so by agent).
    pub fn senders(&self) -> &[u32] {
        &self.senders
    }

    /// Positions, among [`StepGraph::senders`], of the followees of
    /// `receiver` that posted at this step (none for a receiver whose row
    /// this replay does not hold).
    #[inline]
    pub fn row(&self, receiver: usize) -> Row<'_> {
        let r = receiver.wrapping_sub(self.first);
        let gaps = match self.ends.get(r) {
            Some(&end) => {
                let base = self.chunk_starts[r / CHUNK] as usize;
                let start = if r.is_multiple_of(CHUNK) { 0 } else { self.ends[r - 1] };
                &self.gaps[base + start as usize..base + end as usize]
            }
            None => &[],
        };
        Row { gaps, at: 0, last: 0 }
    }

    /// Edges from a source to a receiver at this step.
    pub fn edges(&self) -> usize {
        self.follow_edges + self.extra.as_ref().map_or(0, ExtraEdges::edges)
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.chunk_starts.len() * 8
            + self.ends.len() * 4
            + self.gaps.len() * 2
            + self.senders.len() * 4
            + self.extra.as_ref().map_or(0, ExtraEdges::memory_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible stream of numbers below a bound (a 64-bit LCG's high
    /// bits), seeded.
    fn below(seed: u64) -> impl FnMut(u64) -> u64 {
        let mut state = seed;
        move |bound| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % bound
        }
    }

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
    fn the_gaps_bound_holds_and_is_reached_when_every_gap_escapes() {
        let encoded_len = |rows: &[Vec<u32>]| {
            let mut gaps = Vec::new();
            for row in rows {
                let mut last = 0;
                for &p in row {
                    push_gap(&mut gaps, last, p);
                    last = p;
                }
            }
            gaps.len()
        };
        let escape = ESCAPE as u32;
        // 4 * 65,535 + 1 senders: a row can escape four times, and these
        // rows do, at every position.
        let senders = 4 * escape as usize + 1;
        let worst: Vec<Vec<u32>> = (0..3).map(|_| (1..=4).map(|k| k * escape).collect()).collect();
        assert_eq!(encoded_len(&worst), 3 * 4 * 3);
        assert_eq!(gaps_bound(12, 3, senders), 36);
        // One sender fewer and the last position no longer fits: three
        // escapes per row at most.
        assert_eq!(gaps_bound(12, 3, senders - 1), 12 + 2 * 9);
        // Escapes never outnumber the positions, and dense rows escape
        // nowhere.
        assert_eq!(gaps_bound(2, 100, 1 << 30), 6);
        assert_eq!(gaps_bound(50, 10, 65_535), 50);
        // Pseudo-random rows over many senders stay within the bound.
        let mut next = below(11);
        for senders in [1usize, 2, 65_535, 65_536, 200_000, 1 << 24] {
            let rows: Vec<Vec<u32>> = (0..50)
                .map(|_| {
                    let mut row: Vec<u32> = (0..next(8)).map(|_| next(senders as u64) as u32).collect();
                    row.sort_unstable();
                    row.dedup();
                    row
                })
                .collect();
            let edges = rows.iter().map(Vec::len).sum();
            assert!(
                encoded_len(&rows) <= gaps_bound(edges, rows.len(), senders),
                "{senders} senders"
            );
        }
    }

    #[test]
    fn a_shard_holds_the_rows_and_row_ends_of_its_receivers_only() {
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
        assert_eq!(part.ends.len(), 3);
        assert_eq!(whole.ends.len(), n);
        // Edges are counted over every receiver, held or not.
        assert_eq!(whole.edges(), expected.iter().map(Vec::len).sum::<usize>());
        assert_eq!(part.edges(), whole.edges());
        assert_eq!(part.row(usize::MAX).count(), 0);
    }

    #[test]
    fn rows_over_many_chunks_and_steps_are_each_receivers_posting_followees_in_order() {
        // 140,000 agents (137 chunks of receivers, three bands), a
        // pseudo-random graph, 18 steps (two scans of the followee lists)
        // with about half the agents posting at each; a step's positions
        // are its posters' ranks, so followees more than 65,535 posters
        // apart take the escape. Whole, and a shard whose bounds fall
        // inside chunks and bands.
        let (n, steps) = (140_000usize, 18usize);
        let mut next = below(7);
        let follows: Vec<(u32, u32)> = (0..n as u32)
            .flat_map(|j| (0..next(12)).map(move |_| j))
            .collect::<Vec<_>>()
            .into_iter()
            .map(|j| (j, next(n as u64) as u32))
            .collect();
        let graph = FollowGraph::from_follows(n, &follows).unwrap();
        let positions: Vec<Vec<u32>> = (0..steps)
            .map(|t| {
                let mut sent = 0u32;
                (0..n)
                    .map(|_| {
                        // Step 5 silent throughout; the others about half.
                        if t == 5 || next(2) == 0 {
                            SILENT
                        } else {
                            sent += 1;
                            sent - 1
                        }
                    })
                    .collect()
            })
            .collect();
        let positions: Vec<&[u32]> = positions.iter().map(Vec::as_slice).collect();
        let expected: Vec<Vec<Vec<u32>>> = positions
            .iter()
            .map(|position| {
                (0..n)
                    .map(|j| {
                        graph
                            .followees(j)
                            .iter()
                            .map(|&i| position[i as usize])
                            .filter(|&p| p != SILENT)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let escaped = expected[0]
            .iter()
            .filter(|row| row.windows(2).any(|w| w[1] - w[0] >= ESCAPE as u32))
            .count();
        assert!(escaped > 100, "some gaps escape: {escaped}");
        for held in [0..n, 1500..131_100] {
            let built = StepGraph::build_all(
                &graph,
                vec![Vec::new(); steps],
                &positions,
                vec![None; steps],
                held.clone(),
                &|_, _| {},
            );
            assert_eq!(built.len(), steps);
            for (t, step) in built.iter().enumerate() {
                for j in 0..n {
                    let row: Vec<u32> = step.row(j).collect();
                    if held.contains(&j) {
                        assert_eq!(row, expected[t][j], "receiver {j} at step {t} of {held:?}");
                    } else {
                        assert!(row.is_empty(), "receiver {j} at step {t} of {held:?}");
                    }
                }
                assert_eq!(step.edges(), expected[t].iter().map(Vec::len).sum::<usize>());
            }
        }
    }

    #[test]
    #[should_panic(expected = "is not its rank among the senders")]
    fn positions_that_are_not_ranks_are_refused() {
        let graph = FollowGraph::from_follows(3, &[(0, 1), (1, 2)]).unwrap();
        // Agents 1 and 2 post, but in the wrong order.
        let position = [SILENT, 1, 0];
        StepGraph::build_all(&graph, vec![vec![0, 1]], &[&position], vec![None], 0..3, &|_, _| {});
    }
}
