//! Every indicator's value against a plain implementation of its documented
//! equations (docs/indicators.md) that shares nothing with the replay: it
//! reads the population's own tables, keeps its own follow lists, and loops
//! over agents and steps as the equations are written. The gradient tests
//! check the reverse sweep against the forward one; these check the forward
//! one against the page, so a wrong constant or sign cannot pass both.

mod support;

use aumann_engine::{SweepGame, ValueFunction};
use aumann_models::indicators::{AttentionParams, CascadeParams, PanicParams, PolarizationParams};
use aumann_models::{Indicator, Population, Replay, Workspace};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{BTreeSet, HashMap};
use support::random_population;

/// alpha[(agent, step)] in [0, 1] for every pair; 1 where absent.
type Gates = HashMap<(u32, u32), f64>;

/// The distinct followees of each agent, self-follows dropped.
fn followees(p: &Population) -> Vec<BTreeSet<u32>> {
    let mut f = vec![BTreeSet::new(); p.agents];
    for &(j, i) in &p.follows {
        if i != j {
            f[j as usize].insert(i);
        }
    }
    f
}

/// Per (agent, step): summed activity, order flow, and engagement amounts.
fn summed<T>(rows: &[T], key: impl Fn(&T) -> (u32, u32), value: impl Fn(&T) -> f64) -> HashMap<(u32, u32), f64> {
    let mut out = HashMap::new();
    for r in rows {
        *out.entry(key(r)).or_default() += value(r);
    }
    out
}

fn alpha(g: &Gates, agent: u32, step: u32) -> f64 {
    g.get(&(agent, step)).copied().unwrap_or(1.0)
}

/// e[i,t] = alpha[i,t] a[i,t] for every agent, at step t.
fn emissions(p: &Population, g: &Gates, t: u32) -> Vec<f64> {
    let a = summed(&p.activity, |x| (x.agent, x.step), |x| x.amount);
    (0..p.agents as u32)
        .map(|i| alpha(g, i, t) * a.get(&(i, t)).copied().unwrap_or(0.0))
        .collect()
}

/// b_j(0) = s_j; R_j = sum e b_i, L_j = sum e (1 - b_i) over followees;
/// b_j(t+1) = (kappa b_j + b_j R_j) / (kappa + b_j R_j + (1 - b_j) L_j);
/// P = (4/N) sum (b_j(T) - mean)^2.
fn polarization(p: &Population, g: &Gates, kappa: f64) -> f64 {
    let f = followees(p);
    let mut b = p.stance.clone();
    for t in 0..p.steps as u32 {
        let e = emissions(p, g, t);
        let next: Vec<f64> = (0..p.agents)
            .map(|j| {
                let r: f64 = f[j].iter().map(|&i| e[i as usize] * b[i as usize]).sum();
                let l: f64 = f[j].iter().map(|&i| e[i as usize] * (1.0 - b[i as usize])).sum();
                (kappa * b[j] + b[j] * r) / (kappa + b[j] * r + (1.0 - b[j]) * l)
            })
            .collect();
        b = next;
    }
    let n = p.agents as f64;
    let mean = b.iter().sum::<f64>() / n;
    4.0 / n * b.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
}

/// q_j(0) = 0; h_j = beta sum e (c + (1 - c) q_i); q_j <- 1 - (1 - q_j) exp(-h_j);
/// C = sum q_j(T).
fn cascade(p: &Population, g: &Gates, beta: f64, c: f64) -> f64 {
    let f = followees(p);
    let mut q = vec![0.0; p.agents];
    for t in 0..p.steps as u32 {
        let e = emissions(p, g, t);
        let next: Vec<f64> = (0..p.agents)
            .map(|j| {
                let h: f64 = beta
                    * f[j]
                        .iter()
                        .map(|&i| e[i as usize] * (c + (1.0 - c) * q[i as usize]))
                        .sum::<f64>();
                1.0 - (1.0 - q[j]) * (-h).exp()
            })
            .collect();
        q = next;
    }
    q.iter().sum()
}

/// att_k = eps + sum over t and i of alpha[i,t] alpha[k,t] g[i->k,t];
/// H = sum att^2 / (sum att)^2 over all agents.
fn attention(p: &Population, g: &Gates, eps: f64) -> f64 {
    let mut att = vec![eps; p.agents];
    for e in p.engagements.iter().filter(|e| e.amount > 0.0) {
        att[e.author as usize] += alpha(g, e.engager, e.step) * alpha(g, e.author, e.step) * e.amount;
    }
    let total: f64 = att.iter().sum();
    att.iter().map(|a| a * a).sum::<f64>() / (total * total)
}

/// r_t = -tanh(lambda sum alpha u / D); h(t+1) = 0.94 h(t) + 0.06 r_t^2;
/// h(0) = 1e-4; V = h(T); D = the number of agents with any nonzero order.
fn panic(p: &Population, g: &Gates, lambda: f64, depth: Option<f64>) -> f64 {
    let traders: BTreeSet<u32> = p.orders.iter().filter(|o| o.flow != 0.0).map(|o| o.agent).collect();
    let d = depth.unwrap_or(traders.len().max(1) as f64);
    let mut h = 1e-4;
    for t in 0..p.steps as u32 {
        let flow: f64 = p
            .orders
            .iter()
            .filter(|o| o.step == t)
            .map(|o| alpha(g, o.agent, o.step) * o.flow)
            .sum();
        let r = -(lambda * flow / d).tanh();
        h = 0.94 * h + 0.06 * r * r;
    }
    h
}

/// Lin = sum over t and i of alpha a w.
fn linear(p: &Population, g: &Gates) -> f64 {
    p.activity
        .iter()
        .filter(|a| a.amount > 0.0)
        .map(|a| alpha(g, a.agent, a.step) * a.amount * p.followers[a.agent as usize])
        .sum()
}

/// P = sum_i (1 - exp(-S_i)), S_i = sum over t of alpha a.
fn participation(p: &Population, g: &Gates) -> f64 {
    let mut heard = vec![0.0; p.agents];
    for a in p.activity.iter().filter(|a| a.amount > 0.0) {
        heard[a.agent as usize] += alpha(g, a.agent, a.step) * a.amount;
    }
    heard.iter().map(|s| 1.0 - (-s).exp()).sum()
}

fn oracle(indicator: Indicator, p: &Population, g: &Gates) -> f64 {
    match indicator {
        Indicator::Polarization(PolarizationParams { kappa }) => polarization(p, g, kappa),
        Indicator::Cascade(CascadeParams { beta, c }) => cascade(p, g, beta, c),
        Indicator::Attention(AttentionParams { eps }) => attention(p, g, eps),
        Indicator::Panic(PanicParams { lambda, depth }) => panic(p, g, lambda, depth),
        Indicator::Linear => linear(p, g),
        Indicator::Participation => participation(p, g),
    }
}

#[test]
fn every_indicator_matches_its_documented_equations() {
    let mut indicators = Indicator::all();
    indicators.push(Indicator::Polarization(PolarizationParams { kappa: 0.7 }));
    indicators.push(Indicator::Cascade(CascadeParams { beta: 0.6, c: 0.35 }));
    indicators.push(Indicator::Panic(PanicParams {
        lambda: 3.0,
        depth: Some(2.0),
    }));
    for seed in 0..12 {
        let agents = 3 + seed as usize * 2;
        let mut population = random_population(agents, 1 + seed as usize % 4, seed);
        // Two isolated agents: no follows, no actions, in both directions.
        population.agents += 2;
        population.stance.extend([0.3, 0.6]);
        population.followers.extend([4.0, 0.0]);
        let replay = Replay::new(&population).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 77);
        let interior: Gates = (0..population.agents as u32)
            .flat_map(|a| (0..population.steps as u32).map(move |t| (a, t)))
            .map(|k| (k, 0.05 + 0.9 * (rng.random::<f64>())))
            .collect();
        let zeros: Gates = interior.keys().map(|&k| (k, 0.0)).collect();
        let ones: Gates = interior.keys().map(|&k| (k, 1.0)).collect();
        for &indicator in &indicators {
            let workspace = Workspace::new();
            let model = SweepGame(indicator.model(&replay, &workspace));
            for (what, g) in [("all open", &ones), ("all closed", &zeros), ("interior", &interior)] {
                let x: Vec<f64> = replay
                    .gate_ids()
                    .map(|gate| alpha(g, replay.gate_agent(gate), replay.gate_step(gate)))
                    .collect();
                let ours = model.value(&x);
                let expected = oracle(indicator, &population, g);
                assert!(
                    (ours - expected).abs() <= 1e-12 * expected.abs().max(1e-3),
                    "seed {seed}, {}, {what}: {ours} vs {expected}",
                    indicator.name()
                );
            }
        }
    }
}

/// A window longer than 64 steps: the replay builds its step rows from
/// per-agent masks of 64 steps, so steps 64 and on take a second group.
/// The values still follow the equations, whatever the thread count.
#[test]
fn a_window_longer_than_64_steps_matches_its_equations() {
    let population = random_population(17, 70, 5);
    let mut rng = ChaCha8Rng::seed_from_u64(70);
    let interior: Gates = (0..population.agents as u32)
        .flat_map(|a| (0..population.steps as u32).map(move |t| (a, t)))
        .map(|k| (k, 0.05 + 0.9 * (rng.random::<f64>())))
        .collect();
    let indicators = [
        Indicator::Polarization(PolarizationParams { kappa: 0.7 }),
        Indicator::Cascade(CascadeParams { beta: 0.3, c: 0.35 }),
    ];
    let mut values = Vec::new();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let replay = pool.install(|| Replay::new(&population)).unwrap();
        assert!(replay.forward_edges() > 0, "the population must post and be read");
        for &indicator in &indicators {
            let workspace = Workspace::new();
            let model = SweepGame(indicator.model(&replay, &workspace));
            let x: Vec<f64> = replay
                .gate_ids()
                .map(|gate| alpha(&interior, replay.gate_agent(gate), replay.gate_step(gate)))
                .collect();
            let ours = pool.install(|| model.value(&x));
            let expected = oracle(indicator, &population, &interior);
            assert!(
                (ours - expected).abs() <= 1e-12 * expected.abs().max(1e-3),
                "{threads} threads, {}: {ours} vs {expected}",
                indicator.name()
            );
            values.push(ours.to_bits());
        }
    }
    assert_eq!(values[..2], values[2..], "the same bits on 1 and 3 threads");
}

/// Where a reader's content comes from: an author's items of one step (a
/// gate, or no gate when no activity row records them), with its weight.
#[derive(Clone, Copy, Debug)]
struct Source {
    author: u32,
    /// The step the items were posted at, when a gate holds them.
    gate_step: Option<u32>,
    weight: f64,
}

/// What reader j reads at step t over `network`, as docs/indicators.md
/// ("The network") writes it: a follow of i that holds at t carries the
/// gate (i, t) at weight 1; an exposure to `amount` items i posted at p
/// carries the gate (i, p) at amount / a[i,p], or, with no activity there,
/// `amount` items of no gate; with both, a followee's items shown at the
/// same step are read once at the larger weight. A reader's own items are
/// never read.
fn sources(p: &Population, network: aumann_models::Network, j: u32, t: u32) -> Vec<Source> {
    use aumann_models::Network;
    let a = summed(&p.activity, |x| (x.agent, x.step), |x| x.amount);
    let mut followed = BTreeSet::new();
    if network != Network::Exposures {
        for (r, &(reader, i)) in p.follows.iter().enumerate() {
            let holds = p.follow_spans.get(r).is_none_or(|s| s.holds_at(t));
            if reader == j && i != j && holds {
                followed.insert(i);
            }
        }
    }
    // Exposure weights per (author, posted), and items of no gate per author.
    let mut shown: std::collections::BTreeMap<(u32, u32), f64> = Default::default();
    let mut ungated: std::collections::BTreeMap<u32, f64> = Default::default();
    if network != Network::Follows {
        for e in p
            .exposures
            .iter()
            .filter(|e| e.reader == j && e.step == t && e.author != j)
        {
            let posted = e.posted.unwrap_or(e.step);
            match a.get(&(e.author, posted)).copied().filter(|&x| x > 0.0) {
                Some(made) => *shown.entry((e.author, posted)).or_default() += e.amount / made,
                None => *ungated.entry(e.author).or_default() += e.amount,
            }
        }
    }
    let mut out = Vec::new();
    for &i in &followed {
        let same_step = shown.remove(&(i, t)).unwrap_or(0.0);
        out.push(Source {
            author: i,
            gate_step: Some(t),
            weight: same_step.max(1.0),
        });
    }
    for ((i, posted), weight) in shown {
        out.push(Source {
            author: i,
            gate_step: Some(posted),
            weight,
        });
    }
    for (i, items) in ungated {
        out.push(Source {
            author: i,
            gate_step: None,
            weight: items,
        });
    }
    out
}

/// E_g = alpha_g (own_g + sum_k amount_k alpha_{parent_k}) for a gated
/// source, over its reposts whose parent item is in the record; 1 for an
/// item of no gate.
fn emission(p: &Population, g: &Gates, source: &Source) -> f64 {
    let Some(step) = source.gate_step else { return 1.0 };
    let a = summed(&p.activity, |x| (x.agent, x.step), |x| x.amount);
    let made = a.get(&(source.author, step)).copied().unwrap_or(0.0);
    let mut own = made;
    let mut carried = 0.0;
    for r in p
        .reposts
        .iter()
        .filter(|r| r.reposter == source.author && r.step == step)
    {
        if a.get(&(r.parent_author, r.parent_step)).is_some_and(|&x| x > 0.0) {
            own -= r.amount;
            carried += r.amount * alpha(g, r.parent_author, r.parent_step);
        }
    }
    alpha(g, source.author, step) * (own + carried)
}

/// Polarization and cascade over the sources above: R_j = sum w E b_i,
/// L_j = sum w E (1 - b_i); h_j = beta sum w E (c + (1 - c) q_i), each
/// source's state its author's at the step it is read.
fn over_network(indicator: Indicator, p: &Population, network: aumann_models::Network, g: &Gates) -> f64 {
    let n = p.agents;
    match indicator {
        Indicator::Polarization(PolarizationParams { kappa }) => {
            let mut b = p.stance.clone();
            for t in 0..p.steps as u32 {
                let next: Vec<f64> = (0..n)
                    .map(|j| {
                        let (mut r, mut l) = (0.0, 0.0);
                        for s in sources(p, network, j as u32, t) {
                            let e = s.weight * emission(p, g, &s);
                            r += e * b[s.author as usize];
                            l += e * (1.0 - b[s.author as usize]);
                        }
                        (kappa * b[j] + b[j] * r) / (kappa + b[j] * r + (1.0 - b[j]) * l)
                    })
                    .collect();
                b = next;
            }
            let mean = b.iter().sum::<f64>() / n as f64;
            4.0 / n as f64 * b.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
        }
        Indicator::Cascade(CascadeParams { beta, c }) => {
            let mut q = vec![0.0; n];
            for t in 0..p.steps as u32 {
                let next: Vec<f64> = (0..n)
                    .map(|j| {
                        let h: f64 = sources(p, network, j as u32, t)
                            .iter()
                            .map(|s| s.weight * emission(p, g, s) * (c + (1.0 - c) * q[s.author as usize]))
                            .sum::<f64>()
                            * beta;
                        1.0 - (1.0 - q[j]) * (-h).exp()
                    })
                    .collect();
                q = next;
            }
            q.iter().sum()
        }
        _ => unreachable!("only polarization and cascade read the network"),
    }
}

#[test]
fn polarization_and_cascade_over_spans_exposures_and_reposts_match_their_documented_equations() {
    use aumann_models::{Exposure, FollowSpan, Network, ReplayOptions, Repost};
    let indicators = [
        Indicator::Polarization(PolarizationParams { kappa: 0.7 }),
        Indicator::Cascade(CascadeParams { beta: 0.3, c: 0.35 }),
    ];
    for seed in 0..10u64 {
        let agents = 4 + seed as usize;
        let steps = 2 + seed as usize % 3;
        let mut p = random_population(agents, steps, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 991);
        // Follows that begin or end inside the window.
        p.follow_spans = (0..p.follows.len())
            .map(|_| FollowSpan {
                begin: rng.random_bool(0.4).then(|| rng.random_range(0..steps as u32)),
                end: rng.random_bool(0.4).then(|| rng.random_range(1..=steps as u32)),
            })
            .map(|s| match (s.begin, s.end) {
                (Some(b), Some(e)) if e <= b => FollowSpan {
                    begin: Some(b),
                    end: None,
                },
                _ => s,
            })
            .collect();
        let posted: Vec<(u32, u32, f64)> = p.activity.iter().map(|a| (a.agent, a.step, a.amount)).collect();
        // Exposures to items of this step or earlier, of gates and of no
        // gate (an author and step with no activity row).
        for _ in 0..3 * agents {
            let (reader, author) = (rng.random_range(0..agents as u32), rng.random_range(0..agents as u32));
            let step = rng.random_range(0..steps as u32);
            let at = rng.random_range(0..=step);
            p.exposures.push(Exposure {
                reader,
                author,
                step,
                posted: (at != step || rng.random_bool(0.5)).then_some(at),
                amount: rng.random_range(0.2..3.0),
            });
        }
        // Reposts: part of a step's activity that carries an earlier item
        // (linked), or an item nobody recorded (unlinked).
        let mut used: HashMap<(u32, u32), f64> = HashMap::new();
        for &(reposter, step, amount) in &posted {
            if step == 0 || !rng.random_bool(0.6) {
                continue;
            }
            let earlier: Vec<&(u32, u32, f64)> = posted.iter().filter(|x| x.1 < step && x.0 != reposter).collect();
            let (parent_author, parent_step) = if earlier.is_empty() || rng.random_bool(0.2) {
                (rng.random_range(0..agents as u32), 0)
            } else {
                let x = earlier[rng.random_range(0..earlier.len())];
                (x.0, x.1)
            };
            let part = amount * rng.random_range(0.1..0.6);
            let left = amount - used.get(&(reposter, step)).copied().unwrap_or(0.0);
            if part <= left {
                *used.entry((reposter, step)).or_default() += part;
                p.reposts.push(Repost {
                    reposter,
                    step,
                    parent_author,
                    parent_step,
                    amount: part,
                });
            }
        }
        p.validate().unwrap();
        let gates_of = |replay: &Replay, g: &Gates| -> Vec<f64> {
            replay
                .gate_ids()
                .map(|gate| alpha(g, replay.gate_agent(gate), replay.gate_step(gate)))
                .collect()
        };
        for network in [Network::Follows, Network::Exposures, Network::Both] {
            let options = ReplayOptions {
                network,
                ..Default::default()
            };
            let replay = Replay::with_progress(&p, options, &|_, _| {}).unwrap();
            let interior: Gates = replay
                .gate_ids()
                .map(|gate| {
                    (
                        (replay.gate_agent(gate), replay.gate_step(gate)),
                        0.05 + 0.9 * rng.random::<f64>(),
                    )
                })
                .collect();
            let ones: Gates = interior.keys().map(|&k| (k, 1.0)).collect();
            let zeros: Gates = interior.keys().map(|&k| (k, 0.0)).collect();
            for &indicator in &indicators {
                let workspace = Workspace::new();
                let model = SweepGame(indicator.model(&replay, &workspace));
                for (what, g) in [("all open", &ones), ("all closed", &zeros), ("interior", &interior)] {
                    let ours = model.value(&gates_of(&replay, g));
                    let expected = over_network(indicator, &p, network, g);
                    assert!(
                        (ours - expected).abs() <= 1e-12 * expected.abs().max(1e-3),
                        "seed {seed}, {}, {}, {what}: {ours} vs {expected}",
                        network.name(),
                        indicator.name()
                    );
                }
            }
        }
    }
}
