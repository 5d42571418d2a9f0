//! A cache of the table fields of each run record, keyed by the record's tip commit,
//! at `<git-common-dir>/workbench/table-cache`. A record never changes under a given
//! tip id, so an entry is valid exactly while the run's ref points at that commit;
//! `compare` then reads only new or moved runs from the object database.
//!
//! The format (v5) needs no JSON parse: the table's cells are stored as the table
//! shows them, one tab-separated line per run, param and metric names written once in
//! a key list and cited by number. The file is
//!
//! ```text
//! workbench-table-cache v5
//! keys N
//! p<name>            N lines: `p` a param, `m` a metric
//! entries M
//! <tip>\t<run_id>\t<stage>\t<started_at>\t<state>\t<sweep>\t<forced>\t<cell>...   M lines, by tip
//! crc32 XXXXXXXX     the CRC-32 of every byte before this line
//! ```
//!
//! `<sweep>` and `<forced>` are `-` when unset, else `s` / `f` and the text; a cell is
//! `<key number><kind><value>` with kind `n` (a number, Rust's shortest round-trip
//! form), `t` (text) or `e` (unset: a JSON null still makes its column). Text escapes
//! `\\`, tab, line feed and carriage return. A file with another header, a wrong count,
//! a bad checksum, tips out of order or any line that does not parse is ignored as a
//! whole (and rewritten): it is never trusted in part. It is written to a temporary
//! file renamed over the old one, so a reader sees the old file or the new, whole.

use crate::model::state::RunState;
use crate::model::table::{forced_cell, Cell};
use crate::model::time::Timestamp;
use crate::model::{ObjectId, RunId, StageName};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;

// v5: no JSON; cells as the table shows them (v4 was a JSON object a line).
const HEADER: &str = "workbench-table-cache v5\n";

/// What the table needs of a run, as read from its record.
#[derive(Debug, Clone, PartialEq)]
pub struct RowFields {
    pub run_id: RunId,
    pub stage: StageName,
    pub started_at: Timestamp,
    pub state: RunState,
    pub params: BTreeMap<String, Value>,
    pub metrics: BTreeMap<String, Value>,
    pub sweep_id: Option<String>,
    /// For a forced approval, the checks it overrode.
    pub forced: Option<Vec<String>>,
}

/// A param or a metric name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Param,
    Metric,
}

/// The column a row's `forced` cell has in `CachedRow::row` (after the four base
/// columns); a param or metric of key number `k` has `KEYS + k`.
pub const FORCED: u32 = 4;
pub const KEYS: u32 = 5;

/// One run's row as the cache holds it, in the table's cells: `run_id, stage,
/// started_at, state` in columns 0 to 3, the `forced` text in `FORCED`, a param or
/// metric of key number `k` (`TableCache::key`) in `KEYS + k`, unset ones as
/// `Cell::Empty` (a JSON null still makes its column). `ops::compare` renumbers the
/// columns once it knows them all.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedRow {
    pub state: RunState,
    pub sweep_id: Option<String>,
    pub row: Vec<(u32, Cell)>,
}

impl CachedRow {
    /// The text of column 0 to 4 (`""` when unset).
    pub fn text(&self, col: u32) -> &str {
        match self.row.iter().find(|(c, _)| *c == col) {
            Some((_, Cell::Text(s))) => s,
            _ => "",
        }
    }
}

pub struct TableCache {
    file: PathBuf,
    /// The cache file's text; entries point into it.
    text: String,
    keys: Vec<(Kind, String)>,
    /// `keys` by name, built on the first `put`.
    key_index: HashMap<(Kind, String), u32>,
    /// (tip, start, end) of each entry line in `text` (without its tip and newline),
    /// by tip.
    entries: Vec<(ObjectId, usize, usize)>,
    /// `entries` by tip.
    index: HashMap<ObjectId, u32, BuildTipHasher>,
    /// Entries of runs that still exist (`touch`), by index in `entries`.
    live: Vec<bool>,
    live_count: usize,
    new: Vec<(ObjectId, String)>,
}

fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn unescape(s: &str) -> Option<String> {
    if !s.contains('\\') {
        return Some(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match it.next()? {
            '\\' => '\\',
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

fn state_named(s: &str) -> Option<RunState> {
    RunState::ALL.into_iter().find(|st| st.as_str() == s)
}

/// The parts of a valid cache file, or `None`.
type Parsed = (Vec<(Kind, String)>, Vec<(ObjectId, usize, usize)>);

fn parse_file(text: &str) -> Option<Parsed> {
    let body = text.strip_prefix(HEADER)?;
    // The last line: `crc32 XXXXXXXX\n`, over everything before it.
    let body_end = text.len().checked_sub("crc32 00000000\n".len())?;
    let trailer = text.get(body_end..)?;
    let crc = u32::from_str_radix(trailer.strip_prefix("crc32 ")?.strip_suffix('\n')?, 16).ok()?;
    if body_end < HEADER.len() || crc32fast::hash(&text.as_bytes()[..body_end]) != crc {
        return None;
    }
    let body = &body[..body_end - HEADER.len()];
    let mut lines = body.split_inclusive('\n');
    let mut next_line = || lines.next()?.strip_suffix('\n');
    let n_keys: usize = next_line()?.strip_prefix("keys ")?.parse().ok()?;
    let mut keys = Vec::with_capacity(n_keys.min(1 << 20));
    for _ in 0..n_keys {
        let l = next_line()?;
        let kind = match l.as_bytes().first()? {
            b'p' => Kind::Param,
            b'm' => Kind::Metric,
            _ => return None,
        };
        keys.push((kind, unescape(&l[1..])?));
    }
    let n_entries: usize = next_line()?.strip_prefix("entries ")?.parse().ok()?;
    let mut entries = Vec::with_capacity(n_entries.min(1 << 24));
    let base = text.as_ptr() as usize;
    for _ in 0..n_entries {
        let l = next_line()?;
        let (tip, rest) = l.split_once('\t')?;
        let tip = ObjectId::parse(tip).ok()?;
        if entries.last().is_some_and(|(t, _, _)| *t >= tip) {
            return None;
        }
        let start = rest.as_ptr() as usize - base;
        entries.push((tip, start, start + rest.len()));
    }
    if next_line().is_some() {
        return None;
    }
    Some((keys, entries))
}

impl TableCache {
    pub fn load(file: PathBuf) -> TableCache {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let (keys, entries, text) = match parse_file(&text) {
            Some((k, e)) => (k, e, text),
            None => (Vec::new(), Vec::new(), String::new()),
        };
        let mut index = HashMap::with_capacity_and_hasher(entries.len(), BuildTipHasher);
        for (i, (tip, _, _)) in entries.iter().enumerate() {
            index.insert(*tip, i as u32);
        }
        TableCache {
            file,
            text,
            index,
            live: vec![false; entries.len()],
            live_count: 0,
            keys,
            key_index: HashMap::new(),
            entries,
            new: Vec::new(),
        }
    }

    /// The name of a key number that a row cites.
    pub fn key(&self, n: u32) -> (Kind, &str) {
        let (k, name) = &self.keys[n as usize];
        (*k, name)
    }

    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Marks the entry of `tip`, a run that exists, as one to keep, and returns
    /// where it is for `get`.
    pub fn touch(&mut self, tip: ObjectId) -> Option<Entry> {
        let i = *self.index.get(&tip)? as usize;
        if !self.live[i] {
            self.live[i] = true;
            self.live_count += 1;
        }
        Some(Entry(i))
    }

    /// The row of an entry `touch` found (an entry that does not parse is a miss).
    pub fn get(&mut self, entry: Option<Entry>) -> Option<CachedRow> {
        let i = entry?.0;
        let (_, start, end) = self.entries[i];
        let row = self.parse_entry(&self.text[start..end]);
        if row.is_none() && self.live[i] {
            // Not kept: `put` writes it again.
            self.live[i] = false;
            self.live_count -= 1;
        }
        row
    }

    fn parse_entry(&self, line: &str) -> Option<CachedRow> {
        let mut f = line.split('\t');
        let mut cells = Vec::with_capacity(16);
        for col in 0..3 {
            cells.push((col, Cell::Text(unescape(f.next()?)?)));
        }
        let state = state_named(f.next()?)?;
        cells.push((3, Cell::Text(state.as_str().to_string())));
        let sweep_id = match f.next()? {
            "-" => None,
            s => Some(unescape(s.strip_prefix('s')?)?),
        };
        match f.next()? {
            "-" => {}
            s => cells.push((FORCED, Cell::Text(unescape(s.strip_prefix('f')?)?))),
        };
        for c in f {
            let digits = c.bytes().take_while(u8::is_ascii_digit).count();
            let key: u32 = c[..digits].parse().ok()?;
            if key as usize >= self.keys.len() {
                return None;
            }
            let v = &c[digits..];
            let cell = match v.as_bytes().first()? {
                b'n' => Cell::Number(v[1..].parse().ok()?),
                b't' => Cell::Text(unescape(&v[1..])?),
                b'e' if v.len() == 1 => Cell::Empty,
                _ => return None,
            };
            cells.push((KEYS + key, cell));
        }
        Some(CachedRow {
            state,
            sweep_id,
            row: cells,
        })
    }

    fn intern(&mut self, kind: Kind, name: &str) -> u32 {
        if self.key_index.len() < self.keys.len() {
            for (i, k) in self.keys.iter().enumerate() {
                self.key_index.entry(k.clone()).or_insert(i as u32);
            }
        }
        if let Some(&n) = self.key_index.get(&(kind, name.to_string())) {
            return n;
        }
        let n = self.keys.len() as u32;
        self.keys.push((kind, name.to_string()));
        self.key_index.insert((kind, name.to_string()), n);
        n
    }

    /// Caches the fields read from `tip`'s record and returns them as a row.
    pub fn put(&mut self, tip: ObjectId, f: &RowFields) -> CachedRow {
        let mut cells = vec![
            (0, Cell::Text(f.run_id.to_string())),
            (1, Cell::Text(f.stage.to_string())),
            (2, Cell::Text(f.started_at.to_string())),
            (3, Cell::Text(f.state.as_str().to_string())),
        ];
        if let Some(c) = f.forced.as_deref() {
            cells.push((FORCED, forced_cell(Some(c))));
        }
        for (kind, map) in [(Kind::Param, &f.params), (Kind::Metric, &f.metrics)] {
            for (k, v) in map {
                cells.push((KEYS + self.intern(kind, k), Cell::from_json(v)));
            }
        }
        let row = CachedRow {
            state: f.state,
            sweep_id: f.sweep_id.clone(),
            row: cells,
        };
        self.new.push((tip, entry_line(&row)));
        row
    }

    /// Rewrites the cache with the entries of runs that exist (`touch`) and the new
    /// ones, when any was new or some run moved or was deleted. Failure only costs
    /// speed.
    pub fn save(&mut self) {
        if self.new.is_empty() && self.live_count == self.entries.len() {
            return;
        }
        let Some(dir) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let mut lines: Vec<(ObjectId, &str)> = self
            .entries
            .iter()
            .zip(&self.live)
            .filter(|(_, live)| **live)
            .map(|((tip, s, e), _)| (*tip, &self.text[*s..*e]))
            .collect();
        lines.extend(self.new.iter().map(|(tip, l)| (*tip, l.as_str())));
        lines.sort_unstable_by_key(|(tip, _)| *tip);
        lines.dedup_by_key(|(tip, _)| *tip);
        let mut text = String::with_capacity(self.text.len() + self.new.len() * 200);
        text.push_str(HEADER);
        text.push_str(&format!("keys {}\n", self.keys.len()));
        for (kind, name) in &self.keys {
            text.push(match kind {
                Kind::Param => 'p',
                Kind::Metric => 'm',
            });
            text.push_str(&escape(name));
            text.push('\n');
        }
        text.push_str(&format!("entries {}\n", lines.len()));
        for (tip, line) in lines {
            text.push_str(&tip.to_string());
            text.push('\t');
            text.push_str(line);
            text.push('\n');
        }
        let crc = crc32fast::hash(text.as_bytes());
        text.push_str(&format!("crc32 {crc:08x}\n"));
        if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
            if tmp.write_all(text.as_bytes()).is_ok() {
                let _ = tmp.persist(&self.file);
            }
        }
    }
}

/// A cache entry `touch` found.
#[derive(Debug, Clone, Copy)]
pub struct Entry(usize);

/// Hashes a tip by its first eight bytes: a git object id is already uniformly
/// distributed, and SipHash of 100,000 of them was a tenth of a warm `compare`.
#[derive(Default, Clone, Copy)]
pub struct BuildTipHasher;

#[derive(Default)]
pub struct TipHasher(u64);

impl std::hash::BuildHasher for BuildTipHasher {
    type Hasher = TipHasher;
    fn build_hasher(&self) -> TipHasher {
        TipHasher(0)
    }
}

impl std::hash::Hasher for TipHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(b);
        }
    }
}

/// A row as its entry line (without the tip).
fn entry_line(r: &CachedRow) -> String {
    use std::fmt::Write as _;
    let mut l = String::with_capacity(128);
    for col in 0..3 {
        l.push_str(&escape(r.text(col)));
        l.push('\t');
    }
    l.push_str(r.state.as_str());
    l.push('\t');
    match &r.sweep_id {
        None => l.push('-'),
        Some(s) => {
            l.push('s');
            l.push_str(&escape(s));
        }
    }
    l.push('\t');
    match r.row.iter().any(|(c, _)| *c == FORCED) {
        false => l.push('-'),
        true => {
            l.push('f');
            l.push_str(&escape(r.text(FORCED)));
        }
    }
    for (k, c) in r.row.iter().filter(|(c, _)| *c >= KEYS) {
        let _ = write!(l, "\t{}", k - KEYS);
        match c {
            Cell::Empty => l.push('e'),
            Cell::Number(n) => {
                let _ = write!(l, "n{n}");
            }
            Cell::Text(t) => {
                l.push('t');
                l.push_str(&escape(t));
            }
        }
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(run: &str, seed: Value) -> RowFields {
        RowFields {
            run_id: RunId::new(run).unwrap(),
            stage: StageName::new("train").unwrap(),
            started_at: Timestamp::from_unix_millis(1_700_000_000_123),
            state: RunState::Approved,
            params: BTreeMap::from([
                ("seed".to_string(), seed),
                (
                    "name\twith\\tab\n".to_string(),
                    Value::from("a\tb\\c\nd\re"),
                ),
                ("none".to_string(), Value::Null),
            ]),
            metrics: BTreeMap::from([
                ("f1".to_string(), serde_json::json!(0.1 + 0.2)),
                ("nan".to_string(), Value::from("NaN")),
                ("big".to_string(), serde_json::json!(1e300)),
                ("neg".to_string(), serde_json::json!(-0.0)),
                ("list".to_string(), serde_json::json!([1, "x"])),
            ]),
            sweep_id: Some("sw\teep".into()),
            forced: Some(vec!["a".into(), "b".into()]),
        }
    }

    fn tip(n: u8) -> ObjectId {
        ObjectId::from_bytes([n; 20])
    }

    #[test]
    fn rows_read_back_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("table-cache");
        let mut c = TableCache::load(file.clone());
        let a = c.put(tip(2), &fields("20261201T104512Z-a3f2", Value::from(7)));
        let b = c.put(tip(1), &fields("20261201T104513Z-a3f3", Value::from(1.5)));
        c.save();
        let mut c = TableCache::load(file.clone());
        // As printed: NaN is not equal to itself.
        let read =
            |c: &mut TableCache, n| format!("{:?}", c.touch(tip(n)).and_then(|e| c.get(Some(e))));
        assert_eq!(read(&mut c, 2), format!("{:?}", Some(a.clone())));
        assert_eq!(read(&mut c, 1), format!("{:?}", Some(b)));
        assert_eq!(c.touch(tip(3)).and_then(|e| c.get(Some(e))), None);
        assert_eq!(a.text(FORCED), "a, b");
        assert_eq!(a.text(0), "20261201T104512Z-a3f2");
        assert_eq!(a.text(2), "2023-11-14T22:13:20.123Z");
        let names: Vec<_> = a
            .row
            .iter()
            .filter(|(k, _)| *k >= KEYS)
            .map(|(k, _)| c.key(*k - KEYS))
            .collect();
        assert!(
            names.contains(&(Kind::Param, "name\twith\\tab\n")),
            "{names:?}"
        );
        // Bit for bit, NaN aside: -0 stays -0, 0.1 + 0.2 stays 0.30000000000000004.
        for ((_, x), (_, y)) in a.row[5..].iter().zip(&fields_cells(&c, &a)) {
            match (x, y) {
                (Cell::Number(x), Cell::Number(y)) if !x.is_nan() => {
                    assert_eq!(x.to_bits(), y.to_bits())
                }
                _ => {}
            }
        }
        // Unchanged: not rewritten (only touched entries are kept on a rewrite).
        c.touch(tip(1));
        c.touch(tip(2));
        let before = std::fs::metadata(&file).unwrap().modified().unwrap();
        c.save();
        assert_eq!(
            std::fs::metadata(&file).unwrap().modified().unwrap(),
            before
        );
        // A run gone: its entry dropped.
        let mut c = TableCache::load(file.clone());
        c.touch(tip(2));
        c.save();
        let mut c = TableCache::load(file.clone());
        assert!(
            c.touch(tip(1)).and_then(|e| c.get(Some(e))).is_none()
                && c.touch(tip(2)).and_then(|e| c.get(Some(e))).is_some()
        );
    }

    fn fields_cells(c: &TableCache, r: &CachedRow) -> Vec<(u32, Cell)> {
        let f = fields(r.text(0), Value::from(7));
        let mut out = Vec::new();
        for (k, _) in &r.row[5..] {
            let (kind, name) = c.key(*k - KEYS);
            let map = if kind == Kind::Param {
                &f.params
            } else {
                &f.metrics
            };
            out.push((*k, Cell::from_json(&map[name])));
        }
        out
    }

    /// Any damage makes the whole file a miss, never a wrong row.
    #[test]
    fn old_truncated_or_corrupt_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("table-cache");
        let mut c = TableCache::load(file.clone());
        c.put(tip(1), &fields("20261201T104512Z-a3f2", Value::from(7)));
        c.put(tip(2), &fields("20261201T104513Z-a3f3", Value::from(8)));
        c.save();
        let good = std::fs::read(&file).unwrap();
        assert!({
            let mut c = TableCache::load(file.clone());
            let e = c.touch(tip(1));
            c.get(e).is_some()
        });
        let mut damaged: Vec<Vec<u8>> = Vec::new();
        for cut in [1, 10, good.len() / 2, good.len() - 16, good.len() - 1] {
            damaged.push(good[..cut].to_vec());
        }
        for at in [30, good.len() / 2, good.len() - 20] {
            let mut d = good.clone();
            d[at] ^= 0x01;
            damaged.push(d);
        }
        let text = String::from_utf8(good.clone()).unwrap();
        damaged.push(text.replace("v5", "v4").into_bytes());
        damaged.push(
            "workbench-table-cache v4\n0101010101010101010101010101010101010101\t{}\n".into(),
        );
        damaged.push(Vec::new());
        damaged.push(vec![0xff; 100]);
        for (i, d) in damaged.iter().enumerate() {
            std::fs::write(&file, d).unwrap();
            let mut c = TableCache::load(file.clone());
            assert!(
                c.touch(tip(1)).and_then(|e| c.get(Some(e))).is_none()
                    && c.touch(tip(2)).and_then(|e| c.get(Some(e))).is_none(),
                "damage {i} trusted"
            );
        }
    }
}
