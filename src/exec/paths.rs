//! Expanding configured paths (files, directories, globs) into the sorted list of
//! repository-relative files they name, and refusing outputs that leave the repository.

use super::error::{Error, Result};
use std::path::{Component, Path, PathBuf};

/// Files named by a list of patterns.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Expanded {
    /// Repository-relative, `/`-separated, sorted, without duplicates.
    pub files: Vec<String>,
    /// Patterns that named nothing.
    pub missing: Vec<String>,
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
        let before = out.files.len();
        if is_glob(pat) {
            let full = root.join(pat);
            let full = full.to_string_lossy();
            let entries = glob::glob(&full).map_err(|e| Error::Glob {
                pattern: pat.clone(),
                message: e.to_string(),
            })?;
            for entry in entries.flatten() {
                collect(root, &entry, &mut out.files)?;
            }
        } else {
            let p = root.join(pat);
            if p.exists() {
                collect(root, &p, &mut out.files)?;
            }
        }
        if out.files.len() == before {
            out.missing.push(pat.clone());
        }
    }
    out.files.sort();
    out.files.dedup();
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

fn collect(root: &Path, p: &Path, files: &mut Vec<String>) -> Result<()> {
    let meta = match std::fs::metadata(p) {
        Ok(m) => m,
        Err(e) if vanished(&e) => return Ok(()),
        Err(e) => return Err(Error::io(p)(e)),
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
            collect(root, &e, files)?;
        }
    } else if meta.is_file() {
        files.push(relative(root, p));
    }
    Ok(())
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
        let mut files = Vec::new();
        collect(r, &r.join("removed.tmp"), &mut files).unwrap();
        collect(r, &r.join("a.csv/below-a-file"), &mut files).unwrap();
        assert!(files.is_empty());
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
