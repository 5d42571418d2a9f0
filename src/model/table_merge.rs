//! Three-way merge of keyed tables (git's merge driver for `runs/comparison.csv`): rows
//! are matched by key, so two branches that each add runs merge cleanly; a cell both
//! sides changed differently, or a row one side changed and the other deleted, is a
//! true conflict, written between conflict markers with both versions.

use super::error::Error;
use super::table::{BASE_COLUMNS, FORCED_COLUMN};
use super::table_diff::{index, union_columns, Keyed};
use std::collections::HashMap;

/// The merged table as CSV text and the conflicts in it (none: a clean merge).
#[derive(Debug)]
pub struct Merged {
    pub text: String,
    pub conflicts: Vec<String>,
}

/// The key column a table is matched on when none is named: `run_id` when the table
/// has one, else its first column.
pub fn default_key(columns: &[String]) -> Option<&str> {
    columns
        .iter()
        .find(|c| *c == "run_id")
        .or(columns.first())
        .map(String::as_str)
}

/// One side of the merge with each merged column's position in it.
struct Side<'a> {
    table: &'a Keyed,
    pos: Vec<Option<usize>>,
    rows: HashMap<String, usize>,
}

impl<'a> Side<'a> {
    fn new(table: &'a Keyed, columns: &[String], key: &str, name: &str) -> Result<Self, Error> {
        let rows = if table.columns.is_empty() {
            HashMap::new() // an empty file: no common ancestor, or a new table
        } else {
            let k = table
                .columns
                .iter()
                .position(|c| c == key)
                .ok_or_else(|| Error::Table(format!("{name} has no key column '{key}'")))?;
            index(table, k, name)?
        };
        Ok(Side {
            table,
            pos: table.positions(columns),
            rows,
        })
    }

    /// The cell of merged column `c` in the row keyed `key`; `None` when the table
    /// has no such column.
    fn cell(&self, row: usize, c: usize) -> Option<&'a str> {
        self.pos[c].map(|p| self.table.rows[row].get(p).unwrap_or(""))
    }

    fn values(&self, row: usize, n: usize) -> Vec<&'a str> {
        (0..n).map(|c| self.cell(row, c).unwrap_or("")).collect()
    }

    fn keys_sorted(&self, key: usize) -> bool {
        match self.pos[key] {
            Some(k) => self
                .table
                .rows
                .windows(2)
                .all(|w| w[0].get(k) <= w[1].get(k)),
            None => true,
        }
    }
}

/// The merged columns: ours, then theirs' new ones; in the comparison table's own
/// order (base columns, then `params.*`, then `metrics.*`, each sorted) when both
/// sides are comparison tables, so the result is what `compare` would write.
fn merged_columns(ours: &Keyed, theirs: &Keyed) -> Vec<String> {
    let mut columns = union_columns(&ours.columns, &theirs.columns);
    let is_comparison = |k: &Keyed| {
        k.columns.len() >= BASE_COLUMNS.len()
            && k.columns[..BASE_COLUMNS.len()] == BASE_COLUMNS
            && k.columns[BASE_COLUMNS.len()..].iter().all(|c| {
                c == FORCED_COLUMN || c.starts_with("params.") || c.starts_with("metrics.")
            })
    };
    if is_comparison(ours) && is_comparison(theirs) {
        columns[BASE_COLUMNS.len()..].sort_by(|a, b| {
            let group = |s: &str| match s {
                FORCED_COLUMN => 0,
                s if s.starts_with("params.") => 1,
                _ => 2,
            };
            (group(a), a).cmp(&(group(b), b))
        });
    }
    columns
}

fn csv_line<'s>(fields: impl IntoIterator<Item = &'s str>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(fields).expect("writing to memory");
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 in, UTF-8 out")
}

enum Item {
    Row(Vec<String>),
    Conflict {
        ours: Option<Vec<String>>,
        theirs: Option<Vec<String>>,
    },
}

/// Merges `ours` and `theirs` against their common ancestor `base`, matching rows on
/// `key`. `marker` is the conflict-marker length git asks for (`%L`).
pub fn merge(
    base: &Keyed,
    ours: &Keyed,
    theirs: &Keyed,
    key: &str,
    marker: usize,
) -> Result<Merged, Error> {
    let columns = merged_columns(ours, theirs);
    let n = columns.len();
    let key_col = columns
        .iter()
        .position(|c| c == key)
        .ok_or_else(|| Error::Table(format!("neither side has the key column '{key}'")))?;
    let o = Side::new(base, &columns, key, "the common ancestor")?;
    let a = Side::new(ours, &columns, key, "ours")?;
    let b = Side::new(theirs, &columns, key, "theirs")?;

    let mut keys: Vec<&str> = Vec::new();
    for row in &ours.rows {
        keys.push(
            row.get(a.pos[key_col].expect("ours has the key"))
                .unwrap_or(""),
        );
    }
    for row in &theirs.rows {
        let k = row
            .get(b.pos[key_col].expect("theirs has the key"))
            .unwrap_or("");
        if !a.rows.contains_key(k) {
            keys.push(k);
        }
    }
    if [&o, &a, &b].iter().all(|s| s.keys_sorted(key_col)) {
        keys.sort_unstable();
    }

    let mut items = Vec::with_capacity(keys.len());
    let mut conflicts = Vec::new();
    for k in keys {
        let (ra, rb, ro) = (a.rows.get(k), b.rows.get(k), o.rows.get(k));
        match (ra, rb) {
            (Some(&i), Some(&j)) => {
                let mut row = Vec::with_capacity(n);
                let mut clash = Vec::new();
                for (c, name) in columns.iter().enumerate() {
                    let (va, vb) = (a.cell(i, c), b.cell(j, c));
                    let vo = ro.and_then(|&r| o.cell(r, c));
                    let v = match (va, vb) {
                        (Some(x), Some(y)) if x == y => x,
                        (Some(x), None) => x,
                        (None, Some(y)) => y,
                        (None, None) => "",
                        (Some(x), Some(y)) if vo == Some(x) => y,
                        (Some(x), Some(y)) if vo == Some(y) => x,
                        (Some(x), Some(y)) => {
                            clash.push(format!("{name}: ours {x:?}, theirs {y:?}"));
                            x
                        }
                    };
                    row.push(v.to_string());
                }
                if clash.is_empty() {
                    items.push(Item::Row(row));
                } else {
                    conflicts.push(format!("{key} {k}: {}", clash.join("; ")));
                    items.push(Item::Conflict {
                        ours: Some(a.values(i, n).into_iter().map(str::to_string).collect()),
                        theirs: Some(b.values(j, n).into_iter().map(str::to_string).collect()),
                    });
                }
            }
            (Some(&i), None) | (None, Some(&i)) => {
                let (kept, side, deleter) = if ra.is_some() {
                    (&a, "ours", "theirs")
                } else {
                    (&b, "theirs", "ours")
                };
                let values = kept.values(i, n);
                match ro {
                    None => items.push(Item::Row(values.into_iter().map(str::to_string).collect())),
                    Some(&r) if o.values(r, n) == values => {} // deleted, unchanged here
                    Some(_) => {
                        conflicts.push(format!(
                            "{key} {k}: changed in {side}, deleted in {deleter}"
                        ));
                        let row = Some(values.into_iter().map(str::to_string).collect());
                        items.push(if ra.is_some() {
                            Item::Conflict {
                                ours: row,
                                theirs: None,
                            }
                        } else {
                            Item::Conflict {
                                ours: None,
                                theirs: row,
                            }
                        });
                    }
                }
            }
            (None, None) => unreachable!("every key comes from ours or theirs"),
        }
    }

    let mut text = csv_line(columns.iter().map(String::as_str));
    let line = |r: &Vec<String>| csv_line(r.iter().map(String::as_str));
    for item in &items {
        match item {
            Item::Row(r) => text.push_str(&line(r)),
            Item::Conflict { ours, theirs } => {
                text.push_str(&format!("{} ours\n", "<".repeat(marker)));
                if let Some(r) = ours {
                    text.push_str(&line(r));
                }
                text.push_str(&format!("{}\n", "=".repeat(marker)));
                if let Some(r) = theirs {
                    text.push_str(&line(r));
                }
                text.push_str(&format!("{} theirs\n", ">".repeat(marker)));
            }
        }
    }
    Ok(Merged { text, conflicts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::table_diff::parse_csv;

    fn k(text: &str) -> Keyed {
        parse_csv("t.csv", text.as_bytes()).unwrap()
    }

    const BASE: &str = "run_id,stage,started_at,state,params.lr,metrics.auc\n\
                        a,train,t1,executed,0.1,0.5\n";

    #[test]
    fn rows_added_on_both_sides_are_unioned_in_key_order() {
        let ours = format!("{BASE}c,train,t3,executed,0.3,0.7\n");
        let theirs = "run_id,stage,started_at,state,params.depth,params.lr,metrics.auc\n\
                      a,train,t1,approved,,0.1,0.5\n\
                      b,train,t2,executed,4,0.2,0.6\n";
        let m = merge(&k(BASE), &k(&ours), &k(theirs), "run_id", 7).unwrap();
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(
            m.text,
            "run_id,stage,started_at,state,params.depth,params.lr,metrics.auc\n\
             a,train,t1,approved,,0.1,0.5\n\
             b,train,t2,executed,4,0.2,0.6\n\
             c,train,t3,executed,,0.3,0.7\n"
        );
    }

    #[test]
    fn a_forced_column_from_one_side_lands_where_compare_puts_it() {
        let ours = format!("{BASE}c,train,t3,executed,0.3,0.7\n");
        let theirs = "run_id,stage,started_at,state,forced,params.lr,metrics.auc\n\
                      a,train,t1,approved,non_empty_outputs,0.1,0.5\n";
        let m = merge(&k(BASE), &k(&ours), &k(theirs), "run_id", 7).unwrap();
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(
            m.text,
            "run_id,stage,started_at,state,forced,params.lr,metrics.auc\n\
             a,train,t1,approved,non_empty_outputs,0.1,0.5\n\
             c,train,t3,executed,,0.3,0.7\n"
        );
    }

    #[test]
    fn the_same_run_with_different_values_is_a_conflict_with_both_rows() {
        let ours =
            "run_id,stage,started_at,state,params.lr,metrics.auc\na,train,t1,approved,0.1,0.5\n";
        let theirs =
            "run_id,stage,started_at,state,params.lr,metrics.auc\na,train,t1,rejected,0.1,0.5\n";
        let m = merge(&k(BASE), &k(ours), &k(theirs), "run_id", 7).unwrap();
        assert_eq!(
            m.conflicts,
            ["run_id a: state: ours \"approved\", theirs \"rejected\""]
        );
        assert!(m.text.contains(
            "<<<<<<< ours\na,train,t1,approved,0.1,0.5\n=======\na,train,t1,rejected,0.1,0.5\n>>>>>>> theirs\n"
        ), "{}", m.text);
    }

    #[test]
    fn deletions_apply_unless_the_other_side_changed_the_row() {
        let header = "run_id,stage,started_at,state,params.lr,metrics.auc\n";
        let deleted = k(header);
        let m = merge(&k(BASE), &k(BASE), &deleted, "run_id", 7).unwrap();
        assert_eq!(m.text, header);
        let changed = k(&format!("{header}a,train,t1,approved,0.1,0.5\n"));
        let m = merge(&k(BASE), &changed, &deleted, "run_id", 3).unwrap();
        assert_eq!(
            m.conflicts,
            ["run_id a: changed in ours, deleted in theirs"]
        );
        assert!(m
            .text
            .ends_with("<<< ours\na,train,t1,approved,0.1,0.5\n===\n>>> theirs\n"));
    }

    #[test]
    fn any_keyed_csv_merges_and_keeps_row_order_when_unsorted() {
        let base = k("");
        let ours = k("name,score\nzeta,1\nalpha,2\n");
        let theirs = k("name,score,extra\nbeta,3,x\n");
        let m = merge(&base, &ours, &theirs, "name", 7).unwrap();
        assert!(m.conflicts.is_empty());
        assert_eq!(m.text, "name,score,extra\nzeta,1,\nalpha,2,\nbeta,3,x\n");
        assert_eq!(default_key(&ours.columns), Some("name"));
        let quoted = k("run_id,note\n\"a\",\"x, \"\"y\"\"\nz\"\n");
        let m = merge(&base, &quoted, &quoted, "run_id", 7).unwrap();
        assert_eq!(m.text, "run_id,note\na,\"x, \"\"y\"\"\nz\"\n");
    }

    #[test]
    fn duplicate_keys_are_named() {
        let dup = k("run_id,x\na,1\na,2\n");
        let e = merge(&k(""), &dup, &k("run_id,x\n"), "run_id", 7)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'a' appears twice"), "{e}");
    }
}
