//! `git workbench completions SHELL`: shell completion scripts (clap_complete).

use super::{Cli, Out};
use crate::error::Result;
use clap::CommandFactory;

/// Print a completion script for bash, zsh, fish, elvish or powershell.
///
/// bash: `git workbench completions bash > ~/.local/share/bash-completion/completions/git-workbench`
/// zsh: `git workbench completions zsh > ~/.zfunc/_git-workbench` (with ~/.zfunc in fpath)
/// fish: `git workbench completions fish > ~/.config/fish/completions/git-workbench.fish`
#[derive(clap::Args, Debug)]
pub struct Args {
    pub shell: clap_complete::Shell,
}

pub fn cmd_completions(out: &Out, args: Args) -> Result<u8> {
    let mut buf = Vec::new();
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "git-workbench", &mut buf);
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    if args.shell == clap_complete::Shell::Bash {
        // clap_complete names the case labels of a two-word program `git__subcmd__workbench`
        // but assigns `git__workbench`; make them agree so subcommand options complete.
        text = text.replace("git__subcmd__workbench", "git__workbench");
        // git's own completion calls _git_workbench for `git workbench <TAB>`: hand it
        // to the generated function as if `git-workbench` had been typed.
        text.push_str(BASH_GIT_SHIM);
    }
    out.print_exact(&text)?;
    Ok(0)
}

const BASH_GIT_SHIM: &str = r#"
_git_workbench() {
    local COMP_WORDS=("git-workbench" "${COMP_WORDS[@]:2}")
    local COMP_CWORD=$((COMP_CWORD - 1))
    _git__workbench git-workbench "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;
