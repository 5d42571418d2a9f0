//! Streaming scan of a CSV/TSV output: row count and NaN/Inf cells in numeric columns,
//! in constant memory.

use std::path::Path;

/// What a scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvStats {
    /// Data rows (the header excluded).
    pub rows: u64,
    /// Column → number of NaN/Inf cells (only columns that have some).
    pub non_finite: Vec<(String, u64)>,
    /// Key columns named by the stage that the file does not have.
    pub missing_columns: Vec<String>,
}

const SAMPLE_ROWS: usize = 1000;

fn is_non_finite(cell: &[u8]) -> bool {
    let cell = cell.trim_ascii();
    let body = match cell.first() {
        Some(b'+' | b'-') => &cell[1..],
        _ => cell,
    };
    match body.first() {
        Some(b'n' | b'N' | b'i' | b'I') => {
            body.eq_ignore_ascii_case(b"nan")
                || body.eq_ignore_ascii_case(b"inf")
                || body.eq_ignore_ascii_case(b"infinity")
        }
        _ => false,
    }
}

fn is_number(cell: &[u8]) -> bool {
    std::str::from_utf8(cell.trim_ascii())
        .ok()
        .is_some_and(|s| s.parse::<f64>().is_ok())
}

/// Which columns to check and how.
struct Plan {
    headers: Vec<String>,
    columns: Vec<usize>,
    strict: bool,
    delimiter: u8,
    data_start: u64,
}

/// Scans a table. With `key_columns`, exactly those columns are checked (and an empty
/// cell counts as missing); otherwise every column whose sampled cells are all
/// numbers (empty cells allowed) is.
///
/// The header and a sample of rows are read with the `csv` crate. Files without a
/// quote character after the header — most machine-written tables — are then
/// scanned on every core by splitting at line boundaries, since no field can hold a
/// delimiter or a newline; any quote sends the scan to the `csv` crate's reader.
pub fn scan_csv(path: &Path, key_columns: &[String]) -> Result<CsvStats, String> {
    let (plan, missing_columns) = plan(path, key_columns)?;
    let (rows, counts) = match fast_scan(path, &plan)? {
        Some(r) => r,
        None => slow_scan(path, &plan)?,
    };
    Ok(CsvStats {
        rows,
        non_finite: plan
            .columns
            .iter()
            .zip(&counts)
            .filter(|(_, n)| **n > 0)
            .map(|(c, n)| (plan.headers[*c].clone(), *n))
            .collect(),
        missing_columns,
    })
}

fn reader(path: &Path, delimiter: u8) -> Result<csv::Reader<std::fs::File>, String> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_path(path)
        .map_err(|e| e.to_string())
}

fn plan(path: &Path, key_columns: &[String]) -> Result<(Plan, Vec<String>), String> {
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let delimiter = if tsv { b'\t' } else { b',' };
    let mut reader = reader(path, delimiter)?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let data_start = reader.position().byte();
    let mut sample: Vec<csv::ByteRecord> = Vec::new();
    let mut record = csv::ByteRecord::new();
    while sample.len() < SAMPLE_ROWS {
        if !reader
            .read_byte_record(&mut record)
            .map_err(|e| e.to_string())?
        {
            break;
        }
        sample.push(record.clone());
    }
    let mut missing = Vec::new();
    let (columns, strict) = if key_columns.is_empty() {
        let numeric = (0..headers.len())
            .filter(|c| {
                let mut any = false;
                let all = sample
                    .iter()
                    .all(|r| match r.get(*c).map(<[u8]>::trim_ascii) {
                        None | Some(b"") => true,
                        Some(cell) => {
                            any = true;
                            is_number(cell) || is_non_finite(cell)
                        }
                    });
                all && any
            })
            .collect();
        (numeric, false)
    } else {
        let mut cols = Vec::new();
        for k in key_columns {
            match headers.iter().position(|h| h == k) {
                Some(i) => cols.push(i),
                None => missing.push(k.clone()),
            }
        }
        (cols, true)
    };
    Ok((
        Plan {
            headers,
            columns,
            strict,
            delimiter,
            data_start,
        },
        missing,
    ))
}

fn bad_cell(cell: &[u8], strict: bool) -> bool {
    is_non_finite(cell) || (strict && cell.trim_ascii().is_empty())
}

/// The general path: every record through the `csv` crate.
fn slow_scan(path: &Path, plan: &Plan) -> Result<(u64, Vec<u64>), String> {
    let mut reader = reader(path, plan.delimiter)?;
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    let mut counts = vec![0u64; plan.columns.len()];
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?
    {
        rows += 1;
        for (slot, &c) in plan.columns.iter().enumerate() {
            let bad = match record.get(c) {
                Some(cell) => bad_cell(cell, plan.strict),
                None => plan.strict,
            };
            counts[slot] += bad as u64;
        }
    }
    Ok((rows, counts))
}

const BLOCK: usize = 8 << 20;

/// The quote-free path, or `None` when the data holds a quote character.
fn fast_scan(path: &Path, plan: &Plan) -> Result<Option<(u64, Vec<u64>)>, String> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let start = plan.data_start.min(len);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(((len - start) / (BLOCK as u64)).max(1) as usize);
    // Split points just after a newline, so every part holds whole lines.
    let mut bounds = vec![start];
    for t in 1..threads {
        let guess = start + (len - start) * t as u64 / threads as u64;
        let mut buf = vec![0u8; 1 << 16];
        let mut at = guess;
        let cut = loop {
            let n = file.read_at(&mut buf, at).map_err(|e| e.to_string())?;
            if n == 0 {
                break len;
            }
            if let Some(i) = memchr::memchr(b'\n', &buf[..n]) {
                break at + i as u64 + 1;
            }
            at += n as u64;
        };
        bounds.push(cut.max(*bounds.last().expect("bounds")));
    }
    bounds.push(len);
    let quoted = std::sync::atomic::AtomicBool::new(false);
    let parts: Vec<Result<(u64, Vec<u64>), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (from, to) = (w[0], w[1]);
                let (file, quoted) = (&file, &quoted);
                s.spawn(move || scan_range(file, from, to, plan, quoted))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("scan thread"))
            .collect()
    });
    if quoted.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(None);
    }
    let mut rows = 0;
    let mut counts = vec![0u64; plan.columns.len()];
    for p in parts {
        let (r, c) = p?;
        rows += r;
        for (a, b) in counts.iter_mut().zip(c) {
            *a += b;
        }
    }
    Ok(Some((rows, counts)))
}

/// State of the quote-free scanner over whole lines.
struct RowScan<'p> {
    plan: &'p Plan,
    strict: bool,
    /// One past the last checked column.
    width: usize,
    /// Column → slot in `plan.columns`, for the columns checked.
    slot_of: Vec<Option<usize>>,
    /// Strict mode only: which checked columns the current row had, and which were bad.
    seen: Vec<bool>,
    bad: Vec<bool>,
    rows: u64,
    counts: Vec<u64>,
}

impl RowScan<'_> {
    #[inline(always)]
    fn field(&mut self, col: usize, cell: &[u8]) {
        let Some(&Some(slot)) = self.slot_of.get(col) else {
            return;
        };
        if self.strict {
            self.seen[slot] = true;
            self.bad[slot] = bad_cell(cell, true);
        } else if !cell.first().is_some_and(u8::is_ascii_digit) && is_non_finite(cell) {
            // Most cells start with a digit and are done with one comparison. An
            // empty line has one empty field, never a non-finite one, so counting
            // right away cannot count a skipped line.
            self.counts[slot] += 1;
        }
    }

    /// Ends a line; `empty` lines are skipped, as the csv crate skips them.
    #[inline]
    fn end_row(&mut self, empty: bool) {
        if !empty {
            self.rows += 1;
        }
        if self.strict {
            for slot in 0..self.counts.len() {
                if !empty {
                    let bad = !self.seen[slot] || self.bad[slot];
                    self.counts[slot] += bad as u64;
                }
                self.seen[slot] = false;
                self.bad[slot] = false;
            }
        }
    }

    /// Scans `buf`, which holds whole lines (the last one may lack its newline).
    /// Separators are dense in a table (one every few bytes), where a plain byte
    /// loop beats vectorised searching; once a row has no more checked columns the
    /// rest of it is skipped with `memchr`.
    fn lines(&mut self, buf: &[u8]) {
        // A constant delimiter lets the compiler fold the per-byte comparisons.
        match (self.plan.delimiter, self.strict) {
            (b',', false) => self.lines_lenient::<b','>(buf),
            (b'\t', false) => self.lines_lenient::<b'\t'>(buf),
            (b',', true) => self.lines_with::<b','>(buf),
            (b'\t', true) => self.lines_with::<b'\t'>(buf),
            _ => unreachable!("only comma and tab tables are scanned"),
        }
    }

    /// One separator at `pos` of `buf`: ends a field, and a row when it is a newline.
    #[inline(always)]
    fn separator(&mut self, buf: &[u8], pos: usize, at: &mut Cursor) {
        if buf[pos] == b'\n' {
            let cell = &buf[at.field_start..pos];
            let cell = cell.strip_suffix(b"\r").unwrap_or(cell);
            if at.col < self.width || at.col == 0 {
                self.field(at.col, cell);
            }
            self.end_row(at.col == 0 && cell.is_empty());
            at.col = 0;
        } else if at.col < self.width {
            self.field(at.col, &buf[at.field_start..pos]);
            at.col += 1;
        } else {
            return; // past the last checked column: wait for the newline
        }
        at.field_start = pos + 1;
    }

    fn lines_with<const DELIM: u8>(&mut self, buf: &[u8]) {
        let mut at = Cursor {
            col: 0,
            field_start: 0,
        };
        // Separators come every few bytes, too often for a vectorised search to pay
        // off; eight bytes at a time, a word's separator positions come out of a
        // little bit arithmetic and are visited lowest first.
        let words = buf.len() / 8;
        for w in 0..words {
            let base = w * 8;
            let word = u64::from_le_bytes(buf[base..base + 8].try_into().expect("8 bytes"));
            let mut mask = zero_bytes(word ^ splat(DELIM)) | zero_bytes(word ^ splat(b'\n'));
            while mask != 0 {
                let pos = base + (mask.trailing_zeros() / 8) as usize;
                self.separator(buf, pos, &mut at);
                mask &= mask - 1;
            }
        }
        for pos in words * 8..buf.len() {
            if buf[pos] == DELIM || buf[pos] == b'\n' {
                self.separator(buf, pos, &mut at);
            }
        }
        if at.field_start < buf.len() || at.col > 0 {
            let cell = &buf[at.field_start.min(buf.len())..];
            let cell = cell.strip_suffix(b"\r").unwrap_or(cell);
            if at.col < self.width || at.col == 0 {
                self.field(at.col, cell);
            }
            self.end_row(at.col == 0 && cell.is_empty());
        }
    }
}

impl RowScan<'_> {
    /// Fields of one line, parsed in full.
    fn parse_line<const DELIM: u8>(&mut self, line: &[u8]) {
        let mut at = Cursor {
            col: 0,
            field_start: 0,
        };
        for pos in memchr::memchr_iter(DELIM, line) {
            if at.col >= self.width {
                break;
            }
            self.field(at.col, &line[at.field_start..pos]);
            at.col += 1;
            at.field_start = pos + 1;
        }
        let cell = &line[at.field_start.min(line.len())..];
        let cell = cell.strip_suffix(b"\r").unwrap_or(cell);
        if at.col < self.width {
            self.field(at.col, cell);
        }
        self.end_row(at.col == 0 && cell.is_empty());
    }

    /// Ends the line `line_start..end`: parsed when it may hold a NaN/Inf, else
    /// only counted.
    #[inline(always)]
    fn line<const DELIM: u8>(&mut self, buf: &[u8], line_start: usize, end: usize, maybe: bool) {
        if maybe {
            self.parse_line::<DELIM>(&buf[line_start..end]);
        } else {
            let line = &buf[line_start..end];
            let empty = line.is_empty() || line == b"\r";
            self.end_row(empty);
        }
    }

    /// Without key columns only NaN and Inf cells count, and every spelling of them
    /// (nan, inf, infinity, any case) holds an 'n'. Lines without one are only
    /// counted; the rest are parsed field by field. Eight bytes at a time, newlines
    /// and n's come out of a little bit arithmetic.
    fn lines_lenient<const DELIM: u8>(&mut self, buf: &[u8]) {
        let mut line_start = 0;
        let mut maybe = false;
        let words = buf.len() / 8;
        for w in 0..words {
            let base = w * 8;
            let word = u64::from_le_bytes(buf[base..base + 8].try_into().expect("8 bytes"));
            let mut newlines = zero_bytes(word ^ splat(b'\n'));
            let mut ns = zero_bytes(word ^ splat(b'n')) | zero_bytes(word ^ splat(b'N'));
            while newlines != 0 {
                let bit = newlines.trailing_zeros();
                let below = (1u64 << bit) - 1;
                maybe |= ns & below != 0;
                ns &= !below;
                let pos = base + (bit / 8) as usize;
                self.line::<DELIM>(buf, line_start, pos, maybe);
                line_start = pos + 1;
                maybe = false;
                newlines &= newlines - 1;
            }
            maybe |= ns != 0;
        }
        for pos in words * 8..buf.len() {
            match buf[pos] {
                b'\n' => {
                    self.line::<DELIM>(buf, line_start, pos, maybe);
                    line_start = pos + 1;
                    maybe = false;
                }
                b'n' | b'N' => maybe = true,
                _ => {}
            }
        }
        if line_start < buf.len() {
            self.line::<DELIM>(buf, line_start, buf.len(), maybe);
        }
    }
}

/// Where the scanner is within the current line.
struct Cursor {
    col: usize,
    field_start: usize,
}

const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// The high bit of each byte of `x` that is zero, exactly (no borrow false positives).
#[inline(always)]
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

fn scan_range(
    file: &std::fs::File,
    from: u64,
    to: u64,
    plan: &Plan,
    quoted: &std::sync::atomic::AtomicBool,
) -> Result<(u64, Vec<u64>), String> {
    use std::os::unix::fs::FileExt;
    use std::sync::atomic::Ordering;
    let width = plan.columns.iter().max().map_or(0, |m| m + 1);
    let mut slot_of = vec![None; width];
    for (slot, &c) in plan.columns.iter().enumerate() {
        slot_of[c] = Some(slot);
    }
    let mut scan = RowScan {
        plan,
        strict: plan.strict,
        width,
        slot_of,
        bad: vec![false; plan.columns.len()],
        seen: vec![false; plan.columns.len()],
        rows: 0,
        counts: vec![0; plan.columns.len()],
    };
    let mut buf = vec![0u8; BLOCK];
    let mut filled = 0;
    let mut at = from;
    loop {
        if quoted.load(Ordering::Relaxed) {
            return Ok((0, Vec::new()));
        }
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0); // a line longer than the buffer
        }
        let want = ((to - at) as usize).min(buf.len() - filled);
        let n = if want == 0 {
            0
        } else {
            file.read_at(&mut buf[filled..filled + want], at)
                .map_err(|e| e.to_string())?
        };
        if memchr::memchr(b'"', &buf[filled..filled + n]).is_some() {
            quoted.store(true, Ordering::Relaxed);
            return Ok((0, Vec::new()));
        }
        at += n as u64;
        filled += n;
        if at >= to || n == 0 {
            scan.lines(&buf[..filled]);
            break;
        }
        // Scan the whole lines; carry the unfinished one over to the next block.
        let whole = memchr::memrchr(b'\n', &buf[..filled]).map_or(0, |i| i + 1);
        scan.lines(&buf[..whole]);
        buf.copy_within(whole..filled, 0);
        filled -= whole;
    }
    Ok((scan.rows, scan.counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(text: &str, keys: &[&str]) -> CsvStats {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("t.csv");
        std::fs::write(&p, text).unwrap();
        let keys: Vec<String> = keys.iter().map(|s| s.to_string()).collect();
        scan_csv(&p, &keys).unwrap()
    }

    #[test]
    fn counts_rows_and_non_finite_cells_in_numeric_columns() {
        let s = scan(
            "id,name,score,loss\n1,a,0.5,1\n2,nan,NaN,inf\n3,c,,-Infinity\n",
            &[],
        );
        assert_eq!(s.rows, 3);
        // 'name' is text (a, nan, c): not numeric, not scanned
        assert_eq!(
            s.non_finite,
            [("score".to_string(), 1), ("loss".to_string(), 2)]
        );
        let s = scan("a,b\n1,2\n", &[]);
        assert!(s.non_finite.is_empty());
        assert_eq!(s.rows, 1);
    }

    #[test]
    fn key_columns_are_checked_strictly() {
        let s = scan("id,score\n1,\n2,inf\n3,0.1\n", &["score", "missing"]);
        assert_eq!(s.non_finite, [("score".to_string(), 2)]);
        assert_eq!(s.missing_columns, ["missing"]);
    }

    #[test]
    fn the_fast_path_agrees_with_the_csv_crate() {
        let d = tempfile::tempdir().unwrap();
        let cases = [
            "a,b,c\n1,2,3\n4,nan,6\n\n7,8\n9,inf,x\n",
            "a,b\r\n1,2\r\n3,-Infinity\r\n",
            "a,b\n1,2\n3,NaN",
            "a,b\n1,2\n\n\n",
            "a\n\n",
            "x,y\n",
            "\"quoted, header\",y\n1,2\n3,nan\n",
        ];
        for (i, text) in cases.iter().enumerate() {
            let p = d.path().join(format!("c{i}.csv"));
            std::fs::write(&p, text).unwrap();
            for keys in [vec![], vec!["b".to_string()], vec!["y".to_string()]] {
                let (plan, _) = plan(&p, &keys).unwrap();
                let slow = slow_scan(&p, &plan).unwrap();
                let fast = fast_scan(&p, &plan)
                    .unwrap()
                    .expect("no quotes after the header");
                assert_eq!(fast, slow, "case {i} {text:?} keys {keys:?}");
            }
        }
        let p = d.path().join("q.csv");
        std::fs::write(&p, "a,b\n\"1,2\",nan\n").unwrap();
        let (plan, _) = plan(&p, &[]).unwrap();
        assert_eq!(fast_scan(&p, &plan).unwrap(), None, "quotes fall back");
        assert_eq!(
            scan_csv(&p, &["b".to_string()]).unwrap().non_finite,
            [("b".to_string(), 1)]
        );
    }

    #[test]
    fn the_fast_path_agrees_on_mixed_generated_tables() {
        let d = tempfile::tempdir().unwrap();
        let tokens = [
            "1",
            "-2.5",
            "nan",
            "NaN",
            " inf",
            "-Infinity",
            "banana",
            "Inf",
            "",
            "3e5",
            "n/a",
            "x",
        ];
        let mut seed: u64 = 42;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for (case, delim) in [(0, ","), (1, "\t"), (2, ",")] {
            let mut text = ["a", "b", "c", "d"].join(delim);
            text.push('\n');
            for row in 0..20_000 {
                let n = match next() % 10 {
                    0 => 0,
                    1 => 2,
                    2 => 6,
                    _ => 4,
                };
                let cells: Vec<&str> = (0..n)
                    .map(|c| {
                        if row < 1000 && c != 3 && case != 2 {
                            ["1", "2.5", ""][next() % 3]
                        } else {
                            tokens[next() % tokens.len()]
                        }
                    })
                    .collect();
                text.push_str(&cells.join(delim));
                text.push_str(if next() % 7 == 0 { "\r\n" } else { "\n" });
            }
            let p = d.path().join(if delim == "," {
                format!("g{case}.csv")
            } else {
                format!("g{case}.tsv")
            });
            std::fs::write(&p, &text).unwrap();
            for keys in [
                vec![],
                vec!["b".to_string()],
                vec!["a".to_string(), "d".to_string()],
            ] {
                let (plan, _) = plan(&p, &keys).unwrap();
                let slow = slow_scan(&p, &plan).unwrap();
                let fast = fast_scan(&p, &plan).unwrap().expect("no quotes");
                assert_eq!(
                    fast, slow,
                    "case {case} keys {keys:?} columns {:?}",
                    plan.columns
                );
            }
        }
    }

    #[test]
    fn a_large_table_split_across_threads_counts_every_row() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("big.csv");
        let mut text = String::from("id,v\n");
        for i in 0..2_000_000 {
            text.push_str(&format!(
                "{i},{}\n",
                if i % 1000 == 0 { "nan" } else { "1.5" }
            ));
        }
        std::fs::write(&p, &text).unwrap();
        let s = scan_csv(&p, &[]).unwrap();
        assert!(
            text.len() > 2 * BLOCK,
            "large enough to be split across threads"
        );
        assert_eq!(s.rows, 2_000_000);
        assert_eq!(s.non_finite, [("v".to_string(), 2000)]);
        let (plan, _) = plan(&p, &[]).unwrap();
        assert_eq!(
            fast_scan(&p, &plan).unwrap().unwrap(),
            slow_scan(&p, &plan).unwrap()
        );
    }

    #[test]
    fn tokens() {
        for t in ["nan", "NaN", " -inf", "+Infinity", "INF"] {
            assert!(is_non_finite(t.as_bytes()), "{t}");
        }
        for t in ["", "1.5", "info", "n/a", "-1e9"] {
            assert!(!is_non_finite(t.as_bytes()), "{t}");
        }
    }
}
