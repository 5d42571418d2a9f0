use super::*;
use serde_json::json;

fn err(text: &str, format: Format) -> DocError {
    parse(text, format).expect_err("refused")
}

fn set(text: &str, format: Format, values: &[(&str, Value)]) -> Result<String> {
    let v: Vec<(String, Value)> = values
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    set_values(text, format, &v)
}

fn flat(text: &str, format: Format) -> FlatParams {
    parse_flat(text, format).unwrap()
}

#[test]
fn duplicate_keys_name_both_lines_in_every_format() {
    let yaml = "baseline:\n  threshold: 1.5\n  window: 3\n\n  # again\n  threshold: 2\n";
    let e = err(yaml, Format::Yaml);
    assert_eq!(e.line, Some(6), "{e}");
    assert_eq!(
        e.message,
        "duplicate key 'baseline.threshold' (first at line 2)"
    );
    // At the top, in flow style, and inside a list item.
    let e = err("a: 1\nb: 2\na: 3\n", Format::Yaml);
    assert_eq!(
        (e.line, e.message.as_str()),
        (Some(3), "duplicate key 'a' (first at line 1)")
    );
    let e = err("x: {p: 1,\n  p: 2}\n", Format::Yaml);
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("'x.p' (first at line 1)"), "{e}");
    let e = err("layers:\n  - n: 1\n    n: 2\n", Format::Yaml);
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("'layers[0].n'"), "{e}");
    // A quoted key is the same key.
    let e = err("lr: 1\n'lr': 2\n", Format::Yaml);
    assert_eq!(e.line, Some(2), "{e}");

    let json = "{\n  \"a\": {\n    \"b\": 1,\n    \"b\": 2\n  }\n}\n";
    let e = err(json, Format::Json);
    assert_eq!(e.line, Some(4));
    assert_eq!(e.message, "duplicate key 'a.b' (first at line 3)");
    // Escapes decode before comparing.
    let e = err("{\"a\": 1, \"\\u0061\": 2}", Format::Json);
    assert!(e.message.contains("duplicate key 'a'"), "{e}");

    let toml = "[train]\nlr = 0.1\ndepth = 3\nlr = 0.2\n";
    let e = err(toml, Format::Toml);
    assert_eq!(e.line, Some(4), "{e}");
    assert_eq!(e.message, "duplicate key 'train.lr' (first at line 2)");
    let e = err("[a]\nx = 1\n[b]\n[a]\ny = 2\n", Format::Toml);
    assert_eq!(e.line, Some(4), "{e}");
    assert_eq!(e.message, "duplicate key 'a' (first at line 1)");
    let e = err("a.b = 1\n\"a\".'b' = 2\n", Format::Toml);
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.message.contains("'a.b' (first at line 1)"), "{e}");
}

#[test]
fn a_dotted_key_beside_its_nested_form_is_refused() {
    let yaml = "a:\n  b: 2\n  c: 3\na.b: 1\n";
    let e = err(yaml, Format::Yaml);
    assert_eq!(e.line, Some(4), "{e}");
    assert!(e.message.contains("'a.b' (written with dots)"), "{e}");
    assert!(e.message.contains("at line 2"), "{e}");
    // The other order, deeper, and in JSON and TOML.
    let e = err("x:\n  a.b: 1\n  a:\n    b: 2\n", Format::Yaml);
    assert_eq!(e.line, Some(4), "{e}");
    assert!(
        e.message.contains("'x.a.b' (nested)") && e.message.contains("line 2"),
        "{e}"
    );
    let e = err("{\"a.b\": 1,\n \"a\": {\"b\": 2}}", Format::Json);
    assert_eq!(e.line, Some(2), "{e}");
    let e = err("\"a.b\" = 1\n[a]\nb = 2\n", Format::Toml);
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("at line 1"), "{e}");
    // A value that would also be a section.
    let e = err("a.b: 1\na:\n  b:\n    c: 2\n", Format::Yaml);
    assert!(e.message.contains("'a.b.c' would sit below 'a.b'"), "{e}");
    assert_eq!(e.line, Some(4), "{e}");
    // Dotted keys alone, and distinct keys, are fine.
    assert_eq!(flat("a.b: 1\na:\n  c: 2\n", Format::Yaml).len(), 2);
    assert_eq!(
        flat("\"lr.decay\" = 0.5\n", Format::Toml)["lr.decay"],
        json!(0.5)
    );
}

#[test]
fn non_finite_numbers_are_the_strings_metrics_use() {
    let f = flat(
        "a: .nan\nb: .inf\nc: -.inf\nd: .NaN\ne: +.inf\nf: [.nan]\n",
        Format::Yaml,
    );
    assert_eq!(f["a"], json!("NaN"));
    assert_eq!(f["b"], json!("Infinity"));
    assert_eq!(f["c"], json!("-Infinity"));
    assert_eq!(f["d"], json!("NaN"));
    assert_eq!(f["e"], json!("Infinity"));
    assert_eq!(f["f"], json!(["NaN"]));
    let f = flat("a = nan\nb = +inf\nc = -inf\n", Format::Toml);
    assert_eq!(
        (&f["a"], &f["b"], &f["c"]),
        (&json!("NaN"), &json!("Infinity"), &json!("-Infinity"))
    );
    let f = flat(
        "{\"a\": NaN, \"b\": Infinity, \"c\": -Infinity, \"d\": \"NaN\", \"e\": [NaN]}",
        Format::Json,
    );
    assert_eq!(f["a"], json!("NaN"));
    assert_eq!(f["c"], json!("-Infinity"));
    assert_eq!(f["e"], json!(["NaN"]));
    // Not a token: inside a string or a longer word.
    assert!(parse("{\"a\": NaNx}", Format::Json).is_err());
}

#[test]
fn other_errors_keep_the_parsers_line() {
    let e = err("a: 1\nb: [1, 2\nc: 3\n", Format::Yaml);
    assert!(e.line.is_some_and(|l| l >= 2), "{e}");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(
        !e.message.contains(" at line "),
        "the line is given apart: {e}"
    );
    let e = err("{\n  \"a\": 1,\n  \"b\" 2\n}", Format::Json);
    assert_eq!(e.line, Some(3), "{e}");
    let e = err("a = 1\nb = [1,\n", Format::Toml);
    assert!(e.line.is_some(), "{e}");
    let e = err("a: !custom 1\n", Format::Yaml);
    assert!(e.message.contains("tag '!custom'"), "{e}");
    assert_eq!(e.line, Some(1));
    // Several documents, as PyYAML's safe_load refuses them.
    let e = err("a: 1\n---\nb: 2\n", Format::Yaml);
    assert!(e.message.contains("more than one document"), "{e}");
    // A list or a scalar at the top.
    assert!(err("- 1\n- 2\n", Format::Yaml)
        .message
        .contains("mapping of keys at the top"));
    assert!(err("[1]", Format::Json)
        .message
        .contains("mapping of keys at the top"));
    // Deep nesting is refused, not a crash.
    let deep = format!("{{\"a\": {}1{}}}", "[".repeat(500), "]".repeat(500));
    assert!(err(&deep, Format::Json)
        .message
        .contains("nested more than"));
}

#[test]
fn documents_read_as_scripts_read_them() {
    // BOM, CRLF, an empty document, a merge key (explicit keys win), unicode.
    let f = flat("\u{feff}a: 1\r\nb:\r\n  c: x\r\n", Format::Yaml);
    assert_eq!((f["a"].clone(), f["b.c"].clone()), (json!(1), json!("x")));
    assert!(flat("", Format::Yaml).is_empty());
    assert!(flat("# only a comment\n", Format::Yaml).is_empty());
    assert!(flat("", Format::Json).is_empty());
    let f = flat(
        "base: &b\n  lr: 0.1\n  depth: 3\ntrain:\n  <<: *b\n  depth: 5\n",
        Format::Yaml,
    );
    assert_eq!(f["train.lr"], json!(0.1));
    assert_eq!(f["train.depth"], json!(5));
    assert!(!f.contains_key("train.<<"));
    let f = flat("größe: 1\n\"名前\": 東京\n", Format::Yaml);
    assert_eq!(f["名前"], json!("東京"));
    assert_eq!(f["größe"], json!(1));
    // TOML datetimes are their text, not an internal wrapper.
    let f = flat("when = 1979-05-27T07:32:00Z\n", Format::Toml);
    assert_eq!(f["when"], json!("1979-05-27T07:32:00Z"));
    // Numbers read back exactly.
    let f = flat(
        "{\"a\": 0.30000000000000004, \"b\": 12345678901234567890}",
        Format::Json,
    );
    assert_eq!(f["a"], json!(0.30000000000000004));
    assert_eq!(f["b"], json!(12345678901234567890u64));
}

const YAML: &str = "\
# training params
train:
  lr: 0.1   # learning rate
  depth: 3
  name: 'resnet'
  notes: |
    line one
    line two
  layers:
    - 1
    - 2
eval:
  threshold: 1.5
";

#[test]
fn yaml_values_are_edited_in_place() {
    let out = set(
        YAML,
        Format::Yaml,
        &[
            ("train.lr", json!(0.001)),
            ("train.name", json!("it's a \"net\"")),
            ("train.notes", json!("short")),
            ("train.layers", json!([4, "x y"])),
            ("eval.threshold", json!(1e-5)),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "\
# training params
train:
  lr: 0.001   # learning rate
  depth: 3
  name: \"it's a \\\"net\\\"\"
  notes: short
  layers: [4, \"x y\"]
eval:
  threshold: 1.0e-5
"
    );
    // Everything else is byte-identical; the values read back as set.
    let f = flat(&out, Format::Yaml);
    assert_eq!(f["eval.threshold"], json!(1e-5));
    assert_eq!(f["train.layers"], json!([4, "x y"]));
    assert_eq!(f["train.name"], json!("it's a \"net\""));
}

#[test]
fn yaml_strings_that_look_like_other_things_stay_strings() {
    for s in [
        "true",
        "yes",
        "No",
        "null",
        "~",
        "1",
        "1e3",
        "0x1F",
        "",
        " lead",
        "a: b",
        "#x",
        "- x",
        "[1]",
        ".nan",
        "2024-01-01",
        "a\nb",
        "tab\there",
        "é",
        "\u{7f}",
        "\u{2028}",
        "quote'",
        "back\\slash",
    ] {
        let out = set("k: v\n", Format::Yaml, &[("k", json!(s))]).unwrap();
        assert_eq!(
            flat(&out, Format::Yaml)["k"],
            json!(s),
            "{s:?} wrote {out:?}"
        );
    }
    for v in [
        json!(null),
        json!(true),
        json!(-7),
        json!(1e20),
        json!(-0.5),
        json!(1.0),
        json!(12345678901234567890u64),
        json!([{"a": [1, {"b": null}]}]),
        json!([]),
        json!(5e-324),
        json!(1e300),
    ] {
        let out = set("k: v\n", Format::Yaml, &[("k", v.clone())]).unwrap();
        assert_eq!(flat(&out, Format::Yaml)["k"], v, "{v} wrote {out:?}");
    }
    // Floats keep a decimal point and a signed exponent (PyYAML reads 1e-05 as text).
    let out = set("k: 1\n", Format::Yaml, &[("k", json!(1e20))]).unwrap();
    assert_eq!(out, "k: 1.0e+20\n");
    assert_eq!(
        set("k: 1\n", Format::Yaml, &[("k", json!(0.5))]).unwrap(),
        "k: 0.5\n"
    );
    assert_eq!(
        set("k: 1\n", Format::Yaml, &[("k", json!(3.0))]).unwrap(),
        "k: 3.0\n"
    );
    // A record's "NaN" is the number, unless the key holds text now.
    assert_eq!(
        set("k: 1.0\n", Format::Yaml, &[("k", json!("NaN"))]).unwrap(),
        "k: .nan\n"
    );
    assert_eq!(
        set("k: .inf\n", Format::Yaml, &[("k", json!("-Infinity"))]).unwrap(),
        "k: -.inf\n"
    );
    assert_eq!(
        set("k: text\n", Format::Yaml, &[("k", json!("NaN"))]).unwrap(),
        "k: \"NaN\"\n"
    );
}

#[test]
fn yaml_hostile_layouts() {
    // CRLF and a BOM stay; a comment after a quoted value stays.
    let out = set(
        "\u{feff}a: 1\r\nb: \"x\" # c\r\n",
        Format::Yaml,
        &[("b", json!("z")), ("a", json!(2))],
    )
    .unwrap();
    assert_eq!(out, "\u{feff}a: 2\r\nb: z # c\r\n");
    // Keys with dots, quotes and unicode.
    let out = set(
        "\"lr.decay\": 0.5\n'it''s': 1\ngröße: 2\n",
        Format::Yaml,
        &[
            ("lr.decay", json!(0.1)),
            ("it's", json!(3)),
            ("größe", json!(4)),
        ],
    )
    .unwrap();
    assert_eq!(out, "\"lr.decay\": 0.1\n'it''s': 3\ngröße: 4\n");
    // A block below a key, with the sequence at the key's indentation; a null.
    let out = set(
        "a:\n- 1\n- 2\nb:\nc: 3\n",
        Format::Yaml,
        &[("a", json!(5)), ("b", json!("x"))],
    )
    .unwrap();
    assert_eq!(out, "a: 5\nb: x\nc: 3\n");
    // A plain scalar continued on the next line; a folded block scalar.
    let out = set(
        "a: one\n  two\nb: >\n  folded\n  text\nc: 1\n",
        Format::Yaml,
        &[("a", json!(1)), ("b", json!(2))],
    )
    .unwrap();
    assert_eq!(out, "a: 1\nb: 2\nc: 1\n");
    // A multi-line quoted value.
    let out = set(
        "a: \"one\n  two\" # c\nb: 1\n",
        Format::Yaml,
        &[("a", json!("x"))],
    )
    .unwrap();
    assert_eq!(out, "a: x # c\nb: 1\n");
    // The document start marker and a last line without a newline.
    let out = set("---\na: 1", Format::Yaml, &[("a", json!(2))]).unwrap();
    assert_eq!(out, "---\na: 2");
    // A comment on the key line of a block stays.
    let out = set(
        "a:   # sizes\n  - 1\nb: 2\n",
        Format::Yaml,
        &[("a", json!([3]))],
    )
    .unwrap();
    assert_eq!(out, "a: [3]   # sizes\nb: 2\n");
}

#[test]
fn yaml_new_keys_go_after_their_mapping() {
    let out = set(
        YAML,
        Format::Yaml,
        &[("+train.extra", json!(2)), ("+eval.deep.er", json!("x"))],
    )
    .unwrap();
    assert!(out.contains("    - 2\n  extra: 2\neval:\n"), "{out}");
    assert!(
        out.ends_with("  threshold: 1.5\n  deep:\n    er: x\n"),
        "{out}"
    );
    let out = set("a: 1", Format::Yaml, &[("+b", json!(2))]).unwrap();
    assert_eq!(out, "a: 1\nb: 2\n");
    let out = set(
        "a:\r\n    x: 1\r\n",
        Format::Yaml,
        &[("+a.z", json!(2)), ("+a.y", json!(3))],
    )
    .unwrap();
    // `y` is a boolean in YAML 1.1: quoted.
    assert_eq!(out, "a:\r\n    x: 1\r\n    z: 2\r\n    \"y\": 3\r\n");
    let out = set("", Format::Yaml, &[("+n.m", json!(1))]).unwrap();
    assert_eq!(flat(&out, Format::Yaml)["n.m"], json!(1));
    // A mapping override sets its keys and leaves the others.
    let out = set(YAML, Format::Yaml, &[("eval", json!({"threshold": 2}))]).unwrap();
    assert!(out.ends_with("  threshold: 2\n"), "{out}");
}

#[test]
fn yaml_that_cannot_be_edited_in_place_says_so() {
    for (text, key) in [
        ("train: {lr: 0.1}\n", "train.lr"),
        ("a: &x 1\nb: *x\n", "a"),
        ("base: &b\n  lr: 1\ntrain:\n  <<: *b\n", "train.lr"),
        ("{a: 1}\n", "a"),
        ("a: !!float 1\n", "a"),
        ("? a\n: 1\n", "a"),
    ] {
        let e = set(text, Format::Yaml, &[(key, json!(2))]).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InPlace, "{text:?}: {e}");
        // render writes the document anew, with the same values.
        let out = render(text, Format::Yaml, &[(key.to_string(), json!(2))]).unwrap();
        let out = String::from_utf8(out).unwrap();
        let mut want = flat(text, Format::Yaml);
        want.insert(key.to_string(), json!(2));
        assert_eq!(flat(&out, Format::Yaml), want, "{text:?} rendered {out:?}");
    }
    // An anchor shared with another key: editing it would change both.
    let e = set("a: &x [1]\nb: *x\n", Format::Yaml, &[("b", json!(2))]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InPlace, "{e}");
}

#[test]
fn overrides_follow_the_params_rules() {
    let e = set(YAML, Format::Yaml, &[("train.lrr", json!(1))]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Key);
    assert!(e.message.contains("train.lrr"), "{e}");
    let e = set(YAML, Format::Yaml, &[("+train.lr", json!(1))]).unwrap_err();
    assert!(e.message.contains("already has 'train.lr'"), "{e}");
    let e = set(YAML, Format::Yaml, &[("train", json!(1))]).unwrap_err();
    assert!(e.message.contains("is a section"), "{e}");
    let e = set(YAML, Format::Yaml, &[("+train.lr.x", json!(1))]).unwrap_err();
    assert!(e.message.contains("holds a value"), "{e}");
    let e = set(YAML, Format::Yaml, &[("eval", json!({"treshold": 1}))]).unwrap_err();
    assert!(e.message.contains("eval.treshold"), "{e}");
    // A refused document is refused here too, and nothing is edited.
    let e = set("a: 1\na: 2\n", Format::Yaml, &[("a", json!(3))]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
    // No overrides: the text itself, whatever its layout.
    assert_eq!(
        render("train: {lr: 1}  # x\n", Format::Yaml, &[]).unwrap(),
        b"train: {lr: 1}  # x\n"
    );
}

#[test]
fn json_is_edited_in_place() {
    let text = "{\n  \"train\": {\n    \"lr\": 0.1,\n    \"depth\": 3\n  },\n  \"x\": NaN\n}\n";
    let out = set(
        text,
        Format::Json,
        &[
            ("train.lr", json!(0.5)),
            ("+train.extra", json!([1, "a"])),
            ("x", json!(2)),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "{\n  \"train\": {\n    \"lr\": 0.5,\n    \"depth\": 3,\n    \"extra\": [1, \"a\"]\n  },\n  \"x\": 2\n}\n"
    );
    let out = set(
        "{\"a\": {}, \"b\": 1}",
        Format::Json,
        &[("+a.c.d", json!("Infinity")), ("+z", json!(null))],
    )
    .unwrap();
    assert_eq!(
        out,
        "{\"a\": {\"c\": {\"d\": Infinity}}, \"b\": 1, \"z\": null}"
    );
    let out = set(
        "\u{feff}{\r\n  \"a\": 1\r\n}\r\n",
        Format::Json,
        &[("+b", json!("é\n"))],
    )
    .unwrap();
    assert_eq!(
        out,
        "\u{feff}{\r\n  \"a\": 1,\r\n  \"b\": \"é\\n\"\r\n}\r\n"
    );
    let out = set("{\"a.b\": 1}", Format::Json, &[("a.b", json!(2))]).unwrap();
    assert_eq!(out, "{\"a.b\": 2}");
}

#[test]
fn toml_is_edited_in_place() {
    let text = "# params\nseed = 1 # fixed\n\n[train]\nlr = 0.1  # rate\nopt = { name = \"adam\", beta = 0.9 }\n\n[eval]\nk = 'x'\n";
    let out = set(
        text,
        Format::Toml,
        &[
            ("train.lr", json!(0.01)),
            ("train.opt.beta", json!(0.95)),
            ("+train.extra", json!(true)),
            ("eval.k", json!("Infinity")),
            ("seed", json!(2)),
        ],
    )
    .unwrap();
    assert!(
        out.starts_with("# params\nseed = 2 # fixed\n\n[train]\nlr = 0.01  # rate\n"),
        "{out}"
    );
    assert!(out.contains("beta = 0.95"), "{out}");
    let f = flat(&out, Format::Toml);
    assert_eq!(f["train.extra"], json!(true));
    // k holds text, so "Infinity" stays text.
    assert_eq!(f["eval.k"], json!("Infinity"));
    assert!(out.contains("k = \"Infinity\""), "{out}");
    let out = set("x = 1.0\n", Format::Toml, &[("x", json!("NaN"))]).unwrap();
    assert_eq!(out, "x = nan\n");
    // TOML has no null.
    let e = set("x = 1\n", Format::Toml, &[("x", json!(null))]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Value);
    assert!(render("x = 1\n", Format::Toml, &[("x".into(), json!(null))]).is_err());
}

#[test]
fn render_without_an_edit_in_place_writes_every_format_anew() {
    let out = render(
        "base: &b {lr: .nan}\nuse: *b\n",
        Format::Yaml,
        &[("base.lr".into(), json!(1))],
    )
    .unwrap();
    let out = String::from_utf8(out).unwrap();
    let f = flat(&out, Format::Yaml);
    assert_eq!(f["base.lr"], json!(1));
    // The untouched copy keeps its non-finite number.
    assert_eq!(f["use.lr"], json!("NaN"));
    assert!(out.contains(".nan"), "{out}");
    assert_eq!(
        json::write_document(
            &parse_node("{\"a\": {\"b\": NaN}, \"c\": []}", Format::Json).unwrap()
        ),
        "{\n  \"a\": {\n    \"b\": NaN\n  },\n  \"c\": []\n}\n"
    );
    let t = toml_doc::write_document(
        &parse_node("[a]\nb = inf\nwhen = 1979-05-27\n", Format::Toml).unwrap(),
    )
    .unwrap();
    assert_eq!(flat(&t, Format::Toml)["a.b"], json!("Infinity"));
    assert_eq!(flat(&t, Format::Toml)["a.when"], json!("1979-05-27"));
}

#[test]
fn more_hostile_documents() {
    // Several YAML documents: refused for editing and rendering alike.
    let e = set("a: 1\n---\na: 2\n", Format::Yaml, &[("a", json!(3))]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert!(render("a: 1\n---\na: 2\n", Format::Yaml, &[("a".into(), json!(3))]).is_err());
    // A comment with quotes after a value, a whole document indented, tabs.
    let out = set("a: 1 # it's \"x\"\n", Format::Yaml, &[("a", json!(2))]).unwrap();
    assert_eq!(out, "a: 2 # it's \"x\"\n");
    let out = set(
        "  a:\n    b: 1\n  c: 2\n",
        Format::Yaml,
        &[("a.b", json!(5)), ("+a.d", json!(6))],
    )
    .unwrap();
    assert_eq!(out, "  a:\n    b: 5\n    d: 6\n  c: 2\n");
    let out = set("a:\t1\n", Format::Yaml, &[("a", json!(2))]).unwrap();
    assert_eq!(out, "a:\t2\n");
    // A block scalar whose last line looks like a comment, and one kept with `|-`.
    let out = set(
        "n: |-\n  text\n  # part of it\nm: 1\n",
        Format::Yaml,
        &[("n", json!("x"))],
    )
    .unwrap();
    assert_eq!(flat(&out, Format::Yaml)["n"], json!("x"));
    assert_eq!(flat(&out, Format::Yaml)["m"], json!(1));
    // JSON keys with escapes, set and added.
    let out = set(
        "{\"a\\\"b\": 1, \"\\u00e9\": 2}",
        Format::Json,
        &[("a\"b", json!(3)), ("é", json!(4)), ("+\"q\"", json!(5))],
    )
    .unwrap();
    assert_eq!(out, "{\"a\\\"b\": 3, \"\\u00e9\": 4, \"\\\"q\\\"\": 5}");
    // TOML: CRLF, dotted keys, an array of tables replaced as a whole, a literal string.
    let out = set(
        "a.b = 1\r\nc = 'x'\r\n",
        Format::Toml,
        &[("a.b", json!(2)), ("+a.d", json!(3)), ("c", json!("it's"))],
    )
    .unwrap();
    let f = flat(&out, Format::Toml);
    assert_eq!(
        (f["a.b"].clone(), f["a.d"].clone(), f["c"].clone()),
        (json!(2), json!(3), json!("it's"))
    );
    assert!(
        out.contains("\r\n") && !out.replace("\r\n", "").contains('\n'),
        "{out:?}"
    );
    let out = set(
        "[[runs]]\nk = 1\n[[runs]]\nk = 2\n",
        Format::Toml,
        &[("runs", json!([{"k": 9}]))],
    )
    .unwrap();
    assert_eq!(flat(&out, Format::Toml)["runs"], json!([{"k": 9}]));
    // JSON nested non-finite values read back from a full rewrite.
    let out = render(
        "{\"a\": [NaN, {\"b\": -Infinity}]}",
        Format::Json,
        &[("a".into(), json!(["Infinity"]))],
    )
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), "{\"a\": [Infinity]}");
}
