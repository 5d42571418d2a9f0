//! Rendering comparison tables: CSV (the committed artifact), JSON, markdown for pull
//! requests, and a terminal table that marks the best value of each metric and fits the
//! terminal width by truncating, never wrapping.

pub mod cache;

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

fn json_cell(c: &Cell) -> serde_json::Value {
    match c {
        Cell::Empty => serde_json::Value::Null,
        // Integers stay integers (as in the CSV), not 1.0.
        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => serde_json::json!(*n as i64),
        Cell::Number(n) if n.is_finite() => serde_json::json!(n),
        Cell::Number(_) => serde_json::Value::String(c.render()),
        Cell::Text(s) => serde_json::Value::String(s.clone()),
    }
}

/// `{"columns": [...], "rows": [{column: value}]}`; empty cells are null, NaN/Inf strings.
pub fn to_json(t: &Table) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = t
        .rows
        .iter()
        .map(|r| {
            let obj: serde_json::Map<String, serde_json::Value> = t
                .columns
                .iter()
                .cloned()
                .zip(r.iter().map(json_cell))
                .collect();
            serde_json::Value::Object(obj)
        })
        .collect();
    serde_json::json!({"columns": t.columns, "rows": rows})
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

fn truncate(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The cells as shown in a terminal: best values marked `*`, NaN/Inf marked `!`, and
/// every column cut to fit `width` characters overall (widest columns first).
pub fn terminal_cells(
    t: &Table,
    directions: &BTreeMap<String, Direction>,
    width: Option<usize>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let best = best_rows(t, directions);
    let mut rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .enumerate()
        .map(|(ri, r)| {
            r.iter()
                .enumerate()
                .map(|(ci, c)| {
                    let mut s = c.render();
                    if c.is_non_finite() {
                        s.push('!');
                    } else if best.get(&ci) == Some(&ri) {
                        s.push('*');
                    }
                    s
                })
                .collect()
        })
        .collect();
    let mut header = t.columns.clone();
    if let Some(total) = width {
        let n = header.len().max(1);
        // Borders and padding take 3 characters a column.
        let budget = total.saturating_sub(3 * n + 1);
        let mut widths: Vec<usize> = (0..header.len())
            .map(|c| {
                rows.iter()
                    .map(|r| r[c].chars().count())
                    .chain([header[c].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        while widths.iter().sum::<usize>() > budget {
            let (i, w) = widths
                .iter()
                .enumerate()
                .max_by_key(|(_, w)| **w)
                .map(|(i, w)| (i, *w))
                .expect("columns");
            if w <= 4 {
                break;
            }
            widths[i] = w - 1;
        }
        for (c, w) in widths.iter().enumerate() {
            header[c] = truncate(&header[c], *w);
            for r in rows.iter_mut() {
                r[c] = truncate(&r[c], *w);
            }
        }
    }
    (header, rows)
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
    fn best_values_and_width() {
        let dirs = BTreeMap::from([
            ("loss".to_string(), Direction::Minimize),
            ("acc".to_string(), Direction::Maximize),
        ]);
        let (_, rows) = terminal_cells(&table(), &dirs, None);
        assert_eq!(rows[1][2], "0.3*");
        assert_eq!(rows[0][3], "0.9*", "NaN is never best");
        assert_eq!(rows[1][3], "NaN!");
        let wide = Table {
            columns: (0..500).map(|i| format!("metrics.m{i}")).collect(),
            rows: vec![(0..500).map(|i| Cell::Number(i as f64)).collect()],
        };
        let (h, _) = terminal_cells(&wide, &BTreeMap::new(), Some(80));
        assert!(h.iter().all(|c| c.chars().count() <= 9), "cut, not wrapped");
    }
}
