//! `git workbench approve`: the rules are the use case's; showing the card and asking
//! the human is this file's.

use super::Out;
use crate::error::{Error, Result};
use crate::ops::approve::{
    interpretation_from_draft, interpretation_from_editor, interpretation_from_file, plan, record,
    signs, ApproveReport, Decided,
};
use crate::ops::params_apply::{write_run_params, ParamsWritten};
use crate::ops::Workspace;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

/// Approve a reviewed run: its exact output bytes and its interpretation.
///
/// Shows the card and asks for confirmation on a terminal (--yes skips it); `o` there
/// writes the report and opens the run's page in a browser. The
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
    /// Also write the run's -p values into the stage's params file (comments and
    /// layout kept), so the stage is current with them. On an approved run, only
    /// writes them.
    #[arg(long)]
    pub write_params: bool,
}

pub fn cmd_approve(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("approve")?;
    if args.write_params {
        if let Some(report) = write_params_of_approved(&ws, &args.run)? {
            super::render::report(out, &report, &[], || {
                out.line(&written_line(&report.run_id, &report.params_written))
            })?;
            return Ok(0);
        }
    }
    let plan = plan(&ws, &args.run, args.force)?;
    let (text, edited) = match (&args.interpretation, args.edit) {
        (Some(path), _) => interpretation_from_file(&plan, path)?,
        (None, true) => interpretation_from_editor(&ws, &plan)?,
        (None, false) => interpretation_from_draft(&plan)?,
    };
    if !args.yes {
        confirm(out, &ws, &plan.card_for(&text, edited), &plan.run)?;
    }
    let decided = Decided {
        text,
        edited,
        note: args.note,
        sign: signs(&ws, args.sign),
    };
    let mut report = record(&ws, plan, decided)?;
    let mut code = 0;
    if args.write_params {
        let m = ws.store.read_manifest(report.record)?;
        match write_run_params(&ws, &m) {
            Ok(w) => report.params_written = Some(w),
            Err(e) => {
                code = 1;
                report.warnings.push(format!(
                    "approved, but the params were not written: {e}{}",
                    e.hint_text().map_or(String::new(), |h| format!(" ({h})"))
                ));
            }
        }
    }
    super::render::report(out, &report, &report.warnings, || human(out, &report))?;
    Ok(code)
}

/// `approve --write-params --json` on a run approved already.
#[derive(Debug, serde::Serialize)]
struct WrittenReport {
    run_id: crate::model::RunId,
    stage: crate::model::StageName,
    already_approved: bool,
    params_written: ParamsWritten,
}

/// Writes an approved run's params; `None` when the run is not approved (the
/// approval then goes on as usual).
fn write_params_of_approved(ws: &Workspace, spec: &str) -> Result<Option<WrittenReport>> {
    let run = crate::ops::resolve::resolve_run(&ws.store, spec)?;
    if crate::ops::records::state_of(&ws.store, &run)? != crate::model::state::RunState::Approved {
        return Ok(None);
    }
    let m = ws.store.read_manifest(run.tip)?;
    let written = write_run_params(ws, &m)?;
    Ok(Some(WrittenReport {
        run_id: run.run_id,
        stage: run.stage,
        already_approved: true,
        params_written: written,
    }))
}

fn written_line(run: &str, w: &ParamsWritten) -> String {
    if w.values.is_empty() {
        format!("{} already holds the params of run {run}", w.file)
    } else {
        format!(
            "wrote the params of run {run} into {}: {}",
            w.file,
            w.values
                .iter()
                .map(|(k, v)| crate::model::next::override_arg(k, v))
                .collect::<Vec<_>>()
                .join(" ")
        )
    }
}

fn confirm(out: &Out, ws: &Workspace, card: &str, run: &crate::store::RunRef) -> Result<()> {
    let run_id = &run.run_id;
    if !std::io::stdin().is_terminal() {
        return Err(Error::refused(format!(
            "approving run {run_id} needs a human's confirmation, and there is no terminal to ask on"
        ))
        .hint("run it in a terminal, or pass --yes if you are the human deciding"));
    }
    out.note(card);
    loop {
        eprint!("Approve run {run_id}? [y/N, o: open its report page] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut answer)
            .map_err(Error::io(std::path::Path::new("stdin")))?;
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Ok(()),
            "o" | "open" => open_page(out, ws, run),
            _ => {
                return Err(Error::refused(format!(
                    "run {run_id} was not approved; nothing recorded"
                )))
            }
        }
    }
}

/// The prompt's `o`: writes the report and opens the run's page, then the prompt asks
/// again. A report that cannot be written is said, not fatal: the card is on screen.
fn open_page(out: &Out, ws: &Workspace, run: &crate::store::RunRef) {
    let progress = super::progress::sink(out);
    match crate::ops::report::open_run_page(&ws.store, &run.stage, &run.run_id, &*progress) {
        Ok((page, Some(browser))) => out.note(&format!("opened {} with {browser}", page.display())),
        Ok((page, None)) => out.note(&format!(
            "wrote {}; no browser found (set $BROWSER or install xdg-open), open it yourself",
            page.display()
        )),
        Err(e) => out.note(&format!("the report could not be written: {e}")),
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
    if let Some(w) = &r.params_written {
        out.line(&format!("  {}", written_line(&r.run_id, w)))?;
    }
    out.line(&format!("  artifact digest {}", a.artifact_digest))?;
    if a.forced {
        out.line("  forced over a failed review")?;
    }
    Ok(())
}
