//! A few SVG chart primitives for the report's fixed charts. Written here
//! rather than taken from plotters: a dozen small charts need axes, lines,
//! points and bars, inline in one page, and plotters' text layout needs a
//! font-metrics feature and a font file that the page itself never uses.

use std::fmt::Write;

pub const WIDTH: f64 = 560.0;
pub const HEIGHT: f64 = 340.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 48.0;

pub const COLORS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f"];

/// How an axis maps values to positions.
#[derive(Clone, Copy, PartialEq)]
enum Scale {
    Linear,
    /// Base-10 logarithm; ticks at powers of ten, labelled in percent.
    LogPercent,
}

/// A chart over [x0, x1] x [y0, y1].
pub struct Chart {
    pub body: String,
    x: (f64, f64),
    y: (f64, f64),
    x_scale: Scale,
    left: f64,
    legend: Vec<(String, &'static str)>,
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Round numbers for labels of single values.
pub fn tick_label(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 1e4 || v.abs() < 1e-2 {
        format!("{v:.1e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
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
    pub fn categorical(title: &str, x_label: &str, y_label: &str, y: (f64, f64)) -> Self {
        Self::build(title, x_label, y_label, (0.0, 1.0), y, None, LEFT)
    }

    /// Linear axes with round ticks; the ranges widen to the outer ticks.
    pub fn new(title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Self {
        Self::build(title, x_label, y_label, x, y, Some(Scale::Linear), LEFT)
    }

    /// A logarithmic x axis of shares (ticks at 0.01%, 0.1%, 1%, ...).
    pub fn log_share(title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Self {
        Self::build(title, x_label, y_label, x, y, Some(Scale::LogPercent), LEFT)
    }

    fn build(
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
            legend: Vec::new(),
        };
        let (pw, ph) = (WIDTH - left - RIGHT, HEIGHT - TOP - BOTTOM);
        let _ = write!(
            chart.body,
            r##"<text x="{}" y="18" class="title">{}</text><rect x="{left}" y="{TOP}" width="{pw}" height="{ph}" class="frame"/>"##,
            WIDTH / 2.0,
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
            HEIGHT - 10.0,
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
        self.left + f * (WIDTH - self.left - RIGHT)
    }

    pub fn py(&self, y: f64) -> f64 {
        TOP + (HEIGHT - TOP - BOTTOM) - (y - self.y.0) / (self.y.1 - self.y.0) * (HEIGHT - TOP - BOTTOM)
    }

    pub fn line(&mut self, points: &[(f64, f64)], color: &'static str, label: &str, dashed: bool) {
        let d: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.2},{:.2}", self.px(x), self.py(y)))
            .collect();
        let dash = if dashed { r#" stroke-dasharray="5 4""# } else { "" };
        let _ = write!(
            self.body,
            r##"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}><title>{}</title></polyline>"##,
            d.join(" "),
            escape(label)
        );
        self.legend.push((label.to_string(), color));
    }

    /// A shaded band between two curves over the same x (a range of runs).
    pub fn band(&mut self, x: &[f64], low: &[f64], high: &[f64], color: &'static str) {
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
            r##"<polygon points="{}" fill="{color}" fill-opacity="0.15" stroke="none"/>"##,
            d.join(" ")
        );
    }

    /// Points with a hover title each.
    pub fn points(&mut self, points: &[(f64, f64, String)], color: &'static str, label: &str) {
        for (x, y, title) in points {
            let _ = write!(
                self.body,
                r##"<circle cx="{:.2}" cy="{:.2}" r="3.5" fill="{color}" fill-opacity="0.75" class="point"><title>{}</title></circle>"##,
                self.px(*x),
                self.py(*y),
                escape(title)
            );
        }
        self.legend.push((label.to_string(), color));
    }

    /// Grouped bars: one group per category, one bar per series.
    pub fn bars(&mut self, categories: &[String], series: &[(String, Vec<f64>)]) {
        let groups = categories.len().max(1) as f64;
        let group_width = (WIDTH - self.left - RIGHT) / groups;
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
                    r##"<rect x="{:.2}" y="{top:.2}" width="{:.2}" height="{h:.2}" fill="{}"><title>{}: {} = {}</title></rect>"##,
                    x0 + s as f64 * bar,
                    bar - 1.0,
                    COLORS[s % COLORS.len()],
                    escape(series_name),
                    escape(name),
                    tick_label(v)
                );
            }
            let _ = write!(
                self.body,
                r##"<text x="{:.2}" y="{}" class="tick" text-anchor="middle">{}</text>"##,
                x0 + group_width * 0.4,
                HEIGHT - BOTTOM + 16.0,
                escape(name)
            );
        }
        for (s, (name, _)) in series.iter().enumerate() {
            self.legend.push((name.clone(), COLORS[s % COLORS.len()]));
        }
    }

    /// Horizontal bars, one per named row, with the names on the left axis
    /// and round ticks along the bottom: for rows with long names (stages).
    pub fn horizontal(title: &str, x_label: &str, names: &[String], values: &[f64]) -> String {
        let hi = values.iter().copied().fold(0.0, f64::max).max(1e-3);
        let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(0) as f64;
        let left = (longest * 6.2 + 14.0).clamp(LEFT, WIDTH / 2.0);
        let mut chart = Self::build(title, x_label, "", (0.0, hi), (0.0, 1.0), Some(Scale::Linear), left);
        // The frame and the x ticks are the chart's; the y ticks would be
        // numbers, so the rows draw over a clean axis.
        chart.body = strip_y_ticks(&chart.body);
        let row = (HEIGHT - TOP - BOTTOM) / names.len().max(1) as f64;
        for (k, (name, &v)) in names.iter().zip(values).enumerate() {
            let y = TOP + k as f64 * row;
            let _ = write!(
                chart.body,
                r##"<rect x="{left:.2}" y="{:.2}" width="{:.2}" height="{:.2}" fill="{}"><title>{}: {v:.2} s</title></rect><text x="{:.2}" y="{:.2}" class="tick" text-anchor="end">{}</text>"##,
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

    pub fn finish(mut self) -> String {
        for (k, (label, color)) in self.legend.iter().enumerate() {
            let y = TOP + 14.0 + 16.0 * k as f64;
            let _ = write!(
                self.body,
                r##"<rect x="{}" y="{}" width="12" height="10" fill="{color}"/><text x="{}" y="{}" class="legend">{}</text>"##,
                self.left + 10.0,
                y - 9.0,
                self.left + 28.0,
                y,
                escape(label)
            );
        }
        format!(
            r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="chart">{}</svg>"##,
            self.body
        )
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
}
