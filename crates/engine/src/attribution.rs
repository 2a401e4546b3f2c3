//! The result of a path-integral attribution.

use crate::groups::Groups;
use crate::quadrature::Rule;
use crate::split::PhiSums;
use serde::Serialize;
use std::time::Duration;

/// One refinement level of an attribution: how many nodes, and the
/// completeness gap it reached. The list of levels is the convergence history.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Level {
    pub nodes: usize,
    pub relative_gap: f64,
}

/// Aumann–Shapley attributions of F(input) - F(baseline) to the players,
/// with the diagnostics that say how far to trust them.
///
/// From [`crate::AumannShapley::attribute_split`] on one of several
/// workers, `phi` and `error` hold this worker's players only, while the
/// gap and everything else describe the whole attribution.
#[derive(Clone, Debug, Serialize)]
pub struct Attribution {
    /// phi_i, one per player (held here).
    pub phi: Vec<f64>,
    /// The sums of every player's phi (those of every worker when the
    /// players are split), from which the gap is computed.
    #[serde(skip)]
    pub sums: PhiSums,
    /// Signed difference between phi and the companion rule's phi (fewer
    /// nodes: half at a fixed count, the previous level in adaptive mode);
    /// its magnitude is the per-player error estimate. Asymptotic, not a
    /// bound: for a rule of order p it is about ((n / n_c)^p - 1) times
    /// phi's own error once the error behaves like n^-p (n_c the companion's
    /// nodes), and for Gauss–Legendre it overstates the error once the rule
    /// resolves the integrand and can understate it before (docs/method.md).
    pub error: Vec<f64>,
    /// F(input).
    pub value_input: f64,
    /// F(baseline).
    pub value_baseline: f64,
    pub rule: Rule,
    /// Nodes of the rule that produced `phi`.
    pub nodes: usize,
    /// Nodes of the companion rule that produced the error estimate.
    pub companion_nodes: usize,
    /// Gradient evaluations spent, over all levels (a batched sweep over k
    /// nodes counts k).
    pub gradient_evaluations: usize,
    /// The tolerance on the relative completeness gap, in adaptive mode.
    pub tolerance: Option<f64>,
    /// The game does not move along the path: F(x) = F(x') within the flat
    /// tolerance, and at every node of the first level (the rule's and its
    /// companion's) every gradient along the path is exactly 0 and F equals
    /// F(x') to rounding. phi is 0 for every player; `nodes`,
    /// `companion_nodes` and `gradient_evaluations` say what was checked.
    pub flat: bool,
    pub levels: Vec<Level>,
    #[serde(serialize_with = "as_seconds")]
    pub elapsed: Duration,
}

/// Durations go into JSON as seconds.
pub(crate) fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Attribution {
    pub fn players(&self) -> usize {
        self.phi.len()
    }

    /// F(input) - F(baseline): what efficiency says the phi must sum to.
    pub fn target(&self) -> f64 {
        self.value_input - self.value_baseline
    }

    /// sum phi, accumulated with compensated summation (over every
    /// worker's players when they are split).
    pub fn total(&self) -> f64 {
        self.sums.total
    }

    /// sum phi - (F(x) - F(x')): Captum's "convergence delta".
    pub fn gap(&self) -> f64 {
        self.total() - self.target()
    }

    /// |gap| / |F(x) - F(x')|. When F(x) = F(x') the relative gap is taken
    /// to be 0 if the phi sum to exactly 0 and infinite otherwise.
    pub fn relative_gap(&self) -> f64 {
        relative_gap(self.total(), self.target())
    }

    /// The per-player error estimate |error_i|.
    pub fn error_estimate(&self, player: usize) -> f64 {
        self.error[player].abs()
    }

    /// The largest per-player error estimate over the largest |phi| (a
    /// ratio of maxima, for a quick look; per-agent relative errors are the
    /// study's `AgentErrors`).
    pub fn max_relative_error(&self) -> f64 {
        let scale = self.phi.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = self.error.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if scale == 0.0 { worst } else { worst / scale }
    }

    /// Whether the relative gap is within the tolerance: the one asked for,
    /// or in fixed-node mode (which asks for none) the default one, so
    /// that a fixed node count too coarse for the path says so.
    pub fn converged(&self) -> bool {
        self.within(self.tolerance.unwrap_or(crate::aumann_shapley::DEFAULT_TOLERANCE))
    }

    /// The gap is within `tolerance` relative to F(x) - F(x'), or at the
    /// level of rounding in the values involved (which is what decides when
    /// F(x) = F(x') and any nonzero gap is infinitely large in relative terms).
    pub fn within(&self, tolerance: f64) -> bool {
        let scale = self.value_input.abs() + self.value_baseline.abs() + self.sums.magnitude;
        self.relative_gap() <= tolerance || self.gap().abs() <= 64.0 * f64::EPSILON * scale
    }

    /// Attributions summed over groups of players (an agent with one input
    /// per time step gets one number). Error estimates are summed signed, so
    /// that errors which cancel within a group are not double counted.
    pub fn grouped(&self, groups: &Groups) -> GroupAttribution {
        assert_eq!(groups.players(), self.players(), "groups must cover every player");
        GroupAttribution {
            phi: groups.sum(&self.phi),
            error: groups.sum(&self.error),
        }
    }
}

/// Attributions summed over player groups.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GroupAttribution {
    pub phi: Vec<f64>,
    pub error: Vec<f64>,
}

pub(crate) fn relative_gap(total: f64, target: f64) -> f64 {
    let gap = (total - target).abs();
    if target != 0.0 {
        gap / target.abs()
    } else if gap == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Neumaier's compensated sum: the answer to sums of millions of phi of
/// mixed sign should not depend on their order more than rounding demands.
pub fn neumaier_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            c += (sum - t) + v;
        } else {
            c += (v - t) + sum;
        }
        sum = t;
    }
    sum + c
}
