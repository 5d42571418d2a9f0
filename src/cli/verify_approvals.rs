//! `git workbench verify-approvals`.

use super::Out;
use crate::error::Result;
use crate::ops::verify_approvals::verify_approvals;
use crate::store::Store;
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
    let r = verify_approvals(&store, args.allowed_signers)?;
    if out.json {
        out.json(&r)?;
    } else if r.approvals.is_empty() {
        out.line("no approvals recorded")?;
    } else {
        let mut t = out.table(&["RUN", "STAGE", "SIGNATURE", "DETAIL"]);
        for a in &r.approvals {
            t.add_row(vec![
                a.run_id.to_string(),
                a.stage.to_string(),
                a.status.as_str().to_string(),
                a.detail.clone(),
            ]);
        }
        out.print_table(&t)?;
        out.line(&format!(
            "{} approvals, {} not verified",
            r.approvals.len(),
            r.problems
        ))?;
    }
    Ok(u8::from(r.problems > 0))
}
