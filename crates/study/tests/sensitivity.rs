//! The sensitivity analysis (docs/sensitivity.md): every alternative is an
//! attribution whose numbers are checked against what is known apart from
//! the analysis (the linear control's closed form, forward replays, a
//! study on a population with the other stances).

use aumann_data::Dataset;
use aumann_data::baseline::BaselineGiven;
use aumann_data::synth::{SynthParams, generate};
use aumann_models::Indicator;
use aumann_models::indicators::CascadeParams;
use aumann_study::sensitivity::{AlternativeResult, Extent, SensitivityResult, SensitivitySpec};
use aumann_study::{StudyConfig, StudyError, StudyResult, run};
use std::sync::Arc;

fn data() -> Dataset {
    generate(
        &SynthParams {
            agents: 1_500,
            steps: 5,
            seed: 11,
            ..SynthParams::default()
        },
        &(),
    )
}

/// Every alternative runs (the full extent): the default's budget is its
/// own test.
fn config(indicator: Indicator, baseline: Option<BaselineGiven>) -> StudyConfig {
    StudyConfig {
        indicators: vec![indicator],
        panel_size: 0,
        permutations: 0,
        curves: None,
        sensitivity: Some(SensitivitySpec {
            extent: Extent::Full,
            baseline,
        }),
        ..StudyConfig::default()
    }
}

fn analysis(result: &StudyResult) -> &SensitivityResult {
    result.indicators[0].sensitivity.as_ref().expect("the analysis ran")
}

fn named<'a>(s: &'a SensitivityResult, starts: &str) -> &'a AlternativeResult {
    s.alternatives
        .iter()
        .find(|a| a.name.starts_with(starts))
        .unwrap_or_else(|| panic!("no alternative '{starts}'"))
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1e-300)
}

#[test]
fn the_linear_controls_phi_scales_with_the_input_minus_the_baseline_under_every_baseline() {
    let data = data();
    // Every agent at half of every gate, as a table of the user's.
    let rows: Vec<(String, Option<i64>, f64)> = data.external_ids.iter().map(|id| (id.clone(), None, 0.5)).collect();
    let result = run(
        &data,
        &config(Indicator::Linear, Some(BaselineGiven::Rows(Arc::new(rows)))),
        &(),
    )
    .unwrap();
    let s = analysis(&result);
    let reference = &result.indicators[0].attribution;
    let r = s.alternatives[0].numbers.as_ref().unwrap();
    // phi_g = w_g (1 − b): the total halves, the shares and the ranking stay.
    for name in ["every gate at 0.5", "the user's baseline"] {
        let half = named(s, name).numbers.as_ref().unwrap();
        assert!(
            close(half.delta, 0.5 * r.delta, 1e-12),
            "{name}: {} against {}",
            half.delta,
            r.delta
        );
        for (x, y) in [
            (half.head_share, r.head_share),
            (half.middle_share, r.middle_share),
            (half.tail_share, r.tail_share),
            (half.gini, r.gini),
        ] {
            assert!((x - y).abs() < 1e-12, "{name}: {x} against {y}");
        }
        // Agents with the same activity and followers tie; the two
        // attributions' quadratures differ in the last bit, so a tie at
        // the top set's edge may fall either way.
        assert!(half.top_overlap >= 0.95, "{name}: {}", half.top_overlap);
        assert!(half.spearman.unwrap() > 1.0 - 1e-12, "{name}: {:?}", half.spearman);
    }
    // Typical activity: each gate at n_i / T, so phi_g = w_g (1 − n_i / T),
    // with w_g the reference's phi (its baseline is 0) and n_i counted from
    // the reference's gate table.
    let steps = result.population.steps as f64;
    let mut gates_of = vec![0usize; data.population.agents];
    for &a in &reference.gate_agents {
        gates_of[a as usize] += 1;
    }
    let expected: f64 = (reference.gates.phi.iter().zip(&reference.gate_agents))
        .map(|(phi, &a)| phi * (1.0 - gates_of[a as usize] as f64 / steps))
        .sum();
    let typical = named(s, "typical activity").numbers.as_ref().unwrap();
    assert!(
        close(typical.delta, expected, 1e-10),
        "{} against {expected}",
        typical.delta
    );
    // The linear control is path-independent: time order changes nothing.
    let ordered = named(s, "time-ordered").numbers.as_ref().unwrap();
    assert!(close(ordered.delta, r.delta, 1e-12));
    assert!(
        ordered.spearman.unwrap() > 1.0 - 1e-12 && ordered.top_overlap >= 0.95,
        "{:?} {}",
        ordered.spearman,
        ordered.top_overlap
    );
}

#[test]
fn each_alternative_is_efficient_and_a_parameters_total_is_the_forward_difference_at_that_value() {
    let data = data();
    let cascade = Indicator::Cascade(CascadeParams { beta: 0.08, c: 0.3 });
    let result = run(&data, &config(cascade, None), &()).unwrap();
    let s = analysis(&result);
    let mut parameters = 0;
    for a in &s.alternatives {
        assert!(a.skipped.is_none(), "{}: {:?}", a.name, a.skipped);
        assert!(
            a.converged && a.relative_gap <= 1e-4,
            "{}: gap {}",
            a.name,
            a.relative_gap
        );
        if a.group != "parameter" {
            continue;
        }
        parameters += 1;
        // The name says the value ("beta = 0.04000 (0.5 times the value
        // used)"); a study at it says the total.
        let factor: f64 = a
            .name
            .split('(')
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let (beta, c) = if a.name.starts_with("beta = ") {
            (0.08 * factor, 0.3)
        } else {
            (0.08, 0.3 * factor)
        };
        let alone = StudyConfig {
            sensitivity: None,
            ..config(Indicator::Cascade(CascadeParams { beta, c }), None)
        };
        let full = &run(&data, &alone, &()).unwrap().indicators[0].full;
        let delta = a.numbers.as_ref().unwrap().delta;
        assert!(
            close(delta, full.value_input - full.value_baseline, 1e-12),
            "{}: {delta}",
            a.name
        );
    }
    // beta at 0.25, 0.5, 2 and 4 times; c the same but 4 times (1.2 is not
    // a share).
    assert_eq!(parameters, 7);
    assert!(s.cost_in_attributions > 0.0);
    assert_eq!(s.alternatives[0].group, "reference");
}

#[test]
fn a_stance_alternative_is_the_study_of_the_population_with_the_methods_stances_and_the_reference_stays() {
    let data = data();
    let polarization = Indicator::from_name("polarization").unwrap();
    let with = run(&data, &config(polarization, None), &()).unwrap();
    let without = run(
        &data,
        &StudyConfig {
            sensitivity: None,
            ..config(polarization, None)
        },
        &(),
    )
    .unwrap();
    // The stances were put back: the reference is the study's own.
    assert_eq!(
        with.indicators[0].attribution.agent_phi,
        without.indicators[0].attribution.agent_phi
    );
    let s = analysis(&with);
    let follows = named(s, "stances estimated by the follows method");
    let mut other = data.clone();
    aumann_data::stance::apply(
        &mut other,
        &aumann_data::stance::StanceRequest {
            method: aumann_data::stance::StanceMethod::Follows,
            file: None,
            ca: Default::default(),
        },
    )
    .unwrap();
    let alone = StudyConfig {
        sensitivity: None,
        ..config(polarization, None)
    };
    let full = &run(&other, &alone, &()).unwrap().indicators[0].full;
    let delta = follows.numbers.as_ref().unwrap().delta;
    assert!(close(delta, full.value_input - full.value_baseline, 1e-12), "{delta}");
}

#[test]
fn a_users_baseline_is_refused_before_the_work_when_it_is_wrong_and_its_left_out_rows_are_counted() {
    let data = data();
    let cascade = Indicator::from_name("cascade").unwrap();
    let id = |a: usize| data.external_ids[a].clone();
    let refused = |rows: Vec<(String, Option<i64>, f64)>, words: &str| {
        let error = run(&data, &config(cascade, Some(BaselineGiven::Rows(Arc::new(rows)))), &()).unwrap_err();
        assert!(matches!(error, StudyError::Baseline(_)), "{error}");
        assert!(error.to_string().contains(words), "{error}");
    };
    refused(
        vec![(id(0), None, 1.5)],
        "row 1: baseline 1.5 is not a gate value in [0, 1]",
    );
    refused(
        vec![(id(0), Some(5), 0.5)],
        "row 1: step 5 is outside the window's steps 0 to 4",
    );
    refused(
        vec![(id(0), Some(1), 0.5), (id(1), None, 0.2), (id(0), Some(1), 0.5)],
        "rows 1 and 3 both give",
    );
    // An account the population lacks, and a step at which the agent did
    // nothing, are skipped and counted.
    let result = run(&data, &config(cascade, None), &()).unwrap();
    let gates = &result.indicators[0].attribution;
    let idle = (0..data.population.agents)
        .flat_map(|a| (0..5u32).map(move |t| (a as u32, t)))
        .find(|&(a, t)| !(gates.gate_agents.iter().zip(&gates.gate_steps)).any(|(&ga, &gt)| ga == a && gt == t))
        .expect("some agent idle at some step");
    let rows = vec![
        ("nobody-here".to_string(), None, 0.5),
        (id(idle.0 as usize), Some(i64::from(idle.1)), 0.5),
        (id(3), None, 0.5),
    ];
    let result = run(&data, &config(cascade, Some(BaselineGiven::Rows(Arc::new(rows)))), &()).unwrap();
    let table = named(analysis(&result), "the user's baseline");
    let note = table.note.as_deref().unwrap();
    assert!(
        note.contains("1 of 3 rows name accounts the population does not have"),
        "{note}"
    );
    assert!(
        note.contains("1 rows give a step at which the agent did nothing"),
        "{note}"
    );
}

#[test]
fn the_analysis_is_the_same_on_one_thread_and_on_two() {
    let data = data();
    let polarization = Indicator::from_name("polarization").unwrap();
    let on = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| run(&data, &config(polarization, None), &()).unwrap())
    };
    let numbers = |r: &StudyResult| {
        analysis(r)
            .alternatives
            .iter()
            .map(|a| (a.name.clone(), a.gap.to_bits(), format!("{:?}", a.numbers)))
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&on(1)), numbers(&on(2)));
}

#[test]
fn the_default_runs_alternatives_in_order_of_priority_until_its_budget_is_spent() {
    let data = data();
    let polarization = Indicator::from_name("polarization").unwrap();
    let default = StudyConfig {
        sensitivity: Some(SensitivitySpec {
            extent: Extent::Default,
            baseline: None,
        }),
        ..config(polarization, None)
    };
    let result = run(&data, &default, &()).unwrap();
    let s = analysis(&result);
    // The budget is two of the reference's sweeps; a straight alternative
    // starts at 16 nodes (two sweeps of 8), the time-ordered path at one
    // sweep of 8 per step.
    let budget = 2 * s.alternatives[0].sweeps;
    assert_eq!(s.alternatives[0].sweeps, 3, "24 nodes in sweeps of 8");
    let groups: Vec<&str> = s.alternatives.iter().map(|a| a.group).collect();
    // The reference, then by priority: the half-open baseline, the
    // stances, the parameters, typical activity, the path.
    assert_eq!(
        groups,
        [
            "reference",
            "baseline",
            "stance",
            "stance",
            "parameter",
            "parameter",
            "baseline",
            "path"
        ]
    );
    let mut spent = 0;
    for a in &s.alternatives[1..] {
        let least = if a.group == "path" { result.population.steps } else { 2 };
        match &a.skipped {
            None => {
                assert!(
                    spent + least <= budget,
                    "{} started past the budget: {:?}",
                    a.name,
                    s.alternatives
                        .iter()
                        .map(|a| (a.sweeps, a.gradient_evaluations))
                        .collect::<Vec<_>>()
                );
                spent += a.sweeps;
            }
            Some(why) => {
                assert!(spent + least > budget, "{} had room", a.name);
                assert!(why.starts_with("not run within the default budget"), "{why}");
            }
        }
    }
    let run_ones = s.alternatives[1..].iter().filter(|a| a.skipped.is_none()).count();
    assert!(run_ones >= 2, "at least the half-open baseline and a stance fit");
    assert!(run_ones < s.alternatives.len() - 1, "the budget leaves some out here");
    // The full extent runs every one of them, and more.
    let full = run(&data, &config(polarization, None), &()).unwrap();
    let full = analysis(&full);
    // (All but the half-samples, which the generator's stances, not an
    // estimate, do not have.)
    assert!(
        full.alternatives
            .iter()
            .all(|a| a.skipped.is_none() || a.group == "stance half-sample")
    );
    assert!(full.alternatives.len() > s.alternatives.len());
}

#[test]
fn the_spread_of_the_stance_half_samples_shrinks_as_the_population_grows() {
    let polarization = Indicator::from_name("polarization").unwrap();
    // The interquartile range of ΔF over the half-samples, relative to
    // its median, on the built-in generator at two sizes.
    let spread = |agents: usize| {
        let mut data = generate(
            &SynthParams {
                agents,
                steps: 3,
                seed: 11,
                ..SynthParams::default()
            },
            &(),
        );
        // The stances the follows method estimates, as `aumann stance`
        // writes them: an estimate the half-samples refit.
        aumann_data::stance::apply(
            &mut data,
            &aumann_data::stance::StanceRequest {
                method: aumann_data::stance::StanceMethod::Follows,
                file: None,
                ca: Default::default(),
            },
        )
        .unwrap();
        let result = run(&data, &config(polarization, None), &()).unwrap();
        let s = analysis(&result);
        let replicates = s
            .alternatives
            .iter()
            .filter(|a| a.group == "stance half-sample")
            .count();
        assert_eq!(replicates, aumann_study::sensitivity::HALF_SAMPLES);
        let delta = &s.half_samples.iter().find(|n| n.number == "delta").unwrap().spread;
        assert_eq!(delta.count, replicates, "every half-sample attributed");
        (delta.q75 - delta.q25) / delta.median.abs()
    };
    let (small, large) = (spread(1_000), spread(16_000));
    // Sixteen times the accounts: about a quarter of the spread if it
    // falls as one over the square root; at least half is asked.
    assert!(large < 0.5 * small, "{large} against {small}");
}

#[test]
fn each_panel_is_compared_under_every_alternative_as_a_study_with_that_choice_compares_it() {
    let data = data();
    let with_panels = |indicator: Indicator| StudyConfig {
        panel_size: 40,
        ..config(indicator, None)
    };
    let cascade = Indicator::Cascade(CascadeParams { beta: 0.08, c: 0.3 });
    let result = run(&data, &with_panels(cascade), &()).unwrap();
    let study = &result.indicators[0];
    let s = analysis(&result);
    let own = |study: &aumann_study::IndicatorStudy| -> Vec<(String, f64, f64)> {
        (study.panels.iter())
            .filter(|p| p.skipped.is_none())
            .map(|p| {
                let c = &p.attributions[0].comparison;
                (format!("{:?}", c.verdict), c.rescale, c.residual)
            })
            .collect()
    };
    let of = |a: &AlternativeResult| -> Vec<(String, f64, f64)> {
        (a.numbers.as_ref().unwrap().panels.iter())
            .map(|p| (format!("{:?}", p.verdict), p.rescale, p.residual))
            .collect()
    };
    // The reference's panels are the study's own.
    assert_eq!(of(&s.alternatives[0]), own(study));
    assert_eq!(of(&s.alternatives[0]).len(), 3);
    // A parameter alternative's are those of a study at that value.
    let doubled = named(s, "beta = 0.16");
    let at = run(
        &data,
        &StudyConfig {
            sensitivity: None,
            ..with_panels(Indicator::Cascade(CascadeParams { beta: 0.16, c: 0.3 }))
        },
        &(),
    )
    .unwrap();
    // (The alternative's full scale refines to 1e-4 from 16 nodes, the
    // study's to 1e-6 from 24: c* and r agree to that.)
    let (mine, theirs) = (of(doubled), own(&at.indicators[0]));
    assert_eq!(mine.len(), theirs.len());
    for (m, t) in mine.iter().zip(&theirs) {
        assert_eq!(m.0, t.0);
        assert!(close(m.1, t.1, 1e-6) && close(m.2, t.2, 1e-6), "{m:?} against {t:?}");
    }
    // Every panel's verdict is a conclusion tested on every alternative
    // that attributed the panel.
    let panels: Vec<&str> = (s.conclusions.iter())
        .filter(|c| c.statement.contains(" panel reads "))
        .map(|c| c.statement.as_str())
        .collect();
    assert_eq!(panels.len(), 3, "{panels:?}");

    // The linear control: every panel of every alternative is reconciled by
    // c* = 1, since phi scales with x − x' in the panel and at full scale
    // alike.
    let result = run(&data, &with_panels(Indicator::Linear), &()).unwrap();
    let s = analysis(&result);
    let mut checked = 0;
    for a in s.alternatives.iter().filter(|a| a.numbers.is_some()) {
        for p in &a.numbers.as_ref().unwrap().panels {
            if p.verdict == aumann_study::compare::Verdict::Reconciled {
                assert!((p.rescale - 1.0).abs() < 1e-9 && p.residual < 1e-9, "{}: {p:?}", a.name);
                checked += 1;
            }
        }
    }
    assert!(checked >= 2 * (s.alternatives.len() - 1), "{checked}");
}

#[test]
fn a_fitted_parameter_is_tried_at_its_intervals_ends_and_the_total_there_is_the_fit_ranges() {
    let data = generate(
        &SynthParams {
            agents: 3_000,
            steps: 6,
            seed: 4,
            ..SynthParams::default()
        },
        &(),
    );
    let fitting = StudyConfig {
        fit: Some(0.3),
        ..config(Indicator::from_name("cascade").unwrap(), None)
    };
    let result = run(&data, &fitting, &()).unwrap();
    let fit = result.fit.as_ref().expect("the study fitted the cascade");
    let s = analysis(&result);
    let mut ends = 0;
    for estimate in fit.parameters().iter().filter(|e| e.identified) {
        let tried: Vec<&AlternativeResult> = (s.alternatives.iter())
            .filter(|a| a.group == "parameter" && a.name.starts_with(&format!("{} = ", estimate.name)))
            .collect();
        // The interval's ends, not the grid around the value used.
        assert!(
            tried.iter().all(|a| !a.name.contains("times the value used")),
            "{}",
            estimate.name
        );
        let range = result.fit_range.iter().find(|r| r.parameter == estimate.name).unwrap();
        for (end, at, words) in [
            (estimate.interval[0], range.lower, "lower end"),
            (estimate.interval[1], range.upper, "upper end"),
        ] {
            let (Some(_), Some((_, total))) = (end, at) else {
                continue;
            };
            let alternative = (tried.iter())
                .find(|a| a.name.contains(words))
                .unwrap_or_else(|| panic!("{}: no alternative at the {words}", estimate.name));
            // The study's fit_range made the same forward replays apart.
            let delta = alternative.numbers.as_ref().unwrap().delta;
            assert!(
                close(delta, total, 1e-12),
                "{}: {delta} against {total}",
                alternative.name
            );
            ends += 1;
        }
    }
    assert!(
        ends >= 2,
        "the fit identified at least one parameter with both ends here"
    );
}

#[test]
fn stances_that_are_no_label_free_estimate_have_no_half_samples_and_say_why() {
    let data = data();
    let result = run(&data, &config(Indicator::from_name("polarization").unwrap(), None), &()).unwrap();
    let s = analysis(&result);
    let half: Vec<&AlternativeResult> = s
        .alternatives
        .iter()
        .filter(|a| a.group == "stance half-sample")
        .collect();
    assert_eq!(half.len(), 1);
    assert!(
        half[0]
            .skipped
            .as_deref()
            .unwrap()
            .contains("not a label-free estimate"),
        "{:?}",
        half[0].skipped
    );
    assert!(s.half_samples.is_empty());
}
