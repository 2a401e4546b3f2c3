//! Planted recovery: first responses drawn from the cascade's observation
//! model at known β and c, or stances per step from polarization's at a
//! known κ, over the built-in population, fitted back; how often the 95%
//! intervals cover the planted values, and what a fit costs.

use aumann_data::synth::{SynthParams, generate};
use aumann_fit::plant::{plant_cascade, plant_polarization};
use aumann_fit::{ContentRead, Estimate, fit_cascade, fit_polarization, observe, observe_stances};
use aumann_models::Replay;
use aumann_models::indicators::{CascadeParams, PolarizationParams};
use serde::Serialize;
use std::time::Instant;

/// What [`planted_recovery`] measured.
#[derive(Clone, Debug, Serialize)]
pub struct PlantedRecovery {
    pub agents: usize,
    pub steps: usize,
    pub draws: usize,
    /// The share of agents seeded at step 0 in each draw.
    pub seed_share: f64,
    pub beta: f64,
    pub c: f64,
    /// Draws whose 95% interval covered the planted value.
    pub beta_covered: usize,
    pub c_covered: usize,
    /// Draws in which the fit identified the parameter.
    pub beta_identified: usize,
    pub c_identified: usize,
    /// The mean of the estimates over the draws, against the planted values.
    pub beta_mean: f64,
    pub c_mean: f64,
    /// The mean first responses per draw (the fit's events).
    pub responses_mean: f64,
    /// Seconds per fit (observation rows, estimates, intervals), and per
    /// draw of the responses.
    pub fit_seconds: f64,
    pub draw_seconds: f64,
}

/// Whether an estimate's 95% interval holds `x`.
fn covers(e: &Estimate, x: f64) -> bool {
    e.interval[0].is_none_or(|lo| lo <= x) && e.interval[1].is_none_or(|hi| x <= hi)
}

/// The planted parameters on a population: a hazard of 0.1 per step at the
/// mean content read at step 0, `c` of it from any content.
pub fn planted_parameters(replay: &Replay, c: f64) -> CascadeParams {
    let (read, _) = ContentRead::new(replay).at(0, &vec![false; replay.agents()]);
    let mean = read.iter().sum::<f64>() / read.len().max(1) as f64;
    CascadeParams { beta: 0.1 / mean, c }
}

/// `draws` draws of first responses at the planted parameters over the
/// built-in population of `agents` and `steps` (seed `seed`), each fitted
/// with nothing held out. `on_draw(done, draws)` reports progress.
pub fn planted_recovery(
    agents: usize,
    steps: usize,
    seed: u64,
    draws: usize,
    on_draw: &dyn Fn(usize, usize),
) -> Result<PlantedRecovery, aumann_fit::FitError> {
    let replay = built_in(agents, steps, seed);
    let truth = planted_parameters(&replay, 0.35);
    let seed_share = 0.03;
    let mut r = PlantedRecovery {
        agents,
        steps,
        draws,
        seed_share,
        beta: truth.beta,
        c: truth.c,
        beta_covered: 0,
        c_covered: 0,
        beta_identified: 0,
        c_identified: 0,
        beta_mean: 0.0,
        c_mean: 0.0,
        responses_mean: 0.0,
        fit_seconds: 0.0,
        draw_seconds: 0.0,
    };
    for draw in 0..draws {
        let started = Instant::now();
        let first = plant_cascade(&replay, truth, seed_share, draw as u64);
        r.draw_seconds += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let fit = fit_cascade(&observe(&replay, &first)?, 0.0)?;
        r.fit_seconds += started.elapsed().as_secs_f64();
        let (beta, c) = (&fit.parameters[0], &fit.parameters[1]);
        r.beta_covered += covers(beta, truth.beta) as usize;
        r.c_covered += covers(c, truth.c) as usize;
        r.beta_identified += beta.identified as usize;
        r.c_identified += c.identified as usize;
        r.beta_mean += beta.estimate;
        r.c_mean += c.estimate;
        r.responses_mean += fit.data.responses as f64;
        on_draw(draw + 1, draws);
    }
    let n = draws.max(1) as f64;
    r.beta_mean /= n;
    r.c_mean /= n;
    r.responses_mean /= n;
    r.fit_seconds /= n;
    r.draw_seconds /= n;
    Ok(r)
}

fn built_in(agents: usize, steps: usize, seed: u64) -> Replay {
    let data = generate(
        &SynthParams {
            agents,
            steps,
            seed,
            ..SynthParams::default()
        },
        &(),
    );
    Replay::new(&data.population).expect("the built-in population is valid")
}

/// What [`planted_polarization`] measured.
#[derive(Clone, Debug, Serialize)]
pub struct PlantedPolarization {
    pub agents: usize,
    pub steps: usize,
    pub draws: usize,
    pub kappa: f64,
    /// The standard deviation of the shocks to the log-odds.
    pub noise_sd: f64,
    pub kappa_covered: usize,
    pub kappa_identified: usize,
    /// The mean and standard deviation of the estimates over the draws.
    pub kappa_mean: f64,
    pub kappa_sd: f64,
    /// The mean estimated noise sd.
    pub noise_sd_mean: f64,
    /// Draws in which the fitted replay's held-out log-likelihood per
    /// observation beat no dynamics, and the defaults.
    pub held_out_beats_no_dynamics: usize,
    pub held_out_beats_defaults: usize,
    pub fit_seconds: f64,
    pub draw_seconds: f64,
}

/// The planted κ and noise of [`planted_polarization`].
pub const PLANTED_KAPPA: f64 = 5.0;
pub const PLANTED_NOISE_SD: f64 = 0.1;

/// `draws` draws of every agent's stance at every step from polarization's
/// observation model at κ = 5 with shocks of sd 0.1 to the log-odds, over the built-in
/// population, each fitted with 30% of the steps held out.
pub fn planted_polarization(
    agents: usize,
    steps: usize,
    seed: u64,
    draws: usize,
    on_draw: &dyn Fn(usize, usize),
) -> Result<PlantedPolarization, aumann_fit::FitError> {
    let replay = built_in(agents, steps, seed);
    let params = PolarizationParams { kappa: PLANTED_KAPPA };
    let mut r = PlantedPolarization {
        agents,
        steps,
        draws,
        kappa: PLANTED_KAPPA,
        noise_sd: PLANTED_NOISE_SD,
        kappa_covered: 0,
        kappa_identified: 0,
        kappa_mean: 0.0,
        kappa_sd: 0.0,
        noise_sd_mean: 0.0,
        held_out_beats_no_dynamics: 0,
        held_out_beats_defaults: 0,
        fit_seconds: 0.0,
        draw_seconds: 0.0,
    };
    let mut estimates = Vec::with_capacity(draws);
    for draw in 0..draws {
        let started = Instant::now();
        let observed = plant_polarization(&replay, params, PLANTED_NOISE_SD, draw as u64);
        r.draw_seconds += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let fit = fit_polarization(&replay, &observe_stances(&replay, &observed)?, 0.3)?;
        r.fit_seconds += started.elapsed().as_secs_f64();
        let kappa = &fit.parameters[0];
        r.kappa_covered += covers(kappa, PLANTED_KAPPA) as usize;
        r.kappa_identified += kappa.identified as usize;
        estimates.push(kappa.estimate);
        r.noise_sd_mean += fit.noise_sd;
        if let Some(h) = &fit.held_out {
            let ll = h.fitted.log_likelihood_per_observation;
            r.held_out_beats_no_dynamics += (ll > h.no_dynamics.log_likelihood_per_observation) as usize;
            r.held_out_beats_defaults += (ll > h.defaults.log_likelihood_per_observation) as usize;
        }
        on_draw(draw + 1, draws);
    }
    let n = draws.max(1) as f64;
    r.kappa_mean = estimates.iter().sum::<f64>() / n;
    r.kappa_sd = (estimates.iter().map(|k| (k - r.kappa_mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    r.noise_sd_mean /= n;
    r.fit_seconds /= n;
    r.draw_seconds /= n;
    Ok(r)
}
