//! `verify`: the CI and pull-request check, three independent checks over a range of
//! commits:
//! 1. every narrative file at every commit is checked as the hook does (catching
//!    `--no-verify`, web edits and anything pushed by other means);
//! 2. the `review/` mirror committed at the tip must agree with the run records: the
//!    top level is the approved run's record, `candidate/` a run of the stage
//!    (`model::mirror`, shared with `doctor`);
//! 3. every approval the tip's narratives rely on must match its manifest's bytes,
//!    the outputs on disk must still be those bytes, and with `workbench.requireSigned`
//!    it must be signed by a key allowed at the base of the range. Forced approvals
//!    among them are named in the summary (not a problem: a human decided it).

#[path = "verify/stages.rs"]
mod stages;

pub use stages::{FigureLink, MetricChange, StageResult};

use super::mirror::{mirrored_stages, stage_problems};
use super::narrative::{finish, strict_narrative};
use crate::error::{Error, Result};
use crate::exec::hash::sha256_file;
use crate::model::decision::{artifact_digest, ApprovalRecord, SignatureStatus};
use crate::model::manifest::RunManifest;
use crate::model::mirror::{MirrorProblem, CANDIDATE_DIR};
use crate::model::narrative::{self, normalize};
use crate::model::time::Timestamp;
use crate::model::{ObjectId, RunId, StageName};
use crate::narrative::transition::{judge, EventKind, NarrativeEvent, Scope, Version};
use crate::narrative::{approved_records, Checker, Problem, Severity};
use crate::store::content::NARRATIVE_ATTR;
use crate::store::trees::FileMap;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub struct VerifyRequest {
    /// `BASE..HEAD`: every commit reachable from HEAD and not from BASE.
    pub range: Option<String>,
    /// Require every relied-on approval to be signed by an allowed key.
    pub require_signed: bool,
}

/// A problem found at a commit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Found {
    pub commit: ObjectId,
    pub file: String,
    pub line: usize,
    pub stage: Option<StageName>,
    pub run: Option<RunId>,
    pub severity: Severity,
    pub reason: String,
    pub fix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl Found {
    fn at(commit: ObjectId, p: Problem) -> Found {
        Found {
            commit,
            file: p.file,
            line: p.line,
            stage: p.stage,
            run: p.run,
            severity: p.severity,
            reason: p.reason,
            fix: p.fix,
            diff: p.diff,
        }
    }

    /// The problem as the narrative checks report it.
    pub fn problem(&self) -> Problem {
        Problem {
            file: self.file.clone(),
            line: self.line,
            stage: self.stage.clone(),
            run: self.run.clone(),
            severity: self.severity,
            reason: self.reason.clone(),
            fix: self.fix.clone(),
            diff: self.diff.clone(),
        }
    }
}

/// A block at the tip, with the approval behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockInfo {
    pub file: String,
    pub line: usize,
    pub stage: StageName,
    pub run: RunId,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub interpretation_edited: Option<bool>,
    pub signed: Option<bool>,
    /// The approval overrode a failed review (`approve --force`); `null` when the
    /// block's run has no approval.
    pub forced: Option<bool>,
    /// The blocking checks a forced approval overrode, from its review.
    pub overridden_checks: Vec<String>,
    /// The block is new or changed since the base of the range.
    pub changed: bool,
}

/// A forced approval the tip's narratives rely on, and the blocks that cite it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForcedApproval {
    pub stage: StageName,
    pub run: RunId,
    pub approved_by: String,
    /// The blocking checks of the review it overrode.
    pub overridden_checks: Vec<String>,
    /// `file:line` of each block citing it.
    pub blocks: Vec<String>,
}

impl ForcedApproval {
    /// One entry per forced approval the blocks cite, in the order first cited.
    fn of(blocks: &[BlockInfo]) -> Vec<ForcedApproval> {
        let mut out: Vec<ForcedApproval> = Vec::new();
        for b in blocks.iter().filter(|b| b.forced == Some(true)) {
            let at = format!("{}:{}", b.file, b.line);
            match out
                .iter_mut()
                .find(|f| f.stage == b.stage && f.run == b.run)
            {
                Some(f) => f.blocks.push(at),
                None => out.push(ForcedApproval {
                    stage: b.stage.clone(),
                    run: b.run.clone(),
                    approved_by: b.approved_by.clone().unwrap_or_default(),
                    overridden_checks: b.overridden_checks.clone(),
                    blocks: vec![at],
                }),
            }
        }
        out
    }
}

/// Something a commit of the range did to a narrative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeEvent {
    pub commit: ObjectId,
    /// The commit's author, `Name <email>`.
    pub author: String,
    #[serde(flatten)]
    pub event: NarrativeEvent,
}

/// How many blocks the range added, changed and removed, the narratives it unmarked
/// (protection dropped: listed by name, never only counted), and the forced approvals
/// the tip's blocks rely on (named, as unmarks are).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
    pub renamed: usize,
    pub unmarked: Vec<String>,
    pub forced: Vec<ForcedApproval>,
}

impl Summary {
    fn of(events: &[RangeEvent]) -> Summary {
        let mut s = Summary::default();
        for e in events {
            match e.event.kind {
                EventKind::Added => s.added += 1,
                EventKind::Changed => s.changed += 1,
                EventKind::Removed => s.removed += 1,
                EventKind::Renamed => s.renamed += 1,
                EventKind::Unmarked => {
                    if !s.unmarked.contains(&e.event.file) {
                        s.unmarked.push(e.event.file.clone())
                    }
                }
            }
        }
        s
    }
}

/// `verify --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyReport {
    pub commits: Vec<ObjectId>,
    pub blocks: Vec<BlockInfo>,
    /// Counts of what the range did to narratives.
    pub summary: Summary,
    /// What each commit of the range did to narratives, oldest first.
    pub events: Vec<RangeEvent>,
    pub problems: Vec<Found>,
    /// Per stage mirrored at the tip, its approved run against the base's.
    pub stages: Vec<StageResult>,
    pub errors: usize,
    pub ok: bool,
}

pub fn verify(store: &Store, req: &VerifyRequest) -> Result<VerifyReport> {
    let (base, tip) = match &req.range {
        Some(r) => match r.split_once("..") {
            Some((b, t)) if !b.is_empty() && !t.is_empty() => (Some(b.to_string()), t.to_string()),
            _ => return Err(Error::input(format!("--range '{r}' is not BASE..HEAD"))),
        },
        None => (None, "HEAD".to_string()),
    };
    let commits = store.commits_in_range(base.as_deref(), &tip)?;
    let tip_id = store.resolve_commit(&tip)?;
    // The range cannot lower its own tier: the higher of the base's and the tip's.
    let tier = [base.as_deref(), Some(tip.as_str())]
        .into_iter()
        .flatten()
        .filter_map(|r| super::tier::tier_at(store, r))
        .max()
        .unwrap_or(crate::model::config::DEFAULT_TIER);
    let base_id = match &base {
        Some(b) => Some(store.resolve_commit(b)?),
        None => None,
    };
    let (mut problems, events) = narratives_in_range(store, base_id, &commits, tip_id, tier)?;
    problems.extend(mirror_at(store, tip_id)?);
    let require_signed = req.require_signed
        || tier >= super::tier::TEAM
        || store
            .config_bool("workbench.requireSigned")
            .unwrap_or(false);
    // The allowed signers as of the base: required when signatures are, else used
    // when present so that what verify shows about signatures is verified.
    let at = base.as_deref().unwrap_or(&tip_id.to_string()).to_string();
    let allowed = if require_signed {
        Some(allowed_signers(store, &at)?)
    } else {
        allowed_signers(store, &at).ok()
    };
    let (blocks, found) = approvals_at(
        store,
        base.as_deref(),
        tip_id,
        allowed.as_ref(),
        require_signed,
    )?;
    problems.extend(found);
    let mirrored = mirrored_stages(
        store
            .paths_at(&tip_id.to_string())?
            .iter()
            .map(String::as_str),
    );
    let stages = stages::stage_results(
        store,
        &mirrored,
        tip_id,
        base_id,
        allowed.as_ref().map(|a| a.path()),
    )?;
    let errors = problems
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let mut summary = Summary::of(&events);
    summary.forced = ForcedApproval::of(&blocks);
    Ok(VerifyReport {
        commits,
        blocks,
        summary,
        events,
        problems,
        stages,
        errors,
        ok: errors == 0,
    })
}

/// Every commit of the range (check 1), judged against its parents as the hook
/// judges a commit, with the base's marks added: a file the base marks is a
/// narrative in every commit until a commit unmarks it on its own (an `unmarked`
/// event). The tip's narratives are checked whole.
fn narratives_in_range(
    store: &Store,
    base: Option<ObjectId>,
    commits: &[ObjectId],
    tip: ObjectId,
    tier: u8,
) -> Result<(Vec<Found>, Vec<RangeEvent>)> {
    let base_version = match base {
        Some(b) => Some(Version::new(store, store.files_at(b)?)?),
        None => None,
    };
    let mut unmarked: BTreeSet<String> = BTreeSet::new();
    let mut found = Vec::new();
    let mut events = Vec::new();
    let mut checker = Checker::new(store, strict_narrative(store));
    let mut versions: BTreeMap<ObjectId, std::rc::Rc<Version>> = BTreeMap::new();
    let mut version = |c: ObjectId| -> Result<std::rc::Rc<Version>> {
        if let Some(v) = versions.get(&c) {
            return Ok(v.clone());
        }
        let v = std::rc::Rc::new(Version::new(store, store.files_at(c)?)?);
        versions.insert(c, v.clone());
        Ok(v)
    };
    let empty = Version::new(store, FileMap::default())?;
    for &c in commits {
        let new = version(c)?;
        let parents = store.parents(c)?;
        let unmarked_now = unmarked.clone();
        let also = |p: &str| {
            base_version
                .as_ref()
                .is_some_and(|b| b.attrs.state(p, NARRATIVE_ATTR).is_set())
                && !unmarked_now.contains(p)
        };
        let scope = Scope {
            only: &[],
            all: c == tip,
            also: base_version
                .as_ref()
                .map(|_| &also as &dyn Fn(&str) -> bool),
        };
        let mut judged = Vec::new();
        if parents.is_empty() {
            judged.push(judge(store, &mut checker, &empty, &new, &scope)?);
        }
        for p in &parents {
            let old = version(*p)?;
            judged.push(judge(store, &mut checker, &old, &new, &scope)?);
        }
        // A merge is judged against each parent: what one parent explains (the
        // merged content was that parent's, checked in its own commit) is not the
        // merge's doing, so only what every parent finds counts.
        let mut first = judged.remove(0);
        for other in &judged {
            first.problems.retain(|p| other.problems.contains(p));
            first.events.retain(|e| other.events.contains(e));
        }
        let report = finish(first, tier);
        for e in &report.events {
            if e.kind == EventKind::Unmarked {
                unmarked.insert(e.file.clone());
            }
        }
        let author = if report.events.is_empty() {
            String::new()
        } else {
            store.commit_author(c)?
        };
        events.extend(report.events.into_iter().map(|event| RangeEvent {
            commit: c,
            author: author.clone(),
            event,
        }));
        found.extend(report.problems.into_iter().map(|p| Found::at(c, p)));
    }
    Ok((found, events))
}

fn problem(
    file: &str,
    stage: Option<&StageName>,
    run: Option<&RunId>,
    reason: String,
    fix: &str,
) -> Problem {
    Problem {
        file: file.to_string(),
        line: 0,
        stage: stage.cloned(),
        run: run.cloned(),
        severity: Severity::Error,
        reason,
        fix: fix.to_string(),
        diff: None,
    }
}

/// Check 2, the mirror committed at the tip against the run records. A mirror that lags
/// the records (a newer approval not committed yet) is a warning; one that no record
/// backs, or that drops a file of the approved record, is an error.
fn mirror_at(store: &Store, tip: ObjectId) -> Result<Vec<Found>> {
    let rev = tip.to_string();
    let paths = store.paths_at(&rev)?;
    let mut found = Vec::new();
    for stage in mirrored_stages(paths.iter().map(String::as_str)) {
        let problems = stage_problems(
            store,
            &stage,
            &mut |path| Ok(store.blob_at(&rev, path)?),
            &mut |dir| Ok(paths_below(&paths, dir)),
        )?;
        for p in problems {
            let (stage, run) = mirror_subject(&stage, &p.problem);
            let severity = if p.problem.is_warning() {
                Severity::Warning
            } else {
                Severity::Error
            };
            let fix = mirror_fix(&p.problem, &p.dir);
            let mut prob = problem(
                &p.file,
                stage.as_ref(),
                run.as_ref(),
                p.problem.to_string(),
                &fix,
            );
            prob.severity = severity;
            found.push(Found::at(tip, prob));
        }
    }
    Ok(found)
}

/// The paths among `paths` below directory `dir`, relative to it.
fn paths_below(paths: &[String], dir: &str) -> Vec<String> {
    let prefix = format!("{dir}/");
    paths
        .iter()
        .filter_map(|p| p.strip_prefix(&prefix).map(str::to_string))
        .collect()
}

/// The stage and run a mirror problem is about, as far as it says.
fn mirror_subject(dir: &str, p: &MirrorProblem) -> (Option<StageName>, Option<RunId>) {
    let run = match p {
        MirrorProblem::NotAManifest | MirrorProblem::NoManifest { .. } => None,
        MirrorProblem::WrongStage { .. } => None,
        MirrorProblem::UnknownRun { run_id }
        | MirrorProblem::Missing { run_id, .. }
        | MirrorProblem::Differs { run_id, .. }
        | MirrorProblem::FigureMissing { run_id, .. }
        | MirrorProblem::NotAFigure { run_id, .. } => Some(run_id.clone()),
        MirrorProblem::NotApproved { shown }
        | MirrorProblem::Superseded { shown, .. }
        | MirrorProblem::Decided { shown } => Some(shown.clone()),
        MirrorProblem::NotMirrored { approved } => Some(approved.clone()),
    };
    let stage = match p {
        MirrorProblem::WrongStage { stage, .. } => Some(stage.clone()),
        _ => StageName::new(dir).ok(),
    };
    (stage, run)
}

fn mirror_fix(p: &MirrorProblem, dir: &str) -> String {
    match p {
        MirrorProblem::NotAManifest | MirrorProblem::NoManifest { .. } => format!(
            "never edit the mirror by hand: restore {dir}/ from the commit that has it (git checkout), or git rm its files"
        ),
        MirrorProblem::UnknownRun { .. } => {
            "fetch the workbench refs, or restore the mirror".to_string()
        }
        MirrorProblem::WrongStage { .. }
        | MirrorProblem::Differs { .. }
        | MirrorProblem::NotAFigure { .. } => format!(
            "never edit the mirror by hand: restore {dir}/ from the commit that has it (git checkout)"
        ),
        MirrorProblem::Missing { file, .. } => format!(
            "a commit dropped a file of the approval: restore it from the base of the range (git checkout BASE -- {file})"
        ),
        MirrorProblem::FigureMissing { file, .. } => format!(
            "commit the figure beside the card: restore it (git checkout BASE -- {file}) or, for a mirror written before figures were, write it from the record (git show RECORD:outputs/PATH > {file}) and git add it"
        ),
        MirrorProblem::NotApproved { .. } => format!(
            "{dir}/ holds the approved run only (an earlier git-workbench mirrored the newest run there): git rm its files, or approve the run (approve writes and stages the mirror)"
        ),
        MirrorProblem::Superseded { .. } | MirrorProblem::NotMirrored { .. } => {
            "commit the mirror of the newest approval: approve writes and stages it; from another clone, pull the commit that has it".to_string()
        }
        MirrorProblem::Decided { .. } => format!(
            "commit the mirror the approval wrote: it moved the run to the top level and emptied {CANDIDATE_DIR}/ (or git rm -r {dir})"
        ),
    }
}

/// Blocks of the narrative files at `rev` (its committed attributes only).
fn blocks_at(store: &Store, rev: &str) -> Result<Vec<(String, narrative::Block)>> {
    let v = Version::new(store, store.files_at(store.resolve_commit(rev)?)?)?;
    let mut out = Vec::new();
    for f in v.files.files.keys() {
        if !v.attrs.state(f, NARRATIVE_ATTR).is_set() {
            continue;
        }
        let Some(bytes) = store.file_content(&v.files, f)? else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        for region in narrative::regions(f, text).unwrap_or_default() {
            for mut b in narrative::parse(&region.text, region.syntax).blocks {
                b.begin_line += region.first_line - 1;
                b.end_line += region.first_line - 1;
                out.push((f.clone(), b));
            }
        }
    }
    Ok(out)
}

/// 3. The approvals the tip's narrative blocks rely on.
fn approvals_at(
    store: &Store,
    base: Option<&str>,
    tip: ObjectId,
    allowed: Option<&tempfile::NamedTempFile>,
    require_signed: bool,
) -> Result<(Vec<BlockInfo>, Vec<Found>)> {
    let base_blocks = match base {
        Some(b) => blocks_at(store, b)?,
        None => Vec::new(),
    };
    let mut blocks = Vec::new();
    let mut found = Vec::new();
    for (file, b) in blocks_at(store, &tip.to_string())? {
        let changed = base.is_some()
            && !base_blocks.iter().any(|(f, o)| {
                f == &file
                    && o.stage == b.stage
                    && o.run == b.run
                    && normalize(&o.content) == normalize(&b.content)
            });
        let mut info = BlockInfo {
            file: file.clone(),
            line: b.begin_line,
            stage: b.stage.clone(),
            run: b.run.clone(),
            approved_by: None,
            approved_at: None,
            interpretation_edited: None,
            signed: None,
            forced: None,
            overridden_checks: Vec::new(),
            changed,
        };
        if let Some(approved) = approved_records(store, &b.stage, &b.run)? {
            info.forced = Some(approved.approval.forced);
            info.overridden_checks = approved.overridden_checks();
            let mut p = approval_problems(
                store,
                &approved.approval,
                &approved.manifest,
                &file,
                allowed,
                require_signed,
                &mut info,
            )?;
            found.extend(p.drain(..).map(|p| Found::at(tip, p)));
        }
        blocks.push(info);
    }
    Ok((blocks, found))
}

/// What is wrong with one relied-on approval: digest, signature, bytes on disk.
fn approval_problems(
    store: &Store,
    approval: &ApprovalRecord,
    manifest: &RunManifest,
    file: &str,
    allowed: Option<&tempfile::NamedTempFile>,
    require_signed: bool,
    info: &mut BlockInfo,
) -> Result<Vec<Problem>> {
    let mut out = Vec::new();
    let (stage, run_id) = (Some(&approval.stage), Some(&approval.run_id));
    let digest = artifact_digest(&manifest.outputs);
    if approval.artifact_digest != digest || approval.artifacts_approved != manifest.outputs {
        out.push(problem(file, stage, run_id, format!("the approval of run {} does not match its manifest's output bytes (digest {} vs {digest})", approval.run_id, approval.artifact_digest), "the records were altered; investigate before trusting this run"));
    }
    let run = store
        .find_run(&info.stage, &info.run)?
        .expect("an approved run exists");
    let (status, detail) =
        super::signatures::approval_signature(store, &run, approval, allowed.map(|a| a.path()))?;
    info.approved_by = Some(approval.approved_by.clone());
    info.approved_at = Some(approval.timestamp);
    info.interpretation_edited = Some(approval.interpretation_edited);
    // Verified, never read from the record: unknown without an allowed-signers file.
    info.signed = match status {
        SignatureStatus::Unverified => None,
        s => Some(s == SignatureStatus::Good),
    };
    if require_signed && status != SignatureStatus::Good {
        out.push(problem(file, stage, run_id, format!("the approval of run {} is {} ({detail}); signed approvals are required (workbench.requireSigned or tier 4) by an allowed key of the approver", approval.run_id, status.as_str()), "approve again with --sign using a key in the base's allowed-signers file"));
    }
    // Outputs still on disk must be the approved bytes.
    if let Some(dir) = store.maybe_workdir() {
        for (path, hash) in &manifest.outputs {
            let p = dir.join(path);
            if p.is_file() && sha256_file(&p).map_err(Error::io(&p))? != *hash {
                out.push(problem(
                    file,
                    stage,
                    run_id,
                    format!("approved output {path} changed on disk after the approval"),
                    "run the stage again and have the new run approved",
                ));
            }
        }
    }
    Ok(out)
}

/// The allowed-signers file as of `rev`, in a temporary file for git to read.
fn allowed_signers(store: &Store, rev: &str) -> Result<tempfile::NamedTempFile> {
    let path = store
        .config_string("workbench.allowedSignersFile")
        .unwrap_or_else(|| ".workbench/allowed_signers".to_string());
    let bytes = store.blob_at(rev, &path)?.ok_or_else(|| {
        Error::input(format!(
            "signed approvals are required (workbench.requireSigned or tier 4) but {path} does not exist at {rev}"
        ))
        .hint("commit the allowed-signers file on the base branch first")
    })?;
    let mut tmp = tempfile::NamedTempFile::new()
        .map_err(Error::io(std::path::Path::new("temporary file")))?;
    std::io::Write::write_all(&mut tmp, &bytes).map_err(Error::io(tmp.path()))?;
    Ok(tmp)
}
