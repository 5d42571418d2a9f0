//! Running stage commands and hashing files: path expansion, the stat cache, parallel
//! sha256, and the teed, interruptible child process.

pub mod command;
pub mod hash;
pub mod paths;
pub mod sign;
pub mod statcache;
