//! The macro indicators, each a differentiable replay over the gates.

mod attention;
mod cascade;
mod diffusion;
mod linear;
mod panic;
mod polarization;
mod sweep;

pub use attention::{Attention, AttentionParams};
pub use cascade::{Cascade, CascadeParams};
pub use linear::LinearControl;
pub use panic::{Panic, PanicParams};
pub use polarization::{Polarization, PolarizationParams};

use crate::Workspace;
use crate::replay::Replay;
use aumann_engine::PathSweep;
use serde::Serialize;

/// A macro indicator with its parameters.
#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
#[serde(tag = "name", rename_all = "kebab-case")]
pub enum Indicator {
    Polarization(PolarizationParams),
    Cascade(CascadeParams),
    Attention(AttentionParams),
    Panic(PanicParams),
    Linear,
}

impl Indicator {
    /// Every indicator with its default parameters.
    pub const NAMES: [&'static str; 5] = ["polarization", "cascade", "attention", "panic", "linear"];

    pub fn all() -> Vec<Indicator> {
        Self::NAMES
            .iter()
            .map(|n| Self::from_name(n).expect("known name"))
            .collect()
    }

    /// The indicator of that name with default parameters.
    pub fn from_name(name: &str) -> Option<Indicator> {
        Some(match name {
            "polarization" => Indicator::Polarization(PolarizationParams::default()),
            "cascade" => Indicator::Cascade(CascadeParams::default()),
            "attention" => Indicator::Attention(AttentionParams::default()),
            "panic" => Indicator::Panic(PanicParams::default()),
            "linear" => Indicator::Linear,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Indicator::Polarization(_) => "polarization",
            Indicator::Cascade(_) => "cascade",
            Indicator::Attention(_) => "attention",
            Indicator::Panic(_) => "panic",
            Indicator::Linear => "linear",
        }
    }

    /// The indicator as a model of the replay's gates: a sweep along a path
    /// that writes its buffers into `workspace` (wrap it in
    /// [`aumann_engine::SweepGame`] for the engine's value-function calls).
    pub fn model<'a>(&self, replay: &'a Replay, workspace: &'a Workspace) -> Box<dyn PathSweep + 'a> {
        match *self {
            Indicator::Polarization(params) => Box::new(Polarization {
                replay,
                params,
                workspace,
            }),
            Indicator::Cascade(params) => Box::new(Cascade {
                replay,
                params,
                workspace,
            }),
            Indicator::Attention(params) => Box::new(Attention::new(replay, params)),
            Indicator::Panic(params) => Box::new(Panic { replay, params }),
            Indicator::Linear => Box::new(LinearControl { replay }),
        }
    }
}

impl std::str::FromStr for Indicator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| format!("unknown indicator '{s}'; choose one of {}", Self::NAMES.join(", ")))
    }
}
