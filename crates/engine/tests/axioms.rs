//! The four axioms of Aumann–Shapley attribution, as properties of random games.

mod support;

use aumann_engine::{AumannShapley, ValueFunction, attribute, gradcheck::check_gradient};
use proptest::prelude::*;
use support::{Homogeneous, Network, Sum, assert_close, random_point};

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
    fn efficiency_holds_exactly_where_the_rule_is_exact(seed in any::<u64>(), n in 1usize..12, degree in 1usize..9) {
        // A polynomial of degree k along any straight path has a gradient
        // of degree k - 1 in tau, which Gauss–Legendre with ceil(k / 2)
        // nodes integrates exactly: then sum phi = F(x) - F(x') to
        // rounding, with F evaluated by the game itself, and a wrong weight,
        // node or path factor (x - x') shows.
        let game = Homogeneous::random(n, degree, 6, seed);
        let x = random_point(n, seed ^ 1, -1.5, 1.5);
        let x0 = random_point(n, seed ^ 2, -1.0, 1.0);
        let nodes = degree.div_ceil(2).max(1);
        let r = AumannShapley::default().fixed(nodes).attribute(&game, &x, &x0).unwrap();
        let delta = game.value(&x) - game.value(&x0);
        let scale: f64 = r.phi.iter().map(|p| p.abs()).sum::<f64>() + delta.abs() + 1e-300;
        let total: f64 = r.phi.iter().sum();
        prop_assert!((total - delta).abs() <= 1e-12 * scale, "sum {total} vs {delta}");
        // From the origin each phi has a closed form: along tau x the
        // gradient is tau^(k-1) times the gradient at x, so
        // phi_i = x_i dF/dx_i(x) / k (Euler's theorem makes them sum to F).
        let r = AumannShapley::default().fixed(nodes).attribute(&game, &x, &vec![0.0; n]).unwrap();
        let mut gradient = vec![0.0; n];
        game.value_and_gradient(&x, &mut gradient);
        let expected: Vec<f64> = (0..n).map(|i| x[i] * gradient[i] / degree as f64).collect();
        let scale = expected.iter().fold(1e-300f64, |m, p| m.max(p.abs()));
        assert_close(&r.phi, &expected, 1e-12 * scale, 0.0, "closed form");
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
    fn attribution_is_linear_in_the_game(seed in any::<u64>(), n in 1usize..12) {
        // Two homogeneous polynomials of degrees 3 and 5 from the origin:
        // each attributed alone has the closed form x_i dF/dx_i(x) / k, so
        // the sum game's attribution, made adaptively on its own, must be
        // the sum of the two closed forms, which the engine never sees.
        let f = Homogeneous::random(n, 3, 5, seed);
        let g = Homogeneous::random(n, 5, 5, seed.wrapping_add(1));
        let x = random_point(n, seed ^ 1, -1.5, 1.5);
        let origin = vec![0.0; n];
        let closed = |game: &Homogeneous, k: f64| -> Vec<f64> {
            let mut gradient = vec![0.0; n];
            game.value_and_gradient(&x, &mut gradient);
            (0..n).map(|i| x[i] * gradient[i] / k).collect()
        };
        let expected: Vec<f64> = closed(&f, 3.0).iter().zip(closed(&g, 5.0)).map(|(a, b)| a + b).collect();
        let both = attribute(&Sum(f.clone(), g.clone()), &x, &origin).unwrap();
        let scale = expected.iter().fold(1e-300f64, |m, p| m.max(p.abs()));
        assert_close(&both.phi, &expected, 1e-11 * scale, 0.0, "sum of the games");
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
