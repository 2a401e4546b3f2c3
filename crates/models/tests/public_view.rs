//! A backend written beside the crate: the cascade's forward replay over
//! the public, read-only view of a replay (its step graphs, their extra
//! edges, reposted content), checked against the built-in model. If the
//! view left out something the sweep reads, this replay would disagree.

mod support;

use aumann_engine::{SweepGame, ValueFunction};
use aumann_models::indicators::CascadeParams;
use aumann_models::{Gate, Indicator, Replay, Source, Workspace};

/// C = sum_j q_j(T) at gate vector `x`, from the public view alone
/// (docs/indicators.md, "Cascade").
fn cascade_from_view(replay: &Replay, params: CascadeParams, x: &[f64]) -> f64 {
    let gates: Vec<Gate> = replay.gate_ids().collect();
    let content = replay.content();
    // A gate's emission: its activity gated, the reposted part also gated
    // by its parent's gate.
    let emission = |g: u32| -> f64 {
        if g == Source::NO_GATE {
            return 1.0;
        }
        let g = g as usize;
        if content.links(g).is_empty() {
            return replay.gate_activity(gates[g]) * x[g];
        }
        let carried: f64 = content.links(g).iter().map(|&(p, amount)| amount * x[p as usize]).sum();
        x[g] * (content.own(g) + carried)
    };
    let mut q = vec![0.0; replay.agents()];
    for t in 0..replay.steps() {
        let step = replay.step_graph(t);
        let senders = step.senders();
        // (agent, emission) per position: the senders, then the extra sources.
        let mut sources: Vec<(usize, f64)> = senders
            .iter()
            .map(|&g| (replay.gate_replay_agent(gates[g as usize]).index(), emission(g)))
            .collect();
        if let Some(extra) = step.extra() {
            sources.extend(extra.sources.iter().map(|s| (s.agent as usize, emission(s.gate))));
        }
        let next: Vec<f64> = (0..replay.agents())
            .map(|j| {
                let (mut a, mut b) = (0.0, 0.0);
                for p in step.row(j) {
                    let (i, e) = sources[p as usize];
                    a += e;
                    b += e * q[i];
                }
                if let Some(extra) = step.extra() {
                    let (positions, weights) = extra.row(j);
                    for (&p, &w) in positions.iter().zip(weights) {
                        let (i, e) = sources[p as usize];
                        a += w * e;
                        b += w * e * q[i];
                    }
                }
                let h = params.beta * (params.c * a + (1.0 - params.c) * b);
                1.0 - (1.0 - q[j]) * (-h).exp()
            })
            .collect();
        q = next;
    }
    q.iter().sum()
}

#[test]
fn a_cascade_written_over_the_public_view_matches_the_built_in_model() {
    let mut compared = 0;
    for seed in 0..4 {
        let population = support::with_network(support::random_population(40, 5, seed), seed + 100);
        let replay = Replay::new(&population).expect("a valid population");
        assert!(replay.content().any(), "the population should carry reposts");
        let params = CascadeParams { beta: 0.3, c: 0.4 };
        let workspace = Workspace::new();
        let model = SweepGame(Indicator::Cascade(params).model(&replay, &workspace));
        for draw in 0..3 {
            let x = support::interior_gates(replay.players(), seed * 10 + draw);
            let (ours, theirs) = (model.value(&x), cascade_from_view(&replay, params, &x));
            assert!(theirs > 1.0, "a cascade that reaches somebody: {theirs}");
            assert!(
                (ours - theirs).abs() <= 1e-12 * ours.abs(),
                "seed {seed}, draw {draw}: built-in {ours}, from the view {theirs}"
            );
            compared += 1;
        }
    }
    assert_eq!(compared, 12);
}
