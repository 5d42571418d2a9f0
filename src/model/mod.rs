//! The contracts and pure rules of git-workbench: configuration, run ids, manifests,
//! params, states, staleness and note events. Nothing here touches git, the clock or
//! the file system, so every rule is unit-tested as a plain function.

pub mod card;
pub mod config;
pub mod decision;
pub mod digest;
pub mod event;
pub mod manifest;
pub mod narrative;
pub mod params;
pub mod review;
pub mod run_id;
pub mod staleness;
pub mod state;
pub mod sweep;
pub mod table;
pub mod table_diff;
pub mod table_merge;
pub mod time;
