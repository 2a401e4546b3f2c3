//! Work with the GIL released: a bar on a terminal (the command line's,
//! silent in a notebook, where stderr is no terminal), and Ctrl-C honoured.
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

pub struct Watch {
    terminal: Option<Terminal>,
    stop: AtomicBool,
    /// What the work asked to tell the user, raised as Python warnings
    /// once it has returned (a warning needs the GIL).
    notes: std::sync::Mutex<Vec<String>>,
}

impl Watch {
    fn new(progress: bool) -> Self {
        Self {
            terminal: progress.then(Terminal::new),
            stop: AtomicBool::new(false),
            notes: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl Observer for Watch {
    fn stage(&self, name: &str, total: Option<u64>) {
        if let Some(t) = &self.terminal {
            t.stage(name, total);
        }
    }

    fn advance(&self, done: u64, total: u64, detail: &str) {
        if let Some(t) = &self.terminal {
            t.advance(done, total, detail);
        }
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
pub fn detached<T: Send>(py: Python<'_>, progress: bool, work: impl FnOnce(&Watch) -> T + Send) -> PyResult<T> {
    let watch = Watch::new(progress);
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
            while let Err(mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(SIGNAL_POLL) {
                if signal.is_none()
                    && let Err(e) = Python::attach(|py| py.check_signals())
                {
                    watch.stop.store(true, Ordering::Relaxed);
                    signal = Some(e);
                }
            }
            (worker.join(), signal)
        })
    });
    if let Some(t) = &watch.terminal {
        t.finish();
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
