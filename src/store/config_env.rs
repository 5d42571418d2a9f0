//! The configuration `git -c key=value` hands to subcommands through the environment,
//! which libgit2 never reads: `GIT_CONFIG_COUNT` with `GIT_CONFIG_KEY_<n>` /
//! `GIT_CONFIG_VALUE_<n>` (git 2.31+), then `GIT_CONFIG_PARAMETERS` (what `git -c` and
//! `--config-env` write). The grammar is git's own (`config.c`
//! `git_config_from_parameters`, `parse_config_env_list`; `quote.c` `sq_dequote_step`),
//! and so are the error messages. The entries become one in-memory configuration
//! level above the repository's (`Store::apply_command_line_config`), so every read —
//! ours and libgit2's — sees them first, as git's command-line scope.

use super::error::{Error, Result};
use std::ffi::OsString;

/// One command-line entry: the canonical key (section and name lower-cased, the
/// subsection as given) and its value; `None` is git's valueless "implicit true".
pub type Entry = (String, Option<String>);

/// The command-line entries in the order git applies them (later ones win).
pub fn from_env(var: &dyn Fn(&str) -> Option<OsString>) -> Result<Vec<Entry>> {
    let text = |name: &str| -> Result<Option<String>> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .into_string()
                .map(Some)
                .map_err(|_| bad(format!("{name} is not valid UTF-8"))),
        }
    };
    let mut out = Vec::new();
    if let Some(count) = text("GIT_CONFIG_COUNT")? {
        let count = parse_count(&count)?;
        for i in 0..count {
            let key_var = format!("GIT_CONFIG_KEY_{i}");
            let key =
                text(&key_var)?.ok_or_else(|| bad(format!("missing config key {key_var}")))?;
            let value_var = format!("GIT_CONFIG_VALUE_{i}");
            let value = text(&value_var)?
                .ok_or_else(|| bad(format!("missing config value {value_var}")))?;
            out.push((canonical_key(&key)?, Some(value)));
        }
    }
    if let Some(params) = text("GIT_CONFIG_PARAMETERS")? {
        out.extend(parse_parameters(&params)?);
    }
    Ok(out)
}

fn bad(message: String) -> Error {
    Error::ConfigEnv { message }
}

fn bogus_format() -> Error {
    bad("bogus format in GIT_CONFIG_PARAMETERS".into())
}

/// `strtoul(s, &end, 10)` with `*end` required to be the end, as git reads the count.
fn parse_count(s: &str) -> Result<u64> {
    let bogus = || bad("bogus count in GIT_CONFIG_COUNT".into());
    let t = s.trim_start_matches(is_c_space);
    if s.is_empty() {
        return Ok(0);
    }
    let (negative, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bogus());
    }
    let too_many = || bad("too many entries in GIT_CONFIG_COUNT".into());
    let n: u64 = digits.parse().map_err(|_| too_many())?;
    if negative && n != 0 {
        // strtoul negates in unsigned arithmetic: a huge count
        return Err(too_many());
    }
    if n > i32::MAX as u64 {
        return Err(too_many());
    }
    Ok(n)
}

/// C's `isspace` in git's ASCII ctype: space, tab, newline, carriage return.
fn is_git_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// C library `isspace` (strtoul's leading white space).
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\u{b}' | '\u{c}')
}

/// One single-quoted word at the start of `s` (git's `sq_dequote_step`): the word and
/// the rest after it (`None` at the end of the string), or `None` when `s` is not one.
fn sq_dequote_step(s: &[u8]) -> Option<(Vec<u8>, Option<&[u8]>)> {
    if s.first() != Some(&b'\'') {
        return None;
    }
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let c = *s.get(i)?;
        if c != b'\'' {
            out.push(c);
            i += 1;
            continue;
        }
        // stepped out of the quotes
        i += 1;
        match s.get(i) {
            None => return Some((out, None)),
            // `'\''` and `'\!'`: a quote or a bang escaped between two quoted parts
            Some(b'\\')
                if matches!(s.get(i + 1), Some(b'\'' | b'!')) && s.get(i + 2) == Some(&b'\'') =>
            {
                out.push(s[i + 1]);
                i += 3;
            }
            Some(_) => return Some((out, Some(&s[i..]))),
        }
    }
}

fn utf8(b: Vec<u8>) -> Result<String> {
    // The variable is a Rust string, and a quoted part only ever splits it at ASCII.
    String::from_utf8(b).map_err(|_| bogus_format())
}

/// `GIT_CONFIG_PARAMETERS`: space-separated `'key'='value'` (new), `'key'` or
/// `'key'=` (implicit true), or `'key=value'` (old, split at the first `=`).
pub fn parse_parameters(text: &str) -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    let mut cur: Option<&[u8]> = Some(text.as_bytes());
    while let Some(s) = cur.filter(|s| !s.is_empty()) {
        let (key, rest) = sq_dequote_step(s).ok_or_else(bogus_format)?;
        let key = utf8(key)?;
        cur = match rest {
            None => {
                out.push(old_style(&key)?);
                None
            }
            Some(r) if is_git_space(r[0]) => {
                out.push(old_style(&key)?);
                Some(r)
            }
            Some(r) if r[0] == b'=' => {
                let r = &r[1..];
                match r.first() {
                    Some(b'\'') => {
                        let (value, after) = sq_dequote_step(r).ok_or_else(bogus_format)?;
                        if after.is_some_and(|a| !is_git_space(a[0])) {
                            return Err(bogus_format());
                        }
                        out.push((canonical_key(&key)?, Some(utf8(value)?)));
                        after
                    }
                    None => {
                        out.push((canonical_key(&key)?, None));
                        None
                    }
                    Some(&c) if is_git_space(c) => {
                        out.push((canonical_key(&key)?, None));
                        Some(r)
                    }
                    Some(_) => return Err(bogus_format()),
                }
            }
            Some(_) => return Err(bogus_format()),
        };
        if let Some(r) = cur {
            let skip = r.iter().take_while(|&&c| is_git_space(c)).count();
            cur = Some(&r[skip..]);
        }
    }
    Ok(out)
}

/// An old-style `key=value` word (git's `git_config_parse_parameter`).
fn old_style(text: &str) -> Result<Entry> {
    let (key, value) = match text.split_once('=') {
        Some((k, v)) => (k, Some(v.to_string())),
        None => (text, None),
    };
    if key.is_empty() {
        return Err(bad(format!("bogus config parameter: {text}")));
    }
    Ok((canonical_key(key)?, value))
}

/// git's `git_config_parse_key`: a section and a name of letters, digits and `-`
/// (the name starting with a letter), lower-cased; a subsection between them kept as
/// is, without newlines.
pub fn canonical_key(key: &str) -> Result<String> {
    if key.is_empty() {
        return Err(bad("empty config key".into()));
    }
    let b = key.as_bytes();
    let last_dot = match key.rfind('.') {
        Some(0) | None => return Err(bad(format!("key does not contain a section: {key}"))),
        Some(d) => d,
    };
    if last_dot + 1 == b.len() {
        return Err(bad(format!("key does not contain variable name: {key}")));
    }
    let first_dot = key.find('.').expect("has a dot");
    let invalid = || bad(format!("invalid key: {key}"));
    let mut out = String::with_capacity(key.len());
    for (i, c) in key.char_indices() {
        let in_subsection = i >= first_dot && i <= last_dot;
        if in_subsection {
            if c == '\n' {
                return Err(bad(format!("invalid key (newline): {key}")));
            }
            out.push(c);
        } else {
            if !(c.is_ascii_alphanumeric() || c == '-')
                || (i == last_dot + 1 && !c.is_ascii_alphabetic())
            {
                return Err(invalid());
            }
            out.push(c.to_ascii_lowercase());
        }
    }
    Ok(out)
}

/// The entries as git configuration text, one section header each so their order
/// (and so which value wins) is kept.
pub fn to_config_text(entries: &[Entry]) -> String {
    let mut out = String::new();
    for (key, value) in entries {
        let first_dot = key.find('.').expect("canonical key");
        let last_dot = key.rfind('.').expect("canonical key");
        let section = &key[..first_dot];
        out.push('[');
        out.push_str(section);
        if last_dot > first_dot {
            out.push_str(" \"");
            for c in key[first_dot + 1..last_dot].chars() {
                if matches!(c, '"' | '\\') {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        out.push_str("]\n\t");
        out.push_str(&key[last_dot + 1..]);
        if let Some(v) = value {
            out.push_str(" = \"");
            for c in v.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\u{8}' => out.push_str("\\b"),
                    c => out.push(c),
                }
            }
            out.push('"');
        }
        out.push('\n');
    }
    out
}

/// Reads the environment of this process.
pub fn from_process_env() -> Result<Vec<Entry>> {
    from_env(&|name| std::env::var_os(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(s: &str) -> std::result::Result<Vec<Entry>, String> {
        parse_parameters(s).map_err(|e| e.to_string())
    }

    fn e(k: &str, v: Option<&str>) -> Entry {
        (k.to_string(), v.map(str::to_string))
    }

    #[test]
    fn reads_the_forms_git_writes() {
        // what git 2.47 exports for `git -c alias.p='!printenv ...' -c User.Name="Ada L'x"
        // -c core.bare -c x.y= -c 'a.b=c<newline>d'`
        assert_eq!(
            params("'alias.p'=''\\!'printenv GIT_CONFIG_PARAMETERS' 'User.Name'='Ada L'\\''x' 'core.bare'= 'x.y'='' 'a.b'='c\nd'").unwrap(),
            vec![
                e("alias.p", Some("!printenv GIT_CONFIG_PARAMETERS")),
                e("user.name", Some("Ada L'x")),
                e("core.bare", None),
                e("x.y", Some("")),
                e("a.b", Some("c\nd")),
            ]
        );
        assert_eq!(params("'core.bare'").unwrap(), vec![e("core.bare", None)]);
        // old style, split at the first '='
        assert_eq!(
            params("'user.name=a=b' 'a.b'= ").unwrap(),
            vec![e("user.name", Some("a=b")), e("a.b", None)]
        );
        // escaped quotes and bangs, newlines, subsections kept as given
        assert_eq!(
            params("'Remote.Origin Two.URL'='it'\\''s'\\!' here\nnext'").unwrap(),
            vec![e("remote.Origin Two.url", Some("it's! here\nnext"))]
        );
        assert_eq!(params("").unwrap(), vec![]);
        assert_eq!(
            params("  ").unwrap_err(),
            "bogus format in GIT_CONFIG_PARAMETERS"
        );
    }

    #[test]
    fn refuses_what_git_refuses() {
        for bogus in [
            "user.name=x",        // not quoted
            "'user.name'=x",      // unquoted value
            "'user.name'='x'y",   // junk after the value
            "'user.name",         // unterminated
            "'user.name'='x",     // unterminated value
            "'a.b'\"c\"",         // neither '=' nor space
            "'a.b'='x''c.d'='y'", // no space between entries
        ] {
            assert_eq!(
                params(bogus).unwrap_err(),
                "bogus format in GIT_CONFIG_PARAMETERS",
                "{bogus}"
            );
        }
        assert_eq!(params("'=x'").unwrap_err(), "bogus config parameter: =x");
        assert_eq!(params("''=''").unwrap_err(), "empty config key");
        assert_eq!(
            params("'nodot'='x'").unwrap_err(),
            "key does not contain a section: nodot"
        );
        assert_eq!(
            params("'a.'='x'").unwrap_err(),
            "key does not contain variable name: a."
        );
        assert_eq!(params("'a.1b'='x'").unwrap_err(), "invalid key: a.1b");
        assert_eq!(params("'a_b.c'='x'").unwrap_err(), "invalid key: a_b.c");
        assert!(params("'a.s\nub.c'='x'").unwrap_err().contains("newline"));
    }

    #[test]
    fn reads_the_count_form_before_the_parameters() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let got = from_env(&env(&[
            ("GIT_CONFIG_COUNT", "2"),
            ("GIT_CONFIG_KEY_0", "Workbench.RequireSigned"),
            ("GIT_CONFIG_VALUE_0", "true"),
            ("GIT_CONFIG_KEY_1", "url.https://h/?a=b.insteadOf"),
            ("GIT_CONFIG_VALUE_1", "x y"),
            ("GIT_CONFIG_PARAMETERS", "'workbench.requiresigned'='false'"),
        ]))
        .unwrap();
        assert_eq!(
            got,
            vec![
                e("workbench.requiresigned", Some("true")),
                e("url.https://h/?a=b.insteadof", Some("x y")),
                e("workbench.requiresigned", Some("false")),
            ]
        );
        let err = |pairs| from_env(&env(pairs)).unwrap_err().to_string();
        assert_eq!(
            err(&[("GIT_CONFIG_COUNT", "x")]),
            "bogus count in GIT_CONFIG_COUNT"
        );
        assert_eq!(
            err(&[("GIT_CONFIG_COUNT", "-1")]),
            "too many entries in GIT_CONFIG_COUNT"
        );
        assert_eq!(
            err(&[("GIT_CONFIG_COUNT", "1")]),
            "missing config key GIT_CONFIG_KEY_0"
        );
        assert_eq!(
            err(&[("GIT_CONFIG_COUNT", "1"), ("GIT_CONFIG_KEY_0", "a.b")]),
            "missing config value GIT_CONFIG_VALUE_0"
        );
        assert_eq!(from_env(&env(&[("GIT_CONFIG_COUNT", "")])).unwrap(), vec![]);
        assert_eq!(
            from_env(&env(&[("GIT_CONFIG_COUNT", " +0")])).unwrap(),
            vec![]
        );
    }

    #[test]
    fn the_config_text_reads_back_exactly_through_libgit2() {
        let values = [
            "plain",
            "",
            "  leading and trailing  ",
            "quote \" and backslash \\ and \\n literal",
            "a # not a comment ; nor this",
            "line one\nline two\n",
            "tab\there",
            "carriage\rreturn",
            "equals = signs == here",
            "[section] \"x\"",
            "ünïcödé",
        ];
        let mut entries: Vec<Entry> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("t.sub \"q\\{i}.k"), Some(v.to_string())))
            .collect();
        entries.push(e("t.flag", None));
        entries.push(e("t.last", Some("one")));
        entries.push(e("t.last", Some("two")));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(&file, to_config_text(&entries)).unwrap();
        let cfg = git2::Config::open(&file).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(
                cfg.get_string(&format!("t.sub \"q\\{i}.k")).unwrap(),
                *v,
                "{}",
                to_config_text(&entries)
            );
        }
        assert!(cfg.get_bool("t.flag").unwrap());
        assert_eq!(cfg.get_string("t.last").unwrap(), "two");
    }
}
