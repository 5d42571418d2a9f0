//! The comparison table with sparse rows: each row holds only the cells that are set,
//! as `(column, cell)` in column order. A 100,000-run, 50-stage table sets 9 of its
//! 107 cells a row; the dense `Table` paid 32 bytes for each of the others (342 MB).
//! Same columns, same rules (`--where`, `--sort`, `--columns`, `--only-changed`) as
//! `model::table`, whose `Table` it converts to and from.

use super::table::{compare_cells, is_run_column, Cell, Table};

/// One row: `(column index, cell)`, columns strictly ascending, no `Cell::Empty`.
pub type SparseRow = Vec<(u32, Cell)>;

static EMPTY: Cell = Cell::Empty;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct SparseTable {
    pub columns: Vec<String>,
    pub rows: Vec<SparseRow>,
}

/// The cell of `row` in column `col` (`Cell::Empty` when unset).
pub fn cell(row: &[(u32, Cell)], col: usize) -> &Cell {
    match row.binary_search_by_key(&col, |(c, _)| *c as usize) {
        Ok(i) => &row[i].1,
        Err(_) => &EMPTY,
    }
}

/// `cells` (any order, empty cells and repeated columns allowed) as a row: sorted by
/// column, empty cells dropped, the first of a repeated column kept.
pub fn normalize(mut cells: SparseRow) -> SparseRow {
    cells.retain(|(_, c)| !matches!(c, Cell::Empty));
    cells.sort_by_key(|(c, _)| *c);
    cells.dedup_by_key(|(c, _)| *c);
    cells
}

impl SparseTable {
    pub fn from_dense(t: &Table) -> SparseTable {
        SparseTable {
            columns: t.columns.clone(),
            rows: t
                .rows
                .iter()
                .map(|r| {
                    r.iter()
                        .enumerate()
                        .filter(|(_, c)| !matches!(c, Cell::Empty))
                        .map(|(i, c)| (i as u32, c.clone()))
                        .collect()
                })
                .collect(),
        }
    }

    pub fn to_dense(&self) -> Table {
        let width = self.columns.len();
        Table {
            columns: self.columns.clone(),
            rows: self
                .rows
                .iter()
                .map(|r| {
                    let mut row = vec![Cell::Empty; width];
                    for (c, v) in r {
                        row[*c as usize] = v.clone();
                    }
                    row
                })
                .collect(),
        }
    }

    /// The index of a column named exactly or by its unambiguous short name, as
    /// `Table::column`.
    pub fn column(&self, name: &str) -> Result<usize, super::error::Error> {
        Table {
            columns: self.columns.clone(),
            rows: Vec::new(),
        }
        .column(name)
    }

    /// Keeps rows for which `keep` is true.
    pub fn retain_rows(&mut self, keep: impl FnMut(&SparseRow) -> bool) {
        self.rows.retain(keep);
    }

    /// Keeps the columns whose index `keep` accepts, in order.
    pub fn retain_columns(&mut self, keep: impl Fn(usize, &str) -> bool) {
        let mut map: Vec<Option<u32>> = Vec::with_capacity(self.columns.len());
        let mut next = 0u32;
        for (i, n) in self.columns.iter().enumerate() {
            if keep(i, n) {
                map.push(Some(next));
                next += 1;
            } else {
                map.push(None);
            }
        }
        let mut i = 0;
        self.columns.retain(|_| {
            i += 1;
            map[i - 1].is_some()
        });
        for r in &mut self.rows {
            r.retain_mut(|(c, _)| match map[*c as usize] {
                Some(n) => {
                    *c = n;
                    true
                }
                None => false,
            });
        }
    }

    /// Drops params and metrics columns whose value is the same in every row (an unset
    /// cell counting as a value, as in `Table::drop_constant`).
    pub fn drop_constant(&mut self) {
        let mut changes = vec![false; self.columns.len()];
        for w in self.rows.windows(2) {
            let (mut a, mut b) = (w[0].iter().peekable(), w[1].iter().peekable());
            loop {
                match (a.peek(), b.peek()) {
                    (None, None) => break,
                    (Some((ca, _)), None) => {
                        changes[*ca as usize] = true;
                        a.next();
                    }
                    (None, Some((cb, _))) => {
                        changes[*cb as usize] = true;
                        b.next();
                    }
                    (Some((ca, va)), Some((cb, vb))) => {
                        if ca < cb {
                            changes[*ca as usize] = true;
                            a.next();
                        } else if cb < ca {
                            changes[*cb as usize] = true;
                            b.next();
                        } else {
                            if va != vb {
                                changes[*ca as usize] = true;
                            }
                            a.next();
                            b.next();
                        }
                    }
                }
            }
        }
        self.retain_columns(|i, name| is_run_column(name) || changes[i]);
    }

    /// Sorts by a column, ascending or descending; ties keep their order; empty cells
    /// last in both directions.
    pub fn sort_by(&mut self, col: usize, descending: bool) {
        self.rows.sort_by(|a, b| {
            let (x, y) = (cell(a, col), cell(b, col));
            let o = compare_cells(x, y);
            match (x, y, descending) {
                (Cell::Empty, _, _) | (_, Cell::Empty, _) => o,
                (_, _, true) => o.reverse(),
                _ => o,
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equal as printed (NaN is not equal to itself).
    fn same(a: &impl std::fmt::Debug, b: &impl std::fmt::Debug) -> bool {
        format!("{a:?}") == format!("{b:?}")
    }

    fn dense() -> Table {
        let n = Cell::Number;
        let t = |s: &str| Cell::Text(s.into());
        Table {
            columns: ["run_id", "params.a", "params.b", "metrics.m", "metrics.z"]
                .map(String::from)
                .to_vec(),
            rows: vec![
                vec![t("r1"), n(1.0), Cell::Empty, n(f64::NAN), n(5.0)],
                vec![t("r2"), n(1.0), t("x"), n(0.5), n(5.0)],
                vec![t("r3"), n(1.0), Cell::Empty, Cell::Empty, n(5.0)],
                vec![t("r4"), n(2.0), Cell::Empty, n(0.2), n(5.0)],
            ],
        }
    }

    /// Every operation gives what the dense table gives.
    #[test]
    fn the_same_as_the_dense_table() {
        let d = dense();
        let s = SparseTable::from_dense(&d);
        assert!(same(&s.to_dense(), &d));
        assert_eq!(s.rows[0].len(), 4, "unset cells are not stored");
        for (col, desc) in [(1, false), (1, true), (3, false), (3, true), (2, false)] {
            let (mut a, mut b) = (d.clone(), s.clone());
            a.sort_by(col, desc);
            b.sort_by(col, desc);
            assert!(same(&b.to_dense(), &a), "sort {col} {desc}");
        }
        for rows in [&d.rows[..], &d.rows[..1], &d.rows[1..3], &d.rows[2..3], &[]] {
            let mut a = Table {
                columns: d.columns.clone(),
                rows: rows.to_vec(),
            };
            let mut b = SparseTable::from_dense(&a);
            a.drop_constant();
            b.drop_constant();
            assert!(
                same(&b.to_dense(), &a),
                "drop_constant of {} rows",
                rows.len()
            );
        }
        let (mut a, mut b) = (d.clone(), s.clone());
        a.retain_columns(|i, n| i == 0 || n.starts_with("metrics."));
        b.retain_columns(|i, n| i == 0 || n.starts_with("metrics."));
        assert!(same(&b.to_dense(), &a));
        assert_eq!(s.column("m").unwrap(), 3);
        assert!(s.column("nope").is_err());
        assert_eq!(cell(&s.rows[1], 2), &Cell::Text("x".into()));
        assert_eq!(cell(&s.rows[0], 2), &Cell::Empty);
    }

    #[test]
    fn normalize_sorts_and_drops_empty_and_repeated_cells() {
        let row = normalize(vec![
            (3, Cell::Number(1.0)),
            (1, Cell::Empty),
            (0, Cell::Text("a".into())),
            (3, Cell::Number(2.0)),
        ]);
        assert_eq!(row.len(), 2);
        assert_eq!(row[0].0, 0);
        assert_eq!(row[1].0, 3);
    }
}
