//! Convenience panels: a small set of accounts replayed as a system of
//! their own, as small-scale studies do.

use aumann_models::{Activity, Engagement, Exposure, Order, Population, Repost};
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PanelKind {
    /// The N accounts with the most followers: the visibility-biased panel
    /// of small-scale studies.
    TopFollowers,
    /// N accounts drawn uniformly at random: the control.
    Random,
}

impl PanelKind {
    pub fn name(self) -> &'static str {
        match self {
            PanelKind::TopFollowers => "top-followers",
            PanelKind::Random => "random",
        }
    }
}

/// A panel: its members (ids in the full population) and the population it
/// induces: the follows among members (with their spans), the members' own
/// activity and orders, and the engagements, exposures and reposts between
/// members (a member's repost of an outsider's post stays in its activity,
/// as content of its own). Follower counts and stances are agent
/// properties and are kept.
pub struct Panel {
    pub kind: PanelKind,
    pub members: Vec<u32>,
    pub population: Population,
}

impl Panel {
    pub fn top_followers(population: &Population, size: usize) -> Self {
        let mut order: Vec<u32> = (0..population.agents as u32).collect();
        order.sort_by(|&a, &b| {
            population.followers[b as usize]
                .total_cmp(&population.followers[a as usize])
                .then(a.cmp(&b))
        });
        order.truncate(size.min(population.agents));
        Self::induce(PanelKind::TopFollowers, population, order)
    }

    pub fn random(population: &Population, size: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut members: Vec<u32> = sample(&mut rng, population.agents, size.min(population.agents))
            .into_iter()
            .map(|a| a as u32)
            .collect();
        members.sort_unstable();
        Self::induce(PanelKind::Random, population, members)
    }

    /// The panel of the given members (in that order), induced as above.
    pub fn with_members(kind: PanelKind, full: &Population, members: Vec<u32>) -> Self {
        Self::induce(kind, full, members)
    }

    fn induce(kind: PanelKind, full: &Population, members: Vec<u32>) -> Self {
        let mut local = vec![u32::MAX; full.agents];
        for (new, &old) in members.iter().enumerate() {
            local[old as usize] = new as u32;
        }
        let inside = |a: u32| local[a as usize] != u32::MAX;
        let kept_follows: Vec<usize> = (0..full.follows.len())
            .filter(|&r| inside(full.follows[r].0) && inside(full.follows[r].1))
            .collect();
        let population = Population {
            agents: members.len(),
            steps: full.steps,
            stance: members.iter().map(|&a| full.stance[a as usize]).collect(),
            followers: members.iter().map(|&a| full.followers[a as usize]).collect(),
            follows: kept_follows
                .iter()
                .map(|&r| {
                    let (j, i) = full.follows[r];
                    (local[j as usize], local[i as usize])
                })
                .collect(),
            follow_spans: if full.follow_spans.is_empty() {
                Vec::new()
            } else {
                kept_follows.iter().map(|&r| full.follow_spans[r]).collect()
            },
            activity: full
                .activity
                .iter()
                .filter(|a| inside(a.agent))
                .map(|a| Activity {
                    agent: local[a.agent as usize],
                    ..*a
                })
                .collect(),
            engagements: full
                .engagements
                .iter()
                .filter(|e| inside(e.engager) && inside(e.author))
                .map(|e| Engagement {
                    engager: local[e.engager as usize],
                    author: local[e.author as usize],
                    ..*e
                })
                .collect(),
            orders: full
                .orders
                .iter()
                .filter(|o| inside(o.agent))
                .map(|o| Order {
                    agent: local[o.agent as usize],
                    ..*o
                })
                .collect(),
            exposures: full
                .exposures
                .iter()
                .filter(|e| inside(e.reader) && inside(e.author))
                .map(|e| Exposure {
                    reader: local[e.reader as usize],
                    author: local[e.author as usize],
                    ..*e
                })
                .collect(),
            reposts: full
                .reposts
                .iter()
                .filter(|r| inside(r.reposter) && inside(r.parent_author))
                .map(|r| Repost {
                    reposter: local[r.reposter as usize],
                    parent_author: local[r.parent_author as usize],
                    ..*r
                })
                .collect(),
        };
        Self {
            kind,
            members,
            population,
        }
    }
}
