//! Gauss–Legendre against the nested rules (Gauss–Kronrod, Clenshaw–Curtis)
//! on real replays: each rule's φ for every gate, against a 256-node
//! Gauss–Legendre reference, with the gradient evaluations each costs.
//! BENCHMARKS.md ("Nested rules against Gauss–Legendre") records a run.
//!
//!     cargo run --release -p aumann-bench --example nested_rules -- [AGENTS] [refining]
//!
//! With `refining`, only the case where the adaptive Gauss–Legendre refines
//! at full scale (polarization on estimated stances), with fewer rules and
//! a 96-node reference: about 360 gradient evaluations.
//!
//! The engine's rules are Gauss–Legendre and the Riemann family; the
//! Kronrod and Clenshaw–Curtis nodes are made here, and each rule is
//! evaluated through the indicator's own batched sweep, as the engine
//! evaluates its rules.

use aumann_data::synth::SynthParams;
use aumann_engine::{NodeWeights, Path, Rule, SweepGame, ValueFunction};
use aumann_models::indicators::{CascadeParams, PolarizationParams};
use aumann_models::{Indicator, Replay, Workspace};

/// Legendre polynomials P_0..=P_n at x.
fn legendre(n: usize, x: f64) -> Vec<f64> {
    let mut p = vec![1.0, x];
    for k in 1..n {
        let next = ((2 * k + 1) as f64 * x * p[k] - k as f64 * p[k - 1]) / (k + 1) as f64;
        p.push(next);
    }
    p.truncate(n + 1);
    p
}

/// Gauss–Legendre on [-1, 1], from the engine's rule on [0, 1].
fn gauss(n: usize) -> (Vec<f64>, Vec<f64>) {
    let nodes = Rule::GaussLegendre.nodes(n);
    let x = nodes.taus.iter().map(|t| 2.0 * t - 1.0).collect();
    let w = nodes.weights.iter().map(|w| 2.0 * w).collect();
    (x, w)
}

/// Solves a x = b by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}

/// The Gauss–Kronrod rule of 2n + 1 nodes on [-1, 1]: the n Gauss nodes and
/// the n + 1 zeros of the Stieltjes polynomial E, orthogonal to every
/// polynomial of degree at most n under the weight P_n; the weights make
/// the rule exact on P_0..=P_2n.
fn kronrod(n: usize) -> (Vec<f64>, Vec<f64>) {
    let (gx, _) = gauss(n);
    // Integrals of P_n P_j P_k by a Gauss rule exact to their degree.
    let (qx, qw) = gauss(2 * n + 2);
    let tables: Vec<Vec<f64>> = qx.iter().map(|&x| legendre(n + 1, x)).collect();
    let integral = |j: usize, k: usize| -> f64 { tables.iter().zip(&qw).map(|(p, w)| w * p[n] * p[j] * p[k]).sum() };
    // E = P_{n+1} + sum c_k P_k over k of n + 1's parity below it; the
    // conditions for odd j (the others hold by parity).
    let ks: Vec<usize> = (0..n).filter(|k| (k + n + 1).is_multiple_of(2)).collect();
    let js: Vec<usize> = (0..=n).filter(|j| j % 2 == 1).collect();
    assert_eq!(ks.len(), js.len());
    let a = js
        .iter()
        .map(|&j| ks.iter().map(|&k| integral(j, k)).collect())
        .collect();
    let b = js.iter().map(|&j| -integral(j, n + 1)).collect();
    let c = solve(a, b);
    let e = |x: f64| {
        let p = legendre(n + 1, x);
        p[n + 1] + ks.iter().zip(&c).map(|(&k, c)| c * p[k]).sum::<f64>()
    };
    // One zero between consecutive Gauss nodes and in each end interval.
    let mut bounds = vec![-1.0];
    bounds.extend(&gx);
    bounds.push(1.0);
    let mut x: Vec<f64> = gx.clone();
    for pair in bounds.windows(2) {
        let (mut lo, mut hi) = (pair[0], pair[1]);
        assert!(e(lo) * e(hi) < 0.0, "no sign change in [{lo}, {hi}]");
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if e(lo) * e(mid) <= 0.0 {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        x.push(0.5 * (lo + hi));
    }
    x.sort_by(f64::total_cmp);
    let m = x.len();
    let rows: Vec<Vec<f64>> = (0..m)
        .map(|k| x.iter().map(|&xi| legendre(m, xi)[k]).collect())
        .collect();
    let rhs: Vec<f64> = (0..m).map(|k| if k == 0 { 2.0 } else { 0.0 }).collect();
    let w = solve(rows, rhs);
    (x, w)
}

/// Clenshaw–Curtis with N + 1 points (N even) on [-1, 1].
fn clenshaw_curtis(n: usize) -> (Vec<f64>, Vec<f64>) {
    let pi = std::f64::consts::PI;
    let x = (0..=n).map(|k| (k as f64 * pi / n as f64).cos()).collect();
    let w = (0..=n)
        .map(|k| {
            let c = if k == 0 || k == n { 1.0 } else { 2.0 };
            let s: f64 = (1..=n / 2)
                .map(|j| {
                    let b = if 2 * j == n { 1.0 } else { 2.0 };
                    b / (4.0 * (j * j) as f64 - 1.0) * (2.0 * (j * k) as f64 * pi / n as f64).cos()
                })
                .sum();
            c / n as f64 * (1.0 - s)
        })
        .collect();
    (x, w)
}

/// φ of every gate by the rule (x, w) on [-1, 1], through the model's sweep
/// in batches of 8 nodes, from every gate closed to every gate open.
fn phi(game: &dyn ValueFunction, rule: &(Vec<f64>, Vec<f64>)) -> Vec<f64> {
    let n = game.players();
    let (input, baseline) = (vec![1.0; n], vec![0.0; n]);
    let path = Path {
        baseline: &baseline,
        input: &input,
    };
    let taus: Vec<f64> = rule.0.iter().map(|x| 0.5 * (x + 1.0)).collect();
    let weights: Vec<f64> = rule.1.iter().map(|w| 0.5 * w).collect();
    let mut accumulator = vec![0.0; n];
    for start in (0..taus.len()).step_by(8) {
        let end = (start + 8).min(taus.len());
        let mut values = vec![0.0; end - start];
        game.accumulate_path_gradients(
            path,
            &taus[start..end],
            NodeWeights::new(1, end - start, &weights[start..end]),
            &mut values,
            &mut accumulator,
        );
    }
    accumulator
}

fn main() {
    let agents: usize = std::env::args().nth(1).map_or(200_000, |a| a.parse().expect("AGENTS"));
    let refining = std::env::args().nth(2).is_some_and(|a| a == "refining");
    // The Kronrod nodes checked against QUADPACK's G7K15: its weight at 0.
    let (x, w) = kronrod(7);
    let centre = x.iter().position(|x| x.abs() < 1e-15).expect("0 is a node");
    assert!((w[centre] - 0.209_482_141_084_727_83).abs() < 1e-14, "{}", w[centre]);
    let (mut planted, mut estimated) =
        aumann_bench::stance::planted_and_estimated(agents, SynthParams::default().seed).expect("stance");
    let cases = [
        (
            "polarization, planted stances",
            &mut planted,
            Indicator::Polarization(PolarizationParams::default()),
        ),
        (
            "polarization, estimated stances",
            &mut estimated,
            Indicator::Polarization(PolarizationParams::default()),
        ),
    ];
    let mut runs: Vec<(String, &aumann_data::Dataset, Indicator)> = cases
        .into_iter()
        .map(|(name, data, indicator)| (name.to_string(), &*data, indicator))
        .collect();
    runs.push((
        "cascade".into(),
        runs[0].1,
        Indicator::Cascade(CascadeParams::default()),
    ));
    if refining {
        runs.retain(|r| r.0.contains("estimated"));
    }
    let (gl, gk, cc): (&[usize], &[usize], &[usize]) = if refining {
        (&[24, 32, 48], &[12, 15], &[16, 32])
    } else {
        (&[8, 12, 16, 20, 24, 32, 48], &[5, 7, 10, 12, 15], &[8, 16, 32, 64])
    };
    for (name, data, indicator) in runs {
        let replay = Replay::new(&data.population).expect("replay");
        let workspace = Workspace::new();
        let game = SweepGame(indicator.model(&replay, &workspace));
        let n = game.players();
        let delta = game.value(&vec![1.0; n]) - game.value(&vec![0.0; n]);
        let reference = phi(&game, &gauss(if refining { 96 } else { 256 }));
        let mass: f64 = reference.iter().map(|p| p.abs()).sum();
        println!("\n{name}, {agents} agents, {n} gates: ΔF = {delta:.6e}");
        println!(
            "rule | evaluations | relative gap | Σ|φ - φ_ref| / Σ|φ_ref| | estimate Σ|φ - φ_companion| / Σ|φ_ref|"
        );
        let report = |label: String, rule: (Vec<f64>, Vec<f64>), companion: Option<(Vec<f64>, Vec<f64>)>| {
            let p = phi(&game, &rule);
            let total: f64 = p.iter().sum();
            let error: f64 = p.iter().zip(&reference).map(|(a, b)| (a - b).abs()).sum::<f64>() / mass;
            let estimate = companion.map(|c| {
                let q = phi(&game, &c);
                p.iter().zip(&q).map(|(a, b)| (a - b).abs()).sum::<f64>() / mass
            });
            println!(
                "{label} | {} | {:.2e} | {error:.2e} | {}",
                rule.0.len(),
                ((total - delta) / delta).abs(),
                estimate.map_or("-".into(), |e| format!("{e:.2e}"))
            );
        };
        for &k in gl {
            report(format!("Gauss–Legendre {k}"), gauss(k), None);
        }
        for &k in gk {
            report(format!("Gauss–Kronrod {k}/{}", 2 * k + 1), kronrod(k), Some(gauss(k)));
        }
        for &k in cc {
            report(
                format!("Clenshaw–Curtis {}", k + 1),
                clenshaw_curtis(k),
                Some(clenshaw_curtis(k / 2)),
            );
        }
    }
}
