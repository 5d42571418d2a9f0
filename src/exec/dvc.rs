//! Running DVC's own commands for workbench: finding the `dvc` program, asking it
//! where its cache is, and fetching exactly some objects from its remote. The stage
//! itself runs through `command::run` (`dvc repro`), like any stage command.

use super::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The git config key naming the `dvc` program (default: `dvc` on PATH).
pub const PROGRAM_KEY: &str = "workbench.dvc";

const INSTALL_HINT: &str =
    "install DVC (pip install dvc), or name the program with git config workbench.dvc PATH";

/// The `dvc` program: `configured` (a path, or a name looked up on PATH), else `dvc`
/// on PATH.
pub fn program(configured: Option<String>) -> Result<PathBuf> {
    let name = configured.unwrap_or_else(|| "dvc".to_string());
    let found = if name.contains('/') {
        Some(PathBuf::from(&name)).filter(|p| p.is_file())
    } else {
        super::command::on_path(&name)
    };
    found.ok_or_else(|| Error::Tool {
        message: format!("cannot find the DVC program '{name}'"),
        hint: INSTALL_HINT.to_string(),
    })
}

fn run(dvc: &Path, root: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(dvc)
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| Error::ProgramMissing {
            program: dvc.display().to_string(),
            source,
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(Error::Tool {
            message: format!("dvc {} failed: {}", args.join(" "), last.trim()),
            hint: "run the same dvc command to see why (a remote is configured with dvc remote add -d)"
                .to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// DVC's cache directory (`dvc cache dir`, which honours `cache.dir`).
pub fn cache_dir(dvc: &Path, root: &Path) -> Result<PathBuf> {
    let out = run(dvc, root, &["cache", "dir"])?;
    let dir = PathBuf::from(out.trim());
    Ok(if dir.is_absolute() {
        dir
    } else {
        root.join(dir)
    })
}

/// Where DVC 3 keeps the object of `md5` (32 hex digits, `.dir` for a directory).
pub fn object_path(cache: &Path, md5: &str) -> PathBuf {
    cache.join("files/md5").join(&md5[..2]).join(&md5[2..])
}

/// Fetches the objects `md5s` from DVC's default remote into its cache, and no others:
/// a `.dvc` file naming only them, in a temporary directory of the working tree (DVC
/// takes no target below `.git`), removed afterwards.
pub fn fetch(dvc: &Path, root: &Path, md5s: &[String]) -> Result<()> {
    let tmp = tempfile::Builder::new()
        .prefix(".workbench-dvc-fetch-")
        .tempdir_in(root)
        .map_err(Error::io(root))?;
    let mut text =
        String::from("# written by git-workbench checkout; removed after dvc fetch\nouts:\n");
    for (i, md5) in md5s.iter().enumerate() {
        text.push_str(&format!("- path: object{i}\n  hash: md5\n  md5: {md5}\n"));
    }
    let file = tmp.path().join("fetch.dvc");
    std::fs::write(&file, text).map_err(Error::io(&file))?;
    let rel = file
        .strip_prefix(root)
        .unwrap_or(&file)
        .to_string_lossy()
        .into_owned();
    run(dvc, root, &["fetch", "-q", &rel])?;
    Ok(())
}
