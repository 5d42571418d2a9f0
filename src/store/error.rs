//! The store's errors: what went wrong with the repository, a ref, a record or the git
//! CLI, each naming the object. `crate::error` classifies them into exit codes.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// libgit2 failed while doing `context`.
    #[error("{context}: {}", source.message())]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("not a git repository (or any parent up to the file system root): {}", path.display())]
    NotARepository { path: PathBuf },
    /// A repository format libgit2 cannot open (reftable, SHA-256).
    #[error("the repository at {} uses {what}, which git-workbench cannot read yet", path.display())]
    Unsupported {
        path: PathBuf,
        what: &'static str,
        hint: &'static str,
    },
    #[error("'{command}' needs a working tree, but {} is a bare repository", path.display())]
    Bare { command: String, path: PathBuf },
    #[error("cannot resolve '{rev}': {message}")]
    BadRevision { rev: String, message: String },
    /// HEAD names a branch without commits.
    #[error("{what}: the current branch has no commits yet")]
    UnbornBranch { what: String },
    #[error("the index has unresolved merge conflicts")]
    IndexConflicts,
    #[error("no git identity configured: decisions are recorded under user.name and user.email")]
    NoIdentity,
    #[error("invalid identity '{identity}': {}", source.message())]
    BadIdentity {
        identity: String,
        #[source]
        source: git2::Error,
    },
    /// Another writer moved a ref between our read and our write; nothing was written.
    #[error("{message}")]
    Concurrent { message: String, hint: String },
    /// A ref stayed locked or kept moving through every attempt.
    #[error("{refname} stayed busy through {attempts} attempts; {what}")]
    Busy {
        refname: String,
        attempts: u32,
        what: String,
    },
    /// Another writer holds the ref's lock file.
    #[error("{refname} is locked by another writer ({refname}.lock exists)")]
    Locked { refname: String },
    /// A ref that must not exist yet does.
    #[error("{refname} already exists; {why}")]
    Exists { refname: String, why: &'static str },
    /// An object that should be a valid record is not (corrupt, forged or foreign).
    #[error("{object}: {source}")]
    Record {
        object: String,
        #[source]
        source: crate::model::Error,
    },
    /// A run record that breaks the rules every record must keep (forged, replayed,
    /// torn or corrupt): `model::integrity`.
    #[error("{0}")]
    Invalid(crate::model::integrity::Invalid),
    /// A ref named by hostile or malformed data.
    #[error("'{name}' is not a valid ref name")]
    InvalidRefName { name: String },
    /// The git CLI could not be run or failed.
    #[error("{what}: {message}")]
    Tool { what: String, message: String },
    /// A fetch or push that did not reach the remote.
    #[error("cannot {what} {remote}: {message}")]
    Transport {
        what: &'static str,
        remote: String,
        message: String,
    },
    /// The remote refused the workbench refs by policy.
    #[error("{remote} refused the workbench refs ({detail})")]
    RemoteRefused { remote: String, detail: String },
    #[error("{0}")]
    Remote(RemoteProblem),
    /// git LFS cannot do what a run's outputs need (git-lfs missing).
    #[error("{message}")]
    Lfs { message: String, hint: String },
    /// Signing configuration that cannot work.
    #[error("{message}")]
    Signing { message: String, hint: String },
    /// Signing a record commit failed.
    #[error(transparent)]
    Exec(#[from] crate::exec::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Which remote to use could not be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteProblem {
    #[error("this repository has no remote")]
    None,
    #[error("several remotes ({0}) and none is called origin")]
    Ambiguous(String),
    #[error("no remote '{0}'")]
    Unknown(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What libgit2 reported, in the terms a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GitCause {
    InvalidRefName,
    UnbornBranch,
    Locked,
    NotFound,
    Other,
}

impl Error {
    /// For a libgit2 failure, what caused it.
    pub fn git_cause(&self) -> Option<GitCause> {
        let Error::Git { source, .. } = self else {
            return None;
        };
        Some(match source.code() {
            git2::ErrorCode::InvalidSpec => GitCause::InvalidRefName,
            git2::ErrorCode::UnbornBranch => GitCause::UnbornBranch,
            git2::ErrorCode::Locked => GitCause::Locked,
            git2::ErrorCode::NotFound => GitCause::NotFound,
            _ => GitCause::Other,
        })
    }
}

impl Error {
    /// Wraps a libgit2 error with what was being done.
    pub fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let context = context.into();
        move |source| Error::Git { context, source }
    }

    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    #[cfg(test)]
    pub fn git_for_tests(code: git2::ErrorCode) -> Error {
        Error::Git {
            context: "cannot do it".into(),
            source: git2::Error::new(code, git2::ErrorClass::Reference, "libgit2 says no"),
        }
    }

    pub fn record(object: impl Into<String>) -> impl FnOnce(crate::model::Error) -> Error {
        let object = object.into();
        move |source| Error::Record { object, source }
    }
}
