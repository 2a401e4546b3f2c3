//! Differentiable replays of multi-agent systems.
//!
//! A [`Population`] records who follows whom and what every agent did at
//! every step. A [`Replay`] compiles it once: a gate alpha[i,t] in [0, 1] per
//! (agent, step) that did anything (1 = as recorded, 0 = silent), the follow
//! graph in compressed form, and per step the graph restricted to the agents
//! that posted. Each [`Indicator`] is a value function of the gates, with an
//! exact reverse sweep, so the engine's path integral attributes it to every
//! agent and step.

mod attribute;
pub mod graph;
pub mod indicators;
pub mod population;
pub mod replay;

pub use attribute::{AttributeError, ReplayAttribution, attribute, attribute_between, summarize};
pub use graph::FollowGraph;
pub use indicators::Indicator;
pub use population::{Activity, Engagement, Order, Population, PopulationError};
pub use replay::{GateError, Replay};
