//! The stat cache: sha256 of files keyed by their stat data, so unchanged large files
//! are never read twice. It lives at `<git-common-dir>/workbench/stat-cache`.
//!
//! Like git's index it guards against "racy" entries: a digest is trusted only when
//! the file's mtime is older, by more than the file system's timestamp granularity,
//! than the moment hashing finished (after a second stat showed the file unchanged).
//! A later write then always gets a later mtime. Timestamps with sub-second parts
//! get a 50 ms margin (a few kernel clock ticks); whole-second ones get two seconds.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

const HEADER: &str = "workbench-statcache v2";
/// How much older than the end of hashing an mtime must be for its digest to be trusted.
fn racy_margin(mtime_ns: i128) -> i128 {
    if mtime_ns % 1_000_000_000 == 0 {
        2_000_000_000
    } else {
        50_000_000
    }
}

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
///
/// The file holds one line per file, `path<TAB>hex size mtime ctime ino hashed_at`,
/// sorted by path. Loading only finds line boundaries; a lookup is a binary search, so
/// a cache with every output of ten thousand runs costs no parsing up front.
#[derive(Debug, Default)]
pub struct StatCache {
    file: Option<PathBuf>,
    text: String,
    /// Byte ranges of the entry lines of `text`, in file (path) order.
    lines: Vec<(usize, usize)>,
    added: BTreeMap<String, Entry>,
}

pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// Cache key of a path; paths that cannot be written on one line are not cached.
fn key(path: &Path) -> Option<&str> {
    path.to_str().filter(|p| !p.contains(['\t', '\n']))
}

impl StatCache {
    /// A cache that remembers nothing (for `--no-stat-cache` and bare runs).
    pub fn disabled() -> StatCache {
        StatCache::default()
    }

    /// Loads the cache file; a missing or damaged file is an empty cache.
    pub fn load(file: PathBuf) -> StatCache {
        let mut text = std::fs::read_to_string(&file).unwrap_or_default();
        if !text.starts_with(HEADER) || !text[HEADER.len()..].starts_with('\n') {
            text.clear();
        }
        let mut lines = Vec::new();
        if !text.is_empty() {
            let mut at = HEADER.len() + 1;
            while at < text.len() {
                let end = text[at..].find('\n').map_or(text.len(), |i| at + i);
                lines.push((at, end));
                at = end + 1;
            }
        }
        StatCache {
            file: Some(file),
            text,
            lines,
            added: BTreeMap::new(),
        }
    }

    fn line_path(&self, (start, end): (usize, usize)) -> &str {
        let line = &self.text[start..end];
        line.split_once('\t').map_or(line, |(p, _)| p)
    }

    fn stored(&self, key: &str) -> Option<Entry> {
        let i = self
            .lines
            .binary_search_by(|l| self.line_path(*l).cmp(key))
            .ok()?;
        let (start, end) = self.lines[i];
        parse_fields(self.text[start..end].split_once('\t')?.1)
    }

    /// The cached hex digest of `path`, when its stat data still matches.
    pub fn lookup(&self, path: &Path, stamp: &Stamp) -> Option<String> {
        let key = key(path)?;
        let e = match self.added.get(key) {
            Some(e) => e.clone(),
            None => self.stored(key)?,
        };
        (e.stamp == *stamp && e.hashed_at_ns - stamp.mtime_ns >= racy_margin(stamp.mtime_ns))
            .then_some(e.hex)
    }

    pub fn insert(&mut self, path: PathBuf, stamp: Stamp, hashed_at_ns: i128, hex: String) {
        let Some(key) = self.file.as_ref().and(key(&path)) else {
            return;
        };
        self.added.insert(
            key.to_string(),
            Entry {
                stamp,
                hashed_at_ns,
                hex,
            },
        );
    }

    /// Writes the cache atomically (temp file + rename) if anything was added, merging
    /// the new entries into the sorted file. Failure only costs speed.
    pub fn save(&mut self) {
        let Some(file) = &self.file else { return };
        if self.added.is_empty() {
            return;
        }
        let Some(dir) = file.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let mut out = String::with_capacity(self.text.len() + self.added.len() * 140);
        out.push_str(HEADER);
        out.push('\n');
        let push_new = |out: &mut String, k: &str, e: &Entry| {
            out.push_str(&format!(
                "{k}\t{} {} {} {} {} {}\n",
                e.hex,
                e.stamp.size,
                e.stamp.mtime_ns,
                e.stamp.ctime_ns,
                e.stamp.ino,
                e.hashed_at_ns
            ));
        };
        let mut added = self.added.iter().peekable();
        for &(start, end) in &self.lines {
            let path = self.line_path((start, end));
            while let Some((k, e)) = added.next_if(|(k, _)| k.as_str() < path) {
                push_new(&mut out, k, e);
            }
            if added.peek().is_some_and(|(k, _)| k.as_str() == path) {
                continue; // replaced by the newer entry, written in the next round
            }
            out.push_str(&self.text[start..end]);
            out.push('\n');
        }
        for (k, e) in added {
            push_new(&mut out, k, e);
        }
        if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
            if tmp.write_all(out.as_bytes()).is_ok() {
                let _ = tmp.persist(file);
            }
        }
        self.added.clear();
    }
}

fn parse_fields(fields: &str) -> Option<Entry> {
    let mut it = fields.split(' ');
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
    Some(Entry {
        stamp,
        hashed_at_ns,
        hex,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_rejects_racy_or_changed_entries() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("wb/stat-cache");
        let mut c = StatCache::load(file.clone());
        const RACY_NS: i128 = 2_000_000_000;
        let st = Stamp {
            size: 3,
            mtime_ns: 1_000_000_000_123,
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
        // whole-second timestamps need the longer margin
        let coarse = Stamp {
            mtime_ns: 1_000_000_000_000,
            ..st
        };
        c.insert(
            "/x/coarse".into(),
            coarse,
            coarse.mtime_ns + 1_000_000_000,
            hex.clone(),
        );
        c.save();
        let c = StatCache::load(file);
        assert_eq!(c.lookup(Path::new("/x/a b.csv"), &st), Some(hex.clone()));
        assert_eq!(c.lookup(Path::new("/x/racy"), &st), None);
        assert_eq!(c.lookup(Path::new("/x/coarse"), &coarse), None);
        let moved = Stamp { size: 4, ..st };
        assert_eq!(c.lookup(Path::new("/x/a b.csv"), &moved), None);
        assert!(StatCache::disabled()
            .lookup(Path::new("/x/a b.csv"), &st)
            .is_none());
    }
}
