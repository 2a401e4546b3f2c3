//! The propositions of docs/scaling-bias.md on small populations.

use aumann_data::synth::{SynthParams, generate};
use aumann_engine::AumannShapley;
use aumann_models::indicators::{CascadeParams, PanicParams};
use aumann_models::{Indicator, Population, Replay, attribute};
use aumann_study::compare::{Verdict, compare};
use aumann_study::panel::Panel;

fn population(steps: usize) -> Population {
    generate(
        &SynthParams {
            agents: 3000,
            steps,
            seed: 12,
            ..Default::default()
        },
        &(),
    )
    .population
}

/// Full-scale and panel phi of the panel's members.
fn phis(population: &Population, panel: &Panel, indicator: Indicator) -> (Vec<f64>, Vec<f64>, f64) {
    let engine = AumannShapley::default().fixed(48);
    let full = attribute(&Replay::new(population).unwrap(), indicator, &engine).unwrap();
    let part = attribute(&Replay::new(&panel.population).unwrap(), indicator, &engine).unwrap();
    let full_panel = panel.members.iter().map(|&a| full.agent_phi[a as usize]).collect();
    let abs: f64 = full.agent_phi.iter().map(|p| p.abs()).sum();
    (full_panel, part.agent_phi, abs)
}

#[test]
fn proposition_1_the_separable_linear_control_is_reconciled_with_c_equal_1() {
    let population = population(3);
    for panel in [
        Panel::top_followers(&population, 100),
        Panel::random(&population, 100, 3),
    ] {
        let (full, part, abs) = phis(&population, &panel, Indicator::Linear);
        let c = compare(&part, &full, abs);
        assert_eq!(c.verdict, Verdict::Reconciled);
        assert!((c.rescale - 1.0).abs() < 1e-12 && c.residual < 1e-12, "{c:?}");
    }
}

#[test]
fn proposition_2_a_single_index_indicator_is_reconciled_by_its_predicted_factor() {
    let population = population(1);
    let panel = Panel::top_followers(&population, 200);
    let params = PanicParams {
        lambda: 2.0,
        depth: Some(30.0),
    };
    let (full, part, abs) = phis(&population, &panel, Indicator::Panic(params));
    let c = compare(&part, &full, abs);
    assert!(c.residual < 1e-9, "{c:?}");
    let scale = params.lambda / 30.0;
    let sum = |p: &Population| p.orders.iter().map(|o| scale * o.flow).sum::<f64>();
    let (s, s_p) = (sum(&population), sum(&panel.population));
    let h = |x: f64| 0.06 * x.tanh().powi(2);
    let predicted = (h(s) / s) / (h(s_p) / s_p);
    assert!(
        (c.rescale - predicted).abs() < 1e-9 * predicted.abs(),
        "{} vs {predicted}",
        c.rescale
    );
}

#[test]
fn proposition_3_the_one_step_cascade_ratio_is_the_audience_ratio_and_varies() {
    let population = population(1);
    let panel = Panel::top_followers(&population, 100);
    let params = CascadeParams { beta: 0.3, c: 0.4 };
    let (full, part, abs) = phis(&population, &panel, Indicator::Cascade(params));
    let psi = |s: f64| if s == 0.0 { 1.0 } else { (1.0 - (-s).exp()) / s };
    let exposure = |p: &Population| {
        let mut a = vec![0.0; p.agents];
        for x in &p.activity {
            a[x.agent as usize] += x.amount;
        }
        let mut s = vec![0.0; p.agents];
        let mut followers: Vec<Vec<u32>> = vec![Vec::new(); p.agents];
        let mut follows = p.follows.clone();
        follows.sort_unstable();
        follows.dedup();
        for &(j, i) in follows.iter().filter(|(j, i)| j != i) {
            s[j as usize] += params.beta * params.c * a[i as usize];
            followers[i as usize].push(j);
        }
        (s, followers)
    };
    let (s, followers) = exposure(&population);
    let (s_p, followers_p) = exposure(&panel.population);
    let mut ratios = Vec::new();
    for (k, &agent) in panel.members.iter().enumerate() {
        if part[k] == 0.0 {
            continue;
        }
        let rho: f64 = followers[agent as usize]
            .iter()
            .map(|&j| psi(s[j as usize]))
            .sum::<f64>()
            / followers_p[k].iter().map(|&j| psi(s_p[j as usize])).sum::<f64>();
        assert!(
            (full[k] / part[k] - rho).abs() < 1e-9 * rho,
            "member {k}: {} vs {rho}",
            full[k] / part[k]
        );
        ratios.push(rho);
    }
    let (lo, hi) = ratios
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), &r| (a.min(r), b.max(r)));
    assert!(hi > 2.0 * lo, "audience ratios barely vary: {lo} .. {hi}");
    assert_eq!(compare(&part, &full, abs).verdict, Verdict::ScalingBias);
}
