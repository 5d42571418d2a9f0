//! Params: flattening a params document into dotted keys, selecting the declared keys,
//! and applying `-p key=value` overrides.
//!
//! A key pattern selects a key when the pattern matches the key or one of its dotted
//! ancestors; `*` matches within one dotted segment. So `train` and `train.*` both
//! select every key under `train`.

use super::error::Error;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Flat dotted key → JSON value.
pub type FlatParams = BTreeMap<String, Value>;

/// Flattens nested objects into dotted keys; arrays and scalars are leaves.
pub fn flatten(v: &Value) -> FlatParams {
    let mut out = FlatParams::new();
    flatten_into(v, "", &mut out);
    out
}

fn flatten_into(v: &Value, prefix: &str, out: &mut FlatParams) {
    match v {
        Value::Object(map) if !map.is_empty() || prefix.is_empty() => {
            for (k, child) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_into(child, &key, out);
            }
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// True when `pattern` selects `key` (see the module doc).
pub fn selects(pattern: &str, key: &str) -> bool {
    if pattern == "*" || pattern == "**" {
        return true;
    }
    let pat: Vec<&str> = pattern.split('.').collect();
    let parts: Vec<&str> = key.split('.').collect();
    parts.len() >= pat.len() && pat.iter().zip(&parts).all(|(p, k)| segment_matches(p, k))
}

fn segment_matches(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, tail)) => {
            if !s.starts_with(head) {
                return false;
            }
            let rest = &s[head.len()..];
            (0..=rest.len())
                .filter(|i| rest.is_char_boundary(*i))
                .any(|i| segment_matches(tail, &rest[i..]))
        }
    }
}

/// Selects the declared keys; each pattern must select at least one key.
pub fn select(all: &FlatParams, patterns: &[String]) -> Result<FlatParams, Error> {
    let mut out = FlatParams::new();
    for p in patterns {
        let mut hit = false;
        for (k, v) in all.iter().filter(|(k, _)| selects(p, k)) {
            hit = true;
            out.insert(k.clone(), v.clone());
        }
        if !hit {
            return Err(Error::ParamsKey(p.clone()));
        }
    }
    Ok(out)
}

/// Parses one `-p key=value`; the value is JSON when it parses as JSON, else a string.
pub fn parse_override(s: &str) -> Result<(String, Value), Error> {
    let Some((k, v)) = s.split_once('=') else {
        return Err(Error::Override(format!("'{s}' is not key=value")));
    };
    let k = k.trim();
    // `+key=value` adds a key the params file does not have (Hydra's spelling).
    let bare = k.strip_prefix('+').unwrap_or(k);
    if bare.is_empty() || bare.split('.').any(str::is_empty) {
        return Err(Error::Override(format!("'{s}' has an empty key")));
    }
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
    Ok((k.to_string(), value))
}

/// The key of an override without its `+` (which asks for a new key).
pub fn override_key(k: &str) -> &str {
    k.strip_prefix('+').unwrap_or(k)
}

/// Applies overrides. With a params file, an override must name a key the file has
/// (a value, or a section given a mapping), so that a typo is an error instead of a
/// silent new param — a declared glob (`baseline.*`) does not make a misspelt key
/// exist. `+key=value` adds a key the file lacks; it is refused for one the file has.
/// A section is never replaced by a single value.
pub fn apply_overrides(
    selected: &mut FlatParams,
    file_keys: Option<(&FlatParams, &[String])>,
    overrides: &[(String, Value)],
) -> Result<(), Error> {
    for (raw, v) in overrides {
        let k = override_key(raw);
        let adding = raw.starts_with('+');
        if let Some((all, _)) = file_keys {
            let section = format!("{k}.");
            let below = all.keys().filter(|a| a.starts_with(&section)).count();
            let exists = all.contains_key(k) || below > 0;
            if adding && exists {
                return Err(Error::Override(format!(
                    "+{k}: the params file already has '{k}'; drop the '+' to change it"
                )));
            }
            if !adding && !exists {
                return Err(Error::OverrideKey(k.to_string()));
            }
            if below > 0 && !matches!(v, Value::Object(m) if !m.is_empty()) {
                return Err(Error::Override(format!(
                    "{k}={v}: '{k}' is a section of {below} key(s) in the params file; set its keys ({k}.NAME=...) instead of replacing it with one value"
                )));
            }
            // An override of a section replaces every key below it.
            selected.retain(|key, _| !key.starts_with(&section));
        }
        for (fk, fv) in flatten_override(k, v) {
            selected.insert(fk, fv);
        }
    }
    Ok(())
}

fn flatten_override(k: &str, v: &Value) -> FlatParams {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut wrapped = Map::new();
            wrapped.insert(k.to_string(), v.clone());
            flatten(&Value::Object(wrapped))
        }
        _ => FlatParams::from([(k.to_string(), v.clone())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> FlatParams {
        flatten(&json!({
            "baseline": {"threshold": 0.5, "window": 24, "model": {"depth": 3}},
            "train": {"lr": 0.01, "layers": [1, 2]},
            "seed": 7
        }))
    }

    #[test]
    fn flattens_to_dotted_keys() {
        let f = doc();
        assert_eq!(f["baseline.model.depth"], json!(3));
        assert_eq!(f["train.layers"], json!([1, 2]));
        assert_eq!(f["seed"], json!(7));
        assert_eq!(f.len(), 6);
    }

    #[test]
    fn patterns_select_subtrees() {
        let f = doc();
        let s = select(&f, &["baseline.*".into()]).unwrap();
        assert_eq!(s.len(), 3);
        let s = select(&f, &["baseline".into(), "seed".into()]).unwrap();
        assert_eq!(s.len(), 4);
        let s = select(&f, &["*.lr".into()]).unwrap();
        assert_eq!(s.keys().collect::<Vec<_>>(), ["train.lr"]);
        assert_eq!(select(&f, &["*".into()]).unwrap().len(), 6);
        assert_eq!(
            select(&f, &["train.momentum".into()]),
            Err(Error::ParamsKey("train.momentum".into()))
        );
        assert!(!selects("train.lr", "train.lrx"));
        assert!(selects("b*", "baseline.window"));
    }

    #[test]
    fn overrides_parse_and_apply() {
        assert_eq!(parse_override("a.b=0.1"), Ok(("a.b".into(), json!(0.1))));
        assert_eq!(parse_override("a=hello"), Ok(("a".into(), json!("hello"))));
        assert_eq!(parse_override("a=[1,2]"), Ok(("a".into(), json!([1, 2]))));
        assert_eq!(parse_override("a="), Ok(("a".into(), json!(""))));
        assert!(parse_override("novalue").is_err());
        assert!(parse_override("=3").is_err());
        assert!(parse_override("a..b=3").is_err());

        let all = doc();
        let pats = vec!["baseline.*".to_string()];
        let mut sel = select(&all, &pats).unwrap();
        apply_overrides(
            &mut sel,
            Some((&all, &pats)),
            &[("baseline.threshold".into(), json!(0.7))],
        )
        .unwrap();
        assert_eq!(sel["baseline.threshold"], json!(0.7));
        // a key the file has but the stage did not declare is recorded too
        apply_overrides(&mut sel, Some((&all, &pats)), &[("seed".into(), json!(1))]).unwrap();
        assert_eq!(sel["seed"], json!(1));
        assert_eq!(
            apply_overrides(
                &mut sel,
                Some((&all, &pats)),
                &[("baselin.threshold".into(), json!(1))]
            ),
            Err(Error::OverrideKey("baselin.threshold".into()))
        );
        // A declared glob does not make a typo a key.
        assert_eq!(
            apply_overrides(
                &mut sel,
                Some((&all, &pats)),
                &[("baseline.thresold".into(), json!(2))]
            ),
            Err(Error::OverrideKey("baseline.thresold".into()))
        );
        // `+` adds a key, and only a new one.
        assert_eq!(
            parse_override("+baseline.extra=2"),
            Ok(("+baseline.extra".into(), json!(2)))
        );
        apply_overrides(
            &mut sel,
            Some((&all, &pats)),
            &[("+baseline.extra".into(), json!(2))],
        )
        .unwrap();
        assert_eq!(sel["baseline.extra"], json!(2));
        assert!(matches!(
            apply_overrides(&mut sel, Some((&all, &pats)), &[("+seed".into(), json!(2))]),
            Err(Error::Override(m)) if m.contains("already has 'seed'")
        ));
        // A section is not replaced by a scalar, but may be by a mapping.
        assert!(matches!(
            apply_overrides(&mut sel, Some((&all, &pats)), &[("baseline".into(), json!(5))]),
            Err(Error::Override(m)) if m.contains("is a section of")
        ));
        apply_overrides(
            &mut sel,
            Some((&all, &pats)),
            &[("baseline".into(), json!({"threshold": 1}))],
        )
        .unwrap();
        assert_eq!(sel["baseline.threshold"], json!(1));
        let mut free = FlatParams::new();
        apply_overrides(&mut free, None, &[("x".into(), json!({"y": 1}))]).unwrap();
        assert_eq!(free["x.y"], json!(1));
    }
}
