//! Seeds spread over the follow graph: harmonic label propagation.

use crate::{Diagnostics, Estimate, Source, StanceError, finish};
use aumann_models::{FollowGraph, Population};
use rayon::prelude::*;
use std::collections::VecDeque;

/// Harmonic propagation (Zhu, Ghahramani & Lafferty 2003): seeds keep their
/// stance; every other agent connected to a seed takes the mean stance of
/// its neighbours (followers and followees, each once), the unique fixed
/// point of that averaging. It is reached by Jacobi sweeps from the stance
/// of the nearest seed, until no stance moves more than 1e-9 or after
/// `max_iterations` sweeps (the last change is in the diagnostics).
/// Agents with no path to a seed keep 0.5, flagged as low signal.
/// Confidence: 1 for a seed, 1 / (1 + hops to the nearest seed) otherwise.
pub fn seeds(population: &Population, seeds: &[(u32, f64)], max_iterations: usize) -> Result<Estimate, StanceError> {
    let n = population.agents;
    if seeds.is_empty() {
        return Err(StanceError::NoSignal {
            method: "seeds",
            detail: "no seed names an agent of the population".into(),
        });
    }
    let graph = FollowGraph::from_follows(n, &population.follows).map_err(|e| StanceError::Settings(e.to_string()))?;
    let neighbours = |a: usize| -> Vec<u32> {
        let mut v: Vec<u32> = graph.followers(a).iter().chain(graph.followees(a)).copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut is_seed = vec![false; n];
    let mut value = vec![0.5; n];
    let mut hops = vec![u32::MAX; n];
    let mut queue = VecDeque::new();
    for &(a, s) in seeds {
        is_seed[a as usize] = true;
        value[a as usize] = s;
        hops[a as usize] = 0;
        queue.push_back(a);
    }
    // Breadth-first from the seeds, in seed order: every reachable agent
    // starts at its nearest seed's stance.
    while let Some(a) = queue.pop_front() {
        for b in neighbours(a as usize) {
            if hops[b as usize] == u32::MAX {
                hops[b as usize] = hops[a as usize] + 1;
                value[b as usize] = value[a as usize];
                queue.push_back(b);
            }
        }
    }
    let mut change = 0.0;
    let mut iterations = 0;
    for _ in 0..max_iterations {
        let next: Vec<f64> = (0..n)
            .into_par_iter()
            .with_min_len(4096)
            .map(|a| {
                if is_seed[a] || hops[a] == u32::MAX {
                    return value[a];
                }
                let nb = neighbours(a);
                nb.iter().map(|&b| value[b as usize]).sum::<f64>() / nb.len() as f64
            })
            .collect();
        change = next.iter().zip(&value).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        value = next;
        iterations += 1;
        if change < 1e-9 {
            break;
        }
    }
    let source: Vec<Source> = (0..n)
        .map(|a| match (is_seed[a], hops[a]) {
            (true, _) => Source::Seed,
            (false, u32::MAX) => Source::LowSignal,
            _ => Source::Propagated,
        })
        .collect();
    let confidence = hops
        .iter()
        .map(|&h| if h == u32::MAX { 0.0 } else { 1.0 / (1.0 + h as f64) })
        .collect();
    let stance = value
        .iter()
        .map(|v| v.clamp(crate::STANCE_FLOOR, 1.0 - crate::STANCE_FLOOR))
        .collect();
    let warnings = if change < 1e-9 {
        Vec::new()
    } else {
        vec![format!(
            "the propagation stopped after {iterations} sweeps without converging (largest change in the last sweep {change:.1e}): the propagated stances are not yet the neighbours' averages; more seeds, spread over the graph, converge faster"
        )]
    };
    Ok(finish(
        stance,
        None,
        source,
        confidence,
        Diagnostics {
            method: "seeds".into(),
            iterations: Some(iterations),
            warnings,
            orientation: format!("by the seeds' own stances (largest change in the last sweep {change:.1e})"),
            labels_matched: Some(seeds.len()),
            ..Diagnostics::default()
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(n: usize) -> Population {
        Population {
            agents: n,
            steps: 1,
            stance: vec![0.5; n],
            followers: vec![0.0; n],
            follows: (1..n as u32).map(|i| (i, i - 1)).collect(),
            ..Population::default()
        }
    }

    #[test]
    fn on_a_path_between_two_seeds_the_harmonic_solution_is_linear() {
        // Seeds 0.1 and 0.9 at the ends of a path of 5: the interior is the
        // linear interpolation 0.3, 0.5, 0.7.
        let e = seeds(&path(5), &[(0, 0.1), (4, 0.9)], 10_000).unwrap();
        for (a, expected) in [(1, 0.3), (2, 0.5), (3, 0.7)] {
            assert!((e.stance[a] - expected).abs() < 1e-7, "{a}: {}", e.stance[a]);
        }
        assert_eq!(e.source[0], Source::Seed);
        assert_eq!(e.confidence[2], 1.0 / 3.0);
    }

    #[test]
    fn a_propagation_stopped_before_it_converged_says_so() {
        // A chain of 200 between seeds 0.1 and 0.9: the harmonic solution is
        // linear, and 1,000 Jacobi sweeps are far from it in the middle.
        let e = seeds(&path(200), &[(0, 0.1), (199, 0.9)], 1000).unwrap();
        let worst = (0..200)
            .map(|a| (e.stance[a] - (0.1 + 0.8 * a as f64 / 199.0)).abs())
            .fold(0.0, f64::max);
        // 0.1596 measured: the docs quote it.
        assert!(worst > 0.15 && worst < 0.17, "{worst}");
        assert_eq!(e.diagnostics.warnings.len(), 1, "{:?}", e.diagnostics.warnings);
        assert!(e.diagnostics.warnings[0].contains("without converging"));
        // On a short chain it converges, and nothing is said.
        let e = seeds(&path(5), &[(0, 0.1), (4, 0.9)], 10_000).unwrap();
        assert!(!e.diagnostics.warnings.iter().any(|w| w.contains("converging")));
    }

    #[test]
    fn agents_without_a_path_to_a_seed_are_flagged_not_invented() {
        let mut p = path(4);
        p.agents = 6;
        p.stance = vec![0.5; 6];
        p.followers = vec![0.0; 6];
        p.follows.push((5, 4));
        let e = seeds(&p, &[(0, 0.2)], 100).unwrap();
        assert_eq!(e.source[4], Source::LowSignal);
        assert_eq!(e.stance[4], 0.5);
        assert_eq!(e.confidence[5], 0.0);
        assert!((e.stance[3] - 0.2).abs() < 1e-12);
        assert_eq!(e.diagnostics.estimated, 4);
    }
}
