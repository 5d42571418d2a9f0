//! State transitions: one new commit on a run's ref per transition, moved with
//! compare-and-swap from the tip the caller read, so two concurrent transitions of one
//! run never both succeed; that one ref update is the commit point of the decision.
//! An approval first claims `refs/workbench/approved/<stage>`, a pointer to the stage's
//! approved run that is derived, never trusted (`approved_run` reads the run refs).

use super::cas::{Cas, RefUpdate};
use super::error::{Error, Result};
use super::refs::{approved_ref, run_ref};
use super::runs::RunRef;
use super::{id, oid, Store};
use crate::model::event::record_message;
use crate::model::state::RunEvent;
use crate::model::{ObjectId, StageName};
use git2::FileMode;

/// Turns a commit buffer into an armored signature.
pub type Signer<'a> = dyn Fn(&[u8]) -> std::result::Result<String, crate::exec::Error> + 'a;

/// A transition to write.
pub struct NewTransition<'a> {
    pub run: &'a RunRef,
    pub event: RunEvent,
    /// Files to add to (or replace in) the record tree, by top-level name.
    pub files: Vec<(&'a str, Vec<u8>)>,
    pub summary: String,
    /// `Name <email>` of who made the decision; `None` uses the committer identity.
    pub author: Option<(String, String)>,
    /// Produces an armored signature for a commit buffer, when the commit is signed.
    pub signer: Option<&'a Signer<'a>>,
    /// For approvals: the value the stage's approved-run index must have now.
    pub approved_index: Option<Option<ObjectId>>,
}

/// The file a conflict merge commit adds to a run record (see `remote`).
pub const CONFLICT_FILE: &str = "conflict.json";

fn concurrent(run: &RunRef) -> Error {
    Error::Concurrent {
        message: format!(
            "run {} of stage {} changed while this transition was being written; nothing was recorded",
            run.run_id, run.stage
        ),
        hint: format!(
            "see its current state with 'git workbench show {}'",
            run.run_id
        ),
    }
}

impl Store {
    /// Writes a transition commit on top of the run's current tip and moves its ref:
    /// that one update is the commit point of the decision.
    ///
    /// An approval first claims the stage's approved-run index, from the value the
    /// rules judged to the new commit, so two concurrent approvals of one stage never
    /// both go through; only then does it move the run ref. A writer killed between
    /// the two leaves an index naming a commit that is no run's tip, which
    /// `approved_run` never trusts: the decision is wholly not made.
    pub fn append_transition(&self, t: &NewTransition) -> Result<ObjectId> {
        let commit = self.transition_commit(t)?;
        let name = run_ref(&t.run.stage, &t.run.run_id);
        let reflog = format!("workbench: {}", t.event);
        // A lock left by a killed writer would otherwise refuse every later decision.
        self.clear_stale_lock(&name);
        if let Some(expected) = t.approved_index {
            let index = approved_ref(&t.run.stage);
            self.clear_stale_lock(&index);
            match self.compare_and_swap(
                &[RefUpdate::new(&index, expected.map(oid), commit)],
                &reflog,
            ) {
                Ok(()) => {}
                Err(Cas::Moved { .. } | Cas::Locked { .. }) => {
                    return Err(Error::Concurrent {
                        message: format!(
                            "another run of stage {} was approved while this approval was being written; nothing was recorded",
                            t.run.stage
                        ),
                        hint: format!("see 'git workbench status {}'", t.run.stage),
                    })
                }
                Err(Cas::Failed(e)) => return Err(e),
            }
        }
        match self.compare_and_swap(
            &[RefUpdate::new(&name, Some(oid(t.run.tip)), commit)],
            &reflog,
        ) {
            Ok(()) => Ok(id(commit)),
            Err(Cas::Moved { .. } | Cas::Locked { .. }) => Err(concurrent(t.run)),
            Err(Cas::Failed(e)) => Err(e),
        }
    }

    /// The commit of a transition: the run's tree with the new files, signed when a
    /// signer is given. Only objects are written here.
    fn transition_commit(&self, t: &NewTransition) -> Result<git2::Oid> {
        let repo = &self.repo;
        let ctx = || {
            format!(
                "cannot write the {} record of run {}",
                t.event, t.run.run_id
            )
        };
        let tip = self.find_commit(oid(t.run.tip), ctx)?;
        let base = tip.tree().map_err(Error::git(ctx()))?;
        let mut builder = repo.treebuilder(Some(&base)).map_err(Error::git(ctx()))?;
        if base.get_name(CONFLICT_FILE).is_some() {
            // A decision resolving a conflict: both sides' versions stay in the
            // history (the merge commit), the resolved tree holds only the new one.
            for name in [
                CONFLICT_FILE,
                "ours",
                "theirs",
                "approval.json",
                "feedback.json",
            ] {
                if builder.get(name).ok().flatten().is_some() {
                    builder.remove(name).map_err(Error::git(ctx()))?;
                }
            }
        }
        for (file, bytes) in &t.files {
            let blob = repo.blob(bytes).map_err(Error::git(ctx()))?;
            builder
                .insert(file, blob, FileMode::Blob.into())
                .map_err(Error::git(ctx()))?;
        }
        let tree = repo
            .find_tree(builder.write().map_err(Error::git(ctx()))?)
            .map_err(Error::git(ctx()))?;
        let committer = self.signature()?;
        let author = match &t.author {
            Some((n, e)) => git2::Signature::now(n, e).map_err(|source| Error::BadIdentity {
                identity: format!("{n} <{e}>"),
                source,
            })?,
            None => committer.clone(),
        };
        let message = record_message(t.event, &t.run.stage, &t.run.run_id, &t.summary);
        match t.signer {
            None => repo
                .commit(None, &author, &committer, &message, &tree, &[&tip])
                .map_err(Error::git(ctx())),
            Some(sign) => {
                let buf = repo
                    .commit_create_buffer(&author, &committer, &message, &tree, &[&tip])
                    .map_err(Error::git(ctx()))?;
                let armor = sign(&buf)?;
                let text = std::str::from_utf8(&buf).map_err(|_| Error::Signing {
                    message: "the commit to sign is not UTF-8".into(),
                    hint: "check the identity and message for invalid bytes".into(),
                })?;
                repo.commit_signed(text, &armor, None)
                    .map_err(Error::git(ctx()))
            }
        }
    }

    /// The stage's current approved run, through the index when it holds: an entry
    /// that is the tip of an approved run of the stage is the answer (every approval
    /// claims the index before its run ref moves, and a merge brings the index to the
    /// derived run, so a valid entry is never behind), no entry means no approval. An
    /// entry that names no approved run's tip — a killed approval's claim — is never
    /// trusted: the run is derived from the run refs (`derived_approved_run`).
    pub fn approved_run(&self, stage: &StageName) -> Result<Option<RunRef>> {
        let Some(target) = self.approved_index(stage) else {
            return Ok(None);
        };
        // One read of the entry's commit: its run and its event (it is the run's tip).
        let trailers = self.trailers(target).ok();
        let approved = trailers
            .as_ref()
            .is_some_and(|t| t.event == Some(crate::model::state::RunEvent::Approved));
        let run = trailers
            .and_then(|t| t.run)
            .map(|run_id| self.find_run(stage, &run_id))
            .transpose()?
            .flatten()
            .filter(|r| r.tip == target);
        match run {
            Some(r) if approved => Ok(Some(r)),
            _ => self.derived_approved_run(stage),
        }
    }

    /// The stage's approved run derived from the run refs alone: the newest run (by
    /// run id) whose record's newest event is `approved` — the same in every clone and
    /// after any crash. It reads the tips of the runs newer than the approved one.
    pub fn derived_approved_run(&self, stage: &StageName) -> Result<Option<RunRef>> {
        for run in self.list_runs(Some(stage))?.into_iter().rev() {
            if self.latest_event(run.tip)? == Some(crate::model::state::RunEvent::Approved) {
                return Ok(Some(run));
            }
        }
        Ok(None)
    }

    /// Moves the approved-run index to the derived approved run when it is behind
    /// or names no approved run (a killed approval, a merge that lost a race).
    /// Returns true when it moved. One attempt: losing the race means another
    /// writer just moved it.
    pub fn repair_approved_index(&self, stage: &StageName) -> Result<bool> {
        let index = self.approved_index(stage);
        let Some(derived) = self.derived_approved_run(stage)? else {
            return Ok(false);
        };
        if index == Some(derived.tip) {
            return Ok(false);
        }
        let name = approved_ref(stage);
        self.clear_stale_lock(&name);
        match self.compare_and_swap(
            &[RefUpdate::new(&name, index.map(oid), oid(derived.tip))],
            "workbench: approved index repaired",
        ) {
            Ok(()) => Ok(true),
            Err(Cas::Failed(e)) => Err(e),
            Err(_) => Ok(false),
        }
    }

    /// The raw value of the approved-run index of a stage.
    pub fn approved_index(&self, stage: &StageName) -> Option<ObjectId> {
        self.ref_target(&approved_ref(stage))
    }

    /// The armored signature and signed payload of a record commit, if signed.
    pub fn commit_signature(&self, commit: ObjectId) -> Option<(Vec<u8>, Vec<u8>)> {
        self.repo
            .extract_signature(&oid(commit), None)
            .ok()
            .map(|(sig, payload)| (sig.to_vec(), payload.to_vec()))
    }
}
