//! Attention concentration: the Herfindahl index of engagement received.

use super::Indicator;
use super::declaration::{Bounds, Declaration, Parameter};
use super::sweep::gate_at_nodes;
use crate::replay::Replay;
use aumann_engine::{GradientSink, Path, PathSweep};
use rayon::prelude::*;
use serde::Serialize;

/// att_k = eps + sum over t and i of alpha[i,t] alpha[k,t] g[i->k,t];
/// H = sum_k att_k^2 / (sum_k att_k)^2 over all N agents. An engagement
/// needs both sides present, so it is gated by the engager and the author.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct AttentionParams {
    /// Attention every account has without engagement: keeps H defined
    /// when nobody engages, and equal to 1/N then.
    pub eps: f64,
}

default_from_declaration!(AttentionParams, Attention);

pub(super) const DECLARATION: Declaration = Declaration {
    name: "attention",
    summary: "the concentration of engagement received (Herfindahl index over accounts)",
    section: "Attention concentration",
    parameters: &[Parameter {
        name: "epsilon",
        symbol: "ε",
        help: "the attention every account has without engagement",
        unit: "engagements",
        default: Some(1.0),
        when_absent: "",
        bounds: Bounds::Positive,
    }],
    make: |v| {
        Indicator::Attention(AttentionParams {
            eps: v[0].expect("epsilon has a default"),
        })
    },
    values: |i| match i {
        Indicator::Attention(p) => vec![Some(p.eps)],
        _ => unreachable!("attention's values"),
    },
};

pub struct Attention<'a> {
    pub replay: &'a Replay,
    pub params: AttentionParams,
    /// author_offsets[a]..author_offsets[a+1]: the engagements of the a-th
    /// engaged author (engagements are sorted by author).
    author_offsets: Vec<usize>,
    /// The gates that take part in an engagement, and for each, the
    /// (engagement, is_author) incidences.
    gates: Vec<u32>,
    incidence_offsets: Vec<usize>,
    incidences: Vec<(u32, bool)>,
}

impl<'a> Attention<'a> {
    pub fn new(replay: &'a Replay, params: AttentionParams) -> Self {
        let engagements = &replay.engagements;
        let mut author_offsets = vec![0];
        for e in 1..engagements.len() {
            if engagements[e].author != engagements[e - 1].author {
                author_offsets.push(e);
            }
        }
        author_offsets.push(engagements.len());
        if engagements.is_empty() {
            author_offsets = vec![0];
        }
        let mut incidences: Vec<(u32, u32, bool)> = engagements
            .iter()
            .enumerate()
            .flat_map(|(i, e)| [(e.engager_gate, i as u32, false), (e.author_gate, i as u32, true)])
            .collect();
        incidences.par_sort_unstable();
        let mut gates = Vec::new();
        let mut incidence_offsets = Vec::new();
        for (p, &(g, _, _)) in incidences.iter().enumerate() {
            if gates.last() != Some(&g) {
                gates.push(g);
                incidence_offsets.push(p);
            }
        }
        incidence_offsets.push(incidences.len());
        Self {
            replay,
            params,
            author_offsets,
            gates,
            incidence_offsets,
            incidences: incidences.into_iter().map(|(_, e, a)| (e, a)).collect(),
        }
    }

    /// att - eps of each engaged author, per node (authors x k).
    fn received(&self, path: &Path<'_>, taus: &[f64]) -> Vec<f64> {
        let k = taus.len();
        let authors = self.author_offsets.len().saturating_sub(1);
        let mut received = vec![0.0; authors * k];
        let scratch = || (vec![0.0; k], vec![0.0; k]);
        received
            .par_chunks_mut(k)
            .enumerate()
            .for_each_init(scratch, |(x, y), (a, out)| {
                for e in &self.replay.engagements[self.author_offsets[a]..self.author_offsets[a + 1]] {
                    gate_at_nodes(path, e.engager_gate as usize, taus, x);
                    gate_at_nodes(path, e.author_gate as usize, taus, y);
                    for m in 0..k {
                        out[m] += x[m] * y[m] * e.amount;
                    }
                }
            });
        received
    }
}

impl PathSweep for Attention<'_> {
    fn players(&self) -> usize {
        self.replay.players()
    }

    fn sweep(&self, path: Path<'_>, taus: &[f64], values: &mut [f64], gradient: Option<&mut GradientSink<'_>>) {
        let k = taus.len();
        let n = self.replay.agents() as f64;
        let eps = self.params.eps;
        let received = self.received(&path, taus);
        let authors = received.len() / k;
        let (mut total, mut squares) = (vec![n * eps; k], vec![(n - authors as f64) * eps * eps; k]);
        for row in received.chunks_exact(k) {
            for m in 0..k {
                total[m] += row[m];
                squares[m] += (eps + row[m]).powi(2);
            }
        }
        for m in 0..k {
            values[m] = squares[m] / (total[m] * total[m]);
        }
        let Some(sink) = gradient else { return };
        // dH/datt_k = 2 att_k / S^2 - 2 Q / S^3.
        let d_att: Vec<f64> = received
            .par_chunks(k)
            .flat_map_iter(|row| {
                (0..k).map(|m| {
                    let s = total[m];
                    2.0 * (eps + row[m]) / (s * s) - 2.0 * squares[m] / (s * s * s)
                })
            })
            .collect();
        let author_index = |e: usize| self.author_offsets.partition_point(|&o| o <= e) - 1;
        // Gates x k, filled in parallel (each gate's incidences are its own),
        // then added to the accumulator in gate order.
        let mut per_gate = vec![0.0; self.gates.len() * k];
        per_gate.par_chunks_mut(k).enumerate().for_each_init(
            || vec![0.0; k],
            |other, (p, grad)| {
                for &(e, is_author) in &self.incidences[self.incidence_offsets[p]..self.incidence_offsets[p + 1]] {
                    let en = &self.replay.engagements[e as usize];
                    let partner = if is_author { en.engager_gate } else { en.author_gate };
                    gate_at_nodes(&path, partner as usize, taus, other);
                    let d = &d_att[author_index(e as usize) * k..][..k];
                    for m in 0..k {
                        grad[m] += d[m] * other[m] * en.amount;
                    }
                }
            },
        );
        for (&g, grad) in self.gates.iter().zip(per_gate.chunks_exact(k)) {
            sink.add(g as usize, grad);
        }
    }
}
