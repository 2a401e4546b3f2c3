//! A population compiled for differentiable replay: one gate per (agent,
//! step) that did anything, and the per-step graphs the sweeps run over.
//!
//! A [`Replay`] is immutable once built: every sweep reads it, none writes
//! it, so any number of attributions (of one indicator or several, one
//! after another or at once) can share it. What a sweep writes lives in the
//! [`crate::Workspace`] its caller passes in.

mod extra;
mod gates;
mod ids;
mod network;
mod step_graph;

pub(crate) use gates::Gates;
pub use ids::{Gate, ReplayAgent};
pub use network::{Content, ExtraEdges, GateTablesKept, Network, NetworkSummary, ReplayOptions, Source};
pub use step_graph::{Row, StepGraph};

use crate::graph::FollowGraph;
use crate::population::{Population, PopulationError};
use crate::shards::Shards;
use crate::slots::filled;
use aumann_engine::Groups;
use rayon::prelude::*;

/// An engagement resolved to the gates of its engager and author at its step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct GateEngagement {
    pub(crate) engager_gate: u32,
    pub(crate) author_gate: u32,
    /// The author's [`ReplayAgent`] index.
    pub(crate) author: u32,
    pub(crate) amount: f64,
}

/// Everything the indicators need, built once per population.
///
/// The players of every indicator are the same gates, so attributions of
/// different indicators line up row for row; a gate that an indicator does
/// not read is a null player there and gets exactly 0.
///
/// Inside a replay, agents are relabeled by descending follower count (in
/// the follow graph): the few accounts that most receivers read then sit
/// together in memory, and the sweeps' random reads mostly hit cache. The
/// fields below are in that internal order ([`ReplayAgent`]);
/// [`Replay::original`] maps back, and [`Replay::agent_groups`] sums gates
/// per original id.
pub struct Replay {
    pub(crate) graph: FollowGraph,
    pub(crate) gates: Gates,
    /// Per gate: the activity a (duplicates in the input summed), 0 if none.
    pub(crate) activity: Vec<f64>,
    /// Per gate: the signed order flow u (summed), 0 if none; empty unless
    /// `kept.orders`.
    pub(crate) orders: Vec<f64>,
    /// Per agent.
    pub(crate) stance: Vec<f64>,
    pub(crate) followers: Vec<f64>,
    /// Engagements with positive amount, duplicates summed, sorted by
    /// (author, step, engager); empty unless `kept.engagements`.
    pub(crate) engagements: Vec<GateEngagement>,
    /// Which of the tables above this replay kept.
    kept: GateTablesKept,
    /// One per step: who receives whose posts at that step.
    pub(crate) step_graphs: Vec<StepGraph>,
    /// What reposts carry from their parents.
    pub(crate) content: Content,
    /// Some step reads content that no gate silences.
    pub(crate) unattributed: bool,
    network: NetworkSummary,
    /// Agents with any nonzero order over the window.
    traders: usize,
    /// internal id -> original id, and back.
    original: Vec<u32>,
    internal: Vec<u32>,
    /// Receivers with per-step rows (all, or one shard's).
    rows: std::ops::Range<usize>,
}

impl Replay {
    /// Validates the population and compiles it.
    pub fn new(population: &Population) -> Result<Self, PopulationError> {
        Self::with_progress(population, ReplayOptions::default(), &|_, _| {})
    }

    /// [`Replay::new`] over the chosen network, telling `on_rows(done,
    /// total)` as the receivers' per-step rows are filled (the longest part
    /// of the build; a receiver counts once per sixteen steps).
    pub fn with_progress(
        population: &Population,
        options: ReplayOptions,
        on_rows: &dyn Fn(usize, usize),
    ) -> Result<Self, PopulationError> {
        population.validate()?;
        Self::build(population, population.follows.as_slice().into(), options, None, on_rows)
    }

    /// The replay as one worker of `count` holds it for a sharded sweep:
    /// everything but the per-step rows of receivers outside shard `shard`
    /// of [`Shards::balanced_over`] (the largest part of a replay, about 2 bytes
    /// per active edge and step). Only
    /// [`Indicator::sharded_model`](crate::Indicator::sharded_model) on the
    /// same shard reads it; a model of the whole replay refuses it.
    pub fn shard(
        population: &Population,
        options: ReplayOptions,
        shard: usize,
        count: usize,
        on_rows: &dyn Fn(usize, usize),
    ) -> Result<Self, PopulationError> {
        assert!(shard < count, "shard {shard} of {count}");
        population.validate()?;
        Self::build(
            population,
            population.follows.as_slice().into(),
            options,
            Some((shard, count)),
            on_rows,
        )
    }

    /// [`Replay::with_progress`] (or, with `shard` = (shard, count),
    /// [`Replay::shard`]) for a caller that needs the population's edge
    /// tables no more: they are released
    /// ([`Population::release_edge_tables`]), the follows as soon as the
    /// follow graph holds them, the others as soon as the gates and the
    /// timed edges are read from them, before the per-step rows are written.
    /// The replay is the same as the borrowing build's, bit for bit; the
    /// tables are released whether the build succeeds or not.
    ///
    /// Why: the follows are the population's largest table (0.53 GB at
    /// full scale), and the build's peak comes after the follow graph is
    /// built, while the graph's two sides, the gate tables and the step
    /// rows are made. On a cluster every process builds the whole graph
    /// before it keeps its shard, and from about eight processes on this
    /// peak would be the process's (BENCHMARKS.md, "The follows released
    /// while the replay is built"). The other tables (the engagements alone
    /// 0.3 GB at full scale) are freed just before the step rows are
    /// written, so that the rows can take their pages while the kernel
    /// still has them at hand (BENCHMARKS.md, "Step rows that do not
    /// move").
    pub fn releasing(
        population: &mut Population,
        options: ReplayOptions,
        shard: Option<(usize, usize)>,
        on_rows: &dyn Fn(usize, usize),
    ) -> Result<Self, PopulationError> {
        if let Some((shard, count)) = shard {
            assert!(shard < count, "shard {shard} of {count}");
        }
        let validated = population.validate();
        let follows = std::mem::take(&mut population.follows);
        let read = validated.and_then(|()| FromPopulation::read(population, follows.into(), options, shard));
        population.release_edge_tables();
        Ok(read?.build(on_rows))
    }

    /// The build, over a validated `population` whose follows are
    /// `follows` (borrowed from it, or taken out of it: then dropped as
    /// soon as the follow graph holds them).
    fn build(
        population: &Population,
        follows: std::borrow::Cow<'_, [(u32, u32)]>,
        options: ReplayOptions,
        shard: Option<(usize, usize)>,
        on_rows: &dyn Fn(usize, usize),
    ) -> Result<Self, PopulationError> {
        Ok(FromPopulation::read(population, follows, options, shard)?.build(on_rows))
    }

    /// Which of the tables that only some indicators read this replay kept.
    pub fn kept(&self) -> GateTablesKept {
        self.kept
    }

    /// The receivers whose per-step rows this replay holds: all of them,
    /// unless it was built for one shard ([`Replay::shard`]).
    pub fn rows(&self) -> std::ops::Range<usize> {
        self.rows.clone()
    }

    /// Whether every receiver's rows are here (what a whole-replay model
    /// needs).
    pub fn is_whole(&self) -> bool {
        self.rows == (0..self.agents())
    }

    /// The population's id of a replay agent.
    pub fn original(&self, agent: ReplayAgent) -> u32 {
        self.original[agent.index()]
    }

    /// Values per replay agent (as the replay's graph numbers them), moved
    /// to the population's order.
    pub fn by_original(&self, per_replay_agent: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; per_replay_agent.len()];
        for (r, &value) in per_replay_agent.iter().enumerate() {
            out[self.original[r] as usize] = value;
        }
        out
    }

    /// The replay agent of a population id.
    pub fn replay_agent(&self, original: u32) -> ReplayAgent {
        ReplayAgent(self.internal[original as usize])
    }

    /// The population's id of the agent behind a gate.
    pub fn gate_agent(&self, gate: Gate) -> u32 {
        self.original[self.gates.agent(gate.index()) as usize]
    }

    /// The step of a gate.
    pub fn gate_step(&self, gate: Gate) -> u32 {
        self.gates.step(gate.index())
    }

    /// The replay agent behind a gate.
    pub fn gate_replay_agent(&self, gate: Gate) -> ReplayAgent {
        ReplayAgent(self.gates.agent(gate.index()))
    }

    /// What the agent posted at the gate's step (duplicates summed; 0 when
    /// the gate exists only for orders or engagements).
    pub fn gate_activity(&self, gate: Gate) -> f64 {
        self.activity[gate.index()]
    }

    /// The agent's net order flow at the gate's step.
    pub fn gate_order(&self, gate: Gate) -> f64 {
        self.orders[gate.index()]
    }

    /// An agent's initial stance.
    pub fn stance(&self, agent: ReplayAgent) -> f64 {
        self.stance[agent.index()]
    }

    /// Replaces every agent's initial stance (`stance` by population id,
    /// one per agent, each in [0, 1]), and returns the stances it held, by
    /// population id: a stance alternative re-attributes the same replay
    /// without building it again.
    pub fn replace_stance(&mut self, stance: &[f64]) -> Vec<f64> {
        assert_eq!(stance.len(), self.stance.len(), "one stance per agent");
        let mut previous = vec![0.0; stance.len()];
        for (internal, &original) in self.original.iter().enumerate() {
            previous[original as usize] = self.stance[internal];
            self.stance[internal] = stance[original as usize];
        }
        previous
    }

    /// An agent's follower count (the population's column).
    pub fn followers(&self, agent: ReplayAgent) -> f64 {
        self.followers[agent.index()]
    }

    /// The gates of a step, in order.
    pub fn step_gates(&self, step: usize) -> impl ExactSizeIterator<Item = Gate> + use<> {
        self.gates.range(step).map(|g| Gate(g as u32))
    }

    /// Every gate, in order.
    pub fn gate_ids(&self) -> impl ExactSizeIterator<Item = Gate> + use<> {
        (0..self.players() as u32).map(Gate)
    }

    pub fn agents(&self) -> usize {
        self.graph.agents()
    }

    pub fn steps(&self) -> usize {
        self.gates.steps()
    }

    /// The number of players (gates) of every indicator on this replay.
    pub fn players(&self) -> usize {
        self.gates.len()
    }

    /// `count` shards of this replay's agents that hold about the same work
    /// ([`Shards::balanced_over`] its follow graph).
    pub fn shards(&self, count: usize) -> Shards {
        Shards::balanced_over(&self.graph, count)
    }

    /// Step t's sources and who reads them: the layout every sweep streams,
    /// read-only, for a backend written beside this crate.
    pub fn step_graph(&self, t: usize) -> &StepGraph {
        &self.step_graphs[t]
    }

    /// Which gates carry content reposted from which parents.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Whether activity no gate silences is replayed (every emission then
    /// has a constant term).
    pub fn has_unattributed(&self) -> bool {
        self.unattributed
    }

    /// The follow graph, in the replay's agent order ([`ReplayAgent`]
    /// indices).
    pub fn graph(&self) -> &FollowGraph {
        &self.graph
    }

    /// Agents with any nonzero order over the window.
    pub fn traders(&self) -> usize {
        self.traders
    }

    /// Which network the diffusion indicators replay, and its parts.
    pub fn network(&self) -> &NetworkSummary {
        &self.network
    }

    /// Gate -> original agent id, for summing per-gate attributions per agent.
    pub fn agent_groups(&self) -> Groups {
        let group_of = self.gate_ids().map(|g| self.gate_agent(g)).collect();
        Groups::new(group_of, self.agents()).expect("gate agents are valid ids")
    }

    /// Edges read by one forward sweep: every step, every receiver pulls
    /// over its followees that posted.
    pub fn forward_edges(&self) -> u64 {
        self.step_graphs.iter().map(|s| s.edges() as u64).sum()
    }

    /// Edges from an active sender, over all steps: what the reverse sweep
    /// walks from the senders, and the k-wide work of each pull. The same
    /// edges as [`Replay::forward_edges`], seen from their other end (a
    /// step counts its follow edges as its senders' followers).
    pub fn active_edges(&self) -> u64 {
        self.forward_edges()
    }

    /// Bytes of the graph structures read by the sweeps.
    pub fn memory_bytes(&self) -> usize {
        self.graph.memory_bytes()
            + self.step_graphs.iter().map(StepGraph::memory_bytes).sum::<usize>()
            + self.gates.memory_bytes()
            + (self.activity.len() + self.orders.len()) * 8
            + self.engagements.len() * std::mem::size_of::<GateEngagement>()
            + self.content.memory_bytes()
    }

    /// Gate vectors (input and baseline of a path) must lie in [0, 1]: a gate
    /// scales what an agent did at a step between silence and the record.
    pub fn check_gates(&self, what: &'static str, gates: &[f64]) -> Result<(), GateError> {
        if gates.len() != self.players() {
            return Err(GateError::Length {
                what,
                found: gates.len(),
                expected: self.players(),
            });
        }
        if let Some((g, &value)) = gates.iter().enumerate().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
            let gate = Gate(g as u32);
            return Err(GateError::OutOfRange {
                what,
                gate: g,
                agent: self.gate_agent(gate),
                step: self.gate_step(gate),
                value,
            });
        }
        Ok(())
    }
}

/// Everything a replay takes from its population: the follow graph, the
/// gate tables, each step's senders and timed edges, and the agents'
/// columns in the replay's order. What is left of the build
/// ([`FromPopulation::build`], the per-step rows) reads the population no more, so a
/// caller that is done with the population's tables can free them first.
struct FromPopulation {
    graph: FollowGraph,
    tables: GateTables,
    /// Per step, its senders' gates ([`StepGraph::senders_of`]).
    senders: Vec<Vec<u32>>,
    /// Per step (`agents` entries each), each sender's rank among the
    /// step's senders ([`GateTables::take_positions`]).
    positions: Vec<u32>,
    extras: Vec<Option<ExtraEdges>>,
    network: NetworkSummary,
    follows_timed: u64,
    stance: Vec<f64>,
    followers: Vec<f64>,
    kept: GateTablesKept,
    original: Vec<u32>,
    internal: Vec<u32>,
    rows: std::ops::Range<usize>,
}

impl FromPopulation {
    /// Reads a validated `population` whose follows are `follows`
    /// (borrowed from it, or taken out of it: then dropped as soon as the
    /// follow graph holds them).
    fn read(
        population: &Population,
        follows: std::borrow::Cow<'_, [(u32, u32)]>,
        options: ReplayOptions,
        shard: Option<(usize, usize)>,
    ) -> Result<Self, PopulationError> {
        let n = population.agents;
        let split = network::SplitFollows::new(follows, &population.follow_spans, options.network);
        let follows_timed = split.timed.len() as u64;
        let (graph, original) = FollowGraph::by_popularity(n, split.always)?;
        let rows = match shard {
            Some((shard, count)) => Shards::balanced_over(&graph, count).range(shard),
            None => 0..n,
        };
        let mut internal = vec![0u32; n];
        for (new, &old) in original.iter().enumerate() {
            internal[old as usize] = new as u32;
        }
        let mut tables = GateTables::build(population, &internal, options.tables);
        let mut extra_edges =
            extra::Builder::new(population, &split.timed, &tables, &internal, options.network, &graph);
        let steps = population.steps;
        let senders: Vec<Vec<u32>> = (0..steps)
            .into_par_iter()
            .map(|t| StepGraph::senders_of(&tables.gates, &tables.activity, t))
            .collect();
        let positions = tables.take_positions(n);
        let extras: Vec<_> = (positions.chunks(n.max(1)).enumerate())
            .map(|(t, positions)| extra_edges.step(t, &senders[t], positions, &tables))
            .collect();
        let network = extra_edges.summary;
        let permute = |values: &[f64]| original.iter().map(|&a| values[a as usize]).collect();
        Ok(Self {
            stance: permute(&population.stance),
            followers: permute(&population.followers),
            graph,
            tables,
            senders,
            positions,
            extras,
            network,
            follows_timed,
            kept: options.tables,
            original,
            internal,
            rows,
        })
    }

    /// The per-step rows, and the replay; `on_rows(done, total)` as the
    /// rows are filled.
    fn build(self, on_rows: &dyn Fn(usize, usize)) -> Replay {
        let Self {
            mut graph,
            mut tables,
            senders,
            positions,
            extras,
            mut network,
            follows_timed,
            stance,
            followers,
            kept,
            original,
            internal,
            rows,
        } = self;
        // From here the build reads the followee rows of its receivers and
        // the counts only, and the sweeps the followers and the per-step
        // rows; a shard sums the adjoints of its own sources, so it needs
        // their follower rows alone.
        if rows != (0..graph.agents()) {
            graph.keep_rows(rows.clone());
        }
        let positions: Vec<&[u32]> = positions.chunks(graph.agents().max(1)).collect();
        let step_graphs = StepGraph::build_all(&graph, senders, &positions, extras, rows.clone(), on_rows);
        network.follows_always = graph.edges() as u64;
        network.follows_timed = follows_timed;
        network.reposts_linked = tables.reposts_linked;
        network.reposts_unlinked = tables.reposts_unlinked;
        let unattributed = step_graphs.iter().any(|s| {
            s.extra()
                .is_some_and(|e| e.sources.iter().any(|s| s.gate == Source::NO_GATE))
        });
        graph.release_followees();
        let content = std::mem::take(&mut tables.content);
        Replay {
            stance,
            followers,
            graph,
            gates: tables.gates,
            activity: tables.activity,
            orders: tables.orders,
            engagements: tables.engagements,
            kept,
            step_graphs,
            content,
            unattributed,
            network,
            traders: tables.traders,
            original,
            internal,
            rows,
        }
    }
}

/// The per-gate tables of a replay, resolved from the population's rows.
pub(crate) struct GateTables {
    pub(crate) gates: Gates,
    pub(crate) activity: Vec<f64>,
    orders: Vec<f64>,
    engagements: Vec<GateEngagement>,
    traders: usize,
    content: Content,
    reposts_linked: u64,
    reposts_unlinked: u64,
    /// Per exposure row (amount > 0): the gate of the item shown, if the
    /// activity table records it.
    pub(crate) exposure_gates: Vec<Option<u32>>,
    /// `index[step * agents + agent]`: the gate, or u32::MAX where there is
    /// none ([`Gates::with_index`]); made into the steps' sender positions
    /// by [`GateTables::take_positions`].
    index: Vec<u32>,
}

impl GateTables {
    fn build(population: &Population, internal: &[u32], kept: GateTablesKept) -> Self {
        let (n, steps) = (population.agents, population.steps);
        let id = |a: u32| internal[a as usize];
        let keys = (population.activity.iter().filter(|a| a.amount > 0.0))
            .map(|a| (a.step, id(a.agent)))
            .chain((population.orders.iter().filter(|o| o.flow != 0.0)).map(|o| (o.step, id(o.agent))))
            .chain(
                (population.engagements.iter().filter(|e| e.amount > 0.0))
                    .flat_map(|e| [(e.step, id(e.engager)), (e.step, id(e.author))]),
            );
        // 4 bytes per agent and step, dropped when the tables are built.
        let (gates, index) = Gates::with_index(keys, steps, n);
        let gate_of = |agent: u32, step: u32| index[step as usize * n + id(agent) as usize];

        let mut activity = filled(gates.len(), 0.0);
        for a in population.activity.iter().filter(|a| a.amount > 0.0) {
            activity[gate_of(a.agent, a.step) as usize] += a.amount;
        }
        let mut orders = if kept.orders {
            vec![0.0; gates.len()]
        } else {
            Vec::new()
        };
        let mut trades = vec![false; n];
        for o in population.orders.iter().filter(|o| o.flow != 0.0) {
            if kept.orders {
                orders[gate_of(o.agent, o.step) as usize] += o.flow;
            }
            trades[o.agent as usize] = true;
        }
        let traders = trades.iter().filter(|&&t| t).count();

        // Mapped whole, then filtered in place: a parallel filter collects
        // into a list of pieces and copies them once more (two fresh 300 MB
        // vectors at full scale, where first touches are dear).
        let kept_engagements = if kept.engagements {
            &population.engagements[..]
        } else {
            &[]
        };
        let mut engagements: Vec<GateEngagement> = kept_engagements
            .par_iter()
            .map(|e| GateEngagement {
                engager_gate: gate_of(e.engager, e.step),
                author_gate: gate_of(e.author, e.step),
                author: id(e.author),
                amount: e.amount,
            })
            .collect();
        engagements.retain(|e| e.amount > 0.0);
        let posted_gate = |agent: u32, step: u32| {
            let g = gate_of(agent, step);
            (g != u32::MAX && activity[g as usize] > 0.0).then_some(g)
        };
        let exposure_gates = population
            .exposures
            .par_iter()
            .filter(|e| e.amount > 0.0)
            .map(|e| posted_gate(e.author, e.posted.unwrap_or(e.step)))
            .collect();
        let (mut reposts_linked, mut reposts_unlinked) = (0, 0);
        let mut links = Vec::new();
        for r in population.reposts.iter().filter(|r| r.amount > 0.0) {
            match posted_gate(r.parent_author, r.parent_step) {
                Some(parent) => {
                    reposts_linked += 1;
                    links.push((gate_of(r.reposter, r.step), parent, r.amount));
                }
                None => reposts_unlinked += 1,
            }
        }
        let content = Content::from_links(links, &activity);
        engagements.par_sort_unstable_by_key(|e| (e.author, e.author_gate, e.engager_gate));
        engagements.dedup_by(|later, kept| {
            let same = later.author_gate == kept.author_gate && later.engager_gate == kept.engager_gate;
            if same {
                kept.amount += later.amount;
            }
            same
        });
        Self {
            gates,
            activity,
            orders,
            engagements,
            traders,
            content,
            reposts_linked,
            reposts_unlinked,
            exposure_gates,
            index,
        }
    }

    /// Per step (`agents` entries each), every agent's position among the
    /// step's senders ([`StepGraph::senders_of`]: the gates with activity,
    /// in gate order), or [`step_graph::SILENT`]: what
    /// [`StepGraph::positions_of`] gives, written over the gate index in
    /// place (its pages are at hand; fresh ones cost a first touch).
    fn take_positions(&mut self, agents: usize) -> Vec<u32> {
        let mut positions = std::mem::take(&mut self.index);
        let activity = &self.activity;
        // The gates of a step ascend with their agents, so numbering the
        // senders while scanning agents numbers them in gate order.
        positions.par_chunks_mut(agents.max(1)).for_each(|step| {
            let mut next = 0;
            for slot in step {
                *slot = if *slot != u32::MAX && activity[*slot as usize] > 0.0 {
                    next += 1;
                    next - 1
                } else {
                    step_graph::SILENT
                };
            }
        });
        positions
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GateError {
    #[error("{what} has {found} gates but the replay has {expected}")]
    Length {
        what: &'static str,
        found: usize,
        expected: usize,
    },
    #[error("{what} gate {gate} (agent {agent}, step {step}) is {value}: gates lie in [0, 1]")]
    OutOfRange {
        what: &'static str,
        gate: usize,
        agent: u32,
        step: u32,
        value: f64,
    },
    #[error("every gate at {value} is no baseline: gates lie in [0, 1]")]
    Fraction { value: f64 },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{Activity, Engagement, Order};

    #[test]
    fn positions_written_over_the_gate_index_are_each_steps_sender_positions() {
        // Gates of three kinds: posts (senders), posts of amount 0 (no
        // gate of their own), orders and engagements (gates that send
        // nothing); agents in no particular order, one step without any
        // sender, and an agent with several rows at one step.
        let (agents, steps) = (7, 4);
        let post = |agent, step, amount| Activity { agent, step, amount };
        let population = Population {
            agents,
            steps,
            stance: vec![0.5; agents],
            followers: vec![0.0; agents],
            activity: vec![
                post(5, 0, 1.0),
                post(2, 0, 3.0),
                post(6, 0, 0.0),
                post(2, 0, 1.0),
                post(0, 1, 2.0),
                post(6, 1, 1.0),
                post(3, 3, 1.0),
            ],
            orders: vec![Order {
                agent: 4,
                step: 0,
                flow: -1.0,
            }],
            engagements: vec![Engagement {
                engager: 1,
                author: 6,
                step: 2,
                amount: 1.0,
            }],
            ..Default::default()
        };
        let internal: Vec<u32> = vec![3, 0, 6, 1, 5, 2, 4];
        let mut tables = GateTables::build(&population, &internal, GateTablesKept::default());
        let expected: Vec<Vec<u32>> = (0..steps)
            .map(|t| {
                let senders = StepGraph::senders_of(&tables.gates, &tables.activity, t);
                StepGraph::positions_of(&tables.gates, &senders, agents)
            })
            .collect();
        let positions = tables.take_positions(agents);
        assert_eq!(positions, expected.concat());
        // Spelled out for step 0, in internal ids: agents 2 and 5 posted
        // (internal 6 and 2), agent 4 only traded (internal 5).
        let silent = step_graph::SILENT;
        assert_eq!(&positions[..agents], &[silent, silent, 0, silent, silent, silent, 1]);
        assert!(positions[2 * agents..3 * agents].iter().all(|&p| p == silent));
    }
}
