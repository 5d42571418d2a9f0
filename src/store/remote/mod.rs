//! Sharing records between clones. Transport is the system `git` (`transport`), so
//! every credential helper and ssh setting works; merging is done here, with the same
//! rules as local writes: objects first, refs moved with compare-and-swap, nothing
//! ever overwritten.
//!
//! * Run refs (`merge_runs`): a missing one is created, a behind one fast-forwarded,
//!   and two that diverged (two clones made different transitions) get a merge commit
//!   keeping both histories, whose event is `conflict` until a human decides again.
//! * The notes index (`merge_notes`): a set union of JSON lines per annotated commit
//!   (git's `cat_sort_uniq`), malformed lines dropped with a warning, never the good
//!   ones.
//! * The approved-run index (`merge_approved`): taken from the remote when it names a
//!   run whose local tip it matches and the local index is missing, stale, or an
//!   older approval.

mod merge_approved;
mod merge_notes;
mod merge_runs;
mod quarantine;
mod transport;

pub use quarantine::RefusedRecord;
pub use transport::PushResult;

use super::error::Result;
use super::Store;

/// What merging a remote's records changed locally.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeReport {
    pub created: usize,
    pub fast_forwarded: usize,
    pub unchanged: usize,
    /// Runs whose histories diverged: `stage/run-id`.
    pub conflicts: Vec<String>,
    /// Runs both clones decided identically, merged without a conflict.
    #[serde(default)]
    pub identical: Vec<String>,
    pub notes_lines_added: usize,
    /// Malformed note lines skipped: `note on <commit> from <remote>, line N: ...`.
    pub bad_note_lines: Vec<String>,
    /// Stages whose approved-run index moved.
    pub approved_updated: Vec<String>,
    /// Remote records the fetch refused (not valid records), each with its reason.
    #[serde(default)]
    pub refused: Vec<RefusedRecord>,
    /// Stages whose runs this merge changed (their approved run may have moved).
    #[serde(skip)]
    pub touched: std::collections::BTreeSet<String>,
}

impl MergeReport {
    /// Adds what a later merge (after a push was retried) changed; runs it found
    /// unchanged and lines already reported are not counted twice.
    pub fn absorb(&mut self, r: MergeReport) {
        self.created += r.created;
        self.fast_forwarded += r.fast_forwarded;
        self.conflicts.extend(r.conflicts);
        self.identical.extend(r.identical);
        self.notes_lines_added += r.notes_lines_added;
        for line in r.bad_note_lines {
            if !self.bad_note_lines.contains(&line) {
                self.bad_note_lines.push(line);
            }
        }
        for x in r.refused {
            if !self.refused.contains(&x) {
                self.refused.push(x);
            }
        }
        for stage in r.approved_updated {
            if !self.approved_updated.contains(&stage) {
                self.approved_updated.push(stage);
            }
        }
    }
}

pub(super) fn tracking_runs(remote: &str) -> String {
    format!("refs/workbench/remotes/{remote}/runs/")
}

/// The tracking ref of a remote's record ref, `None` for a ref that is no record.
pub(super) fn tracking_name(remote: &str, name: &str) -> Option<String> {
    use super::refs::{APPROVED_PREFIX, NOTES_REF, RUNS_PREFIX};
    if let Some(rest) = name.strip_prefix(RUNS_PREFIX) {
        Some(format!("{}{rest}", tracking_runs(remote)))
    } else if let Some(rest) = name.strip_prefix(APPROVED_PREFIX) {
        Some(format!("{}{rest}", tracking_approved(remote)))
    } else if name == NOTES_REF {
        Some(tracking_notes(remote))
    } else {
        None
    }
}

fn tracking_approved(remote: &str) -> String {
    format!("refs/workbench/remotes/{remote}/approved/")
}

fn tracking_notes(remote: &str) -> String {
    format!("refs/notes/remotes/{remote}/workbench")
}

impl Store {
    /// Merges the tracking refs of `remote` into the local records.
    ///
    /// The run refs are skipped in one comparison when they are in step: every local
    /// run ref equals its tracking ref and the two sets of names are the same. That
    /// shortcut is exact: the merge of a run whose tracking tip equals its local tip
    /// returns `unchanged` before it reads or judges anything (the tip is already this
    /// clone's record, judged when it became local), writes no ref and touches no
    /// stage, so the approved index has nothing to follow; a name on one side only, or
    /// any tip that differs, runs the full merge. The notes index always merges.
    ///
    /// Tracking refs can also be written by a plain `git fetch` (the refspecs `init`
    /// configures). When they are not exactly what the last quarantine fetch
    /// validated, every tip the merge would take in is judged here first, and one that
    /// fails is refused, not merged.
    pub fn merge_records(&self, remote: &str) -> Result<MergeReport> {
        let mut report = MergeReport::default();
        let tracking = self.tracking_state(remote)?;
        let prefix = tracking_runs(remote);
        let theirs: Vec<(String, git2::Oid)> = tracking
            .range(prefix.clone()..)
            .take_while(|(n, _)| n.starts_with(&prefix))
            .filter_map(|(n, o)| Some((n.clone(), git2::Oid::from_str(o).ok()?)))
            .collect();
        let ours = self.refs_under(super::refs::RUNS_PREFIX)?;
        let in_step = ours.len() == theirs.len()
            && ours.iter().zip(&theirs).all(|((ln, lo), (tn, to))| {
                lo == to && ln[super::refs::RUNS_PREFIX.len()..] == tn[prefix.len()..]
            });
        if in_step {
            let local = |n: &String| format!("{}{}", super::refs::RUNS_PREFIX, &n[prefix.len()..]);
            report.unchanged = theirs
                .iter()
                .filter(|(n, _)| super::refs::parse_run_ref(&local(n)).is_some())
                .count();
        } else {
            let verify = !self.tracking_validated(remote, &tracking);
            self.merge_runs(remote, &theirs, verify, &mut report)?;
        }
        self.merge_notes(remote, &mut report)?;
        self.merge_approved(remote, &mut report)?;
        Ok(report)
    }

    /// Every ref under `prefix` with its target, in name order (`runs::refs_under_files`:
    /// loose files and the packed range, else libgit2).
    fn refs_under(&self, prefix: &str) -> Result<Vec<(String, git2::Oid)>> {
        if let Some(found) = super::runs::refs_under_files(self.repo.commondir(), prefix) {
            return Ok(found);
        }
        let mut out = Vec::new();
        let refs = self
            .repo
            .references_glob(&format!("{prefix}*"))
            .map_err(super::Error::git(format!("cannot list {prefix}*")))?;
        for r in refs.flatten() {
            if let (Ok(name), Some(oid)) = (r.name(), r.target()) {
                out.push((name.to_string(), oid));
            }
        }
        out.sort();
        Ok(out)
    }

    fn descends(&self, commit: git2::Oid, ancestor: git2::Oid) -> bool {
        self.repo
            .graph_descendant_of(commit, ancestor)
            .unwrap_or(false)
    }
}

#[cfg(test)]
pub(super) mod tests {
    //! Two clones and a bare remote, built with libgit2 and driven through the store.
    use crate::model::manifest::RunManifest;
    use crate::model::{RunId, StageName};
    use crate::store::testing::{clone_of, temp_store, with_remote};
    use crate::store::{NewRun, NewTransition, RunRef, Store};

    pub struct Team {
        pub dir: tempfile::TempDir,
        pub ours: Store,
        pub theirs: Store,
    }

    /// `ours` with a remote `origin` that `theirs` is a clone of, after one push.
    pub fn team() -> Team {
        let (dir, ours) = temp_store();
        let bare = with_remote(dir.path(), &ours);
        ours.push_branch_for_tests();
        let theirs = clone_of(&bare, &dir.path().join("theirs"));
        Team { dir, ours, theirs }
    }

    pub fn stage() -> StageName {
        StageName::new("train").unwrap()
    }

    /// A recorded run in `store`.
    pub fn a_run(store: &Store, id: &str) -> RunRef {
        let snapshot = store.snapshot().unwrap();
        let m = RunManifest::builder(
            stage(),
            RunId::new(id).unwrap(),
            crate::model::manifest::CodeRef {
                commit: snapshot.head,
                dirty: false,
                tree: snapshot.tree,
                branch: None,
            },
            crate::model::time::Timestamp::from_unix_millis(0),
        )
        .command("true".into(), 0, 0.0)
        .build();
        let tip = store
            .create_run(&NewRun {
                manifest: &m,
                log: b"",
                outputs: vec![],
                lfs_pointers: vec![],
                snapshot_tree: snapshot.tree,
            })
            .unwrap();
        RunRef {
            stage: stage(),
            run_id: m.run_id,
            tip,
        }
    }

    /// A transition of `run` with the record a real one carries, decided by
    /// `Test <test@example.com>`.
    pub fn decide(store: &Store, run: &RunRef, event: crate::model::state::RunEvent) -> RunRef {
        decide_as(store, run, event, "same")
    }

    /// A decision whose interpretation (or issue) is `text`.
    pub fn decide_as(
        store: &Store,
        run: &RunRef,
        event: crate::model::state::RunEvent,
        text: &str,
    ) -> RunRef {
        use crate::model::decision::*;
        use crate::model::review::{CheckResult, ReviewRecord, Verdict};
        use crate::model::state::RunEvent;
        use crate::model::time::Timestamp;
        let who = "Test <test@example.com>".to_string();
        let at = Timestamp::from_unix_millis(0);
        let m = store.read_manifest(run.tip).unwrap();
        let (file, bytes) = match event {
            RunEvent::Reviewed => {
                let check = CheckResult {
                    name: "c".into(),
                    pass: true,
                    note: None,
                    blocking: true,
                    source: "builtin".into(),
                };
                let r = ReviewRecord::new(&run.stage, &run.run_id, vec![check], at, "agent".into());
                ("review.json", r.to_json())
            }
            RunEvent::Approved => {
                let a = ApprovalRecord {
                    schema: APPROVAL_SCHEMA.into(),
                    run_id: run.run_id.clone(),
                    stage: run.stage.clone(),
                    decision: Decision::Approved,
                    approved_by: who.clone(),
                    timestamp: at,
                    artifacts_approved: m.outputs.clone(),
                    interpretation_approved: true,
                    interpretation_edited: false,
                    approved_interpretation: text.into(),
                    note: None,
                    supersedes: None,
                    artifact_digest: artifact_digest(&m.outputs),
                    review_verdict: Verdict::Pass,
                    forced: false,
                };
                ("approval.json", a.to_json())
            }
            RunEvent::Rejected => {
                let f = FeedbackRecord {
                    schema: FEEDBACK_SCHEMA.into(),
                    run_id: run.run_id.clone(),
                    stage: run.stage.clone(),
                    issue: text.into(),
                    suggested_params: Default::default(),
                    acceptance_criteria: vec![],
                    rejected_by: who.clone(),
                    timestamp: at,
                };
                ("feedback.json", f.to_json())
            }
            other => panic!("decide({other})"),
        };
        let tip = store
            .append_transition(&NewTransition {
                run,
                event,
                files: vec![(file, bytes.into_bytes())],
                summary: String::new(),
                author: Some(("Test".into(), "test@example.com".into())),
                signer: None,
                // as `approve` does: an approval claims the stage's index
                approved_index: (event == RunEvent::Approved)
                    .then(|| store.approved_index(&run.stage)),
            })
            .unwrap();
        run.at(tip)
    }

    impl Store {
        fn push_branch_for_tests(&self) {
            let status = std::process::Command::new("git")
                .arg("--git-dir")
                .arg(self.repo.path())
                .args(["push", "-q", "origin", "HEAD:refs/heads/main"])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }
}
