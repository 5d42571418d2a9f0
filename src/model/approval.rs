//! The approval rules the design calls enforced, as one pure function: never approve
//! without a review, never a failed review unless forced (and then recorded as
//! forced), never behind a newer approval of the stage, never when the outputs on
//! disk are not the bytes the run produced — and only from a state the state machine
//! allows. Also what a forced approval overrode (`overridden_checks`), which every
//! view of an approval shows (docs/decisions.md).

use super::digest::{FileHashes, Sha256};
use super::ids::RunId;
use super::review::{ReviewRecord, Verdict};
use super::state::{transition, Action, Refusal, RunState};
use std::collections::BTreeMap;
use std::fmt;

/// What the rules look at.
pub struct ApprovalFacts<'a> {
    pub run_id: &'a RunId,
    pub state: RunState,
    /// The run's review verdict and blocking issues, if it was reviewed.
    pub review: Option<(Verdict, &'a [String])>,
    /// `--force`: approve although the review failed.
    pub force: bool,
    /// The stage's currently approved run.
    pub approved: Option<&'a RunId>,
    /// The outputs the manifest records.
    pub outputs: &'a FileHashes,
    /// The digest of each of those outputs on disk now (`None`: missing).
    pub on_disk: &'a BTreeMap<String, Option<Sha256>>,
}

/// Why an approval is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The state machine does not allow approving from this state.
    State(Refusal),
    NoReview,
    FailedReview {
        blocking: Vec<String>,
    },
    /// A newer run of the stage is already approved.
    BehindNewer {
        approved: RunId,
    },
    /// Outputs missing or changed on disk: `path (missing|changed)`.
    BytesChanged {
        files: Vec<String>,
    },
}

impl fmt::Display for ApprovalRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApprovalRefusal::State(r) => write!(f, "{r}"),
            ApprovalRefusal::NoReview => write!(f, "it has no review"),
            ApprovalRefusal::FailedReview { blocking } => {
                write!(f, "it failed its review ({})", blocking.join("; "))
            }
            ApprovalRefusal::BehindNewer { approved } => {
                write!(f, "a newer run, {approved}, is already approved")
            }
            ApprovalRefusal::BytesChanged { files } => write!(
                f,
                "its outputs on disk are no longer the bytes it produced: {}",
                files.join(", ")
            ),
        }
    }
}

/// Whether the run may be approved; `Ok(forced)` says the approval overrides a failed
/// review and must record that.
pub fn may_approve(f: &ApprovalFacts) -> Result<bool, ApprovalRefusal> {
    transition(f.state, Action::Approve).map_err(ApprovalRefusal::State)?;
    let Some((verdict, blocking)) = f.review else {
        return Err(ApprovalRefusal::NoReview);
    };
    let forced = verdict == Verdict::Fail;
    if forced && !f.force {
        return Err(ApprovalRefusal::FailedReview {
            blocking: blocking.to_vec(),
        });
    }
    if let Some(a) = f.approved {
        if a > f.run_id {
            return Err(ApprovalRefusal::BehindNewer {
                approved: a.clone(),
            });
        }
    }
    let files: Vec<String> = f
        .outputs
        .iter()
        .filter_map(|(p, h)| match f.on_disk.get(p) {
            None | Some(None) => Some(format!("{p} (missing)")),
            Some(Some(now)) if now != h => Some(format!("{p} (changed)")),
            Some(Some(_)) => None,
        })
        .collect();
    if !files.is_empty() {
        return Err(ApprovalRefusal::BytesChanged { files });
    }
    Ok(forced)
}

/// The checks a forced approval overrode: the names of the blocking checks its review
/// failed, in the review's order. Only meaningful with `ApprovalRecord::forced`, which
/// the record rules tie to a failed review (`model::integrity`); the names come from
/// the review the approval rests on, never from text a narrative or a user supplies.
pub fn overridden_checks(review: &ReviewRecord) -> Vec<String> {
    review
        .checks
        .iter()
        .filter(|c| c.blocking && !c.pass)
        .map(|c| c.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overridden_checks_are_the_failed_blocking_ones() {
        use super::super::review::CheckResult;
        use super::super::time::Timestamp;
        let review = ReviewRecord::new(
            &super::super::ids::StageName::new("s").unwrap(),
            &RunId::new("20260308T110000Z-0000").unwrap(),
            vec![
                CheckResult::builtin("passes", true, true, None),
                CheckResult::builtin("non_empty_outputs", false, true, Some("a.log".into())),
                CheckResult::builtin("warns", false, false, None),
                CheckResult::builtin("row_counts", false, true, None),
            ],
            Timestamp::from_unix_millis(0),
            "a".into(),
        );
        assert_eq!(
            overridden_checks(&review),
            ["non_empty_outputs", "row_counts"]
        );
    }

    #[test]
    fn the_whole_table() {
        let old = RunId::new("20260308T100000Z-0000").unwrap();
        let run = RunId::new("20260308T110000Z-0000").unwrap();
        let newer = RunId::new("20260308T120000Z-0000").unwrap();
        let (a, b) = (Sha256::of(b"a"), Sha256::of(b"b"));
        let outputs = FileHashes::from([("o.csv".to_string(), a)]);
        let same = BTreeMap::from([("o.csv".to_string(), Some(a))]);
        let changed = BTreeMap::from([("o.csv".to_string(), Some(b))]);
        let missing = BTreeMap::from([("o.csv".to_string(), None)]);
        let blocking = ["output_files_exist: missing".to_string()];
        use RunState::*;
        use Verdict::*;
        type Want = Result<bool, &'static str>;
        type OnDisk = BTreeMap<String, Option<Sha256>>;
        type Row<'a> = (
            RunState,
            Option<Verdict>,
            bool,
            Option<&'a RunId>,
            &'a OnDisk,
            Want,
        );
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            (Reviewed, Some(Pass), false, None, &same, Ok(false)),
            (Reviewed, Some(PassWithWarnings), false, None, &same, Ok(false)),
            (Reviewed, Some(Fail), false, None, &same, Err("failed")),
            (Reviewed, Some(Fail), true, None, &same, Ok(true)),
            (Reviewed, None, false, None, &same, Err("no review")),
            (Reviewed, Some(Pass), false, Some(&old), &same, Ok(false)),
            (Reviewed, Some(Pass), false, Some(&run), &same, Ok(false)),
            (Reviewed, Some(Pass), false, Some(&newer), &same, Err("newer")),
            (Reviewed, Some(Pass), true, Some(&newer), &same, Err("newer")),
            (Reviewed, Some(Pass), false, None, &changed, Err("bytes")),
            (Reviewed, Some(Pass), false, None, &missing, Err("bytes")),
            (Reviewed, Some(Fail), true, None, &changed, Err("bytes")),
            (Conflict, Some(Pass), false, None, &same, Ok(false)),
            (Executed, None, false, None, &same, Err("state")),
            (Failed, None, true, None, &same, Err("state")),
            (Approved, Some(Pass), false, None, &same, Err("state")),
            (Rejected, Some(Pass), true, None, &same, Err("state")),
        ];
        for (state, verdict, force, approved, on_disk, want) in table {
            let facts = ApprovalFacts {
                run_id: &run,
                state,
                review: verdict.map(|v| (v, &blocking[..])),
                force,
                approved,
                outputs: &outputs,
                on_disk,
            };
            let got = may_approve(&facts).map_err(|e| match e {
                ApprovalRefusal::State(_) => "state",
                ApprovalRefusal::NoReview => "no review",
                ApprovalRefusal::FailedReview { .. } => "failed",
                ApprovalRefusal::BehindNewer { .. } => "newer",
                ApprovalRefusal::BytesChanged { .. } => "bytes",
            });
            assert_eq!(
                got, want,
                "{state:?} {verdict:?} force={force} approved={approved:?}"
            );
        }
        let e = may_approve(&ApprovalFacts {
            run_id: &run,
            state: Reviewed,
            review: Some((Pass, &[])),
            force: false,
            approved: None,
            outputs: &outputs,
            on_disk: &missing,
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "its outputs on disk are no longer the bytes it produced: o.csv (missing)"
        );
    }
}
