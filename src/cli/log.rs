//! `git workbench log`.

use super::Out;
use crate::error::Result;
use crate::model::StageName;
use crate::ops::log::{log, LogReport};
use crate::store::Store;

/// List runs newest first with their state transitions.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only runs of this stage.
    #[arg(value_parser = super::stage_arg)]
    pub stage: Option<StageName>,
    /// Show at most N runs.
    #[arg(short = 'n', long = "max-count", value_name = "N")]
    pub max_count: Option<usize>,
}

pub fn cmd_log(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let report = log(&store, args.stage.as_ref(), args.max_count)?;
    if out.json {
        out.json(&report)?;
    } else {
        human(out, &report)?;
    }
    Ok(0)
}

fn event_names(events: &[Option<crate::model::state::RunEvent>]) -> String {
    events
        .iter()
        .map(|e| e.map_or("?", |e| e.as_str()))
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn human(out: &Out, r: &LogReport) -> Result<()> {
    if r.runs.is_empty() {
        return out.line("no runs recorded yet; start one with 'git workbench run STAGE'");
    }
    let mut t = out.table(&["RUN", "STAGE", "STATE", "EXIT", "DURATION", "TRANSITIONS"]);
    for e in &r.runs {
        let state = match &e.invalid {
            Some(_) => "INVALID".to_string(),
            None => e
                .state
                .map_or("?".to_string(), |s| s.as_str().to_uppercase()),
        };
        t.add_row(vec![
            comfy_table::Cell::new(&e.run_id),
            comfy_table::Cell::new(&e.stage),
            out.state_cell(&state),
            comfy_table::Cell::new(e.exit_code),
            comfy_table::Cell::new(format!("{:.2} s", e.duration_seconds)),
            comfy_table::Cell::new(match &e.invalid {
                Some(why) => format!("{} (not a valid record: {why})", event_names(&e.events)),
                None => event_names(&e.events),
            }),
        ]);
    }
    out.print_table(&t)
}
