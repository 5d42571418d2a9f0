//! The contracts and pure rules of git-workbench: identifiers, configuration,
//! records (manifest, review, approval, feedback, conflict, note events), params,
//! states and the rules that govern them, and the one escaping of record text for
//! display. Nothing here touches git, the clock or the file system, so every rule is
//! unit-tested as a plain function.

pub mod approval;
pub mod attributes;
pub mod card;
pub mod config;
pub mod criterion;
pub mod decision;
pub mod digest;
pub mod dvc;
pub mod error;
pub mod event;
pub mod figures;
pub mod ids;
pub mod import_manifest;
pub mod integrity;
pub mod interpretation;
pub mod lfs;
pub mod manifest;
pub mod mirror;
pub mod narrative;
pub mod narrative_change;
pub mod narrative_format;
pub mod next;
pub mod note_blob;
pub(crate) mod notebook;
pub mod origin;
pub mod params;
pub mod params_doc;
pub mod record;
pub mod review;
pub mod run_spec;
pub mod sparse_table;
pub mod staleness;
pub mod state;
pub mod sweep;
pub mod table;
pub mod table_diff;
pub mod table_merge;
pub mod text;
pub mod time;

pub use error::Error;
pub use ids::{ObjectId, RunId, StageName};
