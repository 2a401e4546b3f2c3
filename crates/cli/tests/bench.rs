//! `aumann bench replay` on a small population: every measurement it
//! promises is there and has a value a measurement can have.

mod support;

use support::aumann;

#[test]
fn bench_replay_reports_load_build_attribution_the_plain_pass_and_every_round() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    let run = aumann(&[
        "bench",
        "replay",
        "--sizes",
        "600",
        "--indicators",
        "polarization,cascade",
        "--days",
        "4",
        "--batch",
        "3",
        "--rounds",
        "2",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        for key in ["load_seconds", "build_seconds", "attribute_seconds", "spmm_seconds"] {
            let v = r[key].as_f64().unwrap_or_else(|| panic!("{key} missing in {r}"));
            assert!(v > 0.0 && v.is_finite(), "{key} = {v}");
        }
        assert_eq!(r["agents"], 600);
        // A batch of 3 runs at the sweeps' width of 4.
        assert_eq!(r["spmm_width"], 4);
        assert!(r["gradient_evaluations"].as_u64().unwrap() >= 1);
        assert!(r["relative_gap"].as_f64().unwrap() <= 1e-6);
        // Both rounds timed, the first being the one reported above.
        let rounds = r["rounds"].as_array().unwrap();
        assert_eq!(rounds.len(), 2);
        for key in ["load_seconds", "build_seconds", "attribute_seconds"] {
            assert_eq!(rounds[0][key], r[key], "{key}");
            let again = rounds[1][key].as_f64().unwrap();
            assert!(again > 0.0 && again.is_finite(), "{key} = {again} in round 2");
        }
        for key in ["setup_system_seconds", "attribute_system_seconds"] {
            let v = rounds[1][key].as_f64().unwrap();
            assert!(v >= 0.0 && v.is_finite(), "{key} = {v}");
        }
    }
    assert!(out.join("replay.json").exists());
}

#[test]
fn bench_planted_reports_coverage_of_every_draw() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bench");
    let run = aumann(&[
        "bench",
        "planted",
        "--agents",
        "2000",
        "--days",
        "6",
        "--draws",
        "4",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["draws"], 4);
    for key in ["beta_covered", "c_covered", "beta_identified", "c_identified"] {
        let n = report[key].as_u64().unwrap_or_else(|| panic!("{key} missing"));
        assert!(n <= 4, "{key} = {n}");
    }
    assert!(report["beta"].as_f64().unwrap() > 0.0 && report["responses_mean"].as_f64().unwrap() > 0.0);
    assert_eq!(
        std::fs::read(out.join("planted.json")).unwrap(),
        [&run.stdout[..]].concat()
    );
}

#[test]
fn bench_trees_compares_the_cascades_attribution_with_descendants_tree_by_tree() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("twitter15");
    std::fs::create_dir_all(data.join("tree")).unwrap();
    std::fs::write(data.join("label.txt"), "true:1\nfalse:2\n").unwrap();
    // Tree 1: a chain a <- b <- c and a leaf d under a: descendants 3, 1, 0, 0.
    std::fs::write(
        data.join("tree/1.txt"),
        "['ROOT', 'ROOT', '0.0']->['a', '1', '0.0']\n['a', '1', '0.0']->['b', '11', '30.0']\n\
         ['b', '11', '30.0']->['c', '12', '90.0']\n['a', '1', '0.0']->['d', '13', '100.0']\n",
    )
    .unwrap();
    // Tree 2: too small to count at --min-users 3.
    std::fs::write(data.join("tree/2.txt"), "['ROOT', 'ROOT', '0.0']->['x', '2', '0.0']\n").unwrap();
    let pop = dir.path().join("pop");
    let ingest = aumann(&[
        "ingest",
        "twitter-trees",
        data.to_str().unwrap(),
        "--out",
        pop.to_str().unwrap(),
    ]);
    assert!(ingest.status.success(), "{}", String::from_utf8_lossy(&ingest.stderr));
    let out = dir.path().join("bench");
    let run = aumann(&[
        "bench",
        "trees",
        "--input",
        pop.to_str().unwrap(),
        "--min-users",
        "3",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["trees"], 2);
    let labels: Vec<&str> = report["by_label"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["all", "true"], "the small tree is left out");
    let all = &report["by_label"][0];
    assert_eq!(all["trees"], 1);
    // In a chain the reach through a user grows with the retweets below
    // it: the root first, the leaves (nobody read them) last and tied.
    assert_eq!(all["top_user_agrees"], 1.0);
    assert!(all["spearman_quartiles"][1].as_f64().unwrap() > 0.9, "{all}");
}
