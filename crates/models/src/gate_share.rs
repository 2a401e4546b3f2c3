//! The gates of one worker's agents, and what the workers of a sharded
//! attribution reduce and gather over them.
//!
//! A sharded sweep computes the gradients of a worker's own gates only, so
//! the engine on that worker holds their entries only (input, baseline,
//! accumulator, phi: [`OwnGates`]); the completeness gap, which sums every
//! gate's phi, and the result, which the reporting worker writes, are put
//! together over the workers ([`GateShare`]).

use crate::replay::Replay;
use crate::shards::{Shards, Transport, any_worker, send_floats};
use aumann_engine::{Attribution, PhiSums, Split};

/// The gates of one shard's agents, numbered from 0 in gate order: the
/// players of the engine on that shard's worker.
///
/// Gates are sorted by step, then by agent, and a shard's agents are
/// contiguous, so in each step the shard's gates are one contiguous run:
/// the numbering takes one entry per step.
#[derive(Clone, Debug)]
pub struct OwnGates {
    runs: Vec<Run>,
    len: usize,
}

/// A step's gates of the shard: `first..end`, the first numbered `local`.
#[derive(Clone, Copy, Debug)]
struct Run {
    first: usize,
    end: usize,
    local: usize,
}

impl OwnGates {
    /// The gates of `agents` (replay agents, a shard's range).
    pub fn new(replay: &Replay, agents: std::ops::Range<usize>) -> Self {
        let mut runs = Vec::with_capacity(replay.steps());
        let mut local = 0;
        for t in 0..replay.steps() {
            let (start, of_step) = (replay.gates.range(t).start, replay.gates.step_agents(t));
            let below = |bound: usize| start + of_step.partition_point(|&a| (a as usize) < bound);
            let (first, end) = (below(agents.start), below(agents.end));
            runs.push(Run { first, end, local });
            local += end - first;
        }
        Self { runs, len: local }
    }

    /// Gates held here.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The engine's index of `gate` when it is held here; None for another
    /// shard's gate.
    #[inline]
    pub fn local(&self, gate: usize) -> Option<usize> {
        let run = self.runs.get(self.runs.partition_point(|r| r.end <= gate))?;
        (gate >= run.first).then(|| run.local + gate - run.first)
    }

    /// The gates held here, ascending: the engine's order.
    pub fn gates(&self) -> impl Iterator<Item = usize> + '_ {
        self.runs.iter().flat_map(|r| r.first..r.end)
    }

    /// The entries of `whole` (one per gate of the replay) at the gates held
    /// here, in the engine's order.
    pub fn take(&self, whole: &[f64]) -> Vec<f64> {
        self.gates().map(|g| whole[g]).collect()
    }
}

/// The engine's players split over the workers of a transport, each
/// holding its shard's gates: the [`Split`] of their attribution (every
/// method collective), and the result put together on the worker that
/// reports, shard 0.
pub struct GateShare<'a> {
    gates: OwnGates,
    transport: &'a dyn Transport,
    players: usize,
}

impl<'a> GateShare<'a> {
    /// This worker's share of `replay`'s gates under `shards`.
    pub fn new(replay: &Replay, shards: &Shards, transport: &'a dyn Transport) -> Self {
        Self {
            gates: OwnGates::new(replay, shards.range(transport.shard())),
            transport,
            players: replay.players(),
        }
    }

    pub fn gates(&self) -> &OwnGates {
        &self.gates
    }

    /// Every worker's `columns` (one value per own gate each) put together
    /// on shard 0, one whole vector per column in gate order; None on the
    /// other workers.
    fn gather(&self, columns: &[&[f64]]) -> Option<Vec<Vec<f64>>> {
        let width = columns.len();
        let mut item = vec![0.0; width];
        let round = send_floats(self.transport, width, &mut |s, push| {
            if s == 0 {
                for (l, g) in self.gates.gates().enumerate() {
                    for (value, column) in item.iter_mut().zip(columns) {
                        *value = column[l];
                    }
                    push(g as u32, &item);
                }
            }
        });
        if self.transport.shard() != 0 {
            // Nothing comes to a worker that does not report; dropping the
            // round reads it.
            return None;
        }
        let mut whole = vec![vec![f64::NAN; self.players]; width];
        for (l, g) in self.gates.gates().enumerate() {
            for (w, column) in whole.iter_mut().zip(columns) {
                w[g] = column[l];
            }
        }
        let mut received = self.gates.len();
        round.read_rows(|_, g, v| {
            for (w, &value) in whole.iter_mut().zip(v) {
                w[g as usize] = value;
            }
            received += 1;
        });
        assert_eq!(
            received, self.players,
            "the workers sent the entries of another gate layout"
        );
        Some(whole)
    }

    /// Shard 0's `values` (None elsewhere), on every worker.
    fn broadcast(&self, values: Option<&[f64]>, width: usize) -> Vec<f64> {
        let round = send_floats(self.transport, width, &mut |_, push| {
            if let Some(values) = values {
                push(0, values);
            }
        });
        let mut out = values.map(<[f64]>::to_vec).unwrap_or_default();
        round.read_rows(|from, _, v| {
            if from == 0 {
                out.extend_from_slice(v);
            }
        });
        assert_eq!(out.len(), width, "one broadcast from shard 0");
        out
    }

    /// The whole attribution on shard 0, from every worker's share of it
    /// (its phi and error per own gate; the rest is the same on every
    /// worker); None on the others.
    pub fn gather_attribution(&self, mut share: Attribution) -> Option<Attribution> {
        let mut whole = self.gather(&[&share.phi, &share.error])?;
        share.error = whole.pop().expect("error");
        share.phi = whole.pop().expect("phi");
        Some(share)
    }
}

impl Split for GateShare<'_> {
    /// Gathers phi on shard 0, which sums it as one process does and sends
    /// the sums back: a transient whole vector there (8 bytes per gate),
    /// since a compensated sum in gate order does not split into partial
    /// sums without changing its bits.
    fn sums(&self, phi: &[f64]) -> PhiSums {
        let sums = self.gather(&[phi]).map(|whole| {
            let s = PhiSums::of(&whole[0]);
            [s.total, s.magnitude]
        });
        let both = self.broadcast(sums.as_ref().map(|s| &s[..]), 2);
        PhiSums {
            total: both[0],
            magnitude: both[1],
        }
    }

    fn any(&self, mine: bool) -> bool {
        any_worker(self.transport, mine)
    }
}
