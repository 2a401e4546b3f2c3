//! A few SVG chart primitives for the report's fixed charts. Written here
//! rather than taken from plotters: a dozen small charts need axes, lines,
//! points and bars, inline in one page, and plotters' text layout needs a
//! font-metrics feature and a font file that the page itself never uses.

use std::fmt::Write;

/// Widths in SVG px at which charts are laid out: the report's and a
/// journal's two-column figure (180 mm wide: 11 px text prints at 10 pt),
/// and a one-column figure (88 mm wide: 11 px prints at 7.6 pt).
pub const WIDE: f64 = 560.0;
pub const COLUMN: f64 = 360.0;
/// The report's width, [`WIDE`].
pub const WIDTH: f64 = WIDE;
/// The plot's height at [`WIDE`]; narrower charts are 0.7 as tall as wide.
pub const HEIGHT: f64 = 340.0;

/// A chart's height for its width.
fn height_for(width: f64) -> f64 {
    if width >= WIDE { HEIGHT } else { (0.7 * width).round() }
}
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 48.0;

/// Okabe and Ito's colour-blind-safe palette (yellow left out: it does not
/// read on white), in the order series take them.
pub const COLORS: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000",
];
/// Reference lines (equality, a fitted rescaling): grey, dotted.
pub const REFERENCE: &str = "#7f7f7f";
/// Dash patterns, in the order series take them: with the colour and the
/// marker, no two of the first seven series look alike even in grey.
const DASHES: [&str; 7] = ["", "7 3", "2 2", "9 3 2 3", "4 2", "12 4", "1 3"];
/// Markers, in the order series take them.
const MARKERS: [Marker; 7] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::Cross,
    Marker::Circle,
    Marker::Square,
];
/// Markers drawn along a curve, evenly spaced over its points.
const MARKERS_PER_CURVE: usize = 8;
/// The charts' own style, inside each SVG so that a chart saved on its own
/// looks as it does in the report.
const CHART_STYLE: &str = "text{font-family:'DejaVu Sans',Verdana,sans-serif}\
.title{font-size:14px;font-weight:600;text-anchor:middle}.tick{font-size:11px;fill:#555}\
.label{font-size:12px;fill:#333}.legend{font-size:11px;fill:#333}.grid{stroke:#eee}.frame{fill:none;stroke:#bbb}";
/// Height of one row of the legend, which sits below the plot.
const LEGEND_ROW: f64 = 16.0;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

/// How one series is drawn: colour, dash pattern and marker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    pub color: &'static str,
    dash: &'static str,
    marker: Option<Marker>,
}

impl Style {
    /// The style of the k-th series of a chart.
    pub fn series(k: usize) -> Self {
        Self {
            color: COLORS[k % COLORS.len()],
            dash: DASHES[k % DASHES.len()],
            marker: Some(MARKERS[k % MARKERS.len()]),
        }
    }

    fn reference() -> Self {
        Self {
            color: REFERENCE,
            dash: "3 3",
            marker: None,
        }
    }
}

/// What a legend entry shows beside its label.
enum Key {
    Swatch(&'static str),
    Line(Style),
}

/// How an axis maps values to positions.
#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Linear,
    /// Base-10 logarithm; ticks at powers of ten, labelled in percent.
    LogPercent,
}

/// A chart over [x0, x1] x [y0, y1].
/// A row of [`Chart::intervals`].
pub struct IntervalRow {
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub reference: Option<f64>,
}

pub struct Chart {
    pub body: String,
    x: (f64, f64),
    y: (f64, f64),
    x_scale: Scale,
    left: f64,
    width: f64,
    height: f64,
    legend: Vec<(String, Key)>,
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Ticks a reader can place: multiples of 1, 2 or 5 times a power of ten,
/// about five over the range, covering it. Returns the ticks and the power
/// of ten their labels are written in (0 when plain numbers read well).
pub fn nice_ticks(lo: f64, hi: f64) -> (Vec<f64>, i32) {
    let (lo, hi) = if lo < hi { (lo, hi) } else { (lo - 1.0, hi + 1.0) };
    let raw = (hi - lo) / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).floor() as i64;
    let last = (hi / step).ceil() as i64;
    let ticks: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    let largest = ticks.iter().fold(0.0f64, |m, t| m.max(t.abs()));
    let exponent = if largest >= 1e4 || (largest < 1e-2 && largest > 0.0) {
        largest.log10().floor() as i32
    } else {
        0
    };
    (ticks, exponent)
}

/// A tick's label in the axis's power of ten, with no more decimals than
/// the step needs.
fn nice_label(v: f64, step: f64, exponent: i32) -> String {
    let scale = 10f64.powi(exponent);
    let (v, step) = (v / scale, step / scale);
    let decimals = (0..10)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-9 * scaled.max(1.0)
        })
        .unwrap_or(10);
    let text = format!("{v:.decimals$}");
    if text.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
        "0".into()
    } else {
        text
    }
}

/// " (×10^e)" for an axis label, or nothing.
fn exponent_note(exponent: i32) -> String {
    if exponent == 0 {
        String::new()
    } else {
        format!(" (×10^{exponent})")
    }
}

impl Chart {
    /// A chart whose x axis holds categories (bars): no numeric x ticks.
    pub fn categorical(width: f64, title: &str, x_label: &str, y_label: &str, y: (f64, f64)) -> Self {
        Self::build(width, title, x_label, y_label, (0.0, 1.0), y, None, LEFT)
    }

    /// Linear axes with round ticks; the ranges widen to the outer ticks.
    pub fn new(width: f64, title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Self {
        Self::build(width, title, x_label, y_label, x, y, Some(Scale::Linear), LEFT)
    }

    /// A logarithmic x axis of shares (ticks at 0.01%, 0.1%, 1%, ...).
    pub fn log_share(width: f64, title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Self {
        Self::build(width, title, x_label, y_label, x, y, Some(Scale::LogPercent), LEFT)
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        width: f64,
        title: &str,
        x_label: &str,
        y_label: &str,
        x: (f64, f64),
        y: (f64, f64),
        x_scale: Option<Scale>,
        left: f64,
    ) -> Self {
        let (y_ticks, y_exp) = nice_ticks(y.0, y.1);
        let y = (y_ticks[0], *y_ticks.last().expect("ticks"));
        let (x_ticks, x_exp, x) = match x_scale {
            Some(Scale::Linear) => {
                let (t, e) = nice_ticks(x.0, x.1);
                let range = (t[0], *t.last().expect("ticks"));
                (t, e, range)
            }
            Some(Scale::LogPercent) => {
                let (a, b) = (x.0.log10().floor() as i32, x.1.log10().ceil() as i32);
                (
                    (a..=b).map(|p| 10f64.powi(p)).collect(),
                    0,
                    (10f64.powi(a), 10f64.powi(b)),
                )
            }
            None => (Vec::new(), 0, x),
        };
        let mut chart = Self {
            body: String::new(),
            x,
            y,
            x_scale: x_scale.unwrap_or(Scale::Linear),
            left,
            width,
            height: height_for(width),
            legend: Vec::new(),
        };
        let height = chart.height;
        let (pw, ph) = (width - left - RIGHT, height - TOP - BOTTOM);
        let _ = write!(
            chart.body,
            r##"<text x="{}" y="18" class="title">{}</text><rect x="{left}" y="{TOP}" width="{pw}" height="{ph}" class="frame"/>"##,
            width / 2.0,
            escape(title)
        );
        let y_step = y_ticks.get(1).map_or(1.0, |t| t - y_ticks[0]);
        for &t in &y_ticks {
            let py = chart.py(t);
            let _ = write!(
                chart.body,
                r##"<line x1="{left}" y1="{py:.2}" x2="{}" y2="{py:.2}" class="grid"/><text x="{}" y="{:.2}" class="tick" text-anchor="end">{}</text>"##,
                left + pw,
                left - 6.0,
                py + 4.0,
                nice_label(t, y_step, y_exp)
            );
        }
        let x_step = x_ticks.get(1).map_or(1.0, |t| t - x_ticks[0]);
        for &t in &x_ticks {
            let px = chart.px(t);
            let label = match chart.x_scale {
                Scale::LogPercent => percent(t),
                Scale::Linear => nice_label(t, x_step, x_exp),
            };
            let _ = write!(
                chart.body,
                r##"<line x1="{px:.2}" y1="{TOP}" x2="{px:.2}" y2="{}" class="grid"/><text x="{px:.2}" y="{}" class="tick" text-anchor="middle">{label}</text>"##,
                TOP + ph,
                TOP + ph + 16.0,
            );
        }
        let _ = write!(
            chart.body,
            r##"<text x="{}" y="{}" class="label" text-anchor="middle">{}</text><text x="14" y="{}" class="label" text-anchor="middle" transform="rotate(-90 14 {})">{}</text>"##,
            left + pw / 2.0,
            height - 10.0,
            escape(&format!("{x_label}{}", exponent_note(x_exp))),
            TOP + ph / 2.0,
            TOP + ph / 2.0,
            escape(&format!("{y_label}{}", exponent_note(y_exp)))
        );
        chart
    }

    pub fn px(&self, x: f64) -> f64 {
        let f = match self.x_scale {
            Scale::Linear => (x - self.x.0) / (self.x.1 - self.x.0),
            Scale::LogPercent => (x.log10() - self.x.0.log10()) / (self.x.1.log10() - self.x.0.log10()),
        };
        self.left + f * (self.width - self.left - RIGHT)
    }

    pub fn py(&self, y: f64) -> f64 {
        TOP + (self.height - TOP - BOTTOM) - (y - self.y.0) / (self.y.1 - self.y.0) * (self.height - TOP - BOTTOM)
    }

    /// The k-th series as a curve, in [`Style::series`]`(k)`, with markers.
    pub fn line(&mut self, points: &[(f64, f64)], series: usize, label: &str) {
        self.curve(points, Style::series(series), label);
    }

    /// A reference line (equality, a fitted rescaling), grey and dotted.
    pub fn reference(&mut self, points: &[(f64, f64)], label: &str) {
        self.curve(points, Style::reference(), label);
    }

    fn curve(&mut self, points: &[(f64, f64)], style: Style, label: &str) {
        let d: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.2},{:.2}", self.px(x), self.py(y)))
            .collect();
        let dash = if style.dash.is_empty() {
            String::new()
        } else {
            format!(r#" stroke-dasharray="{}""#, style.dash)
        };
        let _ = write!(
            self.body,
            r##"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash} class="data"><title>{}</title></polyline>"##,
            d.join(" "),
            style.color,
            escape(label)
        );
        if let Some(marker) = style.marker {
            let every = points.len().div_ceil(MARKERS_PER_CURVE).max(1);
            for &(x, y) in points.iter().step_by(every) {
                let (px, py) = (self.px(x), self.py(y));
                self.body.push_str(&marker_svg(marker, px, py, style.color, "data"));
            }
        }
        self.legend.push((label.to_string(), Key::Line(style)));
    }

    /// A shaded band between two curves over the same x (a range of runs).
    pub fn band(&mut self, x: &[f64], low: &[f64], high: &[f64], series: usize) {
        let color = Style::series(series).color;
        let mut d: Vec<String> = x
            .iter()
            .zip(high)
            .map(|(&x, &y)| format!("{:.2},{:.2}", self.px(x), self.py(y)))
            .collect();
        d.extend(
            x.iter()
                .zip(low)
                .rev()
                .map(|(&x, &y)| format!("{:.2},{:.2}", self.px(x), self.py(y))),
        );
        let _ = write!(
            self.body,
            r##"<polygon points="{}" fill="{color}" fill-opacity="0.15" stroke="none" class="data"/>"##,
            d.join(" ")
        );
    }

    /// Points with a hover title each, in the k-th series' colour.
    pub fn points(&mut self, points: &[(f64, f64, String)], series: usize, label: &str) {
        let color = Style::series(series).color;
        for (x, y, title) in points {
            let _ = write!(
                self.body,
                r##"<circle cx="{:.2}" cy="{:.2}" r="3.5" fill="{color}" fill-opacity="0.75" class="point data"><title>{}</title></circle>"##,
                self.px(*x),
                self.py(*y),
                escape(title)
            );
        }
        self.legend.push((label.to_string(), Key::Swatch(color)));
    }

    /// Grouped bars: one group per category, one bar per series.
    pub fn bars(&mut self, categories: &[String], series: &[(String, Vec<f64>)]) {
        let groups = categories.len().max(1) as f64;
        let group_width = (self.width - self.left - RIGHT) / groups;
        let bar = group_width * 0.8 / series.len().max(1) as f64;
        let zero = self.py(0.0_f64.clamp(self.y.0, self.y.1));
        for (c, name) in categories.iter().enumerate() {
            let x0 = self.left + c as f64 * group_width + group_width * 0.1;
            for (s, (series_name, values)) in series.iter().enumerate() {
                let v = values[c];
                let y = self.py(v);
                let (top, h) = if y < zero { (y, zero - y) } else { (zero, y - zero) };
                let _ = write!(
                    self.body,
                    r##"<rect x="{:.2}" y="{top:.2}" width="{:.2}" height="{h:.2}" fill="{}" class="data"><title>{}: {} = {}</title></rect>"##,
                    x0 + s as f64 * bar,
                    bar - 1.0,
                    COLORS[s % COLORS.len()],
                    escape(series_name),
                    escape(name),
                    crate::number::readable(v)
                );
            }
            let _ = write!(
                self.body,
                r##"<text x="{:.2}" y="{}" class="tick" text-anchor="middle">{}</text>"##,
                x0 + group_width * 0.4,
                self.height - BOTTOM + 16.0,
                escape(name)
            );
        }
        // One series needs no legend: the title says what the bars are.
        if series.len() > 1 {
            for (s, (name, _)) in series.iter().enumerate() {
                self.legend.push((name.clone(), Key::Swatch(COLORS[s % COLORS.len()])));
            }
        }
    }

    /// Horizontal bars, one per named row, with the names on the left axis
    /// and round ticks along the bottom: for rows with long names (stages).
    pub fn horizontal(width: f64, title: &str, x_label: &str, names: &[String], values: &[f64]) -> String {
        let hi = values.iter().copied().fold(0.0, f64::max).max(1e-3);
        let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as f64;
        let left = (longest * 6.2 + 14.0).clamp(LEFT, width / 2.0);
        let mut chart = Self::build(
            width,
            title,
            x_label,
            "",
            (0.0, hi),
            (0.0, 1.0),
            Some(Scale::Linear),
            left,
        );
        // The frame and the x ticks are the chart's; the y ticks would be
        // numbers, so the rows draw over a clean axis.
        chart.body = strip_y_ticks(&chart.body);
        let row = (chart.height - TOP - BOTTOM) / names.len().max(1) as f64;
        for (k, (name, &v)) in names.iter().zip(values).enumerate() {
            let y = TOP + k as f64 * row;
            let _ = write!(
                chart.body,
                r##"<rect x="{left:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{}" class="data"><title>{}: {v:.2} s</title></rect><text x="{:.2}" y="{:.2}" class="tick" text-anchor="end">{}</text>"##,
                y + 0.15 * row,
                (chart.px(v) - left).max(0.5),
                0.7 * row,
                COLORS[0],
                escape(name),
                left - 6.0,
                y + 0.5 * row + 4.0,
                escape(name)
            );
        }
        chart.finish()
    }

    /// One row per named quantity: a bar from its least to its largest
    /// value over some alternatives, and a dot at the reference's value,
    /// with the names on the left axis and `x` along the bottom.
    pub fn intervals(width: f64, title: &str, x_label: &str, x: (f64, f64), rows: &[IntervalRow]) -> String {
        let longest = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0) as f64;
        let left = (longest * 6.2 + 14.0).clamp(LEFT, width / 2.0);
        let mut chart = Self::build(width, title, x_label, "", x, (0.0, 1.0), Some(Scale::Linear), left);
        chart.body = strip_y_ticks(&chart.body);
        let row = (chart.height - TOP - BOTTOM) / rows.len().max(1) as f64;
        for (k, r) in rows.iter().enumerate() {
            let y = TOP + (k as f64 + 0.5) * row;
            let (a, b) = (chart.px(r.min), chart.px(r.max));
            let _ = write!(
                chart.body,
                r##"<line x1="{a:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{}" stroke-width="6" stroke-linecap="round" stroke-opacity="0.45" class="data"><title>{}: {} to {}</title></line><text x="{:.2}" y="{:.2}" class="tick" text-anchor="end">{}</text>"##,
                b.max(a + 0.5),
                COLORS[0],
                escape(&r.name),
                crate::number::readable(r.min),
                crate::number::readable(r.max),
                left - 6.0,
                y + 4.0,
                escape(&r.name)
            );
            if let Some(v) = r.reference {
                let _ = write!(
                    chart.body,
                    r##"<circle cx="{:.2}" cy="{y:.2}" r="4" fill="{}" class="point data"><title>{}: reference {}</title></circle>"##,
                    chart.px(v),
                    COLORS[1],
                    escape(&r.name),
                    crate::number::readable(v)
                );
            }
        }
        chart
            .legend
            .push(("range over the alternatives".into(), Key::Swatch(COLORS[0])));
        chart.legend.push(("the reference".into(), Key::Swatch(COLORS[1])));
        chart.finish()
    }

    /// The chart as one SVG element. The legend sits below the plot and
    /// its axis label, never over the data: the chart grows by a row per
    /// line of legend entries.
    pub fn finish(mut self) -> String {
        let mut legend = String::new();
        let (mut x, mut row) = (self.left, 0usize);
        let (width, plot_height) = (self.width, self.height);
        let right = width - RIGHT;
        for (label, key) in &self.legend {
            let width = legend_entry_width(label);
            if x + width > right && x > self.left {
                x = self.left;
                row += 1;
            }
            let y = plot_height + 4.0 + LEGEND_ROW * row as f64;
            match key {
                Key::Swatch(color) => {
                    let _ = write!(
                        legend,
                        r##"<rect x="{x:.2}" y="{:.2}" width="12" height="10" fill="{color}"/>"##,
                        y + 2.0
                    );
                }
                Key::Line(style) => {
                    let dash = if style.dash.is_empty() {
                        String::new()
                    } else {
                        format!(r#" stroke-dasharray="{}""#, style.dash)
                    };
                    let _ = write!(
                        legend,
                        r##"<line x1="{x:.2}" y1="{:.2}" x2="{:.2}" y2="{:.2}" stroke="{}" stroke-width="2"{dash}/>"##,
                        y + 7.0,
                        x + 22.0,
                        y + 7.0,
                        style.color
                    );
                    if let Some(marker) = style.marker {
                        legend.push_str(&marker_svg(marker, x + 11.0, y + 7.0, style.color, "key"));
                    }
                }
            }
            let _ = write!(
                legend,
                r##"<text x="{:.2}" y="{:.2}" class="legend">{}</text>"##,
                x + 28.0,
                y + 11.0,
                escape(label)
            );
            x += width;
        }
        let height = if self.legend.is_empty() {
            plot_height
        } else {
            plot_height + 8.0 + LEGEND_ROW * (row + 1) as f64
        };
        if !legend.is_empty() {
            let _ = write!(self.body, r##"<g class="legend">{legend}</g>"##);
        }
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" class="chart"><style>{CHART_STYLE}</style>{}</svg>"##,
            self.body
        )
    }
}

/// The width a legend entry takes: its key, a gap, and its label at the
/// legend's 11 px (an upper bound of 6.2 px per character, so that entries
/// do not run into each other).
fn legend_entry_width(label: &str) -> f64 {
    28.0 + 6.2 * label.chars().count() as f64 + 14.0
}

/// A marker centred on (x, y).
fn marker_svg(marker: Marker, x: f64, y: f64, color: &str, class: &str) -> String {
    match marker {
        Marker::Circle => format!(r##"<circle cx="{x:.2}" cy="{y:.2}" r="3.5" fill="{color}" class="{class}"/>"##),
        Marker::Square => format!(
            r##"<rect x="{:.2}" y="{:.2}" width="7" height="7" fill="{color}" class="{class}"/>"##,
            x - 3.5,
            y - 3.5
        ),
        Marker::Triangle => format!(
            r##"<polygon points="{:.2},{:.2} {:.2},{:.2} {:.2},{:.2}" fill="{color}" class="{class}"/>"##,
            x,
            y - 4.5,
            x - 4.0,
            y + 3.0,
            x + 4.0,
            y + 3.0
        ),
        Marker::Diamond => format!(
            r##"<polygon points="{:.2},{:.2} {:.2},{:.2} {:.2},{:.2} {:.2},{:.2}" fill="{color}" class="{class}"/>"##,
            x,
            y - 4.5,
            x + 4.5,
            y,
            x,
            y + 4.5,
            x - 4.5,
            y
        ),
        Marker::Cross => format!(
            r##"<path d="M{:.2} {:.2}L{:.2} {:.2}M{:.2} {:.2}L{:.2} {:.2}" stroke="{color}" stroke-width="2" class="{class}"/>"##,
            x - 3.5,
            y - 3.5,
            x + 3.5,
            y + 3.5,
            x - 3.5,
            y + 3.5,
            x + 3.5,
            y - 3.5
        ),
    }
}

/// A share as a percentage label: 0.0001 -> "0.01%", 1 -> "100%".
fn percent(share: f64) -> String {
    let p = 100.0 * share;
    if p >= 1.0 {
        format!("{p:.0}%")
    } else {
        let decimals = (-p.log10().floor()) as usize;
        format!("{p:.decimals$}%")
    }
}

/// The chart body without its horizontal grid lines' labels (the y ticks).
fn strip_y_ticks(body: &str) -> String {
    body.split("<text")
        .enumerate()
        .filter(|(k, part)| *k == 0 || !part.contains(r#"text-anchor="end""#))
        .map(|(k, part)| {
            if k == 0 {
                part.to_string()
            } else {
                format!("<text{part}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        // The range that read "-1.2e-3, 1.2e-3, 3.3e-3, 7.8e-3" before.
        let (t, e) = nice_ticks(-1.2e-3, 7.8e-3);
        assert_eq!(e, 0);
        let labels: Vec<String> = t.iter().map(|&v| nice_label(v, t[1] - t[0], e)).collect();
        assert_eq!(labels, vec!["-0.005", "0", "0.005", "0.010"]);
        let (t, e) = nice_ticks(-1.2e-5, 7.8e-5);
        assert_eq!(e, -4);
        let labels: Vec<String> = t.iter().map(|&v| nice_label(v, t[1] - t[0], e)).collect();
        assert_eq!(labels, vec!["-0.5", "0", "0.5", "1.0"]);
        let (t, e) = nice_ticks(0.0, 1.0);
        assert_eq!((t, e), (vec![0.0, 0.5, 1.0], 0));
        assert_eq!(nice_label(0.25, 0.25, 0), "0.25");
        let (t, e) = nice_ticks(0.0, 1.63e6);
        assert_eq!(e, 6);
        assert_eq!(nice_label(t[1], t[1] - t[0], e), "0.5");
        let (t, _) = nice_ticks(3.0, 3.0);
        assert!(t[0] <= 2.0 && *t.last().unwrap() >= 4.0);
        assert_eq!(percent(1e-4), "0.01%");
        assert_eq!(percent(0.5), "50%");
    }

    /// Boxes (x0, y0, x1, y1) of the elements of `svg` whose class includes
    /// `class`, or of every shape inside the `<g class="legend">` group,
    /// read from the SVG text: polylines and polygons by their points,
    /// circles by centre and radius, rects by position and size, lines by
    /// their ends, text by its anchor point and a generous 7 px per
    /// character at 11 px.
    fn boxes(svg: &str, legend: bool) -> Vec<(f64, f64, f64, f64)> {
        let attribute = |element: &str, name: &str| -> Option<f64> {
            let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
            let end = start + element[start..].find('"')?;
            element[start..end].parse().ok()
        };
        let part = if legend {
            let start = svg.find(r#"<g class="legend">"#).expect("a legend");
            &svg[start..start + svg[start..].find("</g>").expect("closed")]
        } else {
            svg
        };
        let mut found = Vec::new();
        for piece in part.split('<').skip(1) {
            let element = piece.split('>').next().unwrap_or_default();
            let classes = element
                .split_once("class=\"")
                .map_or("", |(_, rest)| rest.split('"').next().unwrap_or_default());
            if !legend && !classes.split(' ').any(|c| c == "data") {
                continue;
            }
            let tag = element.split(' ').next().unwrap_or_default();
            let b = match tag {
                "polyline" | "polygon" => {
                    let start = element.find("points=\"").expect("points") + 8;
                    let text = &element[start..start + element[start..].find('"').expect("closed")];
                    let points: Vec<(f64, f64)> = text
                        .split(' ')
                        .map(|p| {
                            let (x, y) = p.split_once(',').expect("x,y");
                            (x.parse().expect("x"), y.parse().expect("y"))
                        })
                        .collect();
                    points.iter().fold(
                        (f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY),
                        |(a, b, c, d), &(x, y)| (a.min(x), b.min(y), c.max(x), d.max(y)),
                    )
                }
                "circle" => {
                    let (x, y, r) = (
                        attribute(element, "cx").unwrap(),
                        attribute(element, "cy").unwrap(),
                        attribute(element, "r").unwrap(),
                    );
                    (x - r, y - r, x + r, y + r)
                }
                "rect" => {
                    let (x, y) = (attribute(element, "x").unwrap(), attribute(element, "y").unwrap());
                    (
                        x,
                        y,
                        x + attribute(element, "width").unwrap(),
                        y + attribute(element, "height").unwrap(),
                    )
                }
                "line" => {
                    let (x1, y1) = (attribute(element, "x1").unwrap(), attribute(element, "y1").unwrap());
                    let (x2, y2) = (attribute(element, "x2").unwrap(), attribute(element, "y2").unwrap());
                    (x1.min(x2), y1.min(y2), x1.max(x2), y1.max(y2))
                }
                "text" => {
                    let (x, y) = (attribute(element, "x").unwrap(), attribute(element, "y").unwrap());
                    let chars = piece.split_once('>').map_or(0, |(_, t)| t.chars().count()) as f64;
                    (x, y - 11.0, x + 7.0 * chars, y + 3.0)
                }
                _ => continue,
            };
            found.push(b);
        }
        found
    }

    fn overlap(a: (f64, f64, f64, f64), b: (f64, f64, f64, f64)) -> bool {
        a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
    }

    #[test]
    fn the_legend_covers_no_plotted_mark() {
        // Curves through every corner of the plot, where a legend drawn
        // inside it would sit, and long labels that wrap.
        let mut chart = Chart::new(WIDE, "t", "x", "y", (0.0, 1.0), (0.0, 1.0));
        chart.line(
            &[(0.0, 1.0), (0.3, 1.0), (1.0, 0.0)],
            0,
            "a curve along the top edge with a long label",
        );
        chart.line(&[(0.0, 0.0), (1.0, 1.0)], 1, "a diagonal");
        chart.reference(&[(0.0, 0.5), (1.0, 0.5)], "a reference line");
        chart.points(
            &[(0.05, 0.95, "p".into()), (0.95, 0.05, "q".into())],
            2,
            "points in the corners",
        );
        for k in 3..7 {
            chart.line(&[(0.0, 0.9), (1.0, 0.9)], k, &format!("series {k}"));
        }
        let svg = chart.finish();
        let data = boxes(&svg, false);
        let legend = boxes(&svg, true);
        assert!(
            data.len() > 10 && legend.len() > 16,
            "{} marks, {} legend shapes",
            data.len(),
            legend.len()
        );
        for l in &legend {
            for d in &data {
                assert!(!overlap(*l, *d), "legend shape {l:?} covers the mark {d:?}");
            }
            // and it stays inside the picture
            let height: f64 = svg
                .split("viewBox=\"0 0 560 ")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                l.0 >= 0.0 && l.2 <= WIDTH && l.3 <= height,
                "{l:?} outside 0..{WIDTH} x 0..{height}"
            );
        }
        let mut bars = Chart::categorical(WIDE, "t", "tier", "%", (0.0, 100.0));
        bars.bars(
            &["head".into(), "middle".into(), "tail".into()],
            &[
                ("full scale".into(), vec![100.0, 50.0, 0.0]),
                ("top-followers panel".into(), vec![100.0, 0.0, 0.0]),
            ],
        );
        let svg = bars.finish();
        for l in boxes(&svg, true) {
            for d in boxes(&svg, false) {
                assert!(!overlap(l, d), "legend shape {l:?} covers the bar {d:?}");
            }
        }
    }

    #[test]
    fn series_differ_in_colour_and_in_dash_or_marker() {
        let styles: Vec<Style> = (0..COLORS.len()).map(Style::series).collect();
        for (i, a) in styles.iter().enumerate() {
            for b in &styles[i + 1..] {
                assert_ne!(a.color, b.color);
                // Told apart without colour too (in print, for a reader who
                // does not see the difference).
                assert!((a.dash, a.marker) != (b.dash, b.marker), "{a:?} and {b:?}");
            }
        }
        // A chart carries each series' dash pattern to its polyline.
        let mut chart = Chart::new(WIDE, "t", "x", "y", (0.0, 1.0), (0.0, 1.0));
        for k in 0..4 {
            chart.line(&[(0.0, 0.0), (1.0, 1.0)], k, &format!("s{k}"));
        }
        let svg = chart.finish();
        let dashes: Vec<&str> = svg
            .split("<polyline")
            .skip(1)
            .map(|p| {
                p.split("stroke-dasharray=\"")
                    .nth(1)
                    .map_or("", |d| d.split('"').next().unwrap())
            })
            .collect();
        assert_eq!(dashes, vec!["", "7 3", "2 2", "9 3 2 3"]);
    }
}
