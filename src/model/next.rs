//! The `next` decision table: from what is known about a stage, the one thing to do
//! next, who does it, and the exact command. Pure: the caller gathers the facts.

use super::decision::FeedbackRecord;
use super::ids::{RunId, StageName};
use super::review::{ReviewRecord, Verdict};
use super::staleness::StaleReason;
use super::state::{RunState, StageState};
use serde::{Deserialize, Serialize};

/// Who acts on an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    Agent,
    Human,
}

/// What an item asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NextKind {
    Run,
    RerunAfterRejection,
    FixFailedReview,
    Review,
    Card,
    Decide,
    ResolveConflict,
    /// A record of the stage breaks the record rules: a human investigates.
    InvalidRecord,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextItem {
    pub stage: StageName,
    pub who: Who,
    pub kind: NextKind,
    pub run_id: Option<RunId>,
    pub command: String,
    pub why: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
}

/// What the table looks at for one stage.
pub struct StageFacts<'a> {
    pub stage: &'a StageName,
    pub state: StageState,
    /// The stage's latest run and its state.
    pub latest: Option<(&'a RunId, RunState)>,
    pub reasons: &'a [StaleReason],
    /// The latest run's feedback, when it was rejected.
    pub feedback: Option<&'a FeedbackRecord>,
    /// The latest run's review, when it was reviewed.
    pub review: Option<&'a ReviewRecord>,
    /// Whether the latest run has a card.
    pub carded: bool,
    /// Runs of the stage in conflict, newest first (the latest one included).
    pub conflicts: &'a [RunId],
    /// Records of the stage that break the record rules, with why.
    pub invalid: &'a [String],
}

/// The next item for a stage, or `None` when it is approved and up to date.
pub fn next_item(f: &StageFacts) -> Option<NextItem> {
    let stage = f.stage;
    let run_id = f.latest.map(|(r, _)| r.clone());
    let id = run_id.as_ref().map_or("", |r| r.as_str()).to_string();
    let item = |who, kind, command: String, why: Vec<String>| NextItem {
        stage: stage.clone(),
        who,
        kind,
        run_id: run_id.clone(),
        command,
        why,
        card: None,
    };
    let decide =
        format!("git workbench approve {id}   or   git workbench reject {id} --issue \"...\"");
    if !f.invalid.is_empty() {
        return Some(NextItem {
            run_id: None,
            ..item(
                Who::Human,
                NextKind::InvalidRecord,
                "git workbench doctor".to_string(),
                f.invalid.to_vec(),
            )
        });
    }
    // A conflict on an older run is still a decision two clones disagree on.
    if let Some(older) = f.conflicts.iter().find(|c| Some(*c) != run_id.as_ref()) {
        return Some(NextItem {
            run_id: Some(older.clone()),
            ..item(
                Who::Human,
                NextKind::ResolveConflict,
                format!("git workbench approve {older}   or   git workbench reject {older} --issue \"...\""),
                vec![
                    format!("two clones decided differently on run {older}, an older run of the stage (see 'git workbench log {stage}')"),
                    format!("their versions: git workbench show {older}; the record's ours/ and theirs/ files"),
                ],
            )
        });
    }
    match (f.state, f.latest.map(|(_, s)| s)) {
        (_, Some(RunState::Conflict)) => Some(item(
            Who::Human,
            NextKind::ResolveConflict,
            decide,
            vec![
                "two clones decided differently on this run (both histories are kept; see 'git workbench log')".to_string(),
                format!("their versions: git workbench show {id}; the record's ours/ and theirs/ files"),
            ],
        )),
        (_, Some(RunState::Rejected)) => {
            let (args, mut why) = match f.feedback {
                Some(fb) => (fb.suggested_args(), vec![format!("rejected: {}", fb.issue)]),
                None => (String::new(), vec!["rejected".to_string()]),
            };
            if let Some(fb) = f.feedback {
                why.extend(
                    fb.acceptance_criteria
                        .iter()
                        .map(|c| format!("acceptance criterion: {c}")),
                );
            }
            let sep = if args.is_empty() { "" } else { " " };
            Some(item(
                Who::Agent,
                NextKind::RerunAfterRejection,
                format!("git workbench run {stage}{sep}{args}"),
                why,
            ))
        }
        (StageState::Stale, _) => Some(item(
            Who::Agent,
            NextKind::Run,
            format!("git workbench run {stage}"),
            f.reasons.iter().map(|r| r.to_string()).collect(),
        )),
        (_, Some(RunState::Executed | RunState::Failed)) => Some(item(
            Who::Agent,
            NextKind::Review,
            format!("git workbench review {id}"),
            vec!["executed, not reviewed yet".to_string()],
        )),
        (_, Some(RunState::Reviewed)) => Some(match f.review {
            Some(rv) if rv.verdict == Verdict::Fail => item(
                Who::Agent,
                NextKind::FixFailedReview,
                format!("git workbench run {stage}"),
                rv.blocking_issues
                    .iter()
                    .map(|b| format!("blocking: {b}"))
                    .collect(),
            ),
            _ if !f.carded => item(
                Who::Agent,
                NextKind::Card,
                format!("git workbench card {id} -m \"<your interpretation>\""),
                vec!["reviewed; present it with a drafted interpretation".to_string()],
            ),
            _ => NextItem {
                card: Some(format!("review/{stage}/card.md")),
                ..item(
                    Who::Human,
                    NextKind::Decide,
                    decide,
                    vec!["reviewed and presented; awaiting a human decision".to_string()],
                )
            },
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decision::FEEDBACK_SCHEMA;
    use crate::model::review::CheckResult;
    use crate::model::time::Timestamp;

    #[test]
    fn the_whole_table() {
        let stage = StageName::new("train").unwrap();
        let run = RunId::new("20260308T110000Z-0000").unwrap();
        let fb = FeedbackRecord {
            schema: FEEDBACK_SCHEMA.into(),
            run_id: run.clone(),
            stage: stage.clone(),
            issue: "recall too low".into(),
            suggested_params: [("t".to_string(), serde_json::json!(1.2))].into(),
            acceptance_criteria: vec!["recall >= 0.8".into()],
            rejected_by: "A <a@x>".into(),
            timestamp: Timestamp::from_unix_millis(0),
        };
        let review = |pass| {
            ReviewRecord::new(
                &stage,
                &run,
                vec![CheckResult::builtin("c", pass, true, Some("why".into()))],
                Timestamp::from_unix_millis(0),
                "a".into(),
            )
        };
        let (passed, failed) = (review(true), review(false));
        let reasons = [StaleReason::NeverRun];
        use RunState as R;
        use StageState as S;
        type Row<'a> = (S, Option<R>, bool, bool, Option<(Who, NextKind, &'a str)>);
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            // stage state, latest run state, failed review?, carded?, expected
            (S::Stale, None, false, false, Some((Who::Agent, NextKind::Run, "git workbench run train"))),
            (S::Stale, Some(R::Failed), false, false, Some((Who::Agent, NextKind::Run, "git workbench run train"))),
            (S::Stale, Some(R::Approved), false, false, Some((Who::Agent, NextKind::Run, "git workbench run train"))),
            (S::Stale, Some(R::Rejected), false, false, Some((Who::Agent, NextKind::RerunAfterRejection, "git workbench run train -p t=1.2"))),
            (S::Rejected, Some(R::Rejected), false, false, Some((Who::Agent, NextKind::RerunAfterRejection, "git workbench run train -p t=1.2"))),
            (S::Stale, Some(R::Conflict), false, false, Some((Who::Human, NextKind::ResolveConflict, "git workbench approve 20260308T110000Z-0000   or   git workbench reject 20260308T110000Z-0000 --issue \"...\""))),
            (S::Conflict, Some(R::Conflict), false, false, Some((Who::Human, NextKind::ResolveConflict, "git workbench approve 20260308T110000Z-0000   or   git workbench reject 20260308T110000Z-0000 --issue \"...\""))),
            (S::Executed, Some(R::Executed), false, false, Some((Who::Agent, NextKind::Review, "git workbench review 20260308T110000Z-0000"))),
            (S::Reviewed, Some(R::Reviewed), true, false, Some((Who::Agent, NextKind::FixFailedReview, "git workbench run train"))),
            (S::Reviewed, Some(R::Reviewed), true, true, Some((Who::Agent, NextKind::FixFailedReview, "git workbench run train"))),
            (S::Reviewed, Some(R::Reviewed), false, false, Some((Who::Agent, NextKind::Card, "git workbench card 20260308T110000Z-0000 -m \"<your interpretation>\""))),
            (S::Reviewed, Some(R::Reviewed), false, true, Some((Who::Human, NextKind::Decide, "git workbench approve 20260308T110000Z-0000   or   git workbench reject 20260308T110000Z-0000 --issue \"...\""))),
            (S::Approved, Some(R::Approved), false, false, None),
        ];
        for (state, run_state, fail, carded, want) in table {
            let facts = StageFacts {
                stage: &stage,
                state,
                latest: run_state.map(|s| (&run, s)),
                reasons: &reasons,
                feedback: (run_state == Some(R::Rejected)).then_some(&fb),
                review: (run_state == Some(R::Reviewed)).then_some(if fail {
                    &failed
                } else {
                    &passed
                }),
                carded,
                conflicts: &[],
                invalid: &[],
            };
            let got = next_item(&facts);
            assert_eq!(
                got.as_ref().map(|i| (i.who, i.kind, i.command.as_str())),
                want,
                "{state:?} {run_state:?} fail={fail} carded={carded}"
            );
            if let Some(i) = got {
                assert!(!i.why.is_empty());
                assert_eq!(i.card.is_some(), i.kind == NextKind::Decide);
            }
        }
        let rerun = next_item(&StageFacts {
            stage: &stage,
            state: S::Rejected,
            latest: Some((&run, R::Rejected)),
            reasons: &[],
            feedback: Some(&fb),
            review: None,
            carded: false,
            conflicts: &[],
            invalid: &[],
        })
        .unwrap();
        assert_eq!(
            rerun.why,
            [
                "rejected: recall too low",
                "acceptance criterion: recall >= 0.8"
            ]
        );
        assert_eq!(
            serde_json::to_value(rerun.kind).unwrap(),
            "rerun_after_rejection"
        );
        // a conflict on an older run comes before the latest run's work
        let older = RunId::new("20260308T100000Z-0000").unwrap();
        let base = StageFacts {
            stage: &stage,
            state: S::Executed,
            latest: Some((&run, R::Executed)),
            reasons: &[],
            feedback: None,
            review: None,
            carded: false,
            conflicts: std::slice::from_ref(&older),
            invalid: &[],
        };
        let i = next_item(&base).unwrap();
        assert_eq!((i.who, i.kind), (Who::Human, NextKind::ResolveConflict));
        assert_eq!(i.run_id.as_ref(), Some(&older));
        assert!(i
            .command
            .starts_with("git workbench approve 20260308T100000Z-0000"));
        // an invalid record before anything
        let why = ["run x is not a valid record".to_string()];
        let i = next_item(&StageFacts {
            invalid: &why,
            ..base
        })
        .unwrap();
        assert_eq!(
            (i.who, i.kind, i.command.as_str()),
            (Who::Human, NextKind::InvalidRecord, "git workbench doctor")
        );
    }
}
