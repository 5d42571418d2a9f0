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

static EMPTY: Cell = Cell::Empty;

/// CSV with a header row, written by the csv crate (quoting as needed), row by row.
pub fn write_csv<W: Write>(t: &SparseTable, out: W) -> io::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record(&t.columns)?;
    // Field by field, without a String per cell: most cells of a wide table are empty.
    let mut buf = String::new();
    let width = t.columns.len();
    for r in &t.rows {
        let mut at = 0;
        for (c, cell) in r {
            let c = *c as usize;
            for _ in at..c {
                w.write_field("")?;
            }
            at = c + 1;
            let field: &str = match cell {
                Cell::Empty => "",
                Cell::Text(s) => s,
                Cell::Number(_) => {
                    buf.clear();
                    cell.render_into(&mut buf);
                    &buf
                }
            };
            w.write_field(field)?;
        }
        for _ in at..width {
            w.write_field("")?;
        }
        w.write_record(None::<&[u8]>)?;
    }
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
    let keys: Vec<Vec<u8>> = order
        .iter()
        .map(|&i| {
            let mut k = b"      ".to_vec();
            serde_json::to_writer(&mut k, &t.columns[i]).expect("a string serializes");
            k.extend_from_slice(b": ");
            k
        })
        .collect();
    let mut slots = Slots::new(t.columns.len());
    for (ri, r) in t.rows.iter().enumerate() {
        w.write_all(if ri == 0 { b"\n    {" } else { b",\n    {" })?;
        let cells = slots.fill(r);
        for (k, &i) in order.iter().enumerate() {
            w.write_all(if k == 0 { b"\n" } else { b",\n" })?;
            w.write_all(&keys[k])?;
            match cells[i] {
                None | Some(Cell::Empty) => w.write_all(b"null")?,
                Some(c) => serde_json::to_writer(&mut w, &JsonCell(c)).map_err(json_err)?,
            }
        }
        w.write_all(if order.is_empty() { b"}" } else { b"\n    }" })?;
    }
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

/// The empty cell, for lookups that miss.
pub(crate) fn empty() -> &'static Cell {
    &EMPTY
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
}
