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

use crate::dataset::{Dataset, FORMAT_VERSION, Metadata, StanceDetail};
use crate::progress::Observer;
use crate::staged::{Manifest, OutputError, StagedDir};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt32Array};
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use aumann_models::{Activity, Engagement, Exposure, FollowSpan, Order, Population, Repost};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
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

/// The columns of a Parquet table, read whole and checked for type and nulls.
pub struct Table {
    path: PathBuf,
    batches: Vec<RecordBatch>,
    pub rows: usize,
}

/// A Parquet file opened for reading: its footer read, its rows not yet.
struct Opened {
    path: PathBuf,
    builder: ParquetRecordBatchReaderBuilder<File>,
}

impl Opened {
    fn open(path: &Path) -> Result<Self, FormatError> {
        let file = File::open(path).map_err(io(path))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| FormatError::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            builder,
        })
    }

    /// Rows the footer announces.
    fn rows(&self) -> u64 {
        self.builder.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Reads every batch, calling `on_rows(n)` after each batch of n rows.
    fn read(self, on_rows: &dyn Fn(u64)) -> Result<Table, FormatError> {
        let path = self.path;
        let reader = self.builder.build().map_err(|source| FormatError::Parquet {
            path: path.clone(),
            source,
        })?;
        let mut batches = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| FormatError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?;
            on_rows(batch.num_rows() as u64);
            batches.push(batch);
        }
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        Ok(Table { path, batches, rows })
    }
}

impl Table {
    pub fn read(path: &Path) -> Result<Self, FormatError> {
        Opened::open(path)?.read(&|_| {})
    }

    /// The column's arrays, one per batch, cast to `expected` when their
    /// type is one Arrow writers use for the same values (`accepts` says
    /// which): pandas writes strings as LargeUtf8, polars as Utf8View,
    /// either may dictionary-encode them, and ids and steps come as any
    /// integer width. A value that does not fit (a negative id, an id
    /// above u32::MAX) is an error naming its row.
    fn column(
        &self,
        name: &'static str,
        expected: DataType,
        accepts: fn(&DataType) -> bool,
        needs: &'static str,
    ) -> Result<Vec<ArrayRef>, FormatError> {
        self.column_with_nulls(name, expected, accepts, needs, false)
    }

    /// [`Table::column`], with nulls kept when `nullable`.
    fn column_with_nulls(
        &self,
        name: &'static str,
        expected: DataType,
        accepts: fn(&DataType) -> bool,
        needs: &'static str,
        nullable: bool,
    ) -> Result<Vec<ArrayRef>, FormatError> {
        let mut out: Vec<ArrayRef> = Vec::new();
        let mut offset = 0;
        for batch in &self.batches {
            let column = batch.column_by_name(name).ok_or_else(|| FormatError::MissingColumn {
                path: self.path.clone(),
                column: name,
                expected: needs,
            })?;
            let wrong_type = || FormatError::WrongType {
                path: self.path.clone(),
                column: name,
                found: column.data_type().clone(),
                expected: expected.clone(),
            };
            if column.null_count() > 0 && !nullable {
                let row = (0..column.len()).find(|&i| column.is_null(i)).unwrap_or(0) + offset;
                return Err(FormatError::Null {
                    path: self.path.clone(),
                    column: name,
                    row,
                });
            }
            let typed = if column.data_type() == &expected {
                column.clone()
            } else if accepts(column.data_type()) {
                let options = CastOptions {
                    safe: true,
                    ..CastOptions::default()
                };
                let cast = cast_with_options(column, &expected, &options).map_err(|_| wrong_type())?;
                // A safe cast turns values that do not fit into nulls.
                if let Some(row) = (0..cast.len()).find(|&i| cast.is_null(i) && !column.is_null(i)) {
                    return Err(FormatError::Invalid {
                        path: self.path.clone(),
                        message: format!(
                            "column '{name}' row {}: the value does not fit in {expected}",
                            row + offset
                        ),
                    });
                }
                cast
            } else {
                return Err(wrong_type());
            };
            offset += typed.len();
            out.push(typed);
        }
        Ok(out)
    }

    pub fn u32(&self, name: &'static str, needs: &'static str) -> Result<Vec<u32>, FormatError> {
        let parts = self.column(name, DataType::UInt32, DataType::is_integer, needs)?;
        Ok(parts
            .iter()
            .flat_map(|a| a.as_primitive::<UInt32Type>().values().iter().copied())
            .collect())
    }

    /// A nullable step or id column, or None when the table lacks it.
    ///
    /// Integers of any width are read, and so are floats that hold whole
    /// numbers: pandas turns a nullable integer column into float64 with
    /// NaN, and writes it back so.
    pub fn opt_u32(&self, name: &'static str) -> Result<Option<Vec<Option<u32>>>, FormatError> {
        if !self.has(name) {
            return Ok(None);
        }
        let parts = self.column_with_nulls(name, DataType::Float64, |t| t.is_floating() || t.is_integer(), "", true)?;
        let mut out = Vec::with_capacity(self.rows);
        for value in parts.iter().flat_map(|a| a.as_primitive::<Float64Type>().iter()) {
            out.push(match value {
                None => None,
                Some(v) if v.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&v) => Some(v as u32),
                Some(v) => {
                    return Err(FormatError::Invalid {
                        path: self.path.clone(),
                        message: format!(
                            "column '{name}' row {}: {v} is not a step or an id (a whole number from 0 to 4294967295, or null)",
                            out.len()
                        ),
                    });
                }
            });
        }
        Ok(Some(out))
    }

    pub fn f64(&self, name: &'static str, needs: &'static str) -> Result<Vec<f64>, FormatError> {
        let parts = self.column(name, DataType::Float64, |t| t.is_floating() || t.is_integer(), needs)?;
        Ok(parts
            .iter()
            .flat_map(|a| a.as_primitive::<Float64Type>().values().iter().copied())
            .collect())
    }

    pub fn strings(&self, name: &'static str, needs: &'static str) -> Result<Vec<String>, FormatError> {
        let parts = self.column(name, DataType::Utf8, is_string, needs)?;
        Ok(parts
            .iter()
            .flat_map(|a| a.as_string::<i32>().iter().map(|s| s.unwrap_or_default().to_string()))
            .collect())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the table has a column of that name.
    pub fn has(&self, name: &str) -> bool {
        self.batches
            .first()
            .is_some_and(|b| b.schema().column_with_name(name).is_some())
    }
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
    let staged = StagedDir::create(dir)?;
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

/// Refuses a table written by another run than metadata.json's: the
/// directory mixes files of two runs. A table without a run id (rewritten
/// by pandas or polars, say) is the user's edit and is accepted.
fn check_run(opened: &Opened, meta: &Metadata) -> Result<(), FormatError> {
    let found = opened.builder.schema().metadata().get(RUN_KEY);
    match (found, &meta.run) {
        (Some(found), Some(expected)) if found != expected => Err(FormatError::Mixed {
            path: opened.path.clone(),
            expected: expected.clone(),
            found: found.clone(),
        }),
        _ => Ok(()),
    }
}

/// Reads a population directory, checking every table against the metadata
/// (agent ids dense from 0, one agents row per agent, steps below T).
pub fn read(dir: &Path) -> Result<Dataset, FormatError> {
    read_observed(dir, &())
}

/// [`read`], telling `progress` the rows read against the rows the tables'
/// footers announce.
pub fn read_observed(dir: &Path, progress: &dyn Observer) -> Result<Dataset, FormatError> {
    let meta_path = dir.join(METADATA);
    if !meta_path.exists() {
        return Err(FormatError::NotAPopulation(dir.to_path_buf()));
    }
    let text = std::fs::read_to_string(&meta_path).map_err(io(&meta_path))?;
    let meta: Metadata = serde_json::from_str(&text).map_err(|source| FormatError::Metadata {
        path: meta_path.clone(),
        source,
    })?;
    if meta.format_version > FORMAT_VERSION {
        return Err(FormatError::Invalid {
            path: meta_path,
            message: format!(
                "format version {} is newer than this build understands ({FORMAT_VERSION}); upgrade aumann",
                meta.format_version
            ),
        });
    }
    aumann_models::population::check_size(meta.agents, meta.steps).map_err(|e| FormatError::Invalid {
        path: meta_path.clone(),
        message: e.to_string(),
    })?;
    let opened = TABLES.map(|name| Opened::open(&dir.join(name)));
    let mut tables = Vec::with_capacity(opened.len());
    for table in opened {
        let table = table?;
        check_run(&table, &meta)?;
        tables.push(table);
    }
    let mut optional = Vec::new();
    for name in OPTIONAL_TABLES {
        let path = dir.join(name);
        optional.push(if path.exists() {
            let table = Opened::open(&path)?;
            check_run(&table, &meta)?;
            Some(table)
        } else {
            None
        });
    }
    let total: u64 = tables.iter().chain(optional.iter().flatten()).map(Opened::rows).sum();
    progress.stage(&format!("reading {}", dir.display()), Some(total));
    let done = std::sync::atomic::AtomicU64::new(0);
    let on_rows = |n: u64| {
        let d = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        progress.advance(d, total, "rows");
    };
    let tables = tables
        .into_iter()
        .map(|t| t.read(&on_rows))
        .collect::<Result<Vec<_>, _>>()?;
    let optional = optional
        .into_iter()
        .map(|t| t.map(|t| t.read(&on_rows)).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let data = assemble(dir, meta, tables, optional);
    release_freed_memory();
    data
}

/// Hands the memory of the Arrow batches just read back to the system.
///
/// The Parquet reader decodes in batches of about a thousand rows, each a
/// small allocation; once they are turned into the population's columns
/// and dropped, glibc keeps their pages (about 1 GB at 1,671,587 agents,
/// between the strings of the ids that were allocated among them) until it
/// is asked to trim. On other platforms nothing is done.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free pages of glibc's heaps; it
    // touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A population from tables in memory (Arrow record batches, as pandas
/// hands them over through pyarrow), checked exactly as a directory's
/// files are: `tables` names each by its file name ("agents.parquet", ...);
/// the five of [`TABLES`] are needed, those of [`OPTIONAL_TABLES`] may be
/// given. Errors name the table by its name without the extension.
pub fn from_batches(meta: Metadata, tables: Vec<(String, Vec<RecordBatch>)>) -> Result<Dataset, FormatError> {
    let label = PathBuf::from("the tables given");
    aumann_models::population::check_size(meta.agents, meta.steps).map_err(|e| FormatError::Invalid {
        path: label.clone(),
        message: e.to_string(),
    })?;
    let mut given: Vec<(String, Vec<RecordBatch>)> = tables;
    if let Some((name, _)) = given
        .iter()
        .find(|(name, _)| !TABLES.contains(&name.as_str()) && !OPTIONAL_TABLES.contains(&name.as_str()))
    {
        return Err(FormatError::Invalid {
            path: label,
            message: format!(
                "unknown table '{name}': a population has {} and optionally {}",
                TABLES.join(", "),
                OPTIONAL_TABLES.join(", ")
            ),
        });
    }
    let mut take = |name: &str| {
        let at = given.iter().position(|(n, _)| n == name)?;
        let (_, batches) = given.swap_remove(at);
        let rows = batches.iter().map(RecordBatch::num_rows).sum();
        Some(Table {
            path: PathBuf::from(name.trim_end_matches(".parquet")),
            batches,
            rows,
        })
    };
    let mut required = Vec::new();
    for name in TABLES {
        required.push(take(name).ok_or_else(|| FormatError::Invalid {
            path: label.clone(),
            message: format!("the {} table is missing", name.trim_end_matches(".parquet")),
        })?);
    }
    let optional = OPTIONAL_TABLES.iter().map(|name| take(name)).collect();
    assemble(&label, meta, required, optional)
}

/// Checks the tables against the metadata and each other and builds the
/// dataset: what a population directory and tables in memory share.
fn assemble(
    dir: &Path,
    meta: Metadata,
    tables: Vec<Table>,
    optional: Vec<Option<Table>>,
) -> Result<Dataset, FormatError> {
    let mut tables = tables.into_iter();
    let mut next = || {
        tables
            .next()
            .ok_or_else(|| FormatError::NotAPopulation(dir.to_path_buf()))
    };
    let agents = next()?;
    let ids = agents.u32("agent", "agent, external_id, followers, stance")?;
    if ids.len() != meta.agents || ids.iter().enumerate().any(|(i, &a)| a as usize != i) {
        return Err(FormatError::Invalid {
            path: agents.path().to_path_buf(),
            message: format!(
                "expected agents 0..{} in order, one row each (metadata says N = {}); found {} rows",
                meta.agents,
                meta.agents,
                ids.len()
            ),
        });
    }
    let external_ids = agents.strings("external_id", "agent, external_id, followers, stance")?;
    let followers = agents.f64("followers", "agent, external_id, followers, stance")?;
    let stance = agents.f64("stance", "agent, external_id, followers, stance")?;
    let stance_detail = if agents.has("stance_source") {
        let needs = "stance_source and stance_confidence together";
        Some(StanceDetail {
            source: agents.strings("stance_source", needs)?,
            confidence: agents.f64("stance_confidence", needs)?,
        })
    } else {
        None
    };

    let follows_table = next()?;
    let follower = follows_table.u32("follower", "follower, followee")?;
    let followee = follows_table.u32("followee", "follower, followee")?;
    let follow_spans = match (follows_table.opt_u32("step")?, follows_table.opt_u32("end_step")?) {
        (None, None) => Vec::new(),
        (begin, end) => {
            let rows = follower.len();
            let begin = begin.unwrap_or_else(|| vec![None; rows]);
            let end = end.unwrap_or_else(|| vec![None; rows]);
            begin
                .into_iter()
                .zip(end)
                .map(|(begin, end)| FollowSpan { begin, end })
                .collect()
        }
    };

    let t = next()?;
    let needs = "agent, step, amount";
    let activity = zip3(t.u32("agent", needs)?, t.u32("step", needs)?, t.f64("amount", needs)?)
        .map(|(agent, step, amount)| Activity { agent, step, amount })
        .collect();
    let t = next()?;
    let needs = "engager, author, step, amount";
    let engagers = t.u32("engager", needs)?;
    let engagements = zip3(t.u32("author", needs)?, t.u32("step", needs)?, t.f64("amount", needs)?)
        .zip(engagers)
        .map(|((author, step, amount), engager)| Engagement {
            engager,
            author,
            step,
            amount,
        })
        .collect();
    let t = next()?;
    let needs = "agent, step, flow";
    let orders = zip3(t.u32("agent", needs)?, t.u32("step", needs)?, t.f64("flow", needs)?)
        .map(|(agent, step, flow)| Order { agent, step, flow })
        .collect();
    let [exposures_table, reposts_table] = optional.try_into().ok().expect("two optional tables");
    let exposures = match exposures_table {
        None => Vec::new(),
        Some(t) => {
            let needs = "reader, author, step, amount (and optionally posted)";
            let readers = t.u32("reader", needs)?;
            let posted = t.opt_u32("posted")?.unwrap_or_else(|| vec![None; readers.len()]);
            zip3(t.u32("author", needs)?, t.u32("step", needs)?, t.f64("amount", needs)?)
                .zip(readers)
                .zip(posted)
                .map(|(((author, step, amount), reader), posted)| Exposure {
                    reader,
                    author,
                    step,
                    posted,
                    amount,
                })
                .collect()
        }
    };
    let reposts = match reposts_table {
        None => Vec::new(),
        Some(t) => {
            let needs = "reposter, step, parent_author, parent_step, amount";
            let reposters = t.u32("reposter", needs)?;
            let steps = t.u32("step", needs)?;
            zip3(
                t.u32("parent_author", needs)?,
                t.u32("parent_step", needs)?,
                t.f64("amount", needs)?,
            )
            .zip(reposters.into_iter().zip(steps))
            .map(|((parent_author, parent_step, amount), (reposter, step))| Repost {
                reposter,
                step,
                parent_author,
                parent_step,
                amount,
            })
            .collect()
        }
    };
    let population = Population {
        agents: meta.agents,
        steps: meta.steps,
        stance,
        followers,
        follows: follower.into_iter().zip(followee).collect(),
        follow_spans,
        activity,
        engagements,
        orders,
        exposures,
        reposts,
    };
    population.validate().map_err(|e| FormatError::Invalid {
        path: dir.to_path_buf(),
        message: e.to_string(),
    })?;
    let groups = if agents.has("group") {
        Some(agents.strings("group", "agent, external_id, followers, stance (and group)")?)
    } else {
        None
    };
    Ok(Dataset {
        population,
        external_ids,
        meta,
        stance_detail,
        lexicon_hits: None,
        groups,
    })
}

/// String types that Arrow writers use: Utf8, LargeUtf8, Utf8View, and
/// dictionaries of them.
fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, values) => is_string(values),
        _ => false,
    }
}

fn zip3<A, B, C>(a: Vec<A>, b: Vec<B>, c: Vec<C>) -> impl Iterator<Item = (A, B, C)> {
    a.into_iter().zip(b).zip(c).map(|((a, b), c)| (a, b, c))
}
