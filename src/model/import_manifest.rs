//! The import manifest (`workbench/import-manifest/v1`, docs/import.md): what an
//! orchestrator that ran a stage elsewhere (Dagster, Prefect, a CI runner, a cluster
//! job, a plain script) writes so `import manifest` can record the run. Read strictly:
//! a duplicate key anywhere, an unknown field, a path that leaves the repository, a
//! size no file has, a time or duration no run has, all refuse the manifest, with the
//! field named. Pure: the file's bytes in, a checked value out.

use super::digest::Sha256;
use super::ids::{ObjectId, StageName};
use super::integrity::contained_path;
use super::origin::RunOrigin;
use super::params_doc::{self, Format};
use super::time::Timestamp;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub const IMPORT_SCHEMA: &str = "workbench/import-manifest/v1";
/// The largest manifest read (its size is checked before it is read).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// The most files one of `inputs`, `outputs` or `code_files` may name.
pub const MAX_FILES: usize = 100_000;
/// The largest size a file may be declared with (1 PiB).
pub const MAX_FILE_SIZE: u64 = 1 << 50;
/// The longest run a manifest may declare, in seconds (a year).
pub const MAX_DURATION: f64 = 366.0 * 86_400.0;
/// The most bytes of `command` and of `code.branch`.
pub const MAX_COMMAND: usize = 16 << 10;
pub const MAX_BRANCH: usize = 256;

/// One import manifest, as written by an orchestrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportManifest {
    pub schema: String,
    /// The stage the run is of; `--stage` names it when the manifest does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageName>,
    pub origin: RunOrigin,
    pub started_at: Timestamp,
    #[serde(default)]
    pub duration_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default)]
    pub exit_code: i32,
    #[serde(default)]
    pub params: Map<String, Value>,
    #[serde(default)]
    pub metrics: Map<String, Value>,
    #[serde(default)]
    pub inputs: BTreeMap<String, FileEntry>,
    #[serde(default)]
    pub outputs: BTreeMap<String, FileEntry>,
    #[serde(default)]
    pub code_files: BTreeMap<String, FileEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Code>,
}

/// A file the run read or wrote: its repository path is the map's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// 64 lower-case hex digits.
    #[serde(deserialize_with = "hex_digest", serialize_with = "hex_out")]
    pub sha256: Sha256,
    pub size: u64,
}

/// The code that ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// The commit checked out; it must be in the importing repository.
    #[serde(default)]
    pub commit: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Whether the working tree differed from the commit.
    #[serde(default)]
    pub dirty: bool,
}

fn hex_digest<'de, D: Deserializer<'de>>(d: D) -> Result<Sha256, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Sha256::parse_hex(&s).map_err(|_| {
        serde::de::Error::custom(format!(
            "sha256 '{}' is not 64 lower-case hex digits",
            s.chars().take(80).collect::<String>().escape_debug()
        ))
    })
}

fn hex_out<S: serde::Serializer>(d: &Sha256, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.hex())
}

impl ImportManifest {
    /// Reads a manifest's text strictly (module doc); `Err` is one line naming the
    /// field or line.
    pub fn parse(text: &str) -> Result<ImportManifest, String> {
        // serde keeps the last of two equal keys of a map: the strict reader refuses
        // them first, at any depth.
        if let Err(e) = params_doc::parse(text, Format::Json) {
            return Err(e.to_string());
        }
        let m: ImportManifest = serde_json::from_str(text).map_err(|e| json_error(text, &e))?;
        m.check()?;
        Ok(m)
    }

    /// The rules beyond the types.
    pub fn check(&self) -> Result<(), String> {
        if self.schema != IMPORT_SCHEMA {
            return Err(format!(
                "schema '{}' is not {IMPORT_SCHEMA}",
                self.schema
                    .chars()
                    .take(80)
                    .collect::<String>()
                    .escape_debug()
            ));
        }
        if self.started_at.unix_millis() < 0 {
            return Err(format!("started_at {} is before 1970", self.started_at));
        }
        let d = self.duration_seconds;
        if !(0.0..=MAX_DURATION).contains(&d) {
            return Err(format!(
                "duration_seconds {d} is not between 0 and {MAX_DURATION} (a year)"
            ));
        }
        if let Some(c) = &self.command {
            if c.len() > MAX_COMMAND || c.contains('\0') {
                return Err(format!(
                    "command is {} bytes or holds a NUL (at most {MAX_COMMAND} bytes of text)",
                    c.len()
                ));
            }
        }
        if let Some(b) = self.code.as_ref().and_then(|c| c.branch.as_ref()) {
            if b.is_empty() || b.len() > MAX_BRANCH || b.chars().any(char::is_control) {
                return Err(format!(
                    "code.branch '{}' is not a branch name (1 to {MAX_BRANCH} bytes, no control characters)",
                    b.chars().take(80).collect::<String>().escape_debug()
                ));
            }
        }
        for (field, files) in [
            ("inputs", &self.inputs),
            ("outputs", &self.outputs),
            ("code_files", &self.code_files),
        ] {
            check_files(field, files)?;
        }
        Ok(())
    }

    /// The digest that makes this manifest this manifest, whatever its spacing or key
    /// order: the stage it is recorded under and every value read.
    pub fn digest(&self, stage: &StageName) -> Sha256 {
        let canonical = serde_json::to_string(self).expect("manifests serialize");
        Sha256::of(format!("{stage}\n{canonical}").as_bytes())
    }
}

fn check_files(field: &str, files: &BTreeMap<String, FileEntry>) -> Result<(), String> {
    if files.len() > MAX_FILES {
        return Err(format!(
            "{field} names {} files (at most {MAX_FILES})",
            files.len()
        ));
    }
    for (path, f) in files {
        contained_path(path).map_err(|why| {
            format!(
                "{field}: the path '{}' {why}; paths are relative to the repository root",
                path.chars().take(200).collect::<String>().escape_debug()
            )
        })?;
        if f.size > MAX_FILE_SIZE {
            return Err(format!(
                "{field}: '{}' is declared {} bytes, more than any file ({MAX_FILE_SIZE})",
                path.escape_debug(),
                f.size
            ));
        }
    }
    Ok(())
}

/// serde's message, with what a bare `NaN` or `Infinity` (Python's `json.dump`
/// default) needs said plainly.
fn json_error(text: &str, e: &serde_json::Error) -> String {
    let at = text
        .lines()
        .nth(e.line().saturating_sub(1))
        .and_then(|l| l.get(e.column().saturating_sub(1)..))
        .unwrap_or("");
    if ["NaN", "Infinity", "-Infinity"]
        .iter()
        .any(|t| at.starts_with(t))
    {
        return format!(
            "line {}: NaN and Infinity are not JSON; write a value that is not a number as a string (\"NaN\"), or leave it out (Python: json.dump(..., allow_nan=False) finds them)",
            e.line()
        );
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{
  "schema": "workbench/import-manifest/v1",
  "stage": "train",
  "origin": {"orchestrator": "dagster", "run_id": "r-1", "host": "h"},
  "started_at": "2026-03-08T14:22:33.120Z",
  "duration_seconds": 1.5,
  "exit_code": 0,
  "params": {"lr": 0.1, "model": {"depth": 2}},
  "metrics": {"score": 0.9},
  "outputs": {"out/model.bin": {"sha256": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", "size": 5}},
  "code": {"commit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "branch": "main"}
}"#;

    #[test]
    fn a_manifest_reads_and_its_digest_ignores_spacing() {
        let m = ImportManifest::parse(GOOD).unwrap();
        assert_eq!(m.origin.run_id, "r-1");
        assert_eq!(m.outputs["out/model.bin"].size, 5);
        let squeezed: Value = serde_json::from_str(GOOD).unwrap();
        let again = ImportManifest::parse(&squeezed.to_string()).unwrap();
        let s = StageName::new("train").unwrap();
        assert_eq!(m.digest(&s), again.digest(&s));
        assert_ne!(m.digest(&s), m.digest(&StageName::new("other").unwrap()));
        let changed = ImportManifest::parse(&GOOD.replace("0.9", "0.8")).unwrap();
        assert_ne!(m.digest(&s), changed.digest(&s));
    }

    #[test]
    fn every_bad_manifest_is_refused_naming_why() {
        for (from, to, why) in [
            (
                "import-manifest/v1",
                "import-manifest/v2",
                "is not workbench/import-manifest/v1",
            ),
            ("\"stage\": \"train\"", "\"stage\": \"../x\"", "stage"),
            (
                "\"score\": 0.9",
                "\"score\": NaN",
                "NaN and Infinity are not JSON",
            ),
            (
                "\"score\": 0.9",
                "\"score\": 0.9, \"score\": 1",
                "duplicate key 'metrics.score'",
            ),
            (
                "\"host\": \"h\"",
                "\"host\": \"h\", \"host\": \"i\"",
                "duplicate key",
            ),
            (
                "\"exit_code",
                "\"gpu\": 1, \"exit_code",
                "unknown field `gpu`",
            ),
            ("out/model.bin", "../model.bin", "climbs out"),
            ("out/model.bin", "/etc/passwd", "is absolute"),
            (
                "out/model.bin",
                ".git/hooks/pre-commit",
                "names the repository's .git",
            ),
            ("out/model.bin", "out/.GIT/x", "names the repository's .git"),
            (
                "\"size\": 5",
                "\"size\": 99999999999999999999",
                "expected u64",
            ),
            (
                "\"size\": 5",
                "\"size\": 2251799813685248",
                "more than any file",
            ),
            ("\"size\": 5", "\"size\": -1", "expected u64"),
            ("2cf24dba5f", "2CF24DBA5F", "not 64 lower-case hex"),
            (
                "\"duration_seconds\": 1.5",
                "\"duration_seconds\": -1",
                "duration_seconds",
            ),
            (
                "\"duration_seconds\": 1.5",
                "\"duration_seconds\": 1e300",
                "duration_seconds",
            ),
            (
                "2026-03-08T14:22:33.120Z",
                "2026-03-08 14:22",
                "2026-03-08 14:22",
            ),
            ("\"run_id\": \"r-1\"", "\"run_id\": \"r 1\"", "white space"),
            (
                "\"branch\": \"main\"",
                "\"branch\": \"a\\u001bb\"",
                "code.branch",
            ),
            ("4b825dc642cb6eb9a060e54bf8d69288fbee4904", "HEAD", "HEAD"),
            (
                "\"exit_code\": 0",
                "\"exit_code\": 4294967296",
                "expected i32",
            ),
        ] {
            let text = GOOD.replacen(from, to, 1);
            assert_ne!(text, GOOD, "{from}");
            let e = ImportManifest::parse(&text).unwrap_err();
            assert!(e.contains(why), "{to}: {e}");
        }
    }
}
