//! `git workbench completions SHELL`: the shell's registration of dynamic completion
//! (clap_complete's engine; `complete`): stage names, run ids, `STAGE@latest`,
//! sweep ids and the rest come from the records at each TAB.

use super::complete::{BIN, VAR};
use super::Out;
use crate::error::{Error, Result};

/// Print the completion registration for bash, zsh, fish, elvish or powershell.
///
/// The script calls git-workbench back at every TAB, so candidates (stages, run ids,
/// STAGE@latest, STAGE@approved, sweep ids, remotes) come from this repository's
/// records. It completes both `git-workbench ...` and, through git's own
/// completion, `git workbench ...`. Load it at shell start so it always matches the
/// installed binary:
///
/// bash (~/.bashrc): `source <(git-workbench completions bash)`
///
/// zsh (~/.zshrc): `source <(git-workbench completions zsh)`
///
/// fish: `git-workbench completions fish | source` in ~/.config/fish/config.fish
///
/// bash, loaded on demand by bash-completion (for `git workbench` too):
/// `git-workbench completions bash > ~/.local/share/bash-completion/completions/git-workbench`
#[derive(clap::Args, Debug)]
pub struct Args {
    pub shell: clap_complete::Shell,
}

pub fn cmd_completions(out: &Out, args: Args) -> Result<u8> {
    let name = args.shell.to_string();
    let shells = clap_complete::env::Shells::builtins();
    let shell = shells
        .completer(&name)
        .ok_or_else(|| Error::input(format!("no dynamic completion for {name}")))?;
    let mut buf = Vec::new();
    shell
        .write_registration(VAR, BIN, BIN, BIN, &mut buf)
        .map_err(|e| Error::input(format!("cannot write the {name} completion: {e}")))?;
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    // `git workbench <TAB>`: git's completion calls `_git_workbench` (bash) or
    // `_git-workbench` (zsh) for an external command; hand it to ours as if
    // `git-workbench` had been typed.
    match args.shell {
        clap_complete::Shell::Bash => text.push_str(BASH_GIT),
        clap_complete::Shell::Zsh => text.push_str(ZSH_GIT),
        _ => {}
    }
    out.print_exact(&text)?;
    Ok(0)
}

const BASH_GIT: &str = r#"
_git_workbench() {
    # COMP_WORDS as bash split them: find `workbench` after git's own options
    local _i=1
    while [[ $_i -lt $COMP_CWORD && "${COMP_WORDS[_i]}" != workbench ]]; do
        _i=$((_i + 1))
    done
    local COMP_WORDS=("git-workbench" "${COMP_WORDS[@]:_i+1}")
    local COMP_CWORD=$((COMP_CWORD - _i))
    _clap_complete_git_workbench git-workbench "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

const ZSH_GIT: &str = r#"
function _git-workbench() {
    words=("git-workbench" "${(@)words[2,-1]}")
    _clap_dynamic_completer_git_workbench
}
"#;
