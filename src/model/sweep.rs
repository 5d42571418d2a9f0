//! Sweeps: `-p KEY=VALUES` in Hydra's sweep syntax and their cartesian product, one
//! combination per run.
//!
//! `a,b,c` and `choice(a,b,c)` list values; `range(start, stop[, step])` counts
//! (arguments by position or by name: `range(1,10,step=2)`). Commas split values
//! only outside quotes, brackets, braces and parentheses, and an escaped `\,` is a
//! comma. A value that parses as JSON is that JSON value (as with `run -p`); any
//! other is read as Hydra reads it: `'quoted text'` or `"quoted text"` is a string
//! (commas and all), `[a, b]` a list, `{k: v}` a mapping, `1_000` an integer, `1e-3`
//! a float, `true`/`True` a boolean, `null` null, `nan`/`inf` the non-finite numbers
//! (recorded as `"NaN"`, `"Infinity"`), anything else text. Hydra's functions that
//! only its own sweepers can run (`interval`, `glob`, `sort`, `shuffle`, `tag`, the
//! casts), a function inside a value, and `${...}` interpolations are refused with
//! what to write instead.

use super::error::Error;
use serde_json::{Map, Number, Value};

/// The most combinations one sweep may have, so a typo in a range cannot start a
/// million runs.
pub const MAX_COMBINATIONS: usize = 10_000;

/// One parameter of a sweep and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<Value>,
}

/// Parses `KEY=VALUES` (see the module doc).
pub fn parse_axis(spec: &str) -> Result<Axis, Error> {
    parse_axis_text(spec).map_err(Error::Sweep)
}

fn parse_axis_text(spec: &str) -> Result<Axis, String> {
    let Some((key, list)) = spec.split_once('=') else {
        return Err(format!("'{spec}' is not key=values"));
    };
    let key = key.trim();
    let bare = super::params::override_key(key);
    if key.starts_with('~') || bare.starts_with('+') {
        return Err(format!(
            "-p {key}: only KEY=VALUES, +KEY=VALUES (a new key) and ++KEY=VALUES are supported in a sweep"
        ));
    }
    if bare.is_empty() || bare.split('.').any(str::is_empty) {
        return Err(format!("'{spec}' has an empty key"));
    }
    let list = list.trim();
    let fail = |why: String| format!("-p {key}: {why}");
    let parts = split_top(list, ',').map_err(fail)?;
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(fail(format!(
            "empty value in '{list}' (values are separated by single commas)"
        )));
    }
    let values = match parts.as_slice() {
        [one] => match function(one).map_err(fail)? {
            Some((name, args)) => call(name, &args).map_err(fail)?,
            None => vec![element(one).map_err(fail)?],
        },
        many => many
            .iter()
            .map(|p| {
                if let Some((name, _)) = function(p)? {
                    return Err(format!(
                        "{name}() must be the whole value, not one of several: write {key}={name}(...) alone"
                    ));
                }
                element(p)
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?,
    };
    if values.is_empty() {
        return Err(fail(format!("{list} is empty")));
    }
    Ok(Axis {
        key: key.to_string(),
        values,
    })
}

/// Splits at `sep` outside quotes, brackets, braces and parentheses (and not after
/// a backslash).
fn split_top(s: &str, sep: char) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut closers: Vec<char> = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '\'' | '"' => {
                let mut closed = false;
                while let Some((_, d)) = chars.next() {
                    if d == '\\' {
                        chars.next();
                    } else if d == c {
                        closed = true;
                        break;
                    }
                }
                if !closed {
                    return Err(format!(
                        "unterminated quote in '{s}' (to keep a quote in a value, quote the whole value: \"it's\")"
                    ));
                }
            }
            '(' => closers.push(')'),
            '[' => closers.push(']'),
            '{' => closers.push('}'),
            // The guard pops the bracket this one closes, whether or not it matches.
            ')' | ']' | '}' if closers.pop() != Some(c) => {
                return Err(format!("unbalanced '{c}' in '{s}'"));
            }
            c if c == sep && closers.is_empty() => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if let Some(c) = closers.last() {
        return Err(format!("'{s}' lacks a closing '{c}'"));
    }
    out.push(&s[start..]);
    Ok(out)
}

/// `name(args)` when the text is a function call.
fn function(text: &str) -> Result<Option<(&str, Vec<&str>)>, String> {
    let t = text.trim();
    let name_len = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(t.len());
    let name = &t[..name_len];
    let rest = t[name_len..].trim_start();
    if name.is_empty()
        || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        || !rest.starts_with('(')
    {
        return Ok(None);
    }
    let Some(inner) = rest[1..].strip_suffix(')') else {
        return Err(format!("text after {name}(...) in '{t}'"));
    };
    // The closing parenthesis must be the one that opened (not `f(a)(b)`).
    if split_top(inner, ',').is_err() {
        return Err(format!("'{t}' is not one call of {name}()"));
    }
    let args = if inner.trim().is_empty() {
        Vec::new()
    } else {
        split_top(inner, ',')?
    };
    Ok(Some((name, args)))
}

/// Runs a sweep function, or says why it is not run.
fn call(name: &str, args: &[&str]) -> Result<Vec<Value>, String> {
    let shown = format!("{name}({})", args.join(","));
    for a in args {
        if let Some((inner, _)) = function(named(a).1)? {
            return Err(format!(
                "{shown}: a function inside a function ({inner}()) is not supported; write the values out"
            ));
        }
    }
    match name {
        "choice" => {
            if args.is_empty() {
                return Err("choice() needs at least one value".into());
            }
            args.iter()
                .map(|a| match named(a) {
                    (Some(n), _) => Err(format!("{shown}: choice() takes no named argument ({n}=)")),
                    (None, v) => element(v),
                })
                .collect()
        }
        "range" => range(&shown, args),
        "interval" => Err(format!(
            "{shown}: interval() is a continuous range for Hydra's optimizing sweepers; git-workbench runs listed values: write range(start,stop,step) or a,b,c"
        )),
        "glob" => Err(format!(
            "{shown}: glob() picks options of a Hydra config group, which params files do not have; list the values: a,b,c"
        )),
        "sort" => Err(format!(
            "{shown}: sort() is not supported; list the values in the order you want them run"
        )),
        "shuffle" => Err(format!(
            "{shown}: shuffle() is not supported; list the values in the order you want them run"
        )),
        "tag" => Err(format!(
            "{shown}: tag() labels a sweep for Hydra's optimizing sweepers; write the values without it"
        )),
        "int" | "float" | "str" | "bool" => Err(format!(
            "{shown}: casts are not supported; write each value as what it is: 1 or 1.0 for a number, 'text' in quotes for a string, true for a boolean"
        )),
        _ => Err(format!(
            "{shown}: git-workbench runs choice() and range() only; to mean the text, quote it: '{shown}'"
        )),
    }
}

/// `name=value` or a positional argument.
fn named(arg: &str) -> (Option<&str>, &str) {
    let t = arg.trim();
    let n = t
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(t.len());
    match t[n..].trim_start().strip_prefix('=') {
        Some(v) if n > 0 && t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
            (Some(&t[..n]), v)
        }
        _ => (None, t),
    }
}

/// One value: JSON when it parses as JSON, else Hydra's reading.
fn element(text: &str) -> Result<Value, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty value".into());
    }
    if let Ok(v) = serde_json::from_str::<Value>(t) {
        return Ok(v);
    }
    if let Some((name, _)) = function(t)? {
        return Err(format!(
            "{name}() inside a value is not supported; write the values out"
        ));
    }
    match t.as_bytes()[0] {
        b'[' => {
            let inner = t[1..]
                .strip_suffix(']')
                .ok_or_else(|| format!("text after the list in '{t}'"))?;
            if inner.trim().is_empty() {
                return Ok(Value::Array(Vec::new()));
            }
            split_top(inner, ',')?
                .into_iter()
                .map(element)
                .collect::<Result<_, _>>()
                .map(Value::Array)
        }
        b'{' => {
            let inner = t[1..]
                .strip_suffix('}')
                .ok_or_else(|| format!("text after the mapping in '{t}'"))?;
            let mut m = Map::new();
            if inner.trim().is_empty() {
                return Ok(Value::Object(m));
            }
            for pair in split_top(inner, ',')? {
                let parts = split_top(pair, ':')?;
                let (k, v) = match parts.split_first() {
                    Some((k, rest)) if !rest.is_empty() => (k.trim(), &pair[k.len() + 1..]),
                    _ => return Err(format!("'{}' in '{t}' is not key: value", pair.trim())),
                };
                let key = unescape(k);
                if key.is_empty() {
                    return Err(format!("an empty key in '{t}'"));
                }
                if m.insert(key.clone(), element(v)?).is_some() {
                    return Err(format!("the key '{key}' is given twice in '{t}'"));
                }
            }
            Ok(Value::Object(m))
        }
        q @ (b'\'' | b'"') => {
            let parts = split_top(t, ',')?;
            if parts.len() != 1
                || !t.ends_with(q as char)
                || t.len() < 2
                || quoted_len(t) != t.len()
            {
                return Err(format!(
                    "text next to a quoted value in '{t}': quote the whole value"
                ));
            }
            Ok(Value::String(unquote(t)))
        }
        _ => {
            if t.contains("${") {
                return Err(format!(
                    "'{t}': interpolations (${{...}}) are not resolved by git-workbench; write the value"
                ));
            }
            Ok(primitive(t))
        }
    }
}

/// The length of the quoted token at the start of `t`.
fn quoted_len(t: &str) -> usize {
    let q = t.as_bytes()[0];
    let b = t.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            return i + 1;
        }
        i += 1;
    }
    b.len() + 1
}

/// Hydra's reading of a quoted string: backslashes are escapes only before a quote
/// (`\'` is a quote, `\\` before the closing quote one backslash).
fn unquote(t: &str) -> String {
    let q = t.as_bytes()[0];
    let body = &t.as_bytes()[1..t.len() - 1];
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'\\' {
            let run = body[i..].iter().take_while(|b| **b == b'\\').count();
            let next = body.get(i + run);
            if next == Some(&q) || next.is_none() {
                // An escaped quote, or backslashes before the closing quote: halved.
                out.extend(std::iter::repeat_n(b'\\', run / 2));
                i += run;
                if let Some(c) = next {
                    out.push(*c);
                    i += 1;
                }
                continue;
            }
            out.extend(std::iter::repeat_n(b'\\', run));
            i += run;
            continue;
        }
        out.push(body[i]);
        i += 1;
    }
    String::from_utf8(out).expect("quotes and backslashes are ASCII")
}

/// Hydra's escapes outside quotes: `\,`, `\(`, `\ `, `\\`, ...
fn unescape(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(n)) if "\\()[]{}:=, \t".contains(*n) => {
                out.push(*n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// An unquoted value as Hydra types it.
fn primitive(t: &str) -> Value {
    if t.contains('\\') {
        return Value::String(unescape(t));
    }
    if let Some(d) = hydra_number(t) {
        return d.value();
    }
    match t.to_ascii_lowercase().as_str() {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => Value::String(t.to_string()),
    }
}

/// A number as Hydra's grammar writes one (`INT`, `FLOAT`), kept exact as a decimal.
#[derive(Debug, Clone, Copy)]
enum Num {
    /// `mantissa × 10^exponent`; `int` when written as an integer.
    Finite {
        mantissa: i128,
        exponent: i32,
        int: bool,
    },
    NonFinite(&'static str),
}

impl Num {
    fn value(self) -> Value {
        match self {
            Num::NonFinite(s) => Value::String(s.to_string()),
            Num::Finite {
                mantissa,
                exponent,
                int,
            } => decimal_value(mantissa, exponent, int)
                .unwrap_or_else(|| Value::String(format!("{mantissa}e{exponent}"))),
        }
    }
}

/// The JSON value of `mantissa × 10^exponent`: an integer when written as one, else
/// the float nearest to the decimal.
fn decimal_value(mantissa: i128, exponent: i32, int: bool) -> Option<Value> {
    if int {
        let v = mantissa.checked_mul(10i128.checked_pow(exponent.try_into().ok()?)?)?;
        return i64::try_from(v)
            .map(Value::from)
            .ok()
            .or_else(|| u64::try_from(v).ok().map(Value::from));
    }
    let f: f64 = format!("{mantissa}e{exponent}").parse().ok()?;
    Number::from_f64(f).map(Value::Number)
}

fn hydra_number(t: &str) -> Option<Num> {
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    match body.to_ascii_lowercase().as_str() {
        "inf" => return Some(Num::NonFinite(if neg { "-Infinity" } else { "Infinity" })),
        "nan" => return Some(Num::NonFinite("NaN")),
        _ => {}
    }
    // INT_UNSIGNED: '0' | [1-9] ('_'? DIGIT)*
    let digits_ok = |s: &str, leading_zero_ok: bool| {
        !s.is_empty()
            && !s.starts_with('_')
            && !s.ends_with('_')
            && !s.contains("__")
            && s.bytes().all(|b| b.is_ascii_digit() || b == b'_')
            && (leading_zero_ok || s == "0" || !s.starts_with('0'))
    };
    let (num, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac) = match num.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (num, None),
    };
    let int_ok = if int_part.is_empty() {
        frac.is_some_and(|f| !f.is_empty())
    } else {
        digits_ok(int_part, false)
    };
    let frac_ok = frac.is_none_or(|f| f.is_empty() || digits_ok(f, true));
    if !int_ok || !frac_ok {
        return None;
    }
    let exponent: i32 = match exp {
        None => 0,
        Some(e) => {
            let d = e.strip_prefix(['+', '-']).unwrap_or(e);
            if !digits_ok(d, true) {
                return None;
            }
            e.replace('_', "").parse().ok()?
        }
    };
    let frac = frac.unwrap_or("").replace('_', "");
    let digits = format!("{}{frac}", int_part.replace('_', ""));
    let mut mantissa: i128 = digits.parse().ok()?;
    if neg {
        mantissa = -mantissa;
    }
    Some(Num::Finite {
        mantissa,
        exponent: exponent.checked_sub(i32::try_from(frac.len()).ok()?)?,
        int: exp.is_none() && !num.contains('.'),
    })
}

/// Hydra's `range(start, stop=None, step=1)`: with one argument it is the stop and
/// the start is 0; stop excluded; integers when every argument is written as an
/// integer. Counted in exact decimals, so `range(0,1,0.1)` is 0.0, 0.1, ... 0.9.
fn range(shown: &str, args: &[&str]) -> Result<Vec<Value>, String> {
    const NAMES: [&str; 3] = ["start", "stop", "step"];
    let mut given: [Option<&str>; 3] = [None; 3];
    let mut seen_named = false;
    for (i, a) in args.iter().enumerate() {
        let (slot, v) = match named(a) {
            (Some(n), v) => {
                seen_named = true;
                let slot = NAMES.iter().position(|x| *x == n).ok_or_else(|| {
                    format!("{shown}: range() has no argument '{n}' (start, stop, step)")
                })?;
                (slot, v)
            }
            (None, v) => {
                if seen_named {
                    return Err(format!("{shown}: a positional argument after a named one"));
                }
                if i >= 3 {
                    return Err(format!("{shown}: range() takes at most 3 arguments"));
                }
                (i, v)
            }
        };
        if given[slot].replace(v.trim()).is_some() {
            return Err(format!("{shown}: '{}' is given twice", NAMES[slot]));
        }
    }
    let number = |s: &str| match hydra_number(s) {
        Some(Num::Finite {
            mantissa,
            exponent,
            int,
        }) => Ok((mantissa, exponent, int)),
        _ => Err(format!(
            "{shown}: range() needs finite numbers: range(start, stop[, step])"
        )),
    };
    let Some(first) = given[0] else {
        return Err(format!("{shown}: range() needs a start or a stop"));
    };
    let (start, stop) = match given[1] {
        Some(stop) => (number(first)?, number(stop)?),
        None => ((0, 0, true), number(first)?),
    };
    let step = match given[2] {
        Some(s) => number(s)?,
        None => (1, 0, true),
    };
    let int = start.2 && stop.2 && step.2;
    let exact = || format!("{shown}: too many digits to count exactly");
    let exponent = start.1.min(stop.1).min(step.1);
    let scale = |(m, e, _): (i128, i32, bool)| -> Result<i128, String> {
        let shift = u32::try_from(i64::from(e) - i64::from(exponent)).map_err(|_| exact())?;
        10i128
            .checked_pow(shift)
            .and_then(|p| m.checked_mul(p))
            .ok_or_else(exact)
    };
    let (a, b, s) = (scale(start)?, scale(stop)?, scale(step)?);
    if s == 0 {
        return Err(format!("{shown}: the step is zero"));
    }
    let mut out = Vec::new();
    let mut v = a;
    while (s > 0 && v < b) || (s < 0 && v > b) {
        if out.len() >= MAX_COMBINATIONS {
            return Err(format!("{shown} has more than {MAX_COMBINATIONS} values"));
        }
        out.push(decimal_value(v, exponent, int).ok_or_else(exact)?);
        v = v.checked_add(s).ok_or_else(exact)?;
    }
    if out.is_empty() {
        return Err(format!("{shown} is empty"));
    }
    Ok(out)
}

/// Every combination, the first axis varying slowest; a key given twice is an error.
pub fn combinations(axes: &[Axis]) -> Result<Vec<Vec<(String, Value)>>, Error> {
    combinations_text(axes).map_err(Error::Sweep)
}

fn combinations_text(axes: &[Axis]) -> Result<Vec<Vec<(String, Value)>>, String> {
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(format!("-p {} is given twice", a.key));
        }
    }
    let total = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
        .filter(|n| *n <= MAX_COMBINATIONS)
        .ok_or(format!(
            "the sweep has more than {MAX_COMBINATIONS} combinations"
        ))?;
    let mut out = Vec::with_capacity(total);
    for mut n in 0..total {
        let mut combo = vec![(String::new(), Value::Null); axes.len()];
        for (i, a) in axes.iter().enumerate().rev() {
            combo[i] = (a.key.clone(), a.values[n % a.values.len()].clone());
            n /= a.values.len();
        }
        out.push(combo);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(spec: &str) -> Vec<Value> {
        parse_axis(spec)
            .unwrap_or_else(|e| panic!("{spec}: {e}"))
            .values
    }

    fn refused(spec: &str) -> String {
        parse_axis(spec).expect_err(spec).to_string()
    }

    #[test]
    fn lists_and_ranges() {
        let a = parse_axis("train.lr=0.1, 0.2,0.3").unwrap();
        assert_eq!(a.key, "train.lr");
        assert_eq!(a.values, [json!(0.1), json!(0.2), json!(0.3)]);
        assert_eq!(values("m=a,b"), [json!("a"), json!("b")]);
        assert_eq!(values("d=range(1,4)"), [json!(1), json!(2), json!(3)]);
        assert_eq!(
            values("x=range(0,0.35,0.1)"),
            [json!(0.0), json!(0.1), json!(0.2), json!(0.3)]
        );
        assert_eq!(values("x=range(3,0,-1)"), [json!(3), json!(2), json!(1)]);
        assert_eq!(values("x=range(3)"), [json!(0), json!(1), json!(2)]);
        assert_eq!(parse_axis("+new=1,2").unwrap().key, "+new");
    }

    #[test]
    fn hydra_functions_and_named_arguments() {
        assert_eq!(values("x=choice(2.0,3.0)"), [json!(2.0), json!(3.0)]);
        assert_eq!(values("x=choice(a)"), [json!("a")]);
        assert_eq!(values("x = choice( a , b )"), [json!("a"), json!("b")]);
        assert_eq!(values("x=range(1,5,step=2)"), [json!(1), json!(3)]);
        assert_eq!(values("x=range(start=1,stop=3)"), [json!(1), json!(2)]);
        assert_eq!(values("x=range(stop=2,start=0)"), [json!(0), json!(1)]);
        assert_eq!(values("x=range(4, step=2)"), [json!(0), json!(2)]);
        // Floats when any argument is written as one, as Hydra's range does.
        assert_eq!(values("x=range(1.0,3)"), [json!(1.0), json!(2.0)]);
        // Exact decimal steps: 0.7, not 0.7000000000000001; the stop stays out.
        let r = values("x=range(0,1,0.1)");
        assert_eq!(r.len(), 10);
        assert_eq!(r[7], json!(0.7));
        assert_eq!(values("x=range(0.5,-1,-0.3)").last(), Some(&json!(-0.7)));
        assert_eq!(
            values("x=range(1e-15,4e-15,1e-15)"),
            [json!(1e-15), json!(2e-15), json!(3e-15)]
        );
        assert_eq!(values("x=range(1_000,1_002)"), [json!(1000), json!(1001)]);
    }

    #[test]
    fn values_are_typed_as_hydra_types_them() {
        assert_eq!(
            values("x=True,NULL,1_000,.5,5.,+3,inf,-inf,nan,1e-3,01"),
            [
                json!(true),
                json!(null),
                json!(1000),
                json!(0.5),
                json!(5.0),
                json!(3),
                json!("Infinity"),
                json!("-Infinity"),
                json!("NaN"),
                json!(0.001),
                json!("01"),
            ]
        );
        // Quoted strings keep their commas, brackets and quotes.
        assert_eq!(
            values(r#"x='a,b',"c, d",'it\'s','(x)',"[1]""#),
            [
                json!("a,b"),
                json!("c, d"),
                json!("it's"),
                json!("(x)"),
                json!("[1]")
            ]
        );
        assert_eq!(values(r"x='a\\'"), [json!(r"a\")]);
        assert_eq!(values(r"x='a\b'"), [json!(r"a\b")]);
        // JSON first: a JSON string keeps its escapes.
        assert_eq!(values(r#"x="a\nb",null"#), [json!("a\nb"), json!(null)]);
        // Lists and mappings, Hydra's and JSON's.
        assert_eq!(
            values("x=[1,2],[a, 'b,c'],{a:1, b: [x]},{\"k\": 1},[]"),
            [
                json!([1, 2]),
                json!(["a", "b,c"]),
                json!({"a": 1, "b": ["x"]}),
                json!({"k": 1}),
                json!([])
            ]
        );
        assert_eq!(values("x=choice([1,2],[3])"), [json!([1, 2]), json!([3])]);
        // Escaped commas, text with spaces, URLs and unicode.
        assert_eq!(values(r"x=a\,b,c d"), [json!("a,b"), json!("c d")]);
        assert_eq!(
            values("x={url: http://h:80/p}"),
            [json!({"url": "http://h:80/p"})]
        );
        assert_eq!(values("x=größe,東京"), [json!("größe"), json!("東京")]);
    }

    #[test]
    fn bad_specs_are_named() {
        for (spec, needle) in [
            ("lr=0.1,,0.3", "-p lr: empty value in '0.1,,0.3'"),
            ("lr=0.1,", "empty value"),
            ("lr=", "empty value"),
            ("lr", "not key=values"),
            ("=1,2", "empty key"),
            ("~lr=1", "only KEY=VALUES"),
            ("+++lr=1", "only KEY=VALUES"),
            ("x=range(1,2,0)", "the step is zero"),
            ("x=range(a,b)", "needs finite numbers"),
            ("x=range(0,inf)", "needs finite numbers"),
            ("x=range(5,1)", "is empty"),
            ("x=range(0,1e9)", "more than 10000 values"),
            ("x=range()", "needs a start or a stop"),
            ("x=range(1,2,3,4)", "at most 3 arguments"),
            ("x=range(step=1,2)", "positional argument after a named one"),
            ("x=range(1,start=2)", "'start' is given twice"),
            ("x=range(1,2,size=3)", "no argument 'size'"),
            ("x=range(1e-300,1e300)", "too many digits"),
            ("x=range(1e-2000000000,1e2000000000)", "too many digits"),
            ("x=choice()", "needs at least one value"),
            ("x=choice(a=1)", "no named argument"),
            (
                "x=choice(1,range(1,3))",
                "a function inside a function (range())",
            ),
            ("x=1,choice(2,3)", "choice() must be the whole value"),
            ("x=[range(1,3)]", "range() inside a value"),
            ("x=interval(0,1)", "interval() is a continuous range"),
            ("x=glob(*)", "glob() picks options"),
            (
                "x=sort(3,1,2)",
                "sort() is not supported; list the values in the order",
            ),
            ("x=shuffle(1,2)", "shuffle() is not supported"),
            ("x=tag(log,interval(0,1))", "a function inside a function"),
            ("x=tag(log,1,2)", "tag() labels a sweep"),
            ("x=int(1.5)", "casts are not supported"),
            ("x=str(1),str(2)", "str() must be the whole value"),
            (
                "x=foo(1)",
                "runs choice() and range() only; to mean the text, quote it: 'foo(1)'",
            ),
            ("x=choice(1,2)(3)", "not one call of choice()"),
            ("x=choice(1,2", "lacks a closing ')'"),
            ("x=[1,2", "lacks a closing ']'"),
            ("x=1,2]", "unbalanced ']'"),
            ("x={a:1)", "unbalanced ')'"),
            ("x=it's", "unterminated quote"),
            ("x='a'b", "text next to a quoted value"),
            ("x={a}", "is not key: value"),
            ("x={a:1,a:2}", "given twice"),
            ("x=${other}", "interpolations"),
        ] {
            let e = refused(spec);
            assert!(e.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn the_product_varies_the_last_axis_fastest() {
        let axes = [parse_axis("a=1,2").unwrap(), parse_axis("b=x,y,z").unwrap()];
        let c = combinations(&axes).unwrap();
        assert_eq!(c.len(), 6);
        assert_eq!(c[0], [("a".into(), json!(1)), ("b".into(), json!("x"))]);
        assert_eq!(c[1], [("a".into(), json!(1)), ("b".into(), json!("y"))]);
        assert_eq!(c[5], [("a".into(), json!(2)), ("b".into(), json!("z"))]);
        let twice = [parse_axis("a=1").unwrap(), parse_axis("a=2").unwrap()];
        assert!(combinations(&twice)
            .unwrap_err()
            .to_string()
            .contains("given twice"));
        let big = [
            parse_axis("a=range(200)").unwrap(),
            parse_axis("b=range(200)").unwrap(),
        ];
        assert!(combinations(&big)
            .unwrap_err()
            .to_string()
            .contains("more than"));
    }
}
