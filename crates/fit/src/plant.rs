//! Observations drawn from an observation model at known parameters: what
//! a fit must recover (docs/fit.md, "Planted recovery").

use crate::cascade::ContentRead;
use crate::polarization::{ObservedStance, Transition};
use aumann_models::Replay;
use aumann_models::indicators::{CascadeParams, PolarizationParams};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

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

/// Every agent's stance at every step (by population id) drawn from
/// polarization's observation model at `params`: the population's stance
/// at step 0, then at each step the replay's move from the stances of the
/// step before, its log-odds shocked by a Gaussian of standard deviation
/// `noise_sd`. The same `rng_seed` gives the same draws.
pub fn plant_polarization(
    replay: &Replay,
    params: PolarizationParams,
    noise_sd: f64,
    rng_seed: u64,
) -> Vec<ObservedStance> {
    let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
    let shock = Normal::new(0.0, noise_sd).expect("a finite, nonnegative noise_sd");
    let n = replay.agents();
    let content = ContentRead::new(replay);
    let mut stances = crate::polarization::population_stances(replay);
    let mut observed = Vec::with_capacity(n * replay.steps());
    let mut record = |t: usize, stances: &[f64]| {
        observed.extend((0..n as u32).map(|o| ObservedStance {
            agent: o,
            step: t as u32,
            stance: stances[replay.replay_agent(o).index()],
        }))
    };
    record(0, &stances);
    for t in 0..replay.steps().saturating_sub(1) {
        let (read, agreeing) = content.weighted(t, &stances);
        for j in 0..n {
            let moved = Transition {
                step: t as u32,
                stance: stances[j],
                read: read[j],
                agreeing: agreeing[j],
                next: 0.0,
            }
            .predicted(1.0 / params.kappa);
            let odds = (moved / (1.0 - moved)).ln() + shock.sample(&mut rng);
            stances[j] = 1.0 / (1.0 + (-odds).exp());
        }
        record(t + 1, &stances);
    }
    observed
}
