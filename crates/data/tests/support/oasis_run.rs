//! OASIS databases for tests: the schema OASIS writes (Twitter platform),
//! and a run of LLM-like agents that mostly reshare what their feed shows.
//! Shared by the data and CLI tests (`#[path]`-included).

#![allow(dead_code)]

use rusqlite::Connection;

/// The tables this project reads, as OASIS creates them.
pub const SCHEMA: &str = include_str!("../fixtures/oasis-schema.sql");

/// A small deterministic generator (splitmix64), so that the tests need no
/// random-number crate of their own.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What a simulated run did, as the tests check it.
#[derive(Default)]
pub struct RunFacts {
    /// Per user (index = user_id - 1): reposts and quotes whose direct
    /// parent that user wrote.
    pub direct_shares: Vec<u64>,
    pub posts: usize,
    pub reposts: usize,
    pub refreshes: usize,
    pub follows: usize,
}

/// A Twitter-platform run of `users` agents over `steps` steps, shaped like
/// the LLM runs users bring: few follows, and a recommended feed that every
/// agent refreshes each step and mostly reshares from. Each step every
/// agent is shown `feed` posts (drawn by how often their cascade was
/// shared, so that a few posts spread widely), then reposts one of them
/// (65%), quotes one (10%), writes a post (15%) or likes one (10%); one
/// agent in seventy follows the author of something it was shown.
pub fn simulate(path: &std::path::Path, users: usize, steps: usize, feed: usize, seed: u64) -> RunFacts {
    let db = Connection::open(path).unwrap();
    db.execute_batch(SCHEMA).unwrap();
    db.execute_batch("BEGIN").unwrap();
    for u in 1..=users as i64 {
        db.execute(
            "INSERT INTO user (user_id, agent_id, user_name, num_followers) VALUES (?1, ?1, ?2, 0)",
            (u, format!("agent{u}")),
        )
        .unwrap();
    }
    let mut rng = Rng::new(seed);
    let mut facts = RunFacts {
        direct_shares: vec![0; users],
        ..RunFacts::default()
    };
    // (post_id, author, root, created_at, shares of its cascade)
    let mut posts: Vec<(i64, i64, i64, i64, f64)> = Vec::new();
    let insert_post = |posts: &mut Vec<(i64, i64, i64, i64, f64)>,
                       author: i64,
                       original: Option<i64>,
                       quote: Option<&str>,
                       t: i64| {
        let id = posts.len() as i64 + 1;
        db.execute(
            "INSERT INTO post (post_id, user_id, original_post_id, content, quote_content, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            (id, author, original, format!("post {id}"), quote, t.to_string()),
        )
        .unwrap();
        posts.push((id, author, original.unwrap_or(id), t, 0.0));
        id
    };
    // A first wave of original posts at step 0.
    for u in 1..=users as i64 {
        if rng.uniform() < 0.3 {
            insert_post(&mut posts, u, None, None, 0);
            facts.posts += 1;
        }
    }
    let trace = |user: i64, t: i64, action: &str, info: String| {
        db.execute(
            "INSERT OR IGNORE INTO trace (user_id, created_at, action, info) VALUES (?1, ?2, ?3, ?4)",
            (user, t.to_string(), action, info),
        )
        .unwrap();
    };
    let mut follows: Vec<(i64, i64)> = Vec::new();
    for t in 1..steps as i64 {
        let visible: Vec<usize> = (0..posts.len()).filter(|&p| posts[p].3 < t).collect();
        let weights: Vec<f64> = visible
            .iter()
            .map(|&p| {
                let root = posts[p].2 as usize - 1;
                (1.0 + posts[root].4).powi(2)
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let mut shares_this_step: Vec<usize> = Vec::new();
        for u in 1..=users as i64 {
            let mut shown: Vec<usize> = Vec::new();
            for _ in 0..feed {
                let mut x = rng.uniform() * total;
                let mut pick = visible.len() - 1;
                for (k, w) in weights.iter().enumerate() {
                    if x < *w {
                        pick = k;
                        break;
                    }
                    x -= w;
                }
                let p = visible[pick];
                if posts[p].1 != u && !shown.contains(&p) {
                    shown.push(p);
                }
            }
            if shown.is_empty() {
                continue;
            }
            let items: Vec<String> = shown
                .iter()
                .map(|&p| {
                    format!(
                        r#"{{"post_id": {}, "user_id": {}, "content": "post {}", "created_at": {}, "num_likes": 0, "comments": []}}"#,
                        posts[p].0, posts[p].1, posts[p].0, posts[p].3
                    )
                })
                .collect();
            trace(u, t, "refresh", format!(r#"{{"posts": [{}]}}"#, items.join(", ")));
            facts.refreshes += 1;
            let chosen = shown[rng.below(shown.len())];
            let roll = rng.uniform();
            if roll < 0.75 {
                let quote = roll >= 0.65;
                let (parent, parent_author, root) = (posts[chosen].0, posts[chosen].1, posts[chosen].2);
                let id = insert_post(&mut posts, u, Some(root), quote.then_some("indeed"), t);
                let (action, key) = if quote {
                    ("quote_post", "quoted_id")
                } else {
                    ("repost", "reposted_id")
                };
                trace(u, t, action, format!(r#"{{"{key}": {parent}, "new_post_id": {id}}}"#));
                facts.direct_shares[parent_author as usize - 1] += 1;
                facts.reposts += 1;
                shares_this_step.push(root as usize - 1);
            } else if roll < 0.9 {
                let id = insert_post(&mut posts, u, None, None, t);
                trace(
                    u,
                    t,
                    "create_post",
                    format!(r#"{{"content": "post {id}", "post_id": {id}}}"#),
                );
                facts.posts += 1;
            } else {
                db.execute(
                    "INSERT INTO \"like\" (user_id, post_id, created_at) VALUES (?1, ?2, ?3)",
                    (u, posts[chosen].0, t.to_string()),
                )
                .unwrap();
            }
            let author = posts[chosen].1;
            if rng.uniform() < 0.015 && !follows.contains(&(u, author)) {
                follows.push((u, author));
                db.execute(
                    "INSERT INTO follow (follower_id, followee_id, created_at) VALUES (?1, ?2, ?3)",
                    (u, author, t.to_string()),
                )
                .unwrap();
                trace(u, t, "follow", format!(r#"{{"follow_id": {}}}"#, follows.len()));
            }
        }
        for root in shares_this_step {
            posts[root].4 += 1.0;
        }
    }
    for &(_, followee) in &follows {
        db.execute(
            "UPDATE user SET num_followers = num_followers + 1 WHERE user_id = ?1",
            [followee],
        )
        .unwrap();
    }
    facts.follows = follows.len();
    db.execute_batch("COMMIT").unwrap();
    facts
}
