//! git-workbench: human-approved, AI-operated analysis recorded in git.

pub mod checks;
pub mod error;
pub mod exec;
pub mod hooks;
pub mod model;
pub mod narrative;
pub mod ops;
pub mod store;
pub mod table;

pub use error::{Error, Result};
