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

use super::sweep::{AGENT_CHUNK, accumulate_gate, gate_at_nodes};
use crate::replay::{Replay, SILENT, StepGraph};
use aumann_engine::{NodeWeights, Path};
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

/// One step's senders at k nodes: what each emits, e = a alpha, and its
/// state s(t), gathered into compact arrays (senders x k) so that the pulls
/// read two small arrays rather than the whole state. The buffers are
/// reused from step to step.
#[derive(Default)]
struct Senders {
    emissions: Vec<f64>,
    states: Vec<f64>,
}

impl Senders {
    fn gather(&mut self, replay: &Replay, path: &Path<'_>, taus: &[f64], step: usize, states: &[f64]) {
        let k = taus.len();
        let senders = replay.step_graphs[step].senders();
        self.emissions.clear();
        self.emissions.resize(senders.len() * k, 0.0);
        self.states.clear();
        self.states.resize(senders.len() * k, 0.0);
        self.emissions
            .par_chunks_mut(k)
            .zip(self.states.par_chunks_mut(k))
            .zip(senders.par_iter())
            .for_each(|((e, s), &g)| {
                let g = g as usize;
                gate_at_nodes(path, g, taus, e);
                let a = replay.activity[g];
                for v in e.iter_mut() {
                    *v *= a;
                }
                let i = replay.gates.agent(g) as usize;
                s.copy_from_slice(&states[i * k..][..k]);
            });
    }

    /// A_j and B_j for receiver j, into `a` and `b` (k each).
    #[inline]
    fn pull(&self, replay: &Replay, step: &StepGraph, j: usize, a: &mut [f64], b: &mut [f64]) {
        let k = a.len();
        a.fill(0.0);
        b.fill(0.0);
        for &i in replay.graph.followees(j) {
            let p = step.position(i);
            if p == SILENT {
                continue;
            }
            let e = &self.emissions[p as usize * k..][..k];
            let s = &self.states[p as usize * k..][..k];
            for m in 0..k {
                a[m] += e[m];
                b[m] += e[m] * s[m];
            }
        }
    }
}

pub(crate) fn sweep<D: Dynamics>(
    dynamics: &D,
    replay: &Replay,
    path: Path<'_>,
    taus: &[f64],
    values: &mut [f64],
    gradient: Option<(NodeWeights<'_>, &mut [f64])>,
) {
    let n = replay.agents();
    let k = taus.len();
    let steps = replay.steps();
    let keep = gradient.is_some();
    let mut initial = vec![0.0; n * k];
    initial
        .par_chunks_mut(k)
        .enumerate()
        .for_each(|(j, row)| row.fill(dynamics.initial(replay, j)));
    // Reverse mode needs s(t) at every step; a value alone needs two.
    let mut states: Vec<Vec<f64>> = vec![initial];
    let mut senders = Senders::default();
    for t in 0..steps {
        let mut next = if !keep && states.len() == 2 {
            states.remove(0)
        } else {
            vec![0.0; n * k]
        };
        let current = states.last().expect("initial state");
        senders.gather(replay, &path, taus, t, current);
        let step = &replay.step_graphs[t];
        next.par_chunks_mut(AGENT_CHUNK * k).enumerate().for_each(|(c, chunk)| {
            let (mut a, mut b) = (vec![0.0; k], vec![0.0; k]);
            for (r, out) in chunk.chunks_exact_mut(k).enumerate() {
                let j = c * AGENT_CHUNK + r;
                senders.pull(replay, step, j, &mut a, &mut b);
                let s = &current[j * k..][..k];
                for m in 0..k {
                    out[m] = dynamics.next(s[m], a[m], b[m]);
                }
            }
        });
        states.push(next);
    }
    let finals = states.last().expect("final state");
    dynamics.indicator(finals, k, values);
    replay.count_edges_read(replay.forward_edges());
    let Some((weights, acc)) = gradient else { return };
    // The reverse sweep scans the followees again, then walks the senders'
    // followers.
    replay.count_edges_read(replay.forward_edges() + replay.active_edges());
    let players = replay.players();
    let mut adjoint = vec![0.0; n * k];
    dynamics.indicator_gradient(finals, k, &mut adjoint);
    let mut grad_a = vec![0.0; n * k];
    let mut grad_b = vec![0.0; n * k];
    let mut sums = Vec::new();
    let mut gate_grad = vec![0.0; k];
    for t in (0..steps).rev() {
        let current = &states[t];
        senders.gather(replay, &path, taus, t, current);
        let step = &replay.step_graphs[t];
        // Through f: adjoint(t) = adjoint(t+1) df/ds; the adjoints of A and
        // B wait for the senders.
        adjoint
            .par_chunks_mut(AGENT_CHUNK * k)
            .zip(
                grad_a
                    .par_chunks_mut(AGENT_CHUNK * k)
                    .zip(grad_b.par_chunks_mut(AGENT_CHUNK * k)),
            )
            .enumerate()
            .for_each(|(c, (adj, (ga, gb)))| {
                let (mut a, mut b) = (vec![0.0; k], vec![0.0; k]);
                for r in 0..adj.len() / k {
                    let j = c * AGENT_CHUNK + r;
                    senders.pull(replay, step, j, &mut a, &mut b);
                    let s = &current[j * k..][..k];
                    for m in 0..k {
                        let (ds, da, db) = dynamics.partials(s[m], a[m], b[m]);
                        let x = adj[r * k + m];
                        ga[r * k + m] = x * da;
                        gb[r * k + m] = x * db;
                        adj[r * k + m] = x * ds;
                    }
                }
            });
        // Each sender pulls the adjoints of A and B over its followers.
        let step_senders = step.senders();
        sums.clear();
        sums.resize(step_senders.len() * 2 * k, 0.0);
        sums.par_chunks_mut(2 * k)
            .zip(step_senders.par_iter())
            .for_each(|(out, &g)| {
                let (sa, sb) = out.split_at_mut(k);
                for &j in replay.graph.followers(replay.gates.agent(g as usize) as usize) {
                    let ga = &grad_a[j as usize * k..][..k];
                    let gb = &grad_b[j as usize * k..][..k];
                    for m in 0..k {
                        sa[m] += ga[m];
                        sb[m] += gb[m];
                    }
                }
            });
        // One gate per (agent, step): each sender's adjoint row is its own.
        for (p, (out, &g)) in sums.chunks_exact(2 * k).zip(step_senders).enumerate() {
            let g = g as usize;
            let (sa, sb) = out.split_at(k);
            let i = replay.gates.agent(g) as usize;
            let e = &senders.emissions[p * k..][..k];
            let s = &senders.states[p * k..][..k];
            let activity = replay.activity[g];
            for m in 0..k {
                adjoint[i * k + m] += e[m] * sb[m];
                gate_grad[m] = activity * (sa[m] + s[m] * sb[m]);
            }
            accumulate_gate(&weights, acc, players, g, &gate_grad);
        }
    }
}
