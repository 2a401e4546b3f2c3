//! What a population holds: agents, follows, and what each agent did when.

/// A population of N agents observed over T steps (t = 0..T-1).
///
/// Ids are dense, 0..N. Tables are plain lists of records; [`crate::Replay`]
/// compiles them into the structures the indicators sweep over.
#[derive(Clone, Debug, Default)]
pub struct Population {
    pub agents: usize,
    pub steps: usize,
    /// Initial stance s_i in (0, 1), per agent.
    pub stance: Vec<f64>,
    /// Follower count w_i, per agent: an agent property (the platform's
    /// count, which may include followers outside the population).
    pub followers: Vec<f64>,
    /// (follower, followee): the follower sees the followee's posts.
    pub follows: Vec<(u32, u32)>,
    /// When each follow held, row for row with `follows`; empty when every
    /// follow held over the whole window.
    pub follow_spans: Vec<FollowSpan>,
    /// Posts and reposts of an agent at a step, a >= 0.
    pub activity: Vec<Activity>,
    /// Engagements (likes, reposts) of one agent with another's content.
    pub engagements: Vec<Engagement>,
    /// Signed order flow (positive = selling).
    pub orders: Vec<Order>,
    /// What readers were shown, beyond (or instead of) their follows.
    pub exposures: Vec<Exposure>,
    /// Reposts and quotes, with the content they carry.
    pub reposts: Vec<Repost>,
}

/// The steps over which a follow held: from `begin` (None: from before the
/// window) up to but not including `end` (None: to the end of the window,
/// or beyond). A follow made at step t reads the content of step t on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FollowSpan {
    pub begin: Option<u32>,
    pub end: Option<u32>,
}

impl FollowSpan {
    /// Held over the whole window.
    pub fn always(&self) -> bool {
        self.begin.unwrap_or(0) == 0 && self.end.is_none()
    }

    /// Held at step t.
    pub fn holds_at(&self, step: u32) -> bool {
        self.begin.unwrap_or(0) <= step && self.end.is_none_or(|e| step < e)
    }
}

/// A reader was shown `amount` items of an author at `step`: items the
/// author posted at `posted` (None: at `step` itself).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exposure {
    pub reader: u32,
    pub author: u32,
    pub step: u32,
    pub posted: Option<u32>,
    pub amount: f64,
}

/// `amount` of the reposter's activity at `step` carried content that the
/// parent author posted at `parent_step` (a repost or a quote). The amount
/// is part of the reposter's activity at that step, not in addition to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Repost {
    pub reposter: u32,
    pub step: u32,
    pub parent_author: u32,
    pub parent_step: u32,
    pub amount: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Activity {
    pub agent: u32,
    pub step: u32,
    pub amount: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Engagement {
    pub engager: u32,
    pub author: u32,
    pub step: u32,
    pub amount: f64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Order {
    pub agent: u32,
    pub step: u32,
    pub flow: f64,
}

/// A population that cannot be replayed, and where.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PopulationError {
    #[error("the population has no agents")]
    NoAgents,
    #[error(
        "{agents} agents over {steps} steps is beyond what a replay can hold (at most 100,000 steps and 2^32 agent-steps): check the population's metadata"
    )]
    TooLarge { agents: usize, steps: usize },
    #[error("the population has no steps: a replay needs at least one")]
    NoSteps,
    #[error("{table} has {found} rows but the population has {agents} agents")]
    WrongLength {
        table: &'static str,
        found: usize,
        agents: usize,
    },
    #[error("{table} names agent {agent}, but the population has only {agents} agents (ids 0..{agents})")]
    UnknownAgent {
        table: &'static str,
        agent: u64,
        agents: usize,
    },
    #[error("{table} names step {step}, but the population has only {steps} steps")]
    UnknownStep {
        table: &'static str,
        step: u32,
        steps: usize,
    },
    #[error("the stance of agent {agent} is {value}: stances must lie strictly between 0 and 1")]
    StanceOutOfRange { agent: usize, value: f64 },
    #[error(
        "agent {agent} reposted {reposts} items at step {step} but its activity there is {activity}: activity counts posts and reposts together, so reposts cannot exceed it"
    )]
    RepostsExceedActivity {
        agent: u32,
        step: u32,
        reposts: f64,
        activity: f64,
    },
    #[error("{table} row {row} has {field} = {value}: {rule}")]
    BadValue {
        table: &'static str,
        row: usize,
        field: &'static str,
        value: f64,
        rule: &'static str,
    },
}

/// The most steps a population may have.
pub const MAX_STEPS: usize = 100_000;
/// The most agents (ids are u32, and u32::MAX marks "none" inside).
pub const MAX_AGENTS: usize = u32::MAX as usize - 1;
/// The most agent-steps: a replay's build index holds 4 bytes for each
/// (16 GiB at this bound), so a larger population is refused before any
/// allocation rather than aborted by one. Gate ids are u32 and the index
/// keeps its two largest values as marks, so the bound stays below them.
pub const MAX_AGENT_STEPS: u64 = u32::MAX as u64 - 1;

/// Refuses sizes no machine can replay, before anything is allocated.
pub fn check_size(agents: usize, steps: usize) -> Result<(), PopulationError> {
    if agents > MAX_AGENTS || steps > MAX_STEPS || agents as u64 * steps as u64 > MAX_AGENT_STEPS {
        return Err(PopulationError::TooLarge { agents, steps });
    }
    Ok(())
}

impl Population {
    /// Frees the tables that a replay is built from and holds its own form
    /// of (follows and their spans, engagements, orders, exposures,
    /// reposts), keeping the agents' columns and their activity: for a
    /// caller that has built its replay and needs the population only for
    /// per-agent outputs. At full scale the follows alone are 0.53 GB, a
    /// copy of the replay's follow graph. What reads these tables afterwards
    /// (a new replay, a panel, PageRank) sees none.
    pub fn release_edge_tables(&mut self) {
        self.follows = Vec::new();
        self.follow_spans = Vec::new();
        self.engagements = Vec::new();
        self.orders = Vec::new();
        self.exposures = Vec::new();
        self.reposts = Vec::new();
    }

    /// Checks every table against N and T and every value against its domain.
    pub fn validate(&self) -> Result<(), PopulationError> {
        let n = self.agents;
        if n == 0 {
            return Err(PopulationError::NoAgents);
        }
        if self.steps == 0 {
            return Err(PopulationError::NoSteps);
        }
        check_size(n, self.steps)?;
        for (table, len) in [("stance", self.stance.len()), ("followers", self.followers.len())] {
            if len != n {
                return Err(PopulationError::WrongLength {
                    table,
                    found: len,
                    agents: n,
                });
            }
        }
        if let Some((agent, &value)) = self.stance.iter().enumerate().find(|(_, s)| !(**s > 0.0 && **s < 1.0)) {
            return Err(PopulationError::StanceOutOfRange { agent, value });
        }
        if let Some((row, &value)) = self
            .followers
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
        {
            return Err(bad(
                "followers",
                row,
                "count",
                value,
                "follower counts are finite and >= 0",
            ));
        }
        let agent = |table, a: u32| {
            if (a as usize) < n {
                Ok(())
            } else {
                Err(PopulationError::UnknownAgent {
                    table,
                    agent: a as u64,
                    agents: n,
                })
            }
        };
        let step = |table, t: u32| {
            if (t as usize) < self.steps {
                Ok(())
            } else {
                Err(PopulationError::UnknownStep {
                    table,
                    step: t,
                    steps: self.steps,
                })
            }
        };
        for &(j, i) in &self.follows {
            agent("follows", j)?;
            agent("follows", i)?;
        }
        self.validate_spans()?;
        // An amount of a table's row: finite and >= 0.
        let amount = |table, row, value: f64, rule| {
            if value.is_finite() && value >= 0.0 {
                Ok(())
            } else {
                Err(bad(table, row, "amount", value, rule))
            }
        };
        for (row, a) in self.activity.iter().enumerate() {
            agent("activity", a.agent)?;
            step("activity", a.step)?;
            amount("activity", row, a.amount, "activity is finite and >= 0")?;
        }
        for (row, e) in self.engagements.iter().enumerate() {
            agent("engagements", e.engager)?;
            agent("engagements", e.author)?;
            step("engagements", e.step)?;
            amount("engagements", row, e.amount, "engagements are finite and >= 0")?;
        }
        for (row, o) in self.orders.iter().enumerate() {
            agent("orders", o.agent)?;
            step("orders", o.step)?;
            if !o.flow.is_finite() {
                return Err(bad("orders", row, "flow", o.flow, "order flow is finite"));
            }
        }
        for (row, e) in self.exposures.iter().enumerate() {
            agent("exposures", e.reader)?;
            agent("exposures", e.author)?;
            step("exposures", e.step)?;
            if let Some(posted) = e.posted
                && posted > e.step
            {
                return Err(bad(
                    "exposures",
                    row,
                    "posted",
                    posted as f64,
                    "an item is shown at or after the step it was posted",
                ));
            }
            amount("exposures", row, e.amount, "exposures are finite and >= 0")?;
        }
        self.validate_reposts()
    }

    fn validate_spans(&self) -> Result<(), PopulationError> {
        if self.follow_spans.is_empty() {
            return Ok(());
        }
        if self.follow_spans.len() != self.follows.len() {
            return Err(PopulationError::WrongLength {
                table: "follow spans",
                found: self.follow_spans.len(),
                agents: self.follows.len(),
            });
        }
        for (row, span) in self.follow_spans.iter().enumerate() {
            if let Some(begin) = span.begin
                && begin as usize >= self.steps
            {
                return Err(PopulationError::UnknownStep {
                    table: "follows",
                    step: begin,
                    steps: self.steps,
                });
            }
            if let Some(end) = span.end
                && end <= span.begin.unwrap_or(0)
            {
                return Err(bad(
                    "follows",
                    row,
                    "end_step",
                    end as f64,
                    "a follow ends after the step it began",
                ));
            }
        }
        Ok(())
    }

    /// Reposts name known agents and steps, carry content posted no later
    /// than themselves, and fit within the reposter's activity.
    fn validate_reposts(&self) -> Result<(), PopulationError> {
        for (row, r) in self.reposts.iter().enumerate() {
            for a in [r.reposter, r.parent_author] {
                if a as usize >= self.agents {
                    return Err(PopulationError::UnknownAgent {
                        table: "reposts",
                        agent: a as u64,
                        agents: self.agents,
                    });
                }
            }
            if r.step as usize >= self.steps {
                return Err(PopulationError::UnknownStep {
                    table: "reposts",
                    step: r.step,
                    steps: self.steps,
                });
            }
            if r.parent_step > r.step {
                return Err(bad(
                    "reposts",
                    row,
                    "parent_step",
                    r.parent_step as f64,
                    "a repost carries content posted at or before its own step",
                ));
            }
            if !(r.amount.is_finite() && r.amount >= 0.0) {
                return Err(bad("reposts", row, "amount", r.amount, "reposts are finite and >= 0"));
            }
        }
        if self.reposts.is_empty() {
            return Ok(());
        }
        let mut carried: std::collections::HashMap<(u32, u32), f64> = std::collections::HashMap::new();
        for r in &self.reposts {
            *carried.entry((r.reposter, r.step)).or_default() += r.amount;
        }
        let mut posted: std::collections::HashMap<(u32, u32), f64> = std::collections::HashMap::new();
        for a in &self.activity {
            if carried.contains_key(&(a.agent, a.step)) {
                *posted.entry((a.agent, a.step)).or_default() += a.amount;
            }
        }
        let mut over: Vec<_> = carried
            .iter()
            .filter(|&(key, &amount)| amount > posted.get(key).copied().unwrap_or(0.0) * (1.0 + 1e-12))
            .collect();
        over.sort_by_key(|(key, _)| **key);
        if let Some(&(&(agent, step), &amount)) = over.first() {
            return Err(PopulationError::RepostsExceedActivity {
                agent,
                step,
                reposts: amount,
                activity: posted.get(&(agent, step)).copied().unwrap_or(0.0),
            });
        }
        Ok(())
    }
}

fn bad(table: &'static str, row: usize, field: &'static str, value: f64, rule: &'static str) -> PopulationError {
    PopulationError::BadValue {
        table,
        row,
        field,
        value,
        rule,
    }
}
