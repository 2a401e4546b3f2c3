//! Many draws of the sampled panels: each draw is the panel a study with
//! that seed reports, the spread is numpy's quartiles of them, and the
//! count of draws is checked.

use aumann_data::synth::{SynthParams, generate};
use aumann_models::Indicator;
use aumann_study::panel::PanelKind;
use aumann_study::{Spread, StudyConfig, StudyError, run};

fn config(seed: u64, draws: usize) -> StudyConfig {
    StudyConfig {
        indicators: vec![Indicator::from_name("cascade").unwrap()],
        panel_size: 60,
        panel_seed: seed,
        panel_draws: draws,
        permutations: 0,
        curves: None,
        ..StudyConfig::default()
    }
}

/// numpy.quantile's default (linear between order statistics), written
/// out apart from the study's.
fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

#[test]
fn each_draw_is_the_panel_of_a_study_with_that_seed_and_the_spread_is_their_quartiles() {
    let data = generate(
        &SynthParams {
            agents: 2_000,
            steps: 4,
            seed: 3,
            ..SynthParams::default()
        },
        &(),
    );
    let draws = 6;
    let result = run(&data, &config(7, draws), &()).unwrap();
    let spreads = &result.indicators[0].panel_draws;
    assert_eq!(spreads.len(), 2);
    for kind in [PanelKind::Random, PanelKind::Snowball] {
        // The same panels one study per seed reports.
        let mut rescale = Vec::new();
        let mut verdicts = std::collections::BTreeMap::new();
        for seed in 7..7 + draws as u64 {
            let one = run(&data, &config(seed, 1), &()).unwrap();
            assert!(one.indicators[0].panel_draws.is_empty());
            let panel = one.indicators[0].panels.iter().find(|p| p.kind == kind).unwrap();
            let c = &panel.attributions[0].comparison;
            rescale.push(c.rescale);
            let name = serde_json::to_value(c.verdict).unwrap();
            *verdicts.entry(name.as_str().unwrap().to_string()).or_insert(0) += 1;
        }
        let d = spreads.iter().find(|d| d.kind == kind).unwrap();
        assert_eq!((d.draws, d.skipped), (draws, 0));
        assert_eq!(d.verdicts, verdicts);
        let s = d.rescale.as_ref().unwrap();
        assert_eq!(s.count, draws);
        for (got, q) in [
            (s.min, 0.0),
            (s.q25, 0.25),
            (s.median, 0.5),
            (s.q75, 0.75),
            (s.max, 1.0),
        ] {
            assert!(
                (got - quantile(&rescale, q)).abs() <= 1e-15 * got.abs().max(1.0),
                "{kind:?} q{q}: {got}"
            );
        }
        // Different draws: the spread is not one value repeated.
        assert!(s.max > s.min, "{kind:?}: {s:?}");
    }
}

#[test]
fn the_spread_of_four_values_is_numpys() {
    let s = Spread::of(&[4.0, 1.0, 3.0, 2.0]).unwrap();
    assert_eq!((s.min, s.q25, s.median, s.q75, s.max), (1.0, 1.75, 2.5, 3.25, 4.0));
    assert!(Spread::of(&[]).is_none());
}

#[test]
fn zero_draws_are_refused() {
    let refused = config(1, 0).check(&|n| format!("--{n}")).unwrap_err();
    assert!(
        matches!(&refused, StudyError::Settings(m) if m.contains("--panel-draws takes 1 to")),
        "{refused}"
    );
}
