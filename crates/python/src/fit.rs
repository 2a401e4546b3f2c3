//! The replay's parameters fitted to the population's records, as
//! `aumann fit` fits them.

use crate::errors;
use crate::population::Population;
use aumann_data::progress::Observer;
use aumann_models::{Replay, ReplayOptions};
use pyo3::prelude::*;

/// Polarization's observations as the package passes them: a CSV file,
/// or the columns of a table (external ids, steps, stances).
#[derive(Clone, FromPyObject)]
pub enum Stances {
    File(std::path::PathBuf),
    Columns(Vec<String>, Vec<i64>, Vec<f64>),
}

impl Stances {
    /// As the study and the fit take them.
    pub fn given(self) -> Result<aumann_data::stance::StancesGiven, String> {
        Ok(match self {
            Stances::File(path) => aumann_data::stance::StancesGiven::File(path),
            Stances::Columns(names, at, values) => {
                if names.len() != at.len() || at.len() != values.len() {
                    return Err("stances: the external_id, step and stance columns differ in length".into());
                }
                aumann_data::stance::StancesGiven::Rows(std::sync::Arc::new(
                    names
                        .into_iter()
                        .zip(at)
                        .zip(values)
                        .map(|((n, t), v)| (n, t, v))
                        .collect(),
                ))
            }
        })
    }
}

/// Fits `indicator`'s parameters; returns fit.json's text and, for
/// polarization, the stance rows naming accounts the population does not
/// hold (left out).
#[pyfunction]
#[pyo3(signature = (population, indicator, network, held_out, progress, stances=None))]
pub fn fit(
    py: Python<'_>,
    population: &Population,
    indicator: &str,
    network: &str,
    held_out: f64,
    progress: crate::observe::Progress,
    stances: Option<Stances>,
) -> PyResult<(String, usize)> {
    match (indicator, &stances) {
        ("cascade", None) | ("polarization", Some(_)) => {}
        ("cascade", Some(_)) => {
            return Err(errors::invalid(
                &"stances= is polarization's observations: the cascade is fitted to the population's first responses",
            ));
        }
        ("polarization", None) => {
            return Err(errors::invalid(
                &"indicator=\"polarization\" is fitted to stances observed per step: pass stances= (a table or CSV of \
                  external_id, step, stance; docs/fit.md)",
            ));
        }
        (other, _) => {
            return Err(errors::invalid(&format!(
                "indicator={other:?}: the indicators with an observation model are {} (docs/fit.md)",
                aumann_fit::FITTED_INDICATORS.join(" and ")
            )));
        }
    }
    if !(0.0..1.0).contains(&held_out) {
        return Err(errors::invalid(&format!(
            "held_out is a share of the steps in [0, 1); got {held_out}"
        )));
    }
    let network = network.parse().map_err(|e: String| errors::invalid(&e))?;
    let given = stances
        .map(Stances::given)
        .transpose()
        .map_err(|e| errors::invalid(&e))?;
    let data = population.data.clone();
    let read = match &given {
        None => None,
        Some(given) => Some(given.read(&data).map_err(|e| errors::invalid(&e))?),
    };
    let unknown = read.as_ref().map_or(0, |r| r.unknown_agents);
    let observed: Option<Vec<aumann_fit::ObservedStance>> = read.map(|r| {
        r.given
            .into_iter()
            .map(|(agent, step, stance)| aumann_fit::ObservedStance { agent, step, stance })
            .collect()
    });
    let text = crate::observe::detached(py, progress, |watch| {
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
        let observed = match &observed {
            Some(stances) => aumann_fit::Observed::Polarization {
                stances,
                unknown_accounts: unknown,
            },
            None => aumann_fit::Observed::Cascade(&data.population),
        };
        let fit = aumann_fit::fit(&replay, observed, held_out).map_err(|e| errors::invalid(&e))?;
        serde_json::to_string_pretty(&fit).map_err(|e| errors::internal(&e))
    })??;
    Ok((text, unknown))
}
