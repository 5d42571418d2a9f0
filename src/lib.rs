//! git-workbench: human-approved, AI-operated analysis recorded in git.
//!
//! The layers, from the bottom (docs/architecture.md): `model` holds the contracts
//! and pure rules; `store` is the only code that touches git; `exec` runs commands,
//! hashes files and signs; `checks`, `narrative` and `table` are the review checks,
//! narrative checks and table renderings the use cases share; `ops` holds the use
//! cases, each returning a typed report; `cli` parses arguments and renders reports.

pub mod checks;
pub mod cli;
pub mod error;
pub mod exec;
pub mod hooks;
pub mod model;
pub mod narrative;
pub mod ops;
pub mod report;
pub mod store;
pub mod table;

pub use error::{Error, ErrorKind, Result};
