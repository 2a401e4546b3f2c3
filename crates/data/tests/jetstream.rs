//! Jetstream ingestion: every event shape, deletes, windows, compression and
//! bad input.

use aumann_data::ingest::jetstream::{Collection, IngestError, JetstreamOptions, Line, ParseError, ingest, parse_line};
use std::io::Write;
use std::path::{Path, PathBuf};

const DAY_US: i64 = 86_400_000_000;
const T0: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z

fn post(did: &str, t: i64, rkey: &str) -> String {
    format!(
        r#"{{"did":"{did}","time_us":{t},"kind":"commit","commit":{{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"{rkey}","record":{{"$type":"app.bsky.feed.post","text":"hi","createdAt":"2026-01-01T00:00:00Z"}},"cid":"c"}}}}"#
    )
}
fn like(did: &str, t: i64, rkey: &str, author: &str) -> String {
    format!(
        r#"{{"did":"{did}","time_us":{t},"kind":"commit","commit":{{"rev":"r","operation":"create","collection":"app.bsky.feed.like","rkey":"{rkey}","record":{{"subject":{{"uri":"at://{author}/app.bsky.feed.post/x","cid":"c"}},"createdAt":"x"}},"cid":"c"}}}}"#
    )
}
fn follow(did: &str, t: i64, rkey: &str, subject: &str) -> String {
    format!(
        r#"{{"did":"{did}","time_us":{t},"kind":"commit","commit":{{"rev":"r","operation":"create","collection":"app.bsky.graph.follow","rkey":"{rkey}","record":{{"subject":"{subject}","createdAt":"x"}},"cid":"c"}}}}"#
    )
}
fn delete(did: &str, t: i64, collection: &str, rkey: &str) -> String {
    format!(
        r#"{{"did":"{did}","time_us":{t},"kind":"commit","commit":{{"rev":"r","operation":"delete","collection":"{collection}","rkey":"{rkey}"}}}}"#
    )
}

fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

#[test]
fn every_example_shape_parses() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/jetstream-examples.jsonl"
    ))
    .unwrap();
    let lines: Vec<Line> = text
        .lines()
        .map(|l| parse_line(l.as_bytes()).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let creates: Vec<Collection> = lines
        .iter()
        .filter_map(|l| {
            if let Line::Create { collection, .. } = l {
                Some(*collection)
            } else {
                None
            }
        })
        .collect();
    for c in [
        Collection::Post,
        Collection::Reply,
        Collection::Quote,
        Collection::Repost,
        Collection::Like,
        Collection::Follow,
    ] {
        assert!(creates.contains(&c), "no {c:?} among the examples");
    }
    assert!(lines.iter().any(|l| matches!(l, Line::Delete { .. })));
    for kind in ["identity", "account", "sync"] {
        assert!(lines.contains(&Line::Other(kind.into())), "{kind}");
    }
    // A repost with via, and a reply's parent author taken from the URI.
    assert!(lines.iter().any(|l| matches!(l, Line::Create { via: true, .. })));
}

#[test]
fn malformed_lines_name_what_is_wrong() {
    assert_eq!(parse_line(b"{not json").unwrap_err(), ParseError::NotJson);
    assert_eq!(parse_line(&[0xff, 0xfe, b'{', b'}']).unwrap_err(), ParseError::NotUtf8);
    let e = parse_line(br#"{"did":"d","kind":"commit"}"#).unwrap_err();
    assert_eq!(e, ParseError::Incomplete("missing time_us"));
    assert_eq!(e.to_string(), "missing time_us");
    let e = parse_line(br#"{"did":"d","time_us":"soon","kind":"commit"}"#).unwrap_err();
    assert!(matches!(e, ParseError::Shape(_)) && e.to_string().starts_with("unexpected shape"));
    assert_eq!(e.class(), "unexpected shape");
    assert_eq!(
        parse_line(br#"{"time_us":1}"#).unwrap_err(),
        ParseError::Incomplete("missing kind")
    );
    let like_without_subject = r#"{"did":"did:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"k","record":{}}}"#;
    let e = parse_line(like_without_subject.as_bytes()).unwrap_err();
    assert_eq!(e, ParseError::NoSubject("likes"));
    assert_eq!(e.to_string(), "likes without a subject {uri, cid}");
    let bad_parent = r#"{"did":"did:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":{"reply":{"parent":{"uri":"https://x"}}}}}"#;
    let e = parse_line(bad_parent.as_bytes()).unwrap_err();
    assert_eq!(e.to_string(), "reply parent is not an at:// URI");
    assert_eq!(e.class(), "a reference is not an at:// URI");
    let odd = r#"{"did":"did:a","time_us":1,"kind":"commit","commit":{"operation":"merge","collection":"app.bsky.feed.post","rkey":"k"}}"#;
    let e = parse_line(odd.as_bytes()).unwrap_err();
    assert_eq!(e, ParseError::UnknownOperation("merge".into()));
    assert_eq!(e.class(), "unknown operation");
}

#[test]
fn ingest_builds_the_window_applies_deletes_and_counts_everything_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c, z) = ("did:plc:a", "did:plc:b", "did:plc:c", "did:plc:zz");
    let mut lines = vec![
        post(a, T0 + 10, "p1"),
        post(a, T0 + DAY_US + 10, "p2"),
        post(b, T0 + DAY_US + 20, "p3"),
        like(b, T0 + 30, "l1", a),
        like(c, T0 + DAY_US + 40, "l2", a),
        like(c, T0 + DAY_US + 41, "l3", z), // z never acts: outside the population
        follow(b, T0 + 50, "f1", a),
        follow(c, T0 + 60, "f2", a),
        follow(c, T0 + 61, "f3", z),
        delete(c, T0 + 70, "app.bsky.graph.follow", "f2"),
        delete(a, T0 + DAY_US + 80, "app.bsky.feed.post", "p2"),
        delete(a, T0 + 90, "app.bsky.feed.post", "never-seen"),
        post(a, T0 + 10, "p1"), // a replayed duplicate
        "{broken".to_string(),
        r#"{"did":"x","time_us":5,"kind":"identity","identity":{}}"#.to_string(),
        r#"{"did":"x","time_us":5,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.actor.profile","rkey":"self","record":{}}}"#.to_string(),
        String::new(),
    ];
    // an earlier day, outside a 2-day window
    lines.push(post(z, T0 - 3 * DAY_US, "old"));
    let file = write(dir.path(), "day.jsonl", &lines);
    let (data, report) = ingest(
        std::slice::from_ref(&file),
        &JetstreamOptions {
            steps: 2,
            ..Default::default()
        },
    )
    .unwrap();
    let p = &data.population;
    assert_eq!(data.external_ids, vec![a, b, c]);
    assert_eq!((p.agents, p.steps), (3, 2));
    assert_eq!(report.window_start_us, T0);
    // a posted on day 0 (p1; p2 deleted), b on day 1
    let act: Vec<(u32, u32, f64)> = p.activity.iter().map(|x| (x.agent, x.step, x.amount)).collect();
    assert_eq!(act, vec![(0, 0, 1.0), (1, 1, 1.0)]);
    let eng: Vec<(u32, u32, u32)> = p.engagements.iter().map(|e| (e.engager, e.author, e.step)).collect();
    assert_eq!(eng, vec![(1, 0, 0), (2, 0, 1)]);
    assert_eq!(p.follows, vec![(1, 0)]);
    assert_eq!(p.followers, vec![1.0, 0.0, 0.0]);
    let skipped = |k: &str| report.tally.skipped.get(k).unwrap_or(0);
    assert_eq!(skipped("duplicate events"), 1);
    assert_eq!(skipped("malformed: not JSON"), 1);
    assert_eq!(skipped("identity events"), 1);
    assert_eq!(skipped("other collections"), 1);
    assert_eq!(skipped("deletes of records created before the stream"), 1);
    assert_eq!(skipped("engagements with accounts outside the population"), 1);
    assert_eq!(skipped("follows of accounts outside the population"), 1);
    assert_eq!(skipped("agent-steps outside the window"), 1);
    assert_eq!(report.tally.used["deletes matched to a create"], 2);
    assert_eq!(report.lines, lines.len() as u64 - 1);

    let err = ingest(
        std::slice::from_ref(&file),
        &JetstreamOptions {
            strict: true,
            steps: 2,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, IngestError::Malformed { line: 14, .. }), "{err}");
    let err = ingest(
        &[file],
        &JetstreamOptions {
            start_us: Some(T0 + 30 * DAY_US),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("holds no activity"), "{err}");
}

#[test]
fn gzip_and_zstd_files_read_alike_and_truncation_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..2000)
        .map(|k| post(&format!("did:plc:{}", k % 50), T0 + k * 1000, &format!("r{k}")))
        .collect();
    let text = lines.join("\n") + "\n";
    let plain = write(dir.path(), "a.jsonl", &lines);
    let gz = dir.path().join("a.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&gz).unwrap(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    let zst = dir.path().join("a.jsonl.zst");
    std::fs::write(&zst, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
    let options = JetstreamOptions {
        steps: 1,
        ..Default::default()
    };
    let (reference, _) = ingest(&[plain], &options).unwrap();
    for f in [&gz, &zst] {
        let (data, report) = ingest(std::slice::from_ref(f), &options).unwrap();
        assert_eq!(
            data.population.activity,
            reference.population.activity,
            "{}",
            f.display()
        );
        assert!(report.truncated_files.is_empty());
    }
    for f in [&gz, &zst] {
        let bytes = std::fs::read(f).unwrap();
        let cut = dir
            .path()
            .join(format!("cut-{}", f.file_name().unwrap().to_string_lossy()));
        std::fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).unwrap();
        let (data, report) = ingest(std::slice::from_ref(&cut), &options).unwrap();
        assert_eq!(report.truncated_files.len(), 1, "{}", cut.display());
        assert!(data.population.activity.len() <= reference.population.activity.len());
        assert!(
            ingest(
                &[cut],
                &JetstreamOptions {
                    strict: true,
                    ..options.clone()
                }
            )
            .is_err()
        );
    }
}

#[test]
fn snapshots_and_stances_are_merged_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "d.jsonl",
        &[post("did:plc:a", T0, "1"), post("did:plc:b", T0, "2")],
    );
    let snap = dir.path().join("follows.csv");
    std::fs::write(
        &snap,
        "follower,followee\ndid:plc:a,did:plc:b\ndid:plc:a,did:plc:gone\n",
    )
    .unwrap();
    let stances = dir.path().join("stances.csv");
    std::fs::write(&stances, "did,stance\ndid:plc:b,0.8\n").unwrap();
    let options = JetstreamOptions {
        steps: 1,
        follow_snapshot: Some(snap),
        stances: Some(stances.clone()),
        ..Default::default()
    };
    let (data, report) = ingest(std::slice::from_ref(&file), &options).unwrap();
    assert_eq!(data.population.follows, vec![(0, 1)]);
    assert_eq!(data.population.stance, vec![0.5, 0.8]);
    assert_eq!(report.tally.skipped["follows of accounts outside the population"], 1);
    std::fs::write(&stances, "did:plc:b,1.5\n").unwrap();
    let err = ingest(&[file], &options).unwrap_err();
    assert!(err.to_string().contains("outside (0, 1)"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, ..Default::default() })]

    /// The same property as the cargo-fuzz target (fuzz/), within the
    /// ordinary test suite: any bytes give an event or an error, never a panic.
    #[test]
    fn the_line_parser_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
        let _ = parse_line(&bytes);
    }

    #[test]
    fn mutated_example_lines_never_panic(line in 0usize..13, at in 0usize..2000, byte in proptest::prelude::any::<u8>(), cut in proptest::prelude::any::<bool>()) {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/jetstream-examples.jsonl")).unwrap();
        let mut bytes = text.lines().nth(line).unwrap().as_bytes().to_vec();
        let at = at % bytes.len();
        if cut { bytes.truncate(at) } else { bytes[at] = byte }
        let _ = parse_line(&bytes);
    }
}

#[test]
fn stray_events_dated_in_the_future_or_the_past_do_not_move_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    // 500 posts by 177 accounts over two days of 2026, then one event
    // dated 2100, one near i64::MAX, one before 2000, one three days later.
    for k in 0..500 {
        let t = T0 + (k % 2) as i64 * DAY_US + k as i64;
        lines.push(post(&format!("did:plc:u{}", k % 177), t, &format!("p{k}")));
    }
    lines.push(post("did:plc:late", 4_102_444_800_000_000, "x")); // 2100-01-01
    lines.push(post("did:plc:max", i64::MAX - 5, "y"));
    lines.push(post("did:plc:old", 1_000_000, "z"));
    lines.push(post("did:plc:straggler", T0 + 5 * DAY_US, "s"));
    lines.push(r#"{"did":"","time_us":1767225600000000,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"e","record":{}}}"#.to_string());
    let file = write(dir.path(), "mixed.jsonl", &lines);
    let options = JetstreamOptions {
        steps: 2,
        ..Default::default()
    };
    let (data, report) = ingest(std::slice::from_ref(&file), &options).unwrap();
    assert_eq!(data.population.agents, 177);
    assert_eq!(report.window_start_us, T0);
    let skipped = |k: &str| report.tally.skipped.get(k).unwrap_or(0);
    assert_eq!(skipped("events dated before 2000-01-01 or after tomorrow"), 3);
    // The straggler is a valid time outside the window: skipped, not used.
    assert_eq!(skipped("records outside the window"), 1);
    assert_eq!(report.tally.used["posts"], 500);
    assert_eq!(skipped("malformed: did is empty or longer than 2048 bytes"), 1);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    /// Any i64 time, and any window start, is an event or a counted skip,
    /// never a panic or an overflowing cast.
    #[test]
    fn any_time_is_ingested_or_skipped_without_panicking(times in proptest::collection::vec(proptest::prelude::any::<i64>(), 1..6), start in proptest::prelude::any::<Option<i64>>(), days in 1usize..40) {
        let dir = tempfile::tempdir().unwrap();
        let mut lines: Vec<String> = times.iter().enumerate().map(|(k, &t)| post(&format!("did:plc:p{k}"), t, "r")).collect();
        lines.push(post("did:plc:anchor", T0, "a"));
        let file = write(dir.path(), "t.jsonl", &lines);
        let options = JetstreamOptions { steps: days, start_us: start, ..Default::default() };
        let _ = ingest(&[file], &options);
    }
}

/// The TID record key of a post made at `us` (clock id 0), encoded as the
/// AT Protocol specifies: 64 bits, base32-sortable, most significant first.
fn tid(us: i64) -> String {
    const ALPHABET: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";
    let value = (us as u64) << 10;
    (0..13)
        .map(|k| ALPHABET[((value >> (60 - 5 * k)) & 31) as usize] as char)
        .collect()
}

fn repost(did: &str, t: i64, rkey: &str, author: &str, post: &str) -> String {
    format!(
        r#"{{"did":"{did}","time_us":{t},"kind":"commit","commit":{{"rev":"r","operation":"create","collection":"app.bsky.feed.repost","rkey":"{rkey}","record":{{"subject":{{"uri":"at://{author}/app.bsky.feed.post/{post}","cid":"c"}},"createdAt":"x"}},"cid":"c"}}}}"#
    )
}

#[test]
fn engagements_become_exposures_reposts_carry_their_post_and_follows_keep_their_times() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = ("did:plc:a", "did:plc:b", "did:plc:c");
    let (p0, p1) = (tid(T0 + 10), tid(T0 + DAY_US + 10));
    let old = tid(T0 - 5 * DAY_US);
    let lines = vec![
        post(a, T0 + 10, &p0),
        post(a, T0 + DAY_US + 10, &p1),
        like(b, T0 + DAY_US + 20, "l1", a).replace("/x\"", &format!("/{p0}\"")),
        repost(c, T0 + 2 * DAY_US + 30, "r1", a, &p1),
        repost(c, T0 + 2 * DAY_US + 40, "r2", a, &old), // a post from before the window
        like(c, T0 + 2 * DAY_US + 50, "l2", a),         // rkey "x" dates nothing
        follow(b, T0 + 60, "f1", a),                    // made on the window's first day
        follow(c, T0 + DAY_US + 70, "f2", a),           // made on day 1 ...
        delete(c, T0 + 2 * DAY_US + 80, "app.bsky.graph.follow", "f2"), // ... undone on day 2
    ];
    let file = write(dir.path(), "net.jsonl", &lines);
    let options = JetstreamOptions {
        steps: 3,
        ..Default::default()
    };
    let (data, report) = ingest(std::slice::from_ref(&file), &options).unwrap();
    let p = &data.population;
    p.validate().unwrap();
    assert_eq!(data.external_ids, vec![a, b, c]);
    let shown: Vec<(u32, u32, u32, Option<u32>)> = p
        .exposures
        .iter()
        .map(|e| (e.reader, e.author, e.step, e.posted))
        .collect();
    // b liked p0 on day 1; c reposted p1 on day 2. The repost of the old
    // post and the like of an undated key imply no exposure.
    assert_eq!(shown, vec![(1, 0, 1, Some(0)), (2, 0, 2, Some(1))]);
    assert_eq!(
        report.tally.used["engagements of posts made before the window or undated (no exposure)"],
        2
    );
    // c's follow of a held on day 1 only: its exposure on day 2 is outside.
    assert_eq!((report.exposures, report.exposures_outside_follows), (2, 1));
    let spans: Vec<SpanRow> = p
        .follows
        .iter()
        .zip(&p.follow_spans)
        .map(|(&f, s)| (f, s.begin, s.end))
        .collect();
    assert_eq!(spans, vec![((1, 0), None, None), ((2, 0), Some(1), Some(2))]);
    let reposts: Vec<(u32, u32, u32, u32, f64)> = p
        .reposts
        .iter()
        .map(|r| (r.reposter, r.step, r.parent_author, r.parent_step, r.amount))
        .collect();
    assert_eq!(reposts, vec![(2, 2, 0, 1, 1.0)]);

    let (quiet, _) = ingest(
        &[file],
        &JetstreamOptions {
            implied_exposures: false,
            ..options
        },
    )
    .unwrap();
    assert!(quiet.population.exposures.is_empty());
    assert_eq!(quiet.population.reposts, p.reposts);
}

/// A follow and when it held: ((follower, followee), begin, end).
type SpanRow = ((u32, u32), Option<u32>, Option<u32>);
