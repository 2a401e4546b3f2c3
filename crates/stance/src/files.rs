//! The files a user brings: labelled accounts, and term lists.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StanceFileError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

fn invalid(path: &Path, message: String) -> StanceFileError {
    StanceFileError::Invalid {
        path: path.to_path_buf(),
        message,
    }
}

/// Reads `external_id,stance` rows (a header row is allowed: a first row
/// whose stance is not a number), stance in (0, 1). A file of
/// `external_id,step,stance` rows (stances observed per step, as
/// [`read_stances_per_step`] reads them) gives the rows of step 0: the
/// stances a replay starts from. An id given twice with
/// the same stance counts once; with two stances it is an error naming both
/// rows. Returns the agents the ids name, with their stance, and how many
/// rows the file held.
pub fn read_labels(path: &Path, external_ids: &[String]) -> Result<(Vec<(u32, f64)>, usize), StanceFileError> {
    let index: HashMap<&str, u32> = external_ids
        .iter()
        .enumerate()
        .map(|(a, id)| (id.as_str(), a as u32))
        .collect();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| invalid(path, e.to_string()))?;
    let (mut given, mut rows) = (Vec::new(), 0);
    let mut first: HashMap<String, (usize, f64)> = HashMap::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(path, e.to_string()))?;
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        let (id, step, value) = match fields[..] {
            [id, value] => (id, None, value),
            [id, step, value] => (id, Some(step), value),
            _ => {
                return Err(invalid(
                    path,
                    format!("row {}: expected external_id,stance or external_id,step,stance", k + 1),
                ));
            }
        };
        let Ok(value) = value.parse::<f64>() else {
            if k == 0 {
                continue;
            }
            return Err(invalid(
                path,
                format!("row {}: stance '{value}' is not a number", k + 1),
            ));
        };
        if let Some(step) = step
            && parse_step(path, k, step)? != 0
        {
            continue;
        }
        if !(value > 0.0 && value < 1.0) {
            return Err(invalid(
                path,
                format!("row {}: stance {value} is outside (0, 1)", k + 1),
            ));
        }
        rows += 1;
        match first.get(id) {
            Some(&(_, earlier)) if earlier == value => continue,
            Some(&(row, earlier)) => {
                return Err(invalid(
                    path,
                    format!(
                        "rows {row} and {} give '{id}' two stances, {earlier} and {value}: keep one",
                        k + 1
                    ),
                ));
            }
            None => {
                first.insert(id.to_string(), (k + 1, value));
            }
        }
        if let Some(&a) = index.get(id) {
            given.push((a, value));
        }
    }
    given.sort_unstable_by_key(|g| g.0);
    Ok((given, rows))
}

fn parse_step(path: &Path, k: usize, step: &str) -> Result<u64, StanceFileError> {
    step.parse::<u64>().map_err(|_| {
        invalid(
            path,
            format!("row {}: step '{step}' is not a whole number of steps from 0", k + 1),
        )
    })
}

/// Stances observed per step, as [`read_stances_per_step`] reads them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StancesPerStep {
    /// (agent, step, stance), by agent and then step.
    pub given: Vec<(u32, u32, f64)>,
    /// Rows read (a repeated row counted once).
    pub rows: usize,
    /// Rows whose id is not in the population: counted and left out.
    pub unknown_agents: usize,
}

/// One observed stance before it is checked: its row (from 1), the
/// account's external id, the step and the stance.
pub struct StanceRow<'a> {
    pub row: usize,
    pub id: &'a str,
    pub step: i64,
    pub stance: f64,
}

/// Checks observed stances against a population of `external_ids` and a
/// window of `steps` steps: a step outside the window, a stance outside
/// (0, 1) or an account given two stances at one step is an error naming
/// its rows; an id the population does not hold is counted and left out;
/// a row repeated exactly counts once. `source` names the rows' origin in
/// the errors.
pub fn check_stances_per_step<'a>(
    source: &Path,
    rows: impl IntoIterator<Item = StanceRow<'a>>,
    external_ids: &[String],
    steps: usize,
) -> Result<StancesPerStep, StanceFileError> {
    let index: HashMap<&str, u32> = external_ids
        .iter()
        .enumerate()
        .map(|(a, id)| (id.as_str(), a as u32))
        .collect();
    let mut out = StancesPerStep::default();
    let mut first: HashMap<(String, i64), (usize, f64)> = HashMap::new();
    for StanceRow { row, id, step, stance } in rows {
        if step < 0 || step as u64 >= steps as u64 {
            return Err(invalid(
                source,
                format!(
                    "row {row}: step {step} is outside the population's window of {steps} steps (0 to {})",
                    steps.saturating_sub(1)
                ),
            ));
        }
        if !(stance > 0.0 && stance < 1.0) {
            return Err(invalid(source, format!("row {row}: stance {stance} is outside (0, 1)")));
        }
        match first.get(&(id.to_string(), step)) {
            Some(&(_, earlier)) if earlier == stance => continue,
            Some(&(earlier_row, earlier)) => {
                return Err(invalid(
                    source,
                    format!(
                        "rows {earlier_row} and {row} give '{id}' two stances at step {step}, {earlier} and {stance}: keep one"
                    ),
                ));
            }
            None => {
                first.insert((id.to_string(), step), (row, stance));
            }
        }
        out.rows += 1;
        match index.get(id) {
            Some(&a) => out.given.push((a, step as u32, stance)),
            None => out.unknown_agents += 1,
        }
    }
    out.given.sort_unstable_by_key(|g| (g.0, g.1));
    Ok(out)
}

/// Reads `external_id,step,stance` rows (a header row is allowed: a first
/// row whose step or stance is not a number): the stances observed per
/// step, from surveys or an estimate per window, checked as
/// [`check_stances_per_step`] checks them.
pub fn read_stances_per_step(
    path: &Path,
    external_ids: &[String],
    steps: usize,
) -> Result<StancesPerStep, StanceFileError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .map_err(|e| invalid(path, e.to_string()))?;
    let mut records = Vec::new();
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(|e| invalid(path, e.to_string()))?;
        let fields: Vec<String> = record.iter().map(|f| f.trim().to_string()).collect();
        let [id, step, stance] = &fields[..] else {
            return Err(invalid(
                path,
                format!("row {}: expected external_id,step,stance", k + 1),
            ));
        };
        let (Ok(step_number), Ok(value)) = (step.parse::<i64>(), stance.parse::<f64>()) else {
            if k == 0 {
                continue;
            }
            return Err(invalid(
                path,
                format!(
                    "row {}: step '{step}' and stance '{stance}' must be a whole number and a number",
                    k + 1
                ),
            ));
        };
        records.push((k + 1, id.clone(), step_number, value));
    }
    check_stances_per_step(
        path,
        records.iter().map(|(row, id, step, stance)| StanceRow {
            row: *row,
            id,
            step: *step,
            stance: *stance,
        }),
        external_ids,
        steps,
    )
}

/// Two term lists, the lower and the upper side of the stance axis.
///
/// The file is CSV `side,term`, side `lower` or `upper` (a header row
/// `side,term` is allowed). Terms are single tokens, matched
/// case-insensitively against the words of a text (letters, digits, '_' and
/// a leading '#', so hashtags match as written).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lexicon {
    terms: HashMap<String, usize>,
}

impl Lexicon {
    pub fn read(path: &Path) -> Result<Self, StanceFileError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_path(path)
            .map_err(|e| invalid(path, e.to_string()))?;
        let mut terms = HashMap::new();
        let mut rows: HashMap<String, usize> = HashMap::new();
        for (k, record) in reader.records().enumerate() {
            let record = record.map_err(|e| invalid(path, e.to_string()))?;
            let fields: Vec<&str> = record.iter().map(str::trim).collect();
            let [side, term] = fields[..] else {
                return Err(invalid(path, format!("row {}: expected side,term", k + 1)));
            };
            let side = match side.to_ascii_lowercase().as_str() {
                "lower" => 0,
                "upper" => 1,
                "side" if k == 0 => continue,
                other => {
                    return Err(invalid(
                        path,
                        format!("row {}: side '{other}' is neither lower nor upper", k + 1),
                    ));
                }
            };
            let term = term.to_lowercase();
            match terms.get(&term) {
                Some(&earlier) if earlier != side => {
                    return Err(invalid(
                        path,
                        format!(
                            "rows {} and {} put '{term}' on both sides: keep one",
                            rows[&term],
                            k + 1
                        ),
                    ));
                }
                Some(_) => {}
                None => {
                    rows.insert(term.clone(), k + 1);
                    terms.insert(term, side);
                }
            }
        }
        let sides = [0, 1].map(|s| terms.values().filter(|&&v| v == s).count());
        if sides.contains(&0) {
            return Err(invalid(path, "needs at least one lower and one upper term".into()));
        }
        Ok(Self { terms })
    }

    /// Hits of each side in a text.
    pub fn score(&self, text: &str) -> [u64; 2] {
        let mut hits = [0u64; 2];
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '#')) {
            if word.is_empty() {
                continue;
            }
            if let Some(&side) = self.terms.get(&word.to_lowercase()) {
                hits[side] += 1;
            }
        }
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_lexicons_are_read_with_their_errors_named() {
        let dir = std::env::temp_dir().join(format!("aumann-stance-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let labels = dir.join("seeds.csv");
        std::fs::write(&labels, "id,stance\nb,0.9\nnobody,0.2\na,0.1\n").unwrap();
        let ids = ["a".to_string(), "b".to_string()];
        assert_eq!(read_labels(&labels, &ids).unwrap(), (vec![(0, 0.1), (1, 0.9)], 3));
        std::fs::write(&labels, "a,1.5\n").unwrap();
        assert!(
            read_labels(&labels, &ids)
                .unwrap_err()
                .to_string()
                .contains("outside (0, 1)")
        );

        let terms = dir.join("terms.csv");
        std::fs::write(&terms, "side,term\nlower,#Left\nupper,right\n").unwrap();
        let lexicon = Lexicon::read(&terms).unwrap();
        assert_eq!(lexicon.score("#left and RIGHT, right; left"), [1, 2]);
        std::fs::write(&terms, "lower,a\n").unwrap();
        assert!(
            Lexicon::read(&terms)
                .unwrap_err()
                .to_string()
                .contains("one lower and one upper")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_label_given_twice_counts_once_and_two_different_ones_are_an_error_naming_both_rows() {
        let dir = tempfile::tempdir().unwrap();
        let labels = dir.path().join("seeds.csv");
        let ids = ["a".to_string(), "b".to_string()];
        std::fs::write(&labels, "id,stance\na,0.2\nb,0.9\na,0.2\n").unwrap();
        assert_eq!(read_labels(&labels, &ids).unwrap().0, vec![(0, 0.2), (1, 0.9)]);
        // The first row used to win silently, whichever it was.
        for text in ["a,0.2\nb,0.9\na,0.8\n", "a,0.8\nb,0.9\na,0.2\n"] {
            std::fs::write(&labels, text).unwrap();
            let err = read_labels(&labels, &ids).unwrap_err().to_string();
            assert!(err.contains("rows 1 and 3 give 'a' two stances"), "{err}");
        }
        // Ids outside the population conflict as well: the file is wrong.
        std::fs::write(&labels, "zed,0.2\nzed,0.3\n").unwrap();
        assert!(read_labels(&labels, &ids).is_err());
        let terms = dir.path().join("terms.csv");
        std::fs::write(&terms, "lower,left\nupper,right\nupper,Left\n").unwrap();
        let err = Lexicon::read(&terms).unwrap_err().to_string();
        assert!(err.contains("rows 1 and 3 put 'left' on both sides"), "{err}");
        std::fs::write(&terms, "lower,left\nupper,right\nlower,LEFT\n").unwrap();
        assert_eq!(Lexicon::read(&terms).unwrap().score("left"), [1, 0]);
    }

    #[test]
    fn stances_per_step_are_read_checked_and_their_first_step_starts_the_replay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("surveys.csv");
        let ids = ["a".to_string(), "b".to_string()];
        std::fs::write(
            &path,
            "external_id,step,stance\nb,1,0.7\na,0,0.2\nnobody,0,0.5\nb,0,0.6\na,0,0.2\na,2,0.3\n",
        )
        .unwrap();
        let read = read_stances_per_step(&path, &ids, 3).unwrap();
        assert_eq!(read.given, vec![(0, 0, 0.2), (0, 2, 0.3), (1, 0, 0.6), (1, 1, 0.7)]);
        assert_eq!((read.rows, read.unknown_agents), (5, 1));
        // As labels, the same file gives the stances at step 0.
        assert_eq!(read_labels(&path, &ids).unwrap(), (vec![(0, 0.2), (1, 0.6)], 4));
        let cases = [
            (
                "a,3,0.2\n",
                "step 3 is outside the population's window of 3 steps (0 to 2)",
            ),
            ("a,-1,0.2\n", "step -1 is outside"),
            (
                "a,0,0.2\nb,0,0.5\na,0,0.3\n",
                "rows 1 and 3 give 'a' two stances at step 0",
            ),
            ("a,1,1.0\n", "stance 1 is outside (0, 1)"),
            ("a,0,0.2\na,x,0.3\n", "row 2: step 'x' and stance '0.3' must be"),
            ("a,0.2\n", "row 1: expected external_id,step,stance"),
        ];
        for (text, says) in cases {
            std::fs::write(&path, text).unwrap();
            let err = read_stances_per_step(&path, &ids, 3).unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
        }
        std::fs::write(&path, "a,1.5,0.2\n").unwrap();
        let err = read_labels(&path, &ids).unwrap_err().to_string();
        assert!(err.contains("step '1.5' is not a whole number"), "{err}");
    }
}
