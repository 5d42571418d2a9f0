//! Params files read strictly (duplicate keys, dotted keys beside nested ones,
//! non-finite values), overrides handed to a real Hydra app through `{overrides}`, and
//! Hydra's sweep syntax checked against Hydra's own parser.

use crate::common::{venv_tool, Repo};
use serde_json::{json, Value};

/// A stage reading `file`; its command records nothing but succeeds.
fn stage_with(file: &str, content: &str) -> Repo {
    Repo::with(
        &format!("[stages.s]\ncmd = \"true\"\nparams = {{ file = \"{file}\" }}\n"),
        &[(file, content)],
    )
}

#[test]
fn duplicate_keys_are_refused_naming_both_lines() {
    for (file, content, message) in [
        (
            "params.yaml",
            "# params\nbaseline:\n  threshold: 1.5\n  window: 3\nother: 1\n\nbaseline:\n  threshold: 2\n",
            "error: params file 'params.yaml' line 7: duplicate key 'baseline' (first at line 2)",
        ),
        (
            "params.yaml",
            "baseline:\n  threshold: 1.5\n  window: 3\n  # tuned\n  threshold: 1.2\n",
            "error: params file 'params.yaml' line 5: duplicate key 'baseline.threshold' (first at line 2)",
        ),
        (
            "params.json",
            "{\"baseline\": {\n  \"threshold\": 1.5,\n  \"threshold\": 2}}\n",
            "error: params file 'params.json' line 3: duplicate key 'baseline.threshold' (first at line 2)",
        ),
        (
            "params.toml",
            "[baseline]\nthreshold = 1.5\nwindow = 3\nthreshold = 2\n",
            "error: params file 'params.toml' line 4: duplicate key 'baseline.threshold' (first at line 2)",
        ),
    ] {
        let repo = stage_with(file, content);
        repo.wb(&["run", "s"]).fails(2, message);
        repo.assert_nothing_recorded();
        // Every command that reads the params file says the same.
        repo.wb(&["sweep", "s", "-p", "other=1,2"])
            .fails(2, message.strip_prefix("error: ").unwrap());
        repo.assert_nothing_recorded();
    }
}

#[test]
fn a_dotted_key_beside_its_nested_form_is_refused() {
    for (file, content, line, first) in [
        ("params.yaml", "a:\n  b: 2\n  c: 3\na.b: 1\n", 4, 2),
        ("params.yaml", "x:\n  \"a.b\": 1\n  a:\n    b: 2\n", 4, 2),
        ("params.json", "{\"a.b\": 1,\n \"a\": {\"b\": 2}}\n", 2, 1),
        ("params.toml", "\"a.b\" = 1\n\n[a]\nb = 2\n", 4, 1),
    ] {
        let repo = stage_with(file, content);
        let r = repo
            .wb(&["run", "s"])
            .fails(2, &format!("params file '{file}' line {line}: key '"));
        assert!(
            r.stderr
                .contains(&format!("same dotted key as the one at line {first}")),
            "{}",
            r.stderr
        );
        repo.assert_nothing_recorded();
    }
    let repo = stage_with("params.yaml", "a.b: 1\na:\n  b:\n    c: 2\n");
    repo.wb(&["run", "s"]).fails(
        2,
        "line 4: key 'a.b.c' would sit below 'a.b', which holds a value at line 1",
    );
    repo.assert_nothing_recorded();
}

#[test]
fn non_finite_params_are_recorded_as_metrics_are() {
    let repo = Repo::with(
        "[stages.s]\ncmd = \"mkdir -p $WORKBENCH_RUN_DIR && printf '{\\\"loss\\\": NaN, \\\"gain\\\": -Infinity}' > $WORKBENCH_RUN_DIR/m.json\"\nmetrics = \"runs/{run_id}/m.json\"\nparams = { file = \"params.yaml\" }\n",
        &[("params.yaml", "tol: .nan\nmax: .inf\nmin: -.inf\nplain: 1.5\nlist: [.nan, 1]\n")],
    );
    let id = crate::run_json(&repo, &["s"]);
    let m = repo.manifest("s", &id);
    assert_eq!(m["params_used"]["tol"], "NaN", "{m}");
    assert_eq!(m["params_used"]["max"], "Infinity");
    assert_eq!(m["params_used"]["min"], "-Infinity");
    assert_eq!(m["params_used"]["list"], json!(["NaN", 1]));
    assert_eq!(m["metrics"]["loss"], "NaN", "metrics use the same strings");
    assert_eq!(m["metrics"]["gain"], "-Infinity");
    // compare and show present them like the metrics.
    let t = repo.wb(&["--json", "compare"]).ok().json();
    let row = &t["rows"][0];
    assert_eq!(row["params.tol"], row["metrics.loss"], "{t}");
    assert_eq!(row["params.min"], row["metrics.gain"], "{t}");
    assert_eq!(row["params.tol"], "NaN", "{t}");
    assert_eq!(
        row["params.max"], "inf",
        "tables write non-finite numbers one way: {t}"
    );
    let show = repo.wb(&["show", &id]).ok().stdout;
    let line = |key: &str| {
        show.lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("no {key} in:\n{show}"))
            .split_whitespace()
            .last()
            .unwrap()
            .to_string()
    };
    assert_eq!(line("tol"), line("loss"), "{show}");
    assert_eq!(line("min"), line("gain"), "{show}");
    // An override with the same strings is the same value: the run is not stale
    // for params, and an edit to a finite value is.
    let j = repo.wb(&["--json", "status"]).ok().json();
    assert!(!j.to_string().contains("param_changed"), "{j}");
    repo.write(
        "params.yaml",
        "tol: 0.5\nmax: .inf\nmin: -.inf\nplain: 1.5\nlist: [.nan, 1]\n",
    );
    let j = repo.wb(&["--json", "status"]).ok().json();
    let s = j.to_string();
    assert!(
        s.contains("param_changed") && s.contains("\"tol\""),
        "the changed param is named: {j}"
    );
    assert!(
        !s.contains("\"max\""),
        "an unchanged .inf is unchanged: {j}"
    );
}

#[test]
fn a_mapping_override_sets_its_keys_and_refuses_typos_in_it() {
    let repo = crate::train_repo();
    let id = crate::run_json(&repo, &["train", "-p", r#"train={"lr": 0.5}"#]);
    let m = repo.manifest("train", &id);
    assert_eq!(m["params_used"]["train.lr"], 0.5, "{m}");
    assert_eq!(
        m["params_used"]["train.depth"], 3,
        "the other key stays: {m}"
    );
    repo.wb(&["run", "train", "-p", r#"train={"lrr": 0.5}"#])
        .fails(2, "-p train.lrr: params file 'params.yaml' has no such key");
    repo.wb(&["run", "train", "-p", "+train.lr.x=1"])
        .fails(2, "'train.lr' holds a value in the params file");
    repo.wb(&["run", "train", "-p", "~train.lr"])
        .fails(2, "removing a param (~KEY) is not supported");
    assert_eq!(
        repo.run_refs().len(),
        1,
        "the refused runs recorded nothing"
    );
}

// ---------------------------------------------------------------------------------
// Hydra

const APP: &str = r#"import json, os, sys
import hydra
from omegaconf import DictConfig, OmegaConf

@hydra.main(version_base=None, config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    os.makedirs(os.environ["WORKBENCH_RUN_DIR"], exist_ok=True)
    with open(os.path.join(os.environ["WORKBENCH_RUN_DIR"], "cfg.json"), "w") as f:
        json.dump(OmegaConf.to_container(cfg, resolve=True), f)
    with open(os.path.join(os.environ["WORKBENCH_RUN_DIR"], "argv.json"), "w") as f:
        json.dump(sys.argv[1:], f)

if __name__ == "__main__":
    main()
"#;

const CONFIG: &str = "\
model:
  lr: 0.1
  depth: 3
  name: resnet
  layers: [1, 2]
  opts:
    beta: 0.9
    tag: x
text: plain
flag: false
ratio: 1.5
seed: 1
";

fn hydra_repo() -> Repo {
    let python = venv_tool("python");
    let cmd = format!(
        "'{}' app.py hydra.run.dir=$WORKBENCH_RUN_DIR/hydra hydra.output_subdir=null hydra/job_logging=disabled hydra/hydra_logging=disabled {{overrides}}",
        python.display()
    );
    Repo::with(
        &format!(
            "[stages.h]\ncmd = {cmd:?}\nouts = [\"runs/{{run_id}}/cfg.json\"]\nparams = {{ file = \"conf/config.yaml\" }}\n"
        ),
        &[("app.py", APP), ("conf/config.yaml", CONFIG)],
    )
}

/// The config the Hydra app saw, flattened as records flatten params.
fn hydra_cfg(repo: &Repo, m: &Value) -> serde_json::Map<String, Value> {
    let text = repo.read(&format!("{}/cfg.json", m["run_dir"].as_str().unwrap()));
    let text = text
        .replace("NaN", "\"NaN\"")
        .replace("-Infinity", "\"-Infinity\"")
        .replace(" Infinity", " \"Infinity\"");
    let v: Value = serde_json::from_str(&text).unwrap();
    let mut out = serde_json::Map::new();
    fn walk(v: &Value, prefix: &str, out: &mut serde_json::Map<String, Value>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, c) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(c, &key, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    walk(&v, "", &mut out);
    out
}

#[test]
fn a_hydra_app_reads_back_exactly_the_recorded_overrides() {
    let repo = hydra_repo();
    let overrides = [
        "model.name=has space, comma=equals [bracket] {brace} (paren)",
        "model.lr=1e-5",
        "ratio=1e20",
        "model.depth=7",
        "text=\"null\"",
        "+nothing=null",
        "flag=\"true\"",
        "model.layers=[1, \"two, 2\", [3.5], null]",
        "+model.new=it's \"quoted\" \\ back\\slash end\\",
        "+extra.deep.key=${model.lr} and \\${x}",
        r#"model.opts={"beta": 0.99, "tag": "ü 東京"}"#,
        "+nan=NaN",
        "+neg=-Infinity",
        "+empty=\"\"",
        "+zero=-0.0",
        "+big=12345678901234567890",
        "++seed=2",
        "+lines=one\ntwo\tthree",
        "+dash=-x --y",
        "+quote='",
        "++fresh.k=[]",
    ];
    let mut args = vec!["--json", "run", "h"];
    for o in &overrides {
        args.extend(["-p", o]);
    }
    let r = repo.wb(&args).ok().json();
    let id = r["run_id"].as_str().unwrap();
    let m = repo.manifest("h", id);
    let cfg = hydra_cfg(&repo, &m);
    let used = m["params_used"].as_object().unwrap();
    // Every recorded param, the overridden ones and the others, is what Hydra saw.
    assert_eq!(&cfg, used, "\nHydra saw {cfg:#?}\nrecorded {used:#?}");
    assert_eq!(
        used["model.name"],
        "has space, comma=equals [bracket] {brace} (paren)"
    );
    assert_eq!(used["text"], "null");
    assert_eq!(used["flag"], "true");
    assert_eq!(used["model.lr"], json!(1e-5));
    assert_eq!(used["model.new"], "it's \"quoted\" \\ back\\slash end\\");
    assert_eq!(used["extra.deep.key"], "${model.lr} and \\${x}");
    assert_eq!(used["model.opts.tag"], "ü 東京");
    assert_eq!(used["model.opts.beta"], 0.99);
    assert_eq!(used["ratio"], json!(1e20));
    assert_eq!(used["seed"], 2);
    assert_eq!(used["fresh.k"], json!([]));
    assert_eq!(used["lines"], "one\ntwo\tthree");
    assert_eq!(used["quote"], "'");
    // The record keeps the configured command: staleness compares it with the config.
    assert!(
        m["command"].as_str().unwrap().ends_with("{overrides}"),
        "{m}"
    );
    let argv: Vec<String> =
        serde_json::from_str(&repo.read(&format!("{}/argv.json", m["run_dir"].as_str().unwrap())))
            .unwrap();
    assert!(
        argv.contains(&"+model.new='it\\'s \"quoted\" \\ back\\slash end\\\\'".to_string()),
        "{argv:?}"
    );

    // Without overrides the placeholder is nothing, and Hydra sees the file.
    let id = crate::run_json(&repo, &["h"]);
    let m = repo.manifest("h", &id);
    assert_eq!(&hydra_cfg(&repo, &m), m["params_used"].as_object().unwrap());

    // A key Hydra cannot name on its command line is refused before anything runs.
    repo.write(
        "conf/config.yaml",
        &format!("{CONFIG}\"learning rate\": 1\n"),
    );
    repo.git(&["commit", "-qam", "a key with a space"]);
    let before = repo.run_refs().len();
    repo.wb(&["run", "h", "-p", "learning rate=2"])
        .fails(2, "-p learning rate: Hydra cannot name this key on its command line (each dotted part is letters, digits");
    assert_eq!(repo.run_refs().len(), before);
    // `run -- ARGS` splices the arguments where the word {overrides} is.
    let python = venv_tool("python");
    let r = repo
        .wb(&[
            "--json",
            "run",
            "h",
            "-p",
            "model.depth=9",
            "--",
            python.to_str().unwrap(),
            "app.py",
            "hydra.run.dir=runs/x",
            "hydra.output_subdir=null",
            "hydra/job_logging=disabled",
            "hydra/hydra_logging=disabled",
            "{overrides}",
        ])
        .ok()
        .json();
    let m = &r["manifest"];
    let cfg = hydra_cfg(&repo, m);
    assert_eq!(cfg["model.depth"], 9);
    assert!(
        m["command"].as_str().unwrap().ends_with("'{overrides}'"),
        "{m}"
    );
}

#[test]
fn a_hydra_sweep_hands_each_run_its_own_values() {
    let repo = hydra_repo();
    let j = repo
        .wb(&[
            "--json",
            "sweep",
            "h",
            "-p",
            "model.name=choice('a,b', 'c d', \"it's\")",
            "-p",
            "model.lr=range(1e-5,3e-5,step=1e-5)",
            "-p",
            "+model.extra=[1,2],{k: v}",
            "-j",
            "2",
        ])
        .ok()
        .json();
    assert_eq!(j["combinations"], 12);
    let mut seen = std::collections::BTreeSet::new();
    for run in j["runs"].as_array().unwrap() {
        let m = repo.manifest("h", run["run_id"].as_str().unwrap());
        let cfg = hydra_cfg(&repo, &m);
        assert_eq!(&cfg, m["params_used"].as_object().unwrap(), "{m}");
        let extra = cfg.get("model.extra").or(cfg.get("model.extra.k")).unwrap();
        seen.insert((
            cfg["model.name"].to_string(),
            cfg["model.lr"].to_string(),
            extra.to_string(),
        ));
    }
    assert_eq!(
        seen.len(),
        12,
        "every combination ran with its own values: {seen:?}"
    );
    let names: std::collections::BTreeSet<_> = seen.iter().map(|s| s.0.clone()).collect();
    assert_eq!(
        names,
        ["\"a,b\"", "\"c d\"", "\"it's\""].map(String::from).into()
    );
    let lrs: std::collections::BTreeSet<_> = seen.iter().map(|s| s.1.clone()).collect();
    assert_eq!(
        lrs,
        ["1e-5", "2e-5"]
            .map(|s| json!(s.parse::<f64>().unwrap()).to_string())
            .into()
    );
}

/// Hydra's own reading of `KEY=VALUES`: the list of values, non-finite numbers as
/// records write them.
fn hydra_sweep_values(specs: &[&str]) -> Vec<Vec<Value>> {
    let script = r#"import json, math, sys
from hydra.core.override_parser.overrides_parser import OverridesParser
p = OverridesParser.create()
def plain(v):
    if isinstance(v, float) and math.isnan(v): return "NaN"
    if isinstance(v, float) and math.isinf(v): return "Infinity" if v > 0 else "-Infinity"
    if isinstance(v, dict): return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, list): return [plain(x) for x in v]
    if hasattr(v, "text"): return v.text
    return v
out = []
for spec in json.loads(sys.argv[1]):
    o = p.parse_override(spec)
    vals = list(o.sweep_iterator()) if o.is_sweep_override() else [o.value()]
    out.append([plain(v) for v in vals])
print(json.dumps(out))
"#;
    let o = std::process::Command::new(venv_tool("python"))
        .args(["-c", script, &serde_json::to_string(specs).unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn sweep_values_are_the_ones_hydra_reads() {
    let repo = Repo::with("[stages.s]\ncmd = \"true\"\n", &[]);
    let specs = [
        "x=choice(2.0,3.0)",
        "x='a,b',c",
        "x=\"q, r\",'it\\'s'",
        "x=range(1,5,step=2)",
        "x=range(start=2,stop=0,step=-1)",
        "x=range(1.0,3)",
        "x=range(0,0.35,0.1)",
        "x=[1,2],{a:1, b: [x, y]}",
        "x=True,NULL,1_000,.5,5.,+3",
        "x=inf,-inf,nan",
        "x=a b , c",
        "x=a\\,b,c\\ d",
        "x=/usr/bin,a.b-c_d",
        "x=choice([1,[2]],{})",
    ];
    let hydra = hydra_sweep_values(&specs);
    for (spec, want) in specs.iter().zip(hydra) {
        let j = repo.wb(&["--json", "sweep", "s", "-p", spec]).ok().json();
        let got: Vec<Value> = j["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| repo.manifest("s", r["run_id"].as_str().unwrap())["params_used"].clone())
            .map(|p| {
                // A mapping value is recorded as its keys: put it back together.
                let mut obj = serde_json::Map::new();
                let mut value = None;
                for (k, v) in p.as_object().unwrap() {
                    match k.strip_prefix("x.") {
                        Some(sub) => {
                            obj.insert(sub.to_string(), v.clone());
                        }
                        None => value = Some(v.clone()),
                    }
                }
                value.unwrap_or(Value::Object(obj))
            })
            .collect();
        assert_eq!(got, want, "{spec}");
    }
}

#[test]
fn what_hydra_has_but_sweep_does_not_run_is_refused_with_what_to_write() {
    let repo = Repo::with("[stages.s]\ncmd = \"true\"\n", &[]);
    for (spec, message) in [
        ("x=interval(0,1)", "-p x: interval(0,1): interval() is a continuous range for Hydra's optimizing sweepers; git-workbench runs listed values: write range(start,stop,step) or a,b,c"),
        ("x=glob(a*)", "glob() picks options of a Hydra config group"),
        ("x=sort(3,1,2)", "sort() is not supported; list the values in the order you want them run"),
        ("x=shuffle(1,2)", "shuffle() is not supported"),
        ("x=tag(log,1,2)", "tag() labels a sweep for Hydra's optimizing sweepers"),
        ("x=choice(1,range(2,4))", "a function inside a function (range()) is not supported; write the values out"),
        ("x=sort(range(1,4))", "a function inside a function"),
        ("x=float(1)", "casts are not supported"),
        ("x=lerp(1,2)", "git-workbench runs choice() and range() only; to mean the text, quote it: 'lerp(1,2)'"),
        ("x=1,range(2,4)", "range() must be the whole value, not one of several"),
        ("x=choice(1,2", "lacks a closing ')'"),
        ("x=range(1,5,step=0)", "the step is zero"),
        ("x=range(1,stop=2,5)", "a positional argument after a named one"),
        ("x=${y}", "interpolations (${...}) are not resolved"),
    ] {
        repo.wb(&["sweep", "s", "-p", spec]).fails(2, message);
        repo.assert_nothing_recorded();
    }
}
