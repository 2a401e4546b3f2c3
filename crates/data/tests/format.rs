//! The population format: round trips, and clear errors on bad directories.

use aumann_data::format::{self, Column, FormatError};
use aumann_data::synth::{SynthParams, generate};

fn small() -> aumann_data::Dataset {
    generate(
        &SynthParams {
            agents: 3000,
            steps: 5,
            seed: 9,
            ..Default::default()
        },
        &(),
    )
}

#[test]
fn a_population_round_trips_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let data = small();
    format::write(dir.path(), &data).unwrap();
    let back = format::read(dir.path()).unwrap();
    // The reader returns the run id the writer stamped; all else as written.
    let mut expected = data.meta.clone();
    expected.run = Some(format::content_id(&data));
    assert_eq!(back.meta, expected);
    assert_eq!(back.external_ids, data.external_ids);
    let (a, b) = (&back.population, &data.population);
    assert_eq!((a.agents, a.steps), (b.agents, b.steps));
    assert_eq!(a.stance, b.stance);
    assert_eq!(a.followers, b.followers);
    assert_eq!(a.follows, b.follows);
    assert_eq!(a.activity, b.activity);
    assert_eq!(a.engagements, b.engagements);
    assert_eq!(a.orders, b.orders);
    assert_eq!(back.groups, data.groups);
    assert!(back.groups.is_some(), "the generator writes its communities");
}

#[test]
fn the_generator_is_deterministic_whatever_the_thread_count() {
    let params = SynthParams {
        agents: 40_000,
        steps: 3,
        seed: 4,
        ..Default::default()
    };
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| generate(&params, &()))
    };
    let (a, b) = (run(1), run(3));
    assert_eq!(a.population.follows, b.population.follows);
    assert_eq!(a.population.activity, b.population.activity);
    assert_eq!(a.population.engagements, b.population.engagements);
    assert_eq!(a.population.orders, b.population.orders);
    assert_eq!(a.population.stance, b.population.stance);
    let c = generate(
        &SynthParams {
            seed: 5,
            ..params.clone()
        },
        &(),
    );
    assert_ne!(a.population.follows, c.population.follows);
}

#[test]
fn missing_directories_tables_and_columns_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(matches!(err, FormatError::NotAPopulation(_)), "{err}");
    assert!(err.to_string().contains("aumann synth"));

    let data = small();
    format::write(dir.path(), &data).unwrap();
    std::fs::remove_file(dir.path().join(format::ORDERS)).unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(err.to_string().contains("orders.parquet"), "{err}");

    format::write(dir.path(), &data).unwrap();
    format::write_table(
        &dir.path().join(format::ORDERS),
        vec![Column::U32("agent", vec![1]), Column::U32("step", vec![0])],
    )
    .unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(
        matches!(err, FormatError::MissingColumn { column: "flow", .. }),
        "{err}"
    );

    format::write(dir.path(), &data).unwrap();
    format::write_table(
        &dir.path().join(format::ORDERS),
        vec![
            Column::U32("agent", vec![1]),
            Column::U32("step", vec![0]),
            Column::Strs("flow", vec!["3"]),
        ],
    )
    .unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(matches!(err, FormatError::WrongType { column: "flow", .. }), "{err}");

    format::write(dir.path(), &data).unwrap();
    format::write_table(
        &dir.path().join(format::ORDERS),
        vec![
            Column::U32("agent", vec![999_999]),
            Column::U32("step", vec![0]),
            Column::F64("flow", vec![1.0]),
        ],
    )
    .unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(err.to_string().contains("names agent 999999"), "{err}");

    format::write(dir.path(), &data).unwrap();
    let bytes = std::fs::read(dir.path().join(format::ACTIVITY)).unwrap();
    std::fs::write(dir.path().join(format::ACTIVITY), &bytes[..bytes.len() / 2]).unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(matches!(err, FormatError::Parquet { .. }), "{err}");

    format::write(dir.path(), &data).unwrap();
    std::fs::write(dir.path().join(format::METADATA), "{\"agents\": 3}").unwrap();
    assert!(matches!(
        format::read(dir.path()).unwrap_err(),
        FormatError::Metadata { .. }
    ));
}

#[test]
fn pandas_reads_every_table() {
    let dir = tempfile::tempdir().unwrap();
    format::write(dir.path(), &small()).unwrap();
    let script = r#"
import json, sys, pandas as pd
d = sys.argv[1]
meta = json.load(open(f"{d}/metadata.json"))
agents = pd.read_parquet(f"{d}/agents.parquet")
assert list(agents.columns) == ["agent", "external_id", "followers", "stance", "group"], agents.columns
assert set(agents.group) == {"community 0", "community 1"}
assert len(agents) == meta["agents"] == 3000
assert str(agents.agent.dtype) == "uint32"
follows = pd.read_parquet(f"{d}/follows.parquet")
assert follows.follower.max() < 3000 and follows.followee.max() < 3000
activity = pd.read_parquet(f"{d}/activity.parquet")
assert activity.step.max() < meta["steps"] and (activity.amount > 0).all()
for t in ["engagements", "orders"]:
    pd.read_parquet(f"{d}/{t}.parquet")
print("ok", len(follows))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "this test reads the population with pandas, which python3 lacks: run `bash scripts/test`, which installs pandas and pyarrow\n{stderr}"
    );
    assert!(out.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok"));
}

#[test]
fn tables_that_pandas_3_and_pyarrow_write_back_are_read_as_the_same_population() {
    let dir = tempfile::tempdir().unwrap();
    let data = small();
    format::write(dir.path(), &data).unwrap();
    // pandas 3 writes strings as large_string; pyarrow here also widens ids
    // to int64 and dictionary-encodes or views the strings, as polars and
    // edited frames do.
    let script = r#"
import sys, pandas as pd, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
for t in ["agents", "follows", "activity", "engagements", "orders"]:
    pd.read_parquet(f"{d}/{t}.parquet").to_parquet(f"{d}/{t}.parquet")
print(pq.read_schema(f"{d}/agents.parquet").field("external_id").type)
a = pq.read_table(f"{d}/activity.parquet")
a = a.set_column(0, "agent", a.column("agent").cast(pa.int64())).set_column(1, "step", a.column("step").cast(pa.int16()))
pq.write_table(a, f"{d}/activity.parquet")
g = pq.read_table(f"{d}/agents.parquet")
g = g.set_column(1, "external_id", g.column("external_id").cast(pa.string()).dictionary_encode())
pq.write_table(g, f"{d}/agents.parquet")
e = pq.read_table(f"{d}/engagements.parquet")
pq.write_table(e.cast(pa.schema([pa.field(n, pa.int32() if n != "amount" else pa.float32()) for n in e.column_names])), f"{d}/engagements.parquet")
"#;
    let out = python(script, dir.path());
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "large_string");
    let back = format::read(dir.path()).unwrap();
    assert_eq!(back.external_ids, data.external_ids);
    assert_eq!(back.population.follows, data.population.follows);
    assert_eq!(back.population.stance, data.population.stance);
    let act = |p: &aumann_models::Population| {
        p.activity
            .iter()
            .map(|a| (a.agent, a.step, a.amount))
            .collect::<Vec<_>>()
    };
    assert_eq!(act(&back.population), act(&data.population));

    // A negative id does not fit a u32: an error naming the row.
    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
f = pq.read_table(f"{d}/follows.parquet")
ids = f.column("follower").cast(pa.int64()).to_pylist()
ids[3] = -1
pq.write_table(f.set_column(0, "follower", pa.array(ids, pa.int64())), f"{d}/follows.parquet")
"#;
    python(script, dir.path());
    let err = format::read(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("'follower' row 3") && err.contains("does not fit"),
        "{err}"
    );
}

#[test]
fn tables_of_two_runs_in_one_directory_are_refused() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    format::write(a.path(), &small()).unwrap();
    let other = generate(
        &SynthParams {
            agents: 3000,
            steps: 5,
            seed: 10,
            ..Default::default()
        },
        &(),
    );
    format::write(b.path(), &other).unwrap();
    std::fs::copy(b.path().join(format::ACTIVITY), a.path().join(format::ACTIVITY)).unwrap();
    let err = format::read(a.path()).unwrap_err();
    assert!(matches!(err, FormatError::Mixed { .. }), "{err}");
    assert!(err.to_string().contains("mixes files of two runs"), "{err}");
    // Writing the same population twice gives the same bytes.
    let c = tempfile::tempdir().unwrap();
    format::write(c.path(), &other).unwrap();
    for table in format::TABLES {
        assert_eq!(
            std::fs::read(b.path().join(table)).unwrap(),
            std::fs::read(c.path().join(table)).unwrap(),
            "{table}"
        );
    }
}

#[test]
fn absurd_sizes_in_metadata_are_refused_before_reading_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    format::write(dir.path(), &small()).unwrap();
    let path = dir.path().join(format::METADATA);
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    meta["steps"] = serde_json::json!(10_000_000);
    std::fs::write(&path, meta.to_string()).unwrap();
    let err = format::read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("beyond what a replay can hold"), "{err}");
}

#[test]
fn a_full_disk_is_a_write_error_not_an_unreadable_file() {
    // /dev/full accepts the open and refuses every write with ENOSPC.
    let full = std::path::Path::new("/dev/full");
    if !full.exists() {
        return;
    }
    let err = format::write_table(full, vec![Column::U32("agent", (0..100_000).collect())]).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, FormatError::ParquetWrite { .. } | FormatError::Io { .. }),
        "{text}"
    );
    assert!(text.contains("No space left on device"), "{text}");
    assert!(!text.contains("not a readable"), "{text}");
}

/// `small()` with a feed, timed follows (nulls for "all along") and a
/// repost.
fn small_with_network() -> aumann_data::Dataset {
    let mut data = generate(
        &SynthParams {
            agents: 3000,
            steps: 5,
            seed: 9,
            feed: 2,
            ..Default::default()
        },
        &(),
    );
    let p = &mut data.population;
    p.follow_spans = (0..p.follows.len())
        .map(|r| aumann_models::FollowSpan {
            begin: (r % 3 == 1).then_some(2),
            end: (r % 5 == 2).then_some(4),
        })
        .collect();
    p.exposures[0].posted = Some(0);
    p.exposures[0].step = p.exposures[0].step.max(1);
    let a = p.activity.iter().find(|a| a.step == 1).copied().unwrap();
    let parent = p.activity.iter().find(|b| b.step == 0).copied().unwrap();
    p.reposts.push(aumann_models::Repost {
        reposter: a.agent,
        step: 1,
        parent_author: parent.agent,
        parent_step: 0,
        amount: a.amount / 2.0,
    });
    p.validate().unwrap();
    data
}

#[test]
fn exposures_reposts_and_follow_spans_round_trip_and_pandas_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_with_network();
    assert!(data.population.exposures.len() > 20_000);
    format::write(dir.path(), &data).unwrap();
    let back = format::read(dir.path()).unwrap();
    let (a, b) = (&back.population, &data.population);
    assert!(a.follow_spans == b.follow_spans, "follow spans differ");
    assert!(a.exposures == b.exposures, "exposures differ");
    assert!(a.reposts == b.reposts, "reposts differ");
    assert_eq!(format::content_id(&back), format::content_id(&data));
    // A population without the new tables keeps the directory it had.
    let plain = tempfile::tempdir().unwrap();
    format::write(plain.path(), &small()).unwrap();
    assert!(!plain.path().join(format::EXPOSURES).exists());
    assert!(!plain.path().join(format::REPOSTS).exists());

    let script = r#"
import sys, pandas as pd
d = sys.argv[1]
f = pd.read_parquet(f"{d}/follows.parquet")
assert list(f.columns) == ["follower", "followee", "step", "end_step"], f.columns
assert f.step.isna().any() and (f.step.dropna() == 2).all()
e = pd.read_parquet(f"{d}/exposures.parquet")
assert list(e.columns) == ["reader", "author", "step", "amount", "posted"], e.columns
assert e.posted.isna().sum() == len(e) - 1
r = pd.read_parquet(f"{d}/reposts.parquet")
assert len(r) == 1 and r.parent_step[0] == 0
# Edited in pandas (nullable ints become floats with NaN, then Int64) and
# written back: still the same population.
e["posted"] = e.posted.astype("Int64")
e.to_parquet(f"{d}/exposures.parquet")
f.to_parquet(f"{d}/follows.parquet")
print("ok")
"#;
    python(script, dir.path());
    let edited = format::read(dir.path()).unwrap();
    assert!(edited.population.exposures == data.population.exposures);
    assert!(edited.population.follow_spans == data.population.follow_spans);
}

#[test]
fn bad_network_tables_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    format::write(dir.path(), &small_with_network()).unwrap();
    let script = r#"
import sys, pandas as pd
d = sys.argv[1]
e = pd.read_parquet(f"{d}/exposures.parquet")
e.loc[5, "amount"] = -1.0
e.to_parquet(f"{d}/exposures.parquet")
"#;
    python(script, dir.path());
    let err = format::read(dir.path()).unwrap_err().to_string();
    assert!(err.contains("exposures row 5 has amount = -1"), "{err}");
    std::fs::write(dir.path().join(format::REPOSTS), b"not parquet").unwrap();
    let err = format::read(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("reposts.parquet") && err.contains("not a readable Parquet file"),
        "{err}"
    );
}

/// Runs a Python script on a population directory (its first argument),
/// failing the test with its stderr when it fails.
fn python(script: &str, dir: &std::path::Path) -> std::process::Output {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn tables_in_many_row_groups_read_as_the_same_population_on_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let data = small_with_network();
    format::write(dir.path(), &data).unwrap();
    // Row groups are read in parallel, each into its own rows of the
    // population's arrays; groups of 997 rows (a prime, so that groups and
    // the reader's batches never line up) make dozens of them per table.
    let script = r#"
import sys, pyarrow.parquet as pq
d = sys.argv[1]
for t in ["agents", "follows", "activity", "engagements", "orders", "exposures", "reposts"]:
    table = pq.read_table(f"{d}/{t}.parquet")
    pq.write_table(table, f"{d}/{t}.parquet", row_group_size=997)
print(pq.ParquetFile(f"{d}/follows.parquet").metadata.num_row_groups)
"#;
    let out = python(script, dir.path());
    let groups: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(groups > 20, "{groups} row groups");
    let expected = format::content_id(&data);
    for threads in [1, 2, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let back = pool.install(|| format::read(dir.path())).unwrap();
        assert_eq!(format::content_id(&back), expected, "{threads} threads");
        assert!(back.population.follow_spans == data.population.follow_spans);
        assert!(back.population.exposures == data.population.exposures);
        assert_eq!(back.external_ids, data.external_ids);
    }

    // A bad value deep in the table is named by its row in the table, not
    // in its row group.
    let script = r#"
import sys, pyarrow as pa, pyarrow.parquet as pq
d = sys.argv[1]
f = pq.read_table(f"{d}/follows.parquet")
ids = f.column("follower").cast(pa.int64()).to_pylist()
ids[5000] = -1
pq.write_table(f.set_column(0, "follower", pa.array(ids, pa.int64())), f"{d}/follows.parquet", row_group_size=997)
"#;
    python(script, dir.path());
    let err = format::read(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("'follower' row 5000") && err.contains("does not fit"),
        "{err}"
    );
}

/// Records what an observer is told to say.
#[derive(Default)]
struct Notes(std::sync::Mutex<Vec<String>>);

impl aumann_data::progress::Observer for Notes {
    fn stage(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64, _: u64, _: &str) {}
    fn note(&self, text: &str) {
        self.0.lock().unwrap().push(text.to_string());
    }
}

#[test]
fn a_table_changed_under_its_content_id_is_refused_and_one_without_an_id_is_read_as_an_edit() {
    let dir = tempfile::tempdir().unwrap();
    let data = small();
    format::write(dir.path(), &data).unwrap();
    let run = format::content_id(&data);
    let notes = Notes::default();
    format::read_observed(dir.path(), &notes).unwrap();
    assert!(notes.0.lock().unwrap().is_empty(), "an intact population needs no note");
    // One follower count changed by a program that kept the table's id, as
    // a flipped bit that still decodes would.
    let mut changed = data.clone();
    changed.population.followers[7] += 1.0;
    let batch = format::population_batch(&changed, Some(&run), format::AGENTS)
        .unwrap()
        .unwrap();
    format::write_batch(&dir.path().join(format::AGENTS), &batch).unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(matches!(err, FormatError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("was damaged"), "{err}");
    // The same change written without an id (as pandas writes it): read,
    // and said once.
    let batch = format::population_batch(&changed, None, format::AGENTS)
        .unwrap()
        .unwrap();
    format::write_batch(&dir.path().join(format::AGENTS), &batch).unwrap();
    let notes = Notes::default();
    let back = format::read_observed(dir.path(), &notes).unwrap();
    assert_eq!(back.population.followers[7], data.population.followers[7] + 1.0);
    let said = notes.0.lock().unwrap().clone();
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("agents.parquet changed since"), "{said:?}");
}

#[test]
fn without_a_run_in_metadata_the_tables_are_still_checked_against_each_other_and_their_content() {
    let dir = tempfile::tempdir().unwrap();
    let data = small();
    format::write(dir.path(), &data).unwrap();
    let meta_path = dir.path().join(format::METADATA);
    let mut meta: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta.as_object_mut().unwrap().remove("run");
    std::fs::write(&meta_path, serde_json::to_string(&meta).unwrap()).unwrap();
    // Every table carries the same id: checked against it.
    format::read(dir.path()).unwrap();
    // Follows of another population, with their own id: two runs mixed.
    let other = generate(
        &SynthParams {
            agents: 500,
            steps: 3,
            seed: 9,
            ..Default::default()
        },
        &(),
    );
    let other_dir = tempfile::tempdir().unwrap();
    format::write(other_dir.path(), &other).unwrap();
    std::fs::copy(other_dir.path().join(format::FOLLOWS), dir.path().join(format::FOLLOWS)).unwrap();
    let err = format::read(dir.path()).unwrap_err();
    assert!(matches!(err, FormatError::Mixed { .. }), "{err}");
}
