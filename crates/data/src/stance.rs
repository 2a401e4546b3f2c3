//! The stance step: estimate every agent's stance and write it, with where
//! it came from and how sure it is, into a dataset.

use crate::{Dataset, StanceDetail};
use aumann_stance::{
    CaOptions, Diagnostics, Estimate, StanceError, StanceFileError, StanceRow, StancesPerStep, check_stances_per_step,
    read_labels, read_stances_per_step,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use aumann_stance::{StanceFileError as StancesError, StancesPerStep as StancesRead};

/// The methods of `aumann stance` and `--stance` on ingest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StanceMethod {
    /// Correspondence analysis of who follows which of the most-followed.
    Follows,
    /// The same on who engages which of the most-engaged authors.
    Engagements,
    /// A file of labelled accounts spread over the follow graph.
    Seeds,
    /// Two term lists scored over post text (at ingest only).
    Lexicon,
    /// A file of stances, as given.
    Csv,
}

impl StanceMethod {
    pub const NAMES: [&'static str; 5] = ["follows", "engagements", "seeds", "lexicon", "csv"];

    pub fn name(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

impl std::str::FromStr for StanceMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "follows" => Self::Follows,
            "engagements" => Self::Engagements,
            "seeds" => Self::Seeds,
            "lexicon" => Self::Lexicon,
            "csv" => Self::Csv,
            _ => {
                return Err(format!(
                    "unknown stance method '{s}'; choose one of {}",
                    Self::NAMES.join(", ")
                ));
            }
        })
    }
}

/// A stance step: the method, its file (labels for seeds and csv, terms for
/// lexicon, optional labels that orient follows and engagements), and the
/// CA settings.
#[derive(Clone, Debug, Serialize)]
pub struct StanceRequest {
    pub method: StanceMethod,
    pub file: Option<PathBuf>,
    pub ca: CaOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum StanceStepError {
    #[error(transparent)]
    File(#[from] StanceFileError),
    #[error(transparent)]
    Estimate(#[from] StanceError),
    #[error("the {0} method needs a file: pass it with --file (on ingest, --stance-file)")]
    NeedsFile(&'static str),
    #[error(
        "the lexicon method reads post text, which a population directory does not keep: give it at ingest (`aumann ingest ... --stance lexicon --stance-file TERMS`)"
    )]
    NoText,
}

/// Estimates the stance, writes it into the dataset with its source and
/// confidence columns, records the step in the metadata, and returns the
/// diagnostics.
pub fn apply(data: &mut Dataset, request: &StanceRequest) -> Result<Diagnostics, StanceStepError> {
    let population = &data.population;
    let labels = match &request.file {
        Some(path) if request.method != StanceMethod::Lexicon => Some(read_labels(path, &data.external_ids)?),
        _ => None,
    };
    let orient = labels.as_ref().map_or(&[][..], |l| &l.0[..]);
    let mut estimate: Estimate = match request.method {
        StanceMethod::Follows => aumann_stance::follows(population, &request.ca, orient)?,
        StanceMethod::Engagements => aumann_stance::engagements(population, &request.ca, orient)?,
        StanceMethod::Seeds => {
            let (given, _) = labels.as_ref().ok_or(StanceStepError::NeedsFile("seeds"))?;
            aumann_stance::seeds(population, given, 1000)?
        }
        StanceMethod::Csv => {
            let (given, rows) = labels.as_ref().ok_or(StanceStepError::NeedsFile("csv"))?;
            aumann_stance::labels(population.agents, given, *rows)
        }
        StanceMethod::Lexicon => {
            let hits = data.lexicon_hits.as_ref().ok_or(StanceStepError::NoText)?;
            aumann_stance::lexicon(hits)
        }
    };
    if let Some((given, rows)) = &labels {
        estimate.diagnostics.labels_given = Some(*rows);
        estimate.diagnostics.labels_matched = Some(given.len());
    }
    data.population.stance = estimate.stance;
    data.stance_detail = Some(StanceDetail {
        source: estimate.source.iter().map(|s| s.name().to_string()).collect(),
        confidence: estimate.confidence,
    });
    data.meta.stance = Some(serde_json::json!({
        "request": request,
        "diagnostics": estimate.diagnostics,
    }));
    Ok(estimate.diagnostics)
}

/// Stances observed per step, as a run is given them (polarization's
/// observations, docs/fit.md): a CSV of `external_id,step,stance` rows, or
/// the same rows in memory (`(external_id, step, stance)`).
#[derive(Clone, Debug)]
pub enum StancesGiven {
    File(PathBuf),
    Rows(Arc<Vec<(String, i64, f64)>>),
}

impl StancesGiven {
    /// The rows checked against `data`'s accounts and window
    /// ([`check_stances_per_step`]).
    pub fn read(&self, data: &Dataset) -> Result<StancesPerStep, StanceFileError> {
        let (ids, steps) = (&data.external_ids, data.population.steps);
        match self {
            StancesGiven::File(path) => read_stances_per_step(path, ids, steps),
            StancesGiven::Rows(rows) => check_stances_per_step(
                Path::new("stances"),
                rows.iter().enumerate().map(|(k, (id, step, stance))| StanceRow {
                    row: k + 1,
                    id,
                    step: *step,
                    stance: *stance,
                }),
                ids,
                steps,
            ),
        }
    }

    /// The file it reads, if any (an input of the run).
    pub fn path(&self) -> Option<&Path> {
        match self {
            StancesGiven::File(path) => Some(path),
            StancesGiven::Rows(_) => None,
        }
    }
}

/// Gives the agents observed at step 0 that stance as their own: the
/// state a replay starts from. Returns how many were set.
pub fn start_from_step_zero(data: &mut Dataset, observed: &StancesPerStep) -> usize {
    let mut set = 0;
    for &(agent, step, stance) in &observed.given {
        if step == 0 {
            data.population.stance[agent as usize] = stance;
            set += 1;
        }
    }
    set
}
