//! Every record file a fetched run record carries (manifest, review, approval,
//! feedback, conflict) through `model::record::parse`, the one reader of them.
//! Asserts: no panic, whatever the bytes; a record that parses survives the stored
//! form (`to_json`) unchanged, and the stored form is a fixed point; a number (the
//! first 8 bytes as an f64, as a metric or param a stage wrote) reads back from the
//! JSON it is written as unchanged, in a record and alone.
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

/// A finite f64 written as JSON (shortest round-trip form, as Python's `json.dump`
/// and serde_json write it) reads back as the same number, alone and as a metric.
fn numbers(bytes: &[u8]) {
    let Some(first) = bytes.first_chunk::<8>() else {
        return;
    };
    let x = f64::from_bits(u64::from_le_bytes(*first));
    if !x.is_finite() {
        return;
    }
    let text = serde_json::to_string(&x).expect("a finite number serializes");
    let back: f64 = serde_json::from_str(&text).expect("a number parses");
    assert_eq!(back.to_bits(), x.to_bits(), "{text} reads back as {back:?}");
    let review = format!(
        r#"{{"schema":"workbench/feedback/v1","run_id":"20261201T235254Z-b9d2","stage":"s",
        "issue":"","suggested_params":{{"s.x":{text}}},"acceptance_criteria":[],
        "rejected_by":"A <a@example.com>","timestamp":"2026-12-01T23:52:54.371Z"}}"#
    );
    let f = parse::<FeedbackRecord>(review.as_bytes()).expect("the feedback record parses");
    assert_eq!(
        f.suggested_params["s.x"].as_f64().map(f64::to_bits),
        Some(x.to_bits())
    );
}

fuzz_target!(|bytes: &[u8]| {
    numbers(bytes);
    round_trip::<RunManifest>(bytes);
    round_trip::<ReviewRecord>(bytes);
    round_trip::<ApprovalRecord>(bytes);
    round_trip::<FeedbackRecord>(bytes);
    round_trip::<ConflictRecord>(bytes);
});
