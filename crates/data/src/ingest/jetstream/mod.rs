//! Bluesky Jetstream archives: JSON lines, plain, gzip or zstd.
//!
//! One streaming pass keeps, per UTC step, what each DID did: posts and
//! reposts (activity), likes, reposts, replies and quotes aimed at another
//! account (engagements), and follows. The window is chosen at the end
//! (default: the last 14 days present), so the aggregates grow with the
//! population and the days covered, not with the input. To undo a delete
//! (which carries no record), every create is remembered by a 64-bit hash
//! of (DID, collection, rkey) with what it added: 24 bytes per create, the
//! one part that grows with the input (about 0.7 GB per day of the whole
//! network's traffic).

use crate::ingest::{Interner, Skip, Tally};
use crate::{Dataset, Metadata, progress};
use aumann_models::{Activity, Engagement, FollowSpan, Population};
use aumann_stance::Lexicon;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
mod network;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct JetstreamOptions {
    /// Steps in the window.
    pub steps: usize,
    /// Window start (Unix microseconds, aligned down to a step boundary);
    /// None: the last `steps` steps that hold any event.
    pub start_us: Option<i64>,
    pub step_seconds: u64,
    /// CSV of follower,followee DIDs: follows made before the stream.
    pub follow_snapshot: Option<PathBuf>,
    /// CSV of did,stance with stance in (0, 1).
    pub stances: Option<PathBuf>,
    /// Stop at the first malformed line or truncated file.
    pub strict: bool,
    /// Term lists to score over post text (for the lexicon stance).
    pub lexicon: Option<Lexicon>,
    /// Write every like, repost, reply and quote as an exposure of the
    /// engager to the author's post (proof that the engager saw it).
    pub implied_exposures: bool,
}

/// The most steps a window may have (a century of days).
pub const MAX_WINDOW_STEPS: usize = 36_600;
/// The longest step: a leap year.
pub const MAX_STEP_SECONDS: u64 = 366 * 86_400;
/// Events dated before this (2000-01-01T00:00:00Z, Unix microseconds) are
/// implausible for Bluesky and are counted and skipped.
pub const EARLIEST_US: i64 = 946_684_800_000_000;

/// Events dated after this are counted and skipped: the present plus a day.
pub fn latest_us() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    now + 86_400_000_000
}

/// Refuses a file given twice, under the same path or another (a link, a
/// `..`): its events would count twice.
fn refuse_repeats(files: &[PathBuf]) -> Result<(), IngestError> {
    let mut seen: std::collections::HashMap<PathBuf, &PathBuf> = std::collections::HashMap::new();
    for file in files {
        let Ok(real) = file.canonicalize() else { continue };
        if let Some(first) = seen.insert(real, file) {
            return Err(IngestError::Empty(format!(
                "{} and {} are the same file: give each archive once",
                first.display(),
                file.display()
            )));
        }
    }
    Ok(())
}

/// A step counts as busy, for the default window's end, when it holds at
/// least this share of the busiest step's creates.
pub const BUSY_SHARE: f64 = 0.01;

impl JetstreamOptions {
    fn validate(&self) -> Result<(), IngestError> {
        if self.steps == 0 || self.steps > MAX_WINDOW_STEPS {
            return Err(IngestError::Empty(format!(
                "the window needs 1 to {MAX_WINDOW_STEPS} steps, got {}",
                self.steps
            )));
        }
        if self.step_seconds == 0 || self.step_seconds > MAX_STEP_SECONDS {
            return Err(IngestError::Empty(format!(
                "a step lasts 1 second to 366 days, got {} seconds",
                self.step_seconds
            )));
        }
        let span_us = self.steps as i64 * self.step_seconds as i64 * 1_000_000;
        if span_us > latest_us() - EARLIEST_US {
            return Err(IngestError::Empty(format!(
                "a window of {} steps of {} seconds reaches before 2000-01-01, when no Jetstream event is dated: choose fewer or shorter steps",
                self.steps, self.step_seconds
            )));
        }
        if let Some(start) = self.start_us
            && !(EARLIEST_US..=latest_us()).contains(&start)
        {
            return Err(IngestError::Empty(format!(
                "the window start {} is outside 2000-01-01 .. tomorrow",
                crate::rfc3339(start.div_euclid(1_000_000))
            )));
        }
        Ok(())
    }
}

impl Default for JetstreamOptions {
    fn default() -> Self {
        Self {
            steps: 14,
            start_us: None,
            step_seconds: 86_400,
            follow_snapshot: None,
            stances: None,
            strict: false,
            lexicon: None,
            implied_exposures: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {reason} (run without --strict to count and skip such lines)")]
    Malformed {
        path: PathBuf,
        line: u64,
        reason: ParseError,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{0}")]
    Empty(String),
}

/// What was read, used, and skipped, and why.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    pub files: usize,
    pub lines: u64,
    pub bytes: u64,
    /// Events by kind (commit, identity, account, sync, ...).
    pub kinds: BTreeMap<String, u64>,
    /// Records used, by what they are, and lines or records not used, by
    /// reason.
    #[serde(flatten)]
    pub tally: Tally,
    /// Files whose stream ended early (truncated or corrupt compression);
    /// everything before the break was used.
    pub truncated_files: Vec<String>,
    pub window_start_us: i64,
    pub window_end_us: i64,
    pub agents: usize,
    pub follows: usize,
    pub activity_rows: usize,
    pub engagements: usize,
    /// Follow rows with a begin or an end inside the window.
    pub timed_follows: usize,
    /// Exposure rows implied by engagements, and how many of them no
    /// follow held at their step.
    pub exposures: usize,
    pub exposures_outside_follows: usize,
    /// Repost and quote rows whose parent post was made in the window.
    pub reposts: usize,
}

/// Why a line is not a well-formed Jetstream event.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("not JSON")]
    NotJson,
    /// JSON whose fields have the wrong types (serde's message).
    #[error("unexpected shape: {0}")]
    Shape(String),
    /// A required field is absent: the message names it.
    #[error("{0}")]
    Incomplete(&'static str),
    /// A reference that should be an at:// URI naming a DID.
    #[error("{0} is not an at:// URI")]
    NotAtUri(&'static str),
    #[error("{0} without a subject {{uri, cid}}")]
    NoSubject(&'static str),
    #[error("follow without a subject DID")]
    FollowWithoutDid,
    #[error("unknown operation '{0}'")]
    UnknownOperation(String),
}

impl ParseError {
    /// The kind of error, without the details of the line: what malformed
    /// lines are counted by.
    pub fn class(&self) -> &'static str {
        match self {
            ParseError::NotUtf8 => "not UTF-8",
            ParseError::NotJson => "not JSON",
            ParseError::Shape(_) => "unexpected shape",
            ParseError::Incomplete(what) => what,
            ParseError::NotAtUri(_) => "a reference is not an at:// URI",
            ParseError::NoSubject(_) => "like or repost without a subject",
            ParseError::FollowWithoutDid => "follow without a subject DID",
            ParseError::UnknownOperation(_) => "unknown operation",
        }
    }
}

// ---- the line parser ----

#[derive(Deserialize)]
struct Event {
    did: Option<String>,
    time_us: Option<i64>,
    kind: Option<String>,
    commit: Option<Commit>,
}

#[derive(Deserialize)]
struct Commit {
    operation: Option<String>,
    collection: Option<String>,
    rkey: Option<String>,
    record: Option<Record>,
}

#[derive(Deserialize)]
struct Record {
    subject: Option<Subject>,
    reply: Option<Reply>,
    embed: Option<Embed>,
    via: Option<StrongRef>,
    /// A post's text: read only to score a lexicon, never kept.
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Subject {
    Did(String),
    Post(StrongRef),
}

#[derive(Deserialize)]
struct StrongRef {
    uri: String,
}

#[derive(Deserialize)]
struct Reply {
    parent: StrongRef,
}

#[derive(Deserialize)]
struct Embed {
    record: Option<EmbedRecord>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum EmbedRecord {
    Quote(StrongRef),
    WithMedia { record: StrongRef },
}

/// What one line means for the population.
#[derive(Debug, PartialEq)]
pub enum Line {
    /// A create: who, when, and what it is.
    Create {
        did: String,
        time_us: i64,
        collection: Collection,
        rkey: String,
        target: Option<String>,
        /// When the post a like, repost, reply or quote points at was made
        /// (Unix microseconds, from its record key), if the key dates it.
        subject_us: Option<i64>,
        via: bool,
        /// The text of a post, reply or quote.
        text: Option<String>,
    },
    Delete {
        did: String,
        time_us: i64,
        collection: Collection,
        rkey: String,
    },
    /// A well-formed event that is not an interaction: its kind or collection.
    Other(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Collection {
    Post,
    Reply,
    Quote,
    Repost,
    Like,
    Follow,
}

impl Collection {
    const ALL: [Collection; 6] = [
        Collection::Post,
        Collection::Reply,
        Collection::Quote,
        Collection::Repost,
        Collection::Like,
        Collection::Follow,
    ];

    fn name(self) -> &'static str {
        match self {
            Collection::Post => "posts",
            Collection::Reply => "replies",
            Collection::Quote => "quotes",
            Collection::Repost => "reposts",
            Collection::Like => "likes",
            Collection::Follow => "follows",
        }
    }
}

/// The DID inside an at:// URI: the author of the record it names.
fn uri_did(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("at://")?;
    let did = rest.split('/').next()?;
    did.starts_with("did:").then_some(did)
}

/// The longest DID accepted (the DID specification's limit).
pub const MAX_DID_BYTES: usize = 2048;

/// Parses one line of a Jetstream archive. Unknown fields are ignored;
/// missing or mistyped ones are an error that names them.
pub fn parse_line(bytes: &[u8]) -> Result<Line, ParseError> {
    use ParseError::Incomplete;
    let text = std::str::from_utf8(bytes).map_err(|_| ParseError::NotUtf8)?;
    let event: Event = serde_json::from_str(text).map_err(|e| {
        if e.is_data() {
            ParseError::Shape(e.to_string())
        } else {
            ParseError::NotJson
        }
    })?;
    let kind = event.kind.ok_or(Incomplete("missing kind"))?;
    if kind != "commit" {
        return Ok(Line::Other(kind));
    }
    let did = event.did.ok_or(Incomplete("missing did"))?;
    if did.is_empty() || did.len() > MAX_DID_BYTES {
        return Err(Incomplete("did is empty or longer than 2048 bytes"));
    }
    let time_us = event.time_us.ok_or(Incomplete("missing time_us"))?;
    let commit = event.commit.ok_or(Incomplete("commit event without commit"))?;
    let collection = commit.collection.ok_or(Incomplete("commit without collection"))?;
    let operation = commit.operation.ok_or(Incomplete("commit without operation"))?;
    let rkey = commit.rkey.ok_or(Incomplete("commit without rkey"))?;
    let base = match collection.as_str() {
        "app.bsky.feed.post" => Collection::Post,
        "app.bsky.feed.repost" => Collection::Repost,
        "app.bsky.feed.like" => Collection::Like,
        "app.bsky.graph.follow" => Collection::Follow,
        _ => return Ok(Line::Other(collection)),
    };
    let author = |uri: &str, what: &'static str| uri_did(uri).map(str::to_string).ok_or(ParseError::NotAtUri(what));
    let dated = |uri: &str| network::uri_rkey(uri).and_then(network::tid_micros);
    match operation.as_str() {
        "create" => {
            let record = commit.record.ok_or(Incomplete("create without record"))?;
            let via = record.via.is_some();
            let text = if base == Collection::Post { record.text } else { None };
            let (collection, target, subject_us) = match base {
                Collection::Post => {
                    if let Some(reply) = record.reply {
                        let uri = &reply.parent.uri;
                        (Collection::Reply, Some(author(uri, "reply parent")?), dated(uri))
                    } else if let Some(quoted) = record.embed.and_then(|e| e.record) {
                        let uri = match &quoted {
                            EmbedRecord::Quote(r) => &r.uri,
                            EmbedRecord::WithMedia { record } => &record.uri,
                        };
                        (Collection::Quote, Some(author(uri, "quoted record")?), dated(uri))
                    } else {
                        (Collection::Post, None, None)
                    }
                }
                Collection::Repost | Collection::Like => match record.subject {
                    Some(Subject::Post(r)) => (base, Some(author(&r.uri, "subject")?), dated(&r.uri)),
                    _ => return Err(ParseError::NoSubject(base.name())),
                },
                _ => match record.subject {
                    Some(Subject::Did(d)) if d.starts_with("did:") => (base, Some(d), None),
                    _ => return Err(ParseError::FollowWithoutDid),
                },
            };
            Ok(Line::Create {
                did,
                time_us,
                collection,
                rkey,
                target,
                subject_us,
                via,
                text,
            })
        }
        "delete" => Ok(Line::Delete {
            did,
            time_us,
            collection: base,
            rkey,
        }),
        "update" => Ok(Line::Other(format!("{collection} update"))),
        other => Err(ParseError::UnknownOperation(other.to_string())),
    }
}

// ---- aggregation ----

/// What a create added, so that its delete can take it away.
#[derive(Clone, Copy)]
struct Contribution {
    agent: u32,
    step: i32,
    collection: Collection,
    target: u32,
    /// The step the target post was made ([`network::UNDATED`] if unknown).
    posted: i32,
    /// A follow's index among its pair's records.
    record: u32,
    /// Lexicon hits of a post's text, so that its delete takes them back.
    hits: [u16; 2],
}

#[derive(Default)]
struct Aggregates {
    dids: Interner,
    /// Every (agent, step) with a create: the agents of a window, and the
    /// span of steps the input covers.
    active_steps: HashSet<(u32, i32)>,
    activity: HashMap<(u32, i32), f64>,
    engagements: HashMap<(u32, u32, i32), f64>,
    /// Every follow record per pair: when it was made and deleted.
    follows: HashMap<(u32, u32), Vec<network::FollowRecord>>,
    /// Engagements per (engager, author, step, step the post was made).
    seen: HashMap<(u32, u32, i32, i32), f64>,
    /// Reposts and quotes per (reposter, author, step, step the post was
    /// made).
    carried: HashMap<(u32, u32, i32, i32), f64>,
    creates: HashMap<u64, Contribution>,
    /// With a lexicon: each DID's hits of its (lower, upper) terms.
    lexicon: Option<Lexicon>,
    text_hits: HashMap<u32, [u64; 2]>,
    /// Creates per step and collection: counted as used when the step is in
    /// the window, as skipped otherwise; their totals per step choose the
    /// default window's end.
    created: HashMap<i32, [u64; 6]>,
    /// Plausible event times, [earliest, latest] in Unix microseconds.
    time_range: (i64, i64),
}

fn key(did: &str, collection: Collection, rkey: &str) -> u64 {
    let mut h = DefaultHasher::new();
    did.hash(&mut h);
    // replies and quotes are posts: one collection for deletes
    let c = match collection {
        Collection::Reply | Collection::Quote => Collection::Post,
        c => c,
    };
    c.hash(&mut h);
    rkey.hash(&mut h);
    h.finish()
}

impl Aggregates {
    fn apply(&mut self, line: Line, step_us: i64, tally: &mut Tally) {
        match line {
            Line::Other(what) => {
                let reason = if ["identity", "account", "sync"].contains(&what.as_str()) {
                    Skip::Kind(what)
                } else if what.contains('.') {
                    Skip::OtherCollection
                } else {
                    Skip::UnknownKind(what)
                };
                tally.skip(reason);
            }
            Line::Create {
                did,
                time_us,
                collection,
                rkey,
                target,
                subject_us,
                via,
                text,
            } => {
                if !(self.time_range.0..=self.time_range.1).contains(&time_us) {
                    tally.skip(Skip::ImplausibleTime);
                    return;
                }
                let k = key(&did, collection, &rkey);
                if self.creates.contains_key(&k) {
                    tally.skip(Skip::Duplicate);
                    return;
                }
                let step = time_us.div_euclid(step_us) as i32;
                self.created.entry(step).or_default()[collection as usize] += 1;
                let agent = self.dids.id(&did);
                let target = target.map(|t| self.dids.id(&t)).unwrap_or(u32::MAX);
                self.active_steps.insert((agent, step));
                let hits = match (&self.lexicon, &text) {
                    (Some(lexicon), Some(text)) => lexicon.score(text).map(|h| h.min(u16::MAX as u64) as u16),
                    _ => [0, 0],
                };
                let posted = subject_us
                    .filter(|us| (self.time_range.0..=self.time_range.1).contains(us))
                    .map_or(network::UNDATED, |us| us.div_euclid(step_us) as i32);
                let record = match collection {
                    Collection::Follow => self.follows.get(&(agent, target)).map_or(0, |r| r.len() as u32),
                    _ => 0,
                };
                let contribution = Contribution {
                    agent,
                    step,
                    collection,
                    target,
                    posted,
                    record,
                    hits,
                };
                self.add(contribution, 1.0, step);
                self.creates.insert(k, contribution);
                if via {
                    tally.use_one("likes and reposts with via");
                }
            }
            Line::Delete {
                did,
                time_us,
                collection,
                rkey,
            } => match self.creates.remove(&key(&did, collection, &rkey)) {
                Some(c) => {
                    // A delete dated implausibly ends the record where it began.
                    let at = if (self.time_range.0..=self.time_range.1).contains(&time_us) {
                        (time_us.div_euclid(step_us) as i32).max(c.step)
                    } else {
                        c.step
                    };
                    self.add(c, -1.0, at);
                    tally.use_one("deletes matched to a create");
                }
                None => tally.skip(Skip::DeleteBeforeStream),
            },
        }
    }

    /// Adds a create (sign 1) or takes it away again (sign -1, a delete at
    /// step `at`).
    fn add(&mut self, c: Contribution, sign: f64, at: i32) {
        if c.hits != [0, 0] {
            let hits = self.text_hits.entry(c.agent).or_default();
            for (h, &n) in hits.iter_mut().zip(&c.hits) {
                *h = if sign > 0.0 {
                    *h + n as u64
                } else {
                    h.saturating_sub(n as u64)
                };
            }
        }
        match c.collection {
            Collection::Post => *self.activity.entry((c.agent, c.step)).or_default() += sign,
            Collection::Reply | Collection::Quote | Collection::Repost => {
                *self.activity.entry((c.agent, c.step)).or_default() += sign;
                if c.target != c.agent {
                    *self.engagements.entry((c.agent, c.target, c.step)).or_default() += sign;
                    *self.seen.entry((c.agent, c.target, c.step, c.posted)).or_default() += sign;
                }
                if c.collection != Collection::Reply {
                    *self.carried.entry((c.agent, c.target, c.step, c.posted)).or_default() += sign;
                }
            }
            Collection::Like => {
                if c.target != c.agent {
                    *self.engagements.entry((c.agent, c.target, c.step)).or_default() += sign;
                    *self.seen.entry((c.agent, c.target, c.step, c.posted)).or_default() += sign;
                }
            }
            Collection::Follow => {
                let records = self.follows.entry((c.agent, c.target)).or_default();
                if sign > 0.0 {
                    records.push(network::FollowRecord {
                        made: c.step,
                        deleted: None,
                    });
                } else {
                    records[c.record as usize].deleted = Some(at);
                }
            }
        }
    }
}

fn open(path: &Path, bar: &indicatif::ProgressBar) -> Result<Box<dyn BufRead>, IngestError> {
    let file = std::fs::File::open(path).map_err(|source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let counted = bar.wrap_read(file);
    let name = path.to_string_lossy();
    let reader: Box<dyn Read> = if name.ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(counted))
    } else if name.ends_with(".zst") || name.ends_with(".zstd") {
        Box::new(
            zstd::stream::read::Decoder::new(counted).map_err(|source| IngestError::Io {
                path: path.to_path_buf(),
                source,
            })?,
        )
    } else {
        Box::new(counted)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, reader)))
}

/// Reads the archives and builds the population of the window.
pub fn ingest(files: &[PathBuf], options: &JetstreamOptions) -> Result<(Dataset, IngestReport), IngestError> {
    options.validate()?;
    refuse_repeats(files)?;
    let step_us = options.step_seconds as i64 * 1_000_000;
    let mut report = IngestReport {
        files: files.len(),
        ..Default::default()
    };
    let mut agg = Aggregates {
        lexicon: options.lexicon.clone(),
        time_range: (EARLIEST_US, latest_us()),
        ..Aggregates::default()
    };
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress::bar(total, "jetstream");
    let mut line = Vec::with_capacity(1 << 16);
    for path in files {
        let mut reader = open(path, &bar)?;
        let mut number = 0u64;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(n) => report.bytes += n as u64,
                Err(e) => {
                    if options.strict {
                        return Err(IngestError::Io {
                            path: path.clone(),
                            source: e,
                        });
                    }
                    report
                        .truncated_files
                        .push(format!("{}: {e} after line {number}", path.display()));
                    break;
                }
            }
            number += 1;
            let trimmed = line.trim_ascii();
            if trimmed.is_empty() {
                continue;
            }
            report.lines += 1;
            match parse_line(trimmed) {
                Ok(parsed) => {
                    let kind = match &parsed {
                        Line::Create { .. } | Line::Delete { .. } => "commit",
                        Line::Other(k) if ["identity", "account", "sync"].contains(&k.as_str()) => k.as_str(),
                        Line::Other(k) if k.contains('.') => "commit",
                        Line::Other(_) => "other",
                    };
                    *report.kinds.entry(kind.to_string()).or_default() += 1;
                    agg.apply(parsed, step_us, &mut report.tally);
                }
                Err(reason) => {
                    if options.strict {
                        return Err(IngestError::Malformed {
                            path: path.clone(),
                            line: number,
                            reason,
                        });
                    }
                    report.tally.skip(Skip::Malformed(reason.class()));
                }
            }
        }
    }
    bar.finish_and_clear();
    build(agg, options, step_us, report)
}

/// The steps of the window, in the input's absolute step numbers.
struct Window {
    first: i32,
    last: i32,
}

impl Window {
    /// `--start` when given, else the last `steps` steps that hold any event.
    fn choose(agg: &Aggregates, options: &JetstreamOptions, step_us: i64) -> Result<(Self, (i32, i32)), IngestError> {
        let steps_seen = agg.active_steps.iter().map(|&(_, s)| s);
        let (Some(min_step), Some(max_step)) = (steps_seen.clone().min(), steps_seen.max()) else {
            return Err(IngestError::Empty(
                "the input holds no posts, reposts, likes or follows".into(),
            ));
        };
        let first = match options.start_us {
            Some(us) => us.div_euclid(step_us) as i32,
            None => Self::last_busy_step(agg) - options.steps as i32 + 1,
        };
        let last = first + options.steps as i32 - 1;
        Ok((Self { first, last }, (min_step, max_step)))
    }

    /// The last step holding at least [`BUSY_SHARE`] of the busiest step's
    /// creates: a few stray events dated later do not move the default
    /// window (they fall outside it and are counted as skipped).
    fn last_busy_step(agg: &Aggregates) -> i32 {
        let total = |c: &[u64; 6]| c.iter().sum::<u64>();
        let busiest = agg.created.values().map(total).max().unwrap_or(0);
        let threshold = ((busiest as f64 * BUSY_SHARE).ceil() as u64).max(1);
        agg.created
            .iter()
            .filter(|(_, c)| total(c) >= threshold)
            .map(|(&s, _)| s)
            .max()
            .or_else(|| agg.active_steps.iter().map(|&(_, s)| s).max())
            .unwrap_or(0)
    }

    fn contains(&self, step: i32) -> bool {
        (self.first..=self.last).contains(&step)
    }

    /// A step's index inside the window.
    fn index(&self, step: i32) -> u32 {
        (step - self.first) as u32
    }
}

/// The agents of a window: the DIDs that did anything in it, in order of
/// appearance, and the map from interned id to agent.
struct Agents {
    /// Interned id -> agent, u32::MAX for DIDs outside the population.
    dense: Vec<u32>,
    external_ids: Vec<String>,
}

impl Agents {
    fn of_window(agg: &Aggregates, window: &Window) -> Self {
        let mut is_agent = vec![false; agg.dids.len()];
        for &(a, s) in &agg.active_steps {
            if window.contains(s) {
                is_agent[a as usize] = true;
            }
        }
        let mut dense = vec![u32::MAX; agg.dids.len()];
        let mut external_ids = Vec::new();
        for (id, &yes) in is_agent.iter().enumerate() {
            if yes {
                dense[id] = external_ids.len() as u32;
                external_ids.push(agg.dids.name(id as u32).to_string());
            }
        }
        Self { dense, external_ids }
    }

    fn get(&self, interned: u32) -> Option<u32> {
        Some(self.dense[interned as usize]).filter(|&a| a != u32::MAX)
    }

    /// The agent of a DID, if it is in the population.
    fn of_did(&self, agg: &Aggregates, did: &str) -> Option<u32> {
        agg.dids.get(did).and_then(|id| self.get(id))
    }
}

/// The population's tables from the aggregates, restricted to the window
/// and its agents; what falls outside is counted in the tally.
fn window_tables(
    agg: &Aggregates,
    window: &Window,
    agents: &Agents,
    tally: &mut Tally,
) -> (Vec<Activity>, Vec<Engagement>, Vec<network::FollowRow>) {
    let outside = agg.active_steps.iter().filter(|(_, s)| !window.contains(*s)).count() as u64;
    tally.skip_n(Skip::OutsideWindow, outside);
    for (&step, counts) in &agg.created {
        for collection in Collection::ALL {
            let n = counts[collection as usize];
            if window.contains(step) {
                tally.use_n(collection.name(), n);
            } else {
                tally.skip_n(Skip::RecordsOutsideWindow, n);
            }
        }
    }
    let mut activity: Vec<Activity> = agg
        .activity
        .iter()
        .filter(|&(&(_, s), &v)| window.contains(s) && v > 0.0)
        .map(|(&(a, s), &v)| Activity {
            agent: agents.dense[a as usize],
            step: window.index(s),
            amount: v,
        })
        .collect();
    activity.sort_by_key(|a| (a.step, a.agent));
    let mut engagements = Vec::new();
    for (&(e, t, s), &v) in &agg.engagements {
        if !window.contains(s) || v <= 0.0 {
            continue;
        }
        let Some(author) = agents.get(t) else {
            tally.skip(Skip::EngagementOutside);
            continue;
        };
        engagements.push(Engagement {
            engager: agents.dense[e as usize],
            author,
            step: window.index(s),
            amount: v,
        });
    }
    engagements.sort_by_key(|e| (e.step, e.engager, e.author));
    let mut outside = 0;
    let follows = network::follow_rows(&agg.follows, window, agents, &mut outside);
    tally.skip_n(Skip::FollowOutside, outside);
    (activity, engagements, follows)
}

/// Follows from a snapshot CSV (follower,followee DIDs) among the agents.
fn snapshot_follows(
    path: &Path,
    agg: &Aggregates,
    agents: &Agents,
    tally: &mut Tally,
) -> Result<Vec<(u32, u32)>, IngestError> {
    let mut follows = Vec::new();
    for (row, record) in csv_rows(path)?.into_iter().enumerate() {
        let [follower, followee] = record.try_into().map_err(|_| IngestError::Invalid {
            path: path.to_path_buf(),
            message: format!("row {}: expected follower,followee", row + 1),
        })?;
        match (agents.of_did(agg, &follower), agents.of_did(agg, &followee)) {
            (Some(j), Some(i)) => follows.push((j, i)),
            _ => tally.skip(Skip::FollowOutside),
        }
    }
    Ok(follows)
}

/// Stances from a CSV (did,stance in (0, 1)) written over `stance`;
/// returns how many rows matched an agent.
fn csv_stances(path: &Path, agg: &Aggregates, agents: &Agents, stance: &mut [f64]) -> Result<u64, IngestError> {
    let mut matched = 0u64;
    for (row, record) in csv_rows(path)?.into_iter().enumerate() {
        let invalid = |message: String| IngestError::Invalid {
            path: path.to_path_buf(),
            message: format!("row {}: {message}", row + 1),
        };
        let [did, value] = record.try_into().map_err(|_| invalid("expected did,stance".into()))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| invalid(format!("stance '{value}' is not a number")))?;
        if !(value > 0.0 && value < 1.0) {
            return Err(invalid(format!("stance {value} is outside (0, 1)")));
        }
        if let Some(a) = agents.of_did(agg, &did) {
            stance[a as usize] = value;
            matched += 1;
        }
    }
    Ok(matched)
}

/// Builds the population of the window from the aggregates: the window, its
/// agents, their tables, then the side inputs (a follow snapshot, stances).
fn build(
    agg: Aggregates,
    options: &JetstreamOptions,
    step_us: i64,
    mut report: IngestReport,
) -> Result<(Dataset, IngestReport), IngestError> {
    let (window, (min_step, max_step)) = Window::choose(&agg, options, step_us)?;
    let agents = Agents::of_window(&agg, &window);
    let n = agents.external_ids.len();
    if n == 0 {
        let time = |step: i32| crate::rfc3339(step as i64 * step_us / 1_000_000);
        return Err(IngestError::Empty(format!(
            "the window {} .. {} holds no activity; events run from {} to {}",
            time(window.first),
            time(window.last + 1),
            time(min_step),
            time(max_step + 1),
        )));
    }
    let (activity, engagements, mut follow_rows) = window_tables(&agg, &window, &agents, &mut report.tally);
    if let Some(path) = &options.follow_snapshot {
        let snapshot = snapshot_follows(path, &agg, &agents, &mut report.tally)?;
        follow_rows.extend(snapshot.into_iter().map(|pair| (pair, FollowSpan::default())));
    }
    follow_rows.sort_unstable_by_key(|&((j, i), s)| (j, i, s.begin, s.end));
    follow_rows.dedup();
    // A pair held all along needs no other row.
    let always: HashSet<(u32, u32)> = follow_rows.iter().filter(|r| r.1.always()).map(|r| r.0).collect();
    follow_rows.retain(|(pair, span)| span.always() || !always.contains(pair));
    let mut followers = vec![0.0; n];
    let mut pairs: Vec<(u32, u32)> = follow_rows.iter().map(|r| r.0).collect();
    pairs.dedup();
    for &(_, i) in &pairs {
        followers[i as usize] += 1.0;
    }
    let timed = follow_rows.iter().filter(|r| !r.1.always()).count();
    let (follows, follow_spans): (Vec<(u32, u32)>, Vec<FollowSpan>) = follow_rows.into_iter().unzip();
    let follow_spans = if timed == 0 { Vec::new() } else { follow_spans };
    let exposures = if options.implied_exposures {
        let (rows, undated) = network::implied_exposures(&agg.seen, &window, &agents);
        report.tally.set_used(
            "engagements of posts made before the window or undated (no exposure)",
            undated,
        );
        rows
    } else {
        Vec::new()
    };
    let reposts = network::repost_rows(&agg.carried, &window, &agents);
    report.timed_follows = timed;
    report.exposures = exposures.len();
    report.exposures_outside_follows = super::outside_follows(&exposures, &follows, &follow_spans);
    report.reposts = reposts.len();
    let mut stance = vec![0.5; n];
    if let Some(path) = &options.stances {
        let matched = csv_stances(path, &agg, &agents, &mut stance)?;
        report.tally.set_used("stances matched", matched);
    }
    report.window_start_us = window.first as i64 * step_us;
    report.window_end_us = (window.last as i64 + 1) * step_us;
    report.agents = n;
    report.follows = follows.len();
    report.activity_rows = activity.len();
    report.engagements = engagements.len();
    let population = Population {
        agents: n,
        steps: options.steps,
        stance,
        followers,
        follows,
        activity,
        engagements,
        orders: vec![],
        follow_spans,
        exposures,
        reposts,
    };
    let mut meta = Metadata::new(
        "jetstream",
        n,
        options.steps,
        options.step_seconds,
        None,
        serde_json::to_value(&report).expect("report serialises"),
    );
    meta.start_time_us = Some(report.window_start_us);
    let lexicon_hits = options.lexicon.as_ref().map(|_| {
        let mut hits = vec![[0u64; 2]; n];
        for (&id, &h) in &agg.text_hits {
            if let Some(a) = agents.get(id) {
                hits[a as usize] = h;
            }
        }
        hits
    });
    Ok((
        Dataset {
            population,
            external_ids: agents.external_ids,
            meta,
            stance_detail: None,
            lexicon_hits,
            groups: None,
        },
        report,
    ))
}

/// Rows of a headerless or headed CSV file (a first row whose fields do not
/// start with "did:" is taken as a header).
fn csv_rows(path: &Path) -> Result<Vec<Vec<String>>, IngestError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| IngestError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let mut rows = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| IngestError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        let fields: Vec<String> = record.iter().map(|f| f.trim().to_string()).collect();
        if k == 0 && !fields.first().is_some_and(|f| f.starts_with("did:")) {
            continue;
        }
        rows.push(fields);
    }
    Ok(rows)
}
