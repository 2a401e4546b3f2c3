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

/// scipy's sparse SVD of the same CA matrix, built in Python from the
/// population's follows.parquet by the definition (top-K followed accounts
/// as columns, rows that follow at least M of them, standardised residuals
/// applied as a sparse product less a rank-one term), must give the same
/// leading dimension: |Pearson| >= 0.99 between its row scores and the
/// logit of ours (the map to (0, 1) is a logistic of a linear function of
/// the score).
#[test]
fn an_independent_correspondence_analysis_in_scipy_agrees() {
    let params = SynthParams {
        agents: 20_000,
        steps: 2,
        seed: 5,
        ..SynthParams::default()
    };
    let mut data = generate(&params, &());
    let ca = CaOptions {
        elites: 400,
        min_elites: 3,
        ..CaOptions::default()
    };
    let d = apply(
        &mut data,
        &StanceRequest {
            method: StanceMethod::Follows,
            file: None,
            ca: ca.clone(),
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    aumann_data::format::write(dir.path(), &data).unwrap();
    let script = r#"
import sys, numpy as np, pandas as pd, scipy.sparse as sp
from scipy.sparse.linalg import svds, LinearOperator
d, K, M = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
agents = pd.read_parquet(f"{d}/agents.parquet")
f = pd.read_parquet(f"{d}/follows.parquet")
f = f[f.follower != f.followee].drop_duplicates()
n = len(agents)
count = np.bincount(f.followee.to_numpy(), minlength=n)
order = sorted((a for a in range(n) if count[a] > 0), key=lambda a: (-count[a], a))[:K]
col = {a: j for j, a in enumerate(order)}
e = f[f.followee.isin(col)]
X = sp.csr_matrix((np.ones(len(e)), (e.follower.to_numpy(), e.followee.map(col).to_numpy())), shape=(n, len(order)))
core = np.asarray(X.sum(axis=1)).ravel() >= M
Xc = X[core]
P = Xc / Xc.sum()
r = np.asarray(P.sum(axis=1)).ravel(); c = np.asarray(P.sum(axis=0)).ravel()
Dr, Dc = sp.diags(1 / np.sqrt(r)), sp.diags(1 / np.sqrt(np.where(c > 0, c, 1)))
A = Dr @ P @ Dc
sr, sc = np.sqrt(r), np.sqrt(c)
S = LinearOperator(A.shape, matvec=lambda v: A @ v.ravel() - sr * (sc @ v.ravel()), rmatvec=lambda u: A.T @ u.ravel() - sc * (sr @ u.ravel()), dtype=float)
u, s, vt = svds(S, k=2, random_state=0)
v = vt[np.argmax(s)]
b = np.where(c > 0, v / np.where(c > 0, sc, 1), 0.0)
has = np.asarray(X.sum(axis=1)).ravel() > 0
score = (X @ b)[has] / np.asarray(X.sum(axis=1)).ravel()[has]
ours = agents.stance.to_numpy()[has]
src = agents.stance_source.to_numpy()[has]
keep = np.isin(src, ["fitted", "supplementary"])
logit = np.log(ours[keep] / (1 - ours[keep]))
print(abs(np.corrcoef(score[keep], logit)[0, 1]), s.max(), keep.sum())
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .arg(ca.elites.to_string())
        .arg(ca.min_elites.to_string())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "this test compares with scipy, which python3 lacks: run `bash scripts/test`, which installs it\n{stderr}"
    );
    assert!(out.status.success(), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<f64> = text.split_whitespace().map(|f| f.parse().unwrap()).collect();
    let (correlation, sigma, compared) = (fields[0], fields[1], fields[2] as usize);
    eprintln!(
        "scipy: |correlation| {correlation:.6}, leading singular value {sigma:.6}, {compared} agents compared; ours: {d:?}"
    );
    assert!(correlation >= 0.99, "{correlation}");
    assert!(compared > 10_000);
    let ours = d.explained_inertia.unwrap();
    assert!(ours > 0.0 && ours < 1.0);
}
