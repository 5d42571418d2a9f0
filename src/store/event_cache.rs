//! A cache of each run record's newest event, keyed by the record's tip commit, at
//! `<git-common-dir>/workbench/event-cache`. A commit's trailers never change under
//! its id, so an entry is right exactly for that tip: a run that moved on has a new
//! tip and is read again. Walks over many runs (the rejection a run answers, over a
//! stage's thousands of undecided runs) then read one file instead of a commit per run.
//!
//! The file: a header line, then sorted 21-byte entries (the tip's 20 bytes, the
//! event's index in `EVENTS`). A file that does not read as that is ignored. It is
//! local and never travels: another clone's data is never read from it.

use super::{oid, Store};
use crate::model::state::RunEvent;
use crate::model::ObjectId;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

const HEADER: &[u8] = b"workbench-event-cache v1\n";
const EVENTS: [RunEvent; 7] = [
    RunEvent::Executed,
    RunEvent::Failed,
    RunEvent::Reviewed,
    RunEvent::Carded,
    RunEvent::Approved,
    RunEvent::Rejected,
    RunEvent::Conflict,
];
const ENTRY: usize = 21;

pub struct EventCache {
    file: PathBuf,
    /// The file's sorted entries.
    entries: Vec<u8>,
    new: BTreeMap<[u8; 20], u8>,
}

impl EventCache {
    fn lookup(&self, key: &[u8]) -> Option<RunEvent> {
        let n = self.entries.len() / ENTRY;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let e = &self.entries[mid * ENTRY..(mid + 1) * ENTRY];
            // the first eight bytes decide almost every comparison
            let head = |b: &[u8]| u64::from_be_bytes(*b.first_chunk().expect("8 bytes"));
            match head(e).cmp(&head(key)).then_with(|| e[..20].cmp(key)) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return EVENTS.get(e[20] as usize).copied(),
            }
        }
        None
    }

    /// The newest event of the record whose tip is `tip`: from the cache, else from
    /// the commit's trailers (and remembered).
    pub fn event(&mut self, store: &Store, tip: ObjectId) -> super::Result<Option<RunEvent>> {
        let key: [u8; 20] = *oid(tip).as_bytes().first_chunk().expect("20 bytes");
        if let Some(e) = self.lookup(&key).or_else(|| {
            self.new
                .get(&key)
                .and_then(|i| EVENTS.get(*i as usize).copied())
        }) {
            return Ok(Some(e));
        }
        let event = store.latest_event(tip)?;
        if let Some(i) = event.and_then(|e| EVENTS.iter().position(|x| *x == e)) {
            self.new.insert(key, i as u8);
        }
        Ok(event)
    }

    /// Writes the cache with what was read since it was loaded (a temporary file
    /// renamed over the old one). A cache that cannot be written is only slower.
    fn save(&mut self) {
        if self.new.is_empty() {
            return;
        }
        let mut merged: BTreeMap<[u8; 20], u8> = self
            .entries
            .chunks_exact(ENTRY)
            .map(|e| (*e.first_chunk().expect("21 bytes"), e[20]))
            .collect();
        merged.extend(std::mem::take(&mut self.new));
        let mut out = Vec::with_capacity(merged.len() * ENTRY);
        for (k, v) in merged {
            out.extend_from_slice(&k);
            out.push(v);
        }
        self.entries = out;
        let Some(dir) = self.file.parent() else {
            return;
        };
        let _ = std::fs::create_dir_all(dir);
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        if tmp.write_all(HEADER).is_ok() && tmp.write_all(&self.entries).is_ok() {
            let _ = tmp.persist(&self.file);
        }
    }
}

impl Store {
    /// Saves what `cache` learnt and keeps it for this process's next walk.
    pub fn put_event_cache(&self, mut cache: EventCache) {
        cache.save();
        if let Ok(mut e) = self.events.lock() {
            *e = Some(cache);
        }
    }

    /// The event cache: the one this process already loaded, else the file as it is
    /// now (empty when absent or unreadable). Hand it back with `put_event_cache`.
    pub fn event_cache(&self) -> EventCache {
        if let Some(c) = self.events.lock().ok().and_then(|mut e| e.take()) {
            return c;
        }
        let file = self.private_dir().join("event-cache");
        let entries = std::fs::read(&file)
            .ok()
            .and_then(|b| {
                // Out-of-order entries cannot mislead: a binary search returns
                // only an entry whose key equals the tip (it may miss one, which is
                // then read from the commit).
                let body = b.strip_prefix(HEADER)?;
                (body.len() % ENTRY == 0).then(|| body.to_vec())
            })
            .unwrap_or_default();
        EventCache {
            file,
            entries,
            new: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::id;
    use crate::store::testing::temp_store;

    #[test]
    fn events_are_cached_by_tip_and_a_bad_file_is_ignored() {
        let (_d, store) = temp_store();
        let (head, _) = store.head().unwrap();
        let msg = crate::model::event::record_message(
            RunEvent::Rejected,
            "s",
            "20260101T000000Z-0000",
            "",
        );
        let sig = git2::Signature::now("a", "a@b").unwrap();
        let tree = store
            .raw()
            .find_tree(oid(store.empty_tree_id().unwrap()))
            .unwrap();
        let c = id(store
            .raw()
            .commit(None, &sig, &sig, &msg, &tree, &[])
            .unwrap());
        let mut cache = store.event_cache();
        assert_eq!(cache.event(&store, c).unwrap(), Some(RunEvent::Rejected));
        // the head commit has no trailer: not cached
        assert_eq!(cache.event(&store, head).unwrap(), None);
        store.put_event_cache(cache);
        let file = store.private_dir().join("event-cache");
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(bytes.len(), HEADER.len() + ENTRY);
        // this process keeps its cache; another one loads the file
        let cached = store.event_cache();
        assert_eq!(cached.lookup(oid(c).as_bytes()), Some(RunEvent::Rejected));
        let fresh = || crate::store::Store::open(_d.path()).unwrap().event_cache();
        assert_eq!(fresh().lookup(oid(c).as_bytes()), Some(RunEvent::Rejected));
        // an entry is only ever found under its own tip; junk is ignored
        std::fs::write(&file, b"workbench-event-cache v1\nshort").unwrap();
        assert!(fresh().entries.is_empty());
        let mut unsorted = HEADER.to_vec();
        unsorted.extend_from_slice(&[9u8; 21]);
        unsorted.extend_from_slice(&[1u8; 21]);
        std::fs::write(&file, &unsorted).unwrap();
        assert_eq!(fresh().lookup(&[7u8; 20]), None);
        assert_eq!(fresh().lookup(oid(c).as_bytes()), None);
    }
}
