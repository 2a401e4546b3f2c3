//! Tiers by follower count, and each tier's share of the attribution.

use aumann_engine::neumaier_sum;
use serde::{Deserialize, Serialize};

/// Head = the top `head` fraction of agents by followers, middle = the next
/// `middle`, tail = the rest. Ranks break ties by agent id, so tiers have
/// exactly the sizes asked for.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
pub struct TierSpec {
    pub head: f64,
    pub middle: f64,
}

impl Default for TierSpec {
    fn default() -> Self {
        Self {
            head: 0.01,
            middle: 0.09,
        }
    }
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Head,
    Middle,
    Tail,
}

impl Tier {
    pub const ALL: [Tier; 3] = [Tier::Head, Tier::Middle, Tier::Tail];

    pub fn name(self) -> &'static str {
        match self {
            Tier::Head => "head",
            Tier::Middle => "middle",
            Tier::Tail => "tail",
        }
    }
}

impl TierSpec {
    pub fn validate(&self) -> Result<(), String> {
        let ok = |f: f64| f.is_finite() && (0.0..=1.0).contains(&f);
        if ok(self.head) && ok(self.middle) && self.head + self.middle <= 1.0 {
            Ok(())
        } else {
            Err(format!(
                "tier fractions must lie in [0, 1] and sum to at most 1; got head {}, middle {}",
                self.head, self.middle
            ))
        }
    }

    /// Each agent's tier.
    pub fn assign(&self, followers: &[f64]) -> Vec<Tier> {
        let n = followers.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| followers[b].total_cmp(&followers[a]).then(a.cmp(&b)));
        let head = (self.head * n as f64).round() as usize;
        let middle = ((self.head + self.middle) * n as f64).round() as usize;
        let mut tiers = vec![Tier::Tail; n];
        for (rank, &a) in order.iter().enumerate() {
            tiers[a] = if rank < head {
                Tier::Head
            } else if rank < middle {
                Tier::Middle
            } else {
                Tier::Tail
            };
        }
        tiers
    }
}

/// One tier's size and share of the attribution.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TierShare {
    pub tier: Tier,
    pub agents: usize,
    /// Lowest follower count in the tier; None when the tier is empty
    /// (null in summary.json).
    pub min_followers: Option<f64>,
    pub phi: f64,
    pub abs_phi: f64,
    /// phi / sum of phi over all agents (may be negative or above 1 when
    /// attributions have mixed signs).
    pub share: f64,
    /// |phi| / sum of |phi|: the share of the attribution's mass.
    pub abs_share: f64,
}

pub fn shares(phi: &[f64], followers: &[f64], tiers: &[Tier]) -> Vec<TierShare> {
    let total = neumaier_sum(phi.iter().copied());
    let total_abs = neumaier_sum(phi.iter().map(|p| p.abs()));
    let ratio = |a: f64, b: f64| if b != 0.0 { a / b } else { 0.0 };
    Tier::ALL
        .iter()
        .map(|&tier| {
            let members = || (0..phi.len()).filter(move |&i| tiers[i] == tier);
            let sum = neumaier_sum(members().map(|i| phi[i]));
            let abs = neumaier_sum(members().map(|i| phi[i].abs()));
            TierShare {
                tier,
                agents: members().count(),
                min_followers: members().map(|i| followers[i]).reduce(f64::min),
                phi: sum,
                abs_phi: abs,
                share: ratio(sum, total),
                abs_share: ratio(abs, total_abs),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_have_the_requested_sizes_and_shares_add_up() {
        let followers: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1000) as f64).collect();
        let tiers = TierSpec::default().assign(&followers);
        let count = |t| tiers.iter().filter(|&&x| x == t).count();
        assert_eq!(
            (count(Tier::Head), count(Tier::Middle), count(Tier::Tail)),
            (10, 90, 900)
        );
        let head_min = (0..1000)
            .filter(|&i| tiers[i] == Tier::Head)
            .map(|i| followers[i])
            .fold(f64::MAX, f64::min);
        let middle_max = (0..1000)
            .filter(|&i| tiers[i] == Tier::Middle)
            .map(|i| followers[i])
            .fold(0.0, f64::max);
        assert!(head_min >= middle_max);
        let phi: Vec<f64> = (0..1000).map(|i| (i as f64).sin()).collect();
        let s = shares(&phi, &followers, &tiers);
        let total: f64 = s.iter().map(|t| t.abs_share).sum();
        assert!((total - 1.0).abs() < 1e-12);
        let total: f64 = s.iter().map(|t| t.share).sum();
        assert!((total - 1.0).abs() < 1e-9);
        assert!(TierSpec { head: 0.6, middle: 0.5 }.validate().is_err());
    }
}
