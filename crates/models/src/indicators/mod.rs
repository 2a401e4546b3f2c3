//! The macro indicators, each a differentiable replay over the gates.

/// `Default` for an indicator's parameters: the values its declaration
/// makes from the declared defaults, so that each default is written once,
/// in the declaration. Used in each indicator's file, beside its
/// `DECLARATION`.
macro_rules! default_from_declaration {
    ($params:ident, $variant:ident) => {
        impl Default for $params {
            fn default() -> Self {
                match DECLARATION.with_defaults() {
                    Indicator::$variant(params) => params,
                    _ => unreachable!("a declaration makes its own indicator"),
                }
            }
        }
    };
}

mod attention;
mod cascade;
pub mod declaration;
mod diffusion;
mod linear;
mod panic;
mod participation;
mod points;
mod polarization;
mod sharded;
mod sweep;

pub use attention::{Attention, AttentionParams};
use cascade::Cascade;
pub use cascade::CascadeParams;
pub use linear::LinearControl;
pub use panic::{Panic, PanicParams};
pub use participation::Participation;
use polarization::Polarization;
pub use polarization::PolarizationParams;

use crate::Workspace;
use crate::replay::{GateTablesKept, Replay};
use crate::shards::Transport;
use aumann_engine::PathSweep;
pub use declaration::{Bounds, Declaration, Parameter, ParameterError};
use diffusion::{Diffusion, Layout};
use serde::Serialize;
use sharded::Sharding;
use sweep::AllAgents;

/// A macro indicator with its parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Indicator {
    Polarization(PolarizationParams),
    Cascade(CascadeParams),
    Attention(AttentionParams),
    Panic(PanicParams),
    Linear,
    Participation,
}

/// Every indicator, in the order "all" runs them: the one list the front
/// ends read (names, parameters, defaults, bounds).
const DECLARATIONS: [&Declaration; 6] = [
    &polarization::DECLARATION,
    &cascade::DECLARATION,
    &attention::DECLARATION,
    &panic::DECLARATION,
    &linear::DECLARATION,
    &participation::DECLARATION,
];

impl Indicator {
    /// What the front ends know of every indicator.
    pub fn declarations() -> &'static [&'static Declaration] {
        &DECLARATIONS
    }

    pub fn declaration_of(name: &str) -> Option<&'static Declaration> {
        DECLARATIONS.iter().copied().find(|d| d.name == name)
    }

    /// This indicator's declaration.
    pub fn declaration(&self) -> &'static Declaration {
        Self::declaration_of(self.name()).expect("every indicator is declared")
    }

    /// Every indicator's name, in the order "all" runs them.
    pub fn names() -> impl Iterator<Item = &'static str> {
        DECLARATIONS.iter().map(|d| d.name)
    }

    /// Every indicator with its default parameters.
    pub fn all() -> Vec<Indicator> {
        DECLARATIONS.iter().map(|d| d.with_defaults()).collect()
    }

    /// The indicator of that name with default parameters.
    pub fn from_name(name: &str) -> Option<Indicator> {
        Self::declaration_of(name).map(Declaration::with_defaults)
    }

    /// Its parameters' values, in the declaration's order.
    pub fn parameter_values(&self) -> Vec<Option<f64>> {
        (self.declaration().values)(self)
    }

    /// Whether the indicator's sweeps read the per-step rows (the
    /// diffusion over the network).
    pub(crate) fn reads_rows(&self) -> bool {
        matches!(self, Indicator::Polarization(_) | Indicator::Cascade(_))
    }

    pub fn name(&self) -> &'static str {
        match self {
            Indicator::Polarization(_) => "polarization",
            Indicator::Cascade(_) => "cascade",
            Indicator::Attention(_) => "attention",
            Indicator::Panic(_) => "panic",
            Indicator::Linear => "linear",
            Indicator::Participation => "participation",
        }
    }

    /// Why the indicator is the same at every setting of the gates on this
    /// replay, when its structure proves it, in one line that says what to
    /// do; None when nothing is proved. Each case is a proof: opinions all
    /// equal stay equal whatever is read (the update averages them), and
    /// with nobody reading anybody they do not move; a cascade over no
    /// edge has no hazard (h = 0, so q stays 0); attention without
    /// engagements is eps for every account (H = 1/N); panic without
    /// orders has no flow; the linear control with every follower count 0
    /// weighs every gate 0.
    pub fn proven_flat(&self, replay: &Replay) -> Option<String> {
        let no_follows = replay.graph.edges() == 0 && replay.network().extra_edges == 0;
        match self {
            Indicator::Polarization(_) => {
                let first = replay.stance.first().copied().unwrap_or(0.5);
                if replay.stance.iter().all(|&s| s == 0.5) {
                    Some("stances are all 0.5: estimate them from the data with `aumann stance`".to_string())
                } else if replay.stance.iter().all(|&s| s == first) {
                    Some(format!("every stance is {first}: estimate them with `aumann stance`"))
                } else if no_follows {
                    Some("no follows or exposures in the replayed network: nobody reads anybody".into())
                } else {
                    None
                }
            }
            Indicator::Cascade(_) => no_follows.then(|| {
                format!(
                    "no follows or exposures in the replayed network ({}): nothing can spread",
                    replay.network().network.name()
                )
            }),
            Indicator::Attention(_) => replay
                .engagements
                .is_empty()
                .then(|| "no engagements in this population".to_string()),
            Indicator::Panic(_) => (replay.traders() == 0).then(|| "no orders in this population".to_string()),
            Indicator::Linear => replay
                .followers
                .iter()
                .all(|&f| f == 0.0)
                .then(|| "every follower count is 0".to_string()),
            Indicator::Participation => Participation::proven_flat(replay),
        }
    }

    /// The reason a result came back flat, in one line: the proof when
    /// there is one, else what the engine checked (`nodes` of the rule and
    /// `companion` of its companion).
    pub fn flat_cause(&self, replay: &Replay, nodes: usize, companion: usize) -> String {
        self.proven_flat(replay).unwrap_or_else(|| {
            format!(
                "the indicator is the same with everyone silent and with what happened, and at every node of the first level ({nodes} of the rule, {companion} of its companion) it does not move and no gate's gradient along the path is nonzero"
            )
        })
    }

    /// The indicator as a model of the replay's gates: a sweep along a path
    /// that writes its buffers into `workspace` (wrap it in
    /// [`aumann_engine::SweepGame`] for the engine's value-function calls).
    ///
    /// Panics on a replay built for one shard ([`Replay::shard`]) when the
    /// indicator reads the per-step rows (polarization, cascade): that
    /// replay is for [`Indicator::sharded_model`] only; and on a replay
    /// built without the table the indicator reads
    /// ([`crate::GateTablesKept`]).
    pub fn model<'a>(&self, replay: &'a Replay, workspace: &'a Workspace) -> Box<dyn PathSweep + 'a> {
        assert!(
            replay.is_whole() || !self.reads_rows(),
            "{} over a replay that holds one shard's rows: use sharded_model",
            self.name()
        );
        let needs = GateTablesKept::for_indicators(&[*self]);
        assert!(
            needs.and(replay.kept()) == needs,
            "{} reads a table this replay was built without: build it with ReplayOptions::tables \
             from GateTablesKept::for_indicators over the indicators it serves",
            self.name()
        );
        if let Some(model) = self.diffusion(replay, workspace, AllAgents::of(replay)) {
            return model;
        }
        match *self {
            Indicator::Polarization(_) | Indicator::Cascade(_) => unreachable!("a diffusion"),
            Indicator::Attention(params) => Box::new(Attention::new(replay, params)),
            Indicator::Panic(params) => Box::new(Panic { replay, params }),
            Indicator::Linear => Box::new(LinearControl { replay }),
            Indicator::Participation => Box::new(Participation { replay }),
        }
    }

    /// The indicator as this worker's part of a sweep shared with the other
    /// workers of `transport`: every call of the model is collective. The
    /// diffusion indicators (polarization, cascade) split the agents with
    /// [`Shards::balanced_over`]; the others read no graph and cost one pass over
    /// the gates, so every worker runs them whole. The results are those of
    /// [`Indicator::model`], bit for bit.
    pub fn sharded_model<'a>(
        &self,
        replay: &'a Replay,
        workspace: &'a Workspace,
        transport: &'a dyn Transport,
    ) -> Result<Box<dyn PathSweep + 'a>, ShardMismatch> {
        if !self.reads_rows() {
            return Ok(self.model(replay, workspace));
        }
        let shards = replay.shards(transport.shards());
        let (mine, held) = (shards.range(transport.shard()), replay.rows());
        if mine.start < held.start || mine.end > held.end {
            return Err(ShardMismatch {
                shard: transport.shard(),
                held,
                wanted: mine,
            });
        }
        let layout = Sharding::new(replay, shards, transport);
        Ok(self
            .diffusion(replay, workspace, layout)
            .expect("an indicator that reads the rows is a diffusion"))
    }

    /// A diffusion indicator (polarization, cascade) swept by the driver
    /// over `layout`; None for the others.
    fn diffusion<'a, L: Layout + 'a>(
        &self,
        replay: &'a Replay,
        workspace: &'a Workspace,
        layout: L,
    ) -> Option<Box<dyn PathSweep + 'a>> {
        Some(match *self {
            Indicator::Polarization(params) => Box::new(Diffusion {
                dynamics: Polarization { params },
                replay,
                workspace,
                layout,
            }),
            Indicator::Cascade(params) => Box::new(Diffusion {
                dynamics: Cascade { params },
                replay,
                workspace,
                layout,
            }),
            _ => return None,
        })
    }
}

/// A replay built for one shard, asked for the model of another.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this replay holds the rows of agents {held:?}, not those of shard {shard} ({wanted:?})")]
pub struct ShardMismatch {
    pub shard: usize,
    pub held: std::ops::Range<usize>,
    pub wanted: std::ops::Range<usize>,
}

/// summary.json's record of an indicator: its name, and each declared
/// parameter under the name every front end spells (`cascade-c`,
/// `epsilon`), null where the data sets it.
impl Serialize for Indicator {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let declaration = self.declaration();
        let values = self.parameter_values();
        let mut map = serializer.serialize_map(Some(1 + values.len()))?;
        map.serialize_entry("name", declaration.name)?;
        for (p, value) in declaration.parameters.iter().zip(values) {
            map.serialize_entry(p.name, &value)?;
        }
        map.end()
    }
}

impl GateTablesKept {
    /// The tables that `indicators` read.
    pub fn for_indicators(indicators: &[Indicator]) -> Self {
        Self {
            engagements: indicators.iter().any(|i| matches!(i, Indicator::Attention(_))),
            orders: indicators.iter().any(|i| matches!(i, Indicator::Panic(_))),
        }
    }
}

impl std::str::FromStr for Indicator {
    type Err = ParameterError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| ParameterError::UnknownIndicator {
            name: s.to_string(),
            known: Self::names().collect::<Vec<_>>().join(", "),
        })
    }
}
