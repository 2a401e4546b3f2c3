//! A user's baseline: what each agent's gates are measured against in a
//! sensitivity analysis (docs/sensitivity.md), per agent or per agent and
//! step, from a CSV file or rows in memory.

use crate::Dataset;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A baseline as a run is given it: a CSV of `external_id,baseline` or
/// `external_id,step,baseline` rows (the two may mix), or the same rows in
/// memory (`(external_id, step or None, baseline)`).
#[derive(Clone, Debug)]
pub enum BaselineGiven {
    File(PathBuf),
    Rows(Arc<Vec<(String, Option<i64>, f64)>>),
}

/// A baseline read against a population's accounts and window.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BaselineTable {
    /// (agent, baseline of every gate of the agent), by agent.
    pub per_agent: Vec<(u32, f64)>,
    /// (agent, step, baseline of that gate), by agent and step; a row for
    /// a step overrides the agent's row there.
    pub per_step: Vec<(u32, u32, f64)>,
    /// Rows read (a header row not counted).
    pub rows: usize,
    /// Rows whose account the population does not have: skipped.
    pub unknown_accounts: usize,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum BaselineError {
    #[error("{what}: {message}")]
    Invalid { what: String, message: String },
}

/// One row as given, numbered from 1.
struct Row<'a> {
    row: usize,
    id: &'a str,
    step: Option<i64>,
    baseline: f64,
}

impl BaselineGiven {
    /// The rows checked against `data`'s accounts and window: each
    /// baseline a gate value in [0, 1], each step in the window, no
    /// account (or account and step) given twice.
    pub fn read(&self, data: &Dataset) -> Result<BaselineTable, BaselineError> {
        let (ids, steps) = (&data.external_ids, data.population.steps);
        match self {
            BaselineGiven::File(path) => read_file(path, ids, steps),
            BaselineGiven::Rows(rows) => check(
                "baseline",
                rows.iter().enumerate().map(|(k, (id, step, baseline))| {
                    Ok(Row {
                        row: k + 1,
                        id,
                        step: *step,
                        baseline: *baseline,
                    })
                }),
                ids,
                steps,
            ),
        }
    }

    /// The file it reads, if any (an input of the run).
    pub fn path(&self) -> Option<&Path> {
        match self {
            BaselineGiven::File(path) => Some(path),
            BaselineGiven::Rows(_) => None,
        }
    }
}

fn read_file(path: &Path, ids: &[String], steps: usize) -> Result<BaselineTable, BaselineError> {
    let what = path.display().to_string();
    let invalid = |message: String| BaselineError::Invalid {
        what: what.clone(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| invalid(e.to_string()))?;
    let mut records = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(e.to_string()))?;
        records.push((k + 1, record));
    }
    let rows = records.iter().filter_map(|(row, record)| {
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        let (id, step, value) = match fields[..] {
            [id, value] => (id, None, value),
            [id, step, value] => (id, Some(step), value),
            _ => {
                return Some(Err(invalid(format!(
                    "row {row}: expected external_id,baseline or external_id,step,baseline"
                ))));
            }
        };
        let Ok(baseline) = value.parse::<f64>() else {
            // A header row: the first row, whose value is not a number.
            if *row == 1 {
                return None;
            }
            return Some(Err(invalid(format!("row {row}: baseline '{value}' is not a number"))));
        };
        let step = match step.map(str::parse::<i64>) {
            None => None,
            Some(Ok(step)) => Some(step),
            Some(Err(_)) => {
                return Some(Err(invalid(format!(
                    "row {row}: step '{}' is not a whole number of steps from 0",
                    step.unwrap_or_default()
                ))));
            }
        };
        Some(Ok(Row {
            row: *row,
            id,
            step,
            baseline,
        }))
    });
    check(&what, rows, ids, steps)
}

fn check<'a>(
    what: &str,
    rows: impl Iterator<Item = Result<Row<'a>, BaselineError>>,
    ids: &[String],
    steps: usize,
) -> Result<BaselineTable, BaselineError> {
    let invalid = |message: String| BaselineError::Invalid {
        what: what.to_string(),
        message,
    };
    let index: HashMap<&str, u32> = ids.iter().enumerate().map(|(a, id)| (id.as_str(), a as u32)).collect();
    let mut table = BaselineTable::default();
    let mut seen: HashMap<(String, Option<i64>), usize> = HashMap::new();
    for row in rows {
        let Row {
            row,
            id,
            step,
            baseline,
        } = row?;
        if !(0.0..=1.0).contains(&baseline) {
            return Err(invalid(format!(
                "row {row}: baseline {baseline} is not a gate value in [0, 1] (0 silent, 1 as recorded)"
            )));
        }
        if let Some(step) = step
            && !(0..steps as i64).contains(&step)
        {
            return Err(invalid(format!(
                "row {row}: step {step} is outside the window's steps 0 to {}",
                steps.saturating_sub(1)
            )));
        }
        if let Some(earlier) = seen.insert((id.to_string(), step), row) {
            let at = step.map_or(String::new(), |s| format!(" at step {s}"));
            return Err(invalid(format!(
                "rows {earlier} and {row} both give '{id}'{at} a baseline: keep one"
            )));
        }
        table.rows += 1;
        match (index.get(id), step) {
            (None, _) => table.unknown_accounts += 1,
            (Some(&agent), None) => table.per_agent.push((agent, baseline)),
            (Some(&agent), Some(step)) => table.per_step.push((agent, step as u32, baseline)),
        }
    }
    table.per_agent.sort_unstable_by_key(|r| r.0);
    table.per_step.sort_unstable_by_key(|r| (r.0, r.1));
    Ok(table)
}
