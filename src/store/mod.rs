//! The only module that touches git. Rules it keeps:
//! * objects are written first and refs moved last, through the one compare-and-swap
//!   primitive (`cas`), so a crash or a concurrent writer never leaves a half-written
//!   record;
//! * every workbench ref gets a reflog;
//! * "not found" is an `Option`, everything else a typed `Error` naming the object;
//! * records read from git are parsed through `model::record`, and libgit2's types
//!   stay in here: callers see `ObjectId`.

mod block_cache;
mod cas;
mod config_env;
pub mod content;
mod decision_cache;
pub use block_cache::BlockCache;
mod error;
mod event_cache;
mod files;
pub mod gitcli;
mod gitconfig;
mod integrity;
mod lfs;
mod mirror;
mod notes;
mod notes_journal;
mod notes_tree;
mod packed_refs;
pub use decision_cache::Decision;
pub mod refs;
mod remote;
mod runs;
mod snapshot;
mod transitions;
pub mod trees;

pub use error::{Error, GitCause, RemoteProblem, Result};
pub use files::FileBlob;
#[cfg(test)]
pub use git2::ErrorCode as GitCode;
pub use gitconfig::{ConfigAction, ConfigChange};
pub use integrity::TreeMemo;
pub use lfs::{copy_hashing, git_lfs_version, LocalObject};
pub use remote::{MergeReport, PushResult, RefusedRecord};
pub use runs::{NewRun, RecordFile, RunRef, Transition};
pub use snapshot::Snapshot;
pub use transitions::{NewTransition, Signer, CONFLICT_FILE};

use crate::model::ObjectId;
use git2::{ErrorCode, Oid, Repository};
use std::path::{Path, PathBuf};

/// A git repository opened for workbench records.
pub struct Store {
    repo: Repository,
    /// The event cache this process loaded (`event_cache`).
    events: std::sync::Mutex<Option<event_cache::EventCache>>,
    /// The decision cache this process loaded (`remembered_decision`).
    decisions: std::sync::Mutex<Option<decision_cache::DecisionCache>>,
}

/// libgit2's id of an `ObjectId`.
pub(crate) fn oid(id: ObjectId) -> Oid {
    Oid::from_bytes(id.as_bytes()).expect("20 bytes")
}

/// The `ObjectId` of a libgit2 id.
pub(crate) fn id(o: Oid) -> ObjectId {
    let mut b = [0u8; 20];
    b.copy_from_slice(&o.as_bytes()[..20]);
    ObjectId::from_bytes(b)
}

impl Store {
    /// Opens the repository around the current directory, honouring `GIT_DIR`,
    /// `GIT_WORK_TREE` and the other variables git itself honours.
    pub fn discover() -> Result<Store> {
        match Repository::open_from_env() {
            Ok(repo) => Store::with_command_line_config(repo),
            Err(e) => Err(open_error(e, &std::env::current_dir().unwrap_or_default())),
        }
    }

    /// Opens the repository at exactly `path`.
    pub fn open(path: &Path) -> Result<Store> {
        Repository::open(path)
            .map_err(|e| open_error(e, path))
            .and_then(Store::with_command_line_config)
    }

    /// The one place configuration enters: `git -c` (which git passes in the
    /// environment and libgit2 ignores) becomes a level above all the files, so every
    /// read through `repo.config()`, ours and libgit2's own, sees it first.
    fn with_command_line_config(repo: Repository) -> Result<Store> {
        let entries = config_env::from_process_env()?;
        if !entries.is_empty() {
            let text = config_env::to_config_text(&entries);
            repo.config()
                .and_then(|cfg| add_in_memory_level(&cfg, &text))
                .map_err(Error::git(
                    "cannot apply the configuration given with git -c (GIT_CONFIG_PARAMETERS)",
                ))?;
        }
        Ok(Store {
            repo,
            events: Default::default(),
            decisions: Default::default(),
        })
    }

    /// Creates a new non-bare repository at `path` with `main` as its branch.
    pub fn init(path: &Path) -> Result<Store> {
        let mut opts = git2::RepositoryInitOptions::new();
        opts.initial_head("main");
        Repository::init_opts(path, &opts)
            .map_err(Error::git(format!(
                "cannot create a repository in {}",
                path.display()
            )))
            .and_then(Store::with_command_line_config)
    }

    /// The working tree root, or an error for a bare repository.
    pub fn workdir(&self, command: &str) -> Result<PathBuf> {
        match self.repo.workdir() {
            Some(w) => Ok(w.to_path_buf()),
            None => Err(Error::Bare {
                command: command.to_string(),
                path: self.repo.path().to_path_buf(),
            }),
        }
    }

    pub fn maybe_workdir(&self) -> Option<&Path> {
        self.repo.workdir()
    }

    /// The directory shared by all worktrees (`.git`), where caches live.
    pub fn common_dir(&self) -> &Path {
        self.repo.commondir()
    }

    /// Where workbench keeps caches and temporary files: `<common dir>/workbench`.
    pub fn private_dir(&self) -> PathBuf {
        self.common_dir().join("workbench")
    }

    pub fn is_bare(&self) -> bool {
        self.repo.is_bare()
    }

    /// The commit HEAD points at and the branch name, if any.
    pub fn head(&self) -> Option<(ObjectId, Option<String>)> {
        let head = self.repo.head().ok()?;
        let oid = head.peel_to_commit().ok()?.id();
        let branch = if head.is_branch() {
            head.shorthand().ok().map(str::to_string)
        } else {
            None
        };
        Some((id(oid), branch))
    }

    /// The identity records are written under, as git takes a committer's:
    /// `GIT_COMMITTER_NAME`/`EMAIL`, then `committer.*`, then `user.*` (each from
    /// `git -c` first), else a placeholder.
    fn signature(&self) -> Result<git2::Signature<'static>> {
        let (name, email) = self.identity(gitconfig::Role::Committer);
        let name = name.unwrap_or_else(|| "git-workbench".into());
        let email = email.unwrap_or_else(|| "git-workbench@localhost".into());
        git2::Signature::now(&name, &email).map_err(|source| Error::BadIdentity {
            identity: format!("{name} <{email}>"),
            source,
        })
    }

    /// The empty tree's id (written if the repository lacks it).
    pub fn empty_tree_id(&self) -> Result<ObjectId> {
        self.empty_tree().map(id)
    }

    fn empty_tree(&self) -> Result<Oid> {
        self.repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .map_err(Error::git("cannot write the empty tree"))
    }

    fn find_commit(&self, commit: Oid, what: impl FnOnce() -> String) -> Result<git2::Commit<'_>> {
        self.repo.find_commit(commit).map_err(|source| Error::Git {
            context: what(),
            source,
        })
    }
}

extern "C" {
    // libgit2's in-memory configuration backend (`include/git2/sys/config.h`, since
    // 1.8); git2 does not bind it. It is compiled into the vendored libgit2.
    fn git_config_backend_from_string(
        out: *mut *mut libgit2_sys::git_config_backend,
        cfg: *const std::ffi::c_char,
        len: usize,
        opts: *mut std::ffi::c_void,
    ) -> std::ffi::c_int;
}

/// Adds `text` (git configuration syntax) to `cfg` as its highest level, the one
/// libgit2 calls "app" and git "command".
fn add_in_memory_level(cfg: &git2::Config, text: &str) -> std::result::Result<(), git2::Error> {
    use git2::Binding;
    let mut backend: *mut libgit2_sys::git_config_backend = std::ptr::null_mut();
    // SAFETY: `text` outlives the call, which copies it; `opts` may be null. On
    // success `cfg` owns the backend; on failure it is ours to free.
    unsafe {
        let rc = git_config_backend_from_string(
            &mut backend,
            text.as_ptr().cast(),
            text.len(),
            std::ptr::null_mut(),
        );
        if rc < 0 {
            return Err(git2::Error::last_error(rc));
        }
        let rc = libgit2_sys::git_config_add_backend(
            cfg.raw(),
            backend,
            libgit2_sys::GIT_CONFIG_LEVEL_APP,
            std::ptr::null(),
            1,
        );
        if rc < 0 {
            let err = git2::Error::last_error(rc);
            if let Some(free) = (*backend).free {
                free(backend);
            }
            return Err(err);
        }
    }
    Ok(())
}

fn open_error(e: git2::Error, path: &Path) -> Error {
    let msg = e.message();
    if msg.contains("extensions.refstorage") {
        return Error::Unsupported {
            path: path.to_path_buf(),
            what: "the reftable ref format",
            hint:
                "use a repository with the default 'files' ref format (git init --ref-format=files)",
        };
    }
    if msg.contains("objectformat") || msg.contains("object format") {
        return Error::Unsupported {
            path: path.to_path_buf(),
            what: "SHA-256 object ids",
            hint: "use a SHA-1 repository (git init --object-format=sha1)",
        };
    }
    if e.code() == ErrorCode::NotFound {
        return Error::NotARepository {
            path: path.to_path_buf(),
        };
    }
    Error::Git {
        context: format!("cannot open the repository at {}", path.display()),
        source: e,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Temporary repositories for the store's unit tests.
    use super::*;

    /// A fresh repository with one commit on `main`.
    pub fn temp_store() -> (tempfile::TempDir, Store) {
        let d = tempfile::tempdir().unwrap();
        let store = Store::init(d.path()).unwrap();
        {
            let mut cfg = store.repo.config().unwrap();
            cfg.set_str("user.name", "Test").unwrap();
            cfg.set_str("user.email", "test@example.com").unwrap();
        }
        std::fs::write(d.path().join("file.txt"), "hello\n").unwrap();
        store.commit_all("initial").unwrap();
        (d, store)
    }

    /// A bare repository next to `store`'s, added to it as remote `origin`.
    pub fn with_remote(d: &Path, store: &Store) -> PathBuf {
        let bare = d.join("origin.git");
        Repository::init_bare(&bare).unwrap();
        store.repo.remote("origin", bare.to_str().unwrap()).unwrap();
        bare
    }

    /// A second clone of `bare`, as a teammate has it.
    pub fn clone_of(bare: &Path, dir: &Path) -> Store {
        let repo = Repository::clone(bare.to_str().unwrap(), dir).unwrap();
        {
            let mut cfg = repo.config().unwrap();
            cfg.set_str("user.name", "Mate").unwrap();
            cfg.set_str("user.email", "mate@example.com").unwrap();
        }
        Store {
            repo,
            events: Default::default(),
            decisions: Default::default(),
        }
    }

    #[test]
    fn the_command_line_level_wins_for_our_reads_and_libgit2s() {
        let (_d, store) = temp_store();
        let text = config_env::to_config_text(&[
            ("user.name".into(), Some("Grace \"G\" Hopper".into())),
            ("core.filemode".into(), Some("false".into())),
            ("workbench.requiresigned".into(), None),
            ("remote.origin.fetch".into(), Some("+refs/a:refs/b".into())),
        ]);
        add_in_memory_level(&store.repo.config().unwrap(), &text).unwrap();
        assert_eq!(
            store.config_string("user.name").unwrap(),
            "Grace \"G\" Hopper"
        );
        assert_eq!(
            store.identity(gitconfig::Role::Committer).0.unwrap(),
            "Grace \"G\" Hopper"
        );
        assert_eq!(store.config_bool("workbench.requireSigned"), Some(true));
        assert_eq!(
            store.config_values("remote.origin.fetch"),
            vec!["+refs/a:refs/b"]
        );
        assert_eq!(store.config_bool("core.fileMode"), Some(false));
        // writes still go to the repository's own file, not to the read-only level
        store.set_local_config("workbench.x", "1").unwrap();
        assert_eq!(store.config_string("workbench.x").unwrap(), "1");
        // a malformed text is refused and nothing is added
        assert!(add_in_memory_level(&store.repo.config().unwrap(), "[unterminated").is_err());
        assert_eq!(store.config_bool("core.fileMode"), Some(false));
    }

    impl Store {
        pub fn raw(&self) -> &Repository {
            &self.repo
        }
    }
}
