//! `git workbench hooks install | uninstall`.

use super::Out;
use crate::error::Result;
use crate::ops::hooks::{install, uninstall};
use crate::store::Store;

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
    let r = match args.action {
        Action::Install => install(&store)?,
        Action::Uninstall => uninstall(&store)?,
    };
    if out.json {
        out.json(&r)?;
    } else {
        out.line(&format!(
            "git-workbench pre-commit check {} {}",
            r.action.as_str(),
            r.hook.display()
        ))?;
    }
    Ok(0)
}
