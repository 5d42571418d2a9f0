//! A repository together with its stage configuration, and the computations the use
//! cases share: params now, code files, hashing of declared paths, the current state
//! of a stage, and the one atomic replacement of a working-tree file.

use crate::error::{Error, Result};
use crate::exec::hash::hash_files_shown;
use crate::exec::paths::expand;
use crate::exec::progress::{NoProgress, Progress};
use crate::exec::statcache::StatCache;
use crate::model::config::{self, Config, Stage};
use crate::model::digest::{FileHashes, Sha256};
use crate::model::manifest::RunManifest;
use crate::model::params::{self, FlatParams};
use crate::model::params_doc;
use crate::model::staleness::CurrentState;
use crate::model::table::Direction;
use crate::store::Store;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "workbench.toml";
/// What `hash_patterns` calls a declared input, in its errors.
pub const DEPENDENCY: &str = "dependency";
/// What `hash_patterns` calls a code path, in its errors.
pub const CODE_PATH: &str = "code path";
pub const PYPROJECT_FILE: &str = "pyproject.toml";

/// An opened repository with a working tree and its configuration.
pub struct Workspace {
    pub store: Store,
    pub root: PathBuf,
    pub config: Config,
    /// `workbench.toml` or `pyproject.toml`, relative to the root.
    pub config_file: &'static str,
    params_files: std::cell::RefCell<BTreeMap<String, FlatParams>>,
    /// Where hashing and other long work report their progress (`NoProgress` unless
    /// the CLI sets one: `with_progress`).
    pub progress: std::sync::Arc<dyn Progress>,
}

/// Configured deps or code paths with `{stage}` filled in.
pub fn stage_paths(stage: &Stage, paths: &[String]) -> Vec<String> {
    paths
        .iter()
        .map(|p| config::expand(p, &stage.name, ""))
        .collect()
}

/// Which way each metric improves, from every stage's `directions` (empty without a
/// readable configuration: directions only decorate tables).
pub fn metric_directions(root: Option<&Path>) -> BTreeMap<String, Direction> {
    let mut out = BTreeMap::new();
    if let Some(Ok((cfg, _))) = root.map(load_config) {
        for s in &cfg.stages {
            out.extend(s.directions.iter().map(|(k, v)| (k.clone(), *v)));
        }
    }
    out
}

/// Where the configuration lives, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    Workbench,
    Pyproject,
    None,
}

/// Finds the configuration file; both present is an error naming both.
pub fn find_config(root: &Path) -> Result<ConfigSource> {
    let wb = root.join(CONFIG_FILE);
    let py = root.join(PYPROJECT_FILE);
    let py_has = match std::fs::read_to_string(&py) {
        Ok(t) => config::pyproject_mentions_workbench(&t),
        Err(_) => false,
    };
    match (wb.is_file(), py_has) {
        (true, true) => Err(Error::input(format!(
            "configuration found in both {} and {} [tool.workbench]",
            wb.display(),
            py.display()
        ))
        .hint("keep one of the two; remove the other")),
        (true, false) => Ok(ConfigSource::Workbench),
        (false, true) => Ok(ConfigSource::Pyproject),
        (false, false) => Ok(ConfigSource::None),
    }
}

fn config_error(file: &str, e: config::ConfigError) -> Error {
    let at = match e.line {
        Some(l) => format!("{file}:{l}"),
        None => file.to_string(),
    };
    Error::input(format!("{at}: {}", e.message)).hint("the format is described in docs/config.md")
}

/// Reads and validates the configuration at `root`.
pub fn load_config(root: &Path) -> Result<(Config, &'static str)> {
    let (file, parsed) = match find_config(root)? {
        ConfigSource::Workbench => {
            let p = root.join(CONFIG_FILE);
            let text = std::fs::read_to_string(&p).map_err(Error::io(&p))?;
            (CONFIG_FILE, config::parse_workbench_toml(&text).map(Some))
        }
        ConfigSource::Pyproject => {
            let p = root.join(PYPROJECT_FILE);
            let text = std::fs::read_to_string(&p).map_err(Error::io(&p))?;
            (PYPROJECT_FILE, config::parse_pyproject(&text))
        }
        ConfigSource::None => {
            return Err(Error::input(format!(
                "no {CONFIG_FILE} (or [tool.workbench] in {PYPROJECT_FILE}) at {}",
                root.display()
            ))
            .hint("run 'git workbench init' to write a commented skeleton"))
        }
    };
    match parsed {
        Ok(Some(mut c)) => {
            read_dvc_stages(root, &mut c)?;
            Ok((c, file))
        }
        Ok(None) => Err(Error::input(format!(
            "{file} has no [tool.workbench] table"
        ))),
        Err(e) => Err(config_error(file, e)),
    }
}

/// Reads `dvc.yaml` live when the configuration uses DVC stages, so that it stays
/// the one description of them (docs/dvc.md). The file is the repository's, so it
/// must be a plain file at the root, not a link to somewhere else.
fn read_dvc_stages(root: &Path, c: &mut Config) -> Result<()> {
    use crate::model::dvc;
    if c.dvc.is_none() && c.stages.iter().all(|s| s.dvc.is_none()) {
        return Ok(());
    }
    let path = root.join(dvc::DVC_YAML);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => {}
        Ok(_) => {
            return Err(Error::input(format!(
            "{} is not a plain file (a link or a directory); workbench reads only a plain dvc.yaml",
            dvc::DVC_YAML
        )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::input(format!(
                "the configuration uses DVC stages but there is no {} at {}",
                dvc::DVC_YAML,
                root.display()
            ))
            .hint("create the pipeline with dvc stage add, or remove dvc from the configuration"))
        }
        Err(e) => return Err(Error::io(&path)(e)),
    }
    let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
    let dvc_error = |e: dvc::DvcError| {
        let err = Error::input(e.message);
        match e.hint {
            Some(h) => err.hint(h),
            None => err,
        }
    };
    let project = dvc::parse_dvc_yaml(&text).map_err(dvc_error)?;
    dvc::apply(c, &project).map_err(dvc_error)
}

impl Workspace {
    /// Opens the repository around the current directory and its configuration.
    pub fn open(command: &str) -> Result<Workspace> {
        let store = Store::discover()?;
        let root = store.workdir(command)?;
        let (config, config_file) = load_config(&root)?;
        Ok(Workspace {
            store,
            root,
            config,
            config_file,
            params_files: Default::default(),
            progress: std::sync::Arc::new(NoProgress),
        })
    }

    /// This workspace, reporting the progress of long work to `progress`.
    pub fn with_progress(mut self, progress: std::sync::Arc<dyn Progress>) -> Workspace {
        self.progress = progress;
        self
    }

    /// The stage called `name`, or an error listing the known ones.
    pub fn stage(&self, name: &str) -> Result<&Stage> {
        self.config.stage(name).ok_or_else(|| {
            let known = self.config.stage_names();
            let list = if known.is_empty() {
                "none are configured".to_string()
            } else {
                format!("known stages: {}", known.join(", "))
            };
            Error::input(format!("unknown stage '{name}' in {}", self.config_file)).hint(list)
        })
    }

    pub fn stat_cache(&self) -> StatCache {
        StatCache::load(self.store.private_dir().join("stat-cache"))
    }

    /// Directory for temporary files of in-flight runs. Files a killed run left
    /// behind are removed once they are a day old.
    pub fn tmp_dir(&self) -> Result<PathBuf> {
        let d = self.store.private_dir().join("tmp");
        std::fs::create_dir_all(&d).map_err(Error::io(&d))?;
        let day = std::time::Duration::from_secs(24 * 3600);
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > day);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(d)
    }

    /// All keys of a params file, flattened (parsed once per command).
    pub fn params_file(&self, stage: &Stage, file: &str) -> Result<FlatParams> {
        if let Some(p) = self.params_files.borrow().get(file) {
            return Ok(p.clone());
        }
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::input(format!(
                    "params file '{file}' of stage '{}' does not exist",
                    stage.name
                ))
                .hint(match &stage.dvc {
                    Some(link) => format!(
                        "create it, or fix the params of stage '{}' in dvc.yaml",
                        link.stage
                    ),
                    None => format!(
                        "create it, or fix stages.{}.params in {}",
                        stage.name, self.config_file
                    ),
                })
            } else {
                Error::io(&path)(e)
            }
        })?;
        let format = params_doc::Format::of_path(file).ok_or_else(|| {
            Error::input(format!(
                "params file '{file}': params files must end in .yaml, .yml, .json or .toml"
            ))
        })?;
        // Duplicate keys, a dotted key beside its nested form and other parse errors
        // name their line: `params file 'params.yaml' line 7: duplicate key ...`.
        let value = params_doc::parse(&text, format).map_err(|e| {
            let sep = if e.line.is_some() { " " } else { ": " };
            Error::input(format!("params file '{file}'{sep}{e}"))
        })?;
        let flat = params::flatten(&value);
        self.params_files
            .borrow_mut()
            .insert(file.to_string(), flat.clone());
        Ok(flat)
    }

    /// The declared params of a stage as the params file has them now, plus `-p`
    /// overrides.
    pub fn params_now(
        &self,
        stage: &Stage,
        overrides: &[(String, serde_json::Value)],
    ) -> Result<FlatParams> {
        let Some(spec) = &stage.params else {
            let mut p = FlatParams::new();
            params::apply_overrides(&mut p, None, overrides).expect("free overrides");
            return Ok(p);
        };
        let all = self.params_file(stage, &spec.file)?;
        let mut selected = params::select(&all, &spec.keys).map_err(|e| {
            let key = match e {
                crate::model::Error::ParamsKey(k) => k,
                other => other.to_string(),
            };
            Error::input(format!(
                "params file '{}' has no key '{key}' (declared by stage '{}')",
                spec.file, stage.name
            ))
            .hint(match &stage.dvc {
                Some(link) => format!(
                    "add it to {}, or fix the params of stage '{}' in dvc.yaml",
                    spec.file, link.stage
                ),
                None => format!(
                    "add it to {} or fix stages.{}.params.keys",
                    spec.file, stage.name
                ),
            })
        })?;
        params::apply_overrides(&mut selected, Some((&all, &spec.keys)), overrides).map_err(
            |e| match e {
                crate::model::Error::OverrideKey(key) => Error::input(format!(
                    "-p {key}: params file '{}' has no such key (stage '{}')",
                    spec.file, stage.name
                ))
                .hint(format!(
                    "check the spelling against {}; to add a new key on purpose, write -p +{key}=VALUE",
                    spec.file
                )),
                crate::model::Error::Override(m) => Error::input(format!("-p {m}")),
                other => Error::input(other.to_string()),
            },
        )?;
        Ok(selected)
    }

    /// Code files of a stage: declared `code` patterns plus files named in `cmd`.
    pub fn code_patterns(&self, stage: &Stage, command: &str) -> Vec<String> {
        let mut out = stage_paths(stage, &stage.code);
        for tok in command.split_whitespace() {
            let tok = tok.trim_matches(|c| c == '"' || c == '\'');
            if tok.starts_with('-')
                || tok.contains('{')
                || config::check_relative(tok).is_err()
                || !tok.contains(['/', '.'])
                || stage.deps.iter().any(|d| d == tok)
                || out.iter().any(|c| c == tok)
            {
                continue;
            }
            if self.root.join(tok).is_file() {
                out.push(tok.to_string());
            }
        }
        out
    }

    /// Hashes files named by patterns; `missing` patterns are returned, not errors,
    /// and so are files that were removed before they could be read. A file whose
    /// name is not UTF-8 is refused, naming `what` ("dependency") it is.
    pub fn hash_patterns(
        &self,
        patterns: &[String],
        what: &str,
        cache: &mut StatCache,
    ) -> Result<(FileHashes, Vec<String>)> {
        let mut e = expand(&self.root, patterns)?;
        e.refuse_not_utf8(what)?;
        let phase = if what == DEPENDENCY {
            "hashing inputs"
        } else {
            "hashing code"
        };
        let hashed: FileHashes =
            hash_files_shown(&self.root, &e.files, cache, &*self.progress, phase)?
                .into_iter()
                .collect();
        e.missing
            .extend(e.files.into_iter().filter(|f| !hashed.contains_key(f)));
        Ok((hashed, e.missing))
    }

    /// The outputs of a run that are on disk now.
    pub fn present_outputs(&self, m: &RunManifest) -> Vec<String> {
        m.outputs
            .keys()
            .filter(|p| self.root.join(p).is_file())
            .cloned()
            .collect()
    }

    /// The digest of each output of a run as it is on disk now (`None`: missing).
    pub fn outputs_on_disk(
        &self,
        m: &RunManifest,
        cache: &mut StatCache,
    ) -> Result<BTreeMap<String, Option<Sha256>>> {
        let present = self.present_outputs(m);
        let now: FileHashes = hash_files_shown(
            &self.root,
            &present,
            cache,
            &*self.progress,
            "hashing outputs",
        )?
        .into_iter()
        .collect();
        Ok(m.outputs
            .keys()
            .map(|p| (p.clone(), now.get(p).copied()))
            .collect())
    }

    /// The current state of a stage, to compare with its latest run.
    pub fn current_state(
        &self,
        stage: &Stage,
        latest: Option<&RunManifest>,
        cache: &mut StatCache,
    ) -> Result<CurrentState> {
        let (inputs, _) =
            self.hash_patterns(&stage_paths(stage, &stage.deps), DEPENDENCY, cache)?;
        let (code_files, _) =
            self.hash_patterns(&self.code_patterns(stage, &stage.cmd), CODE_PATH, cache)?;
        let params = self.params_now(stage, &[])?;
        let outputs = match latest {
            Some(m) => self.outputs_on_disk(m, cache)?,
            None => BTreeMap::new(),
        };
        Ok(CurrentState {
            inputs,
            params,
            code_files,
            command: stage.cmd.clone(),
            outputs,
        })
    }
}

/// Replaces `path` (in `dir`) with `bytes` through a temporary file and a rename, so
/// a reader (a parallel run's snapshot) sees either the old or the new file. The file
/// gets the permissions git gives the files it checks out, 0666 minus the umask,
/// whatever the file it replaces had.
pub fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = tempfile::Builder::new()
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
        .map_err(Error::io(dir))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(Error::io(path))?;
    tmp.persist(path).map_err(|e| Error::io(path)(e.error))?;
    Ok(())
}
