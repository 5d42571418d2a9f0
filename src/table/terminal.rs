//! The comparison table for eyes: rendered here rather than by comfy-table, so 10,000
//! rows cost one pass to measure and one to write, with no cell object per cell.
//!
//! Readable at 80 columns: run ids abbreviated (`T104512Z-a3`, which every command
//! taking a run resolves), the shared dotted prefix of params and metrics lifted into
//! a group heading (`params.model.` over `lr` and `depth`), and columns chosen to fit
//! the width by priority — run id, the other run columns, params that change, metrics,
//! constant params — the rest hidden and named in one line. A number is never cut: its
//! column is hidden instead. Every name and text cell is sanitised (control and
//! bidirectional characters escaped), so a hostile name cannot break the layout.

use super::{best_of, Slots};
use crate::model::sparse_table::SparseTable;
use crate::model::table::{is_run_column, Cell, Direction};
use crate::model::text::{escape_controls, Lines};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// The longest a text cell, a label or a group heading is shown in a width-limited
/// table; longer ones end in `…`. Numbers are never cut.
pub const MAX_TEXT: usize = 32;
/// Spaces between columns.
const GAP: usize = 2;

/// What the terminal table shows.
pub struct View<'a> {
    pub table: &'a SparseTable,
    pub directions: &'a BTreeMap<String, Direction>,
    /// The run id each row shows, abbreviated (`ops::compare`); a row without one
    /// (none when the list is empty) shows its whole id.
    pub short_ids: &'a [String],
    /// The width to fit; `None` (`--wide`) shows every column, nothing cut.
    pub width: Option<usize>,
}

/// `s` on one line with every character that could steer a terminal or disguise text
/// escaped (`\n`, `\x1b`, `\u{202e}`): the one escaping, `model::text`.
pub fn sanitize(s: &str) -> Cow<'_, str> {
    escape_controls(s, Lines::Escape)
}

fn width_of(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.width()
    }
}

/// `s` cut to at most `max` columns, ending in `…` when cut.
fn cut(s: &str, max: usize) -> Cow<'_, str> {
    if width_of(s) <= max {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    Cow::Owned(out)
}

/// `n` spaces, copied a slice at a time (a `--wide` table at 100,000 runs pads ten
/// million cells).
fn pad(out: &mut String, mut n: usize) {
    const SPACES: &str = "                                                                ";
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// One column as shown.
struct Column {
    index: usize,
    /// The dotted prefix lifted into the group heading (`params.model.`), if any.
    group: Option<String>,
    label: String,
    /// The widest cell (sanitised, cut as shown, without the marker).
    cells: usize,
    numeric: bool,
    /// Some cell carries a marker (`*` best, `!` NaN or infinite).
    marked: bool,
    changes: bool,
}

impl Column {
    fn body(&self) -> usize {
        self.cells + usize::from(self.marked)
    }
}

fn split_name(name: &str) -> (Option<&str>, &str) {
    if !(name.starts_with("params.") || name.starts_with("metrics.")) {
        return (None, name);
    }
    match name.rfind('.') {
        Some(i) if i + 1 < name.len() => (Some(&name[..=i]), &name[i + 1..]),
        _ => (None, name),
    }
}

/// The text a cell shows: the run id abbreviated, the start time to the second, text
/// sanitised and (in a limited table) cut; numbers whole.
fn cell_text<'a>(
    view: &View<'a>,
    row: usize,
    col: ColKind,
    cell: &'a Cell,
    buf: &'a mut String,
    limit: bool,
) -> Cow<'a, str> {
    match cell {
        Cell::Empty => Cow::Borrowed(""),
        Cell::Number(_) => {
            buf.clear();
            cell.render_into(buf);
            Cow::Borrowed(buf.as_str())
        }
        Cell::Text(s) => {
            if col == ColKind::RunId {
                match view.short_ids.get(row) {
                    Some(short) if !short.is_empty() => return Cow::Borrowed(short.as_str()),
                    _ => {}
                }
            }
            if col == ColKind::StartedAt
                && s.len() >= 19
                && s.is_ascii()
                && s.as_bytes()[10] == b'T'
            {
                buf.clear();
                buf.push_str(&s[..10]);
                buf.push(' ');
                buf.push_str(&s[11..19]);
                return Cow::Borrowed(buf.as_str());
            }
            let clean = sanitize(s);
            if limit && width_of(&clean) > MAX_TEXT {
                Cow::Owned(cut(&clean, MAX_TEXT).into_owned())
            } else {
                clean
            }
        }
    }
}

/// The columns whose text `cell_text` shows its own way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ColKind {
    RunId,
    StartedAt,
    Other,
}

fn kinds(t: &SparseTable) -> Vec<ColKind> {
    t.columns
        .iter()
        .map(|n| match n.as_str() {
            "run_id" => ColKind::RunId,
            "started_at" => ColKind::StartedAt,
            _ => ColKind::Other,
        })
        .collect()
}

fn measure(view: &View, best: &BTreeMap<usize, usize>) -> Vec<Column> {
    let t = view.table;
    let limit = view.width.is_some();
    let mut buf = String::new();
    let mut cols: Vec<Column> = t
        .columns
        .iter()
        .enumerate()
        .map(|(ci, name)| {
            let clean = sanitize(name);
            let (group, leaf) = split_name(&clean);
            let label = if limit {
                cut(leaf, MAX_TEXT).into_owned()
            } else {
                leaf.to_string()
            };
            let group = group.map(|g| {
                if limit {
                    cut(g, MAX_TEXT).into_owned()
                } else {
                    g.to_string()
                }
            });
            Column {
                index: ci,
                group,
                label,
                cells: 0,
                numeric: true,
                marked: best.contains_key(&ci),
                changes: false,
            }
        })
        .collect();
    // Only set cells count: an unset one is empty, no wider than 0, neither text nor a
    // marker, and never a change.
    let mut first: Vec<Option<&Cell>> = vec![None; cols.len()];
    let kind = kinds(t);
    for (ri, r) in t.rows.iter().enumerate() {
        for (ci, c) in r {
            let ci = *ci as usize;
            let col = &mut cols[ci];
            match c {
                Cell::Empty => continue,
                Cell::Number(n) => col.marked |= !n.is_finite(),
                Cell::Text(_) => col.numeric = false,
            }
            // A param of one stage is empty in the other stages' rows: it changes
            // when the values it has differ, not where it is absent.
            match first[ci] {
                None => first[ci] = Some(c),
                Some(f) => {
                    col.changes |= f != c
                        && !(f.is_non_finite() && c.is_non_finite() && f.render() == c.render())
                }
            }
            col.cells = col
                .cells
                .max(width_of(&cell_text(view, ri, kind[ci], c, &mut buf, limit)));
        }
    }
    cols
}

/// A group heading within `span` columns: whole when it fits (or nothing is limited),
/// else its longest dotted tail that fits after `…` (`…model.optimizer.`), else its
/// last segment (`…optimizer.`), for which the group is widened.
fn heading_fit(g: &str, span: usize, limit: bool) -> Cow<'_, str> {
    if !limit || width_of(g) <= span {
        return Cow::Borrowed(g);
    }
    let body = g.strip_suffix('.').unwrap_or(g);
    let mut last = None;
    for (i, _) in body.match_indices('.') {
        let tail = &g[i + 1..];
        if width_of(tail) < span {
            return Cow::Owned(format!("…{tail}"));
        }
        last = Some(tail);
    }
    match last {
        Some(tail) => Cow::Owned(format!("…{tail}")),
        None => Cow::Borrowed(g),
    }
}

/// The widths of `shown` (in table order): each column as wide as its label and cells,
/// and a group's last column widened when its heading (as `heading_fit` shows it) is
/// wider than the group.
fn widths(cols: &[Column], shown: &[usize], limit: bool) -> Vec<usize> {
    let mut w: Vec<usize> = shown
        .iter()
        .map(|&i| cols[i].body().max(width_of(&cols[i].label)))
        .collect();
    for (start, end) in groups(cols, shown) {
        let Some(g) = &cols[shown[start]].group else {
            continue;
        };
        let span: usize = w[start..end].iter().sum::<usize>() + GAP * (end - start - 1);
        let need = width_of(&heading_fit(g, span, limit));
        if need > span {
            w[end - 1] += need - span;
        }
    }
    w
}

/// Runs `[start, end)` of consecutive shown columns under one heading (or none).
fn groups(cols: &[Column], shown: &[usize]) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (k, &i) in shown.iter().enumerate() {
        match out.last_mut() {
            Some((s, e))
                if cols[shown[*s]].group.is_some() && cols[shown[*s]].group == cols[i].group =>
            {
                *e = k + 1
            }
            _ => out.push((k, k + 1)),
        }
    }
    out
}

fn total(w: &[usize]) -> usize {
    w.iter().sum::<usize>() + GAP * w.len().saturating_sub(1)
}

/// The columns to show, in table order: by priority while they fit.
fn choose(cols: &[Column], t: &SparseTable, width: Option<usize>) -> Vec<usize> {
    let all: Vec<usize> = (0..cols.len()).collect();
    let Some(width) = width else {
        return all;
    };
    let rank = |i: usize| -> u8 {
        let name = t.columns[i].as_str();
        if name == "run_id" {
            0
        } else if is_run_column(name) {
            1
        } else if name.starts_with("params.") && cols[i].changes {
            2
        } else if name.starts_with("metrics.") {
            3
        } else {
            4
        }
    };
    let mut order = all;
    order.sort_by_key(|&i| rank(i));
    let mut shown: Vec<usize> = Vec::new();
    for i in order {
        let mut trial = shown.clone();
        let at = trial.partition_point(|&j| j < i);
        trial.insert(at, i);
        if rank(i) == 0 || total(&widths(cols, &trial, true)) <= width {
            shown = trial;
        }
    }
    shown
}

/// The one line naming the hidden columns (as many as fit `width`) and how to see them.
fn hidden_note(t: &SparseTable, hidden: &[usize], width: usize) -> String {
    let mut out = format!(
        "{} column{} hidden (see --wide, --vertical): ",
        hidden.len(),
        if hidden.len() == 1 { "" } else { "s" }
    );
    for (k, &i) in hidden.iter().enumerate() {
        let name = sanitize(&t.columns[i]);
        let name = cut(&name, MAX_TEXT);
        let sep = if k == 0 { "" } else { ", " };
        // Room for ", …" unless this is the last name.
        let rest = if k + 1 == hidden.len() { 0 } else { 3 };
        if k > 0 && width_of(&out) + sep.len() + width_of(&name) + rest > width {
            out.push_str(", …");
            break;
        }
        out.push_str(sep);
        out.push_str(&name);
    }
    out.push('\n');
    out
}

/// Ends a line: trailing spaces cut, a line break, written out.
fn end_line(out: &mut String, w: &mut impl Write) -> io::Result<()> {
    let trimmed = out.trim_end_matches(' ').len();
    out.truncate(trimmed);
    out.push('\n');
    w.write_all(out.as_bytes())?;
    out.clear();
    Ok(())
}

/// The table, fitted to the view's width, written line by line.
pub fn write_table(view: &View, w: &mut impl Write) -> io::Result<()> {
    let t = view.table;
    if t.rows.is_empty() {
        return w.write_all(b"no runs match\n");
    }
    let best = best_of(t, view.directions);
    let cols = measure(view, &best);
    let shown = choose(&cols, t, view.width);
    let widths = widths(&cols, &shown, view.width.is_some());
    let mut out = String::with_capacity(total(&widths) + 1);
    let spans = groups(&cols, &shown);
    if spans.iter().any(|(s, _)| cols[shown[*s]].group.is_some()) {
        for (n, &(s, e)) in spans.iter().enumerate() {
            if n > 0 {
                pad(&mut out, GAP);
            }
            let span = widths[s..e].iter().sum::<usize>() + GAP * (e - s - 1);
            let g = cols[shown[s]].group.as_deref().unwrap_or("");
            let g = heading_fit(g, span, view.width.is_some());
            out.push_str(&g);
            pad(&mut out, span - width_of(&g));
        }
        end_line(&mut out, w)?;
    }
    for (k, &i) in shown.iter().enumerate() {
        if k > 0 {
            pad(&mut out, GAP);
        }
        let label = &cols[i].label;
        if cols[i].numeric {
            pad(&mut out, widths[k] - width_of(label));
            out.push_str(label);
        } else {
            out.push_str(label);
            pad(&mut out, widths[k] - width_of(label));
        }
    }
    end_line(&mut out, w)?;
    for (k, _) in shown.iter().enumerate() {
        if k > 0 {
            pad(&mut out, GAP);
        }
        out.extend(std::iter::repeat_n('-', widths[k]));
    }
    end_line(&mut out, w)?;
    let limit = view.width.is_some();
    let mut buf = String::new();
    let mut slots = Slots::new(t.columns.len());
    let kind = kinds(t);
    for (ri, r) in t.rows.iter().enumerate() {
        let cells = slots.fill(r);
        for (k, &i) in shown.iter().enumerate() {
            if k > 0 {
                pad(&mut out, GAP);
            }
            let c = &cols[i];
            let Some(cell) = cells[c.index] else {
                // Unset: blank, and never a marker.
                pad(&mut out, widths[k]);
                continue;
            };
            let text = cell_text(view, ri, kind[c.index], cell, &mut buf, limit);
            let mark = if cell.is_non_finite() {
                "!"
            } else if best.get(&c.index) == Some(&ri) {
                "*"
            } else {
                " "
            };
            let body = widths[k] - usize::from(c.marked);
            if c.numeric {
                pad(&mut out, body - width_of(&text));
                out.push_str(&text);
            } else {
                out.push_str(&text);
                pad(&mut out, body - width_of(&text));
            }
            if c.marked {
                out.push_str(mark);
            }
        }
        end_line(&mut out, w)?;
    }
    if shown.iter().any(|&i| cols[i].marked) {
        w.write_all(b"* best value of a metric with a direction; ! NaN or infinite\n")?;
    }
    let hidden: Vec<usize> = (0..cols.len()).filter(|i| !shown.contains(i)).collect();
    if !hidden.is_empty() {
        let note = hidden_note(t, &hidden, view.width.unwrap_or(usize::MAX));
        w.write_all(note.as_bytes())?;
    }
    Ok(())
}

fn text_of(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
    let mut v = Vec::new();
    write(&mut v).expect("write to memory");
    String::from_utf8(v).expect("utf-8 text")
}

/// `write_table` as a string.
pub fn render(view: &View) -> String {
    text_of(|w| write_table(view, w))
}

/// One block per run, a `column: value` line for each cell that is set (full names,
/// full run id, nothing cut), blocks apart by a blank line; written block by block.
pub fn write_vertical(view: &View, w: &mut impl Write) -> io::Result<()> {
    let t = view.table;
    if t.rows.is_empty() {
        return w.write_all(b"no runs match\n");
    }
    let best = best_of(t, view.directions);
    let names: Vec<Cow<str>> = t.columns.iter().map(|c| sanitize(c)).collect();
    let mut out = String::new();
    let mut buf = String::new();
    for (ri, r) in t.rows.iter().enumerate() {
        out.clear();
        if ri > 0 {
            out.push('\n');
        }
        for (ci, cell) in r {
            let ci = *ci as usize;
            if matches!(cell, Cell::Empty) {
                continue;
            }
            out.push_str(&names[ci]);
            out.push_str(": ");
            match cell {
                Cell::Text(s) => out.push_str(&sanitize(s)),
                _ => {
                    buf.clear();
                    cell.render_into(&mut buf);
                    out.push_str(&buf);
                }
            }
            if cell.is_non_finite() {
                out.push('!');
            } else if best.get(&ci) == Some(&ri) {
                out.push('*');
            }
            out.push('\n');
        }
        w.write_all(out.as_bytes())?;
    }
    Ok(())
}

/// `write_vertical` as a string.
pub fn vertical(view: &View) -> String {
    text_of(|w| write_vertical(view, w))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::table::Table;

    fn view_of(t: &Table, width: Option<usize>) -> String {
        render(&View {
            table: &SparseTable::from_dense(t),
            directions: &BTreeMap::new(),
            short_ids: &[],
            width,
        })
    }

    #[test]
    fn hostile_names_stay_on_one_line() {
        assert_eq!(
            sanitize("a\nb\u{1b}[31m\u{202e}c"),
            "a\\nb\\x1b[31m\\u{202e}c"
        );
        let t = Table {
            columns: vec![
                "run_id".into(),
                "params.\u{1b}[2J\nx".into(),
                format!("params.{}", "y".repeat(500)),
            ],
            rows: vec![vec![
                Cell::Text("r".into()),
                Cell::Text("v\r\n\u{7}".into()),
                Cell::Number(1.5),
            ]],
        };
        for width in [Some(80), None] {
            let s = view_of(&t, width);
            assert!(
                !s.contains('\u{1b}') && !s.contains('\r') && !s.contains('\u{7}'),
                "{s}"
            );
            // group heading, labels, rule, one row (and the note when hidden)
            assert!(s.lines().count() <= 5, "{s}");
            if width.is_some() {
                assert!(s.lines().all(|l| l.width() <= 80), "{s}");
            }
        }
    }

    #[test]
    fn headings_keep_their_dotted_tail() {
        let g = "params.stage1.model.optimizer.";
        assert_eq!(heading_fit(g, 40, true), g);
        assert_eq!(heading_fit(g, 27, true), "…stage1.model.optimizer.");
        assert_eq!(heading_fit(g, 20, true), "…model.optimizer.");
        assert_eq!(heading_fit(g, 4, true), "…optimizer.");
        assert_eq!(heading_fit(g, 4, false), g);
        assert_eq!(heading_fit("params.", 5, true), "params.");
    }

    #[test]
    fn a_narrow_width_keeps_the_run_id_and_wide_characters_count_twice() {
        let t = Table {
            columns: vec!["run_id".into(), "stage".into(), "params.名前".into()],
            rows: vec![vec![
                Cell::Text("20261201T104512Z-a3f2".into()),
                Cell::Text("訓練".into()),
                Cell::Text("値値値".into()),
            ]],
        };
        let short = ["T104512Z".to_string()];
        let sparse = SparseTable::from_dense(&t);
        let show = |width| {
            render(&View {
                table: &sparse,
                directions: &BTreeMap::new(),
                short_ids: &short,
                width: Some(width),
            })
        };
        let s = show(20);
        assert!(
            s.lines().nth(2).unwrap().starts_with("T104512Z  訓練"),
            "{s}"
        );
        assert!(
            s.lines().last().unwrap().starts_with("1 column hidden"),
            "{s}"
        );
        let s = show(80);
        // `訓練` is four columns wide, the heading `params.` widens its column to 7.
        assert_eq!(s.lines().nth(2).unwrap(), "--------  -----  -------", "{s}");
        assert_eq!(s.lines().nth(3).unwrap(), "T104512Z  訓練   値値値", "{s}");
    }

    #[test]
    fn numbers_are_hidden_never_cut() {
        let t = Table {
            columns: (0..30).map(|i| format!("metrics.m{i}")).collect(),
            rows: vec![(0..30)
                .map(|i| Cell::Number(1.0 / (i as f64 + 3.0)))
                .collect()],
        };
        let s = view_of(&t, Some(80));
        let row = s.lines().nth(3).unwrap();
        for n in row.split_whitespace() {
            assert!(t.rows[0].iter().any(|c| c.render() == n), "{n} cut");
        }
        assert!(s.lines().all(|l| l.width() <= 80), "{s}");
        assert!(s.lines().last().unwrap().contains("columns hidden"), "{s}");
    }
}
