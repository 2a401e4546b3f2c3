//! Replays over exposures, timed follows and reposts: closed forms, the
//! rules that merge follows with exposures, and determinism.

mod support;

use aumann_engine::AumannShapley;
use aumann_models::indicators::CascadeParams;
use aumann_models::{
    Activity, Exposure, FollowSpan, Indicator, Network, Population, PopulationError, Replay, ReplayOptions, Repost,
    attribute,
};
use support::{on_threads, random_population, with_network};

const PARAMS: CascadeParams = CascadeParams { beta: 0.5, c: 0.4 };

fn cascade() -> Indicator {
    Indicator::Cascade(PARAMS)
}

fn replay(population: &Population, network: Network) -> Replay {
    Replay::with_progress(
        population,
        ReplayOptions {
            network,
            ..Default::default()
        },
        &|_, _| {},
    )
    .unwrap()
}

fn posts(rows: &[(u32, u32, f64)]) -> Vec<Activity> {
    rows.iter()
        .map(|&(agent, step, amount)| Activity { agent, step, amount })
        .collect()
}

fn population(agents: usize, steps: usize) -> Population {
    Population {
        agents,
        steps,
        stance: vec![0.5; agents],
        followers: vec![0.0; agents],
        ..Default::default()
    }
}

/// phi of the gate of (agent, step).
fn phi_of(replay: &Replay, phi: &[f64], agent: u32, step: u32) -> f64 {
    replay
        .gate_ids()
        .find(|&g| replay.gate_agent(g) == agent && replay.gate_step(g) == step)
        .map(|g| phi[g.index()])
        .expect("a gate")
}

fn engine() -> AumannShapley {
    AumannShapley::default().fixed(48)
}

#[test]
fn a_one_step_cascade_over_exposures_matches_its_closed_form() {
    // Author 0 posts 2 items; reader 1 was shown 1 of them, reader 2 all
    // of them twice (4), reader 3 follows 0 and was shown 1: a follow
    // carries all 2. With q(0) = 0, q_j(1) = 1 - exp(-beta c A_j) where
    // A_j = (items read) x alpha_0, and the one gate gets all of F.
    let mut p = population(4, 1);
    p.activity = posts(&[(0, 0, 2.0)]);
    p.follows = vec![(3, 0)];
    p.exposures = [(1, 1.0), (2, 4.0), (3, 1.0)]
        .iter()
        .map(|&(reader, amount)| Exposure {
            reader,
            author: 0,
            step: 0,
            posted: None,
            amount,
        })
        .collect();
    let hazard = PARAMS.beta * PARAMS.c;
    let reach = |items: &[f64]| items.iter().map(|&a| 1.0 - (-hazard * a).exp()).sum::<f64>();
    for (network, items) in [
        (Network::Both, vec![1.0, 4.0, 2.0]),
        (Network::Exposures, vec![1.0, 4.0, 1.0]),
        (Network::Follows, vec![2.0]),
    ] {
        let r = replay(&p, network);
        let result = attribute(&r, cascade(), &engine()).unwrap();
        let expected = reach(&items);
        assert!(
            (result.gates.value_input - expected).abs() < 1e-12,
            "{network:?}: F = {} against {expected}",
            result.gates.value_input
        );
        assert!((result.gates.phi[0] - expected).abs() < 1e-12, "{network:?}");
    }
}

#[test]
fn an_exposure_to_an_earlier_item_credits_the_step_it_was_posted() {
    // 0 posts at steps 0 and 1; 1 is shown, at step 1, one item 0 posted at
    // step 0. Only the gate of step 0 reaches anybody.
    let mut p = population(2, 2);
    p.activity = posts(&[(0, 0, 1.0), (0, 1, 3.0)]);
    p.exposures = vec![Exposure {
        reader: 1,
        author: 0,
        step: 1,
        posted: Some(0),
        amount: 1.0,
    }];
    let r = replay(&p, Network::Both);
    let result = attribute(&r, cascade(), &engine()).unwrap();
    let expected = 1.0 - (-PARAMS.beta * PARAMS.c).exp();
    assert!((phi_of(&r, &result.gates.phi, 0, 0) - expected).abs() < 1e-12);
    assert_eq!(phi_of(&r, &result.gates.phi, 0, 1), 0.0);
}

#[test]
fn a_single_repost_chain_splits_its_reach_between_author_and_reposter() {
    // 0 posts one item at step 0; 1 reposts it at step 1; 2 follows 1.
    // q_2(2) = 1 - exp(-beta c alpha_0 alpha_1): a function of the product
    // of two gates, which Aumann-Shapley splits in half (integral of
    // f'(tau^2) tau from 0 to 1 is f(1)/2 for each).
    let mut p = population(3, 2);
    p.activity = posts(&[(0, 0, 1.0), (1, 1, 1.0)]);
    p.follows = vec![(2, 1)];
    p.reposts = vec![Repost {
        reposter: 1,
        step: 1,
        parent_author: 0,
        parent_step: 0,
        amount: 1.0,
    }];
    let r = replay(&p, Network::Both);
    assert_eq!(r.network().reposts_linked, 1);
    let result = attribute(&r, cascade(), &engine()).unwrap();
    let total = 1.0 - (-PARAMS.beta * PARAMS.c).exp();
    assert!((result.gates.value_input - total).abs() < 1e-12);
    assert!((phi_of(&r, &result.gates.phi, 0, 0) - total / 2.0).abs() < 1e-12);
    assert!((phi_of(&r, &result.gates.phi, 1, 1) - total / 2.0).abs() < 1e-12);

    // Without the repost row, the reposter's item is its own: the author
    // gets nothing.
    p.reposts.clear();
    let r = replay(&p, Network::Both);
    let result = attribute(&r, cascade(), &engine()).unwrap();
    assert_eq!(phi_of(&r, &result.gates.phi, 0, 0), 0.0);
    assert!((phi_of(&r, &result.gates.phi, 1, 1) - total).abs() < 1e-12);
}

#[test]
fn a_follow_carries_content_only_while_it_holds() {
    // 1 follows 0 from step 1 on; 2 follows 0 until step 1. 0 posts at
    // steps 0, 1 and 2. Reach at the end: q_1 from steps 1 and 2, q_2 from
    // step 0; each step's gate gets its own share.
    let mut p = population(3, 3);
    p.activity = posts(&[(0, 0, 1.0), (0, 1, 1.0), (0, 2, 1.0)]);
    p.follows = vec![(1, 0), (2, 0)];
    p.follow_spans = vec![
        FollowSpan {
            begin: Some(1),
            end: None,
        },
        FollowSpan {
            begin: None,
            end: Some(1),
        },
    ];
    let r = replay(&p, Network::Both);
    assert_eq!(r.network().follows_timed, 2);
    let result = attribute(&r, cascade(), &engine()).unwrap();
    let h = PARAMS.beta * PARAMS.c;
    // q_1 = 1 - exp(-h (alpha_1 + alpha_2)): split evenly between steps 1
    // and 2; q_2 = 1 - exp(-h alpha_0).
    let q1 = 1.0 - (-2.0 * h).exp();
    let q2 = 1.0 - (-h).exp();
    assert!((phi_of(&r, &result.gates.phi, 0, 0) - q2).abs() < 1e-12);
    assert!((phi_of(&r, &result.gates.phi, 0, 1) - q1 / 2.0).abs() < 1e-12);
    assert!((phi_of(&r, &result.gates.phi, 0, 2) - q1 / 2.0).abs() < 1e-12);
}

#[test]
fn exposures_to_items_outside_the_record_are_content_nobody_silences() {
    // 1 is shown an item of 0 that no activity row records: it reaches 1
    // with everyone silent as well, so F moves by nothing of it.
    let mut p = population(2, 1);
    p.activity = posts(&[(1, 0, 1.0)]);
    p.exposures = vec![Exposure {
        reader: 1,
        author: 0,
        step: 0,
        posted: None,
        amount: 2.0,
    }];
    let r = replay(&p, Network::Both);
    assert_eq!(r.network().exposures_unattributed, 1);
    let result = attribute(&r, cascade(), &engine()).unwrap();
    let expected = 1.0 - (-PARAMS.beta * PARAMS.c * 2.0).exp();
    assert!((result.gates.value_input - expected).abs() < 1e-12);
    assert!((result.gates.value_baseline - expected).abs() < 1e-12);
    assert_eq!(result.gates.phi, vec![0.0]);
}

#[test]
fn the_network_summary_counts_each_part() {
    let mut p = population(3, 1);
    p.activity = posts(&[(0, 0, 1.0)]);
    p.follows = vec![(1, 0)];
    p.exposures = [1, 2]
        .iter()
        .map(|&reader| Exposure {
            reader,
            author: 0,
            step: 0,
            posted: None,
            amount: 1.0,
        })
        .collect();
    let summary = replay(&p, Network::Both).network().clone();
    assert_eq!(summary.follows_always, 1);
    assert_eq!(summary.exposures, 2);
    assert_eq!(summary.exposures_outside_follows, 1);
    // Reader 1's exposure is inside its follow and adds nothing.
    assert_eq!(summary.extra_edges, 1);
    let follows_only = replay(&p, Network::Follows).network().clone();
    assert_eq!((follows_only.exposures, follows_only.extra_edges), (0, 0));
}

#[test]
fn attributions_over_the_network_do_not_depend_on_the_thread_count() {
    let population = with_network(random_population(3000, 3, 8), 9);
    let r = replay(&population, Network::Both);
    assert!(r.network().extra_edges > 0 && r.network().reposts_linked > 0);
    let run = |threads| {
        on_threads(threads, || {
            Indicator::all()
                .into_iter()
                .map(|i| attribute(&r, i, &AumannShapley::default().fixed(12)).unwrap().gates.phi)
                .collect::<Vec<_>>()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(5));
}

#[test]
fn bad_network_tables_are_named_errors() {
    let mut p = population(2, 2);
    p.activity = posts(&[(0, 0, 1.0), (1, 1, 1.0)]);
    let mut q = p.clone();
    q.reposts = vec![Repost {
        reposter: 1,
        step: 1,
        parent_author: 0,
        parent_step: 0,
        amount: 2.0,
    }];
    assert!(matches!(
        q.validate(),
        Err(PopulationError::RepostsExceedActivity { agent: 1, step: 1, .. })
    ));
    let mut q = p.clone();
    q.reposts = vec![Repost {
        reposter: 0,
        step: 0,
        parent_author: 1,
        parent_step: 1,
        amount: 1.0,
    }];
    assert!(
        q.validate()
            .unwrap_err()
            .to_string()
            .contains("at or before its own step")
    );
    let mut q = p.clone();
    q.exposures = vec![Exposure {
        reader: 0,
        author: 5,
        step: 0,
        posted: None,
        amount: 1.0,
    }];
    assert!(matches!(
        q.validate(),
        Err(PopulationError::UnknownAgent { table: "exposures", .. })
    ));
    q.exposures[0].author = 1;
    q.exposures[0].amount = f64::NAN;
    assert!(q.validate().unwrap_err().to_string().contains("amount"));
    let mut q = p.clone();
    q.follows = vec![(0, 1)];
    q.follow_spans = vec![FollowSpan {
        begin: Some(1),
        end: Some(1),
    }];
    assert!(q.validate().unwrap_err().to_string().contains("ends after"));
    q.follow_spans = vec![];
    q.follow_spans.push(FollowSpan::default());
    q.follow_spans.push(FollowSpan::default());
    assert!(matches!(q.validate(), Err(PopulationError::WrongLength { .. })));
}
