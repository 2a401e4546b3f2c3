//! The cascade's fit: its sums against the built-in model, its
//! likelihood's derivatives against finite differences, a closed form,
//! planted parameters recovered with intervals that cover them, held-out
//! scores that prefer the true model, and bad input refused.

use aumann_data::synth::{SynthParams, generate};
use aumann_engine::{SweepGame, ValueFunction};
use aumann_fit::{AtRisk, CHI2_1_95, CascadeObservations, ContentRead, FitError, ObservedSummary, fit_cascade};
use aumann_models::indicators::CascadeParams;
use aumann_models::{Indicator, Replay, Workspace};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn observations(rows: Vec<AtRisk>, steps: usize) -> CascadeObservations {
    let responses = rows.iter().filter(|r| r.responded).count();
    CascadeObservations {
        summary: ObservedSummary {
            agents: rows.len(),
            steps,
            seeds: 0,
            responding_agents: responses,
            at_risk: rows.len(),
            responses,
            read_nothing: 0,
            unexplained: 0,
        },
        rows,
    }
}

#[test]
fn the_content_read_is_what_the_built_in_cascade_reads() {
    // One step: q_j(1) = 1 - exp(-beta c A_j(0)), nobody reached before,
    // so the built-in model's C is the sum of that over the agents.
    for feed in [0, 2] {
        let data = generate(
            &SynthParams {
                agents: 600,
                steps: 1,
                seed: 5,
                feed,
                ..SynthParams::default()
            },
            &(),
        );
        let replay = Replay::new(&data.population).unwrap();
        let params = CascadeParams { beta: 0.07, c: 0.3 };
        let workspace = Workspace::new();
        let model = SweepGame(Indicator::Cascade(params).model(&replay, &workspace));
        let built_in = model.value(&vec![1.0; replay.players()]);
        let (read, from_reached) = ContentRead::new(&replay).at(0, &vec![false; replay.agents()]);
        assert!(from_reached.iter().all(|&b| b == 0.0));
        let ours: f64 = read.iter().map(|a| -(-params.beta * params.c * a).exp_m1()).sum();
        assert!(ours > 1.0, "feed {feed}: a cascade that reaches somebody");
        assert!(
            (ours - built_in).abs() <= 1e-12 * built_in,
            "feed {feed}: {ours} against the built-in {built_in}"
        );
        // Every author reached: B is all of A.
        let (again, all) = ContentRead::new(&replay).at(0, &vec![true; replay.agents()]);
        assert_eq!(again, read);
        assert_eq!(all, read);
    }
}

#[test]
fn the_likelihoods_derivatives_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let rows: Vec<AtRisk> = (0..500)
        .map(|k| {
            let read = rng.random_range(0.1..5.0);
            AtRisk {
                step: 0,
                read,
                read_from_reached: read * rng.random_range(0.0..1.0),
                responded: k % 7 == 0,
            }
        })
        .collect();
    let (a, b) = (0.03, 0.05);
    let (_, grad, hess) = aumann_fit::log_likelihood(&rows, a, b);
    let value = |a: f64, b: f64| aumann_fit::log_likelihood(&rows, a, b).0;
    let gradient = |a: f64, b: f64| aumann_fit::log_likelihood(&rows, a, b).1;
    let e = 1e-6;
    let fd = [
        (value(a + e, b) - value(a - e, b)) / (2.0 * e),
        (value(a, b + e) - value(a, b - e)) / (2.0 * e),
    ];
    for k in 0..2 {
        assert!(
            (fd[k] - grad[k]).abs() <= 1e-6 * grad[k].abs(),
            "gradient {k}: {} against {}",
            grad[k],
            fd[k]
        );
    }
    let fd_hess = [
        [
            (gradient(a + e, b)[0] - gradient(a - e, b)[0]) / (2.0 * e),
            (gradient(a, b + e)[0] - gradient(a, b - e)[0]) / (2.0 * e),
        ],
        [
            (gradient(a + e, b)[1] - gradient(a - e, b)[1]) / (2.0 * e),
            (gradient(a, b + e)[1] - gradient(a, b - e)[1]) / (2.0 * e),
        ],
    ];
    for i in 0..2 {
        for j in 0..2 {
            let (ours, theirs) = (hess[i][j], fd_hess[i][j]);
            assert!(
                (ours - theirs).abs() <= 1e-5 * ours.abs(),
                "Hessian {i}{j}: {ours} against {theirs}"
            );
        }
    }
}

#[test]
fn a_constant_read_from_unreached_authors_gives_the_binomial_estimate_and_leaves_c_to_its_default() {
    // Every row reads 2 units from authors nobody reached; 300 of 1000
    // respond. Only a = beta c is seen: 1 - exp(-2a) = 0.3. c cannot be
    // told, so beta is estimated given the default c.
    let rows: Vec<AtRisk> = (0..1000)
        .map(|k| AtRisk {
            step: 0,
            read: 2.0,
            read_from_reached: 0.0,
            responded: k < 300,
        })
        .collect();
    let fit = fit_cascade(&observations(rows, 2), 0.0).unwrap();
    let default_c = CascadeParams::default().c;
    let [beta, c] = &fit.parameters[..] else {
        panic!("two parameters")
    };
    assert_eq!((beta.name, c.name), ("beta", "cascade-c"));
    assert!(!c.identified && c.used == default_c && c.interval == [None, None]);
    let expected = -(0.7_f64).ln() / (2.0 * default_c);
    assert!(
        (beta.estimate - expected).abs() <= 1e-9 * expected,
        "{} against {expected}",
        beta.estimate
    );
    assert!(beta.identified && beta.used == beta.estimate);
    // The interval's ends lose half the chi-square threshold, by the
    // binomial log-likelihood written out.
    let loglik = |beta: f64| {
        let h = 2.0 * default_c * beta;
        300.0 * (-(-h).exp_m1()).ln() - 700.0 * h
    };
    let best = loglik(expected);
    let [Some(lo), Some(hi)] = beta.interval else {
        panic!("both ends: {:?}", beta.interval)
    };
    assert!(lo < expected && expected < hi);
    for end in [lo, hi] {
        assert!((best - loglik(end) - CHI2_1_95 / 2.0).abs() <= 1e-6, "end {end}");
    }
}

/// The agents' first responses drawn from the observation model at
/// `params`, with 3% seeds.
fn planted(replay: &Replay, params: CascadeParams, seed: u64) -> Vec<Option<u32>> {
    aumann_fit::plant::plant_cascade(replay, params, 0.03, seed)
}

fn population() -> Replay {
    let data = generate(
        &SynthParams {
            agents: 2_000,
            steps: 8,
            seed: 21,
            ..SynthParams::default()
        },
        &(),
    );
    Replay::new(&data.population).unwrap()
}

/// The planted parameters: a hazard of about 0.1 per step at the mean
/// content read, a third of it from any content.
fn truth(replay: &Replay) -> CascadeParams {
    let (read, _) = ContentRead::new(replay).at(0, &vec![false; replay.agents()]);
    let mean = read.iter().sum::<f64>() / read.len() as f64;
    CascadeParams {
        beta: 0.1 / mean,
        c: 0.35,
    }
}

#[test]
fn planted_parameters_are_recovered_and_their_intervals_cover_them() {
    let replay = population();
    let truth = truth(&replay);
    let (mut beta_covered, mut c_covered) = (0, 0);
    let draws = 40;
    for seed in 0..draws {
        let first = planted(&replay, truth, seed);
        let observed = aumann_fit::observe(&replay, &first).unwrap();
        assert!(observed.summary.responses > 100, "seed {seed}: {:?}", observed.summary);
        let fit = fit_cascade(&observed, 0.0).unwrap();
        let [beta, c] = &fit.parameters[..] else {
            panic!("two parameters")
        };
        assert!(beta.identified && c.identified, "seed {seed}: {beta:?} {c:?}");
        let covers = |e: &aumann_fit::Estimate, x: f64| {
            e.interval[0].is_none_or(|lo| lo <= x) && e.interval[1].is_none_or(|hi| x <= hi)
        };
        beta_covered += covers(beta, truth.beta) as usize;
        c_covered += covers(c, truth.c) as usize;
    }
    // Nominal 95%: 38 of 40 expected; 33 or fewer happens with
    // probability 0.34% for a correct 95% interval.
    assert!(beta_covered >= 34, "beta covered in {beta_covered} of {draws}");
    assert!(c_covered >= 34, "c covered in {c_covered} of {draws}");
}

#[test]
fn held_out_steps_prefer_the_fitted_replay_to_a_constant_rate() {
    let replay = population();
    let first = planted(&replay, truth(&replay), 99);
    let observed = aumann_fit::observe(&replay, &first).unwrap();
    let fit = fit_cascade(&observed, 0.3).unwrap();
    let held = fit.held_out.expect("steps held out");
    assert_eq!((held.fit_steps, held.held_out_steps), (5, 2));
    let fitted = held.fitted.log_likelihood_per_observation.unwrap();
    let constant = held.constant_rate.log_likelihood_per_observation.unwrap();
    assert!(fitted > constant, "fitted {fitted}, constant {constant}");
    assert!(held.fitted.auc.unwrap() > 0.6, "{:?}", held.fitted);
    assert_eq!(held.constant_rate.auc, Some(0.5));
    assert_eq!(held.fitted.observations, held.constant_rate.observations);
    // Step by step, the responses the fitted replay expects track those
    // observed (within four standard deviations of a sum of Bernoullis),
    // and the table counts every row once.
    let table = &fit.responses_per_step;
    assert_eq!(table.len(), replay.steps() - 1);
    assert_eq!(table.iter().map(|s| s.at_risk).sum::<usize>(), observed.rows.len());
    assert_eq!(
        table.iter().map(|s| s.observed).sum::<usize>(),
        observed.summary.responses
    );
    for s in table {
        let sd = s.fitted.max(1.0).sqrt();
        assert!((s.observed as f64 - s.fitted).abs() <= 4.0 * sd, "{s:?}");
    }
}

#[test]
fn data_that_cannot_be_fitted_get_an_error_that_says_why() {
    let replay = population();
    let nobody = vec![None; replay.agents()];
    let observed = aumann_fit::observe(&replay, &nobody).unwrap();
    assert!(matches!(fit_cascade(&observed, 0.3), Err(FitError::NoResponses { .. })));
    let everyone = observations(
        vec![
            AtRisk {
                step: 0,
                read: 1.0,
                read_from_reached: 0.0,
                responded: true,
            };
            3
        ],
        2,
    );
    assert!(matches!(
        fit_cascade(&everyone, 0.0),
        Err(FitError::EveryoneResponded { .. })
    ));
    assert!(matches!(fit_cascade(&observed, 1.0), Err(FitError::HeldOutShare(_))));
    let one_step = generate(
        &SynthParams {
            agents: 50,
            steps: 1,
            ..SynthParams::default()
        },
        &(),
    );
    let replay = Replay::new(&one_step.population).unwrap();
    assert!(matches!(
        aumann_fit::observe(&replay, &vec![None; 50]),
        Err(FitError::TooFewSteps { steps: 1 })
    ));
}

#[test]
fn a_short_window_is_cross_validated_step_by_step_and_a_long_one_is_not() {
    let replay = population();
    let first = planted(&replay, truth(&replay), 5);
    let observed = aumann_fit::observe(&replay, &first).unwrap();
    // Eight steps: seven read steps, two held out, so every read step is
    // also left out in turn.
    let fit = fit_cascade(&observed, 0.3).unwrap();
    assert_eq!(fit.held_out.as_ref().unwrap().held_out_steps, 2);
    let cv = fit.cross_validated.expect("a short split is cross-validated");
    assert_eq!((cv.folds, cv.folds_skipped), (7, 0));
    // By hand through the public fit: each step predicted by a fit on the
    // others' rows, the predictions pooled.
    let (mut predictions, mut responded) = (Vec::new(), Vec::new());
    for step in 0..7 {
        let (test, train): (Vec<AtRisk>, Vec<AtRisk>) = observed.rows.iter().partition(|r| r.step == step);
        let other = fit_cascade(&observations(train, 8), 0.0).unwrap();
        let (beta, c) = (other.parameters[0].used, other.parameters[1].used);
        for r in &test {
            predictions.push(aumann_fit::score::Prediction::from_hazard(r.hazard(beta, c)));
            responded.push(r.responded);
        }
    }
    assert_eq!(cv.fitted, aumann_fit::score::score(&predictions, &responded));
    assert_eq!(cv.fitted.observations, observed.rows.len());
    let (fitted, constant) = (
        cv.fitted.log_likelihood_per_observation.unwrap(),
        cv.constant_rate.log_likelihood_per_observation.unwrap(),
    );
    assert!(fitted > constant, "fitted {fitted}, constant {constant}");
    // Three steps held out: the split's score stands alone.
    let long = fit_cascade(&observed, 0.45).unwrap();
    assert_eq!(long.held_out.unwrap().held_out_steps, 3);
    assert!(long.cross_validated.is_none());
}
