//! What every front end knows of an indicator, declared once beside its
//! equations: its name, its parameters (default, bounds, help, unit) and
//! where the docs define it. The command line's flags, the study's
//! settings, the Python keyword arguments and the docs' parameter table are
//! all read from [`Indicator::declarations`]; none lists an indicator or a
//! parameter of its own.

use super::Indicator;
use serde::Serialize;

/// The values a parameter may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bounds {
    /// A finite number above 0.
    Positive,
    /// A finite number, 0 or above.
    NonNegative,
    /// A share: a number from 0 to 1.
    Share,
}

impl Bounds {
    pub fn contains(self, value: f64) -> bool {
        match self {
            Bounds::Positive => value.is_finite() && value > 0.0,
            Bounds::NonNegative => value.is_finite() && value >= 0.0,
            Bounds::Share => (0.0..=1.0).contains(&value),
        }
    }

    /// What a value must be, as the end of "`--kappa` must be ...".
    pub fn describe(self) -> &'static str {
        match self {
            Bounds::Positive => "a finite number above 0",
            Bounds::NonNegative => "a finite number >= 0",
            Bounds::Share => "a share between 0 and 1",
        }
    }

    /// The set in interval notation, for tables.
    pub fn interval(self) -> &'static str {
        match self {
            Bounds::Positive => "(0, ∞)",
            Bounds::NonNegative => "[0, ∞)",
            Bounds::Share => "[0, 1]",
        }
    }
}

/// One parameter of an indicator.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Parameter {
    /// The one name every front end spells: the flag `--{name}`, the
    /// Python keyword (`-` as `_`, and `_` appended to a Python keyword:
    /// `lambda_`). Unique over all indicators, since the flags are.
    pub name: &'static str,
    /// Its symbol in the equations of docs/indicators.md.
    pub symbol: &'static str,
    /// What it does, in one line that starts in lower case.
    pub help: &'static str,
    pub unit: &'static str,
    /// None: taken from the data when not given ([`Parameter::when_absent`]).
    pub default: Option<f64>,
    /// What the value is when none is given and there is no default.
    pub when_absent: &'static str,
    pub bounds: Bounds,
}

/// An indicator as the front ends see it.
#[derive(Clone, Copy, Debug)]
pub struct Declaration {
    pub name: &'static str,
    /// One line: what the number measures.
    pub summary: &'static str,
    /// The heading of docs/indicators.md that gives its equations.
    pub section: &'static str,
    pub parameters: &'static [Parameter],
    /// The indicator at `values`, one per parameter in order, each within
    /// its bounds (None only where the parameter has no default).
    pub make: fn(&[Option<f64>]) -> Indicator,
    /// An indicator's values, one per parameter in order.
    pub values: fn(&Indicator) -> Vec<Option<f64>>,
}

impl Declaration {
    /// The indicator with every parameter at its default.
    pub fn with_defaults(&self) -> Indicator {
        let values: Vec<Option<f64>> = self.parameters.iter().map(|p| p.default).collect();
        (self.make)(&values)
    }

    /// The indicator at the values given by name (the rest at their
    /// defaults), checked against the bounds. `option` spells a
    /// parameter's name as the front end takes it ("kappa" becomes
    /// "--kappa" on the command line), for the messages.
    pub fn with_values(
        &self,
        given: &dyn Fn(&str) -> Option<f64>,
        option: &dyn Fn(&str) -> String,
    ) -> Result<Indicator, ParameterError> {
        let mut values = Vec::with_capacity(self.parameters.len());
        for p in self.parameters {
            let value = given(p.name).or(p.default);
            if let Some(v) = value
                && !p.bounds.contains(v)
            {
                return Err(ParameterError::OutOfBounds {
                    option: option(p.name),
                    bounds: p.bounds,
                    value: v,
                });
            }
            values.push(value);
        }
        Ok((self.make)(&values))
    }
}

/// A parameter the front end was given that no indicator takes, or a value
/// outside a parameter's bounds.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParameterError {
    #[error("{option} must be {}; got {value}", bounds.describe())]
    OutOfBounds { option: String, bounds: Bounds, value: f64 },
    #[error("no indicator takes {option}; the parameters are {known}")]
    Unknown { option: String, known: String },
    #[error("unknown indicator '{name}'; choose one of {known}")]
    UnknownIndicator { name: String, known: String },
}

/// Every parameter of every indicator, with its indicator's name.
pub fn parameters() -> impl Iterator<Item = (&'static str, &'static Parameter)> {
    Indicator::declarations()
        .iter()
        .flat_map(|d| d.parameters.iter().map(move |p| (d.name, p)))
}

/// The indicators named (one name, or "all"), each at the values `given`
/// by parameter name and the defaults elsewhere. Every value given is
/// checked, whichever indicators are chosen: a name no indicator's
/// parameter has, or a value outside its parameter's bounds, is an error.
pub fn chosen(
    indicator: &str,
    given: &[(String, f64)],
    option: &dyn Fn(&str) -> String,
) -> Result<Vec<Indicator>, ParameterError> {
    for &(ref name, value) in given {
        let Some((_, p)) = parameters().find(|(_, p)| p.name == name) else {
            return Err(ParameterError::Unknown {
                option: option(name),
                known: parameters().map(|(_, p)| option(p.name)).collect::<Vec<_>>().join(", "),
            });
        };
        if !p.bounds.contains(value) {
            return Err(ParameterError::OutOfBounds {
                option: option(name),
                bounds: p.bounds,
                value,
            });
        }
    }
    let lookup = |name: &str| given.iter().rev().find(|(n, _)| n == name).map(|&(_, v)| v);
    let declarations: Vec<&Declaration> = if indicator == "all" {
        Indicator::declarations().to_vec()
    } else {
        vec![
            Indicator::declaration_of(indicator).ok_or_else(|| ParameterError::UnknownIndicator {
                name: indicator.to_string(),
                known: format!("{}, or all", Indicator::names().collect::<Vec<_>>().join(", ")),
            })?,
        ]
    };
    declarations
        .into_iter()
        .map(|d| d.with_values(&lookup, option))
        .collect()
}

/// The docs' table of every parameter (docs/indicators.md, "Parameters"),
/// in Markdown.
pub fn parameter_table() -> String {
    let mut table = String::from(
        "| indicator | flag | Python | symbol | default | values | unit | what it does |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for (indicator, p) in parameters() {
        let default = match p.default {
            Some(v) => format!("{v}"),
            None => p.when_absent.to_string(),
        };
        table.push_str(&format!(
            "| {indicator} | `--{}` | `{}` | {} | {default} | {} | {} | {} |\n",
            p.name,
            python_keyword(p.name),
            p.symbol,
            p.bounds.interval(),
            p.unit,
            p.help
        ));
    }
    table
}

/// A parameter's name as a Python keyword argument: `-` as `_`, and `_`
/// appended where the name is a Python keyword.
pub fn python_keyword(name: &str) -> String {
    const RESERVED: [&str; 35] = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
        "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
        "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
    ];
    let keyword = name.replace('-', "_");
    if RESERVED.contains(&keyword.as_str()) {
        keyword + "_"
    } else {
        keyword
    }
}
