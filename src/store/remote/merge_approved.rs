//! Merging a remote's approved-run index: the index is derived from the run refs
//! (`Store::approved_run`), so after the runs merged each stage's entry is simply
//! brought to the derived run.

use super::super::error::Result;
use super::super::Store;
use super::MergeReport;
use crate::model::StageName;

impl Store {
    /// After run refs merged: the approved-run index of each stage whose runs the
    /// merge changed is moved to the derived approved run (the newest approved run,
    /// the same in every clone). Stages the merge left alone keep theirs: a valid
    /// index is never behind (docs/storage.md), and `doctor` repairs any other.
    pub(super) fn merge_approved(&self, _remote: &str, report: &mut MergeReport) -> Result<()> {
        let stages: Vec<StageName> = report
            .touched
            .iter()
            .filter_map(|s| StageName::new(s).ok())
            .collect();
        for stage in stages {
            if self.repair_approved_index(&stage)? {
                report.approved_updated.push(stage.to_string());
            }
        }
        Ok(())
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
