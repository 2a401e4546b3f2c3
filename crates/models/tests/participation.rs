//! Participation against its closed form: each agent's term reads only its
//! own gates, so phi[i,t] = a[i,t] / S_i (1 - exp(-S_i)) on the path from
//! silence, with S_i the agent's total activity (docs/indicators.md).

mod support;

use aumann_engine::gradcheck::check_gradient;
use aumann_engine::{AumannShapley, SweepGame};
use aumann_models::{Indicator, Replay, Workspace};

#[test]
fn participation_matches_its_gradient_and_closed_form() {
    let population = support::random_population(30, 4, 11);
    let replay = Replay::new(&population).expect("a valid population");
    let workspace = Workspace::new();
    let model = SweepGame(
        Indicator::from_name("participation")
            .unwrap()
            .model(&replay, &workspace),
    );
    let players = replay.players();

    let interior = support::interior_gates(players, 3);
    let gradient = check_gradient(&model, &interior, None, 1e-6, 1e-6, 1e-9, Some((0.0, 1.0)));
    assert!(gradient.passed(), "{gradient:?}");

    let result = AumannShapley::default()
        .attribute(&model, &vec![1.0; players], &vec![0.0; players])
        .expect("attribution");
    assert!(result.relative_gap() < 1e-9, "{}", result.relative_gap());

    // The closed form, from the population's own rows.
    let mut totals = vec![0.0; population.agents];
    for a in &population.activity {
        totals[a.agent as usize] += a.amount;
    }
    let mut worst = 0.0f64;
    let mut active = 0;
    for g in replay.gate_ids() {
        let (agent, step) = (replay.gate_agent(g) as usize, replay.gate_step(g));
        let a: f64 = (population.activity.iter())
            .filter(|r| r.agent as usize == agent && r.step == step)
            .map(|r| r.amount)
            .sum();
        let s = totals[agent];
        let expected = if a == 0.0 { 0.0 } else { a / s * (1.0 - (-s).exp()) };
        active += usize::from(a > 0.0);
        worst = worst.max((result.phi[g.index()] - expected).abs());
    }
    assert!(active > 20, "{active} gates with activity");
    assert!(worst < 1e-9, "largest error against the closed form: {worst:e}");
}
