//! `git workbench diff`: a keyed comparison of a table (default runs/comparison.csv) at
//! two commits, or a commit and the working tree, in one Old / New / Δ layout for every
//! format.

use super::Out;
use crate::error::{Error, Result};
use crate::model::table::markdown_escape;
use crate::model::table_diff::{diff, parse_csv, Change, Keyed, RowChange};
use crate::store::Store;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Markdown,
    Json,
    Csv,
}

/// Compare a keyed table between two commits (default: HEAD and the working tree).
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The old side (default HEAD).
    pub rev_a: Option<String>,
    /// The new side (default: the working tree).
    pub rev_b: Option<String>,
    /// The table: a CSV file whose rows have a key column.
    #[arg(long, default_value = "runs/comparison.csv")]
    pub path: String,
    /// The key column.
    #[arg(long, default_value = "run_id")]
    pub key: String,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Exit 1 when the tables differ, 0 when they do not (as `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
}

fn load(store: &Store, rev: Option<&str>, path: &str) -> Result<Keyed> {
    let (name, bytes) = match rev {
        Some(r) => {
            let bytes = store
                .blob_at(r, path)?
                .ok_or_else(|| Error::input(format!("{path} does not exist at {r}")))?;
            (format!("{r}:{path}"), bytes)
        }
        None => {
            let root = store.workdir("diff")?;
            let p = root.join(path);
            let bytes = std::fs::read(&p).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Error::input(format!("{path} does not exist in the working tree"))
                        .hint("write it with 'git workbench compare -o'")
                } else {
                    Error::io(&p)(e)
                }
            })?;
            (path.to_string(), bytes)
        }
    };
    parse_csv(&name, &bytes).map_err(Error::input)
}

fn delta_text(c: &crate::model::table_diff::CellChange) -> String {
    let mut s = String::new();
    if let Some(d) = c.delta {
        s.push_str(&format!("{d:+}"));
        if let Some(r) = c.relative {
            s.push_str(&format!(" ({:+.1}%)", r * 100.0));
        }
    }
    match c.verdict {
        Some("better") => s.push_str(" ▲ better"),
        Some("worse") => s.push_str(" ▼ worse"),
        _ => {}
    }
    s.trim().to_string()
}

/// The flat rows every format shows: key, change, column, old, new, Δ.
fn flat(changes: &[RowChange]) -> Vec<[String; 6]> {
    let mut out = Vec::new();
    for r in changes {
        let kind = serde_json::to_value(&r.change)
            .expect("change")
            .as_str()
            .unwrap_or("")
            .to_string();
        if r.cells.is_empty() {
            out.push([
                r.key.clone(),
                kind.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]);
        }
        for c in &r.cells {
            out.push([
                r.key.clone(),
                kind.clone(),
                c.column.clone(),
                c.old.clone(),
                c.new.clone(),
                delta_text(c),
            ]);
        }
    }
    out
}

pub fn cmd_diff(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let a = args.rev_a.clone().unwrap_or_else(|| "HEAD".to_string());
    let old = load(&store, Some(&a), &args.path)?;
    let new = load(&store, args.rev_b.as_deref(), &args.path)?;
    let directions = crate::workspace::metric_directions(store.maybe_workdir());
    let changes = diff(&old, &new, &args.key, &directions).map_err(Error::input)?;
    let format = if out.json { Format::Json } else { args.format };
    const HEAD: [&str; 6] = ["KEY", "CHANGE", "COLUMN", "OLD", "NEW", "Δ"];
    match format {
        Format::Json => out.json_value(&serde_json::json!({
            "path": args.path,
            "old": a,
            "new": args.rev_b.as_deref().unwrap_or("working tree"),
            "changes": changes,
        })),
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            w.write_record(["key", "change", "column", "old", "new", "delta"])
                .expect("memory");
            for r in flat(&changes) {
                w.write_record(&r).expect("memory");
            }
            out.print(&String::from_utf8(w.into_inner().expect("memory")).expect("utf-8"));
        }
        Format::Markdown => {
            let mut s = format!("| {} |\n|{}\n", HEAD.join(" | "), " --- |".repeat(6));
            for r in flat(&changes) {
                s.push_str(&format!(
                    "| {} |\n",
                    r.iter()
                        .map(|c| markdown_escape(c))
                        .collect::<Vec<_>>()
                        .join(" | ")
                ));
            }
            out.print(&s);
        }
        Format::Table => {
            if changes.is_empty() {
                out.line(&format!("{}: no changes", args.path));
            } else {
                let mut t = out.table(&HEAD);
                for r in flat(&changes) {
                    t.add_row(r.to_vec());
                }
                out.line(&t.to_string());
                let count = |c: Change| changes.iter().filter(|r| r.change == c).count();
                out.line(&format!(
                    "{}: {} added, {} removed, {} changed",
                    args.path,
                    count(Change::Added),
                    count(Change::Removed),
                    count(Change::Changed)
                ));
            }
        }
    }
    Ok(if args.exit_code && !changes.is_empty() {
        1
    } else {
        0
    })
}
