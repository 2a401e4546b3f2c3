//! Graph diffusion over T steps, forward and reverse: the sweep that
//! polarization and cascade share.
//!
//! At step t each agent j pulls, over the followees i that posted at t,
//!
//! ```text
//! A_j = sum_i e[i,t]          B_j = sum_i e[i,t] s_i(t)        e[i,t] = alpha[i,t] a[i,t]
//! ```
//!
//! and moves to s_j(t+1) = f(s_j(t), A_j, B_j). The indicator is a function
//! of s(T). The reverse sweep is written here rather than taken from an
//! autodiff crate: none differentiates through a sparse graph in parallel,
//! and the adjoint of a pull over followees is a pull over followers, which
//! needs no atomics.

use super::sweep::{AGENT_CHUNK, AgentSums, AllAgents, padded_nodes};
use crate::Workspace;
use crate::replay::{Replay, Source, StepGraph};
use aumann_engine::{GradientSink, NodeWeights, Path, PathSweep};
use rayon::prelude::*;

/// The per-agent update and the indicator read off the final states.
pub(crate) trait Dynamics: Sync {
    fn initial(&self, replay: &Replay, agent: usize) -> f64;
    /// s' = f(s, A, B).
    fn next(&self, s: f64, a: f64, b: f64) -> f64;
    /// (df/ds, df/dA, df/dB).
    fn partials(&self, s: f64, a: f64, b: f64) -> (f64, f64, f64);
    /// Indicator per node from the final states (agent-major, k per
    /// agent): every agent's in one process, a worker's own on a cluster,
    /// whose sums over every agent `over` makes.
    fn indicator(&self, finals: &[f64], k: usize, values: &mut [f64], over: &dyn AgentSums);
    /// dI/ds(T) at the agents of `finals`, written into `adjoint` (the
    /// same shape).
    fn indicator_gradient(&self, finals: &[f64], k: usize, adjoint: &mut [f64], over: &dyn AgentSums);
}

/// One step's sources at K nodes (the senders, then the extra sources of
/// timed follows and exposures), gathered into compact arrays so that the
/// pulls read small arrays rather than the whole state.
///
/// Along a straight path a gate is affine in tau, so a sender's emission is
/// too: e[m] = c0 + tau_m c1 with c0 = a x'_g and c1 = a (x_g - x'_g). A
/// pull then reads two scalars per sender rather than K values, and A_j
/// needs two scalar sums. A gate whose activity carries reposted content is
/// a product of two affine factors (its own gate and its parents'), so its
/// emission has a third coefficient, of tau^2, read only when `QUAD`. The
/// buffers are reused from step to step.
pub(super) struct Senders<const K: usize> {
    /// (c0, c1) per source.
    pub(super) emissions: Vec<[f64; 2]>,
    /// c2 per source (0 unless some gate carries reposted content).
    pub(super) quad: Vec<f64>,
    pub(super) states: Vec<[f64; K]>,
    taus: [f64; K],
}

/// The path as the gate arithmetic reads it, by the replay's gate ids: the
/// engine's whole vectors in one process ([`Path`]); on a worker of a
/// sharded sweep, its own gates' entries and the parents' that its gates'
/// reposts read (`sharded::ShardPath`).
pub(super) trait GateValues: Sync {
    /// The gate factor gamma(tau) = x0 + tau d of gate g along the path:
    /// (x0, d).
    fn factor(&self, g: usize) -> (f64, f64);
    /// Where gate g's gradient goes in the engine's accumulator.
    fn player(&self, g: usize) -> usize;
}

impl GateValues for Path<'_> {
    #[inline]
    fn factor(&self, g: usize) -> (f64, f64) {
        (self.baseline[g], self.input[g] - self.baseline[g])
    }
    #[inline]
    fn player(&self, g: usize) -> usize {
        g
    }
}

/// The content factor k0 + tau k1 of a gate: its own activity plus what it
/// reposted, each reposted amount scaled by its parent's gate factor.
#[inline]
fn content_factor(replay: &Replay, path: &impl GateValues, g: usize) -> (f64, f64) {
    let (mut k0, mut k1) = (replay.content.own(g), 0.0);
    for &(parent, amount) in replay.content.links(g) {
        let (x0, d) = path.factor(parent as usize);
        k0 += amount * x0;
        k1 += amount * d;
    }
    (k0, k1)
}

/// ([c0, c1], c2) of a gate's emission along the path.
#[inline]
pub(super) fn emission_coefficients(replay: &Replay, path: &impl GateValues, g: usize) -> ([f64; 2], f64) {
    let (x0, d) = path.factor(g);
    if replay.content.links(g).is_empty() {
        let a = replay.activity[g];
        return ([a * x0, a * d], 0.0);
    }
    let (k0, k1) = content_factor(replay, path, g);
    ([x0 * k0, x0 * k1 + d * k0], d * k1)
}

/// The replay agent and the gate (or [`Source::NO_GATE`]) at a position of
/// a step.
#[inline]
pub(super) fn source_at(replay: &Replay, step: &StepGraph, p: usize) -> (usize, u32) {
    let senders = step.senders();
    if p < senders.len() {
        let g = senders[p];
        (replay.gates.agent(g as usize) as usize, g)
    } else {
        let s = step
            .extra()
            .expect("positions past the senders are extra sources")
            .sources[p - senders.len()];
        (s.agent as usize, s.gate)
    }
}

impl<const K: usize> Senders<K> {
    pub(super) fn new(taus: [f64; K]) -> Self {
        Self {
            emissions: Vec::new(),
            quad: Vec::new(),
            states: Vec::new(),
            taus,
        }
    }

    /// Every source of the step, in one process.
    fn gather(&mut self, replay: &Replay, path: &Path<'_>, step: &StepGraph, states: &[[f64; K]]) {
        let sources = step.sources();
        self.emissions.clear();
        self.emissions.resize(sources, [0.0; 2]);
        self.quad.clear();
        self.quad.resize(sources, 0.0);
        self.states.clear();
        self.states.resize(sources, [0.0; K]);
        self.emissions
            .par_iter_mut()
            .zip(self.states.par_iter_mut())
            .zip(self.quad.par_iter_mut())
            .enumerate()
            .for_each(|(p, ((e, s), q))| {
                let (agent, g) = source_at(replay, step, p);
                if g == Source::NO_GATE {
                    // Content nobody in the window silences: one unit at
                    // every node (the edge's weight is the amount).
                    *e = [1.0, 0.0];
                } else {
                    let (c, c2) = emission_coefficients(replay, path, g as usize);
                    *e = c;
                    *q = c2;
                }
                *s = states[agent];
            });
    }

    /// The emission of the p-th source at each node.
    #[inline]
    pub(super) fn emission<const QUAD: bool>(&self, p: usize) -> [f64; K] {
        let [c0, c1] = self.emissions[p];
        if QUAD {
            let c2 = self.quad[p];
            std::array::from_fn(|m| c0 + self.taus[m] * c1 + self.taus[m] * self.taus[m] * c2)
        } else {
            std::array::from_fn(|m| c0 + self.taus[m] * c1)
        }
    }

    /// (A_j, B_j) for receiver j. The accumulators are arrays of a constant
    /// length so that they stay in registers across the followee scan;
    /// `AFFINE` is false when every c0 is 0 (the usual all-silent baseline),
    /// which halves the work.
    #[inline(always)]
    pub(super) fn pull<const AFFINE: bool, const QUAD: bool>(
        &self,
        step: &StepGraph,
        j: usize,
    ) -> ([f64; K], [f64; K]) {
        let (mut a0, mut a1, mut a2) = (0.0, 0.0, 0.0);
        let (mut b0, mut b1, mut b2) = ([0.0; K], [0.0; K], [0.0; K]);
        let mut read = |p: usize, w: Option<f64>| {
            let [mut c0, mut c1] = self.emissions[p];
            let mut c2 = if QUAD { self.quad[p] } else { 0.0 };
            if let Some(w) = w {
                (c0, c1, c2) = (w * c0, w * c1, w * c2);
            }
            let s = &self.states[p];
            a1 += c1;
            for m in 0..K {
                b1[m] += c1 * s[m];
            }
            if AFFINE {
                a0 += c0;
                for m in 0..K {
                    b0[m] += c0 * s[m];
                }
            }
            if QUAD {
                a2 += c2;
                for m in 0..K {
                    b2[m] += c2 * s[m];
                }
            }
        };
        for p in step.row(j) {
            read(p as usize, None);
        }
        if let Some(extra) = step.extra() {
            let (positions, weights) = extra.row(j);
            for (&p, &w) in positions.iter().zip(weights) {
                read(p as usize, Some(w));
            }
        }
        let taus = &self.taus;
        if QUAD {
            let a = std::array::from_fn(|m| a0 + taus[m] * a1 + taus[m] * taus[m] * a2);
            let b = std::array::from_fn(|m| b0[m] + taus[m] * b1[m] + taus[m] * taus[m] * b2[m]);
            (a, b)
        } else {
            let a = std::array::from_fn(|m| a0 + taus[m] * a1);
            let b = std::array::from_fn(|m| b0[m] + taus[m] * b1[m]);
            (a, b)
        }
    }
}

/// Where a sweep's agents live: every agent in this process
/// ([`AllAgents`]), or one worker's shard that exchanges sources and
/// adjoints with the others (`sharded::Sharding`). The driver below is the
/// same for both; only these calls differ, and on a cluster every one of
/// them is collective.
pub(super) trait Layout: AgentSums {
    /// The path as this layout's gate arithmetic reads it.
    type Gates<'p>: GateValues
    where
        Self: 'p;
    /// The engine's players here.
    fn players(&self) -> usize;
    /// The agents whose rows are held here, in replay order.
    fn rows(&self) -> std::ops::Range<usize>;
    /// Whether some gate that posted is open at the path's baseline on any
    /// worker (the sweep's affine variant).
    fn any_open_at_baseline(&self, replay: &Replay, path: &Path<'_>) -> bool;
    fn gate_values<'p>(&'p self, replay: &Replay, path: Path<'p>) -> Self::Gates<'p>;
    /// Fills `senders` with what the rows held here read of step t's
    /// sources; `own_states` are those rows' states at t.
    fn gather<const K: usize, const QUAD: bool>(
        &self,
        senders: &mut Senders<K>,
        replay: &Replay,
        path: &Self::Gates<'_>,
        t: usize,
        own_states: &[[f64; K]],
    );
    /// The positions of step t's sources whose agent is held here,
    /// ascending (`buffer` is scratch for a layout that makes them).
    fn positions<'s>(&'s self, replay: &Replay, t: usize, buffer: &'s mut Vec<u32>) -> &'s [u32];
    /// Makes the adjoints of A and B (2K values per agent, indexed by
    /// replay agent) of every reader of a source held here available.
    fn exchange_adjoints<const K: usize>(&self, t: usize, grad_ab: &mut [f64]);
    /// Adds the sources' terms to their agents' adjoint rows (those held
    /// here) and their gates' gradients, in one process's order.
    #[allow(clippy::too_many_arguments)]
    fn write<const K: usize>(
        &self,
        replay: &Replay,
        path: &Self::Gates<'_>,
        step: &StepGraph,
        sources: &SourceAdjoints<'_>,
        adjoint_rows: &mut [[f64; K]],
        taus: &[f64; K],
        sink: &mut GradientSink<'_>,
    );
    /// Whether this layout holds every agent.
    fn is_whole(&self) -> bool;
}

impl Layout for AllAgents {
    type Gates<'p> = Path<'p>;

    fn players(&self) -> usize {
        self.players
    }
    fn rows(&self) -> std::ops::Range<usize> {
        0..self.agents
    }
    fn any_open_at_baseline(&self, replay: &Replay, path: &Path<'_>) -> bool {
        (replay.activity.iter())
            .zip(path.baseline)
            .any(|(&a, &b)| a > 0.0 && b != 0.0)
    }
    fn gate_values<'p>(&'p self, _: &Replay, path: Path<'p>) -> Path<'p> {
        path
    }
    fn gather<const K: usize, const QUAD: bool>(
        &self,
        senders: &mut Senders<K>,
        replay: &Replay,
        path: &Path<'_>,
        t: usize,
        states: &[[f64; K]],
    ) {
        senders.gather(replay, path, &replay.step_graphs[t], states)
    }
    fn positions<'s>(&'s self, replay: &Replay, t: usize, buffer: &'s mut Vec<u32>) -> &'s [u32] {
        buffer.clear();
        buffer.extend(0..replay.step_graphs[t].sources() as u32);
        buffer
    }
    fn exchange_adjoints<const K: usize>(&self, _: usize, _: &mut [f64]) {}
    fn write<const K: usize>(
        &self,
        replay: &Replay,
        path: &Path<'_>,
        step: &StepGraph,
        sources: &SourceAdjoints<'_>,
        adjoint_rows: &mut [[f64; K]],
        taus: &[f64; K],
        sink: &mut GradientSink<'_>,
    ) {
        sources.write::<K>(replay, path, step, 0, adjoint_rows, taus, sink)
    }
    fn is_whole(&self) -> bool {
        true
    }
}

/// A diffusion indicator as a model: the dynamics `D` swept over the
/// agents of layout `L`. Over [`AllAgents`] it is one process's model; over
/// a shard every call is collective (each worker of the transport makes it
/// with the same arguments) and the results are one process's, bit for
/// bit.
pub(crate) struct Diffusion<'a, D, L> {
    pub(crate) dynamics: D,
    pub(crate) replay: &'a Replay,
    pub(crate) workspace: &'a Workspace,
    pub(crate) layout: L,
}

impl<D: Dynamics, L: Layout> PathSweep for Diffusion<'_, D, L> {
    fn players(&self) -> usize {
        self.layout.players()
    }

    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        sweep_batches(self, path, taus, values, gradient)
    }

    /// In one process, up to 16 points per forward pass; a shard has no
    /// such pass, so each point is its own sweep.
    fn values_at(&self, points: &[&[f64]], values: &mut [f64]) {
        if self.layout.is_whole() {
            super::points::values_at(&self.dynamics, self.replay, self.workspace, points, values)
        } else {
            aumann_engine::values_one_by_one(self, points, values)
        }
    }

    fn values_on_subsets(&self, path: Path<'_>, masks: &[u16], values: &mut [f64]) {
        if self.layout.is_whole() {
            super::points::values_on_subsets(&self.dynamics, self.replay, self.workspace, path, masks, values)
        } else {
            let points = aumann_engine::subset_points(path, masks, values.len());
            let refs: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
            self.values_at(&refs, values)
        }
    }
}

/// Runs the sweep with the node count as a compile-time constant: k is padded
/// up to 1, 4, 8, 12 or 16 with zero-weight copies of the last node, and
/// batches above 16 nodes are split (the engine hands out its batch size, 8
/// by default).
fn sweep_batches<D: Dynamics, L: Layout>(
    model: &Diffusion<'_, D, L>,
    path: Path<'_>,
    taus: &[f64],
    values: &mut [f64],
    mut gradient: Option<&mut GradientSink<'_>>,
) {
    let k = taus.len();
    if k > 16 {
        for start in (0..k).step_by(16) {
            let end = (start + 16).min(k);
            let (taus, values) = (&taus[start..end], &mut values[start..end]);
            match gradient.as_deref_mut() {
                Some(sink) => {
                    let w = sink.weights();
                    let sub: Vec<f64> = (0..w.rows).flat_map(|r| w.row(r)[start..end].to_vec()).collect();
                    let mut part = sink.with_weights(NodeWeights::new(w.rows, end - start, &sub));
                    sweep_batches(model, path, taus, values, Some(&mut part));
                }
                None => sweep_batches(model, path, taus, values, None),
            }
        }
        return;
    }
    if k == 0 {
        return;
    }
    let padded = padded_nodes(k);
    let mut t = taus.to_vec();
    t.resize(padded, taus[k - 1]);
    let mut v = vec![0.0; padded];
    let w: Option<Vec<f64>> = gradient.as_ref().map(|sink| {
        let w = sink.weights();
        (0..w.rows)
            .flat_map(|r| w.row(r).iter().copied().chain(std::iter::repeat_n(0.0, padded - k)))
            .collect()
    });
    let mut padded_sink = gradient.map(|sink| {
        let rows = sink.weights().rows;
        sink.with_weights(NodeWeights::new(rows, padded, w.as_deref().expect("weights")))
    });
    let g = padded_sink.as_mut();
    match padded {
        1 => sweep_fixed::<D, L, 1>(model, path, t.as_slice().try_into().expect("1"), &mut v, g),
        4 => sweep_fixed::<D, L, 4>(model, path, t.as_slice().try_into().expect("4"), &mut v, g),
        8 => sweep_fixed::<D, L, 8>(model, path, t.as_slice().try_into().expect("8"), &mut v, g),
        12 => sweep_fixed::<D, L, 12>(model, path, t.as_slice().try_into().expect("12"), &mut v, g),
        _ => sweep_fixed::<D, L, 16>(model, path, t.as_slice().try_into().expect("16"), &mut v, g),
    }
    values.copy_from_slice(&v[..k]);
}

fn sweep_fixed<D: Dynamics, L: Layout, const K: usize>(
    model: &Diffusion<'_, D, L>,
    path: Path<'_>,
    taus: &[f64; K],
    values: &mut [f64],
    gradient: Option<&mut GradientSink<'_>>,
) {
    // Whether some emission has a constant term: a gate that posted is not
    // closed at the baseline. On a cluster every worker must pick the same
    // variant, so each asks the others.
    let affine = model.replay.unattributed || model.layout.any_open_at_baseline(model.replay, &path);
    // Three of the four variants: reposted content is rare enough that its
    // sweep need not skip the c0 terms.
    match (affine, model.replay.content.any()) {
        (false, false) => sweep_path::<D, L, K, false, false>(model, path, taus, values, gradient),
        (true, false) => sweep_path::<D, L, K, true, false>(model, path, taus, values, gradient),
        (_, true) => sweep_path::<D, L, K, true, true>(model, path, taus, values, gradient),
    }
}

/// A step's sources as the receivers read them: ready them for step t
/// (`gather`), then each receiver pulls its (A_j, B_j) (`pull`).
pub(super) trait StepSources<const K: usize>: Sync {
    /// Readies step t's sources; `own_states` are the states at t of the
    /// rows held here.
    fn gather(&mut self, t: usize, own_states: &[[f64; K]]);
    /// (A_j, B_j) for receiver j (a replay agent) at the step gathered.
    fn pull(&self, step: &StepGraph, j: usize) -> ([f64; K], [f64; K]);
}

/// The sources of a path sweep: two or three coefficients per source.
struct PathSources<'a, 'p, L: Layout + 'p, const K: usize, const AFFINE: bool, const QUAD: bool> {
    senders: Senders<K>,
    layout: &'a L,
    replay: &'a Replay,
    path: &'a L::Gates<'p>,
}

impl<'a, 'p, L: Layout + 'p, const K: usize, const AFFINE: bool, const QUAD: bool> StepSources<K>
    for PathSources<'a, 'p, L, K, AFFINE, QUAD>
{
    fn gather(&mut self, t: usize, own_states: &[[f64; K]]) {
        (self.layout).gather::<K, QUAD>(&mut self.senders, self.replay, self.path, t, own_states)
    }
    #[inline(always)]
    fn pull(&self, step: &StepGraph, j: usize) -> ([f64; K], [f64; K]) {
        self.senders.pull::<AFFINE, QUAD>(step, j)
    }
}

/// The forward replay of the receivers `rows`: s(0) from the dynamics, then
/// s(t+1) = f(s(t), A, B) at every step, the sources read through
/// `sources`. Returns every state when `keep` (the reverse sweep reads
/// them), else the last two; the buffers come from `scratch`.
pub(super) fn forward<D: Dynamics, S: StepSources<K>, const K: usize>(
    dynamics: &D,
    replay: &Replay,
    scratch: &Workspace,
    rows: std::ops::Range<usize>,
    keep: bool,
    sources: &mut S,
) -> Vec<Vec<f64>> {
    let (lo, own) = (rows.start, rows.len());
    let mut states: Vec<Vec<f64>> = vec![scratch.take(own * K)];
    states[0]
        .as_chunks_mut::<K>()
        .0
        .par_iter_mut()
        .enumerate()
        .for_each(|(r, row)| *row = [dynamics.initial(replay, lo + r); K]);
    for t in 0..replay.steps() {
        let mut next = if !keep && states.len() == 2 {
            states.remove(0)
        } else {
            scratch.take(own * K)
        };
        let current = states.last().expect("initial state").as_chunks::<K>().0;
        sources.gather(t, current);
        let step = &replay.step_graphs[t];
        step_receivers(dynamics, &*sources, step, lo, current, next.as_chunks_mut::<K>().0);
        states.push(next);
    }
    scratch.count_edges_read(replay.forward_edges());
    states
}

/// The sweep along a path over the rows of `model.layout`: forward, the
/// indicator from the final states, and with a sink the reverse sweep.
fn sweep_path<D: Dynamics, L: Layout, const K: usize, const AFFINE: bool, const QUAD: bool>(
    model: &Diffusion<'_, D, L>,
    path: Path<'_>,
    taus: &[f64; K],
    values: &mut [f64],
    gradient: Option<&mut GradientSink<'_>>,
) {
    let Diffusion {
        ref dynamics,
        replay,
        workspace: scratch,
        ref layout,
    } = *model;
    let path = layout.gate_values(replay, path);
    let rows = layout.rows();
    let (lo, own) = (rows.start, rows.len());
    let mut sources = PathSources::<L, K, AFFINE, QUAD> {
        senders: Senders::new(*taus),
        layout,
        replay,
        path: &path,
    };
    let states = forward(dynamics, replay, scratch, rows, gradient.is_some(), &mut sources);
    // The indicator and its gradient over the final states held here, with
    // sums over every agent made by the layout (chunk by chunk across the
    // workers on a cluster).
    let finals = states.last().expect("final state");
    dynamics.indicator(finals, K, values, layout);
    let Some(sink) = gradient else {
        states.into_iter().for_each(|b| scratch.give(b));
        return;
    };
    // The reverse sweep scans the followees again, then walks the senders'
    // followers.
    scratch.count_edges_read(replay.forward_edges() + replay.active_edges());
    let mut adjoint = scratch.take(own * K);
    dynamics.indicator_gradient(finals, K, &mut adjoint, layout);
    // The adjoints of A and B (2K values per agent, interleaved), indexed
    // by replay agent: those held here computed here, the readers of our
    // sources on other shards received; no other row is read.
    let n = replay.agents();
    let mut grad_ab = scratch.take(n * 2 * K);
    let mut sums = scratch.take(0);
    let mut gate_grads = scratch.take(0);
    let mut positions: Vec<u32> = Vec::new();
    for t in (0..replay.steps()).rev() {
        let current = states[t].as_chunks::<K>().0;
        let step = &replay.step_graphs[t];
        sources.gather(t, current);
        // Through f: adjoint(t) = adjoint(t+1) df/ds; the adjoints of A and
        // B wait for the senders.
        let own_ab = &mut grad_ab[lo * 2 * K..(lo + own) * 2 * K];
        unstep_receivers(
            dynamics,
            &sources,
            step,
            lo,
            current,
            adjoint.as_chunks_mut::<K>().0,
            own_ab.as_chunks_mut::<K>().0,
        );
        layout.exchange_adjoints::<K>(t, &mut grad_ab);
        let positions = layout.positions(replay, t, &mut positions);
        sum_over_readers::<K, QUAD>(
            replay,
            step,
            &sources.senders,
            grad_ab.as_chunks::<K>().0,
            positions,
            &mut sums,
            &mut gate_grads,
        );
        let adjoint_rows = adjoint.as_chunks_mut::<K>().0;
        let adjoints = SourceAdjoints {
            positions,
            sums: &sums,
            gate_grads: &gate_grads,
        };
        layout.write::<K>(replay, &path, step, &adjoints, adjoint_rows, taus, sink);
    }
    for buffer in states.into_iter().chain([adjoint, grad_ab, sums, gate_grads]) {
        scratch.give(buffer);
    }
}

/// One step forward for the receivers `first..first + next.len()`:
/// s(t+1) = f(s(t), A, B), each pulling over its row (`current` and `next`
/// hold those receivers' rows only).
pub(super) fn step_receivers<D: Dynamics, S: StepSources<K> + ?Sized, const K: usize>(
    dynamics: &D,
    sources: &S,
    step: &StepGraph,
    first: usize,
    current: &[[f64; K]],
    next: &mut [[f64; K]],
) {
    next.par_chunks_mut(AGENT_CHUNK).enumerate().for_each(|(c, chunk)| {
        for (r, out) in chunk.iter_mut().enumerate() {
            let local = c * AGENT_CHUNK + r;
            let (a, b) = sources.pull(step, first + local);
            let s = &current[local];
            for m in 0..K {
                out[m] = dynamics.next(s[m], a[m], b[m]);
            }
        }
    });
}

/// One step back through f for the receivers `first..first +
/// adjoint.len()`: adjoint(t) = adjoint(t+1) df/ds, and the adjoints of A
/// and B into `grad_ab` (two rows per receiver, those receivers only).
fn unstep_receivers<D: Dynamics, S: StepSources<K>, const K: usize>(
    dynamics: &D,
    sources: &S,
    step: &StepGraph,
    first: usize,
    current: &[[f64; K]],
    adjoint: &mut [[f64; K]],
    grad_ab: &mut [[f64; K]],
) {
    adjoint
        .par_chunks_mut(AGENT_CHUNK)
        .zip(grad_ab.par_chunks_mut(2 * AGENT_CHUNK))
        .enumerate()
        .for_each(|(c, (adj, gab))| {
            for (r, adj) in adj.iter_mut().enumerate() {
                let local = c * AGENT_CHUNK + r;
                let (a, b) = sources.pull(step, first + local);
                let s = &current[local];
                let (ga, gb) = gab[2 * r..].split_at_mut(1);
                for m in 0..K {
                    let (ds, da, db) = dynamics.partials(s[m], a[m], b[m]);
                    ga[0][m] = adj[m] * da;
                    gb[0][m] = adj[m] * db;
                    adj[m] *= ds;
                }
            }
        });
}

/// Each source at `positions` pulls the adjoints of A and B over its
/// readers (its followers if it is a sender, then its extra edges; `grad_ab`
/// indexed by replay agent) and turns them into the adjoint of its own
/// state (`sums`) and of its emission (`gate_grads`), K values per position.
pub(super) fn sum_over_readers<const K: usize, const QUAD: bool>(
    replay: &Replay,
    step: &StepGraph,
    senders: &Senders<K>,
    grad_ab: &[[f64; K]],
    positions: &[u32],
    sums: &mut Vec<f64>,
    gate_grads: &mut Vec<f64>,
) {
    let step_senders = step.senders();
    sums.clear();
    sums.resize(positions.len() * K, 0.0);
    gate_grads.clear();
    gate_grads.resize(positions.len() * K, 0.0);
    sums.as_chunks_mut::<K>()
        .0
        .par_iter_mut()
        .zip(gate_grads.as_chunks_mut::<K>().0.par_iter_mut())
        .zip(positions.par_iter())
        .for_each(|((own, emission_grad), &p)| {
            let p = p as usize;
            let (mut sa, mut sb) = ([0.0; K], [0.0; K]);
            if p < step_senders.len() {
                let agent = replay.gates.agent(step_senders[p] as usize) as usize;
                for &j in replay.graph.followers(agent) {
                    let (ga, gb) = (&grad_ab[2 * j as usize], &grad_ab[2 * j as usize + 1]);
                    for m in 0..K {
                        sa[m] += ga[m];
                        sb[m] += gb[m];
                    }
                }
            }
            if let Some(extra) = step.extra() {
                let (readers, weights) = extra.readers(p);
                for (&j, &w) in readers.iter().zip(weights) {
                    let (ga, gb) = (&grad_ab[2 * j as usize], &grad_ab[2 * j as usize + 1]);
                    for m in 0..K {
                        sa[m] += w * ga[m];
                        sb[m] += w * gb[m];
                    }
                }
            }
            let e = senders.emission::<QUAD>(p);
            let s = &senders.states[p];
            for m in 0..K {
                own[m] = e[m] * sb[m];
                emission_grad[m] = sa[m] + s[m] * sb[m];
            }
        });
}

/// What [`sum_over_readers`] computed for some positions of a step.
pub(super) struct SourceAdjoints<'a> {
    pub(super) positions: &'a [u32],
    pub(super) sums: &'a [f64],
    pub(super) gate_grads: &'a [f64],
}

impl SourceAdjoints<'_> {
    /// Per position, in order: the position, the term for its agent's
    /// adjoint row and the adjoint of its emission (K values each).
    pub(super) fn entries<const K: usize>(&self) -> impl Iterator<Item = (u32, &[f64; K], &[f64; K])> {
        (self.positions.iter())
            .zip(self.sums.as_chunks::<K>().0)
            .zip(self.gate_grads.as_chunks::<K>().0)
            .map(|((&p, own), emission_grad)| (p, own, emission_grad))
    }

    /// Sources write to their agents' adjoint rows (`adjoint_rows` holds
    /// agents from `first` on) and to their gates (and their parents'
    /// gates) in position order: an agent or a gate may appear at several
    /// positions, and the sums keep one order.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write<const K: usize>(
        &self,
        replay: &Replay,
        path: &impl GateValues,
        step: &StepGraph,
        first: usize,
        adjoint_rows: &mut [[f64; K]],
        taus: &[f64; K],
        sink: &mut GradientSink<'_>,
    ) {
        for (p, own, emission_grad) in self.entries::<K>() {
            let (agent, g) = source_at(replay, step, p as usize);
            for m in 0..K {
                adjoint_rows[agent - first][m] += own[m];
            }
            if g != Source::NO_GATE {
                gate_gradients(replay, path, g as usize, emission_grad, taus, |gate, grad| {
                    sink.add(path.player(gate), grad)
                });
            }
        }
    }
}

/// Turns the adjoint of gate g's emission into the gradients of its own
/// gate and of the gates whose content it reposted, handed to `to` as
/// `(gate, K values)` in the order one process adds them: g's own, then
/// each parent in `links(g)` order.
#[inline]
pub(super) fn gate_gradients<const K: usize>(
    replay: &Replay,
    path: &impl GateValues,
    g: usize,
    emission_grad: &[f64; K],
    taus: &[f64; K],
    mut to: impl FnMut(usize, &[f64; K]),
) {
    let links = replay.content.links(g);
    if links.is_empty() {
        let activity = replay.activity[g];
        let grad: [f64; K] = std::array::from_fn(|m| activity * emission_grad[m]);
        to(g, &grad);
        return;
    }
    let (k0, k1) = content_factor(replay, path, g);
    let grad: [f64; K] = std::array::from_fn(|m| (k0 + taus[m] * k1) * emission_grad[m]);
    to(g, &grad);
    let (x0, d) = path.factor(g);
    for &(parent, amount) in links {
        let grad: [f64; K] = std::array::from_fn(|m| emission_grad[m] * (x0 + taus[m] * d) * amount);
        to(parent as usize, &grad);
    }
}
