//! `narrative new | sync | check` and the check the pre-commit hook and `verify` run:
//! putting approved results into narrative files, and checking that nothing else got
//! in.

use crate::error::{Error, Result};
use crate::model::narrative::{self, BlockOptions, Syntax};
use crate::model::narrative_change;
use crate::model::narrative_format::{Document, EditError, LineEdit};
use crate::model::{RunId, StageName};
use crate::narrative::transition::{judge, Judged, NarrativeEvent, Scope, Version};
use crate::narrative::{approved_records, Approved, Checker, Problem, Severity};
use crate::store::content::NARRATIVE_ATTR;
use crate::store::trees::FileMap;
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
    /// What the change did to narratives: blocks added, changed, removed; files
    /// unmarked or renamed.
    #[serde(default)]
    pub events: Vec<NarrativeEvent>,
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

/// The files the working tree's committed-style attributes mark (HEAD's, the
/// index's or the working tree's `.gitattributes`; never a local-only source), as
/// the checks see them.
fn worktree_narratives(store: &Store) -> Result<Vec<String>> {
    let [head, staged, worktree] = local_versions(store)?;
    let marked = |v: &Version, p: &str| v.attrs.state(p, NARRATIVE_ATTR).is_set();
    Ok(worktree
        .files
        .files
        .keys()
        .filter(|p| marked(&worktree, p) || marked(&staged, p) || marked(&head, p))
        .cloned()
        .collect())
}

/// Whether the working tree's attributes mark `file`.
fn marked_in_worktree(store: &Store, file: &str) -> Result<bool> {
    let [_, _, worktree] = local_versions(store)?;
    Ok(worktree.attrs.state(file, NARRATIVE_ATTR).is_set())
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

/// The versions a check compares: HEAD (or nothing, before the first commit) and the
/// content `source` names.
fn versions(store: &Store, source: Source, only: &[String]) -> Result<(Version, Version)> {
    let head = match store.head_commit() {
        Some(h) => store.files_at(h)?,
        None => FileMap::default(),
    };
    match source {
        Source::Staged => {
            let mut new = store.files_staged()?;
            // Named files are read as the pre-commit framework gives them: from the
            // working copy (inside a commit it stashed everything unstaged, so the
            // two agree; `pre-commit run --files` means the files as they are).
            if !only.is_empty() {
                store.overlay_worktree(&mut new, only)?;
            }
            Ok((Version::new(store, head)?, Version::new(store, new)?))
        }
        Source::Worktree => {
            let mut new = store.files_staged()?;
            store.overlay_worktree(&mut new, &store.worktree_edits()?)?;
            Ok((Version::new(store, head)?, Version::new(store, new)?))
        }
        Source::Rev(rev) => {
            let files = store.files_at(store.resolve_commit(rev)?)?;
            let v = Version::new(store, files.clone())?;
            Ok((Version::new(store, files)?, v))
        }
    }
}

/// `check` under a given tier: below tier 3 every problem is a warning.
pub fn check_at_tier(
    store: &Store,
    source: Source,
    only: &[String],
    tier: u8,
) -> Result<CheckReport> {
    let (old, new) = versions(store, source, only)?;
    if let Source::Worktree | Source::Rev(_) = source {
        // A named file must be a narrative: checking anything else proves nothing.
        for f in only {
            let there = new.files.contains(f) || old.files.contains(f);
            if !there {
                return Err(Error::input(format!("{f}: no such file"))
                    .hint("name a narrative file (git workbench narrative check with no files checks them all)"));
            }
            let marked =
                |v: &Version| v.files.contains(f) && v.attrs.state(f, NARRATIVE_ATTR).is_set();
            if !marked(&new) && !marked(&old) {
                return Err(Error::input(format!(
                    "{f} is not a narrative (no workbench-narrative attribute in the committed or staged .gitattributes)"
                ))
                .hint(format!("mark it: echo '{f} workbench-narrative' >> .gitattributes")));
            }
        }
    }
    let all = !matches!(source, Source::Staged) || !only.is_empty();
    // The hook and `narrative check` trust blocks they judged before (the block
    // cache); `verify` judges every block afresh.
    let mut checker = Checker::new(store, strict_narrative(store)).remembering();
    let judged = judge(
        store,
        &mut checker,
        &old,
        &new,
        &Scope {
            only,
            all,
            also: None,
        },
    )?;
    Ok(finish(judged, tier))
}

/// The report of a judged change under `tier`: below tier 3 every problem warns.
pub fn finish(judged: Judged, tier: u8) -> CheckReport {
    let Judged {
        files,
        mut problems,
        events,
    } = judged;
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
    CheckReport {
        files,
        problems,
        errors,
        tier,
        events,
    }
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
    let approved = approved_records(store, &req.stage, &run.run_id)?
        .ok_or_else(|| Error::input(format!("run {} has no approval record", run.run_id)))?;
    let path = root.join(&file);
    let text = read_text(&path, &file, true)?;
    let doc = parse_document(&file, &text)?;
    let lines = |syntax: Syntax| {
        let content = approved.render(&req.options, syntax);
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
    if !marked_in_worktree(store, &file)? {
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
    records: HashMap<(StageName, RunId), Option<Approved>>,
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
    ) -> Result<Option<&Approved>> {
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
                Some(approved) => {
                    let content = approved.render(&b.options, region.syntax);
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

/// `narrative unmark --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnmarkReport {
    pub file: String,
    /// The `.gitattributes` file written.
    pub attributes: String,
    /// The line appended to it.
    pub line: String,
    /// Blocks the file holds, no longer checked once the change is committed.
    pub blocks: usize,
    pub warnings: Vec<String>,
}

/// The committed-or-staged versions a worktree command looks at: HEAD, the index,
/// and the working tree over the index.
fn local_versions(store: &Store) -> Result<[Version; 3]> {
    let head = match store.head_commit() {
        Some(h) => store.files_at(h)?,
        None => FileMap::default(),
    };
    let staged = store.files_staged()?;
    let mut worktree = staged.clone();
    store.overlay_worktree(&mut worktree, &store.worktree_edits()?)?;
    Ok([
        Version::new(store, head)?,
        Version::new(store, staged)?,
        Version::new(store, worktree)?,
    ])
}

/// Unmarks a narrative: appends `/NAME -workbench-narrative` to the `.gitattributes`
/// of the file's own directory (the deepest, so it wins). Committing that change
/// alone, with the file unchanged, is the one way to drop a narrative's protection;
/// `verify` lists it.
pub fn unmark(store: &Store, file: &Path) -> Result<UnmarkReport> {
    let root = store.workdir("narrative unmark")?;
    let file = repo_path(&root, file)?;
    let [head, staged, worktree] = local_versions(store)?;
    let marked = |v: &Version| v.attrs.state(&file, NARRATIVE_ATTR).is_set();
    if !head.files.contains(&file) && !worktree.files.contains(&file) {
        return Err(Error::input(format!("{file}: no such file")));
    }
    if !marked(&worktree) {
        return Err(Error::input(format!(
            "{file} is not marked workbench-narrative in the working tree's .gitattributes"
        ))
        .hint("commit the .gitattributes change that unmarks it on its own"));
    }
    let (dir, name) = match file.rsplit_once('/') {
        Some((d, n)) => (format!("{d}/"), n.to_string()),
        None => (String::new(), file.clone()),
    };
    let line = narrative_change::unmark_line(&name, NARRATIVE_ATTR).ok_or_else(|| {
        Error::input(format!(
            "{file}: the name cannot be written as a plain gitattributes pattern"
        ))
        .hint(format!(
            "add a quoted pattern for it with -{NARRATIVE_ATTR} to {dir}.gitattributes by hand"
        ))
    })?;
    let attributes = format!("{dir}.gitattributes");
    let path = root.join(&attributes);
    let existing = match std::fs::read(&path) {
        Ok(b) => String::from_utf8(b)
            .map_err(|_| Error::input(format!("{attributes} is not UTF-8 text")))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(&path)(e)),
    };
    let text = narrative_change::append_line(&existing, &line);
    // What the change will mean, judged before anything is written.
    let mut after = worktree.files.clone();
    after.files.insert(
        attributes.clone(),
        crate::store::trees::FileEntry {
            // Read from the overlay; the id is never looked up.
            blob: crate::model::ObjectId::from_bytes([0; 20]),
            mode: 0o100644,
        },
    );
    after
        .overlay
        .insert(attributes.clone(), text.clone().into_bytes());
    if Version::new(store, after)?
        .attrs
        .state(&file, NARRATIVE_ATTR)
        .is_set()
    {
        return Err(Error::input(format!(
            "{file} would still be marked after adding '{line}' to {attributes}"
        ))
        .hint("a deeper or later rule marks it; edit the .gitattributes files by hand"));
    }
    let blocks = store
        .file_content(&worktree.files, &file)?
        .and_then(|b| String::from_utf8(b).ok())
        .map_or(0, |t| narrative_change::layout(&file, &t).blocks.len());
    std::fs::write(&path, text).map_err(Error::io(&path))?;
    let mut warnings = Vec::new();
    let same = |a: &Version, b: &Version| a.files.get(&file) == b.files.get(&file);
    if !same(&head, &staged) || !same(&staged, &worktree) {
        warnings.push(format!(
            "{file} has changes that are not committed; the commit that unmarks it must leave it unchanged (commit or stash them first)"
        ));
    }
    Ok(UnmarkReport {
        file,
        attributes,
        line,
        blocks,
        warnings,
    })
}

pub struct RemoveRequest {
    pub file: PathBuf,
    /// Only the blocks of this stage.
    pub stage: Option<StageName>,
    /// Only the blocks citing this run.
    pub run: Option<RunId>,
}

/// `narrative remove --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveReport {
    pub file: String,
    /// (stage, run, begin line) of each block removed.
    pub removed: Vec<(StageName, RunId, usize)>,
}

/// Removes blocks whole — markers, rendered content and provenance — so no approved
/// text is left behind as prose. Every other byte of the file is kept.
pub fn remove(store: &Store, req: &RemoveRequest) -> Result<RemoveReport> {
    let root = store.workdir("narrative remove")?;
    let file = repo_path(&root, &req.file)?;
    let path = root.join(&file);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::input(format!("{file}: no such file")))
        }
        Err(e) => return Err(Error::io(&path)(e)),
    };
    let text =
        String::from_utf8(bytes).map_err(|_| Error::input(format!("{file} is not UTF-8 text")))?;
    let doc = Document::parse(&file, &text).map_err(|e| {
        Error::input(format!("{file}:{e}")).hint("fix the block markers first (docs/narrative.md)")
    })?;
    // (region, block with region line numbers, the block's first file line)
    let mut chosen: Vec<(usize, narrative::Block, usize)> = Vec::new();
    for (i, region) in doc.regions().iter().enumerate() {
        let parsed = narrative::parse(&region.text, region.syntax);
        if let Some(e) = parsed.errors.first() {
            return Err(Error::input(format!(
                "{file}:line {}: {}",
                e.line + region.first_line - 1,
                e.message
            ))
            .hint("fix the block markers first (docs/narrative.md)"));
        }
        for b in parsed.blocks {
            if req.stage.as_ref().is_none_or(|s| &b.stage == s)
                && req.run.as_ref().is_none_or(|r| &b.run == r)
            {
                let line = b.begin_line + region.first_line - 1;
                chosen.push((i, b, line));
            }
        }
    }
    if chosen.is_empty() {
        return Err(
            Error::input(format!("{file} has no block matching the request")).hint(
                "git workbench narrative check lists its blocks; name one with --stage or --run",
            ),
        );
    }
    if req.stage.is_none() && req.run.is_none() && chosen.len() > 1 {
        return Err(Error::input(format!(
            "{file} has {} blocks; say which to remove",
            chosen.len()
        ))
        .hint("--stage STAGE or --run RUN (both select every matching block)"));
    }
    let edits = chosen
        .iter()
        .map(|(region, b, _)| LineEdit {
            region: *region,
            first: b.begin_line,
            last: b.end_line,
            lines: Vec::new(),
        })
        .collect();
    let out = doc.apply(edits).map_err(|e| {
        let err = Error::input(format!("{file}: {e}"));
        match e.hint {
            Some(h) => err.hint(h),
            None => err,
        }
    })?;
    std::fs::write(&path, out).map_err(Error::io(&path))?;
    Ok(RemoveReport {
        file,
        removed: chosen
            .into_iter()
            .map(|(_, b, line)| (b.stage, b.run, line))
            .collect(),
    })
}
