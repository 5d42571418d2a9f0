//! The use cases: one module per command the CLI offers. Each takes the repository
//! (`Store`) or the workspace (repository plus configuration) and a request, and
//! returns a typed report that serializes to the command's `--json`. Nothing here
//! prints or parses arguments; progress that must be shown while a use case runs
//! (a run starting, a sweep's combinations) goes to an `Observer`.

pub mod approve;
pub mod card;
pub mod checkout;
pub mod compare;
pub mod demo;
pub mod diff;
pub mod doctor;
pub mod driver;
pub mod hash;
pub mod hooks;
pub mod import;
pub mod init;
pub mod lfs;
pub mod log;
pub mod mirror;
pub mod narrative;
pub mod next;
pub mod notes_repair;
pub mod params_apply;
pub mod records;
pub mod reject;
pub mod report;
pub mod resolve;
pub mod review;
pub mod run;
pub mod show;
pub mod signatures;
pub mod status;
pub mod sweep;
pub mod sync;
pub mod tier;
pub mod verify;
pub mod verify_approvals;
pub mod workspace;

pub use workspace::Workspace;

use crate::model::decision::FeedbackRecord;
use crate::model::{RunId, StageName};

/// Something a use case reports while it runs.
#[derive(Debug)]
pub enum Notice<'a> {
    /// A run's command is about to start.
    RunStarted {
        stage: &'a StageName,
        run_id: &'a RunId,
    },
    /// The stage's previous run was rejected; the new run should address this.
    PreviousRejected {
        run_id: &'a RunId,
        feedback: &'a FeedbackRecord,
    },
    /// A run was interrupted and nothing was recorded.
    Interrupted {
        stage: &'a StageName,
        run_id: &'a RunId,
    },
    /// A sweep starts `total` runs, `jobs` at a time.
    SweepStarted {
        sweep_id: &'a str,
        stage: &'a StageName,
        total: usize,
        jobs: usize,
    },
    /// One combination of a sweep finished.
    SweepRun(&'a sweep::SweepRun),
    /// The remote moved during a push; its records are fetched and merged again.
    PushRetry { remote: &'a str },
}

/// Receives notices; the CLI shows them, tests and silent callers ignore them.
pub trait Observer: Sync {
    fn notice(&self, notice: Notice<'_>);
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn notice(&self, _: Notice<'_>) {}
}
