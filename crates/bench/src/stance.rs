//! The stance estimate measured: how well `follows` recovers the built-in
//! population's planted communities as homophily weakens, and what it costs
//! against the attribution it feeds.

use crate::BenchError;
use crate::fit::{auc, spearman};
use aumann_data::Dataset;
use aumann_data::stance::{StanceMethod, StanceRequest, apply};
use aumann_data::synth::{SynthParams, generate, planted_communities};
use aumann_engine::AumannShapley;
use aumann_models::{Indicator, Replay, attribute};
use aumann_stance::{CaOptions, Diagnostics};
use serde::Serialize;
use std::time::Instant;

/// The `follows` stance step on a dataset, as `aumann stance` runs it.
pub fn follows_stance(data: &mut Dataset, ca: &CaOptions) -> Result<Diagnostics, BenchError> {
    let request = StanceRequest {
        method: StanceMethod::Follows,
        file: None,
        ca: ca.clone(),
    };
    apply(data, &request).map_err(|e| BenchError::Stance(e.to_string()))
}

/// The built-in population at `agents` and `seed` with its planted stances,
/// and a copy with stances estimated from its follows (`follows`, default
/// options): the pair the quadrature examples compare.
pub fn planted_and_estimated(agents: usize, seed: u64) -> Result<(Dataset, Dataset), BenchError> {
    let planted = generate(
        &SynthParams {
            agents,
            seed,
            ..Default::default()
        },
        &(),
    );
    let mut estimated = planted.clone();
    follows_stance(&mut estimated, &CaOptions::default())?;
    Ok((planted, estimated))
}

/// Recovery of the planted communities at one homophily level.
#[derive(Clone, Debug, Serialize)]
pub struct RecoveryRow {
    pub agents: usize,
    pub homophily: f64,
    /// AUC of the estimated stance for telling the two communities apart,
    /// over agents with an estimate (either orientation: max(AUC, 1 - AUC)).
    pub auc: f64,
    /// |Spearman| between the estimate and the planted stance.
    pub spearman: f64,
    pub estimated_share: f64,
    pub explained_inertia: Option<f64>,
    pub bimodality: Option<f64>,
    pub seconds: f64,
}

/// Generates the built-in population at `agents` with this homophily (the
/// share of follows inside one's community), estimates `follows` stance and
/// scores it against what was planted.
pub fn recovery(agents: usize, homophily: f64, ca: &CaOptions) -> Result<RecoveryRow, BenchError> {
    let params = SynthParams {
        agents,
        steps: 1,
        homophily,
        ..SynthParams::default()
    };
    let mut data = generate(&params, &());
    let planted = data.population.stance.clone();
    let community = planted_communities(&params);
    let started = Instant::now();
    let d = follows_stance(&mut data, ca)?;
    let seconds = started.elapsed().as_secs_f64();
    let detail = data.stance_detail.as_ref().expect("a stance step writes its detail");
    let kept: Vec<usize> = (0..agents).filter(|&a| detail.source[a] != "low-signal").collect();
    let score: Vec<f64> = kept.iter().map(|&a| data.population.stance[a]).collect();
    let label: Vec<bool> = kept.iter().map(|&a| community[a] == 1).collect();
    let planted: Vec<f64> = kept.iter().map(|&a| planted[a]).collect();
    let area = auc(&score, &label).unwrap_or(0.5);
    Ok(RecoveryRow {
        agents,
        homophily,
        auc: area.max(1.0 - area),
        spearman: spearman(&score, &planted).unwrap_or(0.0).abs(),
        estimated_share: kept.len() as f64 / agents as f64,
        explained_inertia: d.explained_inertia,
        bimodality: d.bimodality,
        seconds,
    })
}

/// The stance step against the attribution it feeds, in one process.
#[derive(Clone, Debug, Serialize)]
pub struct SpeedRun {
    pub agents: usize,
    pub follows: usize,
    pub stance_seconds: f64,
    pub build_seconds: f64,
    pub attribute_seconds: f64,
    /// stance / attribution (the target is below 1/3).
    pub ratio: f64,
    pub relative_gap: f64,
    /// The attribution's nodes and gradient evaluations (the estimated
    /// stances change how many the adaptive rule needs).
    pub nodes: usize,
    pub gradient_evaluations: usize,
}

/// Times `follows` stance and the polarization attribution (replay build
/// apart) on the built-in population at `agents` and `steps`.
pub fn speed(agents: usize, steps: usize, ca: &CaOptions, engine: &AumannShapley) -> Result<SpeedRun, BenchError> {
    let mut data = generate(
        &SynthParams {
            agents,
            steps,
            ..SynthParams::default()
        },
        &(),
    );
    let started = Instant::now();
    follows_stance(&mut data, ca)?;
    let stance_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let replay = Replay::new(&data.population)?;
    let build_seconds = started.elapsed().as_secs_f64();
    let follows = data.population.follows.len();
    drop(data);
    let started = Instant::now();
    let r = attribute(&replay, Indicator::from_name("polarization").expect("known"), engine)?;
    let attribute_seconds = started.elapsed().as_secs_f64();
    Ok(SpeedRun {
        agents,
        follows,
        stance_seconds,
        build_seconds,
        attribute_seconds,
        ratio: stance_seconds / attribute_seconds,
        relative_gap: r.gates.relative_gap(),
        nodes: r.gates.nodes,
        gradient_evaluations: r.gates.gradient_evaluations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_fails_without_homophily_and_succeeds_with_it() {
        let ca = CaOptions::default();
        let none = recovery(8_000, 0.5, &ca).unwrap();
        let strong = recovery(8_000, 0.9, &ca).unwrap();
        assert!(none.auc < 0.6, "{none:?}");
        assert!(strong.auc > 0.95, "{strong:?}");
    }
}
