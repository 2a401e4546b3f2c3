//! A run's whole life, the same for every front end: [`Run::execute`]
//! stages the outputs, reads or generates the population, builds the
//! replays (letting the population's edge tables go where nothing reads
//! them again), runs the study in this process or as one process of a
//! cluster, writes the outputs whole, and removes its checkpoints once
//! they are written. The command line and the Python package fill in a
//! [`Run`] from their flags or keyword arguments and print or return what
//! comes back; neither decides anything about a run's course.

use crate::figures::{self, ApartError, FigureError};
use crate::output::{self, Extras, SaveError};
use crate::study::{BuiltReplay, Checkpoints, Role, Rows, StudyConfig, StudyError, StudyResult};
use aumann_cluster::{ClusterError, ClusterSpec, Traffic};
use aumann_data::Dataset;
use aumann_data::checkpoint::{JobIdentity, identity_part};
use aumann_data::format::{self, FormatError};
use aumann_data::progress::Observer;
use aumann_data::staged::{Manifest, OutputError, StagedDir};
use aumann_data::synth::SynthParams;
use aumann_models::{Local, Sharded, Transport};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where a run's population comes from.
#[derive(Clone, Debug)]
pub enum Input {
    /// A population directory (written by `aumann synth` or `aumann
    /// ingest`), read by the run.
    Directory(PathBuf),
    /// The built-in generator's population.
    Generated(SynthParams),
    /// A population the caller already holds. It stays the caller's, so
    /// its edge tables are kept; a population the run reads itself lets
    /// them go while its replay is built, unless panels or curves read
    /// them later (the numbers are the same either way).
    InMemory(Arc<Dataset>),
}

/// Where the charts go as files.
#[derive(Clone, Debug, PartialEq)]
pub enum Figures {
    None,
    /// Into the output directory's figures/.
    InOut,
    /// Into a directory of their own, outside the output directory.
    Apart(PathBuf),
}

/// One process's place in a cluster (docs/distributed.md). The job's
/// fingerprint, which every process must share, is the run's to make.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// `host:port` of every process, process 0 first.
    pub addresses: Vec<String>,
    /// This process's index, from 0. Process 0 writes the outputs.
    pub process: usize,
    /// Worker threads per process; each holds one shard of the agents.
    pub workers: usize,
    pub connect_timeout: Duration,
    pub peer_timeout: Duration,
}

impl Cluster {
    /// The addresses of a cluster: a hostfile's (one host:port per
    /// process, process 0 first), or `processes` loopback ports from
    /// `first_port` up. A process count given beside a hostfile must
    /// agree with it. `option` spells a setting as the front end takes it.
    pub fn addresses(
        hostfile: Option<&Path>,
        processes: Option<usize>,
        first_port: u16,
        option: &dyn Fn(&str) -> String,
    ) -> Result<Vec<String>, RunError> {
        match hostfile {
            Some(path) => {
                let addresses = aumann_cluster::read_hostfile(path)?;
                match processes {
                    Some(n) if n != addresses.len() => Err(RunError::Settings(format!(
                        "{} {n}, but the hostfile {} names {} processes",
                        option("processes"),
                        path.display(),
                        addresses.len()
                    ))),
                    _ => Ok(addresses),
                }
            }
            None => {
                let n = processes.unwrap_or(1);
                if n == 0 || first_port as usize + n > u16::MAX as usize + 1 {
                    return Err(RunError::Settings(format!(
                        "{} {n} from port {first_port} does not fit",
                        option("processes")
                    )));
                }
                Ok(aumann_cluster::loopback(n, first_port))
            }
        }
    }

    /// A timeout given in seconds: a positive number below 10^9 (about 30
    /// years; `Duration` takes no more). `option` spells its name as the
    /// front end takes it.
    pub fn timeout(name: &str, seconds: f64, option: &dyn Fn(&str) -> String) -> Result<Duration, RunError> {
        if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 {
            Ok(Duration::from_secs_f64(seconds))
        } else {
            Err(RunError::Settings(format!(
                "{} takes a positive number of seconds, got {seconds}",
                option(name)
            )))
        }
    }

    /// Refuses a place no cluster has, in the front end's spelling.
    fn check(&self, option: &dyn Fn(&str) -> String) -> Result<(), RunError> {
        let max = aumann_cluster::MAX_WORKERS;
        if self.workers == 0 || self.workers > max {
            return Err(RunError::Settings(format!(
                "{} takes 1 to {max} worker threads, got {}",
                option("workers"),
                self.workers
            )));
        }
        if self.process >= self.addresses.len() {
            return Err(RunError::Settings(format!(
                "{} {} is not below the number of processes ({}): processes count from 0",
                option("process"),
                self.process,
                self.addresses.len()
            )));
        }
        Ok(self.spec(0).check()?)
    }

    fn spec(&self, fingerprint: u64) -> ClusterSpec {
        ClusterSpec {
            workers: self.workers,
            process: self.process,
            addresses: self.addresses.clone(),
            connect_timeout: self.connect_timeout,
            peer_timeout: self.peer_timeout,
            fingerprint,
        }
    }
}

/// A run: its population, its settings, where it writes, and its place in
/// a cluster when it has one.
#[derive(Clone, Debug)]
pub struct Run {
    pub input: Input,
    /// How run.json names the input ("out/population", "the built-in
    /// population (--agents 20000 ...)").
    pub input_label: String,
    /// The study's settings. Its checkpoints are the run's to fill in
    /// (from `checkpoint_dir`): any given here are replaced.
    pub config: StudyConfig,
    /// The output directory: the tables, summary.json, run.json and, as
    /// asked, report.html and figures/. None writes nothing there (the
    /// result comes back in memory).
    pub out: Option<PathBuf>,
    /// report.html in `out`.
    pub report: bool,
    pub figures: Figures,
    /// Save each full-scale attribution's progress here after every sweep;
    /// the same run started again continues from there with the same
    /// numbers. The files go once the outputs are written.
    pub checkpoint_dir: Option<PathBuf>,
    /// None runs in this process alone.
    pub cluster: Option<Cluster>,
    /// Threads of this run's own pool; None uses the global one. A cluster
    /// run takes its threads from the global pool (each worker's exchanges
    /// must stay on its own thread), so it refuses this.
    pub threads: Option<usize>,
    /// A setting's name as the front end spells it ("permutations" is
    /// "--permutations" on the command line), for the messages.
    pub option_name: fn(&str) -> String,
}

/// What a run gives back.
pub struct Ran {
    /// The result, on the process that writes the outputs (alone, or
    /// process 0 of a cluster); None on a cluster's other processes.
    pub finished: Option<Finished>,
    /// What this process's workers sent, on a cluster.
    pub traffic: Option<ClusterTraffic>,
}

/// A run's result, where the outputs are written.
pub struct Finished {
    pub data: Arc<Dataset>,
    pub result: StudyResult,
    /// The files written, in name order (the output directory's, then the
    /// figures' directory's).
    pub written: Vec<PathBuf>,
    /// Seconds spent reading or generating the population; None when it
    /// was in memory already.
    pub load_seconds: Option<f64>,
    /// Seconds from the start of [`Run::execute`] to the outputs written.
    pub seconds: f64,
}

/// What a cluster's process sent, over all its workers.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusterTraffic {
    pub process: usize,
    pub processes: usize,
    pub workers: usize,
    pub traffic: Traffic,
}

impl ClusterTraffic {
    /// One line: what this process's workers sent.
    pub fn describe(&self) -> String {
        let t = &self.traffic;
        format!(
            "process {} of {} ({} worker{}): sent {:.1} MB to other processes, {:.1} MB in all, in {} rounds; largest network buffer {:.1} MB",
            self.process,
            self.processes,
            self.workers,
            if self.workers == 1 { "" } else { "s" },
            t.bytes_between_processes as f64 / 1e6,
            t.bytes as f64 / 1e6,
            t.rounds,
            t.largest_network_buffer as f64 / 1e6
        )
    }
}

/// Why a run stopped. Each kind a front end may word or classify in its
/// own way is a variant of its own.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Settings no run can take (in the front end's spelling).
    #[error("{0}")]
    Settings(String),
    #[error(transparent)]
    Study(#[from] StudyError),
    /// The population directory could not be read.
    #[error(transparent)]
    Read(#[from] FormatError),
    /// An output directory cannot be written, or could not be.
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Save(#[from] SaveError),
    #[error(transparent)]
    Figure(#[from] FigureError),
    /// The figures' directory of their own is, holds or lies inside the
    /// output directory.
    #[error("the figures' directory {figures} overlaps the output {out}")]
    FiguresOverlap { figures: PathBuf, out: PathBuf },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

impl From<ApartError> for RunError {
    fn from(error: ApartError) -> Self {
        match error {
            ApartError::Overlaps { figures, out } => RunError::FiguresOverlap { figures, out },
            ApartError::Output(e) => RunError::Output(e),
        }
    }
}

/// The outputs, staged before the work so that a directory that cannot be
/// written fails at once.
struct Staged {
    out: Option<StagedDir>,
    figures_apart: Option<StagedDir>,
}

/// The population as the run holds it.
enum Loaded {
    /// Read or generated by the run: its edge tables may go.
    Owned(Box<Dataset>),
    Shared(Arc<Dataset>),
}

impl Loaded {
    fn data(&self) -> &Dataset {
        match self {
            Loaded::Owned(d) => d,
            Loaded::Shared(d) => d,
        }
    }

    /// The population to change: a shared one is copied first.
    fn owned(&mut self) -> &mut Dataset {
        if let Loaded::Shared(d) = self {
            *self = Loaded::Owned(Box::new(Dataset::clone(d)));
        }
        match self {
            Loaded::Owned(d) => d,
            Loaded::Shared(_) => unreachable!("made owned above"),
        }
    }

    fn into_shared(self) -> Arc<Dataset> {
        match self {
            Loaded::Owned(d) => Arc::from(d),
            Loaded::Shared(d) => d,
        }
    }

    /// The rows a build reads, released as it reads them when asked and
    /// the run owns them.
    fn rows(&mut self, release: bool) -> Rows<'_> {
        match self {
            Loaded::Owned(d) => {
                if release {
                    Rows::Releasing(&mut d.population)
                } else {
                    Rows::Borrowed(&d.population)
                }
            }
            Loaded::Shared(d) => Rows::Borrowed(&d.population),
        }
    }
}

impl Run {
    /// Refuses what no population can change (before anything is read or
    /// staged): the study's settings, the generator's, the cluster's.
    pub fn check(&self) -> Result<(), RunError> {
        let option = self.option_name;
        self.config.check(&option)?;
        if let Input::Generated(params) = &self.input {
            aumann_data::synth::check(params, &option).map_err(RunError::Settings)?;
        }
        if self.figures == Figures::InOut && self.out.is_none() {
            return Err(RunError::Settings(format!(
                "the figures go into {}'s figures/: give {} too, or a directory of their own",
                option("out"),
                option("out")
            )));
        }
        if let Some(cluster) = &self.cluster {
            cluster.check(&option)?;
            if self.config.fit.is_some() {
                return Err(RunError::Settings(format!(
                    "{} runs in one process: fit first (`aumann fit`), then give the cluster the values (--params)",
                    option("fit")
                )));
            }
            if self.config.sensitivity.is_some() {
                return Err(RunError::Settings(format!(
                    "{} runs in one process: give the cluster {} none",
                    option("sensitivity"),
                    option("sensitivity")
                )));
            }
            if self.threads.is_some() {
                return Err(RunError::Settings(format!(
                    "{} sets the threads of a run in one process; a cluster's workers share the process's global pool",
                    option("threads")
                )));
            }
        }
        if self.threads == Some(0) {
            return Err(RunError::Settings(format!("{} must be at least 1", option("threads"))));
        }
        Ok(())
    }

    /// Whether this process writes the outputs and reports.
    fn writes(&self) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.process == 0)
    }

    /// What the run reads from disk, which its outputs must stay apart
    /// from.
    fn inputs(&self) -> Vec<&Path> {
        let mut inputs = match &self.input {
            Input::Directory(dir) => vec![dir.as_path()],
            Input::Generated(_) | Input::InMemory(_) => Vec::new(),
        };
        inputs.extend(self.config.stances.as_ref().and_then(|s| s.path()));
        inputs.extend(
            (self.config.sensitivity.as_ref())
                .and_then(|s| s.baseline.as_ref())
                .and_then(|b| b.path()),
        );
        inputs
    }

    /// Runs the whole of it, telling `progress` each stage (on the process
    /// that writes; the others stay quiet). The result comes back on that
    /// process once every output is written.
    pub fn execute(self, progress: &dyn Observer) -> Result<Ran, RunError> {
        let started = Instant::now();
        self.check()?;
        let writes = self.writes();
        let progress: &dyn Observer = if writes { progress } else { &() };
        let staged = if writes { Some(self.stage()?) } else { None };
        let loading = Instant::now();
        let mut loaded = match &self.input {
            Input::InMemory(data) => Loaded::Shared(Arc::clone(data)),
            Input::Directory(dir) => Loaded::Owned(Box::new(format::read_observed(dir, progress)?)),
            Input::Generated(params) => Loaded::Owned(Box::new(aumann_data::synth::generate(params, progress))),
        };
        let load_seconds = matches!(loaded, Loaded::Owned(_)).then(|| loading.elapsed().as_secs_f64());
        crate::sensitivity::check_inputs(loaded.data(), &self.config).map_err(StudyError::from)?;
        // A fit to stances gives the population the stances of step 0
        // first, so that the content a checkpoint names is the one the
        // replay starts from.
        let fit_stances = match (&self.config.fit, &self.config.stances) {
            (Some(_), Some(_)) => crate::study::stances_for_fit(loaded.owned(), &self.config)?,
            _ => None,
        };
        let content =
            (self.cluster.is_some() || self.checkpoint_dir.is_some()).then(|| format::content_id(loaded.data()));
        let (processes, workers) = self.cluster.as_ref().map_or((1, 1), |c| (c.addresses.len(), c.workers));
        let mut config = self.config.clone();
        config.checkpoints = self.checkpoint_dir.clone().map(|dir| Checkpoints {
            dir,
            // Not the addresses: a cluster started again on other ports
            // (or hosts) continues the same job.
            identity: checkpoint_identity(content.as_deref().unwrap_or_default(), processes, workers),
            prefix: match &self.cluster {
                Some(c) => format!("process-{}-", c.process),
                None => String::new(),
            },
            workers,
        });
        let (reported, traffic) = match &self.cluster {
            None => {
                let pool = match self.threads {
                    Some(n) => Some(
                        rayon::ThreadPoolBuilder::new()
                            .num_threads(n)
                            .build()
                            .map_err(|e| RunError::Settings(format!("cannot start {n} threads: {e}")))?,
                    ),
                    None => None,
                };
                let alone = || run_alone(loaded, &config, fit_stances, progress);
                let reported = match &pool {
                    Some(pool) => pool.install(alone),
                    None => alone(),
                }?;
                (Some(reported), None)
            }
            Some(cluster) => {
                let fingerprint =
                    job_fingerprint(content.as_deref().unwrap_or_default(), &self.config, &cluster.addresses);
                let spec = cluster.spec(fingerprint);
                let (reported, traffic) = run_in_cluster(loaded, &config, &spec, progress)?;
                if !writes {
                    // Process 0 removes its own once the outputs are written.
                    remove_checkpoints(&config);
                }
                (reported, Some(traffic))
            }
        };
        let (Some((result, data)), Some(staged)) = (reported, staged) else {
            return Ok(Ran {
                finished: None,
                traffic,
            });
        };
        let written = self.write(staged, &data, &result, load_seconds, started, progress)?;
        remove_checkpoints(&config);
        Ok(Ran {
            finished: Some(Finished {
                data,
                result,
                written,
                load_seconds,
                seconds: started.elapsed().as_secs_f64(),
            }),
            traffic,
        })
    }

    fn stage(&self) -> Result<Staged, RunError> {
        let inputs = self.inputs();
        // The figures' own directory first: it may not overlap the output,
        // whose swap would take it along.
        let figures_apart = match &self.figures {
            Figures::Apart(dir) => Some(figures::stage_apart(dir, self.out.as_deref(), &inputs)?),
            Figures::None | Figures::InOut => None,
        };
        let out = match &self.out {
            Some(out) => Some(StagedDir::create(out, &output::FILES, &inputs)?),
            None => None,
        };
        Ok(Staged { out, figures_apart })
    }

    fn write(
        &self,
        staged: Staged,
        data: &Dataset,
        result: &StudyResult,
        load_seconds: Option<f64>,
        started: Instant,
        progress: &dyn Observer,
    ) -> Result<Vec<PathBuf>, RunError> {
        let manifest = Manifest::new(&self.input_label, &format::fingerprint(data));
        let mut written = Vec::new();
        if let Some(out) = staged.out {
            progress.stage("writing outputs", None);
            let extras = Extras {
                report: self.report.then(|| (load_seconds, started.elapsed().as_secs_f64())),
                figures: self.figures == Figures::InOut,
            };
            written = output::save(out, data, result, extras, manifest.clone())?;
        }
        if let Some(apart) = staged.figures_apart {
            progress.stage("writing figures", None);
            figures::write(result, &|name| {
                apart.path(name.strip_prefix("figures/").unwrap_or(name))
            })?;
            written.extend(apart.commit(Some(manifest))?);
        }
        Ok(written)
    }
}

/// What the reporting process has once the study is done: the result,
/// and the population it was made from.
type Reported = (StudyResult, Arc<Dataset>);

/// The study in this process alone: the replay built from the population
/// (its edge tables released as they are read, when the run owns them and
/// nothing reads them later), then the study.
fn run_alone(
    mut loaded: Loaded,
    config: &StudyConfig,
    stances: Option<crate::study::FitStances>,
    progress: &dyn Observer,
) -> Result<Reported, RunError> {
    let release = !config.reads_edges_after_the_build();
    let built = crate::study::build(loaded.rows(release), config, Role::Reports(None), stances, progress)?;
    let data = loaded.into_shared();
    let result = crate::study::run_built(&data, built, config, &Local, progress)?;
    Ok((result, data))
}

/// The study as one process of a cluster. Every worker makes the
/// full-scale attributions together; process 0's first worker alone then
/// runs the rest of the study (panels, rankings, curves), which needs the
/// attributions whole. So a process other than 0 needs no more than its
/// workers' rows, and drops the population once their replays are built.
fn run_in_cluster(
    mut loaded: Loaded,
    config: &StudyConfig,
    spec: &ClusterSpec,
    progress: &dyn Observer,
) -> Result<(Option<Reported>, ClusterTraffic), RunError> {
    let workers = spec.workers;
    let shards = spec.processes() * workers;
    let reports = spec.process == 0;
    // The replays are built before the cluster starts, so that, as in one
    // process, the population's edge tables can go before the sweeps
    // allocate.
    let mut replays: Vec<Option<BuiltReplay>> = Vec::with_capacity(workers);
    for local in 0..workers {
        let shard = (spec.process * workers + local, shards);
        let role = if reports && local == 0 {
            Role::Reports(Some(shard))
        } else {
            Role::Attributes(shard)
        };
        // The last build lets the edge tables go, unless this process
        // reports and panels or curves read them later.
        let release = local + 1 == workers && (!reports || !config.reads_edges_after_the_build());
        replays.push(Some(crate::study::build(
            loaded.rows(release),
            config,
            role,
            None,
            progress,
        )?));
    }
    // Ids, stances, follower counts and activity are all a reporting
    // process keeps (0.2 GB at full scale); the others keep nothing.
    let data = reports.then(|| loaded.into_shared());
    let replays = std::sync::Mutex::new(replays);
    let relay = Relay::new();
    let (job_data, job_config, job_relay) = (data.clone(), config.clone(), relay.observer());
    let job = move |transport: &aumann_cluster::TimelyTransport<'_>| {
        let shard = transport.shard();
        let observer: &dyn Observer = if shard == 0 { &job_relay } else { &() };
        let mut config = job_config.clone();
        if let Some(c) = &mut config.checkpoints {
            // Each worker's state holds its own gates: a file each.
            *c = c.of_worker(shard % workers);
        }
        // Timely numbers a process's workers process * workers + local.
        let built = replays.lock().expect("the replays")[shard % workers]
            .take()
            .expect("each worker takes its own replay, once");
        let backend = Sharded(transport);
        match &job_data {
            Some(data) if shard == 0 => crate::study::run_built(data, built, &config, &backend, observer).map(Some),
            _ => crate::study::attribute_built(built, &config, &backend, observer).map(|_| None),
        }
    };
    let results = relay.forward_while(progress, || aumann_cluster::run(spec, job))?;
    let traffic = ClusterTraffic {
        process: spec.process,
        processes: spec.processes(),
        workers,
        traffic: results.iter().fold(Traffic::default(), |t, r| Traffic {
            rounds: t.rounds.max(r.traffic.rounds),
            bytes: t.bytes + r.traffic.bytes,
            bytes_between_processes: t.bytes_between_processes + r.traffic.bytes_between_processes,
            largest_network_buffer: t.largest_network_buffer.max(r.traffic.largest_network_buffer),
        }),
    };
    let mut first = None;
    for result in results.into_iter().map(|r| r.value) {
        if let Some(study) = result? {
            first = Some(study);
        }
    }
    Ok((first.zip(data), traffic))
}

/// What a cluster's reporting worker tells the caller's observer: the
/// workers run on timely's threads, past the life of any borrowed
/// observer, so their progress crosses to the calling thread as messages,
/// and the caller's interrupt crosses back as a flag.
struct Relay {
    sender: mpsc::Sender<Message>,
    receiver: mpsc::Receiver<Message>,
    stop: Arc<AtomicBool>,
}

enum Message {
    Stage(String, Option<u64>),
    Advance(u64, u64, String),
    Note(String),
}

/// The observer the reporting worker holds.
struct Relayed {
    sender: mpsc::Sender<Message>,
    stop: Arc<AtomicBool>,
}

impl Observer for Relayed {
    fn stage(&self, name: &str, total: Option<u64>) {
        let _ = self.sender.send(Message::Stage(name.into(), total));
    }

    fn advance(&self, done: u64, total: u64, detail: &str) {
        let _ = self.sender.send(Message::Advance(done, total, detail.into()));
    }

    fn interrupted(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn note(&self, text: &str) {
        let _ = self.sender.send(Message::Note(text.into()));
    }
}

/// How often the calling thread passes on progress and asks whether to
/// stop while the workers run.
const RELAY_POLL: Duration = Duration::from_millis(50);

impl Relay {
    fn new() -> Self {
        let (sender, receiver) = mpsc::channel();
        Self {
            sender,
            receiver,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    fn observer(&self) -> Relayed {
        Relayed {
            sender: self.sender.clone(),
            stop: Arc::clone(&self.stop),
        }
    }

    /// Runs `work` on a thread of its own, passing what the relayed
    /// observers send on to `progress` until it returns. (A failed
    /// cluster leaves its workers, and their senders, to the process's
    /// exit: the end of `work`, not of the channel, ends the loop.)
    fn forward_while<T: Send>(self, progress: &dyn Observer, work: impl FnOnce() -> T + Send) -> T {
        std::thread::scope(|scope| {
            let worker = scope.spawn(work);
            let forward = |message| match message {
                Message::Stage(name, total) => progress.stage(&name, total),
                Message::Advance(done, total, detail) => progress.advance(done, total, &detail),
                Message::Note(text) => progress.note(&text),
            };
            loop {
                // Read before draining, so that nothing sent before the
                // work returned is left behind.
                let finished = worker.is_finished();
                self.receiver.try_iter().for_each(forward);
                if progress.interrupted() {
                    self.stop.store(true, Ordering::Relaxed);
                }
                if finished {
                    break;
                }
                if let Ok(message) = self.receiver.recv_timeout(RELAY_POLL) {
                    forward(message);
                }
            }
            match worker.join() {
                Ok(value) => value,
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

/// A digest of the job, which every process of a cluster must share: the
/// population's content id ([`aumann_data::format::content_id`]: the same
/// data under another path agrees, other data does not), every setting
/// that changes the numbers (the study's settings, less where each process
/// keeps its checkpoints), and the cluster's addresses. Paths, thread
/// counts and timeouts are not part of it.
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

/// What a checkpoint of a run belongs to, as far as the run knows: the
/// population's content (every value read, so an edited table or another
/// population under the same path is told apart, and the same one under
/// another path is not) and the split over processes and workers. The
/// study adds the indicator's and the engine's parts.
pub fn checkpoint_identity(content: &str, processes: usize, workers: usize) -> JobIdentity {
    JobIdentity {
        data: identity_part(content),
        layout: identity_part(&format!("{processes} processes, {workers} workers")),
        ..JobIdentity::default()
    }
}

/// Removes the checkpoints of a run whose outputs are written (or, on a
/// cluster's other processes, whose part is done).
fn remove_checkpoints(config: &StudyConfig) {
    if let Some(c) = &config.checkpoints {
        for path in config.indicators.iter().flat_map(|&indicator| c.paths(indicator)) {
            aumann_data::checkpoint::remove(&path);
        }
        // Left only if empty: the directory may hold other runs' files.
        let _ = std::fs::remove_dir(&c.dir);
    }
}
