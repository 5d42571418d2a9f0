//! Running stage commands and hashing files: path expansion, the stat cache, parallel
//! sha256, reading files that change under the read, signing, the clock, and the
//! teed, interruptible child process.

pub mod clock;
pub mod command;
pub mod editor;
mod error;
pub mod hash;
pub mod paths;
pub mod sign;
pub mod stable;
pub mod statcache;

pub use error::{Error, Result};
