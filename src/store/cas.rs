//! The one compare-and-swap primitive every ref update goes through, and the one retry
//! loop around it.
//!
//! `compare_and_swap` locks every ref it moves (git's own `<ref>.lock` protocol), then
//! compares each ref's value with the one the caller read, while the locks are held,
//! and only then writes. A writer that lost a race gets `Cas::Moved` or `Cas::Locked`
//! and nothing is written. Refs are created only where the caller expected none, so a
//! create is exclusive too (libgit2's own create-only mode checks before locking, and
//! two racing creators could both succeed).
//!
//! `retry` re-runs a read–compute–swap attempt until it goes through; between
//! attempts it clears a lock a killed writer left behind, or backs off with jitter.

use super::error::{Error, Result};
use super::Store;
use git2::{ErrorCode, Oid};

/// How many times `retry` tries before it reports the ref as busy. Twenty writers on
/// one ref finish well inside it; a ref held by a live writer for seconds does not.
pub const MAX_ATTEMPTS: u32 = 400;

/// One ref to move: from `expect` (`None`: it must not exist) to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    pub name: String,
    pub expect: Option<Oid>,
    pub new: Oid,
}

impl RefUpdate {
    pub fn new(name: impl Into<String>, expect: Option<Oid>, new: Oid) -> RefUpdate {
        RefUpdate {
            name: name.into(),
            expect,
            new,
        }
    }
}

/// Why a compare-and-swap did not go through.
#[derive(Debug)]
pub enum Cas {
    /// The ref no longer has the expected value.
    Moved { name: String },
    /// Another writer holds the ref's lock.
    Locked { name: String },
    /// Anything else: not a race, so retrying will not help.
    Failed(Error),
}

impl Cas {
    /// The ref the race was lost on.
    pub fn refname(&self) -> Option<&str> {
        match self {
            Cas::Moved { name } | Cas::Locked { name } => Some(name),
            Cas::Failed(_) => None,
        }
    }
}

/// A ref lock older than this was left by a writer that died (kill -9, power loss):
/// workbench and git hold a ref's lock for milliseconds, and git itself gives up
/// waiting for one after 100 ms (`core.filesRefLockTimeout`).
const STALE_LOCK: std::time::Duration = std::time::Duration::from_secs(5);

impl Store {
    /// Moves every ref in `updates` from its expected value to its new one, all under
    /// their locks, writing a reflog entry `reflog` for each. Nothing is written when
    /// any ref has moved or is locked.
    ///
    /// Committing several refs is not atomic on disk: libgit2 renames the lock files
    /// one after another, so a process killed in between leaves the first moved.
    pub(super) fn compare_and_swap(&self, updates: &[RefUpdate], reflog: &str) -> Result<(), Cas> {
        let repo = &self.repo;
        for u in updates {
            repo.reference_ensure_log(&u.name).map_err(|e| {
                Cas::Failed(Error::git(format!(
                    "cannot create the reflog of {}",
                    u.name
                ))(e))
            })?;
        }
        let mut tx = repo
            .transaction()
            .map_err(|e| Cas::Failed(Error::git("cannot start a ref transaction")(e)))?;
        for u in updates {
            match tx.lock_ref(&u.name) {
                Ok(()) => {}
                Err(e) if is_contention(&e) => {
                    return Err(Cas::Locked {
                        name: u.name.clone(),
                    })
                }
                Err(e) => {
                    return Err(Cas::Failed(Error::git(format!("cannot lock {}", u.name))(
                        e,
                    )))
                }
            }
        }
        // Compare while every lock is held: nobody else can move these refs now.
        for u in updates {
            let now = match repo.refname_to_id(&u.name) {
                Ok(o) => Some(o),
                Err(e) if e.code() == ErrorCode::NotFound => None,
                Err(e) => {
                    return Err(Cas::Failed(Error::git(format!("cannot read {}", u.name))(
                        e,
                    )))
                }
            };
            if now != u.expect {
                return Err(Cas::Moved {
                    name: u.name.clone(),
                });
            }
        }
        for u in updates {
            tx.set_target(&u.name, u.new, None, reflog)
                .map_err(|e| Cas::Failed(Error::git(format!("cannot move {}", u.name))(e)))?;
        }
        tx.commit()
            .map_err(|e| Cas::Failed(Error::git("cannot commit the ref transaction")(e)))
    }

    /// Runs `attempt` (read the refs, compute, `compare_and_swap`) until it goes
    /// through. `what` says what is lost when every attempt fails ("the note for X was
    /// not written").
    pub(super) fn retry<T>(
        &self,
        refname: &str,
        what: &str,
        attempt: impl FnMut() -> Result<Result<T, Cas>>,
    ) -> Result<T> {
        self.retry_up_to(MAX_ATTEMPTS, refname, what, attempt)
    }

    fn retry_up_to<T>(
        &self,
        attempts: u32,
        refname: &str,
        what: &str,
        mut attempt: impl FnMut() -> Result<Result<T, Cas>>,
    ) -> Result<T> {
        for n in 0..attempts {
            match attempt()? {
                Ok(v) => return Ok(v),
                Err(Cas::Failed(e)) => return Err(e),
                Err(lost) => {
                    let name = lost.refname().unwrap_or(refname).to_string();
                    if !self.clear_stale_lock(&name) {
                        backoff(n);
                    }
                }
            }
        }
        Err(Error::Busy {
            refname: refname.to_string(),
            attempts,
            what: what.to_string(),
        })
    }

    /// Removes `<ref>.lock` when it is stale, so one killed writer does not block every
    /// later one. Removal is serialised by an advisory lock (released by the kernel
    /// even on kill -9) and re-checks the same file under it, so two cleaners cannot
    /// remove a fresh lock a third writer took in between. True when a lock was removed.
    pub(super) fn clear_stale_lock(&self, refname: &str) -> bool {
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

impl Store {
    /// Finds `.lock` files of workbench refs and the notes index left by killed
    /// writers; removes the stale ones. Returns (removed, still fresh) ref names.
    pub fn clear_stale_locks(&self) -> (Vec<String>, Vec<String>) {
        let (mut removed, mut fresh) = (Vec::new(), Vec::new());
        let mut todo = vec!["refs/workbench".to_string(), "refs/notes".to_string()];
        while let Some(rel) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(self.common_dir().join(&rel)) else {
                continue;
            };
            for e in entries.flatten() {
                let name = format!("{rel}/{}", e.file_name().to_string_lossy());
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push(name);
                } else if let Some(refname) = name.strip_suffix(".lock") {
                    if self.clear_stale_lock(refname) {
                        removed.push(refname.to_string());
                    } else {
                        fresh.push(refname.to_string());
                    }
                }
            }
        }
        (removed, fresh)
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

/// True for libgit2 errors a compare-and-swap loop should retry.
pub(super) fn is_contention(e: &git2::Error) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    #[test]
    fn swaps_only_from_the_value_read() {
        let (_d, store) = temp_store();
        let a = store.repo.blob(b"a").unwrap();
        let b = store.repo.blob(b"b").unwrap();
        let name = "refs/workbench/test/x";
        // create-only
        store
            .compare_and_swap(&[RefUpdate::new(name, None, a)], "create")
            .unwrap();
        assert!(matches!(
            store.compare_and_swap(&[RefUpdate::new(name, None, b)], "again"),
            Err(Cas::Moved { .. })
        ));
        // from the wrong value nothing moves
        assert!(matches!(
            store.compare_and_swap(&[RefUpdate::new(name, Some(b), b)], "wrong"),
            Err(Cas::Moved { .. })
        ));
        assert_eq!(store.repo.refname_to_id(name).unwrap(), a);
        store
            .compare_and_swap(&[RefUpdate::new(name, Some(a), b)], "move")
            .unwrap();
        assert_eq!(store.repo.refname_to_id(name).unwrap(), b);
        // two refs: one stale expectation stops both
        let other = "refs/workbench/test/y";
        let r = store.compare_and_swap(
            &[
                RefUpdate::new(other, None, a),
                RefUpdate::new(name, Some(a), a),
            ],
            "pair",
        );
        assert!(matches!(r, Err(Cas::Moved { name: n }) if n == name));
        assert!(store.repo.refname_to_id(other).is_err(), "nothing written");
        // a held lock is contention, and the lock stays
        std::fs::write(store.common_dir().join(format!("{name}.lock")), "x").unwrap();
        assert!(matches!(
            store.compare_and_swap(&[RefUpdate::new(name, Some(b), a)], "locked"),
            Err(Cas::Locked { .. })
        ));
        assert!(store.common_dir().join(format!("{name}.lock")).exists());
        // the reflog records every move
        let log = store.repo.reflog(name).unwrap();
        assert_eq!(log.len(), 2);
    }

    #[test]
    fn retry_reports_a_ref_that_stays_busy_and_gives_up_on_real_errors() {
        let (_d, store) = temp_store();
        let mut calls = 0;
        let r: Result<()> = store.retry_up_to(5, "refs/x", "nothing was written", || {
            calls += 1;
            Ok(Err(Cas::Moved {
                name: "refs/x".into(),
            }))
        });
        assert!(matches!(r, Err(Error::Busy { attempts: 5, .. })));
        assert_eq!(calls, 5);
        let mut calls = 0;
        let r: Result<()> = store.retry("refs/x", "w", || {
            calls += 1;
            Ok(Err(Cas::Failed(Error::InvalidRefName { name: "x".into() })))
        });
        assert!(matches!(r, Err(Error::InvalidRefName { .. })));
        assert_eq!(calls, 1, "not a race: no retry");
    }
}
