//! The commit message of a fetched record commit through `Trailers::parse`, the one
//! reader of the `Workbench-*` trailers: the approved index `refs/workbench/approved/
//! <stage>` is trusted only when the trailers of the commit it points at name the run.
//! Asserts: no panic; trailers that parse are written back by `record_message` to a
//! message that reads the same; whatever a summary holds, the trailers of the message
//! written with it are the ones written, never ones the summary forges.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::event::{event_of_message, record_message, Trailers};
use workbench::model::state::RunEvent;

fuzz_target!(|bytes: &[u8]| {
    let message = String::from_utf8_lossy(bytes);
    let t = Trailers::parse(&message);
    assert_eq!(event_of_message(&message), t.event);
    if let (Some(event), Some(stage), Some(run)) = (t.event, &t.stage, &t.run) {
        let again = Trailers::parse(&record_message(event, stage, run, ""));
        assert_eq!(again, t, "written trailers read back different");
    }
    let written = record_message(
        RunEvent::Approved,
        "baseline",
        "20260308T142233Z-1e2a",
        &message,
    );
    let read = Trailers::parse(&written);
    assert_eq!(read.event, Some(RunEvent::Approved), "{written:?}");
    assert_eq!(read.stage.as_deref(), Some("baseline"), "{written:?}");
    assert_eq!(
        read.run.as_deref(),
        Some("20260308T142233Z-1e2a"),
        "{written:?}"
    );
});
