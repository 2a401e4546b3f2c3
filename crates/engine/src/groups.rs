//! Player groups: several inputs that belong to one agent.

/// A map from each player (input) to a group (agent). The phi of a group is
/// the sum of its members' phi; by linearity of the path integral this is
/// the attribution of the group acting as one player along the same path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Groups {
    group_of: Vec<u32>,
    groups: usize,
}

impl Groups {
    /// `group_of[i]` is player i's group, in 0..groups.
    pub fn new(group_of: Vec<u32>, groups: usize) -> Result<Self, String> {
        if let Some((i, &g)) = group_of.iter().enumerate().find(|(_, g)| **g as usize >= groups) {
            return Err(format!(
                "player {i} is in group {g}, but there are only {groups} groups"
            ));
        }
        Ok(Self { group_of, groups })
    }

    pub fn players(&self) -> usize {
        self.group_of.len()
    }

    pub fn groups(&self) -> usize {
        self.groups
    }

    /// Sums a per-player vector into a per-group vector.
    pub fn sum(&self, per_player: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.groups];
        for (&g, &v) in self.group_of.iter().zip(per_player) {
            out[g as usize] += v;
        }
        out
    }
}
