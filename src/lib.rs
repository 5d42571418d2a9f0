//! git-workbench: human-approved, AI-operated analysis recorded in git.

pub mod error;
pub mod exec;
pub mod model;
pub mod store;

pub use error::{Error, Result};
