//! What the transition use cases share: a run's state, the state machine's guard, the
//! interpretation rule, and recording an event in the notes index and the
//! working-tree mirror (`ops::mirror`) after the record itself is written.

use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::exec::clock;
use crate::model::event::{NoteEvent, NOTE_EVENT_SCHEMA};
use crate::model::manifest::{RunManifest, RunStatus};
use crate::model::state::{transition, Action, RunEvent, RunState};
use crate::model::{ObjectId, RunId};
use crate::store::{NewRun, RunRef, Store};

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
    transition(state, action).map_err(|r| refusal(run, state, action, &r.to_string()))?;
    Ok(state)
}

/// The refusal of `action` on `run`, with the hint that moves it on.
/// Refuses an interpretation holding a line a narrative block cannot hold
/// (`model::interpretation`): exit 2, naming `source` and the line.
pub fn check_interpretation(text: &str, source: &str) -> Result<()> {
    match crate::model::interpretation::forbidden_line(text) {
        None => Ok(()),
        Some(f) => Err(Error::input(format!(
            "the interpretation ({source}) cannot be approved into a narrative: {f}"
        ))
        .hint("remove or reword that line: block markers ('<!-- workbench:... -->', '# workbench:...', anything with workbench:begin/end/slot) and the '_Approved by …_' line are written by git workbench alone")),
    }
}

pub fn refusal(run: &RunRef, state: RunState, action: Action, why: &str) -> Error {
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
    Error::refused(format!("run {} of stage {}: {why}", run.run_id, run.stage)).hint(hint)
}

/// A text record of the run's newest commit, if present.
pub fn read_text(store: &Store, run: &RunRef, name: &str) -> Result<Option<String>> {
    Ok(store
        .record_file(run.tip, name)?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// Appends the event's line to the notes index on the run's code commit. The record
/// is already written, so a failure is only a warning: the index can be rebuilt.
fn note_event(
    store: &Store,
    m: &RunManifest,
    run: &RunRef,
    event: RunEvent,
    exit_code: Option<i32>,
) -> Option<String> {
    let code = m.code_ref.commit?;
    let line = NoteEvent {
        at: clock::now(),
        event,
        exit_code,
        record: run.tip,
        ref_name: run.ref_name(),
        run_id: run.run_id.clone(),
        schema: NOTE_EVENT_SCHEMA.into(),
        stage: run.stage.clone(),
    }
    .to_line();
    let msg = format!("workbench: {event} {} {}", run.stage, run.run_id);
    store
        .append_note_line(code, &line, &msg)
        .err()
        .map(|e| format!("recorded, but the notes index line was not written: {e}"))
}

/// After a transition: the notes index line and the working-tree mirror. Returns the
/// moved run and the warnings: the record is written, so neither can fail it.
pub fn after_transition(
    ws: &Workspace,
    m: &RunManifest,
    run: &RunRef,
    event: RunEvent,
    record: ObjectId,
) -> Result<(RunRef, Vec<String>)> {
    let moved = run.at(record);
    let mut warnings: Vec<String> = note_event(&ws.store, m, &moved, event, None)
        .into_iter()
        .collect();
    warnings.extend(super::mirror::show_transition(ws, &moved, event));
    Ok((moved, warnings))
}

/// Writes a new run's record and its notes-index line; the run it created and the
/// warnings.
pub fn record_new_run(store: &Store, new: &NewRun) -> Result<(RunRef, Vec<String>)> {
    let m = new.manifest;
    let record = store.create_run(new)?;
    let event = match m.status {
        RunStatus::Executed => RunEvent::Executed,
        RunStatus::Failed => RunEvent::Failed,
    };
    let run = RunRef {
        stage: m.stage.clone(),
        run_id: m.run_id.clone(),
        tip: record,
    };
    let mut warnings: Vec<String> = note_event(store, m, &run, event, Some(m.exit_code))
        .into_iter()
        .collect();
    warnings.extend(store.pack_run_refs_if_many());
    Ok((run, warnings))
}

/// The rejection a run of `stage` answers: the newest rejected run recorded before
/// `before` with no approved run between them (an approval closes the matter), with
/// its feedback. Runs are ordered by id, which is their start time.
///
/// The stage's newest decision is remembered under the digest of its run refs
/// (`Store::remembered_decision`): while no ref of the stage changes, a new question
/// about its newest run costs that digest, not a walk over its undecided runs.
pub fn answered_rejection(
    store: &Store,
    stage: &crate::model::StageName,
    before: &RunId,
) -> Result<Option<(RunRef, crate::model::decision::FeedbackRecord)>> {
    let listing = store.stage_listing(stage);
    let remembered = listing
        .digest
        .and_then(|d| store.remembered_decision(stage, &d));
    match remembered {
        // no run of these refs is decided
        Some(None) => return Ok(None),
        // The newest decision of all precedes `before`, so it is the one asked for.
        // A guard against a damaged cache file: the run still has that tip, and the
        // tip's own trailers say that decision.
        Some(Some(d)) if d.run_id.as_str() < before.as_str() => {
            let claimed = match d.approved {
                true => RunState::Approved,
                false => RunState::Rejected,
            };
            if let Some(r) = store.find_run(stage, &d.run_id)?.filter(|r| r.tip == d.tip) {
                if store.latest_event(r.tip)?.map(RunState::of) == Some(claimed) {
                    return feedback_of(store, (!d.approved).then_some(r));
                }
            }
        }
        _ => {}
    }
    let (runs, digest) = store.listing_runs(listing)?;
    // Thousands of undecided runs may precede the answer: their events come from the
    // event cache, not a commit read each.
    let mut cache = store.event_cache();
    let mut decided: Option<(&RunRef, RunState)> = None;
    for r in runs
        .iter()
        .rev()
        .filter(|r| r.run_id.as_str() < before.as_str())
    {
        let event = cache.event(store, r.tip)?.ok_or_else(|| {
            Error::input(format!(
                "run {} has a record without a Workbench-Event trailer",
                r.run_id
            ))
        })?;
        let state = RunState::of(event);
        if matches!(state, RunState::Approved | RunState::Rejected) {
            decided = Some((r, state));
            break;
        }
    }
    store.put_event_cache(cache);
    // Asked about the newest run (or a newer one), the walk found the newest decision
    // of the whole listing, unless the newest run itself is decided: remember it under
    // the listing's digest.
    if let (Some(digest), Some(last)) = (digest, runs.last()) {
        let newest = match last.run_id.as_str().cmp(before.as_str()) {
            std::cmp::Ordering::Less => Some(decided),
            std::cmp::Ordering::Equal => match store.latest_event(last.tip)?.map(RunState::of) {
                Some(s @ (RunState::Approved | RunState::Rejected)) => Some(Some((last, s))),
                _ => Some(decided),
            },
            std::cmp::Ordering::Greater => None,
        };
        if let Some(newest) = newest {
            let decision = newest.map(|(r, state)| crate::store::Decision {
                run_id: r.run_id.clone(),
                tip: r.tip,
                approved: state == RunState::Approved,
            });
            store.remember_decision(stage, digest, decision);
        }
    }
    let rejected = decided
        .filter(|(_, s)| *s == RunState::Rejected)
        .map(|(r, _)| r.clone());
    feedback_of(store, rejected)
}

/// A rejected run with its feedback record.
fn feedback_of(
    store: &Store,
    rejected: Option<RunRef>,
) -> Result<Option<(RunRef, crate::model::decision::FeedbackRecord)>> {
    match rejected {
        Some(r) => Ok(store
            .read_record::<crate::model::decision::FeedbackRecord>(r.tip)?
            .map(|fb| (r, fb))),
        None => Ok(None),
    }
}

/// The recorded runs of a sweep, oldest first. A sweep's id carries its start time,
/// so only runs started since are read.
pub fn sweep_runs(
    store: &Store,
    stage: &crate::model::StageName,
    sweep_id: &str,
) -> Result<Vec<(RunRef, RunManifest)>> {
    // Only a well-formed start time narrows the search (ids from another clone are
    // hostile: a made-up one must not hide the sweep's runs).
    let started = sweep_id
        .strip_prefix("sweep-")
        .and_then(|id| id.split('-').next())
        .filter(|t| {
            t.len() == 16
                && t.bytes().enumerate().all(|(i, b)| match i {
                    8 => b == b'T',
                    15 => b == b'Z',
                    _ => b.is_ascii_digit(),
                })
        })
        .unwrap_or("");
    let mut out = Vec::new();
    for r in store.list_runs(Some(stage))? {
        if r.run_id.as_str() < started {
            continue;
        }
        let m = store.read_manifest(r.tip)?;
        if m.sweep_id.as_deref() == Some(sweep_id) {
            out.push((r, m));
        }
    }
    Ok(out)
}
