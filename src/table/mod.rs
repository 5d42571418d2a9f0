//! Rendering comparison tables: CSV (the committed artifact), JSON, markdown for pull
//! requests, and the terminal table (`terminal`: fitted to the width by hiding columns,
//! never by cutting numbers or wrapping).

pub mod cache;
pub mod terminal;

use crate::model::sparse_table::{SparseRow, SparseTable};
use crate::model::table::{markdown_escape, Cell, Direction, Table};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Each row's cells by column: filled from a sparse row and cleared after, so a row
/// costs its set cells, not a lookup per column.
pub(crate) struct Slots<'a> {
    cells: Vec<Option<&'a Cell>>,
}

impl<'a> Slots<'a> {
    pub(crate) fn new(width: usize) -> Slots<'a> {
        Slots {
            cells: vec![None; width],
        }
    }

    /// The row's cells, by column index (`None` unset), until the next `fill`.
    pub(crate) fn fill(&mut self, row: &'a SparseRow) -> &[Option<&'a Cell>] {
        self.cells.iter_mut().for_each(|c| *c = None);
        for (c, v) in row {
            self.cells[*c as usize] = Some(v);
        }
        &self.cells
    }
}

/// One CSV field as the csv crate writes it (`QuoteStyle::Necessary`): quoted, with
/// its quotes doubled, when it holds a comma, a quote or a line break.
fn csv_field(out: &mut Vec<u8>, field: &str) {
    let b = field.as_bytes();
    if !b.iter().any(|&c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        out.extend_from_slice(b);
        return;
    }
    out.push(b'"');
    for &c in b {
        if c == b'"' {
            out.push(b'"');
        }
        out.push(c);
    }
    out.push(b'"');
}

/// CSV with a header row, byte for byte what the csv crate writes (quoting as needed,
/// `\n` line ends), row by row. Written here rather than field by field through the
/// csv crate: at 100,000 runs by 107 columns that was 10.7 million calls for fields
/// that are mostly empty, where an empty field is one comma.
pub fn write_csv<W: Write>(t: &SparseTable, mut w: W) -> io::Result<()> {
    let width = t.columns.len();
    let mut line: Vec<u8> = Vec::with_capacity(1 << 12);
    let one_empty = |line: &mut Vec<u8>| line.extend_from_slice(b"\"\"");
    for (i, c) in t.columns.iter().enumerate() {
        if i > 0 {
            line.push(b',');
        }
        csv_field(&mut line, c);
    }
    if line.is_empty() {
        // The csv crate writes a record of no bytes (no column, or one empty one) as
        // `""`, not as a blank line.
        one_empty(&mut line);
    }
    line.push(b'\n');
    let mut buf = String::new();
    for r in &t.rows {
        let start = line.len();
        let mut commas = 0;
        for (c, cell) in r {
            let c = *c as usize;
            line.resize(line.len() + (c - commas), b',');
            commas = c;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => csv_field(&mut line, s),
                Cell::Number(_) => {
                    buf.clear();
                    cell.render_into(&mut buf);
                    csv_field(&mut line, &buf);
                }
            }
        }
        line.resize(line.len() + (width.saturating_sub(1) - commas), b',');
        if line.len() == start {
            one_empty(&mut line);
        }
        line.push(b'\n');
        if line.len() >= 1 << 12 {
            w.write_all(&line)?;
            line.clear();
        }
    }
    w.write_all(&line)?;
    w.flush()
}

fn text_of(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut v = Vec::new();
    write(&mut v).expect("write to memory");
    String::from_utf8(v).expect("utf-8 cells")
}

pub fn to_csv(t: &SparseTable) -> String {
    text_of(|w| write_csv(t, w))
}

/// One cell as JSON: integers stay integers (as in the CSV), not 1.0; empty is null;
/// NaN and infinities are the strings `NaN`, `inf`, `-inf`.
struct JsonCell<'a>(&'a Cell);

impl serde::Serialize for JsonCell<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Cell::Empty => s.serialize_unit(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => s.serialize_i64(*n as i64),
            Cell::Number(n) if n.is_finite() => s.serialize_f64(*n),
            Cell::Number(_) => s.serialize_str(&self.0.render()),
            Cell::Text(t) => s.serialize_str(t),
        }
    }
}

/// The columns in name order, each name once (as a `serde_json::Map` keeps keys).
fn json_order(t: &SparseTable) -> Vec<usize> {
    let mut order: Vec<usize> = (0..t.columns.len()).collect();
    order.sort_by(|a, b| t.columns[*a].cmp(&t.columns[*b]));
    // A column named twice (never from `compare`) is written once, as a map would.
    order.dedup_by(|a, b| t.columns[*a] == t.columns[*b]);
    order
}

/// One row: `{column: value}`, keys in name order (as a `serde_json::Map` wrote them).
struct JsonRow<'a> {
    columns: &'a [String],
    order: &'a [usize],
    row: &'a SparseRow,
}

impl serde::Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.order.len()))?;
        for &i in self.order {
            let c = crate::model::sparse_table::cell(self.row, i);
            m.serialize_entry(&self.columns[i], &JsonCell(c))?;
        }
        m.end()
    }
}

/// `{"columns": [...], "rows": [{column: value}]}`; empty cells are null, NaN/Inf
/// strings. Serialized straight from the table, without a `serde_json::Value` tree.
pub struct JsonTable<'a>(pub &'a SparseTable);

impl serde::Serialize for JsonTable<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Rows<'a>(&'a SparseTable, Vec<usize>);
        impl serde::Serialize for Rows<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.rows.len()))?;
                for r in &self.0.rows {
                    seq.serialize_element(&JsonRow {
                        columns: &self.0.columns,
                        order: &self.1,
                        row: r,
                    })?;
                }
                seq.end()
            }
        }
        let t = self.0;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("columns", &t.columns)?;
        m.serialize_entry("rows", &Rows(t, json_order(t)))?;
        m.end()
    }
}

/// `JsonTable` as `serde_json::to_writer_pretty` writes it, byte for byte, written
/// row by row: each key's `"name": ` prepared once, most cells a copy of it and
/// `null` (at 100,000 runs by 107 columns that is 10.7 million entries).
pub fn write_json_pretty<W: Write>(t: &SparseTable, mut w: W) -> io::Result<()> {
    let json_err = |e: serde_json::Error| match e.io_error_kind() {
        Some(kind) => io::Error::from(kind),
        None => io::Error::other(e),
    };
    w.write_all(b"{\n  \"columns\": [")?;
    for (i, c) in t.columns.iter().enumerate() {
        w.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut w, c).map_err(json_err)?;
    }
    w.write_all(if t.columns.is_empty() { b"]" } else { b"\n  ]" })?;
    w.write_all(b",\n  \"rows\": [")?;
    let order = json_order(t);
    // `,\n      "name": ` for each key (the first of a row drops the comma), and the
    // same ending in `null`, so an unset cell is one copy.
    let keys: Vec<(Vec<u8>, Vec<u8>)> = order
        .iter()
        .map(|&i| {
            let mut k = b",\n      ".to_vec();
            serde_json::to_writer(&mut k, &t.columns[i]).expect("a string serializes");
            k.extend_from_slice(b": ");
            let mut null = k.clone();
            null.extend_from_slice(b"null");
            (k, null)
        })
        .collect();
    let mut slots = Slots::new(t.columns.len());
    let mut line: Vec<u8> = Vec::with_capacity(1 << 14);
    for (ri, r) in t.rows.iter().enumerate() {
        line.extend_from_slice(if ri == 0 { b"\n    {" } else { b",\n    {" });
        let cells = slots.fill(r);
        for (k, &i) in order.iter().enumerate() {
            let skip = usize::from(k == 0);
            match cells[i] {
                None | Some(Cell::Empty) => line.extend_from_slice(&keys[k].1[skip..]),
                Some(c) => {
                    line.extend_from_slice(&keys[k].0[skip..]);
                    serde_json::to_writer(&mut line, &JsonCell(c)).map_err(json_err)?;
                }
            }
        }
        line.extend_from_slice(if order.is_empty() { b"}" } else { b"\n    }" });
        if line.len() >= 1 << 14 {
            w.write_all(&line)?;
            line.clear();
        }
    }
    w.write_all(&line)?;
    w.write_all(if t.rows.is_empty() { b"]" } else { b"\n  ]" })?;
    w.write_all(b"\n}")
}

/// The table as a JSON value (tests and callers that want one).
pub fn to_json(t: &SparseTable) -> serde_json::Value {
    serde_json::to_value(JsonTable(t)).expect("a table serializes")
}

/// The Markdown table, row by row.
pub fn write_markdown<W: Write>(t: &SparseTable, mut w: W) -> io::Result<()> {
    let mut line = String::new();
    line.push_str("| ");
    for (i, c) in t.columns.iter().enumerate() {
        if i > 0 {
            line.push_str(" | ");
        }
        line.push_str(&markdown_escape(c));
    }
    line.push_str(" |\n|");
    line.push_str(&" --- |".repeat(t.columns.len()));
    line.push('\n');
    w.write_all(line.as_bytes())?;
    let mut slots = Slots::new(t.columns.len());
    let mut buf = String::new();
    for r in &t.rows {
        line.clear();
        line.push_str("| ");
        for (i, c) in slots.fill(r).iter().enumerate() {
            if i > 0 {
                line.push_str(" | ");
            }
            if let Some(c) = c {
                buf.clear();
                c.render_into(&mut buf);
                line.push_str(&markdown_escape(&buf));
            }
        }
        line.push_str(" |\n");
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

pub fn to_markdown(t: &SparseTable) -> String {
    text_of(|w| write_markdown(t, w))
}

/// Row index of the best value of each metric column that has a direction.
pub fn best_of(
    t: &SparseTable,
    directions: &BTreeMap<String, Direction>,
) -> BTreeMap<usize, usize> {
    let dirs: Vec<Option<Direction>> = t
        .columns
        .iter()
        .map(|name| {
            name.strip_prefix("metrics.")
                .and_then(|m| directions.get(m).copied())
        })
        .collect();
    let mut pick: Vec<Option<(usize, f64)>> = vec![None; t.columns.len()];
    if dirs.iter().any(Option::is_some) {
        for (row, r) in t.rows.iter().enumerate() {
            for (col, c) in r {
                let col = *col as usize;
                let Some(dir) = dirs[col] else {
                    continue;
                };
                let Some(v) = c.as_f64().filter(|v| v.is_finite()) else {
                    continue;
                };
                let better = match (pick[col], dir) {
                    (None, _) => true,
                    (Some((_, b)), Direction::Maximize) => v > b,
                    (Some((_, b)), Direction::Minimize) => v < b,
                };
                if better {
                    pick[col] = Some((row, v));
                }
            }
        }
    }
    pick.iter()
        .enumerate()
        .filter_map(|(col, p)| p.map(|(row, _)| (col, row)))
        .collect()
}

/// `best_of` for a dense table (the HTML report's).
pub fn best_rows(t: &Table, directions: &BTreeMap<String, Direction>) -> BTreeMap<usize, usize> {
    best_of(&SparseTable::from_dense(t), directions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SparseTable {
        SparseTable::from_dense(&Table {
            columns: vec![
                "run_id".into(),
                "params.lr".into(),
                "metrics.loss".into(),
                "metrics.acc".into(),
            ],
            rows: vec![
                vec![
                    Cell::Text("a".into()),
                    Cell::Number(0.1),
                    Cell::Number(0.5),
                    Cell::Number(0.9),
                ],
                vec![
                    Cell::Text("b,\"x\"".into()),
                    Cell::Empty,
                    Cell::Number(0.3),
                    Cell::Number(f64::NAN),
                ],
            ],
        })
    }

    #[test]
    fn csv_round_trips_through_the_csv_crate() {
        let text = to_csv(&table());
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        assert_eq!(&rows[1][0], "b,\"x\"");
        assert_eq!(&rows[1][1], "");
        assert_eq!(&rows[1][3], "NaN");
        assert_eq!(
            text.lines().next().unwrap(),
            "run_id,params.lr,metrics.loss,metrics.acc"
        );
    }

    #[test]
    fn json_and_markdown() {
        let j = to_json(&table());
        assert_eq!(j["rows"][1]["params.lr"], serde_json::Value::Null);
        assert_eq!(j["rows"][1]["metrics.acc"], "NaN");
        assert_eq!(j["rows"][0]["metrics.loss"], 0.5);
        let md = to_markdown(&table());
        assert_eq!(md.lines().nth(1).unwrap(), "| --- | --- | --- | --- |");
        assert!(md.contains("| b,\"x\" |"));
    }

    #[test]
    fn best_values() {
        let dirs = BTreeMap::from([
            ("loss".to_string(), Direction::Minimize),
            ("acc".to_string(), Direction::Maximize),
        ]);
        let best = best_of(&table(), &dirs);
        assert_eq!(best_rows(&table().to_dense(), &dirs), best);
        assert_eq!(best.get(&2), Some(&1));
        assert_eq!(best.get(&3), Some(&0), "NaN is never best");
    }

    #[test]
    fn json_keys_in_name_order_as_before() {
        let text = serde_json::to_string(&JsonTable(&table())).unwrap();
        assert!(text.starts_with(r#"{"columns":["run_id","params.lr","metrics.loss","metrics.acc"],"rows":[{"metrics.acc":0.9,"metrics.loss":0.5,"params.lr":0.1,"run_id":"a"}"#), "{text}");
    }

    /// The hand-written JSON is serde_json's pretty JSON, byte for byte.
    #[test]
    fn streamed_json_is_serde_jsons_pretty_json() {
        let wide = SparseTable::from_dense(&Table {
            columns: vec![
                "run_id".into(),
                "params.\"q\"\n\u{1b}".into(),
                "metrics.z".into(),
                "metrics.a".into(),
                "metrics.a".into(),
            ],
            rows: vec![
                vec![
                    Cell::Text("é\u{0}".into()),
                    Cell::Number(1e300),
                    Cell::Number(-0.0),
                    Cell::Number(f64::INFINITY),
                    Cell::Number(3.0),
                ],
                vec![
                    Cell::Empty,
                    Cell::Number(1e-7),
                    Cell::Number(1e15),
                    Cell::Empty,
                    Cell::Empty,
                ],
            ],
        });
        let none = SparseTable {
            columns: vec!["run_id".into()],
            rows: vec![],
        };
        let blank = SparseTable {
            columns: vec![],
            rows: vec![vec![], vec![]],
        };
        for t in [table(), wide, none, blank, SparseTable::default()] {
            let mut ours = Vec::new();
            write_json_pretty(&t, &mut ours).unwrap();
            let theirs = serde_json::to_vec_pretty(&JsonTable(&t)).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
        }
    }

    /// The hand-written CSV is the csv crate's, byte for byte.
    #[test]
    fn csv_is_the_csv_crates() {
        fn by_crate(t: &Table) -> String {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            w.write_record(&t.columns).unwrap();
            // As `compare` wrote it before: field by field, then the record's end.
            for r in &t.rows {
                for c in r {
                    w.write_field(c.render()).unwrap();
                }
                w.write_record(None::<&[u8]>).unwrap();
            }
            String::from_utf8(w.into_inner().unwrap()).unwrap()
        }
        let text = |s: &str| Cell::Text(s.into());
        let hostile = Table {
            columns: vec![
                "run_id".into(),
                "a,\"b\"".into(),
                "c\nd".into(),
                "e\rf".into(),
            ],
            rows: vec![
                vec![text("x"), text("\"q\""), text("1,2"), text(" spaced ")],
                vec![Cell::Empty, Cell::Empty, Cell::Empty, Cell::Empty],
                vec![
                    Cell::Empty,
                    Cell::Number(0.5),
                    Cell::Empty,
                    text("line\nbreak\r"),
                ],
                vec![text("é"), Cell::Empty, Cell::Number(f64::NAN), Cell::Empty],
            ],
        };
        let one = Table {
            columns: vec!["only".into()],
            rows: vec![vec![Cell::Empty], vec![text("v")]],
        };
        let none = Table {
            columns: vec![],
            rows: vec![vec![], vec![]],
        };
        for t in [table().to_dense(), hostile, one, none] {
            assert_eq!(to_csv(&SparseTable::from_dense(&t)), by_crate(&t));
        }
    }
}
