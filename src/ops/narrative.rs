//! `narrative new | sync | check` and the check the pre-commit hook and `verify` run:
//! putting approved results into narrative files, and checking that nothing else got
//! in.

use crate::error::{Error, Result};
use crate::model::decision::ApprovalRecord;
use crate::model::manifest::RunManifest;
use crate::model::narrative::{self, BlockOptions, Syntax};
use crate::model::narrative_format::{Document, EditError, LineEdit};
use crate::model::{RunId, StageName};
use crate::narrative::{approved_records, Checker, Problem, Severity};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Which content a check reads.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Worktree,
    Staged,
    Rev(&'a str),
}

/// `narrative check --json`, `hook pre-commit --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckReport {
    pub files: Vec<String>,
    pub problems: Vec<Problem>,
    pub errors: usize,
    /// The ceremony tier the check applied (below 3, problems only warn).
    #[serde(default = "default_tier")]
    pub tier: u8,
}

fn default_tier() -> u8 {
    crate::model::config::DEFAULT_TIER
}

/// Whether outdated blocks are errors (`workbench.strictNarrative`).
pub fn strict_narrative(store: &Store) -> bool {
    store
        .config_bool("workbench.strictNarrative")
        .unwrap_or(false)
}

fn worktree_narratives(store: &Store) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for p in store.worktree_paths()? {
        if store.is_narrative_worktree(&p)? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Checks the narrative files of `source` (all of them, or `only`).
pub fn check(store: &Store, source: Source, only: &[String]) -> Result<CheckReport> {
    let tier = match source {
        Source::Worktree => super::tier::worktree_tier(store),
        Source::Staged => super::tier::staged_tier(store),
        Source::Rev(rev) => {
            super::tier::tier_at(store, rev).unwrap_or(crate::model::config::DEFAULT_TIER)
        }
    };
    check_at_tier(store, source, only, tier)
}

/// `check` under a given tier: below tier 3 every problem is a warning.
pub fn check_at_tier(
    store: &Store,
    source: Source,
    only: &[String],
    tier: u8,
) -> Result<CheckReport> {
    let files: Vec<String> = match source {
        Source::Worktree => worktree_narratives(store)?,
        Source::Staged => {
            // Named files are checked whether or not they changed (pre-commit's
            // --all-files passes every file); otherwise the staged changes.
            let candidates = if only.is_empty() {
                store.staged_paths()?
            } else {
                only.to_vec()
            };
            let mut v = Vec::new();
            for p in candidates {
                if store.is_narrative_staged(&p)? {
                    v.push(p);
                }
            }
            v
        }
        Source::Rev(rev) => store.narrative_paths_at(rev)?,
    };
    let files: Vec<String> = if only.is_empty() {
        files
    } else {
        files.into_iter().filter(|f| only.contains(f)).collect()
    };
    let mut checker = Checker::new(store, strict_narrative(store));
    let mut problems = Vec::new();
    for f in &files {
        let bytes = match source {
            Source::Worktree => {
                let path = store.workdir("narrative check")?.join(f);
                match std::fs::read(&path) {
                    Ok(b) => Some(b),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(Error::io(&path)(e)),
                }
            }
            Source::Staged => store.staged_blob(f)?,
            Source::Rev(rev) => store.blob_at(rev, f)?,
        };
        if let Some(b) = bytes {
            problems.extend(checker.check(f, &b)?);
        }
    }
    if tier < super::tier::FULL_LOOP {
        for p in &mut problems {
            if p.severity == Severity::Error {
                p.severity = Severity::Warning;
                p.reason = format!("{} (tier {tier}: a warning, tier 3 blocks it)", p.reason);
            }
        }
    }
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    Ok(CheckReport {
        files,
        problems,
        errors,
        tier,
    })
}

/// The repository-relative path of a file argument.
pub fn repo_path(root: &Path, p: &Path) -> Result<String> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map_err(Error::io(p))?.join(p)
    };
    let canon_root = root.canonicalize().map_err(Error::io(root))?;
    let parent = abs.parent().unwrap_or(&abs);
    let canon = parent
        .canonicalize()
        .map(|d| d.join(abs.file_name().unwrap_or_default()))
        .map_err(Error::io(&abs))?;
    canon
        .strip_prefix(&canon_root)
        .map(|r| crate::exec::paths::relative(Path::new(""), r))
        .map_err(|_| Error::input(format!("{} is outside the repository", p.display())))
}

pub struct NewRequest {
    pub stage: StageName,
    pub file: PathBuf,
    pub options: BlockOptions,
}

/// `narrative new --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub file: String,
    pub stage: StageName,
    pub run_id: RunId,
    pub warnings: Vec<String>,
}

/// A narrative file's text, refused unless it is UTF-8 (a missing file is empty).
fn read_text(path: &Path, file: &str, missing_ok: bool) -> Result<String> {
    match std::fs::read(path) {
        Ok(b) => String::from_utf8(b).map_err(|_| {
            Error::input(format!("{file} is not UTF-8 text"))
                .hint("narrative files must be UTF-8 text; re-save it as UTF-8")
        }),
        Err(e) if missing_ok && e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(Error::io(path)(e)),
    }
}

fn parse_document<'a>(file: &str, text: &'a str) -> Result<Document<'a>> {
    Document::parse(file, text).map_err(|e| {
        Error::input(format!("{file}:{e}")).hint("fix the block markers first (docs/narrative.md)")
    })
}

fn edit_refused(file: &str, e: EditError) -> Error {
    let err = Error::refused(format!("{file}: {}", e.message));
    match e.hint {
        Some(h) => err.hint(h),
        None => err,
    }
}

/// Inserts a block for the stage's approved run at its slot, or at the end (a new
/// markdown cell in a notebook). The rest of the file is kept byte for byte.
pub fn new_block(store: &Store, req: &NewRequest) -> Result<NewReport> {
    let root = store.workdir("narrative new")?;
    let file = repo_path(&root, &req.file)?;
    let run = super::resolve::approved_run(store, &req.stage)?.ok_or_else(|| {
        Error::refused(format!("stage '{}' has no approved run", req.stage))
            .hint("only approved results may enter a narrative; see 'git workbench next'")
    })?;
    let (approval, manifest) = approved_records(store, &req.stage, &run.run_id)?
        .ok_or_else(|| Error::input(format!("run {} has no approval record", run.run_id)))?;
    let path = root.join(&file);
    let text = read_text(&path, &file, true)?;
    let doc = parse_document(&file, &text)?;
    let lines = |syntax: Syntax| {
        let content = narrative::render(&approval, &manifest, &req.options, syntax);
        narrative::block_lines(&req.stage, &run.run_id, &req.options, &content, syntax)
    };
    let slot = doc.regions().iter().enumerate().find_map(|(i, r)| {
        narrative::parse(&r.text, r.syntax)
            .slots
            .into_iter()
            .find(|s| s.stage == req.stage.as_str())
            .map(|s| (i, s.line, r.syntax))
    });
    let new_text = match slot {
        Some((region, line, syntax)) => doc.apply(vec![LineEdit {
            region,
            first: line,
            last: line,
            lines: lines(syntax),
        }]),
        None => doc.append(&req.stage, &lines(doc.append_syntax())),
    }
    .map_err(|e| edit_refused(&file, e))?;
    std::fs::write(&path, new_text).map_err(Error::io(&path))?;
    let mut warnings = Vec::new();
    if !store.is_narrative_worktree(&file)? {
        warnings.push(format!(
            "{file} is not marked as a narrative: add '{file} workbench-narrative' to .gitattributes so commits are checked"
        ));
    }
    Ok(NewReport {
        file,
        stage: req.stage.clone(),
        run_id: run.run_id,
        warnings,
    })
}

pub struct SyncRequest {
    /// Narrative files (default: every file marked workbench-narrative).
    pub files: Vec<PathBuf>,
    /// Move blocks whose stage has a newer approved run to that run.
    pub advance: bool,
}

/// `narrative sync --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncReport {
    pub files: Vec<String>,
    pub changed: Vec<String>,
    pub problems: Vec<Problem>,
}

impl SyncReport {
    pub fn errors(&self) -> usize {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
            .count()
    }
}

/// What `sync` looked up, so a file of many blocks asks the store once per stage and
/// run.
#[derive(Default)]
struct Lookups {
    approved: HashMap<StageName, Option<RunId>>,
    records: HashMap<(StageName, RunId), Option<(ApprovalRecord, RunManifest)>>,
}

impl Lookups {
    fn approved_run(&mut self, store: &Store, stage: &StageName) -> Result<Option<RunId>> {
        if let Some(a) = self.approved.get(stage) {
            return Ok(a.clone());
        }
        let a = super::resolve::approved_run(store, stage)?.map(|r| r.run_id);
        self.approved.insert(stage.clone(), a.clone());
        Ok(a)
    }

    fn records(
        &mut self,
        store: &Store,
        stage: &StageName,
        run: &RunId,
    ) -> Result<Option<&(ApprovalRecord, RunManifest)>> {
        let key = (stage.clone(), run.clone());
        if !self.records.contains_key(&key) {
            let r = approved_records(store, stage, run)?;
            self.records.insert(key.clone(), r);
        }
        Ok(self.records.get(&key).and_then(Option::as_ref))
    }
}

/// Re-renders every block from its approval.
pub fn sync(store: &Store, req: &SyncRequest) -> Result<SyncReport> {
    let root = store.workdir("narrative sync")?;
    let files = if req.files.is_empty() {
        worktree_narratives(store)?
    } else {
        req.files
            .iter()
            .map(|f| repo_path(&root, f))
            .collect::<Result<_>>()?
    };
    let mut report = SyncReport {
        files: files.clone(),
        changed: Vec::new(),
        problems: Vec::new(),
    };
    let mut lookups = Lookups::default();
    for file in &files {
        if sync_file(
            store,
            &root,
            file,
            req.advance,
            &mut lookups,
            &mut report.problems,
        )? {
            report.changed.push(file.clone());
        }
    }
    Ok(report)
}

/// Re-renders the blocks of one file, rebuilding it once; true when the file changed.
fn sync_file(
    store: &Store,
    root: &Path,
    file: &str,
    advance: bool,
    lookups: &mut Lookups,
    problems: &mut Vec<Problem>,
) -> Result<bool> {
    let path = root.join(file);
    let text = read_text(&path, file, false)?;
    let doc = parse_document(file, &text)?;
    let mut edits = Vec::new();
    for (region_index, region) in doc.regions().iter().enumerate() {
        let parsed = narrative::parse(&region.text, region.syntax);
        if let Some(e) = parsed.errors.first() {
            let e = narrative::SyntaxError {
                line: region.file_line(e.line),
                message: e.message.clone(),
            };
            return Err(Error::input(format!("{file}:{e}"))
                .hint("fix the block markers first (docs/narrative.md)"));
        }
        for b in &parsed.blocks {
            let problem = |run: &RunId, severity, reason: String, fix: String| Problem {
                file: file.to_string(),
                line: region.file_line(b.begin_line),
                stage: Some(b.stage.clone()),
                run: Some(run.clone()),
                severity,
                reason,
                fix,
                diff: None,
            };
            let mut run = b.run.clone();
            if let Some(newer) = lookups.approved_run(store, &b.stage)? {
                if newer > run {
                    if advance {
                        run = newer;
                    } else {
                        problems.push(problem(
                            &b.run,
                            Severity::Warning,
                            format!(
                                "outdated: stage {} has a newer approved run, {newer}",
                                b.stage
                            ),
                            format!("git workbench narrative sync --advance {file}"),
                        ));
                    }
                }
            }
            match lookups.records(store, &b.stage, &run)? {
                Some((approval, manifest)) => {
                    let content = narrative::render(approval, manifest, &b.options, region.syntax);
                    edits.push(LineEdit {
                        region: region_index,
                        first: b.begin_line,
                        last: b.end_line,
                        lines: narrative::block_lines(
                            &b.stage,
                            &run,
                            &b.options,
                            &content,
                            region.syntax,
                        ),
                    });
                }
                None => problems.push(problem(
                    &run,
                    Severity::Error,
                    format!(
                        "run {run} of stage {} is not approved; the block was left as it is",
                        b.stage
                    ),
                    "approve the run, or point the block at an approved run".to_string(),
                )),
            }
        }
    }
    if edits.is_empty() {
        return Ok(false);
    }
    let new_text = doc.apply(edits).map_err(|e| edit_refused(file, e))?;
    if new_text == text {
        return Ok(false);
    }
    std::fs::write(&path, &new_text).map_err(Error::io(&path))?;
    Ok(true)
}
