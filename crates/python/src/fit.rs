//! The replay's parameters fitted to the population's records, as
//! `aumann fit` fits them.

use crate::errors;
use crate::population::Population;
use aumann_data::progress::Observer;
use aumann_models::{Replay, ReplayOptions};
use pyo3::prelude::*;

/// Fits `indicator`'s parameters; returns fit.json's text.
#[pyfunction]
pub fn fit(
    py: Python<'_>,
    population: &Population,
    indicator: &str,
    network: &str,
    held_out: f64,
    progress: bool,
) -> PyResult<String> {
    if indicator != "cascade" {
        return Err(errors::invalid(&format!(
            "indicator={indicator:?}: only the cascade has an observation model so far (docs/fit.md); polarization's \
             needs stances observed per step"
        )));
    }
    if !(0.0..1.0).contains(&held_out) {
        return Err(errors::invalid(&format!(
            "held_out is a share of the steps in [0, 1); got {held_out}"
        )));
    }
    let network = network.parse().map_err(|e: String| errors::invalid(&e))?;
    let data = population.data.clone();
    crate::observe::detached(py, progress, |watch| {
        watch.stage("building the replay", None);
        let replay = Replay::with_progress(
            &data.population,
            ReplayOptions {
                network,
                ..Default::default()
            },
            &|done, total| watch.advance(done as u64, total as u64, "receivers"),
        )
        .map_err(|e| errors::invalid(&e))?;
        watch.stage("fitting", None);
        let first = aumann_fit::first_response(&data.population);
        let observed = aumann_fit::observe(&replay, &first).map_err(|e| errors::invalid(&e))?;
        let fit = aumann_fit::fit_cascade(&observed, held_out).map_err(|e| errors::invalid(&e))?;
        serde_json::to_string_pretty(&fit).map_err(|e| errors::internal(&e))
    })?
}
