//! How a panel's attribution compares with the full-scale attribution of
//! the same agents, and the Attribution Scaling Bias verdict.

use serde::Serialize;

/// The relative residual above which a panel's attribution is called
/// irreconcilable with the full-scale one by any global rescaling.
pub const BIAS_THRESHOLD: f64 = 0.05;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Comparison {
    /// Share of the panel's |phi| held by its 5 largest |phi|.
    pub top5_share_panel: f64,
    /// Share of the full population's |phi| held by those same 5 agents.
    pub top5_share_full: f64,
    /// Share of the full population's |phi| held by the whole panel.
    pub panel_share_full: f64,
    /// Spearman rank correlation of the panel's phi with the same agents'
    /// full-scale phi (None when either side is constant).
    pub spearman: Option<f64>,
    /// |top 10 by panel phi ∩ top 10 by full phi|, over 10.
    pub top10_overlap: f64,
    /// argmin over c of || phi_full|panel - c phi_panel ||.
    pub rescale: f64,
    /// || phi_full|panel - c* phi_panel || / || phi_full|panel ||.
    pub residual: f64,
    /// The residual is above [`BIAS_THRESHOLD`]: no global rescaling
    /// reconciles the panel with the full scale.
    pub scaling_bias: bool,
    pub verdict: Verdict,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No global factor reconciles the panel with the full scale.
    ScalingBias,
    /// One factor reconciles them (to the threshold).
    Reconciled,
    /// The panel's attribution and the members' full-scale attribution are
    /// both zero: every factor reconciles them, so none is meaningful.
    Undefined,
    /// The panel's attribution is zero but the members' full-scale one is
    /// not: no factor can reconcile them (the panel replay does not move,
    /// while the members move the full system).
    NoFactor,
    /// The panel is the whole population: its replay is the full-scale one,
    /// so there is no scaling to compare.
    SamePopulation,
}

impl Verdict {
    pub fn describe(self) -> &'static str {
        match self {
            Verdict::ScalingBias => "scaling bias: no global rescaling reconciles panel and full scale",
            Verdict::Reconciled => "reconciled by one global factor",
            Verdict::Undefined => "undefined: the members' attribution is zero in the panel and at full scale",
            Verdict::NoFactor => {
                "no factor: the panel's attribution is zero, but the members' full-scale attribution is not"
            }
            Verdict::SamePopulation => "same population: the panel is every agent, so there is no scaling to compare",
        }
    }
}

/// `panel` and `full` are the same agents' phi (panel order); `full_abs_total`
/// is sum |phi| over the whole population.
pub fn compare(panel: &[f64], full: &[f64], full_abs_total: f64) -> Comparison {
    assert_eq!(panel.len(), full.len());
    let ratio = |a: f64, b: f64| if b != 0.0 { a / b } else { 0.0 };
    let mut by_panel: Vec<usize> = (0..panel.len()).collect();
    by_panel.sort_by(|&a, &b| panel[b].abs().total_cmp(&panel[a].abs()).then(a.cmp(&b)));
    let top5 = &by_panel[..5.min(panel.len())];
    let panel_abs: f64 = panel.iter().map(|p| p.abs()).sum();
    let top10 = |v: &[f64]| {
        let mut order: Vec<usize> = (0..v.len()).collect();
        order.sort_by(|&a, &b| v[b].total_cmp(&v[a]).then(a.cmp(&b)));
        order.truncate(10);
        order
    };
    let (tp, tf) = (top10(panel), top10(full));
    let overlap = tp.iter().filter(|a| tf.contains(a)).count();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let pp = dot(panel, panel);
    let rescale = ratio(dot(full, panel), pp);
    let norm_full = dot(full, full).sqrt();
    let residual_vec: Vec<f64> = full.iter().zip(panel).map(|(f, p)| f - rescale * p).collect();
    let residual = if pp == 0.0 && norm_full > 0.0 {
        // No factor: all of the full-scale attribution is unexplained.
        1.0
    } else if norm_full > 0.0 {
        dot(&residual_vec, &residual_vec).sqrt() / norm_full
    } else {
        0.0
    };
    let verdict = if pp == 0.0 && norm_full == 0.0 {
        Verdict::Undefined
    } else if pp == 0.0 {
        Verdict::NoFactor
    } else if residual > BIAS_THRESHOLD {
        Verdict::ScalingBias
    } else {
        Verdict::Reconciled
    };
    Comparison {
        top5_share_panel: ratio(top5.iter().map(|&i| panel[i].abs()).sum(), panel_abs),
        top5_share_full: ratio(top5.iter().map(|&i| full[i].abs()).sum(), full_abs_total),
        panel_share_full: ratio(full.iter().map(|f| f.abs()).sum(), full_abs_total),
        spearman: spearman(panel, full),
        top10_overlap: overlap as f64 / tp.len().max(1) as f64,
        rescale,
        residual,
        scaling_bias: verdict == Verdict::ScalingBias,
        verdict,
    }
}

/// Average ranks (ties share the mean of their ranks), 1-based.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rho: the Pearson correlation of average ranks.
pub fn spearman(a: &[f64], b: &[f64]) -> Option<f64> {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_matches_known_values() {
        // Perfect monotone agreement, reversal, and a textbook tied case.
        assert_eq!(spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 25.0, 100.0]), Some(1.0));
        assert_eq!(spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // ranks a = [1.5, 1.5, 3, 4], b = [1, 2, 3, 4] -> rho = 0.9486832980505138
        let rho = spearman(&[5.0, 5.0, 6.0, 7.0], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert!((rho - 0.9486832980505138).abs() < 1e-12);
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
    }

    #[test]
    fn a_rescaled_copy_has_zero_residual_and_a_reshuffle_does_not() {
        let panel: Vec<f64> = (1..=20).map(|i| i as f64).collect();
        let full: Vec<f64> = panel.iter().map(|p| 0.01 * p).collect();
        let c = compare(&panel, &full, 100.0);
        assert!((c.rescale - 0.01).abs() < 1e-15 && c.residual < 1e-12 && c.verdict == Verdict::Reconciled);
        assert_eq!(c.top10_overlap, 1.0);
        let mut shuffled = full.clone();
        shuffled.reverse();
        let c = compare(&panel, &shuffled, 100.0);
        assert!(c.residual > 0.5 && c.scaling_bias);
        // A panel replay that does not move, against members that move the
        // full system: no factor reconciles them (not "undefined").
        let none = compare(&[0.0; 4], &[1.0, 2.0, 3.0, 4.0], 10.0);
        assert_eq!(none.verdict, Verdict::NoFactor);
        assert_eq!(none.residual, 1.0);
        assert_eq!(compare(&[0.0; 4], &[0.0; 4], 10.0).verdict, Verdict::Undefined);
        assert_eq!(c.spearman, Some(-1.0));
        assert_eq!(c.top10_overlap, 0.0);
        // top 5 of 1..=20 hold (16+..+20)/210 of the panel's mass
        assert!((c.top5_share_panel - 90.0 / 210.0).abs() < 1e-12);
    }
}
