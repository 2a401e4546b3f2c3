//! [`Transport`] over a timely worker: each round is one epoch of a
//! dataflow that routes parcels to their target worker, in pieces of at
//! most [`PIECE_BYTES`].

use crate::failure::{self, PeerWatch};
use aumann_models::{Incoming, Parcel, ReadPieces, Transport, WriteItems, check_item, check_piece};
use fragile::Fragile;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use timely::container::{CapacityContainerBuilder, ContainerBuilder, LengthPreservingContainerBuilder, PushInto};
use timely::dataflow::InputHandle;
use timely::dataflow::channels::pact::ExchangeCore;
use timely::dataflow::operators::Input;
use timely::dataflow::operators::generic::operator::Operator;
use timely::worker::Worker;

/// (target worker, source worker, round, piece, whether it is the source's
/// last piece of the round, the piece): the round travels in the data
/// rather than in timely's timestamps, whose batches may span several.
type Routed = (u32, u32, u64, u32, bool, Parcel);

/// A piece as received: (round, source worker, piece, last, the piece).
type Received = (u64, u32, u32, bool, Parcel);

/// The most bytes of ids, and of words, in one message (so at most twice
/// this in all, and a message header).
///
/// Timely's network buffers grow to the largest message they carry and
/// keep that size for the rest of the run, several per connection: a
/// round's parcel sent whole (the adjoints that all readers of a shard's
/// sources send it, 0.2 GB at full scale) made them hundreds of megabytes
/// on every process. Messages of pieces this size fit the buffers'
/// initial 1 MiB.
pub const PIECE_BYTES: usize = 256 << 10;

/// Each item its own container, so its own message: timely's exchange
/// otherwise batches up to a container's capacity of items (some 100
/// parcels) into one message, whatever their size.
#[derive(Default)]
struct OnePerMessage {
    pending: VecDeque<Vec<Routed>>,
    current: Option<Vec<Routed>>,
}

impl PushInto<Routed> for OnePerMessage {
    fn push_into(&mut self, item: Routed) {
        self.pending.push_back(vec![item]);
    }
}

impl ContainerBuilder for OnePerMessage {
    type Container = Vec<Routed>;

    fn extract(&mut self) -> Option<&mut Vec<Routed>> {
        self.current = self.pending.pop_front();
        self.current.as_mut()
    }

    fn finish(&mut self) -> Option<&mut Vec<Routed>> {
        self.extract()
    }
}

impl LengthPreservingContainerBuilder for OnePerMessage {}

/// `parcel` cut into consecutive pieces of at most [`PIECE_BYTES`] (its ids
/// and its words cut separately: concatenated in order they are the
/// parcel again); at least one piece, empty for an empty parcel.
fn pieces(parcel: Parcel) -> Vec<Parcel> {
    const IDS: usize = PIECE_BYTES / 4;
    const WORDS: usize = PIECE_BYTES / 8;
    let count = parcel
        .ids
        .len()
        .div_ceil(IDS)
        .max(parcel.words.len().div_ceil(WORDS))
        .max(1);
    if count == 1 {
        return vec![parcel];
    }
    let mut ids = parcel.ids.chunks(IDS);
    let mut words = parcel.words.chunks(WORDS);
    (0..count)
        .map(|_| {
            // The last pieces may hold ids only or words only.
            Parcel {
                ids: ids.next().map_or_else(Vec::new, <[u32]>::to_vec),
                words: words.next().map_or_else(Vec::new, <[u64]>::to_vec),
            }
        })
        .collect()
}

/// What a worker sent, for reports and the benchmark.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Exchange rounds.
    pub rounds: u64,
    /// Bytes of parcels this worker sent to other workers (ids and words;
    /// timely's framing and serialization add a little).
    pub bytes: u64,
    /// Of those, bytes sent to workers in other processes.
    pub bytes_between_processes: u64,
    /// The largest network buffer timely's communication allocated in
    /// this worker's process (every worker of a process reports the same).
    pub largest_network_buffer: u64,
}

struct Inner<'w> {
    worker: &'w mut Worker,
    input: InputHandle<u64, CapacityContainerBuilder<Vec<Routed>>>,
    /// The pieces as they came.
    received: Rc<RefCell<Vec<Received>>>,
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
    /// This run's record of lost peers.
    watch: Arc<PeerWatch>,
}

impl<'w> TimelyTransport<'w> {
    pub(crate) fn new(
        worker: &'w mut Worker,
        workers_per_process: usize,
        addresses: Vec<String>,
        peer_timeout: Duration,
        watch: Arc<PeerWatch>,
    ) -> Self {
        let (shard, shards) = (worker.index(), worker.peers());
        let mut input = InputHandle::new();
        let received = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&received);
        worker.dataflow::<u64, _, _>(|scope| {
            scope.input_from(&mut input).sink(
                ExchangeCore::<OnePerMessage, _>::new_core(|routed: &Routed| routed.0 as u64),
                "parcels",
                move |(input, _)| {
                    input.for_each(|_, data| {
                        let mut sink = sink.borrow_mut();
                        for (_, from, round, piece, last, parcel) in data.drain(..) {
                            sink.push((round, from, piece, last, parcel));
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
            watch,
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
        let round = {
            let mut guard = self.inner.get().borrow_mut();
            let inner = &mut *guard;
            for (target, parcel) in parcels.into_iter().enumerate() {
                if target == self.shard {
                    continue;
                }
                let parcel_pieces = pieces(parcel);
                let last = parcel_pieces.len() - 1;
                for (piece, parcel) in parcel_pieces.into_iter().enumerate() {
                    self.send_piece(inner, target, piece as u32, piece == last, parcel);
                }
            }
            self.end_round(inner)
        };
        let mut out = vec![Parcel::default(); self.shards];
        self.receive(round, &mut |from, mut piece| {
            let whole = &mut out[from];
            if whole.ids.is_empty() && whole.words.is_empty() {
                *whole = piece;
            } else {
                whole.ids.append(&mut piece.ids);
                whole.words.append(&mut piece.words);
            }
        });
        out
    }

    fn send(&self, width: usize, write: &mut WriteItems<'_>) -> Box<dyn Incoming + '_> {
        // Whole items per piece, so that a piece can be read on its own.
        let items = (PIECE_BYTES / 4).min(PIECE_BYTES / (8 * width.max(1))).max(1);
        let empty = || Parcel {
            ids: Vec::with_capacity(items),
            words: Vec::with_capacity(items * width),
        };
        let mut guard = self.inner.get().borrow_mut();
        let inner = &mut *guard;
        for target in (0..self.shards).filter(|&t| t != self.shard) {
            let mut piece = empty();
            let mut index = 0;
            write(target, &mut |id, words| {
                check_item(words, width);
                piece.ids.push(id);
                piece.words.extend_from_slice(words);
                if piece.ids.len() == items {
                    self.send_piece(inner, target, index, false, std::mem::replace(&mut piece, empty()));
                    index += 1;
                }
            });
            self.send_piece(inner, target, index, true, piece);
        }
        let round = self.end_round(inner);
        Box::new(TimelyIncoming {
            transport: self,
            round,
            width,
            read: false,
        })
    }
}

impl TimelyTransport<'_> {
    /// Sends one piece of this worker's round to `target`, and counts it.
    fn send_piece(&self, inner: &mut Inner<'_>, target: usize, piece: u32, last: bool, parcel: Parcel) {
        let bytes = parcel.bytes() as u64;
        inner.traffic.bytes += bytes;
        if self.process_of(target) != self.process_of(self.shard) {
            inner.traffic.bytes_between_processes += bytes;
        }
        inner
            .input
            .send((target as u32, self.shard as u32, inner.round, piece, last, parcel));
        // On to the exchange now: the input would otherwise batch some 100
        // pieces before they leave.
        inner.input.flush();
    }

    /// Closes this worker's sending of the current round; returns the round.
    fn end_round(&self, inner: &mut Inner<'_>) -> u64 {
        let round = inner.round;
        inner.input.advance_to(round + 1);
        inner.round += 1;
        inner.traffic.rounds += 1;
        round
    }

    /// Hands `take` every piece the other workers sent in `round`, each
    /// worker's in order, as they arrive; returns when every worker's last
    /// piece is taken. Stops the worker (by unwinding) when a peer is lost
    /// or silent longer than the peer timeout.
    fn receive(&self, round: u64, take: &mut dyn FnMut(usize, Parcel)) {
        let mut guard = self.inner.get().borrow_mut();
        let inner = &mut *guard;
        // Per source worker: the next piece to take.
        let mut next = vec![0u32; self.shards];
        let mut got = vec![false; self.shards];
        got[self.shard] = true;
        let mut waiting = self.shards - 1;
        let mut last_news = Instant::now();
        while waiting > 0 {
            {
                let mut received = inner.received.borrow_mut();
                let before = received.len();
                // Pieces are taken in order, whatever order they came in;
                // one that came early waits in `received` for its turn.
                let mut taken = true;
                while taken {
                    taken = false;
                    received.retain_mut(|(r, from, piece, last, parcel)| {
                        let from = *from as usize;
                        if *r != round || *piece != next[from] {
                            return true;
                        }
                        take(from, std::mem::take(parcel));
                        next[from] += 1;
                        taken = true;
                        if *last {
                            got[from] = true;
                            waiting -= 1;
                        }
                        false
                    });
                }
                if received.len() != before {
                    last_news = Instant::now();
                }
            }
            if waiting == 0 {
                break;
            }
            if let Some(lost) = self.watch.lost_peer() {
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
    }
}

/// The incoming side of a round sent with [`Transport::send`]: read as it
/// arrives, piece by piece.
struct TimelyIncoming<'t, 'w> {
    transport: &'t TimelyTransport<'w>,
    round: u64,
    width: usize,
    read: bool,
}

impl Incoming for TimelyIncoming<'_, '_> {
    fn read(mut self: Box<Self>, read: &mut ReadPieces<'_>) {
        self.read = true;
        let width = self.width;
        self.transport.receive(self.round, &mut |from, piece| {
            check_piece(&piece.ids, &piece.words, width);
            read(from, &piece.ids, &piece.words);
        });
    }
}

impl Drop for TimelyIncoming<'_, '_> {
    /// A round left unread is read and dropped, so that the next round
    /// finds only its own pieces.
    fn drop(&mut self) {
        if !self.read && !std::thread::panicking() {
            self.transport.receive(self.round, &mut |_, _| {});
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_put_back_in_order_are_the_parcel() {
        let (ids, values) = (PIECE_BYTES / 4, PIECE_BYTES / 8);
        for (id_count, value_count) in [
            (0, 0),
            (3, 5),
            (ids, values),
            (ids + 1, 0),
            (0, values + 1),
            (3 * ids + 7, values / 2),
            (10, 5 * values - 1),
        ] {
            let parcel = Parcel {
                ids: (0..id_count as u32).collect(),
                words: (0..value_count).map(|v| v as u64 * 3).collect(),
            };
            let cut = pieces(parcel.clone());
            let expected = id_count.div_ceil(ids).max(value_count.div_ceil(values)).max(1);
            assert_eq!(cut.len(), expected, "{id_count} ids, {value_count} values");
            let mut whole = Parcel::default();
            for piece in cut {
                assert!(piece.ids.len() * 4 <= PIECE_BYTES && piece.words.len() * 8 <= PIECE_BYTES);
                whole.ids.extend(piece.ids);
                whole.words.extend(piece.words);
            }
            assert_eq!(whole, parcel, "{id_count} ids, {value_count} values");
        }
    }
}
