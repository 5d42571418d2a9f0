//! Git LFS pointer files (`model::lfs`): a run record fetched from another clone
//! carries one per output kept in LFS, and `checkout` reads it before it fetches or
//! writes anything.
//! Asserts: no panic; a pointer that parses is byte for byte the canonical text of
//! what it parsed to (one spelling per pointer, nothing hidden in a second one), and
//! that text parses back to the same pointer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::lfs::{LfsPointer, MAX_POINTER_SIZE};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(p) = LfsPointer::parse(bytes) {
        let text = p.to_text();
        assert_eq!(text.as_bytes(), bytes);
        assert!(bytes.len() <= MAX_POINTER_SIZE);
        assert_eq!(LfsPointer::parse(text.as_bytes()), Ok(p));
    }
});
