//! Params documents: a YAML, JSON or TOML params file read strictly, and edited in
//! place.
//!
//! Reading ([`parse`]) refuses what flattening to dotted keys would silently collapse:
//! a key written twice, and a dotted key (`a.b: 1`) beside the nested form of the same
//! key (`a: {b: 2}`). Each error names its line. Non-finite numbers (YAML `.nan`,
//! TOML `inf`, JSON `NaN`) become the strings metrics use: `"NaN"`, `"Infinity"`,
//! `"-Infinity"`.
//!
//! Writing ([`set_values`], [`render`]) applies overrides with the rules of
//! [`super::params::leaf_overrides`] and verifies every result by reading it back: the
//! flattened values must be the old ones with exactly the overrides set. `set_values`
//! edits the text where the values are (comments, order and layout of everything else
//! stay) and says so when it cannot; `render` then writes the whole document anew.
//! Written values read back the same in the parsers scripts use (PyYAML and YAML 1.2
//! parsers, Python's `json`, TOML): floats keep a decimal point and a signed exponent
//! in YAML, and the strings `"NaN"`, `"Infinity"`, `"-Infinity"` are written as the
//! non-finite numbers they stand for in records (unless the key holds text now).

mod json;
mod toml_doc;
mod yaml;

use super::params::{flatten, leaf_overrides, FlatParams, LeafOverride};
use serde_json::{Number, Value};

/// The syntax of a params file, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Toml,
}

impl Format {
    /// `.yaml`/`.yml`, `.json` or `.toml`; `None` for anything else.
    pub fn of_path(path: &str) -> Option<Format> {
        match std::path::Path::new(path).extension()?.to_str()? {
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

/// Why a document was refused or could not be edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text does not parse, or holds duplicate or colliding keys.
    Syntax,
    /// An override that the document's keys do not allow (a typo, a section, ...).
    Key,
    /// A value the format cannot hold (`null` in TOML).
    Value,
    /// The text cannot be edited in place (flow style, anchors, ...); `render`
    /// writes the document anew instead.
    InPlace,
}

/// A refused document or edit; `line` is 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct DocError {
    pub kind: ErrorKind,
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for DocError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl DocError {
    fn new(kind: ErrorKind, line: Option<usize>, message: impl Into<String>) -> DocError {
        DocError {
            kind,
            line,
            message: message.into(),
        }
    }
    fn syntax(line: Option<usize>, message: impl Into<String>) -> DocError {
        DocError::new(ErrorKind::Syntax, line, message)
    }
    fn in_place(line: Option<usize>, message: impl Into<String>) -> DocError {
        DocError::new(ErrorKind::InPlace, line, message)
    }
}

pub type Result<T, E = DocError> = std::result::Result<T, E>;

/// A parsed document before it becomes JSON: it keeps what JSON cannot say (a
/// non-finite number, a TOML datetime, the order of keys), which a re-serialized
/// document must write back as it was.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    /// A finite number.
    Num(Number),
    NonFinite(f64),
    Str(String),
    /// A TOML date, time or datetime, as written.
    Datetime(String),
    Seq(Vec<Node>),
    Map(Vec<(String, Node)>),
}

/// The strings records use for non-finite numbers.
pub const NAN: &str = "NaN";
pub const INFINITY: &str = "Infinity";
pub const NEG_INFINITY: &str = "-Infinity";

pub(crate) fn non_finite_name(f: f64) -> &'static str {
    if f.is_nan() {
        NAN
    } else if f > 0.0 {
        INFINITY
    } else {
        NEG_INFINITY
    }
}

/// The non-finite number a record string stands for.
pub(crate) fn non_finite_of(s: &str) -> Option<f64> {
    match s {
        NAN => Some(f64::NAN),
        INFINITY => Some(f64::INFINITY),
        NEG_INFINITY => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

impl Node {
    pub(crate) fn float(f: f64) -> Node {
        match Number::from_f64(f) {
            Some(n) => Node::Num(n),
            None => Node::NonFinite(f),
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Num(n) => Value::Number(n.clone()),
            Node::NonFinite(f) => Value::String(non_finite_name(*f).to_string()),
            Node::Str(s) | Node::Datetime(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Node::to_value).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The node an override value becomes; `now` is what the document holds there.
    pub(crate) fn of_value(v: &Value, now: Option<&Node>) -> Node {
        match v {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Num(n.clone()),
            Value::String(s) => match (non_finite_of(s), now) {
                (Some(_), Some(Node::Str(_))) | (None, _) => Node::Str(s.clone()),
                (Some(f), _) => Node::NonFinite(f),
            },
            Value::Array(items) => {
                Node::Seq(items.iter().map(|i| Node::of_value(i, None)).collect())
            }
            Value::Object(m) => Node::Map(
                m.iter()
                    .map(|(k, v)| (k.clone(), Node::of_value(v, None)))
                    .collect(),
            ),
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Reads a params document strictly (see the module doc). An empty document is an
/// empty mapping; any other top level than a mapping is refused.
pub fn parse(text: &str, format: Format) -> Result<Value> {
    Ok(parse_node(text, format)?.to_value())
}

/// [`parse`], flattened to dotted keys.
pub fn parse_flat(text: &str, format: Format) -> Result<FlatParams> {
    Ok(flatten(&parse(text, format)?))
}

/// The key locations a format's reader knows, for the collision check.
pub(crate) trait KeyLines {
    /// The line of the key at this path of mapping keys.
    fn line_of(&self, path: &[String]) -> Option<usize>;
}

pub(crate) fn parse_node(text: &str, format: Format) -> Result<Node> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let node = match format {
        Format::Yaml => {
            let node = yaml::parse(text)?;
            check_collisions(&node, &yaml::ProbeLines(text))?;
            node
        }
        Format::Json => {
            let (node, lines) = json::parse(text)?;
            check_collisions(&node, &lines)?;
            node
        }
        Format::Toml => {
            let (node, lines) = toml_doc::parse(text)?;
            check_collisions(&node, &lines)?;
            node
        }
    };
    match node {
        Node::Null => Ok(Node::Map(Vec::new())),
        Node::Map(_) => Ok(node),
        _ => Err(DocError::syntax(
            Some(1),
            "a params file must hold a mapping of keys at the top",
        )),
    }
}

/// One value of the document and the mapping keys that lead to it.
fn leaves<'a>(node: &'a Node, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, &'a Node)>) {
    match node {
        Node::Map(entries) if !entries.is_empty() || path.is_empty() => {
            for (k, v) in entries {
                path.push(k.clone());
                leaves(v, path, out);
                path.pop();
            }
        }
        other => out.push((path.clone(), other)),
    }
}

/// Refuses two keys that flatten to one dotted key (`a.b: 1` beside `a: {b: 2}`), or
/// a value whose dotted key is a prefix of another's (`a.b: 1` beside `a: {b: {c: 2}}`).
fn check_collisions(node: &Node, lines: &dyn KeyLines) -> Result<()> {
    let mut all = Vec::new();
    leaves(node, &mut Vec::new(), &mut all);
    let mut by_key: std::collections::BTreeMap<String, &Vec<String>> = Default::default();
    for (path, _) in &all {
        let dotted = path.join(".");
        if let Some(other) = by_key.get(&dotted) {
            return Err(collision(lines, other, path, &dotted, None));
        }
        by_key.insert(dotted, path);
    }
    // A dotted key that is a value and also the section of another: sorted keys put
    // `a.b.c` right after `a.b` or after keys that are themselves below `a.b`.
    let keys: Vec<(&String, &&Vec<String>)> = by_key.iter().collect();
    for (i, (k, path)) in keys.iter().enumerate() {
        let section = format!("{k}.");
        if let Some((below, other)) = keys[i + 1..]
            .iter()
            .take_while(|(b, _)| b.starts_with(k.as_str()))
            .find(|(b, _)| b.starts_with(&section))
        {
            return Err(collision(lines, path, other, below, Some(k)));
        }
    }
    Ok(())
}

fn collision(
    lines: &dyn KeyLines,
    a: &[String],
    b: &[String],
    dotted: &str,
    value_of: Option<&str>,
) -> DocError {
    let (la, lb) = (lines.line_of(a), lines.line_of(b));
    // The later one is where the problem shows.
    let (first, second, second_path) = match (la, lb) {
        (Some(x), Some(y)) if y < x => (Some(y), Some(x), a),
        _ => (la, lb, b),
    };
    let at = first.map(|l| format!(" at line {l}")).unwrap_or_default();
    let written = if second_path.iter().any(|s| s.contains('.')) {
        "written with dots"
    } else {
        "nested"
    };
    let message = match value_of {
        None => format!(
            "key '{dotted}' ({written}) is the same dotted key as the one{at}; flattened, one would silently replace the other: keep one spelling"
        ),
        Some(v) => format!(
            "key '{dotted}' would sit below '{v}', which holds a value{at}; keep one spelling"
        ),
    };
    DocError::syntax(second, message)
}

/// Sets the given keys in a params document by editing its text: `(key, value)` with
/// `key` dotted, `+key` to add a key the document lacks (see
/// [`super::params::leaf_overrides`]). Everything else keeps its bytes. The result
/// always reads back as the old document with these keys set; when the text cannot
/// be edited so (flow style, anchors, ...), the error's kind is
/// [`ErrorKind::InPlace`].
pub fn set_values(text: &str, format: Format, values: &[(String, Value)]) -> Result<String> {
    let plan = Plan::new(text, format, values)?;
    if plan.ops.is_empty() {
        return Ok(text.to_string());
    }
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(b) => ("\u{feff}", b),
        None => ("", text),
    };
    let edited = match format {
        Format::Yaml => yaml::edit(body, &plan)?,
        Format::Json => json::edit(body, &plan)?,
        Format::Toml => toml_doc::edit(body, &plan)?,
    };
    let out = format!("{bom}{edited}");
    plan.verify(&out)?;
    Ok(out)
}

/// The params file a run's command reads: `text` with the overrides set, edited in
/// place when possible (see [`set_values`]), else the whole document written anew
/// (same values; comments and layout are lost). Without overrides, `text` itself.
pub fn render(text: &str, format: Format, overrides: &[(String, Value)]) -> Result<Vec<u8>> {
    match set_values(text, format, overrides) {
        Ok(s) => Ok(s.into_bytes()),
        Err(e) if e.kind == ErrorKind::InPlace => {
            let plan = Plan::new(text, format, overrides)?;
            let out = match format {
                Format::Yaml => yaml::write_document(&plan.expected),
                Format::Json => json::write_document(&plan.expected),
                Format::Toml => toml_doc::write_document(&plan.expected)?,
            };
            plan.verify(&out)?;
            Ok(out.into_bytes())
        }
        Err(e) => Err(e),
    }
}

/// One value to set: where it goes in the document and what it becomes.
#[derive(Debug, Clone)]
pub(crate) struct SetOp {
    /// The dotted key, as the override named it.
    pub key: String,
    /// Mapping keys of the document that exist, leading to the value (or, when
    /// adding, to the mapping the new keys go into).
    pub path: Vec<String>,
    /// New mapping keys to create below `path` (empty when the value exists).
    pub new: Vec<String>,
    pub value: Node,
}

/// Overrides resolved against a document, and the document they must yield.
pub(crate) struct Plan {
    format: Format,
    pub ops: Vec<SetOp>,
    pub expected: Node,
}

impl Plan {
    fn new(text: &str, format: Format, values: &[(String, Value)]) -> Result<Plan> {
        let doc = parse_node(text, format)?;
        let flat = flatten(&doc.to_value());
        let leaves = leaf_overrides(values, Some(&flat))
            .map_err(|e| DocError::new(ErrorKind::Key, None, e.to_string()))?;
        let mut expected = doc.clone();
        let mut ops = Vec::new();
        for LeafOverride {
            key, value, add, ..
        } in leaves
        {
            let (path, new) = resolve(&expected, &key, add).ok_or_else(|| {
                DocError::new(
                    ErrorKind::Key,
                    None,
                    format!("key '{key}' cannot be placed in the document"),
                )
            })?;
            let now = get_path(&expected, &path).filter(|_| new.is_empty());
            let value = Node::of_value(&value, now);
            if format == Format::Toml && contains_null(&value) {
                return Err(DocError::new(
                    ErrorKind::Value,
                    None,
                    format!("{key}: TOML has no null value"),
                ));
            }
            set_path(&mut expected, &path, &new, value.clone());
            // A later override of the same key replaces an earlier one.
            ops.retain(|o: &SetOp| o.key != key);
            ops.push(SetOp {
                key,
                path,
                new,
                value,
            });
        }
        Ok(Plan {
            format,
            ops,
            expected,
        })
    }

    /// The edited text must read back as exactly the expected document.
    fn verify(&self, out: &str) -> Result<()> {
        let got = parse_node(out, self.format).map_err(|e| {
            DocError::in_place(
                e.line,
                format!("the edited document does not read back ({})", e.message),
            )
        })?;
        let (got, want) = (flatten(&got.to_value()), flatten(&self.expected.to_value()));
        if got != want {
            let key = got
                .iter()
                .find(|(k, v)| want.get(*k) != Some(*v))
                .map(|(k, _)| k)
                .or_else(|| want.keys().find(|k| !got.contains_key(*k)))
                .cloned()
                .unwrap_or_default();
            return Err(DocError::in_place(
                None,
                format!("an edit in place would change '{key}' as well (anchors, aliases or merge keys share it)"),
            ));
        }
        Ok(())
    }
}

fn contains_null(n: &Node) -> bool {
    match n {
        Node::Null => true,
        Node::Seq(items) => items.iter().any(contains_null),
        Node::Map(entries) => entries.iter().any(|(_, v)| contains_null(v)),
        _ => false,
    }
}

/// The document path of a dotted key: for a key that exists, the mapping keys whose
/// dotted join it is; for a new one, the deepest existing mapping whose dotted path
/// is a prefix, and the new keys below it split at the dots.
fn resolve(doc: &Node, key: &str, add: bool) -> Option<(Vec<String>, Vec<String>)> {
    fn walk(node: &Node, rest: &str, path: &mut Vec<String>, add: bool) -> Option<Vec<String>> {
        let Node::Map(entries) = node else {
            return None;
        };
        for (k, v) in entries {
            if k == rest && !add {
                path.push(k.clone());
                return Some(Vec::new());
            }
            if let Some(tail) = rest
                .strip_prefix(k.as_str())
                .and_then(|t| t.strip_prefix('.'))
            {
                if matches!(v, Node::Map(_)) {
                    path.push(k.clone());
                    if let Some(new) = walk(v, tail, path, add) {
                        return Some(new);
                    }
                    path.pop();
                }
            }
        }
        add.then(|| rest.split('.').map(str::to_string).collect())
    }
    let mut path = Vec::new();
    let new = walk(doc, key, &mut path, add)?;
    Some((path, new))
}

fn get_path<'a>(node: &'a Node, path: &[String]) -> Option<&'a Node> {
    path.iter().try_fold(node, |n, k| n.get(k))
}

fn set_path(node: &mut Node, path: &[String], new: &[String], value: Node) {
    let Node::Map(entries) = node else {
        unreachable!("resolve walks mappings only")
    };
    match path.split_first() {
        Some((k, rest)) => {
            let (_, child) = entries
                .iter_mut()
                .find(|(e, _)| e == k)
                .expect("resolved path exists");
            if rest.is_empty() && new.is_empty() {
                *child = value;
            } else {
                set_path(child, rest, new, value);
            }
        }
        None => entries.push((new[0].clone(), nest(&new[1..], value))),
    }
}

/// `value` below the keys `keys`, outermost first.
pub(crate) fn nest(keys: &[String], value: Node) -> Node {
    keys.iter()
        .rev()
        .fold(value, |v, k| Node::Map(vec![(k.clone(), v)]))
}

/// A float as text every reader of YAML, JSON, TOML and Hydra's grammar takes as
/// that float and not an integer: the shortest digits that read back exactly, a
/// decimal point always, and, outside 1e-4..1e16 (where Python's `repr` switches
/// too), a signed exponent (`1.0e-05` would be `1.0e-5`; PyYAML needs the sign).
pub fn float_text(f: f64) -> String {
    let a = f.abs();
    if a == 0.0 || (1e-4..1e16).contains(&a) {
        let s = format!("{f}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    let s = format!("{f:e}");
    let (m, e) = s.split_once('e').expect("LowerExp writes an exponent");
    let m = if m.contains('.') {
        m.to_string()
    } else {
        format!("{m}.0")
    };
    let e = if e.starts_with('-') {
        e.to_string()
    } else {
        format!("+{e}")
    };
    format!("{m}e{e}")
}

/// The 1-based line of a byte offset.
pub(crate) fn line_at(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests;
