//! How sure, and how sensitive: the full-scale attribution made again under
//! other reasonable choices (the baseline, the path, the indicator's
//! parameters, the stance estimate), the headline numbers under each, and
//! which conclusions hold under every one (docs/sensitivity.md).
//!
//! Every alternative is a complete attribution with its own completeness
//! gap, on the study's replay: a baseline or path changes the ends or the
//! shape of the path, a parameter the indicator, a stance the replay's
//! starting stances (put back after).

use crate::compare::spearman;
use crate::tiers::{Tier, shares};
use crate::when::timing;
use aumann_data::Dataset;
use aumann_data::baseline::{BaselineGiven, BaselineTable};
use aumann_data::progress::Observer;
use aumann_data::stance::StanceMethod;
use aumann_engine::{AumannShapley, NodeCount};
use aumann_models::{
    AttributeError, Indicator, Local, PathEnds, Replay, ReplayAttribution, attribute_in_time_order, attribute_on,
};
use serde::Serialize;
use std::time::Instant;

/// How many alternatives a sensitivity analysis tries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Extent {
    /// The half-open and typical-activity baselines (and the user's), the
    /// time-ordered path, each parameter halved and doubled (or at its
    /// fitted interval's ends), the label-free stance methods: in that
    /// order of priority (the user's baseline first, then the half-open
    /// one, the stances, the parameters, typical activity, the path),
    /// within [`DEFAULT_BUDGET`].
    Default,
    /// Every alternative of the default, whatever it costs, and more
    /// points of each: baselines at a quarter and three quarters, each
    /// parameter at a quarter and four times.
    Full,
}

/// The default extent's budget, in attributions' worth of gradient
/// evaluations (the reference's count each): an alternative starts only
/// if its least cost fits in what is left. A study's attribution is about
/// half its time at full scale (BENCHMARKS.md), so the analysis keeps the
/// study within about twice its time without it. Counted in evaluations,
/// not seconds, so that what runs does not depend on the machine.
pub const DEFAULT_BUDGET: f64 = 2.0;

impl Extent {
    /// The names front ends take for an extent, "none" first (no
    /// analysis).
    pub const NAMES: [&'static str; 3] = ["none", "default", "full"];

    /// "none" is None.
    pub fn parse(name: &str) -> Result<Option<Self>, String> {
        match name {
            "none" => Ok(None),
            "default" => Ok(Some(Extent::Default)),
            "full" => Ok(Some(Extent::Full)),
            _ => Err(format!(
                "unknown sensitivity '{name}'; choose one of {}",
                Self::NAMES.join(", ")
            )),
        }
    }

    fn fractions(self) -> &'static [f64] {
        match self {
            Extent::Default => &[0.5],
            Extent::Full => &[0.25, 0.5, 0.75],
        }
    }

    fn factors(self) -> &'static [f64] {
        match self {
            Extent::Default => &[0.5, 2.0],
            Extent::Full => &[0.25, 0.5, 2.0, 4.0],
        }
    }
}

/// A study's sensitivity analysis: how far it goes, and a user's baseline
/// to try beside the built-in ones.
#[derive(Clone, Debug)]
pub struct SensitivitySpec {
    pub extent: Extent,
    pub baseline: Option<BaselineGiven>,
}

/// The ranking's agreement with the reference that counts as the same
/// ranking: Spearman's rho at least this.
pub const RANKING_AGREES: f64 = 0.9;
/// The share of the reference's top agents that must stay among an
/// alternative's top agents for the top set to count as the same.
pub const TOP_SET_HOLDS: f64 = 0.5;
/// The top agents compared (fewer when fewer agents moved the indicator).
pub const TOP_K: usize = 100;
/// Half-samples of the stance estimate in the full extent (polarization):
/// each fits the CA on a random half of the accounts and places the rest.
pub const HALF_SAMPLES: usize = 20;
/// The group of the half-samples' alternatives.
pub const HALF_SAMPLE_GROUP: &str = "stance half-sample";
/// The seed of the first half-sample (the k-th adds k).
const HALF_SAMPLE_SEED: u64 = 0x5ea5_0fa1;

/// The relative completeness gap an alternative refines to (the study's
/// own tolerance where it is looser): the headline numbers are shares read
/// to a tenth of a percent, and each alternative reports its gap.
pub const TOLERANCE: f64 = 1e-4;
/// Nodes a straight-path alternative starts from (the study's rule, node
/// limit and batch): two sweeps of the default eight nodes, where the
/// study's attribution makes three. A sweep's cost is mostly its pass over
/// the replay, whatever its nodes up to the batch, so a count that fills
/// its sweeps buys the most accuracy for them (BENCHMARKS.md).
pub const START_NODES: usize = 16;
/// Nodes of each leg of the time-ordered path at first (one sweep of the
/// default batch), and the most: the count doubles until the whole path's
/// relative gap is within [`TOLERANCE`].
pub const LEG_START_NODES: usize = 8;
pub const LEG_MAX_NODES: usize = 64;

/// The headline numbers of one attribution.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Headline {
    /// F(x) − F(x'): the total attributed.
    pub delta: f64,
    /// Each tier's share of the attribution's mass (Σ|φ|).
    pub head_share: f64,
    pub middle_share: f64,
    pub tail_share: f64,
    /// The middle tier's and the tail's together.
    pub outside_head_share: f64,
    /// Gini coefficient of |φ| over every agent.
    pub gini: f64,
    /// The top 1% of agents' share of Σ|φ|.
    pub top_percent_share: f64,
    /// The first step by which the cumulative φ reaches the study's
    /// latency quantile of the total.
    pub latency_step: Option<usize>,
    pub synchronization: Option<f64>,
    /// The share of the reference's top agents (by φ in the direction of
    /// ΔF, at most [`TOP_K`]) that are among this attribution's as many
    /// top agents.
    pub top_overlap: f64,
    /// Spearman's rho of the agents' φ with the reference's, over the
    /// agents with φ ≠ 0 in either (agents idle in both tie at 0 in both
    /// and would only raise it).
    pub spearman: Option<f64>,
    /// Each panel attributed under the same choice and compared with this
    /// attribution's full scale (panels that could not be attributed left
    /// out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub panels: Vec<PanelNumbers>,
}

/// A panel's comparison with full scale under one alternative.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PanelNumbers {
    pub kind: crate::panel::PanelKind,
    pub verdict: crate::compare::Verdict,
    /// c*, the best global rescaling, and r, what it leaves.
    pub rescale: f64,
    pub residual: f64,
}

impl PanelNumbers {
    /// The names of a panel's numbers in the tables.
    fn names(kind: crate::panel::PanelKind) -> [&'static str; 2] {
        use crate::panel::PanelKind;
        match kind {
            PanelKind::TopFollowers => ["top_followers_panel_rescale", "top_followers_panel_residual"],
            PanelKind::Random => ["random_panel_rescale", "random_panel_residual"],
            PanelKind::Snowball => ["snowball_panel_rescale", "snowball_panel_residual"],
        }
    }
}

impl Headline {
    /// Every number of [`Headline::numbers`], then each panel's c* and r.
    pub fn all_numbers(&self) -> Vec<Number> {
        let mut all: Vec<Number> = self.numbers().to_vec();
        for p in &self.panels {
            let [rescale, residual] = PanelNumbers::names(p.kind);
            all.push((rescale, Some(p.rescale)));
            all.push((residual, Some(p.residual)));
        }
        all
    }

    /// (name, value) of every number, in the order of the tables.
    pub fn numbers(&self) -> Numbers {
        [
            ("delta", Some(self.delta)),
            ("head_share", Some(self.head_share)),
            ("middle_share", Some(self.middle_share)),
            ("tail_share", Some(self.tail_share)),
            ("outside_head_share", Some(self.outside_head_share)),
            ("gini", Some(self.gini)),
            ("top_percent_share", Some(self.top_percent_share)),
            ("latency_step", self.latency_step.map(|s| s as f64)),
            ("synchronization", self.synchronization),
            ("top_overlap", Some(self.top_overlap)),
            ("spearman", self.spearman),
        ]
    }
}

/// A number by name (None where it is undefined).
pub type Number = (&'static str, Option<f64>);
/// A headline's numbers by name, in the tables' order.
pub type Numbers = [Number; 11];

/// One alternative and what it gave.
#[derive(Clone, Debug, Serialize)]
pub struct AlternativeResult {
    /// baseline, path, parameter or stance ("reference" for the study's
    /// own attribution).
    pub group: &'static str,
    /// What was chosen, in words.
    pub name: String,
    /// Why it was not attributed, when it was not; the numbers are then
    /// absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// What a reader must know about it (rows of a user's baseline left
    /// out, a stance method's orientation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub value_input: f64,
    pub value_baseline: f64,
    pub gap: f64,
    pub relative_gap: f64,
    pub converged: bool,
    /// Whether the indicator is flat along this alternative's path (no
    /// numbers then).
    pub flat: bool,
    pub gradient_evaluations: usize,
    /// Passes over the replay (each evaluates up to the batch of nodes):
    /// what the time goes with.
    pub sweeps: usize,
    pub seconds: f64,
    pub numbers: Option<Headline>,
}

/// One headline number's range over the alternatives attributed (the
/// reference among them).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NumberRange {
    pub number: &'static str,
    pub reference: Option<f64>,
    pub min: f64,
    pub max: f64,
    /// The alternatives that give the least and the largest value.
    pub min_under: String,
    pub max_under: String,
}

/// One headline number's spread over replicates.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct NumberSpread {
    pub number: &'static str,
    pub spread: crate::study::Spread,
}

/// One conclusion of the reference attribution and whether every
/// alternative keeps it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Conclusion {
    /// The conclusion as the reference draws it.
    pub statement: String,
    /// Alternatives attributed (the reference not counted).
    pub tried: usize,
    /// Those under which it still holds.
    pub holds: usize,
    /// Where it does not: each alternative's name and its value.
    pub changes_under: Vec<String>,
    /// In words: "holds under all 9 alternatives", or which change it.
    pub verdict: String,
}

/// A sensitivity analysis of one indicator.
#[derive(Clone, Debug, Serialize)]
pub struct SensitivityResult {
    pub extent: Extent,
    /// The reference first, then every alternative, in the order run.
    pub alternatives: Vec<AlternativeResult>,
    pub ranges: Vec<NumberRange>,
    /// Over the stance half-samples (the full extent, polarization): each
    /// number's least and largest value and quartiles, the spread the
    /// stance estimate's sampling gives it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub half_samples: Vec<NumberSpread>,
    pub conclusions: Vec<Conclusion>,
    /// Whether every conclusion holds under every alternative attributed.
    pub robust: bool,
    /// The alternatives' sweeps over the reference's: the analysis's cost
    /// in single attributions.
    pub cost_in_attributions: f64,
    pub seconds: f64,
}

/// What the analysis needs of the study beyond the replay.
pub(crate) struct Reference<'a> {
    pub data: &'a Dataset,
    pub attribution: &'a ReplayAttribution,
    pub tiers: &'a [Tier],
    pub engine: &'a AumannShapley,
    pub latency_quantile: f64,
    /// The fit's 95% intervals of this indicator's parameters, by name,
    /// when the study fitted them: (lower, upper), either end None where
    /// the interval reaches the parameter's bound.
    pub fitted: Vec<(&'static str, [Option<f64>; 2])>,
    /// The study's panels (none when it made none), each attributed again
    /// under every alternative and compared with that alternative's full
    /// scale.
    pub panels: &'a [crate::panel::Panel],
    /// How the panels' replays are built (the study's).
    pub replay_options: aumann_models::ReplayOptions,
}

#[derive(Debug, thiserror::Error)]
pub enum SensitivityError {
    #[error("the user's baseline: {0}")]
    Baseline(#[from] aumann_data::baseline::BaselineError),
    #[error("interrupted")]
    Interrupted,
}

/// Reads the user's baseline against `data` when the analysis has one, so
/// that a bad table is refused before the replay is built.
pub(crate) fn check_inputs(data: &Dataset, config: &crate::StudyConfig) -> Result<(), SensitivityError> {
    if let Some(given) = config.sensitivity.as_ref().and_then(|s| s.baseline.as_ref()) {
        given.read(data)?;
    }
    Ok(())
}

/// One alternative, before it runs.
enum Choice {
    /// Every gate at b.
    Fraction(f64),
    /// Each agent's gates at the share of the window's steps it acted in.
    Typical,
    /// The user's table, as one baseline value per gate.
    Table(Vec<f64>),
    TimeOrdered,
    Parameter(Indicator),
    Stance(StanceMethod),
    /// The stance method's estimate fitted on half the accounts, drawn by
    /// this replicate's seed.
    HalfSample(StanceMethod, u64),
    /// Listed, not attributed: why.
    Unavailable(String),
}

struct Planned {
    /// Lower runs first within the default's budget.
    priority: u8,
    group: &'static str,
    name: String,
    note: Option<String>,
    choice: Choice,
}

/// Runs the analysis of the reference's indicator on `replay` (whose
/// stances it changes and puts back), telling `progress` which
/// alternative runs.
pub(crate) fn analyse(
    replay: &mut Replay,
    reference: &Reference<'_>,
    spec: &SensitivitySpec,
    progress: &dyn Observer,
) -> Result<SensitivityResult, SensitivityError> {
    let started = Instant::now();
    let indicator = reference.attribution.indicator;
    let plan = plan(replay, reference, spec)?;
    // The panels' replays, built once (a panel whose members did nothing
    // has none to build and is left out).
    let mut panels: Vec<(&crate::panel::Panel, Replay)> = (reference.panels.iter())
        .filter_map(|p| {
            Replay::with_progress(&p.population, reference.replay_options, &|_, _| {})
                .ok()
                .map(|r| (p, r))
        })
        .collect();
    let reference_panels = panel_numbers(&mut panels, reference, None, None, reference.attribution);
    let reference_numbers = headline(reference, replay, reference.attribution, None, reference_panels);
    let g = &reference.attribution.gates;
    let mut alternatives = vec![AlternativeResult {
        group: "reference",
        name: "the study's attribution: straight path from everyone silent, parameters as used".into(),
        skipped: None,
        note: None,
        value_input: g.value_input,
        value_baseline: g.value_baseline,
        gap: g.gap(),
        relative_gap: g.relative_gap(),
        converged: g.converged(),
        flat: g.flat,
        gradient_evaluations: g.gradient_evaluations,
        sweeps: sweeps(g, reference.engine.batch),
        seconds: g.elapsed.as_secs_f64(),
        numbers: Some(reference_numbers),
    }];
    let reference_sweeps = sweeps(g, reference.engine.batch).max(1);
    let total = plan.len();
    let mut spent = 0;
    let budget = (spec.extent == Extent::Default).then_some(DEFAULT_BUDGET * reference_sweeps as f64);
    for (k, planned) in plan.into_iter().enumerate() {
        if progress.interrupted() {
            return Err(SensitivityError::Interrupted);
        }
        if let Some(budget) = budget
            && (spent + least_cost(&planned.choice, replay, reference.engine.batch)) as f64 > budget
        {
            let why = format!(
                "not run within the default budget ({DEFAULT_BUDGET} attributions' worth of sweeps, \
                 {budget:.0} here; {spent} spent): --sensitivity full runs every alternative"
            );
            alternatives.push(skipped(&planned, why));
            continue;
        }
        progress.stage(
            &format!(
                "sensitivity ({}): {} of {total}, {}",
                indicator.name(),
                k + 1,
                planned.name
            ),
            None,
        );
        let began = Instant::now();
        let stance = match alternative_stance(reference, &planned.choice) {
            Ok(stance) => stance,
            Err(why) => {
                alternatives.push(skipped(&planned, why));
                continue;
            }
        };
        let made = run_one(replay, reference, &planned.choice, stance.as_deref(), progress);
        let seconds = began.elapsed().as_secs_f64();
        let result = match made {
            Err(SensitivityError::Interrupted) => return Err(SensitivityError::Interrupted),
            Err(why) => skipped(&planned, why.to_string()),
            Ok(Err(why)) => skipped(&planned, why),
            Ok(Ok((attribution, made_sweeps))) => {
                let g = &attribution.gates;
                spent += made_sweeps;
                let flat = attribution.flat.is_some() || g.flat;
                AlternativeResult {
                    group: planned.group,
                    name: planned.name,
                    skipped: None,
                    note: planned.note,
                    value_input: g.value_input,
                    value_baseline: g.value_baseline,
                    gap: g.gap(),
                    relative_gap: g.relative_gap(),
                    converged: g.converged(),
                    flat,
                    gradient_evaluations: g.gradient_evaluations,
                    sweeps: made_sweeps,
                    seconds,
                    numbers: (!flat).then(|| {
                        let panels = panel_numbers(
                            &mut panels,
                            reference,
                            Some(&planned.choice),
                            stance.as_deref(),
                            &attribution,
                        );
                        headline(reference, replay, &attribution, Some(reference.attribution), panels)
                    }),
                }
            }
        };
        alternatives.push(result);
    }
    let ranges = ranges(&alternatives);
    let conclusions = conclusions(&alternatives);
    let half_samples = half_sample_spreads(&alternatives);
    Ok(SensitivityResult {
        extent: spec.extent,
        robust: conclusions.iter().all(|c| c.holds == c.tried),
        cost_in_attributions: spent as f64 / reference_sweeps as f64,
        alternatives,
        ranges,
        half_samples,
        conclusions,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn skipped(planned: &Planned, why: String) -> AlternativeResult {
    AlternativeResult {
        group: planned.group,
        name: planned.name.clone(),
        skipped: Some(why),
        note: planned.note.clone(),
        value_input: f64::NAN,
        value_baseline: f64::NAN,
        gap: f64::NAN,
        relative_gap: f64::NAN,
        converged: false,
        flat: false,
        gradient_evaluations: 0,
        sweeps: 0,
        seconds: 0.0,
        numbers: None,
    }
}

/// The sweeps an attribution made: each level's nodes in batches of
/// `batch` (its evaluations in such batches where a companion rule added
/// nodes of its own).
fn sweeps(a: &aumann_engine::Attribution, batch: usize) -> usize {
    let batch = batch.max(1);
    let level_nodes: usize = a.levels.iter().map(|l| l.nodes).sum();
    if !a.levels.is_empty() && level_nodes == a.gradient_evaluations {
        a.levels.iter().map(|l| l.nodes.div_ceil(batch)).sum()
    } else {
        a.gradient_evaluations.div_ceil(batch)
    }
}

/// The alternatives to try, in order: baselines, the path, parameters,
/// stances.
fn plan(replay: &Replay, reference: &Reference<'_>, spec: &SensitivitySpec) -> Result<Vec<Planned>, SensitivityError> {
    let indicator = reference.attribution.indicator;
    let mut plan = Vec::new();
    for &b in spec.extent.fractions() {
        plan.push(Planned {
            priority: 1,
            group: "baseline",
            name: format!("every gate at {b} (each agent at {}% of what it did)", 100.0 * b),
            note: None,
            choice: Choice::Fraction(b),
        });
    }
    plan.push(Planned {
        priority: 4,
        group: "baseline",
        name: "typical activity (each agent's gates at the share of steps it acted in)".into(),
        note: None,
        choice: Choice::Typical,
    });
    if let Some(given) = &spec.baseline {
        let table = given.read(reference.data)?;
        let (gates, without_gate) = table_gates(replay, &table);
        let mut left = Vec::new();
        if table.unknown_accounts > 0 {
            left.push(format!(
                "{} of {} rows name accounts the population does not have",
                table.unknown_accounts, table.rows
            ));
        }
        if without_gate > 0 {
            left.push(format!(
                "{without_gate} rows give a step at which the agent did nothing (no gate to set)"
            ));
        }
        plan.push(Planned {
            priority: 0,
            group: "baseline",
            name: format!(
                "the user's baseline ({} agents, {} agent-steps; everyone else silent)",
                table.per_agent.len(),
                table.per_step.len()
            ),
            note: (!left.is_empty()).then(|| format!("skipped: {}", left.join("; "))),
            choice: Choice::Table(gates),
        });
    }
    if replay.steps() > 1 {
        plan.push(Planned {
            priority: 5,
            group: "path",
            name: "time-ordered (each step's gates opened after the steps before)".into(),
            note: None,
            choice: Choice::TimeOrdered,
        });
    }
    let declaration = indicator.declaration();
    for (parameter, value) in declaration.parameters.iter().zip(indicator.parameter_values()) {
        let fitted = reference.fitted.iter().find(|(name, _)| *name == parameter.name);
        let Some(value) = value else {
            plan.push(Planned {
                priority: 3,
                group: "parameter",
                name: format!("{} ({})", parameter.name, parameter.when_absent),
                note: None,
                choice: Choice::Unavailable("the parameter is taken from the data: no value to vary".into()),
            });
            continue;
        };
        let mut points: Vec<(f64, String)> = match fitted {
            Some((_, [lower, upper])) => [(lower, "the fitted interval's lower end"), (upper, "its upper end")]
                .into_iter()
                .filter_map(|(end, what)| end.map(|v| (v, what.to_string())))
                .collect(),
            None => (spec.extent.factors().iter())
                .map(|&f| (value * f, format!("{f} times the value used")))
                .collect(),
        };
        points.retain(|(v, _)| parameter.bounds.contains(*v) && *v != value);
        if points.is_empty() && fitted.is_none() {
            let why = if value == 0.0 {
                "0 has no multiples".to_string()
            } else {
                format!("no multiple of {value} lies in {}", parameter.bounds.interval())
            };
            plan.push(Planned {
                priority: 3,
                group: "parameter",
                name: format!("{} = {value}", parameter.name),
                note: None,
                choice: Choice::Unavailable(why),
            });
        }
        for (v, what) in points {
            plan.push(Planned {
                priority: 3,
                group: "parameter",
                name: format!("{} = {} ({what})", parameter.name, crate::number::readable(v)),
                note: None,
                choice: Choice::Parameter(crate::study::with_parameters(indicator, &|p| {
                    (p == parameter.name).then_some(v)
                })),
            });
        }
    }
    if matches!(indicator, Indicator::Polarization(_)) {
        for method in [StanceMethod::Follows, StanceMethod::Engagements] {
            plan.push(Planned {
                priority: 2,
                group: "stance",
                name: format!("stances estimated by the {} method", method.name()),
                note: None,
                choice: Choice::Stance(method),
            });
        }
    }
    if matches!(indicator, Indicator::Polarization(_)) && spec.extent == Extent::Full {
        match stance_method(reference.data) {
            Some(method) => {
                for k in 0..HALF_SAMPLES {
                    plan.push(Planned {
                        priority: 6,
                        group: HALF_SAMPLE_GROUP,
                        name: format!(
                            "stance half-sample {} of {HALF_SAMPLES} (the {} method fitted on half the accounts)",
                            k + 1,
                            method.name()
                        ),
                        note: None,
                        choice: Choice::HalfSample(method, k as u64),
                    });
                }
            }
            None => plan.push(Planned {
                priority: 6,
                group: HALF_SAMPLE_GROUP,
                name: "stance half-samples".into(),
                note: None,
                choice: Choice::Unavailable(
                    "the population's stances are not a label-free estimate (they come from the generator, a \
                     file or a method with labels): there is no estimate to refit on half the accounts; \
                     `aumann stance --method follows` (or engagements) makes one"
                        .into(),
                ),
            }),
        }
    }
    if spec.extent == Extent::Default {
        plan.sort_by_key(|p| p.priority);
    }
    Ok(plan)
}

/// The label-free method the population's stances came from (its
/// metadata's stance step, without a file of labels); None for stances
/// from anything else.
fn stance_method(data: &Dataset) -> Option<StanceMethod> {
    let request = data.meta.stance.as_ref()?.get("request")?;
    if request.get("file").is_some_and(|f| !f.is_null()) {
        return None;
    }
    match request.get("method")?.as_str()? {
        "follows" => Some(StanceMethod::Follows),
        "engagements" => Some(StanceMethod::Engagements),
        _ => None,
    }
}

/// Half the accounts, drawn by `replicate`: a shuffle of every account by
/// a generator seeded from the replicate, its first half kept.
fn half_of_the_accounts(agents: usize, replicate: u64) -> Vec<bool> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(HALF_SAMPLE_SEED.wrapping_add(replicate));
    let mut order: Vec<usize> = (0..agents).collect();
    order.shuffle(&mut rng);
    let mut kept = vec![false; agents];
    for &a in &order[..agents / 2] {
        kept[a] = true;
    }
    kept
}

/// The fewest sweeps `choice` can cost: its first level.
fn least_cost(choice: &Choice, replay: &Replay, batch: usize) -> usize {
    let batch = batch.max(1);
    match choice {
        Choice::Unavailable(_) => 0,
        Choice::TimeOrdered => LEG_START_NODES.div_ceil(batch) * replay.steps(),
        _ => START_NODES.div_ceil(batch),
    }
}

/// The user's table as one baseline per gate (0 where it says nothing),
/// and how many of its per-step rows name a step at which the agent has no
/// gate.
fn table_gates(replay: &Replay, table: &BaselineTable) -> (Vec<f64>, usize) {
    let mut per_agent = vec![None; replay.agents()];
    for &(agent, b) in &table.per_agent {
        per_agent[agent as usize] = Some(b);
    }
    let mut per_step: std::collections::HashMap<(u32, u32), f64> =
        table.per_step.iter().map(|&(a, s, b)| ((a, s), b)).collect();
    let gates = replay
        .gate_ids()
        .map(|g| {
            let (agent, step) = (replay.gate_agent(g), replay.gate_step(g));
            per_step
                .remove(&(agent, step))
                .or(per_agent[agent as usize])
                .unwrap_or(0.0)
        })
        .collect();
    (gates, per_step.len())
}

/// Each gate at the share of the window's steps in which its agent has a
/// gate.
fn typical_gates(replay: &Replay) -> Vec<f64> {
    let mut gates_of = vec![0usize; replay.agents()];
    for g in replay.gate_ids() {
        gates_of[replay.gate_replay_agent(g).index()] += 1;
    }
    let steps = replay.steps() as f64;
    replay
        .gate_ids()
        .map(|g| gates_of[replay.gate_replay_agent(g).index()] as f64 / steps)
        .collect()
}

/// The relative gap alternatives refine to: [`TOLERANCE`], or the study's
/// if looser.
fn tolerance(engine: &AumannShapley) -> f64 {
    match engine.nodes {
        NodeCount::Adaptive { tolerance, .. } => tolerance.max(TOLERANCE),
        NodeCount::Fixed(_) => TOLERANCE,
    }
}

/// The engine of a straight-path alternative: the study's, adaptive from
/// [`START_NODES`] to [`TOLERANCE`]; a study at a fixed node count keeps
/// it (the user chose it).
fn alternative_engine(engine: &AumannShapley) -> AumannShapley {
    match engine.nodes {
        NodeCount::Adaptive { max, .. } => {
            let start = START_NODES.max(engine.rule.min_nodes()).min(max);
            engine.clone().adaptive(start, max, tolerance(engine))
        }
        NodeCount::Fixed(_) => engine.clone(),
    }
}

/// The stances a stance alternative starts the replay from (None for
/// the other alternatives), or why they could not be estimated.
fn alternative_stance(reference: &Reference<'_>, choice: &Choice) -> Result<Option<Vec<f64>>, String> {
    let (method, fitted) = match choice {
        Choice::Stance(method) => (*method, None),
        Choice::HalfSample(method, k) => (
            *method,
            Some(half_of_the_accounts(reference.data.population.agents, *k)),
        ),
        _ => return Ok(None),
    };
    // The estimate alone, from the population as it is: the dataset is not
    // copied (the edge tables are most of it).
    let population = &reference.data.population;
    let options = Default::default();
    let estimate = match method {
        StanceMethod::Follows => aumann_stance::follows_fitted_on(population, &options, &[], fitted.as_deref()),
        StanceMethod::Engagements => aumann_stance::engagements_fitted_on(population, &options, &[], fitted.as_deref()),
        other => {
            return Err(format!(
                "the {} method needs a file of the user's: not an alternative here",
                other.name()
            ));
        }
    };
    let stance = estimate.map_err(|why| why.to_string())?.stance;
    if fitted.is_none() && stance == population.stance {
        return Err("the population's stances are this method's: the reference already uses them".into());
    }
    Ok(Some(stance))
}

/// Each panel attributed under `choice` (None: the reference's) and
/// compared with `full`, the same choice's full-scale attribution. A panel
/// whose replay has nothing to attribute, and the user's baseline table
/// (given for the population's gates, not a panel's), give nothing.
fn panel_numbers(
    panels: &mut [(&crate::panel::Panel, Replay)],
    reference: &Reference<'_>,
    choice: Option<&Choice>,
    stance: Option<&[f64]>,
    full: &ReplayAttribution,
) -> Vec<PanelNumbers> {
    // A parameter choice carries its own indicator.
    let indicator = reference.attribution.indicator;
    let engine = reference.engine;
    let full_abs: f64 = full.agent_phi.iter().map(|p| p.abs()).sum();
    let quiet = |_: &aumann_engine::Progress| std::ops::ControlFlow::Continue(());
    panels
        .iter_mut()
        .filter_map(|(panel, replay)| {
            let made = match choice {
                None => aumann_models::attribute(replay, indicator, engine).ok()?,
                // The table is given for the population's gates, not a
                // panel's.
                Some(Choice::Table(_)) => return None,
                Some(choice) => {
                    let members: Option<Vec<f64>> =
                        stance.map(|s| panel.members.iter().map(|&m| s[m as usize]).collect());
                    attribute_choice(replay, indicator, engine, choice, members.as_deref(), &quiet, &())
                        .ok()??
                        .0
                }
            };
            let members: Vec<f64> = panel.members.iter().map(|&m| full.agent_phi[m as usize]).collect();
            let whole = panel.members.len() == full.agent_phi.len();
            let c = crate::study::compare_panel(&made.agent_phi, &members, full_abs, whole);
            Some(PanelNumbers {
                kind: panel.kind,
                verdict: c.verdict,
                rescale: c.rescale,
                residual: c.residual,
            })
        })
        .collect()
}

/// One alternative's attribution on the study's replay, with the sweeps
/// it made, or why it could not be made.
fn run_one(
    replay: &mut Replay,
    reference: &Reference<'_>,
    choice: &Choice,
    stance: Option<&[f64]>,
    progress: &dyn Observer,
) -> Result<Result<(ReplayAttribution, usize), String>, SensitivityError> {
    let engine = alternative_engine(reference.engine);
    let observer = |p: &aumann_engine::Progress| {
        progress.advance(p.evaluations as u64, p.expected as u64, "gradient evaluations");
        if progress.interrupted() {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let indicator = reference.attribution.indicator;
    match attribute_choice(replay, indicator, &engine, choice, stance, &observer, progress) {
        Ok(Some(made)) => Ok(Ok(made)),
        Ok(None) => Ok(Err(match choice {
            Choice::Unavailable(why) => why.clone(),
            _ => "no stances were estimated for this alternative".into(),
        })),
        Err(AttributeError::Engine {
            source: aumann_engine::Error::Interrupted { .. },
            ..
        }) => Err(SensitivityError::Interrupted),
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// `choice`'s attribution of `indicator` (the study's or a panel's replay)
/// by `engine`, with the sweeps it made: the one place a choice becomes
/// path ends, a path shape, an indicator or starting stances. `stance`
/// holds the replay's agents' stances (by its population ids) for a
/// stance choice, which are put back after. None: nothing to attribute
/// (an unavailable choice, or a stance choice without stances).
fn attribute_choice(
    replay: &mut Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    choice: &Choice,
    stance: Option<&[f64]>,
    observer: &dyn Fn(&aumann_engine::Progress) -> std::ops::ControlFlow<()>,
    progress: &dyn Observer,
) -> Result<Option<(ReplayAttribution, usize)>, AttributeError> {
    let straight = |replay: &Replay, indicator: Indicator, ends: PathEnds<'_>| {
        let made = attribute_on(&Local, replay, indicator, engine, ends, observer, None)?.expect("one process");
        let made_sweeps = sweeps(&made.gates, engine.batch);
        Ok(Some((made, made_sweeps)))
    };
    let between = |replay: &Replay, baseline: &[f64]| {
        let input = vec![1.0; replay.players()];
        straight(
            replay,
            indicator,
            PathEnds::Between {
                input: &input,
                baseline,
            },
        )
    };
    match choice {
        Choice::Unavailable(_) => Ok(None),
        Choice::Fraction(b) => straight(replay, indicator, PathEnds::Fraction(*b)),
        Choice::Typical => between(replay, &typical_gates(replay)),
        Choice::Table(gates) => between(replay, gates),
        Choice::Parameter(other) => straight(replay, *other, PathEnds::Silence),
        Choice::TimeOrdered => time_ordered(replay, indicator, engine, progress).map(Some),
        Choice::Stance(_) | Choice::HalfSample(..) => {
            let Some(stance) = stance else {
                return Ok(None);
            };
            let previous = replay.replace_stance(stance);
            let made = straight(replay, indicator, PathEnds::Silence);
            replay.replace_stance(&previous);
            made
        }
    }
}

/// The time-ordered path from silence, each leg at [`LEG_START_NODES`]
/// Gauss–Legendre nodes (the study's rule where it is another), doubled
/// until the whole path's relative gap meets the study's tolerance or the
/// legs reach [`LEG_MAX_NODES`].
fn time_ordered(
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    progress: &dyn Observer,
) -> Result<(ReplayAttribution, usize), AttributeError> {
    let tolerance = tolerance(engine);
    let steps = replay.steps();
    let mut nodes = LEG_START_NODES.max(engine.rule.min_nodes());
    let (mut spent, mut passes) = (0, 0);
    // Legs run where a step has gates (from silence, every gate moves).
    let legs = (0..steps).filter(|&t| replay.step_gates(t).len() > 0).count();
    loop {
        let leg_engine = engine.clone().fixed(nodes);
        let observer = |step: usize, p: &aumann_engine::Progress| {
            let detail = format!("legs of {nodes} nodes, step {} of {steps}", step + 1);
            progress.advance(step as u64, steps as u64, &detail);
            let _ = p;
            if progress.interrupted() {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        };
        let mut made = attribute_in_time_order(replay, indicator, &leg_engine, PathEnds::Silence, &observer)?;
        spent += made.gates.gradient_evaluations;
        passes += legs * nodes.div_ceil(engine.batch.max(1));
        made.gates.gradient_evaluations = spent;
        made.gates.tolerance = Some(tolerance);
        if made.gates.within(tolerance) || nodes >= LEG_MAX_NODES {
            return Ok((made, passes));
        }
        nodes *= 2;
    }
}

/// The headline numbers of `attribution`, compared with `reference` where
/// given (the reference's own overlap is 1 and its rho 1).
fn headline(
    context: &Reference<'_>,
    replay: &Replay,
    attribution: &ReplayAttribution,
    reference: Option<&ReplayAttribution>,
    panels: Vec<PanelNumbers>,
) -> Headline {
    let data = context.data;
    let phi = &attribution.agent_phi;
    let tiers = shares(phi, &data.population.followers, context.tiers);
    let share = |t: Tier| tiers.iter().find(|s| s.tier == t).map_or(0.0, |s| s.abs_share);
    let timing = timing(
        phi,
        &attribution.gates.phi,
        &attribution.gate_steps,
        replay.steps(),
        &data.population.stance,
        None,
        context.latency_quantile,
    );
    let (top_overlap, rho) = match reference {
        None => (1.0, Some(1.0)),
        Some(r) => {
            let delta = r.gates.target();
            (
                overlap(&r.agent_phi, delta, phi, attribution.gates.target()),
                movers_spearman(phi, &r.agent_phi),
            )
        }
    };
    Headline {
        delta: attribution.gates.target(),
        head_share: share(Tier::Head),
        middle_share: share(Tier::Middle),
        tail_share: share(Tier::Tail),
        outside_head_share: share(Tier::Middle) + share(Tier::Tail),
        gini: timing.gini,
        top_percent_share: timing.top_percent_share,
        latency_step: timing.latency_step,
        synchronization: timing.synchronization,
        top_overlap,
        spearman: rho,
        panels,
    }
}

/// Spearman's rho of `a` and `b` over the agents nonzero in either, each
/// side's values first rounded to a grid of [`TIE`] times its largest |φ|:
/// agents whose φ are equal up to the quadrature's rounding (the same
/// activity and followers, say) tie rather than rank by their last bits.
fn movers_spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    let grid = |v: &[f64]| {
        let step = TIE * v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        move |x: f64| if step > 0.0 { (x / step).round() } else { x }
    };
    let (ga, gb) = (grid(a), grid(b));
    let (x, y): (Vec<f64>, Vec<f64>) = (a.iter().zip(b))
        .filter(|(x, y)| **x != 0.0 || **y != 0.0)
        .map(|(x, y)| (ga(*x), gb(*y)))
        .unzip();
    spearman(&x, &y)
}

/// φ that agree to this share of the largest |φ| tie in the ranking's
/// rho: far above the quadrature's rounding, far below any difference a
/// reader would call a rank.
pub const TIE: f64 = 1e-9;

/// The agents first by φ in the direction of ΔF: at most [`TOP_K`], those
/// that pushed that way.
fn top_set(phi: &[f64], delta: f64) -> Vec<usize> {
    let sign = if delta < 0.0 { -1.0 } else { 1.0 };
    let mut order: Vec<usize> = (0..phi.len()).filter(|&a| sign * phi[a] > 0.0).collect();
    order.sort_by(|&a, &b| (sign * phi[b]).total_cmp(&(sign * phi[a])).then(a.cmp(&b)));
    order.truncate(TOP_K);
    order
}

/// The share of the reference's top set among the alternative's top set
/// of the same size (1 when the reference has no top set).
pub fn overlap(reference: &[f64], reference_delta: f64, other: &[f64], other_delta: f64) -> f64 {
    let first = top_set(reference, reference_delta);
    if first.is_empty() {
        return 1.0;
    }
    let mut second = top_set(other, other_delta);
    second.truncate(first.len());
    let second: std::collections::HashSet<usize> = second.into_iter().collect();
    first.iter().filter(|a| second.contains(a)).count() as f64 / first.len() as f64
}

fn ranges(alternatives: &[AlternativeResult]) -> Vec<NumberRange> {
    let with_numbers: Vec<(&AlternativeResult, Vec<Number>)> = alternatives
        .iter()
        .filter_map(|a| a.numbers.as_ref().map(|n| (a, n.all_numbers())))
        .collect();
    // Every number's name, in the order first met (the reference's first).
    let mut names: Vec<&'static str> = Vec::new();
    for (_, numbers) in &with_numbers {
        for (name, _) in numbers {
            if !names.contains(name) {
                names.push(name);
            }
        }
    }
    let value = |numbers: &[Number], name: &str| numbers.iter().find(|(n, _)| *n == name).and_then(|(_, v)| *v);
    names
        .into_iter()
        .filter_map(|name| {
            let values: Vec<(f64, &str)> = with_numbers
                .iter()
                .filter_map(|(a, n)| value(n, name).map(|v| (v, a.name.as_str())))
                .collect();
            let (min, min_under) = values.iter().copied().min_by(|a, b| a.0.total_cmp(&b.0))?;
            let (max, max_under) = values.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0))?;
            Some(NumberRange {
                number: name,
                reference: alternatives[0]
                    .numbers
                    .as_ref()
                    .and_then(|n| value(&n.all_numbers(), name)),
                min,
                max,
                min_under: min_under.to_string(),
                max_under: max_under.to_string(),
            })
        })
        .collect()
}

/// A conclusion: its statement from the reference's numbers, and the test
/// an alternative's numbers pass when it holds (with the value to name
/// when it does not).
struct Test {
    statement: String,
    holds: Box<HoldsUnder>,
}

/// Whether a conclusion holds under an alternative's numbers, and the value
/// to name when it does not; None where the alternative cannot test it (a
/// panel it did not attribute).
type HoldsUnder = dyn Fn(&Headline) -> Option<(bool, String)>;

fn tests(reference: &Headline) -> Vec<Test> {
    fn pct(v: f64) -> String {
        format!("{:.1}%", 100.0 * v)
    }
    let rises = reference.delta >= 0.0;
    let outside = reference.outside_head_share > 0.5;
    let largest = |h: &Headline| {
        [
            (h.head_share, "the head"),
            (h.middle_share, "the middle tier"),
            (h.tail_share, "the tail"),
        ]
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, name)| name)
        .expect("three tiers")
    };
    let reference_largest = largest(reference);
    let mut all = vec![
        Test {
            statement: format!(
                "the indicator {} over the window",
                if rises { "rises" } else { "falls" }
            ),
            holds: Box::new(move |h| Some(((h.delta >= 0.0) == rises, format!("ΔF {:.4e}", h.delta)))),
        },
        Test {
            statement: if outside {
                format!(
                    "most of the attribution lies outside the head tier ({} in the middle tier and the tail)",
                    pct(reference.outside_head_share)
                )
            } else {
                format!(
                    "most of the attribution lies in the head tier ({})",
                    pct(reference.head_share)
                )
            },
            holds: Box::new(move |h| {
                Some((
                    (h.outside_head_share > 0.5) == outside,
                    format!("{} outside the head", pct(h.outside_head_share)),
                ))
            }),
        },
        Test {
            statement: format!("{reference_largest} holds the largest share of the attribution"),
            holds: Box::new(move |h| {
                let l = largest(h);
                Some((l == reference_largest, format!("{l} holds the largest")))
            }),
        },
        Test {
            statement: format!(
                "the top agents stay the same (at least {:.0}% of the reference's top {} among the alternative's)",
                100.0 * TOP_SET_HOLDS,
                TOP_K
            ),
            holds: Box::new(|h| Some((h.top_overlap >= TOP_SET_HOLDS, format!("{} kept", pct(h.top_overlap))))),
        },
        Test {
            statement: format!(
                "the agents' ranking agrees with the reference's (Spearman's rho at least {RANKING_AGREES})"
            ),
            holds: Box::new(|h| {
                Some(match h.spearman {
                    Some(r) => (r >= RANKING_AGREES, format!("rho {r:.3}")),
                    None => (false, "rho undefined".into()),
                })
            }),
        },
    ];
    if let Some(step) = reference.latency_step {
        all.push(Test {
            statement: format!("the outcome is produced by step {step} (the latency T*)"),
            holds: Box::new(move |h| {
                Some(match h.latency_step {
                    Some(s) => (s == step, format!("T* = {s}")),
                    None => (false, "no latency".into()),
                })
            }),
        });
    }
    // Each panel's verdict, where the alternative attributed that panel.
    for p in &reference.panels {
        let (kind, verdict) = (p.kind, p.verdict);
        all.push(Test {
            statement: format!("the {} panel reads \"{}\"", kind.name(), verdict_name(verdict)),
            holds: Box::new(move |h| {
                let other = h.panels.iter().find(|q| q.kind == kind)?;
                Some((
                    other.verdict == verdict,
                    format!(
                        "\"{}\" (c* {}, r {})",
                        verdict_name(other.verdict),
                        crate::number::readable(other.rescale),
                        crate::number::readable(other.residual)
                    ),
                ))
            }),
        });
    }
    all
}

/// A verdict in words: summary.json's name with spaces ("scaling bias").
fn verdict_name(verdict: crate::compare::Verdict) -> String {
    serde_json::to_value(verdict)
        .ok()
        .and_then(|v| v.as_str().map(|name| name.replace('-', " ")))
        .unwrap_or_default()
}

fn conclusions(alternatives: &[AlternativeResult]) -> Vec<Conclusion> {
    let Some(reference) = alternatives.first().and_then(|a| a.numbers.as_ref()) else {
        return Vec::new();
    };
    let attributed: Vec<(&AlternativeResult, &Headline)> = alternatives[1..]
        .iter()
        .filter_map(|a| a.numbers.as_ref().map(|n| (a, n)))
        .collect();
    tests(reference)
        .into_iter()
        .map(|test| {
            // Each alternative that changes the conclusion by name; the
            // half-samples, replicates of one choice, counted together.
            let mut changes_under: Vec<String> = Vec::new();
            let (mut replicates, mut replicates_changed) = (0, 0);
            let (mut tried, mut held) = (0, 0);
            for (a, h) in &attributed {
                let Some((holds, value)) = (test.holds)(h) else {
                    continue;
                };
                tried += 1;
                held += usize::from(holds);
                if a.group == HALF_SAMPLE_GROUP {
                    replicates += 1;
                    replicates_changed += usize::from(!holds);
                } else if !holds {
                    changes_under.push(format!("{}: {value}", a.name));
                }
            }
            if replicates_changed > 0 {
                changes_under.push(format!("{replicates_changed} of {replicates} stance half-samples"));
            }
            let holds = held;
            let verdict = if tried == 0 {
                "no alternative could test it".to_string()
            } else if changes_under.is_empty() {
                format!("holds under all {tried} alternatives")
            } else {
                format!(
                    "holds under {holds} of {tried} alternatives; changes under {}",
                    changes_under.join("; ")
                )
            };
            Conclusion {
                statement: test.statement,
                tried,
                holds,
                changes_under,
                verdict,
            }
        })
        .collect()
}

/// Each headline number's spread over the stance half-samples attributed
/// (none without them).
fn half_sample_spreads(alternatives: &[AlternativeResult]) -> Vec<NumberSpread> {
    let replicates: Vec<Numbers> = (alternatives.iter())
        .filter(|a| a.group == HALF_SAMPLE_GROUP)
        .filter_map(|a| a.numbers.as_ref().map(Headline::numbers))
        .collect();
    let Some(first) = replicates.first() else {
        return Vec::new();
    };
    (0..first.len())
        .filter_map(|k| {
            let values: Vec<f64> = replicates.iter().filter_map(|n| n[k].1).collect();
            crate::study::Spread::of(&values).map(|spread| NumberSpread {
                number: first[k].0,
                spread,
            })
        })
        .collect()
}

/// The sensitivity table of one indicator: one row per alternative and
/// number (alternative, group, number, value; value null where the number
/// is undefined or the alternative was not attributed).
pub fn table(result: &SensitivityResult) -> Result<arrow_array::RecordBatch, arrow_schema::ArrowError> {
    use aumann_data::format::{Column, record_batch};
    let (mut alternative, mut group, mut number, mut value) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // The reference's numbers name the rows of an alternative not
    // attributed (their values null).
    let names: Vec<&'static str> = (result.alternatives.first())
        .and_then(|a| a.numbers.as_ref())
        .map(|n| n.all_numbers().into_iter().map(|(name, _)| name).collect())
        .unwrap_or_default();
    for a in &result.alternatives {
        let rows: Vec<Number> = match &a.numbers {
            Some(n) => n.all_numbers(),
            None => names.iter().map(|&name| (name, None)).collect(),
        };
        let attributed = a.skipped.is_none();
        let diagnostics = [
            ("relative_gap", attributed.then_some(a.relative_gap)),
            (
                "gradient_evaluations",
                attributed.then_some(a.gradient_evaluations as f64),
            ),
            ("sweeps", attributed.then_some(a.sweeps as f64)),
        ];
        for (name, v) in rows.into_iter().chain(diagnostics) {
            alternative.push(a.name.clone());
            group.push(a.group);
            number.push(name);
            value.push(v);
        }
    }
    record_batch(
        vec![
            Column::Str("alternative", &alternative),
            Column::Strs("group", group),
            Column::Strs("number", number),
            Column::OptF64("value", value),
        ],
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(delta: f64, outside: f64, spearman: f64, overlap: f64) -> Headline {
        Headline {
            delta,
            head_share: 1.0 - outside,
            middle_share: outside * 0.4,
            tail_share: outside * 0.6,
            outside_head_share: outside,
            gini: 0.5,
            top_percent_share: 0.2,
            latency_step: Some(3),
            synchronization: Some(0.9),
            top_overlap: overlap,
            spearman: Some(spearman),
            panels: Vec::new(),
        }
    }

    fn alternative(name: &str, numbers: Option<Headline>) -> AlternativeResult {
        AlternativeResult {
            group: "baseline",
            name: name.into(),
            skipped: numbers.is_none().then(|| "not run".into()),
            note: None,
            value_input: 1.0,
            value_baseline: 0.0,
            gap: 0.0,
            relative_gap: 0.0,
            converged: true,
            flat: false,
            gradient_evaluations: 12,
            sweeps: 2,
            seconds: 0.0,
            numbers,
        }
    }

    #[test]
    fn a_conclusion_names_each_alternative_that_changes_it_with_its_value_and_skipped_ones_are_not_counted() {
        let all = vec![
            alternative("reference", Some(numbers(2.0, 0.7, 1.0, 1.0))),
            alternative("A", Some(numbers(1.0, 0.4, 0.95, 0.9))),
            alternative("B", Some(numbers(-0.5, 0.8, 0.5, 0.3))),
            alternative("C", None),
        ];
        let c = conclusions(&all);
        let find = |start: &str| c.iter().find(|c| c.statement.starts_with(start)).unwrap();
        let rises = find("the indicator rises");
        assert_eq!((rises.tried, rises.holds), (2, 1));
        assert_eq!(rises.changes_under, vec!["B: ΔF -5.0000e-1".to_string()]);
        let outside = find("most of the attribution lies outside the head tier (70.0%");
        assert_eq!(outside.changes_under, vec!["A: 40.0% outside the head".to_string()]);
        assert_eq!(
            outside.verdict,
            "holds under 1 of 2 alternatives; changes under A: 40.0% outside the head"
        );
        let ranking = find("the agents' ranking agrees");
        assert_eq!(ranking.changes_under, vec!["B: rho 0.500".to_string()]);
        let top = find("the top agents stay the same");
        assert_eq!(top.changes_under, vec!["B: 30.0% kept".to_string()]);
        let latency = find("the outcome is produced by step 3");
        assert_eq!(latency.verdict, "holds under all 2 alternatives");
        let ranges = ranges(&all);
        let outside = ranges.iter().find(|r| r.number == "outside_head_share").unwrap();
        assert_eq!((outside.min, outside.max), (0.4, 0.8));
        assert_eq!((outside.min_under.as_str(), outside.max_under.as_str()), ("A", "B"));
        assert_eq!(outside.reference, Some(0.7));
    }

    #[test]
    fn the_half_samples_are_counted_together_in_a_verdict_and_their_spread_is_their_quartiles() {
        let mut all = vec![alternative("reference", Some(numbers(2.0, 0.7, 1.0, 1.0)))];
        for (k, outside) in [0.6, 0.4, 0.8, 0.3].into_iter().enumerate() {
            let mut a = alternative(&format!("half {k}"), Some(numbers(2.0, outside, 1.0, 1.0)));
            a.group = HALF_SAMPLE_GROUP;
            all.push(a);
        }
        all.push(alternative("A", Some(numbers(2.0, 0.45, 1.0, 1.0))));
        let c = conclusions(&all);
        let outside = c
            .iter()
            .find(|c| c.statement.starts_with("most of the attribution lies outside"))
            .unwrap();
        assert_eq!((outside.tried, outside.holds), (5, 2));
        assert_eq!(
            outside.changes_under,
            vec![
                "A: 45.0% outside the head".to_string(),
                "2 of 4 stance half-samples".to_string()
            ]
        );
        let spreads = half_sample_spreads(&all);
        let outside = spreads.iter().find(|s| s.number == "outside_head_share").unwrap();
        // numpy.quantile([0.3, 0.4, 0.6, 0.8], [0.25, 0.5, 0.75]).
        assert_eq!((outside.spread.min, outside.spread.max), (0.3, 0.8));
        assert!((outside.spread.q25 - 0.375).abs() < 1e-12);
        assert!((outside.spread.median - 0.5).abs() < 1e-12);
        assert!((outside.spread.q75 - 0.65).abs() < 1e-12);
        assert_eq!(outside.spread.count, 4);
    }

    #[test]
    fn a_half_sample_keeps_half_the_accounts_and_each_replicate_draws_its_own() {
        let first = half_of_the_accounts(101, 0);
        assert_eq!(first.iter().filter(|&&k| k).count(), 50);
        assert_eq!(first, half_of_the_accounts(101, 0));
        assert_ne!(first, half_of_the_accounts(101, 1));
    }

    #[test]
    fn the_top_set_follows_the_direction_of_the_change_and_is_cut_to_the_references_size() {
        // ΔF < 0: the top agents are those with the most negative phi.
        let reference = [-3.0, -2.0, 1.0, 0.0];
        assert_eq!(top_set(&reference, -1.0), vec![0, 1]);
        assert_eq!(overlap(&reference, -1.0, &[-1.0, 0.5, 0.2, -4.0], -1.0), 0.5);
        assert_eq!(overlap(&reference, -1.0, &reference, -1.0), 1.0);
        // No agent pushed the way it went: nothing to lose.
        assert_eq!(overlap(&[0.0, 0.0], 1.0, &[1.0, 2.0], 1.0), 1.0);
    }
}
