//! Progress on a terminal, silence elsewhere.
//!
//! Long work reports to an [`Observer`]: the stage it is in, and its
//! position against a total when the total is known. [`Terminal`] draws that
//! as a bar with a time-left estimate on stderr when stderr is a terminal
//! (and `AUMANN_NO_PROGRESS` is unset), and draws nothing otherwise. `()`
//! observes nothing.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// What long work tells a progress display. Calls may come from any thread.
pub trait Observer: Sync {
    /// A stage begins, with its total units when they are known.
    fn stage(&self, name: &str, total: Option<u64>);
    /// `done` of `total` units of the current stage (the total may grow, as
    /// when the adaptive rule adds a level), with a short status.
    fn advance(&self, done: u64, total: u64, detail: &str);
    /// Whether the user asked to stop (an interrupt). Long work asks
    /// between its sweeps and stages, and stops with an error when told.
    fn interrupted(&self) -> bool {
        false
    }
    /// Something the user should know about the input, said once (an
    /// edited table read unchecked, say). Quiet observers drop it.
    fn note(&self, _text: &str) {}
}

impl Observer for () {
    fn stage(&self, _: &str, _: Option<u64>) {}
    fn advance(&self, _: u64, _: u64, _: &str) {}
}

/// A bar on stderr for stages with a total, a spinner for stages without.
pub struct Terminal {
    /// One bar per stage: a stage starts on a fresh line, cleared of the
    /// previous stage's prefix, message and counts before anything of the
    /// new stage is drawn.
    bar: std::sync::Mutex<ProgressBar>,
}

impl Terminal {
    pub fn new() -> Self {
        Self {
            bar: std::sync::Mutex::new(stage_spinner()),
        }
    }

    fn bar(&self) -> std::sync::MutexGuard<'_, ProgressBar> {
        // A panic elsewhere while the lock was held leaves a bar that is
        // still fit to draw on.
        self.bar.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Clears the line (call before printing results).
    pub fn finish(&self) {
        self.bar().finish_and_clear();
    }
}

fn stage_spinner() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target());
    bar.set_style(spinner_style());
    bar
}

impl Default for Terminal {
    fn default() -> Self {
        Self::new()
    }
}

impl Observer for Terminal {
    fn stage(&self, name: &str, total: Option<u64>) {
        let next = match total {
            Some(total) => {
                let bar = ProgressBar::with_draw_target(Some(total), target());
                bar.set_style(bar_style());
                bar
            }
            None => stage_spinner(),
        };
        next.set_prefix(name.to_string());
        let mut bar = self.bar();
        bar.finish_and_clear();
        *bar = next;
        if total.is_none() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
    }

    fn advance(&self, done: u64, total: u64, detail: &str) {
        let bar = self.bar();
        if bar.length() != Some(total) {
            bar.disable_steady_tick();
            bar.set_length(total);
            bar.set_style(bar_style());
        }
        bar.set_position(done);
        bar.set_message(detail.to_string());
    }

    fn note(&self, text: &str) {
        // Said whether or not a bar is drawn: it is about the input, not
        // the progress.
        self.bar().suspend(|| eprintln!("note: {text}"));
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} [{bar:28}] {pos}/{len} {msg} ({elapsed}, {eta} left)")
        .expect("valid template")
        .progress_chars("=> ")
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})").expect("valid template")
}

/// A bar over `total` units (bytes, say) drawn on stderr when it is a
/// terminal; hidden (and free) when output goes to a file, a pipe or CI.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:32}] {percent:>3}% {binary_bytes}/{binary_total_bytes} ({eta} left)",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A spinner with elapsed time, for work whose size is unknown.
pub fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(None, target());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid template"));
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

fn target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() && std::env::var_os("AUMANN_NO_PROGRESS").is_none() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// Records what it is told, for tests of the reports long work makes.
#[derive(Default)]
pub struct Recorder(std::sync::Mutex<Vec<Event>>);

/// One report to an [`Observer`].
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Stage(String, Option<u64>),
    Advance(u64, u64, String),
}

impl Recorder {
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().expect("recorder").clone()
    }
}

impl Observer for Recorder {
    fn stage(&self, name: &str, total: Option<u64>) {
        self.0.lock().expect("recorder").push(Event::Stage(name.into(), total));
    }
    fn advance(&self, done: u64, total: u64, detail: &str) {
        self.0
            .lock()
            .expect("recorder")
            .push(Event::Advance(done, total, detail.into()));
    }
}
