//! One Parquet table of a population, read in parallel row groups and
//! checked batch by batch: what [`super::read`] builds the population from,
//! and [`Table`] for reading back what a run wrote.

use super::{FormatError, io};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type};
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray};
use arrow_buffer::ScalarBuffer;
use arrow_cast::{CastOptions, cast_with_options};
use arrow_schema::{DataType, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use rayon::prelude::*;
use std::fs::File;
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};

/// Rows per decoded batch: large enough that the decoder's and the checks'
/// work per batch is small, small enough that a batch's buffers (at most a
/// few MB) come back from the allocator's free lists rather than as fresh
/// pages.
const BATCH_ROWS: usize = 64 * 1024;

/// One table of a population, its rows not read yet: a Parquet file whose
/// footer has been read, or record batches handed over in memory.
pub(super) struct TableRows {
    pub(super) path: PathBuf,
    pub(super) source: Source,
}

pub(super) enum Source {
    File(ArrowReaderMetadata),
    Memory(Vec<RecordBatch>),
}

impl TableRows {
    pub(super) fn open(path: &Path) -> Result<Self, FormatError> {
        let file = File::open(path).map_err(io(path))?;
        let footer =
            ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(|source| FormatError::Parquet {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            source: Source::File(footer),
        })
    }

    /// The schema, or None for a table given as no batches at all.
    pub(super) fn schema(&self) -> Option<SchemaRef> {
        match &self.source {
            Source::File(footer) => Some(footer.schema().clone()),
            Source::Memory(batches) => batches.first().map(RecordBatch::schema),
        }
    }

    pub(super) fn has(&self, column: &str) -> bool {
        self.schema().is_some_and(|s| s.column_with_name(column).is_some())
    }

    /// Rows per part, a part being what one reader decodes alone: a row
    /// group of a file, a batch in memory.
    fn parts(&self) -> Vec<usize> {
        match &self.source {
            Source::File(footer) => (footer.metadata().row_groups().iter())
                .map(|g| g.num_rows().max(0) as usize)
                .collect(),
            Source::Memory(batches) => batches.iter().map(RecordBatch::num_rows).collect(),
        }
    }

    /// Rows the footer announces (or the batches hold); a damaged footer's
    /// absurd counts saturate rather than wrap, and then fail to reserve.
    pub(super) fn rows(&self) -> usize {
        total(&self.parts())
    }

    /// Refuses a table without every one of `columns`, before any is read.
    pub(super) fn require(&self, columns: &[&'static str], needs: &'static str) -> Result<(), FormatError> {
        if self.schema().is_none() {
            return Ok(());
        }
        match columns.iter().find(|c| !self.has(c)) {
            Some(&column) => Err(FormatError::MissingColumn {
                path: self.path.clone(),
                column,
                expected: needs,
            }),
            None => Ok(()),
        }
    }

    /// Calls `each` on every batch of part `part`, decoding only `columns`
    /// of a file.
    fn each_batch(
        &self,
        part: usize,
        columns: &[&'static str],
        each: &mut dyn FnMut(&RecordBatch) -> Result<(), FormatError>,
    ) -> Result<(), FormatError> {
        match &self.source {
            Source::Memory(batches) => each(&batches[part]),
            Source::File(footer) => {
                // A handle of its own: handles cloned from one file share its
                // offset, and the readers of the parts run at once.
                let file = File::open(&self.path).map_err(io(&self.path))?;
                let roots = columns.iter().filter_map(|c| footer.schema().index_of(c).ok());
                let mask = ProjectionMask::roots(footer.metadata().file_metadata().schema_descr(), roots);
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, footer.clone())
                    .with_row_groups(vec![part])
                    .with_projection(mask)
                    .with_batch_size(BATCH_ROWS)
                    .build()
                    .map_err(|source| FormatError::Parquet {
                        path: self.path.clone(),
                        source,
                    })?;
                for batch in reader {
                    let batch = batch.map_err(|e| FormatError::Invalid {
                        path: self.path.clone(),
                        message: e.to_string(),
                    })?;
                    each(&batch)?;
                }
                Ok(())
            }
        }
    }

    /// The table's rows as one array: `convert` turns each batch (only
    /// `columns` decoded) into exactly one value per row, and the values go
    /// straight to their place in the array. Parts are read in parallel;
    /// `on_rows(n)` follows each batch of n rows. The array is reserved
    /// from the footer's row count before any row is read, and a footer
    /// too large to reserve is an error, not an abort.
    pub(super) fn collect<T: Send>(
        &self,
        columns: &[&'static str],
        on_rows: &(dyn Fn(u64) + Sync),
        convert: impl Fn(&Batch<'_>, &mut Vec<T>) -> Result<(), FormatError> + Sync,
    ) -> Result<Vec<T>, FormatError> {
        let parts = self.parts();
        let rows = total(&parts);
        let mut out: Vec<T> = Vec::new();
        out.try_reserve_exact(rows).map_err(|_| FormatError::Invalid {
            path: self.path.clone(),
            message: format!(
                "the footer announces {rows} rows, {:.1} GB in memory, which this machine cannot reserve",
                rows as f64 * std::mem::size_of::<T>() as f64 / 1e9
            ),
        })?;
        let mut slices: Vec<&mut [MaybeUninit<T>]> = Vec::with_capacity(parts.len());
        let mut rest = &mut out.spare_capacity_mut()[..rows];
        for &n in &parts {
            let (part, tail) = rest.split_at_mut(n);
            slices.push(part);
            rest = tail;
        }
        let firsts = parts.iter().scan(0, |first, &n| {
            let this = *first;
            *first += n;
            Some(this)
        });
        let firsts: Vec<usize> = firsts.collect();
        let outcomes: Vec<Result<(), FormatError>> = slices
            .into_par_iter()
            .zip(firsts)
            .enumerate()
            .map(|(part, (slots, first))| {
                let mut written = 0;
                let mut values = Vec::new();
                self.each_batch(part, columns, &mut |batch| {
                    let n = batch.num_rows();
                    if written + n > slots.len() {
                        return Err(self.miscounted(part, slots.len()));
                    }
                    values.clear();
                    let view = Batch {
                        path: &self.path,
                        batch,
                        first_row: first + written,
                    };
                    convert(&view, &mut values)?;
                    assert_eq!(values.len(), n, "one value per row");
                    for (slot, value) in slots[written..written + n].iter_mut().zip(values.drain(..)) {
                        slot.write(value);
                    }
                    written += n;
                    on_rows(n as u64);
                    Ok(())
                })?;
                if written != slots.len() {
                    return Err(self.miscounted(part, slots.len()));
                }
                Ok(())
            })
            .collect();
        // The first error in row order, whatever the thread count. Values
        // already written by other parts are leaked, not dropped: `out`
        // never claims them.
        outcomes.into_iter().collect::<Result<(), FormatError>>()?;
        // SAFETY: the slices partition the first `rows` slots of `out`'s
        // capacity, and every part has written each slot of its slice once
        // (`written == slots.len()` was checked for every part, and writes
        // never go past a slice's end).
        unsafe { out.set_len(rows) };
        Ok(out)
    }

    fn miscounted(&self, part: usize, announced: usize) -> FormatError {
        FormatError::Invalid {
            path: self.path.clone(),
            message: format!(
                "row group {part} does not hold the {announced} rows its footer announces; the file is damaged: write it again"
            ),
        }
    }
}

fn total(parts: &[usize]) -> usize {
    parts.iter().fold(0, |sum, &n| sum.saturating_add(n))
}

/// One decoded batch of a table, and where its rows start in the table.
pub(super) struct Batch<'a> {
    path: &'a Path,
    pub(super) batch: &'a RecordBatch,
    pub(super) first_row: usize,
}

impl Batch<'_> {
    /// The column, cast to `expected` when its type is one Arrow writers use
    /// for the same values (`accepts` says which): pandas writes strings as
    /// LargeUtf8, polars as Utf8View, either may dictionary-encode them, and
    /// ids and steps come as any integer width. A value that does not fit
    /// (a negative id, an id above u32::MAX) is an error naming its row.
    fn column(
        &self,
        name: &'static str,
        expected: DataType,
        accepts: fn(&DataType) -> bool,
        needs: &'static str,
        nullable: bool,
    ) -> Result<ArrayRef, FormatError> {
        let column = self
            .batch
            .column_by_name(name)
            .ok_or_else(|| FormatError::MissingColumn {
                path: self.path.to_path_buf(),
                column: name,
                expected: needs,
            })?;
        let wrong_type = || FormatError::WrongType {
            path: self.path.to_path_buf(),
            column: name,
            found: column.data_type().clone(),
            expected: expected.clone(),
        };
        if column.null_count() > 0 && !nullable {
            let row = (0..column.len()).find(|&i| column.is_null(i)).unwrap_or(0) + self.first_row;
            return Err(FormatError::Null {
                path: self.path.to_path_buf(),
                column: name,
                row,
            });
        }
        if column.data_type() == &expected {
            return Ok(column.clone());
        }
        if !accepts(column.data_type()) {
            return Err(wrong_type());
        }
        let options = CastOptions {
            safe: true,
            ..CastOptions::default()
        };
        let cast = cast_with_options(column, &expected, &options).map_err(|_| wrong_type())?;
        // A safe cast turns values that do not fit into nulls.
        if let Some(row) = (0..cast.len()).find(|&i| cast.is_null(i) && !column.is_null(i)) {
            return Err(FormatError::Invalid {
                path: self.path.to_path_buf(),
                message: format!(
                    "column '{name}' row {}: the value does not fit in {expected}",
                    row + self.first_row
                ),
            });
        }
        Ok(cast)
    }

    /// A column of ids or steps, without nulls.
    pub(super) fn u32(&self, name: &'static str, needs: &'static str) -> Result<ScalarBuffer<u32>, FormatError> {
        let column = self.column(name, DataType::UInt32, DataType::is_integer, needs, false)?;
        Ok(column.as_primitive::<UInt32Type>().values().clone())
    }

    /// A column of numbers, without nulls.
    pub(super) fn f64(&self, name: &'static str, needs: &'static str) -> Result<ScalarBuffer<f64>, FormatError> {
        let numeric = |t: &DataType| t.is_floating() || t.is_integer();
        let column = self.column(name, DataType::Float64, numeric, needs, false)?;
        Ok(column.as_primitive::<Float64Type>().values().clone())
    }

    pub(super) fn strings(&self, name: &'static str, needs: &'static str) -> Result<StringArray, FormatError> {
        let column = self.column(name, DataType::Utf8, is_string, needs, false)?;
        Ok(column.as_string::<i32>().clone())
    }

    /// A nullable step or id column, or None when the table lacks it.
    ///
    /// Integers of any width are read, and so are floats that hold whole
    /// numbers: pandas turns a nullable integer column into float64 with
    /// NaN, and writes it back so.
    pub(super) fn optional_u32(&self, name: &'static str) -> Result<Option<Vec<Option<u32>>>, FormatError> {
        if self.batch.column_by_name(name).is_none() {
            return Ok(None);
        }
        let numeric = |t: &DataType| t.is_floating() || t.is_integer();
        let column = self.column(name, DataType::Float64, numeric, "", true)?;
        let mut out = Vec::with_capacity(column.len());
        for value in column.as_primitive::<Float64Type>().iter() {
            out.push(match value {
                None => None,
                Some(v) if v.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&v) => Some(v as u32),
                Some(v) => {
                    return Err(FormatError::Invalid {
                        path: self.path.to_path_buf(),
                        message: format!(
                            "column '{name}' row {}: {v} is not a step or an id (a whole number from 0 to 4294967295, or null)",
                            out.len() + self.first_row
                        ),
                    });
                }
            });
        }
        Ok(Some(out))
    }
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

/// One Parquet table, read column by column: for checking what a run wrote
/// (tests, scripts), not for populations (see [`read`]).
pub struct Table {
    rows: TableRows,
}

impl Table {
    pub fn read(path: &Path) -> Result<Self, FormatError> {
        Ok(Self {
            rows: TableRows::open(path)?,
        })
    }

    /// Rows the table holds.
    pub fn rows(&self) -> usize {
        self.rows.rows()
    }

    pub fn has(&self, name: &str) -> bool {
        self.rows.has(name)
    }

    pub fn path(&self) -> &Path {
        &self.rows.path
    }

    pub fn u32(&self, name: &'static str, needs: &'static str) -> Result<Vec<u32>, FormatError> {
        self.rows.require(&[name], needs)?;
        self.rows.collect(&[name], &|_| {}, |b, out| {
            out.extend_from_slice(&b.u32(name, needs)?);
            Ok(())
        })
    }

    pub fn f64(&self, name: &'static str, needs: &'static str) -> Result<Vec<f64>, FormatError> {
        self.rows.require(&[name], needs)?;
        self.rows.collect(&[name], &|_| {}, |b, out| {
            out.extend_from_slice(&b.f64(name, needs)?);
            Ok(())
        })
    }

    pub fn strings(&self, name: &'static str, needs: &'static str) -> Result<Vec<String>, FormatError> {
        self.rows.require(&[name], needs)?;
        self.rows.collect(&[name], &|_| {}, |b, out| {
            out.extend(
                b.strings(name, needs)?
                    .iter()
                    .map(|s| s.unwrap_or_default().to_string()),
            );
            Ok(())
        })
    }
}
