//! The scaling study.
//!
//! Attribute an indicator over the whole population, split the result into
//! follower tiers, replay the 100-account convenience panel (and a random
//! control panel) as systems of their own, and test whether any global
//! rescaling reconciles the panel with the full scale (Attribution Scaling
//! Bias). [`output`] writes the tables and summary, [`report`] the page.

pub mod agent_game;
pub mod compare;
pub mod faithfulness;
pub mod figures;
pub mod number;
pub mod output;
pub mod pagerank;
pub mod panel;
pub mod report;
pub mod settings;
mod study;
pub mod svg;
pub mod tiers;
pub mod when;

pub use study::{
    AgentErrors, BuiltReplay, CONTROL_TOLERANCE, Checkpoints, ControlCheck, FullScale, IndicatorStudy,
    PanelAttribution, PanelStudy, PopulationSummary, RELATIVE_ERROR_FLOOR, StudyConfig, StudyError, StudyResult,
    TOP_AGENTS, TopAgent, attribute_built, build_attribution_shard, build_replay, build_replay_releasing, run,
    run_built, run_on,
};
