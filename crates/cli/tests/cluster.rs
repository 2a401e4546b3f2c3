//! Cluster runs over loopback: the same tables as one process, bit for bit,
//! for every indicator and every layout of 1 to 3 processes with 1 or 2
//! workers; and faults that stop every process with an error naming the
//! peer, within the timeout, writing nothing.

mod support;

#[path = "../../data/tests/support/oasis_run.rs"]
mod oasis_run;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use support::{aumann, tables};

/// A hostfile of `count` loopback ports that were free a moment ago.
fn loopback_hostfile(dir: &Path, count: usize) -> (std::path::PathBuf, Vec<String>) {
    let listeners: Vec<_> = (0..count)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<String> = listeners.iter().map(|l| l.local_addr().unwrap().to_string()).collect();
    let hostfile = dir.join("hostfile");
    std::fs::write(&hostfile, ports.join("\n") + "\n").unwrap();
    (hostfile, ports)
}

/// The Parquet tables in `out` are `expected`'s, byte for byte.
fn assert_same_tables(out: &Path, expected: &std::collections::BTreeMap<String, Vec<u8>>, layout: &str) {
    let got = tables(out);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "{layout}"
    );
    for (name, bytes) in expected {
        assert!(&got[name] == bytes, "{layout}: {name} differs from one process's");
    }
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn every_layout_of_one_to_three_processes_writes_the_single_process_tables_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let population = dir.path().join("population");
    // Five blocks of agents (so up to five non-empty shards) and a
    // recommended feed (exposures, which cross shards too).
    let made = aumann(
        &[
            "synth", "--agents", "9000", "--days", "4", "--feed", "2", "--seed", "3", "--out",
        ]
        .into_iter()
        .chain([population.to_str().unwrap()])
        .collect::<Vec<_>>(),
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let attribute = |out: &Path| -> Vec<String> {
        [
            "attribute",
            "--input",
            population.to_str().unwrap(),
            "--indicator",
            "all",
            "--nodes",
            "12",
            "--out",
        ]
        .into_iter()
        .chain([out.to_str().unwrap()])
        .map(String::from)
        .collect()
    };
    let single = dir.path().join("single");
    let run = aumann(&attribute(&single).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let expected = tables(&single);
    assert_eq!(
        expected.len(),
        12,
        "an attribution and a step table per indicator (six): {:?}",
        expected.keys()
    );
    for (processes, workers) in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (3, 2)] {
        let out = dir.path().join(format!("p{processes}w{workers}"));
        let mut args: Vec<String> = vec![
            "cluster-local".into(),
            "-n".into(),
            processes.to_string(),
            "-w".into(),
            workers.to_string(),
            "--".into(),
        ];
        args.extend(attribute(&out));
        let run = aumann(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{processes} x {workers}: {stderr}");
        for p in 0..processes {
            assert!(stderr.contains(&format!("process {p} of {processes}")), "{stderr}");
        }
        assert_same_tables(&out, &expected, &format!("{processes} x {workers}"));
        let (a, b) = (summary(&single), summary(&out));
        for i in 0..5 {
            let field = |s: &serde_json::Value, key: &str| s["indicators"][i]["full"][key].clone();
            for key in ["value_input", "value_baseline", "relative_gap", "nodes"] {
                assert_eq!(field(&a, key), field(&b, key), "{key} of indicator {i}");
            }
        }
    }
}

/// A summary without what depends on the machine or the layout: timings,
/// and the size of the reporting worker's replay (its shard's, unless
/// curves need the whole).
fn without_timings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|key, _| !key.ends_with("seconds") && key != "replay_bytes");
            map.values_mut().for_each(without_timings);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_timings),
        _ => {}
    }
}

#[test]
fn a_study_on_a_cluster_reports_the_single_process_panels_curves_and_tables() {
    // Only process 0's first worker makes the panels, rankings and curves;
    // the others attribute and release the population. Everything written
    // must still be one process's, with curves (the reporting worker
    // replays the whole population) and without (its shard only).
    let dir = tempfile::tempdir().unwrap();
    for curves in [true, false] {
        let study = |out: &Path| -> Vec<String> {
            let mut args: Vec<String> = [
                "study",
                "--agents",
                "9000",
                "--days",
                "4",
                "--seed",
                "5",
                "--indicator",
                "all",
                "--sample",
                "30",
                "--permutations",
                "20",
                "--nodes",
                "12",
                // The analysis runs in one process only; the cluster's
                // study makes none.
                "--sensitivity",
                "none",
            ]
            .map(String::from)
            .to_vec();
            if !curves {
                args.push("--no-curves".into());
            }
            args.extend(["--out".into(), out.to_str().unwrap().into()]);
            args
        };
        let single = dir.path().join(format!("single-{curves}"));
        let run = aumann(&study(&single).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let expected = tables(&single);
        assert!(
            expected.keys().any(|k| k.starts_with("curves-")) == curves,
            "{:?}",
            expected.keys()
        );
        let mut expected_summary = summary(&single);
        without_timings(&mut expected_summary);
        assert_eq!(expected_summary["indicators"][0]["panels"].as_array().unwrap().len(), 3);
        for (processes, workers) in [(2, 2), (3, 1)] {
            let out = dir.path().join(format!("p{processes}w{workers}-{curves}"));
            let mut args: Vec<String> = [
                "cluster-local",
                "-n",
                &processes.to_string(),
                "-w",
                &workers.to_string(),
                "--",
            ]
            .map(String::from)
            .to_vec();
            args.extend(study(&out));
            let run = aumann(&args.iter().map(String::as_str).collect::<Vec<_>>());
            assert!(
                run.status.success(),
                "{processes} x {workers}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
            assert_same_tables(&out, &expected, &format!("{processes} x {workers}"));
            let mut got_summary = summary(&out);
            without_timings(&mut got_summary);
            assert!(
                got_summary == expected_summary,
                "{processes} x {workers}, curves {curves}: the summary differs from one process's"
            );
            assert!(out.join("report.html").is_file());
        }
    }
}

#[test]
fn reports_longer_than_the_peer_timeout_keep_no_worker_waiting() {
    // Panels with thousands of permutations take process 0 several seconds
    // per indicator, far past a 2 s peer timeout. The reports come after
    // every attribution, so the other process has left by then; were they
    // made between two attributions, it would wait for process 0 in the
    // next one's first exchange and stop ("nothing from process 0").
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let run = aumann(&[
        "cluster-local",
        "-n",
        "2",
        "--",
        "study",
        "--agents",
        "9000",
        "--days",
        "4",
        "--seed",
        "5",
        "--indicator",
        "all",
        "--sample",
        "30",
        "--permutations",
        "8000",
        "--nodes",
        "12",
        "--peer-timeout",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(summary(&out)["indicators"].as_array().unwrap().len(), 6);
}

#[test]
fn an_oasis_run_with_reposted_content_gives_the_single_process_tables_on_a_cluster() {
    // Reposts and quotes link most posts to a parent whose author sits on
    // another shard, often at an earlier step, over the full network
    // (follows, and the feeds the refresh traces record).
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run.db");
    let facts = oasis_run::simulate(&db, 6000, 4, 2, 21);
    assert!(facts.reposts > 10_000, "{} reposts", facts.reposts);
    let population = dir.path().join("population");
    let ingest = aumann(&[
        "ingest",
        "oasis",
        db.to_str().unwrap(),
        "--out",
        population.to_str().unwrap(),
    ]);
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));
    let attribute = |out: &Path| -> Vec<String> {
        [
            "attribute",
            "--input",
            population.to_str().unwrap(),
            "--indicator",
            "all",
            "--network",
            "both",
            "--nodes",
            "12",
            "--out",
            out.to_str().unwrap(),
        ]
        .map(String::from)
        .to_vec()
    };
    let single = dir.path().join("single");
    let run = aumann(&attribute(&single).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let linked = summary(&single)["population"]["network"]["reposts_linked"]
        .as_u64()
        .unwrap();
    assert!(linked > 10_000, "{linked} reposts linked to their parent");
    let expected = tables(&single);
    for processes in [2, 3] {
        let out = dir.path().join(format!("p{processes}"));
        let mut args: Vec<String> = ["cluster-local", "-n", &processes.to_string(), "--"]
            .map(String::from)
            .to_vec();
        args.extend(attribute(&out));
        let run = aumann(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{processes} processes: {stderr}");
        assert_same_tables(&out, &expected, &format!("{processes} processes"));
    }
}

#[test]
fn an_address_that_never_answers_stops_the_run_within_the_timeout_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // Nobody listens on process 1's port.
    let (hostfile, ports) = loopback_hostfile(dir.path(), 2);
    let silent = &ports[1];
    let out = dir.path().join("out");
    let started = Instant::now();
    let run = aumann(&[
        "attribute",
        "--agents",
        "500",
        "--days",
        "3",
        "--hostfile",
        hostfile.to_str().unwrap(),
        "--process",
        "0",
        "--connect-timeout",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("process 1") && stderr.contains(silent.as_str()),
        "{stderr}"
    );
    assert!(!out.exists(), "no output from a run that never started");
}

#[test]
fn processes_that_run_different_jobs_refuse_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let (hostfile, _) = loopback_hostfile(dir.path(), 2);
    let start = |process: &str, indicator: &str| {
        Command::new(env!("CARGO_BIN_EXE_aumann"))
            .args(["attribute", "--agents", "500", "--days", "3", "--indicator", indicator])
            .args(["--hostfile", hostfile.to_str().unwrap(), "--process", process])
            .args(["--connect-timeout", "5", "--out"])
            .arg(dir.path().join(format!("out{process}")))
            .env("AUMANN_NO_PROGRESS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (zero, one) = (start("0", "polarization"), start("1", "cascade"));
    let zero = zero.wait_with_output().unwrap();
    let one = one.wait_with_output().unwrap();
    assert!(!zero.status.success() && !one.status.success());
    let stderr = String::from_utf8_lossy(&zero.stderr);
    assert!(stderr.contains("another job"), "{stderr}");
    assert!(!dir.path().join("out0").exists());
}

#[test]
fn a_process_killed_mid_run_stops_the_others_with_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (hostfile, ports) = loopback_hostfile(dir.path(), 2);
    let out = dir.path().join("out");
    let checkpoints = dir.path().join("checkpoints");
    let start = |process: &str| {
        Command::new(env!("CARGO_BIN_EXE_aumann"))
            .args([
                "attribute",
                "--agents",
                "30000",
                "--days",
                "10",
                "--indicator",
                "cascade",
            ])
            .args([
                "--nodes",
                "128",
                "--batch",
                "1",
                "--checkpoint",
                checkpoints.to_str().unwrap(),
            ])
            .args(["--hostfile", hostfile.to_str().unwrap(), "--process", process, "--out"])
            .arg(&out)
            .env("AUMANN_NO_PROGRESS", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let zero = start("0");
    let mut one = start("1");
    // Inside the sweeps: the first of 128 gradient sweeps is saved.
    wait_for(
        &checkpoints.join("process-1-cascade.checkpoint"),
        Duration::from_secs(120),
    );
    one.kill().unwrap();
    one.wait().unwrap();
    let killed = Instant::now();
    let zero = zero.wait_with_output().unwrap();
    assert!(killed.elapsed() < Duration::from_secs(60), "{:?}", killed.elapsed());
    let stderr = String::from_utf8_lossy(&zero.stderr);
    assert!(
        !zero.status.success(),
        "process 0 finished before the kill: make the run longer"
    );
    assert!(stderr.contains("lost the connection to process 1"), "{stderr}");
    assert!(stderr.contains(&ports[1]), "{stderr}");
    assert!(
        !stderr.contains("panicked"),
        "a lost peer is an error, not a panic: {stderr}"
    );
    assert!(!out.exists(), "no output from a run that stopped");
}

/// Waits until `path` exists (a checkpoint written after the first sweeps).
fn wait_for(path: &Path, limit: Duration) {
    let started = Instant::now();
    while !path.exists() {
        assert!(started.elapsed() < limit, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Starts the binary with `args` and kills it once `checkpoint` is written.
fn kill_after_checkpoint(args: &[String], checkpoint: &Path) {
    let mut run = Command::new(env!("CARGO_BIN_EXE_aumann"))
        .args(args)
        .env("AUMANN_NO_PROGRESS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(checkpoint, Duration::from_secs(120));
    run.kill().unwrap();
    run.wait().unwrap();
}

#[test]
fn a_cluster_killed_mid_run_resumes_from_its_checkpoints_to_the_same_tables() {
    let dir = tempfile::tempdir().unwrap();
    let population = dir.path().join("population");
    let made = aumann(&[
        "synth",
        "--agents",
        "30000",
        "--days",
        "10",
        "--out",
        population.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    // 128 nodes one at a time: 128 sweeps, so the kill lands between two.
    let args = |out: &Path| -> Vec<String> {
        [
            "attribute",
            "--input",
            population.to_str().unwrap(),
            "--indicator",
            "cascade",
        ]
        .into_iter()
        .chain(["--nodes", "128", "--batch", "1", "--out", out.to_str().unwrap()])
        .map(String::from)
        .collect()
    };
    let single = dir.path().join("single");
    let run = aumann(&args(&single).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(run.status.success());
    let out = dir.path().join("out");
    let checkpoints = dir.path().join("checkpoints");
    // Two workers per process: each saves the state of its own gates, in a
    // file of its own.
    let mut cluster: Vec<String> = ["cluster-local", "-n", "2", "-w", "2", "--"].map(String::from).to_vec();
    cluster.extend(args(&out));
    cluster.extend(["--checkpoint".to_string(), checkpoints.to_str().unwrap().to_string()]);
    let mut first = Command::new(env!("CARGO_BIN_EXE_aumann"))
        .args(&cluster)
        .env("AUMANN_NO_PROGRESS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for process in 0..2 {
        for worker in 0..2 {
            wait_for(
                &checkpoints.join(format!("process-{process}-worker-{worker}-cascade.checkpoint")),
                Duration::from_secs(120),
            );
        }
    }
    // Stop the whole cluster (its launcher and both processes) mid-run: one
    // process may have saved a sweep more than the other, and the run
    // continues from the newest sweep both saved.
    let stopped = Command::new("pkill")
        .args(["-9", "-f", checkpoints.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let _ = first.wait();
    assert!(!out.exists(), "a stopped run writes nothing");
    let run = aumann(&cluster.iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("resumed from"), "{stdout}");
    assert_eq!(
        tables(&out),
        tables(&single),
        "the resumed cluster's tables are one process's"
    );
    assert!(!checkpoints.exists(), "checkpoints go once the outputs are written");
}

#[test]
fn a_single_process_resumes_too_and_a_checkpoint_of_another_job_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let checkpoints = dir.path().join("checkpoints");
    let out = dir.path().join("out");
    let args = |seed: &str| -> Vec<String> {
        [
            "attribute",
            "--agents",
            "20000",
            "--days",
            "8",
            "--seed",
            seed,
            "--indicator",
            "polarization",
        ]
        .into_iter()
        .chain(["--nodes", "128", "--batch", "1", "--out", out.to_str().unwrap()])
        .chain(["--checkpoint", checkpoints.to_str().unwrap()])
        .map(String::from)
        .collect()
    };
    let checkpoint = checkpoints.join("polarization.checkpoint");
    kill_after_checkpoint(&args("5"), &checkpoint);
    // Another population: the checkpoint is not this job's.
    let other = aumann(&args("6").iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&other.stdout);
    assert!(other.status.success());
    assert!(
        stdout.contains("was not used") && stdout.contains("another job"),
        "{stdout}"
    );
    let reference = tables(&out);
    std::fs::remove_dir_all(&out).unwrap();
    // Killed again, then the same job resumes to the same tables.
    kill_after_checkpoint(&args("6"), &checkpoint);
    let resumed = aumann(&args("6").iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(resumed.status.success());
    assert!(stdout.contains("resumed from"), "{stdout}");
    assert_eq!(tables(&out), reference);
    // Killed once two saves are made, its newest checkpoint then damaged:
    // the run continues from the one before, and says so.
    std::fs::remove_dir_all(&out).unwrap();
    let previous = checkpoints.join("polarization.checkpoint.previous");
    kill_after_checkpoint(&args("6"), &previous);
    std::fs::write(&checkpoint, b"not a checkpoint at all").unwrap();
    let resumed = aumann(&args("6").iter().map(String::as_str).collect::<Vec<_>>());
    let stdout = String::from_utf8_lossy(&resumed.stdout);
    assert!(resumed.status.success());
    assert!(
        stdout.contains("resumed from") && stdout.contains("checkpoint.previous") && stdout.contains("was not used"),
        "{stdout}"
    );
    assert_eq!(tables(&out), reference);
}

#[test]
fn a_fit_to_stances_resumes_from_its_checkpoint_and_other_stances_are_another_job() {
    let dir = tempfile::tempdir().unwrap();
    let population = dir.path().join("population");
    let made = aumann(&[
        "synth",
        "--agents",
        "20000",
        "--days",
        "8",
        "--seed",
        "5",
        "--out",
        population.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    // Stances observed per step for a tenth of the accounts; the second
    // file differs from the first in one stance at step 0, which the
    // replay starts from.
    let stances = |path: &Path, first: f64| {
        let mut text = String::from("external_id,step,stance\n");
        for a in 0..2000 {
            for t in 0..8 {
                let stance = if a == 0 && t == 0 {
                    first
                } else {
                    0.1 + 0.8 * ((a * 7 + t * 3) % 10) as f64 / 10.0
                };
                text.push_str(&format!("synth:{a},{t},{stance}\n"));
            }
        }
        std::fs::write(path, text).unwrap();
    };
    let (given, other) = (dir.path().join("stances.csv"), dir.path().join("other.csv"));
    stances(&given, 0.3);
    stances(&other, 0.7);
    let checkpoints = dir.path().join("checkpoints");
    let out = dir.path().join("out");
    let args = |file: &Path| -> Vec<String> {
        [
            "attribute",
            "--input",
            population.to_str().unwrap(),
            "--indicator",
            "polarization",
            "--fit",
        ]
        .into_iter()
        .chain(["--stances", file.to_str().unwrap(), "--nodes", "128", "--batch", "1"])
        .chain([
            "--out",
            out.to_str().unwrap(),
            "--checkpoint",
            checkpoints.to_str().unwrap(),
        ])
        .map(String::from)
        .collect()
    };
    let run = |file: &Path| {
        let done = aumann(&args(file).iter().map(String::as_str).collect::<Vec<_>>());
        assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
        String::from_utf8_lossy(&done.stdout).into_owned()
    };
    run(&given);
    let reference = tables(&out);
    std::fs::remove_dir_all(&out).unwrap();
    // Killed mid-attribution, then the same fit resumes to the same tables.
    let checkpoint = checkpoints.join("polarization.checkpoint");
    kill_after_checkpoint(&args(&given), &checkpoint);
    let stdout = run(&given);
    assert!(stdout.contains("resumed from"), "{stdout}");
    assert_eq!(tables(&out), reference);
    // Killed again; other stances at step 0 start another replay: the
    // checkpoint is another job's and is not used.
    std::fs::remove_dir_all(&out).unwrap();
    kill_after_checkpoint(&args(&given), &checkpoint);
    let stdout = run(&other);
    assert!(
        stdout.contains("was not used") && stdout.contains("another job"),
        "{stdout}"
    );
    assert_ne!(tables(&out), reference);
}

#[test]
fn a_checkpoint_is_known_by_its_content_not_by_paths_or_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let population = dir.path().join("population");
    let made = aumann(&[
        "synth",
        "--agents",
        "5000",
        "--days",
        "4",
        "--out",
        population.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    let checkpoints = dir.path().join("checkpoints");
    let out = dir.path().join("out");
    let args = |input: &Path, indicator: &str, reordered: bool| -> Vec<String> {
        let mut args: Vec<String> = [
            "attribute",
            "--input",
            input.to_str().unwrap(),
            "--indicator",
            indicator,
        ]
        .into_iter()
        .chain(["--nodes", "128", "--batch", "1", "--out", out.to_str().unwrap()])
        .chain(["--checkpoint", checkpoints.to_str().unwrap()])
        .map(String::from)
        .collect();
        if reordered {
            let pairs: Vec<Vec<String>> = args[1..].chunks(2).rev().map(|p| p.to_vec()).collect();
            args = ["--threads=1".to_string(), args[0].clone()]
                .into_iter()
                .chain(pairs.into_iter().flatten())
                .collect();
        }
        args
    };
    let run = |args: Vec<String>| {
        let run = aumann(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    let checkpoint = checkpoints.join("polarization.checkpoint");
    // The same population under another path, the options in another
    // order and another thread count: the same job.
    let copy = dir.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    for entry in std::fs::read_dir(&population).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
    }
    kill_after_checkpoint(&args(&population, "polarization", false), &checkpoint);
    let reordered = args(&copy, "polarization", true);
    assert_eq!(reordered[0], "--threads=1");
    let stdout = run(reordered);
    assert!(stdout.contains("resumed from"), "{stdout}");
    // Stances edited with pandas (the table keeps no content id, and
    // metadata.json still names the old run): other data.
    kill_after_checkpoint(&args(&population, "polarization", false), &checkpoint);
    let edit = std::process::Command::new("python3")
        .arg("-c")
        .arg("import pandas as pd, sys; p = sys.argv[1] + '/agents.parquet'; t = pd.read_parquet(p); t.loc[0, 'stance'] = 0.97; t.to_parquet(p)")
        .arg(&population)
        .output()
        .unwrap();
    assert!(edit.status.success(), "{}", String::from_utf8_lossy(&edit.stderr));
    let stdout = run(args(&population, "polarization", false));
    assert!(
        stdout.contains("was not used") && stdout.contains("other data"),
        "{stdout}"
    );
    // A polarization checkpoint under the cascade's name: another indicator.
    kill_after_checkpoint(&args(&population, "polarization", false), &checkpoint);
    std::fs::rename(&checkpoint, checkpoints.join("cascade.checkpoint")).unwrap();
    let _ = std::fs::remove_file(checkpoints.join("polarization.checkpoint.previous"));
    let stdout = run(args(&population, "cascade", false));
    assert!(
        stdout.contains("was not used") && stdout.contains("another indicator"),
        "{stdout}"
    );
}

#[test]
fn bad_cluster_options_are_named_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cases: [(&[&str], &str); 4] = [
        (&["--processes", "2", "--process", "3"], "--process 3 is not below"),
        (&["--workers", "0"], "--workers takes 1 to 1024 worker threads, got 0"),
        (&["--hostfile", "/nonexistent/hosts"], "cannot use the hostfile"),
        (
            &["--processes", "2", "--peer-timeout", "0"],
            "--peer-timeout takes a positive number",
        ),
    ];
    for (options, message) in cases {
        let mut args = vec![
            "attribute",
            "--agents",
            "300",
            "--days",
            "2",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend(options);
        let run = aumann(&args);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success(), "{options:?}");
        assert!(stderr.contains(message), "{options:?}: {stderr}");
        assert!(!out.exists());
    }
}
