//! [`Transport`] over a timely worker: each round is one epoch of a
//! dataflow that routes parcels to their target worker.

use crate::failure;
use aumann_models::{Parcel, Transport};
use fragile::Fragile;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::InputHandle;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Input;
use timely::dataflow::operators::generic::operator::Operator;
use timely::worker::Worker;

/// (target worker, source worker, round, parcel): the round travels in the
/// data rather than in timely's timestamps, whose batches may span several.
type Routed = (u32, u32, u64, Parcel);

/// What a worker sent, for reports and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Exchange rounds.
    pub rounds: u64,
    /// Bytes of parcels this worker sent to other workers (ids and values;
    /// timely's framing and serialization add a little).
    pub bytes: u64,
    /// Of those, bytes sent to workers in other processes.
    pub bytes_between_processes: u64,
}

struct Inner<'w> {
    worker: &'w mut Worker,
    input: InputHandle<u64, CapacityContainerBuilder<Vec<Routed>>>,
    received: Rc<RefCell<Vec<(u64, u32, Parcel)>>>,
    round: u64,
    traffic: Traffic,
}

/// A worker's end of the cluster. Only the worker's own thread may use it
/// (the engine calls the model from that thread; the sweeps' parallel
/// loops never reach the transport), which [`Fragile`] checks.
pub struct TimelyTransport<'w> {
    inner: Fragile<RefCell<Inner<'w>>>,
    shard: usize,
    shards: usize,
    workers_per_process: usize,
    addresses: Vec<String>,
    peer_timeout: Duration,
}

impl<'w> TimelyTransport<'w> {
    pub(crate) fn new(
        worker: &'w mut Worker,
        workers_per_process: usize,
        addresses: Vec<String>,
        peer_timeout: Duration,
    ) -> Self {
        let (shard, shards) = (worker.index(), worker.peers());
        let mut input = InputHandle::new();
        let received = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&received);
        worker.dataflow::<u64, _, _>(|scope| {
            scope.input_from(&mut input).sink(
                Exchange::new(|routed: &Routed| routed.0 as u64),
                "parcels",
                move |(input, _)| {
                    input.for_each(|_, data| {
                        let mut sink = sink.borrow_mut();
                        for (_, from, round, parcel) in data.drain(..) {
                            sink.push((round, from, parcel));
                        }
                    });
                },
            );
        });
        Self {
            inner: Fragile::new(RefCell::new(Inner {
                worker,
                input,
                received,
                round: 0,
                traffic: Traffic::default(),
            })),
            shard,
            shards,
            workers_per_process,
            addresses,
            peer_timeout,
        }
    }

    pub fn traffic(&self) -> Traffic {
        self.inner.get().borrow().traffic
    }

    fn process_of(&self, shard: usize) -> usize {
        shard / self.workers_per_process
    }

    /// Names the processes whose workers have not sent round `round`.
    fn missing(&self, got: &[bool]) -> Vec<(usize, String)> {
        let mut processes: Vec<usize> = (0..self.shards)
            .filter(|&s| s != self.shard && !got[s])
            .map(|s| self.process_of(s))
            .collect();
        processes.dedup();
        processes.into_iter().map(|p| (p, self.addresses[p].clone())).collect()
    }
}

impl Transport for TimelyTransport<'_> {
    fn shard(&self) -> usize {
        self.shard
    }

    fn shards(&self) -> usize {
        self.shards
    }

    fn exchange(&self, parcels: Vec<Parcel>) -> Vec<Parcel> {
        assert_eq!(parcels.len(), self.shards, "one parcel per worker");
        let mut guard = self.inner.get().borrow_mut();
        let inner = &mut *guard;
        let round = inner.round;
        let me = self.process_of(self.shard);
        for (target, parcel) in parcels.into_iter().enumerate() {
            if target == self.shard {
                continue;
            }
            let bytes = parcel.bytes() as u64;
            inner.traffic.bytes += bytes;
            if self.process_of(target) != me {
                inner.traffic.bytes_between_processes += bytes;
            }
            inner.input.send((target as u32, self.shard as u32, round, parcel));
        }
        inner.input.advance_to(round + 1);
        inner.round += 1;
        inner.traffic.rounds += 1;
        let mut out = vec![Parcel::default(); self.shards];
        let mut got = vec![false; self.shards];
        got[self.shard] = true;
        let mut waiting = self.shards - 1;
        let mut last_news = Instant::now();
        while waiting > 0 {
            {
                let mut received = inner.received.borrow_mut();
                let before = received.len();
                received.retain_mut(|(r, from, parcel)| {
                    if *r != round {
                        return true;
                    }
                    let from = *from as usize;
                    out[from] = std::mem::take(parcel);
                    got[from] = true;
                    waiting -= 1;
                    false
                });
                if received.len() != before {
                    last_news = Instant::now();
                }
            }
            if waiting == 0 {
                break;
            }
            if let Some(lost) = failure::lost_peer() {
                failure::abort_worker(failure::Failure::Lost {
                    process: lost.process,
                    address: self.addresses.get(lost.process).cloned().unwrap_or_default(),
                    cause: lost.cause,
                });
            }
            if last_news.elapsed() > self.peer_timeout {
                failure::abort_worker(failure::Failure::Silent {
                    missing: self.missing(&got),
                    seconds: self.peer_timeout.as_secs_f64(),
                });
            }
            inner.worker.step_or_park(Some(Duration::from_millis(20)));
        }
        out
    }
}
