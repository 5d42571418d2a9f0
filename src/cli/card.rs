//! `git workbench card`.

use super::Out;
use crate::error::Result;
use crate::ops::card::{card, CardReport, CardRequest, Draft};
use crate::ops::Workspace;
use std::path::PathBuf;

/// Write the run's card: what ran, key outputs, the self-review summary, the AI
/// interpretation (a draft pending human approval) and the recommendation.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run to present (it must be reviewed).
    pub run: String,
    /// The draft interpretation, from a file.
    #[arg(long, value_name = "FILE", conflicts_with = "message")]
    pub interpretation: Option<PathBuf>,
    /// The draft interpretation, inline.
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub message: Option<String>,
    /// What to do next (default: the review's recommendation).
    #[arg(long, value_name = "TEXT")]
    pub recommendation: Option<String>,
}

pub fn cmd_card(out: &Out, args: Args) -> Result<u8> {
    let ws = Workspace::open("card")?;
    let draft = match (args.interpretation, args.message) {
        (Some(path), _) => Draft::File(path),
        (None, Some(text)) => Draft::Text(text),
        (None, None) => Draft::Keep,
    };
    let report = card(
        &ws,
        &CardRequest {
            run: args.run,
            draft,
            recommendation: args.recommendation,
        },
    )?;
    super::render::report(out, &report, &report.warnings, || human(out, &report))?;
    Ok(0)
}

fn human(out: &Out, r: &CardReport) -> Result<()> {
    out.print(&r.card)?;
    out.note(&format!(
        "\nwritten to {}; a human decides with 'git workbench approve {}' or 'git workbench reject {} --issue ...'",
        r.card_path, r.run_id, r.run_id
    ));
    Ok(())
}
