//! The attribution and the study of a population, as the command line runs
//! them (`aumann attribute` is a study without panels or report).

use crate::arrow::ArrowBatch;
use crate::errors;
use crate::population::Population;
use aumann_models::indicators::declaration;
use aumann_study::faithfulness::CurveSpec;
use aumann_study::settings::{EngineSettings, IndicatorSettings, check_latency_quantile};
use aumann_study::tiers::TierSpec;
use aumann_study::{Figures, Input, Run, RunError, StudyConfig, output};
use pyo3::prelude::*;
use std::path::PathBuf;

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
    panel_draws: usize,
    out: Option<PathBuf>,
    report: bool,
    /// The charts as files: into `out`'s figures/ (with the report) ...
    figures_in_out: bool,
    /// ... or into a directory of their own.
    figures_dir: Option<PathBuf>,
    threads: Option<usize>,
    progress: crate::observe::Progress,
    /// Save each attribution's progress here; the same run started again
    /// continues from there.
    checkpoint: Option<PathBuf>,
    /// This process's place in a cluster, when it is one's.
    cluster: Option<ClusterSettings>,
    /// Fit the cascade's parameters first (or polarization's, to
    /// `stances`), holding out this share of the steps.
    fit: Option<f64>,
    stances: Option<crate::fit::Stances>,
    /// The sensitivity analysis's extent: none, default or full.
    sensitivity: String,
    /// A baseline of the user's for it.
    baseline: Option<Baseline>,
}

/// A user's baseline as the package passes it: a CSV file, or the columns
/// of a table (external ids, steps or None, baselines).
#[derive(Clone, FromPyObject)]
pub enum Baseline {
    File(PathBuf),
    Columns(Vec<String>, Vec<Option<i64>>, Vec<f64>),
}

impl Baseline {
    fn given(self) -> Result<aumann_data::baseline::BaselineGiven, String> {
        Ok(match self {
            Baseline::File(path) => aumann_data::baseline::BaselineGiven::File(path),
            Baseline::Columns(ids, steps, values) => {
                if ids.len() != steps.len() || steps.len() != values.len() {
                    return Err("baseline: the external_id, step and baseline columns differ in length".into());
                }
                aumann_data::baseline::BaselineGiven::Rows(std::sync::Arc::new(
                    ids.into_iter()
                        .zip(steps)
                        .zip(values)
                        .map(|((i, t), v)| (i, t, v))
                        .collect(),
                ))
            }
        })
    }
}

/// `aumann.Cluster`'s fields.
#[derive(FromPyObject)]
#[pyo3(from_item_all)]
pub struct ClusterSettings {
    processes: Option<usize>,
    process: usize,
    workers: usize,
    hostfile: Option<PathBuf>,
    first_port: u16,
    connect_timeout: f64,
    peer_timeout: f64,
}

impl ClusterSettings {
    fn cluster(&self) -> Result<aumann_study::Cluster, RunError> {
        let seconds = |name: &str, s: f64| aumann_study::Cluster::timeout(name, s, &keyword);
        Ok(aumann_study::Cluster {
            addresses: aumann_study::Cluster::addresses(
                self.hostfile.as_deref(),
                self.processes,
                self.first_port,
                &keyword,
            )?,
            process: self.process,
            workers: self.workers,
            connect_timeout: seconds("connect-timeout", self.connect_timeout)?,
            peer_timeout: seconds("peer-timeout", self.peer_timeout)?,
        })
    }
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
            panel_draws: self.panel_draws,
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
            fit: self.fit,
            stances: self.stances.clone().map(crate::fit::Stances::given).transpose()?,
            sensitivity: match aumann_study::sensitivity::Extent::parse(&self.sensitivity)
                .map_err(|e| format!("sensitivity: {e}"))?
            {
                None if self.baseline.is_some() => {
                    return Err(
                        "baseline= is an alternative of the sensitivity analysis: give sensitivity=\"default\" or \"full\""
                            .into(),
                    );
                }
                None => None,
                Some(extent) => Some(aumann_study::sensitivity::SensitivitySpec {
                    extent,
                    baseline: self.baseline.clone().map(Baseline::given).transpose()?,
                }),
            },
        };
        config.check(&keyword).map_err(|e| e.to_string())?;
        Ok(config)
    }
}

/// Per indicator: its name and its tables (per agent, per (agent, step),
/// the curves when drawn, and the sensitivity table when made).
type Tables = Vec<(String, ArrowBatch, ArrowBatch, Option<ArrowBatch>, Option<ArrowBatch>)>;

/// Runs the study; returns summary.json's text, the tables, and the paths
/// written when `out` was given; None on a cluster's processes other than
/// 0, which write and return nothing.
#[pyfunction]
pub fn run(
    py: Python<'_>,
    population: &Population,
    settings: Settings,
) -> PyResult<Option<(String, Tables, Vec<String>)>> {
    let config = settings.config().map_err(|e| errors::invalid(&e))?;
    let figures = match (&settings.figures_dir, settings.figures_in_out) {
        (Some(dir), _) => Figures::Apart(dir.clone()),
        (None, true) => Figures::InOut,
        (None, false) => Figures::None,
    };
    let cluster = (settings.cluster.as_ref())
        .map(ClusterSettings::cluster)
        .transpose()
        .map_err(run_error)?;
    let data = population.data.clone();
    let run = Run {
        input_label: format!("a population in Python (source: {})", data.meta.source),
        input: Input::InMemory(data),
        config,
        out: settings.out.clone(),
        report: settings.report,
        figures,
        checkpoint_dir: settings.checkpoint.clone(),
        cluster,
        threads: settings.threads,
        option_name: keyword,
    };
    let outcome = crate::observe::detached(py, settings.progress, |watch| {
        let Some(finished) = run.execute(watch).map_err(run_error)?.finished else {
            return Ok(None);
        };
        let tables = output::tables(&finished.data, &finished.result).map_err(|e| errors::internal(&e))?;
        let summary = output::summary_json(&finished.result);
        Ok::<_, PyErr>(Some((summary, tables, finished.written)))
    })?;
    let Some((summary, tables, written)) = outcome? else {
        return Ok(None);
    };
    let tables = tables
        .into_iter()
        .map(|t| {
            (
                t.indicator.to_string(),
                ArrowBatch::new(t.attributions),
                ArrowBatch::new(t.steps),
                t.curves.map(ArrowBatch::new),
                t.sensitivity.map(ArrowBatch::new),
            )
        })
        .collect();
    let written = written.iter().map(|p| p.display().to_string()).collect();
    Ok(Some((summary, tables, written)))
}

/// A run's error as the package's exception, in the keywords' words.
fn run_error(error: RunError) -> PyErr {
    match error {
        RunError::Settings(e) => errors::invalid(&e),
        RunError::Study(e) => errors::study(e),
        RunError::Read(e) => errors::format(e),
        RunError::Output(e) => errors::output(e),
        RunError::Save(output::SaveError::Format(e)) => errors::format(e),
        RunError::Save(output::SaveError::Output(e)) => errors::output(e),
        RunError::Save(output::SaveError::Figure(e)) | RunError::Figure(e) => errors::internal(&e),
        RunError::FiguresOverlap { figures, out } => errors::invalid(&format!(
            "figures={} overlaps out={}: give a directory outside it (figures=True puts them in out's figures/)",
            figures.display(),
            out.display()
        )),
        RunError::Cluster(aumann_study::ClusterError::Settings(e)) => errors::invalid(&e),
        RunError::Cluster(e) => errors::raise(errors::Kind::Error, &e),
    }
}
