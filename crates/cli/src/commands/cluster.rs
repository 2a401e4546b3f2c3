//! The cluster options of `attribute` and `study`, the cluster run itself,
//! and `aumann cluster-local`.

use crate::options::Source;
use aumann_cluster::{ClusterSpec, DEFAULT_FIRST_PORT, Traffic, WorkerResult, loopback, read_hostfile};
use aumann_data::Dataset;
use aumann_data::checkpoint::{JobIdentity, identity_part};
use aumann_data::progress::{self, Observer};
use aumann_models::{Sharded, Transport};
use aumann_study::{Checkpoints, StudyConfig, StudyResult};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

/// Run as one process of a cluster (docs/distributed.md): the agents are
/// split over every worker of every process, each holding the states of its
/// own agents, and the attribution is the single-process one, bit for bit.
/// Start every process with the same command, changing only --process; or
/// try it on one machine with `aumann cluster-local`.
#[derive(clap::Args, Clone, Debug)]
#[command(next_help_heading = "Cluster (timely-dataflow, docs/distributed.md)")]
pub struct ClusterArgs {
    /// Worker threads per process of a cluster run (timely's -w). Each
    /// worker holds one shard of the agents.
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Processes in the cluster (timely's -n). Without --hostfile they
    /// listen on 127.0.0.1 from --first-port up.
    #[arg(long, value_name = "N")]
    pub processes: Option<usize>,
    /// This process's index, from 0 (timely's -p). Process 0 writes the
    /// outputs, makes the study's panels and curves, and draws the
    /// progress bar; the others only attribute, and drop the population
    /// once their replays are built.
    #[arg(long, value_name = "I")]
    pub process: Option<usize>,
    /// One host:port per process, process 0 first (timely's -h).
    #[arg(long, value_name = "FILE")]
    pub hostfile: Option<PathBuf>,
    /// First loopback port when there is no hostfile.
    #[arg(long, default_value_t = DEFAULT_FIRST_PORT, value_name = "PORT")]
    pub first_port: u16,
    /// Seconds a process waits for every other one to connect.
    #[arg(long, default_value_t = aumann_cluster::DEFAULT_CONNECT_TIMEOUT.as_secs_f64(), value_name = "SECONDS")]
    pub connect_timeout: f64,
    /// Seconds a worker waits on a peer that sends nothing before the whole
    /// run stops (a lost connection stops it at once).
    #[arg(long, default_value_t = aumann_cluster::DEFAULT_PEER_TIMEOUT.as_secs_f64(), value_name = "SECONDS")]
    pub peer_timeout: f64,
    /// Save each attribution's progress in DIR after every sweep; the same
    /// command started again (after a crash, a lost host, a kill) continues
    /// from there with the same numbers. The files go once the outputs are
    /// written. Each worker of a cluster keeps its own (it holds the state
    /// of its own agents' gates): process-I-INDICATOR.checkpoint, or
    /// process-I-worker-L-INDICATOR.checkpoint with several workers.
    #[arg(long, value_name = "DIR", help_heading = "Resuming")]
    pub checkpoint: Option<PathBuf>,
}

impl ClusterArgs {
    /// Whether this is a cluster run (any of the cluster options given).
    pub fn enabled(&self) -> bool {
        // --checkpoint alone is a single-process run.
        self.workers.is_some() || self.processes.is_some() || self.process.is_some() || self.hostfile.is_some()
    }

    fn spec(&self, fingerprint: impl Fn(&[String]) -> u64) -> Result<ClusterSpec, crate::Error> {
        let addresses = match &self.hostfile {
            Some(path) => {
                let addresses = read_hostfile(path)?;
                if let Some(n) = self.processes
                    && n != addresses.len()
                {
                    return Err(format!(
                        "--processes {n}, but the hostfile {} names {} processes",
                        path.display(),
                        addresses.len()
                    )
                    .into());
                }
                addresses
            }
            None => {
                let n = self.processes.unwrap_or(1);
                if n == 0 || self.first_port as usize + n > u16::MAX as usize + 1 {
                    return Err(format!("--processes {n} from port {} does not fit", self.first_port).into());
                }
                loopback(n, self.first_port)
            }
        };
        let seconds = |name: &str, s: f64| {
            if s.is_finite() && s > 0.0 && s < 1e9 {
                Ok(Duration::from_secs_f64(s))
            } else {
                Err(format!("--{name} takes a positive number of seconds, got {s}"))
            }
        };
        let spec = ClusterSpec {
            workers: self.workers.unwrap_or(1),
            process: self.process.unwrap_or(0),
            fingerprint: fingerprint(&addresses),
            addresses,
            connect_timeout: seconds("connect-timeout", self.connect_timeout)?,
            peer_timeout: seconds("peer-timeout", self.peer_timeout)?,
        };
        spec.check()?;
        Ok(spec)
    }
}

/// A digest of the job, which every process of a cluster must share: the
/// population's content id ([`aumann_data::format::content_id`]: the same
/// data under another path agrees, other data does not), every setting
/// that changes the numbers (the study's settings, less where each
/// process keeps its checkpoints), and the cluster's addresses. Paths,
/// thread counts and timeouts are not part of it.
pub fn job_fingerprint(content: &str, config: &StudyConfig, addresses: &[String]) -> u64 {
    let settings = StudyConfig {
        checkpoints: None,
        ..config.clone()
    };
    let mut hasher = twox_hash::XxHash64::with_seed(0);
    for part in addresses.iter().chain([&content.to_string(), &format!("{settings:?}")]) {
        std::hash::Hasher::write(&mut hasher, part.as_bytes());
        std::hash::Hasher::write_u8(&mut hasher, 0);
    }
    std::hash::Hasher::finish(&hasher)
}

/// What a checkpoint of this run belongs to, as far as the command knows:
/// the population's content (every value read, so an edited table or
/// another population under the same path is told apart, and the same one
/// under another path is not) and the split over processes and workers.
/// The study adds the indicator's and the engine's parts.
pub fn checkpoint_identity(content: &str, processes: usize, workers: usize) -> JobIdentity {
    JobIdentity {
        data: identity_part(content),
        layout: identity_part(&format!("{processes} processes, {workers} workers")),
        ..JobIdentity::default()
    }
}

/// Removes the checkpoints of a run whose outputs are written.
pub fn remove_checkpoints(config: &StudyConfig) {
    if let Some(c) = &config.checkpoints {
        for path in config.indicators.iter().flat_map(|&indicator| c.paths(indicator)) {
            aumann_data::checkpoint::remove(&path);
        }
        // Left only if empty: the directory may hold other runs' files.
        let _ = std::fs::remove_dir(&c.dir);
    }
}

/// What a cluster's process 0 keeps of a study: the data, the result, the
/// settings it ran with, and the seconds spent reading the population.
pub struct Studied {
    pub data: Arc<Dataset>,
    pub result: StudyResult,
    pub config: StudyConfig,
    pub load_seconds: f64,
}

/// A study as one process of a cluster. Returns the data, the result and
/// the settings it ran with (its checkpoints) on process 0, the one that
/// writes outputs; None on the others.
pub fn study(source: &Source, config: &StudyConfig, cluster: &ClusterArgs) -> Result<Option<Studied>, crate::Error> {
    // The options are checked before the population is read (which takes
    // a while); the fingerprint needs the population.
    cluster.spec(|_| 0)?;
    let process = cluster.process.unwrap_or(0);
    let loading = std::time::Instant::now();
    let mut data = source.load_showing(process == 0)?;
    let load_seconds = loading.elapsed().as_secs_f64();
    let content = aumann_data::format::content_id(&data);
    let spec = cluster.spec(|addresses| job_fingerprint(&content, config, addresses))?;
    let mut config = config.clone();
    config.checkpoints = cluster.checkpoint.clone().map(|dir| Checkpoints {
        dir,
        // Not the addresses: a cluster started again on other ports (or
        // hosts) continues the same job.
        identity: checkpoint_identity(&content, spec.processes(), spec.workers),
        prefix: format!("process-{}-", spec.process),
        workers: spec.workers,
    });
    // The process builds its workers' replays before the cluster starts,
    // so that, as in one process, the population's edge tables can go
    // before the sweeps allocate (nothing reads them again unless panels
    // or curves do).
    let workers = spec.workers;
    let shards = spec.processes() * workers;
    let terminal = (process == 0).then(progress::Terminal::new);
    let observer: &dyn Observer = match &terminal {
        Some(t) => t,
        None => &(),
    };
    // Only process 0's first worker reports (panels, rankings, curves, the
    // tables); the others make the attributions alone
    // (`aumann_study::attribute_built`), so a process other than 0 needs
    // no more than its shards' rows, and nothing of the population once
    // they are built.
    let reports = process == 0;
    let mut replays = Vec::with_capacity(workers);
    for local in 0..workers {
        let shard = (spec.process * workers + local, shards);
        let last = local + 1 == workers;
        replays.push(Some(if reports && local == 0 {
            // The last replay of process 0 releases the population's edge
            // tables as it is built, unless panels or curves read them later.
            if last {
                aumann_study::build_replay_releasing(&mut data, &config, Some(shard), observer)?
            } else {
                aumann_study::build_replay(&data, &config, Some(shard), observer)?
            }
        } else {
            let release = last && (!reports || !config.reads_edges_after_the_build());
            aumann_study::build_attribution_shard(&mut data.population, &config, shard, release, observer)?
        }));
    }
    if let Some(t) = terminal {
        t.finish();
    }
    let replays = std::sync::Mutex::new(replays);
    let data = if reports {
        Some(Arc::new(data))
    } else {
        // Ids, stances, follower counts and activity: 0.2 GB at full scale.
        drop(data);
        None
    };
    let job_data = data.clone();
    let job_config = config.clone();
    let results = aumann_cluster::run(&spec, move |transport| {
        let terminal = (transport.shard() == 0).then(progress::Terminal::new);
        let observer: &dyn Observer = match &terminal {
            Some(t) => t,
            None => &(),
        };
        let mut config = job_config.clone();
        if let Some(c) = &mut config.checkpoints {
            // Each worker's state holds its own gates: a file each.
            *c = c.of_worker(transport.shard() % workers);
        }
        // Timely numbers a process's workers process * workers + local.
        let built = replays.lock().expect("the replays")[transport.shard() % workers]
            .take()
            .expect("each worker takes its own replay, once");
        let backend = Sharded(transport);
        let result = match &job_data {
            Some(data) if transport.shard() == 0 => {
                aumann_study::run_built(data, built, &config, &backend, observer).map(Some)
            }
            _ => aumann_study::attribute_built(built, &config, &backend, observer).map(|_| None),
        };
        if let Some(t) = terminal {
            t.finish();
        }
        result
    })?;
    report_traffic(&spec, &results);
    let mut first = None;
    for result in results.into_iter().map(|r| r.value) {
        if let Some(study) = result? {
            first = Some(study);
        }
    }
    if spec.process != 0 {
        // Process 0 removes its own once the outputs are written.
        remove_checkpoints(&config);
    }
    Ok(data.zip(first).map(|(data, result)| Studied {
        data,
        result,
        config,
        load_seconds,
    }))
}

/// One line on stderr: what this process's workers sent.
fn report_traffic<T>(spec: &ClusterSpec, results: &[WorkerResult<T>]) {
    let total = results.iter().fold(Traffic::default(), |t, r| Traffic {
        rounds: t.rounds.max(r.traffic.rounds),
        bytes: t.bytes + r.traffic.bytes,
        bytes_between_processes: t.bytes_between_processes + r.traffic.bytes_between_processes,
        largest_network_buffer: t.largest_network_buffer.max(r.traffic.largest_network_buffer),
    });
    // One write, so that the lines of processes sharing a terminal do not
    // interleave.
    let line = format!(
        "process {} of {} ({} worker{}): sent {:.1} MB to other processes, {:.1} MB in all, in {} rounds; largest network buffer {:.1} MB\n",
        spec.process,
        spec.processes(),
        spec.workers,
        if spec.workers == 1 { "" } else { "s" },
        total.bytes_between_processes as f64 / 1e6,
        total.bytes as f64 / 1e6,
        total.rounds,
        total.largest_network_buffer as f64 / 1e6
    );
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
}

/// Run `aumann attribute` or `aumann study` as a cluster of processes on
/// this machine's loopback: tries a cluster run without a hostfile.
///
/// Starts P processes of this program with --processes P --process i
/// --workers W and a hostfile of free loopback ports, waits for all of
/// them, and fails if any failed. Process 0 writes the outputs and prints
/// the summary, exactly as one process would.
///
/// Example: aumann cluster-local -n 3 -w 2 -- attribute --agents 20000 --out out/three
#[derive(clap::Args)]
pub struct LocalArgs {
    /// Processes to start.
    #[arg(short = 'n', long, value_name = "P")]
    processes: usize,
    /// Worker threads per process.
    #[arg(short = 'w', long, default_value_t = 1, value_name = "W")]
    workers: usize,
    /// Seconds each process waits for the others to connect.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    connect_timeout: f64,
    /// The command to run (attribute or study) and its options.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "COMMAND"
    )]
    command: Vec<String>,
}

/// The most processes `cluster-local` starts.
const MAX_LOCAL_PROCESSES: usize = 64;

pub fn local(args: LocalArgs, threads: Option<usize>) -> Result<(), crate::Error> {
    if args.processes == 0 || args.processes > MAX_LOCAL_PROCESSES {
        return Err(format!("-n takes 1 to {MAX_LOCAL_PROCESSES} processes, got {}", args.processes).into());
    }
    let command = args.command.first().map(String::as_str).unwrap_or("");
    if !["attribute", "study"].contains(&command) {
        return Err(format!("cluster-local runs `attribute` or `study`, not `{command}`").into());
    }
    let cluster_options = ["--workers", "--processes", "--process", "--hostfile", "--first-port"];
    if let Some(given) = args.command.iter().find(|a| {
        cluster_options
            .iter()
            .any(|o| a == o || a.starts_with(&format!("{o}=")))
    }) {
        return Err(format!("cluster-local sets {given} itself: leave it out of the command").into());
    }
    let directory = tempfile::tempdir()?;
    let hostfile = directory.path().join("hostfile");
    std::fs::write(&hostfile, free_loopback_addresses(args.processes)?.join("\n") + "\n")?;
    let program = std::env::current_exe()?;
    let mut children: Vec<Child> = Vec::with_capacity(args.processes);
    for process in 0..args.processes {
        let mut child = Command::new(&program);
        if let Some(n) = threads {
            child.args(["--threads", &n.to_string()]);
        }
        child
            .args(&args.command)
            .args(["--processes", &args.processes.to_string()])
            .args(["--process", &process.to_string()])
            .args(["--workers", &args.workers.to_string()])
            .arg("--hostfile")
            .arg(&hostfile)
            .args(["--connect-timeout", &args.connect_timeout.to_string()])
            .stdin(Stdio::null());
        if process > 0 {
            child.stdout(Stdio::null());
        }
        match child.spawn() {
            Ok(c) => children.push(c),
            Err(e) => {
                for mut c in children {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                return Err(format!("cannot start process {process}: {e}").into());
            }
        }
    }
    let mut failed = Vec::new();
    for (process, mut child) in children.into_iter().enumerate() {
        let status = child.wait()?;
        if !status.success() {
            failed.push(format!("process {process} ({status})"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} processes failed: {}",
            failed.len(),
            args.processes,
            failed.join(", ")
        )
        .into())
    }
}

/// Loopback addresses on ports free a moment ago (the system picks them).
fn free_loopback_addresses(count: usize) -> Result<Vec<String>, crate::Error> {
    let listeners = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.to_string()))
        .collect::<Result<_, _>>()?)
}
