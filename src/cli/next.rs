//! `git workbench next`.

use super::Out;
use crate::error::Result;
use crate::ops::next::next;
use crate::ops::Workspace;

/// What to do next, stage by stage, and who does it.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn cmd_next(out: &Out, _args: Args) -> Result<u8> {
    let ws = Workspace::open("next")?;
    let report = next(&ws)?;
    if out.json {
        out.json(&report)?;
        return Ok(0);
    }
    if report.items.is_empty() {
        out.line("nothing to do: every stage is approved and up to date")?;
        return Ok(0);
    }
    for (n, it) in report.items.iter().enumerate() {
        let who = serde_json::to_value(it.who).expect("who");
        let first = it.actions.first().map_or("", |a| a.display.as_str());
        out.line(&format!(
            "{}. [{}] {}: {first}",
            n + 1,
            who.as_str().unwrap_or_default(),
            it.stage,
        ))?;
        for a in it.actions.iter().skip(1) {
            out.line(&format!("     or: {}", a.display))?;
        }
        for w in &it.why {
            out.line(&format!("     {w}"))?;
        }
        if let Some(c) = &it.card {
            out.line(&format!("     card: {c}"))?;
        }
    }
    Ok(0)
}
