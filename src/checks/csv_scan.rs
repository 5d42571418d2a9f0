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

/// Scans a table. With `key_columns`, exactly those columns are checked (and an empty
/// cell counts as missing); otherwise every column whose sampled cells are all
/// numbers (empty cells allowed) is.
pub fn scan_csv(path: &Path, key_columns: &[String]) -> Result<CsvStats, String> {
    let tsv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if tsv { b'\t' } else { b',' })
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_path(path)
        .map_err(|e| e.to_string())?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(str::to_string)
        .collect();
    let mut stats = CsvStats::default();
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
    let (columns, strict): (Vec<usize>, bool) = if key_columns.is_empty() {
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
                None => stats.missing_columns.push(k.clone()),
            }
        }
        (cols, true)
    };
    let mut counts = vec![0u64; columns.len()];
    let mut tally = |r: &csv::ByteRecord, stats: &mut CsvStats| {
        stats.rows += 1;
        for (slot, &c) in columns.iter().enumerate() {
            let bad = match r.get(c) {
                Some(cell) => is_non_finite(cell) || (strict && cell.trim_ascii().is_empty()),
                None => strict,
            };
            counts[slot] += bad as u64;
        }
    };
    for r in &sample {
        tally(r, &mut stats);
    }
    drop(sample);
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?
    {
        tally(&record, &mut stats);
    }
    stats.non_finite = columns
        .iter()
        .zip(&counts)
        .filter(|(_, n)| **n > 0)
        .map(|(c, n)| (headers[*c].clone(), *n))
        .collect();
    Ok(stats)
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
    fn tokens() {
        for t in ["nan", "NaN", " -inf", "+Infinity", "INF"] {
            assert!(is_non_finite(t.as_bytes()), "{t}");
        }
        for t in ["", "1.5", "info", "n/a", "-1e9"] {
            assert!(!is_non_finite(t.as_bytes()), "{t}");
        }
    }
}
