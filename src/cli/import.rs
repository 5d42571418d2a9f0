//! `git workbench import hydra | runs | manifest`.

use super::Out;
use crate::error::Result;
use crate::model::time::Zone;
use crate::model::StageName;
use crate::ops::import::manifest::{import_manifests, ManifestRequest};
use crate::ops::import::{import, ImportReport, ImportRequest, Layout};
use crate::ops::Workspace;
use std::path::PathBuf;

/// Record runs made elsewhere: a Hydra multirun tree, a runs/<run-id>/ folder, or
/// import manifests an orchestrator wrote.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub source: Source,
}

#[derive(clap::Subcommand, Debug)]
pub enum Source {
    /// A Hydra `--multirun` output tree (multirun/<date>/<time>/<n>/.hydra/...) or a
    /// single run's (outputs/<date>/<time>/): one run per job, params from the composed
    /// config, overrides kept, the job's files as outputs, its <job>.log as the run's
    /// log (never an output), started_at from the folder names read in the machine's
    /// time zone (or --timezone). The tree must be inside the repository and the stage
    /// declared in the configuration.
    Hydra(HydraArgs),
    /// The seed's layout, runs/<run-id>/{config.yaml, metrics.json, ...}: one run per
    /// folder.
    Runs(ImportArgs),
    /// Runs another orchestrator ran (Dagster, Prefect, a CI runner, a cluster job),
    /// from the JSON import manifests it wrote (docs/import.md;
    /// examples/orchestrators/workbench_manifest.py writes them): FILE, or every
    /// *.workbench.json in DIR. Outputs in NAME.workbench.files/ beside a manifest are
    /// stored once their size and sha256 match; NAME.workbench.log is the run's log.
    /// All are judged before any is recorded; the same manifest again is already
    /// recorded, another claiming the same orchestrator run is refused (exit 1).
    Manifest(ManifestArgs),
}

#[derive(clap::Args, Debug)]
pub struct ManifestArgs {
    /// An import manifest, or a directory of *.workbench.json manifests.
    #[arg(value_name = "FILE|DIR")]
    pub path: PathBuf,
    /// The stage of manifests that name none (a manifest naming another is refused).
    #[arg(long, value_parser = super::stage_arg)]
    pub stage: Option<StageName>,
}

#[derive(clap::Args, Debug)]
pub struct HydraArgs {
    #[command(flatten)]
    pub common: ImportArgs,
    /// The zone Hydra's folder names (local times of the machine that ran the jobs)
    /// are read in: a tz database name (Asia/Tokyo) or a UTC offset (+09:00, -0530,
    /// Z). Default: this machine's zone (TZ, else /etc/localtime).
    #[arg(long, value_name = "ZONE", value_parser = zone_arg, allow_hyphen_values = true)]
    pub timezone: Option<Zone>,
}

fn zone_arg(s: &str) -> std::result::Result<Zone, String> {
    Zone::parse(s)
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
    let (layout, a, zone) = match args.source {
        Source::Hydra(h) => (Layout::Hydra, h.common, h.timezone),
        Source::Runs(a) => (Layout::Runs, a, None),
        Source::Manifest(m) => return cmd_manifest(out, m),
    };
    let ws = Workspace::open("import")?.with_progress(super::progress::sink(out));
    let report = import(
        &ws,
        &ImportRequest {
            layout,
            dir: a.dir,
            stage: a.stage,
            metrics: a.metrics,
            zone,
        },
    )?;
    super::render::report(out, &report, &report.warnings, || human(out, &report))?;
    Ok(0)
}

fn cmd_manifest(out: &Out, args: ManifestArgs) -> Result<u8> {
    let ws = Workspace::open("import")?.with_progress(super::progress::sink(out));
    let report = import_manifests(
        &ws,
        &ManifestRequest {
            path: args.path,
            stage: args.stage,
        },
    )?;
    super::render::report(out, &report, &report.warnings, || {
        for (verb, runs) in [
            ("imported", &report.imported),
            ("already recorded", &report.already_imported),
        ] {
            for r in runs {
                out.line(&format!(
                    "{verb} {} of stage {} from {} ({}){}",
                    r.run_id,
                    r.stage,
                    r.manifest,
                    r.origin.identity(),
                    if r.stored_outputs.is_empty() {
                        String::new()
                    } else {
                        format!(", {} output(s) stored", r.stored_outputs.len())
                    }
                ))?;
            }
        }
        out.line(&format!(
            "{} run(s) imported, {} already recorded",
            report.imported.len(),
            report.already_imported.len()
        ))
    })?;
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
            "imported {} from {} (started {}) {}",
            i.run_id,
            i.run_dir,
            i.started_at,
            shown.join(" ")
        ))?;
    }
    out.line(&format!(
        "{} run(s) imported into stage {}, {} already imported{}",
        r.imported.len(),
        r.stage,
        r.already_imported.len(),
        if r.runs.is_empty() {
            String::new()
        } else {
            format!("; folder times read in time zone {}", r.timezone)
        }
    ))
}
