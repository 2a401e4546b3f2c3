//! Stance from the data itself, for populations that carry no labels.
//!
//! Polarization starts from every agent's stance in (0, 1). Real data
//! rarely has one, so this crate estimates it, label-free where possible:
//!
//! - [`follows`]: correspondence analysis of the account x followed-elite
//!   matrix (Barberá 2015, in its CA form): the K most-followed accounts
//!   are the columns, accounts that follow at least `min_elites` of them
//!   the fitted rows, every other account with an elite a supplementary row.
//! - [`engagements`]: the same on the engager x most-engaged-author matrix
//!   (Flamino et al. 2023), weighted by the engagements' amounts.
//! - [`seeds`]: a few labelled accounts spread over the follow graph by
//!   harmonic label propagation (Zhu, Ghahramani & Lafferty 2003).
//! - [`lexicon`]: two term lists scored over what each agent wrote.
//! - [`labels`]: a CSV of stances, as given.
//!
//! A one-dimensional score becomes a stance by a documented map
//! ([`to_stance`]): oriented (by seeds when given, else so that the
//! most-followed scored account sits above 0.5), standardised, and passed
//! through a logistic. Agents without signal keep 0.5 and are flagged, never
//! given an invented position. docs/stance.md says why each choice is made.

pub mod ca;
mod eigen;
mod files;
mod propagate;

pub use files::{
    Lexicon, StanceFileError, StanceRow, StancesPerStep, check_stances_per_step, read_labels, read_stances_per_step,
};
pub use propagate::seeds;

use aumann_models::{FollowGraph, Population};
use serde::Serialize;

/// Where an agent's stance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    /// A fitted row of the correspondence analysis.
    Fitted,
    /// A supplementary row: fewer columns than the fit asks, placed by the
    /// transition formula.
    Supplementary,
    /// An elite placed by its column coordinate (it follows too few elites
    /// to be a row).
    Column,
    /// A labelled seed.
    Seed,
    /// Reached from the seeds over the follow graph.
    Propagated,
    /// Scored from its text by the lexicon.
    Lexicon,
    /// Given in a CSV of stances.
    Label,
    /// No signal: the stance is the neutral 0.5.
    LowSignal,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Fitted => "fitted",
            Source::Supplementary => "supplementary",
            Source::Column => "column",
            Source::Seed => "seed",
            Source::Propagated => "propagated",
            Source::Lexicon => "lexicon",
            Source::Label => "label",
            Source::LowSignal => "low-signal",
        }
    }
}

/// What a stance estimate tells about itself.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Diagnostics {
    pub method: String,
    pub agents: usize,
    /// Agents with an estimate (not flagged as low signal).
    pub estimated: usize,
    pub low_signal_share: f64,
    /// Share of the total inertia on the leading dimension, and on the
    /// second (CA methods only).
    pub explained_inertia: Option<f64>,
    pub second_inertia: Option<f64>,
    /// Columns of the fit (elites or authors), rows fitted, iterations.
    pub columns: Option<usize>,
    pub fitted_rows: Option<usize>,
    pub iterations: Option<usize>,
    /// Sarle's bimodality coefficient of the estimated agents' scores
    /// (before the map to (0, 1), which can add or remove a mode), over at
    /// least [`MIN_BIMODALITY_AGENTS`] agents estimated from the data (seeds
    /// and low-signal agents left out); None with a warning below that. A
    /// uniform distribution gives 5/9; a value above it is consistent with
    /// two camps and proves none, and one below does not rule them out.
    pub bimodality: Option<f64>,
    /// What a reader of these numbers must know: too little evidence for a
    /// statistic, a propagation that did not converge.
    pub warnings: Vec<String>,
    /// How the sign of the score was chosen.
    pub orientation: String,
    /// Seeds or labels given, and how many named an agent.
    pub labels_given: Option<usize>,
    pub labels_matched: Option<usize>,
}

/// Stances for every agent, where each came from, how sure it is, and the
/// diagnostics.
#[derive(Clone, Debug)]
pub struct Estimate {
    pub stance: Vec<f64>,
    pub source: Vec<Source>,
    /// In [0, 1]: 0 for no signal, growing with the evidence behind the
    /// estimate (see each method).
    pub confidence: Vec<f64>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StanceError {
    #[error("{0}")]
    Settings(String),
    #[error(
        "no agent has enough signal for the {method} method ({detail}); try another method (`aumann stance --help`) or lower --min-elites"
    )]
    NoSignal { method: &'static str, detail: String },
}

/// Settings of the correspondence-analysis methods.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaOptions {
    /// Columns: the K most-followed accounts (or most-engaged authors).
    pub elites: usize,
    /// Rows in the fit follow (or engage) at least this many columns; rows
    /// with fewer but at least one are supplementary.
    pub min_elites: usize,
    /// The logistic's slope on the standardised score.
    pub slope: f64,
    pub max_iterations: usize,
    pub tolerance: f64,
}

impl Default for CaOptions {
    fn default() -> Self {
        Self {
            elites: 10_000,
            min_elites: 3,
            slope: 1.0,
            max_iterations: 300,
            tolerance: 1e-9,
        }
    }
}

impl CaOptions {
    fn validate(&self) -> Result<(), StanceError> {
        if self.elites < 2 {
            return Err(StanceError::Settings("--elites must be at least 2".into()));
        }
        if self.min_elites < 1 {
            return Err(StanceError::Settings("--min-elites must be at least 1".into()));
        }
        if !(self.slope.is_finite() && self.slope > 0.0) {
            return Err(StanceError::Settings("--slope must be a positive number".into()));
        }
        Ok(())
    }
}

/// The K columns with the most weight, by descending weight then id.
fn top_columns(weight: &[f64], k: usize) -> Vec<u32> {
    let mut ids: Vec<u32> = (0..weight.len() as u32).filter(|&a| weight[a as usize] > 0.0).collect();
    ids.sort_by(|&a, &b| weight[b as usize].total_cmp(&weight[a as usize]).then(a.cmp(&b)));
    ids.truncate(k);
    ids
}

/// Stance from the follow graph: CA of who follows which of the K
/// most-followed accounts. `orient` (agent, stance) pairs choose the sign.
pub fn follows(population: &Population, options: &CaOptions, orient: &[(u32, f64)]) -> Result<Estimate, StanceError> {
    follows_fitted_on(population, options, orient, None)
}

/// [`follows`] with the CA fitted on the accounts `fitted` marks only (the
/// others placed as supplementary rows, as accounts with too few elites
/// are): a half-sample of the accounts gives one replicate of the
/// estimate (docs/sensitivity.md). The columns stay the population's most
/// followed accounts.
pub fn follows_fitted_on(
    population: &Population,
    options: &CaOptions,
    orient: &[(u32, f64)],
    fitted: Option<&[bool]>,
) -> Result<Estimate, StanceError> {
    options.validate()?;
    let graph = FollowGraph::from_follows(population.agents, &population.follows)
        .map_err(|e| StanceError::Settings(e.to_string()))?;
    let followers: Vec<f64> = (0..population.agents).map(|a| graph.follower_count(a) as f64).collect();
    let elites = top_columns(&followers, options.elites);
    let mut column_of = vec![u32::MAX; population.agents];
    for (c, &a) in elites.iter().enumerate() {
        column_of[a as usize] = c as u32;
    }
    let rows: Vec<Vec<(u32, f64)>> = (0..population.agents)
        .map(|j| {
            graph
                .followees(j)
                .iter()
                .map(|&i| column_of[i as usize])
                .filter(|&c| c != u32::MAX)
                .map(|c| (c, 1.0))
                .collect()
        })
        .collect();
    let matrix = ca::Sparse::from_rows(elites.len(), rows);
    let mut estimate = from_ca(
        "follows", population, &matrix, &elites, &followers, options, orient, fitted,
    )?;
    estimate.diagnostics.method = "follows".into();
    Ok(estimate)
}

/// Stance from engagements: CA of who engages which of the K most-engaged
/// authors, weighted by the engagements' amounts over the window.
pub fn engagements(
    population: &Population,
    options: &CaOptions,
    orient: &[(u32, f64)],
) -> Result<Estimate, StanceError> {
    engagements_fitted_on(population, options, orient, None)
}

/// [`engagements`] with the CA fitted on the accounts `fitted` marks only,
/// as [`follows_fitted_on`].
pub fn engagements_fitted_on(
    population: &Population,
    options: &CaOptions,
    orient: &[(u32, f64)],
    fitted: Option<&[bool]>,
) -> Result<Estimate, StanceError> {
    options.validate()?;
    let n = population.agents;
    let mut received = vec![0.0; n];
    for e in population.engagements.iter().filter(|e| e.engager != e.author) {
        received[e.author as usize] += e.amount;
    }
    let authors = top_columns(&received, options.elites);
    let mut column_of = vec![u32::MAX; n];
    for (c, &a) in authors.iter().enumerate() {
        column_of[a as usize] = c as u32;
    }
    let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n];
    for e in population
        .engagements
        .iter()
        .filter(|e| e.engager != e.author && e.amount > 0.0)
    {
        let c = column_of[e.author as usize];
        if c != u32::MAX {
            rows[e.engager as usize].push((c, e.amount));
        }
    }
    let matrix = ca::Sparse::from_rows(authors.len(), rows);
    let mut estimate = from_ca(
        "engagements",
        population,
        &matrix,
        &authors,
        &received,
        options,
        orient,
        fitted,
    )?;
    estimate.diagnostics.method = "engagements".into();
    Ok(estimate)
}

/// The shared part of both CA methods: fit (on the rows `fitted` marks,
/// all when None), place, orient, map.
#[allow(clippy::too_many_arguments)]
fn from_ca(
    method: &'static str,
    population: &Population,
    matrix: &ca::Sparse,
    columns: &[u32],
    prominence: &[f64],
    options: &CaOptions,
    orient: &[(u32, f64)],
    fitted: Option<&[bool]>,
) -> Result<Estimate, StanceError> {
    let n = population.agents;
    if let Some(f) = fitted
        && f.len() != n
    {
        return Err(StanceError::Settings(format!(
            "the accounts to fit on are {} flags for {n} agents",
            f.len()
        )));
    }
    let distinct: Vec<usize> = (0..n).map(|i| matrix.row(i).0.len()).collect();
    let core: Vec<bool> = (distinct.iter().enumerate())
        .map(|(i, &d)| d >= options.min_elites && fitted.is_none_or(|f| f[i]))
        .collect();
    let fitted_rows = core.iter().filter(|&&c| c).count();
    if fitted_rows < 2 || columns.len() < 2 {
        return Err(StanceError::NoSignal {
            method,
            detail: format!(
                "{fitted_rows} accounts reach {} of the {} columns",
                options.min_elites,
                columns.len()
            ),
        });
    }
    let fit = ca::fit(matrix, &core, 8, options.max_iterations, options.tolerance);
    let mut score = vec![f64::NAN; n];
    let mut source = vec![Source::LowSignal; n];
    let mut confidence = vec![0.0; n];
    for i in 0..n {
        if fit.row_scores[i].is_finite() {
            score[i] = fit.row_scores[i];
            source[i] = if core[i] { Source::Fitted } else { Source::Supplementary };
            // Half at the fit's threshold, approaching 1 with more columns.
            confidence[i] = distinct[i] as f64 / (distinct[i] + options.min_elites) as f64;
        }
    }
    for (c, &a) in columns.iter().enumerate() {
        let a = a as usize;
        if !score[a].is_finite() && fit.column_scores[c].is_finite() {
            score[a] = fit.column_scores[c];
            source[a] = Source::Column;
            confidence[a] = 0.5;
        }
    }
    let (stance, orientation) = to_stance(&score, prominence, orient, options.slope);
    let sigma = &fit.singular_values;
    let share = |s: Option<&f64>| s.map(|s| s * s / fit.total_inertia).filter(|v| v.is_finite());
    let diagnostics = Diagnostics {
        method: method.into(),
        explained_inertia: share(sigma.first()),
        second_inertia: share(sigma.get(1)),
        columns: Some(columns.len()),
        fitted_rows: Some(fitted_rows),
        iterations: Some(fit.iterations),
        orientation,
        ..Diagnostics::default()
    };
    Ok(finish(stance, Some(&score), source, confidence, diagnostics))
}

/// The fewest agents estimated from the data over which the bimodality
/// coefficient is computed: below it, a handful of scores shape it.
pub const MIN_BIMODALITY_AGENTS: usize = 50;

/// Fills the counts and the bimodality coefficient, computed on `scores`
/// (one per agent; the stances when a method has no other score).
fn finish(
    stance: Vec<f64>,
    scores: Option<&[f64]>,
    source: Vec<Source>,
    confidence: Vec<f64>,
    mut diagnostics: Diagnostics,
) -> Estimate {
    let estimated = source.iter().filter(|s| **s != Source::LowSignal).count();
    let from_data: Vec<f64> = scores
        .unwrap_or(&stance)
        .iter()
        .zip(&source)
        .filter(|(v, s)| !matches!(s, Source::LowSignal | Source::Seed) && v.is_finite())
        .map(|(v, _)| *v)
        .collect();
    diagnostics.agents = stance.len();
    diagnostics.estimated = estimated;
    diagnostics.low_signal_share = if stance.is_empty() {
        0.0
    } else {
        1.0 - estimated as f64 / stance.len() as f64
    };
    diagnostics.bimodality = if from_data.len() >= MIN_BIMODALITY_AGENTS {
        bimodality_coefficient(&from_data)
    } else {
        diagnostics.warnings.push(format!(
            "bimodality not computed: {} agents were estimated from the data (seeds and low-signal agents aside), fewer than {MIN_BIMODALITY_AGENTS}",
            from_data.len()
        ));
        None
    };
    Estimate {
        stance,
        source,
        confidence,
        diagnostics,
    }
}

/// The smallest and largest stance a map writes: the population format
/// needs the open interval (0, 1).
pub const STANCE_FLOOR: f64 = 1e-6;

/// Turns scores (NaN for none) into stances: orientation, then the
/// logistic of the standardised score, `1 / (1 + exp(-slope z))`, clamped
/// into [1e-6, 1 - 1e-6]; agents without a score get 0.5.
///
/// Orientation: with labelled agents, the sign under which their scores
/// correlate positively with their labels; without, the sign that puts the
/// most prominent scored agent (most followers, or most engagement) above
/// 0.5. Returns the stances and a sentence that says which rule applied.
pub fn to_stance(score: &[f64], prominence: &[f64], orient: &[(u32, f64)], slope: f64) -> (Vec<f64>, String) {
    let scored: Vec<f64> = score.iter().copied().filter(|s| s.is_finite()).collect();
    if scored.is_empty() {
        return (vec![0.5; score.len()], "no agent has a score".into());
    }
    let mean = scored.iter().sum::<f64>() / scored.len() as f64;
    let sd = (scored.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / scored.len() as f64).sqrt();
    let labelled: Vec<(f64, f64)> = orient
        .iter()
        .filter(|&&(a, _)| score[a as usize].is_finite())
        .map(|&(a, label)| (score[a as usize], label))
        .collect();
    let (sign, orientation) = if labelled.len() >= 2 {
        let (ms, ml) = (
            labelled.iter().map(|p| p.0).sum::<f64>() / labelled.len() as f64,
            labelled.iter().map(|p| p.1).sum::<f64>() / labelled.len() as f64,
        );
        let cov: f64 = labelled.iter().map(|(s, l)| (s - ms) * (l - ml)).sum();
        (
            if cov < 0.0 { -1.0 } else { 1.0 },
            format!("by {} labelled agents with a score", labelled.len()),
        )
    } else {
        let top = (0..score.len())
            .filter(|&a| score[a].is_finite())
            .max_by(|&a, &b| prominence[a].total_cmp(&prominence[b]).then(b.cmp(&a)))
            .expect("a scored agent");
        (
            if score[top] < mean { -1.0 } else { 1.0 },
            format!("the most prominent scored agent (id {top}) is above 0.5"),
        )
    };
    let stance = score
        .iter()
        .map(|&s| {
            if !s.is_finite() || sd == 0.0 {
                0.5
            } else {
                let z = sign * (s - mean) / sd;
                (1.0 / (1.0 + (-slope * z).exp())).clamp(STANCE_FLOOR, 1.0 - STANCE_FLOOR)
            }
        })
        .collect();
    (stance, orientation)
}

/// Sarle's bimodality coefficient (g^2 + 1) / (k + 3 (n-1)^2 / ((n-2)(n-3)))
/// with g the sample skewness and k the excess kurtosis; None below four
/// values or without spread. A uniform distribution gives 5/9; above it
/// suggests two modes.
pub fn bimodality_coefficient(values: &[f64]) -> Option<f64> {
    let n = values.len() as f64;
    if values.len() < 4 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n;
    let m2 = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    if m2 <= 0.0 {
        return None;
    }
    let m3 = values.iter().map(|v| (v - mean).powi(3)).sum::<f64>() / n;
    let m4 = values.iter().map(|v| (v - mean).powi(4)).sum::<f64>() / n;
    // Bias-corrected skewness and excess kurtosis, as in SAS and scipy.
    let g1 = m3 / m2.powf(1.5);
    let skew = g1 * (n * (n - 1.0)).sqrt() / (n - 2.0);
    let g2 = m4 / (m2 * m2) - 3.0;
    let kurt = ((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0));
    Some((skew * skew + 1.0) / (kurt + 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0))))
}

/// The fewest lexicon hits that estimate an agent's stance: below it the
/// agent keeps 0.5, flagged low-signal, rather than one word deciding.
pub const MIN_LEXICON_HITS: u64 = 3;

/// Stance from lexicon hits per agent: (hits of the lower list, hits of the
/// upper list). With h = upper + lower hits, at least [`MIN_LEXICON_HITS`],
/// the stance is the posterior mean of the upper side's share under a
/// uniform prior, (upper + 1) / (h + 2): in (0, 1) without clamping,
/// oriented by the lists, with the same meaning on any data (so not
/// standardised), and never extreme on little evidence (3 hits, all upper,
/// give 0.8). Agents with fewer hits keep 0.5, flagged. Confidence grows
/// with the hits: h / (h + 3).
pub fn lexicon(hits: &[[u64; 2]]) -> Estimate {
    let mut stance = vec![0.5; hits.len()];
    let mut source = vec![Source::LowSignal; hits.len()];
    let mut confidence = vec![0.0; hits.len()];
    let mut few = 0;
    for (a, &[lo, hi]) in hits.iter().enumerate() {
        let h = lo + hi;
        if h >= MIN_LEXICON_HITS {
            stance[a] = (hi as f64 + 1.0) / (h as f64 + 2.0);
            source[a] = Source::Lexicon;
            confidence[a] = h as f64 / (h as f64 + 3.0);
        } else if h > 0 {
            few += 1;
        }
    }
    let mut warnings = Vec::new();
    if few > 0 {
        warnings.push(format!(
            "{few} agents with 1 to {} lexicon hits keep 0.5 (low signal): at least {MIN_LEXICON_HITS} hits estimate a stance",
            MIN_LEXICON_HITS - 1
        ));
    }
    finish(
        stance,
        None,
        source,
        confidence,
        Diagnostics {
            method: "lexicon".into(),
            orientation: "the second term list is the upper side (stance above 0.5)".into(),
            warnings,
            ..Diagnostics::default()
        },
    )
}

/// Stances given in a file, for the agents they name; the rest keep 0.5
/// and are flagged.
pub fn labels(agents: usize, given: &[(u32, f64)], in_file: usize) -> Estimate {
    let mut stance = vec![0.5; agents];
    let mut source = vec![Source::LowSignal; agents];
    let mut confidence = vec![0.0; agents];
    for &(a, s) in given {
        stance[a as usize] = s;
        source[a as usize] = Source::Label;
        confidence[a as usize] = 1.0;
    }
    finish(
        stance,
        None,
        source,
        confidence,
        Diagnostics {
            method: "csv".into(),
            orientation: "as given".into(),
            labels_given: Some(in_file),
            labels_matched: Some(given.len()),
            ..Diagnostics::default()
        },
    )
}

#[cfg(test)]
mod evidence_tests {
    use super::*;

    #[test]
    fn one_lexicon_hit_decides_nothing_and_a_few_do_not_make_an_extreme() {
        let hits = [[0, 1], [1, 0], [0, 2], [0, 3], [3, 0], [5, 5], [0, 0]];
        let e = lexicon(&hits);
        // Fewer than three hits: 0.5, low signal.
        for a in [0, 1, 2, 6] {
            assert_eq!((e.stance[a], e.source[a]), (0.5, Source::LowSignal), "agent {a}");
        }
        // (upper + 1) / (hits + 2): 3 of 3 upper give 4/5, none of 3 give 1/5.
        assert_eq!(e.stance[3], 0.8);
        assert_eq!(e.stance[4], 0.2);
        assert_eq!(e.stance[5], 0.5);
        assert_eq!(e.source[3], Source::Lexicon);
        assert_eq!(e.diagnostics.estimated, 3);
        assert!(
            e.diagnostics.warnings[0].starts_with("3 agents with 1 to 2 lexicon hits"),
            "{:?}",
            e.diagnostics.warnings
        );
    }

    #[test]
    fn no_bimodality_is_claimed_from_a_handful_of_agents_or_from_seeds() {
        // 13 estimated agents in two clumps: too few to say anything.
        let stance: Vec<f64> = (0..100).map(|a| if a % 2 == 0 { 0.1 } else { 0.9 }).collect();
        let mut source = vec![Source::LowSignal; 100];
        source[..13].fill(Source::Propagated);
        let e = finish(
            stance.clone(),
            None,
            source.clone(),
            vec![0.0; 100],
            Diagnostics::default(),
        );
        assert_eq!(e.diagnostics.bimodality, None);
        assert!(
            e.diagnostics.warnings[0].contains("13 agents were estimated"),
            "{:?}",
            e.diagnostics.warnings
        );
        // Seeds are given, not estimated: they do not count.
        source.fill(Source::Seed);
        source[..13].fill(Source::Propagated);
        let e = finish(stance.clone(), None, source, vec![0.0; 100], Diagnostics::default());
        assert_eq!(e.diagnostics.bimodality, None);
        // Every agent estimated: two clumps of 50 give Sarle's coefficient
        // of a symmetric two-point distribution, computed by hand:
        // skewness 0, excess kurtosis ((n+1)(-2)+6)(n-1)/((n-2)(n-3)).
        let e = finish(
            stance,
            None,
            vec![Source::Propagated; 100],
            vec![0.0; 100],
            Diagnostics::default(),
        );
        let n: f64 = 100.0;
        let kurt = ((n + 1.0) * -2.0 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0));
        let expected = 1.0 / (kurt + 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0)));
        assert!((e.diagnostics.bimodality.unwrap() - expected).abs() < 1e-12);
        assert!(expected > 0.9);
    }

    #[test]
    fn bimodality_is_read_on_the_scores_not_on_the_mapped_stances() {
        // One normal camp: the logistic at slope 4 piles the stances at both
        // ends, and their coefficient reads two modes; the scores' does not.
        let scores: Vec<f64> = (0..2000)
            .map(|k| {
                // Normal quantiles by the probit's rational approximation
                // are not needed: a symmetric unimodal triangle will do.
                let u = (k as f64 + 0.5) / 2000.0;
                if u < 0.5 {
                    -1.0 + (2.0 * u).sqrt()
                } else {
                    1.0 - (2.0 * (1.0 - u)).sqrt()
                }
            })
            .collect();
        let (stance, _) = to_stance(&scores, &vec![1.0; 2000], &[], 4.0);
        let of_stances = bimodality_coefficient(&stance).unwrap();
        let source = vec![Source::Fitted; 2000];
        let e = finish(stance, Some(&scores), source, vec![0.0; 2000], Diagnostics::default());
        let of_scores = e.diagnostics.bimodality.unwrap();
        assert!(of_scores < 5.0 / 9.0, "{of_scores}");
        assert!(of_stances > of_scores, "{of_stances} vs {of_scores}");
    }
}

#[cfg(test)]
mod shape_tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// n standard normal draws (Box–Muller), seeded.
    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let (u, v): (f64, f64) = (rng.random(), rng.random());
                (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect()
    }

    /// Counts in `bins` equal bins over [lo, hi].
    fn histogram(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<usize> {
        let mut counts = vec![0; bins];
        for &v in values {
            let b = (((v - lo) / (hi - lo)) * bins as f64).floor();
            if (0.0..bins as f64).contains(&b) {
                counts[b as usize] += 1;
            }
        }
        counts
    }

    /// Whether the histogram has a dip: a bin below both a bin to its left
    /// and one to its right by a margin far above sampling noise.
    fn has_two_modes(counts: &[usize]) -> bool {
        let n = counts.len();
        (1..n - 1).any(|m| {
            let left = counts[..m].iter().max().copied().unwrap_or(0) as f64;
            let right = counts[m + 1..].iter().max().copied().unwrap_or(0) as f64;
            (counts[m] as f64) < 0.9 * left.min(right)
        })
    }

    #[test]
    fn the_logistic_keeps_the_order_of_the_scores_but_not_the_shape_of_their_distribution() {
        let z = normals(400_000, 3);
        assert!(!has_two_modes(&histogram(&z, -3.0, 3.0, 30)));
        // One normal camp at slope 2: two modes in stance.
        let (stance, _) = to_stance(&z, &vec![1.0; z.len()], &[], 2.0);
        assert!(has_two_modes(&histogram(&stance, 0.0, 1.0, 20)));
        // Slope 1 keeps it one mode.
        let (stance, _) = to_stance(&z, &vec![1.0; z.len()], &[], 1.0);
        assert!(!has_two_modes(&histogram(&stance, 0.0, 1.0, 20)));
    }

    #[test]
    fn two_camps_can_read_below_five_ninths() {
        // ½N(−1.1, 1) + ½N(1.1, 1): two modes (the camps are more than two
        // standard deviations apart), and a bimodality coefficient of
        // (1 + μ²)² / (3 + 6μ² + μ⁴) = 0.4166 in the limit.
        let z = normals(400_000, 5);
        let mixture: Vec<f64> = z
            .iter()
            .enumerate()
            .map(|(k, v)| v + if k % 2 == 0 { -1.1 } else { 1.1 })
            .collect();
        let density = |x: f64| {
            let phi = |u: f64| (-0.5 * u * u).exp() / (std::f64::consts::TAU).sqrt();
            0.5 * phi(x + 1.1) + 0.5 * phi(x - 1.1)
        };
        // A dip at 0 between maxima near ±0.7 (a shallow one: 2.6%).
        assert!(density(0.0) < 0.98 * density(0.7) && density(0.7) == density(-0.7));
        let mu2: f64 = 1.21;
        let limit = (1.0 + mu2).powi(2) / (3.0 + 6.0 * mu2 + mu2 * mu2);
        assert!((limit - 0.4166).abs() < 1e-4);
        let b = bimodality_coefficient(&mixture).unwrap();
        assert!((b - limit).abs() < 0.005, "{b}");
        assert!(b < 5.0 / 9.0);
        // And one mode can read above it: Z^2 (a gamma of shape 1/2, its
        // density falling from 0) has skewness sqrt(8) and excess kurtosis
        // 12, so (8 + 1) / (12 + 3) = 0.6 in the limit.
        let squares: Vec<f64> = z.iter().map(|v| v * v).collect();
        let b = bimodality_coefficient(&squares).unwrap();
        assert!((b - 0.6).abs() < 0.02 && b > 5.0 / 9.0, "{b}");
    }
}

#[cfg(test)]
mod cap_tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// (4/N) sum (s - mean)^2, the starting polarization of docs/indicators.md.
    fn polarization(stance: &[f64]) -> f64 {
        let n = stance.len() as f64;
        let mean = stance.iter().sum::<f64>() / n;
        4.0 / n * stance.iter().map(|s| (s - mean).powi(2)).sum::<f64>()
    }

    #[test]
    fn the_logistic_caps_the_starting_polarization_at_tanh_squared_of_half_the_slope() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for slope in [0.5, 1.0, 2.0, 4.0] {
            let cap = (slope / 2.0f64).tanh().powi(2);
            // Skewed, two-camp, heavy-tailed and tiny samples, some unscored.
            for trial in 0..40 {
                let n = 3 + trial * 7;
                let scores: Vec<f64> = (0..n)
                    .map(|k| match trial % 4 {
                        0 => rng.random::<f64>().powi(6),
                        1 => {
                            if k % 2 == 0 {
                                -3.0
                            } else {
                                5.0 + rng.random::<f64>()
                            }
                        }
                        2 => 1.0 / (rng.random::<f64>() + 1e-3),
                        _ if k % 3 == 0 => f64::NAN,
                        _ => rng.random::<f64>() - 0.5,
                    })
                    .collect();
                let (stance, _) = to_stance(&scores, &vec![1.0; n], &[], slope);
                let p = polarization(&stance);
                assert!(p <= cap * (1.0 + 1e-12), "slope {slope}, trial {trial}: {p} > {cap}");
            }
            // Two equal camps at exactly one standard deviation reach it.
            let scores: Vec<f64> = (0..1000).map(|k| if k % 2 == 0 { -1.0 } else { 1.0 }).collect();
            let (stance, _) = to_stance(&scores, &vec![1.0; 1000], &[], slope);
            assert!(
                (polarization(&stance) - cap).abs() < 1e-12 * cap.max(1.0),
                "slope {slope}"
            );
        }
        assert!(((0.5f64).tanh().powi(2) - 0.2135).abs() < 1e-4);
        assert!(((1.0f64).tanh().powi(2) - 0.580).abs() < 1e-3);
    }
}

#[cfg(test)]
mod fitted_on_tests {
    use super::*;

    /// Two camps of 40 followers, each following its own 4 of the 8 most
    /// followed accounts (agents 0 to 7), plus one account across.
    fn two_camps() -> Population {
        let mut follows = Vec::new();
        for j in 8..88u32 {
            let camp = if j < 48 { 0..4 } else { 4..8 };
            follows.extend(camp.map(|e| (j, e)));
            follows.push((j, if j < 48 { 4 } else { 0 }));
        }
        Population {
            agents: 88,
            steps: 1,
            stance: vec![0.5; 88],
            followers: vec![0.0; 88],
            follows,
            ..Default::default()
        }
    }

    #[test]
    fn fitted_on_every_account_is_the_full_fit_and_on_half_the_rest_are_placed_as_supplementary_rows() {
        let population = two_camps();
        let options = CaOptions {
            elites: 8,
            min_elites: 2,
            ..CaOptions::default()
        };
        let full = follows(&population, &options, &[]).unwrap();
        let all = vec![true; 88];
        assert_eq!(
            follows_fitted_on(&population, &options, &[], Some(&all))
                .unwrap()
                .stance,
            full.stance
        );
        let half: Vec<bool> = (0..88).map(|a| a % 2 == 0).collect();
        let fitted = follows_fitted_on(&population, &options, &[], Some(&half)).unwrap();
        for a in 8..88 {
            let expected = if a % 2 == 0 {
                Source::Fitted
            } else {
                Source::Supplementary
            };
            assert_eq!(fitted.source[a], expected, "account {a}");
            // Every account still lands on its camp's side.
            assert_eq!(fitted.stance[a] > 0.5, full.stance[a] > 0.5, "account {a}");
        }
        let error = follows_fitted_on(&population, &options, &[], Some(&[true; 3])).unwrap_err();
        assert!(error.to_string().contains("3 flags for 88 agents"), "{error}");
    }
}
