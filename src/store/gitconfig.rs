//! The git configuration: what `init` writes (notes rewriting, drivers, remote fetch
//! refspecs) and every read (identity, signing, `workbench.*` keys), `git -c` first.

use super::error::{Error, Result};
use super::refs::{fetch_refspecs, NOTES_REF};
use super::{id, Store};
use crate::model::ObjectId;

/// Whose identity: git takes them from different variables and keys.
#[derive(Debug, Clone, Copy)]
pub(super) enum Role {
    Author,
    Committer,
}

/// What `init` did to one configuration key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfigAction {
    Added,
    /// Replaced `previous`.
    Set,
    Unchanged,
}

/// One configuration change `init` made or found already in place.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigChange {
    pub key: String,
    pub value: String,
    pub action: ConfigAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
}

impl Store {
    fn local_config(&self) -> Result<git2::Config> {
        self.repo
            .config()
            .and_then(|c| c.open_level(git2::ConfigLevel::Local))
            .map_err(Error::git("cannot open the repository's git config"))
    }

    /// Makes the notes index survive `commit --amend` and `rebase`, and merge as a
    /// set union.
    pub fn configure_notes(&self) -> Result<Vec<ConfigChange>> {
        let mut cfg = self.local_config()?;
        Ok(vec![
            ensure_multivar(&mut cfg, "notes.rewriteRef", NOTES_REF)?,
            ensure_single(&mut cfg, "notes.rewriteMode", "cat_sort_uniq")?,
            ensure_single(&mut cfg, "notes.workbench.mergeStrategy", "cat_sort_uniq")?,
        ])
    }

    /// Configures the `workbench-table` diff and merge drivers that `.gitattributes`
    /// lines such as `runs/comparison.csv diff=workbench-table merge=workbench-table`
    /// select. `trust_exit_code` needs git 2.46 or later; older git gets a diff
    /// command that always exits 0.
    pub fn configure_drivers(&self, trust_exit_code: bool) -> Result<Vec<ConfigChange>> {
        let mut cfg = self.local_config()?;
        // Each command falls back to plain text when git-workbench is not on PATH, so
        // a collaborator without it still gets `git diff`, `git log -p` and `git merge`
        // (a line diff, the raw file, git's line merge) instead of a fatal error.
        let when = |ours: &str, fallback: &str| {
            format!(
                "f() {{ if command -v git-workbench >/dev/null 2>&1; then git-workbench driver {ours}; else {fallback}; fi; }}; f"
            )
        };
        let diff_cmd = if trust_exit_code {
            when("diff \"$@\"", "diff -u \"$2\" \"$5\"")
        } else {
            when("diff --exit-zero \"$@\"", "diff -u \"$2\" \"$5\" || true")
        };
        let mut out = vec![
            ensure_single(&mut cfg, "diff.workbench-table.command", &diff_cmd)?,
            ensure_single(
                &mut cfg,
                "diff.workbench-table.textconv",
                &when("textconv \"$1\"", "cat \"$1\""),
            )?,
        ];
        if trust_exit_code {
            out.push(ensure_single(
                &mut cfg,
                "diff.workbench-table.trustExitCode",
                "true",
            )?);
        }
        out.push(ensure_single(
            &mut cfg,
            "merge.workbench-table.name",
            "git-workbench: union of table rows by key",
        )?);
        out.push(ensure_single(
            &mut cfg,
            "merge.workbench-table.driver",
            &format!(
                "{} %O %A %B %L %P",
                when(
                    "merge \"$@\"",
                    "git merge-file --marker-size=\"$4\" \"$2\" \"$1\" \"$3\""
                )
            ),
        )?);
        Ok(out)
    }

    /// Adds the workbench fetch refspecs to every remote.
    pub fn configure_remotes(&self) -> Result<Vec<ConfigChange>> {
        let mut out = Vec::new();
        let remotes = self
            .repo
            .remotes()
            .map_err(Error::git("cannot list remotes"))?;
        let mut cfg = self.local_config()?;
        for name in remotes.iter().filter_map(|n| n.ok().flatten()) {
            for spec in fetch_refspecs(name) {
                out.push(ensure_multivar(
                    &mut cfg,
                    &format!("remote.{name}.fetch"),
                    &spec,
                )?);
            }
        }
        Ok(out)
    }
}

fn values(cfg: &git2::Config, key: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(mut entries) = cfg.multivar(key, None) {
        while let Some(Ok(e)) = entries.next() {
            if let Ok(v) = e.value() {
                out.push(v.to_string());
            }
        }
    }
    out
}

fn ensure_multivar(cfg: &mut git2::Config, key: &str, value: &str) -> Result<ConfigChange> {
    let present = values(cfg, key).iter().any(|v| v == value);
    if !present {
        // A regex that matches nothing appends a new value instead of replacing one.
        cfg.set_multivar(key, "^\u{1}$", value)
            .map_err(Error::git(format!("cannot add {key}")))?;
    }
    Ok(ConfigChange {
        key: key.to_string(),
        value: value.to_string(),
        action: if present {
            ConfigAction::Unchanged
        } else {
            ConfigAction::Added
        },
        previous: None,
    })
}

fn ensure_single(cfg: &mut git2::Config, key: &str, value: &str) -> Result<ConfigChange> {
    let previous = cfg.get_string(key).ok();
    let unchanged = previous.as_deref() == Some(value);
    if !unchanged {
        cfg.set_str(key, value)
            .map_err(Error::git(format!("cannot set {key}")))?;
    }
    Ok(ConfigChange {
        key: key.to_string(),
        value: value.to_string(),
        action: if unchanged {
            ConfigAction::Unchanged
        } else if previous.is_some() {
            ConfigAction::Set
        } else {
            ConfigAction::Added
        },
        previous: previous.filter(|_| !unchanged),
    })
}

impl Store {
    /// Sets one key in the repository's own config.
    pub fn set_local_config(&self, key: &str, value: &str) -> Result<()> {
        self.local_config()?
            .set_str(key, value)
            .map_err(Error::git(format!("cannot set {key}")))
    }

    /// Stages every file (honouring .gitignore) and commits on HEAD. For `demo`.
    pub fn commit_all(&self, message: &str) -> Result<ObjectId> {
        let ctx = || "cannot commit the example files".to_string();
        let mut index = self.repo.index().map_err(Error::git(ctx()))?;
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .and_then(|_| index.write())
            .map_err(Error::git(ctx()))?;
        let tree = index
            .write_tree()
            .and_then(|t| self.repo.find_tree(t))
            .map_err(Error::git(ctx()))?;
        let sig = self.signature()?;
        let parent = self
            .head()
            .and_then(|(c, _)| self.repo.find_commit(super::oid(c)).ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .map(id)
            .map_err(Error::git(ctx()))
    }
}

impl Store {
    /// A git config string: `git -c` first, then the repository, global and system
    /// levels (every config read goes through `repo.config()`, which holds them all).
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.repo.config().ok()?.get_string(key).ok()
    }

    /// A git config boolean; `None` when unset or not a boolean.
    pub fn config_bool(&self, key: &str) -> Option<bool> {
        self.repo.config().ok()?.get_bool(key).ok()
    }

    /// The identity a human decision is recorded under, as git takes an author's:
    /// `GIT_AUTHOR_NAME`/`EMAIL`, then `author.*`, then `user.*` (`git -c` first).
    /// Decisions are never anonymous.
    pub fn decision_identity(&self) -> Result<(String, String)> {
        match self.identity(Role::Author) {
            (Some(n), Some(e)) => Ok((n, e)),
            _ => Err(Error::NoIdentity),
        }
    }

    /// git's `ident.c` order for one role; blank values count as unset.
    pub(super) fn identity(&self, role: Role) -> (Option<String>, Option<String>) {
        let (env, section) = match role {
            Role::Author => ("GIT_AUTHOR", "author"),
            Role::Committer => ("GIT_COMMITTER", "committer"),
        };
        let get = |field: &str| {
            std::env::var(format!("{env}_{}", field.to_ascii_uppercase()))
                .ok()
                .or_else(|| self.config_string(&format!("{section}.{field}")))
                .filter(|v| !v.trim().is_empty())
                .or_else(|| self.config_string(&format!("user.{field}")))
                .filter(|v| !v.trim().is_empty())
        };
        (get("name"), get("email"))
    }

    /// The signing setup (`gpg.format`, `user.signingKey`, the program), or an error
    /// when signing is asked for without a key.
    pub fn signing_config(&self) -> Result<crate::exec::sign::SigningConfig> {
        let format = self
            .config_string("gpg.format")
            .unwrap_or_else(|| "openpgp".to_string());
        let key = self
            .config_string("user.signingKey")
            .ok_or_else(|| Error::Signing {
                message: "signing was requested but no signing key is configured (user.signingKey)"
                    .into(),
                hint:
                    "git config user.signingKey ~/.ssh/id_ed25519.pub && git config gpg.format ssh"
                        .into(),
            })?;
        let program = match format.as_str() {
            "ssh" => self
                .config_string("gpg.ssh.program")
                .unwrap_or_else(|| "ssh-keygen".into()),
            "x509" => self
                .config_string("gpg.x509.program")
                .unwrap_or_else(|| "gpgsm".into()),
            _ => self
                .config_string("gpg.openpgp.program")
                .or_else(|| self.config_string("gpg.program"))
                .unwrap_or_else(|| "gpg".into()),
        };
        Ok(crate::exec::sign::SigningConfig {
            format,
            key,
            program,
        })
    }
}

impl Store {
    /// Every value of a multi-valued git config key.
    pub fn config_values(&self, key: &str) -> Vec<String> {
        match self.repo.config() {
            Ok(c) => values(&c, key),
            Err(_) => Vec::new(),
        }
    }

    /// The names of the configured remotes.
    pub fn remote_names(&self) -> Vec<String> {
        self.repo
            .remotes()
            .map(|r| {
                r.iter()
                    .filter_map(|n| n.ok().flatten().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }
}
