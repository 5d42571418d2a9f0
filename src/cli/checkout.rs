//! `git workbench checkout RUN [--to DIR] [--code] [--force]`: restore a run's stored
//! outputs (and its code snapshot) from the record, every byte checked against the
//! manifest's sha256.

use super::{resolve_run, Out};
use crate::error::{Error, Result};
use crate::model::digest::sha256_hex;
use crate::store::Store;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Restore a run's stored outputs into its run directory (or DIR), verifying each
/// against the manifest. Files that differ are not overwritten without --force.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The run (id, prefix, STAGE/PREFIX, STAGE@latest, STAGE@approved).
    pub run: String,
    /// Restore into DIR instead of the run directory (paths below the run directory
    /// are kept relative to it, others relative to the repository root).
    #[arg(long, value_name = "DIR")]
    pub to: Option<PathBuf>,
    /// Also restore the snapshot of the working tree the run executed on, into
    /// `<destination>/code/`.
    #[arg(long)]
    pub code: bool,
    /// Overwrite files whose content differs.
    #[arg(long)]
    pub force: bool,
}

struct Planned {
    rel: String,
    dest: PathBuf,
    bytes: Vec<u8>,
    executable: bool,
    /// `new`, `unchanged` or `replaced`.
    action: &'static str,
}

pub fn cmd_checkout(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let run = resolve_run(&store, &args.run)?;
    let m = store.read_manifest(run.tip)?;
    let root = match &args.to {
        Some(d) => d.clone(),
        None => store.workdir("checkout")?,
    };
    let run_dir = m.run_dir.trim_end_matches('/').to_string();
    // Where an output goes: its own path in the repository; with --to, relative to the
    // run directory when it lies below it.
    let dest_of = |rel: &str| -> PathBuf {
        match (&args.to, rel.strip_prefix(&format!("{run_dir}/"))) {
            (Some(_), Some(inner)) => root.join(inner),
            (None, Some(_)) => root.join(rel),
            (Some(_), None) => root.join(rel),
            // Never over the working file of the same name: into the run directory.
            (None, None) => root.join(&run_dir).join(rel),
        }
    };
    let mut plan = Vec::new();
    for f in store.record_files(run.tip, "outputs")? {
        let want = m.outputs.get(&f.path).ok_or_else(|| {
            Error::input(format!(
                "the record of run {} stores {} but its manifest does not list it",
                run.run_id, f.path
            ))
        })?;
        let got = format!("sha256:{}", sha256_hex(&f.bytes));
        if &got != want {
            return Err(Error::input(format!(
                "the stored {} of run {} does not match its manifest ({got}, expected {want}); nothing was written",
                f.path, run.run_id
            )));
        }
        let dest = dest_of(&f.path);
        plan.push(planned(f.path, dest, f.bytes, f.executable)?);
    }
    if args.code {
        let code_root = dest_of("code");
        for f in store.record_files(run.tip, "snapshot")? {
            let dest = code_root.join(&f.path);
            plan.push(planned(
                format!("code/{}", f.path),
                dest,
                f.bytes,
                f.executable,
            )?);
        }
    }
    let differing: Vec<&Planned> = plan.iter().filter(|p| p.action == "replaced").collect();
    if !differing.is_empty() && !args.force {
        return Err(Error::refused(format!(
            "{} file(s) exist with other content, e.g. {}; nothing was written",
            differing.len(),
            differing[0].dest.display()
        ))
        .hint("restore elsewhere with --to DIR, or overwrite with --force"));
    }
    for p in plan.iter().filter(|p| p.action != "unchanged") {
        write_atomic(&p.dest, &p.bytes, p.executable)?;
    }
    let not_stored: Vec<(&String, &String)> = m
        .outputs
        .iter()
        .filter(|(k, _)| !plan.iter().any(|p| &p.rel == *k))
        .collect();
    if out.json {
        out.json_value(&json!({
            "run_id": run.run_id,
            "files": plan.iter().map(|p| json!({
                "path": p.rel, "to": p.dest, "action": p.action})).collect::<Vec<_>>(),
            "not_stored": not_stored.iter().map(|(k, h)| json!({"path": k, "sha256": h})).collect::<Vec<_>>(),
        }));
        return Ok(0);
    }
    for p in &plan {
        out.line(&format!("{:<9} {}", p.action, p.dest.display()));
    }
    for (k, h) in &not_stored {
        let present = std::fs::read(dest_of(k))
            .map(|b| format!("sha256:{}", sha256_hex(&b)) == **h)
            .unwrap_or(false);
        out.line(&format!(
            "not stored {k} ({h}): larger than max_stored_size, only its hash is in the record{}",
            if present {
                "; the file on disk matches it"
            } else {
                ""
            }
        ));
    }
    Ok(0)
}

fn planned(rel: String, dest: PathBuf, bytes: Vec<u8>, executable: bool) -> Result<Planned> {
    let action = match std::fs::read(&dest) {
        Ok(b) if b == bytes => "unchanged",
        Ok(_) => "replaced",
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "new",
        Err(e) => return Err(Error::io(&dest)(e)),
    };
    Ok(Planned {
        rel,
        dest,
        bytes,
        executable,
        action,
    })
}

fn write_atomic(dest: &Path, bytes: &[u8], executable: bool) -> Result<()> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(Error::io(dir))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(Error::io(dest))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if executable { 0o755 } else { 0o644 };
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
            .map_err(Error::io(dest))?;
    }
    tmp.persist(dest).map_err(|e| Error::io(dest)(e.error))?;
    Ok(())
}
