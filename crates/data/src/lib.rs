//! Populations in and out.
//!
//! - [`Dataset`]: a population with its external ids and metadata.
//! - [`synth`]: the built-in Bluesky-like population.
//! - [`progress`]: progress bars on a terminal, silence elsewhere.

pub mod baseline;
pub mod checkpoint;
mod dataset;
pub mod format;
pub mod ingest;
pub mod progress;
pub mod staged;
pub mod stance;
pub mod stats;
pub mod synth;

pub use dataset::{Dataset, FORMAT_VERSION, Metadata, StanceDetail, days_from_civil, now_rfc3339, rfc3339};
