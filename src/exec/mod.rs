//! Running stage commands and hashing files: path expansion, the stat cache, parallel
//! sha256, reading files that change under the read, signing, the clock, the teed,
//! interruptible child process, and the per-run view of the tree a command runs in
//! when its params file holds overrides.

pub mod browser;
pub mod clock;
pub mod command;
pub mod dvc;
pub mod editor;
mod error;
pub mod hash;
pub mod paths;
pub mod progress;
pub mod sign;
pub mod stable;
pub mod statcache;
pub mod swap;
pub mod view;

pub use error::{Error, Result};
