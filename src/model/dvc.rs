//! DVC's pipeline files as workbench reads them: `dvc.yaml` (the stages: cmd, deps,
//! outs, params, metrics, plots) and `dvc.lock` (the md5 DVC gave each output after
//! it ran). Pure: text in, stages or a one-line error naming the stage out.
//!
//! `dvc.yaml` comes from the repository, so from anyone who can push to it: every
//! path is checked as `workbench.toml` paths are, and whatever this reader does not
//! understand (templating, `foreach`/`matrix`, keys it does not know) is refused
//! with a hint, never read some other way than DVC would read it.

use super::config::{check_relative, Config, ParamsSpec, Stage};
use super::ids::StageName;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value as Yaml;
use std::collections::BTreeMap;

/// The pipeline file workbench reads (only the one at the repository root).
pub const DVC_YAML: &str = "dvc.yaml";
/// The lock file DVC writes beside it.
pub const DVC_LOCK: &str = "dvc.lock";
/// DVC's default params file.
pub const DEFAULT_PARAMS: &str = "params.yaml";

/// One bad thing in `dvc.yaml` or `dvc.lock`: a message naming the stage, and a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DvcError {
    pub message: String,
    pub hint: Option<String>,
}

fn err(message: String) -> DvcError {
    DvcError {
        message,
        hint: None,
    }
}

fn err_hint(message: String, hint: &str) -> DvcError {
    DvcError {
        message,
        hint: Some(hint.to_string()),
    }
}

/// A DVC stage, as workbench uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DvcStage {
    /// The command; a list of commands is joined with ` && ` (DVC runs them in turn
    /// and stops at the first that fails).
    pub cmd: String,
    pub deps: Vec<String>,
    /// Outputs (outs, metrics and plots files), with whether DVC caches them.
    pub outs: Vec<DvcOut>,
    /// The one metrics file workbench reads (a JSON or YAML object).
    pub metrics: Option<String>,
    pub params: Option<ParamsSpec>,
    pub desc: Option<String>,
}

/// An output path and whether it goes to DVC's cache (`cache: false` keeps it in git).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DvcOut {
    pub path: String,
    pub cache: bool,
}

/// The stages of a `dvc.yaml`, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DvcProject {
    pub stages: IndexMap<String, DvcStage>,
}

/// Top-level keys that only DVC's own views use (`dvc plots`, `dvc metrics show`,
/// artifacts for the model registry): they change no stage, so they are passed over.
const DISPLAY_ONLY: [&str; 5] = ["plots", "metrics", "params", "artifacts", "datasets"];
const OUT_FLAGS: [&str; 8] = [
    "cache", "persist", "desc", "type", "labels", "meta", "remote", "push",
];
const PLOT_FLAGS: [&str; 8] = [
    "x", "y", "template", "title", "x_label", "y_label", "header", "cache",
];

/// Parses `dvc.yaml`.
pub fn parse_dvc_yaml(text: &str) -> Result<DvcProject, DvcError> {
    let doc: Yaml = serde_yaml_ng::from_str(text).map_err(|e| {
        err(format!(
            "{DVC_YAML}: {}",
            e.to_string().lines().next().unwrap_or("")
        ))
    })?;
    let Yaml::Mapping(top) = doc else {
        return Err(err(format!("{DVC_YAML}: the top level is not a mapping")));
    };
    let mut project = DvcProject::default();
    for (k, v) in &top {
        let key = k.as_str().unwrap_or("");
        match key {
            "stages" => {}
            "vars" => {
                return Err(err_hint(
                    format!("{DVC_YAML}: 'vars' (templating) is not supported"),
                    "write the values into the stages; workbench reads dvc.yaml as written",
                ))
            }
            k if DISPLAY_ONLY.contains(&k) => {}
            other => return Err(err(format!("{DVC_YAML}: unknown top-level key '{other}'"))),
        }
        if key != "stages" {
            continue;
        }
        let Yaml::Mapping(stages) = v else {
            return Err(err(format!("{DVC_YAML}: 'stages' is not a mapping")));
        };
        for (name, body) in stages {
            let Some(name) = name.as_str() else {
                return Err(err(format!("{DVC_YAML}: a stage name is not a string")));
            };
            if name.is_empty() || name.starts_with('-') || name.contains(['/', ':', '@', '\\']) {
                return Err(err(format!(
                    "{DVC_YAML}: '{name}' is not a stage name DVC accepts"
                )));
            }
            let stage = parse_stage(name, body)?;
            project.stages.insert(name.to_string(), stage);
        }
    }
    Ok(project)
}

fn parse_stage(name: &str, body: &Yaml) -> Result<DvcStage, DvcError> {
    let at = |what: &str| format!("{DVC_YAML}: stage '{name}': {what}");
    let Yaml::Mapping(m) = body else {
        return Err(err(at("is not a mapping")));
    };
    // Generated stages first: their templates are what `foreach`/`matrix` fill in.
    for key in ["foreach", "matrix", "do"] {
        if m.contains_key(key) {
            return Err(err_hint(
                at(&format!("'{key}' is not supported")),
                "write each generated stage out in dvc.yaml, or run it with dvc repro alone",
            ));
        }
    }
    refuse_templates(name, body)?;
    let mut stage = DvcStage {
        cmd: String::new(),
        deps: Vec::new(),
        outs: Vec::new(),
        metrics: None,
        params: None,
        desc: None,
    };
    let mut metrics = Vec::new();
    for (k, v) in m {
        let key = k.as_str().unwrap_or("");
        match key {
            "cmd" => stage.cmd = command(v).ok_or_else(|| err(at("cmd is not a string or a list of strings")))?,
            "deps" => {
                for d in list(v).ok_or_else(|| err(at("deps is not a list")))? {
                    let Some(p) = d.as_str() else {
                        return Err(err(at("a dep is not a path")));
                    };
                    stage.deps.push(checked_path(name, "deps", p)?);
                }
            }
            "outs" => stage.outs.extend(outs(name, "outs", v, &OUT_FLAGS)?),
            "plots" => stage.outs.extend(outs(name, "plots", v, &PLOT_FLAGS)?),
            "metrics" => metrics = outs(name, "metrics", v, &OUT_FLAGS)?,
            "params" => stage.params = params(name, v)?,
            "desc" => stage.desc = v.as_str().map(str::to_string),
            "meta" | "always_changed" => {}
            "wdir" if matches!(v.as_str(), Some(".") | Some("./")) => {}
            "wdir" => {
                return Err(err_hint(
                    at("wdir is not supported"),
                    "run the command from the repository root (cmd: cd DIR && ...) and write paths from there",
                ))
            }
            "frozen" if v.as_bool() == Some(false) => {}
            "frozen" => {
                return Err(err_hint(
                    at("is frozen: dvc repro does not run it"),
                    "unfreeze it (dvc unfreeze) to run it through workbench",
                ))
            }
            "foreach" | "do" | "matrix" => {
                return Err(err_hint(
                    at(&format!("'{key}' is not supported")),
                    "write each generated stage out in dvc.yaml, or run it with dvc repro alone",
                ))
            }
            other => return Err(err(at(&format!("unknown key '{other}'")))),
        }
    }
    if stage.cmd.trim().is_empty() {
        return Err(err(at("has no cmd")));
    }
    match metrics.len() {
        0 => {}
        1 => {
            let m = metrics.remove(0);
            stage.metrics = Some(m.path.clone());
            stage.outs.push(m);
        }
        n => {
            return Err(err_hint(
                at(&format!(
                    "declares {n} metrics files; workbench reads one per stage"
                )),
                "write the metrics into one JSON or YAML file",
            ))
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    for o in &stage.outs {
        if !seen.insert(o.path.as_str()) {
            return Err(err(at(&format!("output '{}' is declared twice", o.path))));
        }
    }
    Ok(stage)
}

/// DVC fills `${...}` from `vars` and params files; reading it as text would be
/// wrong, so any `${` anywhere in the stage is refused.
fn refuse_templates(name: &str, v: &Yaml) -> Result<(), DvcError> {
    let found = |s: &str| s.contains("${");
    let bad = match v {
        Yaml::String(s) => found(s),
        Yaml::Sequence(items) => {
            for i in items {
                refuse_templates(name, i)?;
            }
            false
        }
        Yaml::Mapping(m) => {
            for (k, v) in m {
                if k.as_str().is_some_and(found) {
                    return Err(template(name));
                }
                refuse_templates(name, v)?;
            }
            false
        }
        Yaml::Tagged(t) => return refuse_templates(name, &t.value),
        _ => false,
    };
    if bad {
        return Err(template(name));
    }
    Ok(())
}

fn template(name: &str) -> DvcError {
    err_hint(
        format!("{DVC_YAML}: stage '{name}': ${{...}} templating is not supported"),
        "write the value out in dvc.yaml; workbench reads dvc.yaml as written",
    )
}

fn command(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Sequence(items) => {
            let parts: Option<Vec<&str>> = items.iter().map(|i| i.as_str()).collect();
            Some(parts?.join(" && "))
        }
        _ => None,
    }
}

fn list(v: &Yaml) -> Option<&Vec<Yaml>> {
    match v {
        Yaml::Sequence(s) => Some(s),
        _ => None,
    }
}

/// A path of `dvc.yaml`: relative, inside the repository, outside `.git`, and free of
/// what workbench would read as a pattern (`*?[`, `{run_id}`): DVC's paths are literal.
fn checked_path(stage: &str, key: &str, p: &str) -> Result<String, DvcError> {
    let fail = |why: &str| {
        err_hint(
            format!("{DVC_YAML}: stage '{stage}': {key}: '{p}' {why}"),
            "paths in dvc.yaml are relative to the repository root and stay inside it",
        )
    };
    check_relative(p).map_err(fail)?;
    if p.contains(['*', '?', '[', '{', '}']) {
        return Err(fail("has a character workbench reads as a pattern (*?[{})"));
    }
    if p.split(['/', '\\']).any(|c| c == ".dvc") {
        return Err(fail("points into the .dvc directory"));
    }
    Ok(p.trim_end_matches('/').to_string())
}

/// `outs`, `metrics` or `plots`: paths, or one-key maps `path: {flags}`.
fn outs(stage: &str, key: &str, v: &Yaml, flags: &[&str]) -> Result<Vec<DvcOut>, DvcError> {
    let at = |what: String| err(format!("{DVC_YAML}: stage '{stage}': {key}: {what}"));
    let items = list(v).ok_or_else(|| at("is not a list".into()))?;
    let mut out = Vec::new();
    for item in items {
        match item {
            // DVC caches every output, metrics and plots included, unless told not to.
            Yaml::String(p) => out.push(DvcOut {
                path: checked_path(stage, key, p)?,
                cache: true,
            }),
            Yaml::Mapping(m) if m.len() == 1 => {
                let (p, opts) = m.iter().next().expect("one entry");
                let p = p
                    .as_str()
                    .ok_or_else(|| at("a path is not a string".into()))?;
                let mut cache = true;
                match opts {
                    Yaml::Null => {}
                    Yaml::Mapping(o) => {
                        for (flag, value) in o {
                            let flag = flag.as_str().unwrap_or("");
                            if !flags.contains(&flag) {
                                return Err(at(format!("'{p}': unknown flag '{flag}'")));
                            }
                            if flag == "cache" {
                                cache = value.as_bool().ok_or_else(|| {
                                    at(format!("'{p}': cache is not true or false"))
                                })?;
                            }
                        }
                    }
                    _ => return Err(at(format!("'{p}': its flags are not a mapping"))),
                }
                out.push(DvcOut {
                    path: checked_path(stage, key, p)?,
                    cache,
                });
            }
            _ => {
                return Err(at(
                    "an entry is neither a path nor a 'path: {flags}' map".into()
                ))
            }
        }
    }
    Ok(out)
}

/// `params`: keys of params.yaml, and `{file: [keys]}` (or `file:` alone, every key).
/// Workbench records one params file per stage.
fn params(stage: &str, v: &Yaml) -> Result<Option<ParamsSpec>, DvcError> {
    let at = |what: String| err(format!("{DVC_YAML}: stage '{stage}': params: {what}"));
    let items = list(v).ok_or_else(|| at("is not a list".into()))?;
    let mut files: IndexMap<String, Vec<String>> = IndexMap::new();
    for item in items {
        match item {
            Yaml::String(k) => files
                .entry(DEFAULT_PARAMS.to_string())
                .or_default()
                .push(k.clone()),
            Yaml::Mapping(m) => {
                for (file, keys) in m {
                    let file = file
                        .as_str()
                        .ok_or_else(|| at("a file name is not a string".into()))?;
                    let file = checked_path(stage, "params", file)?;
                    let entry = files.entry(file.clone()).or_default();
                    match keys {
                        Yaml::Null => entry.push("*".into()),
                        Yaml::Sequence(ks) => {
                            for k in ks {
                                let k = k.as_str().ok_or_else(|| {
                                    at(format!("a key of '{file}' is not a string"))
                                })?;
                                entry.push(k.to_string());
                            }
                            if ks.is_empty() {
                                entry.push("*".into());
                            }
                        }
                        _ => return Err(at(format!("the keys of '{file}' are not a list"))),
                    }
                }
            }
            _ => {
                return Err(at(
                    "an entry is neither a key nor a {file: [keys]} map".into()
                ))
            }
        }
    }
    match files.len() {
        0 => Ok(None),
        1 => {
            let (file, mut keys) = files.into_iter().next().expect("one file");
            if keys.iter().any(|k| k == "*") {
                keys = vec!["*".into()];
            }
            if keys.iter().any(|k| k.is_empty()) {
                return Err(at(format!("'{file}' has an empty key")));
            }
            Ok(Some(ParamsSpec { file, keys }))
        }
        _ => Err(err_hint(
            format!(
                "{DVC_YAML}: stage '{stage}': params come from {} files ({}); workbench records one params file per stage",
                files.len(),
                files.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            "keep the stage's params in one file",
        )),
    }
}

/// What a workbench stage knows of the DVC stage it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DvcLink {
    /// The stage's name in `dvc.yaml`.
    pub stage: String,
    /// Its outputs DVC caches (their md5 is read from `dvc.lock` after a run).
    pub cached: Vec<String>,
}

impl DvcLink {
    pub fn named(stage: String) -> DvcLink {
        DvcLink {
            stage,
            cached: Vec::new(),
        }
    }
}

/// Fills the DVC stages of `config` from `project`: each stage that names a DVC stage
/// gets its cmd, deps, outs, params and metrics, and a top-level `dvc` adds every DVC
/// stage no table names (with the top-level limits), all in dvc.yaml's order and
/// before workbench's own stages. A workbench stage (with its own
/// `cmd`) named like a DVC stage under a top-level `dvc` is refused: which one would
/// `run` run?
pub fn apply(config: &mut Config, project: &DvcProject) -> Result<(), DvcError> {
    let names: Vec<&str> = project.stages.keys().map(String::as_str).collect();
    for st in config.stages.iter_mut() {
        let Some(link) = &mut st.dvc else {
            if config.dvc.is_some() && project.stages.contains_key(st.name.as_str()) {
                return Err(err_hint(
                    format!(
                        "stage '{}' is declared with a cmd in the configuration and in {DVC_YAML}",
                        st.name
                    ),
                    "remove cmd, deps, outs, params and metrics from the configuration's table to use dvc.yaml's",
                ));
            }
            continue;
        };
        let Some(d) = project.stages.get(&link.stage) else {
            return Err(err_hint(
                format!(
                    "stage '{}': {DVC_YAML} has no stage '{}'",
                    st.name, link.stage
                ),
                &format!("the stages of {DVC_YAML}: {}", names.join(", ")),
            ));
        };
        link.cached = cached(d);
        fill(st, d);
    }
    if config.dvc.is_some() {
        for (name, d) in &project.stages {
            let taken = config.stages.iter().any(|s| {
                s.dvc.as_ref().is_some_and(|l| &l.stage == name) || s.name == name.as_str()
            });
            if taken {
                continue;
            }
            let stage_name = StageName::new(name.as_str()).map_err(|_| {
                err_hint(
                    format!("{DVC_YAML}: stage '{name}' is not a valid workbench stage name"),
                    "declare it in the configuration under another name: [stages.NAME] dvc = \"<its dvc.yaml name>\"",
                )
            })?;
            let mut st = Stage {
                name: stage_name,
                cmd: String::new(),
                deps: Vec::new(),
                outs: Vec::new(),
                metrics: None,
                params: None,
                code: Vec::new(),
                max_stored_size: config.max_stored_size,
                max_metrics_size: config.max_metrics_size,
                max_decoded_figure_size: config.max_decoded_figure_size,
                large_outputs: config.large_outputs,
                description: None,
                review: Default::default(),
                directions: Default::default(),
                dvc: Some(DvcLink {
                    stage: name.clone(),
                    cached: cached(d),
                }),
            };
            fill(&mut st, d);
            config.stages.push(st);
        }
        // `status` lists the pipeline in dvc.yaml's order, workbench's own stages after.
        config.stages.sort_by_key(|s| {
            s.dvc
                .as_ref()
                .and_then(|l| project.stages.get_index_of(&l.stage))
                .unwrap_or(usize::MAX)
        });
    }
    Ok(())
}

fn cached(d: &DvcStage) -> Vec<String> {
    d.outs
        .iter()
        .filter(|o| o.cache)
        .map(|o| o.path.clone())
        .collect()
}

fn fill(st: &mut Stage, d: &DvcStage) {
    st.cmd = d.cmd.clone();
    st.deps = d.deps.clone();
    st.outs = d
        .outs
        .iter()
        .filter(|o| Some(&o.path) != d.metrics.as_ref())
        .map(|o| o.path.clone())
        .collect();
    st.metrics = d.metrics.clone();
    st.params = d.params.clone();
    if st.description.is_none() {
        st.description = d.desc.clone();
    }
}

/// DVC's identity of a run's outputs, from `dvc.lock` after `dvc repro`: the manifest's
/// `dvc` field. Only outputs DVC caches are listed: the others have no cache object.
/// Unknown fields are passed over, as the manifest's are, so a later field does not
/// make older readers refuse the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DvcRecord {
    /// The DVC stage that ran.
    pub stage: String,
    /// Each cached output's path and its object: `md5` as dvc.lock has it (a
    /// directory's ends in `.dir`).
    pub outs: BTreeMap<String, DvcObject>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DvcObject {
    pub md5: String,
}

impl DvcObject {
    /// The md5 as 32 lowercase hex digits, and whether it names a directory listing;
    /// `None` for anything else (a record from another clone is hostile).
    pub fn digest(&self) -> Option<(&str, bool)> {
        let (hex, dir) = match self.md5.strip_suffix(".dir") {
            Some(h) => (h, true),
            None => (self.md5.as_str(), false),
        };
        let ok = hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then_some((hex, dir))
    }
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    stages: BTreeMap<String, LockStage>,
}

#[derive(Deserialize)]
struct LockStage {
    #[serde(default)]
    outs: Vec<LockOut>,
}

#[derive(Deserialize)]
struct LockOut {
    path: String,
    md5: Option<String>,
    hash: Option<String>,
}

/// The md5 of each of `cached` outputs of `stage` in `dvc.lock`. An output DVC did not
/// lock with an md5 of its 3.x form (`hash: md5`) is an error: it could not be found in
/// the cache later.
pub fn locked_outs(text: &str, stage: &str, cached: &[String]) -> Result<DvcRecord, DvcError> {
    let lock: Lock = serde_yaml_ng::from_str(text).map_err(|e| {
        err(format!(
            "{DVC_LOCK}: {}",
            e.to_string().lines().next().unwrap_or("")
        ))
    })?;
    let Some(s) = lock.stages.get(stage) else {
        return Err(err(format!("{DVC_LOCK} has no stage '{stage}'")));
    };
    let mut outs = BTreeMap::new();
    for want in cached {
        let found = s.outs.iter().find(|o| o.path.trim_end_matches('/') == want);
        let Some(o) = found else {
            return Err(err(format!(
                "{DVC_LOCK}: stage '{stage}' has no output '{want}'"
            )));
        };
        let object = DvcObject {
            md5: o.md5.clone().unwrap_or_default(),
        };
        if object.digest().is_none() || o.hash.as_deref() != Some("md5") {
            return Err(err_hint(
                format!("{DVC_LOCK}: stage '{stage}': output '{want}' has no DVC 3 md5"),
                "workbench reads the lock files DVC 3 writes",
            ));
        }
        outs.insert(want.clone(), object);
    }
    Ok(DvcRecord {
        stage: stage.to_string(),
        outs,
    })
}

/// One file of a directory object (`<md5>.dir`, a JSON list DVC writes in its cache).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DirEntry {
    pub md5: String,
    pub relpath: String,
}

/// Parses a directory object; every relpath must stay inside the directory.
pub fn parse_dir_object(bytes: &[u8]) -> Result<Vec<DirEntry>, String> {
    let entries: Vec<DirEntry> =
        serde_json::from_slice(bytes).map_err(|e| format!("not a DVC directory listing: {e}"))?;
    for e in &entries {
        check_relative(&e.relpath).map_err(|why| format!("entry '{}' {why}", e.relpath))?;
        // A listing comes from a cache or remote: the record rules for paths too
        // (no `.git` in any case or spelling, no control characters).
        super::integrity::contained_path(&e.relpath)
            .map_err(|why| format!("entry '{}' {why}", e.relpath))?;
        if e.relpath.split('/').any(|c| c == "..") {
            return Err(format!("entry '{}' climbs with '..'", e.relpath));
        }
        if (DvcObject { md5: e.md5.clone() })
            .digest()
            .is_none_or(|(_, dir)| dir)
        {
            return Err(format!("entry '{}' has no md5", e.relpath));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
stages:
  prepare:
    cmd: sh prepare.sh
    deps:
      - prepare.sh
      - data/raw.csv
    outs:
      - data/clean.csv
  train:
    cmd:
      - sh train.sh
      - echo done
    deps: [train.sh, data/clean.csv]
    params:
      - train.lr
      - train.depth
    outs:
      - model.bin
      - notes.txt:
          cache: false
    metrics:
      - metrics.json:
          cache: false
    plots:
      - plots/loss.csv:
          x: step
plots:
  - plots/loss.csv
"#;

    #[test]
    fn reads_the_stage_forms() {
        let p = parse_dvc_yaml(GOOD).unwrap();
        assert_eq!(p.stages.keys().collect::<Vec<_>>(), ["prepare", "train"]);
        let t = &p.stages["train"];
        assert_eq!(t.cmd, "sh train.sh && echo done");
        assert_eq!(t.deps, ["train.sh", "data/clean.csv"]);
        assert_eq!(
            t.params,
            Some(ParamsSpec {
                file: "params.yaml".into(),
                keys: vec!["train.lr".into(), "train.depth".into()]
            })
        );
        assert_eq!(t.metrics.as_deref(), Some("metrics.json"));
        let outs: Vec<(&str, bool)> = t.outs.iter().map(|o| (o.path.as_str(), o.cache)).collect();
        assert_eq!(
            outs,
            [
                ("model.bin", true),
                ("notes.txt", false),
                ("plots/loss.csv", true),
                ("metrics.json", false)
            ]
        );
    }

    #[test]
    fn metrics_are_cached_unless_told_not_to() {
        let p = parse_dvc_yaml("stages:\n  a:\n    cmd: x\n    metrics: [m.json]\n").unwrap();
        assert_eq!(p.stages["a"].metrics.as_deref(), Some("m.json"));
        assert!(p.stages["a"].outs[0].cache);
    }

    #[test]
    fn params_maps() {
        let p =
            parse_dvc_yaml("stages:\n  a:\n    cmd: x\n    params:\n      - conf.yaml: [a.b]\n")
                .unwrap();
        assert_eq!(p.stages["a"].params.as_ref().unwrap().file, "conf.yaml");
        let p =
            parse_dvc_yaml("stages:\n  a:\n    cmd: x\n    params:\n      - conf.yaml:\n").unwrap();
        assert_eq!(p.stages["a"].params.as_ref().unwrap().keys, ["*"]);
        let e = parse_dvc_yaml(
            "stages:\n  a:\n    cmd: x\n    params:\n      - lr\n      - other.yaml: [b]\n",
        )
        .unwrap_err();
        assert!(
            e.message.contains("stage 'a'") && e.message.contains("2 files"),
            "{e:?}"
        );
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        for (text, needle) in [
            ("vars:\n  - a: 1\nstages: {}\n", "'vars'"),
            (
                "stages:\n  a:\n    foreach: [1, 2]\n    do:\n      cmd: x\n",
                "stage 'a': 'foreach'",
            ),
            (
                "stages:\n  a:\n    matrix: {x: [1]}\n    cmd: x\n",
                "'matrix'",
            ),
            ("stages:\n  a:\n    cmd: python t.py ${lr}\n", "templating"),
            ("stages:\n  a:\n    cmd: x\n    wdir: sub\n", "wdir"),
            ("stages:\n  a:\n    cmd: x\n    frozen: true\n", "frozen"),
            (
                "stages:\n  a:\n    cmd: x\n    colour: red\n",
                "unknown key 'colour'",
            ),
            ("stages:\n  a:\n    deps: [x]\n", "has no cmd"),
            (
                "stages:\n  a:\n    cmd: x\n    outs:\n      - m: {cach: false}\n",
                "unknown flag 'cach'",
            ),
            (
                "stages:\n  a:\n    cmd: x\n    metrics: [a.json, b.json]\n",
                "2 metrics files",
            ),
            ("bogus: 1\n", "unknown top-level key"),
            (
                "stages:\n  --force:\n    cmd: x\n",
                "not a stage name DVC accepts",
            ),
        ] {
            let e = parse_dvc_yaml(text).unwrap_err();
            assert!(e.message.contains(needle), "{text}: {e:?}");
        }
    }

    #[test]
    fn refuses_hostile_paths() {
        for (path, needle) in [
            ("/etc/passwd", "absolute"),
            ("../outside", "escapes"),
            ("a/../../b", "escapes"),
            (".git/config", ".git"),
            (".dvc/config", ".dvc"),
            ("data/*.csv", "pattern"),
            ("runs/{run_id}/x", "pattern"),
        ] {
            for key in ["deps", "outs"] {
                let text = format!("stages:\n  a:\n    cmd: x\n    {key}: ['{path}']\n");
                let e = parse_dvc_yaml(&text).unwrap_err();
                assert!(
                    e.message.contains(needle) && e.message.contains("stage 'a'"),
                    "{text}: {e:?}"
                );
            }
        }
        let e =
            parse_dvc_yaml("stages:\n  a:\n    cmd: x\n    params:\n      - /etc/p.yaml: [a]\n")
                .unwrap_err();
        assert!(e.message.contains("absolute"), "{e:?}");
    }

    #[test]
    fn apply_imports_fills_and_refuses_a_double_declaration() {
        use crate::model::config::parse_workbench_toml;
        let project = parse_dvc_yaml(GOOD).unwrap();
        let mut c = parse_workbench_toml(
            "dvc = \"dvc.yaml\"\nmax_stored_size = 5\n[stages.train]\ndescription = \"ours\"\n[stages.own]\ncmd = \"true\"\n",
        )
        .unwrap();
        apply(&mut c, &project).unwrap();
        assert_eq!(c.stage_names(), ["prepare", "train", "own"]);
        let t = c.stage("train").unwrap();
        assert_eq!(t.cmd, "sh train.sh && echo done");
        assert_eq!(t.metrics.as_deref(), Some("metrics.json"));
        assert!(!t.outs.contains(&"metrics.json".to_string()));
        assert_eq!(t.description.as_deref(), Some("ours"));
        assert_eq!(
            t.dvc.as_ref().unwrap().cached,
            ["model.bin", "plots/loss.csv"]
        );
        assert_eq!(c.stage("prepare").unwrap().max_stored_size, 5);
        let mut c =
            parse_workbench_toml("dvc = \"dvc.yaml\"\n[stages.train]\ncmd = \"true\"\n").unwrap();
        let e = apply(&mut c, &project).unwrap_err();
        assert!(
            e.message.contains("stage 'train' is declared with a cmd"),
            "{e:?}"
        );
        let mut c = parse_workbench_toml("[stages.fit]\ndvc = \"trian\"\n").unwrap();
        let e = apply(&mut c, &project).unwrap_err();
        assert!(e.message.contains("has no stage 'trian'"), "{e:?}");
        assert!(e.hint.unwrap().contains("prepare, train"));
        let odd = parse_dvc_yaml("stages:\n  a b:\n    cmd: x\n").unwrap();
        let mut c = parse_workbench_toml("dvc = \"dvc.yaml\"\n").unwrap();
        let e = apply(&mut c, &odd).unwrap_err();
        assert!(
            e.message.contains("not a valid workbench stage name"),
            "{e:?}"
        );
    }

    #[test]
    fn lock_outs() {
        let lock = "schema: '2.0'\nstages:\n  train:\n    cmd: x\n    outs:\n    - path: model.bin\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n      size: 3\n    - path: data\n      hash: md5\n      md5: 0123456789abcdef0123456789abcdef.dir\n";
        let r = locked_outs(lock, "train", &["model.bin".into(), "data".into()]).unwrap();
        assert_eq!(
            r.outs["data"].digest(),
            Some(("0123456789abcdef0123456789abcdef", true))
        );
        assert!(locked_outs(lock, "prepare", &[]).is_err());
        assert!(locked_outs(lock, "train", &["nope".into()]).is_err());
        let bad = lock.replace(
            "hash: md5\n      md5: 0123456789abcdef0123456789abcdef\n",
            "md5: ../../x\n",
        );
        assert!(locked_outs(&bad, "train", &["model.bin".into()]).is_err());
        assert_eq!(
            DvcObject {
                md5: "../etc".into()
            }
            .digest(),
            None
        );
        assert_eq!(
            DvcObject {
                md5: "0123456789ABCDEF0123456789abcdef".into()
            }
            .digest(),
            None
        );
    }

    #[test]
    fn dir_objects() {
        let ok = br#"[{"md5": "0123456789abcdef0123456789abcdef", "relpath": "a/b.txt"}]"#;
        assert_eq!(parse_dir_object(ok).unwrap()[0].relpath, "a/b.txt");
        let bad = br#"[{"md5": "0123456789abcdef0123456789abcdef", "relpath": "../b.txt"}]"#;
        assert!(parse_dir_object(bad).is_err());
        let bad = br#"[{"md5": "x", "relpath": "b.txt"}]"#;
        assert!(parse_dir_object(bad).is_err());
    }
}
