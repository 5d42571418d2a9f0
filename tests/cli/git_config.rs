//! `git -c key=value workbench ...`: the configuration git passes to a subcommand in
//! `GIT_CONFIG_PARAMETERS` (and `GIT_CONFIG_COUNT`), which libgit2 does not read, is
//! honoured for the identity and every `workbench.*` key. Driven through the real git
//! running the built binary as its subcommand.

use crate::common::{path_with_binary, Repo, Run};
use crate::{run_json, train_repo};

/// A reviewed run of `train` whose repository has its own identity in its config.
fn reviewed() -> (Repo, String) {
    let repo = train_repo();
    repo.git(&["config", "user.name", "Local Config"]);
    repo.git(&["config", "user.email", "local@example.com"]);
    let id = run_json(&repo, &["train"]);
    repo.wb(&["review", &id]).ok();
    (repo, id)
}

/// `git ARGS` with the built git-workbench on PATH and no identity in the environment
/// (git's GIT_AUTHOR_* would win over every config key, as it does in git).
fn git_wb(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = repo.cmd("git", args);
    c.env("PATH", path_with_binary());
    for v in [
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
    ] {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `Name <email>` of git's own author ident under the same arguments and environment.
fn git_author(repo: &Repo, c_args: &[&str], env: &[(&str, &str)]) -> String {
    let mut args = c_args.to_vec();
    args.extend(["var", "GIT_AUTHOR_IDENT"]);
    let r = git_wb(repo, &args, env).ok();
    let ident = r.stdout.trim();
    ident[..ident.find('>').unwrap() + 1].to_string()
}

#[test]
fn git_c_sets_the_identity_an_approval_is_recorded_under() {
    let (repo, id) = reviewed();
    let name = "O'Brien \"Bob\" = Jr";
    let c_args = [
        "-c",
        &format!("user.name={name}") as &str,
        "-c",
        "User.Email=bob@example.com",
    ];
    let mut args = c_args.to_vec();
    args.extend(["workbench", "--json", "approve", &id, "--yes"]);
    let j = git_wb(&repo, &args, &[]).ok().json();
    let by = j["approval"]["approved_by"].as_str().unwrap().to_string();
    assert_eq!(by, format!("{name} <bob@example.com>"));
    // exactly the identity git itself takes under the same -c
    assert_eq!(by, git_author(&repo, &c_args, &[]));
    // and the record commit is committed under it
    let committer = repo.git(&[
        "log",
        "-1",
        "--format=%cn <%ce>",
        &format!("refs/workbench/runs/train/{id}"),
    ]);
    assert_eq!(committer, format!("{name} <bob@example.com>"));
    repo.fsck();
}

#[test]
fn identity_precedence_is_gits_own() {
    let (repo, _) = reviewed();
    // author.* beats user.*; GIT_AUTHOR_* beats both; the repository's config is last
    type Env<'a> = &'a [(&'a str, &'a str)];
    let cases: [(&[&str], Env); 4] = [
        (&[], &[]),
        (
            &["-c", "author.name=Author Key", "-c", "user.name=User Key"],
            &[],
        ),
        (
            &["-c", "user.name=User Key"],
            &[
                ("GIT_AUTHOR_NAME", "Env Name"),
                ("GIT_AUTHOR_EMAIL", "env@example.com"),
            ],
        ),
        (
            &[],
            &[
                ("GIT_CONFIG_COUNT", "1"),
                ("GIT_CONFIG_KEY_0", "user.email"),
                ("GIT_CONFIG_VALUE_0", "count@example.com"),
            ],
        ),
    ];
    for (c_args, env) in cases {
        let id = run_json(&repo, &["train"]);
        repo.wb(&["review", &id]).ok();
        let mut args = c_args.to_vec();
        args.extend(["workbench", "--json", "approve", &id, "--yes"]);
        let j = git_wb(&repo, &args, env).ok().json();
        assert_eq!(
            j["approval"]["approved_by"].as_str().unwrap(),
            git_author(&repo, c_args, env),
            "{c_args:?} {env:?}"
        );
    }
}

#[test]
fn git_config_count_sets_the_identity_too() {
    let (repo, id) = reviewed();
    let env = [
        ("GIT_CONFIG_COUNT", "2"),
        ("GIT_CONFIG_KEY_0", "user.name"),
        ("GIT_CONFIG_VALUE_0", "Count Form"),
        ("GIT_CONFIG_KEY_1", "user.email"),
        ("GIT_CONFIG_VALUE_1", "count@example.com"),
    ];
    // run directly, as a script or CI job exporting the variables would
    let mut c = repo.cmd(crate::common::BIN, &["--json", "approve", &id, "--yes"]);
    c.env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        j["approval"]["approved_by"],
        "Count Form <count@example.com>"
    );
}

#[test]
fn workbench_keys_given_with_git_c_are_honoured() {
    let (repo, id) = reviewed();
    // workbench.signApprovals: approving now needs a signing key
    git_wb(
        &repo,
        &[
            "-c",
            "workbench.signApprovals",
            "workbench",
            "approve",
            &id,
            "--yes",
        ],
        &[],
    )
    .fails(2, "user.signingKey");
    // the same through GIT_CONFIG_COUNT, with GIT_CONFIG_PARAMETERS given later winning
    let count = [
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "Workbench.SignApprovals"),
        ("GIT_CONFIG_VALUE_0", "yes"),
    ];
    git_wb(&repo, &["workbench", "approve", &id, "--yes"], &count).fails(2, "user.signingKey");
    git_wb(
        &repo,
        &[
            "-c",
            "workbench.signApprovals=false",
            "workbench",
            "approve",
            &id,
            "--yes",
        ],
        &count,
    )
    .ok();
    // a value with spaces, quotes, '=' and a newline reaches workbench intact:
    // workbench.requireSigned and workbench.allowedSignersFile, named in verify's error
    let path = "my dir/it's \"signers\" = x\nsecond line";
    let r = git_wb(
        &repo,
        &[
            "-c",
            "workbench.requireSigned=true",
            "-c",
            &format!("workbench.allowedSignersFile={path}"),
            "workbench",
            "verify",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains(&format!("but {path} does not exist")),
        "{}",
        r.stderr
    );
    // without -c the repository's config applies: nothing requires signatures
    let plain = git_wb(&repo, &["workbench", "verify"], &[]);
    assert!(
        !plain.stderr.contains("signed approvals are required"),
        "{}",
        plain.stderr
    );
}

#[test]
fn a_malformed_git_config_parameters_is_refused_as_git_refuses_it() {
    let (repo, id) = reviewed();
    for (env, message) in [
        (
            [("GIT_CONFIG_PARAMETERS", "'user.name'=unquoted")].as_slice(),
            "bogus format in GIT_CONFIG_PARAMETERS",
        ),
        (
            [("GIT_CONFIG_PARAMETERS", "'user.name'='unterminated")].as_slice(),
            "bogus format in GIT_CONFIG_PARAMETERS",
        ),
        (
            [("GIT_CONFIG_PARAMETERS", "'no-section'='x'")].as_slice(),
            "key does not contain a section: no-section",
        ),
        (
            [("GIT_CONFIG_COUNT", "two")].as_slice(),
            "bogus count in GIT_CONFIG_COUNT",
        ),
        (
            [("GIT_CONFIG_COUNT", "1")].as_slice(),
            "missing config key GIT_CONFIG_KEY_0",
        ),
    ] {
        let mut c = repo.cmd(crate::common::BIN, &["approve", &id, "--yes"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{env:?}: {stderr}");
        assert_eq!(
            stderr.lines().next().unwrap(),
            format!("error: {message}"),
            "{env:?}"
        );
        // git refuses the same environment with the same words
        let mut g = repo.cmd("git", &["config", "user.name"]);
        for (k, v) in env {
            g.env(k, v);
        }
        let go = g.output().unwrap();
        assert!(!go.status.success());
        assert!(
            String::from_utf8_lossy(&go.stderr).contains(message),
            "git: {}",
            String::from_utf8_lossy(&go.stderr)
        );
    }
    // nothing was approved
    let j = repo.wb(&["--json", "show", &id]).ok().json();
    assert_eq!(j["state"], "reviewed");
}
