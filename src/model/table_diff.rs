//! Diffing two keyed tables: rows matched by a key column, reported as added, removed
//! or changed, with every changed cell as old → new and, for numbers, the absolute
//! and relative change and whether it is better or worse.

use super::error::Error;
use super::table::{Cell, Direction};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A table read from CSV as text (cells are parsed only where they differ), with the
/// line number of each row for error messages.
#[derive(Debug)]
pub struct Keyed {
    pub columns: Vec<String>,
    /// One record per row: a single allocation each, however many columns.
    pub rows: Vec<csv::StringRecord>,
    pub lines: Vec<u64>,
}

/// Parses CSV text (the csv crate: quoted commas and newlines are fine); ragged rows,
/// a column named twice and non-UTF-8 input are errors naming the line or column.
pub fn parse_csv(name: &str, bytes: &[u8]) -> Result<Keyed, Error> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::Table(format!("{name} is not UTF-8 text (binary?)")))?;
    let mut r = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = r
        .headers()
        .map_err(|e| Error::Table(format!("{name}: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    // Every column is found by its name: one named twice would be read from one place
    // and matched on another.
    if let Some((i, c)) = columns
        .iter()
        .enumerate()
        .find(|(i, c)| columns[..*i].contains(c))
    {
        return Err(Error::Table(format!(
            "{name}: column '{c}' appears twice in the header (columns {} and {})",
            columns.iter().position(|x| x == c).map_or(0, |p| p + 1),
            i + 1
        )));
    }
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| Error::Table(format!("{name}: {e}")))?;
        lines.push(rec.position().map_or(0, |p| p.line()));
        rows.push(rec);
    }
    Ok(Keyed {
        columns,
        rows,
        lines,
    })
}

impl Keyed {
    /// Where each of `columns` is in this table, if it has it.
    pub fn positions(&self, columns: &[String]) -> Vec<Option<usize>> {
        let at: HashMap<&str, usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        columns
            .iter()
            .map(|c| at.get(c.as_str()).copied())
            .collect()
    }
}

/// The columns of `a`, then those of `b` that `a` lacks.
pub fn union_columns(a: &[String], b: &[String]) -> Vec<String> {
    let mut columns = a.to_vec();
    for c in b {
        if !columns.contains(c) {
            columns.push(c.clone());
        }
    }
    columns
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// Whether a metric's change is for the better, by the metric's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Better,
    Worse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CellChange {
    pub column: String,
    pub old: String,
    pub new: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relative: Option<f64>,
    /// When the column is a metric with a direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Trend>,
    /// For text of several words: a word diff, `[-removed-]{+added+}` around the
    /// changed words (git's `--word-diff=plain` notation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_diff: Option<String>,
}

/// A word diff of two texts when either has more than one word; single words (a
/// state, a label) are plain old → new.
pub fn word_diff(old: &str, new: &str) -> Option<String> {
    let words = |s: &str| s.split_whitespace().nth(1).is_some();
    if !(words(old) || words(new)) {
        return None;
    }
    let d = similar::TextDiff::from_words(old, new);
    let mut out = String::new();
    for change in d.iter_all_changes() {
        let v = change.value();
        match change.tag() {
            similar::ChangeTag::Equal => out.push_str(v),
            similar::ChangeTag::Delete => {
                out.push_str("[-");
                out.push_str(v);
                out.push_str("-]");
            }
            similar::ChangeTag::Insert => {
                out.push_str("{+");
                out.push_str(v);
                out.push_str("+}");
            }
        }
    }
    Some(out.replace("-][-", "").replace("+}{+", ""))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowChange {
    pub key: String,
    pub change: Change,
    pub cells: Vec<CellChange>,
}

pub fn index(k: &Keyed, key_col: usize, side: &str) -> Result<HashMap<String, usize>, Error> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, row) in k.rows.iter().enumerate() {
        let key = row[key_col].to_string();
        if let Some(first) = seen.insert(key.clone(), i) {
            return Err(Error::Table(format!(
                "{side}: key '{key}' appears twice, on lines {} and {}",
                k.lines[first], k.lines[i]
            )));
        }
    }
    Ok(seen)
}

/// Diffs `old` against `new` keyed by `key` (a column both have).
pub fn diff(
    old: &Keyed,
    new: &Keyed,
    key: &str,
    directions: &BTreeMap<String, Direction>,
) -> Result<Vec<RowChange>, Error> {
    let ko = old
        .columns
        .iter()
        .position(|c| c == key)
        .ok_or_else(|| Error::Table(format!("the old table has no key column '{key}'")))?;
    let kn = new
        .columns
        .iter()
        .position(|c| c == key)
        .ok_or_else(|| Error::Table(format!("the new table has no key column '{key}'")))?;
    let io = index(old, ko, "old")?;
    let inew = index(new, kn, "new")?;
    let columns = union_columns(&old.columns, &new.columns);
    // Each compared column's position on both sides, looked up once.
    let (po, pn) = (old.positions(&columns), new.positions(&columns));
    let empty = "";
    let mut out = Vec::new();
    for row in &old.rows {
        let k = &row[ko];
        match inew.get(k) {
            None => out.push(RowChange {
                key: k.to_string(),
                change: Change::Removed,
                cells: whole_row(&columns, &po, row, key, true),
            }),
            Some(&j) => {
                let mut cells = Vec::new();
                for (c, col) in columns.iter().enumerate() {
                    if col == key {
                        continue;
                    }
                    let a = po[c].map_or(empty, |x| &row[x]);
                    let b = pn[c].map_or(empty, |x| &new.rows[j][x]);
                    if a == b {
                        continue;
                    }
                    let places = decimals(a).zip(decimals(b)).map(|(p, q)| p.max(q));
                    let (a, b) = (Cell::parse(a), Cell::parse(b));
                    if a.render() == b.render() {
                        continue; // the same number written differently
                    }
                    let (delta, relative) = match (a.as_f64(), b.as_f64()) {
                        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => (
                            Some(round_to(y - x, places)),
                            (x != 0.0).then(|| (y - x) / x.abs()),
                        ),
                        _ => (None, None),
                    };
                    let verdict = match (
                        delta,
                        col.strip_prefix("metrics.").and_then(|m| directions.get(m)),
                    ) {
                        (Some(d), Some(dir)) if d != 0.0 => Some(match (d > 0.0, dir) {
                            (true, Direction::Maximize) | (false, Direction::Minimize) => {
                                Trend::Better
                            }
                            _ => Trend::Worse,
                        }),
                        _ => None,
                    };
                    let (old_text, new_text) = (a.render(), b.render());
                    let text_diff = match (&a, &b) {
                        (Cell::Number(_), _) | (_, Cell::Number(_)) => None,
                        _ => word_diff(&old_text, &new_text),
                    };
                    cells.push(CellChange {
                        column: col.clone(),
                        old: old_text,
                        new: new_text,
                        delta,
                        relative,
                        verdict,
                        text_diff,
                    });
                }
                if !cells.is_empty() {
                    out.push(RowChange {
                        key: k.to_string(),
                        change: Change::Changed,
                        cells,
                    });
                }
            }
        }
    }
    for row in &new.rows {
        let k = &row[kn];
        if !io.contains_key(k) {
            out.push(RowChange {
                key: k.to_string(),
                change: Change::Added,
                cells: whole_row(&columns, &pn, row, key, false),
            });
        }
    }
    Ok(out)
}

/// The decimal places a plain number is written with (`0.25` → 2, `3` → 0); `None`
/// for exponent notation or text.
fn decimals(s: &str) -> Option<usize> {
    let s = s.trim();
    if s.is_empty() || s.contains(['e', 'E']) || s.parse::<f64>().is_err() {
        return None;
    }
    Some(s.split_once('.').map_or(0, |(_, f)| f.len()))
}

/// Rounds a difference to the places its operands were written with, so 0.3 − 0.1
/// is 0.2 rather than 0.19999999999999998.
fn round_to(d: f64, places: Option<usize>) -> f64 {
    match places {
        Some(p) if p <= 15 => {
            let f = 10f64.powi(p as i32);
            (d * f).round() / f
        }
        _ => d,
    }
}

/// The non-empty cells of an added (or removed) row, on the new (or old) side.
fn whole_row(
    columns: &[String],
    pos: &[Option<usize>],
    row: &csv::StringRecord,
    key: &str,
    removed: bool,
) -> Vec<CellChange> {
    columns
        .iter()
        .zip(pos)
        .filter(|(c, _)| *c != key)
        .filter_map(|(c, p)| {
            let v = Cell::parse(p.and_then(|p| row.get(p))?).render();
            (!v.is_empty()).then(|| {
                let (old, new) = if removed {
                    (v, String::new())
                } else {
                    (String::new(), v)
                };
                CellChange {
                    column: c.clone(),
                    old,
                    new,
                    delta: None,
                    relative: None,
                    verdict: None,
                    text_diff: None,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(text: &str) -> Keyed {
        parse_csv("t.csv", text.as_bytes()).unwrap()
    }

    #[test]
    fn rows_are_matched_by_key() {
        let old = k("run_id,metrics.loss,note\na,0.5,x\nb,1,\"q, with comma\"\nc,2,z\n");
        let new =
            k("run_id,metrics.loss,note,extra\nb,0.8,\"q, with comma\",1\na,0.5,x,\nd,3,w,\n");
        let dirs = BTreeMap::from([("loss".to_string(), Direction::Minimize)]);
        let d = diff(&old, &new, "run_id", &dirs).unwrap();
        let kinds: Vec<(String, Change)> = d
            .iter()
            .map(|r| (r.key.clone(), r.change.clone()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("b".into(), Change::Changed),
                ("c".into(), Change::Removed),
                ("d".into(), Change::Added)
            ]
        );
        let b = &d[0].cells;
        assert_eq!(b[0].column, "metrics.loss");
        assert_eq!(b[0].delta, Some(-0.2), "rounded to the operands' places");
        assert!((b[0].relative.unwrap() + 0.2).abs() < 1e-12);
        assert_eq!(b[0].verdict, Some(Trend::Better));
        assert_eq!(b[1].column, "extra", "a new column shows as added cells");
    }

    #[test]
    fn text_of_several_words_gets_a_word_diff() {
        assert_eq!(word_diff("executed", "approved"), None);
        assert_eq!(
            word_diff("spikes over the mean", "spikes over the seasonal mean").as_deref(),
            Some("spikes over the {+seasonal +}mean")
        );
        assert_eq!(
            word_diff("a b c", "a x c").as_deref(),
            Some("a [-b-]{+x+} c")
        );
    }

    #[test]
    fn bad_tables_are_named() {
        let dup = k("run_id,x\na,1\nb,2\na,3\n");
        let e = diff(&dup, &dup, "run_id", &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'a' appears twice, on lines 2 and 4"), "{e}");
        assert!(parse_csv("r.csv", b"a,b\n1,2,3\n")
            .unwrap_err()
            .to_string()
            .contains("r.csv"));
        assert!(parse_csv("bin.csv", &[0xff, 0xfe, 0])
            .unwrap_err()
            .to_string()
            .contains("not UTF-8"));
        assert!(diff(&k("a\n1\n"), &k("a\n1\n"), "run_id", &BTreeMap::new())
            .unwrap_err()
            .to_string()
            .contains("no key column"));
    }

    /// Found by `fuzz/` (target `table_csv`, input `ff2c0a362c`: no ancestor, ours
    /// `,\n6,`, no theirs): the merge driver matched rows on the first column named ''
    /// and read keys from the second, and panicked ("every key comes from ours or
    /// theirs"). A header naming a column twice is refused, so the driver falls back to
    /// git's line merge.
    #[test]
    fn a_column_named_twice_is_refused() {
        let e = parse_csv("ours", b",\n6,").unwrap_err().to_string();
        assert_eq!(
            e,
            "ours: column '' appears twice in the header (columns 1 and 2)"
        );
        let e = parse_csv("t.csv", b"run_id,x,y,x\na,1,2,3\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("column 'x' appears twice in the header (columns 2 and 4)"),
            "{e}"
        );
        let (empty, ours) = (k(""), k(",y\n6,"));
        let m = super::super::table_merge::merge(&empty, &ours, &empty, "", 7).unwrap();
        assert_eq!(m.text, ",y\n6,\n");
    }
}
