//! YAML params documents. Reading goes through serde_yaml_ng with a visitor of our own
//! that refuses a key its mapping already has: the refusal is raised while the key
//! itself is read, so the parser stamps it with the key's line. The first
//! occurrence's line comes from a second read that stops at that key (a probe), and
//! so do the lines of the collision check. Merge keys (`<<: *base`) are applied as
//! PyYAML applies them: keys written in the mapping win.
//!
//! Editing works on block style, line by line: a located `key: value` has its value
//! replaced (the comment after it stays), a new key goes on a line of its own after
//! the last one of its mapping. Flow style, anchors, aliases and tags are not edited
//! in place.

use super::{DocError, KeyLines, Node, Plan, Result, SetOp};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;

/// What stopped a read, besides the parser's own errors.
#[derive(Debug, Clone)]
enum Stop {
    Duplicate(Vec<String>),
    /// The probed key was reached.
    Probe,
    Tag(String),
    Merge,
    TooLarge,
}

struct Ctx {
    path: RefCell<Vec<String>>,
    probe: Option<Vec<String>>,
    stop: RefCell<Option<Stop>>,
}

impl Ctx {
    fn new(probe: Option<Vec<String>>) -> Ctx {
        Ctx {
            path: RefCell::new(Vec::new()),
            probe,
            stop: RefCell::new(None),
        }
    }

    fn halt<E: de::Error>(&self, why: Stop) -> E {
        *self.stop.borrow_mut() = Some(why);
        E::custom("stopped")
    }
}

/// A path as people write it: `a.b`, list positions as `[0]`.
fn shown(path: &[String]) -> String {
    let mut out = String::new();
    for p in path {
        if !out.is_empty() && !p.starts_with('[') {
            out.push('.');
        }
        out.push_str(p);
    }
    out
}

fn read(text: &str, ctx: &Ctx) -> std::result::Result<Node, serde_yaml_ng::Error> {
    NodeSeed(ctx).deserialize(serde_yaml_ng::Deserializer::from_str(text))
}

fn line_of(e: &serde_yaml_ng::Error) -> Option<usize> {
    e.location().map(|l| l.line())
}

pub(super) fn parse(text: &str) -> Result<Node> {
    let ctx = Ctx::new(None);
    let err = match read(text, &ctx) {
        Ok(n) => return Ok(n),
        Err(e) => e,
    };
    let line = line_of(&err);
    let stop = ctx.stop.borrow().clone();
    let message = match stop {
        Some(Stop::Duplicate(path)) => {
            let first = probe(text, &path)
                .map(|l| format!(" (first at line {l})"))
                .unwrap_or_default();
            format!("duplicate key '{}'{first}", shown(&path))
        }
        Some(Stop::Tag(tag)) => {
            let tag = if tag.starts_with('!') {
                tag
            } else {
                format!("!{tag}")
            };
            format!("the YAML tag '{tag}' is not supported in a params file (PyYAML's safe_load refuses it too)")
        }
        Some(Stop::Merge) => "a merge key (<<) needs a mapping or a list of mappings".into(),
        Some(Stop::TooLarge) => "an integer too large for a param".into(),
        Some(Stop::Probe) | None => {
            // The line is given apart; the parser's wording is kept.
            without_positions(&err.to_string())
        }
    };
    Err(DocError::syntax(line, message))
}

/// `message` without its ` at line N column M` parts.
fn without_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i + " at line ".len()..];
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let n = digits(tail);
        let after = &tail[n..];
        rest = match after.strip_prefix(" column ") {
            Some(c) if n > 0 => &c[digits(c)..],
            _ if n > 0 => after,
            _ => {
                out.push_str(" at line ");
                tail
            }
        };
    }
    out.push_str(rest);
    out
}

/// The line of the key at `path`, read again up to that key.
fn probe(text: &str, path: &[String]) -> Option<usize> {
    let ctx = Ctx::new(Some(path.to_vec()));
    match read(text, &ctx) {
        Err(e) if matches!(*ctx.stop.borrow(), Some(Stop::Probe)) => line_of(&e),
        _ => None,
    }
}

/// Key lines by probing.
pub(super) struct ProbeLines<'a>(pub &'a str);

impl KeyLines for ProbeLines<'_> {
    fn line_of(&self, path: &[String]) -> Option<usize> {
        probe(self.0, path)
    }
}

struct NodeSeed<'c>(&'c Ctx);

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Node;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor(self.0))
    }
}

struct NodeVisitor<'c>(&'c Ctx);

impl<'de> Visitor<'de> for NodeVisitor<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Node, E> {
        Ok(Node::Num(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Node, E> {
        Ok(Node::Num(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> std::result::Result<Node, E> {
        match (i64::try_from(v), u64::try_from(v)) {
            (Ok(i), _) => Ok(Node::Num(i.into())),
            (_, Ok(u)) => Ok(Node::Num(u.into())),
            _ => Err(self.0.halt(Stop::TooLarge)),
        }
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> std::result::Result<Node, E> {
        u64::try_from(v)
            .map(|u| Node::Num(u.into()))
            .map_err(|_| self.0.halt(Stop::TooLarge))
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Node, E> {
        Ok(Node::float(v))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> std::result::Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Node, D::Error> {
        NodeSeed(self.0).deserialize(d)
    }
    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<Node, D::Error> {
        NodeSeed(self.0).deserialize(d)
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<Node, A::Error> {
        // serde_yaml_ng hands a value with a custom tag (`!foo 1`) over as an enum.
        let (tag, _variant): (String, _) = data.variant()?;
        Err(self.0.halt(Stop::Tag(tag)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Node, A::Error> {
        let mut items = Vec::new();
        loop {
            self.0.path.borrow_mut().push(format!("[{}]", items.len()));
            let item = seq.next_element_seed(NodeSeed(self.0));
            self.0.path.borrow_mut().pop();
            match item? {
                Some(v) => items.push(v),
                None => return Ok(Node::Seq(items)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Node, A::Error> {
        let ctx = self.0;
        let mut entries: Vec<(String, Node)> = Vec::new();
        let mut merged: Vec<Node> = Vec::new();
        while let Some(key) = map.next_key_seed(KeySeed {
            ctx,
            siblings: &entries,
        })? {
            ctx.path.borrow_mut().push(key.clone());
            let value = map.next_value_seed(NodeSeed(ctx));
            ctx.path.borrow_mut().pop();
            let value = value?;
            if key == "<<" {
                merged.push(value);
            } else {
                entries.push((key, value));
            }
        }
        // Merged mappings fill in keys the mapping does not write; in a list of
        // them, the first that has a key wins.
        for source in merged {
            let maps = match source {
                Node::Map(m) => vec![m],
                Node::Seq(items) => items
                    .into_iter()
                    .map(|i| match i {
                        Node::Map(m) => Ok(m),
                        _ => Err(ctx.halt(Stop::Merge)),
                    })
                    .collect::<std::result::Result<_, A::Error>>()?,
                _ => return Err(ctx.halt(Stop::Merge)),
            };
            for m in maps {
                for (k, v) in m {
                    if !entries.iter().any(|(e, _)| *e == k) {
                        entries.push((k, v));
                    }
                }
            }
        }
        Ok(Node::Map(entries))
    }
}

/// Reads a mapping key as the text it is written as (`1`, `true` and `null` keys
/// included) and refuses one its mapping already has.
struct KeySeed<'c, 's> {
    ctx: &'c Ctx,
    siblings: &'s [(String, Node)],
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_, '_> {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a key (a string, number or boolean)")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> std::result::Result<String, E> {
        let mut path = self.ctx.path.borrow().clone();
        path.push(key.to_string());
        if self.ctx.probe.as_ref() == Some(&path) {
            return Err(self.ctx.halt(Stop::Probe));
        }
        if key != "<<" && self.siblings.iter().any(|(k, _)| k == key) {
            return Err(self.ctx.halt(Stop::Duplicate(path)));
        }
        Ok(key.to_string())
    }
}

// ---------------------------------------------------------------------------------
// Writing values

/// Plain words some YAML reader takes for a boolean, null or a number (YAML 1.1
/// booleans, Rust's float parser): always quoted.
const RESERVED: &[&str] = &[
    "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", "nan", "inf", "infinity",
];

/// A string as a plain scalar when every YAML reader takes it as that same string,
/// else double-quoted.
pub(super) fn string(s: &str, out: &mut String) {
    let plain = s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
        && !RESERVED.contains(&s.to_ascii_lowercase().as_str());
    if plain {
        out.push_str(s);
        return;
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // Not printable in YAML, or a line break a reader would fold.
            c if (c as u32) < 0x20 || ('\u{7f}'..='\u{9f}').contains(&c) => {
                out.push_str(&format!("\\x{:02X}", c as u32))
            }
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float both YAML 1.1 (PyYAML: a decimal point, a signed exponent) and 1.2
/// readers take as that same float.
fn float(n: &serde_json::Number, out: &mut String) {
    out.push_str(&super::float_text(n.as_f64().expect("a float")));
}

/// A value on one line: a scalar, or a flow collection.
pub(super) fn inline(n: &Node, out: &mut String) {
    match n {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Num(num) if num.is_f64() => float(num, out),
        Node::Num(num) => out.push_str(&num.to_string()),
        Node::NonFinite(f) if f.is_nan() => out.push_str(".nan"),
        Node::NonFinite(f) if *f > 0.0 => out.push_str(".inf"),
        Node::NonFinite(_) => out.push_str("-.inf"),
        Node::Str(s) | Node::Datetime(s) => string(s, out),
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inline(item, out);
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(k, out);
                out.push_str(": ");
                inline(v, out);
            }
            out.push('}');
        }
    }
}

/// `key: value` lines, nested mappings in block style below their key.
fn block(entries: &[(String, Node)], indent: usize, eol: &str, out: &mut String) {
    for (k, v) in entries {
        out.push_str(&" ".repeat(indent));
        string(k, out);
        out.push(':');
        match v {
            Node::Map(children) if !children.is_empty() => {
                out.push_str(eol);
                block(children, indent + 2, eol, out);
            }
            other => {
                out.push(' ');
                inline(other, out);
                out.push_str(eol);
            }
        }
    }
}

pub(super) fn write_document(doc: &Node) -> String {
    match doc {
        Node::Map(entries) if !entries.is_empty() => {
            let mut out = String::new();
            block(entries, 0, "\n", &mut out);
            out
        }
        _ => "{}\n".to_string(),
    }
}

// ---------------------------------------------------------------------------------
// Editing block style

struct Line {
    start: usize,
    /// End of the content, before `\n` or `\r\n`.
    end: usize,
}

struct Doc<'a> {
    text: &'a str,
    lines: Vec<Line>,
    eol: &'static str,
}

/// Where a value is written.
enum Span {
    /// These bytes are the value.
    Inline(usize, usize),
    /// The value is below the key, or absent: the bytes from the colon to the end of
    /// the key's line are kept, those from there to `block_end` removed.
    Block {
        colon: usize,
        key_line_end: usize,
        block_end: usize,
    },
}

/// One `key: value` line and the lines its value takes.
#[derive(Debug)]
struct Entry {
    line: usize,
    indent: usize,
    key: String,
    /// Byte offset just after the `:`.
    colon: usize,
    /// One past the last line of the value's block (lines more indented, or `- `
    /// items at the key's indentation), trailing blank and comment lines excluded.
    block_end: usize,
}

fn cannot(line: Option<usize>, why: impl Into<String>) -> DocError {
    DocError::in_place(line, why)
}

impl<'a> Doc<'a> {
    fn new(text: &'a str) -> Doc<'a> {
        let mut lines = Vec::new();
        let mut start = 0;
        for piece in text.split_inclusive('\n') {
            let content = piece.trim_end_matches('\n').trim_end_matches('\r');
            lines.push(Line {
                start,
                end: start + content.len(),
            });
            start += piece.len();
        }
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        Doc { text, lines, eol }
    }

    fn content(&self, i: usize) -> &'a str {
        &self.text[self.lines[i].start..self.lines[i].end]
    }

    /// The indentation of a line with content; `None` for blank and comment lines.
    fn indent(&self, i: usize) -> Option<usize> {
        let c = self.content(i);
        let body = c.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') || body.trim_start().is_empty() {
            None
        } else {
            Some(c.len() - body.len())
        }
    }

    /// The lines of the document proper: after directives and `---`, before `...`.
    fn body(&self) -> Result<(usize, usize)> {
        let mut from = 0;
        let mut seen_content = false;
        for i in 0..self.lines.len() {
            let c = self.content(i);
            if c.starts_with("...") {
                return Ok((from, i));
            }
            if let Some(rest) = c.strip_prefix("---") {
                let rest = rest.trim_start();
                if seen_content {
                    return Ok((from, i));
                }
                if !(rest.is_empty() || rest.starts_with('#')) {
                    return Err(cannot(Some(i + 1), "a value on the '---' line"));
                }
                from = i + 1;
                continue;
            }
            if c.starts_with('%') && !seen_content {
                from = i + 1;
                continue;
            }
            if self.indent(i).is_some() {
                seen_content = true;
            }
        }
        Ok((from, self.lines.len()))
    }

    /// One past the last line of the value of the entry at `line`.
    fn block_end(&self, line: usize, indent: usize, to: usize, dash_ok: bool) -> usize {
        let mut end = line + 1;
        let mut i = line + 1;
        while i < to {
            match self.indent(i) {
                None => {}
                Some(n) if n > indent => end = i + 1,
                Some(n) if n == indent && dash_ok && is_dash(&self.content(i).as_bytes()[n..]) => {
                    end = i + 1
                }
                Some(_) => break,
            }
            i += 1;
        }
        end
    }

    /// The entries of the block mapping on lines `from..to`.
    fn entries(&self, from: usize, to: usize) -> Result<Vec<Entry>> {
        let mut out = Vec::new();
        let mut level = None;
        let mut i = from;
        while i < to {
            let Some(n) = self.indent(i) else {
                i += 1;
                continue;
            };
            let level = *level.get_or_insert(n);
            if n != level {
                return Err(cannot(Some(i + 1), "unexpected indentation"));
            }
            let (key, colon, rest) = self.entry_key(i, n)?;
            let empty = rest.trim().is_empty() || rest.trim_start().starts_with('#');
            let block_end = self.block_end(i, n, to, empty);
            out.push(Entry {
                line: i,
                indent: n,
                key,
                colon,
                block_end,
            });
            i = block_end;
        }
        Ok(out)
    }

    /// The key of the `key: value` line `i`, the offset after its `:`, and the rest.
    fn entry_key(&self, i: usize, indent: usize) -> Result<(String, usize, &'a str)> {
        let at = Some(i + 1);
        let line_start = self.lines[i].start;
        let c = &self.content(i)[indent..];
        let (key, after) = match c.as_bytes()[0] {
            b'\'' => {
                let end = quoted_end(c, 0, b'\'').ok_or_else(|| cannot(at, "a key spans lines"))?;
                (c[1..end].replace("''", "'"), end + 1)
            }
            b'"' => {
                let end = quoted_end(c, 0, b'"').ok_or_else(|| cannot(at, "a key spans lines"))?;
                let key = serde_json::from_str::<String>(&c[..=end])
                    .map_err(|_| cannot(at, "a key with YAML-only escapes"))?;
                (key, end + 1)
            }
            b'-' if is_dash(c.as_bytes()) => {
                return Err(cannot(at, "a list where a mapping was expected"))
            }
            b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@'
            | b'`' | b',' | b'?' => {
                return Err(cannot(
                    at,
                    "flow style, an anchor, alias, tag or complex key",
                ))
            }
            _ => {
                let end = plain_key_end(c).ok_or_else(|| cannot(at, "not a 'key: value' line"))?;
                (c[..end].trim_end().to_string(), end)
            }
        };
        let rest = c[after..].trim_start_matches([' ', '\t']);
        let Some(rest) = rest.strip_prefix(':') else {
            return Err(cannot(at, "not a 'key: value' line"));
        };
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            return Err(cannot(at, "not a 'key: value' line"));
        }
        let colon = line_start + indent + (c.len() - rest.len());
        Ok((key, colon, rest))
    }

    /// The entry at a path of keys, or the error saying why it cannot be edited.
    fn locate(&self, path: &[String]) -> Result<Entry> {
        let (mut from, mut to) = self.body()?;
        let mut found = None;
        for (depth, key) in path.iter().enumerate() {
            if let Some(parent) = &found {
                (from, to) = self.child_range(parent)?;
            }
            let entry = self
                .entries(from, to)?
                .into_iter()
                .find(|e| e.key == *key)
                .ok_or_else(|| {
                    cannot(
                        None,
                        format!(
                            "'{}' is not written as a block mapping key",
                            path[..=depth].join(".")
                        ),
                    )
                })?;
            found = Some(entry);
        }
        found.ok_or_else(|| cannot(None, "an empty key"))
    }

    /// The lines of a mapping that is the value of `e` (in block style).
    fn child_range(&self, e: &Entry) -> Result<(usize, usize)> {
        let rest = &self.text[e.colon..self.lines[e.line].end];
        let rest = rest.trim();
        if !(rest.is_empty() || rest.starts_with('#')) {
            return Err(cannot(
                Some(e.line + 1),
                format!(
                    "the value of '{}' is written inline (flow style, an anchor or a tag)",
                    e.key
                ),
            ));
        }
        Ok((e.line + 1, e.block_end))
    }

    /// Where the value of `e` is (see [`Span`]).
    fn value_span(&self, e: &Entry) -> Result<Span> {
        let at = Some(e.line + 1);
        let line_end = self.lines[e.line].end;
        let rest = &self.text[e.colon..line_end];
        let lead = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let start = e.colon + lead;
        let first = self.text.as_bytes()[start..line_end].first().copied();
        let last_line_end = self.lines[e.block_end - 1].end;
        match first {
            // Nothing (null), or a block below the key: the value goes after the
            // colon, the comment on the key's line stays, the block's lines go.
            None | Some(b'#') => Ok(Span::Block {
                colon: e.colon,
                key_line_end: line_end,
                block_end: if e.block_end > e.line + 1 {
                    last_line_end
                } else {
                    line_end
                },
            }),
            Some(b'&' | b'*' | b'!') => Err(cannot(
                at,
                format!("the value of '{}' has an anchor, alias or tag", e.key),
            )),
            Some(q @ (b'\'' | b'"')) => {
                let (line, end) = self.scan_quoted(e, start, q)?;
                self.only_comment_after(line, end)?;
                Ok(Span::Inline(start, end))
            }
            Some(b'[' | b'{') => {
                let (line, end) = self.scan_flow(e, start)?;
                self.only_comment_after(line, end)?;
                Ok(Span::Inline(start, end))
            }
            Some(b'|' | b'>') => Ok(Span::Inline(start, last_line_end)),
            // A plain scalar, perhaps continued on the lines below.
            Some(_) => {
                let last = e.block_end - 1;
                let from = if last > e.line {
                    self.lines[last].start
                } else {
                    start
                };
                Ok(Span::Inline(
                    start,
                    strip_comment(self.text, from, self.lines[last].end),
                ))
            }
        }
    }

    fn only_comment_after(&self, line: usize, end: usize) -> Result<()> {
        let rest = self.text[end..self.lines[line].end].trim();
        if rest.is_empty() || rest.starts_with('#') {
            Ok(())
        } else {
            Err(cannot(Some(line + 1), "text after a quoted or flow value"))
        }
    }

    /// The line and offset just past the closing quote of a value starting at `start`.
    fn scan_quoted(&self, e: &Entry, start: usize, q: u8) -> Result<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        let limit = self.lines[e.block_end - 1].end;
        while i < limit {
            if q == b'"' && bytes[i] == b'\\' {
                i += 2;
                continue;
            }
            if bytes[i] == q {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                return Ok((self.line_of(i), i + 1));
            }
            i += 1;
        }
        Err(cannot(Some(e.line + 1), "an unterminated quoted value"))
    }

    /// The line and offset just past the bracket closing a flow collection.
    fn scan_flow(&self, e: &Entry, start: usize) -> Result<(usize, usize)> {
        let bytes = self.text.as_bytes();
        let mut depth = 0usize;
        let mut i = start;
        let limit = self.lines[e.block_end - 1].end;
        while i < limit {
            match bytes[i] {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok((self.line_of(i), i + 1));
                    }
                }
                q @ (b'\'' | b'"') => {
                    let mut j = i + 1;
                    while j < limit && bytes[j] != q {
                        j += if q == b'"' && bytes[j] == b'\\' { 2 } else { 1 };
                    }
                    i = j;
                }
                b'#' if i > 0 && matches!(bytes[i - 1], b' ' | b'\t' | b'\n') => {
                    return Err(cannot(
                        Some(self.line_of(i) + 1),
                        "a comment inside a flow value",
                    ))
                }
                _ => {}
            }
            i += 1;
        }
        Err(cannot(Some(e.line + 1), "an unterminated flow value"))
    }

    fn line_of(&self, offset: usize) -> usize {
        self.lines.partition_point(|l| l.start <= offset) - 1
    }
}

fn is_dash(b: &[u8]) -> bool {
    b.first() == Some(&b'-') && matches!(b.get(1), None | Some(b' ' | b'\t'))
}

/// The end of a plain key: the first `:` followed by a space or the end of the line.
fn plain_key_end(c: &str) -> Option<usize> {
    let b = c.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'#' && i > 0 && matches!(b[i - 1], b' ' | b'\t') {
            return None;
        }
        if b[i] == b':' && matches!(b.get(i + 1), None | Some(b' ' | b'\t')) {
            return Some(i);
        }
    }
    None
}

/// The index of the closing quote of the quoted scalar opening at `open`, on this
/// line.
fn quoted_end(c: &str, open: usize, q: u8) -> Option<usize> {
    let b = c.as_bytes();
    let mut i = open + 1;
    while i < b.len() {
        if q == b'"' && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The end of a plain value on `from..to`, before a comment and trailing space.
fn strip_comment(text: &str, from: usize, to: usize) -> usize {
    let s = &text[from..to];
    let b = s.as_bytes();
    let mut end = s.len();
    for i in 0..b.len() {
        if b[i] == b'#' && (i == 0 || matches!(b[i - 1], b' ' | b'\t')) {
            end = i;
            break;
        }
    }
    from + s[..end].trim_end().len()
}

pub(super) fn edit(text: &str, plan: &Plan) -> Result<String> {
    let mut text = text.to_string();
    for op in &plan.ops {
        text = edit_one(&text, op)?;
    }
    Ok(text)
}

fn edit_one(text: &str, op: &SetOp) -> Result<String> {
    let doc = Doc::new(text);
    if op.new.is_empty() {
        let entry = doc.locate(&op.path)?;
        let mut value = String::new();
        inline(&op.value, &mut value);
        let mut out = String::with_capacity(text.len() + value.len() + 1);
        match doc.value_span(&entry)? {
            Span::Inline(start, end) => {
                out.push_str(&text[..start]);
                out.push_str(&value);
                out.push_str(&text[end..]);
            }
            Span::Block {
                colon,
                key_line_end,
                block_end,
            } => {
                out.push_str(&text[..colon]);
                out.push(' ');
                out.push_str(&value);
                out.push_str(&text[colon..key_line_end]);
                out.push_str(&text[block_end..]);
            }
        }
        return Ok(out);
    }
    // A new key: on its own line after the last line of its mapping, indented as
    // the keys there are.
    let (from, to, parent_indent) = if op.path.is_empty() {
        let (from, to) = doc.body()?;
        (from, to, None)
    } else {
        let parent = doc.locate(&op.path)?;
        let (from, to) = doc.child_range(&parent)?;
        (from, to, Some(parent.indent))
    };
    let siblings = doc.entries(from, to)?;
    let (indent, after) = match siblings.last() {
        Some(last) => (siblings[0].indent, last.block_end),
        None if parent_indent.is_none() => (0, from),
        None => {
            return Err(cannot(
                None,
                format!(
                    "'{}' is not a block mapping with keys to add to",
                    op.path.join(".")
                ),
            ))
        }
    };
    let step = match parent_indent {
        Some(p) if indent > p => indent - p,
        _ => 2,
    };
    let mut lines = String::new();
    for (depth, k) in op.new.iter().enumerate() {
        lines.push_str(&" ".repeat(indent + depth * step));
        string(k, &mut lines);
        lines.push(':');
        if depth + 1 < op.new.len() {
            lines.push_str(doc.eol);
        } else {
            lines.push(' ');
            inline(&op.value, &mut lines);
            lines.push_str(doc.eol);
        }
    }
    let at = if after == 0 {
        0
    } else {
        doc.lines[after - 1].end
    };
    let mut out = String::with_capacity(text.len() + lines.len() + 2);
    if after == 0 {
        out.push_str(&lines);
        out.push_str(text);
        return Ok(out);
    }
    // After the line's own ending (one is added to a last line without it).
    let line_break = &text[at..];
    let eol_len = if line_break.starts_with("\r\n") {
        2
    } else {
        usize::from(line_break.starts_with('\n'))
    };
    out.push_str(&text[..at]);
    if eol_len == 0 {
        out.push_str(doc.eol);
    } else {
        out.push_str(&text[at..at + eol_len]);
    }
    out.push_str(&lines);
    out.push_str(&text[at + eol_len..]);
    Ok(out)
}
