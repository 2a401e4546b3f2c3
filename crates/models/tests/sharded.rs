//! Sharded sweeps: every indicator, split over 1 to 4 workers that meet
//! through an in-memory transport, gives the single-process attribution bit
//! for bit.

mod support;

use aumann_engine::AumannShapley;
use aumann_models::Repost;
use aumann_models::{
    Indicator, Message, Network, Parcel, PathEnds, Population, Replay, ReplayOptions, Sharded, Transport, attribute,
    attribute_on, send, send_floats,
};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use support::{random_population, with_network};

/// Workers on threads of one process, joined by channels. Each pair keeps
/// FIFO order, and every worker makes the same calls, so the k-th parcel
/// from a peer is its k-th round.
struct Mesh {
    shard: usize,
    peers: Vec<Sender<(usize, Parcel)>>,
    inbox: Mutex<Inbox>,
    bytes: Mutex<usize>,
}

/// Parcels as they come, and per peer those that came early.
type Inbox = (Receiver<(usize, Parcel)>, Vec<VecDeque<Parcel>>);

fn mesh(count: usize) -> Vec<Mesh> {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..count).map(|_| channel()).unzip();
    receivers
        .into_iter()
        .enumerate()
        .map(|(shard, inbox)| Mesh {
            shard,
            peers: senders.clone(),
            inbox: Mutex::new((inbox, vec![VecDeque::new(); count])),
            bytes: Mutex::new(0),
        })
        .collect()
}

impl Transport for Mesh {
    fn shard(&self) -> usize {
        self.shard
    }
    fn shards(&self) -> usize {
        self.peers.len()
    }
    fn exchange(&self, parcels: Vec<Parcel>) -> Vec<Parcel> {
        assert_eq!(parcels.len(), self.shards());
        for (s, parcel) in parcels.into_iter().enumerate() {
            if s != self.shard {
                *self.bytes.lock().unwrap() += parcel.bytes();
                self.peers[s].send((self.shard, parcel)).unwrap();
            }
        }
        let mut guard = self.inbox.lock().unwrap();
        let (inbox, queues) = &mut *guard;
        (0..self.shards())
            .map(|s| {
                if s == self.shard {
                    return Parcel::default();
                }
                while queues[s].is_empty() {
                    let (from, parcel) = inbox.recv().unwrap();
                    queues[from].push_back(parcel);
                }
                queues[s].pop_front().unwrap()
            })
            .collect()
    }
}

fn engine() -> AumannShapley {
    AumannShapley::default().fixed(12)
}

/// A path between two gate vectors: gates partly open at the input, and a
/// baseline in which the gates of the last of `count` shards' agents that
/// another shard reads stay partly open, the others closed. So the workers
/// must agree on the sweep's variant (affine or not), which their own
/// gates alone would not tell, and the others read those emissions'
/// constant terms; reposts read their parents' entries across shards.
fn partly_open(replay: &Replay, count: usize) -> (Vec<f64>, Vec<f64>) {
    let input: Vec<f64> = (0..replay.players()).map(|g| 1.0 - (g % 5) as f64 * 0.05).collect();
    let shards = replay.shards(count);
    let last = (0..count).rev().find(|&s| !shards.range(s).is_empty()).unwrap();
    let range = shards.range(last);
    let read_outside = |agent: usize| (replay.graph().followers(agent).iter()).any(|&j| !range.contains(&(j as usize)));
    // Where no follow crosses out of the last shard (one shard holds
    // everyone), its posting gates all.
    let crossing = range.clone().any(read_outside);
    let baseline: Vec<f64> = replay
        .gate_ids()
        .map(|g| {
            let agent = replay.gate_replay_agent(g).index();
            if range.contains(&agent) && (!crossing || read_outside(agent)) && replay.gate_activity(g) > 0.0 {
                0.25 + (agent % 7) as f64 * 0.05
            } else {
                0.0
            }
        })
        .collect();
    assert!(baseline.iter().any(|&b| b > 0.0), "some gate is open at the baseline");
    (input, baseline)
}

/// `job` on each worker of a mesh of `count`, each on its own thread (the
/// workers' calls are collective); the results in worker order. `inputs`
/// gives each worker its own argument.
fn on_mesh<I: Send, T: Send>(inputs: Vec<I>, job: impl Fn(&Mesh, I) -> T + Sync) -> Vec<T> {
    let workers = mesh(inputs.len());
    let job = &job;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (workers.iter().zip(inputs))
            .map(|(w, input)| scope.spawn(move || job(w, input)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Each worker's result (phi on shard 0, which reports; None on the
/// others), and the bytes it sent.
fn sharded_phi(
    replay: &Replay,
    indicator: Indicator,
    engine: &AumannShapley,
    count: usize,
    (input, baseline): (&[f64], &[f64]),
) -> Vec<(Option<Vec<f64>>, usize)> {
    on_mesh(vec![(); count], |w, ()| {
        let r = attribute_on(
            &Sharded(w),
            replay,
            indicator,
            engine,
            PathEnds::Between { input, baseline },
            &|_| std::ops::ControlFlow::Continue(()),
            None,
        )
        .unwrap();
        (r.map(|r| r.gates.phi), *w.bytes.lock().unwrap())
    })
}

/// Each worker's result when each builds the replay of its own shard's rows.
fn own_rows_phi(
    population: &Population,
    options: ReplayOptions,
    indicator: Indicator,
    count: usize,
) -> Vec<Option<Vec<f64>>> {
    on_mesh(vec![(); count], |w, ()| {
        let replay = Replay::shard(population, options, w.shard(), count, &|_, _| {}).unwrap();
        let continue_ = |_: &aumann_engine::Progress| std::ops::ControlFlow::Continue(());
        attribute_on(
            &Sharded(w),
            &replay,
            indicator,
            &engine(),
            PathEnds::Silence,
            &continue_,
            None,
        )
        .unwrap()
        .map(|r| r.gates.phi)
    })
}

/// Shard 0 gets `single`'s bits; the other workers get nothing.
fn assert_reported(results: &[Option<Vec<f64>>], single: &[f64], what: &str) {
    for (shard, phi) in results.iter().enumerate() {
        match (shard, phi) {
            (0, Some(phi)) => assert!(
                phi.len() == single.len() && phi.iter().zip(single).all(|(a, b)| a.to_bits() == b.to_bits()),
                "{what}: the reported phi differ"
            ),
            (0, None) => panic!("{what}: shard 0 got no result"),
            (_, Some(_)) => panic!("{what}: shard {shard} got a result; only shard 0 reports"),
            (_, None) => {}
        }
    }
}

fn assert_same_bits(population: &Population, options: ReplayOptions, counts: &[usize]) {
    let replay = Replay::with_progress(population, options, &|_, _| {}).unwrap();
    for indicator in Indicator::all() {
        let name = indicator.name();
        let silent = (vec![1.0; replay.players()], vec![0.0; replay.players()]);
        for &count in counts {
            for (kind, (input, baseline)) in [("silent", silent.clone()), ("partly open", partly_open(&replay, count))]
            {
                let single = aumann_models::attribute_between(&replay, indicator, &engine(), &input, &baseline)
                    .unwrap()
                    .gates
                    .phi;
                let results: Vec<_> = sharded_phi(&replay, indicator, &engine(), count, (&input, &baseline))
                    .into_iter()
                    .map(|(phi, _)| phi)
                    .collect();
                assert_reported(
                    &results,
                    &single,
                    &format!("{name} on {count} workers, {kind} baseline"),
                );
            }
        }
        let single = attribute(&replay, indicator, &engine()).unwrap().gates.phi;
        for &count in counts {
            let results = own_rows_phi(population, options, indicator, count);
            assert_reported(
                &results,
                &single,
                &format!("{name} on {count} workers with their own rows"),
            );
        }
    }
}

#[test]
fn a_replay_of_one_shards_rows_holds_less_and_serves_only_its_shard() {
    let population = random_population(9000, 4, 18);
    let whole = Replay::new(&population).unwrap();
    let part = Replay::shard(&population, ReplayOptions::default(), 1, 3, &|_, _| {}).unwrap();
    assert_eq!(part.rows(), whole.shards(3).range(1));
    assert!(!part.is_whole() && whole.is_whole());
    assert!(part.memory_bytes() < whole.memory_bytes());
    assert_eq!(
        part.forward_edges(),
        whole.forward_edges(),
        "edges are counted over every receiver"
    );
    // The follower rows of the shard's own agents only; every count stays.
    let (graph, own) = (part.graph(), part.rows());
    assert!(!graph.holds_every_row() && whole.graph().holds_every_row());
    assert_eq!(graph.edges(), whole.graph().edges());
    for a in 0..part.agents() {
        assert_eq!(graph.follower_count(a), whole.graph().follower_count(a));
        if own.contains(&a) {
            assert_eq!(graph.followers(a), whole.graph().followers(a));
        }
    }
    let outside = std::panic::catch_unwind(|| graph.followers(own.end).len());
    assert!(outside.is_err(), "another shard's follower row is not an empty row");
    let polarization = Indicator::from_name("polarization").unwrap();
    let workspace = aumann_models::Workspace::new();
    let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        polarization.model(&part, &workspace);
    }));
    assert!(refused.is_err(), "a whole-replay model refuses a shard's replay");
    let workers = mesh(3);
    let err = polarization
        .sharded_model(&part, &workspace, &workers[0])
        .err()
        .unwrap();
    assert_eq!((err.shard, err.held.clone()), (0, part.rows()), "{err}");
    assert!(err.to_string().contains("not those of shard 0"), "{err}");
}

#[test]
fn a_shards_own_gates_are_the_gates_of_its_agents_in_gate_order() {
    let population = random_population(9000, 4, 19);
    let replay = Replay::new(&population).unwrap();
    for count in [1, 2, 3, 5] {
        let shards = replay.shards(count);
        let mut held = 0;
        for s in 0..count {
            let own = aumann_models::OwnGates::new(&replay, shards.range(s));
            let expected: Vec<usize> = replay
                .gate_ids()
                .filter(|&g| shards.range(s).contains(&replay.gate_replay_agent(g).index()))
                .map(|g| g.index())
                .collect();
            assert_eq!(own.gates().collect::<Vec<_>>(), expected, "shard {s} of {count}");
            assert_eq!(own.len(), expected.len());
            let mut position = vec![None; replay.players()];
            for (k, &g) in expected.iter().enumerate() {
                position[g] = Some(k);
            }
            for (g, &at) in position.iter().enumerate() {
                assert_eq!(own.local(g), at, "gate {g}");
            }
            let whole: Vec<f64> = (0..replay.players()).map(|g| g as f64).collect();
            assert_eq!(own.take(&whole), expected.iter().map(|&g| g as f64).collect::<Vec<_>>());
            held += own.len();
        }
        assert_eq!(held, replay.players(), "every gate on one shard");
    }
}

#[test]
fn every_indicator_on_several_workers_is_the_single_process_result_bit_for_bit() {
    // 9,000 agents are five blocks of shard bounds: two to four shards of
    // unequal sizes, and traffic both ways.
    let population = random_population(9000, 4, 11);
    assert_same_bits(&population, ReplayOptions::default(), &[1, 2, 3, 4]);
}

#[test]
fn timed_follows_and_exposures_cross_shards_bit_for_bit() {
    let mut population = with_network(random_population(5000, 3, 12), 13);
    population.reposts.clear();
    let options = ReplayOptions {
        network: Network::Both,
        ..Default::default()
    };
    assert_same_bits(&population, options, &[2, 3]);
}

#[test]
fn more_workers_than_blocks_leave_some_idle_and_change_nothing() {
    let population = random_population(1500, 3, 14);
    let replay = Replay::new(&population).unwrap();
    assert_eq!(replay.shards(3).range(0).len(), 1500, "one block holds everyone");
    assert_same_bits(&population, ReplayOptions::default(), &[3]);
}

#[test]
fn reposted_content_crosses_shards_bit_for_bit() {
    let mut population = with_network(random_population(3000, 3, 16), 17);
    // Besides the random reposts (parents at earlier steps or the same
    // one), at every step posts that repost another post of that step
    // (the parent's own term and the reposter's then meet at one step of
    // the reverse sweep) and posts that repost their own author's post.
    let carried: std::collections::HashSet<(u32, u32)> =
        population.reposts.iter().map(|r| (r.reposter, r.step)).collect();
    for t in 0..population.steps as u32 {
        let free: Vec<_> = (population.activity.iter())
            .filter(|a| a.step == t && !carried.contains(&(a.agent, t)))
            .copied()
            .collect();
        for (k, post) in free.iter().take(80).enumerate() {
            let parent = if k < 60 {
                free[free.len() - 1 - k].agent
            } else {
                post.agent
            };
            population.reposts.push(Repost {
                reposter: post.agent,
                step: t,
                parent_author: parent,
                parent_step: t,
                amount: post.amount / 2.0,
            });
        }
    }
    let options = ReplayOptions {
        network: Network::Both,
        ..Default::default()
    };
    let replay = Replay::with_progress(&population, options, &|_, _| {}).unwrap();
    assert!(replay.network().reposts_linked > 1000);
    // Terms cross shards both ways, at earlier steps and at the same one.
    let shards = replay.shards(2);
    let shard = |agent: u32| shards.of(replay.replay_agent(agent).index());
    let crossing: std::collections::HashSet<(usize, bool)> = (population.reposts.iter())
        .filter(|r| shard(r.reposter) != shard(r.parent_author))
        .map(|r| (shard(r.reposter), r.step == r.parent_step))
        .collect();
    assert_eq!(crossing.len(), 4, "{crossing:?}");
    assert_same_bits(&population, options, &[2, 3]);
}

#[test]
fn workers_stopped_between_two_saves_continue_from_the_newest_state_all_hold() {
    use aumann_engine::SweepState;
    use aumann_models::SweepBackend;
    let saved = |evaluations: usize| SweepState {
        finished: vec![(vec![evaluations as f64; 3], vec![0.5; 3])],
        batches: evaluations % 3,
        accumulator: vec![evaluations as f64 * 0.25; 6],
        evaluations,
    };
    let (s0, s1, s2) = (Some(saved(8)), Some(saved(16)), Some(saved(24)));
    // Per worker: (newest, previous) restored; what all must continue from.
    type Restored = (Option<SweepState>, Option<SweepState>);
    let cases: Vec<(Vec<Restored>, Option<SweepState>)> = vec![
        // One worker saved after sweep 3, the other was stopped before.
        (vec![(s2.clone(), s1.clone()), (s1.clone(), s0.clone())], s1.clone()),
        (vec![(s1.clone(), s0.clone()), (s2.clone(), s1.clone())], s1.clone()),
        (vec![(s1.clone(), s0.clone()), (s1.clone(), s0.clone())], s1.clone()),
        (
            vec![
                (s2.clone(), s1.clone()),
                (s1.clone(), s0.clone()),
                (s2.clone(), s1.clone()),
            ],
            s1.clone(),
        ),
        // Nothing in common, or a worker with nothing: all start over.
        (vec![(s2.clone(), s1.clone()), (s0.clone(), None)], None),
        (vec![(None, None), (s1.clone(), s0.clone())], None),
    ];
    for (restored, expected) in cases {
        let chosen: Vec<Option<SweepState>> = on_mesh(restored.clone(), |w, (newest, previous)| {
            Sharded(w).agree(newest, previous)
        });
        for c in &chosen {
            assert_eq!(c, &expected, "{restored:?}");
        }
    }
    // Each worker's state holds its own gates, so states at the same point
    // differ between workers: each continues from its own.
    let own = |seed: f64| SweepState {
        accumulator: vec![seed; 6],
        ..saved(16)
    };
    let restored = [(Some(own(1.0)), s0.clone()), (Some(own(2.0)), None)];
    let chosen: Vec<Option<SweepState>> = on_mesh(restored.to_vec(), |w, (newest, previous)| {
        Sharded(w).agree(newest, previous)
    });
    assert_eq!(chosen, vec![Some(own(1.0)), Some(own(2.0))]);
    // One process: the newest, else the one before it.
    assert_eq!(aumann_models::Local.agree(s2.clone(), s1.clone()), s2);
    assert_eq!(aumann_models::Local.agree(None, s1.clone()), s1);
}

/// A message of the test's own: an integer past 2^53, which an f64 could
/// not carry exactly, beside a float.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Count {
    count: u64,
    share: f64,
}

impl Message for Count {
    const WORDS: usize = 2;
    fn encode(&self, words: &mut [u64]) {
        words.copy_from_slice(&[self.count, self.share.to_bits()]);
    }
    fn decode(words: &[u64]) -> Self {
        Self {
            count: words[0],
            share: f64::from_bits(words[1]),
        }
    }
}

#[test]
fn typed_rounds_carry_every_value_exactly_in_the_order_it_was_pushed() {
    let specials = [
        f64::NAN,
        -0.0,
        f64::MIN_POSITIVE / 3.0,
        f64::INFINITY,
        -1e308,
        1.0 + f64::EPSILON,
    ];
    let big = (1_u64 << 53) + 1;
    let results = on_mesh(vec![(); 3], |t, ()| {
        let me = t.shard() as u64;
        let mut counts = Vec::new();
        send::<Count>(t, &mut |s, push| {
            for k in 0..=s as u64 {
                push(
                    k as u32,
                    &Count {
                        count: big + me * 10 + k,
                        share: specials[k as usize],
                    },
                );
            }
        })
        .read(|from, id, c| counts.push((from, id, c)));
        let mut rows = Vec::new();
        send_floats(t, specials.len(), &mut |_, push| push(7, &specials))
            .read_rows(|from, id, row| rows.push((from, id, row.iter().map(|v| v.to_bits()).collect::<Vec<_>>())));
        let mut requests = Vec::new();
        send::<()>(t, &mut |s, push| push(s as u32, &())).read(|from, id, ()| requests.push((from, id)));
        (counts, rows, requests)
    });
    for (me, (counts, rows, requests)) in results.into_iter().enumerate() {
        let others: Vec<usize> = (0..3).filter(|&s| s != me).collect();
        let expected: Vec<_> = (others.iter())
            .flat_map(|&from| {
                (0..=me as u64).map(move |k| {
                    (
                        from,
                        k as u32,
                        Count {
                            count: big + from as u64 * 10 + k,
                            share: specials[k as usize],
                        },
                    )
                })
            })
            .collect();
        // NaN != NaN: compare the bits.
        let bits = |v: &[(usize, u32, Count)]| -> Vec<(usize, u32, u64, u64)> {
            v.iter().map(|&(f, i, c)| (f, i, c.count, c.share.to_bits())).collect()
        };
        assert_eq!(bits(&counts), bits(&expected), "worker {me}");
        let special_bits: Vec<u64> = specials.iter().map(|v| v.to_bits()).collect();
        assert_eq!(
            rows,
            others
                .iter()
                .map(|&from| (from, 7, special_bits.clone()))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            requests,
            others.iter().map(|&from| (from, me as u32)).collect::<Vec<_>>()
        );
    }
}
