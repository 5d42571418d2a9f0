//! `fetch`, `push` and `sync`: records shared through an ordinary remote. Fetch brings
//! the remote's records into tracking refs and merges them; push publishes with
//! compare-and-swap, and when the remote moved, fetches, merges and tries again.

use super::{Notice, Observer};
use crate::error::{Error, Result};
use crate::exec::progress::{Phase, Progress, Unit};
use crate::store::{MergeReport, PushResult, Store};
use serde::{Deserialize, Serialize};

/// Attempts of the push when the remote keeps moving.
const PUSH_ATTEMPTS: u32 = 6;

/// `fetch --json`, `push --json`, `sync --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncReport {
    pub remote: String,
    pub merged: MergeReport,
    /// Refs the push updated (`null` for `fetch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_refs: Option<usize>,
}

/// The remote asked for, or the only one, or `origin`.
pub fn remote_of(store: &Store, asked: Option<String>) -> Result<String> {
    match asked {
        Some(r) => Ok(r),
        None => Ok(store.default_remote()?),
    }
}

fn fetch_and_merge(store: &Store, remote: &str, progress: &dyn Progress) -> Result<MergeReport> {
    let refused = store.fetch_records_shown(remote, progress)?;
    let merging = Phase::begin(progress, "merging records", None, Unit::Steps);
    let mut merged = store.merge_records(remote)?;
    drop(merging);
    let unrelated = std::mem::replace(&mut merged.refused, refused);
    merged.refused.extend(unrelated);
    Ok(merged)
}

pub fn fetch(store: &Store, remote: Option<String>, progress: &dyn Progress) -> Result<SyncReport> {
    let remote = remote_of(store, remote)?;
    let merged = fetch_and_merge(store, &remote, progress)?;
    Ok(SyncReport {
        remote,
        merged,
        pushed_refs: None,
    })
}

pub fn push(
    store: &Store,
    remote: Option<String>,
    observer: &dyn Observer,
    progress: &dyn Progress,
) -> Result<SyncReport> {
    let remote = remote_of(store, remote)?;
    let mut merged = MergeReport::default();
    let pushed = push_with_retry(store, &remote, &mut merged, observer, progress)?;
    Ok(SyncReport {
        remote,
        merged,
        pushed_refs: Some(pushed),
    })
}

pub fn sync(
    store: &Store,
    remote: Option<String>,
    observer: &dyn Observer,
    progress: &dyn Progress,
) -> Result<SyncReport> {
    let remote = remote_of(store, remote)?;
    let mut merged = fetch_and_merge(store, &remote, progress)?;
    let pushed = push_with_retry(store, &remote, &mut merged, observer, progress)?;
    Ok(SyncReport {
        remote,
        merged,
        pushed_refs: Some(pushed),
    })
}

/// Pushes with compare-and-swap; when the remote moved, fetches, merges and tries
/// again with growing pauses.
fn push_with_retry(
    store: &Store,
    remote: &str,
    merged: &mut MergeReport,
    observer: &dyn Observer,
    progress: &dyn Progress,
) -> Result<usize> {
    // Lines still in the notes journal reach the notes ref before it is pushed.
    store.fold_notes_journal("workbench: fold the notes journal before a push")?;
    for attempt in 0..PUSH_ATTEMPTS {
        let pushing = Phase::begin(progress, &format!("pushing to {remote}"), None, Unit::Steps);
        if attempt == 0 && store.in_step_with(remote)? {
            return Ok(0); // the remote holds exactly these records: nothing to push
        }
        if attempt == 0 {
            // Objects first: the LFS objects of the runs about to be published.
            super::lfs::push_objects(store, remote)?;
        }
        let pushed = store.push_records(remote)?;
        drop(pushing);
        match pushed {
            PushResult::Done { updated } => return Ok(updated),
            PushResult::Stale => {
                observer.notice(Notice::PushRetry { remote });
                std::thread::sleep(std::time::Duration::from_millis(50u64 << attempt));
                merged.absorb(fetch_and_merge(store, remote, progress)?);
            }
        }
    }
    Err(Error::refused(format!(
        "{remote} kept moving through {PUSH_ATTEMPTS} attempts; nothing was overwritten"
    ))
    .hint("run 'git workbench sync' again"))
}
