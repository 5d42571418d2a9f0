//! `git workbench hooks install | uninstall`.

use super::Out;
use crate::error::Result;
use crate::hooks::{hook_path, install, uninstall, Installed};
use crate::store::Store;
use serde_json::json;

/// Install or remove the pre-commit hook that checks narrative files.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand, Debug)]
pub enum Action {
    /// Add the check to the pre-commit hook (an existing hook keeps running).
    Install,
    /// Remove the check, leaving the rest of the hook untouched.
    Uninstall,
}

pub fn cmd_hooks(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let root = store.workdir("hooks")?;
    let path = hook_path(&root)?;
    let what = match args.action {
        Action::Install => match install(&path)? {
            Installed::Created => "created",
            Installed::Added => "added to",
            Installed::Unchanged => "already in",
        },
        Action::Uninstall => {
            if uninstall(&path)? {
                "removed from"
            } else {
                "not in"
            }
        }
    };
    if out.json {
        out.json_value(&json!({"hook": path, "action": what}));
    } else {
        out.line(&format!(
            "git-workbench pre-commit check {what} {}",
            path.display()
        ));
    }
    Ok(0)
}
