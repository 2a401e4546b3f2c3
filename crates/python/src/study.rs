//! The attribution and the study of a population, as the command line runs
//! them (`aumann attribute` is a study without panels or report).

use crate::arrow::ArrowBatch;
use crate::errors;
use crate::population::Population;
use aumann_data::format;
use aumann_data::progress::Observer;
use aumann_data::staged::{Manifest, StagedDir};
use aumann_models::indicators::declaration;
use aumann_study::faithfulness::CurveSpec;
use aumann_study::settings::{EngineSettings, IndicatorSettings, check_latency_quantile};
use aumann_study::tiers::TierSpec;
use aumann_study::{StudyConfig, output};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// Every setting of a study, as the Python side passes them (a dict whose
/// keys are the keyword arguments' names).
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct Settings {
    indicator: String,
    network: String,
    /// The indicators' parameters given, by Python keyword
    /// (`cascade_c`, `lambda_`); the rest take their declared defaults.
    parameters: std::collections::HashMap<String, f64>,
    rule: String,
    nodes: Option<usize>,
    tolerance: f64,
    max_nodes: usize,
    batch: usize,
    tiers: (f64, f64),
    curves: bool,
    ranking_seed: u64,
    random_rankings: u64,
    latency_quantile: f64,
    panel_size: usize,
    permutations: usize,
    panel_seed: u64,
    out: Option<PathBuf>,
    report: bool,
    /// The charts as files: into `out`'s figures/ (with the report) ...
    figures_in_out: bool,
    /// ... or into a directory of their own.
    figures_dir: Option<PathBuf>,
    threads: Option<usize>,
    progress: bool,
}

/// A setting's name as the Python functions take it.
fn keyword(name: &str) -> String {
    declaration::python_keyword(name)
}

impl Settings {
    fn config(&self) -> Result<StudyConfig, String> {
        // Keywords back to the declared names, sorted so that the first
        // error named does not depend on the dict's order.
        let mut parameters: Vec<(String, f64)> = (self.parameters.iter())
            .map(|(given, &value)| {
                let name = declaration::parameters()
                    .find(|(_, p)| keyword(p.name) == *given)
                    .map_or_else(|| given.clone(), |(_, p)| p.name.to_string());
                (name, value)
            })
            .collect();
        parameters.sort_by(|a, b| a.0.cmp(&b.0));
        let indicators = IndicatorSettings {
            indicator: self.indicator.clone(),
            parameters,
        }
        .indicators(&keyword)?;
        let engine = EngineSettings {
            rule: self.rule.parse()?,
            nodes: self.nodes,
            tolerance: self.tolerance,
            max_nodes: self.max_nodes,
            batch: self.batch,
        }
        .build(&keyword)?;
        let tiers = TierSpec {
            head: self.tiers.0,
            middle: self.tiers.1,
        };
        tiers.validate()?;
        let config = StudyConfig {
            indicators,
            engine,
            tiers,
            panel_size: self.panel_size,
            panel_seed: self.panel_seed,
            permutations: self.permutations,
            replay: aumann_models::ReplayOptions {
                network: self.network.parse()?,
                ..Default::default()
            },
            curves: self.curves.then(|| CurveSpec {
                random_rankings: self.random_rankings,
                seed: self.ranking_seed,
                ..CurveSpec::default()
            }),
            latency_quantile: check_latency_quantile(self.latency_quantile, "latency_quantile")?,
            checkpoints: None,
        };
        config.check(&keyword).map_err(|e| e.to_string())?;
        Ok(config)
    }
}

/// Per indicator: its name and its tables (per agent, per (agent, step),
/// and the curves when drawn).
type Tables = Vec<(String, ArrowBatch, ArrowBatch, Option<ArrowBatch>)>;

/// Runs the study; returns summary.json's text, the tables, and the paths
/// written when `out` was given.
#[pyfunction]
pub fn run(py: Python<'_>, population: &Population, settings: Settings) -> PyResult<(String, Tables, Vec<String>)> {
    let started = Instant::now();
    let config = settings.config().map_err(|e| errors::invalid(&e))?;
    let staged = settings
        .out
        .as_deref()
        .map(|out| StagedDir::create(out, &aumann_study::output::FILES, &[]))
        .transpose()
        .map_err(errors::output)?;
    // Checked before the work, as `out` is; apart from it, since its swap
    // would take the figures along.
    let figures_apart = match &settings.figures_dir {
        Some(dir) => match aumann_study::figures::stage_apart(dir, settings.out.as_deref(), &[]) {
            Ok(staged) => Some(staged),
            Err(aumann_study::figures::ApartError::Overlaps { figures, out }) => {
                return Err(errors::invalid(&format!(
                    "figures={} overlaps out={}: give a directory outside it (figures=True puts them in out's figures/)",
                    figures.display(),
                    out.display()
                )));
            }
            Err(aumann_study::figures::ApartError::Output(e)) => return Err(errors::output(e)),
        },
        None => None,
    };
    let pool = match settings.threads {
        Some(0) => return Err(errors::invalid(&"threads must be at least 1 (or None for every core)")),
        Some(n) => Some(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .map_err(|e| errors::internal(&e))?,
        ),
        None => None,
    };
    let data = population.data.clone();
    let report = settings.report;
    let figures_in_out = settings.figures_in_out;
    let outcome = crate::observe::detached(py, settings.progress, |watch| {
        let study = || aumann_study::run(&data, &config, watch);
        let result = match &pool {
            Some(pool) => pool.install(study),
            None => study(),
        }
        .map_err(errors::study)?;
        let manifest = || {
            Manifest::new(
                &format!("a population in Python (source: {})", data.meta.source),
                &format::fingerprint(&data),
            )
        };
        let mut written = match staged {
            None => Vec::new(),
            Some(staged) => {
                watch.stage("writing outputs", None);
                let extras = output::Extras {
                    report: report.then(|| (None, started.elapsed().as_secs_f64())),
                    figures: figures_in_out,
                };
                output::save(staged, &data, &result, extras, manifest()).map_err(|e| match e {
                    output::SaveError::Format(e) => errors::format(e),
                    output::SaveError::Output(e) => errors::output(e),
                    output::SaveError::Figure(e) => errors::internal(&e),
                })?
            }
        };
        if let Some(apart) = figures_apart {
            watch.stage("writing figures", None);
            aumann_study::figures::write(&result, &|name| {
                apart.path(name.strip_prefix("figures/").unwrap_or(name))
            })
            .map_err(|e| errors::internal(&e))?;
            written.extend(apart.commit(Some(manifest())).map_err(errors::output)?);
        }
        let tables = output::tables(&data, &result).map_err(|e| errors::internal(&e))?;
        let summary = output::summary_json(&result);
        Ok::<_, PyErr>((summary, tables, written))
    })?;
    let (summary, tables, written) = outcome?;
    let tables = tables
        .into_iter()
        .map(|t| {
            (
                t.indicator.to_string(),
                ArrowBatch::new(t.attributions),
                ArrowBatch::new(t.steps),
                t.curves.map(ArrowBatch::new),
            )
        })
        .collect();
    let written = written.iter().map(|p| p.display().to_string()).collect();
    Ok((summary, tables, written))
}
