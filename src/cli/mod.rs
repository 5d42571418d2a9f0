//! Argument parsing, one file per subcommand, and all printing. Commands return an
//! exit code or an `Error`; `main` maps errors to `error:`/`hint:` lines.

mod approve;
mod card;
mod checkout;
mod compare;
mod completions;
mod demo;
mod diff;
mod doctor;
mod driver;
mod fetch;
mod hash;
mod hook;
mod hooks_cmd;
mod import;
mod init;
mod install_man;
mod log;
mod narrative;
mod next;
mod notes_repair;
mod output;
mod push;
mod records;
mod reject;
mod review;
mod run;
mod show;
mod status;
mod sweep;
mod sync;
mod verify;
mod verify_approvals;

use crate::error::{Error, Result};
use crate::model::run_id::{match_prefix, PrefixMatch, RunSpec};
use crate::store::{RunRef, Store};
use clap::{Parser, Subcommand};
pub use output::Out;

/// Record every analysis run in git, and let only human-approved results reach the report.
#[derive(Parser, Debug)]
#[command(
    name = "git-workbench",
    bin_name = "git workbench",
    version,
    propagate_version = true
)]
pub struct Cli {
    /// Print machine-readable JSON on stdout (field names are documented in docs/json.md).
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Subcommand, Debug)]
pub enum Commands {
    Init(init::Args),
    Run(run::Args),
    Sweep(sweep::Args),
    Import(import::Args),
    Status(status::Args),
    Show(show::Args),
    Log(log::Args),
    Review(review::Args),
    Card(card::Args),
    Approve(approve::Args),
    Reject(reject::Args),
    Next(next::Args),
    Checkout(checkout::Args),
    Compare(compare::Args),
    Diff(diff::Args),
    Driver(driver::Args),
    Narrative(narrative::Args),
    Hook(hook::Args),
    Hooks(hooks_cmd::Args),
    Fetch(fetch::Args),
    Push(push::Args),
    Sync(sync::Args),
    Verify(verify::Args),
    VerifyApprovals(verify_approvals::Args),
    Doctor(doctor::Args),
    NotesRepair(notes_repair::Args),
    Demo(demo::Args),
    InstallMan(install_man::Args),
    Completions(completions::Args),
    Hash(hash::Args),
}

/// Parses arguments, runs the command and returns the process exit code.
pub fn main_entry() -> u8 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    let out = Out::new(cli.json);
    let result = match cli.command {
        Commands::Init(a) => init::cmd_init(&out, a),
        Commands::Run(a) => run::cmd_run(&out, a),
        Commands::Sweep(a) => sweep::cmd_sweep(&out, a),
        Commands::Import(a) => import::cmd_import(&out, a),
        Commands::Status(a) => status::cmd_status(&out, a),
        Commands::Show(a) => show::cmd_show(&out, a),
        Commands::Log(a) => log::cmd_log(&out, a),
        Commands::Review(a) => review::cmd_review(&out, a),
        Commands::Card(a) => card::cmd_card(&out, a),
        Commands::Approve(a) => approve::cmd_approve(&out, a),
        Commands::Reject(a) => reject::cmd_reject(&out, a),
        Commands::Next(a) => next::cmd_next(&out, a),
        Commands::Checkout(a) => checkout::cmd_checkout(&out, a),
        Commands::Compare(a) => compare::cmd_compare(&out, a),
        Commands::Diff(a) => diff::cmd_diff(&out, a),
        Commands::Driver(a) => driver::cmd_driver(&out, a),
        Commands::Narrative(a) => narrative::cmd_narrative(&out, a),
        Commands::Hook(a) => hook::cmd_hook(&out, a),
        Commands::Hooks(a) => hooks_cmd::cmd_hooks(&out, a),
        Commands::Fetch(a) => fetch::cmd_fetch(&out, a),
        Commands::Push(a) => push::cmd_push(&out, a),
        Commands::Sync(a) => sync::cmd_sync(&out, a),
        Commands::Verify(a) => verify::cmd_verify(&out, a),
        Commands::VerifyApprovals(a) => verify_approvals::cmd_verify_approvals(&out, a),
        Commands::Doctor(a) => doctor::cmd_doctor(&out, a),
        Commands::NotesRepair(a) => notes_repair::cmd_notes_repair(&out, a),
        Commands::Demo(a) => demo::cmd_demo(&out, a),
        Commands::InstallMan(a) => install_man::cmd_install_man(&out, a),
        Commands::Completions(a) => completions::cmd_completions(&out, a),
        Commands::Hash(a) => hash::cmd_hash(&out, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            out.error(&e);
            e.exit_code()
        }
    }
}

/// Resolves a `RUN` argument to a run ref.
pub fn resolve_run(store: &Store, spec: &str) -> Result<RunRef> {
    let parsed = RunSpec::parse(spec).map_err(|e| Error::input(format!("run '{spec}': {e}")))?;
    match parsed {
        RunSpec::Latest(stage) => store
            .list_runs(Some(&stage))?
            .pop()
            .ok_or_else(|| no_runs(&stage)),
        RunSpec::Approved(stage) => {
            let runs = store.list_runs(Some(&stage))?;
            if runs.is_empty() {
                return Err(no_runs(&stage));
            }
            if let Some(r) = store.approved_run(&stage)? {
                return Ok(r);
            }
            Err(Error::input(format!("stage '{stage}' has no approved run"))
                .hint(format!("see 'git workbench log {stage}'")))
        }
        RunSpec::Id { stage, prefix } => {
            let runs = store.list_runs(stage.as_deref())?;
            let pairs: Vec<(String, String)> = runs
                .iter()
                .map(|r| (r.stage.clone(), r.run_id.clone()))
                .collect();
            match match_prefix(&pairs, stage.as_deref(), &prefix) {
                PrefixMatch::One(hit) => Ok(runs
                    .into_iter()
                    .find(|r| r.stage == hit.0 && r.run_id == hit.1)
                    .expect("matched run is listed")),
                PrefixMatch::None => Err(Error::input(format!("no run matches '{spec}'"))
                    .hint("list runs with 'git workbench log'")),
                PrefixMatch::Ambiguous(hits) => {
                    let shown: Vec<String> = hits
                        .iter()
                        .take(10)
                        .map(|(s, id)| format!("{s}/{id}"))
                        .collect();
                    let more = if hits.len() > 10 {
                        format!(" and {} more", hits.len() - 10)
                    } else {
                        String::new()
                    };
                    Err(Error::input(format!(
                        "run id prefix '{prefix}' is ambiguous: {}{more}",
                        shown.join(", ")
                    ))
                    .hint("give more characters of the run id"))
                }
            }
        }
    }
}

/// Quotes an argument vector the way a POSIX shell reads it back.
pub fn shell_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn no_runs(stage: &str) -> Error {
    Error::input(format!("stage '{stage}' has no runs"))
        .hint(format!("run it with 'git workbench run {stage}'"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_join_quotes() {
        assert_eq!(
            shell_join(&["echo".into(), "a b".into(), "it's".into()]),
            "echo 'a b' 'it'\\''s'"
        );
        assert_eq!(shell_join(&["true".into()]), "true");
    }
}
