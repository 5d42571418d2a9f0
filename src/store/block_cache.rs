//! A set of narrative blocks already found to be exactly the approved rendering of a
//! valid, approved run record, at `<git-common-dir>/workbench/block-cache`. Each key is
//! a digest the caller makes of everything that verdict depends on (the run's ref name
//! and tip, the block's syntax, options and content): a record never changes under its
//! tip, so a key's verdict never changes either. The pre-commit hook then judges a block
//! it saw before with one lookup, instead of reading the record's whole history again.
//!
//! The verdict also depends on the rules and the rendering, so the file is tied to the
//! executable that wrote it (its size, modification time and inode): another build
//! ignores it. The file: a header line, then sorted 32-byte keys. A file that does not
//! read as that is ignored. It is local and never travels, and `verify` never reads it.

use super::Store;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

const HEADER: &str = "workbench-block-cache v1";
const KEY: usize = 32;
/// Past this many keys the file starts again from the new ones.
const MAX_KEYS: usize = 100_000;

pub struct BlockCache {
    file: PathBuf,
    header: Option<String>,
    /// The file's sorted keys.
    keys: Vec<u8>,
    new: BTreeSet<[u8; KEY]>,
}

/// The header naming this executable, `None` when it cannot be known (then nothing is
/// cached).
fn header() -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let exe = std::env::current_exe().ok()?;
    let m = std::fs::metadata(exe).ok()?;
    Some(format!(
        "{HEADER} exe {} {}.{:09} {}\n",
        m.len(),
        m.mtime(),
        m.mtime_nsec(),
        m.ino()
    ))
}

impl BlockCache {
    pub fn contains(&self, key: &[u8; KEY]) -> bool {
        if self.new.contains(key) {
            return true;
        }
        let n = self.keys.len() / KEY;
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.keys[mid * KEY..(mid + 1) * KEY].cmp(&key[..]) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return true,
            }
        }
        false
    }

    pub fn insert(&mut self, key: [u8; KEY]) {
        if self.header.is_some() && !self.contains(&key) {
            self.new.insert(key);
        }
    }

    /// Writes the keys learnt since loading (a temporary file renamed over the old
    /// one). A cache that cannot be written is only slower.
    pub fn save(&mut self) {
        let Some(header) = &self.header else { return };
        if self.new.is_empty() {
            return;
        }
        let mut all: BTreeSet<[u8; KEY]> = std::mem::take(&mut self.new);
        if self.keys.len() / KEY + all.len() <= MAX_KEYS {
            all.extend(
                self.keys
                    .chunks_exact(KEY)
                    .map(|k| *k.first_chunk().expect("32 bytes")),
            );
        }
        let mut out = Vec::with_capacity(header.len() + all.len() * KEY);
        out.extend_from_slice(header.as_bytes());
        for k in &all {
            out.extend_from_slice(k);
        }
        self.keys = out[header.len()..].to_vec();
        let Some(dir) = self.file.parent() else {
            return;
        };
        let _ = std::fs::create_dir_all(dir);
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        if tmp.write_all(&out).is_ok() {
            let _ = tmp.persist(&self.file);
        }
    }
}

impl Store {
    /// The block cache as the file holds it now (empty when absent, unreadable, of
    /// another executable, or malformed).
    pub fn block_cache(&self) -> BlockCache {
        let header = header();
        let file = self.private_dir().join("block-cache");
        let keys = header
            .as_ref()
            .and_then(|h| {
                let bytes = std::fs::read(&file).ok()?;
                let body = bytes.strip_prefix(h.as_bytes())?;
                let sorted = body.len() % KEY == 0
                    && body
                        .chunks_exact(KEY)
                        .zip(body.chunks_exact(KEY).skip(1))
                        .all(|(a, b)| a < b);
                sorted.then(|| body.to_vec())
            })
            .unwrap_or_default();
        BlockCache {
            file,
            header,
            keys,
            new: BTreeSet::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::testing::temp_store;

    #[test]
    fn keys_survive_a_new_process_and_a_bad_file_is_ignored() {
        let (_d, store) = temp_store();
        let mut c = store.block_cache();
        assert!(!c.contains(&[1; 32]));
        c.insert([2; 32]);
        c.insert([1; 32]);
        assert!(c.contains(&[1; 32]));
        c.save();
        let mut again = store.block_cache();
        assert!(again.contains(&[1; 32]) && again.contains(&[2; 32]));
        assert!(!again.contains(&[3; 32]));
        again.insert([3; 32]);
        again.save();
        let third = store.block_cache();
        assert!([[1; 32], [2; 32], [3; 32]]
            .iter()
            .all(|k| third.contains(k)));
        let file = store.private_dir().join("block-cache");
        let good = std::fs::read(&file).unwrap();
        let header_len = good.len() - 3 * 32;
        let mut unsorted = good[..header_len].to_vec();
        unsorted.extend_from_slice(&[3; 32]);
        unsorted.extend_from_slice(&[1; 32]);
        let mut other_exe = b"workbench-block-cache v1 exe 1 2.000000003 4\n".to_vec();
        other_exe.extend_from_slice(&[1; 32]);
        for bad in [
            good[..good.len() - 1].to_vec(),
            unsorted,
            other_exe,
            Vec::new(),
        ] {
            std::fs::write(&file, &bad).unwrap();
            assert!(!store.block_cache().contains(&[1; 32]));
        }
    }
}
