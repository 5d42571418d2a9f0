//! The stat cache: sha256 of files keyed by their stat data, so unchanged large files
//! are never read twice. It lives at `<git-common-dir>/workbench/stat-cache`.
//!
//! Like git's index it guards against "racy" entries: a hash is trusted only when
//! the file's mtime is at least `RACY_NS` older than the moment it was hashed, so a
//! file rewritten within one timestamp tick of being hashed is read again.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const HEADER: &str = "workbench-statcache v1";
const RACY_NS: i128 = 1_000_000_000;

/// Stat data that identifies a file's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
    pub ino: u64,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Stamp {
                size: meta.len(),
                mtime_ns: meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128,
                ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
                ino: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos() as i128);
            Stamp {
                size: meta.len(),
                mtime_ns,
                ctime_ns: mtime_ns,
                ino: 0,
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    stamp: Stamp,
    hashed_at_ns: i128,
    hex: String,
}

/// The cache, loaded once per command and saved when it changed.
#[derive(Debug, Default)]
pub struct StatCache {
    file: Option<PathBuf>,
    entries: HashMap<PathBuf, Entry>,
    changed: bool,
}

pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

impl StatCache {
    /// A cache that remembers nothing (for `--no-stat-cache` and bare runs).
    pub fn disabled() -> StatCache {
        StatCache::default()
    }

    /// Loads the cache file; a missing or damaged file is an empty cache.
    pub fn load(file: PathBuf) -> StatCache {
        let mut entries = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if lines.next() == Some(HEADER) {
                for line in lines {
                    if let Some((path, e)) = parse_line(line) {
                        entries.insert(path, e);
                    }
                }
            }
        }
        StatCache {
            file: Some(file),
            entries,
            changed: false,
        }
    }

    /// The cached hex digest of `path`, when its stat data still matches.
    pub fn lookup(&self, path: &Path, stamp: &Stamp) -> Option<&str> {
        let e = self.entries.get(path)?;
        (e.stamp == *stamp && e.hashed_at_ns - stamp.mtime_ns >= RACY_NS).then_some(e.hex.as_str())
    }

    pub fn insert(&mut self, path: PathBuf, stamp: Stamp, hashed_at_ns: i128, hex: String) {
        if self.file.is_none() {
            return;
        }
        self.entries.insert(
            path,
            Entry {
                stamp,
                hashed_at_ns,
                hex,
            },
        );
        self.changed = true;
    }

    /// Writes the cache atomically (temp file + rename) if anything changed. Entries
    /// for files that no longer exist are dropped. Failure only costs speed.
    pub fn save(&mut self) {
        let Some(file) = &self.file else { return };
        if !self.changed {
            return;
        }
        let Some(dir) = file.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let mut text = String::with_capacity(self.entries.len() * 120);
        text.push_str(HEADER);
        text.push('\n');
        for (path, e) in &self.entries {
            let Some(p) = path.to_str() else { continue };
            if p.contains('\n') {
                continue;
            }
            text.push_str(&format!(
                "{} {} {} {} {} {} {}\n",
                e.hex,
                e.stamp.size,
                e.stamp.mtime_ns,
                e.stamp.ctime_ns,
                e.stamp.ino,
                e.hashed_at_ns,
                p
            ));
        }
        if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
            if tmp.write_all(text.as_bytes()).is_ok() {
                let _ = tmp.persist(file);
            }
        }
        self.changed = false;
    }
}

fn parse_line(line: &str) -> Option<(PathBuf, Entry)> {
    let mut it = line.splitn(7, ' ');
    let hex = it.next()?.to_string();
    if hex.len() != 64 {
        return None;
    }
    let stamp = Stamp {
        size: it.next()?.parse().ok()?,
        mtime_ns: it.next()?.parse().ok()?,
        ctime_ns: it.next()?.parse().ok()?,
        ino: it.next()?.parse().ok()?,
    };
    let hashed_at_ns = it.next()?.parse().ok()?;
    let path = PathBuf::from(it.next()?);
    Some((
        path,
        Entry {
            stamp,
            hashed_at_ns,
            hex,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_rejects_racy_or_changed_entries() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("wb/stat-cache");
        let mut c = StatCache::load(file.clone());
        let st = Stamp {
            size: 3,
            mtime_ns: 1_000_000_000_000,
            ctime_ns: 5,
            ino: 9,
        };
        let hex = "a".repeat(64);
        c.insert(
            "/x/a b.csv".into(),
            st,
            st.mtime_ns + 2 * RACY_NS,
            hex.clone(),
        );
        c.insert("/x/racy".into(), st, st.mtime_ns + 10, hex.clone());
        c.save();
        let c = StatCache::load(file);
        assert_eq!(c.lookup(Path::new("/x/a b.csv"), &st), Some(hex.as_str()));
        assert_eq!(c.lookup(Path::new("/x/racy"), &st), None);
        let moved = Stamp { size: 4, ..st };
        assert_eq!(c.lookup(Path::new("/x/a b.csv"), &moved), None);
        assert!(StatCache::disabled()
            .lookup(Path::new("/x/a b.csv"), &st)
            .is_none());
    }
}
