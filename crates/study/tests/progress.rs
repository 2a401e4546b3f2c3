//! What the study tells a progress display: real positions against real
//! totals, never a counter stuck at zero.

use aumann_data::progress::{Event, Recorder};
use aumann_data::synth::{SynthParams, generate};
use aumann_models::Indicator;
use aumann_study::{StudyConfig, run};

#[test]
fn every_stage_reports_positions_that_reach_their_total() {
    let data = generate(
        &SynthParams {
            agents: 1_500,
            steps: 3,
            ..SynthParams::default()
        },
        &(),
    );
    let config = StudyConfig {
        indicators: vec![Indicator::from_name("cascade").unwrap()],
        panel_size: 20,
        permutations: 10,
        ..StudyConfig::default()
    };
    let recorder = Recorder::default();
    let result = run(&data, &config, &recorder).unwrap();
    let events = recorder.events();
    let stages: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            Event::Stage(name, _) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        stages,
        [
            "building the replay",
            "attributing cascade over 1500 agents",
            "rankings: followers, activity, PageRank",
            "panels (cascade)",
            "deletion and insertion curves (cascade)"
        ]
    );
    // The build starts with a spinner (the follow graph and the gates have
    // no count to show), then counts the receivers whose rows are filled.
    assert_eq!(events[0], Event::Stage("building the replay".into(), None));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Advance(1_500, 1_500, d) if d == "receivers"))
    );
    // Each stage's last position is its total, and positions never go back.
    let mut last: Option<(u64, u64)> = None;
    let mut finals = Vec::new();
    for e in events.iter().skip(1) {
        match e {
            Event::Stage(..) => {
                finals.extend(last.take());
            }
            Event::Advance(done, total, _) => {
                assert!(done <= total && *done > 0, "{e:?}");
                if let Some((d, _)) = last {
                    assert!(*done >= d, "{e:?} after {last:?}");
                }
                last = Some((*done, *total));
            }
        }
    }
    finals.extend(last);
    assert_eq!(finals.len(), 4, "{events:?}");
    for (done, total) in &finals {
        assert_eq!(done, total);
    }
    // The attribution's total is the evaluations the engine spent, and the
    // status names the adaptive level.
    let evaluations = result.indicators[0].full.gradient_evaluations as u64;
    assert_eq!(finals[1], (evaluations, evaluations));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Advance(_, _, d) if d.contains("level 1 (24 nodes)")))
    );
}

/// An observer that says "stop" once the attribution has done `after`
/// gradient evaluations.
struct StopAfter {
    after: u64,
    seen: std::sync::atomic::AtomicU64,
}

impl aumann_data::progress::Observer for StopAfter {
    fn stage(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, done: u64, _: u64, detail: &str) {
        if detail.starts_with("gradient evaluations") {
            self.seen.store(done, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn interrupted(&self) -> bool {
        self.seen.load(std::sync::atomic::Ordering::Relaxed) >= self.after
    }
}

#[test]
fn an_interrupt_stops_the_study_between_sweeps() {
    let data = generate(
        &SynthParams {
            agents: 800,
            steps: 3,
            ..SynthParams::default()
        },
        &(),
    );
    let config = StudyConfig {
        indicators: vec![Indicator::from_name("linear").unwrap()],
        engine: aumann_engine::AumannShapley::default().fixed(64).batch(8),
        panel_size: 0,
        ..StudyConfig::default()
    };
    let observer = StopAfter {
        after: 16,
        seen: Default::default(),
    };
    let result = run(&data, &config, &observer);
    assert!(
        matches!(result, Err(aumann_study::StudyError::Interrupted)),
        "{result:?}"
    );
    // It stopped at the sweep that crossed the mark, not at the end.
    assert_eq!(observer.seen.load(std::sync::atomic::Ordering::Relaxed), 16);
    let never = StopAfter {
        after: u64::MAX,
        seen: Default::default(),
    };
    assert!(run(&data, &config, &never).is_ok());
}
