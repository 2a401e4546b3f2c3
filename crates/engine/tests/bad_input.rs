//! Bad input is a clear error, never a panic; results do not depend on threads.

mod support;

use aumann_engine::{
    AumannShapley, Error, PermutationShapley, Rule, ValueFunction, attribute, exact_shapley,
    games::{ComposedLinear, Linear},
};
use support::{Network, random_point};

#[test]
fn non_finite_inputs_are_named() {
    let game = Linear::new(vec![1.0; 3]);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = attribute(&game, &[1.0, bad, 1.0], &[0.0; 3]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFiniteInput {
                    what: "input",
                    index: 1,
                    ..
                }
            ),
            "{err}"
        );
        let err = attribute(&game, &[1.0; 3], &[0.0, 0.0, bad]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFiniteInput {
                    what: "baseline",
                    index: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert!(exact_shapley(&game, &[bad; 3], &[0.0; 3]).is_err());
        assert!(
            PermutationShapley::default()
                .estimate(&game, &[bad; 3], &[0.0; 3])
                .is_err()
        );
    }
}

#[test]
fn mismatched_lengths_and_empty_games_are_refused() {
    let game = Linear::new(vec![1.0; 3]);
    let err = attribute(&game, &[1.0; 2], &[0.0; 3]).unwrap_err();
    assert_eq!(err.to_string(), "input has 2 entries but the game has 3 players");
    assert!(matches!(
        attribute(&game, &[1.0; 3], &[0.0; 4]),
        Err(Error::LengthMismatch { .. })
    ));
    let empty = Linear::new(vec![]);
    assert!(matches!(attribute(&empty, &[], &[]), Err(Error::NoPlayers)));
    assert!(matches!(exact_shapley(&empty, &[], &[]), Err(Error::NoPlayers)));
    assert!(matches!(
        PermutationShapley::default().estimate(&empty, &[], &[]),
        Err(Error::NoPlayers)
    ));
}

#[test]
fn invalid_settings_are_refused() {
    let game = Linear::new(vec![1.0; 3]);
    let x = [1.0; 3];
    let x0 = [0.0; 3];
    for engine in [
        AumannShapley::default().fixed(0),
        AumannShapley::default().rule(Rule::Trapezoid).fixed(1),
        AumannShapley::default().adaptive(8, 4, 1e-6),
        AumannShapley::default().adaptive(8, 64, 0.0),
        AumannShapley::default().adaptive(8, 64, f64::NAN),
        AumannShapley::default().batch(0),
    ] {
        assert!(
            matches!(engine.attribute(&game, &x, &x0), Err(Error::InvalidSetting(_))),
            "{engine:?}"
        );
    }
    let sampler = PermutationShapley {
        max_permutations: None,
        ..Default::default()
    };
    assert!(matches!(
        sampler.estimate(&game, &x, &x0),
        Err(Error::InvalidSetting(_))
    ));
    assert!(
        PermutationShapley::default()
            .target_std_error(-1.0)
            .estimate(&game, &x, &x0)
            .is_err()
    );
}

#[test]
fn an_unreachable_tolerance_returns_the_best_result_with_its_gap() {
    let game = ComposedLinear::new(vec![1.0, 2.0], f64::exp, f64::exp);
    let err = AumannShapley::default()
        .rule(Rule::RiemannLeft)
        .adaptive(2, 16, 1e-9)
        .attribute(&game, &[1.0, 1.0], &[0.0, 0.0])
        .unwrap_err();
    let message = err.to_string();
    let Error::ToleranceNotReached { tolerance, best } = err else {
        panic!("{message}")
    };
    assert_eq!(tolerance, 1e-9);
    assert_eq!(best.nodes, 16);
    assert!(!best.converged());
    assert!(best.relative_gap() > 1e-9 && best.relative_gap() < 0.1);
    let nodes: Vec<usize> = best.levels.iter().map(|l| l.nodes).collect();
    assert_eq!((nodes[0], nodes[nodes.len() - 1]), (2, 16), "{nodes:?}");
    assert!(message.contains("after 16 nodes"), "{message}");
}

struct Broken;
impl ValueFunction for Broken {
    fn players(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        if x[0] > 0.5 { f64::NAN } else { x[0] }
    }
    fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
        g.fill(1.0);
        self.value(x)
    }
}

#[test]
fn a_game_that_returns_nan_is_reported() {
    // Finite along this path, but the gradient disagrees with the value:
    // the completeness gap exposes it rather than a silently wrong answer.
    let err = attribute(&Broken, &[0.4, 1.0], &[0.0, 0.0]).unwrap_err();
    let Error::ToleranceNotReached { best, .. } = err else {
        panic!("{err}")
    };
    assert!((best.gap() - 1.0).abs() < 1e-12, "{}", best.gap());
    let err = attribute(&Broken, &[1.0, 1.0], &[0.0, 0.0]).unwrap_err();
    assert!(matches!(err, Error::NonFiniteOutput { .. }), "{err}");
    assert!(exact_shapley(&Broken, &[1.0, 1.0], &[0.0, 0.0]).is_err());
}

/// Memory does not grow with the node count: the engine never hands a game
/// more nodes per sweep than its batch size.
#[test]
fn sweeps_never_exceed_the_batch_size() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    struct Counting(Network, AtomicUsize);
    impl ValueFunction for Counting {
        fn players(&self) -> usize {
            self.0.players()
        }
        fn value(&self, x: &[f64]) -> f64 {
            self.0.value(x)
        }
        fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
            self.0.value_and_gradient(x, g)
        }
        fn accumulate_path_gradients(
            &self,
            path: aumann_engine::Path<'_>,
            taus: &[f64],
            weights: aumann_engine::NodeWeights<'_>,
            values: &mut [f64],
            accumulator: &mut [f64],
        ) {
            self.1.fetch_max(taus.len(), Ordering::Relaxed);
            self.0
                .accumulate_path_gradients(path, taus, weights, values, accumulator)
        }
    }
    let game = Counting(Network::random(5, 1), AtomicUsize::new(0));
    let r = AumannShapley::default()
        .fixed(300)
        .batch(7)
        .attribute(&game, &[1.0; 5], &[0.0; 5])
        .unwrap();
    assert_eq!(game.1.load(Ordering::Relaxed), 7);
    // Gauss–Legendre's companion lies on the rule's own nodes.
    assert_eq!(r.gradient_evaluations, 300);
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let game = Network::random(12, 77);
    let x = random_point(12, 1, -1.0, 1.0);
    let x0 = random_point(12, 2, -1.0, 1.0);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| {
            let path = AumannShapley::default().fixed(64).attribute(&game, &x, &x0).unwrap();
            let exact = exact_shapley(&game, &x, &x0).unwrap();
            let sampled = PermutationShapley::default()
                .permutations(200)
                .seed(5)
                .estimate(&game, &x, &x0)
                .unwrap();
            (path.phi, path.error, exact.phi, sampled.phi, sampled.std_error)
        })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        let many = run(threads);
        assert_eq!(format!("{one:?}"), format!("{many:?}"), "{threads} threads");
    }
}

#[test]
fn a_fixed_node_count_too_coarse_for_the_path_is_not_converged() {
    // F = exp(x1 + 2 x2) from 0 to 1: ΔF = e³ − 1. Eight left Riemann nodes
    // miss it by percents, which a fixed node count used to call converged.
    let game = ComposedLinear::new(vec![1.0, 2.0], f64::exp, f64::exp);
    let coarse = AumannShapley::default()
        .rule(Rule::RiemannLeft)
        .fixed(8)
        .attribute(&game, &[1.0, 1.0], &[0.0, 0.0])
        .unwrap();
    assert!(coarse.relative_gap() > 0.01, "{}", coarse.relative_gap());
    assert!(!coarse.converged());
    // Twelve Gauss–Legendre nodes resolve it to rounding: converged against
    // the default tolerance.
    let fine = AumannShapley::default()
        .fixed(12)
        .attribute(&game, &[1.0, 1.0], &[0.0, 0.0])
        .unwrap();
    assert!(fine.relative_gap() < 1e-12, "{}", fine.relative_gap());
    assert!(fine.converged());
}
