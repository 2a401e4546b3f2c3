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
            &["--indicator", "attention"][..],
            "the indicators with an observation model are cascade and polarization",
        ),
        (
            &["--indicator", "polarization"][..],
            "polarization is fitted to stances observed per step: give them with --stances FILE",
        ),
        (
            &["--stances", "stances.csv"][..],
            "--stances is polarization's observations",
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

#[test]
fn polarization_is_fitted_to_stances_per_step_and_its_kappa_reaches_the_attribution() {
    let dir = tempfile::tempdir().unwrap();
    let (fit_dir, pop) = (dir.path().join("fit"), dir.path().join("pop"));
    let made = aumann(&[
        "synth",
        "--agents",
        "2000",
        "--days",
        "6",
        "--out",
        pop.to_str().unwrap(),
    ]);
    assert!(made.status.success());
    // Stances drawn from the observation model at kappa = 4, written as a
    // survey would be: external_id,step,stance.
    let data = aumann_data::format::read(&pop).unwrap();
    let replay = aumann_models::Replay::new(&data.population).unwrap();
    let planted = aumann_fit::plant::plant_polarization(
        &replay,
        aumann_models::indicators::PolarizationParams { kappa: 4.0 },
        0.1,
        3,
    );
    let mut csv = String::from("external_id,step,stance\n");
    for o in &planted {
        csv += &format!("{},{},{}\n", data.external_ids[o.agent as usize], o.step, o.stance);
    }
    csv += "somebody-else,0,0.5\n";
    let stances = dir.path().join("stances.csv");
    std::fs::write(&stances, &csv).unwrap();
    let fitted = aumann(&[
        "fit",
        "--input",
        pop.to_str().unwrap(),
        "--indicator",
        "polarization",
        "--stances",
        stances.to_str().unwrap(),
        "--out",
        fit_dir.to_str().unwrap(),
    ]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&fitted.stdout),
        String::from_utf8_lossy(&fitted.stderr),
    );
    assert!(fitted.status.success(), "{stderr}");
    assert!(
        stderr.contains("1 of 12001 rows name accounts the population does not hold"),
        "{stderr}"
    );
    assert!(stdout.contains("no dynamics") && stdout.contains("kappa"), "{stdout}");
    let file = fit_dir.join("fit.json");
    let fit: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(fit["indicator"], "polarization");
    assert_eq!(fit["data"]["transitions"], 2000 * 5);
    let kappa = &fit["parameters"][0];
    assert_eq!(kappa["name"], "kappa");
    let used = kappa["used"].as_f64().unwrap();
    assert!((used - 4.0).abs() < 0.2, "{kappa}");
    let held = &fit["held_out"];
    assert!(
        held["fitted"]["log_likelihood_per_observation"].as_f64()
            > held["no_dynamics"]["log_likelihood_per_observation"].as_f64(),
        "{held}"
    );
    let out = dir.path().join("attribution");
    let run = aumann(&[
        "attribute",
        "--input",
        pop.to_str().unwrap(),
        "--indicator",
        "polarization",
        "--params",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(summary["indicators"][0]["indicator"]["kappa"].as_f64(), Some(used));
    // Or in one run: the study fits, starts from step 0's stances and
    // attributes with the fitted kappa; --stances is an input it must not
    // write over.
    let studied = dir.path().join("study");
    let run = aumann(&[
        "study",
        "--input",
        pop.to_str().unwrap(),
        "--indicator",
        "polarization",
        "--fit",
        "--stances",
        stances.to_str().unwrap(),
        "--sample",
        "0",
        "--no-curves",
        "--no-figures",
        "--out",
        studied.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(studied.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["fit"]["indicator"], "polarization");
    assert_eq!(summary["fit"]["parameters"][0]["used"].as_f64(), Some(used));
    assert_eq!(summary["indicators"][0]["indicator"]["kappa"].as_f64(), Some(used));
    let report = std::fs::read_to_string(studied.join("report.html")).unwrap();
    assert!(report.contains("Polarization per step"));
    let refused = aumann(&[
        "study",
        "--input",
        pop.to_str().unwrap(),
        "--indicator",
        "polarization",
        "--stances",
        stances.to_str().unwrap(),
        "--out",
        dir.path().join("no-fit").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("--fit"), "{stderr}");
    // A stance past the window is named, and nothing is written.
    std::fs::write(&stances, "external_id,step,stance\nx,6,0.5\n").unwrap();
    let bad = dir.path().join("bad");
    let refused = aumann(&[
        "fit",
        "--input",
        pop.to_str().unwrap(),
        "--indicator",
        "polarization",
        "--stances",
        stances.to_str().unwrap(),
        "--out",
        bad.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("row 2: step 6 is outside the population's window of 6 steps"),
        "{stderr}"
    );
    assert!(!bad.exists());
}
