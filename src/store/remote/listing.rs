//! Listing the refs under a prefix without libgit2's whole-file parse of
//! `packed-refs`: the loose files under the prefix, then the packed range found by
//! binary search (`packed_refs::PackedRefs::under`), a loose ref winning over a packed
//! one, as git reads them. At 100,000 run refs libgit2's listing parsed and indexed
//! every packed ref of the repository first; this reads only the range asked for.
//! Anything unusual (a symbolic ref, an unsorted `packed-refs`, a file that vanished
//! while listed, `GIT_NAMESPACE`) gives `None` and the caller asks libgit2.

use super::super::packed_refs::{Opened, PackedRefs};
use super::super::runs::loose_target;
use git2::Oid;
use std::collections::BTreeMap;
use std::path::Path;

/// Every ref under `prefix` (which ends in `/` or is a full ref name) with its
/// target, in name order; `None` when libgit2 must list.
pub(super) fn refs_under(common: &Path, prefix: &str) -> Option<Vec<(String, Oid)>> {
    if std::env::var_os("GIT_NAMESPACE").is_some() {
        return None;
    }
    // Loose refs first, then packed-refs: `git pack-refs` writes packed-refs before it
    // deletes the loose files, so a ref being packed is seen in one place or the other.
    let mut found: BTreeMap<String, Oid> = BTreeMap::new();
    let trimmed = prefix.trim_end_matches('/');
    let path = common.join(trimmed);
    if prefix.ends_with('/') {
        walk(&path, trimmed, &mut found)?;
    } else {
        match std::fs::read(&path) {
            Ok(text) => {
                found.insert(prefix.to_string(), loose_target(&text)?);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) if e.kind() == std::io::ErrorKind::IsADirectory => {}
            Err(_) => return None,
        }
    }
    match PackedRefs::open(common) {
        Opened::Absent => {}
        Opened::Sorted(p) => {
            for (name, tip) in p.under(prefix)? {
                if prefix.ends_with('/') || name == prefix {
                    found.entry(name).or_insert(tip);
                }
            }
        }
        Opened::Unsupported => return None,
    }
    Some(found.into_iter().collect())
}

fn walk(dir: &Path, name: &str, found: &mut BTreeMap<String, Oid>) -> Option<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(()),
        Err(_) => return None,
    };
    for entry in entries {
        let entry = entry.ok()?;
        let file_name = entry.file_name();
        let file_name = file_name.to_str()?;
        let child = format!("{name}/{file_name}");
        let kind = entry.file_type().ok()?;
        if kind.is_dir() {
            walk(&entry.path(), &child, found)?;
        } else if file_name.ends_with(".lock") {
            continue; // an update in flight; the ref itself still holds the old value
        } else {
            match std::fs::read(entry.path()) {
                Ok(text) => {
                    found.insert(child, loose_target(&text)?);
                }
                // Deleted while listed (perhaps packed): let libgit2 list again.
                Err(_) => return None,
            }
        }
    }
    Some(())
}
