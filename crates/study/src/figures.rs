//! The report's result charts as figures: each chart at a width, with the
//! data it plots, for the report (inline SVG) and for files a paper can use
//! (SVG with its text turned into outlines, PNG, and a CSV of the data).
//!
//! ```text
//! OUT/figures/INDICATOR-CHART.svg        two journal columns (180 mm)
//! OUT/figures/INDICATOR-CHART-column.svg one journal column (88 mm)
//! OUT/figures/INDICATOR-CHART.png        the two-column figure at 300 dpi
//! OUT/figures/INDICATOR-CHART-column.png the one-column figure at 300 dpi
//! OUT/figures/INDICATOR-CHART.pdf        the two-column figure as PDF
//! OUT/figures/INDICATOR-CHART-column.pdf the one-column figure as PDF
//! OUT/figures/INDICATOR-CHART.csv        the data plotted
//! ```

use crate::faithfulness::Curves;
use crate::number::readable;
use crate::panel::PanelKind;
use crate::svg::{COLUMN, Chart, WIDE};
use crate::tiers::Tier;
use crate::{IndicatorStudy, PanelStudy, StudyResult};
use std::path::{Path, PathBuf};

/// One chart: its name (`polarization-lorenz`), its SVG at one width, and
/// the data it plots as CSV.
pub struct Figure {
    pub name: String,
    pub svg: String,
    pub csv: String,
}

/// The data behind a chart, written as CSV.
struct Table {
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &'static [&'static str]) -> Self {
        Self {
            header,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len());
        self.rows.push(row);
    }

    fn csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(self.header).expect("writes to memory");
        for row in &self.rows {
            writer.write_record(row).expect("writes to memory");
        }
        String::from_utf8(writer.into_inner().expect("writes to memory")).expect("UTF-8 in, UTF-8 out")
    }
}

/// Full precision for data files: what a reader replots must be what was
/// plotted, not a rounded label.
fn exact(v: f64) -> String {
    format!("{v:e}")
}

/// Every result chart of one indicator, at `width` SVG px, in the report's
/// order: Lorenz curves, tier shares, the top-followers panel against full
/// scale (when that panel was attributed), Σφ per step, and the deletion
/// and insertion curves (when drawn). A flat indicator has none.
pub fn indicator_figures(result: &StudyResult, study: &IndicatorStudy, width: f64) -> Vec<Figure> {
    if study.full.flat_cause.is_some() {
        return Vec::new();
    }
    let name = study.indicator.name();
    let mut figures = vec![
        lorenz(study, width).named(name, "lorenz"),
        tier_chart(result, study, width).named(name, "tiers"),
    ];
    if let Some(top) = study
        .panels
        .iter()
        .find(|p| p.kind == PanelKind::TopFollowers && p.skipped.is_none())
    {
        figures.push(scatter(study, top, width).named(name, "top-followers-panel"));
    }
    figures.push(step_profile(study, width).named(name, "steps"));
    if let Some(c) = &study.curves {
        figures.push(curve_chart(c, true, width).named(name, "deletion"));
        figures.push(curve_chart(c, false, width).named(name, "insertion"));
    }
    if let Some(s) = &study.sensitivity {
        figures.push(sensitivity_chart(s, width).named(name, "sensitivity"));
    }
    figures
}

/// The headline numbers read as shares (tier shares, concentration, the
/// top set kept, the ranking's rho): each one's range over the
/// sensitivity analysis's alternatives, and the reference's value.
/// The headline numbers the sensitivity chart shows (those read as
/// shares), with their labels: the report's chart and the Python
/// package's `aumann.plot.sensitivity` both read this list.
pub const SENSITIVITY_SHOWN: [(&str, &str); 8] = [
    ("head_share", "head tier's share"),
    ("middle_share", "middle tier's share"),
    ("tail_share", "tail's share"),
    ("outside_head_share", "outside the head"),
    ("gini", "Gini of |φ|"),
    ("top_percent_share", "top 1%'s share"),
    ("top_overlap", "top agents kept"),
    ("spearman", "ranking's rho"),
];

fn sensitivity_chart(s: &crate::sensitivity::SensitivityResult, width: f64) -> Drawn {
    let rows: Vec<crate::svg::IntervalRow> = SENSITIVITY_SHOWN
        .iter()
        .filter_map(|(number, label)| {
            let r = s.ranges.iter().find(|r| r.number == *number)?;
            Some(crate::svg::IntervalRow {
                name: label.to_string(),
                min: r.min,
                max: r.max,
                reference: r.reference,
            })
        })
        .collect();
    let mut data = Table::new(&["number", "reference", "min", "max", "min_under", "max_under"]);
    for r in &s.ranges {
        data.push(vec![
            r.number.to_string(),
            r.reference.map_or(String::new(), exact),
            exact(r.min),
            exact(r.max),
            r.min_under.clone(),
            r.max_under.clone(),
        ]);
    }
    let low = rows.iter().map(|r| r.min).fold(0.0, f64::min);
    let svg = Chart::intervals(
        width,
        "How robust: each number over the alternatives",
        "value (shares as fractions)",
        (low, 1.0),
        &rows,
    );
    Drawn { svg, data }
}

/// The fit's chart, when the study fitted (docs/fit.md): for the
/// cascade, the first responses per step, observed against those expected
/// with the fitted parameters, the defaults and a constant rate; for
/// polarization, its trajectory.
pub fn fit_figures(result: &StudyResult, width: f64) -> Vec<Figure> {
    match &result.fit {
        None => Vec::new(),
        Some(aumann_fit::Fit::Cascade(fit)) => cascade_fit_figure(fit, width),
        Some(aumann_fit::Fit::Polarization(fit)) => polarization_fit_figure(fit, width),
    }
}

/// Polarization's fit: the polarization of the agents observed at each
/// step, observed against the replay run from step 0 with the κ used, the
/// default, and no dynamics.
fn polarization_fit_figure(fit: &aumann_fit::PolarizationFit, width: f64) -> Vec<Figure> {
    let steps = &fit.trajectory;
    if steps.len() < 2 {
        return Vec::new();
    }
    let series: [(&str, Vec<f64>); 4] = [
        ("observed", steps.iter().map(|s| s.observed).collect()),
        ("fitted", steps.iter().map(|s| s.fitted).collect()),
        ("defaults", steps.iter().map(|s| s.defaults).collect()),
        ("no dynamics", steps.iter().map(|s| s.no_dynamics).collect()),
    ];
    let top = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
    let xs: Vec<f64> = steps.iter().map(|s| s.step as f64).collect();
    let mut chart = Chart::new(
        width,
        "Does the replay match: polarization per step",
        "step",
        "polarization of the agents observed",
        (xs[0], xs[xs.len() - 1]),
        (0.0, if top > 0.0 { 1.08 * top } else { 1.0 }),
    );
    for (k, (label, ys)) in series.iter().enumerate() {
        let points: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
        chart.line(&points, k, label);
    }
    let mut data = Table::new(&["step", "agents", "observed", "fitted", "defaults", "no_dynamics"]);
    for s in steps {
        data.push(vec![
            s.step.to_string(),
            s.agents.to_string(),
            exact(s.observed),
            exact(s.fitted),
            exact(s.defaults),
            exact(s.no_dynamics),
        ]);
    }
    vec![
        Drawn {
            svg: chart.finish(),
            data,
        }
        .named("polarization", "fit"),
    ]
}

fn cascade_fit_figure(fit: &aumann_fit::CascadeFit, width: f64) -> Vec<Figure> {
    let steps = &fit.responses_per_step;
    if steps.is_empty() {
        return Vec::new();
    }
    let series: [(&str, Vec<f64>); 4] = [
        ("observed", steps.iter().map(|s| s.observed as f64).collect()),
        ("fitted", steps.iter().map(|s| s.fitted).collect()),
        ("defaults", steps.iter().map(|s| s.defaults).collect()),
        ("constant rate", steps.iter().map(|s| s.constant_rate).collect()),
    ];
    // Counts: the axis starts at 0.
    let top = series.iter().flat_map(|(_, v)| v.iter().copied()).fold(0.0, f64::max);
    let (lo, hi) = (0.0, if top > 0.0 { 1.08 * top } else { 1.0 });
    let xs: Vec<f64> = steps.iter().map(|s| s.step as f64).collect();
    let x_range = (xs[0].min(xs[xs.len() - 1] - 1.0), xs[xs.len() - 1]);
    let mut chart = Chart::new(
        width,
        "Does the replay match: first responses per step",
        "step",
        "first responses",
        x_range,
        (lo, hi),
    );
    for (k, (label, ys)) in series.iter().enumerate() {
        let points: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
        chart.line(&points, k, label);
    }
    let mut data = Table::new(&["step", "at_risk", "observed", "fitted", "defaults", "constant_rate"]);
    for s in steps {
        data.push(vec![
            s.step.to_string(),
            s.at_risk.to_string(),
            s.observed.to_string(),
            exact(s.fitted),
            exact(s.defaults),
            exact(s.constant_rate),
        ]);
    }
    vec![
        Drawn {
            svg: chart.finish(),
            data,
        }
        .named("cascade", "fit"),
    ]
}

/// A chart and its data, before it is named.
struct Drawn {
    svg: String,
    data: Table,
}

impl Drawn {
    fn named(self, indicator: &str, chart: &str) -> Figure {
        Figure {
            name: format!("{indicator}-{chart}"),
            svg: self.svg,
            csv: self.data.csv(),
        }
    }
}

/// F against the share of agents silenced (deletion) or opened (insertion),
/// one line per ranking, the random mean with its range shaded.
fn curve_chart(c: &Curves, deletion: bool, width: f64) -> Drawn {
    let xs: Vec<f64> = c.ks.iter().map(|&k| k as f64 / c.agents as f64).collect();
    let all = c
        .rankings
        .iter()
        .flat_map(|r| {
            if deletion {
                r.deletion.iter()
            } else {
                r.insertion.iter()
            }
        })
        .chain([&c.value_input, &c.value_baseline]);
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let mut chart = Chart::log_share(
        width,
        if deletion {
            "Deletion: the top k silenced"
        } else {
            "Insertion: only the top k open"
        },
        if deletion {
            "share of agents silenced"
        } else {
            "share of agents open"
        },
        "F",
        (xs[0].min(1e-4), 1.0),
        (lo, hi),
    );
    let mut data = Table::new(&["ranking", "k", "fraction", "F", "F_low", "F_high"]);
    for (k, r) in c.rankings.iter().enumerate() {
        let ys = if deletion { &r.deletion } else { &r.insertion };
        let range = if deletion {
            &r.deletion_range
        } else {
            &r.insertion_range
        };
        if let Some((low, high)) = range {
            chart.band(&xs, low, high, k);
        }
        let points: Vec<(f64, f64)> = xs.iter().copied().zip(ys.iter().copied()).collect();
        chart.line(&points, k, &r.ranking);
        for (i, (&agents, &y)) in c.ks.iter().zip(ys).enumerate() {
            let (low, high) = range
                .as_ref()
                .map_or((String::new(), String::new()), |(l, h)| (exact(l[i]), exact(h[i])));
            data.push(vec![
                r.ranking.clone(),
                agents.to_string(),
                exact(xs[i]),
                exact(y),
                low,
                high,
            ]);
        }
    }
    Drawn {
        svg: chart.finish(),
        data,
    }
}

/// The Lorenz curve of |phi|: the share of attribution held by the bottom
/// x share of agents, at 200 points.
fn lorenz_points(phi: &[f64]) -> Vec<(f64, f64)> {
    let mut abs: Vec<f64> = phi.iter().map(|p| p.abs()).collect();
    abs.sort_by(f64::total_cmp);
    let total: f64 = abs.iter().sum();
    let n = abs.len();
    if n == 0 || total == 0.0 {
        return vec![(0.0, 0.0), (1.0, 1.0)];
    }
    let mut cumulative = Vec::with_capacity(n + 1);
    cumulative.push(0.0);
    let mut s = 0.0;
    for v in &abs {
        s += v;
        cumulative.push(s / total);
    }
    (0..=200)
        .map(|k| k * n / 200)
        .map(|i| (i as f64 / n as f64, cumulative[i]))
        .collect()
}

/// A panel whose attribution is all zero (its indicator did not move when
/// replayed alone) has no curve or shares to draw; the table says so.
fn has_attribution(panel: &PanelStudy) -> bool {
    panel.skipped.is_none() && panel.phi.iter().any(|&p| p != 0.0)
}

fn lorenz(study: &IndicatorStudy, width: f64) -> Drawn {
    let mut chart = Chart::new(
        width,
        "Lorenz curves of |φ|",
        "share of agents (by |φ|)",
        "share of Σ|φ|",
        (0.0, 1.0),
        (0.0, 1.0),
    );
    chart.reference(&[(0.0, 0.0), (1.0, 1.0)], "equality");
    let mut data = Table::new(&["series", "share_of_agents", "share_of_abs_phi"]);
    let mut series = vec![("full scale".to_string(), lorenz_points(&study.attribution.agent_phi))];
    for panel in study.panels.iter().filter(|p| has_attribution(p)) {
        series.push((format!("{} panel", panel.kind.name()), lorenz_points(&panel.phi)));
    }
    for (k, (label, points)) in series.iter().enumerate() {
        chart.line(points, k, label);
        for &(x, y) in points {
            data.push(vec![label.clone(), exact(x), exact(y)]);
        }
    }
    Drawn {
        svg: chart.finish(),
        data,
    }
}

fn tier_chart(result: &StudyResult, study: &IndicatorStudy, width: f64) -> Drawn {
    let categories: Vec<String> = Tier::ALL.iter().map(|t| t.name().to_string()).collect();
    let mut series = vec![(
        "full scale".to_string(),
        study
            .tiers
            .iter()
            .flatten()
            .map(|t| 100.0 * t.abs_share)
            .collect::<Vec<f64>>(),
    )];
    for panel in study.panels.iter().filter(|p| has_attribution(p)) {
        let total: f64 = panel.phi.iter().map(|p| p.abs()).sum();
        let shares = Tier::ALL
            .iter()
            .map(|&tier| {
                let s: f64 = panel
                    .members
                    .iter()
                    .zip(&panel.phi)
                    .filter(|(a, _)| result.tiers[**a as usize] == tier)
                    .map(|(_, p)| p.abs())
                    .sum();
                if total > 0.0 { 100.0 * s / total } else { 0.0 }
            })
            .collect();
        series.push((format!("{} panel", panel.kind.name()), shares));
    }
    let mut data = Table::new(&["series", "tier", "percent_of_abs_phi"]);
    for (label, values) in &series {
        for (tier, v) in categories.iter().zip(values) {
            data.push(vec![label.clone(), tier.clone(), exact(*v)]);
        }
    }
    let mut chart = Chart::categorical(
        width,
        "Share of Σ|φ| by follower tier",
        "tier",
        "% of Σ|φ|",
        (0.0, 100.0),
    );
    chart.bars(&categories, &series);
    Drawn {
        svg: chart.finish(),
        data,
    }
}

fn scatter(study: &IndicatorStudy, panel: &PanelStudy, width: f64) -> Drawn {
    let full: Vec<f64> = panel
        .members
        .iter()
        .map(|&a| study.attribution.agent_phi[a as usize])
        .collect();
    let (lo_x, hi_x) = bounds(&panel.phi);
    let (lo_y, hi_y) = bounds(&full);
    let mut chart = Chart::new(
        width,
        "Panel against full-scale attribution (top-followers panel)",
        "φ in the panel replay",
        "φ at full scale",
        (lo_x, hi_x),
        (lo_y, hi_y),
    );
    let points: Vec<(f64, f64, String)> = panel
        .members
        .iter()
        .zip(panel.phi.iter().zip(&full))
        .map(|(a, (&x, &y))| (x, y, format!("agent {a}: panel {}, full {}", readable(x), readable(y))))
        .collect();
    chart.points(&points, 0, "panel members");
    let rescale = panel.attributions.first().map(|a| a.comparison.rescale);
    if let Some(c) = rescale {
        let line: Vec<(f64, f64)> = [lo_x, hi_x].iter().map(|&x| (x, (c * x).clamp(lo_y, hi_y))).collect();
        chart.reference(&line, &format!("best global rescaling c* = {}", readable(c)));
    }
    let mut data = Table::new(&["agent", "phi_panel", "phi_full", "best_global_rescaling"]);
    for (a, (&x, &y)) in panel.members.iter().zip(panel.phi.iter().zip(&full)) {
        data.push(vec![
            a.to_string(),
            exact(x),
            exact(y),
            rescale.map_or(String::new(), exact),
        ]);
    }
    Drawn {
        svg: chart.finish(),
        data,
    }
}

fn bounds(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(0.0f64, f64::min);
    let hi = v.iter().copied().fold(0.0f64, f64::max);
    let pad = 0.05 * (hi - lo).max(f64::MIN_POSITIVE);
    (lo - pad, hi + pad)
}

fn step_profile(study: &IndicatorStudy, width: f64) -> Drawn {
    let steps = &study.full.step_phi;
    let categories: Vec<String> = (0..steps.len()).map(|t| t.to_string()).collect();
    let (lo, hi) = bounds(steps);
    let mut chart = Chart::categorical(width, "When it mattered: Σφ per step", "step", "Σφ", (lo, hi));
    chart.bars(&categories, &[("full scale".into(), steps.clone())]);
    let mut data = Table::new(&["step", "sum_phi"]);
    for (t, v) in steps.iter().enumerate() {
        data.push(vec![t.to_string(), exact(*v)]);
    }
    Drawn {
        svg: chart.finish(),
        data,
    }
}

/// The names [`write`] gives figure files in a study's output, as
/// [`aumann_data::staged::StagedDir::create`] takes them.
pub const FILES: [&str; 4] = ["figures/*.svg", "figures/*.png", "figures/*.pdf", "figures/*.csv"];
/// The same, in a directory of their own (`aumann study --figures DIR`),
/// where the path [`write`] is given drops the `figures/`.
pub const FILES_APART: [&str; 4] = ["*.svg", "*.png", "*.pdf", "*.csv"];

/// Why figures cannot go into a directory of their own.
#[derive(Debug, thiserror::Error)]
pub enum ApartError {
    /// The directory is, contains or lies inside the study's output, whose
    /// swap would take the figures along.
    #[error("the figures' directory {figures} overlaps the output {out}")]
    Overlaps { figures: PathBuf, out: PathBuf },
    #[error(transparent)]
    Output(#[from] aumann_data::staged::OutputError),
}

/// Stages `dir` for the figures of a study whose output is `out` (if any)
/// and which reads `inputs`, before the work: refused when `dir` overlaps
/// `out`, both compared after links and `..` are resolved, and on every
/// ground an output directory is refused.
pub fn stage_apart(
    dir: &Path,
    out: Option<&Path>,
    inputs: &[&Path],
) -> Result<aumann_data::staged::StagedDir, ApartError> {
    if let Some(out) = out {
        let (apart, out) = (aumann_data::staged::resolved(dir)?, aumann_data::staged::resolved(out)?);
        if apart.starts_with(&out) || out.starts_with(&apart) {
            return Err(ApartError::Overlaps { figures: apart, out });
        }
    }
    Ok(aumann_data::staged::StagedDir::create(dir, &FILES_APART, inputs)?)
}

/// The font the figure files' text is drawn in (turned into outlines in
/// the SVG, rasterised in the PNG), so that they look the same on every
/// machine: DejaVu Sans, cut to the Latin, Greek, punctuation, arrows and
/// mathematical operators the charts use (fonts/README.md).
const FONT: &[u8] = include_bytes!("../fonts/DejaVuSans-charts.ttf");
/// PNGs are drawn at 300 dots per inch of their printed width.
const DPI: f64 = 300.0;
/// Printed widths in millimetres: one and two journal columns.
const COLUMN_MM: f64 = 88.0;
const WIDE_MM: f64 = 180.0;

/// What [`write`] could not do.
#[derive(Debug, thiserror::Error)]
pub enum FigureError {
    #[error("figure {name}: {message}")]
    Render { name: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes every result chart of `result` as files named by `path`
/// (`figures/NAME.svg` in a staged output): for each, the two-column and
/// the one-column figure as SVG (text as outlines, printed size in mm),
/// PNG (300 dpi) and PDF, and the CSV of its data. Returns the names
/// written.
pub fn write(result: &StudyResult, path: &dyn Fn(&str) -> PathBuf) -> Result<Vec<String>, FigureError> {
    use rayon::prelude::*;
    let mut charts: Vec<(Figure, Figure)> = fit_figures(result, WIDE)
        .into_iter()
        .zip(fit_figures(result, COLUMN))
        .collect();
    for study in &result.indicators {
        let wide = indicator_figures(result, study, WIDE);
        let column = indicator_figures(result, study, COLUMN);
        charts.extend(wide.into_iter().zip(column));
    }
    // Outlining and rasterising take most of the time: one chart per task.
    let files: Vec<Vec<(String, Vec<u8>)>> = charts
        .par_iter()
        .map(|(wide, column)| {
            let options = render_options();
            let mut files = Vec::new();
            for (figure, suffix, mm) in [(wide, "", WIDE_MM), (column, "-column", COLUMN_MM)] {
                let exported = export(&figure.svg, mm, &options).map_err(|message| FigureError::Render {
                    name: format!("{}{suffix}", wide.name),
                    message,
                })?;
                files.push((format!("{}{suffix}.svg", wide.name), exported.svg.into_bytes()));
                files.push((format!("{}{suffix}.png", wide.name), exported.png));
                files.push((format!("{}{suffix}.pdf", wide.name), exported.pdf));
            }
            files.push((format!("{}.csv", wide.name), wide.csv.clone().into_bytes()));
            Ok(files)
        })
        .collect::<Result<_, FigureError>>()?;
    let mut written = Vec::new();
    for (file, bytes) in files.into_iter().flatten() {
        save(&path(&format!("figures/{file}")), &bytes)?;
        written.push(file);
    }
    Ok(written)
}

fn save(path: &Path, bytes: &[u8]) -> Result<(), FigureError> {
    std::fs::write(path, bytes).map_err(|source| FigureError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn render_options() -> resvg::usvg::Options<'static> {
    let mut options = resvg::usvg::Options::default();
    let fonts = options.fontdb_mut();
    fonts.load_font_data(FONT.to_vec());
    fonts.set_sans_serif_family("DejaVu Sans");
    options
}

/// A chart as files.
struct Exported {
    svg: String,
    png: Vec<u8>,
    pdf: Vec<u8>,
}

/// A chart's SVG as a file: its text turned into outlines in the bundled
/// font, its size printed in millimetres; a PNG of it at [`DPI`]; and a
/// PDF of the outlined SVG, its page the printed size.
fn export(svg: &str, mm: f64, options: &resvg::usvg::Options<'_>) -> Result<Exported, String> {
    let tree = resvg::usvg::Tree::from_str(svg, options).map_err(|e| e.to_string())?;
    let size = tree.size();
    let written = tree.to_string(&resvg::usvg::WriteOptions::default());
    let printed = format!(
        r#"<svg width="{mm}mm" height="{:.2}mm" viewBox="0 0 {} {}" "#,
        mm * f64::from(size.height()) / f64::from(size.width()),
        size.width(),
        size.height()
    );
    // usvg writes the size in px; the file says how large it prints, over
    // the same user units.
    let file = match written.split_once("<svg ") {
        Some((head, rest)) => {
            let rest = strip_attribute(&strip_attribute(&strip_attribute(rest, "width"), "height"), "viewBox");
            format!("{head}{printed}{rest}")
        }
        None => return Err("usvg wrote no <svg> element".into()),
    };
    let pixels = (mm / 25.4 * DPI).round();
    let scale = (pixels / f64::from(size.width())) as f32;
    let (w, h) = (
        (f64::from(size.width()) * f64::from(scale)).round() as u32,
        (f64::from(size.height()) * f64::from(scale)).round() as u32,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).ok_or("a figure of zero size")?;
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let png = pixmap.encode_png().map_err(|e| e.to_string())?;
    // svg2pdf reads the outlined file with its own usvg: no text is left
    // to lay out. usvg reads mm at 96 px per inch, the page takes the same.
    let outlined =
        svg2pdf::usvg::Tree::from_str(&file, &svg2pdf::usvg::Options::default()).map_err(|e| e.to_string())?;
    let pdf = svg2pdf::to_pdf(
        &outlined,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi: 96.0 },
    )
    .map_err(|e| e.to_string())?;
    Ok(Exported { svg: file, png, pdf })
}

/// `text` (the inside of an opening tag, from its first attribute) without
/// its first `name="..."` attribute.
fn strip_attribute(text: &str, name: &str) -> String {
    let end_of_tag = text.find('>').unwrap_or(text.len());
    let key = format!("{name}=\"");
    match text[..end_of_tag]
        .match_indices(&key)
        .find(|(i, _)| *i == 0 || text.as_bytes()[i - 1] == b' ')
    {
        Some((start, _)) => {
            let value_end = start + key.len() + text[start + key.len()..].find('"').unwrap_or(0) + 1;
            let after = text[value_end..].trim_start();
            format!("{}{after}", &text[..start])
        }
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_prints_at_its_width_as_outlined_svg_300_dpi_png_and_a_pdf_page() {
        let mut chart = Chart::new(COLUMN, "Σφ per step", "x", "y", (0.0, 1.0), (0.0, 1.0));
        chart.line(&[(0.0, 0.0), (1.0, 1.0)], 0, "a series");
        let svg = chart.finish();
        let Exported { svg: file, png, pdf } = export(&svg, COLUMN_MM, &render_options()).unwrap();
        assert!(file.starts_with(r#"<svg width="88mm" height="#), "{}", &file[..80]);
        assert!(file.contains(r#"viewBox="0 0 360 "#), "{}", &file[..120]);
        assert!(!file.contains("<text"), "text left for a font the reader may lack");
        // The title's glyphs, in the bundled font, became black outlines:
        // with no font found, usvg drops the text and none would be there.
        assert!(file.contains(r##"<path fill="#000000""##));
        // 88 mm at 300 dpi.
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        assert_eq!(width, (88.0f64 / 25.4 * 300.0).round() as u32);
        // A PDF page 88 mm wide, in points (1/72 inch).
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        let media = text
            .split("/MediaBox [")
            .nth(1)
            .expect("a page size")
            .split(']')
            .next()
            .unwrap();
        let box_width: f64 = media.split_whitespace().nth(2).unwrap().parse().unwrap();
        assert!((box_width - 88.0 / 25.4 * 72.0).abs() < 0.01, "{media}");
    }

    #[test]
    fn only_the_named_attribute_is_removed() {
        let tag = r#"width="5" stroke-width="2" height="3" xmlns="x">rest width="9""#;
        assert_eq!(
            strip_attribute(tag, "width"),
            r#"stroke-width="2" height="3" xmlns="x">rest width="9""#
        );
        assert_eq!(
            strip_attribute(tag, "height"),
            r#"width="5" stroke-width="2" xmlns="x">rest width="9""#
        );
        assert_eq!(strip_attribute(tag, "viewBox"), tag);
    }

    #[test]
    fn data_files_keep_full_precision_and_quote_what_needs_it() {
        let mut table = Table::new(&["series", "value"]);
        table.push(vec!["random, mean of 3".into(), exact(0.1 + 0.2)]);
        let csv = table.csv();
        assert_eq!(csv, "series,value\n\"random, mean of 3\",3.0000000000000004e-1\n");
        assert_eq!("3.0000000000000004e-1".parse::<f64>().unwrap(), 0.1 + 0.2);
    }
}
