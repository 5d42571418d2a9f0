//! `git workbench verify`: the CI and pull-request check. Every narrative file at every
//! commit of the range is checked like the hook does (catching `--no-verify`, web
//! edits and anything pushed by other means); the `review/` mirror must agree with the
//! run records; every approval relied on must match its manifest's bytes; and with
//! `workbench.requireSigned`, be signed by a key allowed at the base of the range.

use super::narrative::{check_files, strict_narrative, Source};
use super::Out;
use crate::error::{Error, Result};
use crate::exec::sign::{verify_commit, SignatureStatus};
use crate::model::decision::{artifact_digest, ApprovalRecord};
use crate::model::narrative::{self, normalize, Syntax};
use crate::narrative::{approved_records, Problem, Severity};
use crate::store::Store;
use crate::workspace::{MIRROR_DIR, MIRROR_FILES};
use serde::Serialize;
use serde_json::json;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

/// Check narratives, the review/ mirror and approvals over a range of commits (for CI
/// and pull requests). Exits 1 on any problem.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// BASE..HEAD: every commit reachable from HEAD and not from BASE (default: HEAD).
    #[arg(long, value_name = "BASE..HEAD")]
    pub range: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Require every approval a narrative relies on to be signed by an allowed key
    /// (also: git config workbench.requireSigned true).
    #[arg(long)]
    pub require_signed: bool,
}

/// A problem found at a commit.
#[derive(Serialize)]
struct Found {
    commit: String,
    #[serde(flatten)]
    problem: Problem,
}

/// A block at the tip, with the approval behind it.
#[derive(Serialize)]
struct BlockInfo {
    file: String,
    line: usize,
    stage: String,
    run: String,
    approved_by: Option<String>,
    approved_at: Option<String>,
    interpretation_edited: Option<bool>,
    signed: Option<bool>,
    changed: bool,
}

fn problem(file: &str, stage: &str, run: &str, reason: String, fix: &str) -> Problem {
    Problem {
        file: file.to_string(),
        line: 0,
        stage: Some(stage.to_string()),
        run: Some(run.to_string()),
        severity: Severity::Error,
        reason,
        fix: fix.to_string(),
        diff: None,
    }
}

/// Blocks of the narrative files at `rev`: (file, block, normalised content).
fn blocks_at(store: &Store, rev: &str) -> Result<Vec<(String, narrative::Block)>> {
    let mut out = Vec::new();
    for f in store.narrative_paths_at(rev)? {
        if let Some(bytes) = store.blob_at(rev, &f)? {
            if let Ok(text) = std::str::from_utf8(&bytes) {
                for b in narrative::parse(text, Syntax::for_path(&f)).blocks {
                    out.push((f.clone(), b));
                }
            }
        }
    }
    Ok(out)
}

pub fn cmd_verify(out: &Out, args: Args) -> Result<u8> {
    let store = Store::discover()?;
    let (base, tip) = match &args.range {
        Some(r) => match r.split_once("..") {
            Some((b, t)) if !b.is_empty() && !t.is_empty() => (Some(b.to_string()), t.to_string()),
            _ => return Err(Error::input(format!("--range '{r}' is not BASE..HEAD"))),
        },
        None => (None, "HEAD".to_string()),
    };
    let commits = store.commits_in_range(base.as_deref(), &tip)?;
    let strict = strict_narrative(&store);
    let mut found: Vec<Found> = Vec::new();
    for c in &commits {
        let (_, problems) = check_files(&store, &Source::Rev(c), &[], strict)?;
        found.extend(problems.into_iter().map(|p| Found {
            commit: c.clone(),
            problem: p,
        }));
    }
    let tip_id = store.resolve_commit(&tip)?;

    // The mirror at the tip must hold what the records hold.
    for path in store.paths_at(&tip_id)? {
        let Some(rest) = path.strip_prefix(&format!("{MIRROR_DIR}/")) else {
            continue;
        };
        let Some((stage, name)) = rest.split_once('/') else {
            continue;
        };
        if name != "manifest.json" {
            continue;
        }
        let Some(bytes) = store.blob_at(&tip_id, &path)? else {
            continue;
        };
        let Ok(m) = crate::model::manifest::RunManifest::from_json(&bytes) else {
            found.push(Found {
                commit: tip_id.clone(),
                problem: problem(
                    &path,
                    stage,
                    "",
                    "the mirrored manifest does not parse".into(),
                    "git workbench show STAGE@latest, then re-run the transition",
                ),
            });
            continue;
        };
        let Some(run) = store.find_run(stage, &m.run_id)? else {
            found.push(Found {
                commit: tip_id.clone(),
                problem: problem(
                    &path,
                    stage,
                    &m.run_id,
                    format!(
                        "the mirror names run {} but the records have no such run",
                        m.run_id
                    ),
                    "fetch the workbench refs, or restore the mirror",
                ),
            });
            continue;
        };
        let chain = store.history(run.tip)?;
        for file in MIRROR_FILES {
            let mp = format!("{MIRROR_DIR}/{stage}/{file}");
            let Some(mirror) = store.blob_at(&tip_id, &mp)? else {
                continue;
            };
            let mut agrees = false;
            for t in &chain {
                if store.record_file(t.commit, file)?.as_deref() == Some(&mirror[..]) {
                    agrees = true;
                    break;
                }
            }
            if !agrees {
                found.push(Found {
                    commit: tip_id.clone(),
                    problem: problem(
                        &mp,
                        stage,
                        &m.run_id,
                        format!("{mp} differs from the records of run {}", m.run_id),
                        "never edit the mirror by hand; the next transition rewrites it",
                    ),
                });
            }
        }
    }

    // Approvals the tip's narratives rely on: bytes, digest and (optionally) signature.
    let require_signed = args.require_signed
        || store
            .config_bool("workbench.requireSigned")
            .unwrap_or(false);
    let allowed = if require_signed {
        Some(allowed_signers(&store, base.as_deref().unwrap_or(&tip_id))?)
    } else {
        None
    };
    let base_blocks = match &base {
        Some(b) => blocks_at(&store, b)?,
        None => Vec::new(),
    };
    let mut blocks = Vec::new();
    let root = store.maybe_workdir().map(|p| p.to_path_buf());
    for (file, b) in blocks_at(&store, &tip_id)? {
        let changed = base.is_some()
            && !base_blocks.iter().any(|(f, o)| {
                f == &file
                    && o.stage == b.stage
                    && o.run == b.run
                    && normalize(&o.content) == normalize(&b.content)
            });
        let mut info = BlockInfo {
            file: file.clone(),
            line: b.begin_line,
            stage: b.stage.clone(),
            run: b.run.clone(),
            approved_by: None,
            approved_at: None,
            interpretation_edited: None,
            signed: None,
            changed,
        };
        if let Some((approval, manifest)) = approved_records(&store, &b.stage, &b.run)? {
            check_approval(&approval, &manifest, &file, &mut found, &tip_id);
            let run = store
                .find_run(&b.stage, &b.run)?
                .expect("approved run exists");
            let signed = store.commit_signature(run.tip).is_some();
            info.approved_by = Some(approval.approved_by.clone());
            info.approved_at = Some(approval.timestamp.clone());
            info.interpretation_edited = Some(approval.interpretation_edited);
            info.signed = Some(signed);
            if let (Some(allowed), Some(dir)) = (&allowed, &root) {
                let (status, detail) =
                    verify_commit(dir, &run.tip.to_string(), allowed.path(), signed);
                if status != SignatureStatus::Good {
                    let word = serde_json::to_value(&status)
                        .expect("status")
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    found.push(Found { commit: tip_id.clone(), problem: problem(&file, &b.stage, &b.run, format!("the approval of run {} is {word} ({detail}); workbench.requireSigned needs a signature by an allowed key", b.run), "approve again with --sign using a key in the base's allowed-signers file") });
                }
            }
            // Outputs still on disk must be the approved bytes.
            if let Some(dir) = &root {
                for (path, hash) in &manifest.outputs {
                    let p = dir.join(path);
                    if p.is_file() {
                        let now = crate::exec::hash::sha256_file(&p).map_err(Error::io(&p))?;
                        if &format!("sha256:{now}") != hash {
                            found.push(Found {
                                commit: tip_id.clone(),
                                problem: problem(
                                    &file,
                                    &b.stage,
                                    &b.run,
                                    format!(
                                        "approved output {path} changed on disk after the approval"
                                    ),
                                    "run the stage again and have the new run approved",
                                ),
                            });
                        }
                    }
                }
            }
        }
        blocks.push(info);
    }

    let errors = found
        .iter()
        .filter(|f| f.problem.severity == Severity::Error)
        .count();
    let format = if out.json { Format::Json } else { args.format };
    match format {
        Format::Json => out.json_value(&json!({
            "commits": commits,
            "blocks": blocks,
            "problems": found,
            "errors": errors,
            "ok": errors == 0,
        })),
        Format::Text => {
            for f in &found {
                out.line(&format!(
                    "{}: {}",
                    &f.commit[..f.commit.len().min(12)],
                    crate::narrative::format_problems(std::slice::from_ref(&f.problem)).trim_end()
                ));
            }
            out.line(&format!(
                "verified {} commit(s), {} narrative block(s): {}",
                commits.len(),
                blocks.len(),
                if errors == 0 {
                    "ok".to_string()
                } else {
                    format!("{errors} problem(s)")
                }
            ));
        }
        Format::Markdown => out.print(&markdown(&commits, &blocks, &found, errors)),
    }
    Ok(if errors > 0 { 1 } else { 0 })
}

fn check_approval(
    approval: &ApprovalRecord,
    manifest: &crate::model::manifest::RunManifest,
    file: &str,
    found: &mut Vec<Found>,
    tip: &str,
) {
    let digest = artifact_digest(&manifest.outputs);
    if approval.artifact_digest != digest || approval.artifacts_approved != manifest.outputs {
        found.push(Found {
            commit: tip.to_string(),
            problem: problem(file, &approval.stage, &approval.run_id, format!("the approval of run {} does not match its manifest's output bytes (digest {} vs {digest})", approval.run_id, approval.artifact_digest), "the records were altered; investigate before trusting this run"),
        });
    }
}

/// The allowed-signers file as of `rev`, in a temporary file for git to read.
fn allowed_signers(store: &Store, rev: &str) -> Result<tempfile::NamedTempFile> {
    let path = store
        .config_string("workbench.allowedSignersFile")
        .unwrap_or_else(|| ".workbench/allowed_signers".to_string());
    let bytes = store.blob_at(rev, &path)?.ok_or_else(|| {
        Error::input(format!(
            "workbench.requireSigned is set but {path} does not exist at {rev}"
        ))
        .hint("commit the allowed-signers file on the base branch first")
    })?;
    let mut tmp = tempfile::NamedTempFile::new()
        .map_err(Error::io(std::path::Path::new("temporary file")))?;
    std::io::Write::write_all(&mut tmp, &bytes).map_err(Error::io(tmp.path()))?;
    Ok(tmp)
}

fn markdown(commits: &[String], blocks: &[BlockInfo], found: &[Found], errors: usize) -> String {
    let mut s = String::new();
    let verdict = if errors == 0 {
        "✅ every narrative block is an approved result"
    } else {
        "❌ problems found"
    };
    s.push_str(&format!("## git-workbench verify: {verdict}\n\n"));
    s.push_str(&format!(
        "{} commit(s) checked, {} narrative block(s) at the tip.\n\n",
        commits.len(),
        blocks.len()
    ));
    if !blocks.is_empty() {
        s.push_str("| file | stage | run | approved by | when | signed | edited | changed |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for b in blocks {
            let yes = |v: Option<bool>| match v {
                Some(true) => "yes",
                Some(false) => "no",
                None => "—",
            };
            s.push_str(&format!(
                "| {}:{} | {} | `{}` | {} | {} | {} | {} | {} |\n",
                b.file,
                b.line,
                b.stage,
                b.run,
                b.approved_by.as_deref().unwrap_or("**not approved**"),
                b.approved_at
                    .as_deref()
                    .map(|t| &t[..t.len().min(10)])
                    .unwrap_or("—"),
                yes(b.signed),
                yes(b.interpretation_edited),
                if b.changed { "**yes**" } else { "no" }
            ));
        }
        s.push('\n');
    }
    if !found.is_empty() {
        s.push_str("### Problems\n\n");
        for f in found {
            let p = &f.problem;
            s.push_str(&format!(
                "- `{}` {}:{} — {} (fix: `{}`)\n",
                &f.commit[..f.commit.len().min(12)],
                p.file,
                p.line,
                p.reason,
                p.fix
            ));
            if let Some(d) = &p.diff {
                s.push_str(&format!("\n```diff\n{}```\n\n", d));
            }
        }
    }
    s
}
