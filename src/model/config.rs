//! The stage configuration: `workbench.toml` at the repository root, or the
//! `[tool.workbench]` table of `pyproject.toml`. Parsing is pure (text in, config or a
//! located error out); finding the file is the caller's job.
//!
//! Unknown keys are errors, so a typo never silently disables a dependency.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

/// Default run directory; `{run_id}` is replaced per run.
pub const DEFAULT_RUN_DIR: &str = "runs/{run_id}";
/// Default largest output stored in the run record; larger ones are only hashed.
pub const DEFAULT_MAX_STORED_SIZE: u64 = 10 * 1024 * 1024;
/// Default largest metrics file `run` and `import` read. Metrics are a summary: a
/// mebibyte holds tens of thousands of them, and every `status` and `compare` reads
/// every manifest they are copied into.
pub const DEFAULT_MAX_METRICS_SIZE: u64 = 1024 * 1024;
/// Default largest decoded figure (width × height × channels) `review` decodes:
/// an 8192 × 8192 RGBA image, far beyond any plot, far below what a crafted header
/// can claim (29,999² RGB is 2.5 GiB from a 2.6 MB file).
pub const DEFAULT_MAX_DECODED_FIGURE_SIZE: u64 = 256 * 1024 * 1024;
/// Default ceremony tier (docs/decisions.md, *Tiers*).
pub const DEFAULT_TIER: u8 = 3;

/// What `run` does with an output larger than the stage's `max_stored_size`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LargeOutputs {
    /// The record holds only its sha256 (the default).
    #[default]
    Hash,
    /// Its bytes go into git LFS and the record holds the LFS pointer, so `push`
    /// shares them and `checkout` restores them.
    Lfs,
}

impl LargeOutputs {
    pub fn as_str(self) -> &'static str {
        match self {
            LargeOutputs::Hash => "hash",
            LargeOutputs::Lfs => "lfs",
        }
    }
}

/// A configuration error located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub line: Option<usize>,
    pub message: String,
}

/// The whole configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub tier: u8,
    pub run_dir: String,
    pub max_stored_size: u64,
    /// The default of every stage's `large_outputs`.
    pub large_outputs: LargeOutputs,
    pub max_metrics_size: u64,
    pub max_decoded_figure_size: u64,
    /// `dvc = "dvc.yaml"`: every stage of the DVC pipeline is a stage (docs/dvc.md).
    pub dvc: Option<String>,
    pub stages: Vec<Stage>,
}

/// One declared stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: super::ids::StageName,
    pub cmd: String,
    pub deps: Vec<String>,
    pub outs: Vec<String>,
    pub metrics: Option<String>,
    pub params: Option<ParamsSpec>,
    pub code: Vec<String>,
    pub max_stored_size: u64,
    /// Where outputs over `max_stored_size` go.
    pub large_outputs: LargeOutputs,
    /// A larger metrics file is not read (`metrics_error` says why).
    pub max_metrics_size: u64,
    /// A figure that would decode to more bytes fails `figures_non_trivial` undecoded.
    pub max_decoded_figure_size: u64,
    pub description: Option<String>,
    pub review: ReviewSpec,
    /// Which way each metric improves, for marking the best value in `compare`.
    pub directions: IndexMap<String, super::table::Direction>,
    /// The DVC stage this stage is (`dvc = "NAME"`, or every stage under a top-level
    /// `dvc`): cmd, deps, outs, params and metrics come from `dvc.yaml`, and `run`
    /// runs it with `dvc repro` (docs/dvc.md).
    pub dvc: Option<super::dvc::DvcLink>,
}

/// Bounds and hints for the built-in self-review checks (`[stages.NAME.review]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewSpec {
    /// metric → `[min, max]` (inclusive).
    #[serde(default)]
    pub metric_ranges: IndexMap<String, [Number; 2]>,
    /// Every CSV output must have at least this many data rows.
    pub min_rows: Option<u64>,
    /// Every CSV output must have at most this many data rows.
    pub max_rows: Option<u64>,
    /// When set, `no_nan_inf` scans only these CSV columns.
    #[serde(default)]
    pub key_columns: Vec<String>,
    /// A sweep whose metrics do not vary with its params is expected (the
    /// `sweep_metrics_vary` check passes).
    #[serde(default)]
    pub expect_constant_metrics: bool,
}

/// A TOML number, integer or float.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub fn get(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Where a stage's params come from and which dotted keys it records.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamsSpec {
    pub file: String,
    #[serde(default = "all_keys")]
    pub keys: Vec<String>,
}

fn all_keys() -> Vec<String> {
    vec!["*".to_string()]
}

impl Config {
    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    pub fn stage_names(&self) -> Vec<&str> {
        self.stages.iter().map(|s| s.name.as_str()).collect()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    tier: Option<Spanned<u8>>,
    run_dir: Option<Spanned<String>>,
    max_stored_size: Option<Spanned<SizeValue>>,
    large_outputs: Option<Spanned<String>>,
    max_metrics_size: Option<Spanned<SizeValue>>,
    max_decoded_figure_size: Option<Spanned<SizeValue>>,
    dvc: Option<Spanned<String>>,
    #[serde(default)]
    stages: IndexMap<Spanned<String>, RawStage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStage {
    cmd: Option<Spanned<String>>,
    dvc: Option<Spanned<String>>,
    #[serde(default)]
    deps: Vec<Spanned<String>>,
    #[serde(default)]
    outs: Vec<Spanned<String>>,
    metrics: Option<Spanned<String>>,
    params: Option<Spanned<ParamsSpec>>,
    #[serde(default)]
    code: Vec<Spanned<String>>,
    max_stored_size: Option<Spanned<SizeValue>>,
    large_outputs: Option<Spanned<String>>,
    max_metrics_size: Option<Spanned<SizeValue>>,
    max_decoded_figure_size: Option<Spanned<SizeValue>>,
    description: Option<String>,
    review: Option<Spanned<ReviewSpec>>,
    #[serde(default)]
    directions: IndexMap<String, super::table::Direction>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeValue {
    Bytes(i64),
    Text(String),
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<PyprojectTool>,
}

#[derive(Deserialize)]
struct PyprojectTool {
    workbench: Option<RawConfig>,
}

/// Parses `workbench.toml`.
pub fn parse_workbench_toml(text: &str) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
    validate(text, raw, "")
}

/// Parses the `[tool.workbench]` table of `pyproject.toml`; `Ok(None)` when absent.
pub fn parse_pyproject(text: &str) -> Result<Option<Config>, ConfigError> {
    match toml::from_str::<Pyproject>(text) {
        Ok(p) => match p.tool.and_then(|t| t.workbench) {
            Some(raw) => validate(text, raw, "tool.workbench.").map(Some),
            None => Ok(None),
        },
        // A broken pyproject.toml is only our business when it mentions us.
        Err(e) if text.contains("tool.workbench") => Err(toml_error(text, &e)),
        Err(_) => Ok(None),
    }
}

/// True when a pyproject.toml text declares a `[tool.workbench]` table (even a broken one).
pub fn pyproject_mentions_workbench(text: &str) -> bool {
    match toml::from_str::<toml::Table>(text) {
        Ok(t) => t.get("tool").and_then(|t| t.get("workbench")).is_some(),
        Err(_) => text.contains("tool.workbench"),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn toml_error(text: &str, e: &toml::de::Error) -> ConfigError {
    ConfigError {
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().replace('\n', " "),
    }
}

fn at<T>(text: &str, s: &Spanned<T>, message: String) -> ConfigError {
    ConfigError {
        line: Some(line_of(text, s.span().start)),
        message,
    }
}

fn validate(text: &str, raw: RawConfig, prefix: &str) -> Result<Config, ConfigError> {
    let tier = match &raw.tier {
        Some(t) if !(1..=4).contains(t.get_ref()) => {
            return Err(at(text, t, format!("{prefix}tier must be 1, 2, 3 or 4")))
        }
        Some(t) => *t.get_ref(),
        None => DEFAULT_TIER,
    };
    let run_dir = match &raw.run_dir {
        Some(r) => {
            let key = format!("{prefix}run_dir");
            check_path(text, r, &key, true)?;
            if !r.get_ref().contains("{run_id}") {
                return Err(at(text, r, format!("{key} must contain {{run_id}}")));
            }
            r.get_ref().clone()
        }
        None => DEFAULT_RUN_DIR.to_string(),
    };
    let max_stored_size = match &raw.max_stored_size {
        Some(s) => size(text, s, &format!("{prefix}max_stored_size"))?,
        None => DEFAULT_MAX_STORED_SIZE,
    };
    let large_outputs = match &raw.large_outputs {
        Some(l) => large(text, l, &format!("{prefix}large_outputs"))?,
        None => LargeOutputs::default(),
    };
    let max_metrics_size = limit(
        text,
        raw.max_metrics_size.as_ref(),
        &format!("{prefix}max_metrics_size"),
        DEFAULT_MAX_METRICS_SIZE,
    )?;
    let max_decoded_figure_size = limit(
        text,
        raw.max_decoded_figure_size.as_ref(),
        &format!("{prefix}max_decoded_figure_size"),
        DEFAULT_MAX_DECODED_FIGURE_SIZE,
    )?;
    let mut stages = Vec::new();
    for (name, st) in raw.stages {
        let key = format!("{prefix}stages.{}", name.get_ref());
        let stage_name = super::ids::StageName::new(name.get_ref().as_str()).map_err(|e| {
            let why = match e {
                super::error::Error::StageName { why, .. } => why,
                _ => "not a valid stage name",
            };
            at(
                text,
                &name,
                format!("{key}: stage names may use letters, digits, '_', '-' and '.' ({why})"),
            )
        })?;
        let (cmd, dvc) = stage_command(text, &name, &st, &key, raw.dvc.is_some())?;
        for d in &st.deps {
            check_path(text, d, &format!("{key}.deps"), false)?;
        }
        for o in &st.outs {
            check_path(text, o, &format!("{key}.outs"), true)?;
        }
        for c in &st.code {
            check_path(text, c, &format!("{key}.code"), false)?;
        }
        if let Some(m) = &st.metrics {
            check_path(text, m, &format!("{key}.metrics"), true)?;
        }
        if let Some(p) = &st.params {
            let spec = p.get_ref();
            if let Err(why) = check_relative(&spec.file) {
                return Err(at(
                    text,
                    p,
                    format!("{key}.params.file '{}' {why}", spec.file),
                ));
            }
            if spec.keys.iter().any(|k| k.is_empty()) {
                return Err(at(text, p, format!("{key}.params.keys has an empty key")));
            }
        }
        let max = match &st.max_stored_size {
            Some(s) => size(text, s, &format!("{key}.max_stored_size"))?,
            None => max_stored_size,
        };
        let stage_max_metrics = limit(
            text,
            st.max_metrics_size.as_ref(),
            &format!("{key}.max_metrics_size"),
            max_metrics_size,
        )?;
        let stage_max_figure = limit(
            text,
            st.max_decoded_figure_size.as_ref(),
            &format!("{key}.max_decoded_figure_size"),
            max_decoded_figure_size,
        )?;
        let review = match st.review {
            Some(r) => {
                for (metric, [lo, hi]) in &r.get_ref().metric_ranges {
                    if lo.get() > hi.get() {
                        return Err(at(
                            text,
                            &r,
                            format!(
                            "{key}.review.metric_ranges.{metric}: minimum {} is above maximum {}",
                            lo.get(), hi.get()
                        ),
                        ));
                    }
                }
                r.into_inner()
            }
            None => ReviewSpec::default(),
        };
        stages.push(Stage {
            name: stage_name,
            cmd,
            deps: st.deps.into_iter().map(Spanned::into_inner).collect(),
            outs: st.outs.into_iter().map(Spanned::into_inner).collect(),
            metrics: st.metrics.map(Spanned::into_inner),
            params: st.params.map(Spanned::into_inner),
            code: st.code.into_iter().map(Spanned::into_inner).collect(),
            max_stored_size: max,
            large_outputs: match &st.large_outputs {
                Some(l) => large(text, l, &format!("{key}.large_outputs"))?,
                None => large_outputs,
            },
            max_metrics_size: stage_max_metrics,
            max_decoded_figure_size: stage_max_figure,
            description: st.description,
            review,
            directions: st.directions,
            dvc,
        });
    }
    Ok(Config {
        tier,
        run_dir,
        max_stored_size,
        large_outputs,
        max_metrics_size,
        max_decoded_figure_size,
        dvc: match raw.dvc {
            Some(d) if d.get_ref() != super::dvc::DVC_YAML => {
                return Err(at(
                    text,
                    &d,
                    format!(
                        "{prefix}dvc: '{}' is not supported; only the dvc.yaml at the repository root is read",
                        d.get_ref()
                    ),
                ))
            }
            d => d.map(Spanned::into_inner),
        },
        stages,
    })
}

/// A stage's `cmd`: required, unless it is a DVC stage (its own `dvc = "NAME"`, or
/// named like one under a top-level `dvc`), whose command and paths come from
/// `dvc.yaml` and may not be written here too (two sources would drift). The DVC
/// fields are filled in when `dvc.yaml` is read (`model::dvc::apply`).
fn stage_command(
    text: &str,
    name: &Spanned<String>,
    st: &RawStage,
    key: &str,
    dvc_imported: bool,
) -> Result<(String, Option<super::dvc::DvcLink>), ConfigError> {
    if let Some(d) = &st.dvc {
        if d.get_ref().trim().is_empty() {
            return Err(at(text, d, format!("{key}.dvc is empty")));
        }
    }
    let from_dvc = st.dvc.is_some() || (dvc_imported && st.cmd.is_none());
    if from_dvc {
        let written = [
            ("cmd", st.cmd.is_some()),
            ("deps", !st.deps.is_empty()),
            ("outs", !st.outs.is_empty()),
            ("metrics", st.metrics.is_some()),
            ("params", st.params.is_some()),
        ];
        if let Some((field, _)) = written.iter().find(|(_, set)| *set) {
            return Err(at(
                text,
                name,
                format!("{key}.{field}: a DVC stage takes {field} from dvc.yaml; remove it here"),
            ));
        }
        let dvc = st.dvc.as_ref().unwrap_or(name).get_ref().clone();
        return Ok((String::new(), Some(super::dvc::DvcLink::named(dvc))));
    }
    match &st.cmd {
        Some(c) if c.get_ref().trim().is_empty() => Err(at(text, c, format!("{key}.cmd is empty"))),
        Some(c) => Ok((c.get_ref().clone(), None)),
        None => Err(at(text, name, format!("{key}: missing field `cmd`"))),
    }
}

/// `large_outputs`: `"hash"` or `"lfs"`.
fn large(text: &str, s: &Spanned<String>, key: &str) -> Result<LargeOutputs, ConfigError> {
    match s.get_ref().as_str() {
        "hash" => Ok(LargeOutputs::Hash),
        "lfs" => Ok(LargeOutputs::Lfs),
        other => Err(at(
            text,
            s,
            format!(
                "{key} must be \"hash\" (only the sha256 is recorded) or \"lfs\" (the bytes go into git LFS), not \"{}\"",
                other.escape_debug()
            ),
        )),
    }
}

/// A size limit: `default` when absent, never 0 (a limit of nothing refuses every
/// file and is a typo, not a policy).
fn limit(
    text: &str,
    s: Option<&Spanned<SizeValue>>,
    key: &str,
    default: u64,
) -> Result<u64, ConfigError> {
    let Some(s) = s else {
        return Ok(default);
    };
    match size(text, s, key)? {
        0 => Err(at(text, s, format!("{key} must be at least 1 byte"))),
        n => Ok(n),
    }
}

fn size(text: &str, s: &Spanned<SizeValue>, key: &str) -> Result<u64, ConfigError> {
    let parsed = match s.get_ref() {
        SizeValue::Bytes(n) if *n >= 0 => Some(*n as u64),
        SizeValue::Bytes(_) => None,
        SizeValue::Text(t) => parse_size(t),
    };
    parsed.ok_or_else(|| {
        at(
            text,
            s,
            format!("{key} must be a size such as 10485760, \"10MiB\" or \"500kB\""),
        )
    })
}

/// Parses `"10MiB"`, `"500 kB"`, `"1G"` or a plain byte count.
pub fn parse_size(t: &str) -> Option<u64> {
    let t = t.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A byte count for people: `512 B`, `1 MiB`, `58.2 MiB`, `2.5 GiB`.
pub fn format_size(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = UNITS[0];
    for u in &UNITS[1..] {
        if v < 1024.0 {
            break;
        }
        v /= 1024.0;
        unit = u;
    }
    if v.fract() == 0.0 {
        format!("{v} {unit}")
    } else {
        format!("{v:.1} {unit}")
    }
}

fn check_path(
    text: &str,
    p: &Spanned<String>,
    key: &str,
    per_run: bool,
) -> Result<(), ConfigError> {
    let fail = |why: &str| at(text, p, format!("{key}: '{}' {why}", p.get_ref()));
    check_relative(p.get_ref()).map_err(fail)?;
    check_placeholders(p.get_ref()).map_err(fail)?;
    if !per_run && is_per_run(p.get_ref()) {
        return Err(fail(
            "uses {run_id}, which only outputs and metrics may use",
        ));
    }
    Ok(())
}

/// Refuses paths that are empty, absolute, climb out of the repository or enter `.git`.
pub fn check_relative(p: &str) -> Result<(), &'static str> {
    if p.trim().is_empty() {
        return Err("is empty");
    }
    if p.starts_with('/') || p.starts_with('\\') || p.as_bytes().get(1) == Some(&b':') {
        return Err("is absolute; paths are relative to the repository root");
    }
    let mut depth: i32 = 0;
    for part in p.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return Err("escapes the repository");
                }
            }
            ".git" => return Err("points into the .git directory"),
            _ => depth += 1,
        }
    }
    Ok(())
}

fn check_placeholders(p: &str) -> Result<(), &'static str> {
    let mut rest = p;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            return Err("has an unclosed '{'");
        };
        if !matches!(&after[..j], "run_id" | "stage") {
            return Err("uses an unknown placeholder (only {run_id} and {stage} exist)");
        }
        rest = &after[j + 1..];
    }
    Ok(())
}

/// Replaces `{run_id}` and `{stage}` in a configured path.
pub fn expand(pattern: &str, stage: &str, run_id: &str) -> String {
    pattern
        .replace("{run_id}", run_id)
        .replace("{stage}", stage)
}

/// True when a configured path varies per run (and so cannot be checked before one).
pub fn is_per_run(pattern: &str) -> bool {
    pattern.contains("{run_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
tier = 3
max_stored_size = "1MiB"

[stages.prepare]
cmd = "python scripts/prepare.py"
deps = ["data/raw/*.csv"]
outs = ["data/processed/clean.csv"]

[stages.train]
cmd = "python scripts/train.py"
deps = ["data/processed/clean.csv", "src/"]
outs = ["runs/{run_id}/pred.csv"]
metrics = "runs/{run_id}/metrics.json"
params = { file = "params.yaml", keys = ["train.lr", "train.depth"] }
max_stored_size = 2048
"#;

    #[test]
    fn parses_stages_in_declaration_order() {
        let c = parse_workbench_toml(GOOD).unwrap();
        assert_eq!(c.stage_names(), ["prepare", "train"]);
        assert_eq!(c.max_stored_size, 1 << 20);
        let t = c.stage("train").unwrap();
        assert_eq!(t.max_stored_size, 2048);
        assert_eq!(c.stage("prepare").unwrap().max_stored_size, 1 << 20);
        assert_eq!(t.params.as_ref().unwrap().keys, ["train.lr", "train.depth"]);
        assert_eq!(t.metrics.as_deref(), Some("runs/{run_id}/metrics.json"));
        assert_eq!(c.run_dir, DEFAULT_RUN_DIR);
    }

    #[test]
    fn unknown_keys_name_key_and_line() {
        let text = "[stages.a]\ncmd = \"x\"\nouts = []\ndepz = [\"y\"]\n";
        let e = parse_workbench_toml(text).unwrap_err();
        assert_eq!(e.line, Some(4), "{e:?}");
        assert!(e.message.contains("depz"), "{e:?}");
        let e = parse_workbench_toml("colour = 1\n").unwrap_err();
        assert!(e.message.contains("colour"), "{e:?}");
        assert_eq!(e.line, Some(1));
    }

    #[test]
    fn bad_paths_are_located() {
        let e =
            parse_workbench_toml("[stages.a]\ncmd = \"x\"\nouts = [\"../up.csv\"]\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("escapes the repository"), "{e:?}");
        let e = parse_workbench_toml("[stages.a]\ncmd = \"x\"\n\nmetrics = \"/tmp/m.json\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4));
        assert!(e.message.contains("absolute"));
        let e = parse_workbench_toml("[stages.a]\ncmd = \"x\"\nouts = [\"runs/{id}/x\"]\n")
            .unwrap_err();
        assert!(e.message.contains("placeholder"));
        let e = parse_workbench_toml("[stages.a]\ncmd = \"x\"\ndeps = [\"runs/{run_id}/x\"]\n")
            .unwrap_err();
        assert!(e.message.contains("only outputs"), "{e:?}");
        assert!(
            parse_workbench_toml("[stages.a]\ncmd = \"x\"\ndeps = [\"data/{stage}.csv\"]\n")
                .is_ok()
        );
        assert!(check_relative("a/../b").is_ok());
        assert!(check_relative("a/../../b").is_err());
        assert!(check_relative(".git/config").is_err());
    }

    #[test]
    fn pyproject_table() {
        let text = "[project]\nname = \"x\"\n\n[tool.workbench.stages.a]\ncmd = \"true\"\n";
        let c = parse_pyproject(text).unwrap().unwrap();
        assert_eq!(c.stage_names(), ["a"]);
        assert!(parse_pyproject("[project]\nname = \"x\"\n")
            .unwrap()
            .is_none());
        let e =
            parse_pyproject("[tool.workbench.stages.a]\ncmd = \"true\"\nbogus = 1\n").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("bogus"));
        assert!(pyproject_mentions_workbench(text));
    }

    #[test]
    fn review_bounds() {
        let c = parse_workbench_toml(
            "[stages.a]\ncmd = \"x\"\n[stages.a.review]\nmetric_ranges = { precision = [0, 1], loss = [0.0, 2.5] }\nmin_rows = 1000\nkey_columns = [\"score\"]\n",
        )
        .unwrap();
        let r = &c.stage("a").unwrap().review;
        assert_eq!(r.metric_ranges["precision"][1].get(), 1.0);
        assert_eq!(r.metric_ranges["loss"][1].get(), 2.5);
        assert_eq!(r.min_rows, Some(1000));
        let e = parse_workbench_toml("[stages.a]\ncmd = \"x\"\n[stages.a.review]\nmin_row = 1\n")
            .unwrap_err();
        assert!(e.message.contains("min_row"), "{e:?}");
        assert_eq!(e.line, Some(4));
        let e = parse_workbench_toml(
            "[stages.a]\ncmd = \"x\"\n[stages.a.review]\nmetric_ranges = { p = [1, 0] }\n",
        )
        .unwrap_err();
        assert!(e.message.contains("above maximum"), "{e:?}");
    }

    #[test]
    fn metric_directions() {
        let c = parse_workbench_toml("[stages.a]\ncmd = \"x\"\ndirections = { precision = \"maximize\", loss = \"minimize\" }\n").unwrap();
        assert_eq!(
            c.stage("a").unwrap().directions["loss"],
            super::super::table::Direction::Minimize
        );
        let e = parse_workbench_toml("[stages.a]\ncmd = \"x\"\ndirections = { p = \"up\" }\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3), "{e:?}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MiB"), Some(10 << 20));
        assert_eq!(parse_size("500 kB"), Some(500_000));
        assert_eq!(parse_size("7"), Some(7));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(format_size(512), "512 B");
        assert_eq!(format_size(1 << 20), "1 MiB");
        assert_eq!(format_size(61_000_000), "58.2 MiB");
        assert_eq!(format_size(29_999 * 29_999 * 3), "2.5 GiB");
        let e = parse_workbench_toml("max_stored_size = \"big\"\n").unwrap_err();
        assert!(e.message.contains("max_stored_size"));
    }

    #[test]
    fn input_limits() {
        let c = parse_workbench_toml("[stages.a]\ncmd = \"x\"\n").unwrap();
        let a = c.stage("a").unwrap();
        assert_eq!(a.max_metrics_size, DEFAULT_MAX_METRICS_SIZE);
        assert_eq!(a.max_decoded_figure_size, DEFAULT_MAX_DECODED_FIGURE_SIZE);
        let c = parse_workbench_toml(
            "max_metrics_size = \"2MiB\"\nmax_decoded_figure_size = \"1GiB\"\n[stages.a]\ncmd = \"x\"\n[stages.b]\ncmd = \"x\"\nmax_metrics_size = 4096\nmax_decoded_figure_size = \"64MiB\"\n",
        )
        .unwrap();
        assert_eq!(c.max_metrics_size, 2 << 20);
        assert_eq!(c.stage("a").unwrap().max_metrics_size, 2 << 20);
        assert_eq!(c.stage("a").unwrap().max_decoded_figure_size, 1 << 30);
        assert_eq!(c.stage("b").unwrap().max_metrics_size, 4096);
        assert_eq!(c.stage("b").unwrap().max_decoded_figure_size, 64 << 20);
        let e = parse_workbench_toml("[stages.a]\ncmd = \"x\"\n\nmax_metrics_size = \"lots\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4), "{e:?}");
        assert!(
            e.message
                .contains("stages.a.max_metrics_size must be a size"),
            "{e:?}"
        );
        let e = parse_workbench_toml("max_decoded_figure_size = 0\n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e:?}");
        assert!(
            e.message
                .contains("max_decoded_figure_size must be at least 1 byte"),
            "{e:?}"
        );
        let e = parse_pyproject("[tool.workbench]\nmax_metrics_size = -1\n").unwrap_err();
        assert!(
            e.message.contains("tool.workbench.max_metrics_size"),
            "{e:?}"
        );
    }

    #[test]
    fn dvc_stages_take_their_fields_from_dvc_yaml() {
        let c = parse_workbench_toml("dvc = \"dvc.yaml\"\n[stages.train]\ndirections = { acc = \"maximize\" }\n[stages.own]\ncmd = \"true\"\n").unwrap();
        assert_eq!(c.dvc.as_deref(), Some("dvc.yaml"));
        assert_eq!(
            c.stage("train").unwrap().dvc.as_ref().unwrap().stage,
            "train"
        );
        assert!(c.stage("own").unwrap().dvc.is_none());
        let c = parse_workbench_toml("[stages.fit]\ndvc = \"train\"\n").unwrap();
        assert_eq!(c.stage("fit").unwrap().dvc.as_ref().unwrap().stage, "train");
        let e =
            parse_workbench_toml("[stages.fit]\ndvc = \"train\"\ndeps = [\"x\"]\n").unwrap_err();
        assert!(
            e.message
                .contains("stages.fit.deps: a DVC stage takes deps from dvc.yaml"),
            "{e:?}"
        );
        assert_eq!(e.line, Some(1));
        let e = parse_workbench_toml("dvc = \"sub/dvc.yaml\"\n").unwrap_err();
        assert!(
            e.message
                .contains("only the dvc.yaml at the repository root"),
            "{e:?}"
        );
        let e = parse_workbench_toml("[stages.a]\ndeps = []\n").unwrap_err();
        assert!(e.message.contains("stages.a: missing field `cmd`"), "{e:?}");
        let e = parse_workbench_toml("[stages.a]\ndvc = \" \"\n").unwrap_err();
        assert!(e.message.contains("stages.a.dvc is empty"), "{e:?}");
    }

    #[test]
    fn placeholders_expand() {
        assert_eq!(
            expand("runs/{run_id}/{stage}.csv", "t", "R"),
            "runs/R/t.csv"
        );
        assert!(is_per_run("runs/{run_id}/m.json"));
    }
}
