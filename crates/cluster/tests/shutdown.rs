//! A peer that exits once its job is done, before timely's orderly
//! shutdown: the other process keeps its results. In a binary of its own,
//! because a lost peer is recorded for the whole process (as it is in a
//! real run, where a process belongs to one cluster).

use aumann_cluster::{ClusterSpec, run};
use aumann_models::{Parcel, Transport};
use std::net::TcpListener;
use std::time::Duration;

fn free_addresses(count: usize) -> Vec<String> {
    let listeners: Vec<_> = (0..count).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect()
}

fn spec(addresses: &[String], process: usize) -> ClusterSpec {
    ClusterSpec {
        workers: 1,
        process,
        addresses: addresses.to_vec(),
        connect_timeout: Duration::from_secs(20),
        peer_timeout: Duration::from_secs(30),
        fingerprint: 42,
    }
}

/// The role this test binary plays when it starts itself as a peer.
const PEER_ROLE: &str = "AUMANN_TEST_PEER_ADDRESSES";

#[test]
fn a_peer_that_exits_after_the_job_leaves_the_results_standing() {
    // As the peer (process 1, a child of this test): two rounds, a moment
    // for them to leave, then an exit without timely's orderly shutdown.
    if let Ok(addresses) = std::env::var(PEER_ROLE) {
        let addresses: Vec<String> = addresses.split(',').map(String::from).collect();
        let _ = run(&spec(&addresses, 1), |t| {
            for _ in 0..2 {
                t.exchange(vec![Parcel::default(); t.shards()]);
            }
            std::thread::sleep(Duration::from_secs(1));
            std::process::exit(0);
        });
        unreachable!("the peer exits inside its job");
    }
    let addresses = free_addresses(2);
    let mut peer = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_peer_that_exits_after_the_job_leaves_the_results_standing",
            "--nocapture",
        ])
        .env(PEER_ROLE, addresses.join(","))
        .spawn()
        .unwrap();
    let outcome = run(&spec(&addresses, 0), |t| {
        for _ in 0..2 {
            t.exchange(vec![Parcel::default(); t.shards()]);
        }
        // Still running when the peer exits.
        std::thread::sleep(Duration::from_secs(2));
        t.shard()
    });
    assert!(peer.wait().unwrap().success());
    let results = outcome.expect("every worker returned before the peer left");
    assert_eq!(results.iter().map(|r| r.value).collect::<Vec<_>>(), vec![0]);
}
