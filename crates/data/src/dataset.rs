//! A population with what identifies it: external ids and metadata.

use aumann_models::Population;
use serde::{Deserialize, Serialize};

/// What every source writes and every command reads.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub population: Population,
    /// One per agent, in id order: a DID for Bluesky, a user id for OASIS.
    pub external_ids: Vec<String>,
    pub meta: Metadata,
    /// Where each stance came from and how sure it is, when a stance
    /// estimate wrote them (`aumann stance`, `--stance` on ingest).
    pub stance_detail: Option<StanceDetail>,
    /// Per agent, the hits of a lexicon's (lower, upper) terms in what it
    /// wrote, counted at ingest when a lexicon was given. Kept in memory for
    /// the stance step only: no text, and no count, is written.
    pub lexicon_hits: Option<Vec<[u64; 2]>>,
    /// A grouping of the agents (a community, a camp, a cohort), one label
    /// per agent: the agents table's optional `group` column. The study
    /// totals φ per group.
    pub groups: Option<Vec<String>>,
}

/// The stance columns beside `stance` in agents.parquet.
#[derive(Clone, Debug, PartialEq)]
pub struct StanceDetail {
    /// "fitted", "supplementary", "column", "seed", "propagated", "lexicon",
    /// "label" or "low-signal".
    pub source: Vec<String>,
    /// In [0, 1]; 0 for no signal.
    pub confidence: Vec<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Metadata {
    /// Version of the population format.
    pub format_version: u32,
    pub agents: usize,
    pub steps: usize,
    /// Length of one step in seconds (86400 for days; 0 when steps are
    /// simulation rounds with no duration).
    pub step_seconds: u64,
    /// Unix microseconds at the start of step 0, when known.
    pub start_time_us: Option<i64>,
    /// "synth", "jetstream" or "oasis".
    pub source: String,
    pub seed: Option<u64>,
    /// RFC 3339, UTC.
    pub created: String,
    /// The source's own settings (generator parameters, ingest counts).
    pub parameters: serde_json::Value,
    /// The stance estimate that wrote the stances (method, settings,
    /// diagnostics), when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stance: Option<serde_json::Value>,
    /// The id of the run that wrote the directory; each table carries it
    /// too, and a reader refuses tables of another run (files of two runs
    /// mixed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
}

pub const FORMAT_VERSION: u32 = 1;

impl Metadata {
    pub fn new(
        source: &str,
        agents: usize,
        steps: usize,
        step_seconds: u64,
        seed: Option<u64>,
        parameters: serde_json::Value,
    ) -> Self {
        Self {
            format_version: FORMAT_VERSION,
            agents,
            steps,
            step_seconds,
            start_time_us: None,
            source: source.to_string(),
            seed,
            created: now_rfc3339(),
            parameters,
            stance: None,
            run: None,
        }
    }
}

/// The current UTC time as RFC 3339 (to the second).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    rfc3339(secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
/// days-from-civil), to avoid a date-time dependency for a few lines.
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// Seconds since the epoch as RFC 3339 UTC, by the civil-from-days
/// algorithm (Hinnant), to avoid a date-time dependency for one line.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_764_410_096), "2025-11-29T09:54:56Z");
    }
}
