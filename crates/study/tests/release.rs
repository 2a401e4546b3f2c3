//! A study without panels or curves reads the population's edge tables
//! only to build its replay: a run that reads or generates its population
//! itself lets them go as the replay is built (as `aumann attribute` does:
//! 0.8 GB less at the peak at full scale), and every number and every
//! table stay as they were for a population the caller keeps whole.

use aumann_data::synth::{SynthParams, generate};
use aumann_study::{Figures, Input, Run, StudyConfig};

fn run(input: Input, config: &StudyConfig, out: &std::path::Path) -> aumann_study::Finished {
    Run {
        input,
        input_label: "a test population".into(),
        config: config.clone(),
        out: Some(out.to_path_buf()),
        report: false,
        figures: Figures::None,
        checkpoint_dir: None,
        cluster: None,
        threads: None,
        option_name: |name| name.to_string(),
    }
    .execute(&())
    .unwrap()
    .finished
    .expect("a run in one process writes its outputs")
}

#[test]
fn releasing_the_edge_tables_during_the_build_changes_no_output() {
    let params = SynthParams {
        agents: 3_000,
        seed: 11,
        // A recommended feed, so that exposures are among the tables the
        // replay reads and the population lets go.
        feed: 2,
        ..SynthParams::default()
    };
    let data = std::sync::Arc::new(generate(&params, &()));
    assert!(!data.population.exposures.is_empty() && !data.population.orders.is_empty());
    let config = StudyConfig {
        indicators: aumann_models::Indicator::all(),
        panel_size: 0,
        curves: None,
        ..StudyConfig::default()
    };
    assert!(!config.reads_edges_after_the_build());
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let whole = run(Input::InMemory(data.clone()), &config, one.path());
    assert!(
        !whole.data.population.follows.is_empty(),
        "the caller's population is kept whole"
    );
    let released = run(Input::Generated(params), &config, two.path());
    let population = &released.data.population;
    assert!(population.follows.is_empty() && population.exposures.is_empty() && population.engagements.is_empty());

    for (a, b) in whole.result.indicators.iter().zip(&released.result.indicators) {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&a.attribution.agent_phi),
            bits(&b.attribution.agent_phi),
            "{:?}",
            a.indicator
        );
        assert_eq!(bits(&a.attribution.gates.phi), bits(&b.attribution.gates.phi));
    }
    assert_eq!(
        whole.result.population.follow_edges,
        released.result.population.follow_edges
    );
    let tables: Vec<_> = (whole.written.iter())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert!(tables.len() >= 2 * aumann_models::Indicator::all().len());
    for table in tables {
        let name = table.file_name().unwrap();
        assert!(
            std::fs::read(table).unwrap() == std::fs::read(two.path().join(name)).unwrap(),
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
