//! Who saw whom, end to end: an OASIS run whose agents mostly reshare what
//! their feed shows, ingested with its refresh traces and reposts, and
//! attributed over follows only and over the full network.

mod support;

#[path = "../../data/tests/support/oasis_run.rs"]
mod oasis_run;

use aumann_data::format::Table;
use aumann_study::compare::spearman;
use std::path::Path;

/// Runs the binary and fails the test if the command fails.
fn aumann_ok(args: &[&str]) -> std::process::Output {
    let out = support::aumann(args);
    assert!(
        out.status.success(),
        "aumann {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn phi(dir: &Path, indicator: &str) -> Vec<f64> {
    Table::read(&dir.join(format!("attributions-{indicator}.parquet")))
        .unwrap()
        .f64("phi", "phi")
        .unwrap()
}

#[test]
fn the_full_network_credits_the_authors_whose_posts_were_reshared() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("run.db");
    let facts = oasis_run::simulate(&db, 100, 9, 3, 11);
    assert!(
        facts.follows < 30 && facts.reposts > 400,
        "{} follows, {} reposts",
        facts.follows,
        facts.reposts
    );
    let population = dir.path().join("population");
    let ingest = aumann_ok(&[
        "ingest",
        "oasis",
        db.to_str().unwrap(),
        "--out",
        population.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&ingest.stdout);
    assert!(text.contains("outside the follows that held then"), "{text}");

    // The population as it was replayed before reposts carried content: the
    // same directory without reposts.parquet.
    let unlinked = dir.path().join("unlinked");
    std::fs::create_dir(&unlinked).unwrap();
    for entry in std::fs::read_dir(&population).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "reposts.parquet" {
            std::fs::copy(entry.path(), unlinked.join(entry.file_name())).unwrap();
        }
    }
    let shares: Vec<f64> = facts.direct_shares.iter().map(|&s| s as f64).collect();
    let mut correlations = Vec::new();
    for (input, network) in [(&unlinked, "follows"), (&population, "follows"), (&population, "both")] {
        let out = dir.path().join(format!("{network}-{}", correlations.len()));
        aumann_ok(&[
            "attribute",
            "--input",
            input.to_str().unwrap(),
            "--indicator",
            "cascade",
            "--network",
            network,
            "--beta",
            "0.3",
            "--out",
            out.to_str().unwrap(),
        ]);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["population"]["network"]["network"], network);
        assert_eq!(summary["indicators"][0]["indicator"]["beta"], 0.3);
        let rho = spearman(&phi(&out, "cascade"), &shares).unwrap_or(0.0);
        let reposts = if input == &unlinked { "without" } else { "with" };
        let full = &summary["indicators"][0]["full"];
        println!(
            "cascade over {network}, {reposts} reposts: C = {:.2} of {} agents, Spearman with direct shares per author {rho:.3}; {}",
            full["value_input"].as_f64().unwrap(),
            summary["population"]["agents"],
            summary["population"]["network"]
        );
        correlations.push(rho);
    }
    // The study replays its panels over the same network, and says which.
    let study = dir.path().join("study");
    let run = aumann_ok(&[
        "study",
        "--input",
        population.to_str().unwrap(),
        "--indicator",
        "cascade",
        "--sample",
        "20",
        "--permutations",
        "50",
        "--out",
        study.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("network: both;") && text.contains("exposures"), "{text}");
    let report = std::fs::read_to_string(study.join("report.html")).unwrap();
    assert!(
        report.contains("Replayed network: both;"),
        "the report names the network"
    );

    // Over follows only, reach follows the few accounts with followers;
    // over what agents were shown, and with reposts carrying their
    // parents' content, the authors whose posts were reshared lead.
    assert!(correlations[2] > 0.8, "{correlations:?}");
    assert!(correlations[2] > correlations[0] + 0.3, "{correlations:?}");
    assert!(correlations[2] > correlations[1] + 0.1, "{correlations:?}");
    assert!(correlations[1] > correlations[0] + 0.1, "{correlations:?}");
}

#[test]
fn indicator_parameters_are_checked() {
    let out = support::aumann(&["attribute", "--agents", "50", "--days", "2", "--cascade-c", "1.5"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--cascade-c must be a share between 0 and 1"));
    let out = support::aumann(&["attribute", "--agents", "50", "--days", "2", "--kappa=-1"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kappa must be a finite number above 0"));
}
