//! `git workbench doctor`.

use super::Out;
use crate::error::Result;
use crate::ops::doctor::doctor;

/// Check configuration, git settings, hook, identity, signing, unpushed records and
/// orphaned notes; print each problem with the command that fixes it. Exits 1 when a
/// check fails (warnings alone exit 0).
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn cmd_doctor(out: &Out, _args: Args) -> Result<u8> {
    let r = doctor()?;
    if out.json {
        out.json(&r)?;
    } else {
        for c in &r.checks {
            out.line(&format!(
                "{:<4} {}: {}",
                c.status.as_str(),
                c.check,
                c.detail
            ))?;
            if let Some(f) = &c.fix {
                out.line(&format!("     fix: {f}"))?;
            }
        }
    }
    Ok(u8::from(!r.ok))
}
