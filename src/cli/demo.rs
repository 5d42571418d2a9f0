//! `git workbench demo`.

use super::Out;
use crate::error::Result;
use crate::ops::demo::{demo, Narrator};
use std::path::PathBuf;

/// Create a repository with an example analysis and walk the workbench loop in it.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to create the demo repository (must not exist or be empty); default: a new
    /// temporary directory, printed.
    pub dir: Option<PathBuf>,
}

struct Say<'a>(&'a Out);

impl Narrator for Say<'_> {
    fn say(&self, text: &str) {
        if self.0.json {
            self.0.note(text);
        } else if self.0.line(text).is_err() {
            // a closed stdout: the steps go on, the narration stops
        }
    }

    fn steps_to_stderr(&self) -> bool {
        self.0.json
    }
}

pub fn cmd_demo(out: &Out, args: Args) -> Result<u8> {
    let r = demo(args.dir, &Say(out))?;
    if out.json {
        out.json(&r)?;
    }
    Ok(0)
}
