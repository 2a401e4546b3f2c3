//! Summary statistics of a population, printed after generation or ingest.

use aumann_models::Population;
use serde::Serialize;
use std::fmt;

/// Quantiles of a distribution over agents.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Quantiles {
    pub min: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub mean: f64,
}

impl Quantiles {
    pub fn of(mut values: Vec<f64>) -> Self {
        if values.is_empty() {
            return Self {
                min: 0.0,
                p50: 0.0,
                p90: 0.0,
                p99: 0.0,
                p999: 0.0,
                max: 0.0,
                mean: 0.0,
            };
        }
        values.sort_unstable_by(f64::total_cmp);
        let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
        Self {
            min: values[0],
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: values[values.len() - 1],
            mean: values.iter().sum::<f64>() / values.len() as f64,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PopulationStats {
    pub agents: usize,
    pub steps: usize,
    pub follow_edges: usize,
    pub activity_rows: usize,
    pub engagements: usize,
    pub orders: usize,
    /// Follow rows with a begin or an end step.
    pub timed_follows: usize,
    pub exposures: usize,
    pub reposts: usize,
    /// Follower counts (the agents' property).
    pub followers: Quantiles,
    /// Accounts followed, from the follow edges.
    pub followees: Quantiles,
    /// Posts over the window, per agent.
    pub activity: Quantiles,
    /// Agents with any activity, per step.
    pub active_per_step: Quantiles,
    pub over_100k_followers: usize,
}

impl PopulationStats {
    pub fn of(p: &Population) -> Self {
        let mut followees = vec![0f64; p.agents];
        for &(j, _) in &p.follows {
            followees[j as usize] += 1.0;
        }
        let mut activity = vec![0f64; p.agents];
        let mut active = vec![0f64; p.steps];
        for a in &p.activity {
            activity[a.agent as usize] += a.amount;
            if a.amount > 0.0 {
                active[a.step as usize] += 1.0;
            }
        }
        Self {
            agents: p.agents,
            steps: p.steps,
            follow_edges: p.follows.len(),
            activity_rows: p.activity.len(),
            engagements: p.engagements.len(),
            orders: p.orders.len(),
            timed_follows: p.follow_spans.iter().filter(|s| !s.always()).count(),
            exposures: p.exposures.len(),
            reposts: p.reposts.len(),
            over_100k_followers: p.followers.iter().filter(|&&w| w > 1e5).count(),
            followers: Quantiles::of(p.followers.clone()),
            followees: Quantiles::of(followees),
            activity: Quantiles::of(activity),
            active_per_step: Quantiles::of(active),
        }
    }
}

impl fmt::Display for PopulationStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} agents, {} steps, {} follow edges, {} activity rows, {} engagements, {} orders",
            self.agents, self.steps, self.follow_edges, self.activity_rows, self.engagements, self.orders
        )?;
        if self.timed_follows + self.exposures + self.reposts > 0 {
            writeln!(
                f,
                "{} timed follows, {} exposures, {} reposts",
                self.timed_follows, self.exposures, self.reposts
            )?;
        }
        writeln!(
            f,
            "{:<22}{:>9}{:>9}{:>9}{:>9}{:>10}{:>10}{:>10}",
            "", "min", "median", "p90", "p99", "p99.9", "max", "mean"
        )?;
        for (name, q) in [
            ("followers", &self.followers),
            ("following", &self.followees),
            ("posts per agent", &self.activity),
            ("active agents / step", &self.active_per_step),
        ] {
            writeln!(
                f,
                "{name:<22}{:>9}{:>9}{:>9}{:>9}{:>10}{:>10}{:>10.2}",
                q.min, q.p50, q.p90, q.p99, q.p999, q.max, q.mean
            )?;
        }
        write!(
            f,
            "accounts with more than 100,000 followers: {}",
            self.over_100k_followers
        )
    }
}
