//! Params: flattening a params document into dotted keys, selecting the declared keys,
//! applying `-p key=value` overrides, and writing them as Hydra arguments.
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
    if s.trim_start().starts_with('~') {
        return Err(Error::Override(format!(
            "'{s}': removing a param (~KEY) is not supported; remove it from the params file"
        )));
    }
    let Some((k, v)) = s.split_once('=') else {
        return Err(Error::Override(format!("'{s}' is not key=value")));
    };
    let k = k.trim();
    // `+key=value` adds a key the params file does not have, `++key=value` sets it
    // or adds it (Hydra's spellings).
    let bare = override_key(k);
    if bare.is_empty() || bare.split('.').any(str::is_empty) || bare.starts_with('+') {
        return Err(Error::Override(format!("'{s}' has an empty key")));
    }
    let value = serde_json::from_str(v).unwrap_or_else(|_| Value::String(v.to_string()));
    Ok((k.to_string(), value))
}

/// The key of an override without its `+` (which asks for a new key) or `++` (which
/// sets it, or adds it when missing).
pub fn override_key(k: &str) -> &str {
    k.strip_prefix("++")
        .or_else(|| k.strip_prefix('+'))
        .unwrap_or(k)
}

/// One value an override sets: a mapping override is spread over its keys.
#[derive(Debug, Clone, PartialEq)]
pub struct LeafOverride {
    /// The dotted key, without `+`.
    pub key: String,
    pub value: Value,
    /// The key is new: asked for with `+`, or with `++` for a key the params file
    /// does not have.
    pub add: bool,
    /// Spelt `++key` (set or add); without a params file to tell which, Hydra is
    /// told the same.
    pub force: bool,
}

/// The values overrides set, in order. A mapping sets each of its keys and leaves
/// the others of that section alone (as Hydra merges `key={a: 1}`), so every key it
/// names is checked like a `-p` of its own.
///
/// With the params file's keys (`file`), each value set must be a key the file has,
/// so that a typo is an error instead of a silent new param (a declared glob such
/// as `baseline.*` does not make a misspelt key exist); `+key=value` adds a key the
/// file lacks, and is refused for one it has or below a key that holds a value;
/// `++key=value` sets the key when the file has it and adds it when not. A section
/// is never replaced by a single value.
pub fn leaf_overrides(
    overrides: &[(String, Value)],
    file: Option<&FlatParams>,
) -> Result<Vec<LeafOverride>, Error> {
    let mut out: Vec<LeafOverride> = Vec::new();
    for (raw, v) in overrides {
        let k = override_key(raw);
        let force = raw.starts_with("++");
        for (key, value) in flatten_override(k, v) {
            let mut add = raw.starts_with('+') && !force;
            if let Some(all) = file {
                if force {
                    add = !all.contains_key(&key)
                        && !all.keys().any(|a| a.starts_with(&format!("{key}.")));
                }
                check_leaf(all, &key, &value, add)?;
            }
            // Two overrides of which one would sit below the other cannot both hold.
            if let Some(other) = out.iter().find(|o| {
                o.key.starts_with(&format!("{key}.")) || key.starts_with(&format!("{}.", o.key))
            }) {
                return Err(Error::Override(format!(
                    "{key} and {} cannot both be set: one is below the other",
                    other.key
                )));
            }
            out.retain(|o| o.key != key);
            out.push(LeafOverride {
                key,
                value,
                add,
                force,
            });
        }
    }
    Ok(out)
}

fn check_leaf(all: &FlatParams, key: &str, value: &Value, add: bool) -> Result<(), Error> {
    let section = format!("{key}.");
    let below = all.keys().filter(|a| a.starts_with(&section)).count();
    let exists = all.contains_key(key) || below > 0;
    if add {
        if exists {
            return Err(Error::Override(format!(
                "+{key}: the params file already has '{key}'; drop the '+' to change it"
            )));
        }
        // An empty mapping (`a: {}`) is a value when flattened, but keys may go in it.
        let value_above = |a: &String| {
            key.starts_with(&format!("{a}."))
                && !matches!(&all[a], Value::Object(m) if m.is_empty())
        };
        if let Some(leaf) = all.keys().find(|a| value_above(a)) {
            return Err(Error::Override(format!(
                "+{key}: '{leaf}' holds a value in the params file, so nothing can go below it"
            )));
        }
        return Ok(());
    }
    if !exists {
        return Err(Error::OverrideKey(key.to_string()));
    }
    if below > 0 {
        return Err(Error::Override(format!(
            "{key}={value}: '{key}' is a section of {below} key(s) in the params file; set its keys ({key}.NAME=...) instead of replacing it with one value"
        )));
    }
    Ok(())
}

/// Applies overrides to the selected params (see [`leaf_overrides`] for the rules
/// when `file_keys` holds the params file's keys and declared patterns). A key the
/// file has but the stage does not declare is recorded too.
pub fn apply_overrides(
    selected: &mut FlatParams,
    file_keys: Option<(&FlatParams, &[String])>,
    overrides: &[(String, Value)],
) -> Result<(), Error> {
    for leaf in leaf_overrides(overrides, file_keys.map(|(all, _)| all))? {
        selected.insert(leaf.key, leaf.value);
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

/// Overrides as Hydra command-line arguments (`key=value`, `+key=value` for an added
/// key, `++key=value` as given), each read back by Hydra as exactly the value recorded. A mapping becomes
/// one argument per key it sets (Hydra merges a mapping the same way). Strings are
/// always quoted, so `'null'`, `'true'`, `'1e-5'` stay strings, and `${` is escaped
/// so that OmegaConf does not resolve it; the strings records use for non-finite
/// numbers (`"NaN"`, `"Infinity"`, `"-Infinity"`) become Hydra's `nan`, `inf`,
/// `-inf`. A key Hydra's grammar cannot name (a space, a non-ASCII letter, ...) is
/// an error naming it.
pub fn hydra_args(overrides: &[(String, Value)]) -> Result<Vec<String>, Error> {
    leaf_overrides(overrides, None)?
        .iter()
        .map(|o| {
            if !o.key.split('.').all(hydra_key_part) {
                return Err(Error::Override(format!(
                    "-p {}: Hydra cannot name this key on its command line (each dotted part is letters, digits, '_', '-' and '$', not starting with a digit or '-', or a number)",
                    o.key
                )));
            }
            let mut arg = String::new();
            if o.force {
                arg.push_str("++");
            } else if o.add {
                arg.push('+');
            }
            arg.push_str(&o.key);
            arg.push('=');
            hydra_value(&o.key, &o.value, &mut arg)?;
            Ok(arg)
        })
        .collect()
}

/// One part of a dotted key in Hydra's grammar (`KEY_SPECIAL` or `INT_UNSIGNED`).
fn hydra_key_part(p: &str) -> bool {
    let b = p.as_bytes();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() || *c == b'_' || *c == b'$' => b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_-$".contains(c)),
        Some(b'0') => b.len() == 1,
        Some(c) if c.is_ascii_digit() => {
            !p.ends_with('_')
                && !p.contains("__")
                && b.iter().all(|c| c.is_ascii_digit() || *c == b'_')
        }
        _ => false,
    }
}

/// A mapping key inside a Hydra list value (`[{name: x}]`): an identifier that
/// Hydra does not read as a boolean, null or number.
fn hydra_dict_key(k: &str) -> bool {
    let b = k.as_bytes();
    matches!(b.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"_-".contains(c))
        && !["true", "false", "null", "nan", "inf"].contains(&k.to_ascii_lowercase().as_str())
}

fn hydra_value(key: &str, v: &Value, out: &mut String) -> Result<(), Error> {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // A float always has a point or an exponent (`1.0`, `1.0e+20`): Hydra reads
        // `100000000000000000000` as an integer.
        Value::Number(n) if n.is_f64() => {
            out.push_str(&super::params_doc::float_text(n.as_f64().expect("float")))
        }
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => match s.as_str() {
            "NaN" => out.push_str("nan"),
            "Infinity" => out.push_str("inf"),
            "-Infinity" => out.push_str("-inf"),
            _ => hydra_string(s, out),
        },
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                hydra_value(key, item, out)?;
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if !hydra_dict_key(k) {
                    return Err(Error::Override(format!(
                        "-p {key}: Hydra cannot write the mapping key '{k}' in a value on its command line"
                    )));
                }
                if i > 0 {
                    out.push(',');
                }
                out.push_str(k);
                out.push(':');
                hydra_value(key, item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A string as a single-quoted Hydra value. Two layers of escaping: OmegaConf reads
/// `\${` as a literal `${` (and `\\` before `${` as one backslash), then Hydra's
/// quoted strings read backslashes as escapes only before a quote.
fn hydra_string(s: &str, out: &mut String) {
    // OmegaConf: n backslashes before `${` become 2n+1.
    let mut literal = String::with_capacity(s.len());
    let mut run = 0;
    for (i, c) in s.char_indices() {
        if c == '$' && s[i..].starts_with("${") {
            literal.push_str(&"\\".repeat(run + 1));
        }
        run = if c == '\\' { run + 1 } else { 0 };
        literal.push(c);
    }
    // Hydra: a run of n backslashes before a quote becomes 2n (+1 to escape an
    // inner quote); other backslashes are themselves.
    out.push('\'');
    let mut run = 0;
    for c in literal.chars() {
        match c {
            '\\' => run += 1,
            '\'' => {
                out.push_str(&"\\".repeat(2 * run + 1));
                out.push('\'');
                run = 0;
            }
            c => {
                out.push_str(&"\\".repeat(run));
                out.push(c);
                run = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(2 * run));
    out.push('\'');
}

/// The flat keys a run's recorded overrides set: a mapping override sets the keys it
/// names (it merges into its section), every other override its own key.
pub fn overridden_keys(overrides: &BTreeMap<String, Value>) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for (k, v) in overrides {
        let mut wrapped = Map::new();
        wrapped.insert(override_key(k).to_string(), v.clone());
        out.extend(flatten(&Value::Object(wrapped)).into_keys());
    }
    out
}

/// The values a run set through its overrides that `file` (the params file's keys)
/// does not hold: what adopting the run would write.
pub fn overrides_not_in(
    params_used: &FlatParams,
    overrides: &BTreeMap<String, Value>,
    file: &FlatParams,
) -> Vec<(String, Value)> {
    let overridden = overridden_keys(overrides);
    params_used
        .iter()
        .filter(|(k, v)| overridden.contains(k.as_str()) && file.get(k.as_str()) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
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

    #[test]
    fn a_mapping_override_sets_its_keys_and_checks_each() {
        let all = doc();
        let pats = vec!["baseline.*".to_string()];
        let mut sel = select(&all, &pats).unwrap();
        apply_overrides(
            &mut sel,
            Some((&all, &pats)),
            &[(
                "baseline".into(),
                json!({"threshold": 1, "model": {"depth": 4}}),
            )],
        )
        .unwrap();
        assert_eq!(sel["baseline.threshold"], json!(1));
        assert_eq!(sel["baseline.model.depth"], json!(4));
        // The keys the mapping does not name stay (Hydra merges the same way).
        assert_eq!(sel["baseline.window"], json!(24));
        // A typo inside a mapping is a typo.
        assert_eq!(
            apply_overrides(
                &mut sel,
                Some((&all, &pats)),
                &[("baseline".into(), json!({"thresold": 1}))]
            ),
            Err(Error::OverrideKey("baseline.thresold".into()))
        );
        // Nothing below a value; an empty mapping replaces no section.
        assert!(matches!(
            apply_overrides(&mut sel, Some((&all, &pats)), &[("+seed.x".into(), json!(1))]),
            Err(Error::Override(m)) if m.contains("'seed' holds a value")
        ));
        assert!(matches!(
            apply_overrides(&mut sel, Some((&all, &pats)), &[("baseline".into(), json!({}))]),
            Err(Error::Override(m)) if m.contains("is a section")
        ));
        // Two overrides where one is below the other.
        assert!(matches!(
            leaf_overrides(&[("x".into(), json!(1)), ("x.y".into(), json!(2))], None),
            Err(Error::Override(m)) if m.contains("one is below the other")
        ));
        let later =
            leaf_overrides(&[("x".into(), json!(1)), ("x".into(), json!(2))], None).unwrap();
        assert_eq!(
            later,
            [LeafOverride {
                key: "x".into(),
                value: json!(2),
                add: false,
                force: false
            }]
        );
        assert!(parse_override("~a=1")
            .unwrap_err()
            .to_string()
            .contains("removing a param"));
        assert!(parse_override("+++a=1").is_err());
        assert_eq!(parse_override("++a=1"), Ok(("++a".into(), json!(1))));
        // `++` sets a key the file has and adds one it lacks.
        let all = doc();
        let l = leaf_overrides(
            &[("++seed".into(), json!(2)), ("++fresh.k".into(), json!(1))],
            Some(&all),
        )
        .unwrap();
        assert_eq!((l[0].add, l[1].add), (false, true));
        assert_eq!(override_key("++fresh.k"), "fresh.k");
        assert!(matches!(
            leaf_overrides(&[("++baseline".into(), json!(1))], Some(&all)),
            Err(Error::Override(m)) if m.contains("is a section")
        ));
    }

    fn hydra(k: &str, v: Value) -> String {
        hydra_args(&[(k.into(), v)]).unwrap().remove(0)
    }

    #[test]
    fn hydra_arguments_quote_what_hydra_would_retype() {
        assert_eq!(hydra("a.b", json!(1)), "a.b=1");
        assert_eq!(hydra("+a.b", json!(-2)), "+a.b=-2");
        assert_eq!(hydra("++a.b", json!(3)), "++a.b=3");
        assert_eq!(hydra("a", json!(1e-5)), "a=1.0e-5");
        assert_eq!(hydra("a", json!(1e20)), "a=1.0e+20");
        assert_eq!(hydra("a", json!(0.1)), "a=0.1");
        assert_eq!(hydra("a", json!(2.0)), "a=2.0");
        assert_eq!(hydra("a", json!(null)), "a=null");
        assert_eq!(hydra("a", json!(true)), "a=true");
        assert_eq!(hydra("a", json!("null")), "a='null'");
        assert_eq!(hydra("a", json!("true")), "a='true'");
        assert_eq!(hydra("a", json!("x, y=z [1]")), "a='x, y=z [1]'");
        assert_eq!(hydra("a", json!("it's")), r"a='it\'s'");
        assert_eq!(hydra("a", json!(r"ends\")), r"a='ends\\'");
        assert_eq!(hydra("a", json!(r"mid\dle")), r"a='mid\dle'");
        assert_eq!(hydra("a", json!(r"\'")), r"a='\\\''");
        assert_eq!(hydra("a", json!("${x}")), r"a='\${x}'");
        assert_eq!(hydra("a", json!(r"\${x}")), r"a='\\\${x}'");
        assert_eq!(hydra("a", json!("")), "a=''");
        assert_eq!(hydra("a", json!("NaN")), "a=nan");
        assert_eq!(hydra("a", json!("-Infinity")), "a=-inf");
        assert_eq!(hydra("a", json!([1, "b", [null]])), "a=[1,'b',[null]]");
        assert_eq!(hydra("a", json!([{"k": "v"}])), "a=[{k:'v'}]");
        assert_eq!(hydra("a", json!({})), "a={}");
        // A mapping is one argument per key.
        assert_eq!(
            hydra_args(&[("+m".into(), json!({"x": 1, "y": {"z": "w"}}))]).unwrap(),
            ["+m.x=1", "+m.y.z='w'"]
        );
        for bad in ["learning rate", "größe", "a..b", "1x", "-a"] {
            let e = hydra_args(&[(bad.into(), json!(1))])
                .unwrap_err()
                .to_string();
            assert!(e.contains("Hydra cannot name this key"), "{bad}: {e}");
        }
        assert!(hydra_args(&[("ok.0.$x_-y".into(), json!(1))]).is_ok());
        let e = hydra_args(&[("a".into(), json!([{"true": 1}]))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("mapping key 'true'"), "{e}");
    }
}
