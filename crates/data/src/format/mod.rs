//! The population format: one directory of Parquet tables and a JSON
//! metadata file, which pandas, polars and DuckDB read directly.
//!
//! ```text
//! DIR/metadata.json       N, T, step length, source, seed, creation time, parameters
//! DIR/agents.parquet      agent: u32, external_id: string, followers: f64, stance: f64,
//!                         [stance_source, stance_confidence], [group: string]
//! DIR/follows.parquet     follower: u32, followee: u32      (follower reads followee)
//!                         [step: u32?, end_step: u32?]     (when it held; null: all along)
//! DIR/activity.parquet    agent: u32, step: u32, amount: f64
//! DIR/engagements.parquet engager: u32, author: u32, step: u32, amount: f64
//! DIR/orders.parquet      agent: u32, step: u32, flow: f64
//! DIR/exposures.parquet   reader: u32, author: u32, step: u32, amount: f64, [posted: u32?]   optional
//! DIR/reposts.parquet     reposter: u32, step: u32, parent_author: u32, parent_step: u32,
//!                         amount: f64                                                        optional
//! ```
//!
//! Files are written with zstd compression; any compression pandas or
//! polars use (snappy, zstd, lz4, gzip) reads back.

mod read;
mod table;

pub use read::{from_batches, read, read_observed};
pub use table::Table;

use crate::dataset::Dataset;
use crate::staged::{Manifest, OutputError, StagedDir};
use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use twox_hash::XxHash64;

/// What went wrong reading or writing a population directory.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a readable Parquet file: {source}")]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: could not write the Parquet file: {source}; nothing of this run was kept")]
    ParquetWrite {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{path}: column '{column}' is missing; the table needs {expected}")]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        expected: &'static str,
    },
    #[error("{path}: column '{column}' has type {found}, expected {expected}")]
    WrongType {
        path: PathBuf,
        column: &'static str,
        found: DataType,
        expected: DataType,
    },
    #[error("{path}: column '{column}' has a null at row {row}; nulls are not allowed")]
    Null {
        path: PathBuf,
        column: &'static str,
        row: usize,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: metadata is not valid: {source}")]
    Metadata { path: PathBuf, source: serde_json::Error },
    #[error("{0}: not a population directory (no metadata.json); create one with `aumann synth` or `aumann ingest`")]
    NotAPopulation(PathBuf),
    #[error(
        "{path} was written by run {found}, but metadata.json by run {expected}: the directory mixes files of two runs; write the population again"
    )]
    Mixed {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error(
        "{path}: the tables' content hashes to {found}, not to the content id {claimed} that they and metadata.json carry: a file was damaged, or changed by a program that kept its id; write the population again (or rewrite the changed table with pandas, which drops the id, to read it as your edit)"
    )]
    Damaged {
        path: PathBuf,
        claimed: String,
        found: String,
    },
    #[error(transparent)]
    Output(#[from] OutputError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FormatError + '_ {
    move |source| FormatError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A column to write: a name and its values.
pub enum Column<'a> {
    U32(&'static str, Vec<u32>),
    F64(&'static str, Vec<f64>),
    /// Nullable: None is written as null.
    OptF64(&'static str, Vec<Option<f64>>),
    OptU32(&'static str, Vec<Option<u32>>),
    Str(&'static str, &'a [String]),
    Strs(&'static str, Vec<&'a str>),
}

/// Writes one Parquet table, zstd-compressed, in row groups of 1M rows.
pub fn write_table(path: &Path, columns: Vec<Column<'_>>) -> Result<(), FormatError> {
    write_tagged(path, columns, None)
}

/// The Parquet key under which a population's tables carry their run's id.
pub const RUN_KEY: &str = "aumann.run";

/// The columns as one Arrow record batch, with the run id in the schema's
/// metadata when given: what a table file holds, for callers that hand
/// tables over in memory (the Python package) rather than as files.
pub fn record_batch(columns: Vec<Column<'_>>, run: Option<&str>) -> Result<RecordBatch, ArrowError> {
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for column in columns {
        match column {
            Column::U32(name, v) => {
                fields.push(Field::new(name, DataType::UInt32, false));
                arrays.push(Arc::new(UInt32Array::from(v)));
            }
            Column::F64(name, v) => {
                fields.push(Field::new(name, DataType::Float64, false));
                arrays.push(Arc::new(Float64Array::from(v)));
            }
            Column::OptF64(name, v) => {
                fields.push(Field::new(name, DataType::Float64, true));
                arrays.push(Arc::new(Float64Array::from(v)));
            }
            Column::OptU32(name, v) => {
                fields.push(Field::new(name, DataType::UInt32, true));
                arrays.push(Arc::new(UInt32Array::from(v)));
            }
            Column::Str(name, v) => {
                fields.push(Field::new(name, DataType::Utf8, false));
                arrays.push(Arc::new(StringArray::from_iter_values(v.iter())));
            }
            Column::Strs(name, v) => {
                fields.push(Field::new(name, DataType::Utf8, false));
                arrays.push(Arc::new(StringArray::from_iter_values(v)));
            }
        }
    }
    let mut schema = Schema::new(fields);
    if let Some(run) = run {
        schema = schema.with_metadata(std::collections::HashMap::from([(
            RUN_KEY.to_string(),
            run.to_string(),
        )]));
    }
    RecordBatch::try_new(Arc::new(schema), arrays)
}

/// [`write_table`], with the run id in the file's key-value metadata.
fn write_tagged(path: &Path, columns: Vec<Column<'_>>, run: Option<&str>) -> Result<(), FormatError> {
    let batch = record_batch(columns, run).map_err(|e| FormatError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    write_batch(path, &batch)
}

/// Writes one record batch as a Parquet table, zstd-compressed, in row
/// groups of 1M rows.
pub fn write_batch(path: &Path, batch: &RecordBatch) -> Result<(), FormatError> {
    let schema = batch.schema();
    let file = File::create(path).map_err(io(path))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).expect("level")))
        .set_max_row_group_row_count(Some(1 << 20))
        .build();
    let parquet = |source| FormatError::ParquetWrite {
        path: path.to_path_buf(),
        source,
    };
    let mut writer = ArrowWriter::try_new(file, schema, Some(props)).map_err(parquet)?;
    writer.write(batch).map_err(parquet)?;
    writer.close().map_err(parquet)?;
    Ok(())
}

pub const AGENTS: &str = "agents.parquet";
pub const FOLLOWS: &str = "follows.parquet";
pub const ACTIVITY: &str = "activity.parquet";
pub const ENGAGEMENTS: &str = "engagements.parquet";
pub const ORDERS: &str = "orders.parquet";
pub const EXPOSURES: &str = "exposures.parquet";
pub const REPOSTS: &str = "reposts.parquet";
pub const METADATA: &str = "metadata.json";

/// Writes a dataset as a population directory, whole or not at all (see
/// [`crate::staged`]): a directory that already holds a population is
/// replaced, never mixed with the new one.
pub fn write(dir: &Path, data: &Dataset) -> Result<(), FormatError> {
    let staged = StagedDir::create(dir, &POPULATION_FILES, &[])?;
    write_into(staged.dir(), data)?;
    staged.commit(Some(Manifest::new("a dataset in memory", &fingerprint(data))))?;
    Ok(())
}

/// A short fingerprint of a dataset's input: the run that wrote the
/// population it was read from, or (for a population generated or ingested
/// in this run) its source and the source's settings.
pub fn fingerprint(data: &Dataset) -> String {
    let text = match &data.meta.run {
        Some(run) => format!("run {run}"),
        None => format!(
            "{} {:?} {}",
            data.meta.source,
            data.meta.seed,
            serde_json::to_string(&data.meta.parameters).unwrap_or_default()
        ),
    };
    format!("{:016x}", XxHash64::oneshot(0, text.as_bytes()))
}

/// Writes the tables, each tagged with the population's content id, then
/// metadata.json with the same id, into an existing directory (a
/// [`StagedDir`]'s).
pub fn write_into(dir: &Path, data: &Dataset) -> Result<(), FormatError> {
    let run = content_id(data);
    let tables = population_batches(data, &run).map_err(|e| FormatError::Invalid {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    for (name, batch) in &tables {
        write_batch(&dir.join(name), batch)?;
    }
    let mut meta = data.meta.clone();
    meta.run = Some(run.clone());
    let meta_path = dir.join(METADATA);
    let json = serde_json::to_string_pretty(&meta).expect("metadata serialises");
    std::fs::write(&meta_path, json + "\n").map_err(io(&meta_path))?;
    Ok(())
}

/// The population's tables as record batches, named by their file names
/// (the optional tables only when they have rows), each tagged with `run`.
pub fn population_batches(data: &Dataset, run: &str) -> Result<Vec<(&'static str, RecordBatch)>, ArrowError> {
    let mut tables = Vec::new();
    for name in TABLES.into_iter().chain(OPTIONAL_TABLES) {
        if let Some(batch) = population_batch(data, Some(run), name)? {
            tables.push((name, batch));
        }
    }
    Ok(tables)
}

/// One table of the population by its file name (`AGENTS`, ...), tagged
/// with `run` when given; None for an optional table without rows or an
/// unknown name.
pub fn population_batch(data: &Dataset, run: Option<&str>, name: &str) -> Result<Option<RecordBatch>, ArrowError> {
    let p = &data.population;
    let columns = match name {
        AGENTS => {
            let mut agents = vec![
                Column::U32("agent", (0..p.agents as u32).collect()),
                Column::Str("external_id", &data.external_ids),
                Column::F64("followers", p.followers.clone()),
                Column::F64("stance", p.stance.clone()),
            ];
            if let Some(detail) = &data.stance_detail {
                agents.push(Column::Str("stance_source", &detail.source));
                agents.push(Column::F64("stance_confidence", detail.confidence.clone()));
            }
            if let Some(groups) = &data.groups {
                agents.push(Column::Str("group", groups));
            }
            agents
        }
        FOLLOWS => {
            let mut follows = vec![
                Column::U32("follower", p.follows.iter().map(|f| f.0).collect()),
                Column::U32("followee", p.follows.iter().map(|f| f.1).collect()),
            ];
            if !p.follow_spans.is_empty() {
                follows.push(Column::OptU32("step", p.follow_spans.iter().map(|s| s.begin).collect()));
                follows.push(Column::OptU32(
                    "end_step",
                    p.follow_spans.iter().map(|s| s.end).collect(),
                ));
            }
            follows
        }
        ACTIVITY => vec![
            Column::U32("agent", p.activity.iter().map(|a| a.agent).collect()),
            Column::U32("step", p.activity.iter().map(|a| a.step).collect()),
            Column::F64("amount", p.activity.iter().map(|a| a.amount).collect()),
        ],
        ENGAGEMENTS => vec![
            Column::U32("engager", p.engagements.iter().map(|e| e.engager).collect()),
            Column::U32("author", p.engagements.iter().map(|e| e.author).collect()),
            Column::U32("step", p.engagements.iter().map(|e| e.step).collect()),
            Column::F64("amount", p.engagements.iter().map(|e| e.amount).collect()),
        ],
        ORDERS => vec![
            Column::U32("agent", p.orders.iter().map(|o| o.agent).collect()),
            Column::U32("step", p.orders.iter().map(|o| o.step).collect()),
            Column::F64("flow", p.orders.iter().map(|o| o.flow).collect()),
        ],
        EXPOSURES if !p.exposures.is_empty() => vec![
            Column::U32("reader", p.exposures.iter().map(|e| e.reader).collect()),
            Column::U32("author", p.exposures.iter().map(|e| e.author).collect()),
            Column::U32("step", p.exposures.iter().map(|e| e.step).collect()),
            Column::F64("amount", p.exposures.iter().map(|e| e.amount).collect()),
            Column::OptU32("posted", p.exposures.iter().map(|e| e.posted).collect()),
        ],
        REPOSTS if !p.reposts.is_empty() => vec![
            Column::U32("reposter", p.reposts.iter().map(|r| r.reposter).collect()),
            Column::U32("step", p.reposts.iter().map(|r| r.step).collect()),
            Column::U32("parent_author", p.reposts.iter().map(|r| r.parent_author).collect()),
            Column::U32("parent_step", p.reposts.iter().map(|r| r.parent_step).collect()),
            Column::F64("amount", p.reposts.iter().map(|r| r.amount).collect()),
        ],
        _ => return Ok(None),
    };
    record_batch(columns, run).map(Some)
}

/// A hash of everything a population directory holds but its creation
/// time: the same population written twice gets the same id (and the same
/// bytes), two different ones almost surely different ids.
pub fn content_id(data: &Dataset) -> String {
    use std::hash::Hasher;
    let p = &data.population;
    let mut h = XxHash64::with_seed(0);
    // Fixed-width values go in as they are; each table and string is
    // preceded by its length, so that no two layouts hash alike.
    h.write_u64(p.agents as u64);
    h.write_u64(p.steps as u64);
    for column in [&p.stance, &p.followers] {
        h.write_u64(column.len() as u64);
        column.iter().for_each(|x| h.write_u64(x.to_bits()));
    }
    h.write_u64(p.follows.len() as u64);
    for &(j, i) in &p.follows {
        h.write_u32(j);
        h.write_u32(i);
    }
    h.write_u64(p.activity.len() as u64);
    for a in &p.activity {
        h.write_u32(a.agent);
        h.write_u32(a.step);
        h.write_u64(a.amount.to_bits());
    }
    h.write_u64(p.engagements.len() as u64);
    for e in &p.engagements {
        h.write_u32(e.engager);
        h.write_u32(e.author);
        h.write_u32(e.step);
        h.write_u64(e.amount.to_bits());
    }
    h.write_u64(p.orders.len() as u64);
    for o in &p.orders {
        h.write_u32(o.agent);
        h.write_u32(o.step);
        h.write_u64(o.flow.to_bits());
    }
    // The newer tables enter only when present, so that a population
    // without them keeps the id it had before they existed.
    let step = |s: Option<u32>| s.map_or(u64::MAX, u64::from);
    if !p.follow_spans.is_empty() {
        h.write_u64(p.follow_spans.len() as u64);
        for s in &p.follow_spans {
            h.write_u64(step(s.begin));
            h.write_u64(step(s.end));
        }
    }
    if !p.exposures.is_empty() {
        h.write_u64(p.exposures.len() as u64);
        for e in &p.exposures {
            h.write_u32(e.reader);
            h.write_u32(e.author);
            h.write_u32(e.step);
            h.write_u64(step(e.posted));
            h.write_u64(e.amount.to_bits());
        }
    }
    if !p.reposts.is_empty() {
        h.write_u64(p.reposts.len() as u64);
        for r in &p.reposts {
            h.write_u32(r.reposter);
            h.write_u32(r.step);
            h.write_u32(r.parent_author);
            h.write_u32(r.parent_step);
            h.write_u64(r.amount.to_bits());
        }
    }
    let mut text = |t: &str| {
        h.write_u64(t.len() as u64);
        h.write(t.as_bytes());
    };
    data.external_ids.iter().for_each(|id| text(id));
    if let Some(detail) = &data.stance_detail {
        detail.source.iter().for_each(|s| text(s));
    }
    // Groups enter only when present, as the newer tables do.
    if let Some(groups) = &data.groups {
        text("group");
        groups.iter().for_each(|g| text(g));
    }
    text(&data.meta.source);
    text(&serde_json::to_string(&data.meta.parameters).unwrap_or_default());
    if let Some(detail) = &data.stance_detail {
        detail.confidence.iter().for_each(|c| h.write_u64(c.to_bits()));
    }
    format!("{:016x}", h.finish())
}

/// The tables every population directory has, in reading order.
pub const TABLES: [&str; 5] = [AGENTS, FOLLOWS, ACTIVITY, ENGAGEMENTS, ORDERS];
/// The tables a population directory may have.
pub const OPTIONAL_TABLES: [&str; 2] = [EXPOSURES, REPOSTS];
/// Every file a population directory may hold, as [`StagedDir::create`]
/// takes them.
pub const POPULATION_FILES: [&str; 8] = [
    AGENTS,
    FOLLOWS,
    ACTIVITY,
    ENGAGEMENTS,
    ORDERS,
    EXPOSURES,
    REPOSTS,
    METADATA,
];
