pub mod attribute;
pub mod study;
pub mod synth;
