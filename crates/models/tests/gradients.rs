//! Every indicator's reverse sweep against central finite differences and
//! against its own single-point gradient.

mod support;

use aumann_engine::SweepGame;
use aumann_engine::gradcheck::{check_gradient, check_path_batch};
use aumann_models::indicators::{CascadeParams, PanicParams, PolarizationParams};
use aumann_models::{Indicator, Network, Replay, ReplayOptions, Workspace};
use proptest::prelude::*;
use support::{interior_gates, random_population, with_network};

fn indicators() -> Vec<Indicator> {
    let mut all = Indicator::all();
    // Stronger settings than the defaults, so that the nonlinear terms
    // dominate the small test populations.
    all.push(Indicator::Polarization(PolarizationParams { kappa: 0.7 }));
    all.push(Indicator::Cascade(CascadeParams { beta: 0.6, c: 0.35 }));
    all.push(Indicator::Panic(PanicParams {
        lambda: 3.0,
        depth: Some(2.0),
    }));
    all
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn gradients_match_finite_differences(seed in any::<u64>(), agents in 1usize..25, steps in 1usize..5) {
        let population = random_population(agents, steps, seed);
        let replay = Replay::new(&population).unwrap();
        prop_assume!(replay.players() > 0);
        let x = interior_gates(replay.players(), seed ^ 9);
        for indicator in indicators() {
            let workspace = Workspace::new();
            let model = SweepGame(indicator.model(&replay, &workspace));
            let check = check_gradient(&model, &x, None, 1e-6, 1e-5, 1e-8, Some((0.0, 1.0)));
            prop_assert!(check.passed(), "{}: {check:?}", indicator.name());
        }
    }

    #[test]
    fn batched_sweeps_agree_with_single_points(seed in any::<u64>(), agents in 1usize..25, steps in 1usize..5) {
        let population = random_population(agents, steps, seed);
        let replay = Replay::new(&population).unwrap();
        prop_assume!(replay.players() > 0);
        let x = interior_gates(replay.players(), seed ^ 3);
        let x0 = interior_gates(replay.players(), seed ^ 4);
        for indicator in indicators() {
            let workspace = Workspace::new();
            let model = SweepGame(indicator.model(&replay, &workspace));
            let err = check_path_batch(&model, &x0, &x, &[0.0, 0.13, 0.5, 0.91, 1.0]);
            prop_assert!(err < 1e-12, "{}: {err:e}", indicator.name());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Timed follows, exposures and reposts make the sweeps time-varying
    /// and their emissions products of gates; the reverse sweep still
    /// matches finite differences on every network.
    #[test]
    fn gradients_over_exposures_and_reposts_match_finite_differences(
        seed in any::<u64>(), agents in 2usize..20, steps in 1usize..5,
    ) {
        let population = with_network(random_population(agents, steps, seed), seed ^ 7);
        for network in [Network::Follows, Network::Exposures, Network::Both] {
            let replay = Replay::with_progress(&population, ReplayOptions { network, ..Default::default() }, &|_, _| {}).unwrap();
            prop_assume!(replay.players() > 0);
            let x = interior_gates(replay.players(), seed ^ 9);
            let x0 = interior_gates(replay.players(), seed ^ 4);
            for indicator in indicators() {
                let workspace = Workspace::new();
                let model = SweepGame(indicator.model(&replay, &workspace));
                let check = check_gradient(&model, &x, None, 1e-6, 1e-5, 1e-8, Some((0.0, 1.0)));
                prop_assert!(check.passed(), "{} over {network:?}: {check:?}", indicator.name());
                let err = check_path_batch(&model, &x0, &x, &[0.0, 0.13, 0.5, 0.91, 1.0]);
                prop_assert!(err < 1e-12, "{} over {network:?}: {err:e}", indicator.name());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Arbitrary points evaluated in one pass (deletion and insertion
    /// curves) agree with each point swept on its own, on every network.
    #[test]
    fn batched_points_agree_with_single_points(seed in any::<u64>(), agents in 2usize..20, steps in 1usize..4, k in 1usize..19) {
        use aumann_engine::ValueFunction;
        let population = with_network(random_population(agents, steps, seed), seed ^ 5);
        let replay = Replay::with_progress(&population, ReplayOptions::default(), &|_, _| {}).unwrap();
        prop_assume!(replay.players() > 0);
        let points: Vec<Vec<f64>> = (0..k as u64).map(|m| interior_gates(replay.players(), seed ^ (m + 11))).collect();
        let refs: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
        for indicator in indicators() {
            let workspace = Workspace::new();
            let model = indicator.model(&replay, &workspace);
            let mut batched = vec![0.0; k];
            model.values_at(&refs, &mut batched);
            let single = SweepGame(indicator.model(&replay, &workspace));
            for (m, p) in points.iter().enumerate() {
                let v = single.value(p);
                prop_assert!((batched[m] - v).abs() <= 1e-12 * v.abs().max(1e-300), "{} point {m}: {} against {v}", indicator.name(), batched[m]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Subsets of gates (deletion and insertion points) read as masks agree
    /// with the same points built in full, with and without reposts.
    #[test]
    fn subsets_agree_with_the_points_they_describe(seed in any::<u64>(), agents in 2usize..20, steps in 1usize..4, k in 1usize..17, reposts in any::<bool>()) {
        let mut population = with_network(random_population(agents, steps, seed), seed ^ 5);
        if !reposts {
            population.reposts.clear();
        }
        let replay = Replay::with_progress(&population, ReplayOptions::default(), &|_, _| {}).unwrap();
        prop_assume!(replay.players() > 0);
        let input = interior_gates(replay.players(), seed ^ 1);
        let baseline = interior_gates(replay.players(), seed ^ 2);
        let masks: Vec<u16> = interior_gates(replay.players(), seed ^ 3).iter().map(|u| (u * 65535.0) as u16).collect();
        let points: Vec<Vec<f64>> = (0..k)
            .map(|m| (0..replay.players()).map(|g| if masks[g] >> m & 1 == 1 { input[g] } else { baseline[g] }).collect())
            .collect();
        let refs: Vec<&[f64]> = points.iter().map(Vec::as_slice).collect();
        for indicator in indicators() {
            let workspace = Workspace::new();
            let model = indicator.model(&replay, &workspace);
            let mut by_masks = vec![0.0; k];
            model.values_on_subsets(aumann_engine::Path { baseline: &baseline, input: &input }, &masks, &mut by_masks);
            let mut by_points = vec![0.0; k];
            model.values_at(&refs, &mut by_points);
            for m in 0..k {
                let v = by_points[m];
                prop_assert!((by_masks[m] - v).abs() <= 1e-12 * v.abs().max(1e-300), "{} subset {m}: {} against {v}", indicator.name(), by_masks[m]);
            }
        }
    }
}
