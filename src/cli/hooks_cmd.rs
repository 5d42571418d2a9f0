//! `git workbench hooks install | uninstall`.

use super::Out;
use crate::error::Result;
use crate::ops::hooks::{install, uninstall, HookAction, HooksReport};
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
    ///
    /// Where the pre-commit framework's script is the hook, nothing is written there
    /// (every `pre-commit install` rewrites it): if .pre-commit-config.yaml runs the
    /// check, it says so; otherwise it prints the hook to add there and exits 1.
    Install,
    /// Remove the check (from the hook and from pre-commit.legacy), leaving the rest of
    /// each file untouched.
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
        human(out, &r)?;
    }
    Ok(u8::from(r.action == HookAction::MissingFromFramework))
}

/// The report as lines; `init --hooks` shows the same.
pub fn human(out: &Out, r: &HooksReport) -> Result<()> {
    match r.action {
        HookAction::RunByFramework => out.line(&format!(
            "git-workbench pre-commit check is run by the pre-commit framework from {}; nothing written",
            r.hook.display()
        ))?,
        HookAction::MissingFromFramework => {
            out.line(&format!(
                "the pre-commit framework's script is the pre-commit hook, and 'pre-commit install' rewrites it, so nothing was written there; {} does not run the check: add this under its `repos:` and commit it",
                r.hook.display()
            ))?;
            if let Some(s) = &r.snippet {
                out.line(s.trim_end())?;
            }
        }
        _ => out.line(&format!(
            "git-workbench pre-commit check {} {}",
            r.action.as_str(),
            r.hook.display()
        ))?,
    }
    for n in &r.notes {
        out.line(&format!("note: {n}"))?;
    }
    Ok(())
}
