//! Work with the GIL released: progress shown, and Ctrl-C honoured.
//!
//! Progress goes to the command line's bar on a terminal (silent in a
//! notebook, where stderr is no terminal), or to a Python object the
//! package passes (a `tqdm.auto` bar, which draws in a notebook too): the
//! work records its stage and position without the GIL, and the waiting
//! thread hands the latest to the object each time it wakes.
//!
//! Python runs signal handlers on the main thread only, so the work runs on
//! a thread of its own while the calling thread waits for it, running the
//! handlers every [`SIGNAL_POLL`]. A handler's exception (KeyboardInterrupt
//! for Ctrl-C) raises the work's stop flag, which the study checks between
//! stages and the engine between sweeps; the exception is raised when the
//! work has returned.

use aumann_data::progress::{Observer, Terminal};
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// How often the waiting thread runs Python's signal handlers.
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Where a call's progress goes: `True` the terminal's bar, `False`
/// nowhere, or an object with `update(stage, done, total, detail)` and
/// `close()` (the package's `tqdm.auto` bar).
#[derive(FromPyObject)]
pub enum Progress {
    Shown(bool),
    To(Py<PyAny>),
}

/// A stage and the position in it, as the work last reported them.
#[derive(Clone, Default, PartialEq)]
struct Position {
    stage: String,
    done: u64,
    total: Option<u64>,
    detail: String,
}

pub struct Watch {
    terminal: Option<Terminal>,
    /// The latest position, for a Python progress object; None without one.
    position: Option<std::sync::Mutex<Position>>,
    stop: AtomicBool,
    /// What the work asked to tell the user, raised as Python warnings
    /// once it has returned (a warning needs the GIL).
    notes: std::sync::Mutex<Vec<String>>,
}

impl Watch {
    fn new(progress: &Progress) -> Self {
        Self {
            terminal: matches!(progress, Progress::Shown(true)).then(Terminal::new),
            position: matches!(progress, Progress::To(_)).then(|| std::sync::Mutex::new(Position::default())),
            stop: AtomicBool::new(false),
            notes: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn record(&self, change: impl FnOnce(&mut Position)) {
        if let Some(position) = &self.position {
            change(&mut position.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }

    fn latest(&self) -> Option<Position> {
        (self.position.as_ref()).map(|p| p.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

impl Observer for Watch {
    fn stage(&self, name: &str, total: Option<u64>) {
        if let Some(t) = &self.terminal {
            t.stage(name, total);
        }
        self.record(|p| {
            *p = Position {
                stage: name.to_string(),
                done: 0,
                total,
                detail: String::new(),
            }
        });
    }

    fn advance(&self, done: u64, total: u64, detail: &str) {
        if let Some(t) = &self.terminal {
            t.advance(done, total, detail);
        }
        self.record(|p| {
            p.done = done;
            p.total = Some(total);
            if p.detail != detail {
                p.detail = detail.to_string();
            }
        });
    }

    fn interrupted(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn note(&self, text: &str) {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text.to_string());
    }
}

/// Runs `work` on a thread of its own with the GIL released, while this
/// thread runs Python's signal handlers. Returns the work's result, or the
/// exception a handler raised meanwhile.
pub fn detached<T: Send>(
    py: Python<'_>,
    progress: impl Into<Progress>,
    work: impl FnOnce(&Watch) -> T + Send,
) -> PyResult<T> {
    let progress = progress.into();
    let watch = Watch::new(&progress);
    let sink = match &progress {
        Progress::To(sink) => Some(sink),
        Progress::Shown(_) => None,
    };
    // The progress object's first failure (a bar that cannot draw) ends its
    // updates and stops the work as Ctrl-C would; its error is raised.
    let mut sink_error = None;
    let (outcome, signal) = py.detach(|| {
        std::thread::scope(|scope| {
            let (done, finished) = mpsc::channel();
            let watch = &watch;
            let worker = scope.spawn(move || {
                let result = work(watch);
                let _ = done.send(());
                result
            });
            let mut signal = None;
            let mut shown = Position::default();
            let mut show = |py: Python<'_>, sink_error: &mut Option<PyErr>| {
                let (Some(sink), Some(now)) = (sink, watch.latest()) else {
                    return;
                };
                if sink_error.is_some() || now == shown || now.stage.is_empty() {
                    return;
                }
                let args = (now.stage.as_str(), now.done, now.total, now.detail.as_str());
                if let Err(e) = sink.call_method1(py, "update", args) {
                    watch.stop.store(true, Ordering::Relaxed);
                    *sink_error = Some(e);
                }
                shown = now;
            };
            while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(SIGNAL_POLL) {
                Python::attach(|py| {
                    if signal.is_none()
                        && let Err(e) = py.check_signals()
                    {
                        watch.stop.store(true, Ordering::Relaxed);
                        signal = Some(e);
                    }
                    show(py, &mut sink_error);
                });
            }
            // The last position, so that a bar ends where the work did.
            Python::attach(|py| show(py, &mut sink_error));
            (worker.join(), signal)
        })
    });
    if let Some(t) = &watch.terminal {
        t.finish();
    }
    if let Some(sink) = sink {
        let closed = sink.call_method0(py, "close");
        if let Some(e) = sink_error.take().or(closed.err()) {
            return Err(e);
        }
    }
    let notes = std::mem::take(&mut *watch.notes.lock().unwrap_or_else(|e| e.into_inner()));
    for note in notes {
        let message = std::ffi::CString::new(note).unwrap_or_default();
        PyErr::warn(py, &py.get_type::<pyo3::exceptions::PyUserWarning>(), &message, 1)?;
    }
    if let Some(signal) = signal {
        return Err(signal);
    }
    outcome.map_err(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        crate::errors::internal(&format!("the work panicked: {what}"))
    })
}

impl From<bool> for Progress {
    fn from(shown: bool) -> Self {
        Progress::Shown(shown)
    }
}
