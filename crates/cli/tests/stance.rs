//! Stance from the data, end to end: real formats in (a Jetstream capture
//! and an OASIS database, each with two follow communities), `--stance` on
//! ingest and `aumann stance`, then polarization that moves and a study
//! that runs.

mod support;

use support::aumann;

#[path = "../../data/tests/support/oasis_run.rs"]
mod oasis_run;

use std::path::Path;
use std::process::Command;

fn ok(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two camps of 30 accounts: 4 elites and 26 members each. Members follow 3
/// elites of their camp (every fifth also one of the other), and 2 members
/// of it; everyone posts on each of 4 days with their camp's hashtag, and
/// members like two of their camp's elites.
struct Camps {
    /// (account, camp, follows)
    accounts: Vec<(String, usize, Vec<String>)>,
}

const ELITES: usize = 4;
const MEMBERS: usize = 26;

impl Camps {
    fn new() -> Self {
        let name = |camp: usize, k: usize| {
            let side = ["left", "right"][camp];
            if k < ELITES {
                format!("{side}-elite-{k}")
            } else {
                format!("{side}-member-{k}")
            }
        };
        let mut accounts = Vec::new();
        for camp in 0..2 {
            for k in 0..ELITES + MEMBERS {
                let mut follows = Vec::new();
                if k >= ELITES {
                    for e in 0..3 {
                        follows.push(name(camp, (k + e) % ELITES));
                    }
                    if k % 5 == 0 {
                        follows.push(name(1 - camp, k % ELITES));
                    }
                    for m in 1..=2 {
                        follows.push(name(camp, ELITES + (k - ELITES + 7 * m) % MEMBERS));
                    }
                } else {
                    follows.push(name(camp, (k + 1) % ELITES));
                }
                accounts.push((name(camp, k), camp, follows));
            }
        }
        Self { accounts }
    }

    fn tag(camp: usize) -> &'static str {
        ["#lefty", "#righty"][camp]
    }

    fn jetstream(&self, path: &Path) {
        const T0: i64 = 1_767_225_600_000_000;
        const DAY: i64 = 86_400_000_000;
        let did = |name: &str| format!("did:plc:{name}");
        let mut lines = Vec::new();
        for (n, (name, camp, follows)) in self.accounts.iter().enumerate() {
            for (f, followee) in follows.iter().enumerate() {
                lines.push(format!(
                    r#"{{"did":"{}","time_us":{},"kind":"commit","commit":{{"operation":"create","collection":"app.bsky.graph.follow","rkey":"f{f}","record":{{"subject":"{}","createdAt":"x"}}}}}}"#,
                    did(name),
                    T0 + n as i64,
                    did(followee)
                ));
            }
            for day in 0..4 {
                let t = T0 + day * DAY + 1000 + n as i64;
                lines.push(format!(
                    r#"{{"did":"{}","time_us":{t},"kind":"commit","commit":{{"operation":"create","collection":"app.bsky.feed.post","rkey":"p{day}","record":{{"text":"day {day} {} again","createdAt":"x"}}}}}}"#,
                    did(name),
                    Self::tag(*camp)
                ));
                // Members like two of their camp's elites, on alternate days.
                if let Some(elite) = follows.get(day as usize % 2) {
                    lines.push(format!(
                        r#"{{"did":"{}","time_us":{},"kind":"commit","commit":{{"operation":"create","collection":"app.bsky.feed.like","rkey":"l{day}","record":{{"subject":{{"uri":"at://{}/app.bsky.feed.post/p{day}","cid":"c"}},"createdAt":"x"}}}}}}"#,
                        did(name),
                        t + 500,
                        did(elite)
                    ));
                }
            }
        }
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    fn oasis(&self, path: &Path) {
        let db = rusqlite::Connection::open(path).unwrap();
        db.execute_batch(oasis_run::SCHEMA).unwrap();
        let id = |name: &str| 1 + self.accounts.iter().position(|a| a.0 == name).unwrap() as i64;
        for (name, _, _) in &self.accounts {
            let followers = self.accounts.iter().filter(|a| a.2.contains(name)).count();
            db.execute(
                "INSERT INTO user (user_id, agent_id, user_name, num_followers) VALUES (?1, ?1, ?2, ?3)",
                (id(name), name, followers as i64),
            )
            .unwrap();
        }
        for (name, camp, follows) in &self.accounts {
            for followee in follows {
                db.execute(
                    "INSERT INTO follow (follower_id, followee_id, created_at) VALUES (?1, ?2, 0)",
                    (id(name), id(followee)),
                )
                .unwrap();
            }
            for step in 0..4 {
                db.execute(
                    "INSERT INTO post (user_id, content, created_at) VALUES (?1, ?2, ?3)",
                    (id(name), format!("step {step} {}", Self::tag(*camp)), step),
                )
                .unwrap();
            }
        }
    }

    fn camp_of(&self, external_id: &str) -> usize {
        // OASIS ids are the 1-based row of the user table.
        if let Ok(id) = external_id.parse::<usize>() {
            return self.accounts[id - 1].1;
        }
        self.accounts
            .iter()
            .find(|a| external_id.ends_with(a.0.as_str()) || external_id == a.0)
            .map(|a| a.1)
            .unwrap_or_else(|| panic!("unknown account {external_id}"))
    }
}

/// (external id, stance, source) of every agent, read with pandas.
fn stances(dir: &Path) -> Vec<(String, f64, String)> {
    let script = r#"
import sys, pandas as pd
a = pd.read_parquet(sys.argv[1] + "/agents.parquet")
for row in a.itertuples():
    print(row.external_id, repr(row.stance), row.stance_source)
"#;
    let out = Command::new("python3").arg("-c").arg(script).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2].to_string())
        })
        .collect()
}

/// Every estimated agent of one camp on one side of 0.5, the other camp on
/// the other.
fn assert_camps_split(camps: &Camps, dir: &Path) {
    let rows = stances(dir);
    let mut sides = [Vec::new(), Vec::new()];
    for (id, stance, source) in &rows {
        if source != "low-signal" {
            sides[camps.camp_of(id)].push(*stance);
        }
    }
    assert!(sides.iter().all(|s| s.len() >= 20), "{rows:?}");
    let below = |s: &Vec<f64>| s.iter().all(|&v| v < 0.5);
    let above = |s: &Vec<f64>| s.iter().all(|&v| v > 0.5);
    assert!(
        (below(&sides[0]) && above(&sides[1])) || (above(&sides[0]) && below(&sides[1])),
        "{sides:?}"
    );
}

/// The two camps written as a Jetstream capture in a fresh directory.
fn jetstream_capture() -> (tempfile::TempDir, Camps, String) {
    let dir = tempfile::tempdir().unwrap();
    let camps = Camps::new();
    let capture = dir.path().join("capture.jsonl");
    camps.jetstream(&capture);
    let capture = capture.to_str().unwrap().to_string();
    (dir, camps, capture)
}

/// `aumann ingest jetstream` over the 4 days of a capture, with `extra`
/// options; its standard output.
fn ingest_jetstream(capture: &str, out: &Path, extra: &[&str]) -> String {
    let out = out.to_str().unwrap();
    let mut args = vec!["ingest", "jetstream", capture, "--days", "4", "--out", out];
    args.extend_from_slice(extra);
    ok(aumann(&args))
}

/// `aumann study` over every indicator with small panels; its summary.
fn small_study(pop: &Path, out: &Path) -> serde_json::Value {
    ok(aumann(&[
        "study",
        "--input",
        pop.to_str().unwrap(),
        "--indicator",
        "all",
        "--sample",
        "10",
        "--permutations",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]));
    summary(out)
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

fn indicator<'a>(s: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    s["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["indicator"]["name"] == name)
        .unwrap()
}

#[test]
fn a_jetstream_capture_without_stance_is_flat_and_says_why_and_with_follows_it_moves() {
    let (dir, camps, capture) = jetstream_capture();

    // Without a stance: polarization is flat, said plainly, exit 0.
    let plain = dir.path().join("plain");
    ingest_jetstream(&capture, &plain, &[]);
    let out = dir.path().join("plain-attr");
    let text = ok(aumann(&[
        "attribute",
        "--input",
        plain.to_str().unwrap(),
        "--indicator",
        "all",
        "--out",
        out.to_str().unwrap(),
    ]));
    assert!(
        text.contains("polarization: flat") && text.contains("`aumann stance`"),
        "{text}"
    );
    assert!(text.contains("panic: flat") && text.contains("no orders"), "{text}");
    let s = summary(&out);
    let p = indicator(&s, "polarization");
    assert_eq!(p["full"]["verdict"], "flat");
    assert!(p["tiers"].is_null());
    assert_eq!(indicator(&s, "cascade")["full"]["verdict"], "attributed");

    // With --stance follows: the camps split, and polarization moves.
    let pop = dir.path().join("pop");
    let text = ingest_jetstream(&capture, &pop, &["--stance", "follows"]);
    assert!(text.contains("stance (follows)"), "{text}");
    assert_camps_split(&camps, &pop);
    let study = dir.path().join("study");
    let s = small_study(&pop, &study);
    let p = indicator(&s, "polarization");
    assert_eq!(p["full"]["verdict"], "attributed");
    let change = p["full"]["value_input"].as_f64().unwrap() - p["full"]["value_baseline"].as_f64().unwrap();
    assert!(change.abs() > 1e-6, "{p}");
    assert!(p["full"]["relative_gap"].as_f64().unwrap() < 1e-6);
    assert!(p["tiers"].is_array());
    assert!(study.join("report.html").exists());
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pop.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["stance"]["request"]["method"], "follows");
    assert!(meta["stance"]["diagnostics"]["bimodality"].as_f64().unwrap() > 5.0 / 9.0);
}

#[test]
fn lexicon_engagements_and_seeds_split_the_camps_too() {
    let (dir, camps, capture) = jetstream_capture();
    let terms = dir.path().join("terms.csv");
    std::fs::write(&terms, "side,term\nlower,#lefty\nupper,#righty\n").unwrap();
    let lex = dir.path().join("lex");
    ingest_jetstream(
        &capture,
        &lex,
        &["--stance", "lexicon", "--stance-file", terms.to_str().unwrap()],
    );
    assert_camps_split(&camps, &lex);
    // The lexicon is oriented by its lists: the lower list's camp is below.
    let left = stances(&lex).into_iter().find(|r| r.0.contains("left-member")).unwrap();
    assert!(left.1 < 0.5 && left.2 == "lexicon", "{left:?}");

    let eng = dir.path().join("eng");
    ok(aumann(&[
        "stance",
        "--input",
        lex.to_str().unwrap(),
        "--method",
        "engagements",
        "--min-elites",
        "2",
        "--out",
        eng.to_str().unwrap(),
    ]));
    let rows = stances(&eng);
    // Members engage two of their camp's elites: two columns each, fitted
    // with --min-elites 2.
    assert!(rows.iter().any(|r| r.2 == "fitted"));
    assert_camps_split(&camps, &eng);

    let seeds = dir.path().join("seeds.csv");
    std::fs::write(
        &seeds,
        "id,stance\ndid:plc:left-elite-0,0.1\ndid:plc:right-elite-0,0.9\n",
    )
    .unwrap();
    let seeded = dir.path().join("seeded");
    let json = ok(aumann(&[
        "stance",
        "--input",
        lex.to_str().unwrap(),
        "--method",
        "seeds",
        "--file",
        seeds.to_str().unwrap(),
        "--out",
        seeded.to_str().unwrap(),
        "--json",
    ]));
    let d: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(d["labels_matched"], 2);
    assert_camps_split(&camps, &seeded);
    let left = stances(&seeded)
        .into_iter()
        .find(|r| r.0.contains("left-member"))
        .unwrap();
    assert!(left.1 < 0.5 && left.2 == "propagated", "{left:?}");

    // The lexicon needs text, which a population directory does not keep.
    let nowhere = dir.path().join("lexicon-from-a-directory");
    let err = aumann(&[
        "stance",
        "--input",
        lex.to_str().unwrap(),
        "--method",
        "lexicon",
        "--out",
        nowhere.to_str().unwrap(),
    ]);
    assert!(!err.status.success());
    assert!(String::from_utf8_lossy(&err.stderr).contains("at ingest"));
}

#[test]
fn an_oasis_run_gets_its_stance_from_follows_and_the_study_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let camps = Camps::new();
    let db = dir.path().join("run.db");
    camps.oasis(&db);
    let pop = dir.path().join("pop");
    ok(aumann(&[
        "ingest",
        "oasis",
        db.to_str().unwrap(),
        "--stance",
        "follows",
        "--out",
        pop.to_str().unwrap(),
    ]));
    assert_camps_split(&camps, &pop);
    let study = dir.path().join("study");
    let s = small_study(&pop, &study);
    assert_eq!(indicator(&s, "polarization")["full"]["verdict"], "attributed");
    assert_eq!(indicator(&s, "panic")["full"]["verdict"], "flat");
    assert!(
        indicator(&s, "panic")["full"]["flat_cause"]
            .as_str()
            .unwrap()
            .contains("no orders")
    );
}
