//! What an ingest used and what it skipped, and why: one tally type for
//! every source, keyed by typed reasons.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// Why a line, record or row was not used. The text of each reason is the
/// key under which it is counted in a report (and in the population's
/// metadata).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A line that is not a well-formed event, by the class of its error.
    Malformed(&'static str),
    /// An event kind that carries no interaction (identity, account, sync).
    Kind(String),
    /// A record of a collection that is not an interaction.
    OtherCollection,
    /// An event kind this reader does not know (first 32 characters).
    UnknownKind(String),
    /// A create seen before (same DID, collection and record key).
    Duplicate,
    /// A delete whose create predates the stream.
    DeleteBeforeStream,
    /// An agent's activity on a step outside the window.
    OutsideWindow,
    /// A record (post, like, follow, ...) created on a step outside the
    /// window.
    RecordsOutsideWindow,
    /// An event dated outside the plausible range (before 2000-01-01 or
    /// after tomorrow, for Jetstream).
    ImplausibleTime,
    /// An OASIS record whose time step or datetime is outside the plausible
    /// range.
    TimeOutOfRange,
    /// An engagement aimed at an account that is not in the population.
    EngagementOutside,
    /// A follow of or by an account that is not in the population.
    FollowOutside,
    /// A user row whose id is not an integer.
    UserWithoutId,
    /// A post row whose user, id or time cannot be read.
    PostUnresolved,
    /// A trace row whose `info` is not JSON.
    TraceInfoNotJson,
    /// A like row whose user, post or time cannot be read.
    LikeUnresolved,
    /// Dislikes: not engagement in the attention model.
    Dislike,
    /// A follow row naming a user that is not in the user table.
    FollowOfUnknownUser,
    /// An engagement with one's own post.
    OwnPost(&'static str),
    /// An engagement with a post that is not in the post table.
    UnknownPost(&'static str),
    /// A repost without its trace row: its root's author stands in for the
    /// true parent.
    RepostWithoutTrace,
    /// A feed trace (`refresh`) whose info holds no list of posts.
    FeedWithoutPosts,
    /// An item shown in a feed whose author or posting time is unknown.
    FeedItemUnresolved,
    /// An item shown in a feed before it was posted.
    FeedItemFromTheFuture,
    /// An unfollow naming an unknown user, or with no readable time.
    UnfollowUnresolved,
    /// A repost or quote whose parent was posted after it.
    ParentAfterRepost,
    /// A retweet whose parent is not in its tree (no line brings it in).
    MissingParent,
    /// A second retweet by a user already in the tree: the first is kept.
    RepeatedUser,
    /// A retweet that would make a user its own ancestor.
    Cycle,
    /// A line of a tree whose source tweet another dataset directory
    /// already gave (Twitter15 and Twitter16 share trees): the first kept.
    RepeatedTree,
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::Malformed(class) => write!(f, "malformed: {class}"),
            Skip::Kind(kind) => write!(f, "{kind} events"),
            Skip::OtherCollection => f.write_str("other collections"),
            Skip::UnknownKind(kind) => write!(f, "unknown kind '{}'", kind.chars().take(32).collect::<String>()),
            Skip::Duplicate => f.write_str("duplicate events"),
            Skip::DeleteBeforeStream => f.write_str("deletes of records created before the stream"),
            Skip::OutsideWindow => f.write_str("agent-steps outside the window"),
            Skip::RecordsOutsideWindow => f.write_str("records outside the window"),
            Skip::ImplausibleTime => f.write_str("events dated before 2000-01-01 or after tomorrow"),
            Skip::TimeOutOfRange => f.write_str("records timed outside steps 0..1,000,000 or years 1970..2200"),
            Skip::EngagementOutside => f.write_str("engagements with accounts outside the population"),
            Skip::FollowOutside => f.write_str("follows of accounts outside the population"),
            Skip::UserWithoutId => f.write_str("users without an integer user_id"),
            Skip::PostUnresolved => f.write_str("posts with an unknown user, id or time"),
            Skip::TraceInfoNotJson => f.write_str("trace rows whose info is not JSON"),
            Skip::LikeUnresolved => f.write_str("likes with an unknown user, post or time"),
            Skip::Dislike => f.write_str("dislikes (not engagement in the attention model)"),
            Skip::FollowOfUnknownUser => f.write_str("follows of unknown users"),
            Skip::OwnPost(what) => write!(f, "{what} of one's own post"),
            Skip::UnknownPost(what) => write!(f, "{what} of an unknown post"),
            Skip::RepostWithoutTrace => f.write_str("reposts without a trace row (the root's author is used)"),
            Skip::FeedWithoutPosts => f.write_str("feed traces whose info lists no posts"),
            Skip::FeedItemUnresolved => f.write_str("items shown with an unknown author or posting time"),
            Skip::FeedItemFromTheFuture => f.write_str("items shown before they were posted"),
            Skip::UnfollowUnresolved => f.write_str("unfollows with an unknown user or time"),
            Skip::ParentAfterRepost => f.write_str("reposts and quotes whose parent is dated after them"),
            Skip::MissingParent => f.write_str("retweets whose parent is not in the tree"),
            Skip::RepeatedUser => f.write_str("retweets by a user already in the tree (the first kept)"),
            Skip::Cycle => f.write_str("retweets that would make a user its own ancestor"),
            Skip::RepeatedTree => f.write_str("lines of trees another dataset already gave (the first kept)"),
        }
    }
}

/// Counts by key, in the keys' order.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
#[serde(transparent)]
pub struct Counts(BTreeMap<String, u64>);

impl Counts {
    pub fn get(&self, key: &str) -> Option<u64> {
        self.0.get(key).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(k, &v)| (k.as_str(), v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn add(&mut self, key: String, n: u64) {
        if n > 0 {
            *self.0.entry(key).or_default() += n;
        }
    }
}

impl std::ops::Index<&str> for Counts {
    type Output = u64;
    fn index(&self, key: &str) -> &u64 {
        self.0
            .get(key)
            .unwrap_or_else(|| panic!("nothing was counted under '{key}'"))
    }
}

/// What an ingest used, by what it is, and what it skipped, by reason.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Tally {
    pub used: Counts,
    pub skipped: Counts,
}

impl Tally {
    pub fn use_one(&mut self, what: &'static str) {
        self.used.add(what.into(), 1);
    }

    pub fn use_n(&mut self, what: &'static str, n: u64) {
        self.used.add(what.into(), n);
    }

    /// Records `n` under `what`, even when `n` is 0 (a count the reader
    /// should see, such as stances matched).
    pub fn set_used(&mut self, what: &'static str, n: u64) {
        self.used.0.insert(what.into(), n);
    }

    pub fn skip(&mut self, why: Skip) {
        self.skipped.add(why.to_string(), 1);
    }

    pub fn skip_n(&mut self, why: Skip, n: u64) {
        self.skipped.add(why.to_string(), n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_counted_under_their_text_and_zero_counts_are_left_out() {
        let mut t = Tally::default();
        t.skip(Skip::Duplicate);
        t.skip(Skip::Duplicate);
        t.skip_n(Skip::OutsideWindow, 0);
        t.skip(Skip::UnknownKind("x".repeat(40)));
        t.use_one("posts");
        t.set_used("stances matched", 0);
        assert_eq!(t.skipped["duplicate events"], 2);
        assert_eq!(t.skipped.get("agent-steps outside the window"), None);
        assert_eq!(t.skipped.get(&format!("unknown kind '{}'", "x".repeat(32))), Some(1));
        assert_eq!(t.used["stances matched"], 0);
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["used"]["posts"], 1);
    }
}
