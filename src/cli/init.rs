//! `git workbench init`.

use super::Out;
use crate::error::Result;
use crate::ops::hooks::HookAction;
use crate::ops::init::{init, InitReport};
use crate::store::{ConfigAction, Store};

/// Prepare the repository: write a commented workbench.toml when no configuration
/// exists, keep the notes index across amend/rebase, add fetch refspecs for run
/// records (never push refspecs: they would change what a plain `git push` does) and
/// configure the workbench-table diff and merge drivers.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also install the pre-commit hook that checks narrative files (as `hooks install`
    /// does; exits 1 when the pre-commit framework's configuration lacks it).
    #[arg(long)]
    pub hooks: bool,
}

pub fn cmd_init(out: &Out, args: Args) -> Result<u8> {
    let r = init(&Store::discover()?, args.hooks)?;
    if out.json {
        out.json(&r)?;
    } else {
        human(out, &r)?;
    }
    let hook_missing = r
        .hook
        .as_ref()
        .is_some_and(|h| h.action == HookAction::MissingFromFramework);
    Ok(u8::from(hook_missing))
}

fn human(out: &Out, r: &InitReport) -> Result<()> {
    match (&r.config_file, r.config_created) {
        (Some(f), true) => out.line(&format!(
            "created {f} (a commented skeleton: declare your stages there)"
        ))?,
        (Some(f), false) => out.line(&format!("kept {f} (configuration already present)"))?,
        (None, _) => out.line("bare repository: no configuration file written")?,
    }
    for c in &r.git_config {
        let line = match (c.action, &c.previous) {
            (ConfigAction::Unchanged, _) => format!("already set {} = {}", c.key, c.value),
            (_, Some(prev)) => format!("set {} = {} (was {prev})", c.key, c.value),
            _ => format!("added {} = {}", c.key, c.value),
        };
        out.line(&line)?;
    }
    if let Some(h) = &r.hook {
        let word = match h.action {
            HookAction::AlreadyIn => "already installed in",
            HookAction::Created | HookAction::AddedTo => "installed the pre-commit check in",
            _ => return super::hooks_cmd::human(out, h),
        };
        out.line(&format!("{word} {}", h.hook.display()))?;
        for n in &h.notes {
            out.line(&format!("note: {n}"))?;
        }
    }
    Ok(())
}
