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
