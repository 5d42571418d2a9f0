//! `hooks install | uninstall`, and `hook pre-commit`: the check git runs before every
//! commit. The hook reads the staged content only, and never writes to the index or
//! the working tree.
//!
//! Where the pre-commit framework owns the hook file (its generated script is
//! installed), `install` writes nothing there: every `pre-commit install` rewrites that
//! file. The framework's configuration is where our hook belongs then; a block that
//! already sits in `pre-commit.legacy` (where `pre-commit install` moved it) keeps
//! running, since pre-commit's script runs that file first.

use super::narrative::{check, CheckReport, Source};
use crate::error::Result;
use crate::hooks::framework::{self, ConfigVerdict};
use crate::hooks::{install as install_block, uninstall as uninstall_block, Installed};
use crate::store::{gitcli, Store};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What `hooks install | uninstall` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HookAction {
    #[serde(rename = "created")]
    Created,
    #[serde(rename = "added to")]
    AddedTo,
    #[serde(rename = "already in")]
    AlreadyIn,
    #[serde(rename = "removed from")]
    RemovedFrom,
    #[serde(rename = "not in")]
    NotIn,
    /// pre-commit's script is the hook and its configuration (`hook`) runs the check:
    /// nothing written.
    #[serde(rename = "run by pre-commit from")]
    RunByFramework,
    /// pre-commit's script is the hook and its configuration (`hook`) lacks the check:
    /// nothing written; `snippet` is what to add. Exit 1.
    #[serde(rename = "missing from")]
    MissingFromFramework,
}

impl HookAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HookAction::Created => "created",
            HookAction::AddedTo => "added to",
            HookAction::AlreadyIn => "already in",
            HookAction::RemovedFrom => "removed from",
            HookAction::NotIn => "not in",
            HookAction::RunByFramework => "run by pre-commit from",
            HookAction::MissingFromFramework => "missing from",
        }
    }
}

/// `hooks install --json`, `hooks uninstall --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksReport {
    /// The file acted on: the hook, `pre-commit.legacy`, or the pre-commit
    /// configuration.
    pub hook: PathBuf,
    pub action: HookAction,
    /// The local hook to add to the pre-commit configuration (`missing from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// What else the user should know: the block also found in another file, the
    /// block pre-commit's next install will overwrite.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl HooksReport {
    fn plain(hook: PathBuf, action: HookAction) -> HooksReport {
        HooksReport {
            hook,
            action,
            snippet: None,
            notes: Vec::new(),
        }
    }
}

/// The pre-commit hook file of the repository.
pub fn hook_path(store: &Store) -> Result<PathBuf> {
    let root = store.workdir("hooks")?;
    Ok(gitcli::pre_commit_hook_path(&root)?)
}

fn shown(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap_or(p).display().to_string()
}

/// Adds the check to the pre-commit hook (an existing hook keeps running), or, where
/// pre-commit's script is the hook, says whether its configuration runs the check.
pub fn install(store: &Store) -> Result<HooksReport> {
    let root = store.workdir("hooks")?;
    let hook = gitcli::pre_commit_hook_path(&root)?;
    let setup = framework::inspect(&root, &hook)?;
    if !setup.framework_script {
        let action = match install_block(&hook)? {
            Installed::Created => HookAction::Created,
            Installed::Added => HookAction::AddedTo,
            Installed::Unchanged => HookAction::AlreadyIn,
        };
        let mut r = HooksReport::plain(hook, action);
        if setup.config_runs() {
            r.notes.push(format!(
                "{} runs the check too: after 'pre-commit install' it runs twice (this block moves to pre-commit.legacy, which pre-commit's script runs); 'git workbench hooks uninstall' leaves it to pre-commit alone",
                shown(&root, &setup.config)
            ));
        }
        return Ok(r);
    }
    let mut notes = Vec::new();
    if setup.block_in_hook {
        notes.push(format!(
            "our block inside pre-commit's script {} runs only until the next 'pre-commit install' rewrites that file",
            shown(&root, &hook)
        ));
    }
    if setup.config_runs() {
        let mut r = HooksReport::plain(setup.config, HookAction::RunByFramework);
        r.notes = notes;
        return Ok(r);
    }
    if setup.block_in_legacy {
        // pre-commit's script skips a legacy hook that is not executable.
        crate::hooks::make_executable(&setup.legacy)?;
        let mut r = HooksReport::plain(setup.legacy, HookAction::AlreadyIn);
        r.notes.push(
            "pre-commit's script runs this file first; 'pre-commit install -f' would delete it (then add the check to the pre-commit configuration: 'git workbench hooks install' prints the entry)".into(),
        );
        r.notes.extend(notes);
        return Ok(r);
    }
    if let Some(ConfigVerdict::Unreadable(why)) = &setup.config_verdict {
        notes.push(format!(
            "{} cannot be read as a pre-commit configuration: {why}",
            shown(&root, &setup.config)
        ));
    }
    Ok(HooksReport {
        hook: setup.config,
        action: HookAction::MissingFromFramework,
        snippet: Some(framework::config_snippet()),
        notes,
    })
}

/// Removes the check from the hook and from `pre-commit.legacy`, leaving the rest of
/// each untouched.
pub fn uninstall(store: &Store) -> Result<HooksReport> {
    let root = store.workdir("hooks")?;
    let hook = gitcli::pre_commit_hook_path(&root)?;
    let setup = framework::inspect(&root, &hook)?;
    let from_hook = uninstall_block(&hook)?;
    let from_legacy = uninstall_block(&setup.legacy)?;
    let mut r = match (from_hook, from_legacy) {
        (false, true) => HooksReport::plain(setup.legacy.clone(), HookAction::RemovedFrom),
        (true, _) => HooksReport::plain(hook, HookAction::RemovedFrom),
        (false, false) => HooksReport::plain(hook, HookAction::NotIn),
    };
    if from_hook && from_legacy {
        r.notes
            .push(format!("also removed from {}", setup.legacy.display()));
    }
    if setup.config_runs() {
        r.notes.push(format!(
            "{} still runs the check through the pre-commit framework; remove its hook there",
            shown(&root, &setup.config)
        ));
    }
    Ok(r)
}

/// The pre-commit check: the staged narrative files (or the named ones, as the
/// pre-commit framework passes them).
pub fn pre_commit(store: &Store, files: &[String]) -> Result<CheckReport> {
    check(store, Source::Staged, files)
}
