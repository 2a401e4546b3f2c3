//! The Twitter15/16 trees: a tree becomes agents, tweets, reposts and
//! exposures at the steps of their delays, and every line is used or
//! counted by the reason it was left out.

use aumann_data::ingest::twitter_trees::{TreeError, TreeOptions, ingest};

fn edge(parent: (&str, &str, &str), child: (&str, &str, &str)) -> String {
    format!(
        "['{}', '{}', '{}']->['{}', '{}', '{}']\n",
        parent.0, parent.1, parent.2, child.0, child.1, child.2
    )
}

/// A dataset directory with one clean tree and one with every kind of
/// line the reader leaves out.
fn dataset(dir: &std::path::Path) {
    std::fs::create_dir_all(dir.join("tree")).unwrap();
    std::fs::write(dir.join("label.txt"), "false:100\ntrue:200\nnot a label line\n").unwrap();
    let root = ("ROOT", "ROOT", "0.0");
    // Tree 100: a posts; b retweets a at 30 min; c retweets b at 90 min.
    let a = ("a", "100", "0.0");
    let b = ("b", "101", "30.0");
    let c = ("c", "102", "90.0");
    let mut tree = edge(root, a) + &edge(a, b) + &edge(b, c);
    std::fs::write(dir.join("tree/100.txt"), &tree).unwrap();
    // Tree 200: the root's own line dated after its first retweet (its
    // time is 0 whatever it says), then:
    let x = ("x", "200", "5.0");
    tree = edge(root, x);
    tree += &edge(("x", "200", "0.0"), ("y", "201", "10.0")); // kept
    tree += &edge(("y", "201", "10.0"), ("y", "202", "20.0")); // a cycle: y retweeting itself
    tree += &edge(("x", "200", "0.0"), ("y", "203", "30.0")); // y again: a repeated user
    tree += &edge(("nobody", "204", "1.0"), ("z", "205", "40.0")); // a parent not in the tree
    tree += &edge(("x", "200", "0.0"), ("w", "206", "-3.0")); // dated before its source
    tree += &edge(("x", "200", "0.0"), ("v", "207", "20000.0")); // past the window
    tree += &edge(("v", "207", "20000.0"), ("u", "208", "20001.0")); // past it too
    tree += "['x', '200', '0.0']->['broken']\n"; // a malformed node
    tree += "no arrow here\n";
    std::fs::write(dir.join("tree/200.txt"), &tree).unwrap();
    // Not a tree file: ignored.
    std::fs::write(dir.join("tree/README"), "notes").unwrap();
}

#[test]
fn trees_become_tweets_reposts_and_exposures_and_every_line_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path());
    let (data, report) = ingest(&[dir.path().to_path_buf()], &TreeOptions::default()).unwrap();
    assert_eq!(report.trees, 2);
    assert_eq!(report.trees_by_label.get("false"), Some(&1));
    assert_eq!(report.trees_by_label.get("true"), Some(&1));
    // Agents: a, b, c of tree 100; x, y of tree 200.
    assert_eq!(data.external_ids, ["100:a", "100:b", "100:c", "200:x", "200:y"]);
    assert_eq!(
        data.groups.as_deref(),
        Some(&["false", "false", "false", "true", "true"].map(String::from)[..])
    );
    let p = &data.population;
    // Steps of an hour: 0, 0, 1 (90 min); 0, 0.
    let activity: Vec<(u32, u32)> = p.activity.iter().map(|a| (a.agent, a.step)).collect();
    assert_eq!(activity, [(0, 0), (1, 0), (2, 1), (3, 0), (4, 0)]);
    assert_eq!(p.steps, 2);
    let reposts: Vec<(u32, u32, u32, u32)> = p
        .reposts
        .iter()
        .map(|r| (r.reposter, r.step, r.parent_author, r.parent_step))
        .collect();
    assert_eq!(reposts, [(1, 0, 0, 0), (2, 1, 1, 0), (4, 0, 3, 0)]);
    let exposures: Vec<(u32, u32, u32, Option<u32>)> = p
        .exposures
        .iter()
        .map(|e| (e.reader, e.author, e.step, e.posted))
        .collect();
    assert_eq!(exposures, [(1, 0, 0, Some(0)), (2, 1, 1, Some(0)), (4, 3, 0, Some(0))]);
    let t = &report.tally;
    assert_eq!(t.used.get("retweets"), Some(3));
    for (why, n) in [
        ("retweets that would make a user its own ancestor", 1),
        ("retweets by a user already in the tree (the first kept)", 1),
        ("retweets whose parent is not in the tree", 1),
        ("reposts and quotes whose parent is dated after them", 1),
        ("records outside the window", 2),
        ("malformed: tree node", 1),
        ("malformed: tree line without ->", 1),
        ("malformed: label line", 1),
    ] {
        assert_eq!(t.skipped.get(why), Some(n), "{why}: {:?}", t.skipped);
    }
    // Every edge line of the trees is used or skipped: 2 + 9 edges.
    let edges = 2 + 9;
    let skipped_edges: u64 = t
        .skipped
        .iter()
        .filter(|(why, _)| !why.contains("label"))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(t.used.get("retweets").unwrap() + skipped_edges, edges);
}

#[test]
fn a_tree_another_dataset_already_gave_is_read_once() {
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    dataset(one.path());
    dataset(two.path());
    let alone = ingest(&[one.path().to_path_buf()], &TreeOptions::default()).unwrap();
    let (data, report) = ingest(
        &[one.path().to_path_buf(), two.path().to_path_buf()],
        &TreeOptions::default(),
    )
    .unwrap();
    assert_eq!(data.external_ids, alone.0.external_ids);
    assert_eq!(data.population.activity, alone.0.population.activity);
    assert_eq!((report.trees, report.repeated_trees), (2, 2));
    // Every line of the repeated files is counted, the ROOT lines too:
    // 3 + 10 nonblank lines.
    let repeated = "lines of trees another dataset already gave (the first kept)";
    assert_eq!(report.tally.skipped.get(repeated), Some(13));
}

#[test]
fn a_directory_without_trees_and_bad_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let refused = ingest(&[dir.path().to_path_buf()], &TreeOptions::default()).unwrap_err();
    assert!(matches!(refused, TreeError::NotADataset(_)), "{refused}");
    assert!(refused.to_string().contains("holds no tree/ folder"));
    dataset(dir.path());
    for (step, window) in [(0.0, 60.0), (f64::NAN, 60.0), (60.0, 30.0)] {
        let options = TreeOptions {
            step_minutes: step,
            window_minutes: window,
        };
        assert!(
            ingest(&[dir.path().to_path_buf()], &options).is_err(),
            "{step} {window}"
        );
    }
    // A window so long the population cannot hold its steps.
    let options = TreeOptions {
        step_minutes: 0.001,
        window_minutes: 1e9,
    };
    let big = dir.path().join("big");
    std::fs::create_dir_all(big.join("tree")).unwrap();
    std::fs::write(
        big.join("tree/1.txt"),
        edge(("ROOT", "ROOT", "0.0"), ("a", "1", "0.0")) + &edge(("a", "1", "0.0"), ("b", "2", "900000.0")),
    )
    .unwrap();
    assert!(matches!(ingest(&[big], &options), Err(TreeError::TooLarge(_))));
}
