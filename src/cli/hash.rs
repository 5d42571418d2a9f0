//! `git workbench hash`.

use super::Out;
use crate::error::{Error, Result};
use crate::ops::hash::hash;

/// Print the sha256 of files, like `sha256sum`, hashing on every core and using the
/// repository's stat cache for files that did not change.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Files to hash (relative to the current directory).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Read every file in full, ignoring and not updating the stat cache.
    #[arg(long)]
    pub no_stat_cache: bool,
}

pub fn cmd_hash(out: &Out, args: Args) -> Result<u8> {
    let cwd = std::env::current_dir().map_err(Error::io(std::path::Path::new(".")))?;
    let hashed = hash(
        &cwd,
        &args.files,
        args.no_stat_cache,
        &*super::progress::sink(out),
    )?;
    if out.json {
        let map: serde_json::Map<String, serde_json::Value> = hashed
            .into_iter()
            .map(|(p, h)| (p, serde_json::Value::String(h.to_string())))
            .collect();
        out.json(&map)?;
    } else {
        let mut text = String::new();
        for (p, h) in hashed {
            text.push_str(&format!("{}  {p}\n", h.hex()));
        }
        out.print(&text)?;
    }
    Ok(0)
}
