//! Import manifests (`model::import_manifest`, the file `import manifest` reads from
//! any orchestrator) through `ImportManifest::parse`. Asserts: no panic, whatever the
//! bytes; a manifest that parses reads back unchanged from its serialized form, with
//! the same digest, and every path it names is contained.
#![no_main]

use libfuzzer_sys::fuzz_target;
use workbench::model::import_manifest::ImportManifest;
use workbench::model::integrity::contained_path;
use workbench::model::StageName;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(m) = ImportManifest::parse(text) else {
        return;
    };
    let again = serde_json::to_string(&m).expect("a parsed manifest serializes");
    let back = ImportManifest::parse(&again)
        .unwrap_or_else(|e| panic!("its serialized form does not parse: {e}\n{again}"));
    assert_eq!(back, m, "the serialized form reads back different");
    let stage = StageName::new("s").unwrap();
    assert_eq!(back.digest(&stage), m.digest(&stage));
    for p in m.inputs.keys().chain(m.outputs.keys()).chain(m.code_files.keys()) {
        assert!(contained_path(p).is_ok(), "{p:?} passed but is not contained");
    }
});
