//! `git workbench verify-approvals`: checks every approval's signature against an
//! allowed-signers file, the way `git verify-commit` does.

use super::records::state_of;
use super::Out;
use crate::error::{Error, Result};
use crate::exec::sign::{verify_commit, SignatureStatus};
use crate::model::state::RunState;
use crate::store::Store;
use serde_json::json;
use std::path::PathBuf;

/// Verify the signatures of all approvals: reports unsigned approvals, bad
/// signatures and signers missing from the allowed-signers file. Exits 1 when any
/// approval does not verify.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ssh allowed-signers file (default: workbench.allowedSignersFile, else
    /// .workbench/allowed_signers at the repository root).
    #[arg(long, value_name = "FILE")]
    pub allowed_signers: Option<PathBuf>,
}

pub fn cmd_verify_approvals(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let root = store.workdir("verify-approvals")?;
    let file = args
        .allowed_signers
        .or_else(|| {
            store
                .config_string("workbench.allowedSignersFile")
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(".workbench/allowed_signers"));
    let file = if file.is_absolute() {
        file
    } else {
        root.join(file)
    };
    if !file.is_file() {
        return Err(Error::input(format!(
            "allowed-signers file {} does not exist",
            file.display()
        ))
        .hint("one line per signer: 'alice@example.com namespaces=\"git\" ssh-ed25519 AAAA...'"));
    }
    let mut rows = Vec::new();
    for run in store.list_runs(None)? {
        if state_of(&store, &run)? != RunState::Approved {
            continue;
        }
        let signed = store.commit_signature(run.tip).is_some();
        let (status, detail) = verify_commit(&root, &run.tip.to_string(), &file, signed);
        rows.push((run, status, detail));
    }
    let bad = rows
        .iter()
        .filter(|(_, s, _)| *s != SignatureStatus::Good)
        .count();
    if out.json {
        let list: Vec<_> = rows
            .iter()
            .map(|(r, s, d)| {
                json!({"run_id": r.run_id, "stage": r.stage, "record": r.tip.to_string(), "status": s, "detail": d})
            })
            .collect();
        out.json_value(&json!({"allowed_signers": file, "approvals": list, "problems": bad}));
    } else if rows.is_empty() {
        out.line("no approvals recorded");
    } else {
        let mut t = out.table(&["RUN", "STAGE", "SIGNATURE", "DETAIL"]);
        for (r, s, d) in &rows {
            let word = serde_json::to_value(s)
                .expect("status")
                .as_str()
                .unwrap_or("")
                .to_string();
            t.add_row(vec![r.run_id.clone(), r.stage.clone(), word, d.clone()]);
        }
        out.line(&t.to_string());
        out.line(&format!("{} approvals, {bad} not verified", rows.len()));
    }
    Ok(if bad > 0 { 1 } else { 0 })
}
