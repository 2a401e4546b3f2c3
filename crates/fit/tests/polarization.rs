//! Polarization's fit: its dynamics against the built-in model, its
//! derivatives against finite differences, a closed form, noise-free
//! stances giving κ back, planted κ recovered with intervals that cover
//! it, held-out scores that prefer the true model, and bad input refused.

use aumann_data::synth::{SynthParams, generate};
use aumann_engine::{SweepGame, ValueFunction};
use aumann_fit::plant::plant_polarization;
use aumann_fit::polarization::{StanceSummary, residual_sum_of_squares};
use aumann_fit::{
    CHI2_1_95, ContentRead, FitError, ObservedStance, StanceObservations, Transition, fit_polarization, observe_stances,
};
use aumann_models::indicators::PolarizationParams;
use aumann_models::{Indicator, Replay, Workspace};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn population(agents: usize, steps: usize, seed: u64) -> Replay {
    let data = generate(
        &SynthParams {
            agents,
            steps,
            seed,
            ..SynthParams::default()
        },
        &(),
    );
    Replay::new(&data.population).unwrap()
}

/// The stances at the last step of `observed`, by replay agent.
fn last_step(replay: &Replay, observed: &[ObservedStance]) -> Vec<f64> {
    let last = replay.steps() as u32 - 1;
    let mut stances = vec![f64::NAN; replay.agents()];
    for o in observed.iter().filter(|o| o.step == last) {
        stances[replay.replay_agent(o.agent).index()] = o.stance;
    }
    stances
}

fn spread(s: &[f64]) -> f64 {
    let mean = s.iter().sum::<f64>() / s.len() as f64;
    4.0 * s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / s.len() as f64
}

#[test]
fn noise_free_planted_stances_are_the_built_in_polarization() {
    // Planted without noise, the stances follow the fit's dynamics from
    // the population's stance; one more step gives b(T), whose spread the
    // built-in model (the engine's forward sweep) computes on its own.
    for feed in [0, 2] {
        let data = generate(
            &SynthParams {
                agents: 800,
                steps: 5,
                seed: 8,
                feed,
                ..SynthParams::default()
            },
            &(),
        );
        let replay = Replay::new(&data.population).unwrap();
        let params = PolarizationParams { kappa: 4.0 };
        let observed = plant_polarization(&replay, params, 0.0, 1);
        let before = last_step(&replay, &observed);
        let t = replay.steps() - 1;
        let (read, agreeing) = ContentRead::new(&replay).weighted(t, &before);
        let finals: Vec<f64> = (0..replay.agents())
            .map(|j| {
                Transition {
                    step: t as u32,
                    stance: before[j],
                    read: read[j],
                    agreeing: agreeing[j],
                    next: 0.0,
                }
                .predicted(1.0 / params.kappa)
            })
            .collect();
        let workspace = Workspace::new();
        let model = SweepGame(Indicator::Polarization(params).model(&replay, &workspace));
        let built_in = model.value(&vec![1.0; replay.players()]);
        let ours = spread(&finals);
        let initial = spread(&before);
        assert!(
            (ours - built_in).abs() <= 1e-12 * built_in,
            "feed {feed}: {ours} against the built-in {built_in}"
        );
        // The stances moved: the test compares dynamics, not a constant.
        assert!((ours - initial).abs() > 1e-4, "feed {feed}: {ours} and {initial}");
    }
}

#[test]
fn the_residuals_derivatives_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let rows: Vec<Transition> = (0..400)
        .map(|_| {
            let read = rng.random_range(0.0..20.0);
            Transition {
                step: 0,
                stance: rng.random_range(0.01..0.99),
                read,
                agreeing: read * rng.random_range(0.0..1.0),
                next: rng.random_range(0.01..0.99),
            }
        })
        .collect();
    for w in [0.0_f64, 0.01, 0.1, 0.7, 3.0] {
        let h = 1e-6 * w.max(1e-2);
        let (_, d1, d2) = residual_sum_of_squares(&rows, w);
        let at = |x: f64| residual_sum_of_squares(&rows, x);
        let (lo, hi) = (at(w + h), at(w + 2.0 * h));
        let (f0, f1, f2) = (at(w).0, lo.0, hi.0);
        // One-sided differences (w = 0 is the bound), second order.
        let fd1 = (-3.0 * f0 + 4.0 * f1 - f2) / (2.0 * h);
        let fd2 = (-3.0 * at(w).1 + 4.0 * lo.1 - hi.1) / (2.0 * h);
        assert!(
            (d1 - fd1).abs() <= 1e-5 * d1.abs().max(1.0),
            "w {w}: {d1} against {fd1}"
        );
        assert!(
            (d2 - fd2).abs() <= 1e-5 * d2.abs().max(1.0),
            "w {w}: {d2} against {fd2}"
        );
    }
}

/// Transitions given directly, with the test population's replay for the
/// trajectories (none: nothing observed per step).
fn given(replay: &Replay, transitions: Vec<Transition>) -> StanceObservations {
    StanceObservations {
        summary: StanceSummary {
            agents: replay.agents(),
            steps: replay.steps(),
            observed: 2 * transitions.len(),
            observed_agents: transitions.len(),
            observed_at_start: 0,
            transitions: transitions.len(),
            read_nothing: transitions.iter().filter(|t| t.read == 0.0).count(),
            unknown_accounts: 0,
        },
        transitions,
        by_step: vec![Vec::new(); replay.steps()],
        initial: vec![0.5; replay.agents()],
    }
}

#[test]
fn one_reading_with_scattered_next_stances_gives_the_closed_form_estimate_and_interval() {
    // Every transition from b = 0.3 reading A = 10 of which R = 8 agrees:
    // in log-odds the step adds g(w) = ln(1 + w R) − ln(1 + w L), and the
    // RSS of the log-odds is S + n (m − logit b − g(w))², m their mean:
    // least where g(w) = δ = m − logit b, w = (e^δ − 1) / (R − e^δ L); the
    // interval's ends are where n/2 ln(1 + n (δ − g)² / S) = χ²/2.
    let replay = population(50, 4, 1);
    let (b, a, r) = (0.3, 10.0, 8.0);
    let l = a - r;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let next: Vec<f64> = (0..200).map(|_| 0.45 + rng.random_range(-0.05..0.05)).collect();
    let rows: Vec<Transition> = next
        .iter()
        .map(|&y| Transition {
            step: 0,
            stance: b,
            read: a,
            agreeing: r,
            next: y,
        })
        .collect();
    let logit = |p: f64| (p / (1.0 - p)).ln();
    let n = next.len() as f64;
    let m = next.iter().map(|&y| logit(y)).sum::<f64>() / n;
    let s = next.iter().map(|&y| (logit(y) - m).powi(2)).sum::<f64>();
    let w_at = |delta: f64| (delta.exp() - 1.0) / (r - delta.exp() * l);
    let half = (s / n * ((CHI2_1_95 / n).exp() - 1.0)).sqrt();
    let delta = m - logit(b);
    let fit = fit_polarization(&replay, &given(&replay, rows), 0.0).unwrap();
    let kappa = &fit.parameters[0];
    assert!(kappa.identified, "{kappa:?}");
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-8 * y.abs();
    assert!(
        close(kappa.estimate, 1.0 / w_at(delta)),
        "{kappa:?} against {}",
        1.0 / w_at(delta)
    );
    // g rises with w here (R > L), so w's upper end, κ's lower, is at δ + half.
    assert!(close(kappa.interval[0].unwrap(), 1.0 / w_at(delta + half)), "{kappa:?}");
    assert!(close(kappa.interval[1].unwrap(), 1.0 / w_at(delta - half)), "{kappa:?}");
    assert!(close(fit.noise_sd, (s / n).sqrt()), "{}", fit.noise_sd);
}

#[test]
fn transitions_that_read_nothing_leave_kappa_to_its_default() {
    let replay = population(50, 4, 1);
    let rows: Vec<Transition> = (0..100)
        .map(|k| Transition {
            step: 0,
            stance: 0.4,
            read: 0.0,
            agreeing: 0.0,
            next: 0.4 + 0.001 * (k % 7) as f64,
        })
        .collect();
    let fit = fit_polarization(&replay, &given(&replay, rows), 0.0).unwrap();
    let kappa = &fit.parameters[0];
    assert!(!kappa.identified, "{kappa:?}");
    assert_eq!(kappa.used, PolarizationParams::default().kappa);
    assert_eq!(kappa.interval, [None, None]);
    assert!(kappa.note.as_deref().unwrap().contains("without social influence"));
}

#[test]
fn noise_free_stances_give_kappa_back() {
    let replay = population(2_000, 6, 13);
    for kappa in [2.0, 25.0] {
        let observed = plant_polarization(&replay, PolarizationParams { kappa }, 0.0, 0);
        let fit = fit_polarization(&replay, &observe_stances(&replay, &observed).unwrap(), 0.3).unwrap();
        let estimate = &fit.parameters[0];
        assert!(
            (estimate.estimate - kappa).abs() <= 1e-6 * kappa,
            "planted {kappa}: {estimate:?}"
        );
        // The replay run freely from step 0 is the observed trajectory.
        for s in &fit.trajectory {
            assert!((s.fitted - s.observed).abs() <= 1e-9, "{s:?}");
        }
    }
}

#[test]
fn planted_kappa_is_recovered_and_its_intervals_cover_it() {
    let replay = population(2_000, 8, 21);
    let kappa = 5.0;
    let draws = 40;
    let mut covered = 0;
    for seed in 0..draws {
        let observed = plant_polarization(&replay, PolarizationParams { kappa }, 0.1, seed);
        let fit = fit_polarization(&replay, &observe_stances(&replay, &observed).unwrap(), 0.0).unwrap();
        let e = &fit.parameters[0];
        assert!(e.identified, "seed {seed}: {e:?}");
        covered += (e.interval[0].is_none_or(|lo| lo <= kappa) && e.interval[1].is_none_or(|hi| kappa <= hi)) as usize;
        assert!((fit.noise_sd - 0.1).abs() < 0.005, "seed {seed}: sd {}", fit.noise_sd);
    }
    // Nominal 95%: 38 of 40 expected; 33 or fewer happens with
    // probability 0.34% for a correct 95% interval.
    assert!(covered >= 34, "kappa covered in {covered} of {draws}");
}

#[test]
fn held_out_steps_prefer_the_fitted_replay_to_no_dynamics() {
    let replay = population(2_000, 8, 21);
    let observed = plant_polarization(&replay, PolarizationParams { kappa: 3.0 }, 0.1, 7);
    let observations = observe_stances(&replay, &observed).unwrap();
    assert_eq!(observations.summary.transitions, 2_000 * 7);
    assert_eq!(observations.summary.observed_at_start, 2_000);
    let fit = fit_polarization(&replay, &observations, 0.3).unwrap();
    let held = fit.held_out.expect("steps held out");
    assert_eq!((held.fit_steps, held.held_out_steps), (5, 2));
    assert!(
        held.fitted.log_likelihood_per_observation > held.no_dynamics.log_likelihood_per_observation,
        "{held:?}"
    );
    assert!(held.fitted.rmse < held.defaults.rmse, "{held:?}");
    assert_eq!(fit.transitions_per_step.len(), 7);
    assert_eq!(fit.trajectory.len(), 8);
    assert!(fit.trajectory_nrmse.unwrap() < 0.1, "{:?}", fit.trajectory_nrmse);
}

#[test]
fn stances_that_cannot_be_read_get_an_error_that_says_why() {
    let replay = population(50, 4, 1);
    let at = |agent, step, stance| ObservedStance { agent, step, stance };
    let cases = [
        (vec![at(0, 4, 0.5)], "step 4 of a window of 4 steps"),
        (vec![at(50, 0, 0.5)], "not in the population"),
        (vec![at(1, 0, 1.0)], "strictly between 0 and 1"),
        (vec![at(1, 0, 0.2), at(1, 0, 0.3)], "two stances at step 0"),
    ];
    for (observed, says) in cases {
        let e = observe_stances(&replay, &observed).unwrap_err();
        assert!(matches!(e, FitError::Stance(_)) && e.to_string().contains(says), "{e}");
    }
    let one = observe_stances(&replay, &[at(1, 0, 0.2), at(1, 1, 0.3), at(2, 2, 0.3)]).unwrap();
    assert_eq!(one.summary.transitions, 1);
    let e = fit_polarization(&replay, &one, 0.3).unwrap_err();
    assert!(matches!(e, FitError::TooFewTransitions { transitions: 1 }), "{e}");
}

#[test]
fn a_short_window_is_cross_validated_step_by_step() {
    let replay = population(1_000, 5, 2);
    let observed = plant_polarization(&replay, PolarizationParams { kappa: 3.0 }, 0.1, 1);
    let observations = observe_stances(&replay, &observed).unwrap();
    // Five steps: four read steps, one held out.
    let fit = fit_polarization(&replay, &observations, 0.3).unwrap();
    assert_eq!(fit.held_out.as_ref().unwrap().held_out_steps, 1);
    let cv = fit.cross_validated.expect("a short split is cross-validated");
    assert_eq!((cv.folds, cv.folds_skipped), (4, 0));
    // By hand: each step's transitions predicted at the κ fitted on the
    // others, the squared errors pooled.
    let mut squared = 0.0;
    for step in 0..4 {
        let (test, train): (Vec<Transition>, Vec<Transition>) =
            observations.transitions.iter().partition(|r| r.step == step);
        let other = fit_polarization(&replay, &given(&replay, train), 0.0).unwrap();
        let w = 1.0 / other.parameters[0].used;
        squared += test.iter().map(|r| (r.next - r.predicted(w)).powi(2)).sum::<f64>();
    }
    let n = observations.transitions.len() as f64;
    assert_eq!(cv.fitted.observations, observations.transitions.len());
    assert!((cv.fitted.rmse - (squared / n).sqrt()).abs() <= 1e-12, "{cv:?}");
    assert!(cv.fitted.log_likelihood_per_observation > cv.no_dynamics.log_likelihood_per_observation);
    assert!(cv.fitted.rmse < cv.defaults.rmse, "{cv:?}");
}
