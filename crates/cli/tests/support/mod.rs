//! What the command-line tests share.

#![allow(dead_code)]

use std::process::Command;

/// Runs the binary with progress display off (the tests read its output
/// through a pipe, where no bar is drawn anyway).
pub fn aumann(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aumann"))
        .args(args)
        .env("AUMANN_NO_PROGRESS", "1")
        .output()
        .expect("the aumann binary runs")
}

/// The Parquet tables of an output directory, by name (to compare two
/// runs' outputs byte for byte).
pub fn tables(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}
