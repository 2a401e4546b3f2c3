//! The scaling study.
//!
//! Attribute an indicator over the whole population, split the result into
//! follower tiers, replay the 100-account convenience panel (and a random
//! control panel) as systems of their own, and test whether any global
//! rescaling reconciles the panel with the full scale (Attribution Scaling
//! Bias). [`Run`] owns a run's whole life (the population read, the
//! replays built, a cluster's roles, the outputs written whole); [`run`] is
//! the study of a population in memory. [`output`] writes the tables and
//! summary, [`report`] the page.

pub mod agent_game;
pub mod compare;
pub mod faithfulness;
pub mod figures;
mod lifecycle;
pub mod number;
pub mod output;
pub mod pagerank;
pub mod panel;
pub mod report;
pub mod sensitivity;
pub mod settings;
mod study;
pub mod svg;
pub mod tiers;
pub mod when;

pub use aumann_cluster::{ClusterError, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_PORT, DEFAULT_PEER_TIMEOUT, Traffic};
pub use lifecycle::{
    Cluster, ClusterTraffic, Figures, Finished, Input, Ran, Run, RunError, checkpoint_identity, job_fingerprint,
};
pub use study::{
    AgentErrors, CONTROL_TOLERANCE, Checkpoints, ControlCheck, FitRange, FullScale, IndicatorStudy, PanelAttribution,
    PanelDraws, PanelStudy, PopulationSummary, RELATIVE_ERROR_FLOOR, Spread, StudyConfig, StudyError, StudyResult,
    TOP_AGENTS, TopAgent, run,
};
