//! `git workbench checkout`.

use super::Out;
use crate::error::Result;
use crate::ops::checkout::{checkout, CheckoutReport, CheckoutRequest};
use crate::store::Store;
use std::path::PathBuf;

/// Restore a run's stored outputs into its run directory (or DIR), verifying each
/// against the manifest. Files that differ are not overwritten without --force.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run (id, prefix, STAGE/PREFIX, STAGE@latest, STAGE@approved).
    pub run: String,
    /// Restore into DIR instead of the run directory (paths below the run directory
    /// are kept relative to it, others relative to the repository root).
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Also restore the snapshot of the working tree the run executed on, into
    /// `<destination>/code/`.
    #[arg(long)]
    pub code: bool,
    /// Overwrite files whose content differs.
    #[arg(long)]
    pub force: bool,
}

pub fn cmd_checkout(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let report = checkout(
        &store,
        &CheckoutRequest {
            run: args.run,
            to: args.to,
            code: args.code,
            force: args.force,
        },
    )?;
    if out.json {
        out.json(&report)?;
    } else {
        human(out, &report)?;
    }
    Ok(0)
}

fn human(out: &Out, r: &CheckoutReport) -> Result<()> {
    for f in &r.files {
        let action = serde_json::to_value(f.action).expect("action");
        out.line(&format!(
            "{:<9} {}",
            action.as_str().unwrap_or_default(),
            f.to.display()
        ))?;
    }
    for n in &r.not_stored {
        out.line(&format!(
            "not stored {} ({}): larger than max_stored_size, only its hash is in the record{}",
            n.path,
            n.sha256,
            if n.present {
                "; the file on disk matches it"
            } else {
                "; to share outputs this large, set large_outputs = \"lfs\" for the stage in workbench.toml and run it again (docs/large-outputs.md)"
            }
        ))?;
    }
    Ok(())
}
