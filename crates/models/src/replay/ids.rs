//! Typed ids inside a replay, so that the replay's own agent order and the
//! population's cannot be mixed up.
//!
//! A population numbers its agents 0..N as its tables do (plain `u32`). A
//! replay relabels them by descending follower count ([`ReplayAgent`]) and
//! numbers the (agent, step) pairs that did anything ([`Gate`]). The hot
//! loops work on the raw indices inside the crate; everything a caller sees
//! is typed.

/// An agent's position in a replay's internal order (by descending follower
/// count). [`crate::Replay::original`] gives the population's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplayAgent(pub(crate) u32);

impl ReplayAgent {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A gate: one (agent, step) that did anything, and one player of every
/// indicator. Gates are numbered step by step, and by [`ReplayAgent`]
/// within a step; attributions are vectors indexed by gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gate(pub(crate) u32);

impl Gate {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}
