//! `hooks install | uninstall`, and `hook pre-commit`: the check git runs before every
//! commit. The hook reads the staged content only, and never writes to the index or
//! the working tree.

use super::narrative::{check, CheckReport, Source};
use crate::error::Result;
use crate::hooks::{install as install_block, uninstall as uninstall_block, Installed};
use crate::store::{gitcli, Store};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
}

impl HookAction {
    pub fn as_str(self) -> &'static str {
        match self {
            HookAction::Created => "created",
            HookAction::AddedTo => "added to",
            HookAction::AlreadyIn => "already in",
            HookAction::RemovedFrom => "removed from",
            HookAction::NotIn => "not in",
        }
    }
}

/// `hooks install --json`, `hooks uninstall --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HooksReport {
    pub hook: PathBuf,
    pub action: HookAction,
}

/// The pre-commit hook file of the repository.
pub fn hook_path(store: &Store) -> Result<PathBuf> {
    let root = store.workdir("hooks")?;
    Ok(gitcli::pre_commit_hook_path(&root)?)
}

/// Adds the check to the pre-commit hook (an existing hook keeps running).
pub fn install(store: &Store) -> Result<HooksReport> {
    let hook = hook_path(store)?;
    let action = match install_block(&hook)? {
        Installed::Created => HookAction::Created,
        Installed::Added => HookAction::AddedTo,
        Installed::Unchanged => HookAction::AlreadyIn,
    };
    Ok(HooksReport { hook, action })
}

/// Removes the check, leaving the rest of the hook untouched.
pub fn uninstall(store: &Store) -> Result<HooksReport> {
    let hook = hook_path(store)?;
    let action = if uninstall_block(&hook)? {
        HookAction::RemovedFrom
    } else {
        HookAction::NotIn
    };
    Ok(HooksReport { hook, action })
}

/// The pre-commit check: the staged narrative files (or the named ones, as the
/// pre-commit framework passes them).
pub fn pre_commit(store: &Store, files: &[String]) -> Result<CheckReport> {
    check(store, Source::Staged, files)
}
