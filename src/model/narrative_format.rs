//! The formats a narrative file can have, where each keeps its blocks (its regions),
//! and editing those regions in place: every byte outside the replaced lines is kept,
//! line endings and a UTF-8 byte-order mark included, and the file is rebuilt once
//! however many blocks change (linear in the file's size).
//!
//! | format | chosen by | regions | markers |
//! | --- | --- | --- | --- |
//! | Markdown | any path not below | the whole text | HTML comments |
//! | Quarto | `.qmd` | the whole text | HTML comments |
//! | `# %%` script | `.py` that is not a marimo app | the whole text | `#` comments |
//! | marimo | `.py` with `import marimo` and `app = marimo.App` | each `mo.md("""...""")` string, dedented | HTML comments |
//! | Jupyter | `.ipynb` | each markdown cell's source | HTML comments |
//!
//! What lives outside a notebook's regions cannot hold a block: a marker there (in a
//! code cell, between marimo cells, a `#` marker in a marimo file) is a syntax error,
//! so a block cannot be moved out of sight of the check.

use super::narrative::{Region, Syntax, SyntaxError};
use super::notebook;

const BOM: &str = "\u{feff}";

/// The format of a narrative file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Quarto,
    /// A Python script (`# %%` cells or none): `#` markers and `#` content.
    PercentScript,
    /// A marimo notebook: blocks inside `mo.md` markdown cells.
    Marimo,
    /// A Jupyter notebook: blocks inside markdown cells.
    Jupyter,
}

impl Format {
    /// The format of `text` at `path`: the extension decides, and for `.py` the content
    /// (a marimo app imports marimo and creates `app = marimo.App(...)`).
    pub fn detect(path: &str, text: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".ipynb") {
            Format::Jupyter
        } else if lower.ends_with(".py") {
            if notebook::is_marimo(text) {
                Format::Marimo
            } else {
                Format::PercentScript
            }
        } else if lower.ends_with(".qmd") {
            Format::Quarto
        } else {
            Format::Markdown
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Markdown => "markdown",
            Format::Quarto => "quarto",
            Format::PercentScript => "python script",
            Format::Marimo => "marimo notebook",
            Format::Jupyter => "jupyter notebook",
        }
    }
}

/// Why an edit cannot be written into a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditError {
    pub message: String,
    pub hint: Option<String>,
}

impl EditError {
    pub(crate) fn new(message: impl Into<String>, hint: impl Into<String>) -> EditError {
        EditError {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }
}

impl std::fmt::Display for EditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Replaces lines `first..=last` (1-based, of region `region`) with `lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineEdit {
    pub region: usize,
    pub first: usize,
    pub last: usize,
    pub lines: Vec<String>,
}

/// Where a region's lines are in the file.
#[derive(Debug, Clone)]
pub(crate) enum Place {
    /// The region is the whole text.
    Whole,
    /// Region line `n` is the file text at `spans[n - 1]` (the line's content after
    /// the region's margin); lines written into it get the margin.
    Lines {
        spans: Vec<(usize, usize)>,
        margin: String,
        guard: notebook::StringGuard,
    },
    /// A Jupyter cell's source value.
    Cell(notebook::CellSource),
}

/// A narrative file split into its regions, ready to be edited.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    pub format: Format,
    bom: bool,
    /// The text without its byte-order mark.
    text: &'a str,
    regions: Vec<Region>,
    places: Vec<Place>,
    /// Where `append` puts a new block, for the notebook formats.
    tail: notebook::Tail,
}

impl<'a> Document<'a> {
    /// Splits `text` (a file at `path`) into its regions.
    pub fn parse(path: &str, text: &'a str) -> Result<Document<'a>, SyntaxError> {
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(t) => (true, t),
            None => (false, text),
        };
        let format = Format::detect(path, text);
        let (regions, places, tail) = match format {
            Format::Markdown | Format::Quarto | Format::PercentScript => {
                let syntax = if format == Format::PercentScript {
                    Syntax::Hash
                } else {
                    Syntax::Html
                };
                (
                    vec![Region {
                        text: text.to_string(),
                        syntax,
                        first_line: 1,
                    }],
                    vec![Place::Whole],
                    notebook::Tail::EndOfText,
                )
            }
            Format::Marimo => notebook::marimo_regions(text)?,
            Format::Jupyter => notebook::jupyter_regions(text)?,
        };
        Ok(Document {
            format,
            bom,
            text,
            regions,
            places,
            tail,
        })
    }

    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    pub fn into_regions(self) -> Vec<Region> {
        self.regions
    }

    /// The syntax a block appended by `append` is written in.
    pub fn append_syntax(&self) -> Syntax {
        match self.format {
            Format::PercentScript => Syntax::Hash,
            _ => Syntax::Html,
        }
    }

    /// The file with every edit applied, built once. Edits must not overlap.
    pub fn apply(&self, mut edits: Vec<LineEdit>) -> Result<String, EditError> {
        edits.sort_by_key(|e| (e.region, e.first));
        let mut splices: Vec<Splice> = Vec::new();
        let mut i = 0;
        while i < edits.len() {
            let region = edits[i].region;
            let mut j = i;
            while j < edits.len() && edits[j].region == region {
                j += 1;
            }
            let group = &edits[i..j];
            let Some(place) = self.places.get(region) else {
                return Err(EditError::new(
                    format!("no region {region} in this file"),
                    "this is a bug",
                ));
            };
            match place {
                Place::Whole => {
                    let spans = line_spans(self.text);
                    splices.extend(line_splices(self.text, &spans, "", group)?);
                }
                Place::Lines {
                    spans,
                    margin,
                    guard,
                } => {
                    for e in group {
                        guard.check(&e.lines)?;
                    }
                    splices.extend(line_splices(self.text, spans, margin, group)?);
                }
                Place::Cell(cell) => {
                    let source = &self.regions[region].text;
                    let spans = line_spans(source);
                    let inner = line_splices(source, &spans, "", group)?;
                    let new_source = splice(source, inner);
                    splices.push(Splice {
                        start: cell.span.0,
                        end: cell.span.1,
                        text: cell.encode(&new_source),
                    });
                }
            }
            i = j;
        }
        Ok(self.finish(splice(self.text, splices)))
    }

    /// The file with `lines` (a whole block, markers included) added where a new block
    /// goes when there is no slot: the end of a text file, a new markdown cell of a
    /// notebook.
    /// `stage` names the new cell of a Jupyter notebook.
    pub fn append(&self, stage: &str, lines: &[String]) -> Result<String, EditError> {
        let eol = dominant_eol(self.text);
        let splice = notebook::append(self.text, &self.tail, stage, lines, eol)?;
        Ok(self.finish(self::splice(self.text, vec![splice])))
    }

    fn finish(&self, text: String) -> String {
        if self.bom {
            let mut s = String::with_capacity(BOM.len() + text.len());
            s.push_str(BOM);
            s.push_str(&text);
            s
        } else {
            text
        }
    }
}

/// `text` (one region, the whole text) with `edits` applied; edits outside the text
/// are ignored.
pub fn replace_lines(text: &str, edits: Vec<LineEdit>) -> String {
    let spans = line_spans(text);
    let edits: Vec<LineEdit> = edits
        .into_iter()
        .filter(|e| e.first >= 1 && e.first <= e.last && e.last <= spans.len())
        .collect();
    match line_splices(text, &spans, "", &edits) {
        Ok(splices) => splice(text, splices),
        Err(_) => text.to_string(),
    }
}

/// Bytes `start..end` of a text replaced by `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Splice {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// `text` with non-overlapping splices applied, in one pass.
pub(crate) fn splice(text: &str, mut splices: Vec<Splice>) -> String {
    splices.sort_by_key(|s| (s.start, s.end));
    let extra: usize = splices.iter().map(|s| s.text.len()).sum();
    let mut out = String::with_capacity(text.len() + extra);
    let mut at = 0;
    for s in &splices {
        let start = s.start.max(at);
        out.push_str(&text[at..start]);
        out.push_str(&s.text);
        at = s.end.max(start);
    }
    out.push_str(&text[at..]);
    out
}

/// The content span of every line of `text`, numbered as `str::lines` numbers them:
/// a line's content excludes its `\n` or `\r\n`.
pub(crate) fn line_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', text.as_bytes()) {
        let end = if nl > start && text.as_bytes()[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        spans.push((start, end));
        start = nl + 1;
    }
    if start < text.len() {
        spans.push((start, text.len()));
    }
    spans
}

/// The line ending most lines of `text` have (`\n` for a text without one).
pub(crate) fn dominant_eol(text: &str) -> &'static str {
    let lf = memchr::memchr_iter(b'\n', text.as_bytes()).count();
    let crlf = memchr::memmem::find_iter(text.as_bytes(), b"\r\n").count();
    if crlf > 0 && crlf * 2 >= lf {
        "\r\n"
    } else {
        "\n"
    }
}

/// The ending of the line whose content ends at byte `end`.
fn eol_after(text: &str, end: usize) -> Option<&'static str> {
    let rest = &text.as_bytes()[end..];
    if rest.starts_with(b"\r\n") {
        Some("\r\n")
    } else if rest.starts_with(b"\n") {
        Some("\n")
    } else {
        None
    }
}

/// The splices that replace region lines, each replaced range taking the line ending
/// of its first line (the last line keeps its own ending, which is not replaced) and
/// every new line after the first the region's margin.
fn line_splices(
    text: &str,
    spans: &[(usize, usize)],
    margin: &str,
    edits: &[LineEdit],
) -> Result<Vec<Splice>, EditError> {
    let mut out = Vec::with_capacity(edits.len());
    for e in edits {
        let (Some(first), Some(last)) = (
            e.first.checked_sub(1).and_then(|i| spans.get(i)),
            e.last.checked_sub(1).and_then(|i| spans.get(i)),
        ) else {
            return Err(EditError::new(
                format!("lines {}-{} are not in this region", e.first, e.last),
                "this is a bug",
            ));
        };
        if e.last < e.first {
            return Err(EditError::new(
                format!("lines {}-{} are not a range", e.first, e.last),
                "this is a bug",
            ));
        }
        let eol = eol_after(text, first.1).unwrap_or_else(|| dominant_eol(text));
        let mut s = String::new();
        for (i, line) in e.lines.iter().enumerate() {
            if i > 0 {
                s.push_str(eol);
                if !line.is_empty() {
                    s.push_str(margin);
                }
            }
            s.push_str(line);
        }
        out.push(Splice {
            start: first.0,
            end: last.1,
            text: s,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(first: usize, last: usize, lines: &[&str]) -> LineEdit {
        LineEdit {
            region: 0,
            first,
            last,
            lines: lines.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn formats_follow_path_and_content() {
        assert_eq!(Format::detect("a/report.md", ""), Format::Markdown);
        assert_eq!(Format::detect("r.QMD", ""), Format::Quarto);
        assert_eq!(Format::detect("n.ipynb", ""), Format::Jupyter);
        assert_eq!(
            Format::detect("s.py", "# %%\nx = 1\n"),
            Format::PercentScript
        );
        assert_eq!(
            Format::detect("m.py", "import marimo\n\napp = marimo.App()\n"),
            Format::Marimo
        );
        assert_eq!(
            Format::detect("m.py", "import marimo as mo\nmo.md('x')\n"),
            Format::PercentScript,
            "using marimo is not being a marimo app"
        );
    }

    #[test]
    fn crlf_lf_and_mixed_endings_are_kept() {
        for text in [
            "a\r\nb\r\nc\r\n",
            "a\nb\nc\n",
            "a\r\nb\nc",
            "a\nb\r\nc\r\n",
            "\u{feff}a\r\nb\r\nc\r\n",
        ] {
            let doc = Document::parse("r.md", text).unwrap();
            let out = doc.apply(vec![edit(2, 2, &["x", "", "y"])]).unwrap();
            let body = text.strip_prefix(BOM).unwrap_or(text);
            let eol = if body.starts_with("a\r\nb\r\n") || body.starts_with("a\nb\r\n") {
                "\r\n"
            } else {
                "\n"
            };
            let (head, tail) = body.split_once('b').unwrap();
            let want = format!(
                "{}{head}x{eol}{eol}y{tail}",
                if text.starts_with(BOM) { BOM } else { "" }
            );
            assert_eq!(out, want, "{text:?}");
        }
    }

    #[test]
    fn the_last_line_without_an_ending_stays_without() {
        let doc = Document::parse("r.md", "a\r\nslot").unwrap();
        assert_eq!(
            doc.apply(vec![edit(2, 2, &["x", "y"])]).unwrap(),
            "a\r\nx\r\ny"
        );
        let doc = Document::parse("r.md", "slot").unwrap();
        assert_eq!(doc.apply(vec![edit(1, 1, &["x", "y"])]).unwrap(), "x\ny");
    }

    #[test]
    fn many_edits_are_applied_in_one_pass() {
        let text: String = (1..=9).map(|i| format!("{i}\r\n")).collect();
        let doc = Document::parse("r.md", &text).unwrap();
        let out = doc
            .apply(vec![edit(8, 9, &["z"]), edit(1, 2, &["a", "b", "c"])])
            .unwrap();
        assert_eq!(out, "a\r\nb\r\nc\r\n3\r\n4\r\n5\r\n6\r\n7\r\nz\r\n");
    }

    #[test]
    fn appending_uses_the_files_line_ending() {
        let lines = vec!["<!-- b -->".to_string(), "<!-- e -->".to_string()];
        let doc = Document::parse("r.md", "# T\r\n\r\nprose").unwrap();
        assert_eq!(
            doc.append("s", &lines).unwrap(),
            "# T\r\n\r\nprose\r\n\r\n<!-- b -->\r\n<!-- e -->\r\n"
        );
        let doc = Document::parse("r.md", "").unwrap();
        assert_eq!(doc.append("s", &lines).unwrap(), "<!-- b -->\n<!-- e -->\n");
        let doc = Document::parse("r.md", "\u{feff}x\n").unwrap();
        assert_eq!(
            doc.append("s", &lines).unwrap(),
            "\u{feff}x\n\n<!-- b -->\n<!-- e -->\n"
        );
    }

    #[test]
    fn a_bom_is_not_part_of_the_first_line() {
        let doc = Document::parse("r.md", "\u{feff}<!-- workbench:slot stage=a -->\n").unwrap();
        assert_eq!(doc.regions()[0].text, "<!-- workbench:slot stage=a -->\n");
    }
}
