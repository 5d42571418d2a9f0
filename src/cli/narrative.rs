//! `git workbench narrative new | sync | check`: putting approved results into
//! narrative files, and checking that nothing else got in.

use super::Out;
use crate::error::{Error, Result};
use crate::model::narrative::{self, BlockOptions, Syntax};
use crate::narrative::{approved_records, format_problems, Checker, Problem, Severity};
use crate::store::Store;
use serde_json::json;
use std::path::PathBuf;

/// Narrative files: blocks rendered from approvals, and their checks.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub command: Sub,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    New(NewArgs),
    Sync(SyncArgs),
    Check(CheckArgs),
}

/// Insert a block for the stage's approved run at the stage's slot marker, or at the
/// end of the file.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    pub stage: String,
    pub file: PathBuf,
    /// Show a table of these metrics (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub metrics: Option<Vec<String>>,
    /// Show a table of every metric.
    #[arg(long)]
    pub table: bool,
    /// Link the run's figures.
    #[arg(long)]
    pub figures: bool,
}

/// Re-render every block from its approval.
#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// Narrative files (default: every file marked workbench-narrative).
    pub files: Vec<PathBuf>,
    /// Move blocks whose stage has a newer approved run to that run.
    #[arg(long)]
    pub advance: bool,
}

/// Check narrative files: every block must hold the rendering of an approved run.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Check the staged content (what `git commit` would record).
    #[arg(long, conflicts_with = "rev")]
    pub staged: bool,
    /// Check the files as they are in this commit.
    #[arg(long, value_name = "REV")]
    pub rev: Option<String>,
    /// Only these files (default: every narrative file).
    pub files: Vec<PathBuf>,
}

pub fn cmd_narrative(out: &Out, args: Args) -> Result<u8> {
    match args.command {
        Sub::New(a) => cmd_new(out, a),
        Sub::Sync(a) => cmd_sync(out, a),
        Sub::Check(a) => cmd_check(out, a),
    }
}

/// Repository-relative path of a file argument.
fn rel(root: &std::path::Path, p: &std::path::Path) -> Result<String> {
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
        .map(|r| crate::exec::paths::relative(std::path::Path::new(""), r))
        .map_err(|_| Error::input(format!("{} is outside the repository", p.display())))
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

fn cmd_new(out: &Out, a: NewArgs) -> Result<u8> {
    let store = Store::discover()?;
    let root = store.workdir("narrative new")?;
    let file = rel(&root, &a.file)?;
    let run = store.approved_run(&a.stage)?.ok_or_else(|| {
        Error::refused(format!("stage '{}' has no approved run", a.stage))
            .hint("only approved results may enter a narrative; see 'git workbench next'")
    })?;
    let (approval, manifest) = approved_records(&store, &a.stage, &run.run_id)?
        .ok_or_else(|| Error::input(format!("run {} has no approval record", run.run_id)))?;
    let syntax = Syntax::for_path(&file);
    let options = BlockOptions {
        metrics: a.metrics,
        table: a.table,
        figures: a.figures,
    };
    let content = narrative::render(&approval, &manifest, &options, syntax);
    let block = format!(
        "{}\n{content}\n{}",
        narrative::begin_marker(&a.stage, &run.run_id, &options, syntax),
        narrative::end_marker(syntax)
    );
    let path = root.join(&file);
    let text = match std::fs::read(&path) {
        Ok(b) => {
            String::from_utf8(b).map_err(|_| Error::input(format!("{file} is not UTF-8 text")))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(&path)(e)),
    };
    let parsed = narrative::parse(&text, syntax);
    let new_text = match parsed.slots.iter().find(|s| s.stage == a.stage) {
        Some(slot) => {
            text.lines()
                .enumerate()
                .map(|(i, l)| {
                    if i + 1 == slot.line {
                        block.clone()
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        }
        None => {
            let mut t = text.clone();
            if !t.is_empty() && !t.ends_with('\n') {
                t.push('\n');
            }
            if !t.is_empty() {
                t.push('\n');
            }
            t.push_str(&block);
            t.push('\n');
            t
        }
    };
    std::fs::write(&path, new_text).map_err(Error::io(&path))?;
    if !store.is_narrative_worktree(&file)? {
        out.warn(&format!(
            "{file} is not marked as a narrative: add '{file} workbench-narrative' to .gitattributes so commits are checked"
        ));
    }
    if out.json {
        out.json_value(&json!({"file": file, "stage": a.stage, "run_id": run.run_id}));
    } else {
        out.line(&format!(
            "added a block for {} (run {}) to {file}",
            a.stage, run.run_id
        ));
    }
    Ok(0)
}

fn cmd_sync(out: &Out, a: SyncArgs) -> Result<u8> {
    let store = Store::discover()?;
    let root = store.workdir("narrative sync")?;
    let files = if a.files.is_empty() {
        worktree_narratives(&store)?
    } else {
        a.files
            .iter()
            .map(|f| rel(&root, f))
            .collect::<Result<_>>()?
    };
    let mut changed = Vec::new();
    let mut problems: Vec<Problem> = Vec::new();
    for file in &files {
        let path = root.join(file);
        let bytes = std::fs::read(&path).map_err(Error::io(&path))?;
        let Ok(mut text) = String::from_utf8(bytes) else {
            return Err(Error::input(format!("{file} is not UTF-8 text")));
        };
        let syntax = Syntax::for_path(file);
        let parsed = narrative::parse(&text, syntax);
        if let Some(e) = parsed.errors.first() {
            return Err(Error::input(format!("{file}:{e}"))
                .hint("fix the block markers first (docs/narrative.md)"));
        }
        let original = text.clone();
        // Blocks are replaced from the last to the first so line numbers stay valid.
        for b in parsed.blocks.iter().rev() {
            let mut run = b.run.clone();
            if let Some(newer) = store.approved_run(&b.stage)? {
                if newer.run_id > run {
                    if a.advance {
                        run = newer.run_id;
                    } else {
                        problems.push(Problem {
                            file: file.clone(),
                            line: b.begin_line,
                            stage: Some(b.stage.clone()),
                            run: Some(b.run.clone()),
                            severity: Severity::Warning,
                            reason: format!(
                                "outdated: stage {} has a newer approved run, {}",
                                b.stage, newer.run_id
                            ),
                            fix: format!("git workbench narrative sync --advance {file}"),
                            diff: None,
                        });
                    }
                }
            }
            match approved_records(&store, &b.stage, &run)? {
                Some((approval, manifest)) if approval.decision == "approved" => {
                    let content = narrative::render(&approval, &manifest, &b.options, syntax);
                    text = narrative::replace_block(&text, b, &run, &content, syntax);
                }
                _ => problems.push(Problem {
                    file: file.clone(),
                    line: b.begin_line,
                    stage: Some(b.stage.clone()),
                    run: Some(run.clone()),
                    severity: Severity::Error,
                    reason: format!(
                        "run {run} of stage {} is not approved; the block was left as it is",
                        b.stage
                    ),
                    fix: "approve the run, or point the block at an approved run".to_string(),
                    diff: None,
                }),
            }
        }
        if text != original {
            std::fs::write(&path, &text).map_err(Error::io(&path))?;
            changed.push(file.clone());
        }
    }
    let errors = problems.iter().any(|p| p.severity == Severity::Error);
    if out.json {
        out.json_value(&json!({"files": files, "changed": changed, "problems": problems}));
    } else {
        for f in &changed {
            out.line(&format!("synced {f}"));
        }
        if changed.is_empty() {
            out.line(&format!(
                "{} narrative file(s) already in sync",
                files.len()
            ));
        }
        out.note(format_problems(&problems).trim_end());
    }
    Ok(if errors { 1 } else { 0 })
}

/// Which content a check reads.
pub enum Source<'a> {
    Worktree,
    Staged,
    Rev(&'a str),
}

/// Checks the narrative files of `source` (all of them, or `only`).
pub fn check_files(
    store: &Store,
    source: &Source,
    only: &[String],
    strict: bool,
) -> Result<(Vec<String>, Vec<Problem>)> {
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
    let mut checker = Checker::new(store, strict);
    let mut problems = Vec::new();
    for f in &files {
        let bytes = match source {
            Source::Worktree => {
                let root = store.workdir("narrative check")?;
                match std::fs::read(root.join(f)) {
                    Ok(b) => Some(b),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                    Err(e) => return Err(Error::io(&root.join(f))(e)),
                }
            }
            Source::Staged => store.staged_blob(f)?,
            Source::Rev(rev) => store.blob_at(rev, f)?,
        };
        if let Some(b) = bytes {
            problems.extend(checker.check(f, &b)?);
        }
    }
    Ok((files, problems))
}

pub fn strict_narrative(store: &Store) -> bool {
    store
        .config_bool("workbench.strictNarrative")
        .unwrap_or(false)
}

/// Prints problems and returns the exit code: 1 when any is an error.
pub fn report(out: &Out, files: &[String], problems: &[Problem], what: &str) -> u8 {
    let errors = problems
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    if out.json {
        out.json_value(&json!({"files": files, "problems": problems, "errors": errors}));
    } else if !problems.is_empty() {
        eprint!("{}", format_problems(problems));
        if errors > 0 {
            eprintln!("{what}: {errors} narrative problem(s); only approved results may enter a narrative");
        }
    }
    if errors > 0 {
        1
    } else {
        0
    }
}

fn cmd_check(out: &Out, a: CheckArgs) -> Result<u8> {
    let store = Store::discover()?;
    let root = store.workdir("narrative check")?;
    let only: Vec<String> = a
        .files
        .iter()
        .map(|f| rel(&root, f))
        .collect::<Result<_>>()?;
    let source = match (&a.rev, a.staged) {
        (Some(r), _) => Source::Rev(r),
        (None, true) => Source::Staged,
        (None, false) => Source::Worktree,
    };
    let (files, problems) = check_files(&store, &source, &only, strict_narrative(&store))?;
    let code = report(out, &files, &problems, "narrative check");
    if !out.json && code == 0 {
        out.line(&format!(
            "{} narrative file(s) checked: every block is approved and unchanged",
            files.len()
        ));
    }
    Ok(code)
}
