//! The cluster options of `attribute` and `study` (the run itself is
//! `aumann_study::Run`'s), and `aumann cluster-local`.

use aumann_study::DEFAULT_FIRST_PORT;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

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
    #[arg(long, default_value_t = aumann_study::DEFAULT_CONNECT_TIMEOUT.as_secs_f64(), value_name = "SECONDS")]
    pub connect_timeout: f64,
    /// Seconds a worker waits on a peer that sends nothing before the whole
    /// run stops (a lost connection stops it at once).
    #[arg(long, default_value_t = aumann_study::DEFAULT_PEER_TIMEOUT.as_secs_f64(), value_name = "SECONDS")]
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
    /// One process, no checkpoints: what a command without these flags
    /// runs as.
    pub fn alone() -> Self {
        Self {
            workers: None,
            processes: None,
            process: None,
            hostfile: None,
            first_port: DEFAULT_FIRST_PORT,
            connect_timeout: aumann_study::DEFAULT_CONNECT_TIMEOUT.as_secs_f64(),
            peer_timeout: aumann_study::DEFAULT_PEER_TIMEOUT.as_secs_f64(),
            checkpoint: None,
        }
    }

    /// This process's place in a cluster, when any of the cluster options
    /// is given (--checkpoint alone is a run in one process).
    pub fn cluster(&self) -> Result<Option<aumann_study::Cluster>, crate::Error> {
        if self.workers.is_none() && self.processes.is_none() && self.process.is_none() && self.hostfile.is_none() {
            return Ok(None);
        }
        let seconds = |name: &str, s: f64| aumann_study::Cluster::timeout(name, s, &crate::options::flag);
        Ok(Some(aumann_study::Cluster {
            addresses: aumann_study::Cluster::addresses(
                self.hostfile.as_deref(),
                self.processes,
                self.first_port,
                &crate::options::flag,
            )?,
            process: self.process.unwrap_or(0),
            workers: self.workers.unwrap_or(1),
            connect_timeout: seconds("connect-timeout", self.connect_timeout)?,
            peer_timeout: seconds("peer-timeout", self.peer_timeout)?,
        }))
    }
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
