//! A replay's parameters fitted to what was observed.
//!
//! The attribution is exact for the replay; whether the replay is the
//! platform is a question of data. This crate reads, from a population's
//! records, the events an indicator's dynamics predict, estimates the
//! indicator's parameters by maximum likelihood under a stated
//! observation model, gives each a 95% profile-likelihood interval (or
//! says the data cannot identify it and keeps the default), and scores
//! the fitted replay, the defaults and a model without dynamics on steps
//! held out of the fit. docs/fit.md states the models and their
//! assumptions. The crate knows the replay (through its public, read-only
//! view) and nothing of files, studies or front ends.

pub mod cascade;
mod events;
mod maximize;
pub mod plant;
pub mod polarization;
pub mod score;

pub use cascade::OBSERVATION_MODEL;
pub use cascade::{
    AtRisk, CascadeFit, CascadeObservations, ContentRead, Estimate, HeldOut, ObservedSummary, fit_cascade,
    log_likelihood, observe,
};
pub use events::first_response;
pub use polarization::{
    ObservedStance, PolarizationFit, StanceObservations, Transition, fit_polarization, observe_stances,
};
pub use score::Scores;

/// fit.json: the fit of one indicator.
#[derive(Clone, Debug, serde::Serialize, PartialEq)]
#[serde(untagged)]
pub enum Fit {
    Cascade(CascadeFit),
    Polarization(PolarizationFit),
}

impl Fit {
    /// The indicator fitted, by name.
    pub fn indicator(&self) -> &'static str {
        match self {
            Fit::Cascade(f) => f.indicator,
            Fit::Polarization(f) => f.indicator,
        }
    }

    pub fn parameters(&self) -> &[Estimate] {
        match self {
            Fit::Cascade(f) => &f.parameters,
            Fit::Polarization(f) => &f.parameters,
        }
    }
}

/// What a fit reads besides the replay: the cascade reads the
/// population's first responses; polarization the stances observed per
/// step (by population id).
pub enum Observed<'a> {
    Cascade(&'a aumann_models::Population),
    Polarization {
        stances: &'a [ObservedStance],
        /// Rows the reader left out for naming accounts the population
        /// does not hold (fit.json reports them).
        unknown_accounts: usize,
    },
}

/// The indicators that have an observation model.
pub const FITTED_INDICATORS: [&str; 2] = ["cascade", "polarization"];

/// Fits the indicator whose observations are `observed` on `replay`, with
/// `held_out_share` of the last steps held out: what `aumann fit` and the
/// Python package's `fit` run.
pub fn fit(replay: &aumann_models::Replay, observed: Observed<'_>, held_out_share: f64) -> Result<Fit, FitError> {
    Ok(match observed {
        Observed::Cascade(population) => {
            let rows = observe(replay, &first_response(population))?;
            Fit::Cascade(fit_cascade(&rows, held_out_share)?)
        }
        Observed::Polarization {
            stances,
            unknown_accounts,
        } => {
            let mut rows = observe_stances(replay, stances)?;
            rows.summary.unknown_accounts = unknown_accounts;
            Fit::Polarization(fit_polarization(replay, &rows, held_out_share)?)
        }
    })
}

/// The version of fit.json's layout; it changes when a field a reader
/// uses changes or goes.
pub const FIT_SCHEMA: u32 = 1;

/// How a window's read steps split between the fit and the steps held out
/// of it: the last `share` of them (at least one when the share is not
/// 0), or why none can be held out.
pub(crate) fn split(steps: usize, share: f64) -> Result<(usize, usize), String> {
    let read_steps = steps - 1;
    let held = if share > 0.0 {
        ((read_steps as f64 * share).round() as usize).max(1)
    } else {
        0
    };
    if held == 0 {
        Err("no share of the steps was held out".to_string())
    } else if held >= read_steps {
        Err(format!(
            "the window's {steps} steps leave none to fit on once {held} are held out"
        ))
    } else {
        Ok((read_steps - held, held))
    }
}

/// A window whose split holds out fewer steps than this also gets the
/// leave-one-step-out scores (`cross_validated`): a held-out score over
/// one or two steps says little.
pub const CROSS_VALIDATE_BELOW: usize = 3;

/// The steps a leave-one-step-out cross-validation leaves out in turn: the
/// read steps that hold rows, when there are at least two (one step left
/// out needs another to fit on), and the split held out fewer than
/// [`CROSS_VALIDATE_BELOW`] steps.
pub(crate) fn folds(steps_with_rows: impl Iterator<Item = u32>, held_out_steps: usize) -> Vec<u32> {
    let mut steps: Vec<u32> = steps_with_rows.collect();
    steps.sort_unstable();
    steps.dedup();
    if held_out_steps >= CROSS_VALIDATE_BELOW || steps.len() < 2 {
        return Vec::new();
    }
    steps
}

/// χ² with one degree of freedom at 0.95: a parameter value is inside the
/// 95% profile-likelihood interval when twice the log-likelihood it loses
/// against the maximum is at most this.
pub const CHI2_1_95: f64 = 3.841_458_820_694_124;

/// The parameter values a fit says to use (each parameter's `used`: the
/// estimate where identified, the default where not), read back from
/// fit.json.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedValues {
    pub indicator: String,
    /// By declared name (`beta`, `cascade-c`).
    pub values: Vec<(String, f64)>,
}

/// Reads the values to use from fit.json's text.
pub fn read_fitted(text: &str) -> Result<FittedValues, FitError> {
    #[derive(serde::Deserialize)]
    struct File {
        schema: u32,
        indicator: String,
        parameters: Vec<Parameter>,
    }
    #[derive(serde::Deserialize)]
    struct Parameter {
        name: String,
        used: f64,
    }
    let file: File = serde_json::from_str(text).map_err(|e| FitError::NotAFit(e.to_string()))?;
    if file.schema != FIT_SCHEMA {
        return Err(FitError::NotAFit(format!(
            "its schema is {}, and this version reads {FIT_SCHEMA}",
            file.schema
        )));
    }
    Ok(FittedValues {
        indicator: file.indicator,
        values: file.parameters.into_iter().map(|p| (p.name, p.used)).collect(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum FitError {
    #[error("not a fit.json of `aumann fit`: {0}")]
    NotAFit(String),
    #[error(
        "no agent responded (engaged with or reshared others' content) after a step at which it read content, so there is nothing to fit the cascade to ({unexplained} responses followed a step with nothing read)"
    )]
    NoResponses { unexplained: usize },
    #[error(
        "the window has {steps} step(s): a fit needs at least 2 (content read at one step, the response at the next)"
    )]
    TooFewSteps { steps: usize },
    #[error("the held-out share is a number in [0, 1); got {0}")]
    HeldOutShare(f64),
    #[error("the stances observed: {0}")]
    Stance(String),
    #[error(
        "{transitions} agent(s) observed at two consecutive steps: a fit of polarization needs at least 2 (an agent's stance at one step, and at the next)"
    )]
    TooFewTransitions { transitions: usize },
    #[error(
        "{responses} of {rows} agent-steps at risk responded, every one: the likelihood has no maximum (the hazard grows without bound)"
    )]
    EveryoneResponded { responses: usize, rows: usize },
}
