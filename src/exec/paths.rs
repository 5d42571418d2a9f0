//! Expanding configured paths (files, directories, globs) into the sorted list of
//! repository-relative files they name, and refusing outputs that leave the repository.
//!
//! Records name files by UTF-8 paths (JSON keys, tree entries shown as text). A file
//! whose name is not UTF-8 is therefore never turned into a lossy name that no longer
//! exists (which once made `run` fail after the command with a false "No such file
//! or directory"): `expand` returns it apart, with its bytes escaped, and the caller
//! refuses it (dependencies and code, before the command runs) or records the run
//! without it and says so (outputs, after).

use super::error::{Error, Result};
use crate::model::text::escape_bytes;
use std::path::{Component, Path, PathBuf};

/// Files named by a list of patterns.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// Repository-relative, `/`-separated, sorted, without duplicates.
    pub files: Vec<String>,
    /// Patterns that named nothing.
    pub missing: Vec<String>,
    /// Files (or directories, shown with a trailing `/`) whose names are not UTF-8.
    pub not_utf8: Vec<NotUtf8>,
}

/// A file under a declared path whose name is not UTF-8, which no record can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotUtf8 {
    /// The configured path (after placeholders) that named it.
    pub pattern: String,
    /// Its repository-relative path, bytes that are not UTF-8 as `\xNN`.
    pub escaped: String,
}

impl Expanded {
    /// Refuses names that are not UTF-8: `what` is "dependency", "code path"...
    pub fn refuse_not_utf8(&self, what: &str) -> Result<()> {
        match self.not_utf8.first() {
            None => Ok(()),
            Some(n) => Err(Error::NotUtf8 {
                what: what.to_string(),
                pattern: n.pattern.clone(),
                escaped: n.escaped.clone(),
                more: self.not_utf8.len() - 1,
            }),
        }
    }
}

fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// Expands patterns relative to `root`. A directory names every file below it
/// (`.git` excluded); a glob names what it matches; a plain path that does not exist
/// is reported in `missing`.
pub fn expand(root: &Path, patterns: &[String]) -> Result<Expanded> {
    let mut out = Expanded::default();
    for pat in patterns {
        let before = out.files.len() + out.not_utf8.len();
        if is_glob(pat) {
            let full = root.join(pat);
            let full = full.to_string_lossy();
            let entries = glob::glob(&full).map_err(|e| Error::Glob {
                pattern: pat.clone(),
                message: e.to_string(),
            })?;
            for entry in entries.flatten() {
                collect(root, &entry, pat, &mut out)?;
            }
            // The glob crate skips names that are not UTF-8 without a word.
            let comps: Vec<&str> = pat.split('/').filter(|c| !c.is_empty()).collect();
            glob_not_utf8(root, root, &comps, pat, &mut out);
        } else {
            let p = root.join(pat);
            if p.exists() {
                collect(root, &p, pat, &mut out)?;
            }
        }
        if out.files.len() + out.not_utf8.len() == before {
            out.missing.push(pat.clone());
        }
    }
    out.files.sort();
    out.files.dedup();
    out.not_utf8.sort_by(|a, b| a.escaped.cmp(&b.escaped));
    out.not_utf8.dedup_by(|a, b| a.escaped == b.escaped);
    Ok(out)
}

/// Errors that mean an entry listed a moment ago is gone (another process removed
/// it, as writers of temporary files do): it is left out, as if never listed.
fn vanished(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

fn collect(root: &Path, p: &Path, pattern: &str, out: &mut Expanded) -> Result<()> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if vanished(&e) => return Ok(()),
        Err(e) => return Err(Error::io(p)(e)),
    };
    if !meta.is_dir() && !meta.is_file() {
        return Ok(());
    }
    let rel = match utf8_relative(root, p) {
        Ok(rel) => rel,
        Err(mut escaped) => {
            if meta.is_dir() {
                escaped.push('/');
            }
            out.not_utf8.push(NotUtf8 {
                pattern: pattern.to_string(),
                escaped,
            });
            return Ok(());
        }
    };
    if meta.is_dir() {
        if p.file_name().is_some_and(|n| n == ".git") {
            return Ok(());
        }
        let listing = match std::fs::read_dir(p) {
            Ok(l) => l,
            Err(e) if vanished(&e) => return Ok(()),
            Err(e) => return Err(Error::io(p)(e)),
        };
        let mut entries: Vec<PathBuf> = listing.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for e in entries {
            // Do not follow directory symlinks: they can loop.
            if e.symlink_metadata()
                .is_ok_and(|m| m.file_type().is_symlink())
                && e.metadata().is_ok_and(|m| m.is_dir())
            {
                continue;
            }
            collect(root, &e, pattern, out)?;
        }
    } else {
        out.files.push(rel);
    }
    Ok(())
}

/// Finds what a glob would have matched (each name as it reads with its bad bytes
/// replaced) among entries whose names are not UTF-8, which `glob` passes over. A
/// `**` reports every such entry below it.
fn glob_not_utf8(root: &Path, dir: &Path, comps: &[&str], pattern: &str, out: &mut Expanded) {
    let Some((comp, rest)) = comps.split_first() else {
        return;
    };
    if !is_glob(comp) {
        let next = dir.join(comp);
        if !rest.is_empty() && next.is_dir() {
            glob_not_utf8(root, &next, rest, pattern, out);
        }
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let matcher = glob::Pattern::new(comp).ok();
    for e in entries.flatten() {
        let name = e.file_name();
        let is_dir = e.path().is_dir();
        let matched = *comp == "**"
            || matcher
                .as_ref()
                .is_some_and(|m| m.matches(&name.to_string_lossy()));
        if name.to_str().is_none() {
            if matched {
                if let Err(mut escaped) = utf8_relative(root, &e.path()) {
                    if is_dir {
                        escaped.push('/');
                    }
                    out.not_utf8.push(NotUtf8 {
                        pattern: pattern.to_string(),
                        escaped,
                    });
                }
            }
        } else if is_dir && *comp == "**" {
            // `**` matches any depth, and every name below it is reported.
            glob_not_utf8(root, &e.path(), comps, pattern, out);
        } else if is_dir && matched && !rest.is_empty() {
            glob_not_utf8(root, &e.path(), rest, pattern, out);
        }
    }
}

/// `p` relative to `root` as `relative` gives it, or, when a component is not UTF-8,
/// the whole relative path with those bytes escaped.
pub fn utf8_relative(root: &Path, p: &Path) -> std::result::Result<String, String> {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let mut parts = Vec::new();
    let mut lossless = true;
    for c in rel.components() {
        if let Component::Normal(s) = c {
            match s.to_str() {
                Some(s) => parts.push(s.to_string()),
                None => {
                    lossless = false;
                    parts.push(escape_os(s));
                }
            }
        }
    }
    let joined = parts.join("/");
    if lossless {
        Ok(joined)
    } else {
        Err(joined)
    }
}

#[cfg(unix)]
fn escape_os(s: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    escape_bytes(s.as_bytes())
}

#[cfg(not(unix))]
fn escape_os(s: &std::ffi::OsStr) -> String {
    escape_bytes(s.to_string_lossy().as_bytes())
}

/// `p` relative to `root`, `/`-separated, with `.` components dropped.
pub fn relative(root: &Path, p: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    rel.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Refuses an output that resolves (through symlinks) outside the repository or
/// into its `.git` directory.
pub fn check_inside(root: &Path, rel: &str, what: &str) -> Result<()> {
    let canon_root = root.canonicalize().map_err(Error::io(root))?;
    // Resolve the longest existing ancestor: a missing file below a symlinked
    // directory escapes as surely as an existing one.
    let mut existing = root.join(rel);
    let mut rest = Vec::new();
    let resolved = loop {
        match existing.canonicalize() {
            Ok(c) => break rest.iter().rev().fold(c, |acc: PathBuf, n| acc.join(n)),
            Err(_) => match existing.file_name() {
                Some(n) => {
                    rest.push(n.to_owned());
                    existing.pop();
                }
                None => return Ok(()),
            },
        }
    };
    let inside = resolved.starts_with(&canon_root)
        && !resolved.strip_prefix(&canon_root).is_ok_and(|r| {
            r.components()
                .next()
                .is_some_and(|c| c.as_os_str() == ".git")
        });
    if inside {
        Ok(())
    } else {
        Err(Error::Outside {
            what: what.to_string(),
            path: rel.to_string(),
            resolved,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_files_dirs_and_globs() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("src/sub")).unwrap();
        std::fs::create_dir_all(r.join(".git")).unwrap();
        for f in ["a.csv", "b.csv", "src/x.py", "src/sub/y.py", ".git/HEAD"] {
            std::fs::write(r.join(f), f).unwrap();
        }
        let e = expand(
            r,
            &[
                "*.csv".into(),
                "src".into(),
                "nope.txt".into(),
                "a.csv".into(),
            ],
        )
        .unwrap();
        assert_eq!(e.files, ["a.csv", "b.csv", "src/sub/y.py", "src/x.py"]);
        assert_eq!(e.missing, ["nope.txt"]);
        let e = expand(r, &[".".into()]).unwrap();
        assert!(!e.files.iter().any(|f| f.starts_with(".git")));
        // an entry removed between its listing and its stat is left out
        let mut out = Expanded {
            files: Vec::new(),
            missing: Vec::new(),
            not_utf8: Vec::new(),
        };
        collect(r, &r.join("removed.tmp"), "removed.tmp", &mut out).unwrap();
        collect(r, &r.join("a.csv/below-a-file"), "a.csv", &mut out).unwrap();
        assert!(out.files.is_empty() && out.not_utf8.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_come_apart() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir_all(r.join("data")).unwrap();
        std::fs::write(r.join("data/ok.csv"), "x").unwrap();
        let bad = r
            .join("data")
            .join(std::ffi::OsStr::from_bytes(b"caf\xe9.csv"));
        if std::fs::write(&bad, "y").is_err() {
            return; // a file system that only stores UTF-8 names
        }
        let bad_dir = r.join("data").join(std::ffi::OsStr::from_bytes(b"\xff"));
        std::fs::create_dir(&bad_dir).unwrap();
        std::fs::write(bad_dir.join("inner.csv"), "z").unwrap();
        for pat in ["data", "data/*"] {
            let e = expand(r, &[pat.into()]).unwrap();
            assert_eq!(e.files, ["data/ok.csv"], "{pat}");
            let names: Vec<&str> = e.not_utf8.iter().map(|n| n.escaped.as_str()).collect();
            assert_eq!(names, ["data/\\xff/", "data/caf\\xe9.csv"], "{pat}");
            let err = e.refuse_not_utf8("dependency").unwrap_err().to_string();
            assert_eq!(
                err,
                format!("dependency '{pat}' holds a file whose name is not UTF-8, which no record can name: data/\\xff/ (and 1 more)")
            );
        }
        let only = expand(r, &["data/caf*".into()]).unwrap();
        assert!(only.missing.is_empty() && only.files.is_empty());
        assert_eq!(only.not_utf8.len(), 1);
        let csv = expand(r, &["*/*.csv".into(), "**/inner.csv".into()]).unwrap();
        let names: Vec<&str> = csv.not_utf8.iter().map(|n| n.escaped.as_str()).collect();
        // `**` reports the directory; glob itself descends into it and finds the file.
        assert_eq!(
            names,
            ["data/\\xff/", "data/\\xff/inner.csv", "data/caf\\xe9.csv"]
        );
        let txt = expand(r, &["data/*.txt".into()]).unwrap();
        assert!(txt.not_utf8.is_empty());
        assert_eq!(txt.missing, ["data/*.txt"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_repository_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("out")).unwrap();
        std::fs::write(d.path().join("ok.txt"), "x").unwrap();
        let e = check_inside(d.path(), "out/x.csv", "output").unwrap_err();
        assert!(e.to_string().contains("outside the repository"), "{e}");
        let e = check_inside(d.path(), "out", "output").unwrap_err();
        assert!(e.to_string().contains("outside"));
        check_inside(d.path(), "ok.txt", "output").unwrap();
        check_inside(d.path(), "not-yet.txt", "output").unwrap();
    }
}
