//! The run manifest (`workbench/manifest/v1`, DESIGN.md §2): what ran, on which
//! inputs and code, with which params, producing which exact output bytes.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const MANIFEST_SCHEMA: &str = "workbench/manifest/v1";

/// Path → `"sha256:<hex>"`.
pub type HashMap = BTreeMap<String, String>;

/// `status` of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Executed,
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Executed => "executed",
            RunStatus::Failed => "failed",
        }
    }
}

/// A param or metric value as people read it: strings without quotes.
pub fn display_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Which code ran: the commit checked out, whether the working state differed from
/// it, and the tree of the working state (tracked files, uncommitted edits included),
/// which the run record keeps reachable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeRef {
    /// Full id of the commit HEAD pointed at, or null in a repository without commits.
    pub commit: Option<String>,
    pub dirty: bool,
    /// Id of the snapshot tree of the working state.
    pub tree: String,
    /// Branch HEAD was on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// The manifest written by `run`. Field names are a contract; add, never rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub schema: String,
    pub stage: String,
    pub run_id: String,
    pub parent_run_id: Option<String>,
    pub status: RunStatus,
    pub params_used: BTreeMap<String, Value>,
    /// The `-p` overrides among `params_used`.
    #[serde(default)]
    pub overrides: BTreeMap<String, Value>,
    pub inputs: HashMap,
    pub outputs: HashMap,
    /// Declared outputs that the command did not produce.
    #[serde(default)]
    pub missing_outputs: Vec<String>,
    /// Outputs whose bytes the run record holds (the rest were over the size limit).
    #[serde(default)]
    pub stored_outputs: Vec<String>,
    /// Code files the stage depends on (declared `code`, or scripts named in `cmd`).
    #[serde(default)]
    pub code_files: HashMap,
    pub code_ref: CodeRef,
    pub command: String,
    pub exit_code: i32,
    pub started_at: String,
    pub duration_seconds: f64,
    pub metrics: BTreeMap<String, Value>,
    /// Why metrics could not be read, when they could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics_error: Option<String>,
    pub run_dir: String,
    pub log_bytes: u64,
    #[serde(default)]
    pub log_truncated: bool,
    pub host: String,
    pub tool_version: String,
    /// The sweep this run belongs to (`git workbench sweep`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_id: Option<String>,
    /// For runs recorded by `import`: `hydra|runs <job dir> <sha256 of the job>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
}

impl RunManifest {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("manifest serializes");
        s.push('\n');
        s
    }

    pub fn from_json(bytes: &[u8]) -> Result<RunManifest, String> {
        let m: RunManifest = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if m.schema != MANIFEST_SCHEMA {
            return Err(format!("unsupported schema '{}'", m.schema));
        }
        Ok(m)
    }
}

/// `"sha256:<hex>"` for a hex digest.
pub fn tagged(hex: &str) -> String {
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn sample() -> RunManifest {
        RunManifest {
            schema: MANIFEST_SCHEMA.into(),
            stage: "baseline".into(),
            run_id: "20260308T142233Z-3f2a".into(),
            parent_run_id: None,
            status: RunStatus::Executed,
            params_used: BTreeMap::from([("baseline.threshold".into(), Value::from(0.5))]),
            overrides: BTreeMap::new(),
            inputs: HashMap::from([("data/x.csv".into(), tagged("ab"))]),
            outputs: HashMap::new(),
            missing_outputs: vec![],
            stored_outputs: vec![],
            code_files: HashMap::new(),
            code_ref: CodeRef {
                commit: None,
                dirty: true,
                tree: "4b825dc642cb6eb9a060e54bf8d69288fbee4904".into(),
                branch: None,
            },
            command: "true".into(),
            exit_code: 0,
            started_at: "2026-03-08T14:22:33.120Z".into(),
            duration_seconds: 0.25,
            metrics: BTreeMap::new(),
            metrics_error: None,
            run_dir: "runs/20260308T142233Z-3f2a".into(),
            log_bytes: 0,
            log_truncated: false,
            host: "h".into(),
            tool_version: "0.1.0".into(),
            sweep_id: None,
            imported_from: None,
        }
    }

    #[test]
    fn round_trips_and_has_contract_fields() {
        let m = sample();
        let text = m.to_json();
        let v: Value = serde_json::from_str(&text).unwrap();
        for field in [
            "schema",
            "stage",
            "run_id",
            "parent_run_id",
            "status",
            "params_used",
            "inputs",
            "outputs",
            "code_ref",
            "command",
            "exit_code",
            "started_at",
            "duration_seconds",
            "metrics",
            "host",
            "tool_version",
        ] {
            assert!(v.get(field).is_some(), "missing {field}");
        }
        assert_eq!(v["status"], "executed");
        assert_eq!(RunManifest::from_json(text.as_bytes()).unwrap(), m);
        let bad = text.replace(MANIFEST_SCHEMA, "workbench/manifest/v9");
        assert!(RunManifest::from_json(bad.as_bytes()).is_err());
    }
}
