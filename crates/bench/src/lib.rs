//! The benchmark method behind BENCHMARKS.md, as a library so that its
//! arithmetic (pilot runs, extrapolation, growth fits) is tested and the
//! `aumann bench` command only parses options and prints.
//!
//! - [`replay`]: one full attribution at a population size: time, memory,
//!   passes over the graph, and bytes read against the machine's streaming
//!   rate.
//! - [`shapley`]: Aumann–Shapley against permutation Shapley (and exact
//!   Shapley on small populations) on the same indicator and machine.
//! - [`budget`]: how many permutations a time cap affords, and what the
//!   whole budget would cost.
//! - [`stance`]: how well the `follows` stance recovers planted
//!   communities, and its cost against the attribution.
//! - [`fit`]: growth exponents, distances, AUC and rank correlation.

pub mod budget;
pub mod fit;
pub mod planted;
pub mod replay;
pub mod shapley;
pub mod stance;
pub mod trees;

/// Anything a benchmark run can fail on.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Population(#[from] aumann_models::PopulationError),
    #[error(transparent)]
    Attribute(#[from] aumann_models::AttributeError),
    #[error("{0}")]
    Engine(#[from] aumann_engine::Error),
    #[error("unknown indicator: {0}")]
    Indicator(String),
    #[error("stance: {0}")]
    Stance(String),
    #[error(transparent)]
    Format(#[from] aumann_data::format::FormatError),
    /// A repeated measurement gave another answer than the first: the
    /// same input must give the same bits.
    #[error("{0}: the same input gave two answers, which is a bug (please report it)")]
    Differs(String),
}
