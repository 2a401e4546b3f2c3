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
//!
//! Who saw whom: every `refresh` trace lists the posts its user was shown
//! at that step, and each becomes an exposure of the reader to the post's
//! author, dated at the step the post was made (a run that kept no refresh
//! traces falls back on the `rec` table, the last recommendation snapshot,
//! placed at the last step). Follows begin at their `created_at` step, and
//! an `unfollow` trace ends one: OASIS deletes the follow row, so a follow
//! that was undone is taken to hold from before the window. Reposts and
//! quotes carry their parent's content (`reposts.parquet`): the parent is
//! the trace's `reposted_id` or `quoted_id`.

use crate::ingest::{Interner, Skip, Tally};
use crate::{Dataset, Metadata};
use aumann_models::{Activity, Engagement, Exposure, FollowSpan, Population, Repost};
use aumann_stance::Lexicon;
use rusqlite::types::Value;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct OasisOptions {
    /// Step length for Reddit-mode datetimes.
    pub step_seconds: u64,
    /// Term lists to score over what each user wrote (for the lexicon
    /// stance): `post.content` of original posts and `quote_content` of
    /// quotes; a repost's content is its author's, not the reposter's.
    pub lexicon: Option<Lexicon>,
}

impl Default for OasisOptions {
    fn default() -> Self {
        Self {
            step_seconds: 3600,
            lexicon: None,
        }
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
    /// Exposure rows (reader, author, step, posted), and how many of them
    /// no follow held at their step.
    pub exposures: usize,
    pub exposures_outside_follows: usize,
    /// Records used, by what they are, and rows skipped, by reason.
    #[serde(flatten)]
    pub tally: Tally,
}

/// A timed record of the database.
#[derive(Clone, Copy, Debug)]
enum Act {
    Post,
    Quote { own: i64, quoted: i64 },
    Repost { own: i64, root: i64 },
    Like { post: i64 },
}

/// A time as the database stores it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Time {
    Step(i64),
    Seconds(i64),
}

/// The largest integer time step accepted (Twitter mode).
pub const MAX_STEP: i64 = 1_000_000;
/// The most steps a run may span once times are bucketed.
pub const MAX_STEPS: i64 = 100_000;

/// A time within the plausible range: steps 0..=MAX_STEP, datetimes in the
/// years 1970 to 2200. Anything else is counted and skipped, never cast.
fn plausible(t: Time) -> bool {
    match t {
        Time::Step(s) => (0..=MAX_STEP).contains(&s),
        // 1970-01-01 .. 2201-01-01 in Unix seconds.
        Time::Seconds(s) => (0..7_289_654_400).contains(&s),
    }
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
    let ss = h.next().map_or(Some(0.0), |s| s.parse::<f64>().ok())?;
    if !(1970..=2200).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..=23).contains(&hh)
        || !(0..=59).contains(&mm)
        || !(0.0..61.0).contains(&ss)
    {
        return None;
    }
    let ss = ss as i64;
    let days = crate::days_from_civil(y, m, day);
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// The database, opened read-only, and how its values are read.
struct Db<'a> {
    path: &'a Path,
    conn: rusqlite::Connection,
}

impl<'a> Db<'a> {
    fn open(path: &'a Path) -> Result<Self, OasisError> {
        if !path.exists() {
            return Err(OasisError::Invalid {
                path: path.into(),
                message: "no such file".into(),
            });
        }
        let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(
            |source| OasisError::Sqlite {
                path: path.to_path_buf(),
                source,
            },
        )?;
        Ok(Self { path, conn })
    }

    fn invalid(&self, message: impl Into<String>) -> OasisError {
        OasisError::Invalid {
            path: self.path.into(),
            message: message.into(),
        }
    }

    /// Every row of a query, each as its values.
    fn rows(&self, query: &str) -> Result<Vec<Vec<Value>>, OasisError> {
        let sql = |source| OasisError::Sqlite {
            path: self.path.to_path_buf(),
            source,
        };
        let mut stmt = self.conn.prepare(query).map_err(sql)?;
        let n = stmt.column_count();
        let out = stmt
            .query_map([], |row| {
                (0..n).map(|k| row.get::<_, Value>(k)).collect::<Result<Vec<_>, _>>()
            })
            .map_err(sql)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql)?;
        Ok(out)
    }
}

/// A value as a user would recognise it in an error message.
fn describe(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Integer(i) => i.to_string(),
        Value::Real(r) => r.to_string(),
        Value::Text(t) => format!("'{}'", t.chars().take(40).collect::<String>()),
        Value::Blob(_) => "a blob".into(),
    }
}

/// An integer as SQLite may store it: an integer, or text that parses.
fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

/// The users: interned ids in user_id order, and their follower counts.
fn read_users(db: &Db<'_>, tally: &mut Tally) -> Result<(Interner, Vec<f64>), OasisError> {
    let mut users = Interner::default();
    let mut followers = Vec::new();
    for (k, row) in db
        .rows("SELECT user_id, num_followers FROM user ORDER BY user_id")?
        .into_iter()
        .enumerate()
    {
        let Some(id) = int(&row[0]) else {
            tally.skip(Skip::UserWithoutId);
            continue;
        };
        let key = id.to_string();
        if users.get(&key).is_some() {
            return Err(db.invalid(format!("table user: user_id {id} appears more than once")));
        }
        let count = match &row[1] {
            Value::Null => 0,
            v => int(v).filter(|&c| c >= 0).ok_or_else(|| {
                db.invalid(format!(
                    "table user, row {} (user_id {id}): num_followers {} is not a count >= 0",
                    k + 1,
                    describe(v)
                ))
            })?,
        };
        users.id(&key);
        followers.push(count as f64);
    }
    if users.is_empty() {
        return Err(db.invalid("the user table is empty"));
    }
    Ok((users, followers))
}

/// The timed records of a run: posts, quotes, reposts and likes by agent,
/// each post's author and time, each repost's and quote's true parent from
/// the trace, follows and unfollows, and the feeds shown.
struct Records {
    events: Vec<(Act, u32, Time)>,
    post_author: HashMap<i64, u32>,
    post_time: HashMap<i64, Time>,
    parent_of: HashMap<i64, i64>,
    follows: Vec<(u32, u32, Option<Time>)>,
    /// (follower, followee, when it was undone).
    unfollows: Vec<(u32, u32, Time)>,
    /// (reader, author, shown at, posted at), one per item shown.
    shown: Vec<(u32, u32, Time, Time)>,
    /// Whether the feeds come from the rec snapshot (no time of their own).
    shown_from_rec: bool,
}

fn read_records(db: &Db<'_>, users: &Interner, tally: &mut Tally) -> Result<Records, OasisError> {
    let user = |v: &Value| int(v).and_then(|i| users.get(&i.to_string()));
    let mut events: Vec<(Act, u32, Time)> = Vec::new();
    let mut post_author: HashMap<i64, u32> = HashMap::new();
    let mut post_time: HashMap<i64, Time> = HashMap::new();
    for row in db.rows("SELECT post_id, user_id, original_post_id, quote_content, created_at FROM post")? {
        let (Some(post), Some(author), Some(time)) = (int(&row[0]), user(&row[1]), parse_time(&row[4])) else {
            tally.skip(Skip::PostUnresolved);
            continue;
        };
        if !plausible(time) {
            tally.skip(Skip::TimeOutOfRange);
            continue;
        }
        post_author.insert(post, author);
        post_time.insert(post, time);
        let act = match (int(&row[2]), matches!(row[3], Value::Null)) {
            (None, _) => Act::Post,
            (Some(original), false) => Act::Quote {
                own: post,
                quoted: original,
            },
            (Some(root), true) => Act::Repost { own: post, root },
        };
        events.push((act, author, time));
    }
    let mut parent_of: HashMap<i64, i64> = HashMap::new();
    let (mut repost_traces, mut quote_traces) = (0u64, 0u64);
    for row in db.rows("SELECT action, info FROM trace WHERE action IN ('repost', 'quote_post')")? {
        let Value::Text(info) = &row[1] else { continue };
        let Ok(info) = serde_json::from_str::<serde_json::Value>(info) else {
            tally.skip(Skip::TraceInfoNotJson);
            continue;
        };
        let quote = matches!(&row[0], Value::Text(a) if a == "quote_post");
        let parent = info
            .get(if quote { "quoted_id" } else { "reposted_id" })
            .and_then(|v| v.as_i64());
        let new_post = info.get("new_post_id").and_then(|v| v.as_i64());
        if let (Some(r), Some(p)) = (parent, new_post) {
            parent_of.insert(p, r);
            if quote {
                quote_traces += 1;
            } else {
                repost_traces += 1;
            }
        }
    }
    tally.set_used("repost traces", repost_traces);
    tally.set_used("quote traces", quote_traces);
    for row in db.rows("SELECT user_id, post_id, created_at FROM \"like\"")? {
        match (user(&row[0]), int(&row[1]), parse_time(&row[2])) {
            (Some(_), Some(_), Some(t)) if !plausible(t) => tally.skip(Skip::TimeOutOfRange),
            (Some(u), Some(p), Some(t)) => events.push((Act::Like { post: p }, u, t)),
            _ => tally.skip(Skip::LikeUnresolved),
        }
    }
    let dislikes = db
        .rows("SELECT COUNT(*) FROM dislike")
        .map(|r| int(&r[0][0]).unwrap_or(0))
        .unwrap_or(0);
    tally.skip_n(Skip::Dislike, dislikes.max(0) as u64);
    let mut follows = Vec::new();
    for row in db.rows("SELECT follower_id, followee_id, created_at FROM follow")? {
        match (user(&row[0]), user(&row[1])) {
            (Some(j), Some(i)) => match parse_time(&row[2]) {
                Some(t) if !plausible(t) => tally.skip(Skip::TimeOutOfRange),
                t => follows.push((j, i, t)),
            },
            _ => tally.skip(Skip::FollowOfUnknownUser),
        }
    }
    if events.is_empty() {
        return Err(db.invalid("no posts or likes: nothing happened in this run"));
    }
    let unfollows = read_unfollows(db, users, tally)?;
    let mut shown = read_feeds(db, users, &post_author, &post_time, tally)?;
    let shown_from_rec = shown.is_empty();
    if shown_from_rec {
        shown = read_rec(db, users, &post_author, &post_time, tally);
    }
    Ok(Records {
        events,
        post_author,
        post_time,
        parent_of,
        follows,
        unfollows,
        shown,
        shown_from_rec,
    })
}

/// A trace row's `info` as JSON, if it is JSON text.
fn trace_info(value: &Value) -> Option<serde_json::Value> {
    match value {
        Value::Text(info) => serde_json::from_str(info).ok(),
        _ => None,
    }
}

/// Unfollows from `unfollow` traces: the follower is the trace's user, the
/// followee the info's `followee_id`.
fn read_unfollows(db: &Db<'_>, users: &Interner, tally: &mut Tally) -> Result<Vec<(u32, u32, Time)>, OasisError> {
    let user = |v: Option<i64>| v.and_then(|i| users.get(&i.to_string()));
    let mut out = Vec::new();
    for row in db.rows("SELECT user_id, created_at, info FROM trace WHERE action = 'unfollow'")? {
        let Some(info) = trace_info(&row[2]) else {
            tally.skip(Skip::TraceInfoNotJson);
            continue;
        };
        let followee = user(info.get("followee_id").and_then(|v| v.as_i64()));
        match (user(int(&row[0])), followee, parse_time(&row[1])) {
            (Some(_), Some(_), Some(t)) if !plausible(t) => tally.skip(Skip::TimeOutOfRange),
            (Some(j), Some(i), Some(t)) => out.push((j, i, t)),
            _ => tally.skip(Skip::UnfollowUnresolved),
        }
    }
    Ok(out)
}

/// The items of every `refresh` trace: (reader, author, shown at, posted
/// at). The author and time come from the post table when it has the post,
/// else from the item itself.
fn read_feeds(
    db: &Db<'_>,
    users: &Interner,
    post_author: &HashMap<i64, u32>,
    post_time: &HashMap<i64, Time>,
    tally: &mut Tally,
) -> Result<Vec<(u32, u32, Time, Time)>, OasisError> {
    let user = |v: Option<i64>| v.and_then(|i| users.get(&i.to_string()));
    let mut out = Vec::new();
    let mut traces = 0u64;
    for row in db.rows("SELECT user_id, created_at, info FROM trace WHERE action = 'refresh'")? {
        let (Some(reader), Some(at)) = (user(int(&row[0])), parse_time(&row[1])) else {
            tally.skip(Skip::FeedItemUnresolved);
            continue;
        };
        if !plausible(at) {
            tally.skip(Skip::TimeOutOfRange);
            continue;
        }
        let Some(info) = trace_info(&row[2]) else {
            tally.skip(Skip::TraceInfoNotJson);
            continue;
        };
        let Some(posts) = info.get("posts").and_then(|p| p.as_array()) else {
            tally.skip(Skip::FeedWithoutPosts);
            continue;
        };
        traces += 1;
        for item in posts {
            let id = item.get("post_id").and_then(|v| v.as_i64());
            let author = id
                .and_then(|id| post_author.get(&id).copied())
                .or_else(|| user(item.get("user_id").and_then(|v| v.as_i64())));
            let posted = id.and_then(|id| post_time.get(&id).copied()).or_else(|| {
                let v = item.get("created_at")?;
                parse_time(&match v {
                    serde_json::Value::Number(n) => Value::Integer(n.as_i64()?),
                    serde_json::Value::String(s) => Value::Text(s.clone()),
                    _ => return None,
                })
            });
            match (author, posted) {
                (Some(author), _) if author == reader => tally.skip(Skip::OwnPost("items shown")),
                (Some(author), Some(posted)) if plausible(posted) => out.push((reader, author, at, posted)),
                _ => tally.skip(Skip::FeedItemUnresolved),
            }
        }
    }
    tally.set_used("feed traces", traces);
    Ok(out)
}

/// The `rec` table's snapshot, for runs that kept no refresh traces: each
/// (user, post) an item shown (placed at the window's last step by
/// [`exposures`]: OASIS rewrites the table every round, so it holds the
/// last round's recommendations).
fn read_rec(
    db: &Db<'_>,
    users: &Interner,
    post_author: &HashMap<i64, u32>,
    post_time: &HashMap<i64, Time>,
    tally: &mut Tally,
) -> Vec<(u32, u32, Time, Time)> {
    // Older runs have no rec table: then there is no feed to read.
    let Ok(rows) = db.rows("SELECT user_id, post_id FROM rec") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for row in rows {
        let reader = int(&row[0]).and_then(|i| users.get(&i.to_string()));
        let post = int(&row[1]);
        let author = post.and_then(|p| post_author.get(&p).copied());
        let posted = post.and_then(|p| post_time.get(&p).copied());
        match (reader, author, posted) {
            (Some(r), Some(a), _) if r == a => tally.skip(Skip::OwnPost("items shown")),
            (Some(r), Some(a), Some(p)) => out.push((r, a, p, p)),
            _ => tally.skip(Skip::FeedItemUnresolved),
        }
    }
    out
}

/// How times become steps: integer steps as they are (Twitter mode), or
/// datetimes in buckets of `step_seconds` (Reddit mode); the first step
/// with a record is step 0.
struct Steps {
    datetimes: bool,
    step_seconds: i64,
    first: i64,
    last: i64,
}

impl Steps {
    fn of(db: &Db<'_>, events: &[(Act, u32, Time)], options: &OasisOptions) -> Result<Self, OasisError> {
        let is_step = events.iter().any(|e| matches!(e.2, Time::Step(_)));
        if events.iter().any(|e| matches!(e.2, Time::Step(_)) != is_step) {
            return Err(db.invalid("created_at mixes time steps and datetimes"));
        }
        let mut steps = Self {
            datetimes: !is_step,
            step_seconds: options.step_seconds as i64,
            first: 0,
            last: 0,
        };
        let (first, last) = events
            .iter()
            .map(|e| steps.bucket(e.2))
            .fold((i64::MAX, i64::MIN), |(a, b), s| (a.min(s), b.max(s)));
        (steps.first, steps.last) = (first, last);
        if last - first >= MAX_STEPS {
            return Err(db.invalid(format!(
                "the records span {} steps (at most {MAX_STEPS}): {}",
                last - first + 1,
                if steps.datetimes {
                    "choose a longer --step-seconds"
                } else {
                    "the time steps are far apart; check created_at"
                }
            )));
        }
        Ok(steps)
    }

    fn bucket(&self, t: Time) -> i64 {
        match t {
            Time::Step(s) => s,
            Time::Seconds(s) => s.div_euclid(self.step_seconds),
        }
    }

    fn step(&self, t: Time) -> u32 {
        (self.bucket(t) - self.first) as u32
    }

    fn count(&self) -> usize {
        (self.last - self.first + 1) as usize
    }

    fn mode(&self) -> &'static str {
        if self.datetimes {
            "reddit (datetimes)"
        } else {
            "twitter (integer time steps)"
        }
    }
}

/// Activity per (agent, step) and engagements per (engager, author, step)
/// from the records; a repost engages its true parent's author when the
/// trace names it, else its root's.
fn activity_and_engagements(records: &Records, steps: &Steps, tally: &mut Tally) -> (Vec<Activity>, Vec<Engagement>) {
    let mut activity: HashMap<(u32, u32), f64> = HashMap::new();
    let mut engagements: HashMap<(u32, u32, u32), f64> = HashMap::new();
    let mut engage =
        |tally: &mut Tally, from: u32, post: i64, at: u32, what: &'static str| match records.post_author.get(&post) {
            Some(&to) if to != from => {
                *engagements.entry((from, to, at)).or_default() += 1.0;
                tally.use_one(what);
            }
            Some(_) => tally.skip(Skip::OwnPost(what)),
            None => tally.skip(Skip::UnknownPost(what)),
        };
    for &(act, actor, time) in &records.events {
        let at = steps.step(time);
        if !matches!(act, Act::Like { .. }) {
            *activity.entry((actor, at)).or_default() += 1.0;
        }
        match act {
            Act::Post => tally.use_one("posts"),
            Act::Quote { own, quoted } => engage(
                tally,
                actor,
                records.parent_of.get(&own).copied().unwrap_or(quoted),
                at,
                "quotes",
            ),
            Act::Repost { own, root } => match records.parent_of.get(&own) {
                Some(&parent) => engage(tally, actor, parent, at, "reposts (parent from trace)"),
                None => {
                    tally.skip(Skip::RepostWithoutTrace);
                    engage(tally, actor, root, at, "reposts (root)");
                }
            },
            Act::Like { post } => engage(tally, actor, post, at, "likes"),
        }
    }
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
    (activity, engagements)
}

/// Follows with the steps they held: from `created_at` (None when before
/// the window), until an `unfollow` of the same pair. An unfollow whose
/// follow row is gone (OASIS deletes it) becomes a follow held from before
/// the window until the unfollow.
fn follows_with_spans(records: &Records, steps: &Steps, tally: &mut Tally) -> (Vec<(u32, u32)>, Vec<FollowSpan>) {
    let step_in_window = |t: Time| {
        let b = steps.bucket(t);
        (b > steps.first).then(|| (b - steps.first) as u32)
    };
    let mut follows = Vec::new();
    let mut spans = Vec::new();
    let mut timed = 0u64;
    for &(j, i, t) in &records.follows {
        if t.is_some_and(|t| steps.bucket(t) > steps.last) {
            tally.skip(Skip::RecordsOutsideWindow);
            continue;
        }
        let begin = t.and_then(step_in_window);
        timed += u64::from(begin.is_some());
        follows.push((j, i));
        spans.push(FollowSpan { begin, end: None });
    }
    let mut unfollows = 0u64;
    for &(j, i, t) in &records.unfollows {
        let b = steps.bucket(t);
        if b <= steps.first || b > steps.last {
            tally.skip(Skip::RecordsOutsideWindow);
            continue;
        }
        follows.push((j, i));
        spans.push(FollowSpan {
            begin: None,
            end: Some((b - steps.first) as u32),
        });
        unfollows += 1;
    }
    tally.set_used("follows made in the window", timed);
    tally.set_used("unfollows", unfollows);
    if timed + unfollows == 0 {
        spans.clear();
    }
    (follows, spans)
}

/// Exposure rows from the items shown, summed per (reader, author, step,
/// posted), and how many lie outside the follows that held at their step.
fn exposures(
    records: &Records,
    steps: &Steps,
    follows: &[(u32, u32)],
    spans: &[FollowSpan],
    report: &mut OasisReport,
) -> Vec<Exposure> {
    let tally = &mut report.tally;
    let mut rows: HashMap<(u32, u32, u32, u32), f64> = HashMap::new();
    for &(reader, author, at, posted) in &records.shown {
        // The rec snapshot has no time: it is the last round's feed.
        let b = if records.shown_from_rec {
            steps.last
        } else {
            steps.bucket(at)
        };
        let p = steps.bucket(posted);
        if !(steps.first..=steps.last).contains(&b) || p < steps.first {
            tally.skip(Skip::RecordsOutsideWindow);
            continue;
        }
        if p > b {
            tally.skip(Skip::FeedItemFromTheFuture);
            continue;
        }
        *rows
            .entry((reader, author, (b - steps.first) as u32, steps.step(posted)))
            .or_default() += 1.0;
    }
    let items: u64 = rows.values().map(|&a| a as u64).sum();
    tally.set_used(
        if records.shown_from_rec {
            "items shown (from the rec snapshot, at the last step)"
        } else {
            "items shown"
        },
        items,
    );
    let mut exposures: Vec<Exposure> = rows
        .into_iter()
        .map(|((reader, author, step, posted), amount)| Exposure {
            reader,
            author,
            step,
            posted: Some(posted),
            amount,
        })
        .collect();
    exposures.sort_by_key(|e| (e.step, e.reader, e.author, e.posted));
    report.exposures = exposures.len();
    report.exposures_outside_follows = super::outside_follows(&exposures, follows, spans);
    exposures
}

/// A row per repost and quote whose parent post is known and not dated
/// after it: the whole item carries its parent's content.
fn reposts(records: &Records, steps: &Steps, tally: &mut Tally) -> Vec<Repost> {
    let mut out = Vec::new();
    for &(act, actor, time) in &records.events {
        let parent = match act {
            Act::Repost { own, root } => records.parent_of.get(&own).copied().unwrap_or(root),
            Act::Quote { own, quoted } => records.parent_of.get(&own).copied().unwrap_or(quoted),
            _ => continue,
        };
        let (Some(&author), Some(&posted)) = (records.post_author.get(&parent), records.post_time.get(&parent)) else {
            continue;
        };
        if steps.bucket(posted) > steps.bucket(time) {
            tally.skip(Skip::ParentAfterRepost);
            continue;
        }
        out.push(Repost {
            reposter: actor,
            step: steps.step(time),
            parent_author: author,
            parent_step: steps.step(posted),
            amount: 1.0,
        });
    }
    out.sort_by_key(|r| (r.step, r.reposter, r.parent_step, r.parent_author));
    tally.set_used("reposts and quotes with their parent", out.len() as u64);
    out
}

/// Each user's lexicon hits over what they wrote: the content of original
/// posts and the quote text of quotes.
fn text_hits(db: &Db<'_>, users: &Interner, lexicon: &Lexicon) -> Result<Vec<[u64; 2]>, OasisError> {
    let mut hits = vec![[0u64; 2]; users.len()];
    for row in db.rows("SELECT user_id, original_post_id, content, quote_content FROM post")? {
        let Some(user) = int(&row[0]).and_then(|i| users.get(&i.to_string())) else {
            continue;
        };
        let text = match (&row[1], &row[2], &row[3]) {
            (Value::Null, Value::Text(content), _) => content,
            (_, _, Value::Text(quote)) => quote,
            _ => continue,
        };
        let h = lexicon.score(text);
        for (total, n) in hits[user as usize].iter_mut().zip(h) {
            *total += n;
        }
    }
    Ok(hits)
}

/// Reads an OASIS database into a population: users, then the timed
/// records, then the steps they fall on, then the tables.
pub fn ingest(path: &Path, options: &OasisOptions) -> Result<(Dataset, OasisReport), OasisError> {
    if !(1..=super::jetstream::MAX_STEP_SECONDS).contains(&options.step_seconds) {
        return Err(OasisError::Invalid {
            path: path.to_path_buf(),
            message: format!(
                "--step-seconds takes 1 to {} (366 days), got {}",
                super::jetstream::MAX_STEP_SECONDS,
                options.step_seconds
            ),
        });
    }
    let db = Db::open(path)?;
    let mut report = OasisReport::default();
    let (users, followers) = read_users(&db, &mut report.tally)?;
    let n = users.len();
    let records = read_records(&db, &users, &mut report.tally)?;
    let steps = Steps::of(&db, &records.events, options)?;
    report.mode = steps.mode().into();
    let (activity, engagements) = activity_and_engagements(&records, &steps, &mut report.tally);
    let (follows, follow_spans) = follows_with_spans(&records, &steps, &mut report.tally);
    report.tally.set_used("follows", follows.len() as u64);
    let exposures = exposures(&records, &steps, &follows, &follow_spans, &mut report);
    let reposts = reposts(&records, &steps, &mut report.tally);
    report.users = n;
    report.steps = steps.count();
    let population = Population {
        agents: n,
        steps: steps.count(),
        stance: vec![0.5; n],
        followers,
        follows,
        activity,
        engagements,
        orders: vec![],
        follow_spans,
        exposures,
        reposts,
    };
    let external_ids = (0..n as u32).map(|i| users.name(i).to_string()).collect();
    let lexicon_hits = match &options.lexicon {
        Some(lexicon) => Some(text_hits(&db, &users, lexicon)?),
        None => None,
    };
    let step_seconds = if steps.datetimes { options.step_seconds } else { 0 };
    let meta = Metadata::new(
        "oasis",
        n,
        steps.count(),
        step_seconds,
        None,
        serde_json::to_value(&report).expect("serialises"),
    );
    Ok((
        Dataset {
            population,
            external_ids,
            meta,
            stance_detail: None,
            lexicon_hits,
            groups: None,
        },
        report,
    ))
}
