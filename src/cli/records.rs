//! What the transition commands share: reading a run's records, guarding moves with
//! the state machine, and recording the event in the notes index and the mirror.

use super::Out;
use crate::error::{Error, Result};
use crate::model::event::{NoteEvent, NOTE_EVENT_SCHEMA};
use crate::model::manifest::RunManifest;
use crate::model::state::{transition, Action, RunEvent, RunState};
use crate::model::time::UtcDateTime;
use crate::store::{RunRef, Store};
use crate::workspace::Workspace;
use serde::de::DeserializeOwned;

/// The state of a run, from the event of its newest record.
pub fn state_of(store: &Store, run: &RunRef) -> Result<RunState> {
    match store.latest_event(run.tip)? {
        Some(e) => Ok(RunState::of(e)),
        None => Err(Error::input(format!(
            "run {} has a record without a Workbench-Event trailer",
            run.run_id
        ))),
    }
}

/// Refuses an action the state machine does not allow (exit 1, naming legal moves).
pub fn guard(store: &Store, run: &RunRef, action: Action) -> Result<RunState> {
    let state = state_of(store, run)?;
    transition(state, action).map_err(|r| {
        let hint = match action {
            Action::Approve | Action::Card
                if state == RunState::Executed || state == RunState::Failed =>
            {
                format!("review it first: git workbench review {}", run.run_id)
            }
            _ if state == RunState::Rejected || state == RunState::Approved => {
                format!("run the stage again: git workbench run {}", run.stage)
            }
            _ => format!("see 'git workbench show {}'", run.run_id),
        };
        Error::refused(format!("run {} of stage {}: {r}", run.run_id, run.stage)).hint(hint)
    })
}

/// A JSON record of the run's newest commit, if present.
pub fn read_record<T: DeserializeOwned>(
    store: &Store,
    run: &RunRef,
    name: &str,
) -> Result<Option<T>> {
    match store.record_file(run.tip, name)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::input(format!("{name} of run {}: {e}", run.run_id))),
    }
}

/// A text record of the run's newest commit, if present.
pub fn read_text(store: &Store, run: &RunRef, name: &str) -> Result<Option<String>> {
    Ok(store
        .record_file(run.tip, name)?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

pub fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    UtcDateTime::from_unix_millis(ms).rfc3339()
}

/// Appends the event's line to the notes index on the run's code commit. The record
/// is already written, so a failure here is a warning: the index can be rebuilt.
pub fn note_event(
    out: &Out,
    store: &Store,
    m: &RunManifest,
    run: &RunRef,
    event: RunEvent,
    record: git2::Oid,
    exit_code: Option<i32>,
) {
    let Some(Ok(code)) = m.code_ref.commit.as_deref().map(git2::Oid::from_str) else {
        return;
    };
    let line = NoteEvent {
        at: now_rfc3339(),
        event,
        exit_code,
        record: record.to_string(),
        ref_name: run.ref_name(),
        run_id: run.run_id.clone(),
        schema: NOTE_EVENT_SCHEMA.into(),
        stage: run.stage.clone(),
    }
    .to_line();
    let msg = format!("workbench: {event} {} {}", run.stage, run.run_id);
    if let Err(e) = store.append_note_line(code, &line, &msg) {
        out.warn(&format!(
            "recorded, but the notes index line was not written: {e}"
        ));
    }
}

/// After a transition: the notes index line and the working-tree mirror.
pub fn after_transition(
    out: &Out,
    ws: &Workspace,
    m: &RunManifest,
    run: &RunRef,
    event: RunEvent,
    record: git2::Oid,
) -> Result<RunRef> {
    let moved = RunRef {
        stage: run.stage.clone(),
        run_id: run.run_id.clone(),
        tip: record,
    };
    note_event(out, &ws.store, m, &moved, event, record, None);
    ws.write_mirror(&moved)?;
    Ok(moved)
}

/// Writes a new run's record and its notes-index line; the run it created.
pub fn record_new_run(out: &Out, store: &Store, new: &crate::store::NewRun) -> Result<RunRef> {
    let m = new.manifest;
    let record = store.create_run(new)?;
    let event = match m.status {
        crate::model::manifest::RunStatus::Executed => RunEvent::Executed,
        crate::model::manifest::RunStatus::Failed => RunEvent::Failed,
    };
    let run = RunRef {
        stage: m.stage.clone(),
        run_id: m.run_id.clone(),
        tip: record,
    };
    note_event(out, store, m, &run, event, record, Some(m.exit_code));
    Ok(run)
}
