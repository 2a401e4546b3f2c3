//! The timely transport between processes (threads here, each with its own
//! sockets): parcels reach their target in the right round, and a peer that
//! stops sending is named within the peer timeout.

use aumann_cluster::{ClusterError, ClusterSpec, PIECE_BYTES, TimelyTransport, WorkerResult, run};
use aumann_models::{Parcel, PushItem, Transport};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn free_addresses(count: usize) -> Vec<String> {
    let listeners: Vec<_> = (0..count).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect()
}

fn spec(addresses: &[String], process: usize, workers: usize, peer_timeout: Duration) -> ClusterSpec {
    ClusterSpec {
        workers,
        process,
        addresses: addresses.to_vec(),
        connect_timeout: Duration::from_secs(20),
        peer_timeout,
        fingerprint: 42,
    }
}

/// Runs `rounds(process)` rounds on every worker of `processes` processes
/// (threads of this test) and returns each process's outcome.
fn cluster(
    processes: usize,
    workers: usize,
    rounds: fn(usize) -> u64,
    peer_timeout: Duration,
) -> Vec<Result<Vec<u64>, ClusterError>> {
    let addresses = free_addresses(processes);
    let handles: Vec<_> = (0..processes)
        .map(|p| {
            let spec = spec(&addresses, p, workers, peer_timeout);
            std::thread::spawn(move || {
                run(&spec, move |t| {
                    let (me, shards) = (t.shard(), t.shards());
                    let mut checked = 0;
                    for round in 0..rounds(p) {
                        let parcels = (0..shards)
                            .map(|s| Parcel {
                                ids: vec![me as u32, s as u32, round as u32],
                                words: vec![round; s + 1],
                            })
                            .collect();
                        for (from, parcel) in t.exchange(parcels).into_iter().enumerate() {
                            if from == me {
                                assert_eq!(parcel, Parcel::default());
                                continue;
                            }
                            assert_eq!(parcel.ids, vec![from as u32, me as u32, round as u32]);
                            assert_eq!(parcel.words, vec![round; me + 1]);
                            checked += 1;
                        }
                    }
                    checked
                })
                .map(|results| results.into_iter().map(|r| r.value).collect())
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn parcels_reach_their_worker_in_their_round() {
    for (processes, workers) in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 2)] {
        let shards = (processes * workers) as u64;
        for outcome in cluster(processes, workers, |_| 5, Duration::from_secs(30)) {
            let checked = outcome.unwrap();
            assert_eq!(checked, vec![5 * (shards - 1); workers], "{processes} x {workers}");
        }
    }
}

#[test]
fn a_peer_that_stops_sending_is_named_within_the_timeout() {
    let started = Instant::now();
    // Process 1 leaves after two rounds; process 0 waits for a third.
    let outcomes = cluster(2, 1, |p| if p == 1 { 2 } else { 3 }, Duration::from_millis(1500));
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    let err = outcomes[0].as_ref().unwrap_err();
    match err {
        ClusterError::Silent { missing, .. } => assert_eq!(missing[0].0, 1, "{err}"),
        other => panic!("expected a silent peer, got {other}"),
    }
    assert!(err.to_string().contains("process 1"), "{err}");
}

/// Runs `job` on every worker of `processes` processes of `workers` workers
/// (threads of this test, each process with its own sockets) and returns
/// every worker's result, process by process.
fn on_every_worker<T, F>(processes: usize, workers: usize, job: F) -> Vec<WorkerResult<T>>
where
    T: Send + 'static,
    F: Fn(&TimelyTransport<'_>) -> T + Clone + Send + Sync + 'static,
{
    let addresses = free_addresses(processes);
    let handles: Vec<_> = (0..processes)
        .map(|p| {
            let spec = spec(&addresses, p, workers, Duration::from_secs(60));
            let job = job.clone();
            std::thread::spawn(move || run(&spec, job))
        })
        .collect();
    handles.into_iter().flat_map(|h| h.join().unwrap().unwrap()).collect()
}

#[test]
fn large_parcels_arrive_whole_and_keep_the_network_buffers_small() {
    // 16 MB of words and 2 MB of ids from each worker to each other, three
    // rounds: 64 pieces each, whose messages fit timely's initial 1 MiB
    // buffers. Sent whole, each would grow every buffer it passes through
    // to 32 MiB.
    let (id_count, value_count) = (2 << 19, 2 << 20);
    let results = on_every_worker(2, 2, move |t| {
        let (me, shards) = (t.shard(), t.shards());
        let parcel = |from: usize, to: usize, round: u64| Parcel {
            ids: (0..id_count)
                .map(|i| (i ^ (from * 7 + to * 3 + round as usize)) as u32)
                .collect(),
            words: (0..value_count)
                .map(|v| (v + from * 1000 + to) as u64 + (round << 40))
                .collect(),
        };
        for round in 0..3 {
            let parcels = (0..shards).map(|s| parcel(me, s, round)).collect();
            for (from, got) in t.exchange(parcels).into_iter().enumerate() {
                if from != me {
                    assert!(got == parcel(from, me, round), "round {round} from {from} to {me}");
                }
            }
        }
    });
    for traffic in results.into_iter().map(|r| r.traffic) {
        assert_eq!(traffic.rounds, 3);
        assert!(
            traffic.largest_network_buffer > 0 && traffic.largest_network_buffer <= 4 << 20,
            "largest network buffer {} bytes (pieces of {PIECE_BYTES})",
            traffic.largest_network_buffer
        );
    }
}

#[test]
fn rounds_sent_item_by_item_are_read_piece_by_piece_in_order() {
    // Each worker sends each other worker `items(from, to)` items of 3
    // values (none to one of them), over several pieces; the second round
    // is dropped unread, and the third must still meet the third.
    let items = |from: usize, to: usize| {
        if (from + to).is_multiple_of(3) {
            0
        } else {
            20_000 + 5_000 * (from + 2 * to)
        }
    };
    let value = |from: usize, id: u32, m: usize, round: u64| (from * 1_000_000 + id as usize * 3 + m) as u64 + round;
    let results = on_every_worker(2, 2, move |t| {
        let (me, shards) = (t.shard(), t.shards());
        let mut pieces = 0;
        for round in 0..3_u64 {
            let mut write = |to: usize, push: &mut PushItem<'_>| {
                for id in 0..items(me, to) as u32 {
                    let v: Vec<u64> = (0..3).map(|m| value(me, id, m, round)).collect();
                    push(id * 2 + 1, &v);
                }
            };
            let incoming = t.send(3, &mut write);
            if round == 1 {
                drop(incoming);
                continue;
            }
            let mut next = vec![0_u32; shards];
            incoming.read(&mut |from, ids, words| {
                assert_ne!(from, me);
                assert!(ids.len() * 4 <= PIECE_BYTES && words.len() * 8 <= PIECE_BYTES);
                assert_eq!(words.len(), 3 * ids.len());
                for (&id, v) in ids.iter().zip(words.chunks_exact(3)) {
                    assert_eq!(id, next[from] * 2 + 1, "in order from {from}");
                    let expected: Vec<u64> = (0..3).map(|m| value(from, next[from], m, round)).collect();
                    assert_eq!(v, &expected[..], "round {round} from {from}");
                    next[from] += 1;
                }
                pieces += 1;
            });
            for from in (0..shards).filter(|&s| s != me) {
                assert_eq!(next[from] as usize, items(from, me), "all of round {round} from {from}");
            }
        }
        pieces
    });
    for pieces in results.into_iter().map(|r| r.value) {
        // Two rounds read from three peers, at least two pieces from each
        // peer that sends something, one (empty) from one that does not.
        assert!(pieces >= 2 * 5, "{pieces} pieces");
    }
}
