//! The indicators' settings as front ends take them (the command line's
//! flags, the Python package's keyword arguments), checked once here so
//! that both refuse the same values with the same words.

use aumann_models::Indicator;
use aumann_models::indicators::declaration;

/// Which indicators to attribute ("all", or one name) and the parameter
/// values given (by the declared name, `kappa`, `cascade-c`); every other
/// parameter takes its declared default.
#[derive(Clone, Debug, PartialEq)]
pub struct IndicatorSettings {
    /// One of [`Indicator::names`], or all.
    pub indicator: String,
    pub parameters: Vec<(String, f64)>,
}

impl Default for IndicatorSettings {
    fn default() -> Self {
        Self {
            indicator: "polarization".into(),
            parameters: Vec::new(),
        }
    }
}

impl IndicatorSettings {
    /// The chosen indicators with these parameters, checked against their
    /// declarations. `option` spells a parameter's name the way the front
    /// end takes it ("kappa" becomes "--kappa" on the command line), for
    /// the error messages.
    pub fn indicators(&self, option: &dyn Fn(&str) -> String) -> Result<Vec<Indicator>, String> {
        declaration::chosen(&self.indicator, &self.parameters, option).map_err(|e| e.to_string())
    }
}

/// Checks the latency quantile: a share in (0, 1].
pub fn check_latency_quantile(q: f64, option: &str) -> Result<f64, String> {
    if q > 0.0 && q <= 1.0 {
        Ok(q)
    } else {
        Err(format!("{option} is a share in (0, 1]; got {q}"))
    }
}

/// The path integral's settings as front ends take them: a rule, a fixed
/// node count or the adaptive mode's tolerance and limit, and the nodes per
/// sweep.
#[derive(Clone, Debug, PartialEq)]
pub struct EngineSettings {
    pub rule: aumann_engine::Rule,
    /// A fixed node count; None adapts until the tolerance is met.
    pub nodes: Option<usize>,
    pub tolerance: f64,
    pub max_nodes: usize,
    pub batch: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            rule: aumann_engine::Rule::GaussLegendre,
            nodes: None,
            tolerance: aumann_engine::DEFAULT_TOLERANCE,
            max_nodes: aumann_engine::DEFAULT_MAX_NODES,
            batch: aumann_engine::DEFAULT_BATCH,
        }
    }
}

impl EngineSettings {
    /// The engine, or why these settings make none (`option` spells a
    /// setting's name the way the front end takes it). The engine checks
    /// the rest (node limits, the tolerance) when it runs.
    pub fn build(&self, option: &dyn Fn(&str) -> String) -> Result<aumann_engine::AumannShapley, String> {
        use aumann_engine::{AumannShapley, DEFAULT_MAX_NODES, DEFAULT_START_NODES};
        if let Some(n) = self.nodes
            && self.max_nodes != DEFAULT_MAX_NODES
            && n > self.max_nodes
        {
            return Err(format!(
                "{} {n} is above {} {}: give one or the other",
                option("nodes"),
                option("max-nodes"),
                self.max_nodes
            ));
        }
        let engine = AumannShapley::default().rule(self.rule).batch(self.batch);
        Ok(match self.nodes {
            Some(n) => engine.fixed(n),
            None => {
                let start = DEFAULT_START_NODES.min(self.max_nodes).max(self.rule.min_nodes());
                engine.adaptive(start, self.max_nodes, self.tolerance)
            }
        })
    }
}
