//! `git workbench hook pre-commit`.

use super::Out;
use crate::error::Result;
use crate::ops::hooks::pre_commit;
use crate::store::Store;

/// Entry points for git hooks.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub hook: Hook,
}

#[derive(clap::Subcommand, Debug)]
pub enum Hook {
    /// Refuse a commit whose staged narrative files hold unapproved or altered results.
    /// With FILES (as the pre-commit framework passes them), the staged content of
    /// those files is checked whether or not they changed.
    PreCommit {
        /// Files to check (default: the staged changes).
        files: Vec<String>,
    },
}

pub fn cmd_hook(out: &Out, args: Args) -> Result<u8> {
    match args.hook {
        Hook::PreCommit { files } => {
            let store = Store::discover()?;
            let r = pre_commit(&store, &files)?;
            let code = super::render::check_report(out, &r, "git-workbench pre-commit")?;
            if code != 0 && !out.json {
                eprintln!("hint: sync the blocks from their approvals (git workbench narrative sync), stage, and commit again");
            }
            Ok(code)
        }
    }
}
