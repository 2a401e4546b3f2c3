//! Deletion and insertion curves: does silencing the agents a ranking puts
//! first move the indicator more than silencing those another ranking puts
//! first? (Petsiuk, Das & Saenko, RISE, 2018, for images; here for agents.)
//!
//! Deletion starts from what happened and silences the top k agents of a
//! ranking (every gate of theirs 0); insertion starts from everyone silent
//! and opens the top k. Each point is one forward replay, no gradient; the
//! points are evaluated 8 per pass, each as a subset of the gates (a mask
//! bit per gate and point).

use aumann_engine::{Path, PathSweep};
use aumann_models::Replay;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// Points per forward pass: 16 cost as much per point as 8 (measured at
/// 400,000 agents), with twice the state memory.
const PER_PASS: usize = 8;

/// Where the curves are read: shares of the agents silenced (deletion) or
/// opened (insertion), on a log grid from 0.01% to 50%: a point per decade
/// and the half. The study's cost budget (at most 60% over the study
/// without curves) allows about 70 forward replays per indicator at full
/// scale; `CurveSpec` takes any grid.
pub const DEFAULT_FRACTIONS: [f64; 5] = [1e-4, 1e-3, 1e-2, 0.1, 0.5];
/// Random rankings, for the mean and spread of chance.
pub const DEFAULT_RANDOM_RANKINGS: u64 = 3;

/// How the curves are drawn.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CurveSpec {
    pub fractions: Vec<f64>,
    pub random_rankings: u64,
    pub seed: u64,
}

impl Default for CurveSpec {
    fn default() -> Self {
        Self {
            fractions: DEFAULT_FRACTIONS.to_vec(),
            random_rankings: DEFAULT_RANDOM_RANKINGS,
            seed: 1,
        }
    }
}

/// An order of agents (population ids), most important first.
pub struct Ranking {
    pub name: String,
    pub order: Vec<u32>,
}

impl Ranking {
    /// Agents by a score, highest first (ties by id).
    pub fn by_score(name: &str, score: &[f64]) -> Self {
        let mut order: Vec<u32> = (0..score.len() as u32).collect();
        order.sort_by(|&a, &b| score[b as usize].total_cmp(&score[a as usize]).then(a.cmp(&b)));
        Self {
            name: name.into(),
            order,
        }
    }

    /// A uniformly random order.
    pub fn random(agents: usize, seed: u64) -> Self {
        let mut order: Vec<u32> = (0..agents as u32).collect();
        order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        Self {
            name: format!("random (seed {seed})"),
            order,
        }
    }
}

/// One ranking's curves.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RankingCurves {
    pub ranking: String,
    /// F with the top k silenced, and with only the top k open, at each k.
    pub deletion: Vec<f64>,
    pub insertion: Vec<f64>,
    /// The mean over the grid of (F - F(x')) / (F(x) - F(x')): lower is
    /// more faithful for deletion, higher for insertion.
    pub deletion_area: f64,
    pub insertion_area: f64,
    /// This ranking's area minus the Aumann–Shapley ranking's: positive
    /// deletion and negative insertion gaps mean Aumann–Shapley does
    /// better.
    pub deletion_gap: f64,
    pub insertion_gap: f64,
    /// For the mean of random rankings: the lowest and highest curve at each
    /// k over the seeds.
    pub deletion_range: Option<(Vec<f64>, Vec<f64>)>,
    pub insertion_range: Option<(Vec<f64>, Vec<f64>)>,
}

/// Every ranking's curves on one grid.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Curves {
    pub agents: usize,
    /// Agents silenced or opened at each point.
    pub ks: Vec<usize>,
    pub value_input: f64,
    pub value_baseline: f64,
    pub rankings: Vec<RankingCurves>,
    pub forward_replays: usize,
    pub seconds: f64,
}

/// The agent counts of the grid: each fraction of `agents`, at least 1,
/// without repeats.
pub fn grid(agents: usize, fractions: &[f64]) -> Vec<usize> {
    let mut ks: Vec<usize> = fractions
        .iter()
        .map(|f| ((f * agents as f64).round() as usize).clamp(1, agents))
        .collect();
    ks.dedup();
    ks
}

/// Deletion and insertion curves of each ranking. The first ranking is the
/// reference that the gaps are measured against (Aumann–Shapley). Rankings
/// whose name starts with "random" are folded into one mean curve with its
/// range. `on_pass(done, total)` is told the points evaluated after each
/// pass.
pub fn curves(
    replay: &Replay,
    model: &dyn PathSweep,
    rankings: &[Ranking],
    spec: &CurveSpec,
    (value_input, value_baseline): (f64, f64),
    on_pass: &dyn Fn(usize, usize),
) -> Curves {
    let started = std::time::Instant::now();
    let ks = grid(replay.agents(), &spec.fractions);
    let gate_agent: Vec<u32> = replay.gate_ids().map(|g| replay.gate_agent(g)).collect();
    let ranks: Vec<Vec<u32>> = rankings
        .iter()
        .map(|ranking| {
            let mut rank = vec![u32::MAX; replay.agents()];
            for (r, &a) in ranking.order.iter().enumerate() {
                rank[a as usize] = r as u32;
            }
            rank
        })
        .collect();
    // Every point: (deletion?, ranking, k). Deletion points go together;
    // insertion points by growing k, so that the first passes are sparse
    // (few agents open) and cheap.
    let mut points: Vec<(bool, usize, usize)> = Vec::new();
    for deletion in [true, false] {
        let mut these: Vec<(bool, usize, usize)> = (0..rankings.len())
            .flat_map(|r| ks.iter().map(move |&k| (deletion, r, k)))
            .collect();
        if !deletion {
            these.sort_by_key(|&(_, r, k)| (k, r));
        }
        points.extend(these);
    }
    let (ones, zeros) = (vec![1.0; replay.players()], vec![0.0; replay.players()]);
    let path = Path {
        baseline: &zeros,
        input: &ones,
    };
    let mut values = vec![0.0; points.len()];
    let mut masks = vec![0u16; replay.players()];
    let mut done = 0;
    for (batch, out) in points.chunks(PER_PASS).zip(values.chunks_mut(PER_PASS)) {
        masks.par_iter_mut().zip(&gate_agent).for_each(|(mask, &a)| {
            *mask = batch.iter().enumerate().fold(0u16, |acc, (m, &(deletion, r, k))| {
                let top = (ranks[r][a as usize] as usize) < k;
                acc | (u16::from(top != deletion) << m)
            });
        });
        model.values_on_subsets(path, &masks, out);
        done += batch.len();
        on_pass(done, points.len());
    }
    let replays = points.len();
    let mut each: Vec<(String, Vec<f64>, Vec<f64>)> = rankings
        .iter()
        .map(|r| (r.name.clone(), vec![0.0; ks.len()], vec![0.0; ks.len()]))
        .collect();
    for (&(deletion, r, k), &v) in points.iter().zip(&values) {
        let i = ks.iter().position(|&x| x == k).expect("a grid point");
        if deletion {
            each[r].1[i] = v;
        } else {
            each[r].2[i] = v;
        }
    }
    let delta = value_input - value_baseline;
    let area = |curve: &[f64]| {
        if delta == 0.0 || curve.is_empty() {
            return 0.0;
        }
        curve.iter().map(|f| (f - value_baseline) / delta).sum::<f64>() / curve.len() as f64
    };
    let mut out: Vec<RankingCurves> = Vec::new();
    let (random, named): (Vec<_>, Vec<_>) = each.into_iter().partition(|(name, _, _)| name.starts_with("random"));
    let entry = |ranking: String, deletion: Vec<f64>, insertion: Vec<f64>| RankingCurves {
        ranking,
        deletion_area: area(&deletion),
        insertion_area: area(&insertion),
        deletion,
        insertion,
        deletion_gap: 0.0,
        insertion_gap: 0.0,
        deletion_range: None,
        insertion_range: None,
    };
    for (name, deletion, insertion) in named {
        out.push(entry(name, deletion, insertion));
    }
    if !random.is_empty() {
        let (deletion, dlo, dhi) = mean_and_range(random.iter().map(|r| r.1.as_slice()), ks.len());
        let (insertion, ilo, ihi) = mean_and_range(random.iter().map(|r| r.2.as_slice()), ks.len());
        out.push(RankingCurves {
            deletion_range: Some((dlo, dhi)),
            insertion_range: Some((ilo, ihi)),
            ..entry(format!("random (mean of {})", random.len()), deletion, insertion)
        });
    }
    if let Some((d0, i0)) = out.first().map(|r| (r.deletion_area, r.insertion_area)) {
        for r in &mut out {
            r.deletion_gap = r.deletion_area - d0;
            r.insertion_gap = r.insertion_area - i0;
        }
    }
    Curves {
        agents: replay.agents(),
        ks,
        value_input,
        value_baseline,
        rankings: out,
        forward_replays: replays,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The mean of several curves at each point, and their lowest and highest.
fn mean_and_range<'a>(curves: impl ExactSizeIterator<Item = &'a [f64]>, len: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = curves.len() as f64;
    let mut mean = vec![0.0; len];
    let mut low = vec![f64::INFINITY; len];
    let mut high = vec![f64::NEG_INFINITY; len];
    for curve in curves {
        for (i, &v) in curve.iter().enumerate() {
            mean[i] += v / n;
            low[i] = low[i].min(v);
            high[i] = high[i].max(v);
        }
    }
    (mean, low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_covers_the_fractions_without_repeats() {
        assert_eq!(grid(100, &DEFAULT_FRACTIONS), vec![1, 10, 50]);
        assert_eq!(grid(1_671_587, &[1e-4, 0.5]), vec![167, 835_794]);
        assert_eq!(grid(1, &DEFAULT_FRACTIONS), vec![1]);
    }

    #[test]
    fn rankings_put_the_highest_score_first_and_random_ones_are_permutations() {
        let r = Ranking::by_score("x", &[0.5, -1.0, 2.0, 0.5]);
        assert_eq!(r.order, vec![2, 0, 3, 1]);
        let mut random = Ranking::random(50, 3).order;
        assert_ne!(random, (0..50).collect::<Vec<u32>>());
        random.sort_unstable();
        assert_eq!(random, (0..50).collect::<Vec<u32>>());
    }
}
