//! Differentiable replays of multi-agent systems.
//!
//! A [`Population`] records who follows whom and what every agent did at
//! every step. A [`Replay`] compiles it once: a gate alpha[i,t] in [0, 1] per
//! (agent, step) that did anything (1 = as recorded, 0 = silent), the follow
//! graph in compressed form, and per step the graph restricted to the agents
//! that posted. Each [`Indicator`] is a value function of the gates, with an
//! exact reverse sweep, so the engine's path integral attributes it to every
//! agent and step.
//!
//! A model is an [`aumann_engine::PathSweep`]: [`Indicator::model`] builds
//! one over a replay and a [`Workspace`] (its buffers and edge count), and
//! [`attribute`] runs the engine's path integral over it.

mod attribute;
mod gate_share;
pub mod graph;
pub mod indicators;
pub mod population;
pub mod replay;
pub mod shards;
mod slots;
mod workspace;

pub use attribute::{
    AttributeError, Local, PathEnds, ReplayAttribution, Sharded, SweepBackend, attribute, attribute_between,
    attribute_in_time_order, attribute_observed, attribute_on, summarize,
};
pub use gate_share::{GateShare, OwnGates};
pub use graph::FollowGraph;
pub use indicators::Indicator;
pub use population::{Activity, Engagement, Exposure, FollowSpan, Order, Population, PopulationError, Repost};
pub use replay::{
    Content, ExtraEdges, Gate, GateError, GateTablesKept, Network, NetworkSummary, Replay, ReplayAgent, ReplayOptions,
    Row, Source, StepGraph,
};
pub use shards::{
    Floats, Incoming, Message, Parcel, Push, PushItem, PushRow, ReadPieces, Round, Shards, Transport, WriteItems,
    any_worker, check_item, check_piece, send, send_floats,
};
pub use workspace::Workspace;
