//! The scaling study: full-scale attribution, tiers, panels, comparison.

use crate::agent_game::AgentGame;
use crate::compare::{Comparison, Verdict, compare};
use crate::faithfulness::{CurveSpec, Curves, Ranking, curves};
use crate::pagerank::pagerank;
use crate::panel::{Panel, PanelKind};
use crate::tiers::{Tier, TierShare, TierSpec, shares};
use crate::when::{DEFAULT_LATENCY_QUANTILE, Timing, timing};
use aumann_data::Dataset;
use aumann_data::checkpoint::{FileCheckpoint, Restored};
use aumann_data::progress::Observer;
use aumann_engine::{AumannShapley, PermutationShapley, SweepGame, neumaier_sum};
use aumann_models::{
    AttributeError, GateTablesKept, Indicator, Local, NetworkSummary, PathEnds, Population, Replay, ReplayAttribution,
    ReplayOptions, SweepBackend, Workspace, attribute, attribute_on,
};
use serde::Serialize;
use std::time::Instant;

#[derive(Clone, Debug)]
pub struct StudyConfig {
    pub indicators: Vec<Indicator>,
    pub engine: AumannShapley,
    pub tiers: TierSpec,
    /// Panel size (0 skips the panels).
    pub panel_size: usize,
    pub panel_seed: u64,
    /// Draws of the random and the snowball panel (seeds panel_seed,
    /// panel_seed + 1, ...), each attributed and compared with full scale:
    /// the spread of the verdicts, c* and r over the draws. 1: the one draw
    /// the panels section reports.
    pub panel_draws: usize,
    /// Permutations of permutation Shapley on each panel (0 skips it).
    pub permutations: usize,
    /// The network the population and its panels are replayed over.
    pub replay: ReplayOptions,
    /// Deletion and insertion curves (None skips them).
    pub curves: Option<CurveSpec>,
    /// The share of the total that the latency T* waits for.
    pub latency_quantile: f64,
    /// Checkpoints of the full-scale attributions (None: none).
    pub checkpoints: Option<Checkpoints>,
    /// Fit the cascade's parameters to the population's responses before
    /// attributing (docs/fit.md), holding out this share of the steps for
    /// the fit's scores; the attribution then uses the fitted values.
    /// None: the parameters as given.
    pub fit: Option<f64>,
    /// With `fit`: stances observed per step, to which polarization is
    /// fitted instead of the cascade; the agents observed at step 0 start
    /// the replay there (docs/fit.md, "Polarization").
    pub stances: Option<aumann_data::stance::StancesGiven>,
    /// The attribution made again under other baselines, paths,
    /// parameters and stances, with the conclusions that hold under all
    /// (docs/sensitivity.md). None: no sensitivity analysis.
    pub sensitivity: Option<crate::sensitivity::SensitivitySpec>,
}

impl Default for StudyConfig {
    fn default() -> Self {
        Self {
            indicators: vec![Indicator::from_name("polarization").expect("known")],
            engine: AumannShapley::default(),
            tiers: TierSpec::default(),
            panel_size: 100,
            panel_seed: 1,
            panel_draws: 1,
            permutations: 1000,
            replay: ReplayOptions::default(),
            curves: Some(CurveSpec::default()),
            latency_quantile: DEFAULT_LATENCY_QUANTILE,
            checkpoints: None,
            fit: None,
            stances: None,
            sensitivity: None,
        }
    }
}

/// Most permutations of permutation Shapley on a panel: each costs a
/// panel's worth of forward replays, and the standard error at this count
/// is already a third of a percent of the spread of one permutation.
pub const MAX_PERMUTATIONS: usize = 100_000;
/// Most draws of each sampled panel: each costs a panel's replay and
/// attribution.
pub const MAX_PANEL_DRAWS: usize = 10_000;
/// Most random rankings of the curves: each costs a forward replay per
/// fraction and indicator, and holds a permutation of every agent.
pub const MAX_RANDOM_RANKINGS: u64 = 100;

impl StudyConfig {
    /// Refuses settings that no population can take (before the population
    /// is read): no indicator, tiers that do not fit, counts past what a
    /// run can finish. `option` spells a setting's name as the front end
    /// takes it ("permutations" becomes "--permutations" on the command
    /// line), for the messages.
    pub fn check(&self, option: &dyn Fn(&str) -> String) -> Result<(), StudyError> {
        self.tiers.validate().map_err(StudyError::Settings)?;
        if self.indicators.is_empty() {
            return Err(StudyError::Settings("no indicator chosen".into()));
        }
        if self.permutations > MAX_PERMUTATIONS {
            return Err(StudyError::Settings(format!(
                "{} takes 0 to {MAX_PERMUTATIONS}; got {}",
                option("permutations"),
                self.permutations
            )));
        }
        if let Some(share) = self.fit {
            if !(0.0..1.0).contains(&share) {
                return Err(StudyError::Settings(format!(
                    "{} is a share of the steps in [0, 1); got {share}",
                    option("held-out")
                )));
            }
            let (wanted, name) = match &self.stances {
                Some(_) => (
                    matches!(self.fitted(), Some(Indicator::Polarization(_))),
                    "polarization",
                ),
                None => (matches!(self.fitted(), Some(Indicator::Cascade(_))), "the cascade"),
            };
            if !wanted {
                return Err(StudyError::Settings(format!(
                    "{} fits {name}'s parameters{}: choose {name} among the indicators",
                    option("fit"),
                    if self.stances.is_some() {
                        " to the stances observed"
                    } else {
                        ""
                    }
                )));
            }
        } else if self.stances.is_some() {
            return Err(StudyError::Settings(format!(
                "{} are the observations of a fit: give {} too",
                option("stances"),
                option("fit")
            )));
        }
        if !(1..=MAX_PANEL_DRAWS).contains(&self.panel_draws) {
            return Err(StudyError::Settings(format!(
                "{} takes 1 to {MAX_PANEL_DRAWS}; got {}",
                option("panel-draws"),
                self.panel_draws
            )));
        }
        if let Some(curves) = &self.curves
            && curves.random_rankings > MAX_RANDOM_RANKINGS
        {
            return Err(StudyError::Settings(format!(
                "{} takes 0 to {MAX_RANDOM_RANKINGS}; got {}",
                option("random-rankings"),
                curves.random_rankings
            )));
        }
        Ok(())
    }

    /// The indicator a study with `fit` fits: polarization when stances
    /// are given, else the cascade; None when it is not among the
    /// indicators.
    pub fn fitted(&self) -> Option<Indicator> {
        self.indicators.iter().copied().find(|i| match &self.stances {
            Some(_) => matches!(i, Indicator::Polarization(_)),
            None => matches!(i, Indicator::Cascade(_)),
        })
    }

    /// The identity of one indicator's checkpoint: the data and layout of
    /// `checkpoints`, the indicator with its parameters and the replay's
    /// network, the engine's settings.
    pub fn identity(&self, checkpoints: &Checkpoints, indicator: Indicator) -> aumann_data::checkpoint::JobIdentity {
        use aumann_data::checkpoint::identity_part;
        aumann_data::checkpoint::JobIdentity {
            // The network, not the tables kept, which follow the set of
            // indicators chosen and change no number.
            model: identity_part(&format!("{indicator:?} {:?}", self.replay.network)),
            engine: identity_part(&format!("{:?}", self.engine)),
            ..checkpoints.identity
        }
    }

    /// Whether the study reads the population's edge tables (follows,
    /// engagements, orders, exposures, reposts) after its replay is built:
    /// panels build replays of their own, and curves rank agents by
    /// PageRank over the follows.
    pub fn reads_edges_after_the_build(&self) -> bool {
        self.panel_size > 0
            || self.curves.is_some()
            || (self.sensitivity.is_some() && self.indicators.iter().any(|i| matches!(i, Indicator::Polarization(_))))
    }

    /// How the study's replays are built: `replay`, keeping only the
    /// per-gate tables that the chosen indicators read (a polarization run
    /// holds no engagement table, 0.3 GB at full scale).
    pub fn replay_options(&self) -> ReplayOptions {
        ReplayOptions {
            tables: self.replay.tables.and(GateTablesKept::for_indicators(&self.indicators)),
            ..self.replay
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    #[error(transparent)]
    Population(#[from] aumann_models::PopulationError),
    #[error(transparent)]
    Attribute(#[from] AttributeError),
    #[error("invalid study settings: {0}")]
    Settings(String),
    /// The panels were asked for more accounts than the population has.
    #[error("a panel of {panel} accounts is larger than the population ({agents} agents): ask for a smaller sample")]
    PanelLargerThanPopulation { panel: usize, agents: usize },
    /// The observer said the user asked to stop.
    #[error("interrupted")]
    Interrupted,
    /// The cascade's parameters could not be fitted to the data.
    #[error("fitting the replay: {0}")]
    Fit(#[from] aumann_fit::FitError),
    #[error(transparent)]
    Stances(#[from] aumann_data::stance::StancesError),
    #[error(transparent)]
    Baseline(#[from] aumann_data::baseline::BaselineError),
}

impl From<crate::sensitivity::SensitivityError> for StudyError {
    fn from(error: crate::sensitivity::SensitivityError) -> Self {
        use crate::sensitivity::SensitivityError as E;
        match error {
            E::Baseline(e) => StudyError::Baseline(e),
            E::Interrupted => StudyError::Interrupted,
        }
    }
}

/// Stops between stages when the user asked to.
fn check_interrupt(progress: &dyn Observer) -> Result<(), StudyError> {
    if progress.interrupted() {
        Err(StudyError::Interrupted)
    } else {
        Ok(())
    }
}

/// The full-scale attribution's numbers, as they go into summary.json.
#[derive(Clone, Debug, Serialize)]
pub struct FullScale {
    /// "attributed", or "flat" when the indicator does not move (phi = 0,
    /// no quadrature, tiers and panels left out).
    pub verdict: &'static str,
    /// Why the indicator is flat, in one line that says what to do.
    pub flat_cause: Option<String>,
    /// Which way the indicator went from everyone silent to what happened:
    /// "up", "down" or "none" (flat). Rankings of agents by their part in
    /// the outcome (the curves' Aumann–Shapley ranking) order them by phi
    /// times this sign: who pushed it the way it went comes first.
    pub direction: &'static str,
    /// Said when the answer needs care: the indicator went down (what the
    /// tables' signs then mean), or its change is small against the
    /// attribution's mass (shares of ΔF are then unstable; read shares of
    /// Σ|φ|). Printed with the summary and shown in the report.
    pub warnings: Vec<String>,
    pub value_input: f64,
    pub value_baseline: f64,
    pub gap: f64,
    pub relative_gap: f64,
    pub converged: bool,
    pub rule: String,
    pub nodes: usize,
    pub gradient_evaluations: usize,
    pub levels: Vec<aumann_engine::Level>,
    /// Error estimates per agent (each agent's gate errors summed with their
    /// signs, like phi): the largest absolute one, and the largest relative
    /// one, |error_i| / |phi_i|, among agents whose |phi_i| is at least
    /// [`RELATIVE_ERROR_FLOOR`] times the largest |phi| (below it a ratio
    /// measures rounding, not quadrature).
    pub agent_errors: AgentErrors,
    pub seconds: f64,
    pub edges_read: u64,
    /// Edges read over the follow graph's edge count.
    pub graph_passes: f64,
    pub step_phi: Vec<f64>,
    /// What the checkpoint held when the run started (resumed after how
    /// many evaluations, or why a file was not used); absent without
    /// checkpoints, or when there was none yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// Where the full-scale attributions save their progress after every
/// sweep, so that a run started again with the same arguments continues.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoints {
    pub dir: std::path::PathBuf,
    /// The job's data and layout (its model and engine parts are filled in
    /// per indicator): a checkpoint of another job is not used.
    pub identity: aumann_data::checkpoint::JobIdentity,
    /// Prefix of the files' names (a cluster's processes may share the
    /// directory).
    pub prefix: String,
    /// The process's workers (1 in a single process): each saves its own
    /// file, since each holds the state of its own gates.
    pub workers: usize,
}

impl Checkpoints {
    /// The file of one indicator's attribution (of the only worker).
    pub fn path(&self, indicator: Indicator) -> std::path::PathBuf {
        self.dir.join(format!("{}{}.checkpoint", self.prefix, indicator.name()))
    }

    /// The checkpoints of the process's worker `local`, named apart from
    /// its other workers' when it has several.
    pub fn of_worker(&self, local: usize) -> Self {
        let prefix = if self.workers == 1 {
            self.prefix.clone()
        } else {
            format!("{}worker-{local}-", self.prefix)
        };
        Self {
            prefix,
            workers: 1,
            ..self.clone()
        }
    }

    /// One indicator's files, one per worker of the process.
    pub fn paths(&self, indicator: Indicator) -> Vec<std::path::PathBuf> {
        (0..self.workers).map(|w| self.of_worker(w).path(indicator)).collect()
    }
}

/// Agents whose |phi| is below this share of the largest |phi| are left
/// out of the largest relative error.
pub const RELATIVE_ERROR_FLOOR: f64 = 1e-6;

/// The per-agent error estimates, summarised.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AgentErrors {
    pub max_abs_error: f64,
    /// The agent (population id) with the largest absolute error.
    pub max_abs_agent: Option<u32>,
    pub max_relative_error: f64,
    pub max_relative_agent: Option<u32>,
    /// Agents above the floor, over which the relative error is taken.
    pub agents_above_floor: usize,
}

impl AgentErrors {
    pub fn of(phi: &[f64], error: &[f64]) -> Self {
        let largest = phi.iter().fold(0.0f64, |m, p| m.max(p.abs()));
        let floor = RELATIVE_ERROR_FLOOR * largest;
        let mut out = Self {
            max_abs_error: 0.0,
            max_abs_agent: None,
            max_relative_error: 0.0,
            max_relative_agent: None,
            agents_above_floor: 0,
        };
        for (a, (&p, &e)) in phi.iter().zip(error).enumerate() {
            if e.abs() > out.max_abs_error {
                out.max_abs_error = e.abs();
                out.max_abs_agent = Some(a as u32);
            }
            if largest > 0.0 && p.abs() >= floor {
                out.agents_above_floor += 1;
                let relative = e.abs() / p.abs();
                if relative > out.max_relative_error {
                    out.max_relative_error = relative;
                    out.max_relative_agent = Some(a as u32);
                }
            }
        }
        out
    }
}

/// The study's own check of the linear control (docs/scaling-bias.md,
/// Proposition 1): every panel it attributes must read c* = 1 and r = 0.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ControlCheck {
    pub passed: bool,
    /// The largest |c* - 1| and r over the Aumann–Shapley panel comparisons.
    pub worst_rescale_error: f64,
    pub worst_residual: f64,
    pub panels_checked: usize,
}

/// The tolerance of the control check: rounding over sums of panel phi.
pub const CONTROL_TOLERANCE: f64 = 1e-9;

#[derive(Clone, Debug, Serialize)]
pub struct PanelAttribution {
    pub method: &'static str,
    pub seconds: f64,
    pub evaluations: usize,
    /// Aumann–Shapley: relative completeness gap; Shapley: 0 by construction.
    pub relative_gap: f64,
    pub comparison: Comparison,
    /// Largest standard error (permutation Shapley only).
    pub max_std_error: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PanelStudy {
    pub kind: PanelKind,
    pub size: usize,
    pub members_active: usize,
    pub follows: usize,
    /// The indicator of the panel replayed alone, all gates open and closed.
    pub value_input: f64,
    pub value_baseline: f64,
    pub attributions: Vec<PanelAttribution>,
    /// Why the panel could not be attributed, if it could not.
    pub skipped: Option<String>,
    #[serde(skip)]
    pub members: Vec<u32>,
    /// Aumann–Shapley phi of each member in the panel replay.
    #[serde(skip)]
    pub phi: Vec<f64>,
    #[serde(skip)]
    pub shapley_phi: Option<Vec<f64>>,
    /// Deletion and insertion curves inside the panel: its own
    /// Aumann–Shapley, permutation Shapley and follower rankings.
    pub curves: Option<Curves>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IndicatorStudy {
    pub indicator: Indicator,
    pub full: FullScale,
    /// None when the indicator is flat: shares of zero are not shares.
    pub tiers: Option<Vec<TierShare>>,
    /// For the linear control: the check that it reconciles with c = 1.
    pub control_check: Option<ControlCheck>,
    /// When, how synchronised and how concentrated (None when flat).
    pub timing: Option<Timing>,
    /// Deletion and insertion curves at full scale (None when flat or not
    /// asked for).
    pub curves: Option<Curves>,
    /// The agents with the largest phi, and those with the most negative.
    pub top_agents: Vec<TopAgent>,
    pub bottom_agents: Vec<TopAgent>,
    pub panels: Vec<PanelStudy>,
    /// With more than one panel draw: the random and the snowball panels'
    /// comparisons with full scale, over the draws.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub panel_draws: Vec<PanelDraws>,
    /// The sensitivity analysis, when the study made one (not for a flat
    /// indicator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<crate::sensitivity::SensitivityResult>,
    #[serde(skip)]
    pub attribution: ReplayAttribution,
}

/// F(x) − F(x') at one fitted parameter's interval ends and at the value
/// used.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FitRange {
    pub parameter: &'static str,
    /// (value, F(x) − F(x')) at the lower end, the value used and the
    /// upper end; an end the interval does not have (it reaches the
    /// parameter's bound) is None.
    pub lower: Option<(f64, f64)>,
    pub used: (f64, f64),
    pub upper: Option<(f64, f64)>,
}

/// F(x) − F(x') of `indicator` on `replay`: every gate open against every
/// gate closed, two forward replays.
fn total_to_attribute(replay: &Replay, indicator: Indicator) -> f64 {
    use aumann_engine::ValueFunction;
    let workspace = Workspace::new();
    let model = SweepGame(indicator.model(replay, &workspace));
    let players = replay.players();
    model.value(&vec![1.0; players]) - model.value(&vec![0.0; players])
}

/// The fitted indicator's total at each parameter's interval ends.
fn fit_range(replay: &Replay, config: &StudyConfig, fit: &aumann_fit::Fit) -> Vec<FitRange> {
    let Some(fitted) = config.indicators.iter().copied().find(|i| i.name() == fit.indicator()) else {
        return Vec::new();
    };
    let at = |name: &str, value: f64| {
        let there = with_parameters(fitted, &|p| (p == name).then_some(value));
        (value, total_to_attribute(replay, there))
    };
    fit.parameters()
        .iter()
        .filter(|e| e.identified)
        .map(|e| FitRange {
            parameter: e.name,
            lower: e.interval[0].map(|v| at(e.name, v)),
            used: at(e.name, e.used),
            upper: e.interval[1].map(|v| at(e.name, v)),
        })
        .collect()
}

/// One sampled panel's comparison with full scale over many draws.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PanelDraws {
    pub kind: PanelKind,
    /// Draws made; the first is the panels section's.
    pub draws: usize,
    /// Draws that could not be attributed (no member did anything).
    pub skipped: usize,
    /// How many draws got each verdict, by verdict.
    pub verdicts: std::collections::BTreeMap<String, usize>,
    /// c* (the best global rescaling), r (what it leaves) and the Spearman
    /// correlation with full scale, over the attributed draws.
    pub rescale: Option<Spread>,
    pub residual: Option<Spread>,
    pub spearman: Option<Spread>,
}

/// A sample's least and largest values and its quartiles (linear
/// interpolation between order statistics: numpy's default).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Spread {
    pub count: usize,
    pub min: f64,
    pub q25: f64,
    pub median: f64,
    pub q75: f64,
    pub max: f64,
}

impl Spread {
    /// None for no values.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted: Vec<f64> = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let at = |q: f64| {
            let position = q * (n - 1) as f64;
            let (below, above) = (position.floor() as usize, position.ceil() as usize);
            sorted[below] + (position - below as f64) * (sorted[above] - sorted[below])
        };
        (n > 0).then(|| Spread {
            count: n,
            min: sorted[0],
            q25: at(0.25),
            median: at(0.5),
            q75: at(0.75),
            max: sorted[n - 1],
        })
    }
}

/// Agents listed in the report: how many of each end.
pub const TOP_AGENTS: usize = 100;

/// One agent of the top (or bottom) list: who it is and what it got.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TopAgent {
    pub agent: u32,
    pub external_id: String,
    pub followers: f64,
    pub tier: &'static str,
    pub phi: f64,
    /// phi over the sum of phi of every agent.
    pub share: f64,
    /// |phi| over the sum of |phi| of every agent.
    pub abs_share: f64,
    /// The agent's error estimate (absolute).
    pub error: f64,
}

/// The `TOP_AGENTS` agents with the largest phi, and the `TOP_AGENTS` with
/// the most negative phi (only agents below 0).
fn top_agents(data: &Dataset, phi: &[f64], error: &[f64], tiers: &[Tier]) -> (Vec<TopAgent>, Vec<TopAgent>) {
    let total: f64 = neumaier_sum(phi.iter().copied());
    let mass: f64 = neumaier_sum(phi.iter().map(|p| p.abs()));
    let entry = |a: usize| TopAgent {
        agent: a as u32,
        external_id: data.external_ids[a].clone(),
        followers: data.population.followers[a],
        tier: tiers[a].name(),
        phi: phi[a],
        share: if total != 0.0 { phi[a] / total } else { 0.0 },
        abs_share: if mass != 0.0 { phi[a].abs() / mass } else { 0.0 },
        error: error[a].abs(),
    };
    let mut order: Vec<usize> = (0..phi.len()).collect();
    order.sort_by(|&a, &b| phi[b].total_cmp(&phi[a]).then(a.cmp(&b)));
    let top = order
        .iter()
        .take(TOP_AGENTS)
        .filter(|&&a| phi[a] > 0.0)
        .map(|&a| entry(a))
        .collect();
    let bottom = order
        .iter()
        .rev()
        .take(TOP_AGENTS)
        .filter(|&&a| phi[a] < 0.0)
        .map(|&a| entry(a))
        .collect();
    (top, bottom)
}

#[derive(Clone, Debug, Serialize)]
pub struct PopulationSummary {
    pub source: String,
    pub agents: usize,
    pub steps: usize,
    pub follow_edges: usize,
    /// The network replayed and the size of each part.
    pub network: NetworkSummary,
    pub gates: usize,
    pub replay_seconds: f64,
    pub replay_bytes: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct StudyResult {
    pub population: PopulationSummary,
    /// Seconds spent ranking agents by the heuristics (PageRank mostly).
    pub rankings_seconds: f64,
    pub tier_spec: TierSpec,
    /// The parameters fitted to the data (the cascade's, or polarization's
    /// to stances observed), when the study fitted them (its attribution
    /// used them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fit: Option<aumann_fit::Fit>,
    /// With a fit: the total to attribute, F(x) − F(x'), with each fitted
    /// parameter at the ends of its 95% interval (the others at the values
    /// used): how far the fit's uncertainty moves the headline size.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fit_range: Vec<FitRange>,
    pub indicators: Vec<IndicatorStudy>,
    #[serde(skip)]
    pub tiers: Vec<Tier>,
}

/// Runs the study of a population in memory, in this process, telling
/// `progress` each stage and its position: steps of the replay built,
/// gradient evaluations against those planned (the adaptive level in the
/// status), panels done. [`crate::Run`] is a run's whole life (the
/// population read, the outputs written, a cluster).
pub fn run(data: &Dataset, config: &StudyConfig, progress: &dyn Observer) -> Result<StudyResult, StudyError> {
    crate::sensitivity::check_inputs(data, config).map_err(StudyError::from)?;
    if config.fit.is_some() && config.stances.is_some() {
        // The fit starts the replay from the stances at step 0: a copy of
        // the population takes them.
        let mut data = data.clone();
        let stances = stances_for_fit(&mut data, config)?;
        let built = build(
            Rows::Borrowed(&data.population),
            config,
            Role::Reports(None),
            stances,
            progress,
        )?;
        return run_built(&data, built, config, &Local, progress);
    }
    let built = build(
        Rows::Borrowed(&data.population),
        config,
        Role::Reports(None),
        None,
        progress,
    )?;
    run_built(data, built, config, &Local, progress)
}

/// Polarization's observations when the study fits them: the stances
/// given, read against `data`'s accounts and window, those at step 0 made
/// the population's (the replay starts there). None without stances.
pub(crate) fn stances_for_fit(data: &mut Dataset, config: &StudyConfig) -> Result<Option<FitStances>, StudyError> {
    let (Some(_), Some(given)) = (config.fit, &config.stances) else {
        return Ok(None);
    };
    let read = given.read(data)?;
    aumann_data::stance::start_from_step_zero(data, &read);
    Ok(Some(FitStances {
        stances: read
            .given
            .iter()
            .map(|&(agent, step, stance)| aumann_fit::ObservedStance { agent, step, stance })
            .collect(),
        unknown_accounts: read.unknown_agents,
    }))
}

/// Stances observed per step, by population id, for a study's fit.
pub(crate) struct FitStances {
    stances: Vec<aumann_fit::ObservedStance>,
    unknown_accounts: usize,
}

/// A replay built for a study from its population, and what the summary
/// says of the build.
pub(crate) struct BuiltReplay {
    replay: Replay,
    seconds: f64,
    /// Each agent's first response, read before the build could release
    /// the tables it comes from, when the study fits the cascade.
    first_responses: Option<Vec<Option<u32>>>,
    /// The stances observed, when the study fits polarization.
    stances: Option<FitStances>,
}

/// Where [`build`] reads the population.
pub(crate) enum Rows<'a> {
    Borrowed(&'a Population),
    /// Its edge tables released as the build reads them
    /// ([`Replay::releasing`]): the follows go as soon as the follow graph
    /// holds them. The replay and every number are the same; the build's
    /// peak memory is lower by the follows.
    Releasing(&'a mut Population),
}

/// What the replay is built for.
pub(crate) enum Role {
    /// The whole study on this replay: `Some` (a worker's shard, shards in
    /// all) on a cluster, whose rows are all it needs unless curves replay
    /// the whole population.
    Reports(Option<(usize, usize)>),
    /// The attributions only ([`attribute_built`]), on this shard.
    Attributes((usize, usize)),
}

/// The first stage of a study: checks the settings and builds the replay
/// for `role`.
pub(crate) fn build(
    source: Rows<'_>,
    config: &StudyConfig,
    role: Role,
    stances: Option<FitStances>,
    progress: &dyn Observer,
) -> Result<BuiltReplay, StudyError> {
    // The front ends check first, in their own spelling.
    config.check(&|name| name.to_string())?;
    let agents = match &source {
        Rows::Borrowed(p) => p.agents,
        Rows::Releasing(p) => p.agents,
    };
    if config.panel_size > agents {
        return Err(StudyError::PanelLargerThanPopulation {
            panel: config.panel_size,
            agents,
        });
    }
    let first_responses = (config.fit.is_some() && stances.is_none()).then(|| match &source {
        Rows::Borrowed(p) => aumann_fit::first_response(p),
        Rows::Releasing(p) => aumann_fit::first_response(p),
    });
    progress.stage("building the replay", None);
    let started = Instant::now();
    let on_rows = |done: usize, total: usize| progress.advance(done as u64, total as u64, "receivers");
    // A worker of a cluster holds its shard's rows only, unless it reports
    // and curves replay the whole population.
    let shard = match role {
        Role::Reports(shard) => shard.filter(|_| config.curves.is_none()),
        Role::Attributes(shard) => Some(shard),
    };
    let options = config.replay_options();
    let replay = match (source, shard) {
        (Rows::Releasing(population), shard) => Replay::releasing(population, options, shard, &on_rows)?,
        (Rows::Borrowed(population), Some((shard, count))) => {
            Replay::shard(population, options, shard, count, &on_rows)?
        }
        (Rows::Borrowed(population), None) => Replay::with_progress(population, options, &on_rows)?,
    };
    check_interrupt(progress)?;
    Ok(BuiltReplay {
        replay,
        seconds: started.elapsed().as_secs_f64(),
        first_responses,
        stances,
    })
}

/// The rest of a study, on the replay that [`build`] built from `data`
/// with the same `config`, its sweeps on `backend` (a shard of a cluster's
/// sweep, on the reporting worker). Past the build, only panels and curves
/// read the population's edge tables
/// ([`StudyConfig::reads_edges_after_the_build`]): without them, the
/// build may have released them ([`Rows::Releasing`]) with the same
/// result.
pub(crate) fn run_built(
    data: &Dataset,
    built: BuiltReplay,
    config: &StudyConfig,
    backend: &dyn SweepBackend,
    progress: &dyn Observer,
) -> Result<StudyResult, StudyError> {
    let population = &data.population;
    let BuiltReplay {
        mut replay,
        seconds,
        first_responses,
        stances,
    } = built;
    let (fitted_config, fit) = match (first_responses, stances, config.fit) {
        (Some(first), _, Some(held_out)) => {
            progress.stage("fitting the cascade's parameters", None);
            let observed = aumann_fit::observe(&replay, &first)?;
            let fit = aumann_fit::Fit::Cascade(aumann_fit::fit_cascade(&observed, held_out)?);
            (Some(with_fitted(config, &fit)), Some(fit))
        }
        (None, Some(given), Some(held_out)) => {
            progress.stage("fitting polarization to the stances observed", None);
            let observed = aumann_fit::Observed::Polarization {
                stances: &given.stances,
                unknown_accounts: given.unknown_accounts,
            };
            let fit = aumann_fit::fit(&replay, observed, held_out)?;
            (Some(with_fitted(config, &fit)), Some(fit))
        }
        _ => (None, None),
    };
    let config = fitted_config.as_ref().unwrap_or(config);
    let fit_range = match &fit {
        Some(fit) => {
            progress.stage("the total at the fitted intervals' ends", None);
            fit_range(&replay, config, fit)
        }
        None => Vec::new(),
    };
    let summary = PopulationSummary {
        source: data.meta.source.clone(),
        agents: replay.agents(),
        steps: replay.steps(),
        // Dated follows count: the summary of a run whose follows all begin
        // or end at some step must not read "0 follow edges".
        follow_edges: (replay.network().follows_always + replay.network().follows_timed) as usize,
        network: replay.network().clone(),
        gates: replay.players(),
        replay_seconds: seconds,
        replay_bytes: replay.memory_bytes(),
    };
    // Every attribution first. On a cluster they are the collective part,
    // which the other workers make too ([`attribute_built`]) before they
    // leave; what follows is this worker's alone, so none waits on it in an
    // exchange (where a long wait would read as a silent peer).
    let attributed = config
        .indicators
        .iter()
        .map(|&indicator| {
            let made = attribute_indicator(&replay, indicator, config, backend, progress)?;
            let (attribution, full) = made.expect("the reporting worker gets every attribution whole");
            Ok((indicator, attribution, full))
        })
        .collect::<Result<Vec<_>, StudyError>>()?;
    let tiers = config.tiers.assign(&population.followers);
    let panels: Vec<Panel> = if config.panel_size == 0 {
        Vec::new()
    } else {
        vec![
            Panel::top_followers(population, config.panel_size),
            Panel::random(population, config.panel_size, config.panel_seed),
            Panel::snowball(population, config.panel_size, config.panel_seed),
        ]
    };
    // A panel as large as the population is the population: replaying it
    // would repeat the full-scale attribution, with nothing to compare.
    let whole_population = (!panels.is_empty() && config.panel_size >= population.agents).then(|| {
        format!(
            "the population has {} agents, no more than the panel size {}: each panel would be the whole population \
             (a smaller --sample runs the panels)",
            population.agents, config.panel_size
        )
    });
    let started = Instant::now();
    let rankings = match &config.curves {
        Some(spec) => {
            progress.stage("rankings: followers, activity, PageRank", None);
            heuristic_rankings(population, &replay, spec, config.replay)?
        }
        None => Vec::new(),
    };
    let rankings_seconds = started.elapsed().as_secs_f64();
    let mut studies = Vec::new();
    for (indicator, attribution, full) in attributed {
        let full_abs: f64 = neumaier_sum(attribution.agent_phi.iter().map(|p| p.abs()));
        if let Some(cause) = &attribution.flat {
            studies.push(IndicatorStudy {
                indicator,
                tiers: None,
                control_check: None,
                timing: None,
                curves: None,
                top_agents: Vec::new(),
                bottom_agents: Vec::new(),
                full,
                panels: panels
                    .iter()
                    .map(|p| PanelStudy::skipped(p, &format!("the indicator is flat: {cause}")))
                    .collect(),
                panel_draws: Vec::new(),
                sensitivity: None,
                attribution,
            });
            continue;
        }
        if !panels.is_empty() && whole_population.is_none() {
            progress.stage(&format!("panels ({})", indicator.name()), Some(panels.len() as u64));
        }
        let panel_studies = panels
            .iter()
            .enumerate()
            .map(|(k, panel)| {
                if let Some(why) = &whole_population {
                    return Ok(PanelStudy::skipped(panel, why));
                }
                check_interrupt(progress)?;
                let study = study_panel(panel, indicator, config, &attribution.agent_phi, full_abs);
                let detail = format!("{} panel of {} agents", panel.kind.name(), panel.members.len());
                progress.advance(k as u64 + 1, panels.len() as u64, &detail);
                study
            })
            .collect::<Result<Vec<_>, _>>()?;
        let panel_draws = if config.panel_draws > 1 && whole_population.is_none() && !panels.is_empty() {
            draw_panels(
                population,
                indicator,
                config,
                &attribution.agent_phi,
                full_abs,
                &panel_studies,
                progress,
            )?
        } else {
            Vec::new()
        };
        let control_check = (indicator == Indicator::Linear).then(|| control_check(&panel_studies));
        let timing = timing(
            &attribution.agent_phi,
            &attribution.gates.phi,
            &attribution.gate_steps,
            replay.steps(),
            &population.stance,
            data.groups.as_deref(),
            config.latency_quantile,
        );
        let curves = match &config.curves {
            Some(spec) => {
                check_interrupt(progress)?;
                progress.stage(&format!("deletion and insertion curves ({})", indicator.name()), None);
                let on_pass =
                    |done: usize, total: usize| progress.advance(done as u64, total as u64, "forward replays");
                let delta = full.value_input - full.value_baseline;
                let mut all = vec![Ranking::by_score(
                    "aumann-shapley",
                    &with_the_change(&attribution.agent_phi, delta),
                )];
                all.extend(rankings.iter().map(|r| Ranking {
                    name: r.name.clone(),
                    order: r.order.clone(),
                }));
                let workspace = Workspace::new();
                let model = indicator.model(&replay, &workspace);
                Some(curves(
                    &replay,
                    model.as_ref(),
                    &all,
                    spec,
                    (full.value_input, full.value_baseline),
                    &on_pass,
                ))
            }
            None => None,
        };
        let (top, bottom) = top_agents(data, &attribution.agent_phi, &attribution.agent_error, &tiers);
        let sensitivity = match &config.sensitivity {
            // On a cluster the reporting worker holds a shard of the
            // replay; Run::check refuses the analysis there.
            Some(spec) if backend.shard().is_none() => {
                check_interrupt(progress)?;
                let reference = crate::sensitivity::Reference {
                    data,
                    attribution: &attribution,
                    tiers: &tiers,
                    engine: &config.engine,
                    latency_quantile: config.latency_quantile,
                    fitted: fit
                        .as_ref()
                        .filter(|f| f.indicator() == indicator.name())
                        .map(|f| {
                            (f.parameters().iter())
                                .filter(|e| e.identified)
                                .map(|e| (e.name, e.interval))
                                .collect()
                        })
                        .unwrap_or_default(),
                    panels: if whole_population.is_none() { &panels } else { &[] },
                    replay_options: config.replay_options(),
                };
                Some(crate::sensitivity::analyse(&mut replay, &reference, spec, progress)?)
            }
            _ => None,
        };
        studies.push(IndicatorStudy {
            sensitivity,
            indicator,
            control_check,
            timing: Some(timing),
            curves,
            top_agents: top,
            bottom_agents: bottom,
            tiers: Some(shares(&attribution.agent_phi, &population.followers, &tiers)),
            full,
            panels: panel_studies,
            panel_draws,
            attribution,
        });
    }
    Ok(StudyResult {
        rankings_seconds,
        population: summary,
        tier_spec: config.tiers,
        fit,
        fit_range,
        indicators: studies,
        tiers,
    })
}

/// The random and the snowball panels drawn `config.panel_draws` times
/// (seeds panel_seed, panel_seed + 1, ...; the first is the one in
/// `panel_studies`), each attributed by Aumann–Shapley alone and compared
/// with full scale.
fn draw_panels(
    population: &aumann_models::Population,
    indicator: Indicator,
    config: &StudyConfig,
    full_phi: &[f64],
    full_abs: f64,
    panel_studies: &[PanelStudy],
    progress: &dyn Observer,
) -> Result<Vec<PanelDraws>, StudyError> {
    // Each draw's Aumann–Shapley comparison only: permutation Shapley and
    // curves inside every draw would multiply the cost for numbers the
    // spread does not report.
    let light = StudyConfig {
        permutations: 0,
        curves: None,
        ..config.clone()
    };
    let kinds = [PanelKind::Random, PanelKind::Snowball];
    let total = (kinds.len() * (config.panel_draws - 1)) as u64;
    progress.stage(
        &format!("panel draws ({}): {} of each", indicator.name(), config.panel_draws),
        Some(total),
    );
    let mut done = 0;
    let mut all = Vec::new();
    for kind in kinds {
        let first = panel_studies.iter().find(|p| p.kind == kind);
        let mut comparisons = Vec::new();
        let mut skipped = 0;
        for draw in 0..config.panel_draws {
            let study = match (draw, first) {
                (0, Some(first)) => first.clone(),
                _ => {
                    check_interrupt(progress)?;
                    let seed = config.panel_seed.wrapping_add(draw as u64);
                    let panel = match kind {
                        PanelKind::Random => Panel::random(population, config.panel_size, seed),
                        _ => Panel::snowball(population, config.panel_size, seed),
                    };
                    let study = study_panel(&panel, indicator, &light, full_phi, full_abs)?;
                    done += 1;
                    progress.advance(done, total, &format!("{} panels", kind.name()));
                    study
                }
            };
            match (&study.skipped, study.attributions.first()) {
                (None, Some(a)) => comparisons.push(a.comparison.clone()),
                _ => skipped += 1,
            }
        }
        let mut verdicts = std::collections::BTreeMap::new();
        for c in &comparisons {
            let name = serde_json::to_value(c.verdict).expect("a verdict serialises");
            *verdicts
                .entry(name.as_str().unwrap_or_default().to_string())
                .or_insert(0) += 1;
        }
        let values = |f: &dyn Fn(&crate::compare::Comparison) -> Option<f64>| -> Vec<f64> {
            comparisons.iter().filter_map(f).filter(|v| v.is_finite()).collect()
        };
        all.push(PanelDraws {
            kind,
            draws: config.panel_draws,
            skipped,
            verdicts,
            rescale: Spread::of(&values(&|c| Some(c.rescale))),
            residual: Spread::of(&values(&|c| Some(c.residual))),
            spearman: Spread::of(&values(&|c| c.spearman)),
        });
    }
    Ok(all)
}

/// `config` with the cascade's parameters those the fit says to use.
fn with_fitted(config: &StudyConfig, fit: &aumann_fit::Fit) -> StudyConfig {
    let used = |name: &str| fit.parameters().iter().find(|e| e.name == name).map(|e| e.used);
    let indicators = (config.indicators.iter())
        .map(|&i| {
            if i.name() == fit.indicator() {
                with_parameters(i, &used)
            } else {
                i
            }
        })
        .collect();
    StudyConfig {
        indicators,
        ..config.clone()
    }
}

/// `indicator` with the parameters `value` gives a value replaced, the
/// others as they are.
pub(crate) fn with_parameters(indicator: Indicator, value: &dyn Fn(&str) -> Option<f64>) -> Indicator {
    let declaration = indicator.declaration();
    let values: Vec<Option<f64>> = (declaration.parameters.iter())
        .zip(indicator.parameter_values())
        .map(|(p, given)| value(p.name).or(given))
        .collect();
    (declaration.make)(&values)
}

/// The collective part of [`run_built`]: every indicator's full-scale
/// attribution, in the study's order.
///
/// On a cluster, the worker that writes the outputs (process 0's first)
/// runs the whole study; the others run this, which meets its every
/// exchange, and leave the panels, rankings, curves and tables to it: they
/// are local computations on the attribution that it alone gets whole. So
/// they need neither the population after their build nor the whole replay
/// for curves.
pub(crate) fn attribute_built(
    built: BuiltReplay,
    config: &StudyConfig,
    backend: &dyn SweepBackend,
    progress: &dyn Observer,
) -> Result<(), StudyError> {
    let replay = built.replay;
    for &indicator in &config.indicators {
        attribute_indicator(&replay, indicator, config, backend, progress)?;
    }
    Ok(())
}

/// The full-scale attribution of one indicator, with its checkpoints, and
/// its numbers for the summary: the collective part of a study, which
/// every worker of a cluster makes in the same order. None on a worker
/// whose share of the result went to the reporting one.
fn attribute_indicator(
    replay: &Replay,
    indicator: Indicator,
    config: &StudyConfig,
    backend: &dyn SweepBackend,
    progress: &dyn Observer,
) -> Result<Option<(ReplayAttribution, FullScale)>, StudyError> {
    progress.stage(
        &format!("attributing {} over {} agents", indicator.name(), replay.agents()),
        None,
    );
    let started = Instant::now();
    check_interrupt(progress)?;
    let mut checkpoint = config
        .checkpoints
        .as_ref()
        .map(|c| FileCheckpoint::new(c.path(indicator), config.identity(c, indicator), true));
    let observer = |p: &aumann_engine::Progress| {
        let detail = format!("gradient evaluations, level {} ({} nodes)", p.level, p.level_nodes);
        progress.advance(p.evaluations as u64, p.expected as u64, &detail);
        if progress.interrupted() {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let attribution = attribute_on(
        backend,
        replay,
        indicator,
        &config.engine,
        PathEnds::Silence,
        &observer,
        checkpoint.as_mut().map(|c| c as &mut dyn aumann_engine::Checkpoint),
    )
    .map_err(|e| match e {
        AttributeError::Engine {
            source: aumann_engine::Error::Interrupted { .. },
            ..
        } => StudyError::Interrupted,
        e => e.into(),
    })?;
    let Some(attribution) = attribution else {
        return Ok(None);
    };
    let seconds = started.elapsed().as_secs_f64();
    let g = &attribution.gates;
    let (direction, warnings) = direction_and_warnings(g.flat, g.target(), g.sums.magnitude);
    let full = FullScale {
        verdict: if g.flat { "flat" } else { "attributed" },
        flat_cause: attribution.flat.clone(),
        direction,
        warnings,
        value_input: g.value_input,
        value_baseline: g.value_baseline,
        gap: g.gap(),
        relative_gap: g.relative_gap(),
        converged: g.converged(),
        rule: g.rule.name().into(),
        nodes: g.nodes,
        gradient_evaluations: g.gradient_evaluations,
        levels: g.levels.clone(),
        agent_errors: AgentErrors::of(&attribution.agent_phi, &attribution.agent_error),
        seconds,
        edges_read: attribution.edges_read,
        graph_passes: attribution.edges_read as f64 / replay.graph().edges().max(1) as f64,
        step_phi: attribution.step_phi.clone(),
        checkpoint: checkpoint.as_ref().and_then(|c| match c.restored() {
            Restored::Nothing => None,
            Restored::Resumed {
                evaluations,
                from,
                newest_unused,
            } => Some(match newest_unused {
                None => format!("resumed from {} after {evaluations} gradient evaluations", from.display()),
                Some(why) => format!(
                    "resumed from {} after {evaluations} gradient evaluations (the newest checkpoint was not used: {why})",
                    from.display()
                ),
            }),
            Restored::Ignored(why) => Some(format!("a checkpoint was not used and the run started over: {why}")),
        }),
    };
    Ok(Some((attribution, full)))
}

/// |ΔF| below this share of Σ|φ| means the agents' pushes mostly cancel:
/// a share of ΔF then divides by a difference of large numbers.
pub const CANCELLATION: f64 = 0.05;

/// The direction of the change ΔF, and what a reader must be told about
/// it: a fall (the signs of the tables), or a change small against the
/// attribution's mass Σ|φ| = `magnitude`.
pub fn direction_and_warnings(flat: bool, delta: f64, magnitude: f64) -> (&'static str, Vec<String>) {
    if flat {
        return ("none", Vec::new());
    }
    let mut warnings = Vec::new();
    let direction = if delta < 0.0 { "down" } else { "up" };
    if delta < 0.0 {
        warnings.push(format!(
            "the indicator went down (ΔF = {delta:.6e}): agents with φ < 0 pushed it down, the way it went; the curves rank agents by −φ"
        ));
    }
    if delta.abs() < CANCELLATION * magnitude {
        warnings.push(format!(
            "ΔF = {delta:.6e} is {:.2}% of Σ|φ| = {magnitude:.6e}: the agents' pushes mostly cancel, so shares of ΔF are unstable; read the shares of Σ|φ|",
            100.0 * delta.abs() / magnitude
        ));
    }
    (direction, warnings)
}

/// φ times the sign of ΔF: a ranking by it puts first whoever pushed the
/// indicator the way it went.
fn with_the_change(phi: &[f64], delta: f64) -> Vec<f64> {
    let sign = if delta < 0.0 { -1.0 } else { 1.0 };
    phi.iter().map(|p| sign * p).collect()
}

/// Checks that every Aumann–Shapley panel comparison of the linear control
/// reads c* = 1 and r = 0 (panels whose verdict is undefined or "same
/// population" have no factor to check).
fn control_check(panels: &[PanelStudy]) -> ControlCheck {
    let (mut worst_rescale_error, mut worst_residual, mut checked) = (0.0f64, 0.0f64, 0);
    for a in panels
        .iter()
        .flat_map(|p| &p.attributions)
        .filter(|a| a.method == "aumann-shapley")
    {
        if matches!(a.comparison.verdict, Verdict::Undefined | Verdict::SamePopulation) {
            continue;
        }
        checked += 1;
        worst_rescale_error = worst_rescale_error.max((a.comparison.rescale - 1.0).abs());
        worst_residual = worst_residual.max(a.comparison.residual);
    }
    ControlCheck {
        passed: worst_rescale_error <= CONTROL_TOLERANCE && worst_residual <= CONTROL_TOLERANCE,
        worst_rescale_error,
        worst_residual,
        panels_checked: checked,
    }
}

impl PanelStudy {
    /// A panel that was not attributed, and why.
    fn skipped(panel: &Panel, why: &str) -> Self {
        Self {
            kind: panel.kind,
            size: panel.members.len(),
            members_active: 0,
            follows: panel.population.follows.len(),
            value_input: 0.0,
            value_baseline: 0.0,
            attributions: Vec::new(),
            skipped: Some(why.to_string()),
            members: panel.members.clone(),
            phi: vec![0.0; panel.members.len()],
            shapley_phi: None,
            curves: None,
        }
    }
}

/// The heuristic rankings that the curves compare Aumann–Shapley with: by
/// follower count, by activity over the window, by PageRank of the follow
/// graph, and random orders.
fn heuristic_rankings(
    population: &aumann_models::Population,
    replay: &Replay,
    spec: &CurveSpec,
    options: ReplayOptions,
) -> Result<Vec<Ranking>, StudyError> {
    let n = population.agents;
    let mut activity = vec![0.0; n];
    for a in &population.activity {
        activity[a.agent as usize] += a.amount;
    }
    // The replay's graph holds the follows that held all along, in its own
    // order; when it is not the whole follow graph (timed follows, exposures,
    // or a cluster worker's shard of the rows), build that.
    let whole = replay.network().follows_timed == 0
        && options.network != aumann_models::Network::Exposures
        && replay.graph().holds_every_row();
    let rank_of_original = if whole {
        replay.by_original(&pagerank(replay.graph()).0)
    } else {
        let graph = aumann_models::FollowGraph::from_follows(n, &population.follows)?;
        pagerank(&graph).0
    };
    let mut rankings = vec![
        Ranking::by_score("followers", &population.followers),
        Ranking::by_score("activity", &activity),
        Ranking::by_score("pagerank", &rank_of_original),
    ];
    rankings.extend((0..spec.random_rankings).map(|k| Ranking::random(n, spec.seed + k)));
    Ok(rankings)
}

/// The comparison, with the verdict "same population" when the panel is
/// every agent.
pub(crate) fn compare_panel(panel: &[f64], full: &[f64], full_abs: f64, whole: bool) -> Comparison {
    let mut c = compare(panel, full, full_abs);
    if whole {
        c.verdict = Verdict::SamePopulation;
        c.scaling_bias = false;
    }
    c
}

fn study_panel(
    panel: &Panel,
    indicator: Indicator,
    config: &StudyConfig,
    full_phi: &[f64],
    full_abs: f64,
) -> Result<PanelStudy, StudyError> {
    let full: Vec<f64> = panel.members.iter().map(|&a| full_phi[a as usize]).collect();
    let whole = panel.members.len() == full_phi.len();
    let active: std::collections::HashSet<u32> = panel.population.activity.iter().map(|a| a.agent).collect();
    let mut study = PanelStudy {
        kind: panel.kind,
        size: panel.members.len(),
        members_active: active.len(),
        follows: panel.population.follows.len(),
        value_input: 0.0,
        value_baseline: 0.0,
        attributions: Vec::new(),
        skipped: None,
        members: panel.members.clone(),
        phi: vec![0.0; panel.members.len()],
        shapley_phi: None,
        curves: None,
    };
    let replay = Replay::with_progress(&panel.population, config.replay_options(), &|_, _| {})?;
    let started = Instant::now();
    let result = match attribute(&replay, indicator, &config.engine) {
        Ok(r) => r,
        Err(AttributeError::Empty) => {
            study.skipped = Some("no member of the panel did anything in the window".into());
            return Ok(study);
        }
        Err(e) => return Err(e.into()),
    };
    study.value_input = result.gates.value_input;
    study.value_baseline = result.gates.value_baseline;
    study.phi = result.agent_phi.clone();
    study.attributions.push(PanelAttribution {
        method: "aumann-shapley",
        seconds: started.elapsed().as_secs_f64(),
        evaluations: result.gates.gradient_evaluations,
        relative_gap: result.gates.relative_gap(),
        comparison: compare_panel(&study.phi, &full, full_abs, whole),
        max_std_error: None,
    });
    if config.permutations > 0 {
        let workspace = Workspace::new();
        let model = SweepGame(indicator.model(&replay, &workspace));
        let game = AgentGame::new(&replay, &model);
        let n = panel.members.len();
        let started = Instant::now();
        let estimate = PermutationShapley::default()
            .permutations(config.permutations)
            .seed(config.panel_seed)
            .estimate(&game, &vec![1.0; n], &vec![0.0; n])
            .map_err(|source| AttributeError::Engine {
                indicator: indicator.name(),
                source,
            })?;
        study.attributions.push(PanelAttribution {
            method: "permutation-shapley",
            seconds: started.elapsed().as_secs_f64(),
            evaluations: estimate.evaluations,
            relative_gap: 0.0,
            comparison: compare_panel(&estimate.phi, &full, full_abs, whole),
            max_std_error: Some(estimate.std_error.iter().copied().fold(0.0, f64::max)),
        });
        study.shapley_phi = Some(estimate.phi);
    }
    if let Some(spec) = &config.curves
        && !result.gates.flat
    {
        let delta = study.value_input - study.value_baseline;
        let mut rankings = vec![Ranking::by_score("aumann-shapley", &with_the_change(&study.phi, delta))];
        if let Some(shapley) = &study.shapley_phi {
            rankings.push(Ranking::by_score(
                "permutation-shapley",
                &with_the_change(shapley, delta),
            ));
        }
        rankings.push(Ranking::by_score("followers", &panel.population.followers));
        rankings.extend((0..spec.random_rankings).map(|k| Ranking::random(panel.members.len(), spec.seed + k)));
        let workspace = Workspace::new();
        let model = indicator.model(&replay, &workspace);
        study.curves = Some(curves(
            &replay,
            model.as_ref(),
            &rankings,
            spec,
            (study.value_input, study.value_baseline),
            &|_, _| {},
        ));
    }
    Ok(study)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fall_and_a_cancelling_change_are_said_and_rank_who_pushed_it_the_way_it_went() {
        // Up, and large against the mass: nothing to say.
        assert_eq!(direction_and_warnings(false, 2.0, 3.0), ("up", vec![]));
        assert_eq!(direction_and_warnings(true, 0.0, 0.0), ("none", vec![]));
        // Down: said, with what the signs mean.
        let (direction, warnings) = direction_and_warnings(false, -2.0, 3.0);
        assert_eq!(direction, "down");
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("went down") && warnings[0].contains("−φ"),
            "{warnings:?}"
        );
        // Up by 1% of a mass of pushes that cancel: unstable shares.
        let (_, warnings) = direction_and_warnings(false, 0.01, 1.0);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("1.00% of Σ|φ|"), "{warnings:?}");
        // Right at the threshold there is no warning; just below, there is.
        assert!(direction_and_warnings(false, CANCELLATION, 1.0).1.is_empty());
        assert_eq!(direction_and_warnings(false, -0.9 * CANCELLATION, 1.0).1.len(), 2);
        // Ranked with the change: after a fall, the most negative phi first.
        let phi = [0.5, -2.0, 1e-10, -0.1];
        let down = Ranking::by_score("x", &with_the_change(&phi, -1.0));
        assert_eq!(down.order, vec![1, 3, 2, 0]);
        let up = Ranking::by_score("x", &with_the_change(&phi, 1.0));
        assert_eq!(up.order, vec![0, 2, 3, 1]);
    }
}
