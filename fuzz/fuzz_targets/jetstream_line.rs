//! Any bytes on a line: the parser returns an error or an event, never panics.
//! `cargo +nightly fuzz run jetstream_line` (from the repository root).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|line: &[u8]| {
    let _ = aumann_data::ingest::jetstream::parse_line(line);
});
