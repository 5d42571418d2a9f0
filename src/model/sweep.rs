//! Sweeps: `-p key=a,b,c` and `-p key=range(start,stop,step)` value lists (Hydra's
//! syntax) and their cartesian product, one combination per run.

use super::error::Error;
use serde_json::Value;

/// The most combinations one sweep may have, so a typo in a range cannot start a
/// million runs.
pub const MAX_COMBINATIONS: usize = 10_000;

/// One parameter of a sweep and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<Value>,
}

fn scalar(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.to_string()))
}

/// Parses `KEY=a,b,c` or `KEY=range(start,stop[,step])`. Values are JSON when they
/// parse as JSON (numbers, booleans), text otherwise.
pub fn parse_axis(spec: &str) -> Result<Axis, Error> {
    parse_axis_text(spec).map_err(Error::Sweep)
}

fn parse_axis_text(spec: &str) -> Result<Axis, String> {
    let Some((key, list)) = spec.split_once('=') else {
        return Err(format!("'{spec}' is not key=values"));
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!("'{spec}' has an empty key"));
    }
    let list = list.trim();
    let values = match list
        .strip_prefix("range(")
        .and_then(|r| r.strip_suffix(')'))
    {
        Some(args) => range(key, args)?,
        None => list
            .split(',')
            .map(|v| {
                let v = v.trim();
                if v.is_empty() {
                    Err(format!(
                        "-p {key}: empty value in '{list}' (values are separated by single commas)"
                    ))
                } else {
                    Ok(scalar(v))
                }
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if values.is_empty() {
        return Err(format!("-p {key}: range({list}) is empty"));
    }
    Ok(Axis {
        key: key.to_string(),
        values,
    })
}

/// Hydra's `range(start, stop[, step])`: stop excluded; integers stay integers.
fn range(key: &str, args: &str) -> Result<Vec<Value>, String> {
    let bad = || format!("-p {key}: range({args}) needs numbers: range(start, stop[, step])");
    let nums: Vec<f64> = args
        .split(',')
        .map(|a| a.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let (start, stop, step) = match nums.as_slice() {
        [stop] => (0.0, *stop, 1.0),
        [start, stop] => (*start, *stop, 1.0),
        [start, stop, step] => (*start, *stop, *step),
        _ => return Err(bad()),
    };
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !stop.is_finite() {
        return Err(format!(
            "-p {key}: range({args}) has a zero or non-finite step"
        ));
    }
    let ints = [start, stop, step].iter().all(|x| x.fract() == 0.0);
    let mut out = Vec::new();
    for i in 0.. {
        let v = start + step * i as f64;
        if (step > 0.0 && v >= stop - step.abs() * 1e-9)
            || (step < 0.0 && v <= stop + step.abs() * 1e-9)
        {
            break;
        }
        if out.len() >= MAX_COMBINATIONS {
            return Err(format!(
                "-p {key}: range({args}) has more than {MAX_COMBINATIONS} values"
            ));
        }
        // Decimal steps print as written (0.1, 0.2, 0.3), not 0.30000000000000004.
        let v = (v * 1e12).round() / 1e12;
        out.push(if ints {
            Value::from(v as i64)
        } else {
            Value::from(v)
        });
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

    #[test]
    fn lists_and_ranges() {
        let a = parse_axis("train.lr=0.1, 0.2,0.3").unwrap();
        assert_eq!(a.key, "train.lr");
        assert_eq!(a.values, [json!(0.1), json!(0.2), json!(0.3)]);
        assert_eq!(
            parse_axis("m=a,b").unwrap().values,
            [json!("a"), json!("b")]
        );
        assert_eq!(
            parse_axis("d=range(1,4)").unwrap().values,
            [json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            parse_axis("x=range(0,0.35,0.1)").unwrap().values,
            [json!(0.0), json!(0.1), json!(0.2), json!(0.3)]
        );
        assert_eq!(
            parse_axis("x=range(3,0,-1)").unwrap().values,
            [json!(3), json!(2), json!(1)]
        );
        assert_eq!(parse_axis("x=range(3)").unwrap().values.len(), 3);
    }

    #[test]
    fn bad_specs_are_named() {
        for (spec, needle) in [
            ("lr=0.1,,0.3", "-p lr: empty value in '0.1,,0.3'"),
            ("lr=0.1,", "empty value"),
            ("lr", "not key=values"),
            ("=1,2", "empty key"),
            ("x=range(1,2,0)", "zero or non-finite step"),
            ("x=range(a,b)", "needs numbers"),
            ("x=range(5,1)", "is empty"),
            ("x=range(0,1e9)", "more than 10000 values"),
        ] {
            let e = parse_axis(spec).unwrap_err().to_string();
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
