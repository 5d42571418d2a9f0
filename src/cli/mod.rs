//! Argument parsing and rendering, one file per subcommand: each parses its arguments,
//! calls one use case in `ops`, and renders the report (human text or `--json`)
//! through `Out`. Shared renderings live in `render`, notices in `notices`, when
//! progress bars are drawn in `progress`. No command module imports another.

mod approve;
mod card;
mod checkout;
mod compare;
mod complete;
mod completions;
mod demo;
mod diff;
mod doctor;
mod driver;
mod examples;
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
mod notices;
mod output;
mod progress;
mod reject;
mod render;
mod report;
mod review;
mod run;
mod show;
mod status;
mod sweep;
mod sync;
mod verify;
mod verify_approvals;

pub use output::{ErrorBody, ErrorReport, InstallManReport, Out};

use crate::error::{ErrorKind, Result};
use crate::model::StageName;
use clap::{Parser, Subcommand};

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
    Report(report::Args),
    Diff(diff::Args),
    Driver(driver::Args),
    Narrative(narrative::Args),
    Hook(hook::Args),
    Hooks(hooks_cmd::Args),
    Fetch(sync::FetchArgs),
    Push(sync::PushArgs),
    Sync(sync::SyncArgs),
    Verify(verify::Args),
    VerifyApprovals(verify_approvals::Args),
    Doctor(doctor::Args),
    NotesRepair(notes_repair::Args),
    Demo(demo::Args),
    InstallMan(install_man::Args),
    Completions(completions::Args),
    Hash(hash::Args),
}

/// The command definitions as parsed, completed, shown by `--help` and in the man
/// pages: the derived `Cli` with each command's examples and completers attached.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    examples::attach(complete::attach(Cli::command()), "")
}

/// Parses arguments, runs the command and returns the process exit code.
pub fn main_entry() -> u8 {
    complete::complete_if_asked();
    let cli = match command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m))
    {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    install_man::ensure_pages();
    let out = Out::new(cli.json);
    match dispatch(&out, cli.command) {
        Ok(code) => code,
        Err(e) => {
            out.error(&e);
            e.exit_code()
        }
    }
}

/// A clap error: help and version exit 0, everything else is bad usage (exit 2), as a
/// JSON error too when `--json` was given.
fn usage_error(e: &clap::Error) -> u8 {
    use clap::error::ErrorKind as K;
    let _ = e.print();
    if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion) {
        return 0;
    }
    if std::env::args().any(|a| a == "--json") {
        let body = ErrorReport {
            error: ErrorBody {
                kind: ErrorKind::Input,
                message: e
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("invalid arguments")
                    .trim_start_matches("error: ")
                    .to_string(),
                hint: Some("see --help".into()),
            },
        };
        let _ = Out::new(true).json(&body);
    }
    2
}

fn dispatch(out: &Out, command: Commands) -> Result<u8> {
    match command {
        Commands::Init(a) => init::cmd_init(out, a),
        Commands::Run(a) => run::cmd_run(out, a),
        Commands::Sweep(a) => sweep::cmd_sweep(out, a),
        Commands::Import(a) => import::cmd_import(out, a),
        Commands::Status(a) => status::cmd_status(out, a),
        Commands::Show(a) => show::cmd_show(out, a),
        Commands::Log(a) => log::cmd_log(out, a),
        Commands::Review(a) => review::cmd_review(out, a),
        Commands::Card(a) => card::cmd_card(out, a),
        Commands::Approve(a) => approve::cmd_approve(out, a),
        Commands::Reject(a) => reject::cmd_reject(out, a),
        Commands::Next(a) => next::cmd_next(out, a),
        Commands::Checkout(a) => checkout::cmd_checkout(out, a),
        Commands::Compare(a) => compare::cmd_compare(out, a),
        Commands::Report(a) => report::cmd_report(out, a),
        Commands::Diff(a) => diff::cmd_diff(out, a),
        Commands::Driver(a) => driver::cmd_driver(out, a),
        Commands::Narrative(a) => narrative::cmd_narrative(out, a),
        Commands::Hook(a) => hook::cmd_hook(out, a),
        Commands::Hooks(a) => hooks_cmd::cmd_hooks(out, a),
        Commands::Fetch(a) => sync::cmd_fetch(out, a),
        Commands::Push(a) => sync::cmd_push(out, a),
        Commands::Sync(a) => sync::cmd_sync(out, a),
        Commands::Verify(a) => verify::cmd_verify(out, a),
        Commands::VerifyApprovals(a) => verify_approvals::cmd_verify_approvals(out, a),
        Commands::Doctor(a) => doctor::cmd_doctor(out, a),
        Commands::NotesRepair(a) => notes_repair::cmd_notes_repair(out, a),
        Commands::Demo(a) => demo::cmd_demo(out, a),
        Commands::InstallMan(a) => install_man::cmd_install_man(out, a),
        Commands::Completions(a) => completions::cmd_completions(out, a),
        Commands::Hash(a) => hash::cmd_hash(out, a),
    }
}

/// clap's parser of stage-name arguments: the one validator, `StageName::new`.
pub fn stage_arg(s: &str) -> std::result::Result<StageName, String> {
    StageName::new(s).map_err(|e| e.to_string())
}

/// clap's parser of `KEY=VALUE` arguments.
pub fn override_arg(s: &str) -> std::result::Result<(String, serde_json::Value), String> {
    crate::model::params::parse_override(s).map_err(|e| e.to_string())
}
