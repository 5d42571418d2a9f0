//! `verify-approvals`: checks every approval's signature against an allowed-signers
//! file, the way `git verify-commit` does.

use super::records::state_of;
use crate::error::{Error, Result};
use crate::model::decision::SignatureStatus;
use crate::model::state::RunState;
use crate::model::{ObjectId, RunId, StageName};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One approval's signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalSignature {
    pub run_id: RunId,
    pub stage: StageName,
    pub record: ObjectId,
    pub status: SignatureStatus,
    pub detail: String,
}

/// `verify-approvals --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyApprovalsReport {
    pub allowed_signers: PathBuf,
    pub approvals: Vec<ApprovalSignature>,
    /// Approvals that do not verify.
    pub problems: usize,
}

/// `file`: the allowed-signers file (default: `workbench.allowedSignersFile`, else
/// `.workbench/allowed_signers` at the repository root).
pub fn verify_approvals(store: &Store, file: Option<PathBuf>) -> Result<VerifyApprovalsReport> {
    let root = store.workdir("verify-approvals")?;
    let file = super::signatures::allowed_signers_path(store, &root, file);
    if !file.is_file() {
        return Err(Error::input(format!(
            "allowed-signers file {} does not exist",
            file.display()
        ))
        .hint("one line per signer: 'alice@example.com namespaces=\"git\" ssh-ed25519 AAAA...'"));
    }
    let mut approvals = Vec::new();
    for run in store.list_runs(None)? {
        if state_of(store, &run)? != RunState::Approved {
            continue;
        }
        let approval = store.read_record(run.tip)?;
        let (status, detail) = match (store.check_run(&run)?, approval) {
            (Err(invalid), _) => (SignatureStatus::InvalidRecord, invalid.to_string()),
            (Ok(_), Some(a)) => {
                super::signatures::approval_signature(store, &run, &a, Some(&file))?
            }
            (Ok(_), None) => (
                SignatureStatus::InvalidRecord,
                "no approval.json".to_string(),
            ),
        };
        approvals.push(ApprovalSignature {
            run_id: run.run_id,
            stage: run.stage,
            record: run.tip,
            status,
            detail,
        });
    }
    let problems = approvals
        .iter()
        .filter(|a| a.status != SignatureStatus::Good)
        .count();
    Ok(VerifyApprovalsReport {
        allowed_signers: file,
        approvals,
        problems,
    })
}
