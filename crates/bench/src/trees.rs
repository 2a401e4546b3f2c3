//! Real retweet cascades (the Twitter15/16 trees, `aumann ingest
//! twitter-trees`): does the cascade's attribution rank a tree's users as
//! their descendants do (the retweets that passed through them)?

use aumann_data::Dataset;
use aumann_engine::AumannShapley;
use aumann_models::{Indicator, Replay};
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// The agreement over trees of one label (or all).
#[derive(Clone, Debug, Serialize)]
pub struct Agreement {
    pub label: String,
    /// Trees with at least `min_users` users and descendant counts that are
    /// not all equal (else no rank correlation exists).
    pub trees: usize,
    /// Quartiles of the per-tree Spearman correlation of φ with the
    /// descendant count: 25%, 50%, 75%.
    pub spearman_quartiles: [f64; 3],
    /// The share of trees whose φ ranks the users with most descendants
    /// first (the user with most descendants has the largest φ).
    pub top_user_agrees: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct TreesBench {
    pub agents: usize,
    pub trees: usize,
    pub min_users: usize,
    pub indicator: String,
    pub delta: f64,
    pub relative_gap: f64,
    pub attribute_seconds: f64,
    pub by_label: Vec<Agreement>,
}

/// Each agent's descendants: the retweets whose chain of parents passes
/// through it (reposts name each retweet's parent; a tree's users have one
/// parent each).
pub fn descendants(data: &Dataset) -> Vec<f64> {
    let n = data.population.agents;
    let mut parent: Vec<Option<u32>> = vec![None; n];
    for r in &data.population.reposts {
        parent[r.reposter as usize] = Some(r.parent_author);
    }
    let mut count = vec![0.0; n];
    for start in 0..n {
        let mut at = parent[start];
        let mut hops = 0;
        while let Some(p) = at {
            count[p as usize] += 1.0;
            at = parent[p as usize];
            hops += 1;
            assert!(hops <= n, "the ingest keeps the trees acyclic");
        }
    }
    count
}

fn quartiles(mut v: Vec<f64>) -> [f64; 3] {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if v.is_empty() {
            return f64::NAN;
        }
        let x = q * (v.len() - 1) as f64;
        let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
        v[lo] + (v[hi] - v[lo]) * (x - lo as f64)
    };
    [at(0.25), at(0.5), at(0.75)]
}

/// The cascade's attribution of `data` (trees ingested as one population)
/// and its agreement with the descendant counts, tree by tree.
pub fn trees(data: &Dataset, engine: &AumannShapley, min_users: usize) -> Result<TreesBench, crate::BenchError> {
    let indicator = Indicator::from_name("cascade").expect("a declared indicator");
    let replay = Replay::new(&data.population)?;
    let started = Instant::now();
    let attribution = aumann_models::attribute(&replay, indicator, engine)?;
    let attribute_seconds = started.elapsed().as_secs_f64();
    let phi = &attribution.agent_phi;
    let below = descendants(data);
    // Users by tree: the external id is SOURCE_ID:uid.
    let mut by_tree: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, id) in data.external_ids.iter().enumerate() {
        let tree = id.split_once(':').map_or(id.as_str(), |(t, _)| t);
        by_tree.entry(tree).or_default().push(k);
    }
    let groups = data
        .groups
        .clone()
        .unwrap_or_else(|| vec!["all".into(); data.population.agents]);
    let mut per_label: BTreeMap<String, (Vec<f64>, usize, usize)> = BTreeMap::new();
    for users in by_tree.values() {
        if users.len() < min_users {
            continue;
        }
        let p: Vec<f64> = users.iter().map(|&k| phi[k]).collect();
        let d: Vec<f64> = users.iter().map(|&k| below[k]).collect();
        let Some(rho) = crate::fit::spearman(&p, &d) else {
            continue;
        };
        let most = (0..users.len()).max_by(|&a, &b| d[a].total_cmp(&d[b])).expect("users");
        let largest = (0..users.len()).max_by(|&a, &b| p[a].total_cmp(&p[b])).expect("users");
        for label in [groups[users[0]].clone(), "all".to_string()] {
            let entry = per_label.entry(label).or_default();
            entry.0.push(rho);
            entry.1 += 1;
            entry.2 += (d[largest] == d[most]) as usize;
        }
    }
    Ok(TreesBench {
        agents: data.population.agents,
        trees: by_tree.len(),
        min_users,
        indicator: indicator.name().to_string(),
        delta: attribution.gates.target(),
        relative_gap: attribution.gates.relative_gap(),
        attribute_seconds,
        by_label: per_label
            .into_iter()
            .map(|(label, (rhos, trees, agree))| Agreement {
                label,
                trees,
                spearman_quartiles: quartiles(rhos),
                top_user_agrees: agree as f64 / trees.max(1) as f64,
            })
            .collect(),
    })
}
