//! TOML params documents: values from `toml`, key lines from its spanned tree, edits
//! through `toml_edit` (which keeps comments, order and layout of what it does not
//! touch; TOML's own rules — tables, dotted keys, inline tables — are its job).

use super::{line_at, nest, DocError, ErrorKind, KeyLines, Node, Plan, Result};
use toml::de::{DeTable, DeValue};

/// The line of every key, by path.
pub(super) struct Lines(Vec<(Vec<String>, usize)>);

impl KeyLines for Lines {
    fn line_of(&self, path: &[String]) -> Option<usize> {
        self.0.iter().find(|(p, _)| p == path).map(|(_, l)| *l)
    }
}

pub(super) fn parse(text: &str) -> Result<(Node, Lines)> {
    let table = toml::from_str::<toml::Table>(text).map_err(|e| refused(text, &e))?;
    let spanned = DeTable::parse(text).map_err(|e| refused(text, &e))?;
    let mut lines = Vec::new();
    key_spans(spanned.get_ref(), &mut Vec::new(), &mut |path, span| {
        lines.push((path.to_vec(), line_at(text, span.start)));
    });
    Ok((node_of_table(&table), Lines(lines)))
}

fn node_of_table(t: &toml::Table) -> Node {
    Node::Map(t.iter().map(|(k, v)| (k.clone(), node_of(v))).collect())
}

fn node_of(v: &toml::Value) -> Node {
    match v {
        toml::Value::String(s) => Node::Str(s.clone()),
        toml::Value::Integer(i) => Node::Num((*i).into()),
        toml::Value::Float(f) => Node::float(*f),
        toml::Value::Boolean(b) => Node::Bool(*b),
        toml::Value::Datetime(d) => Node::Datetime(d.to_string()),
        toml::Value::Array(items) => Node::Seq(items.iter().map(node_of).collect()),
        toml::Value::Table(t) => node_of_table(t),
    }
}

/// Calls `f` with the path and span of every mapping key (not those inside arrays).
fn key_spans(
    t: &DeTable<'_>,
    path: &mut Vec<String>,
    f: &mut dyn FnMut(&[String], std::ops::Range<usize>),
) {
    for (k, v) in t.iter() {
        path.push(k.get_ref().to_string());
        f(path, k.span());
        if let DeValue::Table(child) = v.get_ref() {
            key_spans(child, path, f);
        }
        path.pop();
    }
}

/// The parser's error at its line; a duplicate key names its path and the line of
/// the first one.
fn refused(text: &str, e: &toml::de::Error) -> DocError {
    let line = e.span().map(|s| line_at(text, s.start));
    let message = e.message().trim().to_string();
    if message.starts_with("duplicate key") {
        if let Some(span) = e.span() {
            if let Some((path, first)) = duplicate(text, span) {
                let first = first
                    .map(|l| format!(" (first at line {l})"))
                    .unwrap_or_default();
                return DocError::syntax(
                    line,
                    format!("duplicate key '{}'{first}", path.join(".")),
                );
            }
        }
    }
    DocError::syntax(line, message)
}

/// The full path of the duplicate key at `span`, and the line of its first
/// occurrence. The parser names neither: the key is renamed to a marker, the
/// document read with recovery, and the marker's place gives the path.
fn duplicate(text: &str, span: std::ops::Range<usize>) -> Option<(Vec<String>, Option<usize>)> {
    const MARK: &str = "workbench_duplicate_key_marker";
    let written = text.get(span.clone())?;
    // The key as TOML reads it (quoted, dotted): parse it as a key of its own.
    let alone = format!("{written} = 0");
    let mut segments = Vec::new();
    key_spans(
        DeTable::parse(&alone).ok()?.get_ref(),
        &mut Vec::new(),
        &mut |p, _| {
            segments = p.to_vec();
        },
    );
    let marked = format!("{}{MARK}{}", &text[..span.start], &text[span.end..]);
    let (tree, _) = DeTable::parse_recoverable(&marked);
    let mut parent = None;
    key_spans(tree.get_ref(), &mut Vec::new(), &mut |p, _| {
        if p.last().map(String::as_str) == Some(MARK) && parent.is_none() {
            parent = Some(p[..p.len() - 1].to_vec());
        }
    });
    let mut path = parent?;
    path.extend(segments);
    // The marked text is the original before the duplicate, so its first occurrence
    // is there as written (the original's tree may carry the later header's span).
    let mut first = None;
    key_spans(tree.get_ref(), &mut Vec::new(), &mut |p, s| {
        if p == path && first.is_none() && s.start < span.start {
            first = Some(line_at(text, s.start));
        }
    });
    Some((path, first))
}

fn value_error(key: &str, why: &str) -> DocError {
    DocError::new(ErrorKind::Value, None, format!("{key}: {why}"))
}

fn edit_value(key: &str, n: &Node) -> Result<toml_edit::Value> {
    Ok(match n {
        Node::Null => return Err(value_error(key, "TOML has no null value")),
        Node::Bool(b) => (*b).into(),
        Node::Num(num) => match (num.as_i64(), num.as_f64()) {
            (Some(i), _) => i.into(),
            (None, Some(f)) if !num.is_u64() => f.into(),
            _ => return Err(value_error(key, "the integer is too large for TOML")),
        },
        Node::NonFinite(f) => (*f).into(),
        Node::Str(s) => s.as_str().into(),
        Node::Datetime(d) => d
            .parse::<toml_edit::Datetime>()
            .map_err(|_| value_error(key, "not a TOML datetime"))?
            .into(),
        Node::Seq(items) => {
            let mut a = toml_edit::Array::new();
            for i in items {
                a.push(edit_value(key, i)?);
            }
            a.into()
        }
        Node::Map(entries) => {
            let mut t = toml_edit::InlineTable::new();
            for (k, v) in entries {
                t.insert(k, edit_value(key, v)?);
            }
            t.into()
        }
    })
}

pub(super) fn edit(text: &str, plan: &Plan) -> Result<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        DocError::in_place(
            e.span().map(|s| line_at(text, s.start)),
            format!("toml_edit cannot read the document: {}", e.message()),
        )
    })?;
    for op in &plan.ops {
        let not_found = || DocError::in_place(None, format!("'{}' was not found", op.key));
        let mut item = doc.as_item_mut();
        for k in &op.path {
            item = item
                .as_table_like_mut()
                .and_then(|t| t.get_mut(k))
                .ok_or_else(not_found)?;
        }
        if op.new.is_empty() {
            let mut v = edit_value(&op.key, &op.value)?;
            match item.as_value_mut() {
                Some(old) => {
                    // The comment and spacing around the old value stay.
                    *v.decor_mut() = old.decor().clone();
                    *old = v;
                }
                None => *item = toml_edit::Item::Value(v),
            }
        } else {
            let value = edit_value(&op.key, &nest(&op.new[1..], op.value.clone()))?;
            let table = item.as_table_like_mut().ok_or_else(not_found)?;
            table.insert(&op.new[0], toml_edit::Item::Value(value));
        }
    }
    let out = doc.to_string();
    // toml_edit writes `\n`; a document that ends its lines with `\r\n` keeps them.
    let crlf = text.contains("\r\n") && !text.replace("\r\n", "").contains('\n');
    Ok(if crlf {
        out.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        out
    })
}

pub(super) fn write_document(doc: &Node) -> Result<String> {
    fn value(n: &Node) -> Result<toml::Value> {
        Ok(match n {
            Node::Null => return Err(value_error("value", "TOML has no null value")),
            Node::Bool(b) => toml::Value::Boolean(*b),
            Node::Num(num) => match (num.as_i64(), num.as_f64()) {
                (Some(i), _) => toml::Value::Integer(i),
                (None, Some(f)) if !num.is_u64() => toml::Value::Float(f),
                _ => return Err(value_error(&num.to_string(), "too large for TOML")),
            },
            Node::NonFinite(f) => toml::Value::Float(*f),
            Node::Str(s) => toml::Value::String(s.clone()),
            Node::Datetime(d) => toml::Value::Datetime(
                d.parse()
                    .map_err(|_| value_error(d, "not a TOML datetime"))?,
            ),
            Node::Seq(items) => toml::Value::Array(items.iter().map(value).collect::<Result<_>>()?),
            Node::Map(entries) => {
                let mut t = toml::Table::new();
                for (k, v) in entries {
                    t.insert(k.clone(), value(v)?);
                }
                toml::Value::Table(t)
            }
        })
    }
    let toml::Value::Table(t) = value(doc)? else {
        unreachable!("a document is a mapping")
    };
    toml::to_string(&t).map_err(|e| value_error("document", &e.to_string()))
}
