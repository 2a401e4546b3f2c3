//! OASIS databases, built here with the schema OASIS writes.

use aumann_data::ingest::oasis::{OasisOptions, ingest};
use rusqlite::Connection;

const SCHEMA: &str = r#"
CREATE TABLE user (user_id INTEGER PRIMARY KEY AUTOINCREMENT, agent_id INTEGER, user_name TEXT, name TEXT, bio TEXT,
  created_at DATETIME, num_followings INTEGER DEFAULT 0, num_followers INTEGER DEFAULT 0);
CREATE TABLE post (post_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, original_post_id INTEGER, content TEXT DEFAULT '',
  quote_content TEXT, created_at DATETIME, num_likes INTEGER DEFAULT 0, num_dislikes INTEGER DEFAULT 0,
  num_shares INTEGER DEFAULT 0, num_reports INTEGER DEFAULT 0);
CREATE TABLE follow (follow_id INTEGER PRIMARY KEY AUTOINCREMENT, follower_id INTEGER, followee_id INTEGER, created_at DATETIME);
CREATE TABLE "like" (like_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, post_id INTEGER, created_at DATETIME);
CREATE TABLE dislike (dislike_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER, post_id INTEGER, created_at DATETIME);
CREATE TABLE trace (user_id INTEGER, created_at DATETIME, action TEXT, info TEXT, PRIMARY KEY(user_id, created_at, action, info));
"#;

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
