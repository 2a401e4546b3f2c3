//! Who reads whom at each step beyond the follows that held all along:
//! follows with a begin or an end, observed exposures, and the content that
//! reposts carry.
//!
//! The follows that held over the whole window stay in the
//! [`crate::FollowGraph`], stored once and walked by every step's sweep as
//! before. Everything that changes from step to step is a short list of
//! weighted edges per step ([`ExtraEdges`]), kept in both directions so that
//! the forward sweep pulls over a receiver's row and the reverse sweep over
//! a source's row, both without atomics and in a fixed order.

use crate::graph::FollowGraph;
use rayon::prelude::*;
use serde::Serialize;

/// Which recorded network the diffusion indicators replay.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Network {
    /// Follows only, each while it held.
    Follows,
    /// Exposures only: who was shown whose content.
    Exposures,
    /// Follows and exposures together; a reader who both follows an author
    /// and was shown the author's items reads them once, at the larger of
    /// the two weights.
    #[default]
    Both,
}

impl Network {
    pub const NAMES: [&'static str; 3] = ["follows", "exposures", "both"];

    pub fn name(self) -> &'static str {
        match self {
            Network::Follows => "follows",
            Network::Exposures => "exposures",
            Network::Both => "both",
        }
    }

    fn follows(self) -> bool {
        self != Network::Exposures
    }

    fn exposures(self) -> bool {
        self != Network::Follows
    }
}

impl std::str::FromStr for Network {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "follows" => Ok(Network::Follows),
            "exposures" => Ok(Network::Exposures),
            "both" => Ok(Network::Both),
            _ => Err(format!(
                "unknown network '{s}'; choose one of {}",
                Network::NAMES.join(", ")
            )),
        }
    }
}

/// How a replay is built.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    pub network: Network,
    /// The per-gate tables that only some indicators read, kept or not.
    pub tables: GateTablesKept,
}

/// Which of the per-gate tables that only one indicator reads a replay
/// keeps: the engagements (read by attention; 24 bytes per engagement, 0.3
/// GB at full scale) and the order flows (read by panic; 8 bytes per gate).
/// The gates themselves are the same either way (an engagement or an order
/// still makes its gates), so attributions of every indicator line up row
/// for row whatever is kept. Both are kept by default; a caller that knows
/// its indicators keeps only what they read
/// ([`GateTablesKept::for_indicators`]), and a model of an indicator whose
/// table was dropped panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateTablesKept {
    pub engagements: bool,
    pub orders: bool,
}

impl Default for GateTablesKept {
    fn default() -> Self {
        Self {
            engagements: true,
            orders: true,
        }
    }
}

impl GateTablesKept {
    /// What both keep.
    pub fn and(self, other: Self) -> Self {
        Self {
            engagements: self.engagements && other.engagements,
            orders: self.orders && other.orders,
        }
    }
}

/// What the replayed network is made of, for reports.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct NetworkSummary {
    pub network: Network,
    /// Follow edges held over the whole window (duplicates and self-follows
    /// dropped).
    pub follows_always: u64,
    /// Follow rows with a begin or an end step.
    pub follows_timed: u64,
    /// Exposure rows replayed, and how many of them no follow held at their
    /// step (the reader did not follow the author).
    pub exposures: u64,
    pub exposures_outside_follows: u64,
    /// Exposures to items that no activity row records (posted before the
    /// window, or by an author whose activity is missing): replayed as
    /// content nobody in the window can silence.
    pub exposures_unattributed: u64,
    /// Repost rows whose parent content is in the window (gated by the
    /// parent author), and those whose parent is not (the reposter's own).
    pub reposts_linked: u64,
    pub reposts_unlinked: u64,
    /// Weighted edges read per sweep beyond the follows that always held.
    pub extra_edges: u64,
}

impl NetworkSummary {
    /// One line for summaries and reports: the network and each part that
    /// is not empty.
    pub fn describe(&self) -> String {
        let mut parts = vec![format!("{} follows held all along", self.follows_always)];
        if self.follows_timed > 0 {
            parts.push(format!("{} with a begin or an end", self.follows_timed));
        }
        if self.exposures > 0 {
            parts.push(format!(
                "{} exposures ({} outside follows{})",
                self.exposures,
                self.exposures_outside_follows,
                if self.exposures_unattributed > 0 {
                    format!(", {} to items outside the record", self.exposures_unattributed)
                } else {
                    String::new()
                }
            ));
        }
        if self.reposts_linked + self.reposts_unlinked > 0 {
            parts.push(format!(
                "{} reposts carrying their parent ({} whose parent is outside the record)",
                self.reposts_linked, self.reposts_unlinked
            ));
        }
        format!("network: {}; {}", self.network.name(), parts.join(", "))
    }
}

/// A source that is not one of the step's senders: an item posted at an
/// earlier step (gated by that step's gate), or content nobody in the
/// window can silence (no gate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    /// The gate that silences it, or [`Source::NO_GATE`].
    pub gate: u32,
    /// Its author, a replay agent.
    pub agent: u32,
}

impl Source {
    /// The gate of content nobody in the window can silence.
    pub const NO_GATE: u32 = u32::MAX;
}

/// One step's weighted edges beyond the always-held follows: per receiver
/// the positions it reads (among the step's senders, then `sources`) with
/// their weights, and the same edges per position.
///
/// A weight scales the emission of the source's gate: 1 is all that the
/// author posted at that step (what a follow carries), `amount / activity`
/// is an exposure to part of it; for a source without a gate the weight is
/// the amount itself.
#[derive(Clone, Debug, Default)]
pub struct ExtraEdges {
    /// The sources past the step's senders, at positions `senders..`.
    pub sources: Vec<Source>,
    offsets: Vec<u64>,
    positions: Vec<u32>,
    weights: Vec<f64>,
    back_offsets: Vec<u64>,
    receivers: Vec<u32>,
    back_weights: Vec<f64>,
}

impl ExtraEdges {
    /// Builds the lists from (receiver, position, weight) entries, one per
    /// pair, for `agents` receivers and `positions` sources in all.
    pub(crate) fn from_entries(
        mut entries: Vec<(u32, u32, f64)>,
        agents: usize,
        positions: usize,
        sources: Vec<Source>,
    ) -> Self {
        entries.par_sort_unstable_by_key(|&(j, p, _)| (j, p));
        let mut offsets = vec![0u64; agents + 1];
        for &(j, _, _) in &entries {
            offsets[j as usize + 1] += 1;
        }
        for j in 0..agents {
            offsets[j + 1] += offsets[j];
        }
        let mut back_offsets = vec![0u64; positions + 1];
        for &(_, p, _) in &entries {
            back_offsets[p as usize + 1] += 1;
        }
        for p in 0..positions {
            back_offsets[p + 1] += back_offsets[p];
        }
        // Entries are sorted by receiver, so each source's row comes out
        // sorted by receiver too: sums over it have a fixed order.
        let mut receivers = vec![0u32; entries.len()];
        let mut back_weights = vec![0.0; entries.len()];
        let mut cursor = back_offsets.clone();
        for &(j, p, w) in &entries {
            let c = &mut cursor[p as usize];
            receivers[*c as usize] = j;
            back_weights[*c as usize] = w;
            *c += 1;
        }
        Self {
            sources,
            offsets,
            positions: entries.iter().map(|e| e.1).collect(),
            weights: entries.iter().map(|e| e.2).collect(),
            back_offsets,
            receivers,
            back_weights,
        }
    }

    /// (positions, weights) read by `receiver`.
    #[inline]
    pub fn row(&self, receiver: usize) -> (&[u32], &[f64]) {
        let range = self.offsets[receiver] as usize..self.offsets[receiver + 1] as usize;
        (&self.positions[range.clone()], &self.weights[range])
    }

    /// (receivers, weights) that read `position`.
    #[inline]
    pub fn readers(&self, position: usize) -> (&[u32], &[f64]) {
        let range = self.back_offsets[position] as usize..self.back_offsets[position + 1] as usize;
        (&self.receivers[range.clone()], &self.back_weights[range])
    }

    pub fn edges(&self) -> usize {
        self.positions.len()
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        (self.offsets.len() + self.back_offsets.len()) * 8 + self.positions.len() * 24 + self.sources.len() * 8
    }
}

/// The content that reposts carry: for each gate, the parent gates whose
/// content part of its activity is, and how much.
///
/// A gate g with links emits gamma_g (own_g + sum_k amount_k gamma_{p_k}):
/// silencing a parent author at the parent's step silences what others
/// reposted of it. Only direct parents are linked, as the data names them.
#[derive(Clone, Debug, Default)]
pub struct Content {
    /// offsets[g]..offsets[g+1] index `links`; empty when nothing links.
    offsets: Vec<u32>,
    links: Vec<(u32, f64)>,
    /// Per gate with links: activity minus the linked amounts.
    own: Vec<f64>,
}

impl Content {
    /// Links from (reposter gate, parent gate, amount) triples.
    pub(crate) fn from_links(mut triples: Vec<(u32, u32, f64)>, activity: &[f64]) -> Self {
        if triples.is_empty() {
            return Self::default();
        }
        triples.sort_unstable_by_key(|&(g, p, _)| (g, p));
        triples.dedup_by(|later, kept| {
            let same = later.0 == kept.0 && later.1 == kept.1;
            if same {
                kept.2 += later.2;
            }
            same
        });
        let players = activity.len();
        let mut offsets = vec![0u32; players + 1];
        for &(g, _, _) in &triples {
            offsets[g as usize + 1] += 1;
        }
        for g in 0..players {
            offsets[g + 1] += offsets[g];
        }
        let mut own = activity.to_vec();
        for &(g, _, amount) in &triples {
            own[g as usize] = (own[g as usize] - amount).max(0.0);
        }
        Self {
            offsets,
            links: triples.into_iter().map(|(_, p, a)| (p, a)).collect(),
            own,
        }
    }

    /// Whether some gate carries reposted content.
    pub fn any(&self) -> bool {
        !self.links.is_empty()
    }

    /// The (parent gate, amount) links of a gate.
    #[inline]
    pub fn links(&self, gate: usize) -> &[(u32, f64)] {
        if self.offsets.is_empty() {
            return &[];
        }
        &self.links[self.offsets[gate] as usize..self.offsets[gate + 1] as usize]
    }

    /// Activity of a gate that is its own (not carried from a parent).
    #[inline]
    pub fn own(&self, gate: usize) -> f64 {
        self.own[gate]
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.len() * 4 + self.links.len() * 16 + self.own.len() * 8
    }
}

/// The follows of the population that the replay keeps in its follow
/// graph (held all along), and the others with their spans.
pub(crate) struct SplitFollows<'a> {
    /// Borrowed when every follow held all along (no copy of the largest
    /// table).
    pub(crate) always: std::borrow::Cow<'a, [(u32, u32)]>,
    pub(crate) timed: Vec<(u32, u32, crate::population::FollowSpan)>,
}

impl<'a> SplitFollows<'a> {
    /// `follows` with their `spans` (one per follow, or none when every
    /// follow held all along); owned follows that all held all along are
    /// passed on as they are, to be dropped once the graph holds them.
    pub(crate) fn new(
        follows: std::borrow::Cow<'a, [(u32, u32)]>,
        spans: &[crate::population::FollowSpan],
        network: Network,
    ) -> Self {
        if !network.follows() {
            return Self {
                always: Vec::new().into(),
                timed: Vec::new(),
            };
        }
        if spans.is_empty() {
            return Self {
                always: follows,
                timed: Vec::new(),
            };
        }
        let mut always = Vec::new();
        let mut timed = Vec::new();
        for (&(j, i), span) in follows.iter().zip(spans) {
            if i == j {
                continue;
            }
            if span.always() {
                always.push((j, i));
            } else {
                timed.push((j, i, *span));
            }
        }
        Self {
            always: always.into(),
            timed,
        }
    }
}

/// Whether the replay reads the population's exposures.
pub(crate) fn reads_exposures(network: Network) -> bool {
    network.exposures()
}

/// Whether `reader` follows `author` over the whole window, in the graph's
/// own labels.
pub(crate) fn always_follows(graph: &FollowGraph, reader: u32, author: u32) -> bool {
    graph.followees(reader as usize).binary_search(&author).is_ok()
}
