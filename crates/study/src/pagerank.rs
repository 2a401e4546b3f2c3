//! PageRank of the follow graph, for the ranking heuristics that
//! faithfulness curves compare against.
//!
//! Written here rather than taken from a graph crate: petgraph's
//! `page_rank` visits every pair of nodes per iteration (quadratic in N),
//! and the follow graph is already in compressed rows, where one pull over
//! each account's followers is an iteration.

use aumann_models::FollowGraph;
use rayon::prelude::*;

/// Damping factor: the probability of following a link rather than jumping.
pub const DAMPING: f64 = 0.85;
/// Iterations stop when the L1 change falls below this, or at the cap.
pub const TOLERANCE: f64 = 1e-9;
pub const MAX_ITERATIONS: usize = 100;

/// PageRank over "j follows i" as a link from j to i (a follow endorses the
/// followee); accounts that follow nobody spread their rank uniformly.
/// Sums run in a fixed order, so the result is the same on any thread
/// count. Returns the ranks (summing to 1) and the iterations run.
pub fn pagerank(graph: &FollowGraph) -> (Vec<f64>, usize) {
    let n = graph.agents();
    if n == 0 {
        return (Vec::new(), 0);
    }
    let out_degree: Vec<f64> = (0..n).map(|j| graph.followees(j).len() as f64).collect();
    let mut rank = vec![1.0 / n as f64; n];
    let mut share = vec![0.0; n];
    let mut next = vec![0.0; n];
    for iteration in 1..=MAX_ITERATIONS {
        share
            .par_iter_mut()
            .zip(rank.par_iter().zip(&out_degree))
            .for_each(|(s, (&r, &d))| *s = if d > 0.0 { r / d } else { 0.0 });
        let dangling: f64 = rank
            .par_chunks(1 << 16)
            .zip(out_degree.par_chunks(1 << 16))
            .map(|(r, d)| r.iter().zip(d).filter(|(_, d)| **d == 0.0).map(|(r, _)| r).sum::<f64>())
            .collect::<Vec<f64>>()
            .iter()
            .sum();
        let base = (1.0 - DAMPING) / n as f64 + DAMPING * dangling / n as f64;
        next.par_iter_mut().enumerate().for_each(|(i, x)| {
            let pulled: f64 = graph.followers(i).iter().map(|&j| share[j as usize]).sum();
            *x = base + DAMPING * pulled;
        });
        let change: f64 = next
            .par_chunks(1 << 16)
            .zip(rank.par_chunks(1 << 16))
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>())
            .collect::<Vec<f64>>()
            .iter()
            .sum();
        std::mem::swap(&mut rank, &mut next);
        if change < TOLERANCE {
            return (rank, iteration);
        }
    }
    (rank, MAX_ITERATIONS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_and_a_cycle_have_their_closed_forms() {
        // 1 and 2 follow 0, and 0 follows nobody (dangling), N = 3.
        let star = FollowGraph::from_follows(3, &[(1, 0), (2, 0)]).unwrap();
        let (r, _) = pagerank(&star);
        let d = DAMPING;
        // Leaves: l = (1 - d)/3 + d r0 / 3; hub: r0 = l + 2 d l. With
        // r0 + 2 l = 1: l = 1 / (3 + 2d), r0 = (1 + 2d) / (3 + 2d).
        let l = 1.0 / (3.0 + 2.0 * d);
        assert!((r[0] - (1.0 + 2.0 * d) * l).abs() < 1e-9, "{r:?}");
        assert!((r[1] - l).abs() < 1e-9 && (r[2] - l).abs() < 1e-9);
        // A directed cycle is uniform.
        let cycle = FollowGraph::from_follows(4, &[(0, 1), (1, 2), (2, 3), (3, 0)]).unwrap();
        let (r, _) = pagerank(&cycle);
        assert!(r.iter().all(|x| (x - 0.25).abs() < 1e-12));
    }
}
