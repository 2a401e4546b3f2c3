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
fn permutation_walks_are_one_call_each() {
    let game = Batched::new(3, 5);
    let n = game.players();
    let (ones, zeros) = (vec![1.0; n], vec![0.0; n]);
    let estimator = PermutationShapley::default().seed(4).permutations(40);
    let batched = estimator.estimate(&game, &ones, &zeros).unwrap();
    let one_by_one = estimator.estimate(&game.inner, &ones, &zeros).unwrap();
    assert_eq!(batched.phi, one_by_one.phi);
    assert_eq!(batched.std_error, one_by_one.std_error);
    let calls = game.calls.lock().unwrap().clone();
    // The two ends once each, then per walk one call for the n - 1
    // coalitions between them.
    assert_eq!(calls.iter().filter(|&&k| k == 1).count(), 2);
    assert_eq!(calls.iter().filter(|&&k| k == n - 1).count(), 40);
    assert_eq!(calls.len(), 42);
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
