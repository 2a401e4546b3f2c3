//! One full attribution at one population size: what `aumann bench replay`
//! measures, each size in a child process of its own so that peak memory is
//! that size's.

use crate::BenchError;
use aumann_data::synth::{SynthParams, generate};
use aumann_engine::AumannShapley;
use aumann_models::{FollowGraph, Indicator, Replay, ReplayOptions, attribute};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The measurements of one run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReplayRun {
    pub agents: usize,
    pub indicator: String,
    pub edges: usize,
    pub gates: usize,
    pub generate_seconds: f64,
    /// Reading the population back from the Parquet directory the
    /// generator wrote (what `aumann attribute --input` starts with).
    pub load_seconds: f64,
    pub build_seconds: f64,
    pub attribute_seconds: f64,
    pub nodes: usize,
    pub gradient_evaluations: usize,
    pub relative_gap: f64,
    pub edges_read: u64,
    /// Edges read over the follow graph's edge count.
    pub graph_passes: f64,
    /// Each edge read is a 4-byte index into the senders' rows.
    pub graph_bytes_per_second: f64,
    pub peak_rss_bytes: u64,
    /// One plain CSR pass Y = A X over the follow graph, in the replay's
    /// agent order, with X of `spmm_width` columns (the engine's batch),
    /// best of three: the floor for one pass of a sweep.
    pub spmm_seconds: f64,
    pub spmm_width: usize,
    /// Every round of load, build and attribution in this process, the
    /// first (whose times are also the fields above) included.
    #[serde(default)]
    pub rounds: Vec<Round>,
}

/// One round of load, build and attribution. The first round of a process
/// first touches every page it uses; a later round reuses the pages the
/// one before freed, so it shows what the work costs where fresh memory is
/// cheap (BENCHMARKS.md, "What a first touch costs on this machine").
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Round {
    pub load_seconds: f64,
    pub build_seconds: f64,
    pub attribute_seconds: f64,
    /// The kernel's CPU time for the process over the load and the build,
    /// and over the attribution: mostly the zeroing of fresh pages.
    pub setup_system_seconds: f64,
    pub attribute_system_seconds: f64,
}

impl Round {
    /// Load and build over attribution time.
    pub fn setup_share(&self) -> f64 {
        (self.load_seconds + self.build_seconds) / self.attribute_seconds
    }
}

impl ReplayRun {
    /// One line of the text table; `streaming` is the machine's rate in
    /// bytes per second (see [`streaming_rate`]).
    pub fn line(&self, streaming: f64) -> String {
        format!(
            "{:>9} agents {:<13} {:>7.2} s attribute ({:>2} nodes, {:>3} evaluations, gap {:.1e}), load {:>5.2} s + build {:>5.2} s = {:.2} of the attribution, peak {:>6.2} GB, {:>5.0} graph passes, {:>5.2} GB/s of graph ({:.0}% of {:.1} GB/s streaming); one evaluation {:.3} s = {:.1} plain CSR passes of width {} ({:.3} s each), {:.2}x the floor per pass",
            self.agents,
            self.indicator,
            self.attribute_seconds,
            self.nodes,
            self.gradient_evaluations,
            self.relative_gap,
            self.load_seconds,
            self.build_seconds,
            self.setup_share(),
            self.peak_rss_bytes as f64 / 1e9,
            self.graph_passes,
            self.graph_bytes_per_second / 1e9,
            100.0 * self.graph_bytes_per_second / streaming,
            streaming / 1e9,
            self.evaluation_seconds(),
            self.evaluation_seconds() / self.spmm_seconds,
            self.spmm_width,
            self.spmm_seconds,
            self.pass_over_floor(),
        ) + &self.rounds_line()
    }

    /// The kernel's CPU time of each round, and the shares of the rounds
    /// after the first: one indented line each.
    fn rounds_line(&self) -> String {
        let kernel = |round: &Round| {
            format!(
                "kernel CPU {:.1} s in load and build, {:.1} s in the attribution",
                round.setup_system_seconds, round.attribute_system_seconds
            )
        };
        let mut line = String::new();
        for (k, round) in self.rounds.iter().enumerate() {
            line += &if k == 0 {
                format!("\n    first round: {}", kernel(round))
            } else {
                format!(
                    "\n    round {}: {:.2} s attribute, load {:.2} s + build {:.2} s = {:.2} of the attribution; {}",
                    k + 1,
                    round.attribute_seconds,
                    round.load_seconds,
                    round.build_seconds,
                    round.setup_share(),
                    kernel(round),
                )
            };
        }
        line
    }

    /// Load and build over attribution time.
    pub fn setup_share(&self) -> f64 {
        (self.load_seconds + self.build_seconds) / self.attribute_seconds
    }

    /// Attribution time per gradient evaluation.
    pub fn evaluation_seconds(&self) -> f64 {
        self.attribute_seconds / self.gradient_evaluations.max(1) as f64
    }

    /// Time per graph pass of the sweeps (edges read over edges, each pass
    /// as wide as a batch) over the time of a plain CSR pass as wide: how
    /// far each pass is from the floor.
    pub fn pass_over_floor(&self) -> f64 {
        self.attribute_seconds / self.graph_passes.max(f64::MIN_POSITIVE) / self.spmm_seconds
    }
}

/// Generates the built-in population at `agents` and `steps`, writes it,
/// then `rounds` times (at least once) reads it back, builds the replay and
/// attributes `indicator` with `engine`, timing each stage. Every round must
/// give the first round's φ bit for bit; the peak memory is the first
/// round's.
pub fn measure(
    agents: usize,
    steps: usize,
    indicator: Indicator,
    engine: &AumannShapley,
    rounds: usize,
) -> Result<ReplayRun, BenchError> {
    let t = Instant::now();
    let data = generate(
        &SynthParams {
            agents,
            steps,
            ..Default::default()
        },
        &(),
    );
    let generate_seconds = t.elapsed().as_secs_f64();
    let dir = std::env::temp_dir().join(format!("aumann-bench-{}-{agents}", std::process::id()));
    aumann_data::format::write(&dir, &data)?;
    drop(data);
    let measured = measure_rounds(&dir, indicator, engine, rounds.max(1));
    // Best effort: a leftover directory in the temporary folder is harmless.
    let _ = std::fs::remove_dir_all(&dir);
    let Measured {
        replay,
        attribution: r,
        rounds,
        peak_rss_bytes,
    } = measured?;
    let first = rounds[0].clone();
    let (load_seconds, build_seconds, attribute_seconds) =
        (first.load_seconds, first.build_seconds, first.attribute_seconds);
    let edges = replay.graph().edges();
    // The sweeps pad a batch to a width they are compiled for.
    let spmm_width = match engine.batch {
        0..=1 => 1,
        2..=4 => 4,
        5..=8 => 8,
        9..=12 => 12,
        _ => 16,
    };
    let spmm_seconds = spmm_pass_seconds(replay.graph(), spmm_width);
    Ok(ReplayRun {
        agents,
        indicator: indicator.name().into(),
        edges,
        gates: replay.players(),
        generate_seconds,
        load_seconds,
        build_seconds,
        attribute_seconds,
        nodes: r.gates.nodes,
        gradient_evaluations: r.gates.gradient_evaluations,
        relative_gap: r.gates.relative_gap(),
        edges_read: r.edges_read,
        graph_passes: r.edges_read as f64 / edges.max(1) as f64,
        graph_bytes_per_second: r.edges_read as f64 * 4.0 / attribute_seconds,
        peak_rss_bytes,
        spmm_seconds,
        spmm_width,
        rounds,
    })
}

/// What [`measure_rounds`] leaves: the last round's replay and result.
struct Measured {
    replay: Replay,
    attribution: aumann_models::ReplayAttribution,
    rounds: Vec<Round>,
    peak_rss_bytes: u64,
}

/// The rounds of [`measure`] over the population written in `dir`.
fn measure_rounds(
    dir: &std::path::Path,
    indicator: Indicator,
    engine: &AumannShapley,
    rounds: usize,
) -> Result<Measured, BenchError> {
    let mut done = Vec::with_capacity(rounds);
    let mut first: Option<(u64, u64)> = None;
    loop {
        let (t, system) = (Instant::now(), system_seconds());
        let mut data = aumann_data::format::read(dir)?;
        let load_seconds = t.elapsed().as_secs_f64();
        let t = Instant::now();
        // As `aumann attribute` builds it: the population's edge tables
        // released as the build reads them.
        let replay = Replay::releasing(&mut data.population, ReplayOptions::default(), None, &|_, _| {})?;
        let build_seconds = t.elapsed().as_secs_f64();
        drop(data);
        let (t, setup_system) = (Instant::now(), system_seconds());
        let r = attribute(&replay, indicator, engine)?;
        let attribute_seconds = t.elapsed().as_secs_f64();
        let end_system = system_seconds();
        done.push(Round {
            load_seconds,
            build_seconds,
            attribute_seconds,
            setup_system_seconds: setup_system - system,
            attribute_system_seconds: end_system - setup_system,
        });
        let digest = phi_digest(&r.gates.phi);
        match first {
            None => first = Some((digest, peak_rss())),
            Some((expected, _)) if expected != digest => {
                return Err(BenchError::Differs(format!(
                    "round {} of the {} attribution gave other φ than the first",
                    done.len(),
                    indicator.name()
                )));
            }
            Some(_) => {}
        }
        if done.len() == rounds {
            let peak_rss_bytes = first.map_or(0, |(_, peak)| peak);
            return Ok(Measured {
                replay,
                attribution: r,
                rounds: done,
                peak_rss_bytes,
            });
        }
    }
}

/// The bits of every φ, hashed in order.
fn phi_digest(phi: &[f64]) -> u64 {
    use std::hash::{DefaultHasher, Hasher};
    let mut hasher = DefaultHasher::new();
    for value in phi {
        hasher.write_u64(value.to_bits());
    }
    hasher.finish()
}

/// The kernel's CPU seconds for this process so far (0 where the platform
/// does not say).
fn system_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: getrusage writes a whole rusage into the buffer it is
        // given, which is one, and reads nothing else.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            // SAFETY: initialized by the successful call above.
            let t = unsafe { usage.assume_init() }.ru_stime;
            return t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        }
    }
    0.0
}

/// Seconds of one plain CSR pass, y_j = sum over j's followees i of x_i for
/// every column, with x of `width` f64 columns per agent (agent-major, as
/// the sweeps keep their states), rows in parallel: best of three. Widths
/// other than 1, 4, 8 and 12 run at 16.
pub fn spmm_pass_seconds(graph: &FollowGraph, width: usize) -> f64 {
    match width {
        1 => spmm_fixed::<1>(graph),
        4 => spmm_fixed::<4>(graph),
        8 => spmm_fixed::<8>(graph),
        12 => spmm_fixed::<12>(graph),
        _ => spmm_fixed::<16>(graph),
    }
}

fn spmm_fixed<const K: usize>(graph: &FollowGraph) -> f64 {
    use rayon::prelude::*;
    let n = graph.agents();
    let x: Vec<[f64; K]> = (0..n).map(|i| [1.0 + (i % 7) as f64; K]).collect();
    let mut y = vec![[0.0; K]; n];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        y.par_chunks_mut(1024).enumerate().for_each(|(c, rows)| {
            for (r, out) in rows.iter_mut().enumerate() {
                let mut sum = [0.0; K];
                for &i in graph.followees(c * 1024 + r) {
                    let xi = &x[i as usize];
                    for m in 0..K {
                        sum[m] += xi[m];
                    }
                }
                *out = sum;
            }
        });
        best = best.min(t.elapsed().as_secs_f64());
        std::hint::black_box(&y);
    }
    best
}

/// The process's peak resident memory (VmHWM), 0 where /proc is missing.
pub fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l.to_string()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()))
        .map_or(0, |kb| kb * 1024)
}

/// Bytes per second that all cores stream when summing a 1 GiB array, best
/// of three: the bandwidth a graph sweep could reach at best.
pub fn streaming_rate() -> f64 {
    use rayon::prelude::*;
    let data = vec![1u64; 1 << 27];
    let mut best = 0.0f64;
    for _ in 0..3 {
        let t = Instant::now();
        let s: u64 = data.par_chunks(1 << 16).map(|c| c.iter().sum::<u64>()).sum();
        std::hint::black_box(s);
        best = best.max((data.len() * 8) as f64 / t.elapsed().as_secs_f64());
    }
    best
}
