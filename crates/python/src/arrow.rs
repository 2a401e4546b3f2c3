//! Tables across the boundary: Arrow record batches through the Arrow C
//! data interface's PyCapsule protocol, which pyarrow (and polars) speak.
//! The bridge crates made for this pin pyo3 versions of their own, and only
//! one pyo3 can be in a build, so the two capsules are made here.

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow_array::{Array, RecordBatch, StructArray};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// A table made by the engine, readable by anything that speaks the Arrow
/// PyCapsule interface: `pyarrow.record_batch(t)`, `polars.from_arrow(t)`.
/// The columns' buffers move to the reader without a copy.
#[pyclass(module = "aumann._native", frozen)]
pub struct ArrowBatch {
    batch: RecordBatch,
}

impl ArrowBatch {
    pub fn new(batch: RecordBatch) -> Self {
        Self { batch }
    }
}

#[pymethods]
impl ArrowBatch {
    /// The Arrow PyCapsule interface: (schema capsule, array capsule). A
    /// requested schema is ignored, as the interface allows.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_array__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyCapsule>, Bound<'py, PyCapsule>)> {
        let _ = requested_schema;
        let array = StructArray::from(self.batch.clone());
        let (array, schema) = to_ffi(&array.to_data()).map_err(|e| crate::errors::internal(&e))?;
        let schema = PyCapsule::new_with_value(py, schema, c"arrow_schema")?;
        let array = PyCapsule::new_with_value(py, array, c"arrow_array")?;
        Ok((schema, array))
    }

    fn __len__(&self) -> usize {
        self.batch.num_rows()
    }

    /// The column names.
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.batch.schema().fields().iter().map(|f| f.name().clone()).collect()
    }
}

/// A record batch from a Python object that exports one through the Arrow
/// PyCapsule interface (a `pyarrow.RecordBatch`).
pub fn import(obj: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    use pyo3::types::PyCapsuleMethods;
    let (schema, array): (Bound<'_, PyCapsule>, Bound<'_, PyCapsule>) =
        obj.call_method0("__arrow_c_array__")?.extract()?;
    let schema = schema.pointer_checked(Some(c"arrow_schema"))?.cast::<FFI_ArrowSchema>();
    let array = array.pointer_checked(Some(c"arrow_array"))?.cast::<FFI_ArrowArray>();
    // SAFETY: the capsules' names promise these structs (the interface's
    // contract); `from_raw` moves the array out and marks the capsule's
    // copy released, so the capsule's destructor does not free it twice.
    let data = unsafe {
        let array = FFI_ArrowArray::from_raw(array.as_ptr());
        from_ffi(array, schema.as_ref())
    }
    .map_err(|e| crate::errors::invalid(&format!("the table could not be read through Arrow: {e}")))?;
    let array = StructArray::from(data);
    if array.null_count() > 0 {
        return Err(crate::errors::invalid(&"the table has null rows"));
    }
    Ok(RecordBatch::from(array))
}
