//! `git workbench verify`.

#[path = "verify/stages.rs"]
mod stages;

use super::Out;
use crate::error::Result;
use crate::model::text::{escape_controls, Lines};
use crate::narrative::transition::{EventKind, NarrativeEvent};
use crate::ops::verify::{
    verify, BlockInfo, ForcedApproval, Found, RangeEvent, VerifyReport, VerifyRequest,
};
use crate::store::Store;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Check narratives, the review/ mirror and approvals over a range of commits (for CI
/// and pull requests). Exits 1 on any problem.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// BASE..HEAD: every commit reachable from HEAD and not from BASE (default: HEAD).
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Require every approval a narrative relies on to be signed by an allowed key
    /// (also: git config workbench.requireSigned true).
    #[arg(long)]
    pub require_signed: bool,
    /// With --format markdown: the URL the forge serves the tip's files under (e.g.
    /// https://github.com/OWNER/REPO/raw/SHA/), so the mirrored figures show as
    /// thumbnails; without it they are relative links.
    #[arg(long, value_name = "PREFIX")]
    pub figures_url: Option<String>,
}

pub fn cmd_verify(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let r = verify(
        &store,
        &VerifyRequest {
            range: args.range,
            require_signed: args.require_signed,
        },
    )?;
    match if out.json { Format::Json } else { args.format } {
        Format::Json => out.json(&r)?,
        Format::Text => text(out, &r)?,
        Format::Markdown => out.print(&markdown(&r, args.figures_url.as_deref()))?,
    }
    Ok(u8::from(r.errors > 0))
}

fn text(out: &Out, r: &VerifyReport) -> Result<()> {
    for f in &r.problems {
        out.line(&format!(
            "{}: {}",
            f.commit.short(),
            super::render::problem(&f.problem()).trim_end()
        ))?;
    }
    for e in &r.events {
        if e.event.kind == EventKind::Unmarked {
            out.line(&format!(
                "{}: PROTECTION DROPPED: {} was unmarked ({} block(s) no longer checked) by {}",
                e.commit.short(),
                e.event.file,
                e.event.blocks.unwrap_or(0),
                e.author
            ))?;
        }
    }
    for e in &r.events {
        if e.event.kind != EventKind::Unmarked {
            out.line(&format!("{}: {}", e.commit.short(), event_line(&e.event)))?;
        }
    }
    let s = &r.summary;
    out.line(&format!(
        "blocks: {} added, {} changed, {} removed; {} narrative(s) renamed, {} unmarked{}",
        s.added,
        s.changed,
        s.removed,
        s.renamed,
        s.unmarked.len(),
        if s.unmarked.is_empty() {
            String::new()
        } else {
            format!(" ({})", s.unmarked.join(", "))
        }
    ))?;
    for f in &s.forced {
        out.line(&format!("FORCED APPROVAL: {}", forced_line(f)))?;
    }
    out.line(&format!(
        "verified {} commit(s), {} narrative block(s){}: {}",
        r.commits.len(),
        r.blocks.len(),
        on_forced(r),
        if r.errors == 0 {
            "ok".to_string()
        } else {
            format!("{} problem(s)", r.errors)
        }
    ))
}

/// `run … of stage …, approved by … over a failed review (checks); cited by file:line`.
fn forced_line(f: &ForcedApproval) -> String {
    let checks = if f.overridden_checks.is_empty() {
        String::new()
    } else {
        // One line: a check name is free text and may not start another.
        let names: Vec<String> = f
            .overridden_checks
            .iter()
            .map(|c| escape_controls(c, Lines::Escape).into_owned())
            .collect();
        format!(" ({})", names.join(", "))
    };
    format!(
        "run {} of stage {}, approved by {} over a failed review{checks}; cited by {}",
        f.run,
        f.stage,
        f.approved_by,
        f.blocks.join(", ")
    )
}

/// ` (N on a forced approval)` when any block rests on one.
fn on_forced(r: &VerifyReport) -> String {
    match r.blocks.iter().filter(|b| b.forced == Some(true)).count() {
        0 => String::new(),
        n => format!(" ({n} on a forced approval)"),
    }
}

fn markdown(r: &VerifyReport, figures_url: Option<&str>) -> String {
    let verdict = if r.errors == 0 {
        "✅ every narrative block is an approved result"
    } else {
        "❌ problems found"
    };
    let mut s = format!("## git-workbench verify: {verdict}\n\n");
    s.push_str(&format!(
        "{} commit(s) checked, {} narrative block(s) at the tip.\n\n",
        r.commits.len(),
        r.blocks.len()
    ));
    let unmarks: Vec<&RangeEvent> = r
        .events
        .iter()
        .filter(|e| e.event.kind == EventKind::Unmarked)
        .collect();
    if !unmarks.is_empty() {
        s.push_str("### ⚠️ Protection dropped\n\n");
        for e in unmarks {
            s.push_str(&format!(
                "- **`{}` was unmarked** in `{}` by {}: its {} block(s) are no longer checked\n",
                md_code(&e.event.file),
                e.commit.short(),
                md_text(&e.author),
                e.event.blocks.unwrap_or(0)
            ));
        }
        s.push('\n');
    }
    if !r.summary.forced.is_empty() {
        s.push_str("### ⚠️ Forced approvals\n\n");
        for f in &r.summary.forced {
            s.push_str(&forced_item(f));
        }
        s.push('\n');
    }
    s.push_str(&stages::section(&r.stages, figures_url));
    let sm = &r.summary;
    s.push_str(&format!(
        "Blocks in the range: {} added, {} changed, {} removed; {} narrative(s) renamed.\n\n",
        sm.added, sm.changed, sm.removed, sm.renamed
    ));
    let others: Vec<&RangeEvent> = r
        .events
        .iter()
        .filter(|e| e.event.kind != EventKind::Unmarked)
        .collect();
    if !others.is_empty() {
        s.push_str("| commit | change |\n| --- | --- |\n");
        for e in others {
            s.push_str(&format!(
                "| `{}` | {} |\n",
                e.commit.short(),
                md_text(&event_line(&e.event))
            ));
        }
        s.push('\n');
    }
    if !r.blocks.is_empty() {
        s.push_str("| file | stage | run | approved by | when | signed | edited | forced | changed |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for b in &r.blocks {
            s.push_str(&block_row(b));
        }
        s.push('\n');
    }
    if !r.problems.is_empty() {
        s.push_str("### Problems\n\n");
        for f in &r.problems {
            s.push_str(&problem_item(f));
        }
    }
    s
}

fn block_row(b: &BlockInfo) -> String {
    let yes = |v: Option<bool>| match v {
        Some(true) => "yes",
        Some(false) => "no",
        None => "—",
    };
    let forced = match b.forced {
        Some(true) => "**yes**",
        other => yes(other),
    };
    format!(
        "| {}:{} | {} | `{}` | {} | {} | {} | {} | {forced} | {} |\n",
        md_text(&b.file),
        b.line,
        b.stage,
        b.run,
        b.approved_by
            .as_deref()
            .map_or("**not approved**".to_string(), md_text),
        b.approved_at.map_or("—".to_string(), |t| t.date()),
        yes(b.signed),
        yes(b.interpretation_edited),
        if b.changed { "**yes**" } else { "no" }
    )
}

fn forced_item(f: &ForcedApproval) -> String {
    let checks = if f.overridden_checks.is_empty() {
        String::new()
    } else {
        let names: Vec<String> = f
            .overridden_checks
            .iter()
            .map(|c| format!("`{}`", md_code(c)))
            .collect();
        format!(" ({})", names.join(", "))
    };
    let cited: Vec<String> = f
        .blocks
        .iter()
        .map(|b| format!("`{}`", md_code(b)))
        .collect();
    format!(
        "- run `{}` of stage `{}`, approved by {} **over a failed review**{checks}; cited by {}\n",
        f.run,
        f.stage,
        md_text(&f.approved_by),
        cited.join(", ")
    )
}

fn problem_item(f: &Found) -> String {
    let mut s = format!(
        "- `{}` {}:{} — {} (fix: `{}`)\n",
        f.commit.short(),
        f.file,
        f.line,
        f.reason,
        f.fix
    );
    if let Some(d) = &f.diff {
        s.push_str(&format!("\n```diff\n{d}```\n\n"));
    }
    s
}

/// One line for what a commit did to a narrative.
fn event_line(e: &NarrativeEvent) -> String {
    let block = || {
        format!(
            "block of stage {} (run {}) in {}:{}",
            e.stage.as_ref().map_or("?", |s| s.as_str()),
            e.run.as_ref().map_or("?", |r| r.as_str()),
            e.file,
            e.line
        )
    };
    match e.kind {
        EventKind::Added => format!("added {}", block()),
        EventKind::Removed => format!("removed {}", block()),
        EventKind::Changed => match &e.old_run {
            Some(old) => format!("changed {} (was run {old})", block()),
            None => format!("changed {}", block()),
        },
        EventKind::Renamed => format!(
            "narrative {} is now {}",
            e.from.as_deref().unwrap_or("?"),
            e.file
        ),
        EventKind::Unmarked => format!("unmarked {}", e.file),
    }
}

/// Text safe inside a markdown table cell.
fn md_text(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Text safe inside inline code (on one line).
fn md_code(s: &str) -> String {
    s.replace('`', "'").replace(['\n', '\r'], " ")
}
