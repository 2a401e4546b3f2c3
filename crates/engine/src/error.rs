use crate::attribution::Attribution;

/// Everything the engine refuses, with enough context to fix the call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the game has no players: attribution needs at least one")]
    NoPlayers,

    #[error("{what} has {found} entries but the game has {expected} players")]
    LengthMismatch {
        what: &'static str,
        expected: usize,
        found: usize,
    },

    #[error("{what}[{index}] is {value}: inputs must be finite numbers")]
    NonFiniteInput {
        what: &'static str,
        index: usize,
        value: f64,
    },

    #[error("the game returned a non-finite {what} ({value}); check the model's inputs and parameters")]
    NonFiniteOutput { what: &'static str, value: f64 },

    #[error("invalid setting: {0}")]
    InvalidSetting(String),

    #[error(
        "exact Shapley enumerates 2^N coalitions and is limited to {max} players; this game has {players}. Use permutation Shapley or Aumann–Shapley instead"
    )]
    TooManyPlayers { players: usize, max: usize },

    /// The adaptive rule hit its node limit before the completeness gap fell
    /// under the tolerance. The best result is kept, with its gap, so a caller
    /// can still use (and report) it.
    #[error("relative completeness gap {:.3e} is above the tolerance {tolerance:.1e} after {} nodes (the limit); the best result is attached", best.relative_gap(), best.nodes)]
    ToleranceNotReached { tolerance: f64, best: Box<Attribution> },

    /// The caller's observer asked to stop (an interrupt), after this many
    /// gradient evaluations.
    #[error("interrupted after {evaluations} gradient evaluations")]
    Interrupted { evaluations: usize },
    /// A checkpoint could not be saved.
    #[error("cannot save the checkpoint: {0}")]
    Checkpoint(#[source] crate::checkpoint::SaveError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn check_point(what: &'static str, x: &[f64], players: usize) -> Result<()> {
    if x.len() != players {
        return Err(Error::LengthMismatch {
            what,
            expected: players,
            found: x.len(),
        });
    }
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFiniteInput { what, index, value });
    }
    Ok(())
}

pub(crate) fn check_output(what: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::NonFiniteOutput { what, value })
    }
}
