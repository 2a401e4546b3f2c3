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

use super::sweep::AGENT_CHUNK;
use crate::Workspace;
use crate::replay::{Replay, StepGraph};
use aumann_engine::{GradientSink, NodeWeights, Path};
use rayon::prelude::*;

/// The per-agent update and the indicator read off the final states.
pub(crate) trait Dynamics: Sync {
    fn initial(&self, replay: &Replay, agent: usize) -> f64;
    /// s' = f(s, A, B).
    fn next(&self, s: f64, a: f64, b: f64) -> f64;
    /// (df/ds, df/dA, df/dB).
    fn partials(&self, s: f64, a: f64, b: f64) -> (f64, f64, f64);
    /// Indicator per node from the final states (N x k, agent-major).
    fn indicator(&self, finals: &[f64], k: usize, values: &mut [f64]);
    /// dI/ds(T), written into `adjoint` (N x k).
    fn indicator_gradient(&self, finals: &[f64], k: usize, adjoint: &mut [f64]);
}

/// One step's senders at K nodes, gathered into compact arrays so that the
/// pulls read small arrays rather than the whole state.
///
/// Along a straight path a gate is affine in tau, so a sender's emission is
/// too: e[m] = c0 + tau_m c1 with c0 = a x'_g and c1 = a (x_g - x'_g). A
/// pull then reads two scalars per sender rather than K values, and A_j
/// needs two scalar sums. The buffers are reused from step to step.
struct Senders<const K: usize> {
    /// (c0, c1) per sender.
    emissions: Vec<[f64; 2]>,
    states: Vec<[f64; K]>,
    taus: [f64; K],
}

impl<const K: usize> Senders<K> {
    fn new(taus: [f64; K]) -> Self {
        Self {
            emissions: Vec::new(),
            states: Vec::new(),
            taus,
        }
    }

    fn gather(&mut self, replay: &Replay, path: &Path<'_>, step: usize, states: &[[f64; K]]) {
        let senders = replay.step_graphs[step].senders();
        self.emissions.clear();
        self.emissions.resize(senders.len(), [0.0; 2]);
        self.states.clear();
        self.states.resize(senders.len(), [0.0; K]);
        self.emissions
            .par_iter_mut()
            .zip(self.states.par_iter_mut())
            .zip(senders.par_iter())
            .for_each(|((e, s), &g)| {
                let g = g as usize;
                let a = replay.activity[g];
                *e = [a * path.baseline[g], a * (path.input[g] - path.baseline[g])];
                *s = states[replay.gates.agent(g) as usize];
            });
    }

    /// The emission of the p-th sender at each node.
    #[inline]
    fn emission(&self, p: usize) -> [f64; K] {
        let [c0, c1] = self.emissions[p];
        std::array::from_fn(|m| c0 + self.taus[m] * c1)
    }

    /// (A_j, B_j) for receiver j. The accumulators are arrays of a constant
    /// length so that they stay in registers across the followee scan;
    /// `AFFINE` is false when every c0 is 0 (the usual all-silent baseline),
    /// which halves the work.
    #[inline(always)]
    fn pull<const AFFINE: bool>(&self, step: &StepGraph, j: usize) -> ([f64; K], [f64; K]) {
        let (mut a0, mut a1) = (0.0, 0.0);
        let (mut b0, mut b1) = ([0.0; K], [0.0; K]);
        for &p in step.row(j) {
            let [c0, c1] = self.emissions[p as usize];
            let s = &self.states[p as usize];
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
        }
        let a = std::array::from_fn(|m| a0 + self.taus[m] * a1);
        let b = std::array::from_fn(|m| b0[m] + self.taus[m] * b1[m]);
        (a, b)
    }
}

/// Runs the sweep with the node count as a compile-time constant: k is padded
/// up to 1, 4, 8, 12 or 16 with zero-weight copies of the last node, and
/// batches above 16 nodes are split (the engine hands out its batch size, 8
/// by default).
pub(crate) fn sweep<D: Dynamics>(
    dynamics: &D,
    replay: &Replay,
    workspace: &Workspace,
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
                    sweep(dynamics, replay, workspace, path, taus, values, Some(&mut part));
                }
                None => sweep(dynamics, replay, workspace, path, taus, values, None),
            }
        }
        return;
    }
    let padded = match k {
        0 => return,
        1 => 1,
        2..=4 => 4,
        5..=8 => 8,
        9..=12 => 12,
        _ => 16,
    };
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
    let ctx = Context {
        replay,
        workspace,
        path,
    };
    match padded {
        1 => sweep_fixed::<D, 1>(dynamics, &ctx, t.as_slice().try_into().expect("1"), &mut v, g),
        4 => sweep_fixed::<D, 4>(dynamics, &ctx, t.as_slice().try_into().expect("4"), &mut v, g),
        8 => sweep_fixed::<D, 8>(dynamics, &ctx, t.as_slice().try_into().expect("8"), &mut v, g),
        12 => sweep_fixed::<D, 12>(dynamics, &ctx, t.as_slice().try_into().expect("12"), &mut v, g),
        _ => sweep_fixed::<D, 16>(dynamics, &ctx, t.as_slice().try_into().expect("16"), &mut v, g),
    }
    values.copy_from_slice(&v[..k]);
}

/// What one sweep reads (the replay and the path) and where it keeps its
/// buffers.
struct Context<'a> {
    replay: &'a Replay,
    workspace: &'a Workspace,
    path: Path<'a>,
}

fn sweep_fixed<D: Dynamics, const K: usize>(
    dynamics: &D,
    ctx: &Context<'_>,
    taus: &[f64; K],
    values: &mut [f64],
    gradient: Option<&mut GradientSink<'_>>,
) {
    let affine = ctx
        .replay
        .activity
        .iter()
        .zip(ctx.path.baseline)
        .any(|(&a, &b)| a > 0.0 && b != 0.0);
    if affine {
        sweep_path::<D, K, true>(dynamics, ctx, taus, values, gradient)
    } else {
        sweep_path::<D, K, false>(dynamics, ctx, taus, values, gradient)
    }
}

fn sweep_path<D: Dynamics, const K: usize, const AFFINE: bool>(
    dynamics: &D,
    ctx: &Context<'_>,
    taus: &[f64; K],
    values: &mut [f64],
    gradient: Option<&mut GradientSink<'_>>,
) {
    let Context {
        replay,
        workspace: scratch,
        path,
    } = *ctx;
    let n = replay.agents();
    let steps = replay.steps();
    let keep = gradient.is_some();
    // Reverse mode needs s(t) at every step; a value alone needs two.
    let mut states: Vec<Vec<f64>> = vec![scratch.take(n * K)];
    states[0]
        .as_chunks_mut::<K>()
        .0
        .par_iter_mut()
        .enumerate()
        .for_each(|(j, row)| *row = [dynamics.initial(replay, j); K]);
    let mut senders = Senders::<K>::new(*taus);
    for t in 0..steps {
        let mut next = if !keep && states.len() == 2 {
            states.remove(0)
        } else {
            scratch.take(n * K)
        };
        let current = states.last().expect("initial state").as_chunks::<K>().0;
        senders.gather(replay, &path, t, current);
        let step = &replay.step_graphs[t];
        next.as_chunks_mut::<K>()
            .0
            .par_chunks_mut(AGENT_CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (r, out) in chunk.iter_mut().enumerate() {
                    let j = c * AGENT_CHUNK + r;
                    let (a, b) = senders.pull::<AFFINE>(step, j);
                    let s = &current[j];
                    for m in 0..K {
                        out[m] = dynamics.next(s[m], a[m], b[m]);
                    }
                }
            });
        states.push(next);
    }
    let finals = states.last().expect("final state");
    dynamics.indicator(finals, K, values);
    scratch.count_edges_read(replay.forward_edges());
    let Some(sink) = gradient else {
        states.into_iter().for_each(|b| scratch.give(b));
        return;
    };
    // The reverse sweep scans the followees again, then walks the senders'
    // followers.
    scratch.count_edges_read(replay.forward_edges() + replay.active_edges());
    let mut adjoint = scratch.take(n * K);
    dynamics.indicator_gradient(finals, K, &mut adjoint);
    // The adjoints of A_j and B_j, interleaved per agent.
    let mut grad_ab = scratch.take(n * 2 * K);
    let mut sums = scratch.take(0);
    let mut gate_grads = scratch.take(0);
    for t in (0..steps).rev() {
        let current = states[t].as_chunks::<K>().0;
        senders.gather(replay, &path, t, current);
        let step = &replay.step_graphs[t];
        // Through f: adjoint(t) = adjoint(t+1) df/ds; the adjoints of A and
        // B wait for the senders.
        adjoint
            .as_chunks_mut::<K>()
            .0
            .par_chunks_mut(AGENT_CHUNK)
            .zip(grad_ab.as_chunks_mut::<K>().0.par_chunks_mut(2 * AGENT_CHUNK))
            .enumerate()
            .for_each(|(c, (adj, gab))| {
                for (r, adj) in adj.iter_mut().enumerate() {
                    let j = c * AGENT_CHUNK + r;
                    let (a, b) = senders.pull::<AFFINE>(step, j);
                    let s = &current[j];
                    let (ga, gb) = gab[2 * r..].split_at_mut(1);
                    for m in 0..K {
                        let (ds, da, db) = dynamics.partials(s[m], a[m], b[m]);
                        ga[0][m] = adj[m] * da;
                        gb[0][m] = adj[m] * db;
                        adj[m] *= ds;
                    }
                }
            });
        // Each sender pulls the adjoints of A and B over its followers and
        // turns them into its gate's gradient and its own state's adjoint.
        let step_senders = step.senders();
        let grad_ab = grad_ab.as_chunks::<K>().0;
        sums.clear();
        sums.resize(step_senders.len() * K, 0.0);
        gate_grads.clear();
        gate_grads.resize(step_senders.len() * K, 0.0);
        sums.as_chunks_mut::<K>()
            .0
            .par_iter_mut()
            .zip(gate_grads.as_chunks_mut::<K>().0.par_iter_mut())
            .zip(step_senders.par_iter().enumerate())
            .for_each(|((own, gate_grad), (p, &g))| {
                let (mut sa, mut sb) = ([0.0; K], [0.0; K]);
                for &j in replay.graph.followers(replay.gates.agent(g as usize) as usize) {
                    let (ga, gb) = (&grad_ab[2 * j as usize], &grad_ab[2 * j as usize + 1]);
                    for m in 0..K {
                        sa[m] += ga[m];
                        sb[m] += gb[m];
                    }
                }
                let e = senders.emission(p);
                let s = &senders.states[p];
                let activity = replay.activity[g as usize];
                for m in 0..K {
                    own[m] = e[m] * sb[m];
                    gate_grad[m] = activity * (sa[m] + s[m] * sb[m]);
                }
            });
        // One gate per (agent, step): each sender's adjoint row is its own.
        let adjoint_rows = adjoint.as_chunks_mut::<K>().0;
        for ((own, gate_grad), &g) in sums
            .as_chunks::<K>()
            .0
            .iter()
            .zip(gate_grads.as_chunks::<K>().0)
            .zip(step_senders)
        {
            let i = replay.gates.agent(g as usize) as usize;
            for m in 0..K {
                adjoint_rows[i][m] += own[m];
            }
            sink.add(g as usize, gate_grad);
        }
    }
    for buffer in states.into_iter().chain([adjoint, grad_ab, sums, gate_grads]) {
        scratch.give(buffer);
    }
}
