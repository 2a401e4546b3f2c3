//! An attribution whose players are held by several workers at once.
//!
//! A model sharded over a cluster evaluates every gradient collectively,
//! each worker computing the entries of its own players. The engine on each
//! worker then needs only those entries (the input, the baseline, the
//! accumulator and phi of its own players) as long as the few numbers that
//! depend on every player are reduced over the workers: the completeness
//! gap (the sum of phi and of its magnitudes), and whether the game moves
//! along the path. A [`Split`] makes those reductions; [`Whole`] is the
//! single process, where they are plain sums.

use crate::attribution::neumaier_sum;

/// The sums over every player's phi that the completeness gap reads.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PhiSums {
    /// Neumaier's sum of phi, in player order.
    pub total: f64,
    /// The plain sum of |phi|, in player order (the scale below which a gap
    /// is rounding).
    pub magnitude: f64,
}

impl PhiSums {
    /// The sums over `phi`, every player's, in order.
    pub fn of(phi: &[f64]) -> Self {
        Self {
            total: neumaier_sum(phi.iter().copied()),
            magnitude: phi.iter().map(|p| p.abs()).sum(),
        }
    }
}

/// How the players of an attribution are held: all here ([`Whole`]), or
/// split over workers that run the same attribution together, each with
/// the entries of its own players, in the game's player order.
///
/// Every method is collective: each worker calls it at the same point of
/// the same attribution, with its own entries.
pub trait Split: Sync {
    /// [`PhiSums::of`] every worker's `phi` put together in player order:
    /// the same bits as one process summing the whole vector.
    fn sums(&self, phi: &[f64]) -> PhiSums;
    /// Whether `mine` is true on any worker.
    fn any(&self, mine: bool) -> bool;
}

/// Every player in this process.
pub struct Whole;

impl Split for Whole {
    fn sums(&self, phi: &[f64]) -> PhiSums {
        PhiSums::of(phi)
    }
    fn any(&self, mine: bool) -> bool {
        mine
    }
}
