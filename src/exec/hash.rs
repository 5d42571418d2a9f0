//! Streaming sha256 of many files on every core, consulting the stat cache first.
//! Files may change while they are hashed: each digest is of the bytes read.

use super::error::{Error, Result};
use super::progress::{Phase, Progress, Unit, NONE};
use super::stable::{read_stable, Found, Links};
use super::statcache::{now_ns, Stamp, StatCache};
use sha2::Digest as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

const BUF: usize = 1 << 20;

use crate::model::digest::Sha256;

/// sha256 of a file, read in 1 MiB blocks.
pub fn sha256_file(path: &Path) -> std::io::Result<Sha256> {
    sha256_of(&mut std::fs::File::open(path)?)
}

/// sha256 of everything an open file holds from its current position.
fn sha256_of(f: &mut std::fs::File) -> std::io::Result<Sha256> {
    sha256_counted(f, &NONE)
}

/// `sha256_of`, telling `progress` of every block read.
fn sha256_counted(f: &mut std::fs::File, progress: &dyn Progress) -> std::io::Result<Sha256> {
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; BUF];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        progress.advance(n as u64);
    }
    Ok(Sha256::from_bytes(h.finalize().into()))
}

/// A digest, and the stat data of the file read when it may be cached.
type Hashed = Option<(Sha256, Option<(Stamp, i128)>)>;

/// Hashes `rels` (relative to `root`) and returns `(rel, digest)` in input order.
/// Cached digests are used when the stat data matches; the rest are read on up to
/// `available_parallelism` threads. A file another process rewrites meanwhile gets
/// the digest of the bytes read (`stable::read_stable`); one that is gone before it
/// could be read is left out, as if it had never been there.
pub fn hash_files(
    root: &Path,
    rels: &[String],
    cache: &mut StatCache,
) -> Result<Vec<(String, Sha256)>> {
    hash_files_shown(root, rels, cache, &NONE, "hashing")
}

/// `hash_files`, reporting the bytes read to `progress` as the phase `what`
/// ("hashing inputs"), out of the sizes of the files the cache could not answer for.
pub fn hash_files_shown(
    root: &Path,
    rels: &[String],
    cache: &mut StatCache,
    progress: &dyn Progress,
    what: &str,
) -> Result<Vec<(String, Sha256)>> {
    let mut results: Vec<Option<Sha256>> = vec![None; rels.len()];
    let mut todo: Vec<(usize, PathBuf)> = Vec::new();
    let mut total: u64 = 0;
    for (i, rel) in rels.iter().enumerate() {
        let abs = root.join(rel);
        let meta = match std::fs::metadata(&abs) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&abs)(e)),
        };
        match cache
            .lookup(&abs, &Stamp::of(&meta))
            .and_then(|hex| Sha256::parse_hex(&hex).ok())
        {
            Some(d) => results[i] = Some(d),
            None => {
                total = total.saturating_add(meta.len());
                todo.push((i, abs));
            }
        }
    }
    let _phase = (!todo.is_empty()).then(|| Phase::begin(progress, what, Some(total), Unit::Bytes));
    let threads = if todo.len() > 1 {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(todo.len())
    } else {
        1
    };
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Result<Hashed>)>> = Mutex::new(Vec::new());
    let work = |todo: &[(usize, PathBuf)]| loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let Some((i, abs)) = todo.get(k) else {
            break;
        };
        progress.item(&rels[*i]);
        let r = read_stable(abs, Links::Follow, |f| sha256_counted(f, progress))
            .map_err(Error::io(abs))
            .map(|found| match found {
                // Only a file that did not change while it was read is cacheable,
                // and its digest dates from after that last look.
                Found::File {
                    value,
                    stamp,
                    stable,
                    ..
                } => Some((value, stable.then(|| (stamp, now_ns())))),
                Found::Link { .. } | Found::Gone => None,
            });
        done.lock().expect("hash results lock").push((*i, r));
    };
    if threads <= 1 {
        work(&todo);
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| work(&todo));
            }
        });
    }
    for (i, r) in done.into_inner().expect("hash results lock") {
        let Some((digest, cacheable)) = r? else {
            continue;
        };
        if let Some((stamp, at)) = cacheable {
            cache.insert(root.join(&rels[i]), stamp, at, digest.hex());
        }
        results[i] = Some(digest);
    }
    Ok(rels
        .iter()
        .zip(results)
        .filter_map(|(rel, h)| Some((rel.clone(), h?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(
            Sha256::of(b"abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let d = tempfile::tempdir().unwrap();
        let names: Vec<String> = (0..50).map(|i| format!("f{i}.txt")).collect();
        for (i, n) in names.iter().enumerate() {
            std::fs::write(d.path().join(n), "x".repeat(i)).unwrap();
        }
        let mut cache = StatCache::disabled();
        let got = hash_files(d.path(), &names, &mut cache).unwrap();
        for (i, (n, hex)) in got.iter().enumerate() {
            assert_eq!(n, &names[i]);
            assert_eq!(hex, &Sha256::of("x".repeat(i).as_bytes()));
        }
    }
}
