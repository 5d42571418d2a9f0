//! `approve RUN`: the human decision that lets results reach a report, in two steps so
//! the CLI can show the card and ask in between: `plan` applies every rule
//! (`model::approval::may_approve`) and gathers what the decision needs; `record`
//! writes the approval, bound to the exact output bytes, claiming the approved index
//! from the value the rules judged before the run's ref moves (the commit point).

use super::records::{after_transition, check_interpretation, read_text, refusal, state_of};
use super::resolve::resolve_run;
use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::exec::clock;
use crate::exec::editor::{self, Edited};
use crate::model::approval::{may_approve, ApprovalFacts, ApprovalRefusal};
use crate::model::card::render_card;
use crate::model::decision::{artifact_digest, ApprovalRecord, Decision, APPROVAL_SCHEMA};
use crate::model::manifest::RunManifest;
use crate::model::review::ReviewRecord;
use crate::model::state::{transition, Action, RunEvent};
use crate::model::{ObjectId, RunId, StageName};
use crate::store::{NewTransition, RunRef};
use serde::{Deserialize, Serialize};

/// Everything an approval of one run rests on, checked against the rules.
pub struct ApprovalPlan {
    pub run: RunRef,
    pub manifest: RunManifest,
    pub review: ReviewRecord,
    /// The stage's approved run this approval supersedes.
    pub supersedes: Option<RunId>,
    /// The approved index as the rules saw it: the approval moves it only from there.
    pub index: Option<ObjectId>,
    /// The approval overrides a failed review (`--force`).
    pub forced: bool,
    /// Who decides: `(name, email)`.
    pub identity: (String, String),
    /// The agent's draft interpretation from the card, if any.
    pub draft: Option<String>,
    /// The card as recorded, if any.
    pub card: Option<String>,
}

impl ApprovalPlan {
    /// The card to show before the human confirms `text` (the recorded card when the
    /// text is its draft, else one rendered with the text).
    pub fn card_for(&self, text: &str, edited: bool) -> String {
        match (&self.card, &self.draft, edited) {
            (Some(card), Some(_), false) => card.clone(),
            _ => render_card(&self.manifest, &self.review, Some(text), None),
        }
    }
}

/// The human's side of the decision.
pub struct Decided {
    /// The interpretation approved.
    pub text: String,
    /// True when it differs from the agent's draft.
    pub edited: bool,
    pub note: Option<String>,
    pub sign: bool,
}

/// `approve --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproveReport {
    pub run_id: RunId,
    pub stage: StageName,
    pub record: ObjectId,
    pub signed: bool,
    pub approval: ApprovalRecord,
    /// With `--write-params`: what was written into the params file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params_written: Option<super::params_apply::ParamsWritten>,
    pub warnings: Vec<String>,
}

/// Applies the approval rules to `spec`'s run; refusals exit 1 with nothing written.
pub fn plan(ws: &Workspace, spec: &str, force: bool) -> Result<ApprovalPlan> {
    let run = resolve_run(&ws.store, spec)?;
    let state = state_of(&ws.store, &run)?;
    // The state machine first: refusing an approved run needs no output hashed.
    transition(state, Action::Approve)
        .map_err(|why| refusal(&run, state, Action::Approve, &why.to_string()))?;
    let manifest = ws.store.read_manifest(run.tip)?;
    let review: Option<ReviewRecord> = ws.store.read_record(run.tip)?;
    // Read the index before judging it: if it moves after this, the swap refuses.
    let index = ws.store.approved_index(&run.stage);
    let approved = super::resolve::approved_run(&ws.store, &run.stage)?;
    let mut cache = ws.stat_cache();
    let on_disk = ws.outputs_on_disk(&manifest, &mut cache)?;
    cache.save();
    let facts = ApprovalFacts {
        run_id: &run.run_id,
        state,
        review: review.as_ref().map(|r| (r.verdict, &r.blocking_issues[..])),
        force,
        approved: approved.as_ref().map(|r| &r.run_id),
        outputs: &manifest.outputs,
        on_disk: &on_disk,
    };
    let forced = may_approve(&facts).map_err(|r| approval_refused(&run, state, r))?;
    // The criteria of the rejection the run answers hold at the decision too, not only
    // in a review that may predate the rejection.
    if let Some((rejected, fb)) =
        super::records::answered_rejection(&ws.store, &run.stage, &run.run_id)?
    {
        let failing: Vec<String> = fb
            .acceptance_criteria
            .iter()
            .map(|c| crate::model::criterion::check(c, &rejected.run_id, &manifest.metrics))
            .filter(|c| !c.pass)
            .map(|c| c.note.unwrap_or(c.name))
            .collect();
        // A review that checked them and failed is what --force overrides; one that
        // did not check them (it predates the rejection) must be done again.
        let reviewed_them = review.as_ref().is_some_and(|r| {
            r.checks
                .iter()
                .any(|c| c.name.starts_with("acceptance_criterion: "))
        });
        if !(failing.is_empty() || force && reviewed_them) {
            return Err(Error::refused(format!(
                "cannot approve run {}: it does not meet the acceptance criteria of the rejection it answers: {}",
                run.run_id,
                failing.join("; ")
            ))
            .hint(format!(
                "review it again (git workbench review {}) so its review checks them, then run the stage again or approve the failed review with --force",
                run.run_id
            )));
        }
    }
    Ok(ApprovalPlan {
        identity: ws.store.decision_identity()?,
        draft: read_text(&ws.store, &run, "interpretation.md")?,
        card: read_text(&ws.store, &run, "card.md")?,
        supersedes: approved.map(|r| r.run_id),
        index,
        review: review.expect("the rules require a review"),
        forced,
        manifest,
        run,
    })
}

fn approval_refused(
    run: &RunRef,
    state: crate::model::state::RunState,
    r: ApprovalRefusal,
) -> Error {
    match r {
        ApprovalRefusal::State(why) => refusal(run, state, Action::Approve, &why.to_string()),
        ApprovalRefusal::NoReview => Error::refused(format!("run {} has no review", run.run_id)),
        ApprovalRefusal::FailedReview { blocking } => Error::refused(format!(
            "run {} failed its review ({}); it cannot be approved",
            run.run_id,
            blocking.join("; ")
        ))
        .hint(format!(
            "fix it and run the stage again, or approve anyway with --force (recorded); reject it with 'git workbench reject {} --issue ...'",
            run.run_id
        )),
        ApprovalRefusal::BehindNewer { approved } => Error::refused(format!(
            "a newer run of stage {}, {approved}, is already approved; approving the older {} would step back",
            run.stage, run.run_id
        ))
        .hint("run the stage again if the approved run is wrong"),
        ApprovalRefusal::BytesChanged { files } => Error::refused(format!(
            "the outputs of run {} on disk are no longer the bytes it produced: {}",
            run.run_id,
            files.join(", ")
        ))
        .hint(format!("run the stage again: git workbench run {}", run.stage)),
    }
}

/// The human's interpretation from a file; `edited` when it is not the draft.
pub fn interpretation_from_file(
    plan: &ApprovalPlan,
    path: &std::path::Path,
) -> Result<(String, bool)> {
    let t = std::fs::read_to_string(path).map_err(Error::io(path))?;
    if t.trim().is_empty() {
        return Err(Error::input(format!("{} is empty", path.display())));
    }
    check_interpretation(&t, &format!("in {}", path.display()))?;
    let edited = plan.draft.as_deref().map(str::trim) != Some(t.trim());
    Ok((t, edited))
}

/// The draft edited in git's editor (GIT_EDITOR, core.editor, VISUAL, EDITOR, vi).
pub fn interpretation_from_editor(ws: &Workspace, plan: &ApprovalPlan) -> Result<(String, bool)> {
    let draft = plan.draft.clone().unwrap_or_default();
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let editor = env("GIT_EDITOR")
        .or_else(|| ws.store.config_string("core.editor"))
        .or_else(|| env("VISUAL"))
        .or_else(|| env("EDITOR"))
        .unwrap_or_else(|| "vi".to_string());
    let file = ws
        .tmp_dir()?
        .join(format!("APPROVE_{}.md", plan.run.run_id));
    let text = match editor::edit(&editor, &file, &draft) {
        Ok(Edited::Text(t)) => t,
        Ok(Edited::Aborted(s)) => {
            return Err(Error::refused(format!(
                "the editor '{editor}' exited with {s}; approval aborted, nothing recorded"
            )))
        }
        Err(e) => {
            return Err(
                Error::input(format!("cannot run the editor '{editor}': {e}"))
                    .hint("set GIT_EDITOR, core.editor, VISUAL or EDITOR"),
            )
        }
    };
    if text.trim().is_empty() {
        return Err(Error::refused(
            "the edited interpretation is empty; approval aborted, nothing recorded",
        )
        .hint("write the interpretation you approve, or reject the run"));
    }
    check_interpretation(&text, "as edited")?;
    let edited = text.trim() != draft.trim();
    Ok((text, edited))
}

/// The card's draft, approved as it is.
pub fn interpretation_from_draft(plan: &ApprovalPlan) -> Result<(String, bool)> {
    let text = plan.draft.clone().unwrap_or_default();
    check_interpretation(
        &text,
        &format!("the draft on the card of run {}", plan.run.run_id),
    )
    .map_err(|e| {
        e.hint(format!(
            "approve your own text without that line: --edit, or --interpretation FILE; or have the agent card it again: git workbench card {} --interpretation FILE",
            plan.run.run_id
        ))
    })?;
    Ok((text, false))
}

/// Whether approvals are signed: `--sign`, `workbench.signApprovals`, or tier 4.
pub fn signs(ws: &Workspace, asked: bool) -> bool {
    asked
        || ws.config.tier >= super::tier::TEAM
        || ws
            .store
            .config_bool("workbench.signApprovals")
            .unwrap_or(false)
}

/// Writes the approval of a plan.
pub fn record(ws: &Workspace, plan: ApprovalPlan, d: Decided) -> Result<ApproveReport> {
    // Every source of the text passes here, whichever the caller checked already.
    check_interpretation(&d.text, "approved")?;
    let signing = if d.sign {
        Some(ws.store.signing_config()?)
    } else {
        None
    };
    let signer = signing
        .as_ref()
        .map(|cfg| move |payload: &[u8]| crate::exec::sign::sign(cfg, payload));
    let (name, email) = plan.identity.clone();
    let m = &plan.manifest;
    let approval = ApprovalRecord {
        schema: APPROVAL_SCHEMA.into(),
        run_id: plan.run.run_id.clone(),
        stage: plan.run.stage.clone(),
        decision: Decision::Approved,
        approved_by: format!("{name} <{email}>"),
        timestamp: clock::now(),
        artifacts_approved: m.outputs.clone(),
        interpretation_approved: !d.text.trim().is_empty(),
        interpretation_edited: d.edited,
        approved_interpretation: d.text,
        note: d.note,
        supersedes: plan.supersedes.clone(),
        artifact_digest: artifact_digest(&m.outputs),
        review_verdict: plan.review.verdict,
        forced: plan.forced,
    };
    let record = ws.store.append_transition(&NewTransition {
        run: &plan.run,
        event: RunEvent::Approved,
        files: vec![("approval.json", approval.to_json().into_bytes())],
        summary: format!("approved by {name} <{email}>"),
        author: Some((name, email)),
        signer: signer.as_ref().map(|s| s as &crate::store::Signer),
        approved_index: Some(plan.index),
    })?;
    let (moved, warnings) = after_transition(ws, m, &plan.run, RunEvent::Approved, record)?;
    Ok(ApproveReport {
        run_id: moved.run_id,
        stage: moved.stage,
        record: moved.tip,
        signed: d.sign,
        approval,
        params_written: None,
        warnings,
    })
}
