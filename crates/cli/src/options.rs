//! Options shared by several commands.

use aumann_data::staged::Manifest;
use aumann_data::stance::{StanceMethod, StanceRequest};
use aumann_data::synth::{DEFAULT_AGENTS, DEFAULT_SEED, DEFAULT_STEPS, SynthParams};
use aumann_data::{Dataset, format, progress};
use aumann_engine::{AumannShapley, DEFAULT_BATCH, DEFAULT_MAX_NODES, DEFAULT_TOLERANCE, Rule};
use aumann_models::indicators::declaration;
use aumann_models::{Indicator, Network, ReplayOptions};
use aumann_stance::CaOptions;
use aumann_study::Input;
use aumann_study::settings::{EngineSettings, IndicatorSettings};
use clap::Args;
use std::path::PathBuf;

/// Where the population comes from: a population directory, or the
/// built-in generator.
#[derive(Args, Clone, Debug)]
pub struct Source {
    /// A population directory (from `aumann synth` or `aumann ingest`).
    /// Without it, the built-in Bluesky-like population is generated.
    #[arg(long, value_name = "DIR")]
    pub input: Option<PathBuf>,
    /// Agents of the built-in population.
    #[arg(long, default_value_t = DEFAULT_AGENTS, conflicts_with = "input")]
    pub agents: usize,
    /// Daily steps of the built-in population.
    #[arg(long, default_value_t = DEFAULT_STEPS, conflicts_with = "input")]
    pub days: usize,
    /// Seed of the built-in population (same seed, same population).
    #[arg(long, default_value_t = DEFAULT_SEED, conflicts_with = "input")]
    pub seed: u64,
    /// A recommended feed for the built-in population: this many items of
    /// authors beyond one's follows shown to every agent at every step,
    /// written as exposures (0: none).
    #[arg(long, default_value_t = 0, value_name = "N", conflicts_with = "input")]
    pub feed: usize,
}

/// A setting's name as the command line takes it, for the library's
/// messages: "permutations" is --permutations, and the generator's steps
/// are --days.
pub fn flag(name: &str) -> String {
    match name {
        "steps" => "--days".into(),
        name => format!("--{name}"),
    }
}

impl Source {
    /// The manifest of a run on this source: the input and its fingerprint.
    pub fn manifest(&self, data: &Dataset) -> Manifest {
        Manifest::new(&self.label(), &format::fingerprint(data))
    }

    /// How run.json names the input.
    pub fn label(&self) -> String {
        match &self.input {
            Some(dir) => dir.display().to_string(),
            None => format!(
                "the built-in population (--agents {} --days {} --seed {}{})",
                self.agents,
                self.days,
                self.seed,
                if self.feed > 0 {
                    format!(" --feed {}", self.feed)
                } else {
                    String::new()
                }
            ),
        }
    }

    /// The input of a run (`aumann_study::Run`), which reads it.
    pub fn input(&self) -> Input {
        match &self.input {
            Some(dir) => Input::Directory(dir.clone()),
            None => Input::Generated(SynthParams {
                agents: self.agents,
                steps: self.days,
                seed: self.seed,
                feed: self.feed,
                ..Default::default()
            }),
        }
    }

    /// What a command reads from disk, which its output must stay apart
    /// from.
    pub fn inputs(&self) -> Vec<&std::path::Path> {
        self.input.as_deref().into_iter().collect()
    }

    /// The population, read or generated here, with a progress bar.
    pub fn load(&self) -> Result<Dataset, crate::Error> {
        let terminal = progress::Terminal::new();
        let data = match self.input() {
            Input::Directory(dir) => format::read_observed(&dir, &terminal)?,
            Input::Generated(params) => {
                aumann_data::synth::check(&params, &flag)?;
                aumann_data::synth::generate(&params, &terminal)
            }
            Input::InMemory(data) => std::sync::Arc::unwrap_or_clone(data),
        };
        terminal.finish();
        Ok(data)
    }
}

/// How the path integral is computed.
#[derive(Args, Clone, Debug)]
pub struct Engine {
    /// Quadrature rule: gauss-legendre, riemann-left, riemann-right,
    /// riemann-midpoint or trapezoid.
    #[arg(long, default_value = "gauss-legendre")]
    pub rule: Rule,
    /// A fixed node count. Without it the node count adapts until the
    /// relative completeness gap is under --tolerance.
    #[arg(long, value_name = "N")]
    pub nodes: Option<usize>,
    /// Relative completeness gap |sum phi - (F(x) - F(x'))| / |F(x) - F(x')|
    /// that the adaptive mode reaches.
    #[arg(long, default_value_t = DEFAULT_TOLERANCE, conflicts_with = "nodes")]
    pub tolerance: f64,
    /// Most nodes the adaptive mode may use.
    #[arg(long, default_value_t = DEFAULT_MAX_NODES, value_name = "N")]
    pub max_nodes: usize,
    /// Nodes evaluated per sweep; memory grows with it (about 8 bytes x
    /// agents x steps per node), speed little.
    #[arg(long, default_value_t = DEFAULT_BATCH, value_name = "N")]
    pub batch: usize,
}

impl Engine {
    pub fn build(&self) -> Result<AumannShapley, String> {
        EngineSettings {
            rule: self.rule,
            nodes: self.nodes,
            tolerance: self.tolerance,
            max_nodes: self.max_nodes,
            batch: self.batch,
        }
        .build(&flag)
    }

    /// The same options as command-line arguments (for a child process).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--rule".to_string(),
            self.rule.name().to_string(),
            "--max-nodes".into(),
            self.max_nodes.to_string(),
            "--batch".into(),
            self.batch.to_string(),
        ];
        match self.nodes {
            Some(n) => args.extend(["--nodes".into(), n.to_string()]),
            None => args.extend(["--tolerance".into(), self.tolerance.to_string()]),
        }
        args
    }
}

/// What is attributed: the indicators, their parameters, and the network
/// the diffusion indicators replay.
#[derive(Args, Clone, Debug)]
pub struct Model {
    #[arg(long, default_value = "polarization", help = indicator_help())]
    pub indicator: String,
    /// The network polarization and cascade replay: follows (each while it
    /// held), exposures (who was shown whose items), or both.
    #[arg(long, default_value = "both", value_name = "NETWORK")]
    pub network: Network,
    #[command(flatten)]
    pub parameters: ParameterFlags,
    /// Take the parameter values of a fit: fit.json of `aumann fit` (each
    /// parameter's "used": the estimate where the data identify it, the
    /// default where not). A parameter's own flag wins over it.
    #[arg(long, value_name = "FIT.JSON", help_heading = "Indicator parameters")]
    pub params: Option<PathBuf>,
}

/// Fitting an indicator's parameters to the data before attributing.
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Fitting (docs/fit.md)")]
pub struct FitFlags {
    /// Fit the cascade's parameters to who first responded when, given
    /// what each agent read (or, with --stances, polarization's kappa to
    /// the stances observed), and attribute with the fitted values; the
    /// fit goes into summary.json (and the report: "Does the replay match
    /// what happened"). One process only.
    #[arg(long)]
    pub fit: bool,
    /// The share of the steps the fit holds out and predicts.
    #[arg(long, default_value_t = 0.3, value_name = "SHARE", requires = "fit")]
    pub held_out: f64,
    /// Stances observed per step (CSV external_id,step,stance): --fit then
    /// fits polarization to them, and the replay starts from those of step 0.
    #[arg(long, value_name = "FILE", requires = "fit")]
    pub stances: Option<PathBuf>,
}

impl FitFlags {
    /// The study's `fit` and `stances` settings, refused beside --params
    /// (which gives the values a fit would make).
    pub fn setting(&self, model: &Model) -> Result<(Option<f64>, Option<aumann_data::stance::StancesGiven>), String> {
        if self.fit && model.params.is_some() {
            return Err("--fit fits the parameters and --params gives them: one or the other".into());
        }
        Ok((
            self.fit.then_some(self.held_out),
            self.stances.clone().map(aumann_data::stance::StancesGiven::File),
        ))
    }
}

/// The sensitivity analysis (docs/sensitivity.md).
#[derive(Args, Clone, Debug)]
#[command(next_help_heading = "Sensitivity (docs/sensitivity.md)")]
pub struct SensitivityFlags {
    /// Attribute again under other baselines (every gate at a half,
    /// typical activity), the time-ordered path, each parameter halved and
    /// doubled (or at its fitted interval's ends) and the label-free stance
    /// methods, and say which conclusions hold under all: none; default
    /// (those that fit in two attributions' worth of gradient evaluations,
    /// in order of priority); or full (every one, and more points of each)
    /// [study: default, none on a cluster, where it does not run;
    /// sensitivity: full]
    #[arg(long, value_name = "EXTENT")]
    pub sensitivity: Option<String>,
    /// A baseline of your own to try as well: CSV of external_id,baseline
    /// (every gate of the agent) or external_id,step,baseline rows, gate
    /// values in [0, 1]; agents it does not name stay silent.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
}

impl SensitivityFlags {
    /// The study's `sensitivity` setting: as given, or else `unset` in one
    /// process and none on a cluster.
    pub fn setting(
        &self,
        on_cluster: bool,
        unset: aumann_study::sensitivity::Extent,
    ) -> Result<Option<aumann_study::sensitivity::SensitivitySpec>, String> {
        let extent = match &self.sensitivity {
            Some(name) => aumann_study::sensitivity::Extent::parse(name).map_err(|e| format!("--sensitivity: {e}"))?,
            None if on_cluster && self.baseline.is_none() => None,
            None => Some(unset),
        };
        match (extent, &self.baseline) {
            (None, Some(_)) => {
                Err("--baseline is an alternative of the sensitivity analysis: drop --sensitivity none".into())
            }
            (None, None) => Ok(None),
            (Some(extent), baseline) => Ok(Some(aumann_study::sensitivity::SensitivitySpec {
                extent,
                baseline: baseline.clone().map(aumann_data::baseline::BaselineGiven::File),
            })),
        }
    }
}

/// The indicators' names, from their declarations.
fn indicator_help() -> String {
    format!("{}, or all", Indicator::names().collect::<Vec<_>>().join(", "))
}

/// Every declared parameter of every indicator as a flag (`--kappa`,
/// `--cascade-c`, ...): the flags come from the declarations, so an
/// indicator added there has its flags here without an edit.
#[derive(Clone, Debug, Default)]
pub struct ParameterFlags {
    /// The values given on the command line, by declared name.
    pub given: Vec<(String, f64)>,
}

impl clap::FromArgMatches for ParameterFlags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut flags = Self::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        for (_, p) in declaration::parameters() {
            if let Some(&value) = matches.get_one::<f64>(p.name) {
                self.given.retain(|(name, _)| name != p.name);
                self.given.push((p.name.to_string(), value));
            }
        }
        Ok(())
    }
}

impl clap::Args for ParameterFlags {
    fn augment_args(command: clap::Command) -> clap::Command {
        declaration::parameters().fold(command, |command, (indicator, p)| {
            let default = match p.default {
                Some(v) => format!("{v}"),
                None => p.when_absent.to_string(),
            };
            let mut title = indicator.to_string();
            title[..1].make_ascii_uppercase();
            command.arg(
                clap::Arg::new(p.name)
                    .long(p.name)
                    .value_name(p.name.to_uppercase())
                    .value_parser(clap::value_parser!(f64))
                    // A negative value reaches the bounds check, whose
                    // message says what the parameter takes.
                    .allow_negative_numbers(true)
                    .help(format!("{title}: {} [default: {default}]", p.help))
                    .help_heading("Indicator parameters"),
            )
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

impl Model {
    /// The chosen indicators with the given parameters, checked.
    pub fn indicators(&self) -> Result<Vec<Indicator>, String> {
        let mut parameters = match &self.params {
            None => Vec::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("--params {}: {e}", path.display()))?;
                let fitted = aumann_fit::read_fitted(&text).map_err(|e| format!("--params {}: {e}", path.display()))?;
                if self.indicator != fitted.indicator && self.indicator != "all" {
                    return Err(format!(
                        "--params {} holds a fit of {}, and --indicator is {}",
                        path.display(),
                        fitted.indicator,
                        self.indicator
                    ));
                }
                fitted.values
            }
        };
        // A flag given wins over the fit's value.
        parameters.retain(|(name, _)| !self.parameters.given.iter().any(|(given, _)| given == name));
        parameters.extend(self.parameters.given.iter().cloned());
        IndicatorSettings {
            indicator: self.indicator.clone(),
            parameters,
        }
        .indicators(&flag)
    }

    pub fn replay(&self) -> ReplayOptions {
        ReplayOptions {
            network: self.network,
            ..Default::default()
        }
    }
}

/// How stance is estimated, shared by `aumann stance` and `--stance` on
/// ingest (where the flags carry a `stance-` prefix).
#[derive(Args, Clone, Debug)]
pub struct StanceSettings {
    /// Columns of the correspondence analysis: the K most-followed
    /// accounts (follows) or most-engaged authors (engagements).
    #[arg(long, default_value_t = CaOptions::default().elites, value_name = "K")]
    pub elites: usize,
    /// Accounts that follow (or engage) at least this many of the K are
    /// fitted; those with fewer, but at least one, are placed as
    /// supplementary rows; those with none keep 0.5, flagged low-signal.
    #[arg(long, default_value_t = CaOptions::default().min_elites, value_name = "M")]
    pub min_elites: usize,
    /// Slope of the logistic that maps the standardised score to (0, 1).
    #[arg(long, default_value_t = CaOptions::default().slope)]
    pub slope: f64,
}

impl StanceSettings {
    pub fn request(&self, method: StanceMethod, file: Option<PathBuf>) -> StanceRequest {
        StanceRequest {
            method,
            file,
            ca: CaOptions {
                elites: self.elites,
                min_elites: self.min_elites,
                slope: self.slope,
                ..CaOptions::default()
            },
        }
    }
}

/// The stance diagnostics, one line each.
pub fn print_stance(d: &aumann_stance::Diagnostics) {
    let opt = |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map_or("n/a".to_string(), f);
    println!(
        "stance ({}): {} of {} agents estimated, {:.1}% low signal",
        d.method,
        d.estimated,
        d.agents,
        100.0 * d.low_signal_share
    );
    if d.explained_inertia.is_some() {
        println!(
            "  {} columns, {} fitted rows, {} iterations; inertia on dimension 1 {}, dimension 2 {}",
            d.columns.unwrap_or(0),
            d.fitted_rows.unwrap_or(0),
            d.iterations.unwrap_or(0),
            opt(d.explained_inertia, &|v| format!("{:.1}%", 100.0 * v)),
            opt(d.second_inertia, &|v| format!("{:.1}%", 100.0 * v)),
        );
    }
    if let (Some(given), Some(matched)) = (d.labels_given, d.labels_matched) {
        println!("  {matched} of {given} labelled accounts found in the population");
    }
    if let Some(b) = d.bimodality {
        println!(
            "  bimodality coefficient of the scores {b:.3} (a uniform spread gives 0.556; above it is consistent with two camps, proves none)"
        );
    }
    println!("  orientation: {}", d.orientation);
    for warning in &d.warnings {
        println!("  warning: {warning}");
    }
}
