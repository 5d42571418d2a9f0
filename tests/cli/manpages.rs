//! `install-man` and `git workbench --help`: the git way of getting help.

use crate::common::Repo;

#[test]
fn man_pages_cover_every_subcommand_and_git_finds_them() {
    let repo = Repo::bare_dir();
    let man1 = repo.root.join("share/man/man1");
    let j = repo
        .wb(&["--json", "install-man", "--dir", man1.to_str().unwrap()])
        .ok()
        .json();
    assert!(j["pages"].as_array().unwrap().len() > 30);
    for page in [
        "git-workbench",
        "git-workbench-run",
        "git-workbench-sync",
        "git-workbench-narrative-new",
    ] {
        let text = std::fs::read_to_string(man1.join(format!("{page}.1"))).unwrap();
        assert!(
            text.starts_with(".ie \\n(.g .ds Aq") || text.contains(".TH"),
            "{page}"
        );
        assert!(
            text.contains(&format!(".TH {page} 1")),
            "{page}: {}",
            &text[..200.min(text.len())]
        );
    }
    let sync = std::fs::read_to_string(man1.join("git-workbench-sync.1")).unwrap();
    assert!(sync.contains("git workbench sync"), "{sync}");
    // `git workbench --help` becomes `git help workbench`, i.e. `man git-workbench`;
    // with the pages on MANPATH, git shows ours
    crate::common::require_program("man", "man-db");
    {
        // git takes `workbench` for a command (git-workbench.1) only when it is on PATH
        let o = repo
            .cmd("git", &["workbench", "--help"])
            .env("PATH", crate::common::path_with_binary())
            .env("MANPATH", repo.root.join("share/man"))
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("git-workbench"),
            "{text}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    repo.wb(&["install-man", "--dir", "/proc/nope"])
        .fails(2, "/proc/nope");
}

/// Without `install-man`: the first command writes the pages next to the binary
/// (`<prefix>/bin/../share/man/man1`), where man-db finds the pages of a program on
/// PATH, so `git workbench --help` (git runs `man git-workbench`) shows ours, with
/// EXAMPLES. A fresh HOME and no MANPATH, as a new user has it.
#[test]
fn git_workbench_help_works_after_the_first_command_without_install_man() {
    crate::common::require_program("man", "man-db");
    let repo = Repo::bare_dir();
    let prefix = repo.root.join("../prefix");
    let bin = prefix.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(crate::common::BIN, bin.join("git-workbench")).unwrap();
    let mut path = vec![bin.clone()];
    path.extend(std::env::split_paths(&crate::common::test_path()));
    let path = std::env::join_paths(path).unwrap();
    let git = |args: &[&str]| {
        let o = repo
            .cmd("git", args)
            .env("PATH", &path)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    // any command, even one that fails (not a repository here), installs them
    git(&["workbench", "status"]);
    let page = prefix.join("share/man/man1/git-workbench-approve.1");
    assert!(page.is_file());
    let (text, err) = git(&["workbench", "--help"]);
    assert!(text.contains("git-workbench"), "{text}{err}");
    assert!(text.contains("EXAMPLES"), "{text}");
    assert!(text.contains("git workbench run train"), "{text}");
    // a subcommand's --help reaches the binary: the same examples end it
    let (text, _) = git(&["workbench", "approve", "--help"]);
    assert!(text.contains("Examples:"), "{text}");
    assert!(
        text.contains("git workbench approve train@latest --yes"),
        "{text}"
    );
    // and man finds the subcommand pages too
    let o = repo
        .cmd("man", &["git-workbench-approve"])
        .env("PATH", &path)
        .env("MANPAGER", "cat")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("EXAMPLES") && text.contains("--sign"),
        "{text}"
    );
    // a newer binary rewrites them; a current one leaves them alone
    let before = std::fs::metadata(&page).unwrap().modified().unwrap();
    git(&["workbench", "status"]);
    assert_eq!(
        std::fs::metadata(&page).unwrap().modified().unwrap(),
        before
    );
}
