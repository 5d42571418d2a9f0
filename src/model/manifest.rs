//! The run manifest (`workbench/manifest/v1`, docs/storage.md): what ran, on which
//! inputs and code, with which params, producing which exact output bytes. `run` and
//! `import` both build it through `ManifestBuilder`, the one place its fields are set.

use super::digest::FileHashes;
use super::ids::{ObjectId, RunId, StageName};
use super::record::Record;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const MANIFEST_SCHEMA: &str = "workbench/manifest/v1";

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

    pub fn of_exit_code(code: i32) -> RunStatus {
        if code == 0 {
            RunStatus::Executed
        } else {
            RunStatus::Failed
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
    /// The commit HEAD pointed at, or null in a repository without commits.
    pub commit: Option<ObjectId>,
    pub dirty: bool,
    /// The snapshot tree of the working state.
    pub tree: ObjectId,
    /// Branch HEAD was on, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
}

/// The manifest written by `run`. Field names are a contract; add, never rename.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    pub schema: String,
    pub stage: StageName,
    pub run_id: RunId,
    pub parent_run_id: Option<RunId>,
    pub status: RunStatus,
    pub params_used: BTreeMap<String, Value>,
    /// The `-p` overrides among `params_used`.
    #[serde(default)]
    pub overrides: BTreeMap<String, Value>,
    pub inputs: FileHashes,
    pub outputs: FileHashes,
    /// Declared outputs that the command did not produce.
    #[serde(default)]
    pub missing_outputs: Vec<String>,
    /// Files the command wrote under a declared output whose names are not UTF-8, so
    /// no record can name them: their repository paths with those bytes as `\xNN`.
    /// They are neither hashed nor stored, and fail the review's `output_files_exist`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrecorded_outputs: Vec<String>,
    /// Outputs whose bytes the run record holds (the rest were over the size limit).
    #[serde(default)]
    pub stored_outputs: Vec<String>,
    /// Outputs kept in git LFS (the stage's `large_outputs = "lfs"`): path → size in
    /// bytes. Their sha256 in `outputs` is the LFS object id, and the record holds
    /// each one's LFS pointer file at `lfs/<path>`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lfs_outputs: BTreeMap<String, u64>,
    /// Code files the stage depends on (declared `code`, or scripts named in `cmd`).
    #[serde(default)]
    pub code_files: FileHashes,
    pub code_ref: CodeRef,
    pub command: String,
    pub exit_code: i32,
    pub started_at: Timestamp,
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
    /// For runs recorded by `import`: `hydra|runs <job dir> <sha256 of the job>`, or
    /// `manifest <sha256 of the import manifest>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
    /// Where the run happened, for runs another orchestrator ran (`import manifest`,
    /// `import hydra` of a submitit sweep); none for runs of this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<super::origin::RunOrigin>,
    /// For a DVC stage's run (`dvc repro`): the DVC stage and the md5 `dvc.lock` gave
    /// each output DVC caches, so `checkout` can find the bytes in DVC's cache or
    /// remote (docs/dvc.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dvc: Option<super::dvc::DvcRecord>,
}

impl Record for RunManifest {
    const FILE: &'static str = "manifest.json";
    const SCHEMA: &'static str = MANIFEST_SCHEMA;
    fn schema(&self) -> &str {
        &self.schema
    }
}

impl RunManifest {
    pub fn to_json(&self) -> String {
        super::record::to_json(self)
    }

    pub fn from_json(bytes: &[u8]) -> Result<RunManifest, super::error::Error> {
        super::record::parse(bytes)
    }

    /// Starts the manifest of a run; everything not set is empty.
    pub fn builder(
        stage: StageName,
        run_id: RunId,
        code_ref: CodeRef,
        started_at: Timestamp,
    ) -> ManifestBuilder {
        ManifestBuilder(RunManifest {
            schema: MANIFEST_SCHEMA.into(),
            run_dir: String::new(),
            stage,
            run_id,
            parent_run_id: None,
            status: RunStatus::Executed,
            params_used: BTreeMap::new(),
            overrides: BTreeMap::new(),
            inputs: FileHashes::new(),
            outputs: FileHashes::new(),
            missing_outputs: Vec::new(),
            unrecorded_outputs: Vec::new(),
            stored_outputs: Vec::new(),
            lfs_outputs: BTreeMap::new(),
            code_files: FileHashes::new(),
            code_ref,
            command: String::new(),
            exit_code: 0,
            started_at,
            duration_seconds: 0.0,
            metrics: BTreeMap::new(),
            metrics_error: None,
            log_bytes: 0,
            log_truncated: false,
            host: String::new(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            sweep_id: None,
            imported_from: None,
            origin: None,
            dvc: None,
        })
    }
}

/// Builds a manifest; the status follows from the exit code.
pub struct ManifestBuilder(RunManifest);

impl ManifestBuilder {
    pub fn parent(mut self, parent: Option<RunId>) -> Self {
        self.0.parent_run_id = parent;
        self
    }

    pub fn params(
        mut self,
        used: BTreeMap<String, Value>,
        overrides: BTreeMap<String, Value>,
    ) -> Self {
        self.0.params_used = used;
        self.0.overrides = overrides;
        self
    }

    /// What the run consumed: its inputs and code files, hashed before it ran.
    pub fn consumed(mut self, inputs: FileHashes, code_files: FileHashes) -> Self {
        self.0.inputs = inputs;
        self.0.code_files = code_files;
        self
    }

    /// What it produced: every output's digest, the declared ones that are missing,
    /// and which outputs the record stores.
    pub fn produced(
        mut self,
        outputs: FileHashes,
        missing: Vec<String>,
        stored: Vec<String>,
    ) -> Self {
        self.0.outputs = outputs;
        self.0.missing_outputs = missing;
        self.0.stored_outputs = stored;
        self
    }

    /// Outputs kept in git LFS, with their sizes.
    pub fn lfs(mut self, lfs_outputs: BTreeMap<String, u64>) -> Self {
        self.0.lfs_outputs = lfs_outputs;
        self
    }

    /// Output files that could not be recorded (names not UTF-8, escaped).
    pub fn unrecorded(mut self, escaped: Vec<String>) -> Self {
        self.0.unrecorded_outputs = escaped;
        self
    }

    pub fn command(mut self, command: String, exit_code: i32, duration_seconds: f64) -> Self {
        self.0.command = command;
        self.0.exit_code = exit_code;
        self.0.status = RunStatus::of_exit_code(exit_code);
        self.0.duration_seconds = (duration_seconds * 1000.0).round() / 1000.0;
        self
    }

    /// The metrics read, or why they could not be.
    pub fn metrics(mut self, metrics: Result<BTreeMap<String, Value>, String>) -> Self {
        match metrics {
            Ok(m) => self.0.metrics = m,
            Err(e) => self.0.metrics_error = Some(e),
        }
        self
    }

    pub fn place(mut self, run_dir: String, host: String) -> Self {
        self.0.run_dir = run_dir;
        self.0.host = host;
        self
    }

    pub fn log(mut self, bytes: u64, truncated: bool) -> Self {
        self.0.log_bytes = bytes;
        self.0.log_truncated = truncated;
        self
    }

    pub fn sweep(mut self, sweep_id: Option<String>) -> Self {
        self.0.sweep_id = sweep_id;
        self
    }

    pub fn imported_from(mut self, source: String) -> Self {
        self.0.imported_from = Some(source);
        self
    }

    pub fn origin(mut self, origin: Option<super::origin::RunOrigin>) -> Self {
        self.0.origin = origin;
        self
    }

    pub fn dvc(mut self, record: Option<super::dvc::DvcRecord>) -> Self {
        self.0.dvc = record;
        self
    }

    pub fn build(self) -> RunManifest {
        self.0
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::model::digest::Sha256;

    pub fn sample() -> RunManifest {
        RunManifest::builder(
            StageName::new("baseline").unwrap(),
            RunId::new("20260308T142233Z-3f2a").unwrap(),
            CodeRef {
                commit: None,
                dirty: true,
                tree: ObjectId::parse("4b825dc642cb6eb9a060e54bf8d69288fbee4904").unwrap(),
                branch: None,
            },
            Timestamp::parse("2026-03-08T14:22:33.120Z").unwrap(),
        )
        .params(
            BTreeMap::from([("baseline.threshold".into(), Value::from(0.5))]),
            BTreeMap::new(),
        )
        .consumed(
            FileHashes::from([("data/x.csv".into(), Sha256::of(b"x"))]),
            FileHashes::new(),
        )
        .command("true".into(), 0, 0.25)
        .place("runs/20260308T142233Z-3f2a".into(), "h".into())
        .build()
    }

    #[test]
    fn origin_is_absent_from_old_records_and_judged_when_read() {
        let m = sample();
        let text = m.to_json();
        assert!(
            !text.contains("origin"),
            "records without one keep their bytes"
        );
        let mut with = m.clone();
        with.origin = Some(
            serde_json::from_str(r#"{"orchestrator":"dagster","run_id":"r1","host":"w3"}"#)
                .unwrap(),
        );
        let back = RunManifest::from_json(with.to_json().as_bytes()).unwrap();
        assert_eq!(back, with);
        let forged = with
            .to_json()
            .replace("\"run_id\": \"r1\"", "\"run_id\": \"r1\\u001b[2J\"");
        assert_ne!(forged, with.to_json());
        let e = RunManifest::from_json(forged.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("origin.run_id"), "{e}");
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
        assert_eq!(v["started_at"], "2026-03-08T14:22:33.120Z");
        assert!(v["inputs"]["data/x.csv"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
        assert_eq!(RunManifest::from_json(text.as_bytes()).unwrap(), m);
        let bad = text.replace(MANIFEST_SCHEMA, "workbench/manifest/v9");
        assert!(RunManifest::from_json(bad.as_bytes()).is_err());
        let failed = RunManifest::builder(
            m.stage.clone(),
            m.run_id.clone(),
            m.code_ref.clone(),
            m.started_at,
        )
        .command("false".into(), 3, 0.0)
        .metrics(Err("metrics.json: cannot read".into()))
        .build();
        assert_eq!(failed.status, RunStatus::Failed);
        assert_eq!(
            failed.metrics_error.as_deref(),
            Some("metrics.json: cannot read")
        );
    }
}
