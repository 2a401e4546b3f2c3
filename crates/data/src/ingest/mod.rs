//! Sources that write populations: Bluesky Jetstream archives and OASIS
//! simulation databases.

mod interner;
pub mod jetstream;
pub mod oasis;

pub use interner::Interner;
