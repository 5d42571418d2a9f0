//! `git workbench sweep STAGE -p key=a,b,c ...`: one recorded run per combination of
//! values, N at a time, then the sweep's comparison table.

use super::Out;
use crate::error::{Error, Result};
use crate::model::run_id::new_run_id;
use crate::model::sweep::{combinations, parse_axis, Axis};
use serde_json::{json, Value};
use std::io::IsTerminal;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Run a stage once per combination of param values (Hydra's syntax: `-p lr=0.1,0.2`,
/// `-p depth=range(2,8,2)`), each a recorded run with its own run directory and the
/// sweep's id, then show the sweep's comparison table. Exits 0 when every combination
/// succeeded, 1 when any failed.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The stage to run, as declared in workbench.toml.
    pub stage: String,
    /// A param and its values: KEY=a,b,c or KEY=range(start,stop[,step]) (repeatable).
    #[arg(short = 'p', long = "param", value_name = "KEY=VALUES", value_parser = parse_axis, required = true)]
    pub axes: Vec<Axis>,
    /// How many runs at a time.
    #[arg(long, short = 'j', default_value_t = 1)]
    pub jobs: usize,
    /// Stop starting new combinations after the first failure.
    #[arg(long)]
    pub fail_fast: bool,
}

/// The outcome of one combination.
#[derive(Debug, Clone)]
struct Outcome {
    params: Vec<(String, Value)>,
    run_id: Option<String>,
    exit_code: i32,
    /// The last lines of the run's stderr, kept to explain a failure.
    tail: String,
}

fn shown(params: &[(String, Value)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::model::manifest::display_value(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn run_one(stage: &str, sweep_id: &str, params: &[(String, Value)]) -> Result<Outcome> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::input(format!("cannot find the git-workbench executable: {e}")))?;
    let mut cmd = Command::new(exe);
    cmd.args(["--json", "run", stage, "--sweep-id", sweep_id]);
    for (k, v) in params {
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        cmd.arg("-p").arg(format!("{k}={text}"));
    }
    let o = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::input(format!("cannot start a run of {stage}: {e}")))?;
    let run_id = serde_json::from_slice::<Value>(&o.stdout)
        .ok()
        .and_then(|j| j["run_id"].as_str().map(str::to_string));
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().collect();
    Ok(Outcome {
        params: params.to_vec(),
        run_id,
        exit_code: o.status.code().unwrap_or(128),
        tail: lines[lines.len().saturating_sub(15)..].join("\n"),
    })
}

pub fn cmd_sweep(out: &Out, args: Args) -> Result<u8> {
    if args.jobs == 0 {
        return Err(Error::input("--jobs must be at least 1"));
    }
    let ws = crate::workspace::Workspace::open("sweep")?;
    if !ws.config.stages.iter().any(|s| s.name == args.stage) {
        return Err(
            Error::input(format!("no stage '{}' in the configuration", args.stage))
                .hint("see the stages with 'git workbench status'"),
        );
    }
    let combos = combinations(&args.axes).map_err(Error::input)?;
    let sweep_id = format!(
        "sweep-{}",
        new_run_id(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            std::process::id() as u16
        )
    );
    let total = combos.len();
    out.note(&format!(
        "workbench: sweep {sweep_id}: {total} run(s) of stage {}, {} at a time",
        args.stage, args.jobs
    ));
    let bar = (std::io::stderr().is_terminal() && !out.json).then(|| {
        let b = indicatif::ProgressBar::new(total as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
                .expect("valid template"),
        );
        b
    });
    let interrupted = std::sync::Arc::new(AtomicBool::new(false));
    {
        let flag = interrupted.clone();
        // Runs get the signal themselves (same process group) and record nothing;
        // the sweep only stops starting new ones.
        let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    }
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; total]);
    let bad_input: Mutex<Option<Outcome>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..args.jobs.min(total) {
            scope.spawn(|| loop {
                if stop.load(Ordering::SeqCst) || interrupted.load(Ordering::SeqCst) {
                    return;
                }
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= total {
                    return;
                }
                let o = match run_one(&args.stage, &sweep_id, &combos[i]) {
                    Ok(o) => o,
                    Err(e) => Outcome {
                        params: combos[i].clone(),
                        run_id: None,
                        exit_code: 2,
                        tail: e.to_string(),
                    },
                };
                // Bad input (exit 2) would fail every combination the same way.
                if o.exit_code == 2 && o.run_id.is_none() {
                    stop.store(true, Ordering::SeqCst);
                    bad_input.lock().expect("lock").get_or_insert(o.clone());
                }
                if o.exit_code != 0 && args.fail_fast {
                    stop.store(true, Ordering::SeqCst);
                }
                let line = format!(
                    "[{}/{total}] {} {}: {}",
                    i + 1,
                    o.run_id.as_deref().unwrap_or("(not recorded)"),
                    shown(&o.params),
                    if o.exit_code == 0 {
                        "ok".to_string()
                    } else {
                        format!("failed, exit {}", o.exit_code)
                    }
                );
                match &bar {
                    Some(b) => {
                        b.inc(1);
                        if o.exit_code != 0 {
                            b.println(&line);
                        }
                        b.set_message(shown(&o.params));
                    }
                    None => out.note(&line),
                }
                results.lock().expect("lock")[i] = Some(o);
            });
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(o) = bad_input.into_inner().expect("lock") {
        return Err(Error::input(format!(
            "sweep stopped: the run with {} was refused:\n{}",
            shown(&o.params),
            o.tail.trim_end()
        )));
    }
    let results: Vec<Outcome> = results
        .into_inner()
        .expect("lock")
        .into_iter()
        .flatten()
        .collect();
    let failed: Vec<&Outcome> = results.iter().filter(|o| o.exit_code != 0).collect();
    let skipped = total - results.len();
    if out.json {
        out.json_value(&json!({
            "sweep_id": sweep_id,
            "stage": args.stage,
            "combinations": total,
            "runs": results.iter().map(|o| json!({
                "run_id": o.run_id,
                "params": o.params.iter().cloned().collect::<serde_json::Map<String, Value>>(),
                "exit_code": o.exit_code,
            })).collect::<Vec<_>>(),
            "failed": failed.len(),
            "not_started": skipped,
        }));
    } else {
        for o in &failed {
            out.note(&format!(
                "failed: {} (exit {}){}",
                shown(&o.params),
                o.exit_code,
                o.run_id
                    .as_deref()
                    .map(|id| format!(", see 'git workbench show {id}'"))
                    .unwrap_or_default()
            ));
        }
        super::compare::cmd_compare(out, super::compare::Args::for_sweep(&sweep_id))?;
        out.line(&format!(
            "sweep {sweep_id}: {} run(s), {} failed{}; the table again: git workbench compare --sweep {sweep_id}",
            results.len(),
            failed.len(),
            if skipped > 0 {
                format!(", {skipped} not started")
            } else {
                String::new()
            }
        ));
    }
    if interrupted.load(Ordering::SeqCst) {
        return Ok(130);
    }
    Ok(u8::from(!failed.is_empty() || skipped > 0))
}
