//! When and how the progress of long work is drawn: a bar (a spinner when the size is
//! unknown) on stderr, only when stderr is a terminal, without `--json` and without
//! `NO_COLOR`; hidden for the first second (`WORKBENCH_PROGRESS_DELAY_MS`), so quick
//! commands never flash one; cleared when its phase ends. The use cases tick an
//! `exec::progress::Progress` and never learn which of these they got.
//!
//! Everything drawn passes through `escape_controls`: a file name from another clone
//! must not steer the terminal through the bar's message (docs/progress.md).
//!
//! A command with its own long loop (the coming `report`) calls `phase`.

use super::output::Out;
use crate::exec::progress::{NoProgress, Progress, Unit};
use crate::model::text::{escape_controls, Lines};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Milliseconds a command runs before its progress is drawn (default 1000; tests set 0).
pub const DELAY_ENV: &str = "WORKBENCH_PROGRESS_DELAY_MS";
const DEFAULT_DELAY: Duration = Duration::from_millis(1000);
/// How often a drawn bar redraws itself (spinners, elapsed time, rates).
const TICK: Duration = Duration::from_millis(100);

/// Whether progress may be drawn: stderr is a terminal, no `--json`, no `NO_COLOR`,
/// and not a dumb terminal.
pub fn enabled(out: &Out) -> bool {
    let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
    !out.json
        && !set("NO_COLOR")
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        && std::io::stderr().is_terminal()
}

/// The progress sink of a command: drawn as this module says when `enabled`,
/// `NoProgress` otherwise. Hand it to `Workspace::with_progress` or an ops function.
pub fn sink(out: &Out) -> Arc<dyn Progress> {
    if !enabled(out) {
        return Arc::new(NoProgress);
    }
    Arc::new(Term(Arc::new(Inner {
        created: Instant::now(),
        delay: delay(),
        state: Mutex::new(State::default()),
    })))
}

/// A phase begun at once on a new sink, for a command that loops itself: tick it
/// with `advance` and `item`; dropping it clears the bar. Nothing is drawn unless
/// `enabled`, nor before the delay.
#[allow(dead_code)] // the hook `report` is to use
pub fn phase(out: &Out, what: &str, total: Option<u64>, unit: Unit) -> Shown {
    let sink = sink(out);
    sink.begin(what, total, unit);
    Shown(sink)
}

/// A phase from `phase`, ended when dropped.
#[allow(dead_code)]
pub struct Shown(Arc<dyn Progress>);

#[allow(dead_code)]
impl Shown {
    pub fn advance(&self, n: u64) {
        self.0.advance(n);
    }
    pub fn item(&self, item: &str) {
        self.0.item(item);
    }
}

impl Drop for Shown {
    fn drop(&mut self) {
        self.0.end();
    }
}

fn delay() -> Duration {
    std::env::var(DELAY_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(DEFAULT_DELAY, Duration::from_millis)
}

struct Term(Arc<Inner>);

struct Inner {
    created: Instant,
    delay: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    bar: Option<ProgressBar>,
    /// The delay has passed: bars are drawn from their first tick.
    shown: bool,
    watching: bool,
}

impl Inner {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere must not silence the rest of the command's output.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn reveal(bar: &ProgressBar) {
    bar.set_draw_target(ProgressDrawTarget::stderr());
    // Drawn now, however short the phase: a bar shown is a bar seen.
    bar.tick();
    bar.enable_steady_tick(TICK);
}

/// Waits out the delay, then draws whatever phase is running and every later one.
fn watch(inner: Weak<Inner>, until: Instant) {
    std::thread::sleep(until.saturating_duration_since(Instant::now()));
    let Some(inner) = inner.upgrade() else {
        return;
    };
    let mut st = inner.state();
    st.shown = true;
    if let Some(b) = &st.bar {
        reveal(b);
    }
}

fn style(unit: Unit, sized: bool) -> ProgressStyle {
    let template = match (unit, sized) {
        (_, false) | (Unit::Steps, _) => "{spinner} {prefix} {elapsed} {wide_msg}",
        (Unit::Bytes, true) => {
            "{prefix} {bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} {wide_msg}"
        }
        (Unit::Files | Unit::Records, true) => "{prefix} {bar:30} {pos}/{len} {wide_msg}",
    };
    ProgressStyle::with_template(template).expect("valid progress template")
}

impl Progress for Term {
    fn begin(&self, what: &str, total: Option<u64>, unit: Unit) {
        let inner = &self.0;
        let mut st = inner.state();
        if let Some(old) = st.bar.take() {
            old.finish_and_clear();
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden())
            .with_style(style(unit, total.is_some()))
            .with_prefix(escape_controls(what, Lines::Escape).into_owned());
        if st.shown || inner.delay.is_zero() {
            st.shown = true;
            reveal(&bar);
        } else if !st.watching {
            st.watching = true;
            let weak = Arc::downgrade(inner);
            let until = inner.created + inner.delay;
            std::thread::spawn(move || watch(weak, until));
        }
        st.bar = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(b) = &self.0.state().bar {
            b.inc(n);
        }
    }

    fn item(&self, item: &str) {
        if let Some(b) = &self.0.state().bar {
            b.set_message(escape_controls(item, Lines::Escape).into_owned());
        }
    }

    fn end(&self) {
        if let Some(b) = self.0.state().bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(b) = self.state().bar.take() {
            b.finish_and_clear();
        }
    }
}
