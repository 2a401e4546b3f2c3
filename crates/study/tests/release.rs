//! A study without panels or curves reads the population's edge tables
//! only to build its replay: releasing them after the build (as `aumann
//! attribute` does: 0.8 GB less at the peak at full scale) leaves every number
//! and every table as they were.

use aumann_data::synth::{SynthParams, generate};
use aumann_models::Local;
use aumann_study::{StudyConfig, build_replay, output, run, run_built};

#[test]
fn releasing_the_edge_tables_after_the_build_changes_no_output() {
    let data = generate(
        &SynthParams {
            agents: 3_000,
            seed: 11,
            // A recommended feed, so that exposures are among the tables
            // the replay reads and the population lets go.
            feed: 2,
            ..SynthParams::default()
        },
        &(),
    );
    assert!(!data.population.exposures.is_empty() && !data.population.orders.is_empty());
    let config = StudyConfig {
        indicators: aumann_models::Indicator::all(),
        panel_size: 0,
        curves: None,
        ..StudyConfig::default()
    };
    assert!(!config.reads_edges_after_the_build());
    let whole = run(&data, &config, &()).unwrap();

    let mut released = data.clone();
    let built = build_replay(&released, &config, None, &()).unwrap();
    released.population.release_edge_tables();
    assert!(released.population.follows.is_empty() && released.population.exposures.is_empty());
    let after = run_built(&released, built, &config, &Local, &()).unwrap();

    for (a, b) in whole.indicators.iter().zip(&after.indicators) {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&a.attribution.agent_phi),
            bits(&b.attribution.agent_phi),
            "{:?}",
            a.indicator
        );
        assert_eq!(bits(&a.attribution.gates.phi), bits(&b.attribution.gates.phi));
    }
    assert_eq!(whole.population.follow_edges, after.population.follow_edges);
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut tables = output::write(one.path(), &data, &whole).unwrap();
    tables.retain(|p| p.extension().is_some_and(|e| e == "parquet"));
    assert!(!tables.is_empty());
    output::write(two.path(), &released, &after).unwrap();
    for table in tables {
        let name = table.file_name().unwrap();
        assert!(
            std::fs::read(&table).unwrap() == std::fs::read(two.path().join(name)).unwrap(),
            "{} differs",
            name.to_string_lossy()
        );
    }
}

#[test]
fn panels_and_curves_read_the_edges_after_the_build() {
    let config = StudyConfig::default();
    assert!(config.reads_edges_after_the_build());
    for (panel_size, curves) in [(0, true), (10, false)] {
        let config = StudyConfig {
            panel_size,
            curves: curves.then(Default::default),
            ..StudyConfig::default()
        };
        assert!(config.reads_edges_after_the_build(), "{panel_size} {curves}");
    }
}
