//! A population held in memory: read, written, generated, ingested, built
//! from tables, and handed to the attribution.

use crate::arrow::{ArrowBatch, import};
use crate::errors::{self, Kind};
use crate::observe::detached;
use aumann_data::ingest::{jetstream, oasis};
use aumann_data::stance::{StanceMethod, StanceRequest};
use aumann_data::synth::SynthParams;
use aumann_data::{Dataset, Metadata, format};
use aumann_stance::{CaOptions, Lexicon};
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;

/// A population: agents, who follows whom, what each did at each step,
/// and what identifies it. Immutable: a stance estimate makes a new one.
#[pyclass(module = "aumann._native", frozen)]
pub struct Population {
    pub data: Arc<Dataset>,
}

impl Population {
    fn new(data: Dataset) -> Self {
        Self { data: Arc::new(data) }
    }
}

fn lexicon(path: Option<PathBuf>) -> PyResult<Option<Lexicon>> {
    path.map(|p| Lexicon::read(&p).map_err(|e| errors::classify(&e, Kind::InvalidInput)))
        .transpose()
}

#[pymethods]
impl Population {
    /// Reads a population directory (from `aumann synth`, `aumann ingest`
    /// or `Population.write`).
    #[staticmethod]
    fn read(py: Python<'_>, path: PathBuf, progress: crate::observe::Progress) -> PyResult<Self> {
        detached(py, progress, |watch| format::read_observed(&path, watch))?
            .map(Self::new)
            .map_err(errors::format)
    }

    /// Writes the population as a directory, whole or not at all.
    fn write(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| format::write(&path, &self.data)).map_err(errors::format)
    }

    /// The built-in Bluesky-like population.
    #[staticmethod]
    fn generate(
        py: Python<'_>,
        agents: usize,
        days: usize,
        seed: u64,
        feed: usize,
        progress: crate::observe::Progress,
    ) -> PyResult<Self> {
        let params = SynthParams {
            agents,
            steps: days,
            seed,
            feed,
            ..Default::default()
        };
        aumann_data::synth::check(&params, &|name| match name {
            "steps" => "days".into(),
            name => name.into(),
        })
        .map_err(|e| errors::invalid(&e))?;
        detached(py, progress, |watch| aumann_data::synth::generate(&params, watch)).map(Self::new)
    }

    /// A population from tables given as objects that export Arrow record
    /// batches (pyarrow's), named by file ("agents.parquet", ...), checked
    /// as a directory's files are.
    #[staticmethod]
    fn from_tables(
        py: Python<'_>,
        agents: usize,
        steps: usize,
        step_seconds: u64,
        source: String,
        tables: Vec<(String, Bound<'_, PyAny>)>,
    ) -> PyResult<Self> {
        let batches = tables
            .iter()
            .map(|(name, table)| Ok((name.clone(), vec![import(table)?])))
            .collect::<PyResult<Vec<_>>>()?;
        let meta = Metadata::new(&source, agents, steps, step_seconds, None, serde_json::json!({}));
        py.detach(|| format::from_batches(meta, batches))
            .map(Self::new)
            .map_err(errors::format)
    }

    /// The tables, named by file, as Arrow batches.
    fn tables(&self, py: Python<'_>) -> PyResult<Vec<(String, ArrowBatch)>> {
        let tables = py
            .detach(|| format::population_batches(&self.data, &format::content_id(&self.data)))
            .map_err(|e| errors::internal(&e))?;
        Ok(tables
            .into_iter()
            .map(|(name, batch)| (name.to_string(), ArrowBatch::new(batch)))
            .collect())
    }

    /// One table by file name; None for an optional table without rows.
    fn table(&self, py: Python<'_>, name: &str) -> PyResult<Option<ArrowBatch>> {
        let known = format::TABLES.contains(&name) || format::OPTIONAL_TABLES.contains(&name);
        if !known {
            return Err(errors::invalid(&format!("unknown table '{name}'")));
        }
        let batch = py
            .detach(|| format::population_batch(&self.data, None, name))
            .map_err(|e| errors::internal(&e))?;
        Ok(batch.map(ArrowBatch::new))
    }

    #[getter]
    fn agents(&self) -> usize {
        self.data.population.agents
    }

    #[getter]
    fn steps(&self) -> usize {
        self.data.population.steps
    }

    /// metadata.json's content, as JSON text.
    fn metadata_json(&self) -> String {
        let mut meta = self.data.meta.clone();
        meta.run = Some(format::content_id(&self.data));
        serde_json::to_string(&meta).expect("metadata serialises")
    }

    /// A hash of everything the population holds but its creation time.
    fn content_id(&self) -> String {
        format::content_id(&self.data)
    }

    /// Jetstream archives as a population; the ingest report as JSON.
    #[staticmethod]
    #[allow(clippy::too_many_arguments)]
    fn ingest_jetstream(
        py: Python<'_>,
        files: Vec<PathBuf>,
        steps: usize,
        start_us: Option<i64>,
        step_seconds: u64,
        follows: Option<PathBuf>,
        stances: Option<PathBuf>,
        strict: bool,
        implied_exposures: bool,
        lexicon_file: Option<PathBuf>,
    ) -> PyResult<(Self, String)> {
        let options = jetstream::JetstreamOptions {
            steps,
            start_us,
            step_seconds,
            follow_snapshot: follows,
            stances,
            strict,
            lexicon: lexicon(lexicon_file)?,
            implied_exposures,
        };
        let (data, report) = detached(py, false, |_| jetstream::ingest(&files, &options))?
            .map_err(|e| errors::classify(&e, Kind::InvalidInput))?;
        let report = serde_json::to_string(&report).expect("the report serialises");
        Ok((Self::new(data), report))
    }

    /// An OASIS simulation database as a population; the report as JSON.
    #[staticmethod]
    fn ingest_oasis(
        py: Python<'_>,
        db: PathBuf,
        step_seconds: u64,
        lexicon_file: Option<PathBuf>,
    ) -> PyResult<(Self, String)> {
        if !db.exists() {
            return Err(errors::raise(
                Kind::NotFound,
                &format!("{}: no such file", db.display()),
            ));
        }
        let options = oasis::OasisOptions {
            step_seconds,
            lexicon: lexicon(lexicon_file)?,
        };
        let (data, report) = detached(py, false, |_| oasis::ingest(&db, &options))?
            .map_err(|e| errors::classify(&e, Kind::InvalidInput))?;
        let report = serde_json::to_string(&report).expect("the report serialises");
        Ok((Self::new(data), report))
    }

    /// The Twitter15/16 propagation trees of `dirs` as one population; the
    /// report as JSON.
    #[staticmethod]
    fn ingest_twitter_trees(
        py: Python<'_>,
        dirs: Vec<PathBuf>,
        step_minutes: f64,
        window_minutes: f64,
    ) -> PyResult<(Self, String)> {
        for dir in &dirs {
            if !dir.exists() {
                return Err(errors::raise(
                    Kind::NotFound,
                    &format!("{}: no such directory", dir.display()),
                ));
            }
        }
        let options = aumann_data::ingest::twitter_trees::TreeOptions {
            step_minutes,
            window_minutes,
        };
        let (data, report) = detached(py, false, |_| {
            aumann_data::ingest::twitter_trees::ingest(&dirs, &options)
        })?
        .map_err(|e| errors::classify(&e, Kind::InvalidInput))?;
        let report = serde_json::to_string(&report).expect("the report serialises");
        Ok((Self::new(data), report))
    }

    /// A copy with every stance estimated by `method`; the diagnostics as
    /// JSON.
    fn estimate_stance(
        &self,
        py: Python<'_>,
        method: &str,
        file: Option<PathBuf>,
        elites: usize,
        min_elites: usize,
        slope: f64,
    ) -> PyResult<(Self, String)> {
        let method: StanceMethod = method.parse().map_err(|e: String| errors::invalid(&e))?;
        let request = StanceRequest {
            method,
            file,
            ca: CaOptions {
                elites,
                min_elites,
                slope,
                ..CaOptions::default()
            },
        };
        let (data, diagnostics) = py
            .detach(|| {
                let mut data = (*self.data).clone();
                aumann_data::stance::apply(&mut data, &request).map(|d| (data, d))
            })
            .map_err(|e| errors::classify(&e, Kind::InvalidInput))?;
        let diagnostics = serde_json::to_string(&diagnostics).expect("diagnostics serialise");
        Ok((Self::new(data), diagnostics))
    }
}
