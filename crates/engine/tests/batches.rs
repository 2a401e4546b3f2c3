//! Games that take their points in batches, and attributions an observer
//! stops.

use aumann_engine::{AumannShapley, Error, PermutationShapley, ValueFunction, exact_shapley, games::Glove};
use std::ops::ControlFlow;
use std::sync::Mutex;

/// The glove game, recording the size of every batch it is asked for (a
/// single point counts as a batch of one).
struct Batched {
    inner: Glove,
    calls: Mutex<Vec<usize>>,
}

impl Batched {
    fn new(left: usize, right: usize) -> Self {
        Self {
            inner: Glove {
                left: (0..left + right).map(|i| i < left).collect(),
            },
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl ValueFunction for Batched {
    fn players(&self) -> usize {
        self.inner.players()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.calls.lock().unwrap().push(1);
        self.inner.value(x)
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        self.inner.value_and_gradient(x, gradient)
    }
    fn values(&self, points: &[f64], values: &mut [f64]) {
        self.calls.lock().unwrap().push(values.len());
        for (v, x) in values.iter_mut().zip(points.chunks_exact(self.players())) {
            *v = self.inner.value(x);
        }
    }
}

#[test]
fn exact_shapley_hands_over_whole_chunks() {
    let game = Batched::new(6, 7);
    let n = game.players();
    let (ones, zeros) = (vec![1.0; n], vec![0.0; n]);
    let batched = exact_shapley(&game, &ones, &zeros).unwrap();
    let one_by_one = exact_shapley(&game.inner, &ones, &zeros).unwrap();
    assert_eq!(batched.phi, one_by_one.phi, "the same sums in the same order");
    let mut calls = game.calls.lock().unwrap().clone();
    calls.sort();
    assert_eq!(calls, vec![4096, 4096], "2^13 coalitions in chunks of 2^12");
}

#[test]
fn a_rounds_walks_are_one_call_and_give_the_numbers_of_one_pair_at_a_time() {
    let game = Batched::new(3, 5);
    let n = game.players();
    let (ones, zeros) = (vec![1.0; n], vec![0.0; n]);
    let estimator = PermutationShapley::default().seed(4).permutations(40);
    let batched = estimator.estimate(&game, &ones, &zeros).unwrap();
    let one_by_one = estimator.estimate(&game.inner, &ones, &zeros).unwrap();
    assert_eq!(batched.phi, one_by_one.phi);
    assert_eq!(batched.std_error, one_by_one.std_error);
    // A round of one pair at a time: the same walks, the same sums.
    let single = PermutationShapley {
        pairs_per_round: 1,
        ..estimator.clone()
    }
    .estimate(&game.inner, &ones, &zeros)
    .unwrap();
    assert_eq!(single.phi, batched.phi);
    assert_eq!(single.std_error, batched.std_error);
    let calls = game.calls.lock().unwrap().clone();
    // The two ends once each, then per round of 16 pairs (20 pairs: 16 and
    // 4) one call for the n - 1 coalitions of each of its walks.
    assert_eq!(calls, vec![1, 1, 16 * 2 * (n - 1), 4 * 2 * (n - 1)]);
}

/// v(S) = Σ_{i in S} w_i, recording its batch sizes.
struct Additive {
    w: Vec<f64>,
    calls: Mutex<Vec<usize>>,
}

impl ValueFunction for Additive {
    fn players(&self) -> usize {
        self.w.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        x.iter().zip(&self.w).map(|(x, w)| x * w).sum()
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        gradient.copy_from_slice(&self.w);
        self.value(x)
    }
    fn values(&self, points: &[f64], values: &mut [f64]) {
        self.calls.lock().unwrap().push(values.len());
        for (v, x) in values.iter_mut().zip(points.chunks_exact(self.players())) {
            *v = self.value(x);
        }
    }
}

#[test]
fn walks_longer_than_a_block_are_split_across_calls_with_the_same_numbers() {
    // 1,100 players: a block of 2^20 numbers holds 953 coalitions, fewer
    // than a walk's 1,099.
    let n = 1100;
    let game = Additive {
        w: (0..n).map(|i| ((i * 37) % 11) as f64 - 3.0).collect(),
        calls: Mutex::new(Vec::new()),
    };
    let (ones, zeros) = (vec![1.0; n], vec![0.0; n]);
    let estimator = PermutationShapley::default().seed(9).permutations(6);
    let batched = estimator.estimate(&game, &ones, &zeros).unwrap();
    let single = PermutationShapley {
        pairs_per_round: 1,
        ..estimator.clone()
    }
    .estimate(&game, &ones, &zeros)
    .unwrap();
    assert_eq!(batched.phi, single.phi);
    // An additive game's marginal contributions are its weights.
    for (phi, w) in batched.phi.iter().zip(&game.w) {
        assert!((phi - w).abs() < 1e-9, "{phi} against {w}");
    }
    let calls = game.calls.lock().unwrap().clone();
    let block = (1 << 20) / n;
    assert!(calls.iter().all(|&k| k <= block), "{calls:?}");
    // Three pairs, two walks each, n - 1 coalitions per walk, in both runs.
    assert_eq!(calls.iter().sum::<usize>(), 2 * 3 * 2 * (n - 1));
}

#[test]
fn an_observer_stops_the_attribution_between_sweeps() {
    let game = Glove {
        left: vec![true, true, false, false],
    };
    let n = game.players();
    let engine = AumannShapley::default().fixed(64).batch(8);
    let seen = Mutex::new(Vec::new());
    let result = engine.attribute_observed(&game, &vec![1.0; n], &vec![0.0; n], &|p| {
        seen.lock().unwrap().push(p.evaluations);
        if p.evaluations >= 16 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    match result {
        Err(Error::Interrupted { evaluations }) => assert_eq!(evaluations, 16),
        other => panic!("expected an interrupt, got {other:?}"),
    }
    assert_eq!(*seen.lock().unwrap(), vec![8, 16], "no sweep after the break");
}
