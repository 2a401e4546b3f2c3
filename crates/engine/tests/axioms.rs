//! The four axioms of Aumann–Shapley attribution, as properties of random games.

mod support;

use aumann_engine::{AumannShapley, ValueFunction, attribute, gradcheck::check_gradient};
use proptest::prelude::*;
use support::{Network, Sum, assert_close, random_point};

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_network_gradient_matches_finite_differences(seed in any::<u64>(), n in 1usize..12) {
        let game = Network::random(n, seed);
        let x = random_point(n, seed ^ 1, -1.5, 1.5);
        let check = check_gradient(&game, &x, None, 1e-6, 1e-6, 1e-8, None);
        prop_assert!(check.passed(), "{check:?}");
    }

    #[test]
    fn efficiency_holds_to_the_tolerance(seed in any::<u64>(), n in 1usize..12) {
        let game = Network::random(n, seed);
        let x = random_point(n, seed ^ 1, -1.5, 1.5);
        let x0 = random_point(n, seed ^ 2, -1.0, 1.0);
        let r = attribute(&game, &x, &x0).unwrap();
        prop_assert!(r.converged());
        prop_assert!(r.within(1e-6), "relative gap {}", r.relative_gap());
        prop_assert!((r.total() - (game.value(&x) - game.value(&x0))).abs() <= 1e-6 * r.target().abs() + 1e-12);
    }

    #[test]
    fn symmetric_players_get_equal_shares(seed in any::<u64>(), n in 2usize..12, pick in any::<(usize, usize)>()) {
        let (i, j) = (pick.0 % n, (pick.0 % n + 1 + pick.1 % (n - 1)) % n);
        let mut game = Network::random(n, seed);
        game.symmetrize(i, j);
        let mut x = random_point(n, seed ^ 1, -1.5, 1.5);
        let mut x0 = random_point(n, seed ^ 2, -1.0, 1.0);
        x[j] = x[i];
        x0[j] = x0[i];
        let r = attribute(&game, &x, &x0).unwrap();
        let scale = r.phi.iter().fold(1e-12f64, |m, p| m.max(p.abs()));
        prop_assert!((r.phi[i] - r.phi[j]).abs() <= 1e-12 * scale, "{} vs {}", r.phi[i], r.phi[j]);
    }

    #[test]
    fn a_null_player_gets_zero(seed in any::<u64>(), n in 2usize..12, pick in any::<usize>()) {
        let i = pick % n;
        let mut game = Network::random(n, seed);
        game.silence(i);
        let x = random_point(n, seed ^ 1, -1.5, 1.5);
        let x0 = random_point(n, seed ^ 2, -1.0, 1.0);
        let r = attribute(&game, &x, &x0).unwrap();
        prop_assert_eq!(r.phi[i], 0.0);
        prop_assert_eq!(r.error[i], 0.0);
    }

    #[test]
    fn attribution_is_linear_in_the_game(seed in any::<u64>(), n in 1usize..12, nodes in 2usize..40) {
        let f = Network::random(n, seed);
        let g = Network::random(n, seed.wrapping_add(1));
        let x = random_point(n, seed ^ 1, -1.5, 1.5);
        let x0 = random_point(n, seed ^ 2, -1.0, 1.0);
        for rule in aumann_engine::Rule::ALL {
            let engine = AumannShapley::default().rule(rule).fixed(nodes);
            let pf = engine.attribute(&f, &x, &x0).unwrap();
            let pg = engine.attribute(&g, &x, &x0).unwrap();
            let both = engine.attribute(&Sum(f.clone(), g.clone()), &x, &x0).unwrap();
            let sum: Vec<f64> = pf.phi.iter().zip(&pg.phi).map(|(a, b)| a + b).collect();
            let scale = sum.iter().fold(1.0f64, |m, p| m.max(p.abs()));
            assert_close(&both.phi, &sum, 1e-12 * scale, 0.0, rule.name());
        }
    }
}

#[test]
fn the_gradient_check_catches_a_wrong_gradient() {
    struct Off(Network);
    impl ValueFunction for Off {
        fn players(&self) -> usize {
            self.0.players()
        }
        fn value(&self, x: &[f64]) -> f64 {
            self.0.value(x)
        }
        fn value_and_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
            let v = self.0.value_and_gradient(x, g);
            g[3] *= 1.0 + 1e-4;
            v
        }
    }
    let game = Off(Network::random(6, 1));
    let x = random_point(6, 2, -1.0, 1.0);
    let check = check_gradient(&game, &x, None, 1e-6, 1e-6, 1e-8, None);
    assert!(!check.passed());
    assert_eq!(check.worst_index, 3);
}
