//! Sources that write populations: Bluesky Jetstream archives and OASIS
//! simulation databases.

mod interner;
pub mod jetstream;
pub mod oasis;
mod tally;

pub use interner::Interner;
pub use tally::{Counts, Skip, Tally};
