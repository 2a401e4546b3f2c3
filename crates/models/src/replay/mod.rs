//! A population compiled for differentiable replay: one gate per (agent,
//! step) that did anything, and the per-step graphs the sweeps run over.

mod gates;
mod step_graph;

pub use gates::Gates;
pub use step_graph::StepGraph;

use crate::graph::FollowGraph;
use crate::population::{Population, PopulationError};
use aumann_engine::Groups;
use rayon::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};

/// An engagement resolved to the gates of its engager and author at its step.
#[derive(Clone, Copy, Debug)]
pub struct GateEngagement {
    pub engager_gate: u32,
    pub author_gate: u32,
    pub author: u32,
    pub amount: f64,
}

/// Everything the indicators need, built once per population.
///
/// The players of every indicator are the same gates, so attributions of
/// different indicators line up row for row; a gate that an indicator does
/// not read is a null player there and gets exactly 0.
///
/// Inside a replay, agents are relabeled by descending follower count (in
/// the follow graph): the few accounts that most receivers read then sit
/// together in memory, and the sweeps' random reads mostly hit cache. Every
/// per-agent field below is in that internal order; [`Replay::original`]
/// maps back, and [`Replay::agent_groups`] sums gates per original id.
pub struct Replay {
    pub graph: FollowGraph,
    pub gates: Gates,
    /// Per gate: the activity a (duplicates in the input summed), 0 if none.
    pub activity: Vec<f64>,
    /// Per gate: the signed order flow u (summed), 0 if none.
    pub orders: Vec<f64>,
    /// Per agent.
    pub stance: Vec<f64>,
    pub followers: Vec<f64>,
    /// Engagements with positive amount, duplicates summed, sorted by
    /// (author, step, engager).
    pub engagements: Vec<GateEngagement>,
    /// One per step: who receives whose posts at that step.
    pub step_graphs: Vec<StepGraph>,
    /// Agents with any nonzero order over the window.
    pub traders: usize,
    /// internal id -> original id, and back.
    original: Vec<u32>,
    internal: Vec<u32>,
    active_edges: u64,
    edges_read: AtomicU64,
    /// Buffers the sweeps reuse from one call to the next: fresh
    /// allocations of this size cost the kernel a tenth of the run zeroing
    /// pages.
    pub(crate) scratch: Scratch,
}

/// A pool of f64 buffers. Buffers come back with stale contents, which the
/// sweeps overwrite or clear.
#[derive(Default)]
pub(crate) struct Scratch(std::sync::Mutex<Vec<Vec<f64>>>);

impl Scratch {
    pub(crate) fn take(&self, len: usize) -> Vec<f64> {
        let mut pool = self.0.lock().expect("scratch pool");
        let best = (0..pool.len())
            .filter(|&b| pool[b].capacity() >= len)
            .min_by_key(|&b| pool[b].capacity());
        let mut buffer = best.map(|b| pool.swap_remove(b)).unwrap_or_default();
        buffer.resize(len, 0.0);
        buffer.truncate(len);
        buffer
    }

    pub(crate) fn give(&self, buffer: Vec<f64>) {
        self.0.lock().expect("scratch pool").push(buffer);
    }

    fn clear(&self) {
        self.0.lock().expect("scratch pool").clear();
    }
}

impl Replay {
    pub fn new(population: &Population) -> Result<Self, PopulationError> {
        population.validate()?;
        let n = population.agents;
        let graph = FollowGraph::from_follows(n, &population.follows)?;
        let mut original: Vec<u32> = (0..n as u32).collect();
        original.par_sort_unstable_by_key(|&a| (std::cmp::Reverse(graph.follower_count(a as usize)), a));
        let mut internal = vec![0u32; n];
        for (new, &old) in original.iter().enumerate() {
            internal[old as usize] = new as u32;
        }
        let graph = graph.relabeled(&internal);
        Self::build(population, graph, original, internal)
    }

    fn build(
        population: &Population,
        graph: FollowGraph,
        original: Vec<u32>,
        internal: Vec<u32>,
    ) -> Result<Self, PopulationError> {
        let (n, steps) = (population.agents, population.steps);
        let id = |a: u32| internal[a as usize];
        let mut keys: Vec<(u32, u32)> = Vec::new();
        keys.extend(
            population
                .activity
                .iter()
                .filter(|a| a.amount > 0.0)
                .map(|a| (a.step, id(a.agent))),
        );
        keys.extend(
            population
                .orders
                .iter()
                .filter(|o| o.flow != 0.0)
                .map(|o| (o.step, id(o.agent))),
        );
        for e in population.engagements.iter().filter(|e| e.amount > 0.0) {
            keys.push((e.step, id(e.engager)));
            keys.push((e.step, id(e.author)));
        }
        let gates = Gates::from_keys(keys, steps);
        let index = gates.dense_index(n);
        let gate_of = |agent: u32, step: u32| index[step as usize * n + id(agent) as usize];

        let mut activity = vec![0.0; gates.len()];
        for a in population.activity.iter().filter(|a| a.amount > 0.0) {
            activity[gate_of(a.agent, a.step) as usize] += a.amount;
        }
        let mut orders = vec![0.0; gates.len()];
        let mut trades = vec![false; n];
        for o in population.orders.iter().filter(|o| o.flow != 0.0) {
            orders[gate_of(o.agent, o.step) as usize] += o.flow;
            trades[o.agent as usize] = true;
        }
        let traders = trades.iter().filter(|&&t| t).count();

        let mut engagements: Vec<GateEngagement> = population
            .engagements
            .par_iter()
            .filter(|e| e.amount > 0.0)
            .map(|e| GateEngagement {
                engager_gate: gate_of(e.engager, e.step),
                author_gate: gate_of(e.author, e.step),
                author: id(e.author),
                amount: e.amount,
            })
            .collect();
        engagements.par_sort_unstable_by_key(|e| (e.author, e.author_gate, e.engager_gate));
        engagements.dedup_by(|later, kept| {
            let same = later.author_gate == kept.author_gate && later.engager_gate == kept.engager_gate;
            if same {
                kept.amount += later.amount;
            }
            same
        });

        drop(index);
        let step_graphs: Vec<StepGraph> = (0..steps)
            .map(|t| StepGraph::build(&graph, &gates, &activity, t))
            .collect();
        let active_edges = step_graphs
            .iter()
            .flat_map(|s| s.senders())
            .map(|&g| graph.follower_count(gates.agent(g as usize) as usize) as u64)
            .sum();
        let permute = |values: &[f64]| original.iter().map(|&a| values[a as usize]).collect();
        Ok(Self {
            stance: permute(&population.stance),
            followers: permute(&population.followers),
            graph,
            gates,
            activity,
            orders,
            engagements,
            step_graphs,
            traders,
            original,
            internal,
            active_edges,
            edges_read: AtomicU64::new(0),
            scratch: Scratch::default(),
        })
    }

    /// The original id of an internal agent.
    pub fn original(&self, internal: u32) -> u32 {
        self.original[internal as usize]
    }

    /// The internal id of an original agent.
    pub fn internal(&self, original: u32) -> u32 {
        self.internal[original as usize]
    }

    /// The original id of the agent behind a gate.
    pub fn gate_agent(&self, gate: usize) -> u32 {
        self.original(self.gates.agent(gate))
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

    /// Gate -> original agent id, for summing per-gate attributions per agent.
    pub fn agent_groups(&self) -> Groups {
        let group_of = self.gates.agent_of_each().iter().map(|&a| self.original(a)).collect();
        Groups::new(group_of, self.agents()).expect("gate agents are valid ids")
    }

    /// Edges read by one forward sweep: every step, every receiver pulls
    /// over its followees that posted.
    pub fn forward_edges(&self) -> u64 {
        self.step_graphs.iter().map(|s| s.edges() as u64).sum()
    }

    /// Edges from an active sender, over all steps: what the reverse sweep
    /// walks from the senders, and the k-wide work of each pull.
    pub fn active_edges(&self) -> u64 {
        self.active_edges
    }

    /// Edges read by all sweeps so far (a counter; passes over the graph are
    /// this over the edge count).
    pub fn edges_read(&self) -> u64 {
        self.edges_read.load(Ordering::Relaxed)
    }

    pub(crate) fn count_edges_read(&self, edges: u64) {
        self.edges_read.fetch_add(edges, Ordering::Relaxed);
    }

    /// Frees the buffers kept for the next sweep.
    pub fn release_buffers(&self) {
        self.scratch.clear();
    }

    /// Bytes of the graph structures read by the sweeps.
    pub fn memory_bytes(&self) -> usize {
        self.graph.memory_bytes()
            + self.step_graphs.iter().map(StepGraph::memory_bytes).sum::<usize>()
            + self.gates.memory_bytes()
            + self.players() * 16
            + self.engagements.len() * std::mem::size_of::<GateEngagement>()
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
            return Err(GateError::OutOfRange {
                what,
                gate: g,
                agent: self.gate_agent(g),
                step: self.gates.step(g),
                value,
            });
        }
        Ok(())
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
}
