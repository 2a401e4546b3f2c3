//! Attribution of an indicator over a replay: per gate, per agent, per step.

use crate::Workspace;
use crate::gate_share::{GateShare, OwnGates};
use crate::indicators::Indicator;
use crate::replay::{GateError, Replay};
use crate::shards::Transport;
use aumann_engine::{
    Attribution, AumannShapley, Checkpoint, PathSweep, Progress, Split, SweepGame, SweepState, Whole, neumaier_sum,
};
use serde::Serialize;
use std::borrow::Cow;

/// An indicator's attribution to every (agent, step) gate, summed per agent
/// and per step.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayAttribution {
    pub indicator: Indicator,
    /// Per gate (the engine's result, with gap and error estimates).
    pub gates: Attribution,
    /// phi summed over each agent's gates.
    pub agent_phi: Vec<f64>,
    /// Error estimate summed (signed) over each agent's gates.
    pub agent_error: Vec<f64>,
    /// phi summed over each step's gates: when the outcome was produced.
    pub step_phi: Vec<f64>,
    /// The (original) agent and the step of each gate, in gate order.
    pub gate_agents: Vec<u32>,
    pub gate_steps: Vec<u32>,
    /// Why the indicator does not move, when it does not (the engine found
    /// it flat: phi is 0 everywhere and no quadrature ran).
    pub flat: Option<String>,
    /// Graph edges read by this attribution's sweeps (0 for indicators that
    /// do not use the graph, and for results built by [`summarize`]).
    pub edges_read: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum AttributeError {
    #[error(transparent)]
    Gates(#[from] GateError),
    #[error(transparent)]
    Shard(#[from] crate::indicators::ShardMismatch),
    #[error("the replay has no gates: no agent did anything in the window, so there is nothing to attribute")]
    Empty,
    #[error("attribution of {indicator} failed: {source}")]
    Engine {
        indicator: &'static str,
        #[source]
        source: aumann_engine::Error,
    },
}

/// The two ends of an attribution's path over a replay's gates.
#[derive(Clone, Copy, Debug)]
pub enum PathEnds<'a> {
    /// From every gate closed (every agent silent) to every gate open (what
    /// happened).
    Silence,
    /// From `baseline` to `input`, one value in [0, 1] per gate (a
    /// counterfactual baseline in which some agents stay active, say).
    Between { input: &'a [f64], baseline: &'a [f64] },
    /// From every gate at this value in [0, 1] to every gate open: the
    /// same attribution as `Between` those ends, swept as the part of the
    /// path from silence that it is (τ from b to 1), where the sweep needs
    /// no term for gates open at the baseline.
    Fraction(f64),
}

impl<'a> PathEnds<'a> {
    /// (input, baseline) at the gates the engine holds: every gate, or a
    /// worker's own (`own`). Checked first.
    fn at(&self, replay: &Replay, own: Option<&OwnGates>) -> Result<[Cow<'a, [f64]>; 2], GateError> {
        let held = own.map_or(replay.players(), OwnGates::len);
        Ok(match *self {
            PathEnds::Silence => [vec![1.0; held].into(), vec![0.0; held].into()],
            PathEnds::Fraction(b) => {
                if !(0.0..=1.0).contains(&b) {
                    return Err(GateError::Fraction { value: b });
                }
                [vec![1.0; held].into(), vec![b; held].into()]
            }
            PathEnds::Between { input, baseline } => {
                replay.check_gates("input", input)?;
                replay.check_gates("baseline", baseline)?;
                match own {
                    None => [input.into(), baseline.into()],
                    Some(own) => [own.take(input).into(), own.take(baseline).into()],
                }
            }
        })
    }
}

/// Attributes the indicator's change from all gates closed (every agent
/// silent) to all gates open (what happened).
pub fn attribute(
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
) -> Result<ReplayAttribution, AttributeError> {
    attribute_ends(replay, indicator, engine, PathEnds::Silence, &|_| {
        std::ops::ControlFlow::Continue(())
    })
}

/// Attributes between two gate vectors in [0, 1] (a counterfactual baseline
/// in which some agents stay active, say). A tolerance the node limit cannot
/// reach is not an error here: the best result comes back, with
/// `gates.converged()` false and its gap.
pub fn attribute_between(
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    input: &[f64],
    baseline: &[f64],
) -> Result<ReplayAttribution, AttributeError> {
    attribute_observed(replay, indicator, engine, input, baseline, &|_| {
        std::ops::ControlFlow::Continue(())
    })
}

/// In this process, between `ends`.
fn attribute_ends(
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    ends: PathEnds<'_>,
    observer: &dyn Fn(&Progress) -> std::ops::ControlFlow<()>,
) -> Result<ReplayAttribution, AttributeError> {
    let result = attribute_on(&Local, replay, indicator, engine, ends, observer, None)?;
    Ok(result.expect("one process reports"))
}

/// [`attribute_between`], telling `observer` where the engine stands after
/// every sweep (an observer that answers `Break` stops it: an engine error,
/// [`aumann_engine::Error::Interrupted`]). The sweeps' buffers live in a
/// workspace of this call's own, freed when it returns.
pub fn attribute_observed(
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    input: &[f64],
    baseline: &[f64],
    observer: &dyn Fn(&Progress) -> std::ops::ControlFlow<()>,
) -> Result<ReplayAttribution, AttributeError> {
    attribute_ends(
        replay,
        indicator,
        engine,
        PathEnds::Between { input, baseline },
        observer,
    )
}

/// Where an indicator's sweeps run: this process ([`Local`]) or a shard of
/// a sweep shared with other workers ([`Sharded`]).
pub trait SweepBackend: Sync {
    /// The indicator's model over the replay, with its buffers in
    /// `workspace`.
    fn model<'a>(
        &'a self,
        indicator: Indicator,
        replay: &'a Replay,
        workspace: &'a Workspace,
    ) -> Result<Box<dyn PathSweep + 'a>, AttributeError>;

    /// The checkpointed state every worker continues from, given the
    /// newest state this worker restored and the one saved before it: in
    /// one process the newest (the one before if the newest was unusable);
    /// across workers, the newest state that every worker holds (else all
    /// start over), since they must make the same sweeps.
    fn agree(&self, newest: Option<SweepState>, previous: Option<SweepState>) -> Option<SweepState> {
        newest.or(previous)
    }

    /// (this worker's shard, shards in all) when the sweeps are sharded:
    /// a replay built with [`Replay::shard`] for it is enough.
    fn shard(&self) -> Option<(usize, usize)> {
        None
    }

    /// This worker's share of the gates when the indicator's model
    /// computes the gradients of its own gates only (a sharded sweep): the
    /// engine then holds their entries only. None: every gate here.
    fn share<'a>(&'a self, _indicator: Indicator, _replay: &Replay) -> Option<GateShare<'a>> {
        None
    }

    /// Whether this worker gets the results (one process does; on a
    /// cluster, shard 0).
    fn reports(&self) -> bool {
        true
    }
}

/// Every sweep in this process: [`Indicator::model`].
pub struct Local;

impl SweepBackend for Local {
    fn model<'a>(
        &'a self,
        indicator: Indicator,
        replay: &'a Replay,
        workspace: &'a Workspace,
    ) -> Result<Box<dyn PathSweep + 'a>, AttributeError> {
        Ok(indicator.model(replay, workspace))
    }
}

/// This worker's shard of sweeps shared over a [`Transport`]:
/// [`Indicator::sharded_model`]. Every worker must make the same calls.
pub struct Sharded<'t>(pub &'t dyn Transport);

impl SweepBackend for Sharded<'_> {
    fn model<'a>(
        &'a self,
        indicator: Indicator,
        replay: &'a Replay,
        workspace: &'a Workspace,
    ) -> Result<Box<dyn PathSweep + 'a>, AttributeError> {
        indicator
            .sharded_model(replay, workspace, self.0)
            .map_err(AttributeError::Shard)
    }

    fn shard(&self) -> Option<(usize, usize)> {
        Some((self.0.shard(), self.0.shards()))
    }

    fn reports(&self) -> bool {
        self.0.shard() == 0
    }

    fn share<'a>(&'a self, indicator: Indicator, replay: &Replay) -> Option<GateShare<'a>> {
        indicator
            .reads_rows()
            .then(|| GateShare::new(replay, &replay.shards(self.0.shards()), self.0))
    }

    fn agree(&self, newest: Option<SweepState>, previous: Option<SweepState>) -> Option<SweepState> {
        // Each worker sends where its states stand (one `Mark` each); all
        // then pick, from the same marks, the one with the most
        // evaluations that every worker holds. Workers save after the same
        // collective sweeps, so a crash leaves them at most one save apart
        // and such a point exists unless some worker has none. Each state
        // holds the worker's own gates (its file is its own, named by the
        // job), so the states differ between workers and only where they
        // stand is compared.
        let mine: Vec<Mark> = [&newest, &previous].into_iter().flatten().map(Mark::of).collect();
        let mut held: Vec<Vec<Mark>> = vec![Vec::new(); self.0.shards()];
        crate::shards::send::<Mark>(self.0, &mut |_, push| {
            for mark in &mine {
                push(0, mark);
            }
        })
        .read(|from, _, mark| held[from].push(mark));
        held[self.0.shard()] = mine.clone();
        let common = (mine.iter())
            .filter(|m| held.iter().all(|other| other.contains(m)))
            .max_by_key(|m| (m.evaluations, m.batches))?;
        [newest, previous]
            .into_iter()
            .flatten()
            .find(|s| Mark::of(s) == *common)
    }
}

/// Where a worker's saved state stands: what the workers compare to agree
/// on one to resume from.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Mark {
    evaluations: u64,
    batches: u64,
}

impl Mark {
    fn of(state: &SweepState) -> Self {
        Self {
            evaluations: state.evaluations as u64,
            batches: state.batches as u64,
        }
    }
}

impl crate::shards::Message for Mark {
    const WORDS: usize = 2;
    fn encode(&self, words: &mut [u64]) {
        words.copy_from_slice(&[self.evaluations, self.batches]);
    }
    fn decode(words: &[u64]) -> Self {
        Self {
            evaluations: words[0],
            batches: words[1],
        }
    }
}

/// A checkpoint whose restored state the backend's workers agree on.
struct Agreed<'a> {
    inner: &'a mut dyn Checkpoint,
    backend: &'a dyn SweepBackend,
}

impl Checkpoint for Agreed<'_> {
    fn restore(&mut self) -> Option<SweepState> {
        let (newest, previous) = (self.inner.restore(), self.inner.restore_previous());
        let chosen = self.backend.agree(newest, previous);
        self.inner.resumed_from(chosen.as_ref());
        chosen
    }
    fn save(&mut self, state: &SweepState) -> Result<(), aumann_engine::SaveError> {
        self.inner.save(state)
    }
}

/// [`attribute_observed`] with the sweeps on `backend`, between `ends`,
/// and the engine's progress saved to (and restored from) `checkpoint`
/// when there is one.
///
/// On a cluster every worker makes this call; where the backend splits the
/// gates ([`SweepBackend::share`]), each worker's engine holds its own
/// gates' entries, and the result is put together on the worker that
/// reports ([`SweepBackend::reports`], shard 0); the others get None,
/// whatever the indicator. In one process, always Some.
#[allow(clippy::too_many_arguments)]
pub fn attribute_on(
    backend: &dyn SweepBackend,
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    ends: PathEnds<'_>,
    observer: &dyn Fn(&Progress) -> std::ops::ControlFlow<()>,
    checkpoint: Option<&mut dyn Checkpoint>,
) -> Result<Option<ReplayAttribution>, AttributeError> {
    if replay.players() == 0 {
        return Err(AttributeError::Empty);
    }
    let share = backend.share(indicator, replay);
    let [input, baseline] = ends.at(replay, share.as_ref().map(GateShare::gates))?;
    let split: &dyn Split = match &share {
        Some(share) => share,
        None => &Whole,
    };
    let workspace = Workspace::new();
    let inner = backend.model(indicator, replay, &workspace)?;
    let model = Proven {
        game: SweepGame(match ends {
            PathEnds::Fraction(b) => Box::new(OnTheDiagonal {
                inner,
                from: b,
                silent: vec![0.0; input.len()],
            }),
            _ => inner,
        }),
        flat: indicator.proven_flat(replay).is_some(),
    };
    let mut agreed = checkpoint.map(|inner| Agreed { inner, backend });
    let checkpoint = agreed.as_mut().map(|a| a as &mut dyn Checkpoint);
    let gates = match engine.attribute_split(&model, &input, &baseline, observer, checkpoint, split) {
        Ok(a) => a,
        // The best result is still an answer, with its gap: callers see
        // `gates.converged() == false` and report it.
        Err(aumann_engine::Error::ToleranceNotReached { best, .. }) => *best,
        Err(source) => {
            return Err(AttributeError::Engine {
                indicator: indicator.name(),
                source,
            });
        }
    };
    let edges_read = workspace.edges_read();
    // The sweeps' buffers (agents x steps x nodes doubles) go before the
    // per-agent sums are made, so that the two never add up in the peak.
    drop(model);
    drop(workspace);
    drop((input, baseline));
    let gates = match &share {
        None => gates,
        Some(share) => match share.gather_attribution(gates) {
            Some(whole) => whole,
            None => return Ok(None),
        },
    };
    if !backend.reports() {
        return Ok(None);
    }
    let flat = gates
        .flat
        .then(|| indicator.flat_cause(replay, gates.nodes, gates.companion_nodes));
    let mut result = summarize(replay, indicator, gates);
    result.edges_read = edges_read;
    result.flat = flat;
    Ok(Some(result))
}

/// A model swept along the path from every gate at `from` to every gate
/// open, as the part τ' = from + τ (1 − from) of the path from silence: the
/// same points (the gates at from + τ (1 − from) either way), so the same
/// values and gradients, with a baseline of zeros that the sweep treats as
/// silent. The engine scales by x − x' = 1 − from itself.
struct OnTheDiagonal<'a> {
    inner: Box<dyn PathSweep + 'a>,
    from: f64,
    /// Zeros, one per gate held: the baseline handed to the inner sweep.
    silent: Vec<f64>,
}

impl PathSweep for OnTheDiagonal<'_> {
    fn players(&self) -> usize {
        self.inner.players()
    }
    /// The engine's path (every gate from `from` to 1) is swept from
    /// silence at τ' = from + τ (1 − from); a single point (a path from a
    /// point to itself, how the ends' values are asked for) as it is.
    fn sweep(
        &self,
        path: aumann_engine::Path<'_>,
        taus: &[f64],
        values: &mut [f64],
        gradient: Option<&mut aumann_engine::GradientSink<'_>>,
    ) {
        if std::ptr::eq(path.baseline, path.input) || path.baseline == path.input {
            return self.inner.sweep(path, taus, values, gradient);
        }
        debug_assert!(path.input.iter().all(|&x| x == 1.0) && path.baseline.iter().all(|&b| b == self.from));
        let mapped: Vec<f64> = taus.iter().map(|&t| self.from + t * (1.0 - self.from)).collect();
        let from_silence = aumann_engine::Path {
            baseline: &self.silent,
            input: path.input,
        };
        self.inner.sweep(from_silence, &mapped, values, gradient);
    }
    fn values_at(&self, points: &[&[f64]], values: &mut [f64]) {
        self.inner.values_at(points, values)
    }
    fn values_on_subsets(&self, path: aumann_engine::Path<'_>, masks: &[u16], values: &mut [f64]) {
        self.inner.values_on_subsets(path, masks, values)
    }
}

/// An indicator's model with what its structure proves: whether it is flat
/// whatever the gates ([`Indicator::proven_flat`]).
struct Proven<G> {
    game: G,
    flat: bool,
}

impl<G: aumann_engine::ValueFunction> aumann_engine::ValueFunction for Proven<G> {
    fn players(&self) -> usize {
        self.game.players()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.game.value(x)
    }
    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        self.game.value_and_gradient(x, gradient)
    }
    fn values(&self, points: &[f64], values: &mut [f64]) {
        self.game.values(points, values)
    }
    fn constant_along(&self, _: &[f64], _: &[f64]) -> bool {
        self.flat
    }
    fn accumulate_path_gradients(
        &self,
        path: aumann_engine::Path<'_>,
        taus: &[f64],
        weights: aumann_engine::NodeWeights<'_>,
        values: &mut [f64],
        accumulator: &mut [f64],
    ) {
        self.game
            .accumulate_path_gradients(path, taus, weights, values, accumulator)
    }
}

/// Sums per-gate results per agent and per step.
pub fn summarize(replay: &Replay, indicator: Indicator, gates: Attribution) -> ReplayAttribution {
    let groups = replay.agent_groups();
    let per_agent = gates.grouped(&groups);
    let step_phi = (0..replay.steps())
        .map(|t| neumaier_sum(replay.step_gates(t).map(|g| gates.phi[g.index()])))
        .collect();
    let gate_agents = replay.gate_ids().map(|g| replay.gate_agent(g)).collect();
    let gate_steps = replay.gate_ids().map(|g| replay.gate_step(g)).collect();
    ReplayAttribution {
        gate_agents,
        gate_steps,
        indicator,
        agent_phi: per_agent.phi,
        agent_error: per_agent.error,
        step_phi,
        gates,
        flat: None,
        edges_read: 0,
    }
}

/// The time-ordered path between `ends`: the gates of step 0 move from the
/// baseline to the input while every later step stays at its baseline,
/// then step 1's with step 0 at its input, and so on (docs/sensitivity.md).
/// A gate's phi is what its step's actions added given the steps before.
///
/// Each leg is a straight path between two points that differ in one
/// step's gates only, attributed by `engine` in this process; the legs'
/// totals telescope to F(input) − F(baseline), so the result's gap is the
/// sum of theirs. `observer` hears each leg's engine progress with the
/// leg's step. Legs whose step has no gate that moves are skipped.
pub fn attribute_in_time_order(
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    ends: PathEnds<'_>,
    observer: &dyn Fn(usize, &Progress) -> std::ops::ControlFlow<()>,
) -> Result<ReplayAttribution, AttributeError> {
    if replay.players() == 0 {
        return Err(AttributeError::Empty);
    }
    let [input, baseline] = ends.at(replay, None)?;
    let players = replay.players();
    let mut phi = vec![0.0; players];
    let mut error = vec![0.0; players];
    // Where the legs stand: steps before the current one at the input.
    let mut start = baseline.to_vec();
    let mut legs: Vec<Attribution> = Vec::new();
    for step in 0..replay.steps() {
        let gates: Vec<usize> = replay.step_gates(step).map(|g| g.index()).collect();
        if gates.iter().all(|&g| input[g] == baseline[g]) {
            continue;
        }
        let mut end = start.clone();
        for &g in &gates {
            end[g] = input[g];
        }
        let leg_observer = |p: &Progress| observer(step, p);
        let leg = attribute_on(
            &Local,
            replay,
            indicator,
            engine,
            PathEnds::Between {
                input: &end,
                baseline: &start,
            },
            &leg_observer,
            None,
        )?
        .expect("one process reports");
        for &g in &gates {
            phi[g] = leg.gates.phi[g];
            error[g] = leg.gates.error[g];
        }
        legs.push(leg.gates);
        start = end;
    }
    let (Some(first), Some(last)) = (legs.first(), legs.last()) else {
        // No gate moves: the straight path says so (flat, with its cause).
        return attribute_on(
            &Local,
            replay,
            indicator,
            engine,
            ends,
            &|_| std::ops::ControlFlow::Continue(()),
            None,
        )
        .map(|r| r.expect("one process reports"));
    };
    let sums = aumann_engine::PhiSums::of(&phi);
    let flat = legs.iter().all(|l| l.flat);
    let gates = Attribution {
        value_input: last.value_input,
        value_baseline: first.value_baseline,
        rule: first.rule,
        nodes: legs.iter().map(|l| l.nodes).sum(),
        companion_nodes: legs.iter().map(|l| l.companion_nodes).sum(),
        gradient_evaluations: legs.iter().map(|l| l.gradient_evaluations).sum(),
        tolerance: first.tolerance,
        flat,
        levels: Vec::new(),
        elapsed: legs.iter().map(|l| l.elapsed).sum(),
        phi,
        error,
        sums,
    };
    let level = aumann_engine::Level {
        nodes: gates.nodes,
        relative_gap: gates.relative_gap(),
    };
    let flat_cause = flat.then(|| indicator.flat_cause(replay, gates.nodes, gates.companion_nodes));
    let mut result = summarize(
        replay,
        indicator,
        Attribution {
            levels: vec![level],
            ..gates
        },
    );
    result.flat = flat_cause;
    Ok(result)
}
