//! How well a model predicts binary responses it was not fitted to.

use serde::Serialize;

/// A model's predictions of held-out responses, scored.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Scores {
    pub observations: usize,
    pub responses: usize,
    /// The mean log-likelihood of the observations (a response with
    /// probability p adds ln p, no response ln(1 - p)); higher is better.
    /// None when the model gave an observed response probability 0.
    pub log_likelihood_per_observation: Option<f64>,
    /// The probability that a responding observation is ranked above a
    /// silent one (ties count a half): 0.5 is chance. None without both
    /// kinds of observation.
    pub auc: Option<f64>,
}

/// A model's prediction of one observation, as logarithms so that a
/// probability that rounds to 0 or 1 keeps its information: ln p of a
/// response and ln(1 − p) of none (−h for a hazard h).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Prediction {
    pub log_respond: f64,
    pub log_silent: f64,
}

impl Prediction {
    /// From a hazard h: p = 1 − e^−h.
    pub fn from_hazard(h: f64) -> Self {
        Self {
            log_respond: (-(-h).exp_m1()).ln(),
            log_silent: -h,
        }
    }

    /// From a probability.
    pub fn from_probability(p: f64) -> Self {
        Self {
            log_respond: p.ln(),
            log_silent: (-p).ln_1p(),
        }
    }
}

/// Scores `predictions` of the observations whose outcomes are
/// `responded`. The AUC ranks by −ln(1 − p), which orders as p does and
/// still tells apart probabilities that round to 1.
pub fn score(predictions: &[Prediction], responded: &[bool]) -> Scores {
    assert_eq!(predictions.len(), responded.len(), "one prediction per observation");
    let responses = responded.iter().filter(|&&r| r).count();
    let log_likelihood: f64 = (predictions.iter())
        .zip(responded)
        .map(|(p, &r)| if r { p.log_respond } else { p.log_silent })
        .sum();
    let ranks: Vec<f64> = predictions.iter().map(|p| -p.log_silent).collect();
    Scores {
        observations: predictions.len(),
        responses,
        log_likelihood_per_observation: (log_likelihood.is_finite() && !predictions.is_empty())
            .then(|| log_likelihood / predictions.len() as f64),
        auc: auc(&ranks, responded),
    }
}

/// The Mann–Whitney statistic over the pairs of a responding and a silent
/// observation, ties counted a half: the area under the ROC curve.
pub fn auc(p: &[f64], responded: &[bool]) -> Option<f64> {
    let positives = responded.iter().filter(|&&r| r).count();
    let negatives = responded.len() - positives;
    if positives == 0 || negatives == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    // Ranks from 1, tied values sharing their mean rank.
    let mut rank_sum = 0.0;
    let mut k = 0;
    while k < order.len() {
        let mut end = k + 1;
        while end < order.len() && p[order[end]] == p[order[k]] {
            end += 1;
        }
        let mean_rank = (k + 1 + end) as f64 / 2.0;
        rank_sum += mean_rank * order[k..end].iter().filter(|&&i| responded[i]).count() as f64;
        k = end;
    }
    let pairs = positives as f64 * negatives as f64;
    Some((rank_sum - positives as f64 * (positives as f64 + 1.0) / 2.0) / pairs)
}
