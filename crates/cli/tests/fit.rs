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

#[test]
fn attribute_takes_a_fits_values_with_params_and_a_flag_wins_over_them() {
    let dir = tempfile::tempdir().unwrap();
    let (fit_dir, pop) = (dir.path().join("fit"), dir.path().join("pop"));
    let made = aumann(&[
        "synth",
        "--agents",
        "2000",
        "--days",
        "5",
        "--out",
        pop.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    let fitted = aumann(&[
        "fit",
        "--input",
        pop.to_str().unwrap(),
        "--out",
        fit_dir.to_str().unwrap(),
    ]);
    assert!(fitted.status.success(), "{}", String::from_utf8_lossy(&fitted.stderr));
    let file = fit_dir.join("fit.json");
    let fit: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let used = |name: &str| {
        fit["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["used"]
            .as_f64()
            .unwrap()
    };
    let attribute = |extra: &[&str]| -> serde_json::Value {
        let out = dir.path().join("attribution");
        let mut args = vec!["attribute", "--input", pop.to_str().unwrap(), "--indicator", "cascade"];
        args.extend([
            "--params",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--json",
        ]);
        args.extend(extra);
        let run = aumann(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        serde_json::from_slice(&run.stdout).unwrap()
    };
    let summary = attribute(&[]);
    let indicator = &summary["indicators"][0]["indicator"];
    assert_eq!(indicator["beta"].as_f64(), Some(used("beta")));
    assert_eq!(indicator["cascade-c"].as_f64(), Some(used("cascade-c")));
    let summary = attribute(&["--beta", "0.125"]);
    let indicator = &summary["indicators"][0]["indicator"];
    assert_eq!(indicator["beta"].as_f64(), Some(0.125));
    assert_eq!(indicator["cascade-c"].as_f64(), Some(used("cascade-c")));
    // A fit of the cascade is not polarization's.
    let refused = aumann(&[
        "attribute",
        "--input",
        pop.to_str().unwrap(),
        "--params",
        file.to_str().unwrap(),
        "--out",
        dir.path().join("no").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("holds a fit of cascade, and --indicator is polarization"),
        "{stderr}"
    );
}

#[test]
fn attribute_with_fit_fits_first_and_refuses_params_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("attribution");
    let run = aumann(&[
        "attribute",
        "--agents",
        "2000",
        "--days",
        "5",
        "--indicator",
        "cascade",
        "--fit",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let fit = &summary["fit"];
    assert_eq!(fit["indicator"], "cascade");
    let indicator = &summary["indicators"][0]["indicator"];
    assert_eq!(indicator["beta"], fit["parameters"][0]["used"]);
    assert_eq!(indicator["cascade-c"], fit["parameters"][1]["used"]);
    // Refused before any work: --params beside --fit (whatever the file
    // holds: it is not read), and a fit without the cascade.
    let no = dir.path().join("no");
    for (extra, words) in [
        (
            &["--indicator", "cascade", "--fit", "--params", "x.json"][..],
            "--fit fits the parameters and --params gives them",
        ),
        (&["--fit"][..], "--fit fits the cascade's parameters"),
    ] {
        let mut args = vec![
            "attribute",
            "--agents",
            "300",
            "--days",
            "3",
            "--out",
            no.to_str().unwrap(),
        ];
        args.extend(extra);
        let refused = aumann(&args);
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && stderr.contains(words),
            "{extra:?}: {stderr}"
        );
        assert!(!no.exists());
    }
}
