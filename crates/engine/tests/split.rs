//! Players split over workers: each worker's engine holds its own players'
//! entries, reduces the gap over the others, and the workers' phi put
//! together are one process's, bit for bit.

use aumann_engine::{AumannShapley, Error, NodeWeights, Path, PhiSums, Rule, Split, ValueFunction};
use std::ops::ControlFlow;
use std::sync::{Barrier, Mutex};

/// F(x) = exp(a.x) + (b.x)^2 / 2 + c.x: nonlinear enough that the adaptive
/// mode refines, with every player coupled to every other.
struct Coupled {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

fn dot(u: &[f64], v: &[f64]) -> f64 {
    u.iter().zip(v).map(|(p, q)| p * q).sum()
}

impl ValueFunction for Coupled {
    fn players(&self) -> usize {
        self.a.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        dot(&self.a, x).exp() + dot(&self.b, x).powi(2) / 2.0 + dot(&self.c, x)
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let (e, s) = (dot(&self.a, x).exp(), dot(&self.b, x));
        for (i, g) in gradient.iter_mut().enumerate() {
            *g = self.a[i] * e + self.b[i] * s + self.c[i];
        }
        self.value(x)
    }
}

/// Workers on threads that put their vectors together at a barrier.
struct Meeting {
    barrier: Barrier,
    slots: Mutex<Vec<Vec<f64>>>,
}

impl Meeting {
    fn new(workers: usize) -> Self {
        Self {
            barrier: Barrier::new(workers),
            slots: Mutex::new(vec![Vec::new(); workers]),
        }
    }

    /// Every worker's `mine`, in worker order.
    fn all(&self, worker: usize, mine: &[f64]) -> Vec<f64> {
        self.slots.lock().unwrap()[worker] = mine.to_vec();
        self.barrier.wait();
        let all = self.slots.lock().unwrap().concat();
        self.barrier.wait();
        all
    }
}

/// One worker's view: its players `range` of the whole game, every
/// evaluation made on the whole point put together.
struct Worker<'a> {
    whole: &'a Coupled,
    range: std::ops::Range<usize>,
    worker: usize,
    meeting: &'a Meeting,
    /// Collective calls made (every worker must make the same).
    calls: Mutex<usize>,
}

impl ValueFunction for Worker<'_> {
    fn players(&self) -> usize {
        self.range.len()
    }
    fn value(&self, x: &[f64]) -> f64 {
        *self.calls.lock().unwrap() += 1;
        self.whole.value(&self.meeting.all(self.worker, x))
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        *self.calls.lock().unwrap() += 1;
        let point = self.meeting.all(self.worker, x);
        let mut whole = vec![0.0; point.len()];
        let v = self.whole.value_and_gradient(&point, &mut whole);
        gradient.copy_from_slice(&whole[self.range.clone()]);
        v
    }
    /// Node by node, in order: every worker's calls meet.
    fn accumulate_path_gradients(
        &self,
        path: Path<'_>,
        taus: &[f64],
        weights: NodeWeights<'_>,
        values: &mut [f64],
        accumulator: &mut [f64],
    ) {
        let n = self.players();
        let (mut point, mut gradient) = (vec![0.0; n], vec![0.0; n]);
        for (m, &tau) in taus.iter().enumerate() {
            path.point_into(tau, &mut point);
            values[m] = self.value_and_gradient(&point, &mut gradient);
            weights.accumulate(m, &gradient, accumulator);
        }
    }
}

impl Split for Worker<'_> {
    fn sums(&self, phi: &[f64]) -> PhiSums {
        PhiSums::of(&self.meeting.all(self.worker, phi))
    }
    fn any(&self, mine: bool) -> bool {
        self.meeting.all(self.worker, &[mine as u8 as f64]).contains(&1.0)
    }
}

fn coupled(n: usize) -> Coupled {
    let f = |k: usize, s: f64| ((k as f64 * s).sin() * 0.6).clamp(-0.5, 0.5);
    Coupled {
        a: (0..n).map(|i| f(i + 1, 0.7)).collect(),
        b: (0..n).map(|i| f(i + 3, 1.3)).collect(),
        c: (0..n).map(|i| f(i + 5, 2.1)).collect(),
    }
}

/// Each worker's result, attributing `game` with its players cut at `bounds`.
fn split_run(
    game: &Coupled,
    bounds: &[usize],
    engine: &AumannShapley,
    input: &[f64],
    baseline: &[f64],
) -> Vec<(aumann_engine::Result<aumann_engine::Attribution>, usize)> {
    let workers = bounds.len() - 1;
    let meeting = Meeting::new(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let worker = Worker {
                    whole: game,
                    range: bounds[w]..bounds[w + 1],
                    worker: w,
                    meeting: &meeting,
                    calls: Mutex::new(0),
                };
                scope.spawn(move || {
                    let range = worker.range.clone();
                    let result = engine.attribute_split(
                        &worker,
                        &input[range.clone()],
                        &baseline[range],
                        &|_| ControlFlow::Continue(()),
                        None,
                        &worker,
                    );
                    (result, *worker.calls.lock().unwrap())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn split_players_give_one_process_phi_gap_and_levels_bit_for_bit() {
    let n = 9;
    let game = coupled(n);
    let input: Vec<f64> = (0..n).map(|i| 0.4 + 0.1 * i as f64).collect();
    let baseline: Vec<f64> = (0..n).map(|i| -0.2 * (i % 3) as f64).collect();
    for engine in [
        AumannShapley::default().adaptive(4, 256, 1e-12).batch(3),
        AumannShapley::default().rule(Rule::Trapezoid).adaptive(8, 4096, 1e-7),
        AumannShapley::default().fixed(10),
    ] {
        let one = engine.attribute(&game, &input, &baseline).unwrap();
        if matches!(engine.nodes, aumann_engine::NodeCount::Adaptive { .. }) {
            assert!(one.levels.len() > 1, "the test needs a refinement: {:?}", one.levels);
        }
        // Uneven workers, one with no player, and one holding all.
        for bounds in [vec![0, 4, 4, 9], vec![0, 1, 2, 3, 9], vec![0, 9, 9]] {
            let results = split_run(&game, &bounds, &engine, &input, &baseline);
            let calls = results[0].1;
            let parts: Vec<_> = results
                .into_iter()
                .map(|(r, c)| {
                    assert_eq!(c, calls, "every worker makes the same collective calls");
                    r.unwrap()
                })
                .collect();
            let phi: Vec<f64> = parts.iter().flat_map(|p| p.phi.clone()).collect();
            let error: Vec<f64> = parts.iter().flat_map(|p| p.error.clone()).collect();
            assert_eq!(bits(&phi), bits(&one.phi), "phi, workers {bounds:?}");
            assert_eq!(bits(&error), bits(&one.error), "error, workers {bounds:?}");
            for part in &parts {
                assert_eq!(part.gap().to_bits(), one.gap().to_bits(), "{bounds:?}");
                assert_eq!(part.levels, one.levels);
                assert_eq!(part.gradient_evaluations, one.gradient_evaluations);
                assert_eq!((part.nodes, part.companion_nodes), (one.nodes, one.companion_nodes));
                assert_eq!(part.converged(), one.converged());
            }
            // What a worker holds sums to its share, not to the whole.
            if bounds[1] < n {
                let first: f64 = parts[0].phi.iter().sum();
                assert!((first - one.total()).abs() > 1e-9);
            }
        }
    }
}

#[test]
fn split_players_find_a_flat_game_together_and_no_players_is_an_error() {
    // F = c.x with c zero on the players that move: flat, though only
    // one worker could tell the others' gradients are zero along the path.
    let n = 6;
    let mut game = coupled(n);
    game.a = vec![0.0; n];
    game.b = vec![0.0; n];
    let input: Vec<f64> = (0..n).map(|i| if i < 3 { 1.0 } else { 0.0 }).collect();
    let baseline = vec![0.0; n];
    game.c = (0..n).map(|i| if i < 3 { 0.0 } else { 5.0 }).collect();
    let engine = AumannShapley::default();
    let one = engine.attribute(&game, &input, &baseline).unwrap();
    assert!(one.flat);
    for (result, _) in split_run(&game, &[0, 3, 6], &engine, &input, &baseline) {
        let r = result.unwrap();
        assert!(r.flat && r.phi.iter().all(|&p| p == 0.0));
    }
    // A game that moves only through the second worker's players is not
    // flat on the first, whose own gradients are all zero.
    let input = vec![1.0; n];
    let one = engine.attribute(&game, &input, &baseline).unwrap();
    assert!(!one.flat);
    let parts: Vec<_> = split_run(&game, &[0, 3, 6], &engine, &input, &baseline)
        .into_iter()
        .map(|(r, _)| r.unwrap())
        .collect();
    assert!(parts.iter().all(|p| !p.flat));
    assert_eq!(parts[0].phi, vec![0.0; 3]);
    assert_eq!(bits(&parts[1].phi), bits(&one.phi[3..]));
    // No worker holds a player: the same error as a game of none.
    let empty = coupled(0);
    for (result, _) in split_run(&empty, &[0, 0, 0], &engine, &[], &[]) {
        assert!(matches!(result, Err(Error::NoPlayers)));
    }
}
