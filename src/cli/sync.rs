//! `git workbench sync [REMOTE]`: fetch + merge + push of run records, the notes
//! index and the approved-run index. `fetch` and `push` are its halves.

use super::Out;
use crate::error::{Error, Result};
use crate::store::{MergeReport, PushResult, Store};
use serde_json::json;

/// Fetch the remote's records, merge them, and push the merged records back.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The remote (default: the only one, or origin).
    pub remote: Option<String>,
}

/// Attempts of the push when the remote keeps moving.
const PUSH_ATTEMPTS: u32 = 6;

pub fn remote_of(store: &Store, asked: Option<String>) -> Result<String> {
    match asked {
        Some(r) => Ok(r),
        None => store.default_remote(),
    }
}

/// Fetches and merges; warns about malformed note lines and reports conflicts.
pub fn fetch_and_merge(out: &Out, store: &Store, remote: &str) -> Result<MergeReport> {
    store.fetch_records(remote)?;
    let report = store.merge_records(remote)?;
    for bad in &report.bad_note_lines {
        out.warn(bad);
    }
    Ok(report)
}

/// Pushes with compare-and-swap; when the remote moved, fetches, merges and tries
/// again with growing pauses.
pub fn push_with_retry(
    out: &Out,
    store: &Store,
    remote: &str,
    merged: &mut MergeReport,
) -> Result<usize> {
    for attempt in 0..PUSH_ATTEMPTS {
        if attempt == 0 && store.in_step_with(remote)? {
            return Ok(0); // the remote holds exactly these records: nothing to push
        }
        match store.push_records(remote)? {
            PushResult::Done { updated } => return Ok(updated),
            PushResult::Stale => {
                out.note(&format!(
                    "workbench: {remote} moved since the fetch; fetching, merging and pushing again"
                ));
                std::thread::sleep(std::time::Duration::from_millis(50u64 << attempt));
                let r = fetch_and_merge(out, store, remote)?;
                merged.created += r.created;
                merged.fast_forwarded += r.fast_forwarded;
                merged.conflicts.extend(r.conflicts);
                merged.notes_lines_added += r.notes_lines_added;
                merged.approved_updated.extend(r.approved_updated);
            }
        }
    }
    Err(Error::refused(format!(
        "{remote} kept moving through {PUSH_ATTEMPTS} attempts; nothing was overwritten"
    ))
    .hint("run 'git workbench sync' again"))
}

pub fn print_merge(out: &Out, remote: &str, r: &MergeReport) {
    out.line(&format!(
        "fetched from {remote}: {} new run(s), {} updated, {} unchanged, {} note line(s) added{}",
        r.created,
        r.fast_forwarded,
        r.unchanged,
        r.notes_lines_added,
        if r.approved_updated.is_empty() {
            String::new()
        } else {
            format!(
                ", approved index of {} updated",
                r.approved_updated.join(", ")
            )
        }
    ));
    for c in &r.conflicts {
        out.line(&format!(
            "CONFLICT {c}: the two clones decided differently; both histories are kept and the run waits for a new decision (git workbench next)"
        ));
    }
}

pub fn cmd_sync(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let remote = remote_of(&store, args.remote)?;
    let mut report = fetch_and_merge(out, &store, &remote)?;
    let pushed = push_with_retry(out, &store, &remote, &mut report)?;
    if out.json {
        out.json_value(&json!({"remote": remote, "merged": report, "pushed_refs": pushed}));
    } else {
        print_merge(out, &remote, &report);
        out.line(&format!("pushed to {remote}: {pushed} ref(s) updated"));
    }
    Ok(0)
}
