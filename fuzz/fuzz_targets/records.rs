//! Every record file a fetched run record carries (manifest, review, approval,
//! feedback, conflict) through `model::record::parse`, the one reader of them.
//! Asserts: no panic, whatever the bytes; a record that parses survives the stored
//! form (`to_json`) unchanged, and the stored form is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::fmt::Debug;
use workbench::model::decision::{ApprovalRecord, ConflictRecord, FeedbackRecord};
use workbench::model::manifest::RunManifest;
use workbench::model::record::{parse, to_json, Record};
use workbench::model::review::ReviewRecord;

fn round_trip<R: Record + PartialEq + Debug>(bytes: &[u8]) {
    let Ok(r) = parse::<R>(bytes) else {
        return;
    };
    let stored = to_json(&r);
    let again = parse::<R>(stored.as_bytes())
        .unwrap_or_else(|e| panic!("{}: its stored form does not parse: {e}\n{stored}", R::FILE));
    assert_eq!(
        again,
        r,
        "{}: the stored form reads back different",
        R::FILE
    );
    assert_eq!(
        to_json(&again),
        stored,
        "{}: the stored form is not stable",
        R::FILE
    );
}

fuzz_target!(|bytes: &[u8]| {
    round_trip::<RunManifest>(bytes);
    round_trip::<ReviewRecord>(bytes);
    round_trip::<ApprovalRecord>(bytes);
    round_trip::<FeedbackRecord>(bytes);
    round_trip::<ConflictRecord>(bytes);
});
