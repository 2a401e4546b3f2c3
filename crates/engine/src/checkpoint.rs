//! What an attribution has done, saved after every sweep so that a run
//! stopped by a crash continues where it was.
//!
//! The adaptive rule is deterministic: the same game, path and settings
//! make the same integrations over the same nodes in the same order. A
//! saved [`SweepState`] is therefore enough to continue: the integrations
//! it finished are not evaluated again, the one under way starts from its
//! accumulator after the batches it had done, and the result is bit for bit
//! that of a run never stopped. Whether a state belongs to this game is the
//! caller's to check (a fingerprint of the input and settings, say).

/// Why a checkpoint could not be saved: the store's own error (an I/O
/// error, a full disk), kept whole so that a caller can branch on it.
pub type SaveError = Box<dyn std::error::Error + Send + Sync>;

/// Where the progress of one attribution is kept. The engine holds it
/// mutably for the attribution's length: a store keeps what it restored and
/// what it saved in its own fields.
pub trait Checkpoint {
    /// The state an earlier run of the same attribution saved last, if any.
    fn restore(&mut self) -> Option<SweepState>;
    /// The state saved before that one, where it is kept: workers that
    /// save each their own copy may be stopped between two saves, one a
    /// sweep ahead of another, and then continue from the newest state all
    /// of them hold.
    fn restore_previous(&mut self) -> Option<SweepState> {
        None
    }
    /// Told which restored state the run continues from (`None`: from
    /// the beginning), once that is decided.
    fn resumed_from(&mut self, _state: Option<&SweepState>) {}
    /// Saves the state after a sweep. An error stops the attribution
    /// ([`crate::Error::Checkpoint`]): a run that promised to be resumable
    /// does not go on without its checkpoints.
    fn save(&mut self, state: &SweepState) -> Result<(), SaveError>;
}

/// An attribution's progress after a sweep.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepState {
    /// Per integration finished so far, in order: phi of the rule's row and
    /// of its companion row (players each).
    pub finished: Vec<(Vec<f64>, Vec<f64>)>,
    /// Batches done of the integration under way.
    pub batches: usize,
    /// Its accumulator after them: two rows of players (rule, companion).
    pub accumulator: Vec<f64>,
    /// Gradient evaluations done over all integrations.
    pub evaluations: usize,
}

impl SweepState {
    /// Whether the state fits a game of `players` players.
    pub fn fits(&self, players: usize) -> bool {
        (self.batches == 0 || self.accumulator.len() == 2 * players)
            && self
                .finished
                .iter()
                .all(|(a, b)| a.len() == players && b.len() == players)
    }
}
