//! Polarization's inertia κ from stances observed step by step
//! (docs/fit.md, "Polarization").
//!
//! The replay moves agent j's stance by
//! b_j(t+1) = b_j (κ + R_j) / (κ + b_j R_j + (1 − b_j) L_j), R_j the
//! content j read at t weighted by its authors' stances and L_j the rest.
//! In log-odds the step is a sum: logit b(t+1) = logit b + ln(κ + R) −
//! ln(κ + L). Observed, the stances of a step are the states: an agent
//! observed at t and at t + 1 is a transition, whose observed next stance
//! is the dynamics' step from the stances observed at t with a Gaussian
//! shock of one standard deviation σ to its log-odds. In the influence
//! w = 1/κ (0: no dynamics) that is a nonlinear regression of one
//! parameter; σ is profiled out, and the profile likelihood gives the
//! estimate and its 95% interval.

use crate::cascade::{ContentRead, Estimate};
use crate::maximize::{End, argmax_1d, interval_end};
use crate::{CHI2_1_95, FIT_SCHEMA, FitError};
use aumann_models::Replay;
use aumann_models::indicators::PolarizationParams;
use rayon::prelude::*;
use serde::Serialize;

/// An agent's stance observed at one step (by population id), in (0, 1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ObservedStance {
    pub agent: u32,
    pub step: u32,
    pub stance: f64,
}

/// An agent observed at step t and at step t + 1, with what it read at t.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    /// The step t at which the content was read.
    pub step: u32,
    /// b: the stance observed at t.
    pub stance: f64,
    /// A: the content read at t, every gate open.
    pub read: f64,
    /// R: the same weighted by each author's stance at t (observed there,
    /// else its latest observed before, else the population's stance).
    pub agreeing: f64,
    /// The stance observed at t + 1.
    pub next: f64,
}

impl Transition {
    /// The replay's next stance at influence w = 1/κ:
    /// b (1 + w R) / (1 + w (b R + (1 − b) L)), L = A − R; b itself at w = 0.
    pub fn predicted(&self, influence: f64) -> f64 {
        let (b, r, l) = (self.stance, self.agreeing, self.read - self.agreeing);
        b * (1.0 + influence * r) / (1.0 + influence * (b * r + (1.0 - b) * l))
    }
}

/// ln(p / (1 − p)).
fn logit(p: f64) -> f64 {
    p.ln() - (-p).ln_1p()
}

/// A transition as the likelihood's sums read it, the observed change of
/// log-odds formed once rather than at every evaluation.
#[derive(Clone, Copy)]
struct Term {
    /// logit(next) − logit(stance).
    change: f64,
    agreeing: f64,
    other: f64,
}

impl Term {
    fn of(x: &Transition) -> Self {
        Self {
            change: logit(x.next) - logit(x.stance),
            agreeing: x.agreeing,
            other: x.read - x.agreeing,
        }
    }

    /// The residual in log-odds, logit(next) − logit(predicted), with its
    /// first and second derivatives in w. The prediction's odds are b's
    /// times (1 + w R) / (1 + w L), so logit(predicted) = logit(b) +
    /// ln(1 + w R) − ln(1 + w L): exact without forming the prediction.
    fn residual(&self, influence: f64) -> (f64, f64, f64) {
        let (r, l) = (self.agreeing, self.other);
        let (grow, shrink) = (1.0 + influence * r, 1.0 + influence * l);
        let step = grow.ln() - shrink.ln();
        let d1 = r / grow - l / shrink;
        let d2 = (l / shrink).powi(2) - (r / grow).powi(2);
        (self.change - step, -d1, -d2)
    }
}

fn terms(transitions: &[Transition]) -> Vec<Term> {
    transitions.par_iter().map(Term::of).collect()
}

/// What the observation model reads of a replay and the stances observed.
#[derive(Clone, Debug, PartialEq)]
pub struct StanceObservations {
    pub transitions: Vec<Transition>,
    /// Per step, the observed stances (by replay agent), for the
    /// trajectories.
    pub by_step: Vec<Vec<(usize, f64)>>,
    /// Each agent's stance at step 0: observed there, else the
    /// population's (by replay agent). The replay starts here.
    pub initial: Vec<f64>,
    pub summary: StanceSummary,
}

/// The counts behind the transitions, for fit.json.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StanceSummary {
    pub agents: usize,
    pub steps: usize,
    /// Stances observed, over every step.
    pub observed: usize,
    /// Agents observed at least once.
    pub observed_agents: usize,
    /// Agents observed at step 0, whose observed stance the replay starts
    /// from (the others start from the population's stance).
    pub observed_at_start: usize,
    /// Agents observed at two consecutive steps: the likelihood's terms.
    pub transitions: usize,
    /// Of those, transitions after a step at which the agent read nothing:
    /// the dynamics leave the stance where it was whatever κ, so they
    /// inform σ and not κ.
    pub read_nothing: usize,
    /// Rows of the observations naming accounts the population does not
    /// hold, counted where they were read and left out.
    pub unknown_accounts: usize,
}

/// The observation model's transitions, read off `replay` and the stances
/// `observed` (by population id). An agent observed twice at one step, a
/// step past the window or a stance outside (0, 1) is refused.
pub fn observe_stances(replay: &Replay, observed: &[ObservedStance]) -> Result<StanceObservations, FitError> {
    let (agents, steps) = (replay.agents(), replay.steps());
    if steps < 2 {
        return Err(FitError::TooFewSteps { steps });
    }
    let mut by_step: Vec<Vec<(usize, f64)>> = vec![Vec::new(); steps];
    for o in observed {
        if o.agent as usize >= agents {
            return Err(FitError::Stance(format!(
                "agent {} is not in the population of {agents}",
                o.agent
            )));
        }
        if o.step as usize >= steps {
            return Err(FitError::Stance(format!(
                "a stance at step {} of a window of {steps} steps (0 to {})",
                o.step,
                steps - 1
            )));
        }
        if !(o.stance > 0.0 && o.stance < 1.0) {
            return Err(FitError::Stance(format!(
                "agent {} has stance {} at step {}: stances lie strictly between 0 and 1",
                o.agent, o.stance, o.step
            )));
        }
        by_step[o.step as usize].push((replay.replay_agent(o.agent).index(), o.stance));
    }
    let mut seen = vec![false; agents];
    for (t, at) in by_step.iter_mut().enumerate() {
        at.sort_unstable_by_key(|&(j, _)| j);
        if let Some(w) = at.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(FitError::Stance(format!(
                "an agent has two stances at step {t} ({} and {}): keep one",
                w[0].1, w[1].1
            )));
        }
        for &(j, _) in at.iter() {
            seen[j] = true;
        }
    }
    let mut current = population_stances(replay);
    for &(j, s) in &by_step[0] {
        current[j] = s;
    }
    let initial = current.clone();
    let content = ContentRead::new(replay);
    let mut transitions = Vec::new();
    for t in 0..steps - 1 {
        for &(j, s) in &by_step[t] {
            current[j] = s;
        }
        let next = &by_step[t + 1];
        if by_step[t].is_empty() || next.is_empty() {
            continue;
        }
        let (read, agreeing) = content.weighted(t, &current);
        // Both lists are sorted by agent: a merge finds those at both.
        let (mut k, now) = (0, &by_step[t]);
        for &(j, after) in next {
            while k < now.len() && now[k].0 < j {
                k += 1;
            }
            if k < now.len() && now[k].0 == j {
                transitions.push(Transition {
                    step: t as u32,
                    stance: now[k].1,
                    read: read[j],
                    agreeing: agreeing[j],
                    next: after,
                });
            }
        }
    }
    let summary = StanceSummary {
        agents,
        steps,
        observed: by_step.iter().map(Vec::len).sum(),
        observed_agents: seen.iter().filter(|&&s| s).count(),
        observed_at_start: by_step[0].len(),
        transitions: transitions.len(),
        read_nothing: transitions.iter().filter(|r| r.read <= 0.0).count(),
        unknown_accounts: 0,
    };
    Ok(StanceObservations {
        transitions,
        by_step,
        initial,
        summary,
    })
}

/// The population's stance of every agent, by replay agent.
pub(crate) fn population_stances(replay: &Replay) -> Vec<f64> {
    let mut stances = vec![0.0; replay.agents()];
    for o in 0..replay.agents() as u32 {
        let j = replay.replay_agent(o);
        stances[j.index()] = replay.stance(j);
    }
    stances
}

/// Rows per chunk of the sums, added in order: the sums do not depend on
/// the thread count.
const CHUNK: usize = 1 << 15;

/// The residual sum of squares in log-odds at influence w, with its first
/// and second derivatives in w.
pub fn residual_sum_of_squares(transitions: &[Transition], influence: f64) -> (f64, f64, f64) {
    sums(&terms(transitions), influence)
}

fn sums(terms: &[Term], influence: f64) -> (f64, f64, f64) {
    let partials: Vec<[f64; 3]> = terms
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut s = [0.0; 3];
            for x in chunk {
                let (e, d1, d2) = x.residual(influence);
                s[0] += e * e;
                s[1] += 2.0 * e * d1;
                s[2] += 2.0 * (d1 * d1 + e * d2);
            }
            s
        })
        .collect();
    let mut s = [0.0; 3];
    for p in partials {
        for (total, part) in s.iter_mut().zip(p) {
            *total += part;
        }
    }
    (s[0], s[1], s[2])
}

/// The root mean squared difference of the next stances and their
/// predictions at influence w, in stance (not log-odds).
fn stance_rmse(transitions: &[Transition], influence: f64) -> f64 {
    let n = transitions.len() as f64;
    (transitions
        .iter()
        .map(|x| (x.next - x.predicted(influence)).powi(2))
        .sum::<f64>()
        / n)
        .sqrt()
}

/// The log-likelihood with σ² at its best (RSS / n) for each w:
/// −(n/2)(ln(2π RSS/n) + 1), with its derivatives in w.
fn profile(terms: &[Term], influence: f64) -> (f64, f64, f64) {
    let n = terms.len() as f64;
    let (rss, d1, d2) = sums(terms, influence);
    // A perfect fit has RSS 0 and an infinite likelihood: the smallest
    // positive RSS keeps the profile finite and its maximum where it is.
    let rss = rss.max(f64::MIN_POSITIVE);
    let value = -0.5 * n * ((std::f64::consts::TAU * rss / n).ln() + 1.0);
    let slope = d1 / rss;
    (value, -0.5 * n * slope, -0.5 * n * (d2 / rss - slope * slope))
}

/// One model's predictions of held-out transitions, scored.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StanceScores {
    pub observations: usize,
    /// The root mean squared error of the predicted next stances.
    pub rmse: f64,
    /// The mean log-likelihood of the observed next stances (their
    /// log-odds Gaussian, σ as the model fitted it on the earlier steps);
    /// higher is better.
    pub log_likelihood_per_observation: f64,
}

fn stance_scores(test: &[Transition], influence: f64, variance: f64) -> StanceScores {
    let n = test.len() as f64;
    let rss = residual_sum_of_squares(test, influence).0;
    let variance = variance.max(f64::MIN_POSITIVE);
    // The density of the stance itself: the log-odds' density times the
    // Jacobian 1 / (y (1 − y)), the same for every model.
    let jacobian = test.iter().map(|x| (x.next * (1.0 - x.next)).ln()).sum::<f64>() / n;
    StanceScores {
        observations: test.len(),
        rmse: stance_rmse(test, influence),
        log_likelihood_per_observation: -0.5 * (std::f64::consts::TAU * variance).ln()
            - rss / (2.0 * variance * n)
            - jacobian,
    }
}

/// The fitted replay, the defaults and no dynamics, on the held-out steps.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StanceHeldOut {
    pub fit_steps: usize,
    pub held_out_steps: usize,
    /// κ as fitted on the earlier steps (the default where they do not
    /// identify it).
    pub kappa: f64,
    pub fitted: StanceScores,
    pub defaults: StanceScores,
    /// Every stance stays where it was (κ without bound).
    pub no_dynamics: StanceScores,
}

/// Observed and predicted next stances at one step.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepStances {
    /// The step the next stances were observed at.
    pub step: usize,
    pub transitions: usize,
    /// Mean observed next stance.
    pub observed_mean: f64,
    /// Root mean squared error of the one-step predictions: with the κ
    /// fitted on every step, the default, and no dynamics.
    pub fitted_rmse: f64,
    pub defaults_rmse: f64,
    pub no_dynamics_rmse: f64,
}

/// The polarization of the agents observed at one step, observed and as
/// the replay runs freely from step 0 (no observation after step 0 enters
/// it).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepPolarization {
    pub step: usize,
    pub agents: usize,
    /// (4/n) Σ (s − mean s)² over the stances observed at the step.
    pub observed: f64,
    /// The same over the replay's stances of those agents, at the κ to
    /// use, the default, and without dynamics.
    pub fitted: f64,
    pub defaults: f64,
    pub no_dynamics: f64,
}

/// fit.json for polarization.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PolarizationFit {
    pub schema: u32,
    pub indicator: &'static str,
    pub observation_model: &'static str,
    pub data: StanceSummary,
    pub parameters: Vec<Estimate>,
    /// σ: the standard deviation of a transition's shock to the log-odds of
    /// the stance, at the estimate.
    pub noise_sd: f64,
    pub log_likelihood: f64,
    pub transitions_per_step: Vec<StepStances>,
    pub trajectory: Vec<StepPolarization>,
    /// Its error: the root mean squared difference of the replayed
    /// (fitted) and observed polarization over the steps, over the mean
    /// observed polarization.
    pub trajectory_nrmse: Option<f64>,
    pub held_out: Option<StanceHeldOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_skipped: Option<String>,
    /// Where the split held out fewer than three steps: each step's
    /// transitions predicted by a fit on every other step, pooled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_validated: Option<StanceCrossValidated>,
}

/// Leave-one-step-out scores for polarization (as the cascade's
/// `CrossValidated`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StanceCrossValidated {
    pub folds: usize,
    pub folds_skipped: usize,
    pub fitted: StanceScores,
    pub defaults: StanceScores,
    pub no_dynamics: StanceScores,
}

/// Scores pooled over folds: observations, squared errors in stance, and
/// log-likelihoods summed.
#[derive(Default)]
struct Pooled {
    observations: usize,
    squared_error: f64,
    log_likelihood: f64,
}

impl Pooled {
    fn add(&mut self, s: &StanceScores) {
        let n = s.observations as f64;
        self.observations += s.observations;
        self.squared_error += s.rmse * s.rmse * n;
        self.log_likelihood += s.log_likelihood_per_observation * n;
    }

    fn scores(&self) -> StanceScores {
        let n = self.observations as f64;
        StanceScores {
            observations: self.observations,
            rmse: (self.squared_error / n).sqrt(),
            log_likelihood_per_observation: self.log_likelihood / n,
        }
    }
}

fn cross_validate(rows: &[Transition], held_out_steps: usize) -> Option<StanceCrossValidated> {
    let folds = crate::folds(rows.iter().map(|r| r.step), held_out_steps);
    if folds.is_empty() {
        return None;
    }
    let default = 1.0 / PolarizationParams::default().kappa;
    let mut pooled: [Pooled; 3] = Default::default();
    let mut skipped = 0;
    for &step in &folds {
        let (test, train): (Vec<Transition>, Vec<Transition>) = rows.iter().partition(|r| r.step == step);
        let Ok(fit) = fit_transitions(&train) else {
            skipped += 1;
            continue;
        };
        let n = train.len() as f64;
        let variance = |w: f64| residual_sum_of_squares(&train, w).0 / n;
        let used = 1.0 / fit.kappa.used;
        for (p, w) in pooled.iter_mut().zip([used, default, 0.0]) {
            p.add(&stance_scores(&test, w, variance(w)));
        }
    }
    if skipped == folds.len() {
        return None;
    }
    let [fitted, defaults, no_dynamics] = pooled.map(|p| p.scores());
    Some(StanceCrossValidated {
        folds: folds.len(),
        folds_skipped: skipped,
        fitted,
        defaults,
        no_dynamics,
    })
}

pub const POLARIZATION_OBSERVATION_MODEL: &str = "the stances observed at a step are the states: an agent observed at t and t + 1 \
     moves from b to b (kappa + R) / (kappa + b R + (1 - b) L), and its log-odds then take a Gaussian shock of one sd \
     for every transition; R and L the content it read at t from authors agreeing and not, by their observed stances";

/// κ estimated from `observations` with its interval, the trajectories,
/// and unless `held_out_share` is 0, a fit on the earlier steps scored on
/// the later ones.
pub fn fit_polarization(
    replay: &Replay,
    observations: &StanceObservations,
    held_out_share: f64,
) -> Result<PolarizationFit, FitError> {
    if !(0.0..1.0).contains(&held_out_share) {
        return Err(FitError::HeldOutShare(held_out_share));
    }
    let rows = &observations.transitions;
    let all = fit_transitions(rows)?;
    let default_kappa = PolarizationParams::default().kappa;
    let steps = observations.summary.steps;
    let (held_out, held_out_skipped) = match crate::split(steps, held_out_share) {
        Err(why) => (None, Some(why)),
        Ok((fit_steps, held)) => {
            let (train, test): (Vec<Transition>, Vec<Transition>) =
                rows.iter().partition(|r| (r.step as usize) < fit_steps);
            if test.is_empty() {
                (
                    None,
                    Some(format!(
                        "no agent was observed at two consecutive steps after step {fit_steps}"
                    )),
                )
            } else {
                match fit_transitions(&train) {
                    Err(e) => (
                        None,
                        Some(format!("the first {fit_steps} steps alone cannot be fitted: {e}")),
                    ),
                    Ok(early) => {
                        let n = train.len() as f64;
                        let variance = |w: f64| residual_sum_of_squares(&train, w).0 / n;
                        let used = 1.0 / early.kappa.used;
                        (
                            Some(StanceHeldOut {
                                fit_steps,
                                held_out_steps: held,
                                kappa: early.kappa.used,
                                fitted: stance_scores(&test, used, variance(used)),
                                defaults: stance_scores(&test, 1.0 / default_kappa, variance(1.0 / default_kappa)),
                                no_dynamics: stance_scores(&test, 0.0, variance(0.0)),
                            }),
                            None,
                        )
                    }
                }
            }
        }
    };
    let used = 1.0 / all.kappa.used;
    let transitions_per_step = (1..steps)
        .filter_map(|step| {
            let at: Vec<Transition> = rows.iter().filter(|r| r.step as usize + 1 == step).copied().collect();
            let n = at.len() as f64;
            let rmse = |w: f64| stance_rmse(&at, w);
            (!at.is_empty()).then(|| StepStances {
                step,
                transitions: at.len(),
                observed_mean: at.iter().map(|r| r.next).sum::<f64>() / n,
                fitted_rmse: rmse(used),
                defaults_rmse: rmse(1.0 / default_kappa),
                no_dynamics_rmse: rmse(0.0),
            })
        })
        .collect();
    let cross_validated = cross_validate(rows, held_out.as_ref().map_or(0, |h| h.held_out_steps));
    let trajectory = trajectory(replay, observations, [used, 1.0 / default_kappa]);
    let with_agents: Vec<&StepPolarization> = trajectory.iter().filter(|s| s.agents > 1).collect();
    let trajectory_nrmse = (!with_agents.is_empty()).then(|| {
        let n = with_agents.len() as f64;
        let mse = with_agents.iter().map(|s| (s.fitted - s.observed).powi(2)).sum::<f64>() / n;
        let mean = with_agents.iter().map(|s| s.observed).sum::<f64>() / n;
        mse.sqrt() / mean
    });
    Ok(PolarizationFit {
        schema: FIT_SCHEMA,
        indicator: "polarization",
        observation_model: POLARIZATION_OBSERVATION_MODEL,
        data: observations.summary.clone(),
        parameters: vec![all.kappa],
        noise_sd: all.noise_sd,
        log_likelihood: all.log_likelihood,
        transitions_per_step,
        trajectory,
        trajectory_nrmse,
        held_out,
        held_out_skipped,
        cross_validated,
    })
}

/// (4/n) Σ (s − mean)².
fn spread(stances: impl Iterator<Item = f64> + Clone) -> f64 {
    let (n, sum) = stances.clone().fold((0usize, 0.0), |(n, s), x| (n + 1, s + x));
    let mean = sum / n as f64;
    4.0 * stances.map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64
}

/// The observed polarization per step against the replay run freely from
/// the initial stances at each influence in `influences` and without
/// dynamics.
fn trajectory(replay: &Replay, observations: &StanceObservations, influences: [f64; 2]) -> Vec<StepPolarization> {
    let content = ContentRead::new(replay);
    let mut runs = [observations.initial.clone(), observations.initial.clone()];
    let mut table = Vec::new();
    for (t, at) in observations.by_step.iter().enumerate() {
        if t > 0 {
            for (run, &w) in runs.iter_mut().zip(&influences) {
                let (read, agreeing) = content.weighted(t - 1, run);
                for (j, b) in run.iter_mut().enumerate() {
                    *b = Transition {
                        step: 0,
                        stance: *b,
                        read: read[j],
                        agreeing: agreeing[j],
                        next: 0.0,
                    }
                    .predicted(w);
                }
            }
        }
        if at.is_empty() {
            continue;
        }
        let of = |states: &[f64]| spread(at.iter().map(|&(j, _)| states[j]));
        table.push(StepPolarization {
            step: t,
            agents: at.len(),
            observed: spread(at.iter().map(|&(_, s)| s)),
            fitted: of(&runs[0]),
            defaults: of(&runs[1]),
            no_dynamics: of(&observations.initial),
        });
    }
    table
}

struct Fitted {
    kappa: Estimate,
    noise_sd: f64,
    log_likelihood: f64,
}

/// The influences the profile is first evaluated at, before Newton steps
/// from the best: 0 and 10^-8 to 10^4 in quarter decades. The profile need
/// not be concave in w; the grid keeps the search from a local maximum far
/// from the best.
fn grid() -> impl Iterator<Item = f64> {
    std::iter::once(0.0).chain((-32..=16).map(|k| 10f64.powf(k as f64 / 4.0)))
}

fn fit_transitions(rows: &[Transition]) -> Result<Fitted, FitError> {
    if rows.len() < 2 {
        return Err(FitError::TooFewTransitions {
            transitions: rows.len(),
        });
    }
    let default_kappa = PolarizationParams::default().kappa;
    let terms = terms(rows);
    let f = |w: f64| profile(&terms, w);
    let points: Vec<f64> = grid().collect();
    let values: Vec<f64> = points.iter().map(|&w| f(w).0).collect();
    let best = (0..points.len())
        .max_by(|&a, &b| values[a].total_cmp(&values[b]).then(b.cmp(&a)))
        .expect("a grid");
    let lo = if best == 0 { 0.0 } else { points[best - 1] };
    let hi = points.get(best + 1).copied().unwrap_or(f64::INFINITY);
    let (w_hat, top) = argmax_1d(&f, lo, hi, points[best]);
    let (w_hat, top) = if top >= values[best] {
        (w_hat, top)
    } else {
        (points[best], values[best])
    };
    let target = top - CHI2_1_95 / 2.0;
    let value = |w: f64| f(w).0;
    let w_ends = [
        interval_end(&value, w_hat, Some(0.0), target),
        interval_end(&value, w_hat, None, target),
    ];
    // κ = 1/w: w's upper end is κ's lower, and w reaching 0 leaves κ
    // without an upper end.
    let kappa_interval = [
        match w_ends[1] {
            End::At(w) => Some(1.0 / w),
            End::Bound => None,
        },
        match w_ends[0] {
            End::At(w) if w > 0.0 => Some(1.0 / w),
            _ => None,
        },
    ];
    let identified = kappa_interval[1].is_some();
    let estimate = 1.0 / w_hat;
    let rss = sums(&terms, w_hat).0;
    Ok(Fitted {
        kappa: Estimate {
            name: "kappa",
            estimate,
            interval: kappa_interval,
            identified,
            default: default_kappa,
            used: if identified { estimate } else { default_kappa },
            note: (!identified).then(|| {
                "the observed stances do not rule out a replay without social influence (kappa without bound) at 95%: \
                 the default is used, and the held-out scores compare the two"
                    .to_string()
            }),
        },
        noise_sd: (rss / rows.len() as f64).sqrt(),
        log_likelihood: top,
    })
}
