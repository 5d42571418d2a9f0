//! Opening a file in the user's browser: `$BROWSER` (its first `:`-separated entry,
//! split on whitespace, the file appended or put for `%s`), else `xdg-open` when it
//! is on `PATH`. The browser is started and left running; nothing waits for it.

use std::path::Path;
use std::process::{Command, Stdio};

/// Starts a browser on `file`; the program started, or `None` when there is none.
pub fn open(file: &Path) -> Option<String> {
    let from_env = std::env::var("BROWSER").ok().and_then(|b| {
        let first = b.split(':').next()?.trim().to_string();
        (!first.is_empty()).then_some(first)
    });
    let (program, mut args) = match from_env {
        Some(cmd) => {
            let mut words = cmd.split_whitespace().map(str::to_string);
            (words.next()?, words.collect::<Vec<_>>())
        }
        None => (on_path("xdg-open")?, Vec::new()),
    };
    let target = file.to_string_lossy().into_owned();
    if args.iter().any(|a| a.contains("%s")) {
        args = args.iter().map(|a| a.replace("%s", &target)).collect();
    } else {
        args.push(target);
    }
    Command::new(&program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    Some(program)
}

fn on_path(name: &str) -> Option<String> {
    super::command::on_path(name).map(|p| p.to_string_lossy().into_owned())
}
