//! The diffusion replayed forward at k arbitrary gate vectors in one pass:
//! what deletion and insertion curves need (each point silences a
//! different set of agents, so the points are not on one path).
//!
//! Values only, no reverse sweep. Each source's emission is read per point
//! (k numbers) rather than as the two coefficients of a path, so a pass
//! reads a little more per edge than a path sweep's forward half does.

use super::diffusion::Dynamics;
use super::sweep::AGENT_CHUNK;
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
        let padded = match k {
            1 => 1,
            2..=4 => 4,
            5..=8 => 8,
            9..=12 => 12,
            _ => 16,
        };
        let mut batch: Vec<&[f64]> = chunk.to_vec();
        batch.resize(padded, chunk[k - 1]);
        let mut v = vec![0.0; padded];
        match padded {
            1 => forward::<D, 1>(dynamics, replay, workspace, &batch, &mut v),
            4 => forward::<D, 4>(dynamics, replay, workspace, &batch, &mut v),
            8 => forward::<D, 8>(dynamics, replay, workspace, &batch, &mut v),
            12 => forward::<D, 12>(dynamics, replay, workspace, &batch, &mut v),
            _ => forward::<D, 16>(dynamics, replay, workspace, &batch, &mut v),
        }
        out.copy_from_slice(&v[..k]);
    }
}

/// A gate's emission at one point: its activity scaled by its gate, the
/// reposted part also by the parent's gate (docs/indicators.md).
#[inline]
fn emission(replay: &Replay, point: &[f64], g: usize) -> f64 {
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

fn forward<D: Dynamics, const K: usize>(
    dynamics: &D,
    replay: &Replay,
    workspace: &Workspace,
    points: &[&[f64]],
    values: &mut [f64],
) {
    let n = replay.agents();
    let mut current = workspace.take(n * K);
    let mut next = workspace.take(n * K);
    current
        .as_chunks_mut::<K>()
        .0
        .par_iter_mut()
        .enumerate()
        .for_each(|(j, row)| *row = [dynamics.initial(replay, j); K]);
    let mut emissions: Vec<[f64; K]> = Vec::new();
    let mut states: Vec<[f64; K]> = Vec::new();
    for step in &replay.step_graphs {
        let rows = current.as_chunks::<K>().0;
        gather(replay, step, points, rows, &mut emissions, &mut states);
        next.as_chunks_mut::<K>()
            .0
            .par_chunks_mut(AGENT_CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (r, out) in chunk.iter_mut().enumerate() {
                    let j = c * AGENT_CHUNK + r;
                    let (mut a, mut b) = ([0.0; K], [0.0; K]);
                    for &p in step.row(j) {
                        let (e, s) = (&emissions[p as usize], &states[p as usize]);
                        for m in 0..K {
                            a[m] += e[m];
                            b[m] += e[m] * s[m];
                        }
                    }
                    if let Some(extra) = step.extra() {
                        let (positions, weights) = extra.row(j);
                        for (&p, &w) in positions.iter().zip(weights) {
                            let (e, s) = (&emissions[p as usize], &states[p as usize]);
                            for m in 0..K {
                                a[m] += w * e[m];
                                b[m] += w * e[m] * s[m];
                            }
                        }
                    }
                    let s = &rows[j];
                    for m in 0..K {
                        out[m] = dynamics.next(s[m], a[m], b[m]);
                    }
                }
            });
        std::mem::swap(&mut current, &mut next);
    }
    dynamics.indicator(&current, K, values);
    workspace.count_edges_read(replay.forward_edges());
    workspace.give(current);
    workspace.give(next);
}

/// Each source's emission at every point and its author's state, in the
/// step's position order.
fn gather<const K: usize>(
    replay: &Replay,
    step: &StepGraph,
    points: &[&[f64]],
    rows: &[[f64; K]],
    emissions: &mut Vec<[f64; K]>,
    states: &mut Vec<[f64; K]>,
) {
    let senders = step.senders();
    let sources = step.sources();
    emissions.clear();
    emissions.resize(sources, [0.0; K]);
    states.clear();
    states.resize(sources, [0.0; K]);
    emissions
        .par_iter_mut()
        .zip(states.par_iter_mut())
        .enumerate()
        .for_each(|(p, (e, s))| {
            let (agent, gate) = if p < senders.len() {
                (replay.gates.agent(senders[p] as usize), senders[p])
            } else {
                let source = step.extra().expect("extra sources").sources[p - senders.len()];
                (source.agent, source.gate)
            };
            *e = if gate == Source::NO_GATE {
                [1.0; K]
            } else {
                std::array::from_fn(|m| emission(replay, points[m], gate as usize))
            };
            *s = rows[agent as usize];
        });
}

/// F at up to 16 subsets of the gates (see
/// [`aumann_engine::PathSweep::values_on_subsets`]): the caller holds a
/// mask per gate rather than a vector per point, each step expands the
/// sources' emissions from them, and a source silent at every point is
/// skipped without reading its state, so the sparse points of an insertion
/// curve cost little. Replays whose gates
/// carry reposted content emit products of several gates, which a mask per
/// gate does not describe: those go through [`values_at`].
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
        let points: Vec<Vec<f64>> = (0..count)
            .map(|m| {
                masks
                    .iter()
                    .zip(path.input.iter().zip(path.baseline))
                    .map(|(mask, (&x, &b))| if mask >> m & 1 == 1 { x } else { b })
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
        return values_at(dynamics, replay, workspace, &refs, values);
    }
    let padded = match count {
        1 => 1,
        2..=4 => 4,
        5..=8 => 8,
        9..=12 => 12,
        _ => 16,
    };
    let mut v = vec![0.0; padded];
    let ctx = SubsetContext {
        replay,
        workspace,
        path,
        masks,
    };
    match padded {
        1 => subsets::<D, 1>(dynamics, &ctx, &mut v),
        4 => subsets::<D, 4>(dynamics, &ctx, &mut v),
        8 => subsets::<D, 8>(dynamics, &ctx, &mut v),
        12 => subsets::<D, 12>(dynamics, &ctx, &mut v),
        _ => subsets::<D, 16>(dynamics, &ctx, &mut v),
    }
    values.copy_from_slice(&v[..count]);
}

struct SubsetContext<'a> {
    replay: &'a Replay,
    workspace: &'a Workspace,
    path: aumann_engine::Path<'a>,
    masks: &'a [u16],
}

fn subsets<D: Dynamics, const K: usize>(dynamics: &D, ctx: &SubsetContext<'_>, values: &mut [f64]) {
    let SubsetContext {
        replay,
        workspace,
        path,
        masks,
    } = *ctx;
    let n = replay.agents();
    let mut current = workspace.take(n * K);
    let mut next = workspace.take(n * K);
    current
        .as_chunks_mut::<K>()
        .0
        .par_iter_mut()
        .enumerate()
        .for_each(|(j, row)| *row = [dynamics.initial(replay, j); K]);
    // Per source: its emission at each point (expanded from two values and
    // a mask once per step, so the pulls read plain numbers), and whether
    // it is silent at every point (then the pulls skip it unread).
    let mut emissions: Vec<[f64; K]> = Vec::new();
    let mut silent: Vec<bool> = Vec::new();
    let mut states: Vec<[f64; K]> = Vec::new();
    for step in &replay.step_graphs {
        let rows = current.as_chunks::<K>().0;
        let senders = step.senders();
        let sources = step.sources();
        emissions.clear();
        emissions.resize(sources, [0.0; K]);
        silent.clear();
        silent.resize(sources, false);
        states.clear();
        states.resize(sources, [0.0; K]);
        emissions
            .par_iter_mut()
            .zip(silent.par_iter_mut())
            .zip(states.par_iter_mut())
            .enumerate()
            .for_each(|(p, ((e, quiet), s))| {
                let (agent, gate) = if p < senders.len() {
                    (replay.gates.agent(senders[p] as usize), senders[p])
                } else {
                    let source = step.extra().expect("extra sources").sources[p - senders.len()];
                    (source.agent, source.gate)
                };
                *e = if gate == Source::NO_GATE {
                    [1.0; K]
                } else {
                    let (g, a) = (gate as usize, replay.activity[gate as usize]);
                    let (off, on, mask) = (a * path.baseline[g], a * path.input[g], masks[g]);
                    std::array::from_fn(|m| if mask >> m & 1 == 1 { on } else { off })
                };
                *quiet = e.iter().all(|&v| v == 0.0);
                *s = rows[agent as usize];
            });
        next.as_chunks_mut::<K>()
            .0
            .par_chunks_mut(AGENT_CHUNK)
            .enumerate()
            .for_each(|(c, chunk)| {
                for (r, out) in chunk.iter_mut().enumerate() {
                    let j = c * AGENT_CHUNK + r;
                    let (mut a, mut b) = ([0.0; K], [0.0; K]);
                    for &p in step.row(j) {
                        if silent[p as usize] {
                            continue;
                        }
                        let (e, s) = (&emissions[p as usize], &states[p as usize]);
                        for m in 0..K {
                            a[m] += e[m];
                            b[m] += e[m] * s[m];
                        }
                    }
                    if let Some(extra) = step.extra() {
                        let (positions, weights) = extra.row(j);
                        for (&p, &w) in positions.iter().zip(weights) {
                            if silent[p as usize] {
                                continue;
                            }
                            let (e, s) = (&emissions[p as usize], &states[p as usize]);
                            for m in 0..K {
                                a[m] += w * e[m];
                                b[m] += w * e[m] * s[m];
                            }
                        }
                    }
                    let s = &rows[j];
                    for m in 0..K {
                        out[m] = dynamics.next(s[m], a[m], b[m]);
                    }
                }
            });
        std::mem::swap(&mut current, &mut next);
    }
    dynamics.indicator(&current, K, values);
    workspace.count_edges_read(replay.forward_edges());
    workspace.give(current);
    workspace.give(next);
}
