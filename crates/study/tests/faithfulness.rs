//! Deletion and insertion curves: the Aumann–Shapley ranking against the
//! heuristics, where the answer is known.

use aumann_data::synth::{SynthParams, generate};
use aumann_engine::AumannShapley;
use aumann_models::indicators::CascadeParams;
use aumann_models::{Activity, Indicator, Population, Replay, Workspace, attribute};
use aumann_study::faithfulness::{CurveSpec, Ranking, curves};
use aumann_study::pagerank::pagerank;

fn heuristics(population: &Population) -> Vec<Ranking> {
    let mut activity = vec![0.0; population.agents];
    for a in &population.activity {
        activity[a.agent as usize] += a.amount;
    }
    let graph = aumann_models::FollowGraph::from_follows(population.agents, &population.follows).unwrap();
    let mut rankings = vec![
        Ranking::by_score("followers", &population.followers),
        Ranking::by_score("activity", &activity),
        Ranking::by_score("pagerank", &pagerank(&graph).0),
    ];
    rankings.extend((1..=3).map(|seed| Ranking::random(population.agents, seed)));
    rankings
}

#[test]
fn for_the_linear_control_no_ranking_beats_aumann_shapley_at_any_k() {
    // Lin with the set S silenced is Lin - sum over S of phi_i: silencing
    // the largest phi first is optimal at every k, and opening them first
    // too. The heuristics are measured on the same points.
    let data = generate(
        &SynthParams {
            agents: 3000,
            steps: 4,
            seed: 5,
            ..Default::default()
        },
        &(),
    );
    let population = &data.population;
    let replay = Replay::new(population).unwrap();
    let result = attribute(&replay, Indicator::Linear, &AumannShapley::default()).unwrap();
    let mut rankings = vec![Ranking::by_score("aumann-shapley", &result.agent_phi)];
    rankings.extend(heuristics(population));
    let workspace = Workspace::new();
    let model = Indicator::Linear.model(&replay, &workspace);
    let c = curves(
        &replay,
        model.as_ref(),
        &rankings,
        &CurveSpec::default(),
        (result.gates.value_input, result.gates.value_baseline),
        &|_, _| {},
    );
    let tolerance = 1e-9 * result.gates.value_input.abs();
    let best = &c.rankings[0];
    assert_eq!(best.ranking, "aumann-shapley");
    assert_eq!(c.rankings.len(), 5, "four named rankings and the random mean");
    for other in &c.rankings[1..] {
        for (i, &k) in c.ks.iter().enumerate() {
            assert!(
                best.deletion[i] <= other.deletion[i] + tolerance,
                "deletion at k = {k}: {} beats aumann-shapley ({} < {})",
                other.ranking,
                other.deletion[i],
                best.deletion[i]
            );
            assert!(
                best.insertion[i] >= other.insertion[i] - tolerance,
                "insertion at k = {k}: {}",
                other.ranking
            );
        }
        assert!(
            other.deletion_gap >= -1e-12 && other.insertion_gap <= 1e-12,
            "{}",
            other.ranking
        );
    }
    // The closed form itself: F with the top k silenced is Lin minus their phi.
    let mut sorted = result.agent_phi.clone();
    sorted.sort_by(|a, b| b.total_cmp(a));
    for (i, &k) in c.ks.iter().enumerate() {
        let expected = result.gates.value_input - sorted[..k].iter().sum::<f64>();
        assert!((best.deletion[i] - expected).abs() <= tolerance, "k = {k}");
    }
}

/// A cascade driven by five planted accounts (ids 0..5), each read by 400
/// agents, among decoys for every heuristic: five accounts with the
/// largest follower counts that never post (ids 5..10), twenty that post
/// the most but have no readers (ids 10..30), and five that many follow in
/// the graph but never post (ids 30..35).
fn planted() -> Population {
    let n = 3000u32;
    let mut state = 7u64;
    let mut next = move |m: u32| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) % m as u64) as u32
    };
    let mut follows = Vec::new();
    for driver in 0..5 {
        for _ in 0..400 {
            follows.push((35 + next(n - 35), driver));
        }
    }
    for hub in 30..35 {
        for _ in 0..600 {
            follows.push((35 + next(n - 35), hub));
        }
    }
    for j in 35..n {
        for _ in 0..3 {
            follows.push((j, 35 + next(n - 35)));
        }
    }
    let mut activity = Vec::new();
    for step in 0..3 {
        for driver in 0..5 {
            activity.push(Activity {
                agent: driver,
                step,
                amount: 2.0,
            });
        }
        for loud in 10..30 {
            activity.push(Activity {
                agent: loud,
                step,
                amount: 30.0,
            });
        }
        for j in 35..n {
            if next(10) == 0 {
                activity.push(Activity {
                    agent: j,
                    step,
                    amount: 1.0,
                });
            }
        }
    }
    let mut followers = vec![0.0; n as usize];
    for &(_, i) in &follows {
        followers[i as usize] += 1.0;
    }
    for decoy in 5..10 {
        followers[decoy] = 1e6;
    }
    Population {
        agents: n as usize,
        steps: 3,
        stance: vec![0.5; n as usize],
        followers,
        follows,
        activity,
        ..Default::default()
    }
}

#[test]
fn on_a_planted_cascade_the_aumann_shapley_ranking_finds_the_drivers_first() {
    let population = planted();
    let replay = Replay::new(&population).unwrap();
    let cascade = Indicator::Cascade(CascadeParams { beta: 0.3, c: 0.5 });
    let result = attribute(&replay, cascade, &AumannShapley::default()).unwrap();
    let mut rankings = vec![Ranking::by_score("aumann-shapley", &result.agent_phi)];
    let mut top: Vec<u32> = rankings[0].order[..5].to_vec();
    top.sort_unstable();
    assert_eq!(top, vec![0, 1, 2, 3, 4], "the five drivers lead the ranking");
    rankings.extend(heuristics(&population));
    let workspace = Workspace::new();
    let model = cascade.model(&replay, &workspace);
    let spec = CurveSpec {
        fractions: vec![5.0 / 3000.0, 0.01, 0.1],
        random_rankings: 3,
        seed: 1,
    };
    let c = curves(
        &replay,
        model.as_ref(),
        &rankings,
        &spec,
        (result.gates.value_input, result.gates.value_baseline),
        &|_, _| {},
    );
    assert_eq!(c.ks[0], 5);
    let by_name = |name: &str| c.rankings.iter().find(|r| r.ranking.starts_with(name)).unwrap();
    let first = by_name("aumann-shapley");
    for name in ["followers", "activity", "pagerank", "random"] {
        let other = by_name(name);
        // Silencing the drivers removes far more reach than silencing any
        // heuristic's top five; opening them alone gives far more.
        assert!(
            first.deletion[0] < other.deletion[0] - 0.05 * result.gates.value_input,
            "{name}: {} against {}",
            other.deletion[0],
            first.deletion[0]
        );
        assert!(
            first.insertion[0] > other.insertion[0] + 0.05 * result.gates.value_input,
            "{name}"
        );
        assert!(other.deletion_gap > 0.0 && other.insertion_gap < 0.0, "{name}");
    }
}
