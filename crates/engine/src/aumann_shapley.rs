//! The straight-line path integral: phi_i = (x_i - x'_i) * int_0^1 dF/dx_i(x' + tau (x - x')) dtau.

use crate::attribution::{Attribution, Level};
use crate::checkpoint::{Checkpoint, SweepState};
use crate::error::{Error, Result, check_output, check_point};
use crate::game::{NodeWeights, Path, ValueFunction};
use crate::quadrature::{PairedNodes, Rule};
use crate::split::{PhiSums, Split, Whole};
use std::ops::ControlFlow;
use std::time::Instant;

/// How many quadrature nodes to use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeCount {
    /// Exactly this many nodes (plus the companion rule's, where they are not
    /// shared), whatever the completeness gap.
    Fixed(usize),
    /// Start at `start` nodes and refine until the relative completeness gap
    /// is at most `tolerance`, or `max` nodes have been used: Gauss–Legendre
    /// doubles, the Riemann and trapezoid rules jump to the count their known
    /// order predicts.
    Adaptive { start: usize, max: usize, tolerance: f64 },
}

/// Aumann–Shapley (integrated-gradients) attribution along the straight path.
///
/// ```
/// use aumann_engine::{AumannShapley, games::Linear};
/// let game = Linear::new(vec![1.0, 2.0, 3.0]);
/// let result = AumannShapley::default().attribute(&game, &[1.0, 1.0, 1.0], &[0.0; 3]).unwrap();
/// assert!((result.phi[2] - 3.0).abs() < 1e-12);
/// assert!(result.relative_gap() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct AumannShapley {
    pub rule: Rule,
    pub nodes: NodeCount,
    /// Nodes handed to the model per sweep. Bounds memory (a model keeps
    /// per-node state for one batch only) whatever the total node count.
    pub batch: usize,
}

/// The defaults of [`AumannShapley::default`], for front ends that show
/// them: the relative completeness gap, the first and largest node counts
/// of the adaptive mode, and the nodes per sweep.
pub const DEFAULT_TOLERANCE: f64 = 1e-6;
pub const DEFAULT_START_NODES: usize = 24;
pub const DEFAULT_MAX_NODES: usize = 1024;
pub const DEFAULT_BATCH: usize = 8;
/// The most nodes a rule may use (fixed, or as the adaptive mode's limit).
pub const MAX_NODES: usize = 1 << 16;

impl Default for AumannShapley {
    /// Gauss–Legendre, adaptive from 24 nodes up to 1024, relative
    /// completeness gap 1e-6, 8 nodes per sweep (a replay keeps every step's
    /// state for each node of a sweep: 8 nodes of 1.7M agents over 14 steps
    /// are 1.6 GB). Twenty-four nodes reach 1e-6 on the built-in
    /// population's nonlinear indicators at every size measured (12 leave
    /// 1.4e-4 at full scale), and the companion on the same nodes makes
    /// their error estimate free: 24 gradient evaluations, where starting
    /// from 12 cost 36 (BENCHMARKS.md).
    fn default() -> Self {
        Self {
            rule: Rule::GaussLegendre,
            nodes: NodeCount::Adaptive {
                start: DEFAULT_START_NODES,
                max: DEFAULT_MAX_NODES,
                tolerance: DEFAULT_TOLERANCE,
            },
            batch: DEFAULT_BATCH,
        }
    }
}

impl AumannShapley {
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rule = rule;
        self
    }

    pub fn fixed(mut self, nodes: usize) -> Self {
        self.nodes = NodeCount::Fixed(nodes);
        self
    }

    pub fn adaptive(mut self, start: usize, max: usize, tolerance: f64) -> Self {
        self.nodes = NodeCount::Adaptive { start, max, tolerance };
        self
    }

    pub fn batch(mut self, batch: usize) -> Self {
        self.batch = batch;
        self
    }

    fn validate(&self) -> Result<()> {
        let min = self.rule.min_nodes();
        let most = match self.nodes {
            NodeCount::Fixed(n) => n,
            NodeCount::Adaptive { max, .. } => max,
        };
        if most > MAX_NODES {
            return Err(Error::InvalidSetting(format!(
                "at most {MAX_NODES} nodes, got {most}: past that the quadrature gains nothing f64 can show"
            )));
        }
        if self.batch == 0 {
            return Err(Error::InvalidSetting("the batch size must be at least 1".into()));
        }
        match self.nodes {
            NodeCount::Fixed(n) if n < min => Err(Error::InvalidSetting(format!(
                "{} needs at least {min} nodes, got {n}",
                self.rule
            ))),
            NodeCount::Adaptive { start, max, tolerance } => {
                if start < min || max < start {
                    Err(Error::InvalidSetting(format!(
                        "adaptive nodes need {min} <= start <= max, got start {start}, max {max}"
                    )))
                } else if !(tolerance.is_finite() && tolerance > 0.0) {
                    Err(Error::InvalidSetting(format!(
                        "the tolerance must be a positive number, got {tolerance}"
                    )))
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    /// Attributes F(input) - F(baseline) to the players.
    ///
    /// In adaptive mode, a tolerance not reached within the node limit is an
    /// [`Error::ToleranceNotReached`] that carries the best result.
    pub fn attribute<G: ValueFunction + ?Sized>(
        &self,
        game: &G,
        input: &[f64],
        baseline: &[f64],
    ) -> Result<Attribution> {
        self.attribute_observed(game, input, baseline, &|_| ControlFlow::Continue(()))
    }

    /// [`AumannShapley::attribute`], telling `observer` where it stands
    /// after every sweep (for a progress bar; the result does not depend on
    /// it). An observer that answers `Break` stops the attribution there
    /// (a user's interrupt, say): the result is [`Error::Interrupted`].
    pub fn attribute_observed<G: ValueFunction + ?Sized>(
        &self,
        game: &G,
        input: &[f64],
        baseline: &[f64],
        observer: &dyn Fn(&Progress) -> ControlFlow<()>,
    ) -> Result<Attribution> {
        self.attribute_resumable(game, input, baseline, observer, None)
    }

    /// [`AumannShapley::attribute_observed`], saving its progress to
    /// `checkpoint` after every sweep and starting from what it restores:
    /// the integrations a stopped run finished are not evaluated again, and
    /// the result is bit for bit that of a run never stopped. A state that
    /// does not fit this game (another player count) is ignored.
    pub fn attribute_resumable<G: ValueFunction + ?Sized>(
        &self,
        game: &G,
        input: &[f64],
        baseline: &[f64],
        observer: &dyn Fn(&Progress) -> ControlFlow<()>,
        checkpoint: Option<&mut dyn Checkpoint>,
    ) -> Result<Attribution> {
        self.attribute_split(game, input, baseline, observer, checkpoint, &Whole)
    }

    /// [`AumannShapley::attribute_resumable`] on one of several workers
    /// that hold the players between them (`split`): `game`, `input` and
    /// `baseline` are this worker's players (a game whose every evaluation
    /// is collective, as [`Split`]'s methods are), and so are the result's
    /// `phi` and `error`, while its gap, levels and node counts are the
    /// whole attribution's. Each worker makes the same sweeps and the same
    /// refinement decisions, from the same reduced gaps; put together in
    /// player order, the workers' phi are one process's bit for bit when
    /// the game's gradients are. A worker may hold no player. Checkpoints
    /// hold this worker's players.
    pub fn attribute_split<G: ValueFunction + ?Sized>(
        &self,
        game: &G,
        input: &[f64],
        baseline: &[f64],
        observer: &dyn Fn(&Progress) -> ControlFlow<()>,
        checkpoint: Option<&mut dyn Checkpoint>,
        split: &dyn Split,
    ) -> Result<Attribution> {
        let started = Instant::now();
        self.validate()?;
        let n = game.players();
        if !split.any(n > 0) {
            return Err(Error::NoPlayers);
        }
        check_point("input", input, n)?;
        check_point("baseline", baseline, n)?;
        let path = Path { baseline, input };
        let value_input = check_output("value at the input", game.value(input))?;
        let value_baseline = check_output("value at the baseline", game.value(baseline))?;
        let flat_candidate =
            (value_input - value_baseline).abs() <= FLAT_TOLERANCE * value_input.abs().max(value_baseline.abs());
        let tolerance = match self.nodes {
            NodeCount::Fixed(_) => None,
            NodeCount::Adaptive { tolerance, .. } => Some(tolerance),
        };
        let flat = |nodes: usize, companion_nodes: usize, gradient_evaluations: usize| Attribution {
            phi: vec![0.0; n],
            sums: PhiSums::default(),
            error: vec![0.0; n],
            value_input,
            value_baseline,
            rule: self.rule,
            nodes,
            companion_nodes,
            gradient_evaluations,
            tolerance,
            flat: true,
            levels: Vec::new(),
            elapsed: started.elapsed(),
        };
        // Every worker asks about its own players; the proof holds only if
        // it holds for all.
        if flat_candidate && !split.any(!game.constant_along(input, baseline)) {
            let _ = observer(&Progress {
                level: 1,
                level_nodes: 0,
                evaluations: 0,
                expected: 0,
            });
            return Ok(flat(0, 0, 0));
        }
        let mut sweeper = Sweeper::new(game, path, self.batch, observer);
        if let Some(checkpoint) = checkpoint {
            sweeper.restored = checkpoint.restore().filter(|s| s.fits(n));
            sweeper.checkpoint = Some(checkpoint);
        }

        let (first, max) = match self.nodes {
            NodeCount::Fixed(k) => (k, k),
            NodeCount::Adaptive { start, max, .. } => (start, max),
        };
        sweeper.level_nodes = first;
        let companion = self.rule.companion_nodes(first);
        let primary_nodes = self.rule.nodes(first);
        let companion_rule = self.rule.companion(&primary_nodes);
        let paired = PairedNodes::new(&primary_nodes, &companion_rule);
        // The first level's companion is needed only if that level already
        // meets the tolerance (later levels use the previous one), so in
        // adaptive mode it is evaluated lazily, unless its nodes are a
        // subset of the rule's and come free.
        // A candidate for flat evaluates both rules' nodes at once: the
        // flat verdict needs the indicator constant at every one of them.
        let lazy = !flat_candidate && tolerance.is_some() && paired.taus.len() > primary_nodes.taus.len();
        let first_level = if lazy {
            PairedNodes::single(&primary_nodes)
        } else {
            paired
        };
        // Differences are written over the companion's vector rather than
        // into a new one: at full scale each is tens of megabytes, and the
        // last level's are in the run's peak.
        sweeper.departure = flat_candidate.then_some(Departure {
            from: value_baseline,
            most: 0.0,
        });
        let (mut phi, mut companion_phi) = sweeper.integrate(&first_level)?;
        if flat_candidate && is_flat(&phi, &companion_phi, &sweeper, value_input, value_baseline, split) {
            return Ok(flat(first, companion, sweeper.evaluations));
        }
        sweeper.departure = None;
        let mut error: Vec<f64> = if lazy {
            vec![0.0; n]
        } else {
            subtract_from(&phi, &mut companion_phi);
            companion_phi
        };
        let mut estimated = !lazy;
        let mut result = Attribution {
            phi: Vec::new(),
            sums: PhiSums::default(),
            error: Vec::new(),
            value_input,
            value_baseline,
            rule: self.rule,
            nodes: first,
            companion_nodes: companion,
            gradient_evaluations: 0,
            tolerance,
            flat: false,
            levels: Vec::new(),
            elapsed: started.elapsed(),
        };
        let mut nodes = first;
        loop {
            // The previous level's vectors are dropped here, before the
            // next level is integrated.
            result.phi = std::mem::take(&mut phi);
            result.sums = split.sums(&result.phi);
            result.error = std::mem::take(&mut error);
            result.levels.push(Level {
                nodes,
                relative_gap: result.relative_gap(),
            });
            let Some(tol) = tolerance else { break };
            if result.within(tol) {
                if !estimated {
                    let (mut coarse, _) = sweeper.integrate(&PairedNodes::single(&companion_rule))?;
                    subtract_from(&result.phi, &mut coarse);
                    result.error = coarse;
                }
                break;
            }
            if nodes >= max {
                result.gradient_evaluations = sweeper.evaluations;
                result.elapsed = started.elapsed();
                return Err(Error::ToleranceNotReached {
                    tolerance: tol,
                    best: Box::new(result),
                });
            }
            // A rule with an embedded companion carries its own estimate
            // to every level; for the others the previous level is the new
            // level's companion. Either way refinement costs only the new
            // rule's nodes.
            let next = predict_nodes(self.rule, nodes, result.relative_gap(), tol).min(max);
            sweeper.level += 1;
            sweeper.level_nodes = next;
            if self.rule.embedded_companion() {
                let rule = self.rule.nodes(next);
                let paired = PairedNodes::new(&rule, &self.rule.companion(&rule));
                let (refined, mut companion_phi) = sweeper.integrate(&paired)?;
                subtract_from(&refined, &mut companion_phi);
                error = companion_phi;
                phi = refined;
                result.companion_nodes = self.rule.companion_nodes(next);
            } else {
                let (refined, _) = sweeper.integrate(&PairedNodes::single(&self.rule.nodes(next)))?;
                let mut previous = std::mem::take(&mut result.phi);
                subtract_from(&refined, &mut previous);
                error = previous;
                phi = refined;
                result.companion_nodes = nodes;
            }
            estimated = true;
            nodes = next;
            result.nodes = nodes;
        }
        result.gradient_evaluations = sweeper.evaluations;
        result.elapsed = started.elapsed();
        Ok(result)
    }
}

/// `coarse[i] = fine[i] - coarse[i]`: a level's error estimate, in the
/// companion's own vector.
fn subtract_from(fine: &[f64], coarse: &mut [f64]) {
    for (c, f) in coarse.iter_mut().zip(fine) {
        *c = f - *c;
    }
}

/// |F(x) - F(x')| at most this times max(|F(x)|, |F(x')|) makes an
/// indicator a candidate for being flat (both values 0 included). The
/// verdict itself takes no tolerance relative to F: see [`is_flat`].
pub const FLAT_TOLERANCE: f64 = 1e-12;

/// Whether a candidate game is flat along the whole path as far as the
/// first level's nodes can tell: at every node of the rule and of its
/// companion, every player's gradient along the path is exactly 0 (so both
/// rules' phi are exactly 0 for every player, on every worker), and the
/// value departs from F(x') by no more than rounding (64 ulp of |F(x)| +
/// |F(x')|, the same clause as [`crate::Attribution::within`]), which rules
/// out gradients that cancel between nodes. The midpoint alone is not
/// enough: a path along which dF/dτ changes sign at τ = 1/2 has a zero
/// gradient there and nonzero phi.
fn is_flat<G: ?Sized>(
    phi: &[f64],
    companion: &[f64],
    sweeper: &Sweeper<'_, G>,
    value_input: f64,
    value_baseline: f64,
    split: &dyn Split,
) -> bool {
    let rounding = 64.0 * f64::EPSILON * (value_input.abs() + value_baseline.abs());
    let moves = phi.iter().chain(companion).any(|&p| p != 0.0)
        || sweeper.departure.is_none_or(|d| d.most.is_nan() || d.most > rounding);
    !split.any(moves)
}

/// The next node count of the adaptive mode. Gauss–Legendre doubles: its
/// convergence is geometric but at a rate set by the integrand's nearest
/// complex singularity, which replays of many steps make irregular enough
/// that a fitted rate misleads; smaller steps (by half, by a third) were
/// measured against doubling on replays and win only case by case, with a
/// worse worst case (BENCHMARKS.md, "How Gauss–Legendre refines"). The
/// Riemann and trapezoid rules have a known
/// order p (1 for left and right, 2 for midpoint and trapezoid), so the gap
/// scales as n^-p and the count that brings it to half the tolerance can be
/// computed, within [n + 1, 16 n].
fn predict_nodes(rule: Rule, n: usize, gap: f64, tolerance: f64) -> usize {
    let order = match rule {
        Rule::GaussLegendre => return 2 * n,
        Rule::RiemannLeft | Rule::RiemannRight => 1.0,
        Rule::RiemannMidpoint | Rule::Trapezoid => 2.0,
    };
    let predicted = n as f64 * (gap / (0.5 * tolerance)).powf(1.0 / order);
    if predicted.is_finite() {
        (predicted.ceil() as usize).clamp(n + 1, 16 * n)
    } else {
        2 * n
    }
}

/// Where an attribution stands, told to an observer after every sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The refinement level, from 1 (the adaptive mode adds levels).
    pub level: usize,
    /// Nodes of the rule at this level.
    pub level_nodes: usize,
    /// Gradient evaluations done, over all levels.
    pub evaluations: usize,
    /// Evaluations done once the sweeps now planned are: the expected
    /// total, which grows when the adaptive mode refines.
    pub expected: usize,
}

/// Runs batched sweeps of one game along one path and turns accumulated
/// gradients into phi.
struct Sweeper<'a, G: ?Sized> {
    game: &'a G,
    path: Path<'a>,
    batch: usize,
    observer: &'a dyn Fn(&Progress) -> ControlFlow<()>,
    level: usize,
    level_nodes: usize,
    evaluations: usize,
    accumulator: Vec<f64>,
    values: Vec<f64>,
    weights: Vec<f64>,
    checkpoint: Option<&'a mut dyn Checkpoint>,
    /// What a stopped run saved, until the integrations catch up with it.
    restored: Option<SweepState>,
    /// The integrations finished (kept only with a checkpoint).
    finished: Vec<(Vec<f64>, Vec<f64>)>,
    /// While a flat candidate is checked: how far the values swept depart
    /// from F(x').
    departure: Option<Departure>,
}

#[derive(Clone, Copy)]
struct Departure {
    from: f64,
    /// The largest |F - from| so far; NaN once a node's value is unknown
    /// (restored from a checkpoint) or not finite.
    most: f64,
}

impl<'a, G: ValueFunction + ?Sized> Sweeper<'a, G> {
    fn new(game: &'a G, path: Path<'a>, batch: usize, observer: &'a dyn Fn(&Progress) -> ControlFlow<()>) -> Self {
        Self {
            game,
            path,
            batch,
            observer,
            level: 1,
            level_nodes: 0,
            evaluations: 0,
            accumulator: vec![0.0; 2 * path.players()],
            values: Vec::with_capacity(batch),
            weights: Vec::with_capacity(2 * batch),
            checkpoint: None,
            restored: None,
            finished: Vec::new(),
            departure: None,
        }
    }

    /// Returns (phi of the primary row, phi of the companion row).
    fn integrate(&mut self, nodes: &PairedNodes) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = self.path.players();
        let k = nodes.taus.len();
        let expected = self.evaluations + k;
        let call = self.finished.len();
        if let Some(restored) = &self.restored
            && call < restored.finished.len()
        {
            // Finished before the stop: not evaluated again.
            let done = restored.finished[call].clone();
            if let Some(d) = &mut self.departure {
                d.most = f64::NAN;
            }
            self.finished.push(done.clone());
            self.evaluations += k;
            return Ok(done);
        }
        self.accumulator.fill(0.0);
        let mut skip = 0;
        if let Some(restored) = self.restored.take()
            && restored.batches > 0
        {
            // Under way at the stop: its batches so far are in the
            // accumulator.
            self.accumulator.copy_from_slice(&restored.accumulator);
            skip = restored.batches;
        }
        for (batch, start) in (0..k).step_by(self.batch).enumerate() {
            let end = (start + self.batch).min(k);
            if batch < skip {
                self.evaluations += end - start;
                if let Some(d) = &mut self.departure {
                    d.most = f64::NAN;
                }
                continue;
            }
            let taus = &nodes.taus[start..end];
            self.weights.clear();
            self.weights.extend_from_slice(&nodes.weights[start..end]);
            self.weights.extend_from_slice(&nodes.weights[k + start..k + end]);
            self.values.clear();
            self.values.resize(end - start, 0.0);
            self.game.accumulate_path_gradients(
                self.path,
                taus,
                NodeWeights::new(2, end - start, &self.weights),
                &mut self.values,
                &mut self.accumulator,
            );
            self.evaluations += end - start;
            let flow = (self.observer)(&Progress {
                level: self.level,
                level_nodes: self.level_nodes,
                evaluations: self.evaluations,
                expected,
            });
            if flow.is_break() {
                return Err(Error::Interrupted {
                    evaluations: self.evaluations,
                });
            }
            for &v in &self.values {
                check_output("value on the path", v)?;
                if let Some(d) = &mut self.departure
                    && !d.most.is_nan()
                {
                    d.most = d.most.max((v - d.from).abs());
                }
            }
            if let Some(checkpoint) = self.checkpoint.as_deref_mut() {
                let state = SweepState {
                    finished: std::mem::take(&mut self.finished),
                    batches: batch + 1,
                    accumulator: std::mem::take(&mut self.accumulator),
                    evaluations: self.evaluations,
                };
                let saved = checkpoint.save(&state);
                (self.finished, self.accumulator) = (state.finished, state.accumulator);
                saved.map_err(Error::Checkpoint)?;
            }
        }
        let (primary, companion) = self.accumulator.split_at(n);
        let scale = |acc: &[f64]| -> Result<Vec<f64>> {
            acc.iter()
                .zip(self.path.input.iter().zip(self.path.baseline))
                .map(|(&g, (&x, &b))| check_output("path-integrated gradient", g).map(|g| (x - b) * g))
                .collect()
        };
        let done = (scale(primary)?, scale(companion)?);
        if self.checkpoint.is_some() {
            self.finished.push(done.clone());
        }
        Ok(done)
    }
}

/// The one obvious call: Gauss–Legendre, adaptive to a relative completeness
/// gap of 1e-6.
pub fn attribute<G: ValueFunction + ?Sized>(game: &G, input: &[f64], baseline: &[f64]) -> Result<Attribution> {
    AumannShapley::default().attribute(game, input, baseline)
}
