//! The default attribution's per-agent error estimate against the true
//! error, on the built-in population: the estimate must track it (rank
//! correlation) and bound it for nearly every agent. The true error is the
//! distance to a 96-node attribution, whose own error is far below.

use aumann_data::synth::{SynthParams, generate};
use aumann_engine::AumannShapley;
use aumann_models::{Indicator, Replay, attribute};
use aumann_study::compare::spearman;

#[test]
fn the_default_estimate_tracks_and_nearly_always_bounds_the_true_error() {
    let data = generate(
        &SynthParams {
            agents: 6_000,
            steps: 7,
            seed: 11,
            ..SynthParams::default()
        },
        &(),
    );
    let replay = Replay::new(&data.population).unwrap();
    for name in ["polarization", "cascade"] {
        let indicator = Indicator::from_name(name).unwrap();
        let default = attribute(&replay, indicator, &AumannShapley::default()).unwrap();
        let reference = attribute(&replay, indicator, &AumannShapley::default().fixed(96)).unwrap();
        assert_eq!(default.gates.gradient_evaluations, 24, "{name}: one level of 24 nodes");
        let largest = reference.agent_phi.iter().fold(0.0f64, |m, p| m.max(p.abs()));
        let (mut truth, mut estimate) = (Vec::new(), Vec::new());
        for i in 0..default.agent_phi.len() {
            if reference.agent_phi[i].abs() >= 1e-6 * largest {
                truth.push((default.agent_phi[i] - reference.agent_phi[i]).abs());
                estimate.push(default.agent_error[i].abs());
            }
        }
        let bounded = truth.iter().zip(&estimate).filter(|(t, e)| e >= t).count() as f64 / truth.len() as f64;
        let rank = spearman(&truth, &estimate).unwrap();
        eprintln!(
            "{name}: {} agents, estimate >= true error for {bounded:.4}, Spearman {rank:.3}",
            truth.len()
        );
        assert!(
            bounded > 0.9,
            "{name}: the estimate bounds the error for only {bounded:.3} of agents"
        );
        assert!(rank > 0.5, "{name}: Spearman {rank:.3}");
    }
}
