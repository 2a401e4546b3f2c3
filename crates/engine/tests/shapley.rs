//! Exact and permutation Shapley against published values, and against each other.

mod support;

use aumann_engine::{
    AumannShapley, Error, MAX_EXACT_PLAYERS, PermutationShapley, StopReason, exact_shapley,
    games::{Glove, Linear, WeightedMajority},
};
use support::{Network, assert_close, random_point};

fn coalition_game<G: aumann_engine::ValueFunction + ?Sized>(game: &G) -> (Vec<f64>, Vec<f64>) {
    (vec![1.0; game.players()], vec![0.0; game.players()])
}

#[test]
fn glove_game() {
    // Two left gloves and one right glove: (1/6, 1/6, 2/3).
    let game = Glove {
        left: vec![true, true, false],
    };
    let (x, x0) = coalition_game(&game);
    let phi = exact_shapley(&game, &x, &x0).unwrap().phi;
    assert_close(&phi, &[1.0 / 6.0, 1.0 / 6.0, 2.0 / 3.0], 1e-15, 0.0, "glove");
}

#[test]
fn weighted_majority_games() {
    // [51; 50, 49, 1]: the large party is pivotal in 4 of 6 orders.
    let game = WeightedMajority {
        quota: 51.0,
        weights: vec![50.0, 49.0, 1.0],
    };
    let (x, x0) = coalition_game(&game);
    let phi = exact_shapley(&game, &x, &x0).unwrap().phi;
    assert_close(&phi, &[2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0], 1e-15, 0.0, "[51; 50, 49, 1]");

    // The UN Security Council, [39; 7 x 5, 1 x 10] (Shapley & Shubik 1954):
    // each permanent member 421/2145, each elected member 4/2145.
    let game = un_security_council();
    let (x, x0) = coalition_game(&game);
    let phi = exact_shapley(&game, &x, &x0).unwrap().phi;
    let mut expected = vec![421.0 / 2145.0; 5];
    expected.extend([4.0 / 2145.0; 10]);
    assert_close(&phi, &expected, 1e-14, 0.0, "UN Security Council");
}

fn un_security_council() -> WeightedMajority {
    let mut weights = vec![7.0; 5];
    weights.extend([1.0; 10]);
    WeightedMajority { quota: 39.0, weights }
}

#[test]
fn permutation_shapley_lands_within_its_standard_errors() {
    // An elected Council member is pivotal in 0.19% of orders: the standard
    // error means something only once a few dozen pivots have been seen.
    for (name, permutations, game) in [
        (
            "UN Security Council",
            40_000,
            Box::new(un_security_council()) as Box<dyn aumann_engine::ValueFunction>,
        ),
        (
            "glove",
            4000,
            Box::new(Glove {
                left: vec![true, true, false, false, false],
            }),
        ),
        ("network", 4000, Box::new(Network::random(10, 3))),
    ] {
        let (x, x0) = coalition_game(&*game);
        let exact = exact_shapley(&*game, &x, &x0).unwrap().phi;
        let est = PermutationShapley::default()
            .permutations(permutations)
            .seed(11)
            .estimate(&*game, &x, &x0)
            .unwrap();
        assert_eq!(est.stop, StopReason::MaxPermutations);
        assert_eq!(est.permutations, permutations);
        for i in 0..exact.len() {
            let z = (est.phi[i] - exact[i]).abs() / est.std_error[i].max(1e-15);
            assert!(
                z < 4.5,
                "{name}: player {i}: {} vs exact {} ({z:.1} standard errors)",
                est.phi[i],
                exact[i]
            );
        }
        // efficiency holds for every permutation, hence for the mean
        let total: f64 = est.phi.iter().sum();
        assert!((total - (game.value(&x) - game.value(&x0))).abs() < 1e-12, "{name}");
    }
}

#[test]
fn permutation_shapley_stops_at_its_target_or_its_budget() {
    let game = Network::random(8, 9);
    let (x, x0) = coalition_game(&game);
    let est = PermutationShapley::default()
        .unlimited_permutations()
        .target_std_error(2e-3)
        .estimate(&game, &x, &x0)
        .unwrap();
    assert_eq!(est.stop, StopReason::TargetStdError);
    assert!(est.std_error.iter().all(|&s| s <= 2e-3));

    let est = PermutationShapley::default()
        .unlimited_permutations()
        .evaluations(1000)
        .estimate(&game, &x, &x0)
        .unwrap();
    assert_eq!(est.stop, StopReason::MaxEvaluations);
    assert!(
        est.evaluations <= 1000 && est.evaluations > 1000 - 2 * 7,
        "{}",
        est.evaluations
    );
}

#[test]
fn a_linear_game_has_no_sampling_error() {
    let w = random_point(30, 1, -1.0, 1.0);
    let game = Linear::new(w.clone());
    let est = PermutationShapley::default()
        .permutations(10)
        .estimate(&game, &vec![1.0; 30], &vec![0.0; 30])
        .unwrap();
    assert_close(&est.phi, &w, 1e-14, 0.0, "linear");
    assert!(est.std_error.iter().all(|&s| s < 1e-14));
}

#[test]
fn aumann_shapley_equals_exact_shapley_on_multilinear_games_and_not_only_there() {
    // Multilinear (each player enters each term at most once): the path
    // method on 0/1 participation is the Shapley value of the game.
    let multilinear = support::Homogeneous {
        n: 3,
        terms: vec![(1.0, vec![0, 1]), (3.0, vec![1, 2]), (-2.0, vec![0, 2])],
    };
    let (x, x0) = coalition_game(&multilinear);
    let exact = exact_shapley(&multilinear, &x, &x0).unwrap().phi;
    let path = AumannShapley::default().attribute(&multilinear, &x, &x0).unwrap().phi;
    assert_close(&path, &exact, 1e-13, 0.0, "multilinear");
    // Not multilinear, and they differ: x_0^2 x_1 gives Aumann–Shapley
    // (2/3, 1/3), Shapley (1/2, 1/2): atoms against non-atomic players.
    let convex = support::Homogeneous {
        n: 2,
        terms: vec![(1.0, vec![0, 0, 1])],
    };
    let (x, x0) = coalition_game(&convex);
    assert_close(
        &exact_shapley(&convex, &x, &x0).unwrap().phi,
        &[0.5, 0.5],
        1e-15,
        0.0,
        "exact",
    );
    assert_close(
        &AumannShapley::default().attribute(&convex, &x, &x0).unwrap().phi,
        &[2.0 / 3.0, 1.0 / 3.0],
        1e-14,
        0.0,
        "aumann",
    );
    // Not multilinear, yet they agree: x_0^2 + x_0 x_1 gives (3/2, 1/2) by
    // both (Shapley: v(0) = 1, v(1) = 0, v(01) = 2; the path: the integrals
    // of 3 tau and tau). Multilinearity is sufficient, not necessary.
    let agreeing = support::Homogeneous {
        n: 2,
        terms: vec![(1.0, vec![0, 0]), (1.0, vec![0, 1])],
    };
    let (x, x0) = coalition_game(&agreeing);
    assert_close(
        &exact_shapley(&agreeing, &x, &x0).unwrap().phi,
        &[1.5, 0.5],
        1e-15,
        0.0,
        "exact",
    );
    assert_close(
        &AumannShapley::default().attribute(&agreeing, &x, &x0).unwrap().phi,
        &[1.5, 0.5],
        1e-14,
        0.0,
        "aumann",
    );
}

#[test]
fn grouped_aumann_shapley_differs_from_the_agents_shapley_value_for_multi_gate_agents() {
    // Gates alpha_00, alpha_01 of agent 0 and alpha_10 of agent 1, F their
    // product (multilinear in the gates). Per gate, Aumann–Shapley gives 1/3
    // each, so agent 0 gets 2/3 and agent 1 gets 1/3. The agents' own game,
    // each agent opening all of its gates at once, is v(0) = v(1) = 0,
    // v(01) = 1: Shapley (1/2, 1/2). Multilinear in the gates is not
    // multilinear in the agents.
    let product = support::Homogeneous {
        n: 3,
        terms: vec![(1.0, vec![0, 1, 2])],
    };
    let r = AumannShapley::default()
        .attribute(&product, &[1.0; 3], &[0.0; 3])
        .unwrap();
    let groups = aumann_engine::Groups::new(vec![0, 0, 1], 2).unwrap();
    assert_close(&r.grouped(&groups).phi, &[2.0 / 3.0, 1.0 / 3.0], 1e-13, 0.0, "grouped");
    struct AgentGame;
    impl aumann_engine::ValueFunction for AgentGame {
        fn players(&self) -> usize {
            2
        }
        fn value(&self, x: &[f64]) -> f64 {
            x[0] * x[0] * x[1]
        }
        fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 2.0 * x[0] * x[1];
            g[1] = x[0] * x[0];
            self.value(x)
        }
    }
    let shapley = exact_shapley(&AgentGame, &[1.0, 1.0], &[0.0, 0.0]).unwrap().phi;
    assert_close(&shapley, &[0.5, 0.5], 1e-15, 0.0, "agent shapley");
}

#[test]
fn exact_shapley_refuses_more_than_its_limit() {
    let game = Linear::new(vec![1.0; MAX_EXACT_PLAYERS + 1]);
    let (x, x0) = coalition_game(&game);
    match exact_shapley(&game, &x, &x0) {
        Err(Error::TooManyPlayers { players, max }) => assert_eq!((players, max), (26, 25)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn exact_shapley_at_twenty_players_matches_the_linear_closed_form() {
    let w = random_point(20, 5, -1.0, 1.0);
    let game = Linear::new(w.clone());
    let (x, x0) = coalition_game(&game);
    let exact = exact_shapley(&game, &x, &x0).unwrap();
    assert_eq!(exact.evaluations, 1 << 20);
    assert_close(&exact.phi, &w, 1e-12, 0.0, "linear, 20 players");
}
