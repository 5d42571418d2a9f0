//! The ceremony tier (docs/decisions.md) as the checks apply it: tier 2 warns where tier 3
//! blocks, tier 4 adds team rules (signed approvals, required by `verify` and made by
//! `approve` by default). A commit cannot lower the tier it is checked under: the
//! hook uses the higher of HEAD's and the staged configuration, `verify` the higher
//! of the base's and the tip's.

use super::workspace::{CONFIG_FILE, PYPROJECT_FILE};
use crate::model::config::{self, DEFAULT_TIER};
use crate::store::Store;

/// Tier 4: approvals are signed and `verify` requires signatures.
pub const TEAM: u8 = 4;
/// Below tier 3, narrative checks warn instead of blocking.
pub const FULL_LOOP: u8 = 3;

/// The tier of configuration text: `workbench.toml`, else `pyproject.toml`'s
/// `[tool.workbench]`. A configuration that does not parse counts as the default.
fn tier_of(workbench: Option<Vec<u8>>, pyproject: Option<Vec<u8>>) -> Option<u8> {
    if let Some(b) = workbench {
        let text = String::from_utf8_lossy(&b);
        return Some(config::parse_workbench_toml(&text).map_or(DEFAULT_TIER, |c| c.tier));
    }
    let text = String::from_utf8_lossy(&pyproject?).into_owned();
    config::parse_pyproject(&text)
        .ok()
        .flatten()
        .map(|c| c.tier)
}

/// The tier configured at `rev` (`None`: no configuration there).
pub fn tier_at(store: &Store, rev: &str) -> Option<u8> {
    tier_of(
        store.blob_at(rev, CONFIG_FILE).ok().flatten(),
        store.blob_at(rev, PYPROJECT_FILE).ok().flatten(),
    )
}

/// The tier the pre-commit hook applies: the higher of HEAD's and the staged one.
pub fn staged_tier(store: &Store) -> u8 {
    let staged = tier_of(
        store.staged_blob(CONFIG_FILE).ok().flatten(),
        store.staged_blob(PYPROJECT_FILE).ok().flatten(),
    );
    staged
        .into_iter()
        .chain(tier_at(store, "HEAD"))
        .max()
        .unwrap_or(DEFAULT_TIER)
}

/// The tier of the working tree's configuration, for commands run in it.
pub fn worktree_tier(store: &Store) -> u8 {
    let Some(root) = store.maybe_workdir() else {
        return DEFAULT_TIER;
    };
    tier_of(
        std::fs::read(root.join(CONFIG_FILE)).ok(),
        std::fs::read(root.join(PYPROJECT_FILE)).ok(),
    )
    .unwrap_or(DEFAULT_TIER)
}
