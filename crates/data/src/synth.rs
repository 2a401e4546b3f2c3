//! The built-in Bluesky-like population.
//!
//! Deterministic for a seed, whatever the thread count: agents are generated
//! in fixed chunks, each from its own random stream.

use crate::Dataset;
use crate::dataset::Metadata;
use crate::progress::Observer;
use aumann_models::{Activity, Engagement, Exposure, Order, Population};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, Normal, Poisson, weighted::WeightedAliasIndex};
use rayon::prelude::*;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

/// The scale of the reference study: the Bluesky users active over 14 days.
pub const DEFAULT_AGENTS: usize = 1_671_587;
pub const DEFAULT_STEPS: usize = 14;
pub const DEFAULT_SEED: u64 = 2605;

const CHUNK: usize = 16_384;

/// The largest built-in population: at about 40 follows per agent, 100
/// million agents are 4 billion edges and some 60 GB to generate.
pub const MAX_AGENTS: usize = 100_000_000;

/// The most recommended items a step the generator shows each agent.
pub const MAX_FEED: usize = 1000;

/// Checks the sizes a front end lets users choose (agents, steps, feed)
/// before anything is allocated; `option` spells a setting's name the way
/// the front end takes it, for the messages.
pub fn check(params: &SynthParams, option: &dyn Fn(&str) -> String) -> Result<(), String> {
    if params.agents < 2 || params.steps < 1 {
        return Err(format!(
            "the built-in population needs {} >= 2 and {} >= 1",
            option("agents"),
            option("steps")
        ));
    }
    if params.agents > MAX_AGENTS {
        return Err(format!(
            "the built-in generator makes at most {MAX_AGENTS} agents (about 40 follows each: 4 billion edges); got {} {}",
            option("agents"),
            params.agents
        ));
    }
    aumann_models::population::check_size(params.agents, params.steps).map_err(|e| e.to_string())?;
    if params.feed > MAX_FEED {
        return Err(format!(
            "{} {} shows every agent more than {MAX_FEED} items a step; the feed is meant as a handful",
            option("feed"),
            params.feed
        ));
    }
    Ok(())
}

/// Every knob of the generator; the defaults are documented in
/// docs/population.md with what each reproduces.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SynthParams {
    pub agents: usize,
    pub steps: usize,
    pub seed: u64,
    /// Accounts followed per agent: log-normal with this mean...
    pub mean_followees: f64,
    /// ...and this sigma of the underlying normal, capped at `max_followees`.
    pub followees_sigma: f64,
    pub max_followees: usize,
    /// Popularity is Pareto with this tail exponent: the follower counts'
    /// power-law tail (smaller is heavier).
    pub popularity_tail: f64,
    /// Share of accounts that are rarely followed (lurkers, new accounts),
    /// and their popularity factor: this puts the median in single digits.
    pub lurker_share: f64,
    pub lurker_factor: f64,
    /// Share of agents in community 0 (the other in community 1).
    pub community_share: f64,
    /// Probability that a follow stays within the follower's community.
    pub homophily: f64,
    /// Stance = sigmoid(+-separation + spread * N(0, 1)), by community.
    pub stance_separation: f64,
    pub stance_spread: f64,
    /// Daily posts ~ Poisson(base * (1 + followers)^exponent * LogNormal(0, sigma)).
    pub activity_base: f64,
    pub activity_follower_exponent: f64,
    pub activity_sigma: f64,
    /// Likes and reposts per post, each aimed at the more followed of two
    /// random followees.
    pub engagements_per_post: f64,
    /// Share of agents that trade, and their daily probability of an order.
    pub trader_share: f64,
    pub trade_probability: f64,
    /// Steps [panic_start, panic_start + panic_length) carry net selling of
    /// `panic_drift` standard deviations.
    pub panic_start: usize,
    pub panic_length: usize,
    pub panic_drift: f64,
    /// Recommended authors per agent and step: a feed that shows each agent,
    /// beyond its follows, items of authors drawn in proportion to what
    /// they posted at that step (written as exposures; 0 writes none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub feed: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Default for SynthParams {
    fn default() -> Self {
        Self {
            agents: DEFAULT_AGENTS,
            steps: DEFAULT_STEPS,
            seed: DEFAULT_SEED,
            mean_followees: 40.0,
            followees_sigma: 1.0,
            max_followees: 5_000,
            popularity_tail: 1.5,
            lurker_share: 0.6,
            lurker_factor: 0.05,
            community_share: 0.5,
            homophily: 0.8,
            stance_separation: 0.85,
            stance_spread: 0.6,
            activity_base: 0.06,
            activity_follower_exponent: 0.35,
            activity_sigma: 1.0,
            engagements_per_post: 2.0,
            trader_share: 0.1,
            trade_probability: 0.3,
            panic_start: 9,
            panic_length: 2,
            panic_drift: 0.8,
            feed: 0,
        }
    }
}

/// What kind of account an agent is, drawn before any edge.
struct Traits {
    community: Vec<u8>,
    popularity: Vec<f64>,
    followees: Vec<u32>,
    propensity: Vec<f64>,
    trade_size: Vec<f64>,
    stance: Vec<f64>,
}

fn chunk_rng(seed: u64, stage: u64, chunk: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ stage.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(chunk as u64);
    rng
}

fn traits(p: &SynthParams) -> Traits {
    let followees = LogNormal::new(
        p.mean_followees.ln() - p.followees_sigma.powi(2) / 2.0,
        p.followees_sigma,
    )
    .expect("valid log-normal");
    let propensity = LogNormal::new(0.0, p.activity_sigma).expect("valid log-normal");
    let normal = Normal::new(0.0, 1.0).expect("valid normal");
    // (community, popularity, followees, propensity, trade size, stance)
    type Row = (u8, f64, u32, f64, f64, f64);
    let rows: Vec<Vec<Row>> = (0..p.agents.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut rng = chunk_rng(p.seed, 1, c);
            let range = c * CHUNK..((c + 1) * CHUNK).min(p.agents);
            range
                .map(|_| {
                    let community = u8::from(rng.random::<f64>() >= p.community_share);
                    let u: f64 = 1.0 - rng.random::<f64>();
                    let mut popularity = u.powf(-1.0 / p.popularity_tail);
                    if rng.random::<f64>() < p.lurker_share {
                        popularity *= p.lurker_factor;
                    }
                    let out = (followees.sample(&mut rng).round() as u32).clamp(1, p.max_followees as u32);
                    let trade = if rng.random::<f64>() < p.trader_share {
                        propensity.sample(&mut rng)
                    } else {
                        0.0
                    };
                    let sign = if community == 0 { -1.0 } else { 1.0 };
                    let z: f64 = normal.sample(&mut rng);
                    let stance = 1.0 / (1.0 + (-(sign * p.stance_separation + p.stance_spread * z)).exp());
                    (
                        community,
                        popularity,
                        out,
                        propensity.sample(&mut rng),
                        trade,
                        stance.clamp(1e-6, 1.0 - 1e-6),
                    )
                })
                .collect()
        })
        .collect();
    let mut t = Traits {
        community: Vec::with_capacity(p.agents),
        popularity: Vec::with_capacity(p.agents),
        followees: Vec::with_capacity(p.agents),
        propensity: Vec::with_capacity(p.agents),
        trade_size: Vec::with_capacity(p.agents),
        stance: Vec::with_capacity(p.agents),
    };
    for (community, popularity, out, propensity, trade, stance) in rows.into_iter().flatten() {
        t.community.push(community);
        t.popularity.push(popularity);
        t.followees.push(out);
        t.propensity.push(propensity);
        t.trade_size.push(trade);
        t.stance.push(stance);
    }
    t
}

/// The community (0 or 1) the generator planted each agent in, as
/// [`generate`] draws it for the same parameters: the ground truth that
/// stance estimates are checked against.
pub fn planted_communities(p: &SynthParams) -> Vec<u8> {
    traits(p).community
}

/// Counts finished chunks of a parallel stage for a progress display.
struct ChunkCounter<'a> {
    done: AtomicU64,
    total: u64,
    progress: &'a dyn Observer,
}

impl<'a> ChunkCounter<'a> {
    fn start(progress: &'a dyn Observer, name: &str, total: usize) -> Self {
        progress.stage(name, Some(total as u64));
        Self {
            done: AtomicU64::new(0),
            total: total as u64,
            progress,
        }
    }

    fn tick(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.progress.advance(done, self.total, "chunks of agents");
    }
}

/// Generates the population, telling `progress` each stage and the chunks
/// of agents done.
pub fn generate(p: &SynthParams, progress: &dyn Observer) -> Dataset {
    assert!(
        p.agents >= 2 && p.steps >= 1,
        "a population needs at least 2 agents and 1 step"
    );
    progress.stage("generating: traits", None);
    let traits = traits(p);
    let members: [Vec<u32>; 2] = [0u8, 1].map(|c| {
        (0..p.agents as u32)
            .filter(|&i| traits.community[i as usize] == c)
            .collect()
    });
    // A community may be empty at tiny sizes: then everyone follows across.
    let samplers: Vec<Option<WeightedAliasIndex<f64>>> = members
        .iter()
        .map(|m| {
            (!m.is_empty()).then(|| {
                WeightedAliasIndex::new(m.iter().map(|&i| traits.popularity[i as usize]).collect()).expect("weights")
            })
        })
        .collect();

    let counter = ChunkCounter::start(progress, "generating: follows", p.agents.div_ceil(CHUNK));
    let chunks: Vec<Vec<(u32, u32)>> = (0..p.agents.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            counter.tick();
            let mut rng = chunk_rng(p.seed, 2, c);
            let mut edges = Vec::new();
            let mut picks = Vec::new();
            for j in c * CHUNK..((c + 1) * CHUNK).min(p.agents) {
                picks.clear();
                let own = traits.community[j] as usize;
                for _ in 0..traits.followees[j] {
                    let mut side = if rng.random::<f64>() < p.homophily {
                        own
                    } else {
                        1 - own
                    };
                    if samplers[side].is_none() {
                        side = 1 - side;
                    }
                    let i = members[side][samplers[side].as_ref().expect("a community").sample(&mut rng)];
                    if i as usize != j {
                        picks.push(i);
                    }
                }
                picks.sort_unstable();
                picks.dedup();
                edges.extend(picks.iter().map(|&i| (j as u32, i)));
            }
            edges
        })
        .collect();
    let follows: Vec<(u32, u32)> = chunks.concat();
    let mut followers = vec![0f64; p.agents];
    for &(_, i) in &follows {
        followers[i as usize] += 1.0;
    }
    // follows are grouped by follower: row offsets for picking engagement targets
    let mut offsets = vec![0usize; p.agents + 1];
    for &(j, _) in &follows {
        offsets[j as usize + 1] += 1;
    }
    for j in 0..p.agents {
        offsets[j + 1] += offsets[j];
    }

    let counter = ChunkCounter::start(progress, "generating: activity", p.agents.div_ceil(CHUNK));
    let normal = Normal::new(0.0, 1.0).expect("valid normal");
    let per_chunk: Vec<(Vec<Activity>, Vec<Engagement>, Vec<Order>)> = (0..p.agents.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            counter.tick();
            let mut rng = chunk_rng(p.seed, 3, c);
            let (mut activity, mut engagements, mut orders) = (Vec::new(), Vec::new(), Vec::new());
            for i in c * CHUNK..((c + 1) * CHUNK).min(p.agents) {
                let rate =
                    p.activity_base * (1.0 + followers[i]).powf(p.activity_follower_exponent) * traits.propensity[i];
                let followees = &follows[offsets[i]..offsets[i + 1]];
                for t in 0..p.steps {
                    let posts = poisson(&mut rng, rate);
                    if posts > 0.0 {
                        activity.push(Activity {
                            agent: i as u32,
                            step: t as u32,
                            amount: posts,
                        });
                        if !followees.is_empty() {
                            let n = poisson(&mut rng, p.engagements_per_post * posts) as usize;
                            for _ in 0..n {
                                let a = followees[rng.random_range(0..followees.len())].1;
                                let b = followees[rng.random_range(0..followees.len())].1;
                                let author = if followers[a as usize] >= followers[b as usize] {
                                    a
                                } else {
                                    b
                                };
                                engagements.push(Engagement {
                                    engager: i as u32,
                                    author,
                                    step: t as u32,
                                    amount: 1.0,
                                });
                            }
                        }
                    }
                    if traits.trade_size[i] > 0.0 && rng.random::<f64>() < p.trade_probability {
                        let drift = if (p.panic_start..p.panic_start + p.panic_length).contains(&t) {
                            p.panic_drift
                        } else {
                            0.0
                        };
                        let z: f64 = normal.sample(&mut rng);
                        orders.push(Order {
                            agent: i as u32,
                            step: t as u32,
                            flow: traits.trade_size[i] * (z + drift),
                        });
                    }
                }
            }
            (activity, engagements, orders)
        })
        .collect();
    let mut population = Population {
        agents: p.agents,
        steps: p.steps,
        stance: traits.stance,
        followers,
        follows,
        ..Default::default()
    };
    for (a, e, o) in per_chunk {
        population.activity.extend(a);
        population.engagements.extend(e);
        population.orders.extend(o);
    }
    if p.feed > 0 {
        population.exposures = feed(p, &population.activity, progress);
    }
    let external_ids = (0..p.agents).map(|i| format!("synth:{i}")).collect();
    let meta = Metadata::new(
        "synth",
        p.agents,
        p.steps,
        86_400,
        Some(p.seed),
        serde_json::to_value(p).expect("parameters serialise"),
    );
    Dataset {
        population,
        external_ids,
        meta,
        stance_detail: None,
        lexicon_hits: None,
        groups: Some(traits.community.iter().map(|&c| format!("community {c}")).collect()),
    }
}

/// `p.feed` exposures per agent and step, each to one item of an author
/// drawn in proportion to what the author posted at that step.
fn feed(p: &SynthParams, activity: &[Activity], progress: &dyn Observer) -> Vec<Exposure> {
    let mut posted: Vec<Vec<(u32, f64)>> = vec![Vec::new(); p.steps];
    for a in activity {
        posted[a.step as usize].push((a.agent, a.amount));
    }
    let samplers: Vec<Option<WeightedAliasIndex<f64>>> = posted
        .iter()
        .map(|authors| WeightedAliasIndex::new(authors.iter().map(|a| a.1).collect()).ok())
        .collect();
    let counter = ChunkCounter::start(progress, "generating: feed", p.agents.div_ceil(CHUNK));
    let chunks: Vec<Vec<Exposure>> = (0..p.agents.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            counter.tick();
            let mut rng = chunk_rng(p.seed, 4, c);
            let mut shown = Vec::new();
            for j in c * CHUNK..((c + 1) * CHUNK).min(p.agents) {
                for (t, sampler) in samplers.iter().enumerate() {
                    let Some(sampler) = sampler else { continue };
                    for _ in 0..p.feed {
                        let author = posted[t][sampler.sample(&mut rng)].0;
                        if author as usize != j {
                            shown.push(Exposure {
                                reader: j as u32,
                                author,
                                step: t as u32,
                                posted: None,
                                amount: 1.0,
                            });
                        }
                    }
                }
            }
            shown
        })
        .collect();
    chunks.concat()
}

fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    Poisson::new(mean).map(|d| d.sample(rng)).unwrap_or(0.0)
}
