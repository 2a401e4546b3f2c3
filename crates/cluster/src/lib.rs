//! Sharded replay sweeps across processes and hosts, on timely-dataflow.
//!
//! Every worker (a thread; `workers` per process, `processes` processes)
//! runs the same job with a [`TimelyTransport`]: the job builds the replay
//! and runs the engine as one process would, with the indicator's sweeps
//! sharded through `aumann_models::Sharded` over the transport, so the
//! numbers are those of one process bit for bit. docs/distributed.md says
//! what crosses the network and how to start a cluster.
//!
//! This crate owns the process layout, the sockets and the failures:
//! connections are opened within a deadline and checked by a handshake
//! (see `connect`), a peer lost mid-run or silent for the peer timeout
//! stops every worker with an error that names it (see `failure`), and the
//! caller writes outputs only after every worker returned.

mod connect;
mod failure;
mod hostfile;
mod transport;

pub use hostfile::{loopback, read_hostfile};
pub use transport::{PIECE_BYTES, TimelyTransport, Traffic};

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use timely::communication::allocator::zero_copy::initialize::initialize_networking_from_sockets;
use timely::communication::allocator::{AllocatorBuilder, ProcessBuilder};
use timely::communication::initialize::Hooks;

/// The first port of a loopback cluster without a hostfile (timely's).
pub const DEFAULT_FIRST_PORT: u16 = 2101;
/// How long a process waits for every other to connect.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a worker waits for a round from a peer that sends nothing.
pub const DEFAULT_PEER_TIMEOUT: Duration = Duration::from_secs(120);

/// One process's place in a cluster, in timely's terms.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterSpec {
    /// Worker threads per process (timely's -w).
    pub workers: usize,
    /// This process's index (timely's -p).
    pub process: usize,
    /// `host:port` of every process, in process order (timely's -h
    /// hostfile; its length is timely's -n).
    pub addresses: Vec<String>,
    pub connect_timeout: Duration,
    pub peer_timeout: Duration,
    /// A digest of the job (input and options), equal on every process:
    /// the handshake refuses a process that runs another job.
    pub fingerprint: u64,
}

/// The most worker threads per process.
pub const MAX_WORKERS: usize = 1024;

impl ClusterSpec {
    pub fn processes(&self) -> usize {
        self.addresses.len()
    }

    pub fn check(&self) -> Result<(), ClusterError> {
        if self.workers == 0 || self.workers > MAX_WORKERS {
            return Err(ClusterError::Settings(format!(
                "--workers must be between 1 and {MAX_WORKERS}, got {}",
                self.workers
            )));
        }
        if self.addresses.is_empty() {
            return Err(ClusterError::Settings("a cluster needs at least one process".into()));
        }
        if self.process >= self.processes() {
            return Err(ClusterError::Settings(format!(
                "--process {} is not below the number of processes ({}): processes count from 0",
                self.process,
                self.processes()
            )));
        }
        if self.processes() * self.workers > u32::MAX as usize {
            return Err(ClusterError::Settings("too many workers in all".into()));
        }
        if self.connect_timeout.is_zero() || self.peer_timeout.is_zero() {
            return Err(ClusterError::Settings("timeouts must be positive".into()));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("invalid cluster settings: {0}")]
    Settings(String),
    #[error("cannot use the hostfile {path}: {reason}")]
    Hostfile { path: std::path::PathBuf, reason: String },
    #[error(
        "process {process} cannot listen on {address}: {reason} (is the port free, and is line {} of the hostfile this host's address?)",
        process + 1
    )]
    Listen {
        process: usize,
        address: String,
        reason: String,
    },
    #[error(
        "process {process} heard nothing from {} within {seconds} s ({last_error}): start every process with the same hostfile, and check that their ports are open",
        list(missing)
    )]
    Unreachable {
        process: usize,
        missing: Vec<(usize, String)>,
        seconds: f64,
        last_error: String,
    },
    #[error("process {process}: process {peer} at {address} {what}")]
    Mismatch {
        process: usize,
        peer: usize,
        address: String,
        what: String,
    },
    #[error("{address} answered, but not as a process of this cluster: is the port right?")]
    Protocol { address: String },
    #[error(
        "process {process}: lost the connection to process {peer} ({address}): {cause}; the run stopped and wrote nothing"
    )]
    Lost {
        process: usize,
        peer: usize,
        address: String,
        cause: String,
    },
    #[error(
        "process {process}: nothing from {} for {seconds} s; the run stopped and wrote nothing (a run whose steps take longer needs a longer --peer-timeout)",
        list(missing)
    )]
    Silent {
        process: usize,
        missing: Vec<(usize, String)>,
        seconds: f64,
    },
    #[error("process {process}, worker {worker}: {message}")]
    Worker {
        process: usize,
        worker: usize,
        message: String,
    },
    #[error("cluster: {0}")]
    Io(String),
}

fn list(processes: &[(usize, String)]) -> String {
    processes
        .iter()
        .map(|(p, a)| format!("process {p} ({a})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Empty network buffers (1 MiB each) a connection's end keeps for reuse.
const RETAINED_NETWORK_BUFFERS: usize = 4;

/// What one worker of this process returned, with what it sent.
pub struct WorkerResult<T> {
    pub value: T,
    pub traffic: Traffic,
}

/// Runs `job` on every worker of this process, joined to the other
/// processes of `spec`, and returns each local worker's result in worker
/// order once all have returned.
///
/// On an error (a peer never connected, was lost, fell silent, or a worker
/// failed) the workers still running cannot be stopped from outside: they
/// are left to the process's exit, which the caller should make promptly.
pub fn run<T, F>(spec: &ClusterSpec, job: F) -> Result<Vec<WorkerResult<T>>, ClusterError>
where
    T: Send + 'static,
    F: Fn(&TimelyTransport<'_>) -> T + Send + Sync + 'static,
{
    spec.check()?;
    let watching = failure::watch();
    let sockets = connect::connect(&spec.addresses, spec.process, spec.fingerprint, spec.connect_timeout)?;
    // Every network buffer comes from here: the largest is reported, so
    // that runs show what the transport's pieces keep them to.
    let largest_buffer = Arc::new(AtomicUsize::new(0));
    let mut hooks = Hooks::default();
    let record = Arc::clone(&largest_buffer);
    hooks.refill.logic = Arc::new(move |size| {
        record.fetch_max(size, Ordering::Relaxed);
        Box::new(vec![0_u8; size]) as Box<dyn std::ops::DerefMut<Target = [u8]> + Send>
    });
    // Timely keeps every buffer a connection's traffic ever needed at once
    // for reuse, unless told a limit: a round that arrived while the worker
    // was computing then stayed allocated for the rest of the run (0.44 GB
    // on one process at full scale). A few suffice to reuse.
    hooks.refill.limit = Some(RETAINED_NETWORK_BUFFERS);
    let allocators = ProcessBuilder::new_typed_vector(spec.workers, hooks.refill.clone(), hooks.spill.clone());
    let (builders, comms) = initialize_networking_from_sockets(allocators, sockets, spec.process, spec.workers, hooks)
        .map_err(|e| ClusterError::Io(e.to_string()))?;
    let builders = builders.into_iter().map(AllocatorBuilder::Tcp).collect();
    let (sender, results) = mpsc::channel();
    let (workers, addresses, peer_timeout, process) =
        (spec.workers, spec.addresses.clone(), spec.peer_timeout, spec.process);
    let watch = Arc::clone(watching.watch());
    let guards = timely::execute::execute_from(
        builders,
        Box::new(comms),
        timely::WorkerConfig::default(),
        move |worker| {
            let local = worker.index() % workers;
            let transport = TimelyTransport::new(worker, workers, addresses.clone(), peer_timeout, Arc::clone(&watch));
            let outcome = catch_unwind(AssertUnwindSafe(|| job(&transport)));
            let traffic = transport.traffic();
            let outcome = outcome
                .map(|value| WorkerResult { value, traffic })
                .map_err(|payload| to_error(payload, process, local, &addresses, &watch));
            // The receiver waits for every worker; it is gone only if `run`
            // already returned an error.
            let _ = sender.send((local, outcome));
        },
    )
    .map_err(ClusterError::Io)?;
    let mut done: Vec<Option<WorkerResult<T>>> = (0..spec.workers).map(|_| None).collect();
    for _ in 0..spec.workers {
        let (local, outcome) = results.recv().expect("every worker reports");
        match outcome {
            Ok(result) => done[local] = Some(result),
            Err(error) => {
                // Joining would wait on workers that wait on a lost peer;
                // they keep the watch until the process exits.
                std::mem::forget(guards);
                watching.abandon();
                return Err(error);
            }
        }
    }
    // Every worker has returned its result, and the results are whole. A
    // peer may exit as soon as its own workers are done: if its connection
    // breaks before timely's orderly shutdown, timely's threads panic and
    // its guards panic in turn when joined ("Worker panic", "Recv thread
    // panic"). That changes nothing computed, so it is caught (quietly: the
    // hook keeps panics after a lost peer to itself) and the run stands.
    watching.watch().shutting_down();
    let _ = catch_unwind(AssertUnwindSafe(|| drop(guards.join())));
    drop(watching);
    let largest_buffer = largest_buffer.load(Ordering::Relaxed) as u64;
    Ok(done
        .into_iter()
        .map(|r| {
            let mut r = r.expect("every worker reported");
            r.traffic.largest_network_buffer = largest_buffer;
            r
        })
        .collect())
}

fn to_error(
    payload: Box<dyn std::any::Any + Send>,
    process: usize,
    worker: usize,
    addresses: &[String],
    watch: &failure::PeerWatch,
) -> ClusterError {
    let payload = match payload.downcast::<failure::Failure>() {
        Ok(failure) => {
            return match *failure {
                failure::Failure::Lost {
                    process: peer,
                    address,
                    cause,
                } => ClusterError::Lost {
                    process,
                    peer,
                    address,
                    cause,
                },
                failure::Failure::Silent { missing, seconds } => ClusterError::Silent {
                    process,
                    missing,
                    seconds,
                },
            };
        }
        Err(payload) => payload,
    };
    if let Some(lost) = watch.lost_peer() {
        return ClusterError::Lost {
            process,
            peer: lost.process,
            address: addresses.get(lost.process).cloned().unwrap_or_default(),
            cause: lost.cause,
        };
    }
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panicked".into());
    ClusterError::Worker {
        process,
        worker,
        message,
    }
}
