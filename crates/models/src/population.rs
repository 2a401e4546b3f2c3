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
    /// Posts and reposts of an agent at a step, a >= 0.
    pub activity: Vec<Activity>,
    /// Engagements (likes, reposts) of one agent with another's content.
    pub engagements: Vec<Engagement>,
    /// Signed order flow (positive = selling).
    pub orders: Vec<Order>,
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
/// allocation rather than aborted by one.
pub const MAX_AGENT_STEPS: u64 = 1 << 32;

/// Refuses sizes no machine can replay, before anything is allocated.
pub fn check_size(agents: usize, steps: usize) -> Result<(), PopulationError> {
    if agents > MAX_AGENTS || steps > MAX_STEPS || agents as u64 * steps as u64 > MAX_AGENT_STEPS {
        return Err(PopulationError::TooLarge { agents, steps });
    }
    Ok(())
}

impl Population {
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
        for (row, a) in self.activity.iter().enumerate() {
            agent("activity", a.agent)?;
            step("activity", a.step)?;
            if !(a.amount.is_finite() && a.amount >= 0.0) {
                return Err(bad("activity", row, "amount", a.amount, "activity is finite and >= 0"));
            }
        }
        for (row, e) in self.engagements.iter().enumerate() {
            agent("engagements", e.engager)?;
            agent("engagements", e.author)?;
            step("engagements", e.step)?;
            if !(e.amount.is_finite() && e.amount >= 0.0) {
                return Err(bad(
                    "engagements",
                    row,
                    "amount",
                    e.amount,
                    "engagements are finite and >= 0",
                ));
            }
        }
        for (row, o) in self.orders.iter().enumerate() {
            agent("orders", o.agent)?;
            step("orders", o.step)?;
            if !o.flow.is_finite() {
                return Err(bad("orders", row, "flow", o.flow, "order flow is finite"));
            }
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
