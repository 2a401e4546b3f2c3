//! A stopped attribution continues from its checkpoint with the numbers of
//! a run never stopped, without evaluating again what it had done.

use aumann_engine::games::ComposedLinear;
use aumann_engine::{AumannShapley, Checkpoint, Error, NodeWeights, Path, Rule, SweepState, ValueFunction};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

/// F(x) = exp(w . x): smooth, so the adaptive rule needs several levels at
/// a tight tolerance.
type Exp = ComposedLinear<fn(f64) -> f64, fn(f64) -> f64>;

fn game() -> Exp {
    ComposedLinear::new((1..=7).map(|i| 0.3 * i as f64).collect(), f64::exp, f64::exp)
}

/// Counts the nodes the game evaluates along the path.
struct Counted<G> {
    game: G,
    nodes: AtomicUsize,
}

impl<G: ValueFunction> ValueFunction for Counted<G> {
    fn players(&self) -> usize {
        self.game.players()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.game.value(x)
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        self.game.value_and_gradient(x, gradient)
    }
    fn accumulate_path_gradients(
        &self,
        path: Path<'_>,
        taus: &[f64],
        weights: NodeWeights<'_>,
        values: &mut [f64],
        accumulator: &mut [f64],
    ) {
        self.nodes.fetch_add(taus.len(), Ordering::Relaxed);
        self.game
            .accumulate_path_gradients(path, taus, weights, values, accumulator)
    }
}

/// Keeps the last state saved, and fails (as a crash would stop the run)
/// once `stop_after` states have been saved.
struct Memory {
    saved: Option<SweepState>,
    saves: usize,
    stop_after: usize,
}

impl Checkpoint for Memory {
    fn restore(&mut self) -> Option<SweepState> {
        self.saved.clone()
    }
    fn save(&mut self, state: &SweepState) -> Result<(), aumann_engine::SaveError> {
        if self.saves == self.stop_after {
            return Err("stopped".into());
        }
        self.saves += 1;
        self.saved = Some(state.clone());
        Ok(())
    }
}

/// Tolerances that take each rule through several levels.
fn settings(rule: Rule) -> AumannShapley {
    let tolerance = if rule == Rule::GaussLegendre { 1e-13 } else { 1e-4 };
    AumannShapley::default().rule(rule).adaptive(4, 256, tolerance).batch(3)
}

#[test]
fn a_run_stopped_after_any_sweep_continues_to_the_same_bits() {
    let (input, baseline) = (vec![1.0, 0.5, 0.2, 0.9, 0.0, 0.3, 0.7], vec![0.0; 7]);
    for rule in [Rule::GaussLegendre, Rule::Trapezoid] {
        let whole = Counted {
            game: game(),
            nodes: AtomicUsize::new(0),
        };
        let expected = settings(rule).attribute(&whole, &input, &baseline).unwrap();
        let sweeps = whole.nodes.load(Ordering::Relaxed).div_ceil(3);
        assert!(
            expected.levels.len() >= 2,
            "{rule}: several levels, so that finished integrations are restored"
        );
        for stop_after in 1..sweeps {
            let mut memory = Memory {
                saved: None,
                saves: 0,
                stop_after,
            };
            let first = Counted {
                game: game(),
                nodes: AtomicUsize::new(0),
            };
            let err = settings(rule)
                .attribute_resumable(
                    &first,
                    &input,
                    &baseline,
                    &|_| ControlFlow::Continue(()),
                    Some(&mut memory),
                )
                .unwrap_err();
            assert!(matches!(err, Error::Checkpoint(_)), "{err}");
            let mut memory = Memory {
                stop_after: usize::MAX,
                ..memory
            };
            let saved = saved_nodes(&memory);
            let second = Counted {
                game: game(),
                nodes: AtomicUsize::new(0),
            };
            let resumed = settings(rule)
                .attribute_resumable(
                    &second,
                    &input,
                    &baseline,
                    &|_| ControlFlow::Continue(()),
                    Some(&mut memory),
                )
                .unwrap();
            assert_eq!(resumed.phi, expected.phi, "{rule}, stopped after {stop_after} sweeps");
            assert_eq!(resumed.error, expected.error);
            assert_eq!(resumed.levels, expected.levels);
            assert_eq!(resumed.gradient_evaluations, expected.gradient_evaluations);
            // What the saved state accounts for is not evaluated again.
            let total = whole.nodes.load(Ordering::Relaxed);
            assert_eq!(second.nodes.load(Ordering::Relaxed), total - saved);
            assert!(saved > 0);
        }
    }
}

/// Nodes the saved state accounts for.
fn saved_nodes(memory: &Memory) -> usize {
    memory.saved.as_ref().map_or(0, |s| s.evaluations)
}

#[test]
fn a_state_of_another_game_is_ignored() {
    let mut memory = Memory {
        saved: Some(SweepState {
            finished: vec![(vec![1.0; 3], vec![1.0; 3])],
            batches: 0,
            accumulator: Vec::new(),
            evaluations: 4,
        }),
        saves: 0,
        stop_after: usize::MAX,
    };
    let (input, baseline) = (vec![1.0; 7], vec![0.0; 7]);
    let expected = settings(Rule::GaussLegendre)
        .attribute(&game(), &input, &baseline)
        .unwrap();
    let got = settings(Rule::GaussLegendre)
        .attribute_resumable(
            &game(),
            &input,
            &baseline,
            &|_| ControlFlow::Continue(()),
            Some(&mut memory),
        )
        .unwrap();
    assert_eq!(got.phi, expected.phi);
}
