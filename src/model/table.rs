//! The comparison table: one row per run, built from run records (never by re-reading
//! files), with deterministic columns — `run_id, stage, started_at, state`, then
//! `forced` when a run shown was approved over a failed review, then `params.*`, then
//! `metrics.*`, each group sorted — so its CSV diffs cleanly.

use super::manifest::RunManifest;
use serde_json::Value;
use std::cmp::Ordering;

pub const BASE_COLUMNS: [&str; 4] = ["run_id", "stage", "started_at", "state"];

/// The column that marks forced approvals: the checks each overrode, empty for every
/// other run. Present only when a row has one, so tables without a forced approval
/// keep the columns they always had.
pub const FORCED_COLUMN: &str = "forced";

/// A column about the run itself rather than its params or metrics: kept by
/// `--columns` and `--only-changed` like the base columns.
pub fn is_run_column(name: &str) -> bool {
    BASE_COLUMNS.contains(&name) || name == FORCED_COLUMN
}

/// The `forced` cell of a run: `None` unless its approval was forced, else the
/// blocking checks its review failed (`forced` when the review names none).
pub fn forced_cell(checks: Option<&[String]>) -> Cell {
    match checks {
        None => Cell::Empty,
        Some([]) => Cell::Text(FORCED_COLUMN.to_string()),
        Some(names) => Cell::Text(names.join(", ")),
    }
}

/// A cell: absent (empty), a number (NaN/Inf kept as such), or text.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Number(f64),
    Text(String),
}

impl Cell {
    pub fn from_json(v: &Value) -> Cell {
        match v {
            Value::Null => Cell::Empty,
            Value::Number(n) => n.as_f64().map_or(Cell::Empty, Cell::Number),
            Value::String(s) => match s.as_str() {
                "NaN" => Cell::Number(f64::NAN),
                "Infinity" => Cell::Number(f64::INFINITY),
                "-Infinity" => Cell::Number(f64::NEG_INFINITY),
                _ => Cell::Text(s.clone()),
            },
            Value::Bool(b) => Cell::Text(b.to_string()),
            other => Cell::Text(other.to_string()),
        }
    }

    /// Parses a CSV field: empty, a number, or text.
    pub fn parse(s: &str) -> Cell {
        if s.is_empty() {
            return Cell::Empty;
        }
        match s.trim().parse::<f64>() {
            Ok(n) if !s.trim().is_empty() => Cell::Number(n),
            _ => Cell::Text(s.to_string()),
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Number(n) => Some(*n),
            _ => None,
        }
    }

    pub fn is_non_finite(&self) -> bool {
        matches!(self, Cell::Number(n) if !n.is_finite())
    }

    /// The text written to CSV and shown in tables: integers without a decimal point,
    /// floats in their shortest round-trip form, NaN/Inf as `NaN`, `inf`, `-inf`.
    pub fn render(&self) -> String {
        let mut s = String::new();
        self.render_into(&mut s);
        s
    }

    /// `render`, appended to `out`.
    pub fn render_into(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Cell::Empty => Ok(()),
            Cell::Text(s) => out.write_str(s),
            Cell::Number(n) if n.is_nan() => out.write_str("NaN"),
            Cell::Number(n) if n.is_infinite() => {
                out.write_str(if *n > 0.0 { "inf" } else { "-inf" })
            }
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                write!(out, "{}", *n as i64)
            }
            Cell::Number(n) => write!(out, "{n}"),
        };
    }
}

/// Comparison order: numbers by value (NaN last), text lexically, empty last.
pub fn compare_cells(a: &Cell, b: &Cell) -> Ordering {
    match (a, b) {
        (Cell::Empty, Cell::Empty) => Ordering::Equal,
        (Cell::Empty, _) => Ordering::Greater,
        (_, Cell::Empty) => Ordering::Less,
        (Cell::Number(x), Cell::Number(y)) => x
            .partial_cmp(y)
            .unwrap_or_else(|| x.is_nan().cmp(&y.is_nan())),
        (Cell::Number(_), Cell::Text(_)) => Ordering::Less,
        (Cell::Text(_), Cell::Number(_)) => Ordering::Greater,
        (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// One run as the table sees it.
pub struct RunRow<'a> {
    pub run_id: &'a str,
    pub stage: &'a str,
    pub started_at: super::time::Timestamp,
    pub state: &'a str,
    pub params: &'a std::collections::BTreeMap<String, Value>,
    pub metrics: &'a std::collections::BTreeMap<String, Value>,
    /// For a forced approval, the checks it overrode (`forced_cell`).
    pub forced: Option<&'a [String]>,
}

impl<'a> RunRow<'a> {
    pub fn of(m: &'a RunManifest, state: &'a str) -> RunRow<'a> {
        RunRow {
            run_id: &m.run_id,
            stage: &m.stage,
            started_at: m.started_at,
            state,
            params: &m.params_used,
            metrics: &m.metrics,
            forced: None,
        }
    }
}

impl Table {
    /// Builds the table from runs (in the order given). Each row is filled from its
    /// own params and metrics, so a wide, sparse table (many stages, each with its
    /// own params) costs the cells that are set, not rows × columns lookups.
    pub fn from_runs<'a>(runs: &[RunRow<'a>]) -> Table {
        // Gathered in a hash set, sorted once: at 100,000 runs an ordered set compared
        // half a million keys with their long shared prefixes (a fifth of `compare`).
        let sorted = |keys: std::collections::HashSet<&'a String>| {
            let mut v: Vec<&String> = keys.into_iter().collect();
            v.sort_unstable();
            v
        };
        let params = sorted(runs.iter().flat_map(|r| r.params.keys()).collect());
        let metrics = sorted(runs.iter().flat_map(|r| r.metrics.keys()).collect());
        let mut columns: Vec<String> = BASE_COLUMNS.iter().map(|s| s.to_string()).collect();
        let forced = runs.iter().any(|r| r.forced.is_some());
        if forced {
            columns.push(FORCED_COLUMN.to_string());
        }
        columns.extend(params.iter().map(|p| format!("params.{p}")));
        columns.extend(metrics.iter().map(|m| format!("metrics.{m}")));
        let base = BASE_COLUMNS.len() + usize::from(forced);
        let param_at: std::collections::HashMap<&str, usize> = params
            .iter()
            .enumerate()
            .map(|(i, p)| (p.as_str(), base + i))
            .collect();
        let metric_at: std::collections::HashMap<&str, usize> = metrics
            .iter()
            .enumerate()
            .map(|(i, m)| (m.as_str(), base + params.len() + i))
            .collect();
        let width = columns.len();
        let rows = runs
            .iter()
            .map(|r| {
                let mut row = Vec::with_capacity(width);
                row.extend([
                    Cell::Text(r.run_id.to_string()),
                    Cell::Text(r.stage.to_string()),
                    Cell::Text(r.started_at.to_string()),
                    Cell::Text(r.state.to_string()),
                ]);
                if forced {
                    row.push(forced_cell(r.forced));
                }
                row.resize(width, Cell::Empty);
                for (k, v) in r.params {
                    row[param_at[k.as_str()]] = Cell::from_json(v);
                }
                for (k, v) in r.metrics {
                    row[metric_at[k.as_str()]] = Cell::from_json(v);
                }
                row
            })
            .collect();
        Table { columns, rows }
    }

    /// The index of a column named exactly, or by its short name (`lr` for
    /// `params.lr`, `precision` for `metrics.precision`) when that is unambiguous.
    pub fn column(&self, name: &str) -> Result<usize, super::error::Error> {
        self.column_text(name).map_err(super::error::Error::Column)
    }

    fn column_text(&self, name: &str) -> Result<usize, String> {
        if let Some(i) = self.columns.iter().position(|c| c == name) {
            return Ok(i);
        }
        let hits: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.strip_prefix("params.")
                    .or_else(|| c.strip_prefix("metrics."))
                    == Some(name)
            })
            .map(|(i, _)| i)
            .collect();
        match hits.as_slice() {
            [i] => Ok(*i),
            [] => Err(format!(
                "no column '{name}' (columns: {})",
                self.columns.join(", ")
            )),
            _ => Err(format!(
                "'{name}' is both a param and a metric; say params.{name} or metrics.{name}"
            )),
        }
    }

    /// Keeps rows for which `keep` is true.
    pub fn retain_rows(&mut self, mut keep: impl FnMut(&[Cell]) -> bool) {
        self.rows.retain(|r| keep(r));
    }

    /// Keeps the columns whose index `keep` accepts, in order.
    pub fn retain_columns(&mut self, keep: impl Fn(usize, &str) -> bool) {
        let idx: Vec<usize> = (0..self.columns.len())
            .filter(|i| keep(*i, &self.columns[*i]))
            .collect();
        self.columns = idx.iter().map(|i| self.columns[*i].clone()).collect();
        for r in &mut self.rows {
            *r = idx.iter().map(|i| r[*i].clone()).collect();
        }
    }

    /// Drops params and metrics columns whose value is the same in every row.
    pub fn drop_constant(&mut self) {
        let rows = self.rows.clone();
        self.retain_columns(|i, name| {
            is_run_column(name)
                || rows.windows(2).any(|w| {
                    compare_cells(&w[0][i], &w[1][i]) != Ordering::Equal || w[0][i] != w[1][i]
                })
        });
    }

    /// Sorts by a column, ascending or descending; ties keep their order.
    pub fn sort_by(&mut self, col: usize, descending: bool) {
        self.rows.sort_by(|a, b| {
            let o = compare_cells(&a[col], &b[col]);
            // Empty cells stay last in both directions.
            match (&a[col], &b[col], descending) {
                (Cell::Empty, _, _) | (_, Cell::Empty, _) => o,
                (_, _, true) => o.reverse(),
                _ => o,
            }
        });
    }
}

/// A `--where` condition: `COLUMN OP VALUE` with OP one of `>= <= != > < =`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub column: String,
    pub op: &'static str,
    pub value: Cell,
}

pub fn parse_condition(s: &str) -> Result<Condition, super::error::Error> {
    for op in [">=", "<=", "!=", "==", ">", "<", "="] {
        if let Some(i) = s.find(op) {
            let column = s[..i].trim();
            let value = s[i + op.len()..].trim();
            // `f1>>0.5`, `f1=>1`, `a<=` are typos, not a comparison with a text value.
            if column.is_empty()
                || value.is_empty()
                || value.starts_with(['<', '>', '=', '!'])
                || column.ends_with(['<', '>', '=', '!'])
            {
                break;
            }
            let op: &'static str = if op == "==" { "=" } else { op };
            return Ok(Condition {
                column: column.to_string(),
                op,
                value: Cell::parse(value),
            });
        }
    }
    Err(super::error::Error::Condition(s.to_string()))
}

impl Condition {
    pub fn holds(&self, cell: &Cell) -> bool {
        if matches!(cell, Cell::Empty) {
            return self.op == "!=";
        }
        let o = compare_cells(cell, &self.value);
        let same_kind = matches!(
            (cell, &self.value),
            (Cell::Number(_), Cell::Number(_)) | (Cell::Text(_), Cell::Text(_))
        );
        match self.op {
            "=" => same_kind && o == Ordering::Equal,
            "!=" => !(same_kind && o == Ordering::Equal),
            ">" => same_kind && o == Ordering::Greater,
            "<" => same_kind && o == Ordering::Less,
            ">=" => same_kind && o != Ordering::Less,
            "<=" => same_kind && o != Ordering::Greater,
            _ => false,
        }
    }
}

/// Glob match with `*` and `?` (for `--columns` / `--exclude`).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], s) || (!s.is_empty() && go(p, &s[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &s[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), name.as_bytes())
}

/// Escapes a cell for a markdown table: `|` and newlines, and a leading `=`, `+`, `-`
/// or `@` that a spreadsheet would evaluate as a formula.
pub fn markdown_escape(s: &str) -> String {
    let mut out = markdown_cell(s);
    if out.starts_with(['=', '+', '@'])
        || (out.starts_with('-') && out[1..].parse::<f64>().is_err())
    {
        out.insert(0, '\'');
    }
    out
}

/// A cell kept on one Markdown table row: backslashes and `|` escaped, line breaks
/// as spaces. For text we generate ourselves, which is never a formula.
pub fn markdown_cell(s: &str) -> String {
    if !s.bytes().any(|b| matches!(b, b'\\' | b'|' | b'\n' | b'\r')) {
        return s.to_string();
    }
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// Which way a metric improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Maximize,
    Minimize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_render_and_parse() {
        assert_eq!(Cell::parse("0.5"), Cell::Number(0.5));
        assert_eq!(Cell::parse(""), Cell::Empty);
        assert_eq!(Cell::parse("abc"), Cell::Text("abc".into()));
        assert_eq!(Cell::Number(3.0).render(), "3");
        assert_eq!(Cell::Number(0.1).render(), "0.1");
        assert_eq!(Cell::Number(f64::NAN).render(), "NaN");
        assert_eq!(
            Cell::from_json(&serde_json::json!("-Infinity")).render(),
            "-inf"
        );
        assert!(Cell::parse("NaN").is_non_finite());
    }

    #[test]
    fn conditions() {
        let c = parse_condition("precision>0.5").unwrap();
        assert!(
            c.holds(&Cell::Number(0.6)) && !c.holds(&Cell::Number(0.5)) && !c.holds(&Cell::Empty)
        );
        let c = parse_condition("stage = train").unwrap();
        assert!(c.holds(&Cell::Text("train".into())));
        assert!(parse_condition("precision>=0.5")
            .unwrap()
            .holds(&Cell::Number(0.5)));
        assert!(parse_condition("nonsense").is_err());
        assert!(parse_condition(">3").is_err());
        for typo in ["f1>>0.5", "f1=>1", "f1<<2", "f1>=", "f1!!=3", "a==>1"] {
            assert!(parse_condition(typo).is_err(), "{typo}");
        }
        assert!(parse_condition("f1>=0.5").is_ok());
        assert!(parse_condition("stage!=train").is_ok());
    }

    #[test]
    fn globs_and_escaping() {
        assert!(glob_match("metrics.*", "metrics.precision"));
        assert!(!glob_match("metrics.*", "params.lr"));
        assert!(glob_match("*lr", "params.train.lr"));
        assert_eq!(markdown_escape("a|b"), "a\\|b");
        assert_eq!(markdown_escape("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(markdown_escape("-1.5"), "-1.5");
        assert_eq!(markdown_escape("-cmd"), "'-cmd");
        assert_eq!(markdown_escape("@x"), "'@x");
    }

    #[test]
    fn a_forced_column_only_when_a_run_was_forced() {
        let (params, metrics) = (
            std::collections::BTreeMap::from([("lr".to_string(), serde_json::json!(0.1))]),
            std::collections::BTreeMap::from([("f1".to_string(), serde_json::json!(0.5))]),
        );
        let checks = ["non_empty_outputs".to_string(), "row_counts".to_string()];
        let row = |id, state, forced| RunRow {
            run_id: id,
            stage: "s",
            started_at: super::super::time::Timestamp::from_unix_millis(0),
            state,
            params: &params,
            metrics: &metrics,
            forced,
        };
        let clean = Table::from_runs(&[row("a", "approved", None), row("b", "executed", None)]);
        assert_eq!(
            clean.columns,
            [
                "run_id",
                "stage",
                "started_at",
                "state",
                "params.lr",
                "metrics.f1"
            ]
        );
        let mut t = Table::from_runs(&[
            row("a", "approved", Some(&checks)),
            row("b", "approved", None),
            row("c", "approved", Some(&[])),
        ]);
        assert_eq!(
            t.columns,
            [
                "run_id",
                "stage",
                "started_at",
                "state",
                "forced",
                "params.lr",
                "metrics.f1"
            ]
        );
        let col = t.column("forced").unwrap();
        let cells: Vec<String> = t.rows.iter().map(|r| r[col].render()).collect();
        assert_eq!(cells, ["non_empty_outputs, row_counts", "", "forced"]);
        assert_eq!(t.rows[0][t.column("lr").unwrap()], Cell::Number(0.1));
        // A status column, kept when params and metrics are constant.
        t.drop_constant();
        assert_eq!(
            t.columns,
            ["run_id", "stage", "started_at", "state", "forced"]
        );
    }

    #[test]
    fn sorting_keeps_empty_last() {
        let mut t = Table {
            columns: vec!["x".into()],
            rows: vec![
                vec![Cell::Number(2.0)],
                vec![Cell::Empty],
                vec![Cell::Number(1.0)],
                vec![Cell::Number(f64::NAN)],
            ],
        };
        t.sort_by(0, false);
        assert_eq!(
            t.rows.iter().map(|r| r[0].render()).collect::<Vec<_>>(),
            ["1", "2", "NaN", ""]
        );
        t.sort_by(0, true);
        assert_eq!(
            t.rows.iter().map(|r| r[0].render()).collect::<Vec<_>>(),
            ["NaN", "2", "1", ""]
        );
    }
}
