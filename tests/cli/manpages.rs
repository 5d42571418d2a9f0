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
