//! `hash FILES`: the hashing `run` uses (every core, the stat cache), as a
//! `sha256sum`-compatible use case.

use crate::error::{Error, Result};
use crate::exec::hash::hash_files_shown;
use crate::exec::progress::Progress;
use crate::exec::statcache::StatCache;
use crate::model::digest::Sha256;
use crate::store::Store;
use std::path::Path;

/// The digest of each file, relative to `cwd`, in the order given.
pub fn hash(
    cwd: &Path,
    files: &[String],
    no_stat_cache: bool,
    progress: &dyn Progress,
) -> Result<Vec<(String, Sha256)>> {
    let mut cache = match (no_stat_cache, Store::discover()) {
        (false, Ok(store)) => StatCache::load(store.private_dir().join("stat-cache")),
        _ => StatCache::disabled(),
    };
    for f in files {
        if !cwd.join(f).is_file() {
            return Err(Error::input(format!("'{f}' is not a file")));
        }
    }
    let hashed = hash_files_shown(cwd, files, &mut cache, progress, "hashing")?;
    cache.save();
    if hashed.len() < files.len() {
        // A file removed between the check above and its read is left out.
        let read: std::collections::BTreeSet<&String> = hashed.iter().map(|(f, _)| f).collect();
        if let Some(gone) = files.iter().find(|f| !read.contains(f)) {
            return Err(Error::input(format!("'{gone}' is not a file")));
        }
    }
    Ok(hashed)
}
