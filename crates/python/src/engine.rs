//! The engine for any model written in Python: the path integral of a
//! function that returns values and gradients for a batch of points (a
//! PyTorch or JAX model behind a few lines of glue), and exact and
//! permutation Shapley of a coalition function.
//!
//! The engine runs with the GIL released and takes it back for each call
//! into Python; the first exception a call raises is kept, the work stops
//! at its next sweep, and the exception is raised to the caller.

use crate::errors;
use crate::observe::{Watch, detached};
use aumann_data::progress::Observer;
use aumann_engine::{NodeWeights, Path, PermutationShapley, ValueFunction};
use aumann_study::settings::EngineSettings;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::ops::ControlFlow;
use std::sync::Mutex;

/// What the Python function is asked for.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// f(points: float64 (k, n)) -> (values (k,), gradients (k, n)).
    ValueAndGradient,
    /// v(coalitions: bool (k, n)) -> values (k,).
    Coalition,
}

/// A Python function as a game of n players, called from the work's
/// thread (see `observe::detached`).
struct PyGame<'w> {
    function: Py<PyAny>,
    players: usize,
    shape: Shape,
    /// The first exception a call raised (or a malformed answer).
    failure: Mutex<Option<PyErr>>,
    /// Ctrl-C: once it came, no more calls.
    watch: &'w Watch,
}

impl<'w> PyGame<'w> {
    fn new(function: Py<PyAny>, players: usize, shape: Shape, watch: &'w Watch) -> Self {
        Self {
            function,
            players,
            shape,
            failure: Mutex::new(None),
            watch,
        }
    }

    fn failed(&self) -> bool {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    fn take_failure(&self) -> Option<PyErr> {
        self.failure.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Calls the function on k points (row-major k x n); writes the values
    /// and, when asked, the gradients. On a failure, keeps it and writes
    /// NaN, which the engine refuses at once.
    fn call(&self, points: &[f64], values: &mut [f64], gradients: Option<&mut [f64]>) {
        let k = values.len();
        if self.failed() || self.watch.interrupted() {
            values.fill(f64::NAN);
            return;
        }
        let outcome = Python::attach(|py| self.call_attached(py, points, k, values, gradients));
        if let Err(e) = outcome {
            values.fill(f64::NAN);
            let mut failure = self.failure.lock().unwrap_or_else(|e| e.into_inner());
            failure.get_or_insert(e);
        }
    }

    fn call_attached(
        &self,
        py: Python<'_>,
        points: &[f64],
        k: usize,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    ) -> PyResult<()> {
        let n = self.players;
        let numpy = py.import("numpy")?;
        let flat = PyArray1::from_slice(py, points);
        let batch = match self.shape {
            Shape::ValueAndGradient => flat.reshape([k, n])?.into_any(),
            Shape::Coalition => flat.reshape([k, n])?.call_method1("__gt__", (0.5,))?,
        };
        let answer = self.function.bind(py).call1((batch,))?;
        // Read in place (no copy on the way in when the answer is already a
        // contiguous float64 array) into the engine's buffer.
        let read_into = |obj: Bound<'_, PyAny>, what: &str, shape: &[usize], out: &mut [f64]| -> PyResult<()> {
            let kwargs = PyDict::new(py);
            kwargs.set_item("dtype", numpy.getattr("float64")?)?;
            let array = numpy.call_method("ascontiguousarray", (obj,), Some(&kwargs))?;
            let found: Vec<usize> = array.getattr("shape")?.extract()?;
            if found != shape {
                return Err(errors::invalid(&format!(
                    "the function returned {what} of shape {found:?}; expected {shape:?} for a batch of {k} points of {n} players"
                )));
            }
            let array = array.cast_into::<numpy::PyArrayDyn<f64>>()?;
            out.copy_from_slice(array.readonly().as_slice()?);
            Ok(())
        };
        match self.shape {
            Shape::ValueAndGradient => {
                let (v, g): (Bound<'_, PyAny>, Bound<'_, PyAny>) = answer.extract().map_err(|_| {
                    errors::invalid(
                        &"the function must return a pair (values of shape (k,), gradients of shape (k, n))",
                    )
                })?;
                read_into(v, "values", &[k], values)?;
                if let Some(gradients) = gradients {
                    read_into(g, "gradients", &[k, n], gradients)?;
                }
            }
            Shape::Coalition => read_into(answer, "values", &[k], values)?,
        }
        Ok(())
    }
}

impl ValueFunction for PyGame<'_> {
    fn players(&self) -> usize {
        self.players
    }

    fn value(&self, x: &[f64]) -> f64 {
        let mut v = [0.0];
        self.call(x, &mut v, None);
        v[0]
    }

    fn value_and_gradient(&self, x: &[f64], gradient: &mut [f64]) -> f64 {
        let mut v = [0.0];
        self.call(x, &mut v, Some(gradient));
        v[0]
    }

    fn values(&self, points: &[f64], values: &mut [f64]) {
        self.call(points, values, None);
    }

    /// One call per batch of nodes; the weighted gradients are summed in
    /// node order.
    fn accumulate_path_gradients(
        &self,
        path: Path<'_>,
        taus: &[f64],
        weights: NodeWeights<'_>,
        values: &mut [f64],
        accumulator: &mut [f64],
    ) {
        let n = self.players;
        let k = taus.len();
        let mut points = vec![0.0; k * n];
        for (tau, point) in taus.iter().zip(points.chunks_exact_mut(n)) {
            path.point_into(*tau, point);
        }
        let mut gradients = vec![0.0; k * n];
        self.call(&points, values, Some(&mut gradients));
        for (m, gradient) in gradients.chunks_exact(n).enumerate() {
            weights.accumulate(m, gradient, accumulator);
        }
    }
}

/// Stops the engine at its next sweep when a call failed or Ctrl-C came.
fn keep_going(game: &PyGame<'_>) -> ControlFlow<()> {
    if game.failed() || game.watch.interrupted() {
        ControlFlow::Break(())
    } else {
        ControlFlow::Continue(())
    }
}

fn slice<'a>(array: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    array
        .as_slice()
        .map_err(|_| errors::invalid(&format!("{what} must be a contiguous array")))
}

/// Aumann–Shapley attribution of f from `baseline` to `x`; a dict of the
/// result (see `aumann.path_attribution`).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub fn path_attribution<'py>(
    py: Python<'py>,
    function: Py<PyAny>,
    x: PyReadonlyArray1<'py, f64>,
    baseline: PyReadonlyArray1<'py, f64>,
    rule: &str,
    nodes: Option<usize>,
    tolerance: f64,
    max_nodes: usize,
    batch: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let keyword = |name: &str| name.replace('-', "_");
    let engine = EngineSettings {
        rule: rule.parse().map_err(|e: String| errors::invalid(&e))?,
        nodes,
        tolerance,
        max_nodes,
        batch,
    }
    .build(&keyword)
    .map_err(|e| errors::invalid(&e))?;
    let (input, baseline) = (slice(&x, "x")?, slice(&baseline, "baseline")?);
    let players = x.len();
    let (result, failure) = detached(py, false, |watch| {
        let game = PyGame::new(function, players, Shape::ValueAndGradient, watch);
        let result = engine.attribute_observed(&game, input, baseline, &|_| keep_going(&game));
        (result, game.take_failure())
    })?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    let (attribution, shortfall) = match result {
        Ok(a) => (a, None),
        Err(aumann_engine::Error::ToleranceNotReached { best, tolerance }) => {
            let message = format!(
                "relative completeness gap {:.3e} is above the tolerance {tolerance:.1e} after {} nodes (max_nodes); the best result is returned",
                best.relative_gap(),
                best.nodes
            );
            (*best, Some(message))
        }
        Err(e) => return Err(errors::engine(e)),
    };
    let out = PyDict::new(py);
    out.set_item("phi", PyArray1::from_slice(py, &attribution.phi))?;
    // A magnitude, as the attribution tables give it: the sign of a
    // difference between two levels says nothing about the exact value's side.
    let error: Vec<f64> = attribution.error.iter().map(|e| e.abs()).collect();
    out.set_item("error", PyArray1::from_slice(py, &error))?;
    out.set_item("value", attribution.value_input)?;
    out.set_item("baseline_value", attribution.value_baseline)?;
    out.set_item("gap", attribution.gap())?;
    out.set_item("relative_gap", attribution.relative_gap())?;
    out.set_item("rule", attribution.rule.name())?;
    out.set_item("nodes", attribution.nodes)?;
    out.set_item("companion_nodes", attribution.companion_nodes)?;
    out.set_item("evaluations", attribution.gradient_evaluations)?;
    out.set_item("converged", attribution.converged())?;
    out.set_item("flat", attribution.flat)?;
    let levels: Vec<(usize, f64)> = attribution.levels.iter().map(|l| (l.nodes, l.relative_gap)).collect();
    out.set_item("levels", levels)?;
    out.set_item("seconds", attribution.elapsed.as_secs_f64())?;
    out.set_item("shortfall", shortfall)?;
    Ok(out)
}

/// Runs a Shapley estimator on the coalition game of a Python function (a
/// game over 0/1 inputs: 1 for the coalition's members); raises what the
/// function raised, if it did.
fn on_coalitions<T: Send>(
    py: Python<'_>,
    function: Py<PyAny>,
    players: usize,
    estimate: impl FnOnce(&PyGame<'_>, &[f64], &[f64]) -> aumann_engine::Result<T> + Send,
) -> PyResult<T> {
    if players == 0 {
        return Err(errors::invalid(&"a game needs at least one player"));
    }
    let (result, failure) = detached(py, false, |watch| {
        let game = PyGame::new(function, players, Shape::Coalition, watch);
        let result = estimate(&game, &vec![1.0; players], &vec![0.0; players]);
        (result, game.take_failure())
    })?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    result.map_err(errors::engine)
}

/// Exact Shapley values of v over `players` players.
#[pyfunction]
pub fn exact_shapley<'py>(py: Python<'py>, function: Py<PyAny>, players: usize) -> PyResult<Bound<'py, PyDict>> {
    let result = on_coalitions(py, function, players, |game, ones, zeros| {
        aumann_engine::exact_shapley(game, ones, zeros)
    })?;
    let out = PyDict::new(py);
    out.set_item("phi", PyArray1::from_slice(py, &result.phi))?;
    out.set_item("evaluations", result.evaluations)?;
    out.set_item("seconds", result.elapsed.as_secs_f64())?;
    Ok(out)
}

/// Permutation Shapley estimates of v over `players` players.
#[pyfunction]
pub fn permutation_shapley<'py>(
    py: Python<'py>,
    function: Py<PyAny>,
    players: usize,
    permutations: Option<usize>,
    max_evaluations: Option<usize>,
    target_std_error: Option<f64>,
    seed: u64,
) -> PyResult<Bound<'py, PyDict>> {
    let estimator = PermutationShapley {
        seed,
        max_permutations: permutations,
        max_evaluations,
        target_std_error,
        ..PermutationShapley::default()
    };
    let result = on_coalitions(py, function, players, |game, ones, zeros| {
        estimator.estimate(game, ones, zeros)
    })?;
    let out = PyDict::new(py);
    out.set_item("phi", PyArray1::from_slice(py, &result.phi))?;
    out.set_item("std_error", PyArray1::from_slice(py, &result.std_error))?;
    out.set_item("permutations", result.permutations)?;
    out.set_item("evaluations", result.evaluations)?;
    let stop = serde_json::to_value(result.stop).expect("a stop reason serialises");
    out.set_item("stop", stop.as_str().unwrap_or_default())?;
    out.set_item("seconds", result.elapsed.as_secs_f64())?;
    Ok(out)
}
