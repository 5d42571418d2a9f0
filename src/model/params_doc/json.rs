//! JSON params documents: a reader that keeps the span of every value (for edits in
//! place and for the lines of errors) and accepts Python's `NaN`, `Infinity` and
//! `-Infinity` tokens, as `json.dump` writes them.

use super::{line_at, nest, DocError, KeyLines, Node, Plan, Result, SetOp};

/// Nesting deeper than this is refused (as serde_json does), not a stack overflow.
const MAX_DEPTH: usize = 128;

/// A value and the bytes it spans.
#[derive(Debug)]
pub(super) struct Spanned {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

#[derive(Debug)]
pub(super) enum Kind {
    Scalar(Node),
    Array(Vec<Spanned>),
    /// Members: key, the key's start, value.
    Object(Vec<(String, usize, Spanned)>),
}

impl Spanned {
    fn to_node(&self) -> Node {
        match &self.kind {
            Kind::Scalar(n) => n.clone(),
            Kind::Array(items) => Node::Seq(items.iter().map(Spanned::to_node).collect()),
            Kind::Object(members) => Node::Map(
                members
                    .iter()
                    .map(|(k, _, v)| (k.clone(), v.to_node()))
                    .collect(),
            ),
        }
    }

    fn at(&self, path: &[String]) -> Option<&Spanned> {
        match path.split_first() {
            None => Some(self),
            Some((k, rest)) => match &self.kind {
                Kind::Object(members) => members
                    .iter()
                    .find(|(m, _, _)| m == k)
                    .and_then(|(_, _, v)| v.at(rest)),
                _ => None,
            },
        }
    }
}

/// The lines of every key, by path.
pub(super) struct Lines(Vec<(Vec<String>, usize)>);

impl KeyLines for Lines {
    fn line_of(&self, path: &[String]) -> Option<usize> {
        self.0.iter().find(|(p, _)| p == path).map(|(_, l)| *l)
    }
}

pub(super) fn parse(text: &str) -> Result<(Node, Lines)> {
    let tree = parse_spanned(text)?;
    let mut lines = Vec::new();
    collect_lines(text, &tree, &mut Vec::new(), &mut lines);
    Ok((tree.to_node(), Lines(lines)))
}

fn collect_lines(
    text: &str,
    v: &Spanned,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, usize)>,
) {
    if let Kind::Object(members) = &v.kind {
        for (k, at, child) in members {
            path.push(k.clone());
            out.push((path.clone(), line_at(text, *at)));
            collect_lines(text, child, path, out);
            path.pop();
        }
    }
}

pub(super) fn parse_spanned(text: &str) -> Result<Spanned> {
    let mut p = Parser {
        text,
        pos: 0,
        path: Vec::new(),
    };
    p.ws();
    if p.pos == text.len() {
        return Ok(Spanned {
            start: 0,
            end: 0,
            kind: Kind::Scalar(Node::Null),
        });
    }
    let v = p.value(0)?;
    p.ws();
    if p.pos < text.len() {
        return Err(p.error("trailing characters after the JSON value"));
    }
    Ok(v)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
    path: Vec<String>,
}

impl Parser<'_> {
    fn error(&self, message: impl Into<String>) -> DocError {
        DocError::syntax(Some(line_at(self.text, self.pos)), message)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, c: u8, what: &str) -> Result<()> {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected {what}")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Spanned> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nested more than {MAX_DEPTH} levels deep")));
        }
        self.ws();
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.error("expected ',' or ']'")),
                        }
                    }
                }
                Kind::Array(items)
            }
            Some(b'"') => Kind::Scalar(Node::Str(self.string()?)),
            Some(_) => Kind::Scalar(self.literal()?),
            None => return Err(self.error("unexpected end of the document")),
        };
        Ok(Spanned {
            start,
            end: self.pos,
            kind,
        })
    }

    fn object(&mut self, depth: usize) -> Result<Kind> {
        self.pos += 1;
        let mut members: Vec<(String, usize, Spanned)> = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Kind::Object(members));
        }
        loop {
            self.ws();
            let key_at = self.pos;
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a key in double quotes"));
            }
            let key = self.string()?;
            if let Some((_, first, _)) = members.iter().find(|(k, _, _)| *k == key) {
                let mut path = self.path.clone();
                path.push(key);
                self.pos = key_at;
                return Err(self.error(format!(
                    "duplicate key '{}' (first at line {})",
                    path.join("."),
                    line_at(self.text, *first)
                )));
            }
            self.expect(b':', "':' after the key")?;
            self.path.push(key.clone());
            let v = self.value(depth + 1)?;
            self.path.pop();
            members.push((key, key_at, v));
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Kind::Object(members));
                }
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// A string token, decoded by serde_json (escapes, surrogate pairs).
    fn string(&mut self) -> Result<String> {
        let start = self.pos;
        let bytes = self.text.as_bytes();
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                None => return Err(self.error("unterminated string")),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let token = &self.text[start..=i];
        let s = serde_json::from_str::<String>(token).map_err(|e| {
            let msg = e.to_string();
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
            self.error(msg)
        })?;
        self.pos = i + 1;
        Ok(s)
    }

    fn literal(&mut self) -> Result<Node> {
        let rest = &self.text[self.pos..];
        for (word, node) in [
            ("true", Node::Bool(true)),
            ("false", Node::Bool(false)),
            ("null", Node::Null),
            ("NaN", Node::NonFinite(f64::NAN)),
            ("Infinity", Node::NonFinite(f64::INFINITY)),
            ("-Infinity", Node::NonFinite(f64::NEG_INFINITY)),
        ] {
            if rest.starts_with(word)
                && !rest[word.len()..].starts_with(|c: char| c.is_alphanumeric())
            {
                self.pos += word.len();
                return Ok(node);
            }
        }
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
            .unwrap_or(rest.len());
        let token = &rest[..len];
        if !is_json_number(token) {
            return Err(self.error(if token.is_empty() {
                "expected a value".to_string()
            } else {
                format!("'{token}' is not a JSON number")
            }));
        }
        let n: serde_json::Number = serde_json::from_str(token)
            .map_err(|e| self.error(format!("'{token}' is not a JSON number: {e}")))?;
        self.pos += len;
        Ok(Node::Num(n))
    }
}

fn is_json_number(t: &str) -> bool {
    let b = t.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - s
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[int_start] == b'0') {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A value as compact JSON (`[1, 2]`, `{"a": 1}`), non-finite numbers as Python's
/// tokens.
pub(super) fn write_value(node: &Node, out: &mut String) {
    match node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Num(n) if n.is_f64() => out.push_str(&super::float_text(n.as_f64().expect("float"))),
        Node::Num(n) => out.push_str(&n.to_string()),
        Node::NonFinite(f) => out.push_str(super::non_finite_name(*f)),
        Node::Str(s) | Node::Datetime(s) => {
            out.push_str(&serde_json::to_string(s).expect("string"))
        }
        Node::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Node::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::to_string(k).expect("string"));
                out.push_str(": ");
                write_value(v, out);
            }
            out.push('}');
        }
    }
}

/// The whole document, indented by two spaces as `json.dump(indent=2)` writes it.
pub(super) fn write_document(doc: &Node) -> String {
    fn pretty(node: &Node, indent: usize, out: &mut String) {
        let pad = |n: usize| "  ".repeat(n);
        match node {
            Node::Map(entries) if !entries.is_empty() => {
                out.push_str("{\n");
                for (i, (k, v)) in entries.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    out.push_str(&serde_json::to_string(k).expect("string"));
                    out.push_str(": ");
                    pretty(v, indent + 1, out);
                    out.push_str(if i + 1 < entries.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
            other => write_value(other, out),
        }
    }
    let mut out = String::new();
    pretty(doc, 0, &mut out);
    out.push('\n');
    out
}

pub(super) fn edit(text: &str, plan: &Plan) -> Result<String> {
    let mut text = text.to_string();
    for op in &plan.ops {
        text = edit_one(&text, op)?;
    }
    Ok(text)
}

fn edit_one(text: &str, op: &SetOp) -> Result<String> {
    let tree = parse_spanned(text)?;
    let mut out = String::with_capacity(text.len() + 32);
    let target = tree.at(&op.path).ok_or_else(|| {
        DocError::in_place(None, format!("'{}' was not found in the document", op.key))
    })?;
    if op.new.is_empty() {
        out.push_str(&text[..target.start]);
        write_value(&op.value, &mut out);
        out.push_str(&text[target.end..]);
        return Ok(out);
    }
    let Kind::Object(members) = &target.kind else {
        return Err(DocError::in_place(
            None,
            format!("'{}' does not go into a mapping", op.key),
        ));
    };
    let mut member = serde_json::to_string(&op.new[0]).expect("string");
    member.push_str(": ");
    write_value(&nest(&op.new[1..], op.value.clone()), &mut member);
    match members.last() {
        None => {
            // `{}` or `{ }`: the member goes between the braces.
            out.push_str(&text[..target.start + 1]);
            out.push_str(&member);
            out.push_str(&text[target.end - 1..]);
        }
        Some((_, _, last)) => {
            let first_key = members[0].1;
            let gap = &text[target.start + 1..first_key];
            let sep = match gap.rfind('\n') {
                // One member per line: the new one on a line of its own, indented alike.
                Some(nl) => {
                    let eol = if gap[..nl].ends_with('\r') || text.contains("\r\n") {
                        "\r\n"
                    } else {
                        "\n"
                    };
                    format!(",{eol}{}", &gap[nl + 1..])
                }
                None => ", ".to_string(),
            };
            out.push_str(&text[..last.end]);
            out.push_str(&sep);
            out.push_str(&member);
            out.push_str(&text[last.end..]);
        }
    }
    Ok(out)
}
