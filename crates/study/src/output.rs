//! What a study or an attribution leaves in its output directory.
//!
//! ```text
//! OUT/summary.json                    every figure of the study
//! OUT/attributions-INDICATOR.parquet  per agent: agent, external_id, followers, tier,
//!                                     activity, phi, error, and phi_panel,
//!                                     phi_panel_shapley where a panel has them
//! OUT/steps-INDICATOR.parquet         per (agent, step) gate: agent, step, phi
//! OUT/curves-INDICATOR.parquet        per ranking and k: ranking, k, fraction, deletion,
//!                                     insertion (when the curves were drawn)
//! OUT/sensitivity-INDICATOR.parquet   per alternative and headline number: alternative,
//!                                     group, number, value (with a sensitivity analysis)
//! OUT/report.html                     the self-contained report (studies only)
//! OUT/figures/                        the report's charts as SVG, PNG, PDF and CSV
//!                                     (studies only; crate::figures)
//! ```

use crate::StudyResult;
use arrow_array::RecordBatch;
use aumann_data::Dataset;
use aumann_data::format::{Column, FormatError, record_batch, write_batch};
use aumann_data::staged::{Manifest, OutputError, StagedDir};
use std::path::{Path, PathBuf};

/// Every file a study or an attribution may write, as
/// [`StagedDir::create`] takes them.
pub const FILES: [&str; 10] = [
    "summary.json",
    "report.html",
    "attributions-*.parquet",
    "steps-*.parquet",
    "curves-*.parquet",
    "sensitivity-*.parquet",
    crate::figures::FILES[0],
    crate::figures::FILES[1],
    crate::figures::FILES[2],
    crate::figures::FILES[3],
];

/// What [`save`] could not do.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Figure(#[from] crate::figures::FigureError),
}

/// What a study writes beside its tables.
#[derive(Clone, Copy, Debug)]
pub struct Extras {
    /// report.html, with the seconds spent loading the population (None
    /// when it was at hand) and in the whole run.
    pub report: Option<(Option<f64>, f64)>,
    /// The charts as files under figures/.
    pub figures: bool,
}

impl Extras {
    /// An attribution's: the tables alone.
    pub const NONE: Extras = Extras {
        report: None,
        figures: false,
    };
}

/// Writes a study's or an attribution's outputs, whole or not at all: the
/// tables, summary.json, what `extras` asks for (report.html, figures/),
/// and run.json with `manifest`, into `staged` (created before the work,
/// so that a bad output directory fails at once), then commits it.
/// Returns the paths written.
pub fn save(
    staged: StagedDir,
    data: &Dataset,
    result: &StudyResult,
    extras: Extras,
    manifest: Manifest,
) -> Result<Vec<PathBuf>, SaveError> {
    write(staged.dir(), data, result)?;
    if let Some((loaded, total)) = extras.report {
        crate::report::write(&staged.path("report.html"), result, loaded, total)?;
    }
    if extras.figures {
        crate::figures::write(result, &|name| staged.path(name))?;
    }
    Ok(staged.commit(Some(manifest))?)
}

/// The per-indicator tables of a result, in memory: per indicator, its
/// name and the record batches of attributions-INDICATOR, steps-INDICATOR
/// and (when made) curves-INDICATOR and sensitivity-INDICATOR, as
/// [`write`] writes them.
pub struct IndicatorTables {
    pub indicator: &'static str,
    pub attributions: RecordBatch,
    pub steps: RecordBatch,
    pub curves: Option<RecordBatch>,
    pub sensitivity: Option<RecordBatch>,
}

/// Writes summary.json and the per-agent and per-step tables; returns the
/// paths written.
pub fn write(out: &Path, data: &Dataset, result: &StudyResult) -> Result<Vec<PathBuf>, FormatError> {
    std::fs::create_dir_all(out).map_err(|source| FormatError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    let tables = tables(data, result).map_err(|e| FormatError::Invalid {
        path: out.to_path_buf(),
        message: e.to_string(),
    })?;
    for t in tables {
        let name = t.indicator;
        let parts = [
            (format!("attributions-{name}.parquet"), Some(t.attributions)),
            (format!("steps-{name}.parquet"), Some(t.steps)),
            (format!("curves-{name}.parquet"), t.curves),
            (format!("sensitivity-{name}.parquet"), t.sensitivity),
        ];
        for (file, batch) in parts {
            if let Some(batch) = batch {
                let path = out.join(file);
                write_batch(&path, &batch)?;
                written.push(path);
            }
        }
    }
    let path = out.join("summary.json");
    std::fs::write(&path, summary_json(result) + "\n").map_err(|source| FormatError::Io {
        path: path.clone(),
        source,
    })?;
    written.push(path);
    Ok(written)
}

/// The version of summary.json's layout, written in it as `schema`: raised
/// when a field is renamed or removed, so that a reader (the Python
/// package, `aumann/_summary.py`) refuses a summary it would misread
/// rather than read the wrong number.
pub const SUMMARY_SCHEMA: u32 = 1;

/// summary.json's text: the study's result and its schema version.
pub fn summary_json(result: &StudyResult) -> String {
    #[derive(serde::Serialize)]
    struct Summary<'a> {
        schema: u32,
        #[serde(flatten)]
        result: &'a StudyResult,
    }
    let summary = Summary {
        schema: SUMMARY_SCHEMA,
        result,
    };
    serde_json::to_string_pretty(&summary).expect("summary serialises")
}

/// Builds every indicator's tables.
pub fn tables(data: &Dataset, result: &StudyResult) -> Result<Vec<IndicatorTables>, arrow_schema::ArrowError> {
    let population = &data.population;
    let mut activity = vec![0.0; population.agents];
    for a in &population.activity {
        activity[a.agent as usize] += a.amount;
    }
    let tiers: Vec<&str> = result.tiers.iter().map(|t| t.name()).collect();
    let mut all = Vec::new();
    for study in &result.indicators {
        let name = study.indicator.name();
        let mut panel = vec![None; population.agents];
        let mut panel_shapley = vec![None; population.agents];
        if let Some(top) = study
            .panels
            .iter()
            .find(|p| p.kind == crate::panel::PanelKind::TopFollowers)
        {
            for (k, &a) in top.members.iter().enumerate() {
                if top.skipped.is_none() {
                    panel[a as usize] = Some(top.phi[k]);
                }
                if let Some(s) = &top.shapley_phi {
                    panel_shapley[a as usize] = Some(s[k]);
                }
            }
        }
        let mut columns = vec![
            Column::U32("agent", (0..population.agents as u32).collect()),
            Column::Str("external_id", &data.external_ids),
            Column::F64("followers", population.followers.clone()),
            Column::Strs("tier", tiers.clone()),
            Column::F64("activity", activity.clone()),
            Column::F64("phi", study.attribution.agent_phi.clone()),
            Column::F64("error", study.attribution.agent_error.iter().map(|e| e.abs()).collect()),
        ];
        // A panel's columns only where the panel has values: a column
        // null in every row says nothing and reads as a fault.
        if panel.iter().any(Option::is_some) {
            columns.push(Column::OptF64("phi_panel", panel));
        }
        if panel_shapley.iter().any(Option::is_some) {
            columns.push(Column::OptF64("phi_panel_shapley", panel_shapley));
        }
        let attributions = record_batch(columns, None)?;
        let a = &study.attribution;
        let steps = record_batch(
            vec![
                Column::U32("agent", a.gate_agents.clone()),
                Column::U32("step", a.gate_steps.clone()),
                Column::F64("phi", a.gates.phi.clone()),
            ],
            None,
        )?;
        let curves = match &study.curves {
            None => None,
            Some(curves) => {
                let rows = curves.rankings.len() * curves.ks.len();
                let names: Vec<&str> = curves
                    .rankings
                    .iter()
                    .flat_map(|r| std::iter::repeat_n(r.ranking.as_str(), curves.ks.len()))
                    .collect();
                let ks: Vec<u32> = curves.ks.iter().map(|&k| k as u32).cycle().take(rows).collect();
                Some(record_batch(
                    vec![
                        Column::Strs("ranking", names),
                        Column::F64(
                            "fraction",
                            ks.iter().map(|&k| k as f64 / curves.agents as f64).collect(),
                        ),
                        Column::U32("k", ks),
                        Column::F64(
                            "deletion",
                            curves.rankings.iter().flat_map(|r| r.deletion.clone()).collect(),
                        ),
                        Column::F64(
                            "insertion",
                            curves.rankings.iter().flat_map(|r| r.insertion.clone()).collect(),
                        ),
                    ],
                    None,
                )?)
            }
        };
        let sensitivity = study.sensitivity.as_ref().map(crate::sensitivity::table).transpose()?;
        all.push(IndicatorTables {
            indicator: name,
            attributions,
            steps,
            curves,
            sensitivity,
        });
    }
    Ok(all)
}
