pub mod attribute;
pub mod ingest;
pub mod study;
pub mod synth;
