//! Shows what the use cases report while they run: a run starting or interrupted, the
//! feedback a new run answers, a sweep's progress (a bar on a terminal, one line per
//! combination otherwise), a push retried. Everything goes to stderr.

use super::output::Out;
use crate::model::text::{escape_controls, Lines};
use crate::ops::sweep::shown;
use crate::ops::{Notice, Observer};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub struct Notices<'a> {
    out: &'a Out,
    bar: Mutex<Option<indicatif::ProgressBar>>,
    total: AtomicUsize,
}

impl<'a> Notices<'a> {
    pub fn new(out: &'a Out) -> Notices<'a> {
        Notices {
            out,
            bar: Mutex::new(None),
            total: AtomicUsize::new(0),
        }
    }

    fn sweep_started(
        &self,
        sweep_id: &str,
        stage: &crate::model::StageName,
        total: usize,
        jobs: usize,
    ) {
        self.total.store(total, Ordering::SeqCst);
        self.out.note(&format!(
            "workbench: sweep {sweep_id}: {total} run(s) of stage {stage}, {jobs} at a time"
        ));
        if super::progress::enabled(self.out) {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                    .expect("valid template"),
            );
            *self.bar.lock().expect("bar lock") = Some(b);
        }
    }

    fn sweep_run(&self, r: &crate::ops::sweep::SweepRun) {
        let line = format!(
            "[{}/{}] {} {}: {}",
            r.index + 1,
            self.total.load(Ordering::SeqCst),
            r.run_id.as_ref().map_or("(not recorded)", |id| id.as_str()),
            shown(&r.params),
            if r.exit_code == 0 {
                "ok".to_string()
            } else {
                format!("failed, exit {}", r.exit_code)
            }
        );
        match self.bar.lock().expect("bar lock").as_ref() {
            Some(b) => {
                b.inc(1);
                // The bar writes to the terminal itself: escape what it is given.
                if r.exit_code != 0 {
                    b.println(escape_controls(&line, Lines::Keep));
                }
                b.set_message(escape_controls(&shown(&r.params), Lines::Escape).into_owned());
            }
            None => self.out.note(&line),
        }
    }

    /// Clears the progress bar, if one was drawn.
    pub fn finish(&self) {
        if let Some(b) = self.bar.lock().expect("bar lock").take() {
            b.finish_and_clear();
        }
    }
}

impl Observer for Notices<'_> {
    fn notice(&self, n: Notice<'_>) {
        let out = self.out;
        match n {
            Notice::RunStarted { stage, run_id } => {
                if !out.json {
                    out.note(&format!("workbench: running stage {stage} as run {run_id}"));
                }
            }
            Notice::PreviousRejected { run_id, feedback } => {
                out.note(&format!(
                    "workbench: the previous run {run_id} was rejected by {}: {}",
                    feedback.rejected_by, feedback.issue
                ));
                for c in &feedback.acceptance_criteria {
                    out.note(&format!("workbench:   acceptance criterion: {c}"));
                }
                if !feedback.suggested_params.is_empty() {
                    out.note(&format!(
                        "workbench:   suggested: {}",
                        feedback.suggested_args()
                    ));
                }
            }
            Notice::Interrupted { stage, run_id } => out.note(&format!(
                "workbench: interrupted; run {run_id} of stage {stage} was not recorded"
            )),
            Notice::SweepStarted {
                sweep_id,
                stage,
                total,
                jobs,
            } => self.sweep_started(sweep_id, stage, total, jobs),
            Notice::SweepRun(r) => self.sweep_run(r),
            Notice::PushRetry { remote } => out.note(&format!(
                "workbench: {remote} moved since the fetch; fetching, merging and pushing again"
            )),
        }
    }
}
