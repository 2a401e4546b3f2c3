//! A few SVG chart primitives for the report's fixed charts. Written here
//! rather than taken from plotters: five small charts need axes, lines,
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

/// A chart with linear axes over [x0, x1] x [y0, y1].
pub struct Chart {
    pub body: String,
    x: (f64, f64),
    y: (f64, f64),
    legend: Vec<(String, &'static str)>,
}

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Round numbers for tick labels.
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

impl Chart {
    /// A chart whose x axis holds categories (bars): no numeric x ticks.
    pub fn categorical(title: &str, x_label: &str, y_label: &str, y: (f64, f64)) -> Self {
        Self::with_ticks(title, x_label, y_label, (0.0, 1.0), y, false)
    }

    pub fn new(title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64)) -> Self {
        Self::with_ticks(title, x_label, y_label, x, y, true)
    }

    fn with_ticks(title: &str, x_label: &str, y_label: &str, x: (f64, f64), y: (f64, f64), x_ticks: bool) -> Self {
        let widen = |(a, b): (f64, f64)| if a == b { (a - 1.0, b + 1.0) } else { (a, b) };
        let (x, y) = (widen(x), widen(y));
        let mut body = String::new();
        let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        let _ = write!(
            body,
            r##"<text x="{}" y="18" class="title">{}</text><rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" class="frame"/>"##,
            WIDTH / 2.0,
            escape(title)
        );
        for k in 0..=4 {
            let f = k as f64 / 4.0;
            let (xv, yv) = (x.0 + f * (x.1 - x.0), y.0 + f * (y.1 - y.0));
            let (px, py) = (LEFT + f * pw, TOP + ph - f * ph);
            if x_ticks {
                let _ = write!(
                    body,
                    r##"<line x1="{px}" y1="{TOP}" x2="{px}" y2="{}" class="grid"/><text x="{px}" y="{}" class="tick" text-anchor="middle">{}</text>"##,
                    TOP + ph,
                    TOP + ph + 16.0,
                    tick_label(xv)
                );
            }
            let _ = write!(
                body,
                r##"<line x1="{LEFT}" y1="{py}" x2="{}" y2="{py}" class="grid"/><text x="{}" y="{}" class="tick" text-anchor="end">{}</text>"##,
                LEFT + pw,
                LEFT - 6.0,
                py + 4.0,
                tick_label(yv)
            );
        }
        let _ = write!(
            body,
            r##"<text x="{}" y="{}" class="label" text-anchor="middle">{}</text><text x="14" y="{}" class="label" text-anchor="middle" transform="rotate(-90 14 {})">{}</text>"##,
            LEFT + pw / 2.0,
            HEIGHT - 10.0,
            escape(x_label),
            TOP + ph / 2.0,
            TOP + ph / 2.0,
            escape(y_label)
        );
        Self {
            body,
            x,
            y,
            legend: Vec::new(),
        }
    }

    pub fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (WIDTH - LEFT - RIGHT)
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
            r##"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"##,
            d.join(" ")
        );
        self.legend.push((label.to_string(), color));
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
        let group_width = (WIDTH - LEFT - RIGHT) / groups;
        let bar = group_width * 0.8 / series.len().max(1) as f64;
        let zero = self.py(0.0_f64.clamp(self.y.0, self.y.1));
        for (c, name) in categories.iter().enumerate() {
            let x0 = LEFT + c as f64 * group_width + group_width * 0.1;
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

    pub fn finish(mut self) -> String {
        for (k, (label, color)) in self.legend.iter().enumerate() {
            let y = TOP + 14.0 + 16.0 * k as f64;
            let _ = write!(
                self.body,
                r##"<rect x="{}" y="{}" width="12" height="10" fill="{color}"/><text x="{}" y="{}" class="legend">{}</text>"##,
                LEFT + 10.0,
                y - 9.0,
                LEFT + 28.0,
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
