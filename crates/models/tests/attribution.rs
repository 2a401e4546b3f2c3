//! Attribution over replays: closed forms, completeness, and bad input.

mod support;

use aumann_engine::{AumannShapley, SweepGame, exact_shapley};
use aumann_models::indicators::{CascadeParams, PanicParams};
use aumann_models::{
    Activity, AttributeError, Indicator, Order, Population, PopulationError, Replay, Workspace, attribute,
    attribute_between,
};
use std::collections::{BTreeSet, HashMap};
use support::{on_threads, random_population};

fn engine() -> AumannShapley {
    AumannShapley::default()
}

/// Per (population agent, step): the activity summed over duplicate rows,
/// from the population's own table.
fn activity_by_agent_step(population: &Population) -> HashMap<(u32, u32), f64> {
    let mut out = HashMap::new();
    for a in population.activity.iter().filter(|a| a.amount > 0.0) {
        *out.entry((a.agent, a.step)).or_default() += a.amount;
    }
    out
}

/// The expected phi of each gate, looked up by the gate's (agent, step).
fn per_gate(replay: &Replay, expected: impl Fn(u32, u32) -> f64) -> Vec<f64> {
    replay
        .gate_ids()
        .map(|g| expected(replay.gate_agent(g), replay.gate_step(g)))
        .collect()
}

#[test]
fn the_linear_control_gives_activity_times_followers_and_equals_exact_shapley() {
    let population = random_population(6, 2, 1);
    let replay = Replay::new(&population).unwrap();
    let result = attribute(&replay, Indicator::Linear, &engine()).unwrap();
    let activity = activity_by_agent_step(&population);
    let expected = per_gate(&replay, |a, t| {
        activity.get(&(a, t)).copied().unwrap_or(0.0) * population.followers[a as usize]
    });
    for g in 0..replay.players() {
        assert!(
            (result.gates.phi[g] - expected[g]).abs() < 1e-9 * expected[g].max(1.0),
            "gate {g}"
        );
    }
    assert!(replay.players() <= 20, "{}", replay.players());
    let workspace = Workspace::new();
    let model = SweepGame(Indicator::Linear.model(&replay, &workspace));
    let p = replay.players();
    let exact = exact_shapley(&model, &vec![1.0; p], &vec![0.0; p]).unwrap();
    for g in 0..p {
        assert!((exact.phi[g] - result.gates.phi[g]).abs() < 1e-9 * exact.phi[g].abs().max(1.0));
    }
}

#[test]
fn a_one_step_cascade_matches_its_closed_form() {
    // With T = 1 and q(0) = 0, C = sum_j 1 - exp(-s_j) with
    // s_j = beta c sum of a over j's distinct followees (self-follows
    // dropped): each term a function of a weighted sum, split in proportion
    // to its terms. Built from the population's follows, not the replay's.
    for seed in 0..10 {
        let population = random_population(30, 1, seed);
        let replay = Replay::new(&population).unwrap();
        let params = CascadeParams { beta: 0.4, c: 0.3 };
        let result = attribute(&replay, Indicator::Cascade(params), &engine().fixed(64)).unwrap();
        let activity = activity_by_agent_step(&population);
        let mut followees: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); population.agents];
        for &(j, i) in &population.follows {
            if i != j {
                followees[j as usize].insert(i);
            }
        }
        let mut expected_by_agent = vec![0.0; population.agents];
        for reads in &followees {
            let posted: Vec<(u32, f64)> = reads
                .iter()
                .filter_map(|&i| activity.get(&(i, 0)).map(|&a| (i, a)))
                .collect();
            let s: f64 = posted.iter().map(|&(_, a)| params.beta * params.c * a).sum();
            for &(i, a) in &posted {
                expected_by_agent[i as usize] += params.beta * params.c * a / s * (1.0 - (-s).exp());
            }
        }
        let expected = per_gate(&replay, |a, _| expected_by_agent[a as usize]);
        for g in 0..replay.players() {
            assert!(
                (result.gates.phi[g] - expected[g]).abs() < 1e-9,
                "seed {seed}, gate {g}"
            );
        }
    }
}

#[test]
fn a_one_step_panic_matches_its_closed_form() {
    for seed in 0..10 {
        let population = random_population(40, 1, seed);
        let replay = Replay::new(&population).unwrap();
        let params = PanicParams {
            lambda: 2.0,
            depth: Some(5.0),
        };
        // Enough nodes that quadrature error is below rounding.
        let result = attribute(&replay, Indicator::Panic(params), &engine().fixed(64)).unwrap();
        let scale = params.lambda / 5.0;
        let mut flow: HashMap<u32, f64> = HashMap::new();
        for o in &population.orders {
            *flow.entry(o.agent).or_default() += o.flow;
        }
        let z: f64 = population.orders.iter().map(|o| scale * o.flow).sum();
        let rise = 0.06 * z.tanh().powi(2);
        let expected = per_gate(&replay, |a, _| {
            let u = flow.get(&a).copied().unwrap_or(0.0);
            if z == 0.0 { 0.0 } else { scale * u / z * rise }
        });
        for g in 0..replay.players() {
            assert!(
                (result.gates.phi[g] - expected[g]).abs() < 1e-13 * rise.max(1e-3),
                "seed {seed}, gate {g}: {} vs {}",
                result.gates.phi[g],
                expected[g]
            );
        }
    }
}

#[test]
fn every_indicator_is_complete_at_the_default_settings() {
    for seed in 0..6 {
        let population = random_population(60, 4, seed);
        let replay = Replay::new(&population).unwrap();
        for indicator in Indicator::all() {
            let r = attribute(&replay, indicator, &engine()).unwrap();
            assert!(
                r.gates.within(1e-6),
                "{}: gap {:e}",
                indicator.name(),
                r.gates.relative_gap()
            );
            let per_agent: f64 = r.agent_phi.iter().sum();
            let per_step: f64 = r.step_phi.iter().sum();
            let target = r.gates.target();
            let tol = 1e-6 * target.abs() + 1e-12;
            assert!(
                (per_agent - target).abs() <= tol && (per_step - target).abs() <= tol,
                "{}",
                indicator.name()
            );
        }
    }
}

#[test]
fn gates_an_indicator_does_not_read_get_zero() {
    // An agent that only trades is a null player for polarization.
    let mut population = random_population(20, 2, 5);
    population.orders.push(Order {
        agent: 19,
        step: 1,
        flow: 3.0,
    });
    population.activity.retain(|a| a.agent != 19);
    population.engagements.retain(|e| e.engager != 19 && e.author != 19);
    let replay = Replay::new(&population).unwrap();
    let r = attribute(&replay, Indicator::Polarization(Default::default()), &engine()).unwrap();
    assert_eq!(r.agent_phi[19], 0.0);
    assert!(r.edges_read > 0);
    let r = attribute(&replay, Indicator::Panic(Default::default()), &engine()).unwrap();
    assert!(r.agent_phi[19] != 0.0);
    assert_eq!(r.edges_read, 0);
}

#[test]
fn duplicate_follows_count_once_and_self_follows_are_ignored() {
    let population = random_population(25, 3, 8);
    let mut noisy = population.clone();
    noisy.follows.extend(population.follows.iter().take(10).copied());
    noisy.follows.extend((0..25).map(|i| (i, i)));
    let clean = Replay::new(&population).unwrap();
    let dirty = Replay::new(&noisy).unwrap();
    assert_eq!(clean.graph().edges(), dirty.graph().edges());
    assert_eq!(
        dirty.graph().dropped_self_follows,
        25 + clean.graph().dropped_self_follows
    );
    let a = attribute(&clean, Indicator::Cascade(Default::default()), &engine()).unwrap();
    let b = attribute(&dirty, Indicator::Cascade(Default::default()), &engine()).unwrap();
    assert_eq!(a.gates.phi, b.gates.phi);
}

#[test]
fn steps_without_activity_are_replayed_as_quiet_steps() {
    let mut population = random_population(20, 4, 2);
    population.activity.retain(|a| a.step != 2);
    population.engagements.retain(|e| e.step != 2);
    population.orders.retain(|o| o.step != 2);
    let replay = Replay::new(&population).unwrap();
    assert_eq!(replay.step_gates(2).len(), 0);
    for indicator in Indicator::all() {
        let r = attribute(&replay, indicator, &engine()).unwrap();
        assert_eq!(r.step_phi[2], 0.0);
        assert!(r.gates.within(1e-6));
    }
}

#[test]
fn bad_populations_are_named_errors() {
    let good = random_population(10, 2, 3);
    let mut p = good.clone();
    p.stance[4] = 1.0;
    assert_eq!(
        Replay::new(&p).err(),
        Some(PopulationError::StanceOutOfRange { agent: 4, value: 1.0 })
    );
    let mut p = good.clone();
    p.stance[2] = f64::NAN;
    assert!(matches!(
        Replay::new(&p),
        Err(PopulationError::StanceOutOfRange { agent: 2, .. })
    ));
    let mut p = good.clone();
    p.activity.push(Activity {
        agent: 1,
        step: 0,
        amount: -1.0,
    });
    let err = Replay::new(&p).err().unwrap();
    assert!(err.to_string().contains("activity is finite and >= 0"), "{err}");
    let mut p = good.clone();
    p.follows.push((3, 10));
    assert_eq!(
        Replay::new(&p).err(),
        Some(PopulationError::UnknownAgent {
            table: "follows",
            agent: 10,
            agents: 10
        })
    );
    let mut p = good.clone();
    p.orders.push(Order {
        agent: 0,
        step: 2,
        flow: 1.0,
    });
    assert_eq!(
        Replay::new(&p).err(),
        Some(PopulationError::UnknownStep {
            table: "orders",
            step: 2,
            steps: 2
        })
    );
    let mut p = good.clone();
    p.orders.push(Order {
        agent: 0,
        step: 1,
        flow: f64::INFINITY,
    });
    assert!(Replay::new(&p).is_err());
    let mut p = good.clone();
    p.followers.pop();
    assert!(matches!(
        Replay::new(&p),
        Err(PopulationError::WrongLength { table: "followers", .. })
    ));
    assert_eq!(
        Replay::new(&Population::default()).err(),
        Some(PopulationError::NoAgents)
    );
}

#[test]
fn gates_outside_the_unit_interval_and_empty_windows_are_refused() {
    let replay = Replay::new(&random_population(10, 2, 3)).unwrap();
    let p = replay.players();
    let mut input = vec![1.0; p];
    input[3] = 1.5;
    let err = attribute_between(&replay, Indicator::Linear, &engine(), &input, &vec![0.0; p]).unwrap_err();
    assert!(err.to_string().contains("gates lie in [0, 1]"), "{err}");
    let err = attribute_between(&replay, Indicator::Linear, &engine(), &input[1..], &vec![0.0; p]).unwrap_err();
    assert!(matches!(err, AttributeError::Gates(_)), "{err}");

    let mut quiet = random_population(10, 2, 3);
    quiet.activity.clear();
    quiet.engagements.clear();
    quiet.orders.clear();
    let replay = Replay::new(&quiet).unwrap();
    let err = attribute(&replay, Indicator::Linear, &engine()).unwrap_err();
    assert!(matches!(err, AttributeError::Empty), "{err}");
}

#[test]
fn attributions_do_not_depend_on_the_thread_count() {
    let population = random_population(5000, 3, 4);
    let replay = Replay::new(&population).unwrap();
    let run = |threads| {
        on_threads(threads, || {
            Indicator::all()
                .into_iter()
                .map(|i| attribute(&replay, i, &engine().fixed(12)).unwrap().gates.phi)
                .collect::<Vec<_>>()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(5));
}

#[test]
fn an_unreachable_tolerance_returns_the_best_attribution_flagged() {
    let replay = Replay::new(&random_population(40, 3, 6)).unwrap();
    let engine = AumannShapley::default().adaptive(2, 4, 1e-14);
    let r = attribute(&replay, Indicator::Polarization(Default::default()), &engine).unwrap();
    assert!(!r.gates.converged());
    assert_eq!(r.gates.nodes, 4);
    assert!(r.gates.relative_gap() > 1e-14);
}

#[test]
fn two_attributions_on_one_replay_count_their_own_edges() {
    let population = random_population(50, 3, 9);
    let replay = Replay::new(&population).unwrap();
    let cascade = Indicator::Cascade(Default::default());
    let engine = engine().fixed(8);
    let first = attribute(&replay, cascade, &engine).unwrap();
    let second = attribute(&replay, cascade, &engine).unwrap();
    assert!(first.edges_read > 0);
    assert_eq!(first.edges_read, second.edges_read);
    // Two value sweeps (F(x), F(x')) read the forward edges once each; the
    // gradient sweep (8 nodes, whose companion lies on the same nodes: one
    // sweep) reads them twice and the active edges once.
    let forward = replay.forward_edges();
    assert_eq!(first.edges_read, 2 * forward + (2 * forward + replay.active_edges()));
}

#[test]
fn batches_above_sixteen_nodes_are_split_and_agree_with_small_batches() {
    let replay = Replay::new(&random_population(40, 3, 11)).unwrap();
    for indicator in [
        Indicator::Polarization(Default::default()),
        Indicator::Cascade(Default::default()),
    ] {
        let small = attribute(&replay, indicator, &engine().fixed(40).batch(8)).unwrap();
        let large = attribute(&replay, indicator, &engine().fixed(40).batch(40)).unwrap();
        for (a, b) in small.gates.phi.iter().zip(&large.gates.phi) {
            assert!(
                (a - b).abs() <= 1e-12 * a.abs().max(1e-9),
                "{}: {a} vs {b}",
                indicator.name()
            );
        }
        assert_eq!(small.gates.gradient_evaluations, large.gates.gradient_evaluations);
    }
}

#[test]
fn a_replay_that_keeps_only_what_its_indicators_read_has_the_same_gates_and_numbers() {
    use aumann_models::{GateTablesKept, ReplayOptions};
    let population = random_population(700, 3, 41);
    assert!(!population.engagements.is_empty() && !population.orders.is_empty());
    let whole = Replay::new(&population).unwrap();
    let engine = AumannShapley::default().fixed(12);
    for name in Indicator::names() {
        let indicator = Indicator::from_name(name).unwrap();
        let tables = GateTablesKept::for_indicators(&[indicator]);
        assert_eq!(tables.engagements, name == "attention", "{name}");
        assert_eq!(tables.orders, name == "panic", "{name}");
        let options = ReplayOptions {
            tables,
            ..Default::default()
        };
        let lean = Replay::with_progress(&population, options, &|_, _| {}).unwrap();
        assert_eq!(lean.kept(), tables);
        // Engagements and orders still make their gates.
        assert_eq!(lean.players(), whole.players(), "{name}");
        assert!(
            lean.gate_ids()
                .all(|g| lean.gate_agent(g) == whole.gate_agent(g) && lean.gate_step(g) == whole.gate_step(g))
        );
        let (a, b) = (
            attribute(&lean, indicator, &engine).unwrap().gates.phi,
            attribute(&whole, indicator, &engine).unwrap().gates.phi,
        );
        assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()), "{name}");
        if name == "polarization" {
            assert!(lean.memory_bytes() < whole.memory_bytes());
            for other in ["attention", "panic"] {
                let other = Indicator::from_name(other).unwrap();
                let workspace = Workspace::new();
                let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    other.model(&lean, &workspace);
                }));
                let message = refused.err().and_then(|e| e.downcast::<String>().ok()).unwrap();
                assert!(message.contains("built without"), "{message}");
            }
        }
    }
}

#[test]
fn a_replay_that_releases_the_edge_tables_as_it_reads_them_is_the_same_replay() {
    use aumann_models::{Network, ReplayOptions};
    let population = random_population(700, 3, 43);
    let engine = AumannShapley::default().fixed(12);
    for network in [Network::Follows, Network::Both] {
        let options = ReplayOptions {
            network,
            ..Default::default()
        };
        let borrowed = Replay::with_progress(&population, options, &|_, _| {}).unwrap();
        let mut owned = population.clone();
        let released = Replay::releasing(&mut owned, options, None, &|_, _| {}).unwrap();
        assert!(owned.follows.is_empty() && owned.engagements.is_empty() && owned.orders.is_empty());
        assert_eq!(owned.agents, population.agents);
        assert_eq!(released.memory_bytes(), borrowed.memory_bytes());
        for name in Indicator::names() {
            let indicator = Indicator::from_name(name).unwrap();
            let (a, b) = (
                attribute(&released, indicator, &engine).unwrap().gates.phi,
                attribute(&borrowed, indicator, &engine).unwrap().gates.phi,
            );
            assert!(
                a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{name} over {network:?}"
            );
        }
    }
    // A population the build refuses loses its tables all the same.
    let mut bad = population.clone();
    bad.follows.push((0, population.agents as u32));
    assert!(Replay::releasing(&mut bad, ReplayOptions::default(), None, &|_, _| {}).is_err());
    assert!(bad.follows.is_empty());
}
