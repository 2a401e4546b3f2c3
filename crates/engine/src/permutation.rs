//! Monte Carlo permutation Shapley (Castro, Gómez & Tejada 2009) with
//! antithetic permutations.

use crate::error::{Error, Result, check_output, check_point};
use crate::game::ValueFunction;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::time::{Duration, Instant};

/// When to stop sampling. Sampling stops at whichever limit comes first; at
/// least one must be set.
#[derive(Clone, Debug)]
pub struct PermutationShapley {
    pub seed: u64,
    /// Stop after this many permutations (counting both of an antithetic pair).
    pub max_permutations: Option<usize>,
    /// Stop before spending more than this many evaluations of F.
    pub max_evaluations: Option<usize>,
    /// Stop once every player's standard error is at most this.
    pub target_std_error: Option<f64>,
    /// Antithetic pairs sampled per round. Stopping is checked between
    /// rounds, so the result does not depend on the thread count.
    pub pairs_per_round: usize,
}

impl Default for PermutationShapley {
    /// 1,000 permutations (500 antithetic pairs), the budget of the
    /// small-scale literature.
    fn default() -> Self {
        Self {
            seed: 0,
            max_permutations: Some(1000),
            max_evaluations: None,
            target_std_error: None,
            pairs_per_round: 16,
        }
    }
}

/// Why sampling stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    TargetStdError,
    MaxPermutations,
    MaxEvaluations,
}

/// Estimated Shapley values with their standard errors.
#[derive(Clone, Debug, Serialize)]
pub struct ShapleyEstimate {
    pub phi: Vec<f64>,
    /// Standard error of each phi, from the spread over antithetic pairs
    /// (a pair's two permutations are negatively correlated on purpose, so
    /// the pair mean is the independent sample).
    pub std_error: Vec<f64>,
    pub permutations: usize,
    pub evaluations: usize,
    pub stop: StopReason,
    #[serde(serialize_with = "crate::attribution::as_seconds")]
    pub elapsed: Duration,
}

impl PermutationShapley {
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    pub fn permutations(mut self, p: usize) -> Self {
        self.max_permutations = Some(p);
        self
    }
    pub fn evaluations(mut self, e: usize) -> Self {
        self.max_evaluations = Some(e);
        self
    }
    pub fn target_std_error(mut self, se: f64) -> Self {
        self.target_std_error = Some(se);
        self
    }
    pub fn unlimited_permutations(mut self) -> Self {
        self.max_permutations = None;
        self
    }

    /// Estimates Shapley values of v(S) = F(x_S) (`input` for members of S,
    /// `baseline` for the rest).
    pub fn estimate<G: ValueFunction + ?Sized>(
        &self,
        game: &G,
        input: &[f64],
        baseline: &[f64],
    ) -> Result<ShapleyEstimate> {
        let started = Instant::now();
        let n = game.players();
        if n == 0 {
            return Err(Error::NoPlayers);
        }
        check_point("input", input, n)?;
        check_point("baseline", baseline, n)?;
        if self.max_permutations.is_none() && self.max_evaluations.is_none() && self.target_std_error.is_none() {
            return Err(Error::InvalidSetting(
                "permutation Shapley needs a limit: permutations, evaluations or a target standard error".into(),
            ));
        }
        if let Some(se) = self.target_std_error
            && !(se.is_finite() && se > 0.0)
        {
            return Err(Error::InvalidSetting(format!(
                "the target standard error must be positive, got {se}"
            )));
        }
        if self.pairs_per_round == 0 {
            return Err(Error::InvalidSetting("pairs per round must be at least 1".into()));
        }
        let empty = check_output("value at the baseline", game.value(baseline))?;
        let full = check_output("value at the input", game.value(input))?;
        // Each permutation walks from the empty to the full coalition; the
        // two ends are shared, so it costs n - 1 new evaluations.
        let per_permutation = n.saturating_sub(1);
        let max_pairs_by_evaluations = self
            .max_evaluations
            .map(|e| (e.saturating_sub(2) / (2 * per_permutation).max(1)).max(1));
        let max_pairs_by_permutations = self.max_permutations.map(|p| p.div_ceil(2).max(1));
        let max_pairs = match (max_pairs_by_evaluations, max_pairs_by_permutations) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => usize::MAX,
        };

        let mut welford = Welford::new(n);
        let mut pairs = 0usize;
        let stop = loop {
            let round = self.pairs_per_round.min(max_pairs - pairs);
            let samples = antithetic_pairs(game, input, baseline, (empty, full), self.seed, pairs..pairs + round)?;
            for sample in &samples {
                welford.push(sample);
            }
            pairs += round;
            if let Some(target) = self.target_std_error
                && pairs >= 8
                && welford.max_std_error() <= target
            {
                break StopReason::TargetStdError;
            }
            if pairs >= max_pairs {
                break if max_pairs_by_evaluations == Some(max_pairs) {
                    StopReason::MaxEvaluations
                } else {
                    StopReason::MaxPermutations
                };
            }
        };
        Ok(ShapleyEstimate {
            phi: welford.mean.clone(),
            std_error: welford.std_errors(),
            permutations: 2 * pairs,
            evaluations: 2 + 2 * pairs * per_permutation,
            stop,
            elapsed: started.elapsed(),
        })
    }
}

/// Marginal contributions along a random permutation and along its
/// reverse, averaged per player, for each pair of `pairs` (the pair's
/// permutation drawn from `seed` and its stream). The walks' coalitions go
/// to the game in blocks of at most [`PREFIX_BLOCK_VALUES`] numbers, a
/// block spanning pairs: a game behind a foreign call (a Python function)
/// pays the call once per block, not once per permutation. The pairs'
/// coalitions are laid out pair by pair, each pair's walk forward then
/// backward, and every player's contributions are added in that order, so
/// the samples are those of the pairs taken one at a time, bit for bit.
fn antithetic_pairs<G: ValueFunction + ?Sized>(
    game: &G,
    input: &[f64],
    baseline: &[f64],
    (empty, full): (f64, f64),
    seed: u64,
    pairs: std::ops::Range<usize>,
) -> Result<Vec<Vec<f64>>> {
    let n = input.len();
    let orders: Vec<Vec<usize>> = pairs
        .map(|pair| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(pair as u64);
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            order
        })
        .collect();
    let mut samples = vec![vec![0.0; n]; orders.len()];
    // A walk's last coalition is the full one, already known: n - 1 new
    // coalitions per walk, two walks per pair.
    let per_walk = n - 1;
    let player_at = |order: &[usize], backward: bool, step: usize| {
        if backward { order[n - 1 - step] } else { order[step] }
    };
    if per_walk == 0 {
        for sample in &mut samples {
            sample[0] = 0.5 * (full - empty) + 0.5 * (full - empty);
        }
        return Ok(samples);
    }
    let total = orders.len() * 2 * per_walk;
    let block = (PREFIX_BLOCK_VALUES / n).clamp(1, total);
    let mut points = Vec::with_capacity(block * n);
    let mut values = vec![0.0; block];
    let mut walks: Vec<(usize, bool, usize)> = Vec::with_capacity(block);
    let mut point = baseline.to_vec();
    let (mut next, mut previous) = (0, empty);
    while next < total {
        points.clear();
        walks.clear();
        while walks.len() < block && next < total {
            let (pair, backward, step) = (next / (2 * per_walk), (next / per_walk) % 2 == 1, next % per_walk);
            if step == 0 {
                point.copy_from_slice(baseline);
            }
            let player = player_at(&orders[pair], backward, step);
            point[player] = input[player];
            points.extend_from_slice(&point);
            walks.push((pair, backward, step));
            next += 1;
        }
        game.values(&points, &mut values[..walks.len()]);
        for (&(pair, backward, step), &v) in walks.iter().zip(&values) {
            let v = check_output("coalition value", v)?;
            if step == 0 {
                previous = empty;
            }
            let sample = &mut samples[pair];
            sample[player_at(&orders[pair], backward, step)] += 0.5 * (v - previous);
            previous = v;
            if step + 1 == per_walk {
                sample[player_at(&orders[pair], backward, step + 1)] += 0.5 * (full - v);
            }
        }
    }
    Ok(samples)
}

/// The most numbers (coalitions x players) handed to the game in one call
/// along a permutation: 8 MB of points.
const PREFIX_BLOCK_VALUES: usize = 1 << 20;

/// Running mean and variance per player (Welford), pushed in a fixed order.
struct Welford {
    count: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl Welford {
    fn new(n: usize) -> Self {
        Self {
            count: 0,
            mean: vec![0.0; n],
            m2: vec![0.0; n],
        }
    }

    fn push(&mut self, sample: &[f64]) {
        self.count += 1;
        let c = self.count as f64;
        for ((m, s), &x) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(sample) {
            let d = x - *m;
            *m += d / c;
            *s += d * (x - *m);
        }
    }

    fn std_errors(&self) -> Vec<f64> {
        if self.count < 2 {
            return vec![f64::INFINITY; self.mean.len()];
        }
        let c = self.count as f64;
        self.m2.iter().map(|&s| (s / (c - 1.0) / c).sqrt()).collect()
    }

    fn max_std_error(&self) -> f64 {
        self.std_errors().into_iter().fold(0.0, f64::max)
    }
}
