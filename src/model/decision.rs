//! The human decision records: approval (`workbench/approval/v1`), feedback
//! (`workbench/feedback/v1`) and the conflict two clones' decisions make
//! (`workbench/conflict/v1`), and the digest that binds an approval to exact bytes.

use super::digest::{FileHashes, Sha256};
use super::ids::{ObjectId, RunId, StageName};
use super::record::Record;
use super::review::Verdict;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const APPROVAL_SCHEMA: &str = "workbench/approval/v1";
pub const FEEDBACK_SCHEMA: &str = "workbench/feedback/v1";
pub const CONFLICT_SCHEMA: &str = "workbench/conflict/v1";
/// What conflict records said before their schema followed `workbench/<kind>/v1`.
pub const LEGACY_CONFLICT_SCHEMA: &str = "workbench.conflict/v1";

/// The `decision` of an approval record: always `"approved"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Approved,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub schema: String,
    pub run_id: RunId,
    pub stage: StageName,
    pub decision: Decision,
    /// The git identity of the approver, `Name <email>`.
    pub approved_by: String,
    pub timestamp: Timestamp,
    /// The output files approved: path → digest.
    pub artifacts_approved: FileHashes,
    /// True when the approval covers an interpretation (drafted or the human's own).
    pub interpretation_approved: bool,
    /// True when the human changed the draft (or wrote their own).
    pub interpretation_edited: bool,
    /// The interpretation as approved: the human's version when edited.
    pub approved_interpretation: String,
    pub note: Option<String>,
    /// The stage's previously approved run, or null.
    pub supersedes: Option<RunId>,
    /// sha256 over the sorted output hashes (see `artifact_digest`).
    pub artifact_digest: Sha256,
    /// The review verdict the approval was given on.
    pub review_verdict: Verdict,
    /// True when a failed review was approved with `--force`.
    pub forced: bool,
}

impl Record for ApprovalRecord {
    const FILE: &'static str = "approval.json";
    const SCHEMA: &'static str = APPROVAL_SCHEMA;
    fn schema(&self) -> &str {
        &self.schema
    }
}

impl ApprovalRecord {
    pub fn to_json(&self) -> String {
        super::record::to_json(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedbackRecord {
    pub schema: String,
    pub run_id: RunId,
    pub stage: StageName,
    pub issue: String,
    /// Param changes to try next: dotted key → value.
    pub suggested_params: BTreeMap<String, Value>,
    pub acceptance_criteria: Vec<String>,
    pub rejected_by: String,
    pub timestamp: Timestamp,
}

impl Record for FeedbackRecord {
    const FILE: &'static str = "feedback.json";
    const SCHEMA: &'static str = FEEDBACK_SCHEMA;
    fn schema(&self) -> &str {
        &self.schema
    }
}

/// One side of a conflict: the record commit and the event it last recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictSide {
    pub commit: ObjectId,
    /// The event name, or `unknown` for a commit without a `Workbench-Event` trailer.
    pub event: String,
}

/// `conflict.json`: two clones made different transitions on one run; the merge
/// commit keeps both histories until a human decides again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictRecord {
    pub schema: String,
    pub stage: StageName,
    pub run_id: RunId,
    pub remote: String,
    pub ours: ConflictSide,
    pub theirs: ConflictSide,
}

impl Record for ConflictRecord {
    const FILE: &'static str = "conflict.json";
    const SCHEMA: &'static str = CONFLICT_SCHEMA;
    fn schema(&self) -> &str {
        // Records written before the schema was renamed are the same record.
        if self.schema == LEGACY_CONFLICT_SCHEMA {
            CONFLICT_SCHEMA
        } else {
            &self.schema
        }
    }
}

impl FeedbackRecord {
    pub fn to_json(&self) -> String {
        super::record::to_json(self)
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

/// How the signature of an approval commit verified against the allowed signers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    Good,
    Unsigned,
    BadSignature,
    UnlistedSigner,
    /// A good signature by an allowed key, but not the approver's.
    WrongSigner,
    /// The record the signature is on breaks the record rules (a replayed or
    /// forged approval): its signature proves nothing about this run.
    InvalidRecord,
    /// Signed, but no allowed-signers file is configured to check it against.
    Unverified,
}

impl SignatureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Good => "good",
            SignatureStatus::Unsigned => "unsigned",
            SignatureStatus::BadSignature => "bad_signature",
            SignatureStatus::UnlistedSigner => "unlisted_signer",
            SignatureStatus::WrongSigner => "wrong_signer",
            SignatureStatus::InvalidRecord => "invalid_record",
            SignatureStatus::Unverified => "unverified",
        }
    }
}

/// The artifact digest: sha256 over the outputs in `sha256sum` format, one line
/// `<hex>  <path>\n` per output, sorted by path. It changes when any output's bytes,
/// name, or the set of outputs changes, and can be recomputed with standard tools:
/// `sha256sum $(outputs) | sort -k2 | sha256sum`.
pub fn artifact_digest(outputs: &FileHashes) -> Sha256 {
    let mut text = String::new();
    for (path, digest) in outputs {
        text.push_str(&format!("{}  {path}\n", digest.hex()));
    }
    Sha256::of(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_binds_names_and_bytes() {
        let (h1, h2) = (Sha256::of(b"1"), Sha256::of(b"2"));
        let a = FileHashes::from([("b.csv".to_string(), h2), ("a.csv".to_string(), h1)]);
        let d = artifact_digest(&a);
        let listing = format!("{}  a.csv\n{}  b.csv\n", h1.hex(), h2.hex());
        assert_eq!(d, Sha256::of(listing.as_bytes()));
        let mut renamed = a.clone();
        let v = renamed.remove("b.csv").unwrap();
        renamed.insert("c.csv".into(), v);
        assert_ne!(artifact_digest(&renamed), d);
        assert_ne!(artifact_digest(&FileHashes::new()), d);
    }

    #[test]
    fn suggestions_become_arguments() {
        let f = FeedbackRecord {
            schema: FEEDBACK_SCHEMA.into(),
            run_id: RunId::new("20260308T142233Z-1e2a").unwrap(),
            stage: StageName::new("s").unwrap(),
            issue: "too many alerts".into(),
            suggested_params: BTreeMap::from([
                ("a.threshold".into(), Value::from(1.8)),
                ("a.mode".into(), Value::from("strict")),
            ]),
            acceptance_criteria: vec![],
            rejected_by: "x".into(),
            timestamp: Timestamp::from_unix_millis(0),
        };
        assert_eq!(f.suggested_args(), "-p a.mode=strict -p a.threshold=1.8");
    }
}
