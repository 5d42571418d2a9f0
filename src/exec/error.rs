//! The errors of running commands, hashing files and signing: each names the file or
//! program it concerns.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid glob '{pattern}': {message}")]
    Glob { pattern: String, message: String },
    /// A path that resolves (through symlinks) outside the repository or into `.git`.
    #[error("{what} '{path}' resolves to {}, outside the repository", resolved.display())]
    Outside {
        what: String,
        path: String,
        resolved: PathBuf,
    },
    /// A file under a declared path whose name is not UTF-8 (`escaped`: `\xNN` bytes).
    #[error("{what} '{pattern}' holds a file whose name is not UTF-8, which no record can name: {escaped}{}", if *more > 0 { format!(" (and {more} more)") } else { String::new() })]
    NotUtf8 {
        what: String,
        pattern: String,
        escaped: String,
        more: usize,
    },
    /// A program (a signer, an editor) that cannot be started.
    #[error("cannot run '{program}': {source}")]
    ProgramMissing {
        program: String,
        #[source]
        source: std::io::Error,
    },
    /// Signing ran and produced no signature.
    #[error("signing with {program} failed: {message}")]
    Sign { program: String, message: String },
    /// An external tool (dvc) that ran and failed, or cannot be found.
    #[error("{message}")]
    Tool { message: String, hint: String },
    /// A signing setup that cannot work.
    #[error("{message}")]
    SigningSetup { message: String, hint: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
