//! Convenience panels: a small set of accounts replayed as a system of
//! their own, as small-scale studies do.

use aumann_models::{Activity, Engagement, Exposure, Order, Population, Repost};
use rand::SeedableRng;
use rand::seq::SliceRandom;
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
    /// N accounts reached breadth-first over follows (either direction)
    /// from a random active account: the snowball sampling of many small
    /// studies, connected by construction.
    Snowball,
}

impl PanelKind {
    pub fn name(self) -> &'static str {
        match self {
            PanelKind::TopFollowers => "top-followers",
            PanelKind::Random => "random",
            PanelKind::Snowball => "snowball",
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

    /// Breadth-first over follows, in either direction, from a random
    /// active account until `size` accounts; the last level is taken in a
    /// random order, and when a component runs out a new random active
    /// seed starts. One pass over the follows per level: no adjacency index
    /// is built.
    pub fn snowball(population: &Population, size: usize, seed: u64) -> Self {
        let n = population.agents;
        let size = size.min(n);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_5b0a);
        let mut active: Vec<u32> = population
            .activity
            .iter()
            .filter(|a| a.amount > 0.0)
            .map(|a| a.agent)
            .collect();
        active.sort_unstable();
        active.dedup();
        active.shuffle(&mut rng);
        let mut seeds = active.into_iter().chain(0..n as u32);
        let mut taken = vec![false; n];
        let mut members: Vec<u32> = Vec::with_capacity(size);
        let mut frontier: Vec<u32> = Vec::new();
        while members.len() < size {
            if frontier.is_empty() {
                let Some(next) = seeds.find(|&a| !taken[a as usize]) else {
                    break;
                };
                taken[next as usize] = true;
                members.push(next);
                frontier.push(next);
                continue;
            }
            let mut in_frontier = vec![false; n];
            for &a in &frontier {
                in_frontier[a as usize] = true;
            }
            let mut level: Vec<u32> = Vec::new();
            for &(j, i) in &population.follows {
                for (from, to) in [(j, i), (i, j)] {
                    if in_frontier[from as usize] && !taken[to as usize] {
                        taken[to as usize] = true;
                        level.push(to);
                    }
                }
            }
            level.sort_unstable();
            level.shuffle(&mut rng);
            let room = size - members.len();
            if level.len() > room {
                for &a in &level[room..] {
                    taken[a as usize] = false;
                }
                level.truncate(room);
            }
            members.extend(&level);
            frontier = level;
        }
        Self::induce(PanelKind::Snowball, population, members)
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

#[cfg(test)]
mod tests {
    use super::*;
    use aumann_models::FollowSpan;

    #[test]
    fn a_snowball_is_connected_and_has_the_size_asked_for() {
        // Two chains, 0-1-2-...-9 and 10-11-...-19, only 15 posts.
        let mut follows: Vec<(u32, u32)> = (0..9).map(|i| (i + 1, i)).collect();
        follows.extend((10..19).map(|i| (i, i + 1)));
        let population = Population {
            agents: 20,
            steps: 1,
            stance: vec![0.5; 20],
            followers: vec![0.0; 20],
            follows,
            activity: vec![Activity {
                agent: 15,
                step: 0,
                amount: 1.0,
            }],
            ..Default::default()
        };
        let panel = Panel::snowball(&population, 6, 3);
        let mut members = panel.members.clone();
        assert_eq!(members[0], 15, "the seed is the active account");
        members.sort_unstable();
        members.dedup();
        assert_eq!(members.len(), 6);
        // Breadth-first along one chain: a contiguous run of ids around 15.
        assert_eq!(members.last().unwrap() - members.first().unwrap(), 5);
        assert!(members.iter().all(|&m| (10..20).contains(&m)));
        assert!(
            panel.population.follows.len() >= 5,
            "connected: {:?}",
            panel.population.follows
        );
        // Past a component, another seed: all 20 when 20 are asked for.
        assert_eq!(Panel::snowball(&population, 20, 3).members.len(), 20);
        // The same seed, the same panel.
        assert_eq!(Panel::snowball(&population, 6, 3).members, panel.members);
    }

    #[test]
    fn a_panel_keeps_the_network_among_its_members_in_their_labels() {
        let full = Population {
            agents: 4,
            steps: 3,
            stance: vec![0.5; 4],
            followers: vec![0.0; 4],
            follows: vec![(0, 2), (1, 3), (3, 2)],
            follow_spans: vec![
                FollowSpan {
                    begin: Some(1),
                    end: None,
                },
                FollowSpan::default(),
                FollowSpan {
                    begin: None,
                    end: Some(2),
                },
            ],
            activity: [(2, 0), (3, 1), (0, 2)]
                .iter()
                .map(|&(agent, step)| Activity {
                    agent,
                    step,
                    amount: 1.0,
                })
                .collect(),
            exposures: [(3, 2), (1, 2), (2, 3)]
                .iter()
                .map(|&(reader, author)| Exposure {
                    reader,
                    author,
                    step: 1,
                    posted: Some(0),
                    amount: 2.0,
                })
                .collect(),
            reposts: vec![
                Repost {
                    reposter: 3,
                    step: 1,
                    parent_author: 2,
                    parent_step: 0,
                    amount: 1.0,
                },
                Repost {
                    reposter: 0,
                    step: 2,
                    parent_author: 1,
                    parent_step: 0,
                    amount: 1.0,
                },
            ],
            ..Default::default()
        };
        // Members 3 and 2, in that order: 3 -> 0, 2 -> 1.
        let panel = Panel::with_members(PanelKind::Random, &full, vec![3, 2]);
        let p = &panel.population;
        p.validate().unwrap();
        assert_eq!(p.follows, vec![(0, 1)]);
        assert_eq!(
            p.follow_spans,
            vec![FollowSpan {
                begin: None,
                end: Some(2)
            }]
        );
        let shown: Vec<(u32, u32)> = p.exposures.iter().map(|e| (e.reader, e.author)).collect();
        assert_eq!(shown, vec![(0, 1), (1, 0)]);
        let reposts: Vec<(u32, u32)> = p.reposts.iter().map(|r| (r.reposter, r.parent_author)).collect();
        assert_eq!(reposts, vec![(0, 1)]);
    }
}
