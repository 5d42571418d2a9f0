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
        }
    }
}

/// Every reason the latest run no longer describes the current state; empty when fresh.
pub fn stale_reasons(m: &RunManifest, now: &CurrentState) -> Vec<StaleReason> {
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
    for path in now.inputs.keys().filter(|p| !m.inputs.contains_key(*p)) {
        out.push(StaleReason::DepAdded { path: path.clone() });
    }
    let keys: std::collections::BTreeSet<&String> =
        m.params_used.keys().chain(now.params.keys()).collect();
    for key in keys {
        let (old, new) = (m.params_used.get(key), now.params.get(key));
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
        if m.code_files.get(path) != now.code_files.get(path) {
            out.push(StaleReason::CodeChanged { path: path.clone() });
        }
    }
    if m.command != now.command {
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
        assert!(stale_reasons(&m, &fresh(&m)).is_empty());
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
        let r: Vec<String> = stale_reasons(&m, &now)
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
        let r = stale_reasons(&m, &now);
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
}
