//! `git workbench fetch | push | sync`.

use super::notices::Notices;
use super::progress::sink;
use super::Out;
use crate::error::Result;
use crate::ops::sync::{fetch, push, sync, SyncReport};
use crate::store::Store;

/// Fetch the remote's run records, notes index and approved index, and merge them into
/// the local ones (new runs created, behind ones fast-forwarded, diverged ones kept both
/// ways as a conflict; notes unioned line by line).
#[derive(clap::Args, Debug)]
pub struct FetchArgs {
    /// The remote (default: the only one, or origin).
    pub remote: Option<String>,
}

/// Push run records, the notes index and the approved index (one atomic push,
/// fast-forward only; the approved index with --force-with-lease). When the remote
/// moved, its records are fetched and merged first and the push is tried again.
#[derive(clap::Args, Debug)]
pub struct PushArgs {
    /// The remote (default: the only one, or origin).
    pub remote: Option<String>,
}

/// Fetch the remote's records, merge them, and push the merged records back.
#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    /// The remote (default: the only one, or origin).
    pub remote: Option<String>,
}

pub fn cmd_fetch(out: &Out, args: FetchArgs) -> Result<u8> {
    let r = fetch(&Store::discover()?, args.remote, &*sink(out))?;
    show(out, &r, true)
}

pub fn cmd_push(out: &Out, args: PushArgs) -> Result<u8> {
    let r = push(
        &Store::discover()?,
        args.remote,
        &Notices::new(out),
        &*sink(out),
    )?;
    let merged = &r.merged;
    show(
        out,
        &r,
        merged.created + merged.fast_forwarded + merged.conflicts.len() > 0,
    )
}

pub fn cmd_sync(out: &Out, args: SyncArgs) -> Result<u8> {
    let r = sync(
        &Store::discover()?,
        args.remote,
        &Notices::new(out),
        &*sink(out),
    )?;
    show(out, &r, true)
}

fn show(out: &Out, r: &SyncReport, merge_line: bool) -> Result<u8> {
    out.warnings(&r.merged.bad_note_lines);
    let refused: Vec<String> = r
        .merged
        .refused
        .iter()
        .map(|x| {
            format!(
                "refused {} ({}) from {}, not a valid record: {}; it was not merged and is not pushed over",
                x.ref_name,
                &x.commit.to_string()[..12],
                r.remote,
                x.why
            )
        })
        .collect();
    out.warnings(&refused);
    if out.json {
        out.json(r)?;
        return Ok(0);
    }
    let m = &r.merged;
    if merge_line {
        out.line(&format!(
            "fetched from {}: {} new run(s), {} updated, {} unchanged, {} note line(s) added{}",
            r.remote,
            m.created,
            m.fast_forwarded,
            m.unchanged,
            m.notes_lines_added,
            if m.approved_updated.is_empty() {
                String::new()
            } else {
                format!(
                    ", approved index of {} updated",
                    m.approved_updated.join(", ")
                )
            }
        ))?;
        for c in &m.identical {
            out.line(&format!(
                "{c}: both clones made the same decision; merged into one record"
            ))?;
        }
        for c in &m.conflicts {
            out.line(&format!(
                "CONFLICT {c}: the two clones decided differently; both histories are kept and the run waits for a new decision (git workbench next)"
            ))?;
        }
    }
    if let Some(n) = r.pushed_refs {
        out.line(&format!("pushed to {}: {n} ref(s) updated", r.remote))?;
    }
    Ok(0)
}
