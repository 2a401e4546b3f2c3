//! The diffusion replayed forward at k arbitrary gate vectors in one pass:
//! what deletion and insertion curves need (each point silences a
//! different set of agents, so the points are not on one path).
//!
//! Values only, no reverse sweep. Each source's emission is read per point
//! (k numbers) rather than as the two coefficients of a path, so a pass
//! reads a little more per edge than a path sweep's forward half does.

use super::diffusion::{Dynamics, StepSources, forward, source_at};
use super::sweep::{AllAgents, padded_nodes};
use crate::Workspace;
use crate::replay::{Replay, Source, StepGraph};
use rayon::prelude::*;

/// F at each point, `points.len()` of them, in passes of up to 16 (the node
/// count is a compile-time constant, padded up with copies of the last
/// point).
pub(crate) fn values_at<D: Dynamics>(
    dynamics: &D,
    replay: &Replay,
    workspace: &Workspace,
    points: &[&[f64]],
    values: &mut [f64],
) {
    assert_eq!(points.len(), values.len(), "one value per point");
    for p in points {
        assert_eq!(p.len(), replay.players(), "a point has one gate per player");
    }
    for (chunk, out) in points.chunks(16).zip(values.chunks_mut(16)) {
        let k = chunk.len();
        let mut batch: Vec<&[f64]> = chunk.to_vec();
        batch.resize(padded_nodes(k), chunk[k - 1]);
        let mut v = vec![0.0; batch.len()];
        let emissions = Points { replay, points: &batch };
        forward_padded(dynamics, replay, workspace, &emissions, &mut v);
        out.copy_from_slice(&v[..k]);
    }
}

/// F at up to 16 subsets of the gates (see
/// [`aumann_engine::PathSweep::values_on_subsets`]): the caller holds a
/// mask per gate rather than a vector per point, and each step expands the
/// sources' emissions from it. Replays whose gates carry reposted content
/// emit products of several gates, which a mask per gate does not describe:
/// those go through [`values_at`].
pub(crate) fn values_on_subsets<D: Dynamics>(
    dynamics: &D,
    replay: &Replay,
    workspace: &Workspace,
    path: aumann_engine::Path<'_>,
    masks: &[u16],
    values: &mut [f64],
) {
    let count = values.len();
    assert!(count <= aumann_engine::MAX_SUBSETS, "at most 16 subsets");
    assert_eq!(masks.len(), replay.players(), "one mask per gate");
    if count == 0 {
        return;
    }
    if replay.content.any() {
        let points = aumann_engine::subset_points(path, masks, count);
        let refs: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
        return values_at(dynamics, replay, workspace, &refs, values);
    }
    let mut v = vec![0.0; padded_nodes(count)];
    let emissions = Masks { replay, path, masks };
    forward_padded(dynamics, replay, workspace, &emissions, &mut v);
    values.copy_from_slice(&v[..count]);
}

/// A gate's emissions at the K points of a pass.
trait Emissions: Sync {
    fn at<const K: usize>(&self, gate: u32) -> [f64; K];
}

/// Points given in full, one gate vector each.
struct Points<'a> {
    replay: &'a Replay,
    points: &'a [&'a [f64]],
}

impl Emissions for Points<'_> {
    #[inline]
    fn at<const K: usize>(&self, gate: u32) -> [f64; K] {
        std::array::from_fn(|m| emission(self.replay, self.points[m], gate))
    }
}

/// Points given as masks: bit m of a gate's mask takes the input at point
/// m, else the baseline.
struct Masks<'a> {
    replay: &'a Replay,
    path: aumann_engine::Path<'a>,
    masks: &'a [u16],
}

impl Emissions for Masks<'_> {
    #[inline]
    fn at<const K: usize>(&self, gate: u32) -> [f64; K] {
        let g = gate as usize;
        let a = self.replay.activity[g];
        let (off, on, mask) = (a * self.path.baseline[g], a * self.path.input[g], self.masks[g]);
        std::array::from_fn(|m| if mask >> m & 1 == 1 { on } else { off })
    }
}

/// [`forward_at`] at the node count `values.len()` (one of 1, 4, 8, 12, 16).
fn forward_padded<D: Dynamics, E: Emissions>(
    dynamics: &D,
    replay: &Replay,
    workspace: &Workspace,
    emissions: &E,
    values: &mut [f64],
) {
    match values.len() {
        1 => forward_at::<D, E, 1>(dynamics, replay, workspace, emissions, values),
        4 => forward_at::<D, E, 4>(dynamics, replay, workspace, emissions, values),
        8 => forward_at::<D, E, 8>(dynamics, replay, workspace, emissions, values),
        12 => forward_at::<D, E, 12>(dynamics, replay, workspace, emissions, values),
        _ => forward_at::<D, E, 16>(dynamics, replay, workspace, emissions, values),
    }
}

/// A gate's emission at one point: its activity scaled by its gate, the
/// reposted part also by the parent's gate (docs/indicators.md).
#[inline]
fn emission(replay: &Replay, point: &[f64], g: u32) -> f64 {
    let g = g as usize;
    let links = replay.content.links(g);
    if links.is_empty() {
        return replay.activity[g] * point[g];
    }
    let mut content = replay.content.own(g);
    for &(parent, amount) in links {
        content += amount * point[parent as usize];
    }
    point[g] * content
}

/// A step's sources at K points: each source's emissions at the points
/// (expanded once per step by `emit`) and its state, and whether it is
/// silent at every point, so that the sparse points of an insertion curve
/// skip it without reading its state.
struct PointSources<'a, E, const K: usize> {
    replay: &'a Replay,
    emit: &'a E,
    emissions: Vec<[f64; K]>,
    silent: Vec<bool>,
    states: Vec<[f64; K]>,
}

impl<E: Emissions, const K: usize> StepSources<K> for PointSources<'_, E, K> {
    fn gather(&mut self, t: usize, rows: &[[f64; K]]) {
        let (replay, emit) = (self.replay, self.emit);
        let step = &replay.step_graphs[t];
        let sources = step.sources();
        self.emissions.clear();
        self.emissions.resize(sources, [0.0; K]);
        self.silent.clear();
        self.silent.resize(sources, false);
        self.states.clear();
        self.states.resize(sources, [0.0; K]);
        (self.emissions.par_iter_mut())
            .zip(self.silent.par_iter_mut())
            .zip(self.states.par_iter_mut())
            .enumerate()
            .for_each(|(p, ((e, quiet), s))| {
                let (agent, gate) = source_at(replay, step, p);
                // Content nobody in the window silences: one unit at every
                // point (the edge's weight is the amount).
                *e = if gate == Source::NO_GATE {
                    [1.0; K]
                } else {
                    emit.at::<K>(gate)
                };
                *quiet = e.iter().all(|&v| v == 0.0);
                *s = rows[agent];
            });
    }

    #[inline(always)]
    fn pull(&self, step: &StepGraph, j: usize) -> ([f64; K], [f64; K]) {
        let (mut a, mut b) = ([0.0; K], [0.0; K]);
        // Two loops rather than one closure: a closure that holds the
        // accumulators keeps them out of registers (twice the time,
        // measured).
        for p in step.row(j) {
            if self.silent[p as usize] {
                continue;
            }
            let (e, s) = (&self.emissions[p as usize], &self.states[p as usize]);
            for m in 0..K {
                a[m] += e[m];
                b[m] += e[m] * s[m];
            }
        }
        if let Some(extra) = step.extra() {
            let (positions, weights) = extra.row(j);
            for (&p, &w) in positions.iter().zip(weights) {
                if self.silent[p as usize] {
                    continue;
                }
                let (e, s) = (&self.emissions[p as usize], &self.states[p as usize]);
                for m in 0..K {
                    a[m] += w * e[m];
                    b[m] += w * e[m] * s[m];
                }
            }
        }
        (a, b)
    }
}

/// The forward replay at K points, a gate's emissions at the K points given
/// by `emit`: the driver's forward half, keeping two states.
fn forward_at<D: Dynamics, E: Emissions, const K: usize>(
    dynamics: &D,
    replay: &Replay,
    workspace: &Workspace,
    emit: &E,
    values: &mut [f64],
) {
    let mut sources = PointSources::<E, K> {
        replay,
        emit,
        emissions: Vec::new(),
        silent: Vec::new(),
        states: Vec::new(),
    };
    let states = forward(dynamics, replay, workspace, 0..replay.agents(), false, &mut sources);
    let finals = states.last().expect("final state");
    dynamics.indicator(finals, K, values, &AllAgents::of(replay));
    states.into_iter().for_each(|b| workspace.give(b));
}
