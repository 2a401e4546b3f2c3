//! Builds each step's [`ExtraEdges`]: the timed follows that hold at the
//! step and the exposures shown at it, merged per (reader, source).

use super::network::{Network, NetworkSummary, always_follows, reads_exposures};
use super::step_graph::SILENT;
use super::{ExtraEdges, GateTables, Source};
use crate::graph::FollowGraph;
use crate::population::{FollowSpan, Population};
use rayon::prelude::*;

/// An exposure row resolved to the replay's labels.
#[derive(Clone, Copy)]
struct Shown {
    step: u32,
    reader: u32,
    author: u32,
    /// The gate of the item shown, or [`Source::NO_GATE`].
    gate: u32,
    amount: f64,
}

pub(super) struct Builder<'a> {
    graph: &'a FollowGraph,
    network: Network,
    /// Timed follows as (follower, followee, span), in the replay's labels.
    timed: Vec<(u32, u32, FollowSpan)>,
    /// Sorted by step.
    shown: Vec<Shown>,
    next_shown: usize,
    pub(super) summary: NetworkSummary,
}

impl<'a> Builder<'a> {
    pub(super) fn new(
        population: &Population,
        timed: &[(u32, u32, FollowSpan)],
        tables: &GateTables,
        internal: &[u32],
        network: Network,
        graph: &'a FollowGraph,
    ) -> Self {
        let id = |a: u32| internal[a as usize];
        let timed = timed.iter().map(|&(j, i, span)| (id(j), id(i), span)).collect();
        let mut shown: Vec<Shown> = if reads_exposures(network) {
            population
                .exposures
                .iter()
                .filter(|e| e.amount > 0.0)
                .zip(&tables.exposure_gates)
                .filter(|(e, _)| e.reader != e.author)
                .map(|(e, gate)| Shown {
                    step: e.step,
                    reader: id(e.reader),
                    author: id(e.author),
                    gate: gate.unwrap_or(Source::NO_GATE),
                    amount: e.amount,
                })
                .collect()
        } else {
            Vec::new()
        };
        shown.par_sort_by_key(|s| s.step);
        Self {
            graph,
            network,
            timed,
            shown,
            next_shown: 0,
            summary: NetworkSummary {
                network,
                ..NetworkSummary::default()
            },
        }
    }

    /// The extra edges of step `t` (steps are built in order), or None when
    /// the step has none.
    pub(super) fn step(
        &mut self,
        t: usize,
        senders: &[u32],
        position: &[u32],
        tables: &GateTables,
    ) -> Option<ExtraEdges> {
        let step = t as u32;
        let alive: Vec<(u32, u32)> = {
            let mut alive: Vec<(u32, u32)> = self
                .timed
                .iter()
                .filter(|(_, _, span)| span.holds_at(step))
                .map(|&(j, i, _)| (j, i))
                .collect();
            alive.sort_unstable();
            alive.dedup();
            alive
        };
        let start = self.next_shown;
        while self.next_shown < self.shown.len() && self.shown[self.next_shown].step == step {
            self.next_shown += 1;
        }
        let shown = &self.shown[start..self.next_shown];
        if alive.is_empty() && shown.is_empty() {
            return None;
        }
        // (reader, source gate, source agent, by a follow, exposure weight)
        let mut raw: Vec<(u32, u32, u32, bool, f64)> = Vec::with_capacity(alive.len() + shown.len());
        for &(j, i) in &alive {
            let p = position[i as usize];
            if p != SILENT {
                raw.push((j, senders[p as usize], i, true, 0.0));
            }
        }
        raw.extend(shown.iter().map(|s| {
            let weight = if s.gate == Source::NO_GATE {
                s.amount
            } else {
                s.amount / tables.activity[s.gate as usize]
            };
            (s.reader, s.gate, s.author, false, weight)
        }));
        // Counting reads the follow graph at random: done in parallel.
        let graph = self.graph;
        let outside = shown
            .par_iter()
            .filter(|s| {
                !(always_follows(graph, s.reader, s.author) || alive.binary_search(&(s.reader, s.author)).is_ok())
            })
            .count();
        self.summary.exposures += shown.len() as u64;
        self.summary.exposures_outside_follows += outside as u64;
        self.summary.exposures_unattributed += shown.iter().filter(|s| s.gate == Source::NO_GATE).count() as u64;
        // The weight breaks ties, so that the merged sums have one order.
        raw.par_sort_unstable_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)).then(a.4.total_cmp(&b.4)));
        // (reader, source, by a follow, summed exposure weight) per pair.
        let mut groups: Vec<(u32, Source, bool, f64)> = Vec::new();
        let mut r = 0;
        while r < raw.len() {
            let (j, gate, agent) = (raw[r].0, raw[r].1, raw[r].2);
            let (mut follow, mut weight) = (false, 0.0);
            while r < raw.len() && (raw[r].0, raw[r].1, raw[r].2) == (j, gate, agent) {
                follow |= raw[r].3;
                weight += raw[r].4;
                r += 1;
            }
            groups.push((j, Source { gate, agent }, follow, weight));
        }
        let reads_follows = self.network != Network::Exposures;
        let merged: Vec<(u32, Source, f64)> = groups
            .into_par_iter()
            .filter_map(|(j, source, follow, weight)| {
                // A follow delivers all the author posted at this step,
                // once; it says nothing about items from earlier steps.
                let always =
                    reads_follows && is_sender(&source, senders, position) && always_follows(graph, j, source.agent);
                let combined = if follow || always { weight.max(1.0) } else { weight };
                let extra = if always { combined - 1.0 } else { combined };
                (extra > 0.0).then_some((j, source, extra))
            })
            .collect();
        let mut sources: Vec<Source> = merged
            .iter()
            .filter(|(_, s, _)| !is_sender(s, senders, position))
            .map(|&(_, s, _)| s)
            .collect();
        sources.sort_unstable();
        sources.dedup();
        let base = senders.len();
        let entries: Vec<(u32, u32, f64)> = merged
            .iter()
            .map(|&(j, s, w)| {
                let p = if is_sender(&s, senders, position) {
                    position[s.agent as usize]
                } else {
                    (base + sources.binary_search(&s).expect("collected above")) as u32
                };
                (j, p, w)
            })
            .collect();
        if entries.is_empty() {
            return None;
        }
        self.summary.extra_edges += entries.len() as u64;
        Some(ExtraEdges::from_entries(
            entries,
            position.len(),
            base + sources.len(),
            sources,
        ))
    }
}

fn is_sender(source: &Source, senders: &[u32], position: &[u32]) -> bool {
    let p = position[source.agent as usize];
    p != SILENT && senders[p as usize] == source.gate
}
