//! The time-ordered path (docs/sensitivity.md): each step's gates opened
//! after the steps before. Its step totals are differences of forward
//! replays, and with one gate per step every gate's phi is one.

mod support;

use aumann_engine::{AumannShapley, SweepGame, ValueFunction};
use aumann_models::indicators::CascadeParams;
use aumann_models::{Activity, Indicator, PathEnds, Population, Replay, Workspace, attribute, attribute_in_time_order};
use support::random_population;

fn engine() -> AumannShapley {
    AumannShapley::default().fixed(48)
}

fn nonlinear() -> [Indicator; 3] {
    [
        Indicator::from_name("polarization").unwrap(),
        Indicator::Cascade(CascadeParams { beta: 0.3, c: 0.4 }),
        Indicator::from_name("attention").unwrap(),
    ]
}

/// F with the gates of steps before `open` at `input` and the rest at
/// `baseline`: a forward replay, apart from any gradient.
fn opened(replay: &Replay, indicator: Indicator, input: &[f64], baseline: &[f64], open: usize) -> f64 {
    let workspace = Workspace::new();
    let model = SweepGame(indicator.model(replay, &workspace));
    let point: Vec<f64> = replay
        .gate_ids()
        .map(|g| {
            let k = g.index();
            if (replay.gate_step(g) as usize) < open {
                input[k]
            } else {
                baseline[k]
            }
        })
        .collect();
    model.value(&point)
}

#[test]
fn each_steps_total_is_what_opening_that_step_adds_given_the_steps_before() {
    let population = random_population(12, 4, 5);
    let replay = Replay::new(&population).unwrap();
    let players = replay.players();
    let input: Vec<f64> = (0..players).map(|k| 0.6 + 0.4 * ((k * 7) % 5) as f64 / 4.0).collect();
    let baseline: Vec<f64> = (0..players).map(|k| 0.3 * ((k * 3) % 4) as f64 / 3.0).collect();
    for indicator in nonlinear() {
        let ends = PathEnds::Between {
            input: &input,
            baseline: &baseline,
        };
        let result = attribute_in_time_order(&replay, indicator, &engine(), ends, &|_, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        let scale = result.gates.value_input.abs().max(1.0);
        for step in 0..replay.steps() {
            let expected = opened(&replay, indicator, &input, &baseline, step + 1)
                - opened(&replay, indicator, &input, &baseline, step);
            assert!(
                (result.step_phi[step] - expected).abs() < 1e-9 * scale,
                "{}: step {step}: {} against {expected}",
                indicator.name(),
                result.step_phi[step]
            );
        }
        assert!(result.gates.relative_gap() < 1e-9, "{}", indicator.name());
        assert_eq!(
            result.gates.value_baseline,
            opened(&replay, indicator, &input, &baseline, 0)
        );
    }
}

/// Two agents, two steps, one gate each: agent 0 posts at step 0, agent 1
/// at step 1, each followed by the other.
fn two_steps() -> Population {
    Population {
        agents: 2,
        steps: 2,
        stance: vec![0.2, 0.9],
        followers: vec![1.0, 1.0],
        follows: vec![(0, 1), (1, 0)],
        activity: vec![
            Activity {
                agent: 0,
                step: 0,
                amount: 2.0,
            },
            Activity {
                agent: 1,
                step: 1,
                amount: 3.0,
            },
        ],
        ..Default::default()
    }
}

#[test]
fn with_one_gate_per_step_each_gate_gets_its_marginal_in_time_order_and_the_straight_path_differs() {
    let replay = Replay::new(&two_steps()).unwrap();
    assert_eq!(replay.players(), 2);
    let mut interacting = 0;
    for indicator in nonlinear() {
        let workspace = Workspace::new();
        let model = SweepGame(indicator.model(&replay, &workspace));
        let step_of = |g: usize| replay.gate_step(replay.gate_ids().nth(g).unwrap()) as usize;
        let point = |open_first: bool, open_second: bool| {
            let v: Vec<f64> = (0..2)
                .map(|g| f64::from(u8::from(if step_of(g) == 0 { open_first } else { open_second })))
                .collect();
            model.value(&v)
        };
        // The closed form: the first step's gate adds F(1, 0) − F(0, 0),
        // the second's F(1, 1) − F(1, 0).
        let first = point(true, false) - point(false, false);
        let second = point(true, true) - point(true, false);
        let ordered = attribute_in_time_order(&replay, indicator, &engine(), PathEnds::Silence, &|_, _| {
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        let straight = attribute(&replay, indicator, &engine()).unwrap();
        for g in 0..2 {
            let expected = if step_of(g) == 0 { first } else { second };
            assert!(
                (ordered.gates.phi[g] - expected).abs() < 1e-12,
                "{}: gate {g}: {} against {expected}",
                indicator.name(),
                ordered.gates.phi[g]
            );
        }
        // Both paths are efficient; where the indicator has an interaction
        // between the two steps, the split differs.
        let interaction = point(true, true) - point(true, false) - point(false, true) + point(false, false);
        let total = |r: &aumann_models::ReplayAttribution| r.gates.phi.iter().sum::<f64>();
        assert!((total(&ordered) - total(&straight)).abs() < 1e-12);
        if interaction.abs() > 1e-9 {
            interacting += 1;
            let moved = (0..2)
                .map(|g| (ordered.gates.phi[g] - straight.gates.phi[g]).abs())
                .fold(0.0, f64::max);
            assert!(
                moved > 1e-6 * interaction.abs(),
                "{}: the paths agree",
                indicator.name()
            );
        }
    }
    assert!(
        interacting > 0,
        "no indicator has an interaction between the steps here"
    );
}

#[test]
fn steps_where_no_gate_moves_are_skipped_and_a_path_where_none_moves_is_flat() {
    let population = random_population(8, 3, 2);
    let replay = Replay::new(&population).unwrap();
    let indicator = Indicator::from_name("polarization").unwrap();
    let ones = vec![1.0; replay.players()];
    let result = attribute_in_time_order(
        &replay,
        indicator,
        &engine(),
        PathEnds::Between {
            input: &ones,
            baseline: &ones,
        },
        &|_, _| std::ops::ControlFlow::Continue(()),
    )
    .unwrap();
    assert!(result.gates.phi.iter().all(|&p| p == 0.0));
    assert!(result.flat.is_some());
    // Only step 1 moves: its leg alone runs, and the straight path between
    // the same ends is that leg.
    let baseline: Vec<f64> = replay
        .gate_ids()
        .map(|g| if replay.gate_step(g) == 1 { 0.0 } else { 1.0 })
        .collect();
    let legs = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let ends = PathEnds::Between {
        input: &ones,
        baseline: &baseline,
    };
    let ordered = attribute_in_time_order(&replay, indicator, &engine(), ends, &|step, _| {
        legs.lock().unwrap().insert(step);
        std::ops::ControlFlow::Continue(())
    });
    let ordered = ordered.unwrap();
    assert_eq!(legs.into_inner().unwrap().into_iter().collect::<Vec<_>>(), vec![1]);
    let straight = aumann_models::attribute_between(&replay, indicator, &engine(), &ones, &baseline).unwrap();
    assert_eq!(ordered.gates.phi, straight.gates.phi);
}

#[test]
fn every_gate_at_a_fraction_is_the_path_between_those_ends_swept_from_silence() {
    let population = random_population(12, 4, 7);
    let replay = Replay::new(&population).unwrap();
    let players = replay.players();
    let engine = AumannShapley::default();
    for indicator in nonlinear() {
        for b in [0.0, 0.25, 0.5, 0.9] {
            let ones = vec![1.0; players];
            let between =
                aumann_models::attribute_between(&replay, indicator, &engine, &ones, &vec![b; players]).unwrap();
            let fraction = aumann_models::attribute_on(
                &aumann_models::Local,
                &replay,
                indicator,
                &engine,
                PathEnds::Fraction(b),
                &|_| std::ops::ControlFlow::Continue(()),
                None,
            )
            .unwrap()
            .unwrap();
            assert_eq!(fraction.gates.value_baseline, between.gates.value_baseline);
            assert_eq!(fraction.gates.value_input, between.gates.value_input);
            let scale = between.gates.phi.iter().fold(0.0f64, |m, p| m.max(p.abs()));
            for (f, w) in fraction.gates.phi.iter().zip(&between.gates.phi) {
                assert!(
                    (f - w).abs() <= 1e-12 * scale.max(1e-300),
                    "{} at {b}: {f} against {w}",
                    indicator.name()
                );
            }
            assert!(fraction.gates.relative_gap() < 1e-6);
        }
    }
    let refused = aumann_models::attribute_on(
        &aumann_models::Local,
        &replay,
        Indicator::Linear,
        &engine,
        PathEnds::Fraction(1.5),
        &|_| std::ops::ControlFlow::Continue(()),
        None,
    );
    assert!(
        matches!(&refused, Err(e) if e.to_string().contains("every gate at 1.5 is no baseline")),
        "{:?}",
        refused.err()
    );
}
