//! A population no bigger than the panel size: the panels would be the
//! population itself, so none is replayed, and the result and the report
//! say why.

use aumann_data::progress::{Event, Recorder};
use aumann_data::synth::{SynthParams, generate};
use aumann_models::Indicator;
use aumann_study::{StudyConfig, run};

#[test]
fn no_panel_is_replayed_when_the_panel_would_be_the_whole_population() {
    let data = generate(
        &SynthParams {
            agents: 60,
            steps: 3,
            ..SynthParams::default()
        },
        &(),
    );
    let config = StudyConfig {
        indicators: vec![Indicator::from_name("cascade").unwrap()],
        panel_size: 60,
        permutations: 10,
        ..StudyConfig::default()
    };
    let recorder = Recorder::default();
    let result = run(&data, &config, &recorder).unwrap();
    let study = &result.indicators[0];
    assert_eq!(study.panels.len(), 3);
    for panel in &study.panels {
        let why = panel.skipped.as_deref().expect("skipped");
        assert!(why.contains("60 agents, no more than the panel size 60"), "{why}");
        assert!(panel.attributions.is_empty());
    }
    // No panel stage was shown, and the full-scale attribution is whole.
    assert!(
        !recorder
            .events()
            .iter()
            .any(|e| matches!(e, Event::Stage(s, _) if s.starts_with("panels")))
    );
    assert!(study.full.relative_gap < 1e-6);
    let html = aumann_study::report::render(&result, None, 1.0);
    assert!(
        html.contains("no panel replayed: the population has 60 agents"),
        "header"
    );
    assert!(!html.contains("same population"));
    // Python hands over a population it already had: no load time.
    assert!(!html.contains("load or generate"));

    // One agent more than the panel: the panels run.
    let config = StudyConfig {
        panel_size: 59,
        ..config
    };
    let result = run(&data, &config, &Recorder::default()).unwrap();
    assert!(result.indicators[0].panels.iter().all(|p| p.skipped.is_none()));
    let html = aumann_study::report::render(&result, Some(0.5), 1.0);
    assert!(
        html.contains("top-followers, random and snowball panels of 59 agents each"),
        "header"
    );
    assert!(html.contains("load or generate"));
}

#[test]
fn follows_with_a_begin_step_count_among_the_follow_edges() {
    let mut data = generate(
        &SynthParams {
            agents: 200,
            steps: 3,
            ..SynthParams::default()
        },
        &(),
    );
    let population = &mut data.population;
    let rows = population.follows.len();
    assert!(rows > 100);
    // Half the follows begin at step 1, as an OASIS run's dated follows do.
    population.follow_spans = (0..rows)
        .map(|k| aumann_models::FollowSpan {
            begin: (k % 2 == 0).then_some(1),
            end: None,
        })
        .collect();
    let config = StudyConfig {
        indicators: vec![Indicator::from_name("cascade").unwrap()],
        panel_size: 0,
        curves: None,
        ..StudyConfig::default()
    };
    let result = run(&data, &config, &Recorder::default()).unwrap();
    assert_eq!(result.population.follow_edges, rows);
}
