//! `aumann._native`: the compiled half of the `aumann` Python package.
//!
//! The Python half (`python/aumann`) gives the API its pandas and Captum
//! manners (DataFrames, keyword arguments, dataclasses); this half holds
//! the population and runs the work with the GIL released. What crosses:
//! tables as Arrow record batches through the Arrow C data interface (no
//! copy on the way out; pyarrow turns them into DataFrames), numbers as
//! numpy arrays, settings as plain values, summaries as JSON text.

mod arrow;
mod engine;
mod errors;
mod fit;
mod observe;
mod population;
mod study;

use pyo3::prelude::*;

/// Huge pages for the replay's large arrays (crates/alloc says why).
#[global_allocator]
static ALLOCATOR: aumann_alloc::HugePages = aumann_alloc::HugePages;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<population::Population>()?;
    m.add_class::<arrow::ArrowBatch>()?;
    m.add_function(wrap_pyfunction!(study::run, m)?)?;
    m.add_function(wrap_pyfunction!(fit::fit, m)?)?;
    m.add_function(wrap_pyfunction!(engine::path_attribution, m)?)?;
    m.add_function(wrap_pyfunction!(engine::exact_shapley, m)?)?;
    m.add_function(wrap_pyfunction!(engine::permutation_shapley, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULTS", defaults(m.py())?)?;
    m.add("PARAMETERS", parameters(m.py())?)?;
    m.add("SUMMARY_SCHEMA", aumann_study::output::SUMMARY_SCHEMA)?;
    m.add(
        "SENSITIVITY_SHOWN",
        pyo3::types::PyTuple::new(m.py(), aumann_study::figures::SENSITIVITY_SHOWN)?,
    )?;
    m.add(
        "INDICATORS",
        pyo3::types::PyTuple::new(m.py(), aumann_models::Indicator::names().collect::<Vec<_>>())?,
    )?;
    Ok(())
}

/// The defaults of every setting, from the crates that define them, so
/// that the Python signatures show the command line's values.
fn defaults(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyDict>> {
    use aumann_models::indicators::declaration;
    use aumann_study::settings::EngineSettings;
    let d = pyo3::types::PyDict::new(py);
    let engine = EngineSettings::default();
    let study = aumann_study::StudyConfig::default();
    let synth = aumann_data::synth::SynthParams::default();
    for (_, p) in declaration::parameters() {
        d.set_item(declaration::python_keyword(p.name), p.default)?;
    }
    d.set_item("rule", engine.rule.name())?;
    d.set_item("tolerance", engine.tolerance)?;
    d.set_item("max_nodes", engine.max_nodes)?;
    d.set_item("batch", engine.batch)?;
    d.set_item("tiers", (study.tiers.head, study.tiers.middle))?;
    d.set_item("sample", study.panel_size)?;
    d.set_item("permutations", study.permutations)?;
    d.set_item("random_rankings", aumann_study::faithfulness::DEFAULT_RANDOM_RANKINGS)?;
    d.set_item("latency_quantile", study.latency_quantile)?;
    d.set_item("first_port", aumann_study::DEFAULT_FIRST_PORT)?;
    d.set_item("connect_timeout", aumann_study::DEFAULT_CONNECT_TIMEOUT.as_secs_f64())?;
    d.set_item("peer_timeout", aumann_study::DEFAULT_PEER_TIMEOUT.as_secs_f64())?;
    d.set_item("network", study.replay.network.name())?;
    d.set_item("agents", synth.agents)?;
    d.set_item("days", synth.steps)?;
    d.set_item("seed", synth.seed)?;
    Ok(d)
}

/// Every indicator's parameters as the package's functions take them, from
/// the declarations: a list of dicts (indicator, name, keyword, symbol,
/// help, unit, default, when_absent, bounds).
fn parameters(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyList>> {
    use aumann_models::indicators::declaration;
    let list = pyo3::types::PyList::empty(py);
    for (indicator, p) in declaration::parameters() {
        let d = pyo3::types::PyDict::new(py);
        d.set_item("indicator", indicator)?;
        d.set_item("name", p.name)?;
        d.set_item("keyword", declaration::python_keyword(p.name))?;
        d.set_item("symbol", p.symbol)?;
        d.set_item("help", p.help)?;
        d.set_item("unit", p.unit)?;
        d.set_item("default", p.default)?;
        d.set_item("when_absent", p.when_absent)?;
        d.set_item("bounds", p.bounds.interval())?;
        list.append(d)?;
    }
    Ok(list)
}
