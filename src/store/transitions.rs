//! State transitions: one new commit on a run's ref per transition, moved with
//! compare-and-swap so two concurrent transitions of one run never both succeed.
//! An approval also moves `refs/workbench/approved/<stage>`, the index of each
//! stage's current approved run, under the same locks.

use super::refs::{approved_ref, run_ref};
use super::runs::RunRef;
use super::Store;
use crate::error::{Error, Result};
use crate::model::event::record_message;
use crate::model::state::RunEvent;
use git2::{ErrorCode, FileMode, Oid};

/// Turns a commit buffer into an armored signature.
pub type Signer<'a> = dyn Fn(&[u8]) -> Result<String> + 'a;

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
    /// For approvals: the stage's approved-run index and the value it must have now.
    pub approved_index: Option<Option<Oid>>,
}

/// The file a conflict merge commit adds to a run record (see `remote.rs`).
pub const CONFLICT_FILE: &str = "conflict.json";

fn concurrent(run: &RunRef) -> Error {
    Error::refused(format!(
        "run {} of stage {} changed while this transition was being written; nothing was recorded",
        run.run_id, run.stage
    ))
    .hint(format!(
        "see its current state with 'git workbench show {}'",
        run.run_id
    ))
}

impl Store {
    /// Writes a transition commit on top of the run's current tip and moves the ref(s).
    pub fn append_transition(&self, t: &NewTransition) -> Result<Oid> {
        let repo = &self.repo;
        let name = run_ref(&t.run.stage, &t.run.run_id);
        let ctx = || {
            format!(
                "cannot write the {} record of run {}",
                t.event, t.run.run_id
            )
        };
        let tip = repo.find_commit(t.run.tip).map_err(Error::git(ctx()))?;
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
            Some((n, e)) => git2::Signature::now(n, e).map_err(Error::git("invalid identity"))?,
            None => committer.clone(),
        };
        let message = record_message(t.event, &t.run.stage, &t.run.run_id, &t.summary);
        let commit = match t.signer {
            None => repo
                .commit(None, &author, &committer, &message, &tree, &[&tip])
                .map_err(Error::git(ctx()))?,
            Some(sign) => {
                let buf = repo
                    .commit_create_buffer(&author, &committer, &message, &tree, &[&tip])
                    .map_err(Error::git(ctx()))?;
                let armor = sign(&buf)?;
                let text = std::str::from_utf8(&buf)
                    .map_err(|_| Error::input("the commit to sign is not UTF-8"))?;
                repo.commit_signed(text, &armor, None)
                    .map_err(Error::git(ctx()))?
            }
        };
        let reflog = format!("workbench: {}", t.event);
        // A lock left by a killed writer would otherwise refuse every later decision.
        self.clear_stale_lock(&name);
        if t.approved_index.is_some() {
            self.clear_stale_lock(&approved_ref(&t.run.stage));
        }
        repo.reference_ensure_log(&name)
            .map_err(Error::git(format!("cannot create the reflog of {name}")))?;
        match t.approved_index {
            None => match repo.reference_matching(&name, commit, true, t.run.tip, &reflog) {
                Ok(_) => Ok(commit),
                Err(e)
                    if matches!(
                        e.code(),
                        ErrorCode::Modified | ErrorCode::Locked | ErrorCode::NotFound
                    ) =>
                {
                    Err(concurrent(t.run))
                }
                Err(e) => Err(Error::git(format!("cannot move {name}"))(e)),
            },
            Some(expected) => {
                let index = approved_ref(&t.run.stage);
                repo.reference_ensure_log(&index)
                    .map_err(Error::git(format!("cannot create the reflog of {index}")))?;
                let mut tx = repo.transaction().map_err(Error::git(ctx()))?;
                for r in [&name, &index] {
                    match tx.lock_ref(r) {
                        Ok(()) => {}
                        Err(e) if e.code() == ErrorCode::Locked => return Err(concurrent(t.run)),
                        Err(e) => return Err(Error::git(format!("cannot lock {r}"))(e)),
                    }
                }
                // Compare while both locks are held.
                let run_now = repo.refname_to_id(&name).ok();
                let index_now = repo.refname_to_id(&index).ok();
                if run_now != Some(t.run.tip) {
                    return Err(concurrent(t.run));
                }
                if index_now != expected {
                    return Err(Error::refused(format!(
                        "another run of stage {} was approved while this approval was being written; nothing was recorded",
                        t.run.stage
                    ))
                    .hint(format!("see 'git workbench status {}'", t.run.stage)));
                }
                tx.set_target(&name, commit, None, &reflog)
                    .and_then(|_| tx.set_target(&index, commit, None, &reflog))
                    .and_then(|_| tx.commit())
                    .map_err(Error::git(ctx()))?;
                Ok(commit)
            }
        }
    }

    /// The stage's current approved run, from `refs/workbench/approved/<stage>`.
    /// The index is trusted only when it points at the tip of the run it names.
    pub fn approved_run(&self, stage: &str) -> Result<Option<RunRef>> {
        let Ok(target) = self.repo.refname_to_id(&approved_ref(stage)) else {
            return Ok(None);
        };
        let Ok(commit) = self.repo.find_commit(target) else {
            return Ok(None);
        };
        let message = commit.message().unwrap_or_default();
        let run_id = message
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("Workbench-Run: "))
            .map(str::trim);
        let Some(run_id) = run_id else {
            return Ok(None);
        };
        Ok(self.find_run(stage, run_id)?.filter(|r| r.tip == target))
    }

    /// The raw value of the approved-run index of a stage.
    pub fn approved_index(&self, stage: &str) -> Option<Oid> {
        self.repo.refname_to_id(&approved_ref(stage)).ok()
    }

    /// The armored signature and signed payload of a record commit, if signed.
    pub fn commit_signature(&self, commit: Oid) -> Option<(Vec<u8>, Vec<u8>)> {
        self.repo
            .extract_signature(&commit, None)
            .ok()
            .map(|(sig, payload)| (sig.to_vec(), payload.to_vec()))
    }
}
