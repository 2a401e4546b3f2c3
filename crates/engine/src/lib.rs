//! Aumann–Shapley attribution of a value function F over N players.
//!
//! For an input x and a baseline x', player i receives
//!
//! ```text
//! phi_i = (x_i - x'_i) * integral_0^1 dF/dx_i(x' + tau (x - x')) dtau
//! ```
//!
//! which satisfies efficiency (the phi sum to F(x) - F(x')), symmetry, the
//! null-player (dummy) property and linearity, at the cost of a few dozen
//! gradient evaluations. Sampled Shapley needs O(N) evaluations of F per
//! permutation.
//!
//! - [`ValueFunction`]: what the path integral evaluates (value, gradient,
//!   and a batched evaluation along the path). Small games implement it
//!   directly.
//! - [`PathSweep`]: what a model over shared structure implements instead:
//!   one sweep that evaluates every quadrature node of a batch and hands
//!   its gradients to a [`GradientSink`]; [`SweepGame`] adapts it.
//! - [`AumannShapley`] and [`attribute`]: the path integral, with a choice of
//!   [`Rule`], a fixed or adaptive node count, and an [`Attribution`] that
//!   carries the completeness gap and a per-player error estimate.
//! - [`Split`]: players held by several workers that attribute together
//!   ([`AumannShapley::attribute_split`]), each with its own players' entries.
//! - [`exact_shapley`] and [`PermutationShapley`]: the Shapley baselines, as
//!   test oracles and for comparison.
//! - [`gradcheck`]: finite-difference checks used by every model's tests.
//! - [`games`]: reference games with known answers.

mod attribution;
mod aumann_shapley;
mod checkpoint;
mod error;
mod exact;
mod game;
pub mod games;
pub mod gradcheck;
mod groups;
mod permutation;
mod quadrature;
mod split;
mod sweep;

pub use attribution::{Attribution, GroupAttribution, Level, neumaier_sum};
pub use aumann_shapley::{
    AumannShapley, DEFAULT_BATCH, DEFAULT_MAX_NODES, DEFAULT_START_NODES, DEFAULT_TOLERANCE, FLAT_TOLERANCE, MAX_NODES,
    NodeCount, Progress, attribute,
};
pub use checkpoint::{Checkpoint, SaveError, SweepState};
pub use error::{Error, Result};
pub use exact::{MAX_EXACT_PLAYERS, ShapleyValues, exact_shapley};
pub use game::{NodeWeights, Path, ValueFunction};
pub use groups::Groups;
pub use permutation::{PermutationShapley, ShapleyEstimate, StopReason};
pub use quadrature::{Nodes, PairedNodes, Rule};
pub use split::{PhiSums, Split, Whole};
pub use sweep::{GradientSink, MAX_SUBSETS, PathSweep, SweepGame, subset_points, values_one_by_one};
