//! Held-out scores against values worked by hand.

use aumann_fit::score::{Prediction, auc, score};

#[test]
fn the_auc_counts_the_pairs_a_responding_observation_wins() {
    // Responders 0.4 and 0.8 against silent 0.1 and 0.35: every pair won.
    assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[false, true, false, true]), Some(1.0));
    // 0.3 beats 0.2 and loses to 0.6: one of two pairs.
    assert_eq!(auc(&[0.3, 0.2, 0.6], &[true, false, false]), Some(0.5));
    // A tie counts a half: three pairs won and one tied, 3.5 of 4.
    assert_eq!(auc(&[0.5, 0.5, 0.1, 0.9], &[true, false, false, true]), Some(0.875));
    // Without both kinds there are no pairs.
    assert_eq!(auc(&[0.5, 0.7], &[true, true]), None);
}

#[test]
fn the_log_likelihood_is_the_mean_of_each_observations_log_probability() {
    let p = [0.2, 0.9, 0.5];
    let responded = [true, false, false];
    let s = score(&p.map(Prediction::from_probability), &responded);
    let expected = (0.2_f64.ln() + 0.1_f64.ln() + 0.5_f64.ln()) / 3.0;
    assert!((s.log_likelihood_per_observation.unwrap() - expected).abs() < 1e-15);
    assert_eq!((s.observations, s.responses), (3, 1));
    // A hazard so large that p rounds to 1 still scores a silent step as
    // -h, and still ranks above a smaller one.
    let h = [800.0, 900.0];
    let s = score(&h.map(Prediction::from_hazard), &[false, true]);
    assert_eq!(s.log_likelihood_per_observation, Some((-800.0 + 0.0) / 2.0));
    assert_eq!(s.auc, Some(1.0));
    // A response the model gives probability 0 leaves no finite score.
    let s = score(&[Prediction::from_probability(0.0)], &[true]);
    assert_eq!(s.log_likelihood_per_observation, None);
}
