//! `git workbench install-man [--dir DIR]`: man pages from the command definitions,
//! with each command's EXAMPLES, so `git workbench --help` (which git turns into
//! `man git-workbench` and never passes to us) works. Every command also writes them
//! once per binary to `<bindir>/../share/man/man1` (`ensure_pages`), where man-db
//! looks for the pages of a program on PATH: after the first command, `--help` works
//! without `install-man`.

use super::{command, Out};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

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

/// One page: clap_mangen's sections, with the examples as EXAMPLES (clap_mangen
/// would title `after_long_help` "EXTRA").
fn render(cmd: clap::Command, path: &str) -> std::io::Result<Vec<u8>> {
    use clap_mangen::roff::{bold, roman, Roff};
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut buf)?;
    }
    if cmd.get_subcommands().any(|s| !s.is_hide_set()) {
        man.render_subcommands_section(&mut buf)?;
    }
    let examples = super::examples::examples(path);
    if !examples.is_empty() {
        let mut roff = Roff::default();
        roff.control("SH", ["EXAMPLES"]);
        for (what, line) in examples {
            roff.control("TP", []);
            roff.text([roman(format!("{what}:"))]);
            roff.text([bold(*line)]);
        }
        roff.to_writer(&mut buf)?;
    }
    man.render_version_section(&mut buf)?;
    Ok(buf)
}

/// Every page: (file name without `.1`, bytes).
fn all_pages() -> Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = command().disable_help_subcommand(true);
    cmd.build();
    let mut all = Vec::new();
    pages(&cmd, "git-workbench", "git workbench", &mut all);
    all.into_iter()
        .map(|(name, cmd)| {
            let path = command_path(&cmd);
            render(cmd.after_long_help(None::<&str>), &path)
                .map(|b| (name.clone(), b))
                .map_err(|e| Error::input(format!("cannot render the man page {name}: {e}")))
        })
        .collect()
}

/// The command path of a page (`narrative new`): its `bin_name` after `git
/// workbench` (a page name cannot tell `verify-approvals` from `verify approvals`).
fn command_path(cmd: &clap::Command) -> String {
    cmd.get_bin_name()
        .and_then(|b| b.strip_prefix("git workbench"))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a reader (or a
/// second process writing the same page) never sees half a page.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    // man runs as any user: pages are world-readable (tempfile makes 0600).
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// `<bindir>/../share/man/man1` of this executable.
fn default_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::input(format!("cannot find this executable: {e}")))?;
    let bin = exe.parent().unwrap_or(Path::new("."));
    Ok(bin.join("..").join("share").join("man").join("man1"))
}

/// Installs the pages next to the binary when they are missing or older than it.
/// Quiet and best-effort: a read-only prefix just keeps `install-man --dir` the way.
/// One `stat` pair per command when the pages are in place.
pub fn ensure_pages() {
    if std::env::var_os("GIT_WORKBENCH_NO_MAN").is_some() {
        return;
    }
    let Ok(dir) = default_dir() else { return };
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let exe = std::env::current_exe().ok();
    let (Some(page), Some(bin)) = (
        modified(&dir.join("git-workbench.1")),
        exe.as_deref().and_then(modified),
    ) else {
        return install_quietly(&dir);
    };
    if page < bin {
        install_quietly(&dir);
    }
}

fn install_quietly(dir: &Path) {
    // Rendering every page costs far more than the stat above: find out first whether
    // the directory takes a file, so a read-only prefix costs each command (the
    // pre-commit hook among them) two failed system calls, not the rendering.
    if std::fs::create_dir_all(dir).is_err() || tempfile::NamedTempFile::new_in(dir).is_err() {
        return;
    }
    if let Ok(mut pages) = all_pages() {
        // git-workbench.1 is the freshness mark `ensure_pages` looks at: written
        // last, so pages a failed write left behind are written again next time.
        pages.rotate_left(1);
        for (name, bytes) in pages {
            if write_atomic(&dir.join(format!("{name}.1")), &bytes).is_err() {
                return;
            }
        }
    }
}

pub fn cmd_install_man(out: &Out, args: Args) -> Result<u8> {
    let dir = match args.dir {
        Some(d) => d,
        None => default_dir()?,
    };
    std::fs::create_dir_all(&dir)
        .map_err(Error::io(&dir))
        .map_err(|e| {
            e.hint("choose a writable directory with --dir, e.g. ~/.local/share/man/man1")
        })?;
    let mut written = Vec::new();
    for (name, bytes) in all_pages()? {
        let path = dir.join(format!("{name}.1"));
        write_atomic(&path, &bytes).map_err(Error::io(&path))?;
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
