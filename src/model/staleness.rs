//! Why a stage is stale: the latest run's manifest compared with the current state of
//! its dependencies, params, code files, command and outputs.

use super::digest::{FileHashes, Sha256};
use super::ids::RunId;
use super::manifest::{RunManifest, RunStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// What the working tree holds now, computed the same way `run` computes a manifest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurrentState {
    pub inputs: FileHashes,
    pub params: BTreeMap<String, Value>,
    pub code_files: FileHashes,
    pub command: String,
    /// Current hash of each output the latest run recorded; `None` when gone.
    pub outputs: BTreeMap<String, Option<Sha256>>,
}

/// One reason a stage needs a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StaleReason {
    NeverRun,
    /// The stage's current state cannot be computed (missing params key, bad glob...).
    Unreadable {
        message: String,
    },
    LatestFailed {
        run_id: RunId,
        exit_code: i32,
    },
    DepChanged {
        path: String,
    },
    DepAdded {
        path: String,
    },
    DepRemoved {
        path: String,
    },
    ParamChanged {
        key: String,
        old: Option<Value>,
        new: Option<Value>,
    },
    CodeChanged {
        path: String,
    },
    CommandChanged {
        old: String,
        new: String,
    },
    OutputMissing {
        path: String,
    },
    OutputChanged {
        path: String,
    },
    /// An approved run's `-p` value that the params file does not hold: the approval
    /// stands, but running the stage now would not reproduce it.
    ParamNotApplied {
        key: String,
        approved: Value,
        file: Option<Value>,
    },
}

impl fmt::Display for StaleReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| match v {
            Some(v) => v.to_string(),
            None => "(unset)".to_string(),
        };
        match self {
            StaleReason::NeverRun => write!(f, "never run"),
            StaleReason::Unreadable { message } => write!(f, "cannot check: {message}"),
            StaleReason::LatestFailed { run_id, exit_code } => {
                write!(f, "latest run {run_id} failed (exit {exit_code})")
            }
            StaleReason::DepChanged { path } => write!(f, "dep changed: {path}"),
            StaleReason::DepAdded { path } => write!(f, "dep added: {path}"),
            StaleReason::DepRemoved { path } => write!(f, "dep removed: {path}"),
            StaleReason::ParamChanged { key, old, new } => {
                write!(f, "param changed: {key} {} -> {}", show(old), show(new))
            }
            StaleReason::CodeChanged { path } => write!(f, "code changed: {path}"),
            StaleReason::CommandChanged { .. } => write!(f, "command changed"),
            StaleReason::OutputMissing { path } => write!(f, "output missing: {path}"),
            StaleReason::OutputChanged { path } => write!(f, "output changed: {path}"),
            StaleReason::ParamNotApplied {
                key,
                approved,
                file,
            } => write!(
                f,
                "approved param not in the params file: {key} approved {approved}, file has {}",
                show(file)
            ),
        }
    }
}

/// Every reason a run no longer describes the current state; empty when fresh.
///
/// A run with overrides (`-p`, a sweep, a rejection's suggestion) is a *candidate*:
/// its overridden params are its own and are not compared with the params file, so
/// it is not stale because the file differs; every other param, dep, code file and
/// the command are compared as for any run. Once `approved`, the candidate's values
/// must be in the params file: one that is not is `ParamNotApplied`.
pub fn stale_reasons(m: &RunManifest, now: &CurrentState, approved: bool) -> Vec<StaleReason> {
    let mut out = Vec::new();
    if m.status == RunStatus::Failed {
        out.push(StaleReason::LatestFailed {
            run_id: m.run_id.clone(),
            exit_code: m.exit_code,
        });
    }
    for (path, old) in &m.inputs {
        match now.inputs.get(path) {
            None => out.push(StaleReason::DepRemoved { path: path.clone() }),
            Some(new) if new != old => out.push(StaleReason::DepChanged { path: path.clone() }),
            Some(_) => {}
        }
    }
    // An imported run (Hydra, run folders) records what its job left, not the command,
    // deps and code files a run would: only what it recorded is compared.
    let imported = m.imported_from.is_some();
    for path in now.inputs.keys().filter(|p| !m.inputs.contains_key(*p)) {
        if !imported {
            out.push(StaleReason::DepAdded { path: path.clone() });
        }
    }
    let keys: std::collections::BTreeSet<&String> =
        m.params_used.keys().chain(now.params.keys()).collect();
    let overridden = super::params::overridden_keys(&m.overrides);
    for key in keys {
        let (old, new) = (m.params_used.get(key), now.params.get(key));
        if overridden.contains(key) {
            if let (true, Some(old)) = (approved && old != new, old) {
                out.push(StaleReason::ParamNotApplied {
                    key: key.clone(),
                    approved: old.clone(),
                    file: new.cloned(),
                });
            }
            continue;
        }
        if old != new {
            out.push(StaleReason::ParamChanged {
                key: key.clone(),
                old: old.cloned(),
                new: new.cloned(),
            });
        }
    }
    let code: std::collections::BTreeSet<&String> =
        m.code_files.keys().chain(now.code_files.keys()).collect();
    for path in code {
        if imported && !m.code_files.contains_key(path) {
            continue;
        }
        if m.code_files.get(path) != now.code_files.get(path) {
            out.push(StaleReason::CodeChanged { path: path.clone() });
        }
    }
    if m.command != now.command && !imported {
        out.push(StaleReason::CommandChanged {
            old: m.command.clone(),
            new: now.command.clone(),
        });
    }
    for (path, old) in &m.outputs {
        match now.outputs.get(path) {
            Some(Some(new)) if new == old => {}
            Some(Some(_)) => out.push(StaleReason::OutputChanged { path: path.clone() }),
            _ => out.push(StaleReason::OutputMissing { path: path.clone() }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ids::{ObjectId, StageName};
    use crate::model::manifest::CodeRef;
    use crate::model::time::Timestamp;
    use serde_json::json;

    fn tagged(s: &str) -> Sha256 {
        Sha256::of(s.as_bytes())
    }

    const RUN: &str = "20260308T142233Z-1e2a";

    fn manifest() -> RunManifest {
        RunManifest::builder(
            StageName::new("s").unwrap(),
            RunId::new(RUN).unwrap(),
            CodeRef {
                commit: None,
                dirty: false,
                tree: ObjectId::parse("4b825dc642cb6eb9a060e54bf8d69288fbee4904").unwrap(),
                branch: None,
            },
            Timestamp::from_unix_millis(0),
        )
        .params(
            BTreeMap::from([("a.lr".into(), json!(0.1))]),
            BTreeMap::new(),
        )
        .consumed(
            FileHashes::from([("d.csv".into(), tagged("11"))]),
            FileHashes::from([("s.py".into(), tagged("33"))]),
        )
        .produced(
            FileHashes::from([("o.csv".into(), tagged("22"))]),
            vec![],
            vec![],
        )
        .command("python s.py".into(), 0, 0.0)
        .build()
    }

    fn fresh(m: &RunManifest) -> CurrentState {
        CurrentState {
            inputs: m.inputs.clone(),
            params: m.params_used.clone(),
            code_files: m.code_files.clone(),
            command: m.command.clone(),
            outputs: m
                .outputs
                .iter()
                .map(|(k, v)| (k.clone(), Some(*v)))
                .collect(),
        }
    }

    #[test]
    fn fresh_run_has_no_reasons() {
        let m = manifest();
        assert!(stale_reasons(&m, &fresh(&m), false).is_empty());
    }

    #[test]
    fn each_change_is_named() {
        let m = manifest();
        let mut now = fresh(&m);
        now.inputs.insert("d.csv".into(), tagged("99"));
        now.inputs.insert("e.csv".into(), tagged("98"));
        now.params.insert("a.lr".into(), json!(0.2));
        now.code_files.insert("s.py".into(), tagged("97"));
        now.command = "python s.py --fast".into();
        now.outputs.insert("o.csv".into(), None);
        let r: Vec<String> = stale_reasons(&m, &now, false)
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(
            r,
            [
                "dep changed: d.csv",
                "dep added: e.csv",
                "param changed: a.lr 0.1 -> 0.2",
                "code changed: s.py",
                "command changed",
                "output missing: o.csv"
            ]
        );
    }

    #[test]
    fn failed_runs_and_removed_things() {
        let mut m = manifest();
        m.status = RunStatus::Failed;
        m.exit_code = 127;
        assert_eq!(m.run_id, RUN);
        let mut now = fresh(&m);
        now.inputs.clear();
        now.params.clear();
        let r = stale_reasons(&m, &now, false);
        assert_eq!(
            r[0],
            StaleReason::LatestFailed {
                run_id: RunId::new(RUN).unwrap(),
                exit_code: 127
            }
        );
        assert_eq!(
            r[1],
            StaleReason::DepRemoved {
                path: "d.csv".into()
            }
        );
        assert_eq!(r[2].to_string(), "param changed: a.lr 0.1 -> (unset)");
        let j = serde_json::to_value(&r[1]).unwrap();
        assert_eq!(j, json!({"kind": "dep_removed", "path": "d.csv"}));
    }

    #[test]
    fn a_candidate_is_judged_as_itself_until_approved() {
        let mut m = manifest();
        // `-p a.lr=0.5` over a file that says 0.1
        m.params_used.insert("a.lr".into(), json!(0.5));
        m.overrides.insert("a.lr".into(), json!(0.5));
        let mut now = fresh(&m);
        now.params.insert("a.lr".into(), json!(0.1));
        assert!(stale_reasons(&m, &now, false).is_empty());
        // approved, the file must hold the value
        assert_eq!(
            stale_reasons(&m, &now, true),
            [StaleReason::ParamNotApplied {
                key: "a.lr".into(),
                approved: json!(0.5),
                file: Some(json!(0.1)),
            }]
        );
        now.params.insert("a.lr".into(), json!(0.5));
        assert!(stale_reasons(&m, &now, true).is_empty());
        // a key the candidate did not override is compared as always
        now.params.insert("a.depth".into(), json!(3));
        assert_eq!(
            stale_reasons(&m, &now, false)[0].to_string(),
            "param changed: a.depth (unset) -> 3"
        );
        // a mapping override sets the keys it names, and only those
        let mut s = manifest();
        s.params_used = BTreeMap::from([("a.lr".into(), json!(0.2)), ("a.m".into(), json!(1))]);
        s.overrides = BTreeMap::from([("a".into(), json!({"lr": 0.2}))]);
        let mut now = fresh(&s);
        now.params = BTreeMap::from([("a.lr".into(), json!(0.1)), ("a.m".into(), json!(1))]);
        assert!(stale_reasons(&s, &now, false).is_empty());
        now.params.insert("a.m".into(), json!(2));
        assert_eq!(
            stale_reasons(&s, &now, false)[0].to_string(),
            "param changed: a.m 1 -> 2"
        );
        now.params.insert("a.m".into(), json!(1));
        // deps still count for a candidate
        now.inputs.insert("d.csv".into(), tagged("99"));
        assert_eq!(
            stale_reasons(&s, &now, false)[0].to_string(),
            "dep changed: d.csv"
        );
    }

    #[test]
    fn an_imported_run_is_compared_on_what_it_recorded() {
        let mut m = manifest();
        m.imported_from = Some("hydra multirun/x/0 abc".into());
        m.inputs.clear();
        m.code_files.clear();
        m.command = "imported from Hydra job multirun/x/0".into();
        let mut now = fresh(&m);
        now.command = "python app.py".into();
        now.inputs.insert("d.csv".into(), tagged("11"));
        now.code_files.insert("app.py".into(), tagged("33"));
        assert!(stale_reasons(&m, &now, false).is_empty());
        now.params.insert("a.lr".into(), json!(0.3));
        assert_eq!(stale_reasons(&m, &now, false).len(), 1);
    }
}
