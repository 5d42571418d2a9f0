//! The one error type the commands return, and how it maps to exit codes:
//! 1 for a refused action, 2 for bad input, repository or I/O failure.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input or an impossible request: exit 2.
    #[error("{message}")]
    Input {
        message: String,
        hint: Option<String>,
    },
    /// A refused action: exit 1.
    #[error("{message}")]
    Refused {
        message: String,
        hint: Option<String>,
    },
    #[error("{context}: {source}")]
    Git {
        context: String,
        #[source]
        source: git2::Error,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
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

    /// Adds (or replaces) the `hint:` line.
    pub fn hint(mut self, text: impl Into<String>) -> Error {
        match &mut self {
            Error::Input { hint, .. } | Error::Refused { hint, .. } => *hint = Some(text.into()),
            _ => {}
        }
        self
    }

    pub fn git(context: impl Into<String>) -> impl FnOnce(git2::Error) -> Error {
        let context = context.into();
        move |source| Error::Git { context, source }
    }

    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn hint_text(&self) -> Option<&str> {
        match self {
            Error::Input { hint, .. } | Error::Refused { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Refused { .. } => 1,
            _ => 2,
        }
    }
}
