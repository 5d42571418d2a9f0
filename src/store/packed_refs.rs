//! Reading git's `packed-refs` file without loading it: a sorted file (git writes the
//! `sorted` trait in its header) is binary-searched with positioned reads, so finding
//! one ref or the refs under a prefix costs O(log n) reads however many refs are
//! packed. libgit2 parses and indexes the whole file on the first lookup that misses
//! the loose refs, which at 100,000 run refs dominated every command.
//!
//! Only the files backend has this file. Anything unexpected (no `sorted` trait, a line
//! that does not parse) returns `None`, and the caller asks libgit2 instead.

use git2::Oid;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// An open `packed-refs` file.
pub struct PackedRefs {
    file: File,
    len: u64,
    /// Offset of the first ref line (after the header).
    start: u64,
}

/// What opening found.
pub enum Opened {
    /// No `packed-refs`: no ref is packed.
    Absent,
    /// A sorted file, ready for searches.
    Sorted(PackedRefs),
    /// A file this reader does not search (unsorted, unreadable): ask libgit2.
    Unsupported,
}

const CHUNK: usize = 4096;

impl PackedRefs {
    pub fn open(common: &Path) -> Opened {
        let file = match File::open(common.join("packed-refs")) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Opened::Absent,
            Err(_) => return Opened::Unsupported,
        };
        let Ok(meta) = file.metadata() else {
            return Opened::Unsupported;
        };
        let mut head = vec![0u8; CHUNK.min(meta.len() as usize)];
        if file.read_exact_at(&mut head, 0).is_err() {
            return Opened::Unsupported;
        }
        let start = match head.first() {
            None => 0,
            Some(b'#') => {
                let Some(end) = memchr::memchr(b'\n', &head) else {
                    return Opened::Unsupported;
                };
                let traits = &head[..end];
                if !traits.starts_with(b"# pack-refs with:")
                    || !traits.split(|b| *b == b' ').any(|t| t == b"sorted")
                {
                    return Opened::Unsupported;
                }
                end as u64 + 1
            }
            // git always writes the header; a file without one may be unsorted.
            Some(_) => return Opened::Unsupported,
        };
        Opened::Sorted(PackedRefs {
            file,
            len: meta.len(),
            start,
        })
    }

    /// The start of the line holding byte `at`.
    fn line_start(&self, at: u64) -> Option<u64> {
        let mut end = at;
        while end > self.start {
            let from = end.saturating_sub(CHUNK as u64).max(self.start);
            let mut buf = vec![0u8; (end - from) as usize];
            self.file.read_exact_at(&mut buf, from).ok()?;
            if let Some(i) = memchr::memrchr(b'\n', &buf) {
                return Some(from + i as u64 + 1);
            }
            end = from;
        }
        Some(self.start)
    }

    /// The line starting at `at` (without its newline) and the offset after it.
    fn line_at(&self, at: u64) -> Option<(Vec<u8>, u64)> {
        let mut line = Vec::new();
        let mut pos = at;
        while pos < self.len {
            let n = CHUNK.min((self.len - pos) as usize);
            let mut buf = vec![0u8; n];
            self.file.read_exact_at(&mut buf, pos).ok()?;
            if let Some(i) = memchr::memchr(b'\n', &buf) {
                line.extend_from_slice(&buf[..i]);
                return Some((line, pos + i as u64 + 1));
            }
            line.extend_from_slice(&buf);
            pos += n as u64;
        }
        Some((line, self.len))
    }

    /// The first ref line at or after `at` (peeled `^` lines skipped): its start, name,
    /// id and the offset after it; `None` past the end.
    fn ref_at(&self, mut at: u64) -> Option<Option<(u64, String, Oid, u64)>> {
        while at < self.len {
            let (line, next) = self.line_at(at)?;
            if line.first() == Some(&b'^') {
                at = next;
                continue;
            }
            let (name, oid) = parse_line(&line)?;
            return Some(Some((at, name, oid, next)));
        }
        Some(None)
    }

    /// A line start from which the first ref is the first whose name is `>= key`
    /// (or the end of the file).
    fn lower_bound(&self, key: &str) -> Option<u64> {
        // Invariant: `lo` and `hi` are line starts; every ref before `lo` is < key and
        // the first ref at or after `hi` (if any) is >= key.
        let (mut lo, mut hi) = (self.start, self.len);
        while lo < hi {
            let mid = self.line_start(lo + (hi - lo) / 2)?;
            match self.ref_at(mid)? {
                // That ref lies before `hi` (the first one at or after `hi` is >= key),
                // so `next <= hi`, and `next > mid >= lo`.
                Some((_, name, _, next)) if name.as_str() < key => lo = next,
                _ => hi = mid,
            }
        }
        Some(lo)
    }

    /// The id of `name`, if packed.
    pub fn find(&self, name: &str) -> Option<Option<Oid>> {
        let at = self.lower_bound(name)?;
        Some(match self.ref_at(at)? {
            Some((_, n, oid, _)) if n == name => Some(oid),
            _ => None,
        })
    }

    /// Every packed ref whose name starts with `prefix`, in name order.
    #[cfg(test)]
    pub fn under(&self, prefix: &str) -> Option<Vec<(String, Oid)>> {
        parse_range(&self.raw_under(prefix)?, prefix)
    }

    /// The bytes of the lines holding the refs under `prefix` (with their peeled
    /// lines), as they are in the file: two binary searches and one read.
    pub fn raw_under(&self, prefix: &str) -> Option<Vec<u8>> {
        let from = self.lower_bound(prefix)?;
        let to = self.lower_bound(&past(prefix)?)?;
        let mut buf = vec![0u8; to.checked_sub(from)? as usize];
        self.file.read_exact_at(&mut buf, from).ok()?;
        Some(buf)
    }

    /// The last packed ref (in name order) whose name starts with `prefix`.
    pub fn last_under(&self, prefix: &str) -> Option<Option<(String, Oid)>> {
        let end = self.lower_bound(&past(prefix)?)?;
        if end <= self.start {
            return Some(None);
        }
        // Walk back over peeled lines to the ref line before `end`.
        let mut at = self.line_start(end - 1)?;
        loop {
            let (line, _) = self.line_at(at)?;
            if line.first() != Some(&b'^') {
                let (name, oid) = parse_line(&line)?;
                return Some(name.starts_with(prefix).then_some((name, oid)));
            }
            if at <= self.start {
                return Some(None);
            }
            at = self.line_start(at - 1)?;
        }
    }
}

impl PackedRefs {
    /// The last `n` packed refs (in name order) whose names start with `prefix`,
    /// oldest first: a binary search for the end of the range, then line by line back.
    pub fn last_n_under(&self, prefix: &str, n: usize) -> Option<Vec<(String, Oid)>> {
        let end = self.lower_bound(&past(prefix)?)?;
        let mut out = Vec::new();
        let mut at = end;
        while out.len() < n && at > self.start {
            at = self.line_start(at - 1)?;
            let (line, _) = self.line_at(at)?;
            if line.first() == Some(&b'^') {
                continue;
            }
            let (name, oid) = parse_line(&line)?;
            if !name.starts_with(prefix) {
                break;
            }
            out.push((name, oid));
        }
        out.reverse();
        Some(out)
    }

    /// The distinct path components right after `prefix` (the stages of
    /// `refs/workbench/runs/`), one binary search each.
    pub fn children_of(&self, prefix: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut at = self.lower_bound(prefix)?;
        while let Some((_, name, _, _)) = self.ref_at(at)? {
            let Some(rest) = name.strip_prefix(prefix) else {
                break;
            };
            let Some((child, _)) = rest.split_once('/') else {
                // a ref directly under the prefix: not a child directory
                at = self.lower_bound(&format!("{name}\0"))?;
                continue;
            };
            out.push(child.to_string());
            // '0' follows '/': the first name past every ref under this child
            at = self.lower_bound(&format!("{prefix}{child}0"))?;
        }
        Some(out)
    }
}

/// Whether `packed-refs` may hold a ref under `prefix`: `false` only when it surely
/// does not (no file, or a sorted file's binary search finds none).
pub fn may_hold_under(common: &Path, prefix: &str) -> bool {
    match PackedRefs::open(common) {
        Opened::Absent => false,
        Opened::Sorted(p) => !matches!(p.last_under(prefix), Some(None)),
        Opened::Unsupported => true,
    }
}

/// The first name past every name starting with `prefix`: the prefix with its last
/// byte raised.
fn past(prefix: &str) -> Option<String> {
    let mut past = prefix.as_bytes().to_vec();
    let last = past.pop()?;
    past.push(last.checked_add(1)?);
    String::from_utf8(past).ok()
}

/// The refs of `raw_under`'s lines (peeled lines skipped); `None` when a line does not
/// parse or lies outside `prefix` (the file changed between the searches and the read).
pub fn parse_range(raw: &[u8], prefix: &str) -> Option<Vec<(String, Oid)>> {
    let mut out = Vec::new();
    for line in raw.split(|b| *b == b'\n') {
        if line.is_empty() || line.first() == Some(&b'^') {
            continue;
        }
        let (name, oid) = parse_line(line)?;
        if !name.starts_with(prefix) {
            return None;
        }
        out.push((name, oid));
    }
    Some(out)
}

/// `<40 hex> <name>`.
fn parse_line(line: &[u8]) -> Option<(String, Oid)> {
    let (hex, rest) = line.split_at_checked(40)?;
    let name = rest.strip_prefix(b" ")?;
    let oid = Oid::from_str(std::str::from_utf8(hex).ok()?).ok()?;
    Some((String::from_utf8(name.to_vec()).ok()?, oid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PackedRefs {
        std::fs::write(dir.join("packed-refs"), text).unwrap();
        match PackedRefs::open(dir) {
            Opened::Sorted(p) => p,
            _ => panic!("not opened as sorted"),
        }
    }

    fn hex(i: usize) -> String {
        format!("{i:040x}")
    }

    #[test]
    fn finds_refs_and_ranges_in_a_large_sorted_file() {
        let d = tempfile::tempdir().unwrap();
        let mut names: Vec<String> = (0..5000)
            .map(|i| format!("refs/workbench/runs/s{}/r{:05}", i % 7, i))
            .collect();
        names.push("refs/heads/main".into());
        names.push("refs/tags/v1".into());
        names.sort();
        let mut text = "# pack-refs with: peeled fully-peeled sorted \n".to_string();
        for (i, n) in names.iter().enumerate() {
            text.push_str(&format!("{} {n}\n", hex(i + 1)));
            if n.starts_with("refs/tags/") || i % 500 == 0 {
                text.push_str(&format!("^{}\n", hex(99_999)));
            }
        }
        let p = write(d.path(), &text);
        for (i, n) in names.iter().enumerate() {
            assert_eq!(
                p.find(n),
                Some(Some(Oid::from_str(&hex(i + 1)).unwrap())),
                "{n}"
            );
        }
        assert_eq!(p.find("refs/workbench/runs/s1/r99999"), Some(None));
        assert_eq!(p.find("refs/a"), Some(None));
        assert_eq!(p.find("refs/zzz"), Some(None));
        for s in 0..7 {
            let prefix = format!("refs/workbench/runs/s{s}/");
            let want: Vec<&String> = names.iter().filter(|n| n.starts_with(&prefix)).collect();
            let got = p.under(&prefix).unwrap();
            assert_eq!(got.iter().map(|(n, _)| n).collect::<Vec<_>>(), want);
            let last = p.last_under(&prefix).unwrap().unwrap();
            assert_eq!(&last.0, *want.last().unwrap());
        }
        assert_eq!(p.under("refs/workbench/runs/").unwrap().len(), 5000);
        assert_eq!(
            p.children_of("refs/workbench/runs/").unwrap(),
            (0..7).map(|s| format!("s{s}")).collect::<Vec<_>>()
        );
        assert_eq!(
            p.children_of("refs/").unwrap(),
            ["heads", "tags", "workbench"]
        );
        for s in 0..7 {
            let prefix = format!("refs/workbench/runs/s{s}/");
            let want: Vec<&String> = names.iter().filter(|n| n.starts_with(&prefix)).collect();
            let got = p.last_n_under(&prefix, 25).unwrap();
            let got: Vec<&String> = got.iter().map(|(n, _)| n).collect();
            assert_eq!(got, want[want.len() - 25..]);
            assert_eq!(p.last_n_under(&prefix, 100_000).unwrap().len(), want.len());
        }
        assert_eq!(p.under("refs/nothing/").unwrap(), vec![]);
        assert_eq!(p.last_under("refs/nothing/").unwrap(), None);
        assert_eq!(
            p.last_under("refs/tags/").unwrap().unwrap().0,
            "refs/tags/v1"
        );
    }

    #[test]
    fn small_files_without_a_final_newline_and_unsorted_ones() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            &format!("# pack-refs with: sorted\n{} refs/a/x", hex(1)),
        );
        assert_eq!(
            p.find("refs/a/x"),
            Some(Some(Oid::from_str(&hex(1)).unwrap()))
        );
        assert_eq!(p.under("refs/a/").unwrap().len(), 1);
        assert_eq!(p.last_under("refs/a/").unwrap().unwrap().0, "refs/a/x");
        let p = write(d.path(), "# pack-refs with: sorted\n");
        assert_eq!(p.find("refs/a/x"), Some(None));
        assert_eq!(p.last_under("refs/a/").unwrap(), None);
        std::fs::write(
            d.path().join("packed-refs"),
            format!(
                "# pack-refs with: peeled\n{} refs/b\n{} refs/a\n",
                hex(1),
                hex(2)
            ),
        )
        .unwrap();
        assert!(matches!(PackedRefs::open(d.path()), Opened::Unsupported));
        std::fs::write(d.path().join("packed-refs"), format!("{} refs/b\n", hex(1))).unwrap();
        assert!(matches!(PackedRefs::open(d.path()), Opened::Unsupported));
        std::fs::remove_file(d.path().join("packed-refs")).unwrap();
        assert!(matches!(PackedRefs::open(d.path()), Opened::Absent));
        // A line that does not parse makes the caller ask libgit2.
        let p = write(d.path(), "# pack-refs with: sorted\nnot a ref line\n");
        assert_eq!(p.find("refs/a"), None);
    }
}
