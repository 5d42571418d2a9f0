//! Records as types. Every JSON record names its schema, `workbench/<kind>/v1`; reading
//! one checks that string and, through the typed fields (run ids, stage names,
//! digests, times), the shape of every value. This is the one place a record read
//! from git, local or fetched, becomes trusted data.

use super::error::Error;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A record kind stored as one JSON file in a run record's tree.
pub trait Record: Serialize + DeserializeOwned {
    /// The file name in the record tree, e.g. `manifest.json`.
    const FILE: &'static str;
    /// `workbench/<kind>/v1`.
    const SCHEMA: &'static str;
    /// The schema string the record carries.
    fn schema(&self) -> &str;
}

/// Parses a record, refusing another schema or a field of the wrong type.
pub fn parse<R: Record>(bytes: &[u8]) -> Result<R, Error> {
    match serde_json::from_slice::<R>(bytes) {
        Ok(r) if r.schema() == R::SCHEMA => Ok(r),
        Ok(r) => Err(wrong_schema::<R>(r.schema())),
        Err(e) => {
            // A record of another schema fails on its fields; name the schema instead.
            #[derive(Deserialize)]
            struct Probe {
                schema: String,
            }
            match serde_json::from_slice::<Probe>(bytes) {
                Ok(p) if p.schema != R::SCHEMA => Err(wrong_schema::<R>(&p.schema)),
                _ => Err(Error::Record {
                    file: R::FILE,
                    why: e.to_string(),
                }),
            }
        }
    }
}

fn wrong_schema<R: Record>(found: &str) -> Error {
    Error::Record {
        file: R::FILE,
        why: format!(
            "unsupported schema '{}' (expected '{}')",
            found.chars().take(80).collect::<String>(),
            R::SCHEMA
        ),
    }
}

/// The stored form of a record: pretty JSON and a final newline.
pub fn to_json<R: Record>(r: &R) -> String {
    let mut s = serde_json::to_string_pretty(r).expect("records serialize");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decision::FeedbackRecord;

    #[test]
    fn schema_and_field_types_are_checked() {
        let good = r#"{"schema": "workbench/feedback/v1", "run_id": "20260308T142233Z-1e2a",
            "stage": "s", "issue": "x", "suggested_params": {}, "acceptance_criteria": [],
            "rejected_by": "A <a@x>", "timestamp": "2026-03-08T14:22:33.120Z"}"#;
        let f: FeedbackRecord = parse(good.as_bytes()).unwrap();
        assert_eq!(f.stage, "s");
        let other = good.replace("feedback/v1", "feedback/v2");
        let e = parse::<FeedbackRecord>(other.as_bytes()).unwrap_err();
        assert!(
            e.to_string()
                .contains("unsupported schema 'workbench/feedback/v2'"),
            "{e}"
        );
        let bad_run = good.replace("20260308T142233Z-1e2a", "../../etc");
        let e = parse::<FeedbackRecord>(bad_run.as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("feedback.json: "), "{e}");
        assert!(e.to_string().contains("not a run id"), "{e}");
        let bad_time = good.replace("2026-03-08T14:22:33.120Z", "yesterday");
        assert!(parse::<FeedbackRecord>(bad_time.as_bytes()).is_err());
        assert!(parse::<FeedbackRecord>(b"[1, 2]").is_err());
    }

    /// Found by `fuzz/` (target `records`, input `7b0a310100003101`: the f64 below):
    /// serde_json's default float parser was off by an ulp for about one number in
    /// three, and one ratio in ten (12/13 as a stage's metrics.json wrote it was
    /// recorded as 0.9230769230769232).
    #[test]
    fn numbers_read_back_exactly_as_written() {
        for x in [
            6.197453742514761e-303_f64,
            12.0 / 13.0,
            1.0 / 11.0,
            6.585466105869115e169,
        ] {
            let text = serde_json::to_string(&x).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{text}");
            let json = format!(
                r#"{{"schema": "workbench/feedback/v1", "run_id": "20260308T142233Z-1e2a",
                "stage": "s", "issue": "x", "suggested_params": {{"s.x": {text}}},
                "acceptance_criteria": [], "rejected_by": "A <a@x>",
                "timestamp": "2026-03-08T14:22:33.120Z"}}"#
            );
            let f: FeedbackRecord = parse(json.as_bytes()).unwrap();
            assert_eq!(
                f.suggested_params["s.x"].as_f64().unwrap().to_bits(),
                x.to_bits()
            );
            let again: FeedbackRecord = parse(to_json(&f).as_bytes()).unwrap();
            assert_eq!(again, f);
        }
        let v: serde_json::Value = serde_json::from_str("0.9230769230769231").unwrap();
        assert_eq!(v.as_f64(), Some(12.0 / 13.0));
    }
}
