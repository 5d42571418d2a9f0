//! Dynamic tab completion, driven through real bash: the script `completions bash`
//! prints is sourced in `bash --norc` (with git's own completion, so `git workbench
//! <TAB>` goes through git's dispatcher to `_git_workbench`), COMP_WORDS/COMP_CWORD
//! are set as bash sets them, and COMPREPLY is what the user would be offered.

use crate::common::{path_with_binary, Repo};
use crate::{run_json, train_repo};

const GIT_BASH_COMPLETION: &str = "/usr/share/bash-completion/completions/git";

/// COMPREPLY for `words` (the last one is the word under the cursor), completed as
/// `git workbench ...` through git's completion when `via_git`, else as
/// `git-workbench ...`.
fn complete(repo: &Repo, words: &[&str], via_git: bool) -> Vec<String> {
    let script = repo.root.join("../completion.bash");
    if !script.exists() {
        std::fs::write(&script, repo.wb(&["completions", "bash"]).ok().stdout).unwrap();
    }
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let (prefix, call) = if via_git {
        assert!(
            std::path::Path::new(GIT_BASH_COMPLETION).is_file(),
            "git's bash completion is missing: apt-get install git (.ci/deps installs it)"
        );
        (
            format!("source {GIT_BASH_COMPLETION}; COMP_WORDS=(git workbench"),
            "__git_wrap__git_main",
        )
    } else {
        (
            "COMP_WORDS=(git-workbench".to_string(),
            "_clap_complete_git_workbench git-workbench \"${COMP_WORDS[COMP_CWORD]}\" x",
        )
    };
    let offset = if via_git { 2 } else { 1 };
    let text = format!(
        "{prefix} {words}); source {script}; COMP_CWORD={cword}; COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; {call}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        words = quoted.join(" "),
        script = script.display(),
        cword = words.len() - 1 + offset,
    );
    let o = repo
        .cmd("bash", &["--norc", "--noprofile", "-c", &text])
        .env("PATH", path_with_binary())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn both(repo: &Repo, words: &[&str]) -> Vec<String> {
    let direct = complete(repo, words, false);
    let via_git = complete(repo, words, true);
    assert_eq!(direct, via_git, "{words:?}");
    direct
}

#[test]
fn stages_runs_and_sweeps_complete_from_the_records() {
    let repo = train_repo();
    let first = run_json(&repo, &["train"]);
    let second = run_json(&repo, &["train"]);
    repo.wb(&["review", &first]).ok();
    repo.wb(&["approve", &first, "--yes"]).ok();
    let sweep = repo
        .wb(&["--json", "sweep", "train", "-p", "train.lr=0.1,0.2"])
        .ok()
        .json()["sweep_id"]
        .as_str()
        .unwrap()
        .to_string();

    // stage names, configured ones included (`report` has no run)
    let stages = both(&repo, &["run", ""]);
    assert!(stages.contains(&"train".to_string()), "{stages:?}");
    assert!(stages.contains(&"report".to_string()), "{stages:?}");
    assert_eq!(both(&repo, &["run", "tr"]), vec!["train"]);
    assert_eq!(both(&repo, &["log", "rep"]), vec!["report"]);

    // run ids, STAGE@latest, STAGE@approved (only a stage that has one)
    let runs = both(&repo, &["show", ""]);
    for want in [&first, &second, "train@latest", "train@approved"] {
        assert!(runs.iter().any(|r| r == want), "{want} not in {runs:?}");
    }
    assert!(!runs.iter().any(|r| r == "report@latest"), "{runs:?}");
    assert_eq!(both(&repo, &["approve", "train@a"]), vec!["train@approved"]);
    assert_eq!(both(&repo, &["review", "train@"]).len(), 2);
    // a short id completes to the run it names; STAGE/PREFIX too
    assert_eq!(both(&repo, &["card", &second[..19]]), vec![second.clone()]);
    let slash = both(&repo, &["checkout", &format!("train/{}", &first[..19])]);
    assert_eq!(slash, vec![format!("train/{first}")]);

    // sweep ids, for compare --sweep; flags and subcommands still complete
    assert_eq!(
        both(&repo, &["compare", "--sweep", ""]),
        vec![sweep.clone()]
    );
    assert_eq!(both(&repo, &["compare", "--sw"]), vec!["--sweep"]);
    assert_eq!(both(&repo, &["sw"]), vec!["sweep"]);
    // a command's STAGE option, found by its value name
    assert_eq!(both(&repo, &["compare", "--stage", "tr"]), vec!["train"]);
    // and a command nobody listed here: import manifest's --stage
    assert_eq!(
        both(&repo, &["import", "manifest", "--stage", "tr"]),
        vec!["train"]
    );
}

#[test]
fn git_workbench_completes_after_gits_own_options() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    // `git -c a=b workbench show <TAB>`: bash splits at '=', as it does here
    let text = format!(
        "source {GIT_BASH_COMPLETION}; source <(git-workbench completions bash); COMP_WORDS=(git -c a = b workbench show ''); COMP_CWORD=7; COMP_LINE='git -c a=b workbench show '; COMP_POINT=${{#COMP_LINE}}; __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let o = repo
        .cmd("bash", &["--norc", "--noprofile", "-c", &text])
        .env("PATH", path_with_binary())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines().any(|l| l == id),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // and git offers `workbench` among its commands
    let text = format!(
        "source {GIT_BASH_COMPLETION}; COMP_WORDS=(git workbe); COMP_CWORD=1; COMP_LINE='git workbe'; COMP_POINT=10; __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let o = repo
        .cmd("bash", &["--norc", "--noprofile", "-c", &text])
        .env("PATH", path_with_binary())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("workbench"));
}

/// A record from another clone is hostile: a sweep id made of shell syntax must never
/// reach the command line, where bash would insert it as typed.
#[test]
fn hostile_record_values_are_never_offered() {
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    let r = format!("refs/workbench/runs/train/{id}");
    let hostile = "sweep-$(touch pwned);`touch pwned2` *";
    // rewrite the run's manifest with plumbing, as a forged fetched record would be
    let manifest = repo.git(&["show", &format!("{r}:manifest.json")]);
    let mut m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    m["sweep_id"] = hostile.into();
    repo.write("forged.json", &m.to_string());
    let blob = repo.git(&["hash-object", "-w", "forged.json"]);
    let tree: String = repo
        .git(&["ls-tree", &r])
        .lines()
        .map(|l| {
            if l.ends_with("\tmanifest.json") {
                format!("100644 blob {blob}\tmanifest.json\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let mut mk = repo.cmd("git", &["mktree"]);
    mk.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = mk.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(tree.as_bytes())
        .unwrap();
    let tree_id = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let commit = repo.git(&["commit-tree", tree_id.trim(), "-p", &r, "-m", "forged"]);
    repo.git(&["update-ref", &r, &commit]);
    std::fs::remove_file(repo.path("forged.json")).unwrap();

    assert_eq!(
        both(&repo, &["compare", "--sweep", ""]),
        Vec::<String>::new()
    );
    assert!(both(&repo, &["compare", "--sweep", "sweep-"]).is_empty());
    assert!(!repo.path("pwned").exists() && !repo.path("pwned2").exists());
    // the run id itself still completes: it is validated where it is read
    assert!(both(&repo, &["show", ""]).contains(&id));
}

#[test]
fn outside_a_repository_completion_offers_commands_and_no_error() {
    let dir = Repo::bare_dir();
    assert_eq!(complete(&dir, &["sh"], false), vec!["show"]);
    let none = complete(&dir, &["show", "x"], false);
    assert!(none.is_empty(), "{none:?}");
    // the other shells get a registration that calls the binary back
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let s = dir.wb(&["completions", shell]).ok().stdout;
        assert!(s.contains("GIT_WORKBENCH_COMPLETE"), "{shell}: {s}");
    }
    dir.wb(&["completions", "tcsh"]).fails(2, "tcsh");
}

/// The script installed where bash-completion loads scripts on demand: git's
/// completion loads `git-workbench` when it meets the subcommand, so `git workbench
/// <TAB>` completes with nothing in ~/.bashrc.
#[test]
fn bash_completion_loads_the_script_on_demand_for_git_workbench() {
    const LOADER: &str = "/usr/share/bash-completion/bash_completion";
    assert!(
        std::path::Path::new(LOADER).is_file(),
        "bash-completion is missing: apt-get install bash-completion (.ci/deps installs it)"
    );
    let repo = train_repo();
    let id = run_json(&repo, &["train"]);
    let dir = repo.home.join(".local/share/bash-completion/completions");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("git-workbench"),
        repo.wb(&["completions", "bash"]).ok().stdout,
    )
    .unwrap();
    let text = format!(
        "source {LOADER}; _completion_loader git; COMP_WORDS=(git workbench show ''); COMP_CWORD=3; COMP_LINE='git workbench show '; COMP_POINT=${{#COMP_LINE}}; __git_wrap__git_main; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let o = repo
        .cmd("bash", &["--norc", "--noprofile", "-c", &text])
        .env("PATH", path_with_binary())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.lines().any(|l| l == id) && out.lines().any(|l| l == "train@latest"),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
