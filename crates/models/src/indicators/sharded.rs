//! The diffusion sweep over one worker's shard of the agents.
//!
//! Every worker runs the same sweep as one process would (the same
//! equations, the same order of every sum) for its own agents: it computes
//! their states and the gradients of their gates, and gets from the others
//! exactly what its own rows read. Per step, forward: the emission and
//! state of each source go to the workers that hold a reader of it; after
//! the last step the indicator's sums over every agent are made chunk by
//! chunk, each worker summing its own agents' chunks and every worker
//! adding all chunks' partials in order ([`AgentSums`]), so the indicator
//! and its gradient at our agents are one process's;
//! backward: the step is replayed the same way, then the adjoints of A and
//! B of each reader go to the workers that hold a source it reads. Each
//! worker's engine holds its own gates only ([`OwnGates`]): the path's
//! entries and the gradient sums of those gates, which no other worker
//! needs. A gate that reposted content reads its parents' path entries, so
//! at the start of a sweep those of parents on other shards come from
//! their owners ([`ShardPath`]).
//!
//! Each sum runs over the same entries in the same order as in one
//! process (a receiver's row, a source's readers), with values computed by
//! the same arithmetic, so the results are bit for bit those of one
//! process. Reposted content feeds a gate's gradient from the reposts of
//! agents that may sit on other shards: at each step of the reverse sweep
//! the reposters' workers send those terms, with the position they came
//! from, to the parent gate's worker, which adds every term of its gates in
//! position order, the order of one process
//! (the `Layout::write` of [`Sharding`]).

use super::diffusion::{GateValues, Layout, Senders, SourceAdjoints, emission_coefficients, gate_gradients, source_at};
use super::sweep::{AGENT_CHUNK, AgentSums, add_in_order, chunk_sums};
use crate::gate_share::OwnGates;
use crate::replay::{Replay, Source, StepGraph};
use crate::shards::{Message, Shards, Transport, any_worker, send, send_floats};
use aumann_engine::{GradientSink, Path};
use rayon::prelude::*;

/// One worker's shard, what it sends at each step, and its transport.
pub(crate) struct Sharding<'a> {
    shards: Shards,
    me: usize,
    transport: &'a dyn Transport,
    steps: Vec<StepPlan>,
    /// The gates of this shard's agents: the engine's players here.
    own: OwnGates,
    /// The parents on other shards whose content this shard's gates
    /// reposted, and what the others need of ours (empty without reposts).
    parents: ForeignParents,
}

/// The gates whose path entries cross shards because of reposts.
#[derive(Default)]
struct ForeignParents {
    /// Other shards' gates that our gates' reposts read, ascending.
    wanted: Vec<u32>,
    /// Per shard, our gates whose reposts it reads, ascending.
    serves: Vec<Vec<u32>>,
}

/// The path on one worker of a sharded sweep: the engine's entries of its
/// own gates, and those of the other shards' gates that its gates reposted.
pub(super) struct ShardPath<'a> {
    path: Path<'a>,
    own: &'a OwnGates,
    /// Ascending, with (x0, d) of each in `factors`.
    foreign: &'a [u32],
    factors: Vec<(f64, f64)>,
}

impl GateValues for ShardPath<'_> {
    #[inline]
    fn factor(&self, g: usize) -> (f64, f64) {
        match self.own.local(g) {
            Some(l) => self.path.factor(l),
            None => {
                let k = (self.foreign.binary_search(&(g as u32)))
                    .unwrap_or_else(|_| panic!("gate {g} is neither this shard's nor a parent it reads"));
                self.factors[k]
            }
        }
    }
    #[inline]
    fn player(&self, g: usize) -> usize {
        (self.own.local(g)).unwrap_or_else(|| panic!("gate {g} belongs to another shard"))
    }
}

/// Who needs what of this shard at one step.
struct StepPlan {
    /// Positions of the step's sources whose agent is ours, ascending.
    own_positions: Vec<u32>,
    /// Per own position (in `own_positions` order): the shards that hold
    /// a reader of it.
    position_sends: ShardSets,
    /// Per own agent (from the shard's first): the shards that own a
    /// position it reads.
    adjoint_sends: ShardSets,
}

/// A set of shards per item, one bit per (item, shard), item-major.
///
/// Why bits: lists of item ids per shard took 4 bytes per item and shard
/// it goes to, per step: 0.12 GB on the last of four processes at full
/// scale, where these take (items x shards) bits per step, about n x T
/// bits per worker (a worker holds about n / shards agents) whatever the
/// count of workers.
struct ShardSets {
    shards: usize,
    items: usize,
    bits: Vec<u64>,
}

impl ShardSets {
    fn new(items: usize, shards: usize) -> Self {
        Self {
            shards,
            items,
            bits: vec![0; (items * shards).div_ceil(64)],
        }
    }

    fn insert(&mut self, item: usize, shard: usize) {
        let b = item * self.shards + shard;
        self.bits[b / 64] |= 1 << (b % 64);
    }

    fn contains(&self, item: usize, shard: usize) -> bool {
        let b = item * self.shards + shard;
        self.bits[b / 64] >> (b % 64) & 1 == 1
    }

    /// The items whose set holds `shard`, ascending.
    fn items_for(&self, shard: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.items).filter(move |&i| self.contains(i, shard))
    }
}

impl<'a> Sharding<'a> {
    pub(crate) fn new(replay: &Replay, shards: Shards, transport: &'a dyn Transport) -> Self {
        assert_eq!(shards.count(), transport.shards(), "one shard per worker");
        assert_eq!(shards.agents(), replay.agents(), "shards of this replay's agents");
        let me = transport.shard();
        let owners = shards.owners();
        let steps = replay
            .step_graphs
            .par_iter()
            .map(|step| StepPlan::new(replay, step, &owners, me, shards.count(), shards.range(me)))
            .collect();
        let own = OwnGates::new(replay, shards.range(me));
        let parents = if replay.content.any() {
            ForeignParents::new(replay, &own, &shards, transport)
        } else {
            ForeignParents::default()
        };
        Self {
            shards,
            me,
            transport,
            steps,
            own,
            parents,
        }
    }

    /// The path as this worker's gate arithmetic reads it: with reposts,
    /// the owners of the parents our gates reposted send their entries
    /// (a collective round at every sweep; none without reposts).
    fn shard_path<'p>(&'p self, replay: &Replay, path: Path<'p>) -> ShardPath<'p> {
        let wanted = &self.parents.wanted;
        let mut factors = vec![(f64::NAN, f64::NAN); wanted.len()];
        if replay.content.any() {
            let round = send::<[f64; 2]>(self.transport, &mut |s, push| {
                for &g in &self.parents.serves[s] {
                    let (x0, d) = path.factor(self.own.local(g as usize).expect("our gate"));
                    push(g, &[x0, d]);
                }
            });
            round.read(|_, g, [x0, d]| {
                let k = wanted.binary_search(&g).expect("a parent we asked for");
                factors[k] = (x0, d);
            });
        }
        ShardPath {
            path,
            own: &self.own,
            foreign: wanted,
            factors,
        }
    }

    fn own_range(&self) -> std::ops::Range<usize> {
        self.shards.range(self.me)
    }
}

/// This worker's shard as the diffusion sweep's layout: every call is
/// collective.
impl Layout for Sharding<'_> {
    type Gates<'p>
        = ShardPath<'p>
    where
        Self: 'p;

    /// This shard's gates.
    fn players(&self) -> usize {
        self.own.len()
    }
    fn rows(&self) -> std::ops::Range<usize> {
        self.own_range()
    }
    fn any_open_at_baseline(&self, replay: &Replay, path: &Path<'_>) -> bool {
        let mine = (self.own.gates())
            .zip(path.baseline)
            .any(|(g, &b)| replay.activity[g] > 0.0 && b != 0.0);
        any_worker(self.transport, mine)
    }
    fn gate_values<'p>(&'p self, replay: &Replay, path: Path<'p>) -> ShardPath<'p> {
        self.shard_path(replay, path)
    }
    fn gather<const K: usize, const QUAD: bool>(
        &self,
        senders: &mut Senders<K>,
        replay: &Replay,
        path: &ShardPath<'_>,
        t: usize,
        own_states: &[[f64; K]],
    ) {
        // Ours from `own_states` (this shard's rows), the others' from the
        // parcels their workers send; positions nobody here reads stay NaN.
        let step = &replay.step_graphs[t];
        let plan = &self.steps[t];
        let lo = self.own_range().start;
        let sources = step.sources();
        senders.emissions.clear();
        senders.emissions.resize(sources, [f64::NAN; 2]);
        senders.quad.clear();
        senders.quad.resize(sources, f64::NAN);
        senders.states.clear();
        senders.states.resize(sources, [f64::NAN; K]);
        let own: Vec<([f64; 2], f64, [f64; K])> = plan
            .own_positions
            .par_iter()
            .map(|&p| {
                let (agent, g) = source_at(replay, step, p as usize);
                let (e, q) = if g == Source::NO_GATE {
                    ([1.0, 0.0], 0.0)
                } else {
                    emission_coefficients(replay, path, g as usize)
                };
                (e, q, own_states[agent - lo])
            })
            .collect();
        for (&p, (e, q, s)) in plan.own_positions.iter().zip(own) {
            let p = p as usize;
            (senders.emissions[p], senders.quad[p], senders.states[p]) = (e, q, s);
        }
        let width = 2 + QUAD as usize + K;
        let mut item = vec![0.0; width];
        let round = send_floats(self.transport, width, &mut |s, push| {
            for k in plan.position_sends.items_for(s) {
                let p = plan.own_positions[k] as usize;
                item[..2].copy_from_slice(&senders.emissions[p]);
                if QUAD {
                    item[2] = senders.quad[p];
                }
                item[width - K..].copy_from_slice(&senders.states[p]);
                push(p as u32, &item);
            }
        });
        round.read_rows(|_, p, v| {
            let p = p as usize;
            senders.emissions[p] = [v[0], v[1]];
            if QUAD {
                senders.quad[p] = v[2];
            }
            senders.states[p].copy_from_slice(&v[width - K..]);
        });
    }
    fn positions<'s>(&'s self, _: &Replay, t: usize, _: &'s mut Vec<u32>) -> &'s [u32] {
        &self.steps[t].own_positions
    }
    fn exchange_adjoints<const K: usize>(&self, t: usize, grad_ab: &mut [f64]) {
        // Our readers' adjoints go to the shards whose sources they read;
        // the others' arrive at their agents' rows.
        let width = 2 * K;
        let lo = self.own_range().start;
        let round = send_floats(self.transport, width, &mut |s, push| {
            for r in self.steps[t].adjoint_sends.items_for(s) {
                let j = lo + r;
                push(j as u32, &grad_ab[j * width..(j + 1) * width]);
            }
        });
        round.read_rows(|_, j, v| {
            let j = j as usize;
            grad_ab[j * width..(j + 1) * width].copy_from_slice(v)
        });
    }
    fn write<const K: usize>(
        &self,
        replay: &Replay,
        path: &ShardPath<'_>,
        step: &StepGraph,
        sources: &SourceAdjoints<'_>,
        adjoint_rows: &mut [[f64; K]],
        taus: &[f64; K],
        sink: &mut GradientSink<'_>,
    ) {
        // Our sources write to our agents' rows and our gates in position
        // order, as in one process.
        if !replay.content.any() {
            sources.write::<K>(replay, path, step, self.own_range().start, adjoint_rows, taus, sink);
            return;
        }
        // With reposted content a source's emission adjoint also feeds the
        // gates of the parents whose content it reposted, which other
        // shards may own. One process adds to the accumulator in position
        // order: at each position, the source's own gate, then its parents
        // in link order. Here every term goes, with its position, to the
        // worker that owns its gate (ours stay); each worker then adds the
        // terms of its own gates sorted by position (a stable sort: one
        // worker made every term of a position, in that order), so every
        // gate's sum takes its terms in one process's order.
        let lo = self.own_range().start;
        let mut terms: Vec<(u32, u32, [f64; K])> = Vec::new();
        let mut sends: Vec<Vec<(u32, GateTerm<K>)>> = vec![Vec::new(); self.shards.count()];
        for (p, own, emission_grad) in sources.entries::<K>() {
            let (agent, g) = source_at(replay, step, p as usize);
            for m in 0..K {
                adjoint_rows[agent - lo][m] += own[m];
            }
            if g == Source::NO_GATE {
                continue;
            }
            gate_gradients(replay, path, g as usize, emission_grad, taus, |gate, grad| {
                let owner = self.shards.of(replay.gates.agent(gate) as usize);
                if owner == self.me {
                    terms.push((p, gate as u32, *grad));
                } else {
                    let term = GateTerm {
                        position: p,
                        gradient: *grad,
                    };
                    sends[owner].push((gate as u32, term));
                }
            });
        }
        let round = send::<GateTerm<K>>(self.transport, &mut |s, push| {
            for (gate, term) in std::mem::take(&mut sends[s]) {
                push(gate, &term);
            }
        });
        round.read(|_, gate, term| terms.push((term.position, gate, term.gradient)));
        terms.sort_by_key(|&(p, _, _)| p);
        for (_, gate, grad) in &terms {
            sink.add(path.player(*gate as usize), grad);
        }
    }
    fn is_whole(&self) -> bool {
        false
    }
}

/// The indicators' sums over every agent: each worker sums the chunks of
/// its own agents (shard bounds fall on chunk bounds), sends their partials
/// to every other worker, and every worker adds all partials in chunk
/// order, as one process does: K values per chunk instead of every agent's
/// final states.
impl AgentSums for Sharding<'_> {
    fn agents(&self) -> usize {
        self.shards.agents()
    }

    fn node_sums(&self, rows: &[f64], k: usize, f: &(dyn Fn(&[f64], &mut [f64]) + Sync)) -> Vec<f64> {
        let first = self.own_range().start / AGENT_CHUNK;
        let chunks = self.shards.agents().div_ceil(AGENT_CHUNK);
        let mut partials = vec![f64::NAN; chunks * k];
        let own = chunk_sums(rows, k, f);
        partials[first * k..first * k + own.len()].copy_from_slice(&own);
        let round = send_floats(self.transport, k, &mut |_, push| {
            for (c, sums) in own.chunks_exact(k).enumerate() {
                push((first + c) as u32, sums);
            }
        });
        let mut received = own.len() / k;
        round.read_rows(|_, c, sums| {
            let c = c as usize;
            partials[c * k..(c + 1) * k].copy_from_slice(sums);
            received += 1;
        });
        assert_eq!(received, chunks, "the shards summed the chunks of another layout");
        add_in_order(&partials, k)
    }
}

/// A gradient term a source on this worker sends the owner of the gate
/// it reaches (the gate is the item's id): the source's position in the
/// step, by which the owner orders the terms of its gate's sum as one
/// process does, and the term.
#[derive(Clone, Copy)]
struct GateTerm<const K: usize> {
    position: u32,
    gradient: [f64; K],
}

impl<const K: usize> Message for GateTerm<K> {
    const WORDS: usize = 1 + K;
    fn encode(&self, words: &mut [u64]) {
        words[0] = u64::from(self.position);
        self.gradient.encode(&mut words[1..]);
    }
    fn decode(words: &[u64]) -> Self {
        Self {
            position: u32::try_from(words[0]).expect("a position of a step, sent as one"),
            gradient: <[f64; K]>::decode(&words[1..]),
        }
    }
}

impl ForeignParents {
    /// Which parents our gates' reposts read on other shards; each worker
    /// tells their owners, so that each knows what it serves. Collective.
    fn new(replay: &Replay, own: &OwnGates, shards: &Shards, transport: &dyn Transport) -> Self {
        let mut wanted: Vec<u32> = own
            .gates()
            .flat_map(|g| replay.content.links(g))
            .map(|&(parent, _)| parent)
            .filter(|&parent| own.local(parent as usize).is_none())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let owner = |g: u32| shards.of(replay.gates.agent(g as usize) as usize);
        // A request is the parent's gate alone.
        let round = send::<()>(transport, &mut |s, push| {
            for &g in wanted.iter().filter(|&&g| owner(g) == s) {
                push(g, &());
            }
        });
        let mut serves = vec![Vec::new(); shards.count()];
        round.read(|from, g, ()| serves[from].push(g));
        for list in &mut serves {
            list.sort_unstable();
        }
        Self { wanted, serves }
    }
}

impl StepPlan {
    fn new(
        replay: &Replay,
        step: &StepGraph,
        owners: &[u32],
        me: usize,
        shards: usize,
        range: std::ops::Range<usize>,
    ) -> Self {
        let senders = step.senders().len();
        let own_positions: Vec<u32> = (0..step.sources())
            .filter(|&p| owners[source_at(replay, step, p).0] as usize == me)
            .map(|p| p as u32)
            .collect();
        let mut position_sends = ShardSets::new(own_positions.len(), shards);
        for (k, &p) in own_positions.iter().enumerate() {
            let p = p as usize;
            let (agent, _) = source_at(replay, step, p);
            let mut mark = |reader: u32| {
                let s = owners[reader as usize] as usize;
                if s != me {
                    position_sends.insert(k, s);
                }
            };
            if p < senders {
                replay.graph.followers(agent).iter().for_each(|&j| mark(j));
            }
            if let Some(extra) = step.extra() {
                extra.readers(p).0.iter().for_each(|&j| mark(j));
            }
        }
        let mut adjoint_sends = ShardSets::new(range.len(), shards);
        for (r, j) in range.enumerate() {
            let mut mark = |p: u32| {
                let (agent, _) = source_at(replay, step, p as usize);
                let s = owners[agent] as usize;
                if s != me {
                    adjoint_sends.insert(r, s);
                }
            };
            step.row(j).for_each(&mut mark);
            if let Some(extra) = step.extra() {
                extra.row(j).0.iter().for_each(|&p| mark(p));
            }
        }
        Self {
            own_positions,
            position_sends,
            adjoint_sends,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ShardSets;

    #[test]
    fn shard_sets_hold_each_pair_they_were_given() {
        // 3 shards and 5 shards: items straddle word bounds either way.
        for shards in [3, 5] {
            let items = 100;
            let mut sets = ShardSets::new(items, shards);
            let given = |i: usize, s: usize| (i * 7 + s * 3).is_multiple_of(4);
            for i in 0..items {
                for s in 0..shards {
                    if given(i, s) {
                        sets.insert(i, s);
                    }
                }
            }
            for s in 0..shards {
                let expected: Vec<usize> = (0..items).filter(|&i| given(i, s)).collect();
                assert!(!expected.is_empty());
                assert_eq!(
                    sets.items_for(s).collect::<Vec<_>>(),
                    expected,
                    "{shards} shards, shard {s}"
                );
            }
        }
    }
}
