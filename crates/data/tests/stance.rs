//! Stance from the data, checked against what the built-in generator
//! planted and against the documented methods' definitions.

use aumann_data::stance::{StanceMethod, StanceRequest, apply};
use aumann_data::synth::{SynthParams, generate, planted_communities};
use aumann_stance::CaOptions;

/// The area under the ROC curve of `score` for telling label 1 from 0
/// (ties count half), by the rank-sum formula.
fn auc(score: &[f64], label: &[u8]) -> f64 {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let mut ranks = vec![0.0; score.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        for k in i..=j {
            ranks[order[k]] = (i + j) as f64 / 2.0 + 1.0;
        }
        i = j + 1;
    }
    let ones = label.iter().filter(|&&l| l == 1).count() as f64;
    let zeros = label.len() as f64 - ones;
    let rank_sum: f64 = (0..label.len()).filter(|&a| label[a] == 1).map(|a| ranks[a]).sum();
    (rank_sum - ones * (ones + 1.0) / 2.0) / (ones * zeros)
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let rank = |v: &[f64]| {
        let mut o: Vec<usize> = (0..v.len()).collect();
        o.sort_by(|&x, &y| v[x].total_cmp(&v[y]));
        let mut r = vec![0.0; v.len()];
        for (k, &i) in o.iter().enumerate() {
            r[i] = k as f64;
        }
        r
    };
    let (ra, rb) = (rank(a), rank(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

#[test]
fn auc_and_spearman_helpers_match_hand_values() {
    assert_eq!(auc(&[0.1, 0.4, 0.35, 0.8], &[0, 0, 1, 1]), 0.75);
    assert_eq!(auc(&[1.0, 1.0], &[0, 1]), 0.5);
    assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 30.0, 20.0]) - 0.5).abs() < 1e-12);
}

#[test]
fn follows_stance_separates_the_planted_communities_at_200k_agents() {
    let params = SynthParams {
        agents: 200_000,
        steps: 2,
        ..SynthParams::default()
    };
    let mut data = generate(&params, &());
    let planted_stance = data.population.stance.clone();
    let community = planted_communities(&params);
    let request = StanceRequest {
        method: StanceMethod::Follows,
        file: None,
        ca: CaOptions::default(),
    };
    let d = apply(&mut data, &request).unwrap();
    let detail = data.stance_detail.as_ref().unwrap();
    let estimated: Vec<usize> = (0..params.agents)
        .filter(|&a| detail.source[a] != "low-signal")
        .collect();
    let score: Vec<f64> = estimated.iter().map(|&a| data.population.stance[a]).collect();
    let label: Vec<u8> = estimated.iter().map(|&a| community[a]).collect();
    // The orientation is a convention: either side may be community 0.
    let area = auc(&score, &label);
    let area = area.max(1.0 - area);
    let planted: Vec<f64> = estimated.iter().map(|&a| planted_stance[a]).collect();
    let rho = spearman(&score, &planted).abs();
    eprintln!(
        "200,000 agents: AUC {area:.4}, |Spearman| with the planted stance {rho:.3}, {} estimated, bimodality {:?}",
        d.estimated, d.bimodality
    );
    assert!(area >= 0.95, "AUC {area}");
    assert!(d.low_signal_share < 0.05, "{d:?}");
    assert!(d.bimodality.unwrap() > 5.0 / 9.0, "{d:?}");
    assert!(rho > 0.5, "{rho}");
    // Every stance is in (0, 1), and the flagged agents sit at 0.5.
    assert!(data.population.stance.iter().all(|&s| s > 0.0 && s < 1.0));
    for a in (0..params.agents).filter(|&a| detail.source[a] == "low-signal") {
        assert_eq!(data.population.stance[a], 0.5);
        assert_eq!(detail.confidence[a], 0.0);
    }
}
