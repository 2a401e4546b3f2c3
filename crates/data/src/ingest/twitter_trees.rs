//! The Twitter15/16 propagation trees (Ma, Gao and Wong 2017; Liu et al.
//! 2015): real retweet cascades, one file per source tweet.
//!
//! A dataset directory holds `tree/` with one `SOURCE_ID.txt` per source
//! tweet and `label.txt` (`label:SOURCE_ID` per line: true, false,
//! unverified, non-rumor). Each line of a tree file is an edge
//! `['uid', 'tweet', 'delay']->['uid', 'tweet', 'delay']`, the delay in
//! minutes after the source tweet, the first line's parent `ROOT`.
//!
//! All trees become one population whose agents are (tree, user) pairs, so
//! that cascades do not read each other, grouped by the tree's label. Each
//! tweet is one unit of activity at the step of its delay (`step_minutes`
//! per step); each retweet is a repost of its parent's tweet, and an
//! exposure of the retweeter to it at the retweet's step (the latest step
//! at which the record proves the retweeter had seen it). The trees hold
//! only the accounts that retweeted, not their followers: nobody in them
//! read a tweet and stayed silent (docs/ingest.md).

use super::{Interner, Skip, Tally};
use crate::Dataset;
use aumann_models::{Activity, Exposure, Population, Repost};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Minutes per step unless told otherwise: an hour.
pub const DEFAULT_STEP_MINUTES: f64 = 60.0;
/// The window unless told otherwise: a week after each source tweet. Half
/// the retweets come within 70 minutes and 90% within a day; the last
/// come years later, and a window that long would not fit a replay.
pub const DEFAULT_WINDOW_MINUTES: f64 = 7.0 * 24.0 * 60.0;

#[derive(Clone, Debug)]
pub struct TreeOptions {
    pub step_minutes: f64,
    /// Retweets later than this after their source are left out (and
    /// counted), with whatever retweeted them.
    pub window_minutes: f64,
}

impl Default for TreeOptions {
    fn default() -> Self {
        Self {
            step_minutes: DEFAULT_STEP_MINUTES,
            window_minutes: DEFAULT_WINDOW_MINUTES,
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct TreeReport {
    pub trees: usize,
    /// Tree files whose source tweet an earlier directory already gave.
    pub repeated_trees: usize,
    /// Trees per label (`unlabelled` for a tree label.txt does not name).
    pub trees_by_label: BTreeMap<String, usize>,
    /// (tree, user) pairs.
    pub agents: usize,
    pub steps: usize,
    pub step_minutes: f64,
    pub window_minutes: f64,
    /// The most users in one tree.
    pub largest_tree: usize,
    pub tally: Tally,
}

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{0} holds no tree/ folder of tree files: a Twitter15/16 dataset directory holds tree/ (one SOURCE_ID.txt per source tweet) and label.txt"
    )]
    NotADataset(PathBuf),
    #[error("--step-minutes takes a number of minutes above 0, got {0}")]
    StepMinutes(f64),
    #[error("--window-minutes takes a number of minutes of at least one step ({step}), got {window}")]
    WindowMinutes { window: f64, step: f64 },
    #[error(transparent)]
    TooLarge(#[from] aumann_models::PopulationError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TreeError + '_ {
    move |source| TreeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// One tweet of a tree: its user and its delay in minutes.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    user: String,
    delay: f64,
}

/// `['uid', 'tweet', 'delay']` (the tweet id is not needed: a user's place
/// in the tree is its first retweet).
fn node(text: &str) -> Option<Node> {
    let inner = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    let fields: Vec<&str> = inner.split(',').map(|f| f.trim().trim_matches('\'')).collect();
    let [user, _tweet, delay] = fields[..] else { return None };
    let delay: f64 = delay.parse().ok()?;
    // A negative delay (a retweet dated before its source, which the
    // datasets hold) is read; the tree decides what to do with it.
    (!user.is_empty() && delay.is_finite()).then(|| Node {
        user: user.to_string(),
        delay,
    })
}

/// What one tree file holds, checked: the root and each kept retweet as
/// (user, parent user, delay), in the order of their delays.
struct Tree {
    root: Node,
    retweets: Vec<(Node, usize)>,
}

/// Reads one tree: malformed lines, retweets of a parent not in the tree,
/// repeated users and cycles are counted in `tally` and left out.
fn read_tree(text: &str, window: f64, tally: &mut Tally) -> Option<Tree> {
    let mut root: Option<Node> = None;
    let mut edges: Vec<(Node, Node)> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Some((parent, child)) = line.split_once("->") else {
            tally.skip(Skip::Malformed("tree line without ->"));
            continue;
        };
        let Some(child) = node(child) else {
            tally.skip(Skip::Malformed("tree node"));
            continue;
        };
        if parent.contains("'ROOT'") {
            if root.is_none() {
                // The source is the tree's time 0, whatever its own line
                // says (some are dated after their first retweets).
                root = Some(Node { delay: 0.0, ..child });
            } else {
                tally.skip(Skip::Malformed("a second ROOT line"));
            }
            continue;
        }
        let Some(parent) = node(parent) else {
            tally.skip(Skip::Malformed("tree node"));
            continue;
        };
        edges.push((parent, child));
    }
    let Some(root) = root else {
        if !edges.is_empty() {
            tally.skip_n(Skip::MissingParent, edges.len() as u64);
        }
        tally.skip(Skip::Malformed("tree without a ROOT line"));
        return None;
    };
    // In the order of the retweets' delays (stable: the file's order among
    // equal delays), each parent must be in the tree already.
    edges.sort_by(|a, b| a.1.delay.total_cmp(&b.1.delay));
    let mut place: HashMap<String, usize> = HashMap::from([(root.user.clone(), 0)]);
    let mut parents: Vec<Option<usize>> = vec![None];
    let mut delays = vec![0.0];
    let mut retweets = Vec::new();
    for (parent, child) in edges {
        if child.delay > window {
            tally.skip(Skip::RecordsOutsideWindow);
            continue;
        }
        let Some(&p) = place.get(&parent.user) else {
            tally.skip(Skip::MissingParent);
            continue;
        };
        if let Some(&c) = place.get(&child.user) {
            // Already in the tree: a cycle if it is the parent's ancestor
            // (or the parent itself), else a second retweet.
            let mut at = Some(p);
            let mut ancestor = false;
            while let Some(a) = at {
                if a == c {
                    ancestor = true;
                    break;
                }
                at = parents[a];
            }
            tally.skip(if ancestor { Skip::Cycle } else { Skip::RepeatedUser });
            continue;
        }
        if child.delay < delays[p] {
            tally.skip(Skip::ParentAfterRepost);
            continue;
        }
        place.insert(child.user.clone(), parents.len());
        parents.push(Some(p));
        delays.push(child.delay);
        retweets.push((child, p));
    }
    Some(Tree { root, retweets })
}

/// `label:SOURCE_ID` lines, by source id.
fn read_labels(path: &Path, tally: &mut Tally) -> Result<HashMap<String, String>, TreeError> {
    let mut labels = HashMap::new();
    if !path.exists() {
        return Ok(labels);
    }
    for line in std::fs::read_to_string(path).map_err(io(path))?.lines() {
        match line.trim().split_once(':') {
            Some((label, id)) if !label.is_empty() && !id.is_empty() => {
                labels.insert(id.trim().to_string(), label.trim().to_string());
            }
            _ if line.trim().is_empty() => {}
            _ => tally.skip(Skip::Malformed("label line")),
        }
    }
    Ok(labels)
}

/// Builds one population from the trees of every dataset directory in
/// `dirs` (each with tree/ and label.txt).
pub fn ingest(dirs: &[PathBuf], options: &TreeOptions) -> Result<(Dataset, TreeReport), TreeError> {
    let minutes = options.step_minutes;
    if !(minutes.is_finite() && minutes > 0.0) {
        return Err(TreeError::StepMinutes(minutes));
    }
    let window = options.window_minutes;
    if !(window.is_finite() && window >= minutes) {
        return Err(TreeError::WindowMinutes { window, step: minutes });
    }
    let mut report = TreeReport {
        step_minutes: minutes,
        window_minutes: window,
        ..TreeReport::default()
    };
    let step = |delay: f64| (delay / minutes).floor() as u32;
    let mut agents = Interner::default();
    let mut groups: Vec<String> = Vec::new();
    let mut sources_seen: std::collections::HashSet<String> = std::collections::HashSet::new();
    let (mut activity, mut exposures, mut reposts) = (Vec::new(), Vec::new(), Vec::new());
    for dir in dirs {
        let folder = dir.join("tree");
        if !folder.is_dir() {
            return Err(TreeError::NotADataset(dir.clone()));
        }
        let labels = read_labels(&dir.join("label.txt"), &mut report.tally)?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(io(&folder))?
            .map(|e| e.map(|e| e.path()).map_err(io(&folder)))
            .collect::<Result<_, _>>()?;
        files.retain(|p| p.extension().is_some_and(|e| e == "txt"));
        // Name order, so that the same directory gives the same ids.
        files.sort();
        for path in files {
            let source = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let text = String::from_utf8_lossy(&bytes);
            if !sources_seen.insert(source.clone()) {
                // The same cascade again (Twitter15 and Twitter16 share
                // source tweets): one cascade, read once.
                report.repeated_trees += 1;
                let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
                report.tally.skip_n(Skip::RepeatedTree, lines as u64);
                continue;
            }
            let Some(tree) = read_tree(&text, window, &mut report.tally) else {
                continue;
            };
            let label = labels.get(&source).cloned().unwrap_or_else(|| "unlabelled".into());
            *report.trees_by_label.entry(label.clone()).or_default() += 1;
            report.trees += 1;
            report.largest_tree = report.largest_tree.max(tree.retweets.len() + 1);
            // The tree's users as agents, the root first.
            let mut ids = Vec::with_capacity(tree.retweets.len() + 1);
            let mut steps = Vec::with_capacity(tree.retweets.len() + 1);
            for (node, _) in std::iter::once((&tree.root, 0)).chain(tree.retweets.iter().map(|(n, p)| (n, *p))) {
                let id = agents.id(&format!("{source}:{}", node.user));
                if id as usize == groups.len() {
                    groups.push(label.clone());
                }
                ids.push(id);
                steps.push(step(node.delay));
                activity.push(Activity {
                    agent: id,
                    step: step(node.delay),
                    amount: 1.0,
                });
            }
            for (k, (_, parent)) in tree.retweets.iter().enumerate() {
                let (child, parent) = (k + 1, *parent);
                exposures.push(Exposure {
                    reader: ids[child],
                    author: ids[parent],
                    step: steps[child],
                    posted: Some(steps[parent]),
                    amount: 1.0,
                });
                reposts.push(Repost {
                    reposter: ids[child],
                    step: steps[child],
                    parent_author: ids[parent],
                    parent_step: steps[parent],
                    amount: 1.0,
                });
            }
            report.tally.use_n("retweets", tree.retweets.len() as u64);
        }
    }
    let n = agents.len();
    let steps = activity.iter().map(|a| a.step as usize + 1).max().unwrap_or(1);
    aumann_models::population::check_size(n, steps)?;
    report.agents = n;
    report.steps = steps;
    report.tally.set_used("trees", report.trees as u64);
    let population = Population {
        agents: n,
        steps,
        stance: vec![0.5; n],
        // No follow graph in the trees.
        followers: vec![0.0; n],
        follows: Vec::new(),
        follow_spans: Vec::new(),
        activity,
        engagements: Vec::new(),
        orders: Vec::new(),
        exposures,
        reposts,
    };
    let meta = crate::Metadata::new(
        "twitter-trees",
        n,
        steps,
        (minutes * 60.0).round() as u64,
        None,
        serde_json::to_value(&report).expect("serialises"),
    );
    let external_ids = (0..n as u32).map(|i| agents.name(i).to_string()).collect();
    Ok((
        Dataset {
            population,
            external_ids,
            meta,
            stance_detail: None,
            lexicon_hits: None,
            groups: Some(groups),
        },
        report,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_reads_its_user_and_delay() {
        assert_eq!(
            node("['39364684', '265953285247209472', '0.45']"),
            Some(Node {
                user: "39364684".into(),
                delay: 0.45
            })
        );
        assert_eq!(node("['a', 'b']"), None);
        assert_eq!(
            node("['a', 'b', '-1.5']").map(|n| n.delay),
            Some(-1.5),
            "dated before the source: read, and left to the tree"
        );
        assert_eq!(node("['a', 'b', 'soon']"), None);
    }
}
