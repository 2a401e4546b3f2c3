//! `aumann fit` from the command line: fit.json written whole, the text
//! summary, and what it refuses.

mod support;

use support::aumann;

#[test]
fn fit_writes_fit_json_with_estimates_intervals_and_held_out_scores() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    let run = aumann(&["fit", "--agents", "3000", "--days", "6", "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(
        stdout.contains("95% interval") && stdout.contains("constant response rate"),
        "{stdout}"
    );
    let fit: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("fit.json")).unwrap()).unwrap();
    assert_eq!(fit["schema"], 1);
    assert_eq!(fit["indicator"], "cascade");
    let names: Vec<&str> = fit["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["beta", "cascade-c"]);
    let held = &fit["held_out"];
    // Six steps: five read steps, 30% of them (two) held out.
    assert_eq!(
        (held["fit_steps"].as_u64(), held["held_out_steps"].as_u64()),
        (Some(3), Some(2))
    );
    for model in ["fitted", "defaults", "constant_rate"] {
        assert!(held[model]["observations"].as_u64().unwrap() > 0, "{model}");
    }
    // The run's manifest lists it, and nothing else was written.
    let entries: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        std::fs::read_to_string(out.join("run.json"))
            .unwrap()
            .contains("fit.json")
    );
}

#[test]
fn fit_refuses_an_indicator_without_an_observation_model_and_a_bad_share_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fit");
    for (args, words) in [
        (
            &["--indicator", "polarization"][..],
            "only the cascade has an observation model",
        ),
        (&["--held-out", "1"][..], "--held-out is a share of the steps in [0, 1)"),
    ] {
        let mut all = vec!["fit", "--agents", "300", "--days", "3", "--out", out.to_str().unwrap()];
        all.extend(args);
        let run = aumann(&all);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(!run.status.success() && stderr.contains(words), "{args:?}: {stderr}");
        assert!(!out.exists());
    }
}
