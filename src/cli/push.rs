//! `git workbench push [REMOTE]`: publish the local records, never overwriting.

use super::sync::{push_with_retry, remote_of};
use super::Out;
use crate::error::Result;
use crate::store::{MergeReport, Store};
use serde_json::json;

/// Push run records, the notes index and the approved index (one atomic push,
/// fast-forward only; the approved index with --force-with-lease). When the remote
/// moved, its records are fetched and merged first and the push is tried again.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The remote (default: the only one, or origin).
    pub remote: Option<String>,
}

pub fn cmd_push(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let remote = remote_of(&store, args.remote)?;
    let mut merged = MergeReport::default();
    let pushed = push_with_retry(out, &store, &remote, &mut merged)?;
    if out.json {
        out.json_value(&json!({"remote": remote, "pushed_refs": pushed, "merged": merged}));
    } else {
        if merged.created + merged.fast_forwarded + merged.conflicts.len() > 0 {
            super::sync::print_merge(out, &remote, &merged);
        }
        out.line(&format!("pushed to {remote}: {pushed} ref(s) updated"));
    }
    Ok(0)
}
