//! Examples, written once per command: the EXAMPLES section of its man page and the
//! end of its `--help`. Keyed by the command's path (`narrative new`).

/// (what it does, the command line).
pub type Example = (&'static str, &'static str);

pub fn examples(path: &str) -> &'static [Example] {
    match path {
        "" => &[
            ("Set up a repository, run a stage and see where it stands", "git workbench init && git workbench run train && git workbench status"),
            ("What to do next, for a person or an agent", "git workbench next"),
            ("A walk through the whole loop in a scratch repository", "git workbench demo /tmp/wb-demo"),
        ],
        "init" => &[
            ("Write a commented workbench.toml and configure notes and drivers", "git workbench init"),
            ("The same, and install the pre-commit hook", "git workbench init --hooks"),
        ],
        "run" => &[
            ("Run the train stage and record it", "git workbench run train"),
            ("Override a parameter for this run only", "git workbench run train -p train.lr=0.05"),
            ("Record a command given on the command line", "git workbench run explore -- python explore.py --quick"),
        ],
        "sweep" => &[
            ("One run per combination, two at a time", "git workbench sweep train -p train.lr=0.01,0.1 -p 'train.depth=range(2,5)' -j 2"),
        ],
        "import hydra" => &[
            ("Record the runs of a Hydra multirun", "git workbench import hydra multirun/2026-03-08/12-00-00 --stage train"),
        ],
        "import manifest" => &[
            ("Record the runs an orchestrator described in manifests", "git workbench import manifest ci-artifacts/"),
            ("One manifest file, recorded under a stage of this repository", "git workbench import manifest run.json --stage train"),
        ],
        "status" => &[
            ("Every stage's state, latest and approved run", "git workbench status"),
            ("One stage, as JSON", "git workbench --json status train"),
        ],
        "show" => &[
            ("The latest run of a stage", "git workbench show train@latest"),
            ("A run by a short prefix of its id, with its log", "git workbench show 20260308T12 --log"),
        ],
        "log" => &[("The runs of one stage, newest first", "git workbench log train -n 10")],
        "review" => &[("Run the self-review checks on the latest run", "git workbench review train@latest")],
        "card" => &[(
            "Write the card with an interpretation",
            "git workbench card train@latest -m 'Accuracy rose to 0.91; the new feature helps.'",
        )],
        "approve" => &[
            ("Show the card and ask before approving", "git workbench approve train@latest"),
            ("Approve without asking, with a note, signed", "git workbench approve train@latest --yes -m 'checked the plots' --sign"),
            ("Under another identity for this one command", "git -c user.name='Ada Lovelace' -c user.email=ada@example.com workbench approve train@latest"),
        ],
        "reject" => &[(
            "Reject with what must change, and a parameter to try",
            "git workbench reject train@latest --issue 'leaks the test set' --suggest train.split=0.2",
        )],
        "next" => &[("The next item that needs a human or a run", "git workbench next")],
        "checkout" => &[
            ("Restore the approved run's outputs in place", "git workbench checkout train@approved"),
            ("Into another directory", "git workbench checkout train@approved --to /tmp/approved"),
        ],
        "compare" => &[
            ("Compare the runs of a sweep, best first", "git workbench compare --sweep sweep-20260308T120000Z-0a1b --sort=-accuracy"),
            ("The approved runs of two stages as CSV", "git workbench compare --stage train --stage eval --state approved --format csv"),
        ],
        "report" => &[("A static HTML report, then open it", "git workbench report -o site --open")],
        "diff" => &[("How the comparison table changed since main", "git workbench diff main HEAD")],
        "narrative new" => &[(
            "A narrative file with a slot for the train stage",
            "git workbench narrative new train reports/findings.md --table",
        )],
        "narrative check" => &[("Check the narratives as a commit would", "git workbench narrative check")],
        "verify" => &[
            ("Check everything a pull request changes", "git workbench verify --range origin/main..HEAD"),
            ("Require signed approvals for this run of verify", "git -c workbench.requireSigned=true workbench verify"),
        ],
        "sync" => &[("Fetch, merge and push the records", "git workbench sync origin")],
        "doctor" => &[("Find and explain problems in this clone's setup", "git workbench doctor")],
        "completions" => &[
            ("bash, loaded at shell start (add to ~/.bashrc)", "source <(git-workbench completions bash)"),
            ("zsh (add to ~/.zshrc)", "source <(git-workbench completions zsh)"),
        ],
        "install-man" => &[("Man pages where man looks for a personal install", "git workbench install-man --dir ~/.local/share/man/man1")],
        _ => &[],
    }
}

/// The examples as the end of `--help`.
pub fn help_text(examples: &[Example]) -> String {
    let mut out = String::from("Examples:\n");
    for (what, cmd) in examples {
        out.push_str(&format!("  # {what}\n  {cmd}\n\n"));
    }
    out.trim_end().to_string()
}

/// Adds the examples to `cmd` (at `path`) and its subcommands, as `after_long_help`.
pub fn attach(cmd: clap::Command, path: &str) -> clap::Command {
    let ex = examples(path);
    let cmd = if ex.is_empty() {
        cmd
    } else {
        cmd.after_long_help(help_text(ex))
    };
    cmd.mut_subcommands(|sub| {
        let p = if path.is_empty() {
            sub.get_name().to_string()
        } else {
            format!("{path} {}", sub.get_name())
        };
        attach(sub, &p)
    })
}

#[cfg(test)]
mod tests {
    /// Every example parses as the command it illustrates.
    #[test]
    fn every_example_parses() {
        let mut seen = 0;
        fn walk(cmd: &clap::Command, path: &str, seen: &mut usize) {
            for (_, line) in super::examples(path) {
                for part in line.split(" && ") {
                    let words = shlex::split(part).expect(part);
                    let Some(at) = words
                        .iter()
                        .position(|w| w == "workbench" || w == "git-workbench")
                    else {
                        continue;
                    };
                    if words[0] == "source" {
                        continue;
                    }
                    let args = std::iter::once("git-workbench".to_string())
                        .chain(words[at + 1..].iter().cloned());
                    if let Err(e) = super::super::command().try_get_matches_from(args) {
                        panic!("{part}: {e}");
                    }
                    *seen += 1;
                }
            }
            for sub in cmd.get_subcommands() {
                let p = if path.is_empty() {
                    sub.get_name().to_string()
                } else {
                    format!("{path} {}", sub.get_name())
                };
                walk(sub, &p, seen);
            }
        }
        walk(&super::super::command(), "", &mut seen);
        assert!(seen > 30, "{seen}");
    }
}
