//! `sweep`: one recorded run per combination of param values, `jobs` at a time, in
//! this process. Each combination is a normal `run` on a thread of its own, with its
//! own workspace handle, child process, log and outcome; an interrupt reaches every
//! running command and stops new ones from starting.

use super::run::{run, RunOutcome, RunRequest};
use super::workspace::Workspace;
use super::{Notice, Observer};
use crate::error::{Error, Result};
use crate::exec::clock;
use crate::exec::command::{Echo, Interrupts};
use crate::model::sweep::{combinations, Axis};
use crate::model::{RunId, StageName};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

pub struct SweepRequest {
    pub stage: StageName,
    pub axes: Vec<Axis>,
    /// How many runs at a time.
    pub jobs: usize,
    /// Stop starting new combinations after the first failure.
    pub fail_fast: bool,
}

/// One combination's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepRun {
    /// 0-based position in the product.
    #[serde(skip)]
    pub index: usize,
    pub run_id: Option<RunId>,
    pub params: serde_json::Map<String, Value>,
    pub exit_code: i32,
    /// Why the run was not recorded, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `sweep --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepReport {
    pub sweep_id: String,
    pub stage: StageName,
    pub combinations: usize,
    pub runs: Vec<SweepRun>,
    pub failed: usize,
    pub not_started: usize,
    pub interrupted: bool,
}

impl SweepReport {
    /// 0 when every combination ran and succeeded, 130 after an interrupt, else 1.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else {
            u8::from(self.failed > 0 || self.not_started > 0)
        }
    }
}

/// `KEY=VALUE ...` as people read a combination.
pub fn shown(params: &serde_json::Map<String, Value>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::model::manifest::display_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn sweep(
    ws: &Workspace,
    req: &SweepRequest,
    interrupts: &Interrupts,
    observer: &dyn Observer,
) -> Result<SweepReport> {
    if req.jobs == 0 {
        return Err(Error::input("--jobs must be at least 1"));
    }
    if ws.config.stage(&req.stage).is_none() {
        return Err(
            Error::input(format!("no stage '{}' in the configuration", req.stage))
                .hint("see the stages with 'git workbench status'"),
        );
    }
    let combos = combinations(&req.axes)?;
    let sweep_id = format!(
        "sweep-{}",
        RunId::generate(clock::now_millis(), std::process::id() as u16)
    );
    let total = combos.len();
    observer.notice(Notice::SweepStarted {
        sweep_id: &sweep_id,
        stage: &req.stage,
        total,
        jobs: req.jobs,
    });
    let pool = Pool {
        req,
        sweep_id: &sweep_id,
        combos: &combos,
        interrupts,
        observer,
        next: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        results: Mutex::new(Vec::new()),
        refused: Mutex::new(None),
    };
    std::thread::scope(|scope| {
        for _ in 0..req.jobs.min(total) {
            scope.spawn(|| pool.work());
        }
    });
    if let Some((run, e)) = pool.refused.into_inner().expect("lock") {
        let stopped = Error::input(format!(
            "sweep stopped: the run with {} was refused: {e}",
            shown(&run.params)
        ));
        return Err(match e.hint_text() {
            Some(h) => stopped.hint(h),
            None => stopped,
        });
    }
    let mut runs = pool.results.into_inner().expect("lock");
    runs.sort_by_key(|r| r.index);
    let failed = runs.iter().filter(|o| o.exit_code != 0).count();
    Ok(SweepReport {
        sweep_id,
        stage: req.stage.clone(),
        combinations: total,
        not_started: total - runs.len(),
        failed,
        runs,
        interrupted: interrupts.fired(),
    })
}

/// The combinations, and the threads that take them one by one.
struct Pool<'a> {
    req: &'a SweepRequest,
    sweep_id: &'a str,
    combos: &'a [Vec<(String, Value)>],
    interrupts: &'a Interrupts,
    observer: &'a dyn Observer,
    next: AtomicUsize,
    stop: AtomicBool,
    results: Mutex<Vec<SweepRun>>,
    /// The first combination refused as bad input: every other would be too.
    refused: Mutex<Option<(SweepRun, Error)>>,
}

impl Pool<'_> {
    fn work(&self) {
        // Each thread has its own repository handle (libgit2's are not shared).
        let ws = match Workspace::open("sweep") {
            Ok(ws) => ws,
            Err(e) => {
                self.stop.store(true, Ordering::SeqCst);
                let run = self.outcome(0, None, 2, Some(e.to_string()));
                self.refused.lock().expect("lock").get_or_insert((run, e));
                return;
            }
        };
        loop {
            if self.stop.load(Ordering::SeqCst) || self.interrupts.fired() {
                return;
            }
            let i = self.next.fetch_add(1, Ordering::SeqCst);
            if i >= self.combos.len() {
                return;
            }
            let Some(run) = self.one(&ws, i) else {
                return;
            };
            if run.exit_code != 0 && self.req.fail_fast {
                self.stop.store(true, Ordering::SeqCst);
            }
            self.observer.notice(Notice::SweepRun(&run));
            self.results.lock().expect("lock").push(run);
        }
    }

    /// Runs combination `i`; `None` when it was refused as bad input.
    fn one(&self, ws: &Workspace, i: usize) -> Option<SweepRun> {
        let mut req = RunRequest::new(self.req.stage.clone());
        req.params = self.combos[i].clone();
        req.sweep_id = Some(self.sweep_id.to_string());
        req.echo = Echo::LogOnly;
        req.no_stdin = true;
        match run(ws, &req, self.interrupts, &super::Silent) {
            Ok(RunOutcome::Recorded(r)) => {
                Some(self.outcome(i, Some(r.run_id.clone()), r.exit_code, None))
            }
            Ok(RunOutcome::Interrupted { .. }) => {
                Some(self.outcome(i, None, 130, Some("interrupted; not recorded".into())))
            }
            // Bad input or a broken repository would fail every combination alike.
            Err(e) if e.exit_code() == 2 => {
                self.stop.store(true, Ordering::SeqCst);
                let run = self.outcome(i, None, 2, Some(e.to_string()));
                self.refused.lock().expect("lock").get_or_insert((run, e));
                None
            }
            Err(e) => Some(self.outcome(i, None, i32::from(e.exit_code()), Some(e.to_string()))),
        }
    }

    fn outcome(
        &self,
        i: usize,
        run_id: Option<RunId>,
        exit_code: i32,
        error: Option<String>,
    ) -> SweepRun {
        SweepRun {
            index: i,
            run_id,
            params: self.combos[i].iter().cloned().collect(),
            exit_code,
            error,
        }
    }
}
