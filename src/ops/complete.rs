//! Tab-completion candidates: stage names, run specs and sweep ids, from the
//! configuration, the run refs and the manifests only — it runs on every TAB, so it
//! hashes nothing and judges no record (a candidate is a word to type, not a run
//! trusted). Every candidate is a plain word (letters, digits and `._-@/`), so no
//! record from another clone can put shell syntax on the user's command line.

use crate::model::StageName;
use crate::store::{RunRef, Store};
use std::collections::BTreeSet;

/// The repository around the current directory, if there is one: a completion
/// outside a repository (or under a malformed `git -c`) offers nothing.
fn store() -> Option<Store> {
    Store::discover().ok()
}

/// A word the shell inserts as it is: nothing it expands, splits or quotes.
pub fn is_plain_word(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@' | b'/'))
}

fn runs(store: &Store) -> Vec<RunRef> {
    store.list_runs(None).unwrap_or_default()
}

/// The configured stages and the stages that have runs, starting with `prefix`.
pub fn stages(prefix: &str) -> Vec<String> {
    let mut out = BTreeSet::new();
    let Some(store) = store() else {
        return Vec::new();
    };
    if let Some(root) = store.maybe_workdir() {
        if let Ok((config, _)) = super::workspace::load_config(root) {
            out.extend(config.stage_names().into_iter().map(str::to_string));
        }
    }
    out.extend(runs(&store).into_iter().map(|r| r.stage.to_string()));
    out.into_iter()
        .filter(|s| s.starts_with(prefix) && is_plain_word(s))
        .collect()
}

/// What a `RUN` argument accepts, starting with `prefix`: full run ids (a short
/// prefix typed completes to them), `STAGE/ID`, `STAGE@latest` and, when the stage
/// has one, `STAGE@approved`.
pub fn run_specs(prefix: &str) -> Vec<String> {
    let Some(store) = store() else {
        return Vec::new();
    };
    let runs = runs(&store);
    let mut out = Vec::new();
    if let Some((stage, rest)) = prefix.split_once('/') {
        out.extend(
            runs.iter()
                .filter(|r| r.stage.as_str() == stage && r.run_id.as_str().starts_with(rest))
                .map(|r| format!("{}/{}", r.stage, r.run_id)),
        );
    } else {
        out.extend(
            runs.iter()
                .map(|r| r.run_id.to_string())
                .filter(|id| id.starts_with(prefix)),
        );
        let stages: BTreeSet<&StageName> = runs.iter().map(|r| &r.stage).collect();
        let typed_stage = prefix.split('@').next().unwrap_or("");
        for stage in stages {
            if !stage.as_str().starts_with(typed_stage) {
                continue;
            }
            out.push(format!("{stage}@latest"));
            if matches!(store.approved_run(stage), Ok(Some(_))) {
                out.push(format!("{stage}@approved"));
            }
        }
    }
    out.retain(|c| c.starts_with(prefix) && is_plain_word(c));
    out.sort();
    out.dedup();
    out
}

/// The sweep ids recorded in the manifests, starting with `prefix`, newest first.
pub fn sweeps(prefix: &str) -> Vec<String> {
    let Some(store) = store() else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    for r in runs(&store) {
        if let Ok(m) = store.read_manifest(r.tip) {
            if let Some(id) = m.sweep_id {
                if id.starts_with(prefix) && is_plain_word(&id) {
                    out.insert(id);
                }
            }
        }
    }
    out.into_iter().rev().collect()
}

/// The configured remotes, starting with `prefix`.
pub fn remotes(prefix: &str) -> Vec<String> {
    let Some(store) = store() else {
        return Vec::new();
    };
    store
        .remote_names()
        .into_iter()
        .filter(|r| r.starts_with(prefix) && is_plain_word(r))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_words_are_candidates() {
        for ok in [
            "train",
            "train@latest",
            "train/20260308T120000Z-00aa",
            "sweep-2026.x_y",
        ] {
            assert!(super::is_plain_word(ok), "{ok}");
        }
        for bad in [
            "", "-rf", "a b", "a;b", "$(x)", "`x`", "a*", "a?", "[a]", "a\nb", "a'b", "a\"b",
            "~root", "a|b", "a&b", "a>b", "a\\b", "a{b}", "ü",
        ] {
            assert!(!super::is_plain_word(bad), "{bad:?}");
        }
    }
}
