//! First responses drawn from the cascade's observation model at known
//! parameters: what a fit must recover (docs/fit.md, "Planted recovery").

use crate::cascade::ContentRead;
use aumann_models::Replay;
use aumann_models::indicators::CascadeParams;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Each agent's first response (by population id) drawn from the model at
/// `params`: each agent a seed (responding at step 0) with probability
/// `seed_share`, then at every step each agent not yet reached responds at
/// the next with probability 1 − exp(−β (c A + (1 − c) B)), A and B read
/// from the replay with the agents reached so far. The same `rng_seed`
/// gives the same draws.
pub fn plant_cascade(replay: &Replay, params: CascadeParams, seed_share: f64, rng_seed: u64) -> Vec<Option<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
    let n = replay.agents();
    let mut first: Vec<Option<u32>> = (0..n).map(|_| rng.random_bool(seed_share).then_some(0)).collect();
    let content = ContentRead::new(replay);
    for t in 0..replay.steps().saturating_sub(1) {
        let reached: Vec<bool> = first.iter().map(|f| f.is_some_and(|s| s as usize <= t)).collect();
        let (a, b) = content.at(t, &reached);
        for j in 0..n {
            let h = params.beta * (params.c * a[j] + (1.0 - params.c) * b[j]);
            if !reached[j] && rng.random_bool(-(-h).exp_m1()) {
                first[j] = Some(t as u32 + 1);
            }
        }
    }
    (0..n as u32).map(|o| first[replay.replay_agent(o).index()]).collect()
}
