pub mod attribute;
pub mod bench;
pub mod cluster;
pub mod fit;
pub mod ingest;
pub mod stance;
pub mod study;
pub mod synth;
