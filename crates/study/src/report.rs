//! The self-contained HTML report.

use crate::StudyResult;
use aumann_data::format::FormatError;
use std::path::Path;

pub fn write(path: &Path, result: &StudyResult, load_seconds: f64, total_seconds: f64) -> Result<(), FormatError> {
    let html = format!(
        "<!doctype html><title>aumann</title><pre>{}</pre><p>{load_seconds} {total_seconds}</p>",
        result.population.agents
    );
    std::fs::write(path, html).map_err(|source| FormatError::Io {
        path: path.to_path_buf(),
        source,
    })
}
