//! A study that fits the cascade first: the attribution uses the fitted
//! values, summary.json and the report carry the fit, and the settings a
//! fit cannot take are refused.

use aumann_data::stance::StancesGiven;
use aumann_data::synth::{SynthParams, generate};
use aumann_fit::plant::plant_polarization;
use aumann_models::Indicator;
use aumann_models::Replay;
use aumann_models::indicators::CascadeParams;
use aumann_models::indicators::PolarizationParams;
use aumann_study::{Cluster, Figures, Input, Run, RunError, StudyConfig, StudyError, output, report, run};
use std::sync::Arc;

fn config(fit: Option<f64>) -> StudyConfig {
    StudyConfig {
        indicators: vec![
            Indicator::from_name("cascade").unwrap(),
            Indicator::from_name("linear").unwrap(),
        ],
        panel_size: 0,
        curves: None,
        fit,
        ..StudyConfig::default()
    }
}

#[test]
fn a_study_that_fits_attributes_with_the_fitted_values_and_reports_the_fit() {
    let data = generate(
        &SynthParams {
            agents: 3_000,
            steps: 6,
            seed: 4,
            ..SynthParams::default()
        },
        &(),
    );
    let result = run(&data, &config(Some(0.3)), &()).unwrap();
    let Some(aumann_fit::Fit::Cascade(fit)) = result.fit.as_ref() else {
        panic!("the study fitted the cascade")
    };
    let used = |name: &str| fit.parameters.iter().find(|p| p.name == name).unwrap().used;
    let fitted = Indicator::Cascade(CascadeParams {
        beta: used("beta"),
        c: used("cascade-c"),
    });
    assert_ne!(
        fitted,
        Indicator::from_name("cascade").unwrap(),
        "the fit moved the defaults"
    );
    assert_eq!(result.indicators[0].indicator, fitted);
    assert_eq!(result.indicators[1].indicator, Indicator::from_name("linear").unwrap());
    // The same attribution as one given the fitted values by hand.
    let by_hand = StudyConfig {
        indicators: vec![fitted],
        ..config(None)
    };
    let again = run(&data, &by_hand, &()).unwrap();
    assert!(again.fit.is_none());
    assert_eq!(
        again.indicators[0].attribution.agent_phi,
        result.indicators[0].attribution.agent_phi
    );
    // The total at β's interval ends, c as used: what a study at those
    // values attributes.
    let range = result
        .fit_range
        .iter()
        .find(|r| r.parameter == "beta")
        .expect("beta's range");
    let full = &result.indicators[0].full;
    let total = full.value_input - full.value_baseline;
    assert!(
        (range.used.1 - total).abs() <= 1e-12 * total.abs(),
        "{range:?} against {total}"
    );
    let (lower, upper) = (range.lower.unwrap(), range.upper.unwrap());
    assert!(lower.0 < range.used.0 && range.used.0 < upper.0, "{range:?}");
    for (beta, expected) in [lower, upper] {
        let at = StudyConfig {
            indicators: vec![Indicator::Cascade(CascadeParams {
                beta,
                c: used("cascade-c"),
            })],
            ..config(None)
        };
        let there = run(&data, &at, &()).unwrap();
        let f = &there.indicators[0].full;
        let total = f.value_input - f.value_baseline;
        assert!(
            (expected - total).abs() <= 1e-12 * total.abs(),
            "at beta {beta}: {expected} against {total}"
        );
    }
    // More hazard, more reach.
    assert!(lower.1 < range.used.1 && range.used.1 < upper.1, "{range:?}");
    let summary: serde_json::Value = serde_json::from_str(&output::summary_json(&result)).unwrap();
    assert_eq!(summary["fit"]["indicator"], "cascade");
    assert!(summary["fit_range"].as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(summary["fit"]["parameters"][0]["used"].as_f64(), Some(used("beta")));
    let page = report::render(&result, None, 1.0);
    assert!(page.contains("Does the replay match what happened") && page.contains("On steps held out of the fit"));
    // Six steps: five read steps, two held out, so each is also left out
    // in turn; the chart of responses per step sits in the section.
    assert!(page.contains("Each step left out in turn"), "cross-validated");
    assert!(page.contains("with each parameter at the ends of its interval"));
    let figures = aumann_study::figures::fit_figures(&result, aumann_study::svg::WIDE);
    assert_eq!(figures.len(), 1);
    assert_eq!(figures[0].name, "cascade-fit");
    assert!(page.contains(&figures[0].svg), "the chart is in the report");
    // Its data are fit.json's numbers, one row per step.
    let rows: Vec<&str> = figures[0].csv.lines().collect();
    assert_eq!(rows[0], "step,at_risk,observed,fitted,defaults,constant_rate");
    assert_eq!(rows.len(), fit.responses_per_step.len() + 1);
    let first = &fit.responses_per_step[0];
    assert!(rows[1].starts_with(&format!("{},{},{},", first.step, first.at_risk, first.observed)));
    let page = report::render(&again, None, 1.0);
    assert!(!page.contains("Does the replay match what happened"));
    assert!(aumann_study::figures::fit_figures(&again, aumann_study::svg::WIDE).is_empty());
}

#[test]
fn a_fit_without_the_cascade_or_on_a_cluster_is_refused() {
    let flag = |name: &str| format!("--{name}");
    let polarization = StudyConfig {
        indicators: vec![Indicator::from_name("polarization").unwrap()],
        ..config(Some(0.3))
    };
    let refused = polarization.check(&flag).unwrap_err();
    assert!(
        matches!(&refused, StudyError::Settings(m) if m.contains("--fit fits the cascade's parameters")),
        "{refused}"
    );
    // Stances make the fit polarization's, which must be chosen; and they
    // are a fit's observations, refused without one.
    let stances = Some(StancesGiven::Rows(Arc::new(vec![("a".into(), 0, 0.5)])));
    let cascade = StudyConfig {
        stances: stances.clone(),
        ..config(Some(0.3))
    };
    let refused = cascade.check(&flag).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("--fit fits polarization's parameters to the stances observed: choose polarization"),
        "{refused}"
    );
    let without = StudyConfig {
        stances,
        ..polarization.clone()
    };
    let without = StudyConfig { fit: None, ..without };
    let refused = without.check(&flag).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("--stances are the observations of a fit: give --fit too"),
        "{refused}"
    );
    let share = config(Some(1.5)).check(&flag).unwrap_err();
    assert!(
        share
            .to_string()
            .contains("--held-out is a share of the steps in [0, 1)"),
        "{share}"
    );
    let on_a_cluster = Run {
        input: Input::Generated(SynthParams {
            agents: 100,
            steps: 3,
            ..SynthParams::default()
        }),
        input_label: "a test".into(),
        config: config(Some(0.3)),
        out: None,
        report: false,
        figures: Figures::None,
        checkpoint_dir: None,
        cluster: Some(Cluster {
            addresses: vec!["127.0.0.1:1".into()],
            process: 0,
            workers: 1,
            connect_timeout: std::time::Duration::from_secs(1),
            peer_timeout: std::time::Duration::from_secs(1),
        }),
        threads: None,
        option_name: |name| format!("--{name}"),
    };
    let refused = on_a_cluster.check().unwrap_err();
    assert!(
        matches!(&refused, RunError::Settings(m) if m.contains("--fit runs in one process")),
        "{refused}"
    );
}

#[test]
fn a_study_fitting_polarization_starts_from_the_first_steps_stances_and_attributes_with_the_fitted_kappa() {
    let mut data = generate(
        &SynthParams {
            agents: 2_000,
            steps: 5,
            seed: 6,
            ..SynthParams::default()
        },
        &(),
    );
    // Stances per step drawn at kappa = 4 from stances other than the
    // population's: the study must start from the observed ones.
    let mut shifted = data.clone();
    for s in &mut shifted.population.stance {
        *s = 0.5 + 0.8 * (*s - 0.5);
    }
    let replay = Replay::new(&shifted.population).unwrap();
    let planted = plant_polarization(&replay, PolarizationParams { kappa: 4.0 }, 0.1, 2);
    let rows: Vec<(String, i64, f64)> = planted
        .iter()
        .map(|o| (data.external_ids[o.agent as usize].clone(), o.step as i64, o.stance))
        .chain([("nobody".to_string(), 0, 0.5)])
        .collect();
    let polarization = StudyConfig {
        indicators: vec![Indicator::from_name("polarization").unwrap()],
        stances: Some(StancesGiven::Rows(Arc::new(rows))),
        ..config(Some(0.3))
    };
    let result = run(&data, &polarization, &()).unwrap();
    let Some(aumann_fit::Fit::Polarization(fit)) = result.fit.as_ref() else {
        panic!("the study fitted polarization")
    };
    assert_eq!(fit.data.unknown_accounts, 1);
    assert_eq!(fit.data.observed_at_start, 2_000);
    let kappa = fit.parameters[0].used;
    assert!((kappa - 4.0).abs() < 0.3, "{:?}", fit.parameters);
    assert_eq!(
        result.indicators[0].indicator,
        Indicator::Polarization(PolarizationParams { kappa })
    );
    // By hand: the population given the stances of step 0, attributed at
    // the fitted kappa, gives the same bits; the population as it was
    // does not.
    let by_hand = StudyConfig {
        indicators: vec![Indicator::Polarization(PolarizationParams { kappa })],
        ..config(None)
    };
    let as_it_was = run(&data, &by_hand, &()).unwrap();
    assert_ne!(
        as_it_was.indicators[0].attribution.agent_phi,
        result.indicators[0].attribution.agent_phi
    );
    data.population.stance = shifted.population.stance.clone();
    let again = run(&data, &by_hand, &()).unwrap();
    assert_eq!(
        again.indicators[0].attribution.agent_phi,
        result.indicators[0].attribution.agent_phi
    );
    let page = report::render(&result, None, 1.0);
    assert!(page.contains("Polarization per step") && page.contains("fitted to the stances observed per step"));
    let figures = aumann_study::figures::fit_figures(&result, aumann_study::svg::WIDE);
    assert_eq!(figures.len(), 1);
    assert_eq!(figures[0].name, "polarization-fit");
    assert!(page.contains(&figures[0].svg));
    let summary: serde_json::Value = serde_json::from_str(&output::summary_json(&result)).unwrap();
    assert_eq!(summary["fit"]["indicator"], "polarization");
}
