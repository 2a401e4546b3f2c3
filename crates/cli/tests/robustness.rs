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
        "a panel of 5000 accounts is larger than the population (200 agents)",
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

/// Every file below `dir`, with its contents.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(
                    path.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    files
}

#[test]
fn an_out_that_is_or_holds_or_lies_in_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let pop = dir.path().join("pop");
    let pop_s = pop.to_str().unwrap();
    assert!(
        aumann(&["synth", "--agents", "100", "--days", "2", "--out", pop_s])
            .status
            .success()
    );
    let before = snapshot(&pop);
    for command in ["attribute", "study", "faithfulness"] {
        fails_with(
            &[command, "--input", pop_s, "--indicator", "linear", "--out", pop_s],
            "is the input",
        );
        let inside = pop.join("attr");
        fails_with(
            &[command, "--input", pop_s, "--out", inside.to_str().unwrap()],
            "lies inside the input",
        );
    }
    // A population under an attribution, input or not, would be removed.
    fails_with(
        &["attribute", "--agents", "100", "--days", "2", "--out", pop_s],
        "holds the output of another kind of run (activity.parquet",
    );
    assert_eq!(snapshot(&pop), before);
    // An OASIS database or a seeds file inside --out.
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(work.join("run.db"), "").unwrap();
    std::fs::write(work.join("seeds.csv"), "a,0.2\n").unwrap();
    fails_with(
        &[
            "ingest",
            "oasis",
            work.join("run.db").to_str().unwrap(),
            "--out",
            work.to_str().unwrap(),
        ],
        "contains the input",
    );
    fails_with(
        &[
            "stance",
            "--input",
            pop_s,
            "--method",
            "seeds",
            "--file",
            work.join("seeds.csv").to_str().unwrap(),
            "--out",
            work.to_str().unwrap(),
        ],
        "contains the input",
    );
    assert_eq!(std::fs::read_to_string(work.join("seeds.csv")).unwrap(), "a,0.2\n");
}

#[test]
fn files_the_program_did_not_write_survive_every_run_into_the_same_out() {
    let dir = tempfile::tempdir().unwrap();
    // A directory with the user's files: they stay, and the run adds its own.
    std::fs::write(dir.path().join("thesis.tex"), "years of work").unwrap();
    let here = dir.path().to_str().unwrap();
    assert!(
        aumann(&["synth", "--agents", "100", "--days", "2", "--out", here])
            .status
            .success()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("thesis.tex")).unwrap(),
        "years of work"
    );
    assert!(dir.path().join("agents.parquet").exists());
    // The user's own metadata.json is not this program's: refused, kept.
    let u = dir.path().join("u");
    std::fs::create_dir(&u).unwrap();
    std::fs::write(u.join("metadata.json"), r#"{"name":"my dataset"}"#).unwrap();
    std::fs::write(u.join("notes.txt"), "notes").unwrap();
    let before = snapshot(&u);
    fails_with(
        &["synth", "--agents", "100", "--days", "2", "--out", u.to_str().unwrap()],
        "metadata.json was not written by this program",
    );
    assert_eq!(snapshot(&u), before);
    // An earlier attribution with a notebook, figures and a population kept
    // inside it: a second attribution replaces the tables only.
    let attr = dir.path().join("attr");
    let attr_s = attr.to_str().unwrap();
    let attribute = |indicator: &str| {
        let run = aumann(&[
            "attribute",
            "--agents",
            "150",
            "--days",
            "2",
            "--indicator",
            indicator,
            "--out",
            attr_s,
        ]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    };
    attribute("all");
    std::fs::write(attr.join("analysis.ipynb"), "{}").unwrap();
    std::fs::create_dir_all(attr.join("figures/draft")).unwrap();
    std::fs::write(attr.join("figures/draft/fig1.svg"), "<svg/>").unwrap();
    let kept_pop = attr.join("pop");
    assert!(
        aumann(&[
            "synth",
            "--agents",
            "100",
            "--days",
            "2",
            "--out",
            kept_pop.to_str().unwrap()
        ])
        .status
        .success()
    );
    let mine: Vec<_> = snapshot(&attr)
        .into_iter()
        .filter(|(p, _)| !p.starts_with("run.json") && p.components().count() > 1 || p.ends_with("analysis.ipynb"))
        .collect();
    attribute("cascade");
    let after = snapshot(&attr);
    for (path, bytes) in &mine {
        assert_eq!(after.get(path), Some(bytes), "{} changed or went", path.display());
    }
    assert!(!attr.join("attributions-panic.parquet").exists());
    assert!(attr.join("attributions-cascade.parquet").exists());
    assert!(aumann_data::format::read(&kept_pop).is_ok());
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}

#[cfg(unix)]
#[test]
fn an_out_that_is_not_a_directory_is_refused_and_left_as_it_is() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("n");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let file = dir.path().join("f");
    std::fs::write(&file, "mine").unwrap();
    for out in [fifo.as_path(), file.as_path(), Path::new("/dev/null")] {
        fails_with(
            &[
                "attribute",
                "--agents",
                "100",
                "--days",
                "2",
                "--out",
                out.to_str().unwrap(),
            ],
            "is not a directory",
        );
    }
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_outputs_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aumann"))
        .args([
            "synth",
            "--agents",
            "500",
            "--days",
            "3",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("AUMANN_NO_PROGRESS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the first line, as `| head -0` does.
    drop(child.stdout.take());
    let done = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "{:?}: {err}", done.status);
    assert!(err.is_empty(), "{err}");
    assert!(aumann_data::format::read(&out).is_ok());
}

#[test]
fn counts_past_what_a_run_can_finish_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let out = out.to_str().unwrap();
    fails_with(
        &[
            "study",
            "--agents",
            "200",
            "--random-rankings",
            "4000000000",
            "--out",
            out,
        ],
        "--random-rankings takes 0 to 100",
    );
    fails_with(
        &[
            "faithfulness",
            "--agents",
            "200",
            "--random-rankings",
            "100000",
            "--out",
            out,
        ],
        "--random-rankings takes 0 to 100",
    );
    fails_with(
        &[
            "study",
            "--agents",
            "200",
            "--permutations",
            "1000000000000",
            "--out",
            out,
        ],
        "--permutations takes 0 to 100000",
    );
    let db = dir.path().join("run.db");
    std::fs::write(&db, "").unwrap();
    for seconds in ["0", "18446744073709551615"] {
        fails_with(
            &[
                "ingest",
                "oasis",
                db.to_str().unwrap(),
                "--step-seconds",
                seconds,
                "--out",
                out,
            ],
            "--step-seconds takes 1 to 31622400",
        );
    }
    let capture = dir.path().join("c.jsonl");
    std::fs::write(&capture, "").unwrap();
    let capture = capture.to_str().unwrap();
    fails_with(
        &[
            "ingest",
            "jetstream",
            capture,
            "--days",
            "36600",
            "--step-hours",
            "8784",
            "--out",
            out,
        ],
        "reaches before 2000-01-01",
    );
    let again = format!(
        "{}/../{}/c.jsonl",
        dir.path().display(),
        dir.path().file_name().unwrap().to_string_lossy()
    );
    fails_with(
        &["ingest", "jetstream", capture, &again, "--out", out],
        "are the same file",
    );
    assert!(!Path::new(out).exists());
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
