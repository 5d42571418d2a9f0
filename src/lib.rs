//! git-workbench: human-approved, AI-operated analysis recorded in git.
//!
//! `model` holds the contracts and pure rules, `store` is the only module that
//! touches git, `exec` runs commands and hashes files, `workspace` ties a repository
//! to its configuration, and `cli` parses arguments and prints.

pub mod checks;
pub mod cli;
pub mod error;
pub mod exec;
pub mod hooks;
pub mod model;
pub mod narrative;
pub mod store;
pub mod table;
pub mod workspace;

pub use error::{Error, Result};
