//! The follow graph in compressed sparse row form.

use crate::population::PopulationError;
use rayon::prelude::*;

/// Who sees whom, stored in both directions, each row sorted by id: every
/// account's followers (whom its posts reach: the reverse sweep walks these
/// from each sender) and every account's followees (whom it reads: the
/// forward sweep pulls over these, so that no two threads write the same
/// row).
///
/// Duplicate edges count once and self-follows are dropped, as on the
/// platforms the data comes from: following twice is still following, and
/// an account's own posts are not an influence on itself.
#[derive(Clone, Debug)]
pub struct FollowGraph {
    agents: usize,
    /// offsets[i]..offsets[i+1] index `followers` for account i.
    offsets: Vec<u64>,
    followers: Vec<u32>,
    followee_offsets: Vec<u64>,
    followees: Vec<u32>,
    /// Self-follows and duplicates dropped while building.
    pub dropped_self_follows: u64,
    pub dropped_duplicates: u64,
}

impl FollowGraph {
    /// Builds the graph from (follower, followee) pairs: `follower` follows
    /// `followee`, so `followee`'s posts reach `follower`.
    pub fn from_follows(agents: usize, follows: &[(u32, u32)]) -> Result<Self, PopulationError> {
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
        let mut counts = vec![0u64; agents + 1];
        let mut self_follows = 0;
        for &(j, i) in follows {
            if i == j {
                self_follows += 1;
            } else {
                counts[i as usize + 1] += 1;
            }
        }
        for a in 0..agents {
            counts[a + 1] += counts[a];
        }
        let mut followers = vec![0u32; counts[agents] as usize];
        let mut cursor = counts.clone();
        for &(j, i) in follows {
            if i != j {
                let c = &mut cursor[i as usize];
                followers[*c as usize] = j;
                *c += 1;
            }
        }
        // Sort and de-duplicate each account's followers in parallel, then
        // compact.
        let mut lengths: Vec<u64> = vec![0; agents];
        {
            let mut slices: Vec<&mut [u32]> = Vec::with_capacity(agents);
            let mut rest = followers.as_mut_slice();
            for a in 0..agents {
                let (head, tail) = rest.split_at_mut((counts[a + 1] - counts[a]) as usize);
                slices.push(head);
                rest = tail;
            }
            slices.into_par_iter().zip(lengths.par_iter_mut()).for_each(|(s, len)| {
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
        }
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
        let (followee_offsets, followees) = transpose(agents, &offsets, &followers);
        Ok(Self {
            agents,
            offsets,
            followers,
            followee_offsets,
            followees,
            dropped_self_follows: self_follows,
            dropped_duplicates: duplicates,
        })
    }

    pub fn agents(&self) -> usize {
        self.agents
    }

    /// The same graph with agent `a` renamed `relabel[a]` (a permutation of
    /// 0..N); rows stay sorted.
    pub fn relabeled(&self, relabel: &[u32]) -> Self {
        let n = self.agents;
        let mut original = vec![0u32; n];
        for (old, &new) in relabel.iter().enumerate() {
            original[new as usize] = old as u32;
        }
        let mut offsets = vec![0u64; n + 1];
        for new in 0..n {
            offsets[new + 1] = offsets[new] + self.follower_count(original[new] as usize) as u64;
        }
        let mut followers = vec![0u32; self.followers.len()];
        let mut rows: Vec<&mut [u32]> = Vec::with_capacity(n);
        let mut rest = followers.as_mut_slice();
        for new in 0..n {
            let (head, tail) = rest.split_at_mut((offsets[new + 1] - offsets[new]) as usize);
            rows.push(head);
            rest = tail;
        }
        rows.into_par_iter().enumerate().for_each(|(new, row)| {
            for (slot, &j) in row.iter_mut().zip(self.followers(original[new] as usize)) {
                *slot = relabel[j as usize];
            }
            row.sort_unstable();
        });
        let (followee_offsets, followees) = transpose(n, &offsets, &followers);
        Self {
            agents: n,
            offsets,
            followers,
            followee_offsets,
            followees,
            dropped_self_follows: self.dropped_self_follows,
            dropped_duplicates: self.dropped_duplicates,
        }
    }

    pub fn edges(&self) -> usize {
        self.followers.len()
    }

    /// The accounts that follow `agent` (whom its posts reach), sorted.
    pub fn followers(&self, agent: usize) -> &[u32] {
        &self.followers[self.offsets[agent] as usize..self.offsets[agent + 1] as usize]
    }

    /// The accounts `agent` follows (whose posts it reads), sorted.
    pub fn followees(&self, agent: usize) -> &[u32] {
        &self.followees[self.followee_offsets[agent] as usize..self.followee_offsets[agent + 1] as usize]
    }

    pub fn follower_count(&self, agent: usize) -> usize {
        (self.offsets[agent + 1] - self.offsets[agent]) as usize
    }

    /// Bytes held by the graph.
    pub fn memory_bytes(&self) -> usize {
        (self.offsets.len() + self.followee_offsets.len()) * 8 + (self.followers.len() + self.followees.len()) * 4
    }
}

/// The other direction of a CSR graph, by counting sort; rows come out
/// sorted because sources are visited in order.
fn transpose(agents: usize, offsets: &[u64], targets: &[u32]) -> (Vec<u64>, Vec<u32>) {
    let mut out_offsets = vec![0u64; agents + 1];
    for &t in targets {
        out_offsets[t as usize + 1] += 1;
    }
    for a in 0..agents {
        out_offsets[a + 1] += out_offsets[a];
    }
    let mut cursor = out_offsets.clone();
    let mut out = vec![0u32; targets.len()];
    for source in 0..agents {
        for &t in &targets[offsets[source] as usize..offsets[source + 1] as usize] {
            let c = &mut cursor[t as usize];
            out[*c as usize] = source as u32;
            *c += 1;
        }
    }
    (out_offsets, out)
}
