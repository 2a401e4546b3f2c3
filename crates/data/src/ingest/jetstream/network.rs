//! Who saw whom in a Jetstream window: follows with the steps they held,
//! engagements as proof that the engager saw the author's post, and the
//! posts that reposts and quotes carry.

use super::{Agents, Window};
use aumann_models::{Exposure, FollowSpan, Repost};
use std::collections::HashMap;

/// The alphabet of AT Protocol record keys that are TIDs (base32, sortable).
const TID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// The creation time (Unix microseconds) that a TID record key encodes: 13
/// base32-sortable characters holding 53 bits of microseconds and 10 bits
/// of clock id. None for any other key (records may use custom keys).
///
/// Written here because the few crates that parse TIDs come with a whole
/// AT Protocol client.
pub(super) fn tid_micros(rkey: &str) -> Option<i64> {
    let bytes = rkey.as_bytes();
    if bytes.len() != 13 {
        return None;
    }
    let mut value: u64 = 0;
    for (k, &b) in bytes.iter().enumerate() {
        let digit = TID_ALPHABET.iter().position(|&c| c == b)? as u64;
        // The top bit of a TID is 0: the first character is one of the
        // alphabet's first 16.
        if k == 0 && digit >= 16 {
            return None;
        }
        value = (value << 5) | digit;
    }
    Some((value >> 10) as i64)
}

/// The record key at the end of an at:// URI.
pub(super) fn uri_rkey(uri: &str) -> Option<&str> {
    let rest = uri.strip_prefix("at://")?;
    let mut parts = rest.split('/');
    let (_did, _collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    (!rkey.is_empty() && parts.next().is_none()).then_some(rkey)
}

/// One follow record's life: made at one step, deleted at another (or not).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct FollowRecord {
    pub(super) made: i32,
    pub(super) deleted: Option<i32>,
}

/// The spans over which a pair's follow records held, merged where they
/// overlap: [begin, end) in absolute steps, end None for still held.
fn held(records: &[FollowRecord]) -> Vec<(i32, Option<i32>)> {
    let mut spans: Vec<(i32, Option<i32>)> = records
        .iter()
        .filter(|r| r.deleted.is_none_or(|d| d > r.made))
        .map(|r| (r.made, r.deleted))
        .collect();
    spans.sort_by_key(|&(b, e)| (b, e.unwrap_or(i32::MAX)));
    let mut merged: Vec<(i32, Option<i32>)> = Vec::new();
    for (b, e) in spans {
        match merged.last_mut() {
            Some((_, last_end)) if last_end.is_none_or(|le| b <= le) => {
                *last_end = match (*last_end, e) {
                    (None, _) | (_, None) => None,
                    (Some(x), Some(y)) => Some(x.max(y)),
                };
            }
            _ => merged.push((b, e)),
        }
    }
    merged
}

/// A follow of the window, (follower, followee), and when it held.
pub(super) type FollowRow = ((u32, u32), FollowSpan);

/// The follows of the window with their spans: a follow made at or before
/// the window's first step holds from before it, one deleted after its
/// last step holds to its end; one held only outside the window is left
/// out.
pub(super) fn follow_rows(
    pairs: &HashMap<(u32, u32), Vec<FollowRecord>>,
    window: &Window,
    agents: &Agents,
    outside: &mut u64,
) -> Vec<FollowRow> {
    let mut rows = Vec::new();
    for (&(j, i), records) in pairs {
        for (begin, end) in held(records) {
            if begin > window.last || end.is_some_and(|e| e <= window.first) {
                continue;
            }
            let (Some(j), Some(i)) = (agents.get(j), agents.get(i)) else {
                *outside += 1;
                continue;
            };
            let span = FollowSpan {
                begin: (begin > window.first).then(|| window.index(begin)),
                end: end.filter(|&e| e <= window.last).map(|e| window.index(e)),
            };
            rows.push(((j, i), span));
        }
    }
    rows.sort_by_key(|&((j, i), s)| (j, i, s.begin, s.end));
    rows
}

/// Exposures implied by engagements: (engager, author, step, posted step)
/// with the count of engagements, for the posts made inside the window.
/// Returns the rows and how many engagements named a post made before the
/// window or with a key that dates nothing.
pub(super) fn implied_exposures(
    seen: &HashMap<(u32, u32, i32, i32), f64>,
    window: &Window,
    agents: &Agents,
) -> (Vec<Exposure>, u64) {
    let mut rows = Vec::new();
    let mut undated = 0u64;
    for (&(j, i, step, posted), &amount) in seen {
        if !window.contains(step) || amount <= 0.0 {
            continue;
        }
        let (Some(reader), Some(author)) = (agents.get(j), agents.get(i)) else {
            continue;
        };
        if posted == UNDATED || !window.contains(posted) || posted > step {
            undated += amount as u64;
            continue;
        }
        rows.push(Exposure {
            reader,
            author,
            step: window.index(step),
            posted: Some(window.index(posted)),
            amount,
        });
    }
    rows.sort_by_key(|e| (e.step, e.reader, e.author, e.posted));
    (rows, undated)
}

/// The step of a post whose key dates nothing.
pub(super) const UNDATED: i32 = i32::MIN;

/// Reposts and quotes of posts made inside the window, per (reposter,
/// step, author, posted step).
pub(super) fn repost_rows(
    carried: &HashMap<(u32, u32, i32, i32), f64>,
    window: &Window,
    agents: &Agents,
) -> Vec<Repost> {
    let mut rows = Vec::new();
    for (&(j, i, step, posted), &amount) in carried {
        if !window.contains(step) || amount <= 0.0 || posted == UNDATED || !window.contains(posted) || posted > step {
            continue;
        }
        let (Some(reposter), Some(parent_author)) = (agents.get(j), agents.get(i)) else {
            continue;
        };
        rows.push(Repost {
            reposter,
            step: window.index(step),
            parent_author,
            parent_step: window.index(posted),
            amount,
        });
    }
    rows.sort_by_key(|r| (r.step, r.reposter, r.parent_step, r.parent_author));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tids_decode_to_their_creation_time() {
        // 3jzfcijpj2z2a is an example TID of the AT Protocol specification;
        // its microseconds decoded by a separate script (Python: the digits
        // in base 32, shifted right by the 10 bits of clock id), a time in
        // June 2023.
        let us = tid_micros("3jzfcijpj2z2a").unwrap();
        assert_eq!(us, 1_688_137_381_887_007);
        assert_eq!(tid_micros("x"), None);
        assert_eq!(tid_micros("zzzzzzzzzzzzz"), None);
        assert_eq!(tid_micros("3jzfcijpj2z2!"), None);
        assert_eq!(
            uri_rkey("at://did:plc:a/app.bsky.feed.post/3jzfcijpj2z2a"),
            Some("3jzfcijpj2z2a")
        );
        assert_eq!(uri_rkey("at://did:plc:a/app.bsky.feed.post"), None);
    }

    #[test]
    fn overlapping_follow_records_merge_and_empty_ones_vanish() {
        let r = |made, deleted| FollowRecord { made, deleted };
        assert_eq!(held(&[r(3, Some(3))]), vec![]);
        assert_eq!(held(&[r(1, Some(4)), r(2, None)]), vec![(1, None)]);
        assert_eq!(held(&[r(1, Some(2)), r(5, Some(7))]), vec![(1, Some(2)), (5, Some(7))]);
    }
}
