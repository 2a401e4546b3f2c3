//! The events the observation models read from a population's records.

use aumann_models::Population;

/// The first step at which each agent (by population id) responded to
/// others' content: engaged with it (an engagement row with the agent as
/// engager, of another author's content) or reshared it (a repost or
/// quote row with the agent as reposter). None: no response in the window.
/// Rows of zero amount are not responses.
pub fn first_response(population: &Population) -> Vec<Option<u32>> {
    let mut first: Vec<Option<u32>> = vec![None; population.agents];
    let mut saw = |agent: u32, step: u32| {
        let slot = &mut first[agent as usize];
        *slot = Some(slot.map_or(step, |s| s.min(step)));
    };
    for e in &population.engagements {
        if e.amount > 0.0 && e.engager != e.author {
            saw(e.engager, e.step);
        }
    }
    for r in &population.reposts {
        if r.amount > 0.0 && r.reposter != r.parent_author {
            saw(r.reposter, r.step);
        }
    }
    first
}
