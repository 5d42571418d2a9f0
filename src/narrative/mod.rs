//! Checking narrative files against the records: every block must reference an
//! approved run of its stage and hold exactly the rendering of that approval — its
//! provenance line included, which says whether the approval was forced from the
//! record alone, so no text can add or hide it. Used by `narrative check`, the
//! pre-commit hook and `verify`.

use crate::error::Result;
use crate::model::approval::overridden_checks;
use crate::model::decision::ApprovalRecord;
use crate::model::manifest::RunManifest;
use crate::model::narrative::{self, normalize, Block, Syntax};
use crate::model::review::ReviewRecord;
use crate::model::state::RunState;
use crate::model::{RunId, StageName};
use crate::store::{BlockCache, RunRef, Store};
use serde::{Deserialize, Serialize};

pub mod transition;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a narrative file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub stage: Option<StageName>,
    pub run: Option<RunId>,
    pub severity: Severity,
    pub reason: String,
    pub fix: String,
    /// A short unified diff from the approved rendering to the file's content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl Problem {
    /// An error about `file` (line 0: the file as a whole), with no block's run.
    pub fn error(file: &str, line: usize, reason: String, fix: String) -> Problem {
        Problem {
            file: file.to_string(),
            line,
            stage: None,
            run: None,
            severity: Severity::Error,
            reason,
            fix,
            diff: None,
        }
    }
}

/// What the records say about a run a block references.
#[derive(Clone)]
enum RunInfo {
    Missing,
    OtherStage(StageName),
    NotApproved(RunState),
    /// The record breaks the rules every record keeps (forged, replayed, corrupt).
    Invalid(String),
    Approved(Box<Approved>),
}

/// Checks narrative texts, remembering what it looked up.
pub struct Checker<'a> {
    store: &'a Store,
    /// Outdated blocks are errors instead of warnings (`workbench.strictNarrative`).
    pub strict: bool,
    runs: HashMap<(StageName, RunId), RunInfo>,
    approved: HashMap<StageName, Option<RunId>>,
    all_runs: Option<Vec<(StageName, RunId)>>,
    /// Blocks already judged exactly right (`remembering`); `None`: judge every block.
    known: Option<BlockCache>,
}

/// What a block of an approved run is rendered from.
#[derive(Debug, Clone)]
pub struct Approved {
    pub approval: ApprovalRecord,
    pub manifest: RunManifest,
    /// The review the approval rests on: a forced approval's block names the checks
    /// it overrode from it.
    pub review: Option<ReviewRecord>,
}

impl Approved {
    /// The block content for these records (`model::narrative::render`).
    pub fn render(&self, options: &narrative::BlockOptions, syntax: Syntax) -> String {
        narrative::render(
            &self.approval,
            &self.manifest,
            self.review.as_ref(),
            options,
            syntax,
        )
    }

    /// The checks a forced approval overrode (empty for a clean one).
    pub fn overridden_checks(&self) -> Vec<String> {
        match (&self.review, self.approval.forced) {
            (Some(r), true) => overridden_checks(r),
            _ => Vec::new(),
        }
    }
}

/// The current approval record, manifest and review of an approved run.
pub fn approved_records(
    store: &Store,
    stage: &StageName,
    run_id: &RunId,
) -> Result<Option<Approved>> {
    match store.find_run(stage, run_id)? {
        Some(run) => approved_records_at(store, &run),
        None => Ok(None),
    }
}

/// The approval record, manifest and review at the run's tip `run.tip`.
fn approved_records_at(store: &Store, run: &RunRef) -> Result<Option<Approved>> {
    let Some(approval) = store.read_record::<ApprovalRecord>(run.tip)? else {
        return Ok(None);
    };
    Ok(Some(Approved {
        approval,
        manifest: store.read_manifest(run.tip)?,
        review: store.read_record(run.tip)?,
    }))
}

impl<'a> Checker<'a> {
    pub fn new(store: &'a Store, strict: bool) -> Checker<'a> {
        Checker {
            store,
            strict,
            runs: HashMap::new(),
            approved: HashMap::new(),
            all_runs: None,
            known: None,
        }
    }

    /// Remembers the blocks found to be exactly an approved rendering, and trusts
    /// what was remembered (`store::block_cache`): for the local hook and
    /// `narrative check`, never for `verify`.
    pub fn remembering(mut self) -> Checker<'a> {
        self.known = Some(self.store.block_cache());
        self
    }

    /// What the records say about `run`, whose ref `found` holds (read once by the
    /// caller, so every verdict is about that one tip).
    fn run_info(
        &mut self,
        stage: &StageName,
        run: &RunId,
        found: Option<&RunRef>,
    ) -> Result<RunInfo> {
        let key = (stage.clone(), run.clone());
        if let Some(i) = self.runs.get(&key) {
            return Ok(i.clone());
        }
        let info = match found {
            Some(r) => match self.store.check_run(r)? {
                Err(invalid) => RunInfo::Invalid(invalid.to_string()),
                Ok(checked) => match (checked.state, approved_records_at(self.store, r)?) {
                    (RunState::Approved, Some(rec)) => RunInfo::Approved(Box::new(rec)),
                    (s, _) => RunInfo::NotApproved(s),
                },
            },
            None => {
                if self.all_runs.is_none() {
                    self.all_runs = Some(
                        self.store
                            .list_runs(None)?
                            .into_iter()
                            .map(|r| (r.stage, r.run_id))
                            .collect(),
                    );
                }
                let all = self.all_runs.as_ref().expect("listed");
                match all.iter().find(|(_, id)| id == run) {
                    Some((other, _)) => RunInfo::OtherStage(other.clone()),
                    None => RunInfo::Missing,
                }
            }
        };
        self.runs.insert(key, info.clone());
        Ok(info)
    }

    fn approved_run(&mut self, stage: &StageName) -> Result<Option<RunId>> {
        if let Some(a) = self.approved.get(stage) {
            return Ok(a.clone());
        }
        let a = self.store.approved_run(stage)?.map(|r| r.run_id);
        self.approved.insert(stage.clone(), a.clone());
        Ok(a)
    }

    /// Every problem in one narrative file's content.
    pub fn check(&mut self, file: &str, bytes: &[u8]) -> Result<Vec<Problem>> {
        let fix = format!("git workbench narrative sync {file}");
        let Ok(text) = std::str::from_utf8(bytes) else {
            return Ok(vec![Problem {
                file: file.to_string(),
                line: 0,
                stage: None,
                run: None,
                severity: Severity::Error,
                reason: "not UTF-8 text (is it binary?); narrative files must be text".to_string(),
                fix: "remove the workbench-narrative attribute from binary files".to_string(),
                diff: None,
            }]);
        };
        let structural = |line: usize, reason: String| {
            Problem::error(
                file,
                line,
                reason,
                "fix the block markers (docs/narrative.md)".into(),
            )
        };
        let regions = match narrative::regions(file, text) {
            Ok(r) => r,
            Err(e) => return Ok(vec![structural(e.line, e.message)]),
        };
        let mut out = Vec::new();
        for region in regions {
            let parsed = narrative::parse(&region.text, region.syntax);
            let offset = region.first_line - 1;
            out.extend(
                parsed
                    .errors
                    .iter()
                    .map(|e| structural(e.line + offset, e.message.clone())),
            );
            for b in &parsed.blocks {
                let mut b = b.clone();
                b.begin_line += offset;
                b.end_line += offset;
                out.extend(self.check_block(file, &b, region.syntax, &fix)?);
            }
        }
        Ok(out)
    }

    fn check_block(
        &mut self,
        file: &str,
        b: &Block,
        syntax: Syntax,
        fix: &str,
    ) -> Result<Option<Problem>> {
        // The run's ref is read once: the verdict and the remembered key are both
        // about that tip. A block remembered as exactly right for it needs no reading.
        let found = match self.runs.contains_key(&(b.stage.clone(), b.run.clone())) {
            true => None,
            false => self.store.find_run(&b.stage, &b.run)?,
        };
        let key = found
            .as_ref()
            .filter(|_| self.known.is_some())
            .map(|r| block_key(r, b, syntax));
        let remembered = match (&key, &self.known) {
            (Some(k), Some(known)) => known.contains(k),
            _ => false,
        };
        if !remembered {
            let approved = self.judge_block(file, b, syntax, fix, found.as_ref())?;
            if let Err(p) = approved {
                return Ok(Some(p));
            }
            if let (Some(k), Some(known)) = (key, &mut self.known) {
                known.insert(k);
            }
        }
        if let Some(newer) = self.approved_run(&b.stage)? {
            if newer > b.run {
                return Ok(Some(Problem {
                    file: file.to_string(),
                    line: b.begin_line,
                    stage: Some(b.stage.clone()),
                    run: Some(b.run.clone()),
                    severity: if self.strict {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    reason: format!("stage {} has a newer approved run, {newer}", b.stage),
                    fix: format!("git workbench narrative sync --advance {file}"),
                    diff: None,
                }));
            }
        }
        Ok(None)
    }

    /// Judges a block against the records of the run `found` (its ref as read): `Ok`
    /// when it is exactly the approved rendering of a valid, approved record.
    fn judge_block(
        &mut self,
        file: &str,
        b: &Block,
        syntax: Syntax,
        fix: &str,
        found: Option<&RunRef>,
    ) -> Result<std::result::Result<(), Problem>> {
        let problem = |severity, reason: String, fix: String, diff| Problem {
            file: file.to_string(),
            line: b.begin_line,
            stage: Some(b.stage.clone()),
            run: Some(b.run.clone()),
            severity,
            reason,
            fix,
            diff,
        };
        let approved = match self.run_info(&b.stage, &b.run, found)? {
            RunInfo::Missing => {
                return Ok(Err(problem(
                    Severity::Error,
                    format!("run {} of stage {} is not in this repository's records", b.run, b.stage),
                    "fetch the workbench refs (git fetch origin '+refs/workbench/*:refs/workbench/*'), or approve a run and sync".to_string(),
                    None,
                )))
            }
            RunInfo::OtherStage(other) => {
                return Ok(Err(problem(
                    Severity::Error,
                    format!("run {} belongs to stage {other}, not {}", b.run, b.stage),
                    format!("use stage={other}, or a run of stage {}", b.stage),
                    None,
                )))
            }
            RunInfo::NotApproved(state) => {
                let why = if state == RunState::Rejected {
                    "was rejected".to_string()
                } else if state == RunState::Conflict {
                    "is in conflict: two clones decided differently on it".to_string()
                } else {
                    format!("is {state}, not approved")
                };
                return Ok(Err(problem(
                    Severity::Error,
                    format!("run {} of stage {} {why}", b.run, b.stage),
                    format!("only approved results may enter a narrative: git workbench approve {} or point the block at an approved run", b.run),
                    None,
                )));
            }
            RunInfo::Invalid(why) => {
                return Ok(Err(problem(
                    Severity::Error,
                    why,
                    format!("only valid records may enter a narrative: see 'git workbench doctor', and delete refs/workbench/runs/{}/{} if it is not yours", b.stage, b.run),
                    None,
                )));
            }
            RunInfo::Approved(rec) => *rec,
        };
        let expected = approved.render(&b.options, syntax);
        if normalize(&b.content) != normalize(&expected) {
            let (want, have) = (normalize(&expected) + "\n", normalize(&b.content) + "\n");
            let diff = similar::TextDiff::from_lines(&want, &have)
                .unified_diff()
                .context_radius(2)
                .header("approved", file)
                .to_string();
            return Ok(Err(problem(
                Severity::Error,
                format!(
                    "the block differs from the approved rendering of run {}",
                    b.run
                ),
                fix.to_string(),
                Some(diff),
            )));
        }
        Ok(Ok(()))
    }
}

impl Drop for Checker<'_> {
    /// Saves what was learnt: a cache that cannot be written is only slower.
    fn drop(&mut self) {
        if let Some(known) = &mut self.known {
            known.save();
        }
    }
}

/// The block cache's key for a block citing the run at `run`: everything its verdict
/// depends on, each part length-prefixed so no two blocks share a key.
fn block_key(run: &RunRef, b: &Block, syntax: Syntax) -> [u8; 32] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    let mut part = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    part(b"workbench approved block v1");
    part(run.ref_name().as_bytes());
    part(run.tip.as_bytes());
    part(format!("{syntax:?}").as_bytes());
    part(format!("{:?}", b.options).as_bytes());
    part(normalize(&b.content).as_bytes());
    h.finalize().into()
}
