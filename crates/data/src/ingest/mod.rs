//! Sources that write populations: Bluesky Jetstream archives, OASIS
//! simulation databases, and the Twitter15/16 propagation trees.

mod interner;
pub mod jetstream;
pub mod oasis;
mod tally;
pub mod twitter_trees;

pub use interner::Interner;
pub use tally::{Counts, Skip, Tally};

use aumann_models::{Exposure, FollowSpan};
use std::collections::HashMap;

/// How many exposures no follow held at their step: `follows` and `spans`
/// row for row (`spans` empty when every follow held all along).
fn outside_follows(exposures: &[Exposure], follows: &[(u32, u32)], spans: &[FollowSpan]) -> usize {
    let mut held: HashMap<(u32, u32), Vec<FollowSpan>> = HashMap::new();
    for (r, &pair) in follows.iter().enumerate() {
        held.entry(pair)
            .or_default()
            .push(spans.get(r).copied().unwrap_or_default());
    }
    exposures
        .iter()
        .filter(|e| {
            !held
                .get(&(e.reader, e.author))
                .is_some_and(|s| s.iter().any(|s| s.holds_at(e.step)))
        })
        .count()
}
