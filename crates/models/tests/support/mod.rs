#![allow(dead_code)]

use aumann_models::{Activity, Engagement, Exposure, FollowSpan, Order, Population, Repost};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A small random population with every table filled, duplicates and
/// self-follows included on purpose.
pub fn random_population(agents: usize, steps: usize, seed: u64) -> Population {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut follows = Vec::new();
    for j in 0..agents as u32 {
        for _ in 0..rng.random_range(0..=4usize.min(agents)) {
            follows.push((j, rng.random_range(0..agents as u32)));
        }
    }
    if let Some(&first) = follows.first() {
        follows.push(first);
    }
    let mut activity = Vec::new();
    let mut engagements = Vec::new();
    let mut orders = Vec::new();
    for t in 0..steps as u32 {
        for i in 0..agents as u32 {
            if rng.random_bool(0.5) {
                activity.push(Activity {
                    agent: i,
                    step: t,
                    amount: rng.random_range(0.5..6.0),
                });
            }
            if rng.random_bool(0.3) {
                let author = rng.random_range(0..agents as u32);
                engagements.push(Engagement {
                    engager: i,
                    author,
                    step: t,
                    amount: rng.random_range(0.5..3.0),
                });
            }
            if rng.random_bool(0.3) {
                orders.push(Order {
                    agent: i,
                    step: t,
                    flow: rng.random_range(-2.0..3.0),
                });
            }
        }
    }
    Population {
        agents,
        steps,
        stance: (0..agents).map(|_| rng.random_range(0.05..0.95)).collect(),
        followers: (0..agents).map(|_| rng.random_range(0.0..100.0f64).floor()).collect(),
        follows,
        activity,
        engagements,
        orders,
        ..Default::default()
    }
}

pub fn interior_gates(players: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..players).map(|_| rng.random_range(0.1..0.9)).collect()
}

/// The same population with what changes from step to step: spans on about
/// half the follows, exposures (to items of the same step, of earlier
/// steps, and of items the activity table does not record, some to
/// followed authors), and reposts that fit in their reposters' activity.
pub fn with_network(mut population: Population, seed: u64) -> Population {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (n, steps) = (population.agents as u32, population.steps as u32);
    population.follow_spans = population
        .follows
        .iter()
        .map(|_| {
            if rng.random_bool(0.5) {
                return FollowSpan::default();
            }
            let begin = rng.random_range(0..steps);
            let end = rng.random_bool(0.5).then(|| rng.random_range(begin + 1..=steps));
            FollowSpan {
                begin: Some(begin),
                end,
            }
        })
        .collect();
    let posted: Vec<(u32, u32, f64)> = population
        .activity
        .iter()
        .map(|a| (a.agent, a.step, a.amount))
        .collect();
    for _ in 0..(n * steps * 2) {
        let reader = rng.random_range(0..n);
        let step = rng.random_range(0..steps);
        let (author, posted_at) = if rng.random_bool(0.8) && !posted.is_empty() {
            let &(a, t, _) = &posted[rng.random_range(0..posted.len())];
            (a, t)
        } else {
            (rng.random_range(0..n), rng.random_range(0..steps))
        };
        let (step, posted_at) = (step.max(posted_at), Some(posted_at));
        population.exposures.push(Exposure {
            reader,
            author,
            step,
            posted: if rng.random_bool(0.2) && posted_at == Some(step) {
                None
            } else {
                posted_at
            },
            amount: rng.random_range(0.2..3.0),
        });
    }
    let mut carried = std::collections::HashMap::new();
    for &(agent, step, amount) in &posted {
        if rng.random_bool(0.4) {
            let &(parent_author, parent_step, _) = &posted[rng.random_range(0..posted.len())];
            if parent_step > step {
                continue;
            }
            let room: &mut f64 = carried.entry((agent, step)).or_insert(amount);
            let share = *room * rng.random_range(0.2..1.0);
            *room -= share;
            population.reposts.push(Repost {
                reposter: agent,
                step,
                parent_author,
                parent_step,
                amount: share,
            });
        }
    }
    population
}

/// Runs `f` on a pool of `threads` threads.
pub fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}
