//! Sampled Shapley under a time cap: measure what the cap affords, and
//! extrapolate the whole permutation budget from the measured cost.

/// What was run and what the whole budget would cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Budgeted<T> {
    /// The last (largest) run's result.
    pub result: T,
    pub permutations_run: usize,
    pub measured_seconds: f64,
    /// Seconds for the whole budget: measured when `permutations_run` is
    /// the budget, otherwise the measured cost per permutation times the
    /// budget.
    pub budget_seconds: f64,
    pub extrapolated: bool,
}

/// Runs `sample(p)` (p permutations; returns its result and seconds) with
/// pilot runs that double from 2 until the budget is done or a run takes a
/// tenth of `time_cap`; then, if the budget is not done, one run of what the
/// cap affords at the cost per permutation the last pilot showed (an even
/// count, for antithetic pairs, never below the pilot and never above the
/// budget).
///
/// Doubling keeps the pilots' total below twice the last pilot, so the
/// whole measurement stays near the cap; the final run then measures the
/// cost on as many permutations as the cap allows, which is what the
/// extrapolation scales.
pub fn run_within<T, E>(
    budget: usize,
    time_cap: f64,
    mut sample: impl FnMut(usize) -> Result<(T, f64), E>,
) -> Result<Budgeted<T>, E> {
    let budget = budget.max(2);
    let mut pilot = 2;
    let (mut result, mut measured) = sample(pilot)?;
    while pilot < budget && measured < time_cap / 10.0 {
        pilot = (pilot * 2).min(budget);
        (result, measured) = sample(pilot)?;
    }
    let mut run = pilot;
    if pilot < budget {
        let per_permutation = measured / pilot as f64;
        let affordable = ((time_cap / per_permutation) as usize / 2 * 2).clamp(pilot, budget);
        if affordable > pilot {
            (result, measured) = sample(affordable)?;
            run = affordable;
        }
    }
    Ok(Budgeted {
        result,
        permutations_run: run,
        measured_seconds: measured,
        budget_seconds: measured / run as f64 * budget as f64,
        extrapolated: run < budget,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sampler whose cost is exactly `cost` seconds per permutation, and
    /// that records the counts it was asked for.
    fn linear(cost: f64, asked: &mut Vec<usize>) -> impl FnMut(usize) -> Result<(usize, f64), ()> + '_ {
        move |p| {
            asked.push(p);
            Ok((p, cost * p as f64))
        }
    }

    #[test]
    fn a_cheap_budget_runs_whole_and_is_not_extrapolated() {
        let mut asked = Vec::new();
        let r = run_within(1000, 60.0, linear(1e-3, &mut asked)).unwrap();
        assert_eq!(asked, vec![2, 4, 8, 16, 32, 64, 128, 256, 512, 1000]);
        assert_eq!(r.permutations_run, 1000);
        assert!(!r.extrapolated);
        assert!((r.budget_seconds - 1.0).abs() < 1e-12);
    }

    #[test]
    fn an_expensive_budget_runs_what_the_cap_affords_and_scales_it() {
        // 0.5 s per permutation: the pilot stops at 16 (8 s > 6 s), the cap
        // affords 120, and the budget of 1000 costs 500 s.
        let mut asked = Vec::new();
        let r = run_within(1000, 60.0, linear(0.5, &mut asked)).unwrap();
        assert_eq!(asked, vec![2, 4, 8, 16, 120]);
        assert_eq!(r.permutations_run, 120);
        assert!(r.extrapolated);
        assert!((r.budget_seconds - 500.0).abs() < 1e-9);
        assert!((r.measured_seconds - 60.0).abs() < 1e-9);
    }

    #[test]
    fn a_pilot_past_the_cap_is_the_measurement() {
        // 100 s per permutation: the first pilot already exceeds the cap.
        let mut asked = Vec::new();
        let r = run_within(1000, 60.0, linear(100.0, &mut asked)).unwrap();
        assert_eq!(asked, vec![2]);
        assert_eq!(r.permutations_run, 2);
        assert!((r.budget_seconds - 100_000.0).abs() < 1e-6);
    }

    #[test]
    fn errors_stop_the_measurement() {
        let r: Result<Budgeted<()>, &str> = run_within(10, 1.0, |_| Err("no"));
        assert_eq!(r.unwrap_err(), "no");
    }
}
