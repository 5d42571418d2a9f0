//! The error the use cases return, and the one place every error of every layer is
//! classified: its kind, its exit code and its hint.
//!
//! | kind | exit | what |
//! | --- | --- | --- |
//! | `refused` | 1 | an action the rules or a concurrent writer refused; nothing written |
//! | `input` | 2 | bad arguments, configuration, records or repository state |
//! | `repository` | 2 | git or the repository failed underneath |
//! | `io` | 2 | a file could not be read or written |
//! | `broken_pipe` | 0 | our stdout was closed (`| head`): end quietly |

use crate::{exec, model, store};
use std::path::{Path, PathBuf};

/// What kind of failure an error is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Refused,
    Input,
    Repository,
    Io,
    BrokenPipe,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Refused => 1,
            ErrorKind::BrokenPipe => 0,
            ErrorKind::Input | ErrorKind::Repository | ErrorKind::Io => 2,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input or an impossible request.
    #[error("{message}")]
    Input {
        message: String,
        hint: Option<String>,
    },
    /// A refused action.
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    #[error(transparent)]
    Model(#[from] model::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Exec(#[from] exec::Error),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// stdout was closed by its reader.
    #[error("broken pipe")]
    BrokenPipe,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(message: impl Into<String>) -> Error {
        Error::Input {
            message: message.into(),
            hint: None,
        }
    }

    pub fn refused(message: impl Into<String>) -> Error {
        Error::Refused {
            message: message.into(),
            hint: None,
        }
    }

    /// Adds (or replaces) the `hint:` line of an input or refused error.
    pub fn hint(mut self, text: impl Into<String>) -> Error {
        match &mut self {
            Error::Input { hint, .. } | Error::Refused { hint, .. } => *hint = Some(text.into()),
            _ => {}
        }
        self
    }

    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        self.classify().0
    }

    pub fn exit_code(&self) -> u8 {
        self.kind().exit_code()
    }

    /// The `hint:` line, if one helps.
    pub fn hint_text(&self) -> Option<String> {
        self.classify().1
    }

    /// Kind and hint of every error any layer returns.
    fn classify(&self) -> (ErrorKind, Option<String>) {
        use ErrorKind::*;
        match self {
            Error::Input { hint, .. } => (Input, hint.clone()),
            Error::Refused { hint, .. } => (Refused, hint.clone()),
            Error::Model(_) => (Input, None),
            Error::Store(e) => classify_store(e),
            Error::Exec(e) => classify_exec(e),
            Error::Io { .. } => (Io, None),
            Error::BrokenPipe => (BrokenPipe, None),
        }
    }
}

fn hint(s: impl Into<String>) -> Option<String> {
    Some(s.into())
}

fn classify_store(e: &store::Error) -> (ErrorKind, Option<String>) {
    use store::Error as S;
    use ErrorKind::*;
    match e {
        S::Git { .. } => classify_git(e.git_cause().unwrap_or(store::GitCause::Other)),
        S::NotARepository { .. } => (Input, hint("run 'git init' first, or cd into a repository")),
        S::Unsupported { hint: h, .. } => (Input, hint(*h)),
        S::Bare { .. } => (Input, hint("run it in a clone with a working tree")),
        S::BadRevision { .. } => (Input, hint("name a commit, branch or tag (git log --oneline)")),
        S::UnbornBranch { .. } => (
            Input,
            hint("make a first commit: git commit --allow-empty -m 'start'"),
        ),
        S::IndexConflicts => (
            Input,
            hint("resolve them (git status) before running a stage"),
        ),
        S::ConfigEnv { .. } => (
            Input,
            hint("the configuration git passes with 'git -c' is malformed; unset GIT_CONFIG_PARAMETERS and GIT_CONFIG_COUNT, or pass -c key=value again"),
        ),
        S::NoIdentity => (
            Input,
            hint("git config user.name \"Your Name\" && git config user.email you@example.com"),
        ),
        S::BadIdentity { .. } => (Input, hint("fix user.name and user.email (git config)")),
        S::Concurrent { hint: h, .. } => (Refused, hint(h.clone())),
        S::Busy { .. } => (
            Refused,
            hint("another writer kept it busy; run the command again"),
        ),
        S::Exists { .. } => (Refused, None),
        S::Locked { .. } => classify_git(store::GitCause::Locked),
        S::Record { .. } => (
            Input,
            hint("the record is not what git-workbench writes (corrupt, edited or from a foreign clone); investigate before trusting it"),
        ),
        S::Invalid(i) => (
            Refused,
            hint(format!("it is not trusted: nothing cites, checks out or merges it; see 'git workbench doctor', and delete the ref if it is not yours: git update-ref -d refs/workbench/runs/{}/{}", i.stage, i.run_id)),
        ),
        S::InvalidRefName { .. } => (Input, hint(REF_NAME_RULES)),
        S::Tool { .. } => (Repository, hint("is git installed and on PATH?")),
        S::Transport { .. } => (
            Input,
            hint("nothing was lost locally; run the command again when the remote is reachable"),
        ),
        S::RemoteRefused { .. } => (
            Refused,
            hint("the host must accept pushes to refs/workbench/* and refs/notes/workbench (custom ref namespaces); nothing was changed there, and nothing is lost here"),
        ),
        S::Remote(p) => (
            Input,
            hint(match p {
                store::RemoteProblem::None => "add one with 'git remote add origin URL'",
                store::RemoteProblem::Ambiguous(_) => "name the remote: git workbench sync REMOTE",
                store::RemoteProblem::Unknown(_) => "see the remotes with 'git remote -v'",
            }),
        ),
        S::Signing { hint: h, .. } => (Input, hint(h.clone())),
        S::Lfs { hint: h, .. } => (Input, hint(h.clone())),
        S::Exec(e) => classify_exec(e),
        S::Io { .. } => (Io, None),
    }
}

const REF_NAME_RULES: &str = "stage names and ref names use letters, digits, '_', '-' and '.', never '..', and do not end in '.lock'";

/// Errors users can reach from libgit2 get a hint they can act on.
fn classify_git(cause: store::GitCause) -> (ErrorKind, Option<String>) {
    use store::GitCause as C;
    use ErrorKind::*;
    match cause {
        C::InvalidRefName => (Input, hint(REF_NAME_RULES)),
        C::UnbornBranch => (
            Input,
            hint("make a first commit: git commit --allow-empty -m 'start'"),
        ),
        C::Locked => (
            Repository,
            hint("another git process holds the lock; wait for it, or remove the .lock file if no git process is running"),
        ),
        C::NotFound => (Input, None),
        C::Other => (Repository, None),
    }
}

fn classify_exec(e: &exec::Error) -> (ErrorKind, Option<String>) {
    use exec::Error as X;
    use ErrorKind::*;
    match e {
        X::Io { .. } => (Io, None),
        X::Glob { .. } => (
            Input,
            hint("fix the pattern in the configuration (docs/config.md)"),
        ),
        X::Outside { .. } => (
            Input,
            hint(
                "outputs must stay inside the working tree; remove the symlink or change the path",
            ),
        ),
        X::NotUtf8 { .. } => (
            Input,
            hint("rename it to a UTF-8 name (records name files by UTF-8 paths), or move it out of the declared path"),
        ),
        X::ProgramMissing { .. } => (
            Input,
            hint("install it, or configure another (gpg.program, gpg.ssh.program, GIT_EDITOR, core.editor)"),
        ),
        X::Sign { .. } => (Input, hint("check user.signingKey and gpg.format")),
        X::SigningSetup { hint: h, .. } => (Input, hint(h.clone())),
        X::Tool { hint: h, .. } => (Input, hint(h.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_is_classified_with_its_exit_code() {
        let cases: Vec<(Error, ErrorKind)> = vec![
            (Error::refused("no"), ErrorKind::Refused),
            (Error::input("bad"), ErrorKind::Input),
            (
                model::StageName::new("a..b").unwrap_err().into(),
                ErrorKind::Input,
            ),
            (store::Error::NoIdentity.into(), ErrorKind::Input),
            (
                store::Error::Busy {
                    refname: "r".into(),
                    attempts: 3,
                    what: "w".into(),
                }
                .into(),
                ErrorKind::Refused,
            ),
            (
                store::Error::git_for_tests(store::GitCode::InvalidSpec).into(),
                ErrorKind::Input,
            ),
            (Error::BrokenPipe, ErrorKind::BrokenPipe),
            // a closed pipe to a child (a signer that quit) is a failure, not the end
            // of our own output
            (
                Error::io(Path::new("ssh-keygen"))(std::io::Error::from(
                    std::io::ErrorKind::BrokenPipe,
                )),
                ErrorKind::Io,
            ),
        ];
        for (e, kind) in cases {
            assert_eq!(e.kind(), kind, "{e}");
        }
        assert_eq!(ErrorKind::Refused.exit_code(), 1);
        assert_eq!(ErrorKind::Input.exit_code(), 2);
        assert_eq!(ErrorKind::Repository.exit_code(), 2);
        assert_eq!(ErrorKind::BrokenPipe.exit_code(), 0);
        let locked: Error = store::Error::git_for_tests(store::GitCode::Locked).into();
        assert!(locked.hint_text().unwrap().contains(".lock"));
        let unborn: Error = store::Error::UnbornBranch { what: "x".into() }.into();
        assert!(unborn.hint_text().unwrap().contains("first commit"));
    }
}
