//! Quadrature rules on [0, 1] and their companions for error estimates.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A quadrature rule family on [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Gauss–Legendre: exact for polynomials of degree 2n - 1; the default,
    /// since path integrands of smooth models are smooth.
    GaussLegendre,
    /// Left Riemann sum: nodes j/n.
    RiemannLeft,
    /// Right Riemann sum: nodes (j + 1)/n.
    RiemannRight,
    /// Midpoint Riemann sum: nodes (j + 1/2)/n (Captum's "riemann_middle").
    RiemannMidpoint,
    /// Trapezoid: n nodes including both end points (n >= 2).
    Trapezoid,
}

impl Rule {
    pub const ALL: [Rule; 5] = [
        Rule::GaussLegendre,
        Rule::RiemannLeft,
        Rule::RiemannRight,
        Rule::RiemannMidpoint,
        Rule::Trapezoid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::GaussLegendre => "gauss-legendre",
            Rule::RiemannLeft => "riemann-left",
            Rule::RiemannRight => "riemann-right",
            Rule::RiemannMidpoint => "riemann-midpoint",
            Rule::Trapezoid => "trapezoid",
        }
    }

    /// The smallest node count the rule accepts.
    pub fn min_nodes(self) -> usize {
        match self {
            Rule::Trapezoid => 2,
            _ => 1,
        }
    }

    /// Nodes and weights of the n-node rule on [0, 1]; the weights sum to 1.
    pub fn nodes(self, n: usize) -> Nodes {
        assert!(
            n >= self.min_nodes(),
            "{} needs at least {} nodes",
            self.name(),
            self.min_nodes()
        );
        let nf = n as f64;
        let (taus, weights) = match self {
            Rule::GaussLegendre => gauss_legendre(n),
            Rule::RiemannLeft => ((0..n).map(|j| j as f64 / nf).collect(), vec![1.0 / nf; n]),
            Rule::RiemannRight => ((1..=n).map(|j| j as f64 / nf).collect(), vec![1.0 / nf; n]),
            Rule::RiemannMidpoint => (
                (0..n).map(|j| (2 * j + 1) as f64 / (2.0 * nf)).collect(),
                vec![1.0 / nf; n],
            ),
            Rule::Trapezoid => {
                let intervals = (n - 1) as f64;
                let taus = (0..n).map(|j| j as f64 / intervals).collect();
                let mut weights = vec![1.0 / intervals; n];
                weights[0] *= 0.5;
                weights[n - 1] *= 0.5;
                (taus, weights)
            }
        };
        Nodes { taus, weights }
    }

    /// Node count of the companion rule whose difference from the n-node
    /// rule is the per-player error estimate. Gauss–Legendre's companion is
    /// embedded: a rule of lower degree on the same n nodes
    /// ([`Rule::companion`]). The others' is the same family at about half
    /// the nodes; for the Riemann left/right rules with even n and the
    /// trapezoid with odd n, its nodes are a subset of the rule's. Either
    /// way a shared node is evaluated once.
    pub fn companion_nodes(self, n: usize) -> usize {
        match self {
            Rule::GaussLegendre => n,
            Rule::Trapezoid => n.div_ceil(2).max(2),
            _ => n.div_ceil(2),
        }
    }

    /// Whether the companion lies on the rule's own nodes, so that every
    /// level can carry its own estimate at no cost.
    pub fn embedded_companion(self) -> bool {
        self == Rule::GaussLegendre
    }

    /// The companion rule of `rule`, this rule's nodes for some n (see
    /// [`Rule::companion_nodes`]).
    ///
    /// Gauss–Legendre's is the n-node rule less two null rules: with x_m
    /// the nodes on [-1, 1] and w_m the weights, the companion's weights
    /// are w_m (1 - P_{n-1}(x_m) - P_{n-2}(x_m)). Since the n-node rule
    /// integrates P_k p exactly for deg(P_k p) <= 2n - 1, and P_k is
    /// orthogonal to every polynomial of lower degree, the companion is
    /// exact to degree n - 3, and the difference of the two,
    /// sum_m w_m (P_{n-1} + P_{n-2})(x_m) f(x_m), measures the integrand's
    /// two highest Legendre coefficients that n nodes resolve: of the same
    /// order as the n/2-node rule's error, which is what the estimate was
    /// when the companion had n/2 nodes of its own (docs/method.md). Two
    /// coefficients, one even and one odd, so that an integrand symmetric
    /// about the path's midpoint does not hide from it. One node has no
    /// companion (weights 0: the estimate is phi itself).
    pub fn companion(self, rule: &Nodes) -> Nodes {
        let n = rule.taus.len();
        if self != Rule::GaussLegendre {
            return self.nodes(self.companion_nodes(n));
        }
        let mut nodes = rule.clone();
        let below = below_node_values(&nodes);
        for (w, (p1, p2)) in nodes.weights.iter_mut().zip(below) {
            let null = match n {
                1 => 1.0,
                2 => p1,
                _ => p1 + p2,
            };
            *w *= 1.0 - null;
        }
        nodes
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Rule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rule::ALL.into_iter().find(|r| r.name() == s).ok_or_else(|| {
            let names: Vec<_> = Rule::ALL.iter().map(|r| r.name()).collect();
            format!("unknown rule '{s}'; choose one of {}", names.join(", "))
        })
    }
}

/// Nodes tau_m in [0, 1] and weights w_m of one rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Nodes {
    pub taus: Vec<f64>,
    pub weights: Vec<f64>,
}

/// The union of two rules' nodes with one weight row for each: what a single
/// sweep evaluates to get a rule and its companion together. Nodes that the
/// two rules share (bit-identical taus) are evaluated once.
#[derive(Clone, Debug)]
pub struct PairedNodes {
    pub taus: Vec<f64>,
    /// 2 x taus.len(), row-major: row 0 the primary rule, row 1 the companion.
    pub weights: Vec<f64>,
}

impl PairedNodes {
    pub fn new(primary: &Nodes, companion: &Nodes) -> Self {
        let mut taus = primary.taus.clone();
        let mut at: std::collections::HashMap<u64, usize> =
            taus.iter().enumerate().map(|(m, t)| (t.to_bits(), m)).collect();
        let mut companion_at = Vec::with_capacity(companion.taus.len());
        for &t in &companion.taus {
            let m = *at.entry(t.to_bits()).or_insert_with(|| {
                taus.push(t);
                taus.len() - 1
            });
            companion_at.push(m);
        }
        let k = taus.len();
        let mut weights = vec![0.0; 2 * k];
        weights[..primary.weights.len()].copy_from_slice(&primary.weights);
        for (&m, &w) in companion_at.iter().zip(&companion.weights) {
            weights[k + m] += w;
        }
        Self { taus, weights }
    }

    /// A single rule (no companion row is needed).
    pub fn single(primary: &Nodes) -> Self {
        let k = primary.taus.len();
        let mut weights = vec![0.0; 2 * k];
        weights[..k].copy_from_slice(&primary.weights);
        Self {
            taus: primary.taus.clone(),
            weights,
        }
    }
}

/// Gauss–Legendre nodes and weights mapped to [0, 1], by Newton's method on
/// the Legendre recurrence (accurate to a few ulps for n up to thousands).
/// Written here because the quadrature crates either pull in a linear-algebra
/// stack for Golub–Welsch or return f32 tables.
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut taus = vec![0.0; n];
    let mut weights = vec![0.0; n];
    let nf = n as f64;
    for i in 0..n.div_ceil(2) {
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
        let mut dp = 0.0;
        for _ in 0..100 {
            let (p, d) = legendre(n, x);
            dp = d;
            let dx = p / d;
            x -= dx;
            if dx.abs() <= 1e-16 * x.abs().max(1.0) {
                let (_, d) = legendre(n, x);
                dp = d;
                break;
            }
        }
        let w = 2.0 / ((1.0 - x * x) * dp * dp);
        // x is the i-th largest root; its mirror is -x.
        taus[n - 1 - i] = 0.5 * (1.0 + x);
        taus[i] = 0.5 * (1.0 - x);
        weights[n - 1 - i] = 0.5 * w;
        weights[i] = 0.5 * w;
    }
    (taus, weights)
}

/// (P_{n-1}(x_m), P_{n-2}(x_m)) at the n Gauss–Legendre nodes x_m on
/// [-1, 1], from the nodes and weights alone, in O(n) (the recurrence would
/// cost O(n) per node). At a root of P_n the weight is
/// w = 2 (1 - x^2) / (n P_{n-1}(x))^2, which gives |P_{n-1}(x)|; its sign
/// alternates over the roots, positive at the largest (P_{n-1} has its
/// roots between P_n's, and P_{n-1}(1) = 1); and the recurrence
/// n P_n = (2n - 1) x P_{n-1} - (n - 1) P_{n-2} with P_n = 0 gives P_{n-2}.
/// `nodes` are on [0, 1] in increasing order, weights summing to 1.
fn below_node_values(nodes: &Nodes) -> Vec<(f64, f64)> {
    let n = nodes.taus.len();
    let nf = n as f64;
    nodes
        .taus
        .iter()
        .zip(&nodes.weights)
        .enumerate()
        .map(|(m, (&tau, &w01))| {
            let x = 2.0 * tau - 1.0;
            let magnitude = ((1.0 - x * x) / (nf * nf * w01)).sqrt();
            let p1 = if (n - 1 - m).is_multiple_of(2) {
                magnitude
            } else {
                -magnitude
            };
            let p2 = if n >= 2 {
                (2.0 * nf - 1.0) * x * p1 / (nf - 1.0)
            } else {
                0.0
            };
            (p1, p2)
        })
        .collect()
}

/// P_n(x) and P_n'(x) by the three-term recurrence.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let kf = k as f64;
        let p2 = ((2.0 * kf - 1.0) * x * p1 - (kf - 1.0) * p0) / kf;
        p0 = p1;
        p1 = p2;
    }
    let d = n as f64 * (x * p1 - p0) / (x * x - 1.0);
    (p1, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn integrate(nodes: &Nodes, f: impl Fn(f64) -> f64) -> f64 {
        nodes.taus.iter().zip(&nodes.weights).map(|(&t, &w)| w * f(t)).sum()
    }

    #[test]
    fn weights_sum_to_one_and_nodes_lie_in_the_unit_interval() {
        for rule in Rule::ALL {
            for n in rule.min_nodes()..40 {
                let nodes = rule.nodes(n);
                let s: f64 = nodes.weights.iter().sum();
                assert!((s - 1.0).abs() < 1e-13, "{rule} n={n} sum={s}");
                assert!(nodes.taus.iter().all(|&t| (0.0..=1.0).contains(&t)));
            }
        }
    }

    #[test]
    fn gauss_legendre_is_exact_to_degree_2n_minus_1() {
        for n in 1..60 {
            let nodes = Rule::GaussLegendre.nodes(n);
            for d in 0..(2 * n).min(80) {
                let got = integrate(&nodes, |t| t.powi(d as i32));
                let exact = 1.0 / (d as f64 + 1.0);
                assert!((got - exact).abs() < 1e-13, "n={n} degree {d}: {got} vs {exact}");
            }
            // degree 2n is not integrated exactly (visibly so while the
            // error constant, which shrinks like 4^-n, is above rounding)
            if n > 12 {
                continue;
            }
            let got = integrate(&nodes, |t| (2.0 * t - 1.0).powi(2 * n as i32));
            let exact = 1.0 / (2.0 * n as f64 + 1.0);
            assert!((got - exact).abs() > 1e-12, "n={n}");
        }
    }

    #[test]
    fn gauss_legendre_matches_published_three_point_rule() {
        // On [-1, 1]: nodes 0, +-sqrt(3/5), weights 8/9, 5/9.
        let nodes = Rule::GaussLegendre.nodes(3);
        let r = (0.6f64).sqrt();
        assert!((nodes.taus[0] - 0.5 * (1.0 - r)).abs() < 1e-15);
        assert!((nodes.taus[1] - 0.5).abs() < 1e-15);
        assert!((nodes.weights[1] - 4.0 / 9.0).abs() < 1e-15);
        assert!((nodes.weights[0] - 5.0 / 18.0).abs() < 1e-15);
    }

    #[test]
    fn riemann_and_trapezoid_orders() {
        // Left and right rules are first order; midpoint and trapezoid second.
        let f = |t: f64| t.exp();
        let exact = 1f64.exp() - 1.0;
        for (rule, order) in [
            (Rule::RiemannLeft, 1.0),
            (Rule::RiemannRight, 1.0),
            (Rule::RiemannMidpoint, 2.0),
            (Rule::Trapezoid, 2.0),
        ] {
            let e1 = (integrate(&rule.nodes(33), f) - exact).abs();
            let e2 = (integrate(&rule.nodes(65), f) - exact).abs();
            let observed = (e1 / e2).log2();
            assert!((observed - order).abs() < 0.1, "{rule}: observed order {observed}");
        }
    }

    #[test]
    fn the_gauss_legendre_companion_is_exact_to_degree_n_minus_3_and_no_further() {
        for n in 3..40 {
            let companion = Rule::GaussLegendre.companion(&Rule::GaussLegendre.nodes(n));
            assert_eq!(companion.taus, Rule::GaussLegendre.nodes(n).taus);
            for d in 0..=n - 3 {
                let got = integrate(&companion, |t| t.powi(d as i32));
                let exact = 1.0 / (d as f64 + 1.0);
                assert!((got - exact).abs() < 1e-12, "n={n} degree {d}: {got} vs {exact}");
            }
            // The two shifted Legendre polynomials the null rules remove
            // integrate to 0, and the companion gives each a nonzero value.
            for k in [n - 2, n - 1] {
                let p = |t: f64| legendre(k, 2.0 * t - 1.0).0;
                assert!(integrate(&Rule::GaussLegendre.nodes(n), p).abs() < 1e-13);
                assert!(integrate(&companion, p).abs() > 1e-3, "n={n} k={k}");
            }
        }
        // The values below the nodes agree with the recurrence.
        for n in 2..60 {
            let nodes = Rule::GaussLegendre.nodes(n);
            for ((&tau, (p1, p2)), m) in nodes.taus.iter().zip(below_node_values(&nodes)).zip(0..) {
                let x = 2.0 * tau - 1.0;
                let (q1, q2) = (legendre(n - 1, x).0, legendre(n - 2, x).0);
                assert!(
                    (p1 - q1).abs() < 1e-11 && (p2 - q2).abs() < 1e-11,
                    "n={n} m={m}: {p1} {q1}, {p2} {q2}"
                );
            }
        }
        // One node: no companion; two: the rule less its linear part.
        let companion = |n| Rule::GaussLegendre.companion(&Rule::GaussLegendre.nodes(n));
        assert_eq!(companion(1).weights, vec![0.0]);
        let two = companion(2);
        assert!((integrate(&two, |_| 1.0) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn nested_companions_share_their_nodes() {
        for n in [1, 2, 12, 24] {
            let rule = Rule::GaussLegendre;
            let paired = PairedNodes::new(&rule.nodes(n), &rule.companion(&rule.nodes(n)));
            assert_eq!(paired.taus.len(), n, "{rule} embeds its companion");
        }
        for (rule, n) in [(Rule::RiemannLeft, 16), (Rule::RiemannRight, 16), (Rule::Trapezoid, 17)] {
            let paired = PairedNodes::new(&rule.nodes(n), &rule.nodes(rule.companion_nodes(n)));
            assert_eq!(paired.taus.len(), n, "{rule}");
        }
        let paired = PairedNodes::new(&Rule::GaussLegendre.nodes(16), &Rule::GaussLegendre.nodes(8));
        assert_eq!(paired.taus.len(), 24);
        let k = paired.taus.len();
        let s0: f64 = paired.weights[..k].iter().sum();
        let s1: f64 = paired.weights[k..].iter().sum();
        assert!((s0 - 1.0).abs() < 1e-14 && (s1 - 1.0).abs() < 1e-14);
    }

    #[test]
    fn rule_names_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(rule.name().parse::<Rule>().unwrap(), rule);
        }
        assert!("simpson".parse::<Rule>().unwrap_err().contains("gauss-legendre"));
    }
}
