//! What a study or an attribution leaves in its output directory.
//!
//! ```text
//! OUT/summary.json                    every figure of the study
//! OUT/attributions-INDICATOR.parquet  per agent: agent, external_id, followers, tier,
//!                                     activity, phi, error, phi_panel, phi_panel_shapley
//! OUT/steps-INDICATOR.parquet         per (agent, step) gate: agent, step, phi
//! OUT/curves-INDICATOR.parquet        per ranking and k: ranking, k, fraction, deletion,
//!                                     insertion (when the curves were drawn)
//! OUT/report.html                     the self-contained report (studies only)
//! ```

use crate::StudyResult;
use aumann_data::Dataset;
use aumann_data::format::{Column, FormatError, write_table};
use std::path::{Path, PathBuf};

/// Writes summary.json and the per-agent and per-step tables; returns the
/// paths written.
pub fn write(out: &Path, data: &Dataset, result: &StudyResult) -> Result<Vec<PathBuf>, FormatError> {
    std::fs::create_dir_all(out).map_err(|source| FormatError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    let population = &data.population;
    let mut activity = vec![0.0; population.agents];
    for a in &population.activity {
        activity[a.agent as usize] += a.amount;
    }
    let tiers: Vec<&str> = result.tiers.iter().map(|t| t.name()).collect();
    let mut written = Vec::new();
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
        let path = out.join(format!("attributions-{name}.parquet"));
        write_table(
            &path,
            vec![
                Column::U32("agent", (0..population.agents as u32).collect()),
                Column::Str("external_id", &data.external_ids),
                Column::F64("followers", population.followers.clone()),
                Column::Strs("tier", tiers.clone()),
                Column::F64("activity", activity.clone()),
                Column::F64("phi", study.attribution.agent_phi.clone()),
                Column::F64("error", study.attribution.agent_error.iter().map(|e| e.abs()).collect()),
                Column::OptF64("phi_panel", panel),
                Column::OptF64("phi_panel_shapley", panel_shapley),
            ],
        )?;
        written.push(path);
        let path = out.join(format!("steps-{name}.parquet"));
        let a = &study.attribution;
        write_table(
            &path,
            vec![
                Column::U32("agent", a.gate_agents.clone()),
                Column::U32("step", a.gate_steps.clone()),
                Column::F64("phi", a.gates.phi.clone()),
            ],
        )?;
        written.push(path);
        if let Some(curves) = &study.curves {
            let path = out.join(format!("curves-{name}.parquet"));
            let rows = curves.rankings.len() * curves.ks.len();
            let names: Vec<&str> = curves
                .rankings
                .iter()
                .flat_map(|r| std::iter::repeat_n(r.ranking.as_str(), curves.ks.len()))
                .collect();
            let ks: Vec<u32> = curves.ks.iter().map(|&k| k as u32).cycle().take(rows).collect();
            write_table(
                &path,
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
            )?;
            written.push(path);
        }
    }
    let path = out.join("summary.json");
    let json = serde_json::to_string_pretty(result).expect("summary serialises");
    std::fs::write(&path, json + "\n").map_err(|source| FormatError::Io {
        path: path.clone(),
        source,
    })?;
    written.push(path);
    Ok(written)
}
