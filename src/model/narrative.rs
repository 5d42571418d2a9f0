//! Narrative blocks: the only places results may appear in a narrative file.
//!
//! ```text
//! <!-- workbench:begin stage=baseline run=20260308T142233Z-3f2a metrics=precision,recall -->
//! ...rendered from the approval...
//! <!-- workbench:end -->
//! ```
//!
//! Markdown and Quarto use HTML comments; Python notebooks (`.py`, marimo or `# %%`)
//! use `#` comments, and their rendered lines are comments too. Parsing, rendering and
//! comparing are pure functions here; what is checked against git lives in `narrative/`.

use super::approval::overridden_checks;
use super::decision::ApprovalRecord;
use super::ids::{RunId, StageName};
use super::manifest::{display_value, RunManifest};
use super::review::ReviewRecord;
use std::fmt;

/// How a file writes its marker lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// `<!-- workbench:... -->`
    Html,
    /// `# workbench:...`
    Hash,
}

impl Syntax {
    /// The syntax for a path: `.py` files use `#`, everything else HTML comments.
    pub fn for_path(path: &str) -> Syntax {
        if path.to_ascii_lowercase().ends_with(".py") {
            Syntax::Hash
        } else {
            Syntax::Html
        }
    }

    fn marker(self, body: &str) -> String {
        match self {
            Syntax::Html => format!("<!-- workbench:{body} -->"),
            Syntax::Hash => format!("# workbench:{body}"),
        }
    }

    /// The body of a marker line (`begin stage=...`), if the line is one.
    fn marker_body(self, line: &str) -> Option<&str> {
        let t = line.trim();
        match self {
            Syntax::Html => t
                .strip_prefix("<!--")?
                .strip_suffix("-->")?
                .trim()
                .strip_prefix("workbench:"),
            Syntax::Hash => t.strip_prefix('#')?.trim_start().strip_prefix("workbench:"),
        }
        .map(str::trim)
    }
}

/// A part of a file where blocks live, with the syntax of its markers. Most files are
/// one region, the whole text; a notebook's regions are its markdown cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub text: String,
    pub syntax: Syntax,
    /// The file line of the region's first line (1-based), for messages.
    pub first_line: usize,
}

impl Region {
    /// The file line of the region's line `n` (1-based). Exact for text files, marimo
    /// strings and Jupyter sources written one line per list element, as Jupyter
    /// writes them.
    pub fn file_line(&self, n: usize) -> usize {
        self.first_line + n.saturating_sub(1)
    }
}

/// The regions of a narrative file at `path` holding `text` (its format is chosen
/// from the path and, for `.py`, the content: `model::narrative_format`). A UTF-8
/// byte-order mark is not part of any region. A marker where no region is (a code
/// cell, between marimo cells) is an error.
pub fn regions(path: &str, text: &str) -> Result<Vec<Region>, SyntaxError> {
    super::narrative_format::Document::parse(path, text).map(|d| d.into_regions())
}

/// Whether a line is a workbench marker in either syntax.
pub fn is_marker_line(line: &str) -> bool {
    Syntax::Html.marker_body(line).is_some() || Syntax::Hash.marker_body(line).is_some()
}

/// What a block shows besides the approved interpretation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockOptions {
    /// `metrics=a,b`: a table of these metrics.
    pub metrics: Option<Vec<String>>,
    /// `table`: a table of every metric.
    pub table: bool,
    /// `figures`: links to the run's figures.
    pub figures: bool,
}

/// One parsed block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// 1-based line numbers of the begin and end markers.
    pub begin_line: usize,
    pub end_line: usize,
    pub stage: StageName,
    pub run: RunId,
    pub options: BlockOptions,
    /// The lines between the markers, joined with `\n`.
    pub content: String,
}

/// A structural problem in a narrative file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// A `workbench:slot stage=...` marker, where `narrative new` inserts a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub line: usize,
    pub stage: String,
}

/// Everything found in a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub blocks: Vec<Block>,
    pub slots: Vec<Slot>,
    pub errors: Vec<SyntaxError>,
}

fn parse_attrs(
    body: &str,
    line: usize,
    allowed: &[&str],
) -> Result<Vec<(String, Option<String>)>, SyntaxError> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for tok in body.split_whitespace() {
        let (k, v) = match tok.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (tok, None),
        };
        if !allowed.contains(&k) {
            return Err(SyntaxError {
                line,
                message: format!("unknown attribute '{k}' (known: {})", allowed.join(", ")),
            });
        }
        if v.is_some_and(str::is_empty) {
            return Err(SyntaxError {
                line,
                message: format!("attribute '{k}' has an empty value"),
            });
        }
        if out.iter().any(|(seen, _)| seen == k) {
            return Err(SyntaxError {
                line,
                message: format!("attribute '{k}' is given twice"),
            });
        }
        out.push((k.to_string(), v.map(str::to_string)));
    }
    Ok(out)
}

fn attr<'a>(attrs: &'a [(String, Option<String>)], key: &str) -> Option<&'a Option<String>> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

/// Parses every block and slot of a file; structural problems are collected, not fatal.
/// A block being read: begin line, its stage and run (`None`: a broken begin
/// marker, skipped to its end), options and content lines.
type OpenBlock<'a> = (
    usize,
    Option<(StageName, RunId)>,
    BlockOptions,
    Vec<&'a str>,
);

pub fn parse(text: &str, syntax: Syntax) -> Parsed {
    let mut parsed = Parsed::default();
    // (begin line, stage, run, options, content lines)
    let mut open: Option<OpenBlock> = None;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Some(body) = syntax.marker_body(line) else {
            if let Some(message) = near_miss(line, syntax) {
                parsed.errors.push(SyntaxError { line: n, message });
            } else if open.is_none() && is_provenance(line) {
                parsed.errors.push(SyntaxError {
                    line: n,
                    message: "a provenance line ('_Approved by …_') outside any block: approved results live only inside blocks".into(),
                });
            }
            if let Some((.., content)) = open.as_mut() {
                content.push(line);
            }
            continue;
        };
        let (verb, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
        match verb {
            "begin" => {
                if let Some((b, ..)) = &open {
                    parsed.errors.push(SyntaxError {
                        line: n,
                        message: format!("a block begins inside the block that begins on line {b} (blocks cannot nest)"),
                    });
                    // The next end marker closes the broken block.
                    open = Some((*b, None, BlockOptions::default(), Vec::new()));
                    continue;
                }
                match parse_begin(rest, n) {
                    Ok((stage, run, options)) => {
                        open = Some((n, Some((stage, run)), options, Vec::new()))
                    }
                    Err(e) => {
                        parsed.errors.push(e);
                        // Skip to its end marker so one bad begin is one error.
                        open = Some((n, None, BlockOptions::default(), Vec::new()));
                    }
                }
            }
            "end" => match open.take() {
                None => parsed.errors.push(SyntaxError {
                    line: n,
                    message: "an end marker without a begin marker".to_string(),
                }),
                Some((begin_line, ids, options, content)) => {
                    if !rest.trim().is_empty() {
                        parsed.errors.push(SyntaxError {
                            line: n,
                            message: "the end marker takes no attributes".into(),
                        });
                    }
                    if let Some((stage, run)) = ids {
                        parsed.blocks.push(Block {
                            begin_line,
                            end_line: n,
                            stage,
                            run,
                            options,
                            content: content.join("\n"),
                        });
                    }
                }
            },
            "slot" => match parse_attrs(rest, n, &["stage"]) {
                Ok(a) => match attr(&a, "stage") {
                    Some(Some(stage)) => parsed.slots.push(Slot {
                        line: n,
                        stage: stage.clone(),
                    }),
                    _ => parsed.errors.push(SyntaxError {
                        line: n,
                        message: "a slot needs stage=NAME".into(),
                    }),
                },
                Err(e) => parsed.errors.push(e),
            },
            other => parsed.errors.push(SyntaxError {
                line: n,
                message: format!(
                    "unknown marker 'workbench:{other}' (expected begin, end or slot)"
                ),
            }),
        }
    }
    if let Some((b, ..)) = open {
        parsed.errors.push(SyntaxError {
            line: b,
            message: "this block has no end marker".to_string(),
        });
    }
    parsed
}

use super::interpretation::is_invisible;

/// Why a line that is not a marker of `syntax` looks like one (hidden characters,
/// another case or spacing, the other comment syntax), if it does.
pub fn near_miss(line: &str, syntax: Syntax) -> Option<String> {
    let visible: String = line.chars().filter(|c| !is_invisible(*c)).collect();
    let folded: String = visible
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let looks = ["workbench:begin", "workbench:end", "workbench:slot"]
        .iter()
        .any(|m| folded.contains(m));
    if !looks {
        return None;
    }
    if visible.len() != line.len() {
        return Some("a workbench marker spelled with invisible characters: it is not a marker, and the text around it is unchecked".into());
    }
    let other = match syntax {
        Syntax::Html => Syntax::Hash,
        Syntax::Hash => Syntax::Html,
    };
    if other.marker_body(line).is_some() {
        let want = match syntax {
            Syntax::Html => "<!-- workbench:... -->",
            Syntax::Hash => "# workbench:...",
        };
        return Some(format!(
            "a workbench marker in the wrong comment syntax for this file (write {want})"
        ));
    }
    Some("a line that looks like a workbench marker but is not one (markers are exactly '<!-- workbench:VERB ... -->' or '# workbench:VERB ...', lower case)".into())
}

/// True for a line that reads like a block's provenance line
/// (`_Approved by NAME on DATE (run ID, sha256:…)._`), in any comment syntax.
pub fn is_provenance(line: &str) -> bool {
    let l: String = line
        .chars()
        .filter(|c| !is_invisible(*c))
        .collect::<String>()
        .to_lowercase();
    l.contains("approved by") && l.contains("sha256:")
}

fn parse_begin(rest: &str, line: usize) -> Result<(StageName, RunId, BlockOptions), SyntaxError> {
    let a = parse_attrs(rest, line, &["stage", "run", "metrics", "table", "figures"])?;
    let need = |k: &str| match attr(&a, k) {
        Some(Some(v)) => Ok(v.clone()),
        _ => Err(SyntaxError {
            line,
            message: format!("the begin marker needs {k}=..."),
        }),
    };
    let stage = need("stage")?;
    let run = need("run")?;
    let Ok(stage) = StageName::new(stage.as_str()) else {
        return Err(SyntaxError {
            line,
            message: format!("'{stage}' is not a valid stage name"),
        });
    };
    let Ok(run) = RunId::new(run.as_str()) else {
        return Err(SyntaxError {
            line,
            message: format!("'{run}' is not a full run id"),
        });
    };
    let flag = |k: &str| -> Result<bool, SyntaxError> {
        match attr(&a, k) {
            None => Ok(false),
            Some(None) => Ok(true),
            Some(Some(_)) => Err(SyntaxError {
                line,
                message: format!("'{k}' takes no value"),
            }),
        }
    };
    let metrics = match attr(&a, "metrics") {
        None => None,
        Some(None) => {
            return Err(SyntaxError {
                line,
                message: "metrics needs a list: metrics=a,b".into(),
            })
        }
        Some(Some(list)) => Some(list.split(',').map(str::to_string).collect()),
    };
    Ok((
        stage,
        run,
        BlockOptions {
            metrics,
            table: flag("table")?,
            figures: flag("figures")?,
        },
    ))
}

/// The content of a block: a pure function of the approval (and, for the opt-in
/// table and figures, the run's manifest; for a forced approval, the review it
/// overrode, which names the checks).
pub fn render(
    approval: &ApprovalRecord,
    manifest: &RunManifest,
    review: Option<&ReviewRecord>,
    options: &BlockOptions,
    syntax: Syntax,
) -> String {
    let mut lines: Vec<String> = Vec::new();
    let text = approval.approved_interpretation.trim();
    if text.is_empty() {
        lines.push("(approved without an interpretation)".to_string());
    } else {
        lines.extend(text.lines().map(|l| l.trim_end().to_string()));
    }
    let keys: Vec<String> = match (&options.metrics, options.table) {
        (Some(list), _) => list.clone(),
        (None, true) => manifest.metrics.keys().cloned().collect(),
        (None, false) => Vec::new(),
    };
    if !keys.is_empty() {
        lines.push(String::new());
        lines.push("| metric | value |".to_string());
        lines.push("| --- | --- |".to_string());
        for k in &keys {
            let v = manifest
                .metrics
                .get(k)
                .map_or_else(|| "(missing)".to_string(), display_value);
            lines.push(format!("| {k} | {v} |"));
        }
    }
    if options.figures {
        let figs: Vec<&String> = manifest
            .outputs
            .keys()
            .filter(|p| super::card::is_figure(p))
            .collect();
        if !figs.is_empty() {
            lines.push(String::new());
            for f in figs {
                lines.push(format!("![{f}]({f})"));
            }
        }
    }
    lines.push(String::new());
    lines.push(provenance_line(approval, review));
    match syntax {
        Syntax::Html => lines.join("\n"),
        Syntax::Hash => lines
            .iter()
            .map(|l| {
                if l.is_empty() {
                    "#".to_string()
                } else {
                    format!("# {l}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// How many overridden checks a provenance line names before it only counts the rest.
const NAMED_CHECKS: usize = 3;

/// The last line of a block: who approved which bytes of which run, and when.
///
/// A forced approval says so, with the checks it overrode. `forced` is the approval
/// record's, which the record rules tie to a failed review; the check names are the
/// review's. The text of a block is compared with this rendering, so a block that
/// adds "FORCED" to a clean approval, or drops it from a forced one, differs from it.
/// Only names of letters, digits, `_`, `-` and `.` (at most 40) are written: an agent's
/// check name is free text, and this line must never hold a marker, a line break or
/// markup; the others are counted.
pub fn provenance_line(approval: &ApprovalRecord, review: Option<&ReviewRecord>) -> String {
    let mut line = format!(
        "_Approved by {} on {} (run {}, {})",
        approval.approved_by,
        approval.timestamp.date(),
        approval.run_id,
        &approval.artifact_digest.to_string()[..19]
    );
    if approval.forced {
        let names = review.map(overridden_checks).unwrap_or_default();
        let plain = |n: &&String| {
            (1..=40).contains(&n.len())
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        let shown: Vec<&String> = names.iter().filter(plain).take(NAMED_CHECKS).collect();
        let others = names.len() - shown.len();
        let list = shown
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        line.push_str("; FORCED over a failed review");
        match (shown.is_empty(), others) {
            (true, 0) => {}
            (true, n) => line.push_str(&format!(" ({n} check{})", plural(n))),
            (false, 0) => line.push_str(&format!(" ({list})")),
            (false, n) => line.push_str(&format!(" ({list} and {n} more)")),
        }
    }
    line.push_str("._");
    line
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Content compared the way the checks compare it: line endings and trailing
/// whitespace normalised, leading and trailing blank lines dropped.
pub fn normalize(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end()).collect();
    let start = lines
        .iter()
        .position(|l| !l.is_empty())
        .unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(start, |e| e + 1);
    lines[start..end].join("\n")
}

/// The begin marker line of a block.
pub fn begin_marker(stage: &str, run: &str, options: &BlockOptions, syntax: Syntax) -> String {
    let mut body = format!("begin stage={stage} run={run}");
    if let Some(m) = &options.metrics {
        body.push_str(&format!(" metrics={}", m.join(",")));
    }
    if options.table {
        body.push_str(" table");
    }
    if options.figures {
        body.push_str(" figures");
    }
    syntax.marker(&body)
}

pub fn end_marker(syntax: Syntax) -> String {
    syntax.marker("end")
}

/// The lines of a whole block: its begin marker, `content`'s lines and the end marker.
pub fn block_lines(
    stage: &str,
    run: &str,
    options: &BlockOptions,
    content: &str,
    syntax: Syntax,
) -> Vec<String> {
    let mut lines = vec![begin_marker(stage, run, options, syntax)];
    lines.extend(content.lines().map(str::to_string));
    lines.push(end_marker(syntax));
    lines
}

/// Replaces the lines of `block` (markers included) with a freshly rendered block for
/// `run`. `text` must be the text the block was parsed from. Every other byte is kept;
/// the new lines take the begin marker's line ending. (`narrative_format::Document`
/// does this for many blocks at once and for every format.)
pub fn replace_block(
    text: &str,
    block: &Block,
    run: &str,
    content: &str,
    syntax: Syntax,
) -> String {
    let edit = super::narrative_format::LineEdit {
        region: 0,
        first: block.begin_line,
        last: block.end_line,
        lines: block_lines(&block.stage, run, &block.options, content, syntax),
    };
    super::narrative_format::replace_lines(text, vec![edit])
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "20260308T142233Z-1e2a";

    #[test]
    fn parses_blocks_slots_and_options() {
        let text = format!(
            "# Report\n\nIntro.\n<!-- workbench:begin stage=baseline run={RUN} metrics=precision,recall figures -->\nhello\n\nworld\n<!-- workbench:end -->\n<!-- workbench:slot stage=train -->\n"
        );
        let p = parse(&text, Syntax::Html);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.blocks.len(), 1);
        let b = &p.blocks[0];
        assert_eq!((b.begin_line, b.end_line), (4, 8));
        assert_eq!(b.stage, "baseline");
        assert_eq!(b.run, RUN);
        assert_eq!(
            b.options.metrics,
            Some(vec!["precision".to_string(), "recall".to_string()])
        );
        assert!(b.options.figures && !b.options.table);
        assert_eq!(b.content, "hello\n\nworld");
        assert_eq!(
            p.slots,
            [Slot {
                line: 9,
                stage: "train".into()
            }]
        );
        let py =
            format!("# %%\n# workbench:begin stage=a run={RUN}\n# text\n# workbench:end\nx = 1\n");
        let p = parse(&py, Syntax::Hash);
        assert_eq!(p.blocks[0].content, "# text");
    }

    #[test]
    fn structural_errors_are_located() {
        let cases = [
            (format!("<!-- workbench:begin stage=a run={RUN} -->\nx\n"), 1, "no end marker"),
            ("x\n<!-- workbench:end -->\n".to_string(), 2, "without a begin"),
            (format!("<!-- workbench:begin stage=a run={RUN} -->\n<!-- workbench:begin stage=b run={RUN} -->\n<!-- workbench:end -->\n"), 2, "cannot nest"),
            (format!("<!-- workbench:begin stage=a run={RUN} colour=red -->\n<!-- workbench:end -->\n"), 1, "unknown attribute 'colour'"),
            ("<!-- workbench:begin stage=a -->\n<!-- workbench:end -->\n".to_string(), 1, "needs run="),
            ("<!-- workbench:begin stage=a run=2026 -->\n<!-- workbench:end -->\n".to_string(), 1, "not a full run id"),
            (format!("<!-- workbench:begin stage=a run={RUN} table=yes -->\n<!-- workbench:end -->\n"), 1, "takes no value"),
            ("<!-- workbench:beginn -->\n".to_string(), 1, "unknown marker"),
        ];
        for (text, line, needle) in cases {
            let p = parse(&text, Syntax::Html);
            assert_eq!(p.errors.len(), 1, "{text:?}: {:?}", p.errors);
            assert_eq!(p.errors[0].line, line, "{text:?}");
            assert!(
                p.errors[0].message.contains(needle),
                "{text:?}: {}",
                p.errors[0].message
            );
        }
    }

    fn approval(forced: bool) -> ApprovalRecord {
        use super::super::decision::{Decision, APPROVAL_SCHEMA};
        use super::super::digest::{FileHashes, Sha256};
        use super::super::review::Verdict;
        ApprovalRecord {
            schema: APPROVAL_SCHEMA.into(),
            run_id: RunId::new(RUN).unwrap(),
            stage: StageName::new("s").unwrap(),
            decision: Decision::Approved,
            approved_by: "Ada <ada@example.com>".into(),
            timestamp: super::super::time::Timestamp::from_unix_millis(1_772_979_753_000),
            artifacts_approved: FileHashes::new(),
            interpretation_approved: true,
            interpretation_edited: false,
            approved_interpretation: "Fine.".into(),
            note: None,
            supersedes: None,
            artifact_digest: Sha256::of(b""),
            review_verdict: if forced { Verdict::Fail } else { Verdict::Pass },
            forced,
        }
    }

    fn review(failed: &[&str]) -> ReviewRecord {
        use super::super::review::CheckResult;
        let mut checks = vec![CheckResult::builtin("ok", true, true, None)];
        checks.extend(
            failed
                .iter()
                .map(|n| CheckResult::builtin(n, false, true, Some("why".into()))),
        );
        checks.push(CheckResult::builtin("a_warning", false, false, None));
        ReviewRecord::new(
            &StageName::new("s").unwrap(),
            &RunId::new(RUN).unwrap(),
            checks,
            super::super::time::Timestamp::from_unix_millis(0),
            "a".into(),
        )
    }

    #[test]
    fn the_provenance_line_says_when_an_approval_was_forced() {
        let clean = "_Approved by Ada <ada@example.com> on 2026-03-08 (run 20260308T142233Z-1e2a, sha256:e3b0c44298fc)._";
        // A clean approval renders as it always has, whatever the review holds.
        assert_eq!(provenance_line(&approval(false), None), clean);
        assert_eq!(
            provenance_line(&approval(false), Some(&review(&["row_counts"]))),
            clean
        );
        let forced = |failed: &[&str]| provenance_line(&approval(true), Some(&review(failed)));
        let head = clean.trim_end_matches("._");
        let cases: Vec<(Vec<&str>, String)> = vec![
            (vec!["non_empty_outputs"], "(non_empty_outputs)".into()),
            (vec!["a", "b-2", "c.3"], "(a, b-2, c.3)".into()),
            (vec!["a", "b", "c", "d", "e"], "(a, b, c and 2 more)".into()),
            // Free-text names of an agent's checks are counted, never written.
            (
                vec!["x\n<!-- workbench:end -->", "row_counts"],
                "(row_counts and 1 more)".into(),
            ),
            (vec!["workbench:begin", "a b"], "(2 checks)".into()),
            (vec!["*bold*"], "(1 check)".into()),
            (vec![], String::new()),
        ];
        for (failed, tail) in cases {
            let want = if tail.is_empty() {
                format!("{head}; FORCED over a failed review._")
            } else {
                format!("{head}; FORCED over a failed review {tail}._")
            };
            assert_eq!(forced(&failed), want, "{failed:?}");
        }
        assert_eq!(
            provenance_line(&approval(true), None),
            format!("{head}; FORCED over a failed review._")
        );
    }

    #[test]
    fn a_forced_block_parses_back_whole_in_both_syntaxes() {
        let hostile = review(&[
            "x\n<!-- workbench:end -->",
            "# workbench:begin stage=s run=20260308T142233Z-1e2a",
            "non_empty_outputs",
        ]);
        let m = RunManifest::builder(
            StageName::new("s").unwrap(),
            RunId::new(RUN).unwrap(),
            super::super::manifest::CodeRef {
                commit: None,
                dirty: false,
                tree: crate::model::ObjectId::from_bytes([0; 20]),
                branch: None,
            },
            super::super::time::Timestamp::from_unix_millis(0),
        )
        .build();
        for syntax in [Syntax::Html, Syntax::Hash] {
            let content = render(
                &approval(true),
                &m,
                Some(&hostile),
                &BlockOptions::default(),
                syntax,
            );
            let text = block_lines("s", RUN, &BlockOptions::default(), &content, syntax).join("\n");
            let p = parse(&text, syntax);
            assert!(p.errors.is_empty(), "{syntax:?}: {:?}\n{text}", p.errors);
            assert_eq!(p.blocks.len(), 1);
            assert_eq!(normalize(&p.blocks[0].content), normalize(&content));
            let last = content.lines().last().unwrap();
            assert!(is_provenance(last), "{last}");
            assert!(
                last.contains("FORCED over a failed review (non_empty_outputs and 2 more)"),
                "{last}"
            );
        }
    }

    #[test]
    fn normalization_ignores_line_endings_and_trailing_space() {
        assert_eq!(normalize("\r\na  \r\nb\t\r\n\r\n"), "a\nb");
        assert_eq!(normalize(""), "");
    }

    #[test]
    fn replace_keeps_everything_else() {
        let text = format!(
            "a\n<!-- workbench:begin stage=s run={RUN} table -->\nold\n<!-- workbench:end -->\nz\n"
        );
        let p = parse(&text, Syntax::Html);
        let out = replace_block(
            &text,
            &p.blocks[0],
            "20260309T000000Z-0000",
            "new\ncontent",
            Syntax::Html,
        );
        assert_eq!(
            out,
            "a\n<!-- workbench:begin stage=s run=20260309T000000Z-0000 table -->\nnew\ncontent\n<!-- workbench:end -->\nz\n"
        );
        let crlf = text.replace('\n', "\r\n").replace("z\r\n", "z\n");
        let out = replace_block(&crlf, &p.blocks[0], RUN, "new", Syntax::Html);
        assert_eq!(
            out,
            format!("a\r\n<!-- workbench:begin stage=s run={RUN} table -->\r\nnew\r\n<!-- workbench:end -->\r\nz\n")
        );
    }
}
