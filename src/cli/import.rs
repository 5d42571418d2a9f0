//! `git workbench import hydra | runs`.

use super::Out;
use crate::error::Result;
use crate::model::StageName;
use crate::ops::import::{import, ImportReport, ImportRequest, Layout};
use crate::ops::Workspace;
use std::path::PathBuf;

/// Record runs made elsewhere: a Hydra multirun tree or a runs/<run-id>/ folder.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(clap::Subcommand, Debug)]
pub enum Source {
    /// A Hydra `--multirun` output tree (multirun/<date>/<time>/<n>/.hydra/...): one run
    /// per job, params from the composed config, overrides kept, the job's files as
    /// outputs, its log, started_at from the directory names.
    Hydra(ImportArgs),
    /// The seed's layout, runs/<run-id>/{config.yaml, metrics.json, ...}: one run per
    /// folder.
    Runs(ImportArgs),
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    pub dir: PathBuf,
    /// The stage the runs are recorded under.
    #[arg(long, value_parser = super::stage_arg)]
    pub stage: StageName,
    /// The metrics file of each job, relative to its folder.
    #[arg(long, default_value = "metrics.json", value_name = "FILE")]
    pub metrics: String,
}

pub fn cmd_import(out: &Out, args: Args) -> Result<u8> {
    let (layout, a) = match args.source {
        Source::Hydra(a) => (Layout::Hydra, a),
        Source::Runs(a) => (Layout::Runs, a),
    };
    let ws = Workspace::open("import")?;
    let report = import(
        &ws,
        &ImportRequest {
            layout,
            dir: a.dir,
            stage: a.stage,
            metrics: a.metrics,
        },
    )?;
    super::render::report(out, &report, &report.warnings, || human(out, &report))?;
    Ok(0)
}

fn human(out: &Out, r: &ImportReport) -> Result<()> {
    for i in &r.runs {
        let shown: Vec<String> = i
            .overrides
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::model::manifest::display_value(v)))
            .collect();
        out.line(&format!(
            "imported {} from {} {}",
            i.run_id,
            i.run_dir,
            shown.join(" ")
        ))?;
    }
    out.line(&format!(
        "{} run(s) imported into stage {}, {} already imported",
        r.imported.len(),
        r.stage,
        r.already_imported.len()
    ))
}
