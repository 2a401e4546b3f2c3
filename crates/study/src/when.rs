//! When the outcome was produced, how synchronised, how concentrated, and by
//! which camp: the summary statistics of an attribution over agents and
//! steps.

use serde::Serialize;

/// The share of the total that the latency waits for, by default.
pub const DEFAULT_LATENCY_QUANTILE: f64 = 0.5;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Timing {
    /// T*: the first step at which the cumulative sum of phi over steps
    /// reaches `quantile` of the total (None when the total is 0).
    pub quantile: f64,
    pub latency_step: Option<usize>,
    /// Z = mean over steps of |sum_i phi_it| / sum_i |phi_it|: 1 when every
    /// agent pushes the same way at every step, near 0 when they cancel.
    /// Steps where no gate has phi are left out.
    pub synchronization: Option<f64>,
    /// Gini coefficient of |phi_i| over every agent (inactive ones at 0).
    pub gini: f64,
    /// Shares of sum |phi| held by the top 1% of agents, and by the top 100.
    pub top_percent_share: f64,
    pub top_100_share: f64,
    /// Sum of phi per stance camp.
    pub camps: Vec<GroupTotal>,
    /// Sum of phi per group of the population's `group` column (the
    /// [`MAX_GROUPS`] groups with the largest |sum| by name, the rest
    /// together as "other groups"); empty without the column.
    pub groups: Vec<GroupTotal>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GroupTotal {
    pub group: String,
    pub agents: usize,
    pub phi: f64,
    /// phi over the sum of phi of every agent.
    pub share: f64,
}

/// Groups listed by name; more are summed as "other groups".
pub const MAX_GROUPS: usize = 100;

/// Whether a stance belongs to a camp.
type Camp = fn(f64) -> bool;

/// The statistics of one attribution: per-agent phi, per-gate phi with each
/// gate's step, the steps, the agents' stances (for the camps) and their
/// group labels if the population has them.
pub fn timing(
    agent_phi: &[f64],
    gate_phi: &[f64],
    gate_steps: &[u32],
    steps: usize,
    stance: &[f64],
    groups: Option<&[String]>,
    quantile: f64,
) -> Timing {
    let mut signed = vec![0.0; steps];
    let mut absolute = vec![0.0; steps];
    for (&p, &t) in gate_phi.iter().zip(gate_steps) {
        signed[t as usize] += p;
        absolute[t as usize] += p.abs();
    }
    let total: f64 = signed.iter().sum();
    let latency_step = (total != 0.0)
        .then(|| {
            let mut cumulative = 0.0;
            signed.iter().position(|&s| {
                cumulative += s;
                cumulative / total >= quantile
            })
        })
        .flatten();
    let ratios: Vec<f64> = signed
        .iter()
        .zip(&absolute)
        .filter(|(_, a)| **a > 0.0)
        .map(|(s, a)| s.abs() / a)
        .collect();
    let synchronization = (!ratios.is_empty()).then(|| ratios.iter().sum::<f64>() / ratios.len() as f64);
    let mut magnitudes: Vec<f64> = agent_phi.iter().map(|p| p.abs()).collect();
    magnitudes.sort_by(|a, b| b.total_cmp(a));
    let sum_abs: f64 = magnitudes.iter().sum();
    let top = |k: usize| {
        if sum_abs == 0.0 {
            0.0
        } else {
            magnitudes.iter().take(k).sum::<f64>() / sum_abs
        }
    };
    let n = agent_phi.len();
    let sum_phi: f64 = agent_phi.iter().sum();
    let camps: [(&str, Camp); 3] = [
        ("stance below 0.5", |s| s < 0.5),
        ("stance 0.5", |s| s == 0.5),
        ("stance above 0.5", |s| s > 0.5),
    ];
    let camps = camps
        .iter()
        .map(|&(group, member)| {
            let (agents, phi) = agent_phi
                .iter()
                .zip(stance)
                .filter(|(_, s)| member(**s))
                .fold((0, 0.0), |(k, t), (p, _)| (k + 1, t + p));
            GroupTotal {
                group: group.into(),
                agents,
                phi,
                share: if sum_phi == 0.0 { 0.0 } else { phi / sum_phi },
            }
        })
        .filter(|g| g.agents > 0)
        .collect();
    let share = |phi: f64| if sum_phi == 0.0 { 0.0 } else { phi / sum_phi };
    let groups = groups.map_or_else(Vec::new, |labels| {
        let mut by_label: std::collections::BTreeMap<&str, (usize, f64)> = std::collections::BTreeMap::new();
        for (label, &phi) in labels.iter().zip(agent_phi) {
            let entry = by_label.entry(label.as_str()).or_default();
            entry.0 += 1;
            entry.1 += phi;
        }
        let mut all: Vec<(&str, (usize, f64))> = by_label.into_iter().collect();
        let mut other = (0, 0.0);
        if all.len() > MAX_GROUPS {
            all.sort_by(|a, b| b.1.1.abs().total_cmp(&a.1.1.abs()).then(a.0.cmp(b.0)));
            for (_, (n, phi)) in all.drain(MAX_GROUPS..) {
                other.0 += n;
                other.1 += phi;
            }
            all.sort_by(|a, b| a.0.cmp(b.0));
        }
        let mut out: Vec<GroupTotal> = all
            .into_iter()
            .map(|(group, (agents, phi))| GroupTotal {
                group: group.to_string(),
                agents,
                phi,
                share: share(phi),
            })
            .collect();
        if other.0 > 0 {
            out.push(GroupTotal {
                group: "other groups".into(),
                agents: other.0,
                phi: other.1,
                share: share(other.1),
            });
        }
        out
    });
    Timing {
        quantile,
        latency_step,
        synchronization,
        gini: gini(&magnitudes),
        top_percent_share: top(n.div_ceil(100)),
        top_100_share: top(100),
        camps,
        groups,
    }
}

/// The Gini coefficient of non-negative values sorted in decreasing order:
/// G = sum_i (2i - n - 1) x_(i) / (n sum x) with x_(i) in increasing order
/// (0 when all are equal, (n - 1)/n when one holds everything).
fn gini(decreasing: &[f64]) -> f64 {
    let n = decreasing.len();
    let sum: f64 = decreasing.iter().sum();
    if n == 0 || sum == 0.0 {
        return 0.0;
    }
    let weighted: f64 = decreasing
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| (2.0 * (i + 1) as f64 - n as f64 - 1.0) * x)
        .sum();
    weighted / (n as f64 * sum)
}

/// The latency T* in words, numbered as the steps tables and the docs
/// number steps (from 0): "at step 3 (steps 0 to 8)", or "never".
pub fn latency_words(latency_step: Option<usize>, steps: usize) -> String {
    match latency_step {
        Some(s) => format!("at step {s} (steps 0 to {})", steps.saturating_sub(1)),
        None => "never".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_forms() {
        // Two steps; step 0 carries 3 of the total 4, with one gate against.
        let labels: Vec<String> = ["b", "a", "b"].iter().map(|s| s.to_string()).collect();
        let t = timing(
            &[3.0, 1.0, 0.0],
            &[4.0, -1.0, 1.0],
            &[0, 0, 1],
            2,
            &[0.2, 0.8, 0.5],
            Some(&labels),
            0.5,
        );
        assert_eq!(t.latency_step, Some(0));
        // Step 0: |3| / 5; step 1: 1 / 1.
        assert!((t.synchronization.unwrap() - (0.6 + 1.0) / 2.0).abs() < 1e-15);
        // |phi| = 3, 1, 0: G = (-2*0 + 0*1 + 2*3) / (3 * 4) = 0.5.
        assert!((t.gini - 0.5).abs() < 1e-15);
        assert_eq!(t.top_percent_share, 0.75);
        assert_eq!(t.top_100_share, 1.0);
        let shares: Vec<(&str, f64)> = t.camps.iter().map(|g| (g.group.as_str(), g.share)).collect();
        assert_eq!(
            shares,
            vec![
                ("stance below 0.5", 0.75),
                ("stance 0.5", 0.0),
                ("stance above 0.5", 0.25)
            ]
        );
        let groups: Vec<(&str, usize, f64)> = t.groups.iter().map(|g| (g.group.as_str(), g.agents, g.share)).collect();
        assert_eq!(groups, vec![("a", 1, 0.25), ("b", 2, 0.75)]);
        // More groups than listed: the smallest |sum| go to "other groups".
        let many: Vec<String> = (0..MAX_GROUPS + 2).map(|g| format!("g{g:03}")).collect();
        let phi: Vec<f64> = (0..MAX_GROUPS + 2).map(|g| g as f64).collect();
        let t = timing(
            &phi,
            &phi,
            &vec![0; phi.len()],
            1,
            &vec![0.5; phi.len()],
            Some(&many),
            0.5,
        );
        assert_eq!(t.groups.len(), MAX_GROUPS + 1);
        let other = t.groups.last().unwrap();
        assert_eq!(
            (other.group.as_str(), other.agents, other.phi),
            ("other groups", 2, 1.0)
        );
        // One agent holds everything: G = (n - 1)/n.
        assert!((gini(&[5.0, 0.0, 0.0, 0.0]) - 0.75).abs() < 1e-15);
        assert_eq!(gini(&[1.0, 1.0]), 0.0);
        // Nothing attributed: no latency, no synchronization.
        let z = timing(&[0.0], &[0.0], &[0], 1, &[0.5], None, 0.5);
        assert_eq!((z.latency_step, z.synchronization), (None, None));
        // A late step: the quantile is reached at step 2.
        let late = timing(&[1.0], &[0.1, 0.1, 0.8], &[0, 1, 2], 3, &[0.5], None, 0.5);
        assert_eq!(late.latency_step, Some(2));
    }
}
