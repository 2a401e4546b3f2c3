//! The main job end to end: the binary, its outputs, and the report in a
//! real browser.

use std::path::Path;
use std::process::Command;

fn aumann(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_aumann"))
        .args(args)
        .output()
        .expect("the aumann binary runs")
}

#[test]
fn study_writes_its_tables_summary_and_a_report_that_renders_in_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("study");
    let run = aumann(&[
        "study",
        "--agents",
        "4000",
        "--days",
        "5",
        "--indicator",
        "all",
        "--sample",
        "40",
        "--permutations",
        "60",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}\n{}",
        stdout,
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains("completeness gap") && stdout.contains("report:"),
        "{stdout}"
    );
    // No progress bar leaks into a pipe.
    assert!(!String::from_utf8_lossy(&run.stderr).contains('\r'));

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let indicators = summary["indicators"].as_array().unwrap();
    assert_eq!(indicators.len(), 6);
    for study in indicators {
        let gap = study["full"]["relative_gap"].as_f64().unwrap();
        assert!(gap <= 1e-6, "{}: gap {gap}", study["indicator"]["name"]);
        assert_eq!(study["tiers"].as_array().unwrap().len(), 3);
        let name = study["indicator"]["name"].as_str().unwrap();
        let top = &study["panels"][0];
        assert_eq!(top["kind"], "top-followers");
        let errors = &study["full"]["agent_errors"];
        assert!(errors["max_abs_error"].as_f64().unwrap() >= 0.0);
        assert!(errors["agents_above_floor"].as_u64().unwrap() > 0, "{errors}");
        if name == "linear" {
            // The study's own check of the control, and the comparison it
            // reads: the separable linear control is reconciled by c* = 1.
            let check = &study["control_check"];
            assert_eq!(check["passed"], true, "{check}");
            assert!(check["panels_checked"].as_u64().unwrap() >= 1);
            for a in top["attributions"].as_array().unwrap() {
                assert_eq!(a["comparison"]["verdict"], "reconciled", "{a}");
                assert!((a["comparison"]["rescale"].as_f64().unwrap() - 1.0).abs() < 1e-6);
                assert!(a["comparison"]["residual"].as_f64().unwrap() < 1e-6);
            }
        }
        assert!(out.join(format!("attributions-{name}.parquet")).exists());
        assert!(out.join(format!("steps-{name}.parquet")).exists());
        assert!(out.join(format!("curves-{name}.parquet")).exists());
        // Who they are, when it happened, and whether the ranking is faithful.
        let top = study["top_agents"].as_array().unwrap();
        assert!(!top.is_empty() && top.len() <= 100);
        assert!(top[0]["external_id"].as_str().unwrap().starts_with("synth:"));
        assert!(study["timing"]["gini"].as_f64().unwrap() > 0.0);
        let groups: Vec<&str> = study["timing"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["group"].as_str().unwrap())
            .collect();
        assert_eq!(groups, ["community 0", "community 1"], "the generator's communities");
        let rankings: Vec<&str> = study["curves"]["rankings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ranking"].as_str().unwrap())
            .collect();
        assert_eq!(
            rankings,
            [
                "aumann-shapley",
                "followers",
                "activity",
                "pagerank",
                "random (mean of 3)"
            ]
        );
        let kinds: Vec<&str> = study["panels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["top-followers", "random", "snowball"]);
        if name == "polarization" {
            // The snowball panel is connected, so its verdict is defined.
            let snowball = &study["panels"][2]["attributions"][0]["comparison"]["verdict"];
            assert_ne!(snowball, "undefined", "{}", study["panels"][2]);
        }
    }

    let check = r#"
import sys, pandas as pd
a = pd.read_parquet(sys.argv[1] + "/attributions-polarization.parquet")
assert list(a.columns) == ["agent", "external_id", "followers", "tier", "activity", "phi", "error", "phi_panel", "phi_panel_shapley"], a.columns
assert len(a) == 4000 and set(a.tier) == {"head", "middle", "tail"}
assert a.phi_panel.notna().sum() == 40 and a.phi_panel_shapley.notna().sum() == 40
s = pd.read_parquet(sys.argv[1] + "/steps-polarization.parquet")
assert abs(s.groupby("agent").phi.sum().reindex(a.agent, fill_value=0).values - a.phi.values).max() < 1e-12
print("ok")
"#;
    let py = Command::new("python3").arg("-c").arg(check).arg(&out).output().unwrap();
    let stderr = String::from_utf8_lossy(&py.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "this test reads the tables with pandas, which python3 lacks: run `bash scripts/test`, which installs pandas and pyarrow\n{stderr}"
    );
    assert!(py.status.success(), "{stderr}");

    // Per indicator: Lorenz curves, tier shares, the panel scatter, the
    // step profile, deletion and insertion, the sensitivity analysis's
    // ranges; then the timings.
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let tables = html.matches(r#"class="sortable""#).count();
    assert!(
        tables >= 6,
        "a top-agents table per indicator, and some of the most negative"
    );
    assert!(!html.contains("rendered") || html.contains(r#"<p id="status" hidden>"#));
    render_in_chromium(&out.join("report.html"), 6 * 7 + 1, tables);
    figures_open_in_chromium(&out.join("figures"), 6 * 7, dir.path());
}

/// Every chart of the report is in `figures` as SVG, PNG and PDF, at one
/// and two journal columns, with the CSV of its data; the SVG prints at a
/// size in mm and holds its text as outlines; every SVG and PNG opens in
/// the browser, every PDF is one.
fn figures_open_in_chromium(figures: &Path, charts: usize, scratch: &Path) {
    let mut names: Vec<String> = std::fs::read_dir(figures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let data: Vec<&String> = names.iter().filter(|n| n.ends_with(".csv")).collect();
    assert_eq!(data.len(), charts, "{names:?}");
    let mut images = Vec::new();
    for csv in data {
        let stem = csv.trim_end_matches(".csv");
        let text = std::fs::read_to_string(figures.join(csv)).unwrap();
        assert!(text.lines().count() > 1, "{csv} holds no data");
        for file in [
            format!("{stem}.svg"),
            format!("{stem}-column.svg"),
            format!("{stem}.png"),
            format!("{stem}-column.png"),
            format!("{stem}.pdf"),
            format!("{stem}-column.pdf"),
        ] {
            let path = figures.join(&file);
            assert!(path.is_file(), "{file} is missing beside {csv}");
            if file.ends_with(".svg") {
                let svg = std::fs::read_to_string(&path).unwrap();
                let mm = if file.ends_with("-column.svg") { "88mm" } else { "180mm" };
                assert!(svg.contains(&format!(r#"width="{mm}""#)), "{file}");
                assert!(!svg.contains("<text"), "{file} has text that needs a font");
            }
            if file.ends_with(".pdf") {
                assert!(std::fs::read(&path).unwrap().starts_with(b"%PDF-"), "{file}");
                continue;
            }
            images.push(path);
        }
    }
    assert_eq!(names.len(), 7 * charts, "{names:?}");
    let tags: String = images
        .iter()
        .map(|p| format!(r#"<img src="file://{}">"#, p.display()))
        .collect();
    let page = scratch.join("figures.html");
    std::fs::write(
        &page,
        format!(
            r#"<!doctype html><html><body>{tags}<p id="status">not loaded</p><script>
window.addEventListener('load', function () {{
  var all = document.images, opened = 0, bad = [];
  for (var i = 0; i < all.length; i++) {{
    if (all[i].complete && all[i].naturalWidth > 0) opened++; else bad.push(all[i].src);
  }}
  document.getElementById('status').textContent = 'opened ' + opened + ' of ' + all.length + ' figures ' + bad.join(' ');
}});
</script></body></html>"#
        ),
    )
    .unwrap();
    let dom = chromium_dom(&page);
    let expected = format!("opened {0} of {0} figures", images.len());
    assert!(
        dom.contains(&expected),
        "{}",
        dom.lines().filter(|l| l.contains("status")).collect::<String>()
    );
}

/// Opens the page in headless Chromium and fails on any script error, on a
/// chart the page's own check finds empty or without data, or on a table
/// that does not sort both ways when its header is clicked.
fn render_in_chromium(page: &Path, charts: usize, tables: usize) {
    let dom = chromium_dom(page);
    let expected = format!("rendered {charts} charts; sorted {tables} tables");
    assert!(
        dom.contains(&expected),
        "the page did not report '{expected}':\n{}",
        dom.lines().filter(|l| l.contains("status")).collect::<String>()
    );
}

/// The DOM of `page` once headless Chromium has loaded it and run its
/// scripts; fails on a script error.
fn chromium_dom(page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let browser = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test opens the report in a real browser and could not start chromium ({e}): \
                 install Debian's chromium package, or run `bash scripts/test`, which installs it"
            )
        });
    let dom = String::from_utf8_lossy(&browser.stdout);
    let log = String::from_utf8_lossy(&browser.stderr);
    assert!(browser.status.success(), "{log}");
    assert!(!log.contains("Uncaught"), "script error:\n{log}");
    dom.into_owned()
}

#[test]
fn figures_go_where_they_are_asked_and_nowhere_else() {
    let dir = tempfile::tempdir().unwrap();
    let (out, apart) = (dir.path().join("study"), dir.path().join("paper-figures"));
    let small = [
        "study",
        "--agents",
        "300",
        "--days",
        "2",
        "--sample",
        "0",
        "--no-curves",
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = small.to_vec();
        args.extend_from_slice(extra);
        aumann(&args)
    };
    let done = run(&["--out", out.to_str().unwrap(), "--figures", apart.to_str().unwrap()]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(
        !out.join("figures").exists(),
        "the figures went to --figures, not --out"
    );
    let mut names: Vec<String> = std::fs::read_dir(&apart)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // Lorenz, tiers, steps and the sensitivity analysis (no panel, no
    // curves), 7 files each, and the directory's own run.json.
    assert_eq!(names.len(), 4 * 7 + 1, "{names:?}");
    assert!(names.contains(&"polarization-lorenz-column.svg".to_string()));
    assert!(names.contains(&"run.json".to_string()));
    // --no-figures writes none; a --figures inside --out, or --out itself,
    // is refused before any work.
    let done = run(&["--out", out.to_str().unwrap(), "--no-figures"]);
    assert!(done.status.success());
    assert!(!out.join("figures").exists());
    // Whether --out exists yet or not.
    let fresh = dir.path().join("fresh");
    for (out, figures) in [
        (&out, out.join("figs")),
        (&out, out.clone()),
        (&out, dir.path().to_path_buf()),
        (&fresh, fresh.join("figs")),
    ] {
        let refused = run(&["--out", out.to_str().unwrap(), "--figures", figures.to_str().unwrap()]);
        assert!(!refused.status.success());
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(err.contains("overlaps --out"), "{err}");
    }
    assert!(!fresh.exists(), "refused before any work");
}

#[test]
fn bad_arguments_are_explained() {
    let run = aumann(&["study", "--indicator", "happiness"]);
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("unknown indicator 'happiness'") && err.contains("polarization"),
        "{err}"
    );
    let run = aumann(&["study", "--tiers", "0.5,0.7", "--agents", "100"]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("sum to at most 1"));
    let run = aumann(&["attribute", "--input", "/nonexistent/population"]);
    assert!(String::from_utf8_lossy(&run.stderr).contains("not a population directory"));
}

#[test]
fn panel_draws_spread_the_sampled_panels_verdicts_in_the_summary_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("study");
    let run = aumann(&[
        "study",
        "--agents",
        "2000",
        "--days",
        "4",
        "--indicator",
        "cascade",
        "--sample",
        "40",
        "--permutations",
        "0",
        "--no-curves",
        "--no-figures",
        "--panel-draws",
        "4",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let draws = summary["indicators"][0]["panel_draws"].as_array().unwrap();
    let kinds: Vec<&str> = draws.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["random", "snowball"]);
    for d in draws {
        let counted: u64 = d["verdicts"]
            .as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum();
        assert_eq!(counted + d["skipped"].as_u64().unwrap(), 4, "{d}");
    }
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(report.contains("Across 4 draws of each sampled panel"));
    let refused = aumann(&[
        "study",
        "--agents",
        "300",
        "--days",
        "2",
        "--panel-draws",
        "0",
        "--out",
        dir.path().join("no").to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("--panel-draws takes 1 to"),
        "{stderr}"
    );
}
