//! The human decision records: approval (`workbench/approval/v1`) and feedback
//! (`workbench/feedback/v1`), and the digest that binds an approval to exact bytes.

use super::manifest::HashMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const APPROVAL_SCHEMA: &str = "workbench/approval/v1";
pub const FEEDBACK_SCHEMA: &str = "workbench/feedback/v1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub schema: String,
    pub run_id: String,
    pub stage: String,
    /// Always `"approved"`.
    pub decision: String,
    /// The git identity of the approver, `Name <email>`.
    pub approved_by: String,
    pub timestamp: String,
    /// The output files approved: path → `"sha256:<hex>"`.
    pub artifacts_approved: HashMap,
    /// True when the approval covers an interpretation (drafted or the human's own).
    pub interpretation_approved: bool,
    /// True when the human changed the draft (or wrote their own).
    pub interpretation_edited: bool,
    /// The interpretation as approved: the human's version when edited.
    pub approved_interpretation: String,
    pub note: Option<String>,
    /// The stage's previously approved run, or null.
    pub supersedes: Option<String>,
    /// sha256 over the sorted output hashes (see `artifact_digest`).
    pub artifact_digest: String,
    /// The review verdict the approval was given on.
    pub review_verdict: String,
    /// True when a failed review was approved with `--force`.
    pub forced: bool,
}

impl ApprovalRecord {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("approval serializes");
        s.push('\n');
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    pub schema: String,
    pub run_id: String,
    pub stage: String,
    pub issue: String,
    /// Param changes to try next: dotted key → value.
    pub suggested_params: BTreeMap<String, Value>,
    pub acceptance_criteria: Vec<String>,
    pub rejected_by: String,
    pub timestamp: String,
}

impl FeedbackRecord {
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("feedback serializes");
        s.push('\n');
        s
    }

    /// The `-p` arguments that apply the suggestions.
    pub fn suggested_args(&self) -> String {
        self.suggested_params
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => format!("-p {k}={s}"),
                other => format!("-p {k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The artifact digest: sha256 over the outputs in `sha256sum` format, one line
/// `<hex>  <path>\n` per output, sorted by path. It changes when any output's bytes,
/// name, or the set of outputs changes, and can be recomputed with standard tools:
/// `sha256sum $(outputs) | sort -k2 | sha256sum`.
pub fn artifact_digest(outputs: &HashMap) -> String {
    let mut text = String::new();
    for (path, tagged) in outputs {
        let hex = tagged.strip_prefix("sha256:").unwrap_or(tagged);
        text.push_str(&format!("{hex}  {path}\n"));
    }
    format!("sha256:{}", super::digest::sha256_hex(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_binds_names_and_bytes() {
        let a = HashMap::from([
            ("b.csv".to_string(), "sha256:22".to_string()),
            ("a.csv".to_string(), "sha256:11".to_string()),
        ]);
        let d = artifact_digest(&a);
        assert_eq!(
            d,
            format!(
                "sha256:{}",
                crate::model::digest::sha256_hex(b"11  a.csv\n22  b.csv\n")
            )
        );
        let mut renamed = a.clone();
        let v = renamed.remove("b.csv").unwrap();
        renamed.insert("c.csv".into(), v);
        assert_ne!(artifact_digest(&renamed), d);
        assert_ne!(artifact_digest(&HashMap::new()), d);
    }

    #[test]
    fn suggestions_become_arguments() {
        let f = FeedbackRecord {
            schema: FEEDBACK_SCHEMA.into(),
            run_id: "R".into(),
            stage: "s".into(),
            issue: "too many alerts".into(),
            suggested_params: BTreeMap::from([
                ("a.threshold".into(), Value::from(1.8)),
                ("a.mode".into(), Value::from("strict")),
            ]),
            acceptance_criteria: vec![],
            rejected_by: "x".into(),
            timestamp: "t".into(),
        };
        assert_eq!(f.suggested_args(), "-p a.mode=strict -p a.threshold=1.8");
    }
}
