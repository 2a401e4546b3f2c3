//! Fits and distances used to summarise benchmark rows.

pub use aumann_study::compare::{ranks, spearman};

/// Least-squares slope of log(seconds) against log(N): the exponent b of
/// seconds ~ a N^b. Points with a non-positive time are left out (they
/// carry no information on a log scale); None below two usable points or
/// when every N is the same.
pub fn growth_exponent(points: &[(usize, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.1 > 0.0 && p.0 > 0)
        .map(|&(n, s)| ((n as f64).ln(), s.ln()))
        .collect();
    if pts.len() < 2 {
        return None;
    }
    let k = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / k;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / k;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// ||a - b|| / ||b|| in the L2 norm (the plain distance when b is 0).
pub fn relative_l2(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len(), "attributions of different lengths");
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let n: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    if n > 0.0 { d / n } else { d }
}

/// Mean of |a_i - s_i| / se_i over players with a positive standard error,
/// and the share of them within two standard errors: how well an
/// Aumann–Shapley result sits inside a sampled estimate's noise.
pub fn z_scores(a: &[f64], sampled: &[f64], std_error: &[f64]) -> Option<(f64, f64)> {
    let z: Vec<f64> = a
        .iter()
        .zip(sampled.iter().zip(std_error))
        .filter(|(_, (_, se))| **se > 0.0)
        .map(|(a, (s, se))| (a - s).abs() / se)
        .collect();
    if z.is_empty() {
        return None;
    }
    let mean = z.iter().sum::<f64>() / z.len() as f64;
    let within = z.iter().filter(|&&v| v <= 2.0).count() as f64 / z.len() as f64;
    Some((mean, within))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponent_of_an_exact_power_law_is_recovered() {
        for b in [0.5, 1.0, 2.2] {
            let pts: Vec<(usize, f64)> = [10, 100, 1000, 10_000]
                .iter()
                .map(|&n| (n, 3e-4 * (n as f64).powf(b)))
                .collect();
            assert!((growth_exponent(&pts).unwrap() - b).abs() < 1e-12);
        }
    }

    #[test]
    fn noise_is_averaged_by_least_squares_not_by_the_end_points() {
        // seconds = N^1 times (1.1, 0.9, 1.1, 0.9): the end points alone give
        // log(0.9/1.1)/log(1000) + 1 = 0.971; least squares (numpy.polyfit
        // on the same points) gives 0.98257.
        let pts = [(10, 11.0), (100, 90.0), (1000, 1100.0), (10_000, 9000.0)];
        let b = growth_exponent(&pts).unwrap();
        let x: Vec<f64> = [1.0f64, 2.0, 3.0, 4.0].iter().map(|k| k * 10f64.ln()).collect();
        let y: Vec<f64> = pts.iter().map(|p| p.1.ln()).collect();
        let (mx, my) = (x.iter().sum::<f64>() / 4.0, y.iter().sum::<f64>() / 4.0);
        let expected = x.iter().zip(&y).map(|(a, b)| (a - mx) * (b - my)).sum::<f64>()
            / x.iter().map(|a| (a - mx).powi(2)).sum::<f64>();
        assert!((b - expected).abs() < 1e-12 && (b - 0.98257).abs() < 1e-5, "{b}");
    }

    #[test]
    fn too_few_or_degenerate_points_give_no_exponent() {
        assert_eq!(growth_exponent(&[]), None);
        assert_eq!(growth_exponent(&[(10, 1.0)]), None);
        assert_eq!(growth_exponent(&[(10, 1.0), (10, 2.0)]), None);
        assert_eq!(growth_exponent(&[(10, 1.0), (100, 0.0)]), None);
    }

    #[test]
    fn relative_l2_is_the_normalised_distance() {
        assert_eq!(relative_l2(&[3.0, 4.0], &[0.0, 0.0]), 5.0);
        assert!((relative_l2(&[1.0, 1.0], &[1.0, 0.0]) - 1.0).abs() < 1e-15);
        assert_eq!(relative_l2(&[2.0], &[2.0]), 0.0);
    }

    #[test]
    fn z_scores_skip_players_without_noise() {
        let (mean, within) = z_scores(&[1.0, 2.0, 5.0], &[1.5, 2.0, 1.0], &[0.5, 0.0, 1.0]).unwrap();
        assert!((mean - 2.5).abs() < 1e-15);
        assert!((within - 0.5).abs() < 1e-15);
        assert_eq!(z_scores(&[1.0], &[2.0], &[0.0]), None);
    }
}

/// The area under the ROC curve of `score` for telling label true from
/// false, ties counting half (the Mann–Whitney statistic over the product
/// of the class sizes). None when a class is empty.
pub fn auc(score: &[f64], label: &[bool]) -> Option<f64> {
    let ranks = ranks(score);
    let ones = label.iter().filter(|&&l| l).count() as f64;
    let zeros = label.len() as f64 - ones;
    if ones == 0.0 || zeros == 0.0 {
        return None;
    }
    let rank_sum: f64 = ranks.iter().zip(label).filter(|(_, l)| **l).map(|(r, _)| r).sum();
    Some((rank_sum - ones * (ones + 1.0) / 2.0) / (ones * zeros))
}

#[cfg(test)]
mod rank_tests {
    use super::*;

    #[test]
    fn auc_and_spearman_match_hand_values() {
        assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]), Some(0.75));
        assert_eq!(auc(&[1.0, 1.0], &[false, true]), Some(0.5));
        assert_eq!(auc(&[1.0, 2.0], &[true, true]), None);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 30.0, 20.0]).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
    }
}
