//! Dynamic completion (clap_complete's engine): the shell calls the binary back on
//! every TAB with `GIT_WORKBENCH_COMPLETE=SHELL git-workbench -- WORDS`, and
//! arguments complete from the records. Completers are attached by the value name an
//! argument shows in `--help` (STAGE, RUN, SWEEP_ID, REMOTE), so a new command's
//! arguments complete without being listed here.

use super::command;
use crate::ops::complete as candidates;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use std::ffi::OsStr;

/// The variable that turns a call into a completion request.
pub const VAR: &str = "GIT_WORKBENCH_COMPLETE";

/// The program the shell calls back: the one git finds on PATH.
pub const BIN: &str = "git-workbench";

/// Answers a completion request and exits, if this process is one.
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(command)
        .var(VAR)
        .bin(BIN)
        .completer(BIN)
        .complete();
}

fn completer(value_name: &str) -> Option<fn(&str) -> Vec<String>> {
    Some(match value_name {
        "STAGE" | "STAGES" => candidates::stages,
        "RUN" => candidates::run_specs,
        "SWEEP_ID" => candidates::sweeps,
        "REMOTE" => candidates::remotes,
        _ => return None,
    })
}

pub(super) fn attach(cmd: clap::Command) -> clap::Command {
    // mut_args keeps the arguments' order (positional indices follow it)
    cmd.mut_args(|a| {
        let found = a
            .get_value_names()
            .and_then(|names| names.first())
            .and_then(|name| completer(name));
        match found {
            Some(f) => a.add(ArgValueCompleter::new(move |current: &OsStr| {
                f(current.to_str().unwrap_or_default())
                    .into_iter()
                    .map(CompletionCandidate::new)
                    .collect::<Vec<_>>()
            })),
            None => a,
        }
    })
    .mut_subcommands(attach)
}
