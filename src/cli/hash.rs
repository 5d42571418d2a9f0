//! `git workbench hash`: the hashing `run` uses, as a `sha256sum`-compatible command.

use super::Out;
use crate::error::{Error, Result};
use crate::exec::hash::hash_files;
use crate::exec::statcache::StatCache;
use crate::store::Store;

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
    let mut cache = match (args.no_stat_cache, Store::discover()) {
        (false, Ok(store)) => {
            StatCache::load(store.common_dir().join("workbench").join("stat-cache"))
        }
        _ => StatCache::disabled(),
    };
    for f in &args.files {
        if !cwd.join(f).is_file() {
            return Err(Error::input(format!("'{f}' is not a file")));
        }
    }
    let hashed = hash_files(&cwd, &args.files, &mut cache)?;
    cache.save();
    if out.json {
        let map: serde_json::Map<String, serde_json::Value> = hashed
            .into_iter()
            .map(|(p, h)| (p, serde_json::Value::String(format!("sha256:{h}"))))
            .collect();
        out.json_value(&serde_json::Value::Object(map));
    } else {
        let mut text = String::new();
        for (p, h) in hashed {
            text.push_str(&format!("{h}  {p}\n"));
        }
        out.print(&text);
    }
    Ok(0)
}
