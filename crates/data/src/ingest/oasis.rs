//! OASIS simulation databases (camel-ai/oasis): the SQLite file a run writes.
//!
//! Agents are the rows of `user`. A step is the integer time step in
//! Twitter mode (OASIS writes `created_at` as a string, which SQLite's
//! numeric affinity usually stores as an integer: both are read), or a
//! bucket of `step_seconds` of the datetime text in Reddit mode. Posts and
//! reposts are activity; likes, quotes and reposts are engagements with the
//! author of what they point at, where a repost's true parent is the
//! `reposted_id` in its `trace` row (its post row points at the cascade's
//! root). Follows come from `follow`; follower counts from
//! `user.num_followers`.

use crate::ingest::Interner;
use crate::{Dataset, Metadata};
use aumann_models::{Activity, Engagement, Population};
use rusqlite::types::Value;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct OasisOptions {
    /// Step length for Reddit-mode datetimes.
    pub step_seconds: u64,
}

impl Default for OasisOptions {
    fn default() -> Self {
        Self { step_seconds: 3600 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OasisError {
    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct OasisReport {
    pub mode: String,
    pub users: usize,
    pub steps: usize,
    pub used: BTreeMap<String, u64>,
    pub skipped: BTreeMap<String, u64>,
}

/// A timed record of the database.
#[derive(Clone, Copy, Debug)]
enum Act {
    Post,
    Quote { quoted: i64 },
    Repost { own: i64, root: i64 },
    Like { post: i64 },
}

/// A time as the database stores it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Time {
    Step(i64),
    Seconds(i64),
}

fn parse_time(value: &Value) -> Option<Time> {
    match value {
        Value::Integer(i) => Some(Time::Step(*i)),
        Value::Real(r) if r.fract() == 0.0 => Some(Time::Step(*r as i64)),
        Value::Text(t) => {
            let t = t.trim();
            if let Ok(i) = t.parse::<i64>() {
                return Some(Time::Step(i));
            }
            parse_datetime(t).map(Time::Seconds)
        }
        _ => None,
    }
}

/// "YYYY-MM-DD HH:MM:SS[.ffffff]" or with a 'T', as UTC seconds.
fn parse_datetime(t: &str) -> Option<i64> {
    let (date, time) = t.split_once([' ', 'T'])?;
    let mut d = date.split('-').map(|x| x.parse::<i64>());
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let time = time.trim_end_matches('Z');
    let mut h = time.split(':');
    let (hh, mm) = (h.next()?.parse::<i64>().ok()?, h.next()?.parse::<i64>().ok()?);
    let ss = h.next().map_or(Some(0.0), |s| s.parse::<f64>().ok())? as i64;
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let days = crate::days_from_civil(y, m, day);
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

pub fn ingest(path: &Path, options: &OasisOptions) -> Result<(Dataset, OasisReport), OasisError> {
    if !path.exists() {
        return Err(OasisError::Invalid {
            path: path.into(),
            message: "no such file".into(),
        });
    }
    let sql = |source| OasisError::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let db = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(sql)?;
    let mut report = OasisReport::default();
    let rows = |query: &str| -> Result<Vec<Vec<Value>>, OasisError> {
        let mut stmt = db.prepare(query).map_err(sql)?;
        let n = stmt.column_count();
        let out = stmt
            .query_map([], |row| {
                (0..n).map(|k| row.get::<_, Value>(k)).collect::<Result<Vec<_>, _>>()
            })
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        Ok(out)
    };
    let int = |v: &Value| match v {
        Value::Integer(i) => Some(*i),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    };

    let mut users = Interner::default();
    let mut followers = Vec::new();
    for row in rows("SELECT user_id, num_followers FROM user ORDER BY user_id")? {
        let Some(id) = int(&row[0]) else {
            *report
                .skipped
                .entry("users without an integer user_id".into())
                .or_default() += 1;
            continue;
        };
        users.id(&id.to_string());
        followers.push(int(&row[1]).unwrap_or(0).max(0) as f64);
    }
    let n = users.len();
    if n == 0 {
        return Err(OasisError::Invalid {
            path: path.into(),
            message: "the user table is empty".into(),
        });
    }
    let user = |v: &Value| int(v).and_then(|i| users.get(&i.to_string()));

    let mut events: Vec<(Act, u32, Time)> = Vec::new();
    let mut post_author: HashMap<i64, u32> = HashMap::new();
    let skip = |report: &mut OasisReport, why: &str| *report.skipped.entry(why.into()).or_default() += 1;
    for row in rows("SELECT post_id, user_id, original_post_id, quote_content, created_at FROM post")? {
        let (Some(post), Some(author), Some(time)) = (int(&row[0]), user(&row[1]), parse_time(&row[4])) else {
            skip(&mut report, "posts with an unknown user, id or time");
            continue;
        };
        post_author.insert(post, author);
        let act = match (int(&row[2]), matches!(row[3], Value::Null)) {
            (None, _) => Act::Post,
            (Some(original), false) => Act::Quote { quoted: original },
            (Some(root), true) => Act::Repost { own: post, root },
        };
        events.push((act, author, time));
    }
    // The true parent of each repost, from the trace.
    let mut parent_of: HashMap<i64, i64> = HashMap::new();
    let mut repost_traces = 0u64;
    for row in rows("SELECT action, info FROM trace WHERE action = 'repost'")? {
        let Value::Text(info) = &row[1] else { continue };
        let Ok(info) = serde_json::from_str::<serde_json::Value>(info) else {
            skip(&mut report, "trace rows whose info is not JSON");
            continue;
        };
        let reposted = info.get("reposted_id").and_then(|v| v.as_i64());
        let new_post = info.get("new_post_id").and_then(|v| v.as_i64());
        if let (Some(r), Some(p)) = (reposted, new_post) {
            parent_of.insert(p, r);
            repost_traces += 1;
        }
    }
    for row in rows("SELECT user_id, post_id, created_at FROM \"like\"")? {
        match (user(&row[0]), int(&row[1]), parse_time(&row[2])) {
            (Some(u), Some(p), Some(t)) => events.push((Act::Like { post: p }, u, t)),
            _ => skip(&mut report, "likes with an unknown user, post or time"),
        }
    }
    let dislikes = rows("SELECT COUNT(*) FROM dislike")
        .map(|r| int(&r[0][0]).unwrap_or(0))
        .unwrap_or(0);
    if dislikes > 0 {
        report.skipped.insert(
            "dislikes (not engagement in the attention model)".into(),
            dislikes as u64,
        );
    }
    let mut follows_raw = Vec::new();
    for row in rows("SELECT follower_id, followee_id, created_at FROM follow")? {
        match (user(&row[0]), user(&row[1])) {
            (Some(j), Some(i)) => follows_raw.push((j, i, parse_time(&row[2]))),
            _ => skip(&mut report, "follows of unknown users"),
        }
    }

    // Steps: integer steps as they are; datetimes in buckets.
    let is_step = events.iter().any(|e| matches!(e.2, Time::Step(_)));
    let mixed = events.iter().any(|e| matches!(e.2, Time::Step(_)) != is_step);
    if mixed {
        return Err(OasisError::Invalid {
            path: path.into(),
            message: "created_at mixes time steps and datetimes".into(),
        });
    }
    report.mode = if is_step {
        "twitter (integer time steps)"
    } else {
        "reddit (datetimes)"
    }
    .into();
    let bucket = |t: Time| match t {
        Time::Step(s) => s,
        Time::Seconds(s) => s.div_euclid(options.step_seconds.max(1) as i64),
    };
    if events.is_empty() {
        return Err(OasisError::Invalid {
            path: path.into(),
            message: "no posts or likes: nothing happened in this run".into(),
        });
    }
    let (first, last) = events
        .iter()
        .map(|e| bucket(e.2))
        .fold((i64::MAX, i64::MIN), |(a, b), s| (a.min(s), b.max(s)));
    let steps = (last - first + 1) as usize;
    let step = |t: Time| (bucket(t) - first) as u32;

    let mut activity: HashMap<(u32, u32), f64> = HashMap::new();
    let mut engagements: HashMap<(u32, u32, u32), f64> = HashMap::new();
    let mut engage = |report: &mut OasisReport, from: u32, post: Option<i64>, at: u32, what: &str| match post
        .and_then(|p| post_author.get(&p))
    {
        Some(&to) if to != from => {
            *engagements.entry((from, to, at)).or_default() += 1.0;
            *report.used.entry(what.into()).or_default() += 1;
        }
        Some(_) => *report.skipped.entry(format!("{what} of one's own post")).or_default() += 1,
        None => *report.skipped.entry(format!("{what} of an unknown post")).or_default() += 1,
    };
    for &(act, actor, time) in &events {
        let at = step(time);
        if !matches!(act, Act::Like { .. }) {
            *activity.entry((actor, at)).or_default() += 1.0;
        }
        match act {
            Act::Post => *report.used.entry("posts".into()).or_default() += 1,
            Act::Quote { quoted } => engage(&mut report, actor, Some(quoted), at, "quotes"),
            Act::Repost { own, root } => match parent_of.get(&own) {
                Some(&parent) => engage(&mut report, actor, Some(parent), at, "reposts (parent from trace)"),
                None => {
                    *report
                        .skipped
                        .entry("reposts without a trace row (the root's author is used)".into())
                        .or_default() += 1;
                    engage(&mut report, actor, Some(root), at, "reposts (root)");
                }
            },
            Act::Like { post } => engage(&mut report, actor, Some(post), at, "likes"),
        }
    }
    report.used.insert("repost traces".into(), repost_traces);
    let follows: Vec<(u32, u32)> = follows_raw
        .into_iter()
        .filter(|&(_, _, t)| t.is_none_or(|t| bucket(t) <= last))
        .map(|(j, i, _)| (j, i))
        .collect();
    report.used.insert("follows".into(), follows.len() as u64);
    let mut activity: Vec<Activity> = activity
        .into_iter()
        .map(|((agent, step), amount)| Activity { agent, step, amount })
        .collect();
    activity.sort_by_key(|a| (a.step, a.agent));
    let mut engagements: Vec<Engagement> = engagements
        .into_iter()
        .map(|((engager, author, step), amount)| Engagement {
            engager,
            author,
            step,
            amount,
        })
        .collect();
    engagements.sort_by_key(|e| (e.step, e.engager, e.author));
    report.users = n;
    report.steps = steps;
    let population = Population {
        agents: n,
        steps,
        stance: vec![0.5; n],
        followers,
        follows,
        activity,
        engagements,
        orders: vec![],
    };
    let external_ids = (0..n as u32).map(|i| users.name(i).to_string()).collect();
    let step_seconds = if is_step { 0 } else { options.step_seconds };
    let meta = Metadata::new(
        "oasis",
        n,
        steps,
        step_seconds,
        None,
        serde_json::to_value(&report).expect("serialises"),
    );
    Ok((
        Dataset {
            population,
            external_ids,
            meta,
        },
        report,
    ))
}
