//! The `next` decision table: from what is known about a stage, the one thing to do
//! next, who does it, and the exact commands, as argument vectors an agent runs
//! without a shell and as display strings. Pure: the caller gathers the facts.

use super::decision::FeedbackRecord;
use super::ids::{RunId, StageName};
use super::review::{ReviewRecord, Verdict};
use super::staleness::StaleReason;
use super::state::{RunState, StageState};
use super::table::Direction;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// The latest run failed: read its log, fix the cause, run again.
    FixFailedRun,
    RerunAfterRejection,
    FixFailedReview,
    Review,
    Card,
    Decide,
    /// A human approved a candidate whose params the params file does not hold yet.
    ApplyParams,
    /// A sweep's runs cannot be ranked (no metric direction): pick the one to present.
    PickSweepRun,
    ResolveConflict,
    /// A record of the stage breaks the record rules: a human investigates.
    InvalidRecord,
}

/// A value the actor supplies to an action: appended as `flag value` (or as a
/// positional argument when `flag` is null) to the action's `argv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub name: String,
    pub flag: Option<String>,
    pub required: bool,
    pub repeatable: bool,
    /// A flag without a value (`--write-params`).
    #[serde(default)]
    pub switch: bool,
    pub description: String,
}

/// One command an item offers. `argv` is complete and literal (no placeholders, no
/// shell); what the actor must supply is in `inputs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub name: String,
    pub argv: Vec<String>,
    /// The command as people read it, inputs shown as `<name>`.
    pub display: String,
    pub inputs: Vec<Input>,
}

impl Action {
    fn new(name: &str, argv: Vec<String>, inputs: Vec<Input>) -> Action {
        let mut display = shell_join(&argv);
        for i in &inputs {
            let value = format!("<{}>", i.name);
            let shown = match (&i.flag, i.switch) {
                (Some(f), true) => format!("[{f}]"),
                (Some(f), false) if i.required => format!("{f} {value}"),
                (Some(f), false) => format!("[{f} {value}]"),
                (None, _) => value,
            };
            display.push(' ');
            display.push_str(&shown);
        }
        Action {
            name: name.to_string(),
            argv,
            display,
            inputs,
        }
    }
}

/// How the runs of a sweep were ranked to pick the one presented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPick {
    pub sweep_id: String,
    /// Recorded runs of the sweep, and how many of them succeeded with metrics.
    pub runs: usize,
    pub ranked: usize,
    /// The metric and direction that ranked them (the stage's first `directions`).
    pub metric: Option<String>,
    pub direction: Option<Direction>,
    pub best: Option<RunId>,
    pub best_value: Option<Value>,
}

/// One thing to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NextItem {
    pub stage: StageName,
    pub who: Who,
    pub kind: NextKind,
    pub run_id: Option<RunId>,
    /// The actions' display strings, joined with `   or   `.
    pub command: String,
    pub actions: Vec<Action>,
    pub why: Vec<String>,
    /// Why the stage is stale, as `status --json` has it.
    pub reasons: Vec<StaleReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepPick>,
}

/// What the table looks at for one stage.
pub struct StageFacts<'a> {
    pub stage: &'a StageName,
    pub state: StageState,
    /// The run the stage's work is about (its latest run, or the run a sweep
    /// presents) and its state.
    pub latest: Option<(&'a RunId, RunState)>,
    pub reasons: &'a [StaleReason],
    /// The run's feedback, when it was rejected.
    pub feedback: Option<&'a FeedbackRecord>,
    /// The run's review, when it was reviewed.
    pub review: Option<&'a ReviewRecord>,
    /// Whether the run has a card.
    pub carded: bool,
    /// Runs of the stage in conflict, newest first (the latest one included).
    pub conflicts: &'a [RunId],
    /// Records of the stage that break the record rules, with why.
    pub invalid: &'a [String],
    /// The `-p` overrides a new run starts from: the run's own, and after a rejection
    /// its suggestions over them (`+key` for keys the params file lacks).
    pub overrides: &'a [(String, Value)],
    /// Params of the run the params file does not hold (key, run's value).
    pub params_differ: &'a [(String, Value)],
    /// The acceptance criteria a new run must meet, from the rejection it answers.
    pub criteria: &'a [String],
    /// Where the run's card is mirrored in the working tree.
    pub card_path: Option<String>,
    pub sweep: Option<&'a SweepPick>,
}

/// The words of a command as one display string, quoted for a POSIX shell where
/// needed.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '-' | '_' | '.' | '/' | '=' | '+' | ':' | '@' | ',')
                });
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `-p KEY=VALUE` as `run` reads it back to the same value: text that would parse
/// as JSON (a number, `true`, `null`) is written as a JSON string.
pub fn override_arg(key: &str, v: &Value) -> String {
    let text = match v {
        Value::String(s) if serde_json::from_str::<Value>(s).is_err() => s.clone(),
        other => other.to_string(),
    };
    format!("{key}={text}")
}

fn wb(args: &[&str]) -> Vec<String> {
    ["git", "workbench"]
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

/// `git workbench run STAGE -p KEY=VALUE...`.
pub fn run_argv(stage: &StageName, overrides: &[(String, Value)]) -> Vec<String> {
    let mut argv = wb(&["run", stage.as_str()]);
    for (k, v) in overrides {
        argv.push("-p".to_string());
        argv.push(override_arg(k, v));
    }
    argv
}

fn input(
    name: &str,
    flag: Option<&str>,
    required: bool,
    repeatable: bool,
    description: &str,
) -> Input {
    Input {
        name: name.to_string(),
        flag: flag.map(str::to_string),
        required,
        repeatable,
        switch: false,
        description: description.to_string(),
    }
}

fn decide_actions(id: &str, params_differ: &[(String, Value)]) -> Vec<Action> {
    let mut approve_inputs = Vec::new();
    if !params_differ.is_empty() {
        approve_inputs.push(Input {
            switch: true,
            ..input(
                "write_params",
                Some("--write-params"),
                false,
                false,
                "also write the run's params into the params file, so the stage is current with them",
            )
        });
    }
    vec![
        Action::new("approve", wb(&["approve", id]), approve_inputs),
        Action::new(
            "reject",
            wb(&["reject", id]),
            vec![
                input(
                    "issue",
                    Some("--issue"),
                    true,
                    false,
                    "what is wrong with the run",
                ),
                input(
                    "suggest",
                    Some("--suggest"),
                    false,
                    true,
                    "KEY=VALUE to try next",
                ),
                input(
                    "criterion",
                    Some("--criterion"),
                    false,
                    true,
                    "METRIC OP NUMBER the next run must meet, e.g. recall>=0.8",
                ),
            ],
        ),
    ]
}

/// The next item for a stage, or `None` when it is approved and up to date.
pub fn next_item(f: &StageFacts) -> Option<NextItem> {
    let stage = f.stage;
    let run_id = f.latest.map(|(r, _)| r.clone());
    let id = run_id.as_ref().map_or("", |r| r.as_str()).to_string();
    let item = |who, kind, actions: Vec<Action>, why: Vec<String>| NextItem {
        stage: stage.clone(),
        who,
        kind,
        run_id: run_id.clone(),
        command: actions
            .iter()
            .map(|a| a.display.clone())
            .collect::<Vec<_>>()
            .join("   or   "),
        actions,
        why,
        reasons: f.reasons.to_vec(),
        card: None,
        sweep: f.sweep.cloned(),
    };
    let rerun = || Action::new("run", run_argv(stage, f.overrides), vec![]);
    let criteria_why = || {
        f.criteria
            .iter()
            .map(|c| format!("acceptance criterion: {c}"))
            .collect::<Vec<_>>()
    };
    if !f.invalid.is_empty() {
        return Some(NextItem {
            run_id: None,
            ..item(
                Who::Human,
                NextKind::InvalidRecord,
                vec![Action::new("doctor", wb(&["doctor"]), vec![])],
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
                decide_actions(older.as_str(), &[]),
                vec![
                    format!("two clones decided differently on run {older}, an older run of the stage (see 'git workbench log {stage}')"),
                    format!("their versions: git workbench show {older}; the record's ours/ and theirs/ files"),
                ],
            )
        });
    }
    let not_applied: Vec<&StaleReason> = f
        .reasons
        .iter()
        .filter(|r| matches!(r, StaleReason::ParamNotApplied { .. }))
        .collect();
    let failed = f.reasons.iter().find_map(|r| match r {
        StaleReason::LatestFailed { run_id, exit_code } => Some((run_id, *exit_code)),
        _ => None,
    });
    match (f.state, f.latest.map(|(_, s)| s)) {
        (_, Some(RunState::Conflict)) => Some(item(
            Who::Human,
            NextKind::ResolveConflict,
            decide_actions(&id, &[]),
            vec![
                "two clones decided differently on this run (both histories are kept; see 'git workbench log')".to_string(),
                format!("their versions: git workbench show {id}; the record's ours/ and theirs/ files"),
            ],
        )),
        (_, Some(RunState::Rejected)) => {
            let mut why = match f.feedback {
                Some(fb) => vec![format!("rejected: {}", fb.issue)],
                None => vec!["rejected".to_string()],
            };
            why.extend(criteria_why());
            Some(item(Who::Agent, NextKind::RerunAfterRejection, vec![rerun()], why))
        }
        // The approval stands; only the params file lags behind it.
        (StageState::Stale, Some(RunState::Approved))
            if !not_applied.is_empty() && not_applied.len() == f.reasons.len() =>
        {
            let mut why: Vec<String> = not_applied.iter().map(|r| r.to_string()).collect();
            why.push(format!(
                "write them with 'git workbench approve {id} --write-params'; or, if the params file was edited on purpose since, run the stage with its values"
            ));
            Some(item(
                Who::Human,
                NextKind::ApplyParams,
                vec![
                    Action::new("write_params", wb(&["approve", &id, "--write-params"]), vec![]),
                    Action::new("run", run_argv(stage, &[]), vec![]),
                ],
                why,
            ))
        }
        (StageState::Stale, _) if failed.is_some() => {
            let (failed_id, code) = failed.expect("checked");
            let log = Action::new("show_log", wb(&["show", failed_id.as_str(), "--log"]), vec![]);
            let mut why: Vec<String> = f.reasons.iter().map(|r| r.to_string()).collect();
            why.push(format!(
                "read its log ({}) and fix what made it exit {code}, then run the stage again",
                log.display
            ));
            Some(item(Who::Agent, NextKind::FixFailedRun, vec![log, rerun()], why))
        }
        (StageState::Stale, _) => {
            let mut why: Vec<String> = f.reasons.iter().map(|r| r.to_string()).collect();
            why.extend(criteria_why());
            Some(item(Who::Agent, NextKind::Run, vec![rerun()], why))
        }
        (_, Some(RunState::Executed | RunState::Failed)) => {
            if let Some(pick) = f.sweep.filter(|p| p.best.is_none()) {
                let why = vec![format!(
                    "sweep {} has {} run(s) and no metric direction ranks them (declare stages.{stage}.directions): compare them and review the one to present",
                    pick.sweep_id, pick.runs
                )];
                return Some(NextItem {
                    run_id: None,
                    ..item(
                        Who::Agent,
                        NextKind::PickSweepRun,
                        vec![
                            Action::new("compare", wb(&["compare", "--sweep", &pick.sweep_id]), vec![]),
                            Action::new(
                                "review",
                                wb(&["review"]),
                                vec![input("run", None, true, false, "the run of the sweep to present")],
                            ),
                        ],
                        why,
                    )
                });
            }
            let mut why = vec!["executed, not reviewed yet".to_string()];
            why.extend(sweep_why(f.sweep));
            why.extend(criteria_why());
            Some(item(
                Who::Agent,
                NextKind::Review,
                vec![Action::new("review", wb(&["review", &id]), vec![])],
                why,
            ))
        }
        (_, Some(RunState::Reviewed)) => Some(match f.review {
            Some(rv) if rv.verdict == Verdict::Fail => item(
                Who::Agent,
                NextKind::FixFailedReview,
                vec![rerun()],
                rv.blocking_issues
                    .iter()
                    .map(|b| format!("blocking: {b}"))
                    .collect(),
            ),
            _ if !f.carded => {
                let mut why = vec!["reviewed; present it with a drafted interpretation".to_string()];
                why.extend(sweep_why(f.sweep));
                item(
                    Who::Agent,
                    NextKind::Card,
                    vec![Action::new(
                        "card",
                        wb(&["card", &id]),
                        vec![input("interpretation", Some("-m"), true, false, "your drafted interpretation of the run's results")],
                    )],
                    why,
                )
            }
            _ => {
                let mut why = vec!["reviewed and presented; awaiting a human decision".to_string()];
                why.extend(criteria_why());
                // A presented sweep run that is not the sweep's best is named as such.
                if let Some(p) = f.sweep {
                    if let (Some(best), Some(metric)) = (&p.best, &p.metric) {
                        if run_id.as_ref() != Some(best) {
                            why.push(format!(
                                "note: run {id} is not the best {metric} of sweep {}: run {best} is",
                                p.sweep_id
                            ));
                        }
                    }
                }
                if !f.params_differ.is_empty() {
                    why.push(format!(
                        "its params differ from the params file ({}): approve with --write-params to write them",
                        f.params_differ
                            .iter()
                            .map(|(k, v)| override_arg(k, v))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ));
                }
                NextItem {
                    card: f.card_path.clone(),
                    ..item(Who::Human, NextKind::Decide, decide_actions(&id, f.params_differ), why)
                }
            }
        }),
        _ => None,
    }
}

fn sweep_why(pick: Option<&SweepPick>) -> Vec<String> {
    let Some(p) = pick else { return Vec::new() };
    let (Some(best), Some(metric), Some(dir)) = (&p.best, &p.metric, p.direction) else {
        return Vec::new();
    };
    let value = p.best_value.as_ref().map_or(String::new(), |v| {
        format!(" = {}", super::manifest::display_value(v))
    });
    let dir = match dir {
        Direction::Maximize => "highest",
        Direction::Minimize => "lowest",
    };
    vec![format!(
        "the {dir} {metric}{value} of {} ranked run(s) of sweep {}: run {best} (compare them: git workbench compare --sweep {})",
        p.ranked, p.sweep_id, p.sweep_id
    )]
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
        let suggested = [("t".to_string(), serde_json::json!(1.2))];
        let criteria = ["recall >= 0.8".to_string()];
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
            (S::Stale, Some(R::Conflict), false, false, Some((Who::Human, NextKind::ResolveConflict, "git workbench approve 20260308T110000Z-0000   or   git workbench reject 20260308T110000Z-0000 --issue <issue> [--suggest <suggest>] [--criterion <criterion>]"))),
            (S::Conflict, Some(R::Conflict), false, false, Some((Who::Human, NextKind::ResolveConflict, "git workbench approve 20260308T110000Z-0000   or   git workbench reject 20260308T110000Z-0000 --issue <issue> [--suggest <suggest>] [--criterion <criterion>]"))),
            (S::Executed, Some(R::Executed), false, false, Some((Who::Agent, NextKind::Review, "git workbench review 20260308T110000Z-0000"))),
            (S::Reviewed, Some(R::Reviewed), true, false, Some((Who::Agent, NextKind::FixFailedReview, "git workbench run train"))),
            (S::Reviewed, Some(R::Reviewed), true, true, Some((Who::Agent, NextKind::FixFailedReview, "git workbench run train"))),
            (S::Reviewed, Some(R::Reviewed), false, false, Some((Who::Agent, NextKind::Card, "git workbench card 20260308T110000Z-0000 -m <interpretation>"))),
            (S::Reviewed, Some(R::Reviewed), false, true, Some((Who::Human, NextKind::Decide, "git workbench approve 20260308T110000Z-0000   or   git workbench reject 20260308T110000Z-0000 --issue <issue> [--suggest <suggest>] [--criterion <criterion>]"))),
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
                overrides: if run_state == Some(R::Rejected) {
                    &suggested
                } else {
                    &[]
                },
                params_differ: &[],
                criteria: &[],
                card_path: Some("review/train/card.md".into()),
                sweep: None,
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
            overrides: &suggested,
            params_differ: &[],
            criteria: &criteria,
            card_path: None,
            sweep: None,
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
            overrides: &[],
            params_differ: &[],
            criteria: &[],
            card_path: None,
            sweep: None,
        };
        let i = next_item(&base).unwrap();
        assert_eq!((i.who, i.kind), (Who::Human, NextKind::ResolveConflict));
        assert_eq!(i.run_id.as_ref(), Some(&older));
        assert!(i
            .command
            .starts_with("git workbench approve 20260308T100000Z-0000"));
        assert_eq!(
            i.actions[0].argv,
            ["git", "workbench", "approve", "20260308T100000Z-0000"]
        );
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

#[cfg(test)]
mod argv_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn override_args_read_back_to_the_same_value() {
        assert_eq!(override_arg("a", &json!(1.2)), "a=1.2");
        assert_eq!(override_arg("a", &json!("strict")), "a=strict");
        // text that would parse as a number or a literal stays text
        assert_eq!(override_arg("a", &json!("1.2")), r#"a="1.2""#);
        assert_eq!(override_arg("a", &json!("null")), r#"a="null""#);
        assert_eq!(override_arg("a", &json!([1, 2])), "a=[1,2]");
        for v in [
            json!(1.2),
            json!("1.2"),
            json!("x y"),
            json!(null),
            json!({"b": 1}),
            json!(""),
        ] {
            let arg = override_arg("k", &v);
            assert_eq!(
                crate::model::params::parse_override(&arg).unwrap().1,
                v,
                "{arg}"
            );
        }
    }

    #[test]
    fn display_strings_quote_for_a_shell() {
        let argv: Vec<String> = ["git", "workbench", "run", "s", "-p", "a=x y", "-p", "b='q'"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            shell_join(&argv),
            r#"git workbench run s -p 'a=x y' -p 'b='\''q'\'''"#
        );
    }
}
