//! A cache of the table fields of each run record, keyed by the record's tip commit,
//! at `<git-common-dir>/workbench/table-cache`. A record never changes under a given
//! tip id, so an entry is valid exactly while the run's ref points at that commit;
//! `compare` then reads only new or moved runs from the object database.

use crate::model::state::RunState;
use crate::model::time::Timestamp;
use crate::model::{ObjectId, RunId, StageName};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

// v4: `forced`; a v3 entry would read as a clean approval.
const HEADER: &str = "workbench-table-cache v4";

/// What the table needs of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowFields {
    pub run_id: RunId,
    pub stage: StageName,
    pub started_at: Timestamp,
    pub state: RunState,
    pub params: BTreeMap<String, Value>,
    pub metrics: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep_id: Option<String>,
    /// For a forced approval, the checks it overrode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forced: Option<Vec<String>>,
}

pub struct TableCache {
    file: PathBuf,
    /// The cache file's text; entries point into it.
    text: String,
    /// Tip → the byte range of its JSON in `text`.
    entries: HashMap<ObjectId, (usize, usize)>,
    used: HashSet<ObjectId>,
    new: Vec<(ObjectId, String)>,
}

impl TableCache {
    pub fn load(file: PathBuf) -> TableCache {
        let mut entries = HashMap::new();
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        if let Some(body) = text.strip_prefix(HEADER).and_then(|b| b.strip_prefix('\n')) {
            let mut at = text.len() - body.len();
            for l in body.split_inclusive('\n') {
                let line = l.trim_end_matches('\n');
                if let Some((tip, json)) = line.split_once('\t') {
                    if let Ok(oid) = ObjectId::parse(tip) {
                        let start = at + tip.len() + 1;
                        entries.insert(oid, (start, start + json.len()));
                    }
                }
                at += l.len();
            }
        }
        TableCache {
            file,
            text,
            entries,
            used: HashSet::new(),
            new: Vec::new(),
        }
    }

    pub fn get(&mut self, tip: ObjectId) -> Option<RowFields> {
        let &(start, end) = self.entries.get(&tip)?;
        let fields = serde_json::from_str(&self.text[start..end]).ok()?;
        self.used.insert(tip);
        Some(fields)
    }

    pub fn put(&mut self, tip: ObjectId, fields: &RowFields) {
        let json = serde_json::to_string(fields).expect("row fields serialize");
        self.new.push((tip, json));
    }

    /// Rewrites the cache with the entries this command used, when any was new or
    /// some went unused (a run moved or was deleted). Failure only costs speed.
    pub fn save(&self) {
        if self.new.is_empty() && self.used.len() == self.entries.len() {
            return;
        }
        let Some(dir) = self.file.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let mut lines: BTreeMap<String, &str> = BTreeMap::new();
        for tip in &self.used {
            let (start, end) = self.entries[tip];
            lines.insert(tip.to_string(), &self.text[start..end]);
        }
        for (tip, json) in &self.new {
            lines.insert(tip.to_string(), json);
        }
        let mut text = String::from(HEADER);
        text.push('\n');
        for (tip, json) in lines {
            text.push_str(&tip);
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
