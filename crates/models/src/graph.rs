//! The follow graph in compressed sparse row form.

use crate::population::PopulationError;
use crate::slots::{SharedSlots, for_each_row};
use rayon::prelude::*;
use std::sync::OnceLock;

/// Who sees whom, stored in both directions, each row sorted by id: every
/// account's followers (whom its posts reach: the reverse sweep walks these
/// from each sender) and every account's followees (whom it reads: a
/// replay's per-step rows are cut from these, so that no two threads write
/// the same row).
///
/// Once a replay has its per-step rows, the sweeps read only the followers;
/// the replay then releases the followee rows (a quarter of a gigabyte at
/// full scale) and the graph transposes them again if anything asks later
/// (PageRank, the benchmark's reference product). Their counts stay.
///
/// A cluster worker's replay keeps the follower rows of its own agents only
/// (the sources whose adjoints it sums); every count stays, and asking for
/// another agent's row is a bug that panics rather than an empty answer.
///
/// Duplicate edges count once and self-follows are dropped, as on the
/// platforms the data comes from: following twice is still following, and
/// an account's own posts are not an influence on itself.
#[derive(Clone, Debug)]
pub struct FollowGraph {
    agents: usize,
    /// offsets[i]..offsets[i+1] index `followers` for account i, less
    /// `follower_base`: over every account, so that counts never change.
    offsets: Vec<u64>,
    /// The rows of the accounts in `held`, concatenated.
    followers: Vec<u32>,
    held: std::ops::Range<usize>,
    follower_base: u64,
    followee_offsets: Vec<u64>,
    /// The followee rows (of the accounts in `held`, less `followee_base`),
    /// transposed from the followers when first asked for after
    /// [`FollowGraph::release_followees`].
    followees: OnceLock<Vec<u32>>,
    followee_base: u64,
    /// Self-follows and duplicates dropped while building.
    pub dropped_self_follows: u64,
    pub dropped_duplicates: u64,
}

impl FollowGraph {
    /// Builds the graph from (follower, followee) pairs: `follower` follows
    /// `followee`, so `followee`'s posts reach `follower`.
    pub fn from_follows(agents: usize, follows: &[(u32, u32)]) -> Result<Self, PopulationError> {
        Ok(FollowerRows::from_follows(agents, follows)?.into_graph(Vec::new()))
    }

    /// [`FollowGraph::from_follows`] with the agents renumbered by
    /// descending follower count (ties by id), and the renumbering: entry
    /// `new` of the returned vector is the id the agent had in `follows`.
    /// The rows are relabeled before the followee side is built, so the
    /// graph is transposed once, into the storage of the rows as they came.
    /// Follows passed owned are dropped as soon as the rows hold them.
    pub fn by_popularity(
        agents: usize,
        follows: std::borrow::Cow<'_, [(u32, u32)]>,
    ) -> Result<(Self, Vec<u32>), PopulationError> {
        let rows = FollowerRows::from_follows(agents, &follows)?;
        drop(follows);
        let mut original: Vec<u32> = (0..agents as u32).collect();
        original.par_sort_unstable_by_key(|&a| (std::cmp::Reverse(rows.count(a as usize)), a));
        let mut internal = vec![0u32; agents];
        for (new, &old) in original.iter().enumerate() {
            internal[old as usize] = new as u32;
        }
        let (rows, spare) = rows.relabeled(&internal);
        Ok((rows.into_graph(spare), original))
    }

    pub fn agents(&self) -> usize {
        self.agents
    }

    /// The same graph with agent `a` renamed `relabel[a]` (a permutation of
    /// 0..N); rows stay sorted.
    ///
    /// Panics on a graph that holds one shard's follower rows.
    pub fn relabeled(&self, relabel: &[u32]) -> Self {
        self.check_whole("relabeled");
        let rows = FollowerRows {
            agents: self.agents,
            offsets: self.offsets.clone(),
            followers: self.followers.clone(),
            self_follows: self.dropped_self_follows,
            duplicates: self.dropped_duplicates,
        };
        let (rows, spare) = rows.relabeled(relabel);
        rows.into_graph(spare)
    }

    pub fn edges(&self) -> usize {
        self.offsets[self.agents] as usize
    }

    /// The accounts that follow `agent` (whom its posts reach), sorted.
    ///
    /// Panics if this graph holds one shard's follower rows and `agent` is
    /// not of that shard.
    pub fn followers(&self, agent: usize) -> &[u32] {
        assert!(
            self.held.contains(&agent),
            "the follower row of agent {agent} is not held: this graph holds agents {:?} (one shard's)",
            self.held
        );
        let base = self.follower_base;
        &self.followers[(self.offsets[agent] - base) as usize..(self.offsets[agent + 1] - base) as usize]
    }

    /// Whether every account's follower row is held (false in a cluster
    /// worker's replay).
    pub fn holds_every_row(&self) -> bool {
        self.held == (0..self.agents)
    }

    fn check_whole(&self, what: &str) {
        assert!(
            self.holds_every_row(),
            "a graph that holds one shard's follower rows ({:?}) cannot be {what}",
            self.held
        );
    }

    /// Keeps the rows of the accounts in `held` only, both ways (a cluster
    /// worker's own agents: the follower rows its reverse sweep walks, the
    /// followee rows its per-step rows are cut from); counts and the edge
    /// total stay. Cut before the per-step rows are built, the two whole
    /// directions (a quarter of a gigabyte each at full scale) no longer
    /// sit beside them in the build's peak.
    pub(crate) fn keep_rows(&mut self, held: std::ops::Range<usize>) {
        self.check_whole("cut again");
        let (lo, hi) = (self.offsets[held.start], self.offsets[held.end]);
        self.followers = self.followers[lo as usize..hi as usize].to_vec();
        self.follower_base = lo;
        if let Some(followees) = self.followees.take() {
            let (lo, hi) = (self.followee_offsets[held.start], self.followee_offsets[held.end]);
            self.followees = OnceLock::from(followees[lo as usize..hi as usize].to_vec());
            self.followee_base = lo;
        }
        self.held = held;
    }

    /// The accounts `agent` follows (whose posts it reads), sorted. The
    /// first call after [`FollowGraph::release_followees`] transposes the
    /// graph again (a parallel pass over the edges).
    ///
    /// Panics if this graph holds one shard's rows and `agent` is not of
    /// that shard, or if they were released.
    pub fn followees(&self, agent: usize) -> &[u32] {
        assert!(
            self.held.contains(&agent),
            "the followee row of agent {agent} is not held: this graph holds agents {:?} (one shard's)",
            self.held
        );
        let followees = self.followees.get_or_init(|| {
            self.check_whole("transposed");
            transpose(self.agents, &self.offsets, &self.followers, Vec::new()).1
        });
        let base = self.followee_base;
        &followees[(self.followee_offsets[agent] - base) as usize..(self.followee_offsets[agent + 1] - base) as usize]
    }

    /// How many accounts `agent` follows (kept when the rows are released).
    pub fn followee_count(&self, agent: usize) -> usize {
        (self.followee_offsets[agent + 1] - self.followee_offsets[agent]) as usize
    }

    /// How many accounts the agents in `agents` follow, together (kept when
    /// the rows are released).
    pub fn followee_total(&self, agents: std::ops::Range<usize>) -> usize {
        (self.followee_offsets[agents.end] - self.followee_offsets[agents.start]) as usize
    }

    /// Drops the followee rows until they are asked for again.
    pub(crate) fn release_followees(&mut self) {
        self.followees.take();
    }

    pub fn follower_count(&self, agent: usize) -> usize {
        (self.offsets[agent + 1] - self.offsets[agent]) as usize
    }

    /// Bytes held by the graph.
    pub fn memory_bytes(&self) -> usize {
        let followees = self.followees.get().map_or(0, Vec::len);
        (self.offsets.len() + self.followee_offsets.len()) * 8 + (self.followers.len() + followees) * 4
    }
}

/// One direction of the graph: every account's followers, sorted and
/// without duplicates. The followee side is built from it once the agents
/// have their final numbers.
struct FollowerRows {
    agents: usize,
    offsets: Vec<u64>,
    followers: Vec<u32>,
    self_follows: u64,
    duplicates: u64,
}

impl FollowerRows {
    /// The rows of (follower, followee) pairs: `follower` follows
    /// `followee`, so `follower` is in `followee`'s row.
    fn from_follows(agents: usize, follows: &[(u32, u32)]) -> Result<Self, PopulationError> {
        if let Some(&(j, i)) = follows
            .iter()
            .find(|&&(j, i)| j as usize >= agents || i as usize >= agents)
        {
            return Err(PopulationError::UnknownAgent {
                table: "follows",
                agent: j.max(i) as u64,
                agents,
            });
        }
        // Counting sort by followee: O(E), no comparison sort over 10^8 edges.
        let self_follows = follows.par_iter().filter(|(j, i)| i == j).count() as u64;
        let (counts, mut followers) = bucket_by_key(
            agents,
            &even_ranges(follows.len()),
            |rows| follows[rows].iter().filter(|(j, i)| i != j).map(|&(j, i)| (i, j)),
            Vec::new(),
        );
        // Sort and de-duplicate each account's followers in parallel, then
        // compact.
        let mut lengths: Vec<u64> = vec![0; agents];
        for_each_row(&mut followers, &counts, &mut lengths, |_, s, len| {
            s.sort_unstable();
            let mut w = 0;
            for r in 0..s.len() {
                if r == 0 || s[r] != s[w - 1] {
                    s[w] = s[r];
                    w += 1;
                }
            }
            *len = w as u64;
        });
        let mut offsets = vec![0u64; agents + 1];
        let mut write = 0usize;
        for a in 0..agents {
            let start = counts[a] as usize;
            let len = lengths[a] as usize;
            followers.copy_within(start..start + len, write);
            write += len;
            offsets[a + 1] = write as u64;
        }
        let duplicates = followers.len() as u64 - write as u64;
        followers.truncate(write);
        followers.shrink_to_fit();
        Ok(FollowerRows {
            agents,
            offsets,
            followers,
            self_follows,
            duplicates,
        })
    }

    fn count(&self, agent: usize) -> usize {
        (self.offsets[agent + 1] - self.offsets[agent]) as usize
    }

    fn row(&self, agent: usize) -> &[u32] {
        &self.followers[self.offsets[agent] as usize..self.offsets[agent + 1] as usize]
    }

    /// The same rows with agent `a` renamed `relabel[a]` (a permutation of
    /// 0..N; rows stay sorted), and the storage of these rows, free for the
    /// next buffer of its size: on a machine where a first touch of fresh
    /// memory is expensive, writing over pages at hand saves most of a
    /// pass's cost (BENCHMARKS.md, "What a first touch costs").
    fn relabeled(self, relabel: &[u32]) -> (Self, Vec<u32>) {
        let n = self.agents;
        let mut original = vec![0u32; n];
        for (old, &new) in relabel.iter().enumerate() {
            original[new as usize] = old as u32;
        }
        let mut offsets = vec![0u64; n + 1];
        for new in 0..n {
            offsets[new + 1] = offsets[new] + self.count(original[new] as usize) as u64;
        }
        let mut followers = vec![0u32; self.followers.len()];
        for_each_row(&mut followers, &offsets, &mut vec![(); n], |new, row, _| {
            for (slot, &j) in row.iter_mut().zip(self.row(original[new] as usize)) {
                *slot = relabel[j as usize];
            }
            row.sort_unstable();
        });
        let relabeled = Self {
            agents: n,
            offsets,
            followers,
            self_follows: self.self_follows,
            duplicates: self.duplicates,
        };
        (relabeled, self.followers)
    }

    /// The graph, its followee side written into `spare`'s storage.
    fn into_graph(self, spare: Vec<u32>) -> FollowGraph {
        let (followee_offsets, followees) = transpose(self.agents, &self.offsets, &self.followers, spare);
        FollowGraph {
            agents: self.agents,
            held: 0..self.agents,
            follower_base: 0,
            offsets: self.offsets,
            followers: self.followers,
            followee_offsets,
            followees: OnceLock::from(followees),
            followee_base: 0,
            dropped_self_follows: self.self_follows,
            dropped_duplicates: self.duplicates,
        }
    }
}

/// The other direction of a CSR graph, written into `spare`'s storage
/// where it is large enough; rows come out sorted because sources are
/// visited in order.
fn transpose(agents: usize, offsets: &[u64], targets: &[u32], spare: Vec<u32>) -> (Vec<u64>, Vec<u32>) {
    // Ranges of sources with about as many edges each: sources come in
    // descending degree, so equal numbers of sources would not balance.
    let parts = rayon::current_num_threads().max(1);
    let edges = targets.len() as u64;
    let bounds: Vec<usize> = (0..=parts)
        .map(|r| {
            offsets
                .partition_point(|&o| o < edges * r as u64 / parts as u64)
                .min(agents)
        })
        .collect();
    let ranges: Vec<_> = bounds.windows(2).map(|w| w[0]..w[1]).collect();
    bucket_by_key(
        agents,
        &ranges,
        |sources| {
            sources.flat_map(|source| {
                targets[offsets[source] as usize..offsets[source + 1] as usize]
                    .iter()
                    .map(move |&t| (t, source as u32))
            })
        },
        spare,
    )
}

/// `0..len` in as many ranges as there are threads.
fn even_ranges(len: usize) -> Vec<std::ops::Range<usize>> {
    let parts = rayon::current_num_threads().max(1);
    (0..parts).map(|r| len * r / parts..len * (r + 1) / parts).collect()
}

/// A stable counting sort in parallel: `items(range)` yields the (key,
/// value) pairs of a range of the input (`ranges` cut the input in
/// consecutive pieces that are visited concurrently), and the
/// result is the CSR of values grouped by key (keys below `keys`), each
/// group in input order whatever the number of threads. The values go
/// into `spare`'s storage when it holds enough, else into a fresh vector.
///
/// Each range counts its keys, the counts give every range its own write
/// cursor per key, and the ranges then scatter at once into disjoint slots.
/// Written here because the sorting crates sort whole items in place; this
/// builds the offsets and the grouped values in two passes without moving
/// the input.
fn bucket_by_key<I: Iterator<Item = (u32, u32)>>(
    keys: usize,
    ranges: &[std::ops::Range<usize>],
    items: impl Fn(std::ops::Range<usize>) -> I + Sync,
    spare: Vec<u32>,
) -> (Vec<u64>, Vec<u32>) {
    let range = |r: usize| ranges[r].clone();
    let mut cursors: Vec<Vec<u64>> = (0..ranges.len())
        .into_par_iter()
        .map(|r| {
            let mut count = vec![0u64; keys];
            for (k, _) in items(range(r)) {
                count[k as usize] += 1;
            }
            count
        })
        .collect();
    let mut offsets = vec![0u64; keys + 1];
    for k in 0..keys {
        let mut at = offsets[k];
        for cursor in cursors.iter_mut() {
            let count = cursor[k];
            cursor[k] = at;
            at += count;
        }
        offsets[k + 1] = at;
    }
    let len = offsets[keys] as usize;
    let mut values = if spare.capacity() >= len {
        let mut values = spare;
        values.clear();
        values.resize(len, 0);
        values
    } else {
        // Zeroed by the allocator, so the scatter's threads fault the pages
        // in where they write.
        vec![0u32; len]
    };
    let out = SharedSlots::new(&mut values);
    cursors.into_par_iter().enumerate().for_each(|(r, mut cursor)| {
        let out = &out;
        for (k, v) in items(range(r)) {
            let slot = &mut cursor[k as usize];
            // SAFETY: the cursors of different ranges start at disjoint
            // slots (the counts above) and stay inside them, so no two
            // threads write the same slot and every slot is below
            // offsets[keys] = values.len().
            unsafe { out.write(*slot as usize, v) };
            *slot += 1;
        }
    });
    (offsets, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Followers per account from the pairs, the slow way: sorted sets.
    fn expected_rows(agents: usize, follows: &[(u32, u32)]) -> Vec<Vec<u32>> {
        let mut rows = vec![std::collections::BTreeSet::new(); agents];
        for &(j, i) in follows {
            if i != j {
                rows[i as usize].insert(j);
            }
        }
        rows.into_iter().map(|r| r.into_iter().collect()).collect()
    }

    fn pseudo_random_follows(agents: u32, edges: usize) -> Vec<(u32, u32)> {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % agents as u64) as u32
        };
        // Skewed towards small ids (popular accounts), with duplicates and
        // self-follows.
        (0..edges).map(|_| (next(), next() % (next() + 1))).collect()
    }

    #[test]
    fn the_parallel_counting_sort_gives_sorted_deduplicated_rows_on_any_thread_count() {
        let agents = 300;
        let follows = pseudo_random_follows(agents as u32, 5_000);
        let expected = expected_rows(agents, &follows);
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let mut graph = pool.install(|| FollowGraph::from_follows(agents, &follows)).unwrap();
            let held = graph.memory_bytes();
            if threads == 2 {
                // Released rows come back the same, transposed again.
                graph.release_followees();
                assert_eq!(held - graph.memory_bytes(), 4 * graph.edges());
            }
            for a in 0..agents {
                assert_eq!(
                    graph.followers(a),
                    expected[a].as_slice(),
                    "followers of {a}, {threads} threads"
                );
                let followees: Vec<u32> = (0..agents as u32)
                    .filter(|&i| expected[i as usize].contains(&(a as u32)))
                    .collect();
                assert_eq!(
                    graph.followees(a),
                    followees.as_slice(),
                    "followees of {a}, {threads} threads"
                );
                assert_eq!(graph.followee_count(a), followees.len());
            }
            assert_eq!(graph.memory_bytes(), held);
            let self_follows = follows.iter().filter(|(j, i)| i == j).count() as u64;
            assert_eq!(graph.dropped_self_follows, self_follows);
            assert_eq!(
                graph.dropped_duplicates,
                follows.len() as u64 - self_follows - graph.edges() as u64
            );
        }
    }

    #[test]
    fn a_graph_cut_to_a_shard_keeps_its_rows_both_ways_and_every_count() {
        let agents = 300;
        let follows = pseudo_random_follows(agents as u32, 5_000);
        let whole = FollowGraph::from_follows(agents, &follows).unwrap();
        let mut cut = whole.clone();
        let held = 100..220;
        cut.keep_rows(held.clone());
        assert_eq!(cut.edges(), whole.edges());
        assert!(!cut.holds_every_row());
        for a in 0..agents {
            assert_eq!(cut.follower_count(a), whole.follower_count(a));
            assert_eq!(cut.followee_count(a), whole.followee_count(a));
            if held.contains(&a) {
                assert_eq!(cut.followers(a), whole.followers(a), "followers of {a}");
                assert_eq!(cut.followees(a), whole.followees(a), "followees of {a}");
            }
        }
        let outside = |f: fn(&FollowGraph, usize) -> usize| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&cut, 99))).is_err()
                && std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&cut, 220))).is_err()
        };
        assert!(outside(|g, a| g.followers(a).len()), "another shard's follower row");
        assert!(outside(|g, a| g.followees(a).len()), "another shard's followee row");
        // Released, the followee rows cannot be transposed again from a
        // shard's followers.
        cut.release_followees();
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| cut.followees(150).len())).is_err());
    }

    #[test]
    fn by_popularity_is_the_graph_relabeled_by_descending_follower_count() {
        let agents = 200;
        let follows = pseudo_random_follows(agents as u32, 3_000);
        let plain = FollowGraph::from_follows(agents, &follows).unwrap();
        let (ordered, original) = FollowGraph::by_popularity(agents, follows.as_slice().into()).unwrap();
        for w in original.windows(2) {
            let (a, b) = (plain.follower_count(w[0] as usize), plain.follower_count(w[1] as usize));
            assert!(a > b || (a == b && w[0] < w[1]), "descending counts, ties by id");
        }
        let mut internal = vec![0u32; agents];
        for (new, &old) in original.iter().enumerate() {
            internal[old as usize] = new as u32;
        }
        let relabeled = plain.relabeled(&internal);
        for a in 0..agents {
            assert_eq!(ordered.followers(a), relabeled.followers(a));
            assert_eq!(ordered.followees(a), relabeled.followees(a));
            let mut old: Vec<u32> = plain
                .followers(original[a] as usize)
                .iter()
                .map(|&j| internal[j as usize])
                .collect();
            old.sort_unstable();
            assert_eq!(ordered.followers(a), old.as_slice());
        }
    }
}
