//! The notebook formats' regions and edits: Jupyter `.ipynb` (blocks in markdown cells,
//! edited JSON-aware) and marimo apps (blocks in `mo.md("""...""")` strings). Pure
//! text in, text out; `narrative_format` dispatches here.
//!
//! Jupyter: the notebook is validated as JSON, then scanned for the byte spans of
//! each cell's `cell_type` and `source`; an edit rewrites only a `source` value, in
//! the shape Jupyter writes it (a list of lines, each but the last ending in `\n`,
//! one per line at the list's indentation), so key order, indentation and the final
//! newline stay as they were. A new block goes into a new markdown cell at the end.
//!
//! marimo: a markdown cell is `mo.md(r"""...""")`, serialized by marimo with the
//! markdown dedented, each line right-trimmed, re-indented by four spaces, `""`
//! written as `"\"` and non-breaking spaces turned into spaces. A block is written
//! in that canonical form, so loading and saving the notebook keeps it byte for byte;
//! content marimo would rewrite (`""`, a non-breaking space, a backslash in a string
//! that is not raw) is refused rather than written.

use super::narrative::{is_marker_line, Region, Syntax, SyntaxError};
use super::narrative_format::{EditError, Place, Splice};

/// Where `append` puts a new block.
#[derive(Debug, Clone)]
pub(crate) enum Tail {
    /// After the text, separated by a blank line.
    EndOfText,
    Marimo {
        /// The byte offset of the `if __name__ == "__main__":` trailer, or the end.
        at: usize,
        trailer: bool,
        /// Some cell already defines `mo` (`import marimo as mo`).
        mo_defined: bool,
    },
    Jupyter(Box<CellsArray>),
    /// An empty file: a new notebook.
    NewNotebook,
}

/// What `narrative new` needs to add a cell to a notebook's `cells` list.
#[derive(Debug, Clone)]
pub(crate) struct CellsArray {
    open: usize,
    close: usize,
    last_cell_end: Option<usize>,
    /// Indentation of the cells' `{`, of the line holding `"cells"`, and one level.
    cell_indent: Option<String>,
    key_indent: String,
    unit: String,
    pretty: bool,
    with_id: bool,
    ids: Vec<String>,
}

/// What may not be written into a marimo string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StringGuard {
    pub quote: u8,
    pub raw: bool,
}

impl StringGuard {
    pub(crate) fn check(&self, lines: &[String]) -> Result<(), EditError> {
        let hint = "edit the approved interpretation (git workbench card RUN -m ...), or keep this block in a markdown or Jupyter narrative";
        for l in lines {
            let q = self.quote as char;
            if l.contains(&format!("{q}{q}{q}")) || (self.quote == b'"' && l.contains("\"\"")) {
                return Err(EditError::new(
                    format!(
                        "the block contains {q}{q}, which cannot be kept in a marimo markdown cell (it ends the string, and marimo's serializer rewrites \"\" as \"\\\"): {l:?}"
                    ),
                    hint,
                ));
            }
            if l.contains('\u{a0}') {
                return Err(EditError::new(
                    format!("the block contains a non-breaking space, which marimo's serializer turns into a space: {l:?}"),
                    hint,
                ));
            }
            if !self.raw && l.contains('\\') {
                return Err(EditError::new(
                    format!("the block contains a backslash, which is an escape in this mo.md string (it is not raw): {l:?}"),
                    "make the cell's string raw, as marimo writes markdown cells: mo.md(r\"\"\"...\"\"\")",
                ));
            }
        }
        Ok(())
    }
}

/// A Jupyter cell's `source` value: its span in the file and how it is written.
#[derive(Debug, Clone)]
pub(crate) struct CellSource {
    pub span: (usize, usize),
    shape: Shape,
}

#[derive(Debug, Clone)]
enum Shape {
    /// A list of strings; `None` indents: on one line.
    List {
        element_indent: Option<String>,
        close_indent: Option<String>,
        eol: &'static str,
    },
    /// One string.
    Str,
}

impl CellSource {
    /// `source` as this cell writes it.
    pub(crate) fn encode(&self, source: &str) -> String {
        match &self.shape {
            Shape::Str => json_string(source),
            Shape::List {
                element_indent,
                close_indent,
                eol,
            } => encode_list(
                source,
                element_indent.as_deref(),
                close_indent.as_deref(),
                eol,
            ),
        }
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// Python's `str.splitlines(keepends=True)`, which nbformat uses to write `source`.
fn split_lines_keepends(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut it = s.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let end = match c {
            '\r' => {
                if let Some(&(_, '\n')) = it.peek() {
                    it.next();
                    i + 2
                } else {
                    i + 1
                }
            }
            '\n' | '\u{0b}' | '\u{0c}' | '\u{1c}' | '\u{1d}' | '\u{1e}' | '\u{85}' | '\u{2028}'
            | '\u{2029}' => i + c.len_utf8(),
            _ => continue,
        };
        out.push(&s[start..end]);
        start = end;
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

fn encode_list(
    source: &str,
    element_indent: Option<&str>,
    close_indent: Option<&str>,
    eol: &str,
) -> String {
    let parts = split_lines_keepends(source);
    if parts.is_empty() {
        return "[]".to_string();
    }
    let mut s = String::from("[");
    match (element_indent, close_indent) {
        (Some(el), Some(close)) => {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(eol);
                s.push_str(el);
                s.push_str(&json_string(p));
            }
            s.push_str(eol);
            s.push_str(close);
        }
        _ => {
            let sep = if element_indent.is_some() { ", " } else { "," };
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                s.push_str(&json_string(p));
            }
        }
    }
    s.push(']');
    s
}

/// The 1-based line of byte offsets, from the offsets of the text's newlines.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> LineIndex {
        LineIndex(memchr::memchr_iter(b'\n', text.as_bytes()).collect())
    }
    fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|&nl| nl < offset) + 1
    }
}

fn err(line: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        line,
        message: message.into(),
    }
}

// ---------------------------------------------------------------- Jupyter

/// A scanner over JSON that serde_json has already accepted: it only finds spans.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn ws(&mut self) {
        while self
            .s
            .get(self.i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            self.i += 1;
        }
    }
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }
    /// A string token's span, quotes included.
    fn string(&mut self) -> Option<(usize, usize)> {
        self.ws();
        let start = self.i;
        if self.peek()? != b'"' {
            return None;
        }
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some((start, self.i));
                }
                _ => self.i += 1,
            }
        }
    }
    /// Any value's span, without descending into it.
    fn value(&mut self) -> Option<(usize, usize)> {
        self.ws();
        let start = self.i;
        match self.peek()? {
            b'"' => self.string(),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                self.i += 1;
                                return Some((start, self.i));
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while self.peek().is_some_and(|c| {
                    !matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.i += 1;
                }
                Some((start, self.i))
            }
        }
    }
    /// The members of the object starting here: `f(scan, key)` reads each value.
    fn object(&mut self, mut f: impl FnMut(&mut Self, String) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let k = self.string()?;
            let key: String = serde_json::from_slice(&self.s[k.0..k.1]).ok()?;
            self.eat(b':')?;
            self.ws();
            f(self, key)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
    /// The elements of the array starting here, `[` and `]` offsets.
    fn array(&mut self, mut f: impl FnMut(&mut Self) -> Option<()>) -> Option<(usize, usize)> {
        self.eat(b'[')?;
        let open = self.i - 1;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some((open, self.i - 1));
        }
        loop {
            self.ws();
            f(self)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some((open, self.i - 1));
                }
                _ => return None,
            }
        }
    }
}

/// A byte range of the file.
type Span = (usize, usize);

/// One cell as scanned.
#[derive(Default)]
struct ScannedCell {
    span: (usize, usize),
    cell_type: Option<String>,
    id: Option<String>,
    /// The value span, and the element spans when it is a list.
    source: Option<(Span, Option<Vec<Span>>)>,
}

/// The whitespace from the last line start before `at` to `at`, when only
/// whitespace is there.
fn indent_before(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let ws = &text[line_start..at];
    (text[..at].contains('\n') && ws.bytes().all(|c| c == b' ' || c == b'\t'))
        .then(|| ws.to_string())
}

fn line_indent(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..]
        .bytes()
        .take_while(|c| *c == b' ' || *c == b'\t')
        .map(char::from)
        .collect()
}

type Parts = (Vec<Region>, Vec<Place>, Tail);

pub(crate) fn jupyter_regions(text: &str) -> Result<Parts, SyntaxError> {
    if text.trim().is_empty() {
        return Ok((Vec::new(), Vec::new(), Tail::NewNotebook));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        err(
            e.line(),
            format!("not a notebook: the file is not valid JSON ({e})"),
        )
    })?;
    let nbformat = value.get("nbformat").and_then(|v| v.as_u64());
    if nbformat != Some(4) {
        return Err(err(
            1,
            format!(
                "not a notebook this version reads: nbformat is {} (expected 4)",
                value
                    .get("nbformat")
                    .map_or("missing".to_string(), |v| v.to_string())
            ),
        ));
    }
    let minor = value
        .get("nbformat_minor")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    if !value.get("cells").is_some_and(|c| c.is_array()) {
        return Err(err(1, "not a notebook: it has no \"cells\" list"));
    }
    let malformed = || err(1, "not a notebook: its structure could not be read");
    let lines = LineIndex::new(text);
    let mut scan = Scan {
        s: text.as_bytes(),
        i: 0,
    };
    let mut cells: Vec<ScannedCell> = Vec::new();
    let mut cells_span = None;
    scan.object(|scan, key| {
        if key != "cells" {
            scan.value()?;
            return Some(());
        }
        cells.clear();
        cells_span = Some(scan.array(|scan| {
            scan.ws();
            let start = scan.i;
            let mut cell = ScannedCell::default();
            scan.object(|scan, key| {
                match key.as_str() {
                    "cell_type" | "id" => {
                        let v = scan.value()?;
                        let s: Option<String> = serde_json::from_slice(&scan.s[v.0..v.1]).ok();
                        if key == "id" {
                            cell.id = s;
                        } else {
                            cell.cell_type = s;
                        }
                    }
                    "source" => {
                        if scan.peek()? == b'[' {
                            let mut elements = Vec::new();
                            let (open, close) = scan.array(|scan| {
                                elements.push(scan.string()?);
                                Some(())
                            })?;
                            cell.source = Some(((open, close + 1), Some(elements)));
                        } else {
                            cell.source = Some((scan.string()?, None));
                        }
                    }
                    _ => {
                        scan.value()?;
                    }
                }
                Some(())
            })?;
            cell.span = (start, scan.i);
            cells.push(cell);
            Some(())
        })?);
        Some(())
    })
    .ok_or_else(malformed)?;
    let (open, close) = cells_span.ok_or_else(malformed)?;
    // The top level's first key shows the indentation unit.
    let first_key_at = text
        .find('{')
        .and_then(|o| {
            text[o + 1..]
                .find(|c: char| !c.is_whitespace())
                .map(|k| o + 1 + k)
        })
        .unwrap_or(0);
    let unit = indent_before(text, first_key_at).unwrap_or_default();
    let pretty = !unit.is_empty();
    let mut regions = Vec::new();
    let mut places = Vec::new();
    for cell in &cells {
        let Some((span, elements)) = &cell.source else {
            continue;
        };
        let decode = |s: (usize, usize)| -> Result<String, SyntaxError> {
            serde_json::from_str::<String>(&text[s.0..s.1])
                .map_err(|_| err(lines.line(s.0), "a cell's source is not text"))
        };
        let (source, first_line, shape) = match elements {
            None => (decode(*span)?, lines.line(span.0), Shape::Str),
            Some(els) => {
                let mut source = String::new();
                for e in els {
                    source.push_str(&decode(*e)?);
                }
                let first = els.first().map_or(span.0, |e| e.0);
                let element_indent = els.first().and_then(|e| indent_before(text, e.0));
                let close_indent = indent_before(text, span.1 - 1);
                let multi_line = element_indent.is_some() && close_indent.is_some();
                let (element_indent, close_indent) = if multi_line {
                    (element_indent, close_indent)
                } else if pretty && els.is_empty() {
                    // `[]`: written the way Jupyter writes a list.
                    let close = line_indent(text, span.0);
                    (Some(format!("{close}{unit}")), Some(close))
                } else {
                    (text[span.0..span.1].contains(", ").then(String::new), None)
                };
                let eol = if text[span.0..span.1].contains("\r\n")
                    || (els.is_empty() && super::narrative_format::dominant_eol(text) == "\r\n")
                {
                    "\r\n"
                } else {
                    "\n"
                };
                (
                    source,
                    lines.line(first),
                    Shape::List {
                        element_indent,
                        close_indent,
                        eol,
                    },
                )
            }
        };
        if cell.cell_type.as_deref() == Some("markdown") {
            regions.push(Region {
                text: source,
                syntax: Syntax::Html,
                first_line,
            });
            places.push(Place::Cell(CellSource { span: *span, shape }));
        } else if let Some(n) = source.lines().position(is_marker_line) {
            return Err(err(
                first_line + n,
                format!(
                    "a workbench marker in a {} cell: blocks live in markdown cells, the only cells the check reads",
                    cell.cell_type.as_deref().unwrap_or("untyped")
                ),
            ));
        }
    }
    let cell_indent = cells.first().and_then(|c| indent_before(text, c.span.0));
    let tail = Tail::Jupyter(Box::new(CellsArray {
        open,
        close,
        last_cell_end: cells.last().map(|c| c.span.1),
        cell_indent,
        key_indent: line_indent(text, open),
        unit,
        pretty,
        with_id: minor >= 5,
        ids: cells.iter().filter_map(|c| c.id.clone()).collect(),
    }));
    Ok((regions, places, tail))
}

/// A cell id nbformat accepts (`[a-zA-Z0-9-_]{1,64}`) that no cell has.
fn new_cell_id(stage: &str, taken: &[String]) -> String {
    let clean: String = stage
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let base: String = format!("workbench-{clean}").chars().take(56).collect();
    let mut id = base.clone();
    let mut n = 2;
    while taken.contains(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

fn markdown_cell(
    lines: &[String],
    id: Option<&str>,
    indent: &str,
    unit: &str,
    pretty: bool,
    eol: &str,
) -> String {
    let source = lines.join("\n");
    if !pretty {
        let id = id.map_or(String::new(), |i| format!(",\"id\":{}", json_string(i)));
        return format!(
            "{{\"cell_type\":\"markdown\"{id},\"metadata\":{{}},\"source\":{}}}",
            encode_list(&source, None, None, eol)
        );
    }
    let inner = format!("{indent}{unit}");
    let element = format!("{inner}{unit}");
    let mut s = format!("{{{eol}{inner}\"cell_type\": \"markdown\",{eol}");
    if let Some(id) = id {
        s.push_str(&format!("{inner}\"id\": {},{eol}", json_string(id)));
    }
    s.push_str(&format!("{inner}\"metadata\": {{}},{eol}"));
    s.push_str(&format!(
        "{inner}\"source\": {}{eol}{indent}}}",
        encode_list(&source, Some(&element), Some(&inner), eol)
    ));
    s
}

// ---------------------------------------------------------------- marimo

/// A marimo app: it imports marimo and creates `app = marimo.App(...)` at the top
/// level.
pub(crate) fn is_marimo(text: &str) -> bool {
    let mut imports = false;
    let mut app = false;
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("import marimo") {
            imports |= rest.is_empty() || rest.starts_with([' ', ',', '\r', '\t']);
        }
        let compact: String = l.chars().filter(|c| !c.is_whitespace()).collect();
        app |= l.starts_with("app") && compact.starts_with("app=marimo.App(");
        if imports && app {
            return true;
        }
    }
    false
}

/// A Python string literal's offsets.
#[derive(Debug, Clone, Copy)]
struct PyStr {
    prefix_start: usize,
    body_start: usize,
    body_end: usize,
    end: usize,
    quote: u8,
    triple: bool,
    raw: bool,
    formatted: bool,
    bytes: bool,
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// Every string literal of a Python source outside comments, in order.
fn python_strings(text: &str, lines: &LineIndex) -> Result<Vec<PyStr>, SyntaxError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'#' {
            i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
        } else if c == b'"' || c == b'\'' {
            let s = python_string(b, i, i, "", 0, lines)?;
            i = s.end;
            out.push(s);
        } else if is_ident(c) {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            let word = text[start..i].to_ascii_lowercase();
            let prefix = matches!(
                word.as_str(),
                "r" | "u" | "f" | "b" | "t" | "br" | "rb" | "fr" | "rf" | "tr" | "rt"
            );
            if prefix && i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let s = python_string(b, start, i, &word, 0, lines)?;
                i = s.end;
                out.push(s);
            }
        } else {
            i += 1;
        }
    }
    Ok(out)
}

fn python_string(
    b: &[u8],
    prefix_start: usize,
    q: usize,
    prefix: &str,
    depth: usize,
    lines: &LineIndex,
) -> Result<PyStr, SyntaxError> {
    let unterminated = || err(lines.line(q), "a string that does not end");
    if depth > 16 {
        return Err(err(lines.line(q), "strings nested too deeply"));
    }
    let quote = b[q];
    let triple = b.len() >= q + 3 && b[q + 1] == quote && b[q + 2] == quote;
    let body_start = q + if triple { 3 } else { 1 };
    let formatted = prefix.contains('f') || prefix.contains('t');
    let mut j = body_start;
    let mut braces = 0usize;
    loop {
        let c = *b.get(j).ok_or_else(unterminated)?;
        match c {
            b'\\' => j += 2,
            b'{' if formatted => {
                if braces == 0 && b.get(j + 1) == Some(&b'{') {
                    j += 2;
                } else {
                    braces += 1;
                    j += 1;
                }
            }
            b'}' if formatted && braces > 0 => {
                braces -= 1;
                j += 1;
            }
            b'"' | b'\'' if braces > 0 => {
                j = python_string(b, j, j, "", depth + 1, lines)?.end;
            }
            _ if c == quote
                && (!triple || (b.get(j + 1) == Some(&quote) && b.get(j + 2) == Some(&quote))) =>
            {
                return Ok(PyStr {
                    prefix_start,
                    body_start,
                    body_end: j,
                    end: j + if triple { 3 } else { 1 },
                    quote,
                    triple,
                    raw: prefix.contains('r'),
                    formatted,
                    bytes: prefix.contains('b'),
                });
            }
            b'\n' if !triple && braces == 0 => return Err(unterminated()),
            _ => j += 1,
        }
    }
}

/// Whether the string at `s` is the whole argument of an `mo.md(...)` call.
fn is_mo_md_argument(b: &[u8], s: &PyStr) -> bool {
    let ws = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let mut k = s.prefix_start;
    let back_ws = |k: &mut usize| {
        while *k > 0 && ws(b[*k - 1]) {
            *k -= 1;
        }
    };
    back_ws(&mut k);
    let expect = |k: &mut usize, word: &[u8]| -> bool {
        back_ws(k);
        if *k >= word.len() && &b[*k - word.len()..*k] == word {
            *k -= word.len();
            true
        } else {
            false
        }
    };
    if !(expect(&mut k, b"(")
        && expect(&mut k, b"md")
        && expect(&mut k, b".")
        && expect(&mut k, b"mo"))
    {
        return false;
    }
    if k > 0 && (is_ident(b[k - 1]) || b[k - 1] == b'.') {
        return false;
    }
    let mut e = s.end;
    while e < b.len() && ws(b[e]) {
        e += 1;
    }
    if b.get(e) == Some(&b',') {
        e += 1;
        while e < b.len() && ws(b[e]) {
            e += 1;
        }
    }
    b.get(e) == Some(&b')')
}

fn leading_ws(s: &str) -> &str {
    &s[..s.len() - s.trim_start_matches([' ', '\t']).len()]
}

/// A marimo markdown string as a region: its lines, dedented the way marimo dedents
/// them (the first line alone, the others by their common indentation).
fn marimo_region(text: &str, s: &PyStr, lines: &LineIndex) -> (Region, Place) {
    let body = &text[s.body_start..s.body_end];
    // (start, content end) of each line of the body, in file offsets.
    let mut raw_lines: Vec<(usize, usize)> = Vec::new();
    let mut start = s.body_start;
    for nl in memchr::memchr_iter(b'\n', body.as_bytes()) {
        let nl = s.body_start + nl;
        let end = if nl > start && text.as_bytes()[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        raw_lines.push((start, end));
        start = nl + 1;
    }
    raw_lines.push((start, s.body_end));
    let blank = |(a, b): (usize, usize)| text[a..b].trim_matches([' ', '\t']).is_empty();
    let mut margin: Option<&str> = None;
    for &l in &raw_lines[1..] {
        if blank(l) {
            continue;
        }
        let ws = leading_ws(&text[l.0..l.1]);
        margin = Some(match margin {
            None => ws,
            Some(m) => {
                let common = m
                    .bytes()
                    .zip(ws.bytes())
                    .take_while(|(x, y)| x == y)
                    .count();
                &m[..common]
            }
        });
    }
    // A string of one line: new lines go at the indentation of its statement, as
    // marimo writes a cell's markdown.
    let margin = margin.map_or_else(|| line_indent(text, s.body_start), str::to_string);
    let mut spans = Vec::with_capacity(raw_lines.len());
    let mut region_text = String::with_capacity(body.len());
    for (i, &(a, b)) in raw_lines.iter().enumerate() {
        let span = if blank((a, b)) {
            (b, b)
        } else if i == 0 {
            (a + leading_ws(&text[a..b]).len(), b)
        } else {
            (a + margin.len(), b)
        };
        if i > 0 {
            region_text.push('\n');
        }
        region_text.push_str(&text[span.0..span.1]);
        spans.push(span);
    }
    (
        Region {
            text: region_text,
            syntax: Syntax::Html,
            first_line: lines.line(s.body_start),
        },
        Place::Lines {
            spans,
            margin,
            guard: StringGuard {
                quote: s.quote,
                raw: s.raw,
            },
        },
    )
}

pub(crate) fn marimo_regions(text: &str) -> Result<Parts, SyntaxError> {
    let lines = LineIndex::new(text);
    let b = text.as_bytes();
    let mut regions = Vec::new();
    let mut places = Vec::new();
    // File lines (first, last) the regions cover.
    let mut covered: Vec<(usize, usize)> = Vec::new();
    let strings = python_strings(text, &lines)?;
    let in_string = |at: usize| {
        let k = strings.partition_point(|s| s.end <= at);
        strings.get(k).is_some_and(|s| s.prefix_start <= at)
    };
    for s in &strings {
        let s = *s;
        if s.triple && !s.formatted && !s.bytes && is_mo_md_argument(b, &s) {
            let (region, place) = marimo_region(text, &s, &lines);
            covered.push((lines.line(s.prefix_start), lines.line(s.end)));
            regions.push(region);
            places.push(place);
        }
    }
    let mut next = covered.iter().peekable();
    for (i, l) in text.lines().enumerate() {
        let n = i + 1;
        while next.peek().is_some_and(|(_, last)| *last < n) {
            next.next();
        }
        if next.peek().is_some_and(|(first, _)| *first <= n) {
            continue;
        }
        if !is_marker_line(l) {
            continue;
        }
        let message = if l.trim_start().starts_with('#') {
            "a '# workbench:' marker in a marimo notebook: marimo drops comments between cells and a cell of comments is not valid; blocks live in markdown cells, mo.md(r\"\"\"...\"\"\"), with HTML-comment markers (<!-- workbench:slot stage=NAME -->)"
        } else {
            "a workbench marker outside an mo.md(r\"\"\"...\"\"\") markdown cell: the check reads blocks only in markdown cells"
        };
        return Err(err(n, message));
    }
    let trailer = text
        .match_indices("if __name__ == ")
        .map(|(i, _)| i)
        .find(|&i| {
            (i == 0 || b[i - 1] == b'\n')
                && !in_string(i)
                && text[i..].lines().next().is_some_and(|l| {
                    let r = l.trim_end();
                    r == "if __name__ == \"__main__\":" || r == "if __name__ == '__main__':"
                })
        });
    let mut offset = 0;
    let mo_defined = text.split_inclusive('\n').any(|l| {
        let at = offset;
        offset += l.len();
        let t = l.trim();
        l.starts_with([' ', '\t'])
            && !in_string(at)
            && (t == "import marimo as mo"
                || t.starts_with("import marimo as mo ")
                || t.starts_with("import marimo as mo#"))
    });
    Ok((
        regions,
        places,
        Tail::Marimo {
            at: trailer.unwrap_or(text.len()),
            trailer: trailer.is_some(),
            mo_defined,
        },
    ))
}

fn marimo_cells(lines: &[String], mo_defined: bool, eol: &str) -> String {
    let mut s = String::new();
    if !mo_defined {
        for l in [
            "@app.cell",
            "def _():",
            "    import marimo as mo",
            "",
            "    return (mo,)",
            "",
            "",
        ] {
            s.push_str(l);
            s.push_str(eol);
        }
    }
    for l in [
        "@app.cell(hide_code=True)",
        "def _(mo):",
        "    mo.md(r\"\"\"",
    ] {
        s.push_str(l);
        s.push_str(eol);
    }
    for l in lines {
        if !l.is_empty() {
            s.push_str("    ");
            s.push_str(l);
        }
        s.push_str(eol);
    }
    for l in ["    \"\"\")", "    return", "", ""] {
        s.push_str(l);
        s.push_str(eol);
    }
    s
}

/// The splice that adds a block (`lines`, markers included) where a new one goes.
pub(crate) fn append(
    text: &str,
    tail: &Tail,
    stage: &str,
    lines: &[String],
    eol: &str,
) -> Result<Splice, EditError> {
    let end = Splice {
        start: text.len(),
        end: text.len(),
        text: String::new(),
    };
    Ok(match tail {
        Tail::EndOfText => {
            let mut s = String::new();
            if !text.is_empty() {
                if !text.ends_with('\n') {
                    s.push_str(eol);
                }
                s.push_str(eol);
            }
            s.push_str(&lines.join(eol));
            s.push_str(eol);
            Splice { text: s, ..end }
        }
        Tail::Marimo {
            at,
            trailer,
            mo_defined,
        } => {
            StringGuard {
                quote: b'"',
                raw: true,
            }
            .check(lines)?;
            let cells = marimo_cells(lines, *mo_defined, eol);
            let text = if *trailer {
                cells
            } else {
                let mut s = String::new();
                if !text.is_empty() && !text.ends_with('\n') {
                    s.push_str(eol);
                }
                s.push_str(eol);
                s.push_str(eol);
                s.push_str(cells.trim_end());
                s.push_str(eol);
                s
            };
            Splice {
                start: *at,
                end: *at,
                text,
            }
        }
        Tail::Jupyter(cells) => {
            let id = cells.with_id.then(|| new_cell_id(stage, &cells.ids));
            let indent = cells
                .cell_indent
                .clone()
                .unwrap_or_else(|| format!("{}{}", cells.key_indent, cells.unit));
            let cell = markdown_cell(
                lines,
                id.as_deref(),
                &indent,
                &cells.unit,
                cells.pretty,
                eol,
            );
            let nl = if cells.pretty { eol } else { "" };
            let indent = if cells.pretty { indent.as_str() } else { "" };
            match cells.last_cell_end {
                Some(e) => Splice {
                    start: e,
                    end: e,
                    text: format!(",{nl}{indent}{cell}"),
                },
                None => Splice {
                    start: cells.open + 1,
                    end: cells.close,
                    text: format!(
                        "{nl}{indent}{cell}{nl}{}",
                        if cells.pretty {
                            cells.key_indent.as_str()
                        } else {
                            ""
                        }
                    ),
                },
            }
        }
        Tail::NewNotebook => {
            let id = new_cell_id(stage, &[]);
            let cell = markdown_cell(lines, Some(&id), "  ", " ", true, eol);
            Splice {
                start: 0,
                end: text.len(),
                text: [
                    "{",
                    " \"cells\": [",
                    &format!("  {cell}"),
                    " ],",
                    " \"metadata\": {},",
                    " \"nbformat\": 4,",
                    " \"nbformat_minor\": 5",
                    "}",
                    "",
                ]
                .join(eol),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::narrative::parse;
    use crate::model::narrative_format::{Document, LineEdit};

    const RUN: &str = "20260308T142233Z-1e2a";

    fn block(extra: &[&str]) -> Vec<String> {
        let mut v = vec![format!("<!-- workbench:begin stage=train run={RUN} -->")];
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push("<!-- workbench:end -->".to_string());
        v
    }

    const NOTEBOOK: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "f5624a73",
   "metadata": {},
   "source": [
    "# Title\n",
    "\n",
    "Prose é.\n",
    "\n",
    "<!-- workbench:slot stage=train -->"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": null,
   "id": "92af342d",
   "metadata": {},
   "outputs": [],
   "source": [
    "x = 1\n",
    "print(x)"
   ]
  },
  {
   "cell_type": "markdown",
   "id": "3c007bdd",
   "metadata": {},
   "source": []
  }
 ],
 "metadata": {
  "kernelspec": {
   "display_name": "Python 3",
   "language": "python",
   "name": "python3"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
"##;

    #[test]
    fn jupyter_markdown_cells_are_the_regions() {
        let doc = Document::parse("n.ipynb", NOTEBOOK).unwrap();
        let r = doc.regions();
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0].text,
            "# Title\n\nProse é.\n\n<!-- workbench:slot stage=train -->"
        );
        assert_eq!(r[0].first_line, 8);
        assert_eq!(parse(&r[0].text, r[0].syntax).slots[0].line, 5);
        assert_eq!(r[1].text, "");
    }

    #[test]
    fn jupyter_slot_edit_rewrites_only_that_source() {
        let doc = Document::parse("n.ipynb", NOTEBOOK).unwrap();
        let out = doc
            .apply(vec![LineEdit {
                region: 0,
                first: 5,
                last: 5,
                lines: block(&["Score \"0.75\" \\ fine.", "", "_ok_"]),
            }])
            .unwrap();
        let want = NOTEBOOK.replace(
            "    \"<!-- workbench:slot stage=train -->\"\n",
            &format!(
                "    \"<!-- workbench:begin stage=train run={RUN} -->\\n\",\n    \"Score \\\"0.75\\\" \\\\ fine.\\n\",\n    \"\\n\",\n    \"_ok_\\n\",\n    \"<!-- workbench:end -->\"\n"
            ),
        );
        assert_eq!(out, want);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["cells"][1]["source"][1], "print(x)");
        // Re-reading finds the block in the same region.
        let again = Document::parse("n.ipynb", &out).unwrap();
        let p = parse(&again.regions()[0].text, Syntax::Html);
        assert_eq!(p.blocks.len(), 1);
        assert_eq!(p.blocks[0].content, "Score \"0.75\" \\ fine.\n\n_ok_");
    }

    #[test]
    fn jupyter_empty_source_and_new_cells_are_written_as_jupyter_does() {
        let doc = Document::parse("n.ipynb", NOTEBOOK).unwrap();
        let out = doc.apply(vec![LineEdit {
            region: 1,
            first: 1,
            last: 1,
            lines: vec!["a".into(), "b".into()],
        }]);
        // An empty source has no line to replace.
        assert!(out.is_err());
        let out = doc.append("train", &block(&["x"])).unwrap();
        let tail = format!(
            "  }},\n  {{\n   \"cell_type\": \"markdown\",\n   \"id\": \"workbench-train\",\n   \"metadata\": {{}},\n   \"source\": [\n    \"<!-- workbench:begin stage=train run={RUN} -->\\n\",\n    \"x\\n\",\n    \"<!-- workbench:end -->\"\n   ]\n  }}\n ],\n \"metadata\""
        );
        assert!(out.contains(&tail), "{out}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["cells"].as_array().unwrap().len(), 4);
        let again = Document::parse("n.ipynb", &out).unwrap();
        assert_eq!(again.regions().len(), 3);
        // A second block of the same stage gets another id.
        let out2 = again.append("train", &block(&["y"])).unwrap();
        assert!(out2.contains("\"id\": \"workbench-train-2\""), "{out2}");
    }

    #[test]
    fn jupyter_new_notebook_and_empty_cells() {
        let doc = Document::parse("n.ipynb", "").unwrap();
        let out = doc.append("a.b", &block(&["x"])).unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["nbformat"], 4);
        assert_eq!(v["cells"][0]["id"], "workbench-a-b");
        assert!(out.ends_with("}\n") && out.starts_with("{\n \"cells\": [\n  {\n   \"cell_type\""));
        let empty = "{\n \"cells\": [],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 4\n}\n";
        let out = Document::parse("n.ipynb", empty)
            .unwrap()
            .append("a", &block(&[]))
            .unwrap();
        assert!(
            out.starts_with(
                "{\n \"cells\": [\n  {\n   \"cell_type\": \"markdown\",\n   \"metadata\""
            ),
            "{out}"
        );
        assert!(
            !out.contains("\"id\""),
            "nbformat 4.4 has no cell ids: {out}"
        );
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
    }

    #[test]
    fn jupyter_markers_outside_markdown_cells_and_bad_json_are_errors() {
        let code = NOTEBOOK.replace("\"print(x)\"", "\"# workbench:begin stage=train\"");
        let e = Document::parse("n.ipynb", &code).unwrap_err();
        assert!(e.message.contains("code cell"), "{e}");
        assert_eq!(e.line, 23);
        let e = Document::parse("n.ipynb", "{\"cells\": [").unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{e}");
        let e = Document::parse("n.ipynb", "{\"cells\": [], \"nbformat\": 3}").unwrap_err();
        assert!(e.message.contains("nbformat"), "{e}");
        let e = Document::parse("n.ipynb", "[1]").unwrap_err();
        assert!(e.message.contains("nbformat"), "{e}");
    }

    #[test]
    fn split_lines_matches_python() {
        assert_eq!(
            split_lines_keepends("a\nb\r\nc\rd\u{2028}e"),
            ["a\n", "b\r\n", "c\r", "d\u{2028}", "e"]
        );
        assert!(split_lines_keepends("").is_empty());
        assert_eq!(split_lines_keepends("x\n"), ["x\n"]);
    }

    const MARIMO: &str = r#"import marimo

__generated_with = "0.25.2"
app = marimo.App()


@app.cell
def _():
    import marimo as mo

    return (mo,)


@app.cell(hide_code=True)
def _(mo):
    mo.md(r"""
    # Title

    Some prose.

    <!-- workbench:slot stage=train -->
    """)
    return


@app.cell
def _(mo):
    x = "<!-- not a line of its own -->"
    mo.md(f"""{x}""")
    return


if __name__ == "__main__":
    app.run()
"#;

    #[test]
    fn marimo_markdown_strings_are_the_regions() {
        let doc = Document::parse("m.py", MARIMO).unwrap();
        let r = doc.regions();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].text,
            "\n# Title\n\nSome prose.\n\n<!-- workbench:slot stage=train -->\n"
        );
        assert_eq!(r[0].first_line, 16);
        let slot = &parse(&r[0].text, Syntax::Html).slots[0];
        assert_eq!(r[0].first_line + slot.line - 1, 21);
        assert_eq!(
            MARIMO.lines().nth(20).unwrap().trim(),
            "<!-- workbench:slot stage=train -->"
        );
    }

    #[test]
    fn marimo_edits_keep_the_cells_indentation() {
        let doc = Document::parse("m.py", MARIMO).unwrap();
        let out = doc
            .apply(vec![LineEdit {
                region: 0,
                first: 6,
                last: 6,
                lines: block(&["Score 0.75.", "", "_ok \\ ok_"]),
            }])
            .unwrap();
        let want = MARIMO.replace(
            "    <!-- workbench:slot stage=train -->\n",
            &format!("    <!-- workbench:begin stage=train run={RUN} -->\n    Score 0.75.\n\n    _ok \\ ok_\n    <!-- workbench:end -->\n"),
        );
        assert_eq!(out, want);
        let again = Document::parse("m.py", &out).unwrap();
        let p = parse(&again.regions()[0].text, Syntax::Html);
        assert_eq!(p.blocks[0].content, "Score 0.75.\n\n_ok \\ ok_");
    }

    #[test]
    fn marimo_one_line_strings_grow_at_the_cells_indentation() {
        let one = MARIMO.replace(
            "mo.md(r\"\"\"\n    # Title\n\n    Some prose.\n\n    <!-- workbench:slot stage=train -->\n    \"\"\")",
            "mo.md(r\"\"\"<!-- workbench:slot stage=train -->\"\"\")",
        );
        let doc = Document::parse("m.py", &one).unwrap();
        assert_eq!(doc.regions()[0].text, "<!-- workbench:slot stage=train -->");
        let out = doc
            .apply(vec![LineEdit {
                region: 0,
                first: 1,
                last: 1,
                lines: block(&["x"]),
            }])
            .unwrap();
        assert!(
            out.contains(&format!("    mo.md(r\"\"\"<!-- workbench:begin stage=train run={RUN} -->\n    x\n    <!-- workbench:end -->\"\"\")\n")),
            "{out}"
        );
        let p = parse(
            &Document::parse("m.py", &out).unwrap().regions()[0].text,
            Syntax::Html,
        );
        assert_eq!(p.blocks[0].content, "x");
    }

    #[test]
    fn marimo_refuses_what_its_serializer_would_rewrite() {
        let doc = Document::parse("m.py", MARIMO).unwrap();
        for bad in ["say \"\"", "a\u{a0}b", "end \"\"\" here"] {
            let e = doc
                .apply(vec![LineEdit {
                    region: 0,
                    first: 6,
                    last: 6,
                    lines: block(&[bad]),
                }])
                .unwrap_err();
            assert!(e.message.contains("marimo"), "{e}");
            assert!(doc.append("train", &block(&[bad])).is_err());
        }
        let plain = MARIMO.replace("mo.md(r\"\"\"", "mo.md(\"\"\"");
        let doc = Document::parse("m.py", &plain).unwrap();
        let e = doc
            .apply(vec![LineEdit {
                region: 0,
                first: 6,
                last: 6,
                lines: block(&["a \\ b"]),
            }])
            .unwrap_err();
        assert!(e.message.contains("backslash"), "{e}");
    }

    #[test]
    fn marimo_appends_a_markdown_cell_before_the_trailer() {
        let doc = Document::parse("m.py", MARIMO).unwrap();
        let out = doc.append("train", &block(&["x", ""])).unwrap();
        let cell = format!("@app.cell(hide_code=True)\ndef _(mo):\n    mo.md(r\"\"\"\n    <!-- workbench:begin stage=train run={RUN} -->\n    x\n\n    <!-- workbench:end -->\n    \"\"\")\n    return\n\n\nif __name__");
        assert!(out.contains(&cell), "{out}");
        assert_eq!(Document::parse("m.py", &out).unwrap().regions().len(), 2);
        // Without a cell defining mo, one is added.
        let bare = MARIMO.replace("    import marimo as mo\n\n    return (mo,)", "    return");
        let out = Document::parse("m.py", &bare)
            .unwrap()
            .append("train", &block(&[]))
            .unwrap();
        assert!(out.contains("def _():\n    import marimo as mo\n\n    return (mo,)\n\n\n@app.cell(hide_code=True)"), "{out}");
    }

    #[test]
    fn marimo_markers_outside_markdown_cells_are_errors() {
        let hash = MARIMO.replace(
            "    x = \"<!-- not",
            "    # workbench:begin stage=train run=20260308T142233Z-1e2a\n    x = \"<!-- not",
        );
        let e = Document::parse("m.py", &hash).unwrap_err();
        assert!(
            e.message.contains("'# workbench:' marker in a marimo"),
            "{e}"
        );
        assert_eq!(e.line, 28);
        let between = MARIMO.replace(
            "\n\nif __name__",
            "\n\n<!-- workbench:slot stage=x -->\nif __name__",
        );
        let e = Document::parse("m.py", &between).unwrap_err();
        assert!(e.message.contains("outside an mo.md"), "{e}");
        let fstring = MARIMO.replace("mo.md(r\"\"\"", "mo.md(f\"\"\"");
        let e = Document::parse("m.py", &fstring).unwrap_err();
        assert!(e.message.contains("outside an mo.md"), "{e}");
        let e =
            Document::parse("m.py", "import marimo\napp = marimo.App()\nx = '''\n").unwrap_err();
        assert!(e.message.contains("does not end"), "{e}");
    }

    #[test]
    fn python_strings_skip_comments_and_nested_fstrings() {
        let src = "# \"not a string\nx = f\"{d['k']}\" + rb'\\'' + \"\"\"a\n\"b\"\"\"";
        let l = LineIndex::new(src);
        let s = python_strings(src, &l).unwrap();
        assert_eq!(s.len(), 3, "{s:?}");
        assert!(s[0].formatted && s[1].raw && s[1].bytes && s[2].triple);
        assert_eq!(&src[s[2].body_start..s[2].body_end], "a\n\"b");
    }
}
