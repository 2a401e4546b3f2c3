//! The cascade's parameters β and c from who responded when
//! (docs/fit.md, "The cascade").
//!
//! The replay's cascade gives agent j, at step t, the hazard
//! h_j(t) = β (c A_j(t) + (1 − c) B_j(t)), with A_j(t) the content j read
//! at t and B_j(t) the part whose authors were reached. Observed, an agent
//! is reached when it first responds to others' content (engages with it
//! or reshares it); so at every step before its first response an agent
//! is at risk, and responds at the next step with probability
//! 1 − exp(−h_j(t)), where B_j(t) counts the authors that had responded by
//! t. In a = βc and b = β(1 − c) the hazard is linear, and the
//! log-likelihood is concave: one maximum, found by Newton steps, and
//! profile-likelihood intervals that are intervals.

use crate::maximize::{End, argmax_1d, argmax_quadrant, interval_end};
use crate::score::{Prediction, Scores, score};
use crate::{CHI2_1_95, FIT_SCHEMA, FitError};
use aumann_models::indicators::CascadeParams;
use aumann_models::{Gate, Replay, Source};
use rayon::prelude::*;
use serde::Serialize;

/// One agent at one step before its first response, with content read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AtRisk {
    /// The step t at which the content was read.
    pub step: u32,
    /// A_j(t): the content read at t, every gate open (each source's
    /// emission times its weight; docs/indicators.md, "The network").
    pub read: f64,
    /// B_j(t): the part of it whose authors had responded by step t.
    pub read_from_reached: f64,
    /// Whether the agent's first response came at step t + 1.
    pub responded: bool,
}

impl AtRisk {
    /// The replay's hazard here at β and c: β (c A + (1 − c) B).
    pub fn hazard(&self, beta: f64, c: f64) -> f64 {
        beta * (c * self.read + (1.0 - c) * self.read_from_reached)
    }
}

/// What the observation model reads of a replay and the agents' first
/// responses.
#[derive(Clone, Debug, PartialEq)]
pub struct CascadeObservations {
    pub rows: Vec<AtRisk>,
    pub summary: ObservedSummary,
}

/// The counts behind the rows, for fit.json.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ObservedSummary {
    pub agents: usize,
    pub steps: usize,
    /// Agents whose first response came at step 0: reached before the
    /// window (the cascade's seeds), never at risk.
    pub seeds: usize,
    /// Agents that responded at some step in the window.
    pub responding_agents: usize,
    /// Agent-steps at risk with content read: the likelihood's terms.
    pub at_risk: usize,
    /// Of those, the first responses.
    pub responses: usize,
    /// Agent-steps at risk that read nothing: hazard 0 whatever the
    /// parameters, so they say nothing about them and are left out.
    pub read_nothing: usize,
    /// First responses after a step at which the agent read nothing: the
    /// replay gives them probability 0 whatever the parameters (content
    /// from outside the record, or a response the model does not
    /// describe). Counted and left out; many of them say the model misses
    /// something.
    pub unexplained: usize,
}

/// The content each agent read at a step (A, per replay agent) and the
/// part whose authors were reached (B), every gate open: the sums the
/// cascade's hazard reads (docs/indicators.md, "Cascade"), over the
/// replay's public view.
pub struct ContentRead<'r> {
    replay: &'r Replay,
    /// Every gate, by its index in the step graphs.
    gates: Vec<Gate>,
}

impl<'r> ContentRead<'r> {
    pub fn new(replay: &'r Replay) -> Self {
        Self {
            replay,
            gates: replay.gate_ids().collect(),
        }
    }

    /// A and B at step `t`, with `reached` per replay agent.
    pub fn at(&self, t: usize, reached: &[bool]) -> (Vec<f64>, Vec<f64>) {
        let values: Vec<f64> = reached.iter().map(|&r| if r { 1.0 } else { 0.0 }).collect();
        self.weighted(t, &values)
    }

    /// A and the content read weighted by its source's `value` (per replay
    /// agent) at step `t`: Σ e and Σ e·value over what each agent read.
    /// With values 1 and 0 the second is B; with stances it is the R of
    /// polarization (docs/indicators.md, "Polarization").
    pub fn weighted(&self, t: usize, values: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let replay = self.replay;
        assert_eq!(values.len(), replay.agents(), "one value per agent");
        let content = replay.content();
        // A gate's emission with every gate open: its own content and what
        // it carried of its parents, its whole activity.
        let emission = |g: u32| -> f64 {
            if g == Source::NO_GATE {
                return 1.0;
            }
            let g = g as usize;
            if content.links(g).is_empty() {
                replay.gate_activity(self.gates[g])
            } else {
                content.own(g) + content.links(g).iter().map(|&(_, amount)| amount).sum::<f64>()
            }
        };
        let step = replay.step_graph(t);
        let mut sources: Vec<(usize, f64)> = step
            .senders()
            .iter()
            .map(|&g| (replay.gate_replay_agent(self.gates[g as usize]).index(), emission(g)))
            .collect();
        if let Some(extra) = step.extra() {
            sources.extend(extra.sources.iter().map(|s| (s.agent as usize, emission(s.gate))));
        }
        (0..replay.agents())
            .into_par_iter()
            .map(|j| {
                let (mut a, mut b) = (0.0, 0.0);
                for p in step.row(j) {
                    let (i, e) = sources[p as usize];
                    a += e;
                    b += e * values[i];
                }
                if let Some(extra) = step.extra() {
                    let (positions, weights) = extra.row(j);
                    for (&p, &w) in positions.iter().zip(weights) {
                        let (i, e) = sources[p as usize];
                        a += w * e;
                        b += w * e * values[i];
                    }
                }
                (a, b)
            })
            .unzip()
    }
}

/// The observation model's rows: every agent at every step before its
/// first response (`first`, by population id; None: none in the window),
/// with what it read there and whether it responded at the next step.
pub fn observe(replay: &Replay, first: &[Option<u32>]) -> Result<CascadeObservations, FitError> {
    let (agents, steps) = (replay.agents(), replay.steps());
    assert_eq!(first.len(), agents, "one first response per agent");
    if steps < 2 {
        return Err(FitError::TooFewSteps { steps });
    }
    let mut by_replay = vec![None; agents];
    for (original, &f) in first.iter().enumerate() {
        by_replay[replay.replay_agent(original as u32).index()] = f;
    }
    let mut summary = ObservedSummary {
        agents,
        steps,
        seeds: by_replay.iter().filter(|&&f| f == Some(0)).count(),
        responding_agents: by_replay.iter().filter(|f| f.is_some()).count(),
        at_risk: 0,
        responses: 0,
        read_nothing: 0,
        unexplained: 0,
    };
    let mut rows = Vec::new();
    let content = ContentRead::new(replay);
    for t in 0..steps - 1 {
        let reached: Vec<bool> = by_replay.iter().map(|f| f.is_some_and(|s| s as usize <= t)).collect();
        let (read, from_reached) = content.at(t, &reached);
        for j in 0..agents {
            if reached[j] {
                continue;
            }
            let responded = by_replay[j] == Some(t as u32 + 1);
            if read[j] <= 0.0 {
                if responded {
                    summary.unexplained += 1;
                } else {
                    summary.read_nothing += 1;
                }
                continue;
            }
            rows.push(AtRisk {
                step: t as u32,
                read: read[j],
                read_from_reached: from_reached[j],
                responded,
            });
        }
    }
    summary.at_risk = rows.len();
    summary.responses = rows.iter().filter(|r| r.responded).count();
    Ok(CascadeObservations { rows, summary })
}

/// Rows per chunk of the likelihood's sums: chunks are summed apart and
/// added in order, so the sums do not depend on the thread count.
const CHUNK: usize = 1 << 15;

/// The log-likelihood of `rows` at a = βc, b = β(1 − c), with its gradient
/// and Hessian in (a, b): a response at hazard h adds ln(1 − e^−h), a
/// step without one −h.
pub fn log_likelihood(rows: &[AtRisk], a: f64, b: f64) -> (f64, [f64; 2], [[f64; 2]; 2]) {
    let partials: Vec<[f64; 6]> = rows
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut s = [0.0; 6];
            for r in chunk {
                let (x, y) = (r.read, r.read_from_reached);
                let h = a * x + b * y;
                let (value, d1, d2) = if r.responded {
                    if h <= 0.0 {
                        (f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY)
                    } else {
                        // d/dh ln(1 − e^−h) = 1/(e^h − 1) = u; d²/dh² = −(u + u²).
                        let u = 1.0 / h.exp_m1();
                        ((-(-h).exp_m1()).ln(), u, -(u + u * u))
                    }
                } else {
                    (-h, -1.0, 0.0)
                };
                s[0] += value;
                s[1] += d1 * x;
                s[2] += d1 * y;
                s[3] += d2 * x * x;
                s[4] += d2 * x * y;
                s[5] += d2 * y * y;
            }
            s
        })
        .collect();
    let mut s = [0.0; 6];
    for p in partials {
        for (total, part) in s.iter_mut().zip(p) {
            *total += part;
        }
    }
    (s[0], [s[1], s[2]], [[s[3], s[4]], [s[4], s[5]]])
}

/// A parameter's estimate, as fit.json gives it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Estimate {
    /// The declared name (`beta`, `cascade-c`): the option and the key of
    /// summary.json.
    pub name: &'static str,
    /// The maximum-likelihood estimate.
    pub estimate: f64,
    /// The 95% profile-likelihood interval. An end is None where the
    /// likelihood stays within the interval's threshold up to the
    /// parameter's bound (0 below, 1 above for a share, no bound above
    /// for β).
    pub interval: [Option<f64>; 2],
    /// Whether the data identify it: false when the interval runs from
    /// bound to bound (c), or has no upper end (β).
    pub identified: bool,
    pub default: f64,
    /// What a replay with the fitted parameters uses: the estimate when
    /// identified, the default when not.
    pub used: f64,
    /// What the reader must know about this estimate, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The fitted replay, the defaults and a constant response rate, scored
/// on the steps held out of the fit.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct HeldOut {
    /// The fit read the steps before this one ...
    pub fit_steps: usize,
    /// ... and these steps' content and responses were held out.
    pub held_out_steps: usize,
    /// β and c as fitted on the earlier steps (the default where they do
    /// not identify one).
    pub beta: f64,
    pub c: f64,
    pub fitted: Scores,
    pub defaults: Scores,
    /// The share of agent-steps at risk that responded in the fit's
    /// steps, for every agent-step: a model without dynamics.
    pub constant_rate: Scores,
}

/// First responses at one step: observed, and expected under the fitted
/// parameters, the defaults and the constant rate (the sum of the
/// response probabilities of the agents at risk).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StepResponses {
    /// The step the responses came at (the content was read the step
    /// before).
    pub step: usize,
    /// Agents at risk with content read the step before.
    pub at_risk: usize,
    pub observed: usize,
    pub fitted: f64,
    pub defaults: f64,
    pub constant_rate: f64,
}

/// fit.json for the cascade.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CascadeFit {
    pub schema: u32,
    pub indicator: &'static str,
    /// The observation model in one line (docs/fit.md says it in full).
    pub observation_model: &'static str,
    pub data: ObservedSummary,
    pub parameters: Vec<Estimate>,
    /// The log-likelihood at the estimates (every step).
    pub log_likelihood: f64,
    /// Observed against expected first responses, step by step, with the
    /// parameters fitted on every step (so it shows the fit's shape, not
    /// its prediction: `held_out` is that).
    pub responses_per_step: Vec<StepResponses>,
    pub held_out: Option<HeldOut>,
    /// Why nothing was held out, when nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_out_skipped: Option<String>,
    /// Where the split held out fewer than three steps: each read step's
    /// responses predicted by a fit on every other step, the predictions
    /// pooled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cross_validated: Option<CrossValidated>,
}

/// Leave-one-step-out scores: each step left out in turn, fitted on the
/// others, its rows predicted; the predictions of every fold scored
/// together.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CrossValidated {
    /// The steps left out, one per fold.
    pub folds: usize,
    /// Folds whose other steps could not be fitted (their rows are left
    /// out of every model's scores).
    pub folds_skipped: usize,
    pub fitted: Scores,
    pub defaults: Scores,
    pub constant_rate: Scores,
}

fn cross_validate(rows: &[AtRisk], held_out_steps: usize) -> Option<CrossValidated> {
    let folds = crate::folds(rows.iter().map(|r| r.step), held_out_steps);
    if folds.is_empty() {
        return None;
    }
    let defaults = CascadeParams::default();
    let (mut fitted, mut default, mut constant, mut responded) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut skipped = 0;
    for &step in &folds {
        let (test, train): (Vec<AtRisk>, Vec<AtRisk>) = rows.iter().partition(|r| r.step == step);
        let Ok(fit) = fit_rows(&train, 0) else {
            skipped += 1;
            continue;
        };
        let rate = train.iter().filter(|r| r.responded).count() as f64 / train.len() as f64;
        for r in &test {
            fitted.push(Prediction::from_hazard(r.hazard(fit.beta.used, fit.c.used)));
            default.push(Prediction::from_hazard(r.hazard(defaults.beta, defaults.c)));
            constant.push(Prediction::from_probability(rate));
            responded.push(r.responded);
        }
    }
    if skipped == folds.len() {
        return None;
    }
    Some(CrossValidated {
        folds: folds.len(),
        folds_skipped: skipped,
        fitted: score(&fitted, &responded),
        defaults: score(&default, &responded),
        constant_rate: score(&constant, &responded),
    })
}

/// Observed and expected first responses per step.
fn per_step(rows: &[AtRisk], steps: usize, fitted: (f64, f64), defaults: CascadeParams) -> Vec<StepResponses> {
    let rate = rows.iter().filter(|r| r.responded).count() as f64 / rows.len().max(1) as f64;
    let mut table: Vec<StepResponses> = (1..steps)
        .map(|step| StepResponses {
            step,
            at_risk: 0,
            observed: 0,
            fitted: 0.0,
            defaults: 0.0,
            constant_rate: 0.0,
        })
        .collect();
    for r in rows {
        let s = &mut table[r.step as usize];
        s.at_risk += 1;
        s.observed += r.responded as usize;
        s.fitted += -(-r.hazard(fitted.0, fitted.1)).exp_m1();
        s.defaults += -(-r.hazard(defaults.beta, defaults.c)).exp_m1();
        s.constant_rate += rate;
    }
    table
}

/// The one-line observation model of fit.json.
pub const OBSERVATION_MODEL: &str = "an agent is reached when it first engages with or reshares others' content; \
     at each step before that it responds at the next step with probability 1 - exp(-beta (c A + (1 - c) B)), \
     A the content it read, B the part from agents that had responded";

/// β and c estimated from `observations`, with intervals and, unless
/// `held_out_share` is 0, the scores of a fit on the earlier steps on the
/// later ones.
pub fn fit_cascade(observations: &CascadeObservations, held_out_share: f64) -> Result<CascadeFit, FitError> {
    if !(0.0..1.0).contains(&held_out_share) {
        return Err(FitError::HeldOutShare(held_out_share));
    }
    let rows = &observations.rows;
    let summary = &observations.summary;
    let all = fit_rows(rows, summary.unexplained)?;
    let steps = summary.steps;
    let (held_out, held_out_skipped) = match crate::split(steps, held_out_share) {
        Err(why) => (None, Some(why)),
        Ok((fit_steps, held)) => {
            let (train, test): (Vec<AtRisk>, Vec<AtRisk>) = rows.iter().partition(|r| (r.step as usize) < fit_steps);
            match fit_rows(&train, 0) {
                Err(e) => (
                    None,
                    Some(format!("the first {fit_steps} steps alone cannot be fitted: {e}")),
                ),
                Ok(early) => {
                    let responded: Vec<bool> = test.iter().map(|r| r.responded).collect();
                    let probabilities = |beta: f64, c: f64| -> Vec<Prediction> {
                        test.iter()
                            .map(|r| Prediction::from_hazard(r.hazard(beta, c)))
                            .collect()
                    };
                    let defaults = CascadeParams::default();
                    let rate = train.iter().filter(|r| r.responded).count() as f64 / train.len() as f64;
                    (
                        Some(HeldOut {
                            fit_steps,
                            held_out_steps: held,
                            beta: early.beta.used,
                            c: early.c.used,
                            fitted: score(&probabilities(early.beta.used, early.c.used), &responded),
                            defaults: score(&probabilities(defaults.beta, defaults.c), &responded),
                            constant_rate: score(&vec![Prediction::from_probability(rate); test.len()], &responded),
                        }),
                        None,
                    )
                }
            }
        }
    };
    let responses_per_step = per_step(rows, steps, (all.beta.used, all.c.used), CascadeParams::default());
    let cross_validated = cross_validate(rows, held_out.as_ref().map_or(0, |h| h.held_out_steps));
    Ok(CascadeFit {
        schema: FIT_SCHEMA,
        indicator: "cascade",
        observation_model: OBSERVATION_MODEL,
        data: summary.clone(),
        log_likelihood: all.log_likelihood,
        responses_per_step,
        parameters: vec![all.beta, all.c],
        held_out,
        held_out_skipped,
        cross_validated,
    })
}

/// The estimates from some rows.
struct Fitted {
    beta: Estimate,
    c: Estimate,
    log_likelihood: f64,
}

/// Half the χ² threshold: the log-likelihood an interval's ends lose.
const DROP: f64 = CHI2_1_95 / 2.0;

/// An interval's end this close to a share's bound reaches it.
const BOUND_TOLERANCE: f64 = 1e-9;

fn fit_rows(rows: &[AtRisk], unexplained: usize) -> Result<Fitted, FitError> {
    let responses = rows.iter().filter(|r| r.responded).count();
    if responses == 0 {
        return Err(FitError::NoResponses { unexplained });
    }
    if responses == rows.len() {
        return Err(FitError::EveryoneResponded {
            responses,
            rows: rows.len(),
        });
    }
    let defaults = CascadeParams::default();
    let f = |a: f64, b: f64| log_likelihood(rows, a, b);
    // A start from the constant rate: the hazard that gives it at the mean
    // content read, split evenly.
    let rate = responses as f64 / rows.len() as f64;
    let mean_read = rows.iter().map(|r| r.read).sum::<f64>() / rows.len() as f64;
    let start = -(-rate).ln_1p() / mean_read;
    let ([a, b], best) = argmax_quadrant(&f, [start, start]);
    let (beta_hat, c_hat) = (a + b, a / (a + b));
    let target = best - DROP;

    // Profile of c: β at its best for each c.
    let along = |c: f64| {
        move |beta: f64| {
            let (v, g, h) = f(c * beta, (1.0 - c) * beta);
            let d1 = c * g[0] + (1.0 - c) * g[1];
            let d2 = c * c * h[0][0] + 2.0 * c * (1.0 - c) * h[0][1] + (1.0 - c) * (1.0 - c) * h[1][1];
            (v, d1, d2)
        }
    };
    let profile_c = |c: f64| argmax_1d(&along(c), 0.0, f64::INFINITY, beta_hat).1;
    let c_ends = [
        interval_end(&profile_c, c_hat, Some(0.0), target),
        interval_end(&profile_c, c_hat, Some(1.0), target),
    ];
    // Unidentified: the interval runs from one bound to the other (up to
    // where the profile falls off a cliff at the bound itself, as at
    // c = 0 when no reached author was read: there the hazard is 0).
    let near = |e: End, bound: f64| match e {
        End::Bound => true,
        End::At(x) => (x - bound).abs() <= BOUND_TOLERANCE,
    };
    let c_identified = !(near(c_ends[0], 0.0) && near(c_ends[1], 1.0));
    let ends = |e: [End; 2]| e.map(|e| if let End::At(x) = e { Some(x) } else { None });
    let c_interval = [
        (!near(c_ends[0], 0.0)).then(|| ends(c_ends)[0]).flatten(),
        (!near(c_ends[1], 1.0)).then(|| ends(c_ends)[1]).flatten(),
    ];

    if c_identified {
        // Profile of β: c at its best for each β.
        let profile_beta = |beta: f64| {
            let across = |c: f64| {
                let (v, g, h) = f(c * beta, (1.0 - c) * beta);
                (
                    v,
                    beta * (g[0] - g[1]),
                    beta * beta * (h[0][0] - 2.0 * h[0][1] + h[1][1]),
                )
            };
            argmax_1d(&across, 0.0, 1.0, c_hat).1
        };
        let beta_ends = [
            interval_end(&profile_beta, beta_hat, Some(0.0), target),
            interval_end(&profile_beta, beta_hat, None, target),
        ];
        let beta_identified = beta_ends[1] != End::Bound;
        Ok(Fitted {
            beta: Estimate {
                name: "beta",
                estimate: beta_hat,
                interval: ends(beta_ends),
                identified: beta_identified,
                default: defaults.beta,
                used: if beta_identified { beta_hat } else { defaults.beta },
                note: (!beta_identified).then(|| {
                    "the likelihood does not fall off as beta grows: the data do not bound it, so the default is used"
                        .to_string()
                }),
            },
            c: Estimate {
                name: "cascade-c",
                estimate: c_hat,
                interval: c_interval,
                identified: true,
                default: defaults.c,
                used: c_hat,
                note: None,
            },
            log_likelihood: best,
        })
    } else {
        // The data do not tell c: β given the default c.
        let given = along(defaults.c);
        let (beta_c, best_c) = argmax_1d(&given, 0.0, f64::INFINITY, beta_hat);
        let profile = |beta: f64| given(beta).0;
        let beta_ends = [
            interval_end(&profile, beta_c, Some(0.0), best_c - DROP),
            interval_end(&profile, beta_c, None, best_c - DROP),
        ];
        let beta_identified = beta_ends[1] != End::Bound;
        Ok(Fitted {
            beta: Estimate {
                name: "beta",
                estimate: beta_c,
                interval: ends(beta_ends),
                identified: beta_identified,
                default: defaults.beta,
                used: if beta_identified { beta_c } else { defaults.beta },
                note: Some(format!(
                    "given cascade-c at its default {}, which the data do not identify",
                    defaults.c
                )),
            },
            c: Estimate {
                name: "cascade-c",
                estimate: c_hat,
                interval: c_interval,
                identified: false,
                default: defaults.c,
                used: defaults.c,
                note: Some(
                    "the likelihood stays within the 95% threshold from c = 0 to c = 1: the responses do not tell \
                     content from reached authors apart from other content, so the default is used"
                        .to_string(),
                ),
            },
            log_likelihood: best,
        })
    }
}
