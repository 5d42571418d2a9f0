//! `git workbench fetch [REMOTE]`: bring another clone's records in and merge them.

use super::sync::{fetch_and_merge, print_merge, remote_of};
use super::Out;
use crate::error::Result;
use crate::store::Store;
use serde_json::json;

/// Fetch the remote's run records, notes index and approved index, and merge them into
/// the local ones (new runs created, behind ones fast-forwarded, diverged ones kept both
/// ways as a conflict; notes unioned line by line).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The remote (default: the only one, or origin).
    pub remote: Option<String>,
}

pub fn cmd_fetch(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let remote = remote_of(&store, args.remote)?;
    let report = fetch_and_merge(out, &store, &remote)?;
    if out.json {
        out.json_value(&json!({"remote": remote, "merged": report}));
    } else {
        print_merge(out, &remote, &report);
    }
    Ok(0)
}
