//! The identifiers and values that arrive as strings in fetched records and ref
//! names: `StageName`, `RunId`, `ObjectId`, `Sha256`, `Timestamp`, `UtcDateTime`,
//! `RunEvent`, run ref names (`store::refs::parse_run_ref`) and the `RUN` grammar
//! (`RunSpec`), directly and as JSON strings (how records carry them).
//! Asserts: no panic; every value that parses prints back to the text it came from
//! (object ids in lower case; times in their canonical form, which parses to the same
//! instant) and reads back from JSON the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::digest::Sha256;
use workbench::model::run_spec::RunSpec;
use workbench::model::state::RunEvent;
use workbench::model::time::{Timestamp, UtcDateTime};
use workbench::model::{ObjectId, RunId, StageName};
use workbench::store::refs::{parse_run_ref, run_ref};

fn json<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let text = serde_json::to_string(v).expect("serializes");
    let back: T = serde_json::from_str(&text).expect("its JSON reads back");
    assert_eq!(&back, v);
}

fuzz_target!(|bytes: &[u8]| {
    let s = String::from_utf8_lossy(bytes);
    let s = s.as_ref();

    if let Ok(stage) = StageName::new(s) {
        assert_eq!(stage, s);
        json(&stage);
    }
    if let Ok(run) = RunId::new(s) {
        assert_eq!(run, s);
        json(&run);
        // The start second the id names, plus at most 1023 ms of its suffix.
        let second = UtcDateTime::parse(&s[..16]).expect("a run id names a second");
        let ms = run.unix_millis() - second.unix_millis();
        assert!((0..1024).contains(&ms), "{s}: {ms}");
    }
    if let Ok(oid) = ObjectId::parse(s) {
        assert_eq!(oid.to_string(), s.to_ascii_lowercase());
        assert_eq!(oid.short(), s[..12].to_ascii_lowercase());
        json(&oid);
    }
    if let Ok(d) = Sha256::parse(s) {
        assert_eq!(d.to_string(), s);
        json(&d);
    }
    if let Ok(t) = Timestamp::parse(s) {
        let text = t.to_string();
        assert_eq!(Timestamp::parse(&text).unwrap(), t, "{s} -> {text}");
        assert_eq!(text.len(), 24, "{text}");
        assert!(text.starts_with(&s[..19]), "{s} -> {text}");
        assert_eq!(t.date(), s[..10]);
        json(&t);
    }
    if let Some(t) = UtcDateTime::parse(s) {
        assert_eq!(UtcDateTime::from_unix_millis(t.unix_millis()), t);
        assert_eq!(UtcDateTime::parse(&t.rfc3339()), Some(t));
        assert_eq!(
            UtcDateTime::parse(&t.compact()).map(|c| c.second),
            Some(t.second)
        );
    }
    if let Some(e) = RunEvent::parse(s) {
        assert_eq!(e.as_str(), s);
    }
    if let Some((stage, run)) = parse_run_ref(s) {
        assert_eq!(run_ref(&stage, &run), s);
    }
    let _ = RunSpec::parse(s);
    // The same text as a JSON value, the way records carry it.
    let _ = serde_json::from_str::<StageName>(s);
    let _ = serde_json::from_str::<RunId>(s);
    let _ = serde_json::from_str::<ObjectId>(s);
    let _ = serde_json::from_str::<Sha256>(s);
    let _ = serde_json::from_str::<Timestamp>(s);
});
