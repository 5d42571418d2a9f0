//! Rendering comparison tables: CSV (the committed artifact), JSON, markdown for pull
//! requests, and the terminal table (`terminal`: fitted to the width by hiding columns,
//! never by cutting numbers or wrapping).

pub mod cache;
pub mod terminal;

use crate::model::table::{markdown_escape, Cell, Direction, Table};
use std::collections::BTreeMap;

/// CSV with a header row, written by the csv crate (quoting as needed).
pub fn to_csv(t: &Table) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(&t.columns).expect("write to memory");
    // Field by field, without a String per cell: most cells of a wide table are empty.
    let mut buf = String::new();
    for r in &t.rows {
        for c in r {
            let field: &str = match c {
                Cell::Empty => "",
                Cell::Text(s) => s,
                Cell::Number(_) => {
                    buf.clear();
                    c.render_into(&mut buf);
                    &buf
                }
            };
            w.write_field(field).expect("write to memory");
        }
        w.write_record(None::<&[u8]>).expect("write to memory");
    }
    String::from_utf8(w.into_inner().expect("flush to memory")).expect("utf-8 cells")
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

/// One row: `{column: value}`, keys in name order (as a `serde_json::Map` wrote them).
struct JsonRow<'a> {
    columns: &'a [String],
    order: &'a [usize],
    cells: &'a [Cell],
}

impl serde::Serialize for JsonRow<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.order.len()))?;
        for &i in self.order {
            m.serialize_entry(&self.columns[i], &JsonCell(&self.cells[i]))?;
        }
        m.end()
    }
}

/// `{"columns": [...], "rows": [{column: value}]}`; empty cells are null, NaN/Inf
/// strings. Serialized straight from the table, without a `serde_json::Value` tree (at
/// 10,000 rows that tree was most of `compare --json`'s memory).
pub struct JsonTable<'a>(pub &'a Table);

impl serde::Serialize for JsonTable<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Rows<'a>(&'a Table, Vec<usize>);
        impl serde::Serialize for Rows<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.rows.len()))?;
                for r in &self.0.rows {
                    seq.serialize_element(&JsonRow {
                        columns: &self.0.columns,
                        order: &self.1,
                        cells: r,
                    })?;
                }
                seq.end()
            }
        }
        let t = self.0;
        let mut order: Vec<usize> = (0..t.columns.len()).collect();
        order.sort_by(|a, b| t.columns[*a].cmp(&t.columns[*b]));
        // A column named twice (never from `Table::from_runs`) is written once, as a
        // map would.
        order.dedup_by(|a, b| t.columns[*a] == t.columns[*b]);
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("columns", &t.columns)?;
        m.serialize_entry("rows", &Rows(t, order))?;
        m.end()
    }
}

/// The table as a JSON value (tests and callers that want one).
pub fn to_json(t: &Table) -> serde_json::Value {
    serde_json::to_value(JsonTable(t)).expect("a table serializes")
}

pub fn to_markdown(t: &Table) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "| {} |\n",
        t.columns
            .iter()
            .map(|c| markdown_escape(c))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    s.push_str(&format!("|{}\n", " --- |".repeat(t.columns.len())));
    for r in &t.rows {
        s.push_str(&format!(
            "| {} |\n",
            r.iter()
                .map(|c| markdown_escape(&c.render()))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    s
}

/// Row index of the best value of each metric column that has a direction.
pub fn best_rows(t: &Table, directions: &BTreeMap<String, Direction>) -> BTreeMap<usize, usize> {
    let mut best = BTreeMap::new();
    for (col, name) in t.columns.iter().enumerate() {
        let Some(metric) = name.strip_prefix("metrics.") else {
            continue;
        };
        let Some(dir) = directions.get(metric) else {
            continue;
        };
        let mut pick: Option<(usize, f64)> = None;
        for (row, r) in t.rows.iter().enumerate() {
            let Some(v) = r[col].as_f64().filter(|v| v.is_finite()) else {
                continue;
            };
            let better = match (pick, dir) {
                (None, _) => true,
                (Some((_, b)), Direction::Maximize) => v > b,
                (Some((_, b)), Direction::Minimize) => v < b,
            };
            if better {
                pick = Some((row, v));
            }
        }
        if let Some((row, _)) = pick {
            best.insert(col, row);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Table {
        Table {
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
        }
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
        let best = best_rows(&table(), &dirs);
        assert_eq!(best.get(&2), Some(&1));
        assert_eq!(best.get(&3), Some(&0), "NaN is never best");
    }

    #[test]
    fn json_keys_in_name_order_as_before() {
        let text = serde_json::to_string(&JsonTable(&table())).unwrap();
        assert!(text.starts_with(r#"{"columns":["run_id","params.lr","metrics.loss","metrics.acc"],"rows":[{"metrics.acc":0.9,"metrics.loss":0.5,"params.lr":0.1,"run_id":"a"}"#), "{text}");
    }
}
