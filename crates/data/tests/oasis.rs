//! OASIS databases, built here with the schema OASIS writes.

use aumann_data::ingest::oasis::{OasisOptions, ingest};
use rusqlite::Connection;

#[path = "support/oasis_run.rs"]
mod oasis_run;

use oasis_run::SCHEMA;

/// Users 1..=4. At step 0 user 1 posts (post 1); at step 1 user 2 reposts
/// it (post 2, root 1); at step 2 user 3 reposts user 2's repost (post 3,
/// whose row points at the root, post 1, and whose trace names post 2);
/// user 4 likes post 1 at step 1 and quotes it at step 2 (post 4).
fn database(path: &std::path::Path, time: impl Fn(i64) -> String) {
    let db = Connection::open(path).unwrap();
    db.execute_batch(SCHEMA).unwrap();
    for (u, followers) in [(1, 120), (2, 30), (3, 2), (4, 0)] {
        db.execute(
            "INSERT INTO user (user_id, agent_id, user_name, num_followers) VALUES (?1, ?1, ?2, ?3)",
            (u, format!("u{u}"), followers),
        )
        .unwrap();
    }
    let post = |id: i64, user: i64, original: Option<i64>, quote: Option<&str>, t: i64| {
        db.execute(
            "INSERT INTO post (post_id, user_id, original_post_id, quote_content, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            (id, user, original, quote, time(t)),
        )
        .unwrap();
    };
    post(1, 1, None, None, 0);
    post(2, 2, Some(1), None, 1);
    post(3, 3, Some(1), None, 2);
    post(4, 4, Some(1), Some("so true"), 2);
    db.execute(
        "INSERT INTO trace VALUES (2, ?1, 'repost', '{\"reposted_id\": 1, \"new_post_id\": 2}')",
        [time(1)],
    )
    .unwrap();
    db.execute(
        "INSERT INTO trace VALUES (3, ?1, 'repost', '{\"reposted_id\": 2, \"new_post_id\": 3}')",
        [time(2)],
    )
    .unwrap();
    db.execute(
        "INSERT INTO \"like\" (user_id, post_id, created_at) VALUES (4, 1, ?1)",
        [time(1)],
    )
    .unwrap();
    db.execute(
        "INSERT INTO dislike (user_id, post_id, created_at) VALUES (3, 1, ?1)",
        [time(1)],
    )
    .unwrap();
    for (j, i) in [(2, 1), (3, 2), (4, 1), (4, 9)] {
        db.execute(
            "INSERT INTO follow (follower_id, followee_id, created_at) VALUES (?1, ?2, ?3)",
            (j, i, time(0)),
        )
        .unwrap();
    }
}

fn check(data: &aumann_data::Dataset) {
    let p = &data.population;
    assert_eq!(data.external_ids, vec!["1", "2", "3", "4"]);
    assert_eq!(p.steps, 3);
    assert_eq!(p.followers, vec![120.0, 30.0, 2.0, 0.0]);
    let act: Vec<(u32, u32)> = p.activity.iter().map(|a| (a.agent, a.step)).collect();
    assert_eq!(act, vec![(0, 0), (1, 1), (2, 2), (3, 2)]);
    // user 3's repost engages user 2 (the trace's parent), not the root's author
    let eng: Vec<(u32, u32, u32)> = p.engagements.iter().map(|e| (e.engager, e.author, e.step)).collect();
    assert_eq!(eng, vec![(1, 0, 1), (3, 0, 1), (2, 1, 2), (3, 0, 2)]);
    assert_eq!(p.follows, vec![(1, 0), (2, 1), (3, 0)]);
    p.validate().unwrap();
}

#[test]
fn twitter_mode_with_integer_and_text_steps() {
    let dir = tempfile::tempdir().unwrap();
    for (name, time) in [
        ("int.db", (|t: i64| t.to_string()) as fn(i64) -> String),
        ("text.db", |t: i64| format!(" {t}")),
    ] {
        let path = dir.path().join(name);
        database(&path, time);
        let (data, report) = ingest(&path, &OasisOptions::default()).unwrap();
        check(&data);
        assert!(report.mode.starts_with("twitter"));
        assert_eq!(report.tally.skipped["follows of unknown users"], 1);
        assert_eq!(
            report.tally.skipped["dislikes (not engagement in the attention model)"],
            1
        );
    }
}

#[test]
fn reddit_mode_buckets_datetimes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reddit.db");
    database(&path, |t| format!("2025-03-0{} 10:15:00.123456", 1 + t));
    let options = OasisOptions {
        step_seconds: 86_400,
        ..OasisOptions::default()
    };
    let (data, report) = ingest(&path, &options).unwrap();
    check(&data);
    assert!(report.mode.starts_with("reddit"));
}

#[test]
fn missing_files_and_tables_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let err = ingest(&dir.path().join("none.db"), &OasisOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no such file"), "{err}");
    let path = dir.path().join("empty.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE x (a INTEGER);")
        .unwrap();
    let err = ingest(&path, &OasisOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no such table: user"), "{err}");
    let path = dir.path().join("garbage.db");
    std::fs::write(&path, b"this is not a database at all, just text").unwrap();
    assert!(ingest(&path, &OasisOptions::default()).is_err());
}

#[test]
fn implausible_times_are_skipped_and_bad_user_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // Post times: a step of 2^32, 1e12, a datetime in the year 999999999999.
    for (k, bad) in ["4294967296", "1000000000000", "999999999999-01-01 00:00:00"]
        .iter()
        .enumerate()
    {
        let path = dir.path().join(format!("t{k}.db"));
        database(&path, |t| t.to_string());
        let db = Connection::open(&path).unwrap();
        db.execute(
            "INSERT INTO post (user_id, content, created_at) VALUES (1, 'x', ?1)",
            [bad],
        )
        .unwrap();
        drop(db);
        let (data, report) = ingest(&path, &OasisOptions::default()).unwrap();
        assert_eq!(data.population.steps, 3, "{bad}");
        let skipped = report
            .tally
            .skipped
            .get("records timed outside steps 0..1,000,000 or years 1970..2200");
        let unresolved = report.tally.skipped.get("posts with an unknown user, id or time");
        assert_eq!(
            skipped.unwrap_or(0) + unresolved.unwrap_or(0),
            1,
            "{bad}: {:?}",
            report.tally
        );
    }
    let path = dir.path().join("followers.db");
    database(&path, |t| t.to_string());
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE user SET num_followers = -5 WHERE user_id = 3", [])
        .unwrap();
    let err = ingest(&path, &OasisOptions::default()).unwrap_err().to_string();
    assert!(err.contains("row 3 (user_id 3): num_followers -5"), "{err}");
    let path = dir.path().join("text-followers.db");
    database(&path, |t| t.to_string());
    Connection::open(&path)
        .unwrap()
        .execute("UPDATE user SET num_followers = 'many' WHERE user_id = 2", [])
        .unwrap();
    let err = ingest(&path, &OasisOptions::default()).unwrap_err().to_string();
    assert!(err.contains("num_followers 'many'"), "{err}");
    let path = dir.path().join("duplicate.db");
    let db = Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE user (user_id INTEGER, num_followers INTEGER); INSERT INTO user VALUES (1, 0), (1, 2);",
    )
    .unwrap();
    drop(db);
    let err = ingest(&path, &OasisOptions::default()).unwrap_err().to_string();
    assert!(err.contains("table user: user_id 1 appears more than once"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 120, ..Default::default() })]

    /// Any i64 step, as an integer or as text, is used or counted and
    /// skipped, never a panic or an overflowing cast.
    #[test]
    fn any_step_value_is_ingested_or_skipped_without_panicking(steps in proptest::collection::vec(proptest::prelude::any::<i64>(), 1..5), as_text in proptest::prelude::any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        database(&path, |t| t.to_string());
        let db = Connection::open(&path).unwrap();
        for s in &steps {
            let value: rusqlite::types::Value = if as_text { s.to_string().into() } else { (*s).into() };
            db.execute("INSERT INTO post (user_id, content, created_at) VALUES (2, 'x', ?1)", [value]).unwrap();
            db.execute("INSERT INTO \"like\" (user_id, post_id, created_at) VALUES (3, 1, ?1)", [s.to_string()]).unwrap();
        }
        drop(db);
        let _ = ingest(&path, &OasisOptions::default());
    }
}

/// The database of `database()` with what OASIS records of who saw whom:
/// refresh traces (one malformed, one without posts, one naming a post that
/// is not in the post table, one showing a post before it was made), a
/// quote trace, a follow made at step 1 and an unfollow at step 2.
fn database_with_feeds(path: &std::path::Path) {
    database(path, |t| t.to_string());
    let db = Connection::open(path).unwrap();
    let trace = |user: i64, t: i64, action: &str, info: &str| {
        db.execute(
            "INSERT INTO trace (user_id, created_at, action, info) VALUES (?1, ?2, ?3, ?4)",
            (user, t, action, info),
        )
        .unwrap();
    };
    trace(
        2,
        1,
        "refresh",
        r#"{"posts": [{"post_id": 1, "user_id": 1, "created_at": 0}]}"#,
    );
    trace(
        3,
        2,
        "refresh",
        r#"{"posts": [{"post_id": 2, "user_id": 2}, {"post_id": 1, "user_id": 1}, {"post_id": 3, "user_id": 3}]}"#,
    );
    trace(
        4,
        1,
        "refresh",
        r#"{"posts": [{"post_id": 99, "user_id": 1, "created_at": 0}, {"post_id": 98}]}"#,
    );
    trace(4, 2, "refresh", "not json");
    trace(1, 2, "refresh", r#"{"foo": 1}"#);
    trace(1, 1, "refresh", r#"{"posts": [{"post_id": 4, "user_id": 4}]}"#);
    trace(4, 2, "quote_post", r#"{"quoted_id": 1, "new_post_id": 4}"#);
    trace(3, 2, "unfollow", r#"{"followee_id": 1}"#);
    db.execute(
        "INSERT INTO follow (follower_id, followee_id, created_at) VALUES (1, 3, 1)",
        [],
    )
    .unwrap();
}

#[test]
fn feeds_reposts_and_follow_times_are_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.db");
    database_with_feeds(&path);
    let (data, report) = ingest(&path, &OasisOptions::default()).unwrap();
    let p = &data.population;
    p.validate().unwrap();
    // Users 1..4 are agents 0..3.
    let shown: Vec<(u32, u32, u32, Option<u32>, f64)> = p
        .exposures
        .iter()
        .map(|e| (e.reader, e.author, e.step, e.posted, e.amount))
        .collect();
    assert_eq!(
        shown,
        vec![
            (1, 0, 1, Some(0), 1.0),
            (3, 0, 1, Some(0), 1.0),
            (2, 0, 2, Some(0), 1.0),
            (2, 1, 2, Some(1), 1.0),
        ]
    );
    // User 3 unfollowed user 1 at step 2: that exposure is outside follows.
    assert_eq!((report.exposures, report.exposures_outside_follows), (4, 1));
    let skipped = &report.tally.skipped;
    assert_eq!(skipped["trace rows whose info is not JSON"], 1);
    assert_eq!(skipped["feed traces whose info lists no posts"], 1);
    assert_eq!(skipped["items shown with an unknown author or posting time"], 1);
    assert_eq!(skipped["items shown before they were posted"], 1);
    assert_eq!(skipped["items shown of one's own post"], 1);
    // The repost of a repost carries its direct parent's content; the quote
    // its quoted post's.
    let reposts: Vec<(u32, u32, u32, u32)> = p
        .reposts
        .iter()
        .map(|r| (r.reposter, r.step, r.parent_author, r.parent_step))
        .collect();
    assert_eq!(reposts, vec![(1, 1, 0, 0), (2, 2, 1, 1), (3, 2, 0, 0)]);
    // Follows: the three of the table at step 0 (before the window's first
    // change: held all along), user 1 -> 3 from step 1, and user 3 -> 1
    // until step 2.
    let spans: Vec<SpanRow> = p
        .follows
        .iter()
        .zip(&p.follow_spans)
        .map(|(&f, s)| (f, s.begin, s.end))
        .collect();
    assert_eq!(
        spans,
        vec![
            ((1, 0), None, None),
            ((2, 1), None, None),
            ((3, 0), None, None),
            ((0, 2), Some(1), None),
            ((2, 0), None, Some(2)),
        ]
    );
    assert_eq!(report.tally.used["unfollows"], 1);
}

#[test]
fn a_run_without_refresh_traces_reads_the_rec_snapshot_at_the_last_step() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.db");
    database(&path, |t| t.to_string());
    let db = Connection::open(&path).unwrap();
    db.execute_batch("INSERT INTO rec VALUES (3, 1), (3, 2), (1, 1), (2, 77);")
        .unwrap();
    let (data, report) = ingest(&path, &OasisOptions::default()).unwrap();
    let shown: Vec<(u32, u32, u32, Option<u32>)> = data
        .population
        .exposures
        .iter()
        .map(|e| (e.reader, e.author, e.step, e.posted))
        .collect();
    assert_eq!(shown, vec![(2, 0, 2, Some(0)), (2, 1, 2, Some(1))]);
    assert_eq!(
        report.tally.used["items shown (from the rec snapshot, at the last step)"],
        2
    );
    assert_eq!(report.tally.skipped["items shown of one's own post"], 1);
    assert_eq!(
        report.tally.skipped["items shown with an unknown author or posting time"],
        1
    );
}

#[test]
fn a_simulated_run_ingests_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.db");
    let facts = oasis_run::simulate(&path, 60, 6, 8, 3);
    let (data, report) = ingest(&path, &OasisOptions::default()).unwrap();
    let p = &data.population;
    p.validate().unwrap();
    assert_eq!(p.reposts.len(), facts.reposts);
    let items: f64 = p.exposures.iter().map(|e| e.amount).sum();
    assert_eq!(items as u64, report.tally.used["items shown"]);
    assert!(
        report.exposures_outside_follows * 10 > report.exposures * 9,
        "{report:?}"
    );
    // Every repost's parent author gets the shares the run counted.
    let mut shares = vec![0u64; p.agents];
    for r in &p.reposts {
        shares[r.parent_author as usize] += 1;
    }
    assert_eq!(shares, facts.direct_shares);
}

/// A follow and when it held: ((follower, followee), begin, end).
type SpanRow = ((u32, u32), Option<u32>, Option<u32>);
