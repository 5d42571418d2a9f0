//! Resolving a `RUN` argument (full id, unique prefix, `STAGE/PREFIX`,
//! `STAGE@latest`, `STAGE@approved`) to a run ref.

use crate::error::{Error, Result};
use crate::model::run_spec::{match_prefix, PrefixMatch, RunSpec};
use crate::model::StageName;
use crate::store::{RunRef, Store};

/// The run `spec` names, its record judged valid (`model::integrity`): a forged,
/// replayed or corrupt record is refused (exit 1) by every command that acts on one.
pub fn resolve_run(store: &Store, spec: &str) -> Result<RunRef> {
    let run = find_run(store, spec)?;
    store.checked_run(&run)?;
    Ok(run)
}

/// The stage's current approved run, its record judged valid.
pub fn approved_run(store: &Store, stage: &StageName) -> Result<Option<RunRef>> {
    match store.approved_run(stage)? {
        Some(run) => {
            store.checked_run(&run)?;
            Ok(Some(run))
        }
        None => Ok(None),
    }
}

fn find_run(store: &Store, spec: &str) -> Result<RunRef> {
    match RunSpec::parse(spec)? {
        RunSpec::Latest(stage) => store
            .list_runs(Some(&stage))?
            .pop()
            .ok_or_else(|| no_runs(&stage)),
        RunSpec::Approved(stage) => {
            if store.list_runs(Some(&stage))?.is_empty() {
                return Err(no_runs(&stage));
            }
            store.approved_run(&stage)?.ok_or_else(|| {
                Error::input(format!("stage '{stage}' has no approved run"))
                    .hint(format!("see 'git workbench log {stage}'"))
            })
        }
        RunSpec::Id { stage, prefix } => {
            let runs = store.list_runs(stage.as_ref())?;
            let pairs: Vec<(&str, &str)> = runs
                .iter()
                .map(|r| (r.stage.as_str(), r.run_id.as_str()))
                .collect();
            match match_prefix(&pairs, stage.as_deref(), &prefix) {
                PrefixMatch::One(&(s, id)) => Ok(runs
                    .iter()
                    .find(|r| r.stage == s && r.run_id == id)
                    .expect("matched run is listed")
                    .clone()),
                PrefixMatch::None => Err(Error::input(format!("no run matches '{spec}'"))
                    .hint("list runs with 'git workbench log'")),
                PrefixMatch::Ambiguous(hits) => Err(ambiguous(&prefix, &hits)),
            }
        }
    }
}

fn ambiguous(prefix: &str, hits: &[&(&str, &str)]) -> Error {
    let shown: Vec<String> = hits
        .iter()
        .take(10)
        .map(|(s, id)| format!("{s}/{id}"))
        .collect();
    let more = if hits.len() > 10 {
        format!(" and {} more", hits.len() - 10)
    } else {
        String::new()
    };
    Error::input(format!(
        "run id prefix '{prefix}' is ambiguous: {}{more}",
        shown.join(", ")
    ))
    .hint(ambiguity_hint(hits))
}

/// A hint that can be followed as printed: more characters single out a run only when
/// no id is in two stages (`import` takes ids no stage has, but `run` in two stages,
/// or two clones, may still pick one id by chance); `STAGE/ID` as listed always does.
fn ambiguity_hint(hits: &[&(&str, &str)]) -> &'static str {
    let ids: std::collections::BTreeSet<&str> = hits.iter().map(|(_, id)| *id).collect();
    if ids.len() == hits.len() {
        "give more characters of the run id, or write one as listed (STAGE/ID)"
    } else {
        "write one as listed, with its stage (STAGE/ID): the same id is in several stages"
    }
}

fn no_runs(stage: &StageName) -> Error {
    Error::input(format!("stage '{stage}' has no runs"))
        .hint(format!("run it with 'git workbench run {stage}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_in_two_stages_is_named_with_its_stage() {
        let a = ("a", "20260101T000000Z-0001");
        let b = ("b", "20260101T000000Z-0001");
        let c = ("b", "20260101T000000Z-0002");
        assert!(ambiguity_hint(&[&a, &c]).starts_with("give more characters"));
        assert!(ambiguity_hint(&[&a, &b, &c]).starts_with("write one as listed, with its stage"));
    }
}
