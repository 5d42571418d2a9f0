//! A cache of each stage's newest decision (its newest approved or rejected run), at
//! `<git-common-dir>/workbench/decision-cache`, keyed by the digest of the stage's run
//! refs as read (`Store::stage_listing`). The newest decision is a function of the
//! listing alone (every run's ref name and tip; a tip's event never changes), so an
//! entry is right exactly for its digest: any new run, moved tip, fetched or deleted ref
//! changes the digest and the stage is walked again. Finding the rejection a new run
//! answers then costs a digest of the stage's packed-refs lines instead of an event
//! lookup for each of its thousands of undecided runs.
//!
//! The file: a header line, then one line per stage,
//! `<stage> <digest hex> none` or `<stage> <digest hex> approved|rejected <run id> <tip>`.
//! A file or line that does not read as that is ignored. It is local and never travels.

use super::{id, oid, Store};
use crate::model::{ObjectId, RunId, StageName};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

const HEADER: &str = "workbench-decision-cache v1\n";

/// A stage's newest decided run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub run_id: RunId,
    pub tip: ObjectId,
    /// Approved (it closes the matter) rather than rejected.
    pub approved: bool,
}

type Entry = ([u8; 32], Option<Decision>);

pub struct DecisionCache {
    file: PathBuf,
    stages: BTreeMap<String, Entry>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_digest(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

fn parse_line(line: &str) -> Option<(String, Entry)> {
    let mut parts = line.split(' ');
    let stage = StageName::new(parts.next()?).ok()?;
    let digest = parse_digest(parts.next()?)?;
    let decision = match parts.next()? {
        "none" => None,
        kind @ ("approved" | "rejected") => {
            let run_id = RunId::new(parts.next()?).ok()?;
            // exactly 40 hex digits: libgit2 would pad a shorter prefix with zeros
            let tip = parts.next().filter(|t| t.len() == 40)?;
            let tip = git2::Oid::from_str(tip).ok()?;
            Some(Decision {
                run_id,
                tip: id(tip),
                approved: kind == "approved",
            })
        }
        _ => return None,
    };
    parts
        .next()
        .is_none()
        .then(|| (stage.to_string(), (digest, decision)))
}

impl DecisionCache {
    fn load(file: PathBuf) -> DecisionCache {
        let stages = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| {
                let body = t.strip_prefix(HEADER)?.to_string();
                Some(body.lines().filter_map(parse_line).collect())
            })
            .unwrap_or_default();
        DecisionCache { file, stages }
    }

    /// Writes the cache (a temporary file renamed over the old one). A cache that
    /// cannot be written is only slower.
    fn save(&self) {
        let mut text = String::from(HEADER);
        for (stage, (digest, decision)) in &self.stages {
            text.push_str(&format!("{stage} {}", hex(digest)));
            match decision {
                None => text.push_str(" none\n"),
                Some(d) => text.push_str(&format!(
                    " {} {} {}\n",
                    if d.approved { "approved" } else { "rejected" },
                    d.run_id,
                    oid(d.tip)
                )),
            }
        }
        let Some(dir) = self.file.parent() else {
            return;
        };
        let _ = std::fs::create_dir_all(dir);
        let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
            return;
        };
        if tmp.write_all(text.as_bytes()).is_ok() {
            let _ = tmp.persist(&self.file);
        }
    }
}

impl Store {
    fn with_decisions<T>(&self, f: impl FnOnce(&mut DecisionCache) -> T) -> Option<T> {
        let mut guard = self.decisions.lock().ok()?;
        let cache = guard
            .get_or_insert_with(|| DecisionCache::load(self.private_dir().join("decision-cache")));
        Some(f(cache))
    }

    /// The newest decision remembered for `stage` when its run refs read as `digest`:
    /// `Some(None)` when none of those runs is decided, `None` when nothing is known.
    pub fn remembered_decision(
        &self,
        stage: &StageName,
        digest: &[u8; 32],
    ) -> Option<Option<Decision>> {
        self.with_decisions(|c| match c.stages.get(stage.as_str()) {
            Some((d, decision)) if d == digest => Some(decision.clone()),
            _ => None,
        })
        .flatten()
    }

    /// Remembers the newest decision of `stage`'s runs as read under `digest`.
    pub fn remember_decision(
        &self,
        stage: &StageName,
        digest: [u8; 32],
        decision: Option<Decision>,
    ) {
        self.with_decisions(|c| {
            let entry = (digest, decision);
            if c.stages.get(stage.as_str()) != Some(&entry) {
                c.stages.insert(stage.to_string(), entry);
                c.save();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::temp_store;

    fn decision(n: u8, approved: bool) -> Decision {
        Decision {
            run_id: RunId::new(format!("20260101T0000{n:02}Z-0000")).unwrap(),
            tip: id(git2::Oid::from_bytes(&[n; 20]).unwrap()),
            approved,
        }
    }

    #[test]
    fn a_decision_is_found_only_under_its_digest_and_survives_a_new_process() {
        let (d, store) = temp_store();
        let s = StageName::new("train").unwrap();
        assert_eq!(store.remembered_decision(&s, &[1; 32]), None);
        store.remember_decision(&s, [1; 32], Some(decision(3, false)));
        store.remember_decision(&StageName::new("eval").unwrap(), [2; 32], None);
        assert_eq!(
            store.remembered_decision(&s, &[1; 32]),
            Some(Some(decision(3, false)))
        );
        assert_eq!(store.remembered_decision(&s, &[9; 32]), None);
        // read back from the file by another process
        let again = Store::open(d.path()).unwrap();
        assert_eq!(
            again.remembered_decision(&s, &[1; 32]),
            Some(Some(decision(3, false)))
        );
        assert_eq!(
            again.remembered_decision(&StageName::new("eval").unwrap(), &[2; 32]),
            Some(None)
        );
        // a newer listing replaces the stage's entry
        again.remember_decision(&s, [4; 32], Some(decision(5, true)));
        let third = Store::open(d.path()).unwrap();
        assert_eq!(third.remembered_decision(&s, &[1; 32]), None);
        assert_eq!(
            third.remembered_decision(&s, &[4; 32]),
            Some(Some(decision(5, true)))
        );
    }

    #[test]
    fn a_bad_file_or_line_is_ignored() {
        let (d, store) = temp_store();
        let s = StageName::new("train").unwrap();
        store.remember_decision(&s, [1; 32], Some(decision(3, false)));
        let file = store.private_dir().join("decision-cache");
        let good = std::fs::read_to_string(&file).unwrap();
        for bad in [
            good.replace("v1", "v0"),
            good.replace("rejected", "maybe"),
            good.replace(" 2026", " ../2026"),
            format!("{}x\n", good.trim_end()),
            good[..good.len() - 5].to_string(),
        ] {
            std::fs::write(&file, &bad).unwrap();
            let fresh = Store::open(d.path()).unwrap();
            assert_eq!(fresh.remembered_decision(&s, &[1; 32]), None, "{bad}");
        }
    }
}
