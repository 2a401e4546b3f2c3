//! Bad options and sizes are refused before any work; outputs are whole or
//! absent, even when the process is killed.

mod support;

use support::aumann;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn fails_with(args: &[&str], message: &str) {
    let out = aumann(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(err.contains(message), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn absurd_sizes_and_conflicting_options_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let out = out.to_str().unwrap();
    fails_with(
        &["synth", "--agents", "4294967296", "--out", out],
        "at most 100000000 agents",
    );
    fails_with(
        &["synth", "--agents", "1000", "--days", "10000000", "--out", out],
        "beyond what a replay can hold",
    );
    fails_with(
        &["attribute", "--agents", "100", "--nodes", "1000000000", "--out", out],
        "at most 65536 nodes",
    );
    fails_with(
        &[
            "attribute",
            "--agents",
            "100",
            "--nodes",
            "64",
            "--max-nodes",
            "8",
            "--out",
            out,
        ],
        "--nodes 64 is above --max-nodes 8",
    );
    fails_with(
        &["--threads", "100000", "synth", "--agents", "100", "--out", out],
        "--threads takes 1 to 4096",
    );
    fails_with(
        &["study", "--agents", "200", "--sample", "5000", "--out", out],
        "--sample 5000 is larger than the population (200 agents)",
    );
    let capture = dir.path().join("c.jsonl");
    std::fs::write(&capture, "").unwrap();
    let capture = capture.to_str().unwrap();
    fails_with(
        &["ingest", "jetstream", capture, "--days", "4294967295", "--out", out],
        "the window needs 1 to 36600 steps",
    );
    fails_with(
        &[
            "ingest",
            "jetstream",
            capture,
            "--step-hours",
            "1000000000000",
            "--out",
            out,
        ],
        "a step lasts 1 second to 366 days",
    );
    // Nothing was written for any of them.
    assert!(!Path::new(out).exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn a_directory_of_someone_elses_files_is_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("thesis.tex"), "years of work").unwrap();
    fails_with(
        &["synth", "--agents", "100", "--out", dir.path().to_str().unwrap()],
        "holds files this program did not write",
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("thesis.tex")).unwrap(),
        "years of work"
    );
}

#[test]
fn a_second_run_into_the_same_out_leaves_nothing_of_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("attr");
    let out_s = out.to_str().unwrap();
    let ok = |args: &[&str]| assert!(aumann(args).status.success(), "{args:?}");
    ok(&[
        "attribute",
        "--agents",
        "300",
        "--days",
        "2",
        "--indicator",
        "all",
        "--out",
        out_s,
    ]);
    assert!(out.join("attributions-panic.parquet").exists());
    ok(&[
        "attribute",
        "--agents",
        "300",
        "--days",
        "2",
        "--indicator",
        "cascade",
        "--out",
        out_s,
    ]);
    assert!(!out.join("attributions-panic.parquet").exists());
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let files: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        ["attributions-cascade.parquet", "steps-cascade.parquet", "summary.json"]
    );
    assert!(manifest["command"].as_array().unwrap().iter().any(|a| a == "cascade"));
    assert!(manifest["input"].as_str().unwrap().contains("built-in population"));
    assert_eq!(manifest["input_fingerprint"].as_str().unwrap().len(), 16);
}

#[test]
fn a_panel_that_is_the_whole_population_gets_its_own_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let run = aumann(&[
        "study",
        "--agents",
        "12",
        "--days",
        "2",
        "--indicator",
        "cascade",
        "--sample",
        "12",
        "--permutations",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for panel in s["indicators"][0]["panels"].as_array().unwrap() {
        for a in panel["attributions"].as_array().unwrap() {
            assert_eq!(a["comparison"]["verdict"], "same-population", "{a}");
        }
    }
}

/// Kills a run at several points and checks that what is left is either
/// the previous complete output or nothing, never a half-written or mixed
/// directory.
fn kill_at_random_points(args: &[&str], out: &Path, check: impl Fn(&Path)) {
    // Deterministic "random" delays over the run's length.
    for (k, millis) in [40u64, 150, 400, 900, 1500, 2500].into_iter().enumerate() {
        let mut child = Command::new(env!("CARGO_BIN_EXE_aumann"))
            .args(args)
            .env("AUMANN_NO_PROGRESS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(millis + 37 * k as u64));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        if out.exists() {
            check(out);
        }
    }
}

#[test]
fn killed_runs_leave_whole_outputs_or_none() {
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop");
    let pop_s = pop.to_str().unwrap().to_string();
    // A complete population first, from seed 1; the killed runs use seed 2.
    assert!(
        aumann(&[
            "synth", "--agents", "60000", "--days", "3", "--seed", "1", "--out", &pop_s
        ])
        .status
        .success()
    );
    let check_population = |p: &Path| {
        let read = aumann_data::format::read(p).expect("a readable, unmixed population");
        assert!(read.meta.seed == Some(1) || read.meta.seed == Some(2));
    };
    kill_at_random_points(
        &[
            "synth", "--agents", "60000", "--days", "3", "--seed", "2", "--out", &pop_s,
        ],
        &pop,
        check_population,
    );
    let attr = dir.path().join("attr");
    let attr_s = attr.to_str().unwrap().to_string();
    assert!(
        aumann(&[
            "attribute",
            "--input",
            &pop_s,
            "--indicator",
            "cascade",
            "--out",
            &attr_s
        ])
        .status
        .success()
    );
    let check_attribution = |p: &Path| {
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.join("run.json")).expect("a manifest")).unwrap();
        for file in manifest["files"].as_array().unwrap() {
            let path = p.join(file["name"].as_str().unwrap());
            let bytes = std::fs::read(&path).expect("every listed file");
            assert_eq!(
                bytes.len() as u64,
                file["bytes"].as_u64().unwrap(),
                "{}",
                path.display()
            );
        }
        let listed = manifest["files"].as_array().unwrap().len() + 1;
        assert_eq!(
            std::fs::read_dir(p).unwrap().count(),
            listed,
            "no file beyond the manifest's"
        );
    };
    kill_at_random_points(
        &["attribute", "--input", &pop_s, "--indicator", "all", "--out", &attr_s],
        &attr,
        check_attribution,
    );
    // No staging directory survives a later run.
    assert!(aumann(&["synth", "--agents", "1000", "--out", &pop_s]).status.success());
    let stale: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".pop."))
        .collect();
    assert!(stale.is_empty(), "{stale:?}");
}
