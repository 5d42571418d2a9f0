//! Merging a remote's approved-run index: per stage, the remote's entry is taken when
//! it is the current tip of the run it names here, and the local entry is missing,
//! stale, or an older approval (approval times compared as instants).

use super::super::cas::{Cas, RefUpdate};
use super::super::error::Result;
use super::super::refs::approved_ref;
use super::super::{id, Store};
use super::{tracking_approved, MergeReport};
use crate::model::decision::ApprovalRecord;
use crate::model::time::Timestamp;
use crate::model::StageName;
use git2::Oid;

impl Store {
    pub(super) fn merge_approved(&self, remote: &str, report: &mut MergeReport) -> Result<()> {
        let prefix = tracking_approved(remote);
        for (name, theirs) in self.refs_under(&prefix)? {
            let Ok(stage) = StageName::new(&name[prefix.len()..]) else {
                continue;
            };
            let index = approved_ref(&stage);
            let msg = format!("workbench: approved index from {remote}");
            let ours = self.repo.refname_to_id(&index).ok();
            if ours == Some(theirs) || !self.approval_is_newer(&stage, theirs, ours)? {
                continue;
            }
            // One attempt: losing the race means a local approval moved the index just
            // now, which is newer than anything fetched, so there is nothing to retry.
            match self.compare_and_swap(&[RefUpdate::new(&index, ours, theirs)], &msg) {
                Ok(()) => report.approved_updated.push(stage.to_string()),
                Err(Cas::Failed(e)) => return Err(e),
                Err(Cas::Moved { .. } | Cas::Locked { .. }) => {}
            }
        }
        Ok(())
    }

    /// True when `theirs` is a valid index entry here (the tip of the run it names)
    /// and `ours` is missing, stale, or an older approval.
    fn approval_is_newer(&self, stage: &StageName, theirs: Oid, ours: Option<Oid>) -> Result<bool> {
        if !self.is_current_tip(stage, theirs)? {
            return Ok(false);
        }
        Ok(match ours {
            None => true,
            Some(o) if !self.is_current_tip(stage, o)? => true,
            Some(o) => self.approval_time(theirs) > self.approval_time(o),
        })
    }

    /// True when `commit` is the current tip of the run its trailer names.
    fn is_current_tip(&self, stage: &StageName, commit: Oid) -> Result<bool> {
        let Ok(trailers) = self.trailers(id(commit)) else {
            return Ok(false);
        };
        let Some(run_id) = trailers.run else {
            return Ok(false);
        };
        Ok(self
            .find_run(stage, &run_id)?
            .is_some_and(|r| r.tip == id(commit)))
    }

    /// When the approval recorded at `commit` was made (`None`: no valid approval).
    fn approval_time(&self, commit: Oid) -> Option<Timestamp> {
        self.read_record::<ApprovalRecord>(id(commit))
            .ok()
            .flatten()
            .map(|a| a.timestamp)
    }
}

#[cfg(test)]
mod tests {
    use crate::model::state::RunEvent;
    use crate::store::remote::tests::{a_run, decide, stage, team};
    use crate::store::NewTransition;

    #[test]
    fn the_newer_valid_approval_wins() {
        let t = team();
        let run = a_run(&t.ours, "20260308T142233Z-0001");
        let approve = |store: &crate::store::Store, run: &crate::store::RunRef, at: &str| {
            let approval = format!(
                r#"{{"schema":"workbench/approval/v1","run_id":"{}","stage":"train","decision":"approved",
                "approved_by":"Test <test@example.com>","timestamp":"{at}","artifacts_approved":{{}},
                "interpretation_approved":false,"interpretation_edited":false,
                "approved_interpretation":"","note":null,"supersedes":null,
                "artifact_digest":"sha256:{}","review_verdict":"pass","forced":false}}"#,
                run.run_id,
                crate::model::decision::artifact_digest(&Default::default()).hex()
            );
            let tip = store
                .append_transition(&NewTransition {
                    run,
                    event: RunEvent::Approved,
                    files: vec![("approval.json", approval.into_bytes())],
                    summary: String::new(),
                    author: Some(("Test".into(), "test@example.com".into())),
                    signer: None,
                    approved_index: Some(store.approved_index(&run.stage)),
                })
                .unwrap();
            run.at(tip)
        };
        let reviewed = decide(&t.ours, &run, RunEvent::Reviewed);
        let approved = approve(&t.ours, &reviewed, "2026-03-08T10:00:00Z");
        t.ours.push_records("origin").unwrap();
        t.theirs.fetch_records("origin").unwrap();
        let r = t.theirs.merge_records("origin").unwrap();
        assert_eq!(r.approved_updated, ["train"]);
        assert_eq!(
            t.theirs.approved_run(&stage()).unwrap().unwrap().tip,
            approved.tip
        );

        // theirs approved half a second later; as text "…00Z" sorts after "…00.500Z"
        let later = a_run(&t.theirs, "20260308T142233Z-0002");
        let later = decide(&t.theirs, &later, RunEvent::Reviewed);
        let later = approve(&t.theirs, &later, "2026-03-08T10:00:00.500Z");
        t.theirs.push_records("origin").unwrap();
        t.ours.fetch_records("origin").unwrap();
        let r = t.ours.merge_records("origin").unwrap();
        assert_eq!(r.approved_updated, ["train"], "{r:?}");
        assert_eq!(
            t.ours.approved_run(&stage()).unwrap().unwrap().tip,
            later.tip
        );
        // and merging again changes nothing
        assert!(t
            .ours
            .merge_records("origin")
            .unwrap()
            .approved_updated
            .is_empty());
    }
}
