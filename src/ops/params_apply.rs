//! Writing an approved candidate's params into its stage's params file (`approve
//! --write-params`, like `dvc exp apply`), so that running the stage reproduces what
//! was approved and `status` is current. The file is edited in place (comments and
//! layout kept, `model::params_doc::set_values`), verified by re-parsing, and
//! replaced with a rename only if nobody changed it meanwhile.

use super::workspace::Workspace;
use crate::error::{Error, Result};
use crate::model::manifest::RunManifest;
use crate::model::params_doc::{self, Format};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::io::Write;

/// What was written (`approve --json`'s `params_written`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsWritten {
    pub file: String,
    /// The keys set, with the values written; empty when the file held them already.
    pub values: serde_json::Map<String, Value>,
}

/// Writes the run's override values that the params file does not hold.
pub fn write_run_params(ws: &Workspace, m: &RunManifest) -> Result<ParamsWritten> {
    let stage = ws.stage(&m.stage)?;
    let Some(spec) = &stage.params else {
        return Err(Error::input(format!(
            "stage '{}' declares no params file to write run {}'s params into",
            m.stage, m.run_id
        ))
        .hint(format!(
            "declare stages.{}.params in {}",
            m.stage, ws.config_file
        )));
    };
    let file = ws.params_file(stage, &spec.file)?;
    let values = crate::model::params::overrides_not_in(&m.params_used, &m.overrides, &file);
    // A key the file lacks was added on purpose by the run (`-p +key=...`).
    let edits: Vec<(String, Value)> = values
        .iter()
        .map(|(k, v)| match file.contains_key(k.as_str()) {
            true => (k.clone(), v.clone()),
            false => (format!("+{k}"), v.clone()),
        })
        .collect();
    let written = ParamsWritten {
        file: spec.file.clone(),
        values: values.iter().cloned().collect(),
    };
    if values.is_empty() {
        return Ok(written);
    }
    let path = ws.root.join(&spec.file);
    // Never through a link: a committed symlinked directory could point anywhere.
    let mut prefix = ws.root.clone();
    for part in std::path::Path::new(&spec.file).components() {
        prefix.push(part);
        let linked = std::fs::symlink_metadata(&prefix)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        if linked {
            return Err(Error::input(format!(
                "params file '{}' is reached through the link '{}'; its values were not written",
                spec.file,
                crate::exec::paths::relative(&ws.root, &prefix)
            ))
            .hint("set them by hand: ".to_string() + &shown(&values)));
        }
    }
    crate::exec::paths::check_inside(&ws.root, &spec.file, "params file")?;
    let meta = std::fs::symlink_metadata(&path).map_err(Error::io(&path))?;
    if !meta.file_type().is_file() {
        return Err(Error::input(format!(
            "params file '{}' is not a regular file; its values were not written",
            spec.file
        ))
        .hint("set them by hand: ".to_string() + &shown(&values)));
    }
    let before = std::fs::read(&path).map_err(Error::io(&path))?;
    let text = String::from_utf8(before.clone())
        .map_err(|_| Error::input(format!("params file '{}' is not UTF-8", spec.file)))?;
    let format = Format::of_path(&spec.file).ok_or_else(|| {
        Error::input(format!(
            "params file '{}': params files end in .yaml, .yml, .json or .toml",
            spec.file
        ))
    })?;
    let edited = params_doc::set_values(&text, format, &edits).map_err(|e| {
        Error::input(format!(
            "params file '{}' cannot be edited in place: {e}",
            spec.file
        ))
        .hint(format!("set them by hand: {}", shown(&values)))
    })?;
    let dir = path.parent().unwrap_or(&ws.root);
    let mut tmp = tempfile::Builder::new()
        .prefix(".workbench-params-")
        .tempfile_in(dir)
        .map_err(Error::io(dir))?;
    tmp.write_all(edited.as_bytes()).map_err(Error::io(&path))?;
    tmp.as_file()
        .set_permissions(meta.permissions())
        .map_err(Error::io(&path))?;
    // Compare and swap: an edit made since it was read is never overwritten.
    let now = std::fs::read(&path).map_err(Error::io(&path))?;
    if now != before {
        return Err(Error::refused(format!(
            "params file '{}' changed while its values were written; nothing was written",
            spec.file
        ))
        .hint("run the command again"));
    }
    tmp.persist(&path).map_err(|e| Error::io(&path)(e.error))?;
    Ok(written)
}

fn shown(values: &[(String, Value)]) -> String {
    values
        .iter()
        .map(|(k, v)| crate::model::next::override_arg(k, v))
        .collect::<Vec<_>>()
        .join(" ")
}
