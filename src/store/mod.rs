//! The only module that touches git. Rules it keeps:
//! * objects are written first and refs moved last, with compare-and-swap, so a crash
//!   or a concurrent writer never leaves a half-written record;
//! * every workbench ref gets a reflog;
//! * "not found" is an `Option`, everything else a typed `Error` naming the object.

pub mod content;
mod gitconfig;
mod notes;
pub mod refs;
mod remote;
mod runs;
mod snapshot;
mod transitions;

pub use gitconfig::ConfigChange;
pub use remote::{MergeReport, PushResult};
pub use runs::{NewRun, RecordFile, RunRef, Transition};
pub use snapshot::Snapshot;
pub use transitions::NewTransition;

use crate::error::{Error, Result};
use git2::{ErrorCode, Repository};
use std::path::{Path, PathBuf};

/// A git repository opened for workbench records.
pub struct Store {
    repo: Repository,
}

impl Store {
    /// Opens the repository around the current directory, honouring `GIT_DIR`,
    /// `GIT_WORK_TREE` and the other variables git itself honours.
    pub fn discover() -> Result<Store> {
        match Repository::open_from_env() {
            Ok(repo) => Ok(Store { repo }),
            Err(e) => Err(open_error(e, &std::env::current_dir().unwrap_or_default())),
        }
    }

    /// Opens the repository at exactly `path`.
    pub fn open(path: &Path) -> Result<Store> {
        Repository::open(path)
            .map(|repo| Store { repo })
            .map_err(|e| open_error(e, path))
    }

    /// Creates a new non-bare repository at `path` with `main` as its branch.
    pub fn init(path: &Path) -> Result<Store> {
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        Repository::init_opts(path, &opts)
            .map(|repo| Store { repo })
            .map_err(Error::git(format!(
                "cannot create a repository in {}",
                path.display()
            )))
    }

    /// The working tree root, or an error for a bare repository.
    pub fn workdir(&self, command: &str) -> Result<PathBuf> {
        match self.repo.workdir() {
            Some(w) => Ok(w.to_path_buf()),
            None => Err(Error::input(format!(
                "'{command}' needs a working tree, but {} is a bare repository",
                self.repo.path().display()
            ))
            .hint("run it in a clone with a working tree")),
        }
    }

    pub fn maybe_workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// The directory shared by all worktrees (`.git`), where caches live.
    pub fn common_dir(&self) -> &Path {
        self.repo.commondir()
    }

    pub fn is_bare(&self) -> bool {
        self.repo.is_bare()
    }

    /// The commit HEAD points at and the branch name, if any.
    pub fn head(&self) -> Option<(git2::Oid, Option<String>)> {
        let head = self.repo.head().ok()?;
        let oid = head.peel_to_commit().ok()?.id();
        let branch = if head.is_branch() {
            head.shorthand().ok().map(str::to_string)
        } else {
            None
        };
        Some((oid, branch))
    }

    /// The identity records are written under: git's env variables, then `user.*`.
    fn signature(&self) -> Result<git2::Signature<'static>> {
        let cfg = self.repo.config().ok();
        let get = |env: &str, key: &str| {
            std::env::var(env)
                .ok()
                .filter(|v| !v.is_empty())
                .or_else(|| cfg.as_ref().and_then(|c| c.get_string(key).ok()))
        };
        let name = get("GIT_COMMITTER_NAME", "user.name").unwrap_or_else(|| "git-workbench".into());
        let email = get("GIT_COMMITTER_EMAIL", "user.email")
            .unwrap_or_else(|| "git-workbench@localhost".into());
        git2::Signature::now(&name, &email).map_err(Error::git("invalid committer identity"))
    }

    fn empty_tree(&self) -> Result<git2::Oid> {
        self.repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .map_err(Error::git("cannot write the empty tree"))
    }
}

fn open_error(e: git2::Error, path: &Path) -> Error {
    let msg = e.message();
    if msg.contains("extensions.refstorage") {
        return Error::input(format!(
            "the repository at {} uses the reftable ref format, which git-workbench cannot read yet",
            path.display()
        ))
        .hint("use a repository with the default 'files' ref format (git init --ref-format=files)");
    }
    if msg.contains("objectformat") || msg.contains("object format") {
        return Error::input(format!(
            "the repository at {} uses SHA-256 object ids, which git-workbench cannot read yet",
            path.display()
        ))
        .hint("use a SHA-1 repository (git init --object-format=sha1)");
    }
    if e.code() == ErrorCode::NotFound {
        return Error::input(format!(
            "not a git repository (or any parent up to the file system root): {}",
            path.display()
        ))
        .hint("run 'git init' first, or cd into a repository");
    }
    Error::Git {
        context: format!("cannot open the repository at {}", path.display()),
        source: e,
    }
}

impl Store {
    /// Creates `name` only if it does not exist, atomically. libgit2's own create-only
    /// mode (`force = false`) checks for the ref *before* taking its lock, so two
    /// racing creators can both succeed and one write is lost; comparing against the
    /// zero id happens under the lock. A ref that exists fails with `Modified`.
    fn create_ref_exclusive(
        &self,
        name: &str,
        oid: git2::Oid,
        msg: &str,
    ) -> Result<(), git2::Error> {
        self.repo
            .reference_matching(name, oid, true, git2::Oid::ZERO_SHA1, msg)
            .map(|_| ())
    }
}

/// A ref lock older than this was left by a writer that died (kill -9, power loss):
/// workbench and git hold a ref's lock for milliseconds, and git itself gives up
/// waiting for one after 100 ms (`core.filesRefLockTimeout`).
const STALE_LOCK: std::time::Duration = std::time::Duration::from_secs(5);

impl Store {
    /// Removes `<ref>.lock` when it is stale, so one killed writer does not block every
    /// later one. Removal is serialised by an advisory lock (released by the kernel
    /// even on kill -9) and re-checks the same file under it, so two cleaners cannot
    /// remove a fresh lock a third writer took in between. True when a lock was removed.
    fn clear_stale_lock(&self, refname: &str) -> bool {
        let lock = self.common_dir().join(format!("{refname}.lock"));
        let stale = |m: &std::fs::Metadata| {
            m.modified()
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age >= STALE_LOCK)
        };
        let Ok(first) = std::fs::metadata(&lock) else {
            return false;
        };
        if !stale(&first) {
            return false;
        }
        let dir = self.common_dir().join("workbench");
        let _ = std::fs::create_dir_all(&dir);
        let Ok(guard) = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("lock-cleanup"))
        else {
            return false;
        };
        if guard.lock().is_err() {
            return false;
        }
        let removed = match std::fs::metadata(&lock) {
            Ok(now) if stale(&now) && same_file(&first, &now) => {
                std::fs::remove_file(&lock).is_ok()
            }
            _ => false,
        };
        let _ = guard.unlock();
        removed
    }
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.modified().ok() == b.modified().ok() && a.len() == b.len()
}

impl Store {
    /// In a compare-and-swap loop: after a lost race on `refname`, clears a stale lock
    /// or waits a little, and gives the error back when it was not a race.
    fn wait_to_retry(
        &self,
        e: git2::Error,
        refname: &str,
        attempt: u32,
    ) -> Result<(), git2::Error> {
        if !is_contention(&e) {
            return Err(e);
        }
        if !self.clear_stale_lock(refname) {
            backoff(attempt);
        }
        Ok(())
    }
}

/// True for errors a compare-and-swap loop should retry.
fn is_contention(e: &git2::Error) -> bool {
    matches!(
        e.code(),
        ErrorCode::Locked | ErrorCode::Modified | ErrorCode::Exists
    ) || e.message().contains("lock")
}

/// Sleeps a little longer on each attempt, with jitter so writers spread out.
fn backoff(attempt: u32) {
    use std::hash::{BuildHasher, RandomState};
    let jitter = RandomState::new().hash_one(attempt) % 1000;
    let cap_us = 500u64 << attempt.min(6);
    std::thread::sleep(std::time::Duration::from_micros(
        cap_us / 2 + jitter * cap_us / 2000,
    ));
}
