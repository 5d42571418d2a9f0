//! `git workbench approve`: the rules are the use case's; showing the card and asking
//! the human is this file's.

use super::Out;
use crate::error::{Error, Result};
use crate::ops::approve::{
    interpretation_from_draft, interpretation_from_editor, interpretation_from_file, plan, record,
    signs, ApproveReport, Decided,
};
use crate::ops::Workspace;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Approve a reviewed run: its exact output bytes and its interpretation.
///
/// Shows the card and asks for confirmation on a terminal (--yes skips it). The
/// interpretation approved is the card's draft, the human's edit (--edit opens it in
/// GIT_EDITOR, core.editor, VISUAL or EDITOR), or --interpretation FILE.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to approve.
    pub run: String,
    /// Edit the draft interpretation in your editor before approving it.
    #[arg(long, conflicts_with = "interpretation")]
    pub edit: bool,
    /// The approved interpretation, from a file (your own text).
    #[arg(long, value_name = "FILE")]
    pub interpretation: Option<PathBuf>,
    /// A note kept with the approval.
    #[arg(short = 'm', long = "message", value_name = "NOTE")]
    pub note: Option<String>,
    /// Sign the approval commit with your git signing key (also: workbench.signApprovals).
    #[arg(long)]
    pub sign: bool,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// Approve although the review verdict is `fail` (recorded in the approval).
    #[arg(long)]
    pub force: bool,
}

pub fn cmd_approve(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("approve")?;
    let plan = plan(&ws, &args.run, args.force)?;
    let (text, edited) = match (&args.interpretation, args.edit) {
        (Some(path), _) => interpretation_from_file(&plan, path)?,
        (None, true) => interpretation_from_editor(&ws, &plan)?,
        (None, false) => interpretation_from_draft(&plan)?,
    };
    if !args.yes {
        confirm(out, &plan.card_for(&text, edited), &plan.run.run_id)?;
    }
    let decided = Decided {
        text,
        edited,
        note: args.note,
        sign: signs(&ws, args.sign),
    };
    let report = record(&ws, plan, decided)?;
    super::render::report(out, &report, &report.warnings, || human(out, &report))?;
    Ok(0)
}

fn confirm(out: &Out, card: &str, run_id: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::refused(format!(
            "approving run {run_id} needs a human's confirmation, and there is no terminal to ask on"
        ))
        .hint("run it in a terminal, or pass --yes if you are the human deciding"));
    }
    out.note(card);
    eprint!("Approve run {run_id}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(Error::io(std::path::Path::new("stdin")))?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Error::refused(format!(
            "run {run_id} was not approved; nothing recorded"
        )))
    }
}

fn human(out: &Out, r: &ApproveReport) -> Result<()> {
    let a = &r.approval;
    out.line(&format!(
        "approved run {} of stage {} by {}{}",
        r.run_id,
        r.stage,
        a.approved_by,
        if r.signed { " (signed)" } else { "" }
    ))?;
    if let Some(s) = &a.supersedes {
        out.line(&format!("  supersedes {s}"))?;
    }
    out.line(&format!("  artifact digest {}", a.artifact_digest))?;
    if a.forced {
        out.line("  forced over a failed review")?;
    }
    Ok(())
}
