//! A replay's agents split over workers, and what workers send each other.
//!
//! A sharded sweep (`indicators::sharded`) runs on every worker of a
//! cluster at once: each worker computes the states of its own agents and
//! the gradients of its own gates, and sends the others what they read of
//! them through a [`Transport`]. This module knows nothing of processes or
//! sockets; the transport that crosses them lives in its own crate.

use crate::graph::FollowGraph;
use serde::{Deserialize, Serialize};

/// Agents per block of a shard: shard bounds fall on multiples of it, the
/// same blocks the single-process sweeps sum over, so per-agent arithmetic
/// never depends on where the cut falls.
pub const SHARD_BLOCK: usize = crate::slots::AGENT_CHUNK;

/// What an agent weighs in the split, counted in follow edges. A worker
/// keeps its agents' states at every step for every node of a sweep
/// (8 x 8 nodes x 15 states = 960 bytes per agent by default) and about 2
/// bytes per followee and step at which the followee posted; its agents'
/// follower rows take 4 bytes per follower. Weighing an agent as 1 (the
/// edges alone) left one of two processes with 90% of the agents and more
/// memory than a single process; as 40, the last of four processes, which
/// holds the long tail, peaked 0.15 to 0.2 GB above the others at full
/// scale; as 80, the four peak within 0.2 GB of one another and spend
/// about the same CPU time (BENCHMARKS.md, "The split re-weighed").
pub const AGENT_WEIGHT: u64 = 80;

/// Contiguous ranges of the replay's agent order, one per worker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shards {
    /// bounds[s]..bounds[s + 1] are shard s's agents.
    bounds: Vec<usize>,
}

impl Shards {
    /// `count` shards that hold about the same work and memory: each agent
    /// weighs [`AGENT_WEIGHT`] plus its followee and follower counts (the
    /// entries the forward pull and the reverse sums read), and shard s ends
    /// at the first multiple of [`SHARD_BLOCK`] where the running weight
    /// reaches s/count of the total. Agents are in descending follower
    /// order, so the first shards hold fewer, busier agents. A shard may be
    /// empty when there are more shards than blocks; it still takes part in
    /// every exchange.
    ///
    /// Panics if `count` is 0.
    pub fn balanced_over(graph: &FollowGraph, count: usize) -> Self {
        assert!(count > 0, "at least one shard");
        let n = graph.agents();
        let blocks = n.div_ceil(SHARD_BLOCK);
        let weights: Vec<u64> = (0..blocks)
            .map(|b| {
                (b * SHARD_BLOCK..((b + 1) * SHARD_BLOCK).min(n))
                    .map(|j| AGENT_WEIGHT + graph.followee_count(j) as u64 + graph.follower_count(j) as u64)
                    .sum()
            })
            .collect();
        Self::from_block_weights(&weights, n, count)
    }

    /// The cut of [`Shards::balanced_over`] from per-block weights.
    fn from_block_weights(weights: &[u64], agents: usize, count: usize) -> Self {
        let total: u128 = weights.iter().map(|&w| w as u128).sum();
        let mut bounds = vec![0];
        let mut running: u128 = 0;
        let mut block = 0;
        for s in 1..count {
            let target = total * s as u128 / count as u128;
            while block < weights.len() && running < target {
                running += weights[block] as u128;
                block += 1;
            }
            bounds.push((block * SHARD_BLOCK).min(agents));
        }
        bounds.push(agents);
        Self { bounds }
    }

    /// Shards from explicit bounds (0 = bounds[0] <= ... <= bounds[last] =
    /// agents, inner bounds multiples of [`SHARD_BLOCK`]).
    pub fn from_bounds(bounds: Vec<usize>) -> Result<Self, String> {
        let ok = bounds.len() >= 2
            && bounds[0] == 0
            && bounds.windows(2).all(|w| w[0] <= w[1])
            && bounds[1..bounds.len() - 1].iter().all(|b| b % SHARD_BLOCK == 0);
        if ok {
            Ok(Self { bounds })
        } else {
            Err(format!(
                "shard bounds must rise from 0, with inner bounds multiples of {SHARD_BLOCK}: {bounds:?}"
            ))
        }
    }

    pub fn count(&self) -> usize {
        self.bounds.len() - 1
    }

    pub fn agents(&self) -> usize {
        self.bounds[self.count()]
    }

    /// Shard s's agents, in replay order.
    pub fn range(&self, shard: usize) -> std::ops::Range<usize> {
        self.bounds[shard]..self.bounds[shard + 1]
    }

    /// The shard that holds `agent`.
    pub fn of(&self, agent: usize) -> usize {
        // The last bound at or below the agent, skipping empty shards.
        self.bounds.partition_point(|&b| b <= agent) - 1
    }

    /// Per agent, its shard (for scans that look up every edge's end).
    pub fn owners(&self) -> Vec<u32> {
        let mut owners = vec![0u32; self.agents()];
        for s in 0..self.count() {
            owners[self.range(s)].fill(s as u32);
        }
        owners
    }
}

/// What one worker sends another in one round: ids (positions, agents,
/// gates or chunks, by the round's kind) and, per id, a fixed count of
/// 64-bit words: an item's fields, each one word ([`Message`]).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Parcel {
    pub ids: Vec<u32>,
    pub words: Vec<u64>,
}

impl Parcel {
    pub fn bytes(&self) -> usize {
        self.ids.len() * 4 + self.words.len() * 8
    }
}

/// What an item of a round says, as a type: the wire carries its fields
/// as 64-bit words, one per field. An f64 crosses by its bits and an
/// integer as itself, so nothing is rounded or cast on the way and the
/// receiver reads the sender's exact values.
pub trait Message: Sized {
    /// Words per item.
    const WORDS: usize;
    /// Writes the item's fields into `words` (exactly [`Message::WORDS`]).
    fn encode(&self, words: &mut [u64]);
    fn decode(words: &[u64]) -> Self;
}

impl<const K: usize> Message for [f64; K] {
    const WORDS: usize = K;
    fn encode(&self, words: &mut [u64]) {
        for (w, v) in words.iter_mut().zip(self) {
            *w = v.to_bits();
        }
    }
    fn decode(words: &[u64]) -> Self {
        std::array::from_fn(|k| f64::from_bits(words[k]))
    }
}

impl Message for bool {
    const WORDS: usize = 1;
    fn encode(&self, words: &mut [u64]) {
        words[0] = u64::from(*self);
    }
    fn decode(words: &[u64]) -> Self {
        words[0] != 0
    }
}

/// An item that is its id alone (a request for the entry of that id).
impl Message for () {
    const WORDS: usize = 0;
    fn encode(&self, _: &mut [u64]) {}
    fn decode(_: &[u64]) -> Self {}
}

/// How the workers of a sharded sweep reach each other: rounds of items,
/// each an id and a few words. The sweeps speak to it through the typed
/// rounds [`send`] (an item a [`Message`]) and [`send_floats`] (an item a
/// row of f64 whose width the round fixes).
///
/// Every worker calls [`Transport::exchange`] or [`Transport::send`] the
/// same number of times in the same order (the sweeps are deterministic),
/// so a round needs no tag: round r of one worker meets round r of the
/// others.
pub trait Transport: Sync {
    /// This worker's shard.
    fn shard(&self) -> usize;
    /// Workers in all.
    fn shards(&self) -> usize;
    /// Sends `parcels[s]` to each shard s (this worker's own entry is
    /// ignored) and returns, per shard, what it sent to this one (an empty
    /// parcel from this worker itself). A transport that loses a peer does
    /// not return: it ends the worker (by unwinding) with an error that
    /// names the peer, which its owner reports.
    fn exchange(&self, parcels: Vec<Parcel>) -> Vec<Parcel>;

    /// One round written item by item and read piece by piece: `write(s,
    /// push)` is called once for every other shard s, in shard order, and
    /// calls `push(id, words)` for each item for s, `width` words each;
    /// what the other workers sent comes back through the returned
    /// [`Incoming`], which must be read (or dropped) before the next round.
    /// `write` must not call the transport.
    ///
    /// Why: a transport that cuts a round into pieces (the timely one) then
    /// never holds a round whole on either side, where [`Transport::exchange`]
    /// holds every parcel the worker sends and everything it receives, put
    /// back together, at once: the largest single items of a cluster
    /// process's peak (BENCHMARKS.md, "A round never whole"). This default
    /// goes through [`Transport::exchange`].
    #[must_use = "the round's incoming pieces must be read before the next round"]
    fn send(&self, width: usize, write: &mut WriteItems<'_>) -> Box<dyn Incoming + '_> {
        let me = self.shard();
        let parcels = (0..self.shards())
            .map(|s| {
                let mut parcel = Parcel::default();
                if s != me {
                    write(s, &mut |id, words| {
                        check_item(words, width);
                        parcel.ids.push(id);
                        parcel.words.extend_from_slice(words);
                    });
                }
                parcel
            })
            .collect();
        Box::new(WholeParcels {
            parcels: self.exchange(parcels),
            width,
        })
    }
}

/// Hands one item of a round being sent: its id and its words.
pub type PushItem<'a> = dyn FnMut(u32, &[u64]) + 'a;

/// Writes a round's items for one shard: called with the shard and the
/// [`PushItem`] that takes them.
pub type WriteItems<'a> = dyn FnMut(usize, &mut PushItem<'_>) + 'a;

/// Reads a round's pieces: called with the sending worker, the piece's ids
/// and its words.
pub type ReadPieces<'a> = dyn FnMut(usize, &[u32], &[u64]) + 'a;

/// What the other workers sent this worker in one round of
/// [`Transport::send`].
pub trait Incoming {
    /// Calls `read(from, ids, words)` for every piece received, `width`
    /// words per id: each worker's pieces in the order it pushed their
    /// items (the workers' pieces may interleave), and returns once every
    /// other worker's last piece is read.
    fn read(self: Box<Self>, read: &mut ReadPieces<'_>);
}

/// A round received whole, one parcel per worker.
struct WholeParcels {
    parcels: Vec<Parcel>,
    width: usize,
}

impl Incoming for WholeParcels {
    fn read(self: Box<Self>, read: &mut ReadPieces<'_>) {
        for (from, parcel) in self.parcels.iter().enumerate() {
            check_piece(&parcel.ids, &parcel.words, self.width);
            read(from, &parcel.ids, &parcel.words);
        }
    }
}

/// Hands one item of a typed round being sent: its id and the item.
pub type Push<'a, M> = dyn FnMut(u32, &M) + 'a;

/// A round of `M` items: `write(s, push)` pushes the items for shard s
/// (called once for every other shard, in shard order); what came is read
/// from the returned [`Round`] before the next round. Collective.
pub fn send<'t, M: Message>(
    transport: &'t dyn Transport,
    write: &mut dyn FnMut(usize, &mut Push<'_, M>),
) -> Round<'t, M> {
    let mut words = vec![0; M::WORDS];
    let incoming = transport.send(M::WORDS, &mut |s, push| {
        write(s, &mut |id, item: &M| {
            item.encode(&mut words);
            push(id, &words);
        })
    });
    Round {
        incoming,
        width: M::WORDS,
        kind: std::marker::PhantomData,
    }
}

/// What the other workers sent in one round of [`send`] or
/// [`send_floats`].
#[must_use = "the round's incoming pieces must be read before the next round"]
pub struct Round<'t, M> {
    incoming: Box<dyn Incoming + 't>,
    width: usize,
    kind: std::marker::PhantomData<M>,
}

impl<M: Message> Round<'_, M> {
    /// Calls `take(from, id, item)` for every item received: each worker's
    /// in the order it pushed them.
    pub fn read(self, mut take: impl FnMut(usize, u32, M)) {
        let width = self.width;
        self.incoming.read(&mut |from, ids, words| {
            check_piece(ids, words, width);
            for (k, &id) in ids.iter().enumerate() {
                take(from, id, M::decode(&words[k * width..(k + 1) * width]));
            }
        });
    }
}

/// Hands one row of a [`send_floats`] round being sent: its id and the
/// row.
pub type PushRow<'a> = dyn FnMut(u32, &[f64]) + 'a;

/// A row of f64 whose width the round fixes (a state, an adjoint, a sum
/// per chunk): the rounds whose items are numbers and nothing else.
pub struct Floats;

/// A round whose items are `width` f64 each ([`Floats`]): `write(s, push)`
/// pushes the rows for shard s. Collective.
pub fn send_floats<'t>(
    transport: &'t dyn Transport,
    width: usize,
    write: &mut dyn FnMut(usize, &mut PushRow<'_>),
) -> Round<'t, Floats> {
    let mut words = vec![0; width];
    let incoming = transport.send(width, &mut |s, push| {
        write(s, &mut |id, row: &[f64]| {
            check_item(row, width);
            for (w, v) in words.iter_mut().zip(row) {
                *w = v.to_bits();
            }
            push(id, &words);
        })
    });
    Round {
        incoming,
        width,
        kind: std::marker::PhantomData,
    }
}

impl Round<'_, Floats> {
    /// Calls `take(from, id, row)` for every row received: each worker's in
    /// the order it pushed them.
    pub fn read_rows(self, mut take: impl FnMut(usize, u32, &[f64])) {
        let width = self.width;
        let mut row = vec![0.0; width];
        self.incoming.read(&mut |from, ids, words| {
            check_piece(ids, words, width);
            for (k, &id) in ids.iter().enumerate() {
                for (v, w) in row.iter_mut().zip(&words[k * width..(k + 1) * width]) {
                    *v = f64::from_bits(*w);
                }
                take(from, id, &row);
            }
        });
    }
}

/// Whether `mine` is true on any worker of `transport`: a collective round
/// of one flag per worker.
pub fn any_worker(transport: &dyn Transport, mine: bool) -> bool {
    let mut any = mine;
    send(transport, &mut |_, push| push(0, &mine)).read(|_, _, theirs: bool| any |= theirs);
    any
}

/// An item of `width` words (or values), as a round of that width
/// carries. A mismatch is a bug of the sweep that wrote it.
pub fn check_item<T>(values: &[T], width: usize) {
    assert_eq!(
        values.len(),
        width,
        "an item of {} values in a round of {width}",
        values.len()
    );
}

/// A piece of `width` words per id. Workers run the same code on the same
/// replay, so a mismatch is a bug, not bad input.
pub fn check_piece(ids: &[u32], values: &[u64], width: usize) {
    assert!(
        values.len() == ids.len() * width,
        "a piece of {} ids and {} values, expected {width} values per id",
        ids.len(),
        values.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_balance_the_weights_on_block_bounds() {
        // Eight blocks; the first is as heavy as the other seven.
        let weights = [70, 10, 10, 10, 10, 10, 10, 10];
        let agents = 8 * SHARD_BLOCK - 5;
        let shards = Shards::from_block_weights(&weights, agents, 2);
        assert_eq!(shards.range(0), 0..SHARD_BLOCK);
        assert_eq!(shards.range(1), SHARD_BLOCK..agents);
        let shards = Shards::from_block_weights(&weights, agents, 4);
        // Total 140: targets 35, 70 and 105 are reached after blocks 1, 1 and 5.
        assert_eq!(
            shards.bounds,
            vec![0, SHARD_BLOCK, SHARD_BLOCK, 5 * SHARD_BLOCK, agents]
        );
        assert_eq!(shards.of(0), 0);
        assert_eq!(shards.of(SHARD_BLOCK), 2, "the empty shard holds nobody");
        assert_eq!(shards.of(agents - 1), 3);
        let owners = shards.owners();
        assert!((0..agents).all(|j| owners[j] as usize == shards.of(j)));
    }

    #[test]
    fn more_shards_than_blocks_leaves_empty_shards() {
        let shards = Shards::from_block_weights(&[5], 100, 3);
        assert_eq!(shards.count(), 3);
        let sizes: Vec<usize> = (0..3).map(|s| shards.range(s).len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 100);
        assert_eq!(sizes.iter().filter(|&&s| s == 100).count(), 1);
    }

    #[test]
    fn bounds_are_checked() {
        assert!(Shards::from_bounds(vec![0, SHARD_BLOCK, 3 * SHARD_BLOCK + 1]).is_ok());
        assert!(Shards::from_bounds(vec![0, 5, 10]).is_err());
        assert!(Shards::from_bounds(vec![1, 10]).is_err());
        assert!(Shards::from_bounds(vec![0]).is_err());
    }
}
