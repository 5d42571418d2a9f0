//! `show RUN`: a run's record and its chain of transitions, read from the run ref
//! (never from the working-tree mirror); `show RUN --log`: the log its command wrote,
//! as the record stores it.

use super::records::state_of;
use super::resolve::resolve_run;
use crate::error::Result;
use crate::model::approval::overridden_checks;
use crate::model::decision::{ApprovalRecord, FeedbackRecord};
use crate::model::event::NoteEvent;
use crate::model::manifest::RunManifest;
use crate::model::review::ReviewRecord;
use crate::model::state::{RunEvent, RunState};
use crate::model::{ObjectId, RunId, StageName};
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// One commit on the run ref.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionInfo {
    /// `null` for a commit without a `Workbench-Event` trailer.
    pub event: Option<RunEvent>,
    pub commit: ObjectId,
    pub author: String,
    /// Commit time, seconds since the epoch.
    pub time: i64,
}

/// `show --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowReport {
    pub run_id: RunId,
    pub stage: StageName,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub record: ObjectId,
    pub state: RunState,
    pub latest_event: Option<RunEvent>,
    pub manifest: RunManifest,
    pub review: Option<ReviewRecord>,
    pub approval: Option<ApprovalRecord>,
    pub feedback: Option<FeedbackRecord>,
    /// True only when the approval's signature verified against the allowed signers
    /// and is the approver's (`signature`); never read from the record.
    pub signed: bool,
    /// The approval's verified signature status (`null` when not approved).
    pub signature: Option<crate::model::decision::SignatureStatus>,
    pub signature_detail: Option<String>,
    /// The blocking checks a forced approval (`approval.forced`) overrode, from its
    /// review; empty for any other run.
    pub overridden_checks: Vec<String>,
    pub transitions: Vec<TransitionInfo>,
    /// This run's lines of the notes index on its code commit.
    pub notes: Vec<NoteEvent>,
}

pub fn show(store: &Store, spec: &str) -> Result<ShowReport> {
    show_run(store, resolve_run(store, spec)?)
}

/// `show` of a run already listed (`Store::list_runs`): its record judged as
/// `resolve_run` judges it, without listing the runs again to find it (`report`
/// shows every run).
pub fn show_run(store: &Store, run: crate::store::RunRef) -> Result<ShowReport> {
    store.checked_run(&run)?;
    // Its trees too: show reports any record that could not be checked out safely.
    store
        .check_run_deep(&run, &mut crate::store::TreeMemo::default())?
        .map_err(crate::store::Error::Invalid)?;
    let manifest = store.read_manifest(run.tip)?;
    let transitions: Vec<TransitionInfo> = store
        .history(run.tip)?
        .into_iter()
        .map(|t| TransitionInfo {
            event: t.event,
            commit: t.commit,
            author: t.author,
            time: t.time,
        })
        .collect();
    let notes = match manifest.code_ref.commit {
        Some(c) => store
            .note_events(c)?
            .into_iter()
            .filter(|e| e.run_id == run.run_id && e.stage == run.stage)
            .collect(),
        None => Vec::new(),
    };
    let approval: Option<crate::model::decision::ApprovalRecord> = store.read_record(run.tip)?;
    let signature = match &approval {
        Some(a) => {
            let allowed = super::signatures::allowed_signers_file(store);
            Some(super::signatures::approval_signature(
                store,
                &run,
                a,
                allowed.as_deref(),
            )?)
        }
        None => None,
    };
    let review: Option<ReviewRecord> = store.read_record(run.tip)?;
    let overridden_checks = match (&approval, &review) {
        (Some(a), Some(r)) if a.forced => overridden_checks(r),
        _ => Vec::new(),
    };
    Ok(ShowReport {
        state: state_of(store, &run)?,
        latest_event: transitions.last().and_then(|t| t.event),
        review,
        overridden_checks,
        approval,
        feedback: store.read_record(run.tip)?,
        signed: signature
            .as_ref()
            .is_some_and(|(s, _)| *s == crate::model::decision::SignatureStatus::Good),
        signature_detail: signature.as_ref().map(|(_, d)| d.clone()),
        signature: signature.map(|(s, _)| s),
        ref_name: run.ref_name(),
        record: run.tip,
        run_id: run.run_id,
        stage: run.stage,
        manifest,
        transitions,
        notes,
    })
}

/// `show RUN --log --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogReport {
    pub run_id: RunId,
    pub stage: StageName,
    /// How many bytes the command wrote (the manifest's `log_bytes`). When
    /// `truncated`, the record keeps only the last `max_stored_size` of them, after a
    /// line saying how many were dropped.
    pub log_bytes: u64,
    pub truncated: bool,
    /// The stored log, invalid UTF-8 replaced by U+FFFD (`show --log` without
    /// `--json` prints the exact bytes).
    pub log: String,
}

/// A run's stored log: its exact bytes and the report about them.
pub struct RunLog {
    pub report: LogReport,
    pub bytes: Vec<u8>,
}

/// The stored log of `spec`'s run (`log.txt` of its record), from the run ref.
pub fn log(store: &Store, spec: &str) -> Result<RunLog> {
    let run = resolve_run(store, spec)?;
    let manifest = store.read_manifest(run.tip)?;
    let bytes = store.record_file(run.tip, "log.txt")?.ok_or_else(|| {
        crate::error::Error::input(format!("the record of run {} holds no log.txt", run.run_id))
            .hint(format!(
                "see 'git workbench doctor'; the record is {}",
                run.ref_name()
            ))
    })?;
    Ok(RunLog {
        report: LogReport {
            run_id: run.run_id,
            stage: run.stage,
            log_bytes: manifest.log_bytes,
            truncated: manifest.log_truncated,
            log: String::from_utf8_lossy(&bytes).into_owned(),
        },
        bytes,
    })
}
