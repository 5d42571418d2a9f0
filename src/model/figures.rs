//! A run's figures where people review them: which outputs are figures, where each is
//! mirrored beside the card (`<slot>/figures/<name>`), and why one is not. The card's
//! links and the mirror's files both come from `figures`, so they always agree.
//!
//! The layout: a figure is mirrored at `figures/<name>` inside the slot directory of
//! its card (`review/<stage>/` for the approved run, `review/<stage>/candidate/` for
//! the run awaiting a decision), `<name>` being its path below the run directory (its
//! repository path when it is outside it). The card links `figures/<name>`, relative
//! to itself, so the same card text resolves at `candidate/` and, once approved, at
//! the top level; and a figure keeps its name from one approved run to the next, so a
//! pull request shows it as a changed image (a forge's image diff) rather than a new
//! file.
//!
//! Names come from records, which may come from another clone: a name that could
//! climb out of the mirror, name `.git`, or collide with an earlier figure's name (on
//! a file system that folds case, or a file where the other needs a directory) is
//! never mirrored, and the card says why.

use super::card::is_figure;
use super::integrity::contained_path;
use super::manifest::RunManifest;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The directory, inside a slot's, of the mirrored figures.
pub const FIGURES_DIR: &str = "figures";
/// The longest path component most file systems take, in bytes.
const MAX_COMPONENT: usize = 255;

/// Why a figure is not mirrored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Unmirrored {
    /// Larger than the stage's `max_stored_size`: the record holds only its hash.
    NotStored,
    /// Its name cannot be written safely inside the mirror: why.
    Unsafe { why: String },
    /// Its mirrored name is an earlier figure's (`with`), or folds to it, or one of
    /// the two would need the other as a directory.
    Collides { with: String },
}

impl std::fmt::Display for Unmirrored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unmirrored::NotStored => write!(
                f,
                "larger than the stage's max_stored_size, so the record holds only its hash"
            ),
            Unmirrored::Unsafe { why } => write!(f, "its name {why}"),
            Unmirrored::Collides { with } => {
                write!(f, "its name collides with the figure {with}")
            }
        }
    }
}

/// One figure of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    /// The output's repository path, as the manifest has it.
    pub output: String,
    /// Its name under `figures/`, or why it is not mirrored.
    pub mirrored: Result<String, Unmirrored>,
}

impl Figure {
    /// The mirrored file relative to the slot directory: `figures/<name>`.
    pub fn slot_path(&self) -> Option<String> {
        self.mirrored
            .as_ref()
            .ok()
            .map(|n| format!("{FIGURES_DIR}/{n}"))
    }
}

/// The run's figures, in the manifest's order (sorted by path): every output
/// `is_figure` names, with where it is mirrored or why not.
pub fn figures(m: &RunManifest) -> Vec<Figure> {
    let run_dir = m.run_dir.trim_end_matches('/');
    // Lower-cased names taken: by files, and as directories of files.
    let mut files: BTreeMap<String, &str> = BTreeMap::new();
    let mut dirs: BTreeMap<String, &str> = BTreeMap::new();
    let mut out = Vec::new();
    for path in m.outputs.keys().filter(|p| is_figure(p)) {
        let name = match path.strip_prefix(run_dir).and_then(|r| r.strip_prefix('/')) {
            Some(rest) if !run_dir.is_empty() => rest,
            _ => path.as_str(),
        };
        let mirrored = if !m.stored_outputs.contains(path) {
            Err(Unmirrored::NotStored)
        } else {
            safe_name(path)
                .and_then(|()| safe_name(name))
                .and_then(|()| claim(name, path, &mut files, &mut dirs))
        };
        out.push(Figure {
            output: path.clone(),
            mirrored,
        });
    }
    out
}

/// `Err` when `name` may not be a file below the mirror.
fn safe_name(name: &str) -> Result<(), Unmirrored> {
    let unsafe_ = |why: &str| Err(Unmirrored::Unsafe { why: why.into() });
    if let Err(why) = contained_path(name) {
        return unsafe_(why);
    }
    if name.split('/').any(|c| c.len() > MAX_COMPONENT) {
        return unsafe_("has a component longer than 255 bytes");
    }
    Ok(())
}

/// Takes `name` for `path` unless an earlier figure holds it, folded to lower case.
fn claim<'a>(
    name: &str,
    path: &'a str,
    files: &mut BTreeMap<String, &'a str>,
    dirs: &mut BTreeMap<String, &'a str>,
) -> Result<String, Unmirrored> {
    let folded = name.to_lowercase();
    let parents: Vec<&str> = folded
        .match_indices('/')
        .map(|(i, _)| &folded[..i])
        .collect();
    let taken = files
        .get(&folded)
        .or_else(|| dirs.get(&folded))
        .or_else(|| parents.iter().find_map(|p| files.get(*p)));
    if let Some(with) = taken {
        return Err(Unmirrored::Collides {
            with: with.to_string(),
        });
    }
    for p in parents {
        dirs.entry(p.to_string()).or_insert(path);
    }
    files.insert(folded, path);
    Ok(name.to_string())
}

/// A relative path as a URL path: each byte outside the unreserved set (and `/`)
/// percent-encoded, so a link holds no space, parenthesis, `<` or quote of the name.
pub fn url_path(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

/// Record text made inert in markdown inline content (a table cell, an alt text, a
/// list item): the characters markdown or HTML would read backslash-escaped, `&` and
/// `<` as entities a renderer shows as the characters, and line breaks as spaces.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '#' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Record text as an HTML attribute value's content (inside double quotes).
pub fn html_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(run_dir: &str, outputs: &[&str], stored: &[&str]) -> RunManifest {
        let outs: serde_json::Map<String, serde_json::Value> = outputs
            .iter()
            .map(|p| (p.to_string(), format!("sha256:{}", "a".repeat(64)).into()))
            .collect();
        serde_json::from_value(serde_json::json!({
            "schema": "workbench/manifest/v1", "stage": "s", "run_id": "20260308T142233Z-1e2a",
            "parent_run_id": null, "status": "executed", "params_used": {},
            "inputs": {}, "outputs": outs, "stored_outputs": stored,
            "code_ref": {"commit": null, "dirty": false,
                         "tree": "fedcba9876543210fedcba9876543210fedcba98"},
            "command": "x", "exit_code": 0, "started_at": "2026-03-08T14:22:33.120Z",
            "duration_seconds": 1.5, "metrics": {}, "run_dir": run_dir,
            "log_bytes": 0, "host": "h", "tool_version": "v"
        }))
        .unwrap()
    }

    fn placed(m: &RunManifest) -> Vec<(String, Result<String, Unmirrored>)> {
        figures(m)
            .into_iter()
            .map(|f| (f.output, f.mirrored))
            .collect()
    }

    #[test]
    fn figures_are_named_below_the_run_directory() {
        let all = [
            "runs/R/a.png",
            "runs/R/sub/b.SVG",
            "plots/c.jpg",
            "runs/R/m.json",
        ];
        let m = manifest("runs/R/", &all, &all);
        assert_eq!(
            placed(&m),
            [
                ("plots/c.jpg".into(), Ok("plots/c.jpg".into())),
                ("runs/R/a.png".into(), Ok("a.png".into())),
                ("runs/R/sub/b.SVG".into(), Ok("sub/b.SVG".into())),
            ]
        );
        assert_eq!(figures(&m)[1].slot_path().unwrap(), "figures/a.png");
        let none = manifest("", &["x/a.png"], &["x/a.png"]);
        assert_eq!(placed(&none)[0].1, Ok("x/a.png".into()));
    }

    #[test]
    fn a_figure_too_large_to_store_or_with_a_hostile_name_is_not_mirrored() {
        let long = format!("runs/R/{}.png", "x".repeat(300));
        let outs = [
            "runs/R/big.png",
            "runs/R/../../etc/x.png",
            "/abs/x.png",
            "runs/R/.git/hooks/x.png",
            "runs/R/.GIT./y.png",
            long.as_str(),
        ];
        let m = manifest("runs/R", &outs, &outs[1..]);
        let got: BTreeMap<String, Result<String, Unmirrored>> = placed(&m).into_iter().collect();
        assert_eq!(got["runs/R/big.png"], Err(Unmirrored::NotStored));
        for p in &outs[1..] {
            assert!(
                matches!(got[*p], Err(Unmirrored::Unsafe { .. })),
                "{p}: {:?}",
                got[*p]
            );
        }
        assert!(Unmirrored::NotStored
            .to_string()
            .contains("max_stored_size"));
    }

    #[test]
    fn names_that_fold_together_or_nest_in_a_file_collide() {
        let outs = [
            "runs/R/a.png",
            "runs/R/A.PNG",
            "runs/R/a.png/b.png",
            "runs/R/d/e.png",
            "runs/R/D.png",
            "runs/R/d",
            "runs/R/d.svg",
        ];
        let m = manifest("runs/R", &outs, &outs);
        let got: BTreeMap<String, Result<String, Unmirrored>> = placed(&m).into_iter().collect();
        let with = |w: &str| {
            Err(Unmirrored::Collides {
                with: w.to_string(),
            })
        };
        // sorted: A.PNG, D.png, a.png, a.png/b.png, d.svg, d/e.png
        assert_eq!(got["runs/R/A.PNG"], Ok("A.PNG".into()));
        assert_eq!(got["runs/R/a.png"], with("runs/R/A.PNG"));
        assert_eq!(got["runs/R/a.png/b.png"], with("runs/R/A.PNG"));
        assert_eq!(got["runs/R/D.png"], Ok("D.png".into()));
        assert_eq!(got["runs/R/d/e.png"], Ok("d/e.png".into()));
        assert_eq!(got["runs/R/d.svg"], Ok("d.svg".into()));
        // an outside figure named like one below the run directory
        let m = manifest(
            "runs/R",
            &["a.png", "runs/R/a.png"],
            &["a.png", "runs/R/a.png"],
        );
        assert_eq!(placed(&m)[1].1, with("a.png"));
    }

    #[test]
    fn link_and_markdown_escaping() {
        assert_eq!(
            url_path("figures/a b(1)<x>.png"),
            "figures/a%20b%281%29%3Cx%3E.png"
        );
        assert_eq!(url_path("é.png"), "%C3%A9.png");
        assert_eq!(
            markdown_text("<img src=x onerror=alert(1)> **b** | [l](u)\n&amp;"),
            "&lt;img src=x onerror=alert\\(1\\)&gt; \\*\\*b\\*\\* \\| \\[l\\]\\(u\\) &amp;amp;"
        );
        assert_eq!(html_attr("a\"<b>&"), "a&quot;&lt;b&gt;&amp;");
    }
}
