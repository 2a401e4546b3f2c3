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
use std::sync::{Arc, Mutex, Once};

#[derive(Clone, Debug, PartialEq)]
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

/// One run's record of its peers: the first connection that broke, and
/// whether every worker has returned (a peer lost from then on breaks only
/// timely's shutdown). `run` makes one per run and hands it to its workers'
/// transports, so nothing a run records reaches the next.
#[derive(Debug, Default)]
pub(crate) struct PeerWatch {
    lost: Mutex<Option<Lost>>,
    shutting_down: AtomicBool,
}

impl PeerWatch {
    /// The first connection that broke in this run, if any.
    pub(crate) fn lost_peer(&self) -> Option<Lost> {
        self.lost.lock().map(|l| l.clone()).unwrap_or(None)
    }

    /// Marks that every worker of the run has returned.
    pub(crate) fn shutting_down(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
    }

    fn record(&self, lost: Lost) {
        if let Ok(mut slot) = self.lost.lock() {
            slot.get_or_insert(lost);
        }
    }
}

/// The runs under way in this process, whose timely threads the panic
/// hook reports to. Why a list and not a value passed along: std keeps one
/// panic hook per process, and timely's network threads carry no mark of
/// the run that started them, so a broken connection is recorded in every
/// run under way (a deployment runs one per process; tests run several).
/// [`watch`] adds a run and [`Watching`] removes it when the run ends, so a
/// run never starts with another's record.
static ACTIVE: Mutex<Vec<Arc<PeerWatch>>> = Mutex::new(Vec::new());
static HOOK: Once = Once::new();

/// Holds one run's place in [`ACTIVE`]; dropping it ends the watch.
pub(crate) struct Watching(Arc<PeerWatch>);

impl Watching {
    pub(crate) fn watch(&self) -> &Arc<PeerWatch> {
        &self.0
    }

    /// Keeps the run in [`ACTIVE`] for workers left running (they cannot
    /// be stopped from outside): the hook keeps their panics quiet until
    /// the process exits.
    pub(crate) fn abandon(self) {
        std::mem::forget(self);
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut active = ACTIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        active.retain(|w| !Arc::ptr_eq(w, &self.0));
    }
}

/// Starts watching a new run's peers, installing the hook on the first.
pub(crate) fn watch() -> Watching {
    install_hook();
    let watch = Arc::new(PeerWatch::default());
    let mut active = ACTIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    active.push(Arc::clone(&watch));
    Watching(watch)
}

fn active() -> Vec<Arc<PeerWatch>> {
    ACTIVE.lock().map(|a| a.clone()).unwrap_or_default()
}

/// Unwinds the worker with `failure` (no panic message: `resume_unwind`
/// skips the hook).
pub(crate) fn abort_worker(failure: Failure) -> ! {
    std::panic::resume_unwind(Box::new(failure))
}

/// Installs the hook once per process. A panic on one of timely's network
/// threads ("timely:recv-P", "timely:send-P") records process P in the
/// runs under way; the workers' follow-on panics after that are quiet, and so
/// are the guards' panics on joining once every worker has returned;
/// anything else goes to the hook that was there before.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let name = thread.name().unwrap_or("");
            let peer = name
                .strip_prefix("timely:recv-")
                .or_else(|| name.strip_prefix("timely:send-"))
                .and_then(|p| p.parse::<usize>().ok());
            let runs = active();
            if let Some(process) = peer
                && !runs.is_empty()
            {
                let cause = info
                    .payload()
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the connection broke".into());
                for run in &runs {
                    run.record(Lost {
                        process,
                        cause: cause.clone(),
                    });
                }
                return;
            }
            let quiet = runs.iter().any(|run| {
                run.lost_peer().is_some()
                    && (name.starts_with("timely:work-") || run.shutting_down.load(Ordering::Relaxed))
            });
            if !quiet {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hook records a broken connection in every run under way: these
    /// tests run one at a time so that one's breakage is not another's.
    static ALONE: Mutex<()> = Mutex::new(());

    #[test]
    fn a_run_starts_with_no_lost_peer_whatever_an_earlier_run_recorded() {
        let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
        let first = watch();
        first.watch().record(Lost {
            process: 2,
            cause: "reset".into(),
        });
        first.watch().record(Lost {
            process: 3,
            cause: "later".into(),
        });
        assert_eq!(
            first.watch().lost_peer().map(|l| l.process),
            Some(2),
            "the first loss is kept"
        );
        let during = watch();
        assert_eq!(during.watch().lost_peer(), None, "another run's record");
        let kept = Arc::clone(first.watch());
        drop(first);
        assert!(
            !active().iter().any(|w| Arc::ptr_eq(w, &kept)),
            "the run's watch ended with it"
        );
        let after = watch();
        assert_eq!(
            after.watch().lost_peer(),
            None,
            "a record carried over from the run before"
        );
        assert!(active().iter().any(|w| Arc::ptr_eq(w, after.watch())));
    }

    #[test]
    fn a_network_thread_that_breaks_is_recorded_in_every_run_under_way() {
        let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
        let (one, two) = (watch(), watch());
        let broke = std::thread::Builder::new()
            .name("timely:recv-3".into())
            .spawn(|| panic!("connection reset"))
            .unwrap()
            .join();
        assert!(broke.is_err());
        for run in [&one, &two] {
            let lost = Lost {
                process: 3,
                cause: "connection reset".into(),
            };
            assert_eq!(run.watch().lost_peer(), Some(lost));
        }
        drop((one, two));
        assert_eq!(watch().watch().lost_peer(), None);
    }
}
