//! The git side of the working-tree mirror (`model::mirror` decides what it holds):
//! its untracked files ignored through the repository's `info/exclude`, in a marked
//! block that never touches the user's own lines, and the files a decision presents
//! staged in the index. Staging goes through `git update-index`, so that git's own
//! index code keeps every extension (split index, untracked cache, fsmonitor) and
//! applies the clean filters it would apply to `git add`; the index named by
//! `GIT_INDEX_FILE` is the one staged, as for git.

use super::error::{Error, Result};
use super::Store;
use crate::model::mirror::with_exclude_block;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

impl Store {
    /// The repository's `info/exclude`, shared by all worktrees as git reads it.
    fn exclude_file(&self) -> std::path::PathBuf {
        self.common_dir().join("info").join("exclude")
    }

    /// Puts the mirror's block in `info/exclude` (`model::mirror::with_exclude_block`);
    /// true when the file changed. Replaced through a rename, so git never reads half
    /// of it; two writers racing both write the same text.
    pub fn ensure_mirror_excluded(&self) -> Result<bool> {
        let path = self.exclude_file();
        let text = match std::fs::read(&path) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(&path)(e)),
        };
        let Some(new) = with_exclude_block(&text) else {
            return Ok(false);
        };
        let dir = path.parent().expect("info/exclude has a parent");
        std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
        let mut tmp = tempfile::Builder::new()
            .prefix("exclude.")
            .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(Error::io(dir))?;
        std::io::Write::write_all(&mut tmp, new.as_bytes()).map_err(Error::io(&path))?;
        tmp.persist(&path).map_err(|e| Error::io(&path)(e.error))?;
        Ok(true)
    }

    /// The paths among `paths` (relative to the working tree root) that an ignore rule
    /// other than one of `own` patterns in `info/exclude` ignores: the user keeps them
    /// out of git on purpose, so they are never staged.
    pub fn ignored_by_user(
        &self,
        root: &Path,
        paths: &[String],
        own: &[String],
    ) -> Result<BTreeSet<String>> {
        if paths.is_empty() {
            return Ok(BTreeSet::new());
        }
        // --no-index: the rules that match, whether or not the path is tracked now.
        let mut input = Vec::new();
        for p in paths {
            input.extend_from_slice(p.as_bytes());
            input.push(0);
        }
        let out = run_with_input(
            self.git_in(root)
                .args(["check-ignore", "--no-index", "--verbose", "--stdin", "-z"]),
            &input,
        )
        .map_err(|e| tool("check-ignore", e.to_string()))?;
        // 0: some path matched; 1: none did; anything else is a failure.
        if !matches!(out.status.code(), Some(0 | 1)) {
            return Err(tool(
                "check-ignore",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        let fields: Vec<&[u8]> = out.stdout.split(|b| *b == 0).collect();
        let exclude = self.exclude_file();
        let mut user = BTreeSet::new();
        for rec in fields.chunks_exact(4) {
            let (source, pattern, path) = (
                String::from_utf8_lossy(rec[0]),
                String::from_utf8_lossy(rec[2]),
                String::from_utf8_lossy(rec[3]).into_owned(),
            );
            // A negated pattern matched: the path is not ignored.
            if pattern.starts_with('!') {
                continue;
            }
            let ours = own.iter().any(|p| *p == pattern)
                && same_file(&root.join(source.as_ref()), &exclude);
            if !ours {
                user.insert(path);
            }
        }
        Ok(user)
    }

    /// Stages the working-tree state of each path: its file's content, or the removal
    /// of its index entry when the file is gone (a path in neither is left alone).
    /// Nothing is staged while one of the paths has an unresolved merge conflict:
    /// staging would resolve it silently, and that is the user's to do.
    pub fn stage_paths(&self, root: &Path, paths: &[String]) -> Result<()> {
        if paths.is_empty() {
            return Ok(());
        }
        let index = self
            .repo
            .index()
            .and_then(|mut i| i.read(false).map(|()| i))
            .map_err(Error::git("cannot read the index"))?;
        let conflicted: Vec<&str> = paths
            .iter()
            .filter(|p| (1..=3).any(|stage| index.get_path(Path::new(p.as_str()), stage).is_some()))
            .map(String::as_str)
            .collect();
        if !conflicted.is_empty() {
            return Err(Error::Tool {
                what: "not staged".into(),
                message: format!(
                    "{} {} an unresolved merge conflict; resolve it first",
                    conflicted.join(", "),
                    if conflicted.len() == 1 { "has" } else { "have" }
                ),
            });
        }
        let out = self
            .git_in(root)
            .args(["update-index", "--add", "--remove", "--"])
            .args(paths)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| tool("update-index", e.to_string()))?;
        if !out.status.success() {
            return Err(tool(
                "update-index",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        // This process's copy of the index is stale now: whatever reads or writes it
        // next must start from what git wrote.
        if let Ok(mut index) = self.repo.index() {
            let _ = index.read(true);
        }
        Ok(())
    }

    /// The paths among `paths` (relative to the working tree root) that are untracked
    /// and that no rule ignores, as git judges them (`git ls-files --others
    /// --exclude-standard`): a `git pull` bringing a committed file there would refuse
    /// to run.
    pub fn untracked_not_ignored(&self, root: &Path, paths: &[String]) -> Result<Vec<String>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let out = self
            .git_in(root)
            .args(["ls-files", "--others", "--exclude-standard", "-z", "--"])
            .args(paths)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| tool("ls-files", e.to_string()))?;
        if !out.status.success() {
            return Err(tool(
                "ls-files",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(out
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .collect())
    }

    /// git run on this repository and working tree, whatever the caller's directory
    /// and `GIT_DIR` (which may be relative to another directory).
    fn git_in(&self, root: &Path) -> Command {
        let mut c = Command::new("git");
        c.arg("--git-dir")
            .arg(self.repo.path())
            .arg("--work-tree")
            .arg(root)
            .current_dir(root);
        c
    }
}

/// Runs `cmd` with `input` on its stdin, collecting its output.
fn run_with_input(cmd: &mut Command, input: &[u8]) -> std::io::Result<std::process::Output> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    // A writer thread: git may fill its stdout pipe before reading all its input.
    let input = input.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    let out = child.wait_with_output()?;
    let _ = writer.join();
    Ok(out)
}

fn tool(what: &str, message: String) -> Error {
    Error::Tool {
        what: format!("git {what} failed"),
        message,
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::mirror::{exclude_block, exclude_patterns};
    use crate::store::testing::temp_store;

    #[test]
    fn the_block_is_written_once_and_the_user_lines_stay() {
        let (d, store) = temp_store();
        let exclude = store.exclude_file();
        std::fs::create_dir_all(exclude.parent().unwrap()).unwrap();
        std::fs::write(&exclude, "*.swp\n").unwrap();
        assert!(store.ensure_mirror_excluded().unwrap());
        assert!(!store.ensure_mirror_excluded().unwrap());
        assert_eq!(
            std::fs::read_to_string(&exclude).unwrap(),
            format!("*.swp\n{}", exclude_block())
        );
        // a missing info/ directory is created
        std::fs::remove_dir_all(exclude.parent().unwrap()).unwrap();
        assert!(store.ensure_mirror_excluded().unwrap());
        let root = d.path();
        let paths: Vec<String> = [
            "review/s/card.md",
            "review/s/notes.txt",
            "review/s/candidate/review.json",
        ]
        .map(String::from)
        .to_vec();
        let own = exclude_patterns();
        assert!(store
            .ignored_by_user(root, &paths, &own)
            .unwrap()
            .is_empty());
        // the user's own rule ignores card.md: it is never staged
        std::fs::write(root.join(".gitignore"), "*.md\n").unwrap();
        assert_eq!(
            store.ignored_by_user(root, &paths, &own).unwrap(),
            BTreeSet::from(["review/s/card.md".to_string()])
        );
        // a negation un-ignores: nothing is the user's
        std::fs::write(root.join(".gitignore"), "!review/s/card.md\n").unwrap();
        assert!(store
            .ignored_by_user(root, &paths, &own)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn staging_adds_changes_and_removes_only_the_paths_named() {
        let (d, store) = temp_store();
        let root = d.path();
        std::fs::create_dir_all(root.join("review/s")).unwrap();
        std::fs::write(root.join("review/s/card.md"), "card\n").unwrap();
        std::fs::write(root.join("review/s/notes.txt"), "mine\n").unwrap();
        let named = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        store
            .stage_paths(root, &named(&["review/s/card.md", "review/s/review.json"]))
            .unwrap();
        assert_eq!(
            store.staged_blob("review/s/card.md").unwrap().unwrap(),
            b"card\n"
        );
        assert_eq!(store.staged_blob("review/s/notes.txt").unwrap(), None);
        let both = named(&["review/s/card.md", "review/s/notes.txt"]);
        assert_eq!(
            store.untracked_not_ignored(root, &both).unwrap(),
            ["review/s/notes.txt"]
        );
        std::fs::remove_file(root.join("review/s/card.md")).unwrap();
        store
            .stage_paths(root, &named(&["review/s/card.md"]))
            .unwrap();
        assert_eq!(store.staged_blob("review/s/card.md").unwrap(), None);
    }
}
