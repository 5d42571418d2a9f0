use super::*;
use std::os::unix::fs::PermissionsExt;

/// A tree with a `.git` directory (holding the private directory the views live in)
/// and the given files.
struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    fn with(files: &[(&str, &str)]) -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        fs::create_dir_all(root.join(".git/workbench")).unwrap();
        fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        let t = Tree { _tmp: tmp, root };
        for (p, c) in files {
            t.write(p, c);
        }
        t
    }

    fn write(&self, rel: &str, content: &str) {
        let p = self.root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root.join(rel)).unwrap()
    }

    fn exists(&self, rel: &str) -> bool {
        fs::symlink_metadata(self.root.join(rel)).is_ok()
    }

    fn views(&self) -> PathBuf {
        self.root.join(".git/workbench/views")
    }

    fn view(&self, name: &str, file: &str, bytes: &str) -> View {
        View::create(&ViewSpec {
            views: &self.views(),
            name,
            root: &self.root,
            file,
            bytes: bytes.as_bytes(),
            code: &[],
            protect: &[self.root.join(".git/workbench")],
        })
        .unwrap()
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    n.sort();
    n
}

fn replace_atomically(path: &Path, content: &str) {
    let tmp = path.with_file_name("tmp-write");
    fs::write(&tmp, content).unwrap();
    fs::rename(&tmp, path).unwrap();
}

#[test]
fn the_view_shows_the_rendered_file_and_the_tree_keeps_its_own() {
    let t = Tree::with(&[
        ("params.yaml", "lr: 0.1 # default\n"),
        ("train.py", "print(1)\n"),
        ("data/in.csv", "a\n1\n"),
    ]);
    fs::set_permissions(
        t.root.join("params.yaml"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let v = t.view("r1", "params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    assert!(p.starts_with(t.views()));
    assert_eq!(
        fs::read_to_string(p.join("params.yaml")).unwrap(),
        "lr: 0.5\n"
    );
    let mode = fs::metadata(p.join("params.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "the file's mode is kept");
    // every other entry is a link to the tree's
    assert_eq!(
        fs::read_to_string(p.join("train.py")).unwrap(),
        "print(1)\n"
    );
    assert_eq!(fs::read_to_string(p.join("data/in.csv")).unwrap(), "a\n1\n");
    assert!(fs::symlink_metadata(p.join("data"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read_link(p.join(".git")).unwrap(), t.root.join(".git"));
    // whatever the command does to its params file stays in the view
    fs::write(p.join("params.yaml"), "lr: 9\n").unwrap();
    replace_atomically(&p.join("params.yaml"), "lr: 10\n");
    fs::set_permissions(p.join("params.yaml"), fs::Permissions::from_mode(0o777)).unwrap();
    let w = v.finish();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("changed its params file 'params.yaml'"),
        "{w:?}"
    );
    assert_eq!(t.read("params.yaml"), "lr: 0.1 # default\n");
    let mode = fs::metadata(t.root.join("params.yaml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640);
    assert!(!p.exists(), "the view is removed");
    assert_eq!(names(&t.views()), Vec::<String>::new());
}

#[test]
fn created_replaced_renamed_and_removed_entries_reach_the_tree() {
    let t = Tree::with(&[
        ("params.yaml", "lr: 0.1\n"),
        ("report.txt", "old report\n"),
        ("notes.txt", "n1\n"),
        ("old.txt", "to delete\n"),
        ("a.txt", "A\n"),
        ("x.txt", "X\n"),
        ("y.txt", "Y\n"),
        ("runs/keep.txt", "k\n"),
    ]);
    let report_ino = fs::metadata(t.root.join("report.txt")).unwrap().ino();
    let v = t.view("r1", "params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    fs::write(p.join("metrics.json"), "{}").unwrap();
    fs::create_dir_all(p.join("plots/sub")).unwrap();
    fs::write(p.join("plots/sub/a.png"), "png").unwrap();
    replace_atomically(&p.join("report.txt"), "new report\n");
    // through a link: the tree changes at once, as in the tree itself
    fs::OpenOptions::new()
        .append(true)
        .open(p.join("notes.txt"))
        .unwrap()
        .write_all(b"n2\n")
        .unwrap();
    assert_eq!(t.read("notes.txt"), "n1\nn2\n");
    fs::write(p.join("runs/new.txt"), "through the link").unwrap();
    fs::remove_file(p.join("old.txt")).unwrap();
    fs::rename(p.join("a.txt"), p.join("b.txt")).unwrap();
    // a swap
    fs::rename(p.join("x.txt"), p.join("tmp")).unwrap();
    fs::rename(p.join("y.txt"), p.join("x.txt")).unwrap();
    fs::rename(p.join("tmp"), p.join("y.txt")).unwrap();
    // a link to a place in the view points at the same place in the tree
    symlink(p.join("report.txt"), p.join("latest")).unwrap();
    assert_eq!(v.finish(), Vec::<String>::new());
    assert_eq!(t.read("metrics.json"), "{}");
    assert_eq!(t.read("plots/sub/a.png"), "png");
    assert_eq!(t.read("report.txt"), "new report\n");
    assert_ne!(
        fs::metadata(t.root.join("report.txt")).unwrap().ino(),
        report_ino,
        "replaced, not written through"
    );
    assert_eq!(t.read("runs/new.txt"), "through the link");
    assert!(!t.exists("old.txt"));
    assert!(!t.exists("a.txt"));
    assert_eq!(t.read("b.txt"), "A\n");
    assert!(!fs::symlink_metadata(t.root.join("b.txt"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(t.read("x.txt"), "Y\n");
    assert_eq!(t.read("y.txt"), "X\n");
    assert_eq!(
        fs::read_link(t.root.join("latest")).unwrap(),
        t.root.join("report.txt")
    );
    assert_eq!(t.read("params.yaml"), "lr: 0.1\n");
    assert_eq!(
        names(&t.root),
        [
            ".git",
            "b.txt",
            "latest",
            "metrics.json",
            "notes.txt",
            "params.yaml",
            "plots",
            "report.txt",
            "runs",
            "x.txt",
            "y.txt"
        ],
        "no temporary name is left"
    );
}

#[test]
fn a_params_file_in_a_subdirectory_makes_that_directory_real() {
    let t = Tree::with(&[
        ("conf/params.yaml", "lr: 0.1\n"),
        ("conf/other.yaml", "o: 1\n"),
        ("conf/stale.txt", "s\n"),
        ("top.txt", "t\n"),
    ]);
    let v = t.view("r1", "./conf/../conf/params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    assert!(fs::symlink_metadata(p.join("conf")).unwrap().is_dir());
    assert_eq!(
        fs::read_to_string(p.join("conf/params.yaml")).unwrap(),
        "lr: 0.5\n"
    );
    assert_eq!(
        fs::read_to_string(p.join("conf/other.yaml")).unwrap(),
        "o: 1\n"
    );
    fs::write(p.join("conf/derived.txt"), "d").unwrap();
    fs::remove_file(p.join("conf/stale.txt")).unwrap();
    fs::write(p.join("metrics.json"), "{}").unwrap();
    fs::rename(p.join("conf/other.yaml"), p.join("other.yaml")).unwrap();
    assert_eq!(
        v.finish(),
        Vec::<String>::new(),
        "the file untouched, no warning"
    );
    assert_eq!(t.read("conf/derived.txt"), "d");
    assert!(!t.exists("conf/stale.txt"));
    assert_eq!(t.read("metrics.json"), "{}");
    assert_eq!(t.read("other.yaml"), "o: 1\n");
    assert!(!t.exists("conf/other.yaml"));
    assert_eq!(t.read("conf/params.yaml"), "lr: 0.1\n");
    assert_eq!(names(&t.root.join("conf")), ["derived.txt", "params.yaml"]);
}

#[test]
fn git_the_private_directory_and_the_params_file_are_never_touched() {
    let t = Tree::with(&[("conf/params.yaml", "lr: 0.1\n"), ("f.txt", "f\n")]);
    let v = t.view("r1", "conf/params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    fs::remove_file(p.join(".git")).unwrap();
    fs::write(p.join(".git"), "gitdir: /somewhere/else\n").unwrap();
    fs::create_dir(p.join("conf/.git")).unwrap();
    fs::write(p.join("conf/.GIT"), "x").unwrap();
    fs::rename(p.join("conf/params.yaml"), p.join("conf/moved.yaml")).unwrap();
    let w = v.finish();
    assert!(fs::metadata(t.root.join(".git")).unwrap().is_dir());
    assert_eq!(t.read(".git/HEAD"), "ref: refs/heads/main\n");
    assert!(t.root.join(".git/workbench").is_dir());
    assert!(!t.exists("conf/.git") && !t.exists("conf/.GIT"));
    assert!(
        !t.exists("conf/moved.yaml"),
        "the rendered file never leaves"
    );
    assert_eq!(t.read("conf/params.yaml"), "lr: 0.1\n");
    assert_eq!(w.len(), 5, "{w:?}");
    assert!(
        w.iter().any(|m| m.contains("changed its params file")),
        "{w:?}"
    );
    assert!(w.iter().any(|m| m.contains("'.git'")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("'conf/.GIT'")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("conf/moved.yaml")), "{w:?}");
}

#[test]
fn another_name_for_the_params_file_shows_the_rendered_bytes_too() {
    let t = Tree::with(&[("conf/params.yaml", "lr: 0.1\n")]);
    fs::hard_link(
        t.root.join("conf/params.yaml"),
        t.root.join("conf/hard.yaml"),
    )
    .unwrap();
    symlink("conf/params.yaml", t.root.join("soft.yaml")).unwrap();
    symlink("conf", t.root.join("cfg")).unwrap();
    symlink(".", t.root.join("self")).unwrap();
    let v = t.view("r1", "conf/params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    for alias in [
        "conf/hard.yaml",
        "soft.yaml",
        "cfg/params.yaml",
        "self/conf/params.yaml",
    ] {
        assert_eq!(
            fs::read_to_string(p.join(alias)).unwrap(),
            "lr: 0.5\n",
            "{alias}"
        );
    }
    fs::write(p.join("soft.yaml"), "lr: 7\n").unwrap();
    fs::write(p.join("cfg/params.yaml"), "lr: 8\n").unwrap();
    let w = v.finish();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("changed its params file"), "{w:?}");
    assert_eq!(t.read("conf/params.yaml"), "lr: 0.1\n");
    assert_eq!(
        fs::read_link(t.root.join("soft.yaml")).unwrap(),
        Path::new("conf/params.yaml")
    );
    assert_eq!(
        fs::read_link(t.root.join("cfg")).unwrap(),
        Path::new("conf")
    );
}

#[test]
fn a_directory_whose_link_is_removed_is_kept_and_one_replaced_is_replaced() {
    let t = Tree::with(&[
        ("params.yaml", "lr: 0.1\n"),
        ("scratch/s.txt", "s\n"),
        ("out/old.csv", "old\n"),
        ("archive/a.txt", "a\n"),
        ("results/r.csv", "r\n"),
    ]);
    let v = t.view("r1", "params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    fs::remove_file(p.join("scratch")).unwrap(); // `rm -rf scratch`
    fs::remove_file(p.join("out")).unwrap(); // `rm -rf out && mkdir out`
    fs::create_dir(p.join("out")).unwrap();
    fs::write(p.join("out/new.csv"), "new\n").unwrap();
    // `mv results archive/`: the link lands in the tree's archive
    fs::rename(p.join("results"), p.join("archive/results")).unwrap();
    let w = v.finish();
    assert_eq!(t.read("scratch/s.txt"), "s\n");
    assert_eq!(names(&t.root.join("out")), ["new.csv"]);
    assert_eq!(t.read("results/r.csv"), "r\n", "nothing is lost");
    assert_eq!(t.read("archive/results/r.csv"), "r\n");
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(
        w.iter().all(|m| m.contains("the working tree keeps it")),
        "{w:?}"
    );
}

#[test]
fn a_new_directory_merges_into_one_that_appeared_meanwhile() {
    let t = Tree::with(&[("params.yaml", "lr: 0.1\n")]);
    let v = t.view("r1", "params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    fs::create_dir_all(p.join("plots")).unwrap();
    fs::write(p.join("plots/mine.png"), "mine").unwrap();
    fs::write(p.join("plots/both.png"), "mine").unwrap();
    fs::write(p.join("summary.txt"), "mine").unwrap();
    fs::write(p.join("clash"), "a file").unwrap();
    // a parallel run carried its own meanwhile
    t.write("plots/theirs.png", "theirs");
    t.write("plots/both.png", "theirs");
    t.write("summary.txt", "theirs");
    t.write("clash/inside.txt", "theirs");
    let w = v.finish();
    assert_eq!(
        names(&t.root.join("plots")),
        ["both.png", "mine.png", "theirs.png"]
    );
    assert_eq!(
        t.read("plots/both.png"),
        "mine",
        "the later writer wins, as in place"
    );
    assert_eq!(t.read("summary.txt"), "mine");
    assert_eq!(
        t.read("clash/inside.txt"),
        "theirs",
        "never a directory for a file"
    );
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].contains("'clash'") && w[0].contains("directory appeared"),
        "{w:?}"
    );
}

#[test]
fn a_removed_params_directory_or_view_removes_nothing() {
    let t = Tree::with(&[
        ("conf/params.yaml", "lr: 0.1\n"),
        ("conf/keep.yaml", "k\n"),
        ("top.txt", "t\n"),
    ]);
    let v = t.view("r1", "conf/params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    fs::remove_dir_all(p.join("conf")).unwrap(); // `rm -rf conf`: links only
    fs::create_dir(p.join("conf")).unwrap();
    fs::write(p.join("conf/x"), "x").unwrap();
    let w = v.finish();
    assert_eq!(t.read("conf/keep.yaml"), "k\n");
    assert_eq!(t.read("conf/params.yaml"), "lr: 0.1\n");
    assert!(!t.exists("conf/x"));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("'conf'"), "{w:?}");

    // `rm -rf "$PWD"`: every link is gone with the view, and none reads as removed
    let v = t.view("r2", "conf/params.yaml", "lr: 0.5\n");
    fs::remove_dir_all(v.path()).unwrap();
    let w = v.finish();
    assert_eq!(t.read("top.txt"), "t\n");
    assert_eq!(t.read("conf/keep.yaml"), "k\n");
    assert!(w[0].contains("removed its working directory"), "{w:?}");
}

#[test]
fn a_view_dropped_unfinished_is_removed_without_carrying() {
    let t = Tree::with(&[("params.yaml", "lr: 0.1\n"), ("f.txt", "f\n")]);
    let v = t.view("r1", "params.yaml", "lr: 0.5\n");
    let p = v.path().to_path_buf();
    fs::write(p.join("new.txt"), "n").unwrap();
    fs::remove_file(p.join("f.txt")).unwrap();
    drop(v);
    assert!(!p.exists());
    assert!(!t.exists("new.txt"));
    assert_eq!(t.read("f.txt"), "f\n");
}

#[test]
fn stale_views_are_removed_and_live_ones_kept() {
    let t = Tree::with(&[("params.yaml", "lr: 0.1\n"), ("data/big.csv", "rows\n")]);
    let live = t.view("live", "params.yaml", "lr: 0.5\n");
    // a killed run's view: its lock died with the process
    let dead = t.views().join("dead");
    fs::create_dir(&dead).unwrap();
    symlink(t.root.join("data"), dead.join("data")).unwrap();
    symlink(t.root.join("params.yaml"), dead.join("p")).unwrap();
    fs::write(dead.join("params.yaml"), "lr: 0.5\n").unwrap();
    // one being made right now
    let making = t.views().join(".new-making");
    fs::create_dir(&making).unwrap();
    remove_stale(&t.views());
    assert!(!dead.exists());
    assert!(live.path().is_dir());
    assert!(making.is_dir());
    assert_eq!(
        t.read("data/big.csv"),
        "rows\n",
        "links are removed, never followed"
    );
    assert_eq!(t.read("params.yaml"), "lr: 0.1\n");
    assert!(live.finish().is_empty());
    // the same name again is refused while a view has it
    let again = t.view("dup", "params.yaml", "x");
    let e = View::create(&ViewSpec {
        views: &t.views(),
        name: "dup",
        root: &t.root,
        file: "params.yaml",
        bytes: b"y",
        code: &[],
        protect: &[],
    });
    assert!(e.is_err());
    assert!(again.finish().is_empty());
}

#[test]
fn a_path_outside_the_tree_is_refused() {
    let t = Tree::with(&[("params.yaml", "lr: 0.1\n")]);
    for bad in ["../params.yaml", "/etc/passwd", "", "a/../.."] {
        let r = View::create(&ViewSpec {
            views: &t.views(),
            name: "r",
            root: &t.root,
            file: bad,
            bytes: b"x",
            code: &[],
            protect: &[],
        });
        assert!(r.is_err(), "{bad}");
    }
    assert_eq!(names(&t.views()), Vec::<String>::new());
}

#[test]
fn across_file_systems_entries_are_copied_in() {
    // /dev/shm is a tmpfs on Linux: a view there is on another file system than the tree
    let shm = Path::new("/dev/shm");
    let t = Tree::with(&[("params.yaml", "lr: 0.1\n"), ("r.txt", "old\n")]);
    let other = tempfile::tempdir_in(shm).ok();
    let views = match &other {
        Some(d)
            if fs::metadata(d.path()).unwrap().dev() != fs::metadata(&t.root).unwrap().dev() =>
        {
            d.path().join("views")
        }
        _ => {
            // no second file system here: copy_tree is still checked directly
            let src = t.root.join("plain");
            fs::create_dir_all(src.join("d")).unwrap();
            fs::write(src.join("d/f"), "f").unwrap();
            symlink("d/f", src.join("l")).unwrap();
            copy_tree(&src, &t.root.join("copy")).unwrap();
            assert_eq!(t.read("copy/d/f"), "f");
            assert_eq!(
                fs::read_link(t.root.join("copy/l")).unwrap(),
                Path::new("d/f")
            );
            return;
        }
    };
    let v = View::create(&ViewSpec {
        views: &views,
        name: "r1",
        root: &t.root,
        file: "params.yaml",
        bytes: b"lr: 0.5\n",
        code: &[],
        protect: &[],
    })
    .unwrap();
    let p = v.path().to_path_buf();
    fs::create_dir_all(p.join("plots/d")).unwrap();
    fs::write(p.join("plots/d/a.png"), "png").unwrap();
    symlink("d/a.png", p.join("plots/l")).unwrap();
    replace_atomically(&p.join("r.txt"), "new\n");
    assert_eq!(v.finish(), Vec::<String>::new());
    assert_eq!(t.read("plots/d/a.png"), "png");
    assert_eq!(
        fs::read_link(t.root.join("plots/l")).unwrap(),
        Path::new("d/a.png")
    );
    assert_eq!(t.read("r.txt"), "new\n");
    assert_eq!(t.read("params.yaml"), "lr: 0.1\n");
    assert_eq!(names(&t.root), [".git", "params.yaml", "plots", "r.txt"]);
    assert_eq!(names(&views), Vec::<String>::new());
}

#[test]
fn code_directories_are_real_and_code_files_hard_links() {
    let t = Tree::with(&[
        ("params.yaml", "lr: 0.1\n"),
        ("src/pkg/train.py", "code\n"),
        ("src/pkg/helper.py", "helper\n"),
        ("src/notes.txt", "n\n"),
        ("data/big.csv", "rows\n"),
    ]);
    let code = ["src/pkg/train.py".to_string(), "gone/x.py".to_string()];
    let v = View::create(&ViewSpec {
        views: &t.views(),
        name: "r1",
        root: &t.root,
        file: "params.yaml",
        bytes: b"lr: 0.5\n",
        code: &code,
        protect: &[],
    })
    .unwrap();
    let p = v.path().to_path_buf();
    for d in ["src", "src/pkg"] {
        assert!(fs::symlink_metadata(p.join(d)).unwrap().is_dir(), "{d}");
    }
    let train = fs::symlink_metadata(p.join("src/pkg/train.py")).unwrap();
    assert!(train.is_file(), "a hard link, not a symbolic one");
    assert_eq!(
        train.ino(),
        fs::metadata(t.root.join("src/pkg/train.py")).unwrap().ino()
    );
    assert!(fs::symlink_metadata(p.join("src/pkg/helper.py"))
        .unwrap()
        .file_type()
        .is_symlink());
    // from the script's own path, resolved or not, `..` leads to the view's file
    let resolved = fs::canonicalize(p.join("src/pkg/train.py")).unwrap();
    let up = resolved
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap();
    assert_eq!(
        fs::read_to_string(up.join("params.yaml")).unwrap(),
        "lr: 0.5\n"
    );
    assert_eq!(
        fs::read_to_string(p.join("src/pkg/../../params.yaml")).unwrap(),
        "lr: 0.5\n"
    );
    // a renamed code file is renamed; one replaced is replaced; new files land
    fs::rename(p.join("src/pkg/train.py"), p.join("src/pkg/train_v2.py")).unwrap();
    replace_atomically(&p.join("src/pkg/helper.py"), "helper 2\n");
    fs::write(p.join("src/pkg/out.txt"), "o").unwrap();
    fs::remove_file(p.join("src/notes.txt")).unwrap();
    assert_eq!(v.finish(), Vec::<String>::new());
    assert!(!t.exists("src/pkg/train.py"));
    assert_eq!(t.read("src/pkg/train_v2.py"), "code\n");
    assert_eq!(t.read("src/pkg/helper.py"), "helper 2\n");
    assert_eq!(t.read("src/pkg/out.txt"), "o");
    assert!(!t.exists("src/notes.txt"));
    assert_eq!(t.read("data/big.csv"), "rows\n");
    assert_eq!(
        fs::metadata(t.root.join("src/pkg/train_v2.py"))
            .unwrap()
            .nlink(),
        1,
        "the view's name for it is gone"
    );
}
