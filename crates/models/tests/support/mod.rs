#![allow(dead_code)]

use aumann_models::{Activity, Engagement, Order, Population};
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
    }
}

pub fn interior_gates(players: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..players).map(|_| rng.random_range(0.1..0.9)).collect()
}
