//! `checkout` of outputs DVC tracks: a run of a DVC stage records DVC's md5 of each
//! cached output (the manifest's `dvc`); the bytes come from DVC's cache, fetched
//! first from DVC's remote when the cache lacks them (`dvc fetch` of exactly those
//! objects), and every file is checked against the manifest's sha256 before
//! `checkout` writes anything. A record from another clone is hostile: its md5s and
//! paths are validated before they name a file, and a cache object whose bytes are
//! not the recorded ones is refused.

use crate::error::{Error, Result};
use crate::exec::dvc;
use crate::model::config::check_relative;
use crate::model::digest::Sha256;
use crate::model::dvc::{parse_dir_object, DvcObject};
use crate::model::manifest::RunManifest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The bytes of each of `wanted` (output paths of `m` that the record does not store
/// and that are not at their destination already) that DVC tracks, verified; the
/// others are left out (`checkout` names them as not stored). DVC is not started
/// when no wanted output is DVC's.
pub fn restore(
    root: &Path,
    dvc_program: Option<String>,
    m: &RunManifest,
    wanted: &[String],
) -> Result<Vec<(String, Vec<u8>)>> {
    let Some(rec) = &m.dvc else {
        return Ok(Vec::new());
    };
    let bad = |what: String| {
        Error::input(format!("the record of run {} {what}", m.run_id))
            .hint("the record is damaged or was made by a hostile clone; nothing was written")
    };
    // Each wanted output and the DVC output holding it: the file itself, or a file
    // below a directory output (then its path inside the directory).
    let mut covered: Vec<(&String, &str, &DvcObject, Option<String>)> = Vec::new();
    for path in wanted {
        let hit = rec.outs.iter().find_map(|(out, obj)| {
            if path == out {
                Some((out.as_str(), obj, None))
            } else {
                path.strip_prefix(&format!("{out}/"))
                    .map(|inner| (out.as_str(), obj, Some(inner.to_string())))
            }
        });
        let Some((out, obj, inner)) = hit else {
            continue;
        };
        check_relative(out)
            .map_err(|why| bad(format!("names the DVC output '{out}', which {why}")))?;
        crate::model::integrity::contained_path(out)
            .map_err(|why| bad(format!("names the DVC output '{out}', which {why}")))?;
        let Some((_, is_dir)) = obj.digest() else {
            return Err(bad(format!("gives the DVC output '{out}' a malformed md5")));
        };
        if is_dir != inner.is_some() {
            return Err(bad(format!(
                "gives the DVC output '{out}' an md5 of the wrong kind"
            )));
        }
        covered.push((path, out, obj, inner));
    }
    if covered.is_empty() {
        return Ok(Vec::new());
    }
    let exe = dvc::program(dvc_program)?;
    let cache = dvc::cache_dir(&exe, root)?;
    // The objects named by the record (files, directory listings), fetched if missing.
    let top: Vec<String> = covered.iter().map(|(_, _, o, _)| o.md5.clone()).collect();
    ensure_cached(&exe, root, &cache, &top)?;
    // Directory outputs: each file's md5 from the listing.
    let mut listings: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    for (_, out, obj, inner) in &covered {
        if inner.is_some() && !listings.contains_key(out) {
            let bytes = read_object(&cache, &obj.md5)?;
            let entries = parse_dir_object(&bytes).map_err(|e| {
                Error::refused(format!(
                    "DVC's cache object {} (directory '{out}' of run {}) is {e}; nothing was written",
                    obj.md5, m.run_id
                ))
            })?;
            listings.insert(
                out,
                entries.into_iter().map(|e| (e.relpath, e.md5)).collect(),
            );
        }
    }
    let mut objects: Vec<(&String, String)> = Vec::new();
    for (path, out, obj, inner) in &covered {
        match inner {
            None => objects.push((path, obj.md5.clone())),
            Some(inner) => {
                if let Some(md5) = listings[out].get(inner) {
                    objects.push((path, md5.clone()));
                }
            }
        }
    }
    let files: Vec<String> = objects.iter().map(|(_, md5)| md5.clone()).collect();
    ensure_cached(&exe, root, &cache, &files)?;
    let mut out = Vec::new();
    for (path, md5) in objects {
        let bytes = read_object(&cache, &md5)?;
        let want = m
            .outputs
            .get(path)
            .expect("wanted outputs are the manifest's");
        let got = Sha256::of(&bytes);
        if &got != want {
            return Err(Error::refused(format!(
                "DVC's cache object {md5} for {path} of run {} does not hold the recorded bytes ({got}, expected {want}); nothing was written",
                m.run_id
            ))
            .hint(format!(
                "the cache is damaged: remove {} and check out again to fetch it from the DVC remote",
                dvc::object_path(&cache, &md5).display()
            )));
        }
        out.push((path.clone(), bytes));
    }
    Ok(out)
}

/// Fetches those of `md5s` that the cache lacks, in one `dvc fetch`.
fn ensure_cached(exe: &Path, root: &Path, cache: &Path, md5s: &[String]) -> Result<()> {
    let mut missing: Vec<String> = md5s
        .iter()
        .filter(|md5| !object_file(cache, md5).is_file())
        .cloned()
        .collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    dvc::fetch(exe, root, &missing)?;
    if let Some(md5) = missing
        .iter()
        .find(|md5| !object_file(cache, md5).is_file())
    {
        return Err(Error::refused(format!(
            "DVC's remote does not have object {md5}; nothing was written"
        ))
        .hint("push it from a clone that has it (dvc push), then check out again"));
    }
    Ok(())
}

fn object_file(cache: &Path, md5: &str) -> PathBuf {
    dvc::object_path(cache, md5)
}

fn read_object(cache: &Path, md5: &str) -> Result<Vec<u8>> {
    let valid = DvcObject {
        md5: md5.to_string(),
    }
    .digest()
    .is_some();
    if !valid {
        return Err(Error::refused(format!(
            "a DVC directory listing names the malformed md5 '{md5}'; nothing was written"
        )));
    }
    let p = object_file(cache, md5);
    std::fs::read(&p).map_err(Error::io(&p))
}
