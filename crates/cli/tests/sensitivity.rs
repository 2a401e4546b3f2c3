//! `aumann sensitivity` and the study's `--sensitivity`: the outputs, and
//! the settings refused with the flags' names.

mod support;

use support::aumann;

#[test]
fn the_command_writes_its_table_and_summary_and_says_which_conclusions_hold() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let baseline = dir.path().join("baseline.csv");
    std::fs::write(&baseline, "external_id,baseline\nno-such-account,0.5\n").unwrap();
    let args = [
        "sensitivity",
        "--agents",
        "3000",
        "--days",
        "4",
        "--indicator",
        "cascade",
        "--baseline",
        baseline.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let run = aumann(&args);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let text = String::from_utf8_lossy(&run.stdout);
    // Every alternative (the command's extent is full): three baselines at
    // a fraction, typical activity, the user's, the path, and beta and c
    // each at 0.25, 0.5, 2 and 4 times.
    assert!(text.contains("sensitivity: 14 alternatives (14 attributed)"), "{text}");
    assert!(
        text.contains("the indicator rises over the window: holds under"),
        "{text}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let s = &summary["indicators"][0]["sensitivity"];
    let users = (s["alternatives"].as_array().unwrap().iter())
        .find(|a| a["name"].as_str().unwrap().starts_with("the user's baseline"))
        .unwrap();
    assert_eq!(
        users["note"],
        "skipped: 1 of 1 rows name accounts the population does not have"
    );
    assert!(out.join("sensitivity-cascade.parquet").exists());
    assert!(!out.join("report.html").exists());
}

#[test]
fn bad_settings_are_refused_with_the_flags_names() {
    let dir = tempfile::tempdir().unwrap();
    let fails = |args: &[&str], words: &str| {
        let run = aumann(args);
        assert!(!run.status.success());
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains(words), "{stderr}");
    };
    let out = dir.path().join("x");
    let out = out.to_str().unwrap();
    fails(
        &["sensitivity", "--agents", "500", "--sensitivity", "some", "--out", out],
        "--sensitivity: unknown sensitivity 'some'; choose one of none, default, full",
    );
    fails(
        &["sensitivity", "--agents", "500", "--sensitivity", "none", "--out", out],
        "has nothing to do",
    );
    fails(
        &[
            "study",
            "--agents",
            "500",
            "--sensitivity",
            "none",
            "--baseline",
            "b.csv",
            "--out",
            out,
        ],
        "--baseline is an alternative of the sensitivity analysis",
    );
    fails(
        &[
            "study",
            "--agents",
            "500",
            "--processes",
            "2",
            "--sensitivity",
            "default",
            "--out",
            out,
        ],
        "--sensitivity runs in one process",
    );
    let baseline = dir.path().join("b.csv");
    std::fs::write(&baseline, "a-1,0.5\na-1,0.5\n").unwrap();
    fails(
        &[
            "sensitivity",
            "--agents",
            "500",
            "--baseline",
            baseline.to_str().unwrap(),
            "--out",
            out,
        ],
        "rows 1 and 2 both give 'a-1' a baseline: keep one",
    );
    assert!(!dir.path().join("x").exists(), "a refused run writes nothing");
}
