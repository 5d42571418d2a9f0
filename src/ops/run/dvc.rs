//! `run` of a DVC stage: the command is `dvc repro --single-item --force -- STAGE`, so DVC
//! runs it, caches its outputs and writes `dvc.lock` as it would alone; the record
//! keeps DVC's md5 of each cached output (the manifest's `dvc`) for `checkout`.
//! Why `--single-item` and `--force`, and why `-p` is refused: docs/dvc.md.

use super::RunRequest;
use crate::error::{Error, Result};
use crate::exec::command::Program;
use crate::exec::dvc;
use crate::exec::paths::check_inside;
use crate::model::config::Stage;
use crate::model::dvc::{locked_outs, DvcRecord, DVC_LOCK};
use crate::ops::workspace::Workspace;

/// The program that runs a DVC stage, or `None` for any other stage. Refused before
/// anything runs: `-p` overrides (DVC reads params.yaml itself and writes its values
/// into dvc.lock, so an override the file does not hold would make the lock lie),
/// `run -- CMD` (DVC runs dvc.yaml's cmd), and a dependency that a symbolic link takes
/// out of the repository.
pub fn program(ws: &Workspace, stage: &Stage, req: &RunRequest) -> Result<Option<Program>> {
    let Some(link) = &stage.dvc else {
        return Ok(None);
    };
    if let Some((key, _)) = req.params.first() {
        return Err(Error::input(format!(
            "-p {key}: stage '{}' is a DVC stage, whose params DVC reads from {} itself",
            stage.name,
            stage
                .params
                .as_ref()
                .map_or("params.yaml", |p| p.file.as_str())
        ))
        .hint(
            "edit the params file and run again, or try the value with dvc exp run -S KEY=VALUE",
        ));
    }
    if !req.command.is_empty() {
        return Err(Error::input(format!(
            "stage '{}' is a DVC stage: dvc repro runs the cmd of dvc.yaml, not another command",
            stage.name
        ))
        .hint("change cmd in dvc.yaml, or declare a workbench stage for the other command"));
    }
    for d in &stage.deps {
        check_inside(&ws.root, d, "dependency")?;
    }
    let exe = dvc::program(ws.store.config_string(dvc::PROGRAM_KEY))?;
    Ok(Some(Program::Argv(vec![
        exe.to_string_lossy().into_owned(),
        "repro".into(),
        "--single-item".into(),
        "--force".into(),
        "--".into(), // a stage name is never read as an option
        link.stage.clone(),
    ])))
}

/// DVC's md5 of each cached output of a DVC stage's run, from `dvc.lock`; `Err`: the
/// warning to give when it cannot be read (the run is recorded without it).
pub fn record(ws: &Workspace, stage: &Stage, exit_code: i32) -> Result<Option<DvcRecord>, String> {
    let Some(link) = &stage.dvc else {
        return Ok(None);
    };
    if exit_code != 0 {
        return Ok(None); // DVC locks only what succeeded
    }
    let path = ws.root.join(DVC_LOCK);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!("{DVC_LOCK} not read after dvc repro ({e}); checkout cannot fetch this run's outputs from DVC")
    })?;
    locked_outs(&text, &link.stage, &link.cached)
        .map(Some)
        .map_err(|e| {
            format!(
                "{}; checkout cannot fetch this run's outputs from DVC",
                e.message
            )
        })
}
