//! `git workbench install-man [--dir DIR]`: man pages from the command definitions, so
//! `git workbench --help` (which git turns into `man git-workbench`) works.

use super::{Cli, Out};
use crate::error::{Error, Result};
use clap::CommandFactory;
use std::path::PathBuf;

/// Write git-workbench.1 and one page per subcommand (git-workbench-run.1, ...) to
/// <bindir>/../share/man/man1, where man finds pages for programs on PATH.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Write the pages here instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The page of `cmd` named `name` (git-workbench-narrative-new), invoked as `bin`
/// (git workbench narrative new), then its subcommands' pages.
fn pages(cmd: &clap::Command, name: &str, bin: &str, out: &mut Vec<(String, clap::Command)>) {
    let page = cmd.clone().name(name.to_string()).bin_name(bin.to_string());
    out.push((name.to_string(), page));
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let n = sub.get_name();
        pages(sub, &format!("{name}-{n}"), &format!("{bin} {n}"), out);
    }
}

pub fn cmd_install_man(out: &Out, args: Args) -> Result<u8> {
    let dir = match args.dir {
        Some(d) => d,
        None => {
            let exe = std::env::current_exe()
                .map_err(|e| Error::input(format!("cannot find this executable: {e}")))?;
            let bin = exe.parent().unwrap_or(std::path::Path::new("."));
            bin.join("..").join("share").join("man").join("man1")
        }
    };
    std::fs::create_dir_all(&dir)
        .map_err(Error::io(&dir))
        .map_err(|e| {
            e.hint("choose a writable directory with --dir, e.g. ~/.local/share/man/man1")
        })?;
    let mut all = Vec::new();
    pages(&Cli::command(), "git-workbench", "git workbench", &mut all);
    let mut written = Vec::new();
    for (name, cmd) in all {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .map_err(|e| Error::input(format!("cannot render the man page {name}: {e}")))?;
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, buf).map_err(Error::io(&path))?;
        written.push(path);
    }
    if out.json {
        out.json(&super::output::InstallManReport {
            dir,
            pages: written,
        })?;
    } else {
        out.line(&format!(
            "wrote {} man pages to {} (try: man git-workbench, or git workbench --help)",
            written.len(),
            dir.display()
        ))?;
    }
    Ok(0)
}
