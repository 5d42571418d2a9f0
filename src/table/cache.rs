//! A cache of the table fields of each run record, keyed by the record's tip commit,
//! at `<git-common-dir>/workbench/table-cache`. A record never changes under a given
//! tip id, so an entry is valid exactly while the run's ref points at that commit;
//! `compare` then reads only new or moved runs from the object database.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::PathBuf;

const HEADER: &str = "workbench-table-cache v1";

/// What the table needs of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowFields {
    pub run_id: String,
    pub stage: String,
    pub started_at: String,
    pub state: String,
    pub params: BTreeMap<String, Value>,
    pub metrics: BTreeMap<String, Value>,
}

pub struct TableCache {
    file: PathBuf,
    entries: HashMap<String, String>,
    used: BTreeMap<String, String>,
    changed: bool,
}

impl TableCache {
    pub fn load(file: PathBuf) -> TableCache {
        let mut entries = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if lines.next() == Some(HEADER) {
                for l in lines {
                    if let Some((tip, json)) = l.split_once('\t') {
                        entries.insert(tip.to_string(), json.to_string());
                    }
                }
            }
        }
        TableCache {
            file,
            entries,
            used: BTreeMap::new(),
            changed: false,
        }
    }

    pub fn get(&mut self, tip: &str) -> Option<RowFields> {
        let json = self.entries.get(tip)?;
        let fields = serde_json::from_str(json).ok()?;
        self.used.insert(tip.to_string(), json.clone());
        Some(fields)
    }

    pub fn put(&mut self, tip: &str, fields: &RowFields) {
        let json = serde_json::to_string(fields).expect("row fields serialize");
        self.used.insert(tip.to_string(), json);
        self.changed = true;
    }

    /// Rewrites the cache with the entries this command used, when any was new or
    /// some went unused (a run moved or was deleted). Failure only costs speed.
    pub fn save(&self) {
        if !self.changed && self.used.len() == self.entries.len() {
            return;
        }
        let Some(dir) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let mut text = String::from(HEADER);
        text.push('\n');
        for (tip, json) in &self.used {
            text.push_str(tip);
            text.push('\t');
            text.push_str(json);
            text.push('\n');
        }
        if let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) {
            if tmp.write_all(text.as_bytes()).is_ok() {
                let _ = tmp.persist(&self.file);
            }
        }
    }
}
