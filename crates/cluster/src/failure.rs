//! A peer lost in the middle of a run: noticed, named, and turned into an
//! error rather than a hang or a wall of panic messages.
//!
//! timely's network threads panic when a connection breaks (its message
//! starts "timely communication error:"), and the workers that pull from
//! that connection panic in turn. A panic hook records which connection
//! broke and keeps those panics quiet; a worker waiting for a round notices
//! the record, or a peer that sends nothing for the peer timeout, and
//! unwinds with a [`Failure`] that `run` turns into an error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

#[derive(Clone, Debug)]
pub(crate) struct Lost {
    pub(crate) process: usize,
    pub(crate) cause: String,
}

/// Why a worker stopped.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    /// The connection to a process broke.
    Lost {
        process: usize,
        address: String,
        cause: String,
    },
    /// Processes that sent nothing for the peer timeout.
    Silent {
        missing: Vec<(usize, String)>,
        seconds: f64,
    },
}

static LOST: Mutex<Option<Lost>> = Mutex::new(None);
static HOOK: Once = Once::new();
/// Set once every worker of a run has returned: a peer lost from then on
/// breaks only timely's shutdown.
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);

/// Marks that every worker has returned (see [`SHUTTING_DOWN`]).
pub(crate) fn shutting_down() {
    SHUTTING_DOWN.store(true, Ordering::Relaxed);
}

/// The first connection that broke in this process, if any.
pub(crate) fn lost_peer() -> Option<Lost> {
    LOST.lock().map(|l| l.clone()).unwrap_or(None)
}

/// Unwinds the worker with `failure` (no panic message: `resume_unwind`
/// skips the hook).
pub(crate) fn abort_worker(failure: Failure) -> ! {
    std::panic::resume_unwind(Box::new(failure))
}

/// Installs the hook once per process. A panic on one of timely's network
/// threads ("timely:recv-P", "timely:send-P") records process P; the
/// workers' follow-on panics after that are quiet, and so are the guards'
/// panics on joining once every worker has returned; anything else goes to
/// the hook that was there before.
pub(crate) fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            let peer = name
                .strip_prefix("timely:recv-")
                .or_else(|| name.strip_prefix("timely:send-"))
                .and_then(|p| p.parse::<usize>().ok());
            if let Some(process) = peer {
                let cause = info
                    .payload()
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the connection broke".into());
                if let Ok(mut lost) = LOST.lock() {
                    lost.get_or_insert(Lost { process, cause });
                }
                return;
            }
            if lost_peer().is_some() && (name.starts_with("timely:work-") || SHUTTING_DOWN.load(Ordering::Relaxed)) {
                return;
            }
            previous(info);
        }));
    });
}
