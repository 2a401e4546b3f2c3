//! The self-contained HTML report: one page, inline SVG charts, no network.

use crate::number::{percent, readable};
use crate::svg::{Chart, escape};
use crate::{IndicatorStudy, StudyResult};
use aumann_data::format::FormatError;
use std::fmt::Write;
use std::path::Path;

const STYLE: &str = r#"
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1180px; color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; } td, th { padding: 3px 10px; text-align: right; border-bottom: 1px solid #eee; }
th { background: #f6f6f6; } td:first-child, th:first-child { text-align: left; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 12px; }
.chart { width: 100%; height: auto; background: #fff; border: 1px solid #eee; }
.title { font-size: 14px; font-weight: 600; text-anchor: middle; } .tick { font-size: 11px; fill: #555; }
.label { font-size: 12px; fill: #333; } .legend { font-size: 11px; fill: #333; }
.grid { stroke: #eee; } .frame { fill: none; stroke: #bbb; } .point:hover { r: 6; }
.verdict { font-weight: 600; } .bias { color: #b00; } .ok { color: #070; } .muted { color: #777; }
th[data-sort] { cursor: pointer; } th[data-sort]:after { content: " ↕"; color: #aaa; }
.agents { max-height: 420px; overflow-y: auto; display: inline-block; } .agents table { margin: 0; }
input.search { margin: 0.4em 0; padding: 3px 6px; width: 260px; }
"#;

const SCRIPT: &str = r#"
window.addEventListener('error', function (e) {
  document.getElementById('status').textContent = 'error: ' + e.message;
});
function cellValue(row, column) {
  var cell = row.cells[column];
  var v = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent;
  var n = parseFloat(v);
  return isNaN(n) ? v.toLowerCase() : n;
}
function sortTable(table, column, descending) {
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  rows.sort(function (a, b) {
    var x = cellValue(a, column), y = cellValue(b, column);
    var c = x < y ? -1 : x > y ? 1 : 0;
    return descending ? -c : c;
  });
  rows.forEach(function (r) { body.appendChild(r); });
}
function isSorted(table, column, descending) {
  var rows = table.tBodies[0].rows;
  for (var i = 1; i < rows.length; i++) {
    var x = cellValue(rows[i - 1], column), y = cellValue(rows[i], column);
    if (descending ? x < y : x > y) return false;
  }
  return true;
}
document.addEventListener('DOMContentLoaded', function () {
  var tables = document.querySelectorAll('table.sortable');
  tables.forEach(function (table) {
    table.querySelectorAll('th[data-sort]').forEach(function (th, column) {
      th.addEventListener('click', function () {
        var descending = th.dataset.order !== 'desc';
        th.dataset.order = descending ? 'desc' : 'asc';
        sortTable(table, column, descending);
      });
    });
  });
  document.querySelectorAll('input.search').forEach(function (input) {
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase();
      var table = document.getElementById(input.dataset.table);
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
  });
  var charts = document.querySelectorAll('svg.chart');
  var bad = [];
  charts.forEach(function (svg, i) {
    var box = svg.getBBox();
    if (!(box.width > 0 && box.height > 0)) bad.push('chart ' + i + ' is empty');
    if (!svg.querySelector('polyline, circle, rect[height]:not(.frame)')) bad.push('chart ' + i + ' has no data');
    // The legend, as the browser lays its text out, covers no plotted mark.
    var legend = svg.querySelector('g.legend');
    if (legend) {
      var l = legend.getBBox();
      svg.querySelectorAll('.data').forEach(function (el) {
        var d = el.getBBox();
        if (l.x < d.x + d.width && d.x < l.x + l.width && l.y < d.y + d.height && d.y < l.y + l.height)
          bad.push('chart ' + i + ' has its legend over its data');
      });
    }
    svg.querySelectorAll('[points],[cx],[cy],[x],[y],[height]').forEach(function (el) {
      ['points', 'cx', 'cy', 'x', 'y', 'height'].forEach(function (a) {
        var v = el.getAttribute(a);
        if (v !== null && /NaN|inf/i.test(v)) bad.push('chart ' + i + ' has ' + a + '=' + v);
      });
    });
  });
  // Every sortable table sorts both ways on its first numeric column's
  // header click, and the search filters rows.
  var sorted = 0;
  tables.forEach(function (table, i) {
    var headers = table.querySelectorAll('th[data-sort]');
    var column = Array.prototype.findIndex.call(headers, function (h) { return h.dataset.sort === 'number'; });
    if (column < 0 || table.tBodies[0].rows.length === 0) return;
    headers[column].click();
    var down = isSorted(table, column, true);
    headers[column].click();
    var up = isSorted(table, column, false);
    if (down && up) sorted++; else bad.push('table ' + i + ' does not sort');
  });
  var status = document.getElementById('status');
  status.dataset.charts = charts.length;
  status.dataset.sorted = sorted;
  status.textContent = bad.length ? 'error: ' + bad.join('; ') : 'rendered ' + charts.length + ' charts; sorted ' + sorted + ' tables';
});
"#;

/// Writes report.html.
/// `load_seconds` is the time spent reading or generating the population
/// (None when the caller had it already, as Python does).
pub fn write(
    path: &Path,
    result: &StudyResult,
    load_seconds: Option<f64>,
    total_seconds: f64,
) -> Result<(), FormatError> {
    let html = render(result, load_seconds, total_seconds);
    std::fs::write(path, html).map_err(|source| FormatError::Io {
        path: path.to_path_buf(),
        source,
    })
}

pub fn render(result: &StudyResult, load_seconds: Option<f64>, total_seconds: f64) -> String {
    let p = &result.population;
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>aumann study: {agents} agents</title><style>{STYLE}</style></head><body>
<h1>Who produced the outcome, and how much</h1>
<p class="muted">{source} population: {agents} agents, {steps} steps, {edges} follow edges, {gates} gates (agent-steps with any action).
Replayed {network}.
Aumann–Shapley attribution over every agent; {panels}.</p>"#,
        source = escape(&p.source),
        agents = p.agents,
        steps = p.steps,
        edges = p.follow_edges,
        gates = p.gates,
        network = escape(&p.network.describe()),
        panels = escape(&panels_sentence(result)),
    );
    if let Some(fit) = &result.fit {
        fit_section(&mut h, result, fit);
    }
    for study in &result.indicators {
        indicator_section(&mut h, result, study);
    }
    timings(&mut h, result, load_seconds, total_seconds);
    let _ = write!(
        h,
        r#"<p id="status" hidden>not rendered</p><script>{SCRIPT}</script></body></html>"#
    );
    h
}

/// The fit's section: the estimates, the replay against what happened
/// step by step, and the scores on the steps held out (docs/fit.md).
fn fit_section(h: &mut String, result: &StudyResult, fit: &aumann_fit::Fit) {
    match fit {
        aumann_fit::Fit::Cascade(fit) => cascade_fit_section(h, result, fit),
        aumann_fit::Fit::Polarization(fit) => polarization_fit_section(h, result, fit),
    }
}

/// The total to attribute at each fitted parameter's interval ends: how
/// far the fit's uncertainty moves the headline size.
fn fit_range_table(h: &mut String, result: &StudyResult) {
    if result.fit_range.is_empty() {
        return;
    }
    h.push_str(
        "<p>The total to attribute, F(x) − F(x'), with each parameter at the ends of its interval (the others as used):</p>\
         <table><tr><th>parameter</th><th>at the lower end</th><th>as used</th><th>at the upper end</th></tr>",
    );
    let cell = |end: Option<(f64, f64)>| {
        end.map_or("n/a (the interval reaches the bound)".to_string(), |(v, total)| {
            format!("{} at {}", readable(total), readable(v))
        })
    };
    for r in &result.fit_range {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(r.parameter),
            cell(r.lower),
            cell(Some(r.used)),
            cell(r.upper)
        );
    }
    h.push_str("</table>");
}

/// The estimates with their intervals, defaults and the values used.
fn parameter_table(h: &mut String, parameters: &[aumann_fit::Estimate]) {
    h.push_str(
        "<table><tr><th>parameter</th><th>estimate</th><th>95% interval (profile likelihood)</th><th>default</th><th>used</th></tr>",
    );
    for p in parameters {
        let end = |x: Option<f64>, bound: &str| x.map_or(bound.to_string(), readable);
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>[{}, {}]</td><td>{}</td><td>{}{}</td></tr>",
            escape(p.name),
            if p.estimate.is_finite() {
                readable(p.estimate)
            } else {
                "no bound".into()
            },
            end(p.interval[0], "0"),
            end(p.interval[1], if p.name == "cascade-c" { "1" } else { "no bound" }),
            readable(p.default),
            readable(p.used),
            if p.identified {
                ""
            } else {
                " (not identified: the default)"
            }
        );
    }
    h.push_str("</table>");
}

/// Polarization's fit: κ, the trajectories, the one-step predictions and
/// the held-out scores.
fn polarization_fit_section(h: &mut String, result: &StudyResult, fit: &aumann_fit::PolarizationFit) {
    let d = &fit.data;
    let _ = write!(
        h,
        r#"<h2>Does the replay match what happened</h2><p>Polarization's κ was fitted to the stances observed per step ({observed} stances of {agents} agents;
{transitions} transitions, an agent observed at consecutive steps, {read_nothing} of them after reading nothing{unknown}). The replay starts from the
{at_start} stances observed at step 0 (the others from the population's), and the attribution below uses the value in the last column. Shocks to the
stances' log-odds: sd {sd}.</p>"#,
        observed = d.observed,
        agents = d.observed_agents,
        transitions = d.transitions,
        read_nothing = d.read_nothing,
        unknown = if d.unknown_accounts > 0 {
            format!(
                "; {} rows named accounts the population does not hold and were left out",
                d.unknown_accounts
            )
        } else {
            String::new()
        },
        at_start = d.observed_at_start,
        sd = readable(fit.noise_sd),
    );
    parameter_table(h, &fit.parameters);
    fit_range_table(h, result);
    h.push_str(
        "<h3>Polarization per step</h3><p>The polarization of the agents observed at each step, observed, and as the replay runs \
         from step 0 with no later observation entering it: with the κ used, the default, and without dynamics.</p>\
         <table><tr><th>step</th><th>agents</th><th>observed</th><th>fitted</th><th>defaults</th><th>no dynamics</th></tr>",
    );
    for s in &fit.trajectory {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            s.step, s.agents, s.observed, s.fitted, s.defaults, s.no_dynamics
        );
    }
    h.push_str("</table>");
    if let Some(e) = fit.trajectory_nrmse {
        let _ = write!(h, "<p>Normalised RMSE of the fitted replay's polarization: {e:.4}.</p>");
    }
    h.push_str("<div class=\"charts\">");
    for figure in crate::figures::fit_figures(result, crate::svg::WIDE) {
        h.push_str(&figure.svg);
    }
    h.push_str("</div>");
    let scores = |h: &mut String, rows: [(&str, &aumann_fit::polarization::StanceScores); 3]| {
        h.push_str("<table><tr><th>model</th><th>log-likelihood per observation</th><th>RMSE</th></tr>");
        for (name, s) in rows {
            let _ = write!(
                h,
                "<tr><td>{name}</td><td>{:.4}</td><td>{:.5}</td></tr>",
                s.log_likelihood_per_observation, s.rmse
            );
        }
        h.push_str("</table>");
    };
    match (&fit.held_out, &fit.held_out_skipped) {
        (Some(held), _) => {
            let _ = write!(
                h,
                r#"<h3>On steps held out of the fit</h3><p>Fitted on the transitions into steps 1 to {last} (κ = {kappa}), then used to predict
the {observations} transitions into steps {first_held} to {last_held}. Higher log-likelihood is better.</p>"#,
                last = held.fit_steps,
                kappa = readable(held.kappa),
                observations = held.fitted.observations,
                first_held = held.fit_steps + 1,
                last_held = held.fit_steps + held.held_out_steps,
            );
            scores(
                h,
                [
                    ("fitted replay", &held.fitted),
                    ("defaults", &held.defaults),
                    ("no dynamics", &held.no_dynamics),
                ],
            );
        }
        (None, Some(why)) => {
            let _ = write!(h, "<p>Nothing was held out: {}.</p>", escape(why));
        }
        (None, None) => {}
    }
    if let Some(cv) = &fit.cross_validated {
        let _ = write!(
            h,
            r#"<h3>Each step left out in turn</h3><p>Few steps were held out, so each of the {folds} read steps was also left out in turn,
fitted on the others, and its transitions predicted ({observations} in all).</p>"#,
            folds = cv.folds,
            observations = cv.fitted.observations,
        );
        scores(
            h,
            [
                ("fitted replay", &cv.fitted),
                ("defaults", &cv.defaults),
                ("no dynamics", &cv.no_dynamics),
            ],
        );
    }
}

/// The cascade's fit: the estimates, the replay against what happened
/// step by step, and the scores on the steps held out (docs/fit.md).
fn cascade_fit_section(h: &mut String, result: &StudyResult, fit: &aumann_fit::CascadeFit) {
    let d = &fit.data;
    let _ = write!(
        h,
        r#"<h2>Does the replay match what happened</h2><p>The cascade's parameters were fitted to who first engaged with or reshared others' content,
and when, given what each agent read ({at_risk} agent-steps at risk, {responses} first responses, {seeds} agents responding at step 0 taken as seeds;
{unexplained} first responses followed a step with nothing read and are outside the model). The attribution below uses the values in the last column.</p>"#,
        at_risk = d.at_risk,
        responses = d.responses,
        seeds = d.seeds,
        unexplained = d.unexplained,
    );
    parameter_table(h, &fit.parameters);
    fit_range_table(h, result);
    h.push_str(
        "<h3>First responses per step</h3><p>Observed, and expected (the sum of the agents' response probabilities) \
         with the fitted parameters, the defaults, and one constant response rate.</p>\
         <table><tr><th>step</th><th>at risk</th><th>observed</th><th>fitted</th><th>defaults</th><th>constant rate</th></tr>",
    );
    for s in &fit.responses_per_step {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            s.step, s.at_risk, s.observed, s.fitted, s.defaults, s.constant_rate
        );
    }
    h.push_str("</table>");
    h.push_str("<div class=\"charts\">");
    for figure in crate::figures::fit_figures(result, crate::svg::WIDE) {
        h.push_str(&figure.svg);
    }
    h.push_str("</div>");
    match (&fit.held_out, &fit.held_out_skipped) {
        (Some(held), _) => {
            let _ = write!(
                h,
                r#"<h3>On steps held out of the fit</h3><p>Fitted on the content read at steps 0 to {last} (β = {beta}, c = {c}), then used to predict
the first responses after steps {first_held} to {last_held}: {observations} agent-steps, {responses} responses. Higher log-likelihood is better; an AUC of 0.5 is chance.</p>"#,
                last = held.fit_steps - 1,
                beta = readable(held.beta),
                c = readable(held.c),
                first_held = held.fit_steps,
                last_held = held.fit_steps + held.held_out_steps - 1,
                observations = held.fitted.observations,
                responses = held.fitted.responses,
            );
            response_scores(h, [&held.fitted, &held.defaults, &held.constant_rate]);
        }
        (None, Some(why)) => {
            let _ = write!(h, "<p>Nothing was held out: {}.</p>", escape(why));
        }
        (None, None) => {}
    }
    if let Some(cv) = &fit.cross_validated {
        let skipped = if cv.folds_skipped == 0 {
            String::new()
        } else {
            format!(" ({} of them could not be fitted and are left out)", cv.folds_skipped)
        };
        let _ = write!(
            h,
            r#"<h3>Each step left out in turn</h3><p>Few steps were held out, so each of the {folds} read steps{skipped} was also left out in turn,
fitted on the others, and its {observations} agent-steps predicted; the predictions of every fold are scored together.</p>
"#,
            folds = cv.folds,
            observations = cv.fitted.observations,
        );
        response_scores(h, [&cv.fitted, &cv.defaults, &cv.constant_rate]);
    }
}

/// The cascade's three models scored on responses they were not fitted
/// to: the fitted replay, the defaults, a constant rate.
fn response_scores(h: &mut String, scores: [&aumann_fit::Scores; 3]) {
    h.push_str("<table><tr><th>model</th><th>log-likelihood per observation</th><th>AUC</th></tr>");
    for (name, s) in ["fitted replay", "defaults", "constant response rate"]
        .into_iter()
        .zip(scores)
    {
        let _ = write!(
            h,
            "<tr><td>{name}</td><td>{}</td><td>{}</td></tr>",
            s.log_likelihood_per_observation
                .map_or("−∞".into(), |v| format!("{v:.4}")),
            s.auc.map_or("n/a".into(), |v| format!("{v:.3}"))
        );
    }
    h.push_str("</table>");
}

/// Which panels were replayed on their own, or why none was.
fn panels_sentence(result: &StudyResult) -> String {
    let Some(study) = result.indicators.iter().find(|s| !s.panels.is_empty()) else {
        return "no panels".into();
    };
    if study.panels.iter().all(|p| p.skipped.is_some()) {
        let why = study.panels[0].skipped.as_deref().unwrap_or_default();
        return format!("no panel replayed: {why}");
    }
    let names: Vec<&str> = study.panels.iter().map(|p| p.kind.name()).collect();
    let size = study.panels[0].size;
    match names.as_slice() {
        [one] => format!("a {one} panel of {size} agents replayed on its own"),
        [rest @ .., last] => format!(
            "{} and {last} panels of {size} agents each replayed on their own",
            rest.join(", ")
        ),
        [] => "no panels".into(),
    }
}

fn indicator_section(h: &mut String, result: &StudyResult, study: &IndicatorStudy) {
    let f = &study.full;
    let name = study.indicator.name();
    if let Some(cause) = &f.flat_cause {
        let _ = write!(
            h,
            r#"<h2>{name}</h2><p class="verdict">Flat: F = {} with everyone silent and with what happened, and no agent moves it
(φ = 0 for every agent; no tier shares or panel comparisons). Likely cause: {}.</p>"#,
            readable(f.value_input),
            escape(cause)
        );
        return;
    }
    let _ = write!(
        h,
        r#"<h2>{name}</h2><p>F(all gates open) − F(all closed) = <b>{}</b>, split over {} agents by {} with {} nodes
({} gradient evaluations, {:.1} s, {:.0} passes over the follow graph). Completeness gap: <b>{:.1e}</b> relative
{}; per-agent error estimates: largest {:.1e} absolute, largest {:.1e} relative to the agent's |φ| (over the {} agents with |φ| at least 1e-6 of the largest).</p>"#,
        readable(f.value_input - f.value_baseline),
        result.population.agents,
        f.rule,
        f.nodes,
        f.gradient_evaluations,
        f.seconds,
        f.graph_passes,
        f.relative_gap,
        if f.converged {
            "(within tolerance)"
        } else {
            "(<b>above tolerance</b>)"
        },
        f.agent_errors.max_abs_error,
        f.agent_errors.max_relative_error,
        f.agent_errors.agents_above_floor,
    );
    for warning in &f.warnings {
        let _ = write!(h, r#"<p class="verdict">Note: {}.</p>"#, escape(warning));
    }
    // tiers
    let _ = write!(
        h,
        "<table><tr><th>tier</th><th>agents</th><th>min followers</th><th>share of Σφ</th><th>share of Σ|φ|</th></tr>"
    );
    for t in study.tiers.iter().flatten() {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t.tier.name(),
            t.agents,
            t.min_followers.map_or(String::new(), readable),
            percent(t.share),
            percent(t.abs_share)
        );
    }
    h.push_str("</table>");
    // panels
    let _ = write!(
        h,
        "<table><tr><th>panel</th><th>method</th><th>top-5 share (panel)</th><th>those 5 at full scale</th><th>Spearman</th><th>top-10 overlap</th><th>c*</th><th>residual</th><th>verdict</th><th>why</th><th>seconds</th></tr>"
    );
    for panel in &study.panels {
        if let Some(why) = &panel.skipped {
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td colspan="10" class="muted">{}</td></tr>"#,
                panel.kind.name(),
                escape(why)
            );
        }
        for a in &panel.attributions {
            let c = &a.comparison;
            let class = match c.verdict {
                crate::compare::Verdict::ScalingBias => "bias",
                crate::compare::Verdict::Reconciled => "ok",
                crate::compare::Verdict::Undefined | crate::compare::Verdict::SamePopulation => "muted",
                crate::compare::Verdict::NoFactor => "bias",
            };
            let _ = write!(
                h,
                r#"<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0}%</td><td>{}</td><td>{}</td><td class="verdict {class}">{}</td><td class="muted" style="text-align:left">{}</td><td>{:.2}</td></tr>"#,
                panel.kind.name(),
                a.method,
                percent(c.top5_share_panel),
                percent(c.top5_share_full),
                c.spearman.map_or("n/a".into(), |r| format!("{r:.2}")),
                100.0 * c.top10_overlap,
                readable(c.rescale),
                readable(c.residual),
                match c.verdict {
                    crate::compare::Verdict::ScalingBias => "scaling bias",
                    crate::compare::Verdict::Reconciled => "reconciled",
                    crate::compare::Verdict::Undefined => "undefined",
                    crate::compare::Verdict::SamePopulation => "same population",
                    crate::compare::Verdict::NoFactor => "no factor",
                },
                escape(
                    c.verdict
                        .describe()
                        .split_once(": ")
                        .map_or(c.verdict.describe(), |(_, why)| why)
                ),
                a.seconds
            );
        }
    }
    h.push_str("</table>");
    panel_draws(h, study);
    panel_curves(h, study);
    when(h, study);
    sensitivity_section(h, study);
    agents_table(h, study, name, true);
    agents_table(h, study, name, false);
    curves_table(h, study);
    h.push_str("<div class=\"charts\">");
    for figure in crate::figures::indicator_figures(result, study, crate::svg::WIDE) {
        h.push_str(&figure.svg);
    }
    h.push_str("</div>");
}

/// How robust: the conclusions under every alternative of the sensitivity
/// analysis, and each alternative's numbers.
fn sensitivity_section(h: &mut String, study: &IndicatorStudy) {
    let Some(s) = &study.sensitivity else {
        return;
    };
    let tried = s.alternatives.len() - 1;
    let attributed = s.alternatives.iter().skip(1).filter(|a| a.numbers.is_some()).count();
    let _ = write!(
        h,
        r#"<h3>How robust</h3><p>The attribution made again under {tried} other reasonable choices ({attributed} attributed;
docs/sensitivity.md says what each means and which axioms it keeps): other baselines, the time-ordered path, the
indicator's parameters, other stance estimates. Each is a complete attribution with its own completeness gap. The
conclusions the study draws, and whether each holds under every alternative ({:.1} attributions' worth of sweeps
over the replay, {:.1} s):</p><ul>"#,
        s.cost_in_attributions, s.seconds
    );
    for c in &s.conclusions {
        let class = if c.holds == c.tried { "ok" } else { "bias" };
        let _ = write!(
            h,
            r#"<li><b>{}</b>: <span class="verdict {class}">{}</span></li>"#,
            escape(&c.statement),
            escape(&c.verdict)
        );
    }
    h.push_str("</ul>");
    if !s.half_samples.is_empty() {
        let _ = write!(
            h,
            "<p>The stance estimate refitted on {} random halves of the accounts (each placing the other half as \
             supplementary rows): the spread its sampling gives each number, median [quartiles] (range).</p>\
             <table><tr><th>number</th><th>median [quartiles] (range)</th></tr>",
            s.half_samples.first().map_or(0, |n| n.spread.count)
        );
        for n in &s.half_samples {
            let x = &n.spread;
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{} [{}, {}] ({} to {})</td></tr>",
                n.number,
                readable(x.median),
                readable(x.q25),
                readable(x.q75),
                readable(x.min),
                readable(x.max)
            );
        }
        h.push_str("</table>");
    }
    let _ = write!(
        h,
        "<table><tr><th>group</th><th>alternative</th><th>ΔF</th><th>gap</th><th>head</th><th>middle</th><th>tail</th>\
         <th>Gini</th><th>T*</th><th>top kept</th><th>rho</th><th>panels: verdict (c*, r)</th><th>seconds</th></tr>"
    );
    for a in &s.alternatives {
        let first = format!(
            "<tr><td>{}</td><td style=\"text-align:left\">{}{}</td>",
            a.group,
            escape(&a.name),
            a.note.as_ref().map_or(String::new(), |n| format!(
                r#"<br><span class="muted">{}</span>"#,
                escape(n)
            ))
        );
        h.push_str(&first);
        match (&a.numbers, &a.skipped) {
            (_, Some(why)) => {
                let _ = write!(
                    h,
                    r#"<td colspan="10" class="muted">not attributed: {}</td></tr>"#,
                    escape(why)
                );
            }
            (None, None) => {
                let _ = write!(
                    h,
                    r#"<td>{}</td><td>{:.1e}</td><td colspan="9" class="muted">flat along this path</td></tr>"#,
                    readable(a.value_input - a.value_baseline),
                    a.relative_gap
                );
            }
            (Some(n), None) => {
                let _ = write!(
                    h,
                    "<td>{}</td><td>{:.1e}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.3}</td><td>{}</td><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td><td>{:.2}</td></tr>",
                    readable(n.delta),
                    a.relative_gap,
                    percent(n.head_share),
                    percent(n.middle_share),
                    percent(n.tail_share),
                    n.gini,
                    n.latency_step.map_or("n/a".into(), |t| t.to_string()),
                    percent(n.top_overlap),
                    n.spearman.map_or("n/a".into(), |r| format!("{r:.3}")),
                    escape(
                        &n.panels
                            .iter()
                            .map(|p| format!(
                                "{}: {} ({}, {})",
                                p.kind.name(),
                                serde_json::to_value(p.verdict)
                                    .ok()
                                    .and_then(|v| v.as_str().map(str::to_string))
                                    .unwrap_or_default(),
                                readable(p.rescale),
                                readable(p.residual)
                            ))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                    a.seconds
                );
            }
        }
    }
    h.push_str("</table>");
}

/// When, how synchronised, how concentrated, and by which camp.
fn when(h: &mut String, study: &IndicatorStudy) {
    let Some(t) = &study.timing else { return };
    let latency = crate::when::latency_words(t.latency_step, study.full.step_phi.len());
    let camps: Vec<String> = t
        .camps
        .iter()
        .chain(&t.groups)
        .map(|g| format!("{} ({} agents): {}", escape(&g.group), g.agents, percent(g.share)))
        .collect();
    let _ = write!(
        h,
        r#"<h3>When and how</h3><p>{:.0}% of Σφ was reached {latency}. Synchronization Z = {} (1: everyone pushed the same way at every step).
Concentration: Gini of |φ| {:.3}; the top 1% of agents hold {} of Σ|φ|, the top 100 {}. Shares of Σφ by stance camp and by group: {}.</p>"#,
        100.0 * t.quantile,
        t.synchronization.map_or("n/a".into(), |z| format!("{z:.3}")),
        t.gini,
        percent(t.top_percent_share),
        percent(t.top_100_share),
        camps.join("; ")
    );
}

/// The top (or most negative) agents, sortable by any column and searchable.
fn agents_table(h: &mut String, study: &IndicatorStudy, name: &str, top: bool) {
    let agents = if top { &study.top_agents } else { &study.bottom_agents };
    if agents.is_empty() {
        return;
    }
    let id = format!("{name}-{}", if top { "top" } else { "bottom" });
    // The indicator went down exactly when the bottom table is the one that
    // pushed it the way it went.
    let heading = format!(
        "The {} agents with the {} φ (they {} the indicator {}, {} the way it went)",
        agents.len(),
        if top { "largest" } else { "most negative" },
        if top { "pushed" } else { "pulled" },
        if top { "up" } else { "down" },
        if top == (study.full.direction == "down") {
            "against"
        } else {
            "with"
        }
    );
    let _ = write!(
        h,
        r#"<h3>{heading}</h3><div><input class="search" data-table="{id}" placeholder="search ids, tiers" aria-label="search"></div>
<div class="agents"><table class="sortable" id="{id}"><thead><tr><th data-sort="number">rank</th><th data-sort="text">external id</th><th data-sort="number">followers</th><th data-sort="text">tier</th><th data-sort="number">φ</th><th data-sort="number">share of Σφ</th><th data-sort="number">share of Σ|φ|</th><th data-sort="number">error estimate</th></tr></thead><tbody>"#
    );
    for (rank, a) in agents.iter().enumerate() {
        let _ = write!(
            h,
            r#"<tr><td>{}</td><td>{}</td><td data-value="{}">{}</td><td>{}</td><td data-value="{:e}">{}</td><td data-value="{:e}">{}</td><td data-value="{:e}">{}</td><td data-value="{:e}">{:.1e}</td></tr>"#,
            rank + 1,
            escape(&a.external_id),
            a.followers,
            a.followers,
            a.tier,
            a.phi,
            readable(a.phi),
            a.share,
            percent(a.share),
            a.abs_share,
            percent(a.abs_share),
            a.error,
            a.error
        );
    }
    h.push_str("</tbody></table></div>");
}

/// The areas of the deletion and insertion curves, per ranking.
fn curves_table(h: &mut String, study: &IndicatorStudy) {
    let Some(c) = &study.curves else { return };
    let _ = write!(
        h,
        r#"<h3>Faithfulness: deletion and insertion</h3><p>Each ranking's top k agents silenced (deletion: all their gates closed, everyone else as recorded) or alone open (insertion),
replayed forward, for k from {} to {} agents ({} forward replays, {:.1} s). Areas are the mean over the grid of (F − F(none)) / (F(all) − F(none)):
lower is more faithful for deletion, higher for insertion; the gap is the ranking's area minus Aumann–Shapley's. Aumann–Shapley ranks by signed φ, so agents
who pulled the indicator down come last: deleting them first would raise it.</p>
<table><tr><th>ranking</th><th>deletion area</th><th>gap</th><th>insertion area</th><th>gap</th></tr>"#,
        c.ks.first().copied().unwrap_or(0),
        c.ks.last().copied().unwrap_or(0),
        c.forward_replays,
        c.seconds
    );
    for r in &c.rankings {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{:.3}</td><td>{:+.3}</td><td>{:.3}</td><td>{:+.3}</td></tr>",
            escape(&r.ranking),
            r.deletion_area,
            r.deletion_gap,
            r.insertion_area,
            r.insertion_gap
        );
    }
    h.push_str("</table>");
}

/// The same areas inside each panel: its own Aumann–Shapley against
/// permutation Shapley and the follower ranking.
/// The sampled panels over many draws: how often each verdict, and the
/// spread of c*, r and the rank correlation.
fn panel_draws(h: &mut String, study: &IndicatorStudy) {
    let Some(first) = study.panel_draws.first() else {
        return;
    };
    let _ = write!(
        h,
        "<h3>Across {} draws of each sampled panel</h3><p>The random and the snowball panel drawn again with the next seeds, \
         each attributed alone (Aumann–Shapley) and compared with full scale: one draw is one reading of a sampling design, \
         these are its spread. Quartiles and range over the draws that could be attributed.</p>\
         <table><tr><th>panel</th><th>draws</th><th>verdicts</th><th>c* median [quartiles] (range)</th>\
         <th>r median [quartiles] (range)</th><th>Spearman median [quartiles]</th></tr>",
        first.draws
    );
    let spread = |s: &Option<crate::study::Spread>, range: bool| match s {
        None => "n/a".to_string(),
        Some(s) => format!(
            "{} [{}, {}]{}",
            readable(s.median),
            readable(s.q25),
            readable(s.q75),
            if range {
                format!(" ({} to {})", readable(s.min), readable(s.max))
            } else {
                String::new()
            }
        ),
    };
    for d in &study.panel_draws {
        let verdicts: Vec<String> = d.verdicts.iter().map(|(v, n)| format!("{v}: {n}")).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            d.kind.name(),
            d.draws,
            if d.skipped > 0 {
                format!(" ({} not attributed)", d.skipped)
            } else {
                String::new()
            },
            escape(&verdicts.join(", ")),
            spread(&d.rescale, true),
            spread(&d.residual, true),
            spread(&d.spearman, false),
        );
    }
    h.push_str("</table>");
}

fn panel_curves(h: &mut String, study: &IndicatorStudy) {
    let panels: Vec<_> = study.panels.iter().filter(|p| p.curves.is_some()).collect();
    if panels.is_empty() {
        return;
    }
    h.push_str("<table><tr><th>panel</th><th>ranking (inside the panel)</th><th>deletion area</th><th>insertion area</th></tr>");
    for p in panels {
        for r in &p.curves.as_ref().expect("filtered").rankings {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{:.3}</td><td>{:.3}</td></tr>",
                p.kind.name(),
                escape(&r.ranking),
                r.deletion_area,
                r.insertion_area
            );
        }
    }
    h.push_str("</table>");
}

fn timings(h: &mut String, result: &StudyResult, load_seconds: Option<f64>, total_seconds: f64) {
    let mut labels = Vec::new();
    let mut values = Vec::new();
    if let Some(seconds) = load_seconds {
        labels.push("load or generate".to_string());
        values.push(seconds);
    }
    labels.extend(["build replay".to_string(), "rankings (PageRank)".to_string()]);
    values.extend([result.population.replay_seconds, result.rankings_seconds]);
    for s in &result.indicators {
        labels.push(format!("{} full scale", s.indicator.name()));
        values.push(s.full.seconds);
        if let Some(c) = &s.curves {
            labels.push(format!("{} curves", s.indicator.name()));
            values.push(c.seconds);
        }
        for p in &s.panels {
            for a in &p.attributions {
                labels.push(format!("{} {} {}", s.indicator.name(), p.kind.name(), a.method));
                values.push(a.seconds);
            }
        }
    }
    let _ = write!(
        h,
        "<h2>Timings</h2><p>Whole run: {total_seconds:.1} s.</p><table><tr><th>stage</th><th>seconds</th></tr>"
    );
    for (l, v) in labels.iter().zip(&values) {
        let _ = write!(h, "<tr><td>{}</td><td>{v:.2}</td></tr>", escape(l));
    }
    h.push_str("</table><div class=\"charts\">");
    h.push_str(&Chart::horizontal(
        crate::svg::WIDE,
        "Seconds per stage",
        "seconds",
        &labels,
        &values,
    ));
    h.push_str("</div>");
}
