//! Figures where people review them: the approved run's figures are committed beside
//! its card (and the candidate's beside the candidate card), from the exact approved
//! bytes, so the card's image links resolve in a pull request; an approval replaces
//! them; oversize and hostile names are never mirrored and the card says why;
//! tampering is caught; `verify --format markdown` shows per stage the approved run,
//! its metrics old/new/Δ against the range's base, its figures and its markers.

use crate::common::Repo;
use crate::{run_json, TRAIN_CONFIG};

/// Writes two PNG-headed figures under `figures/` (one named after the learning rate,
/// so a new run replaces it with another name) and the learning rate as the score.
const FIG_SH: &str = r#"set -e
mkdir -p "$WORKBENCH_RUN_DIR/figures"
lr=$(printf '%s' "$WORKBENCH_PARAMS" | sed 's/.*"train.lr": *\([0-9.]*\).*/\1/')
cp data/small.png "$WORKBENCH_RUN_DIR/figures/loss-$lr.png"
printf '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="40"><text x="4" y="20">%s</text></svg>' "$lr" > "$WORKBENCH_RUN_DIR/figures/curve.svg"
if [ -f data/big.png ]; then cp data/big.png "$WORKBENCH_RUN_DIR/figures/big.png"; fi
printf '{"score": %s}' "$lr" > "$WORKBENCH_RUN_DIR/metrics.json"
"#;

fn config(extra: &str) -> String {
    format!(
        "{TRAIN_CONFIG}\n[stages.fig]\ncmd = \"sh scripts/fig.sh\"\nouts = [\"runs/{{run_id}}/figures/\"]\nmetrics = \"runs/{{run_id}}/metrics.json\"\nparams = {{ file = \"params.yaml\", keys = [\"train.*\"] }}\n{extra}"
    )
}

/// A PNG of `side`² pixels that is no flat colour: a checkerboard, or noise (which does
/// not compress) when `noisy`.
fn png(side: u32, noisy: bool) -> Vec<u8> {
    let mut seed = 12345u32;
    let mut data = Vec::new();
    for y in 0..side {
        for x in 0..side {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let v = if noisy {
                (seed >> 16) as u8
            } else {
                255 * ((x + y) % 2) as u8
            };
            data.extend([v, v / 2, 255 - v]);
        }
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, side, side);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
    out
}

fn fig_repo(script: &str, extra: &str) -> Repo {
    let repo = Repo::with(
        &config(extra),
        &[
            ("scripts/fig.sh", script),
            ("scripts/train.sh", crate::TRAIN_SH),
            ("data/in.csv", "a,b\n1,2\n"),
            ("params.yaml", "train:\n  lr: 0.1\n  depth: 3\nother: 1\n"),
        ],
    );
    std::fs::write(repo.path("data/small.png"), png(8, false)).unwrap();
    if extra.contains("max_stored_size") {
        std::fs::write(repo.path("data/big.png"), png(64, true)).unwrap();
    }
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "figures"]);
    repo
}

/// Runs, reviews, cards and approves `fig` with `args`; returns the run id.
fn approved(repo: &Repo, args: &[&str]) -> String {
    let mut a = vec!["fig"];
    a.extend_from_slice(args);
    let id = run_json(repo, &a);
    repo.wb(&["review", &id]).ok();
    repo.wb(&["card", &id, "-m", "The curve is flat."]).ok();
    repo.wb(&["approve", &id, "--yes"]).ok();
    id
}

/// The raw bytes of `rev:path`, or None when the tree has no such file.
fn blob(repo: &Repo, rev: &str, path: &str) -> Option<Vec<u8>> {
    let out = repo
        .cmd("git", &["cat-file", "blob", &format!("{rev}:{path}")])
        .output()
        .unwrap();
    out.status.success().then_some(out.stdout)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// The targets of the card's markdown images (`![alt](target)`).
fn image_links(card: &str) -> Vec<String> {
    card.split("![")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find("](")? + 2;
            let end = rest[start..].find(')')? + start;
            Some(rest[start..end].to_string())
        })
        .collect()
}

/// Each image of the card committed at `dir/card.md` resolves, relative to the card, to
/// a committed file whose bytes are the run's figure's; returns the resolved paths.
fn assert_links_resolve(repo: &Repo, dir: &str, id: &str) -> Vec<String> {
    let card = String::from_utf8(blob(repo, "HEAD", &format!("{dir}/card.md")).unwrap()).unwrap();
    let links = image_links(&card);
    assert!(!links.is_empty(), "the card shows its figures:\n{card}");
    let mut resolved = Vec::new();
    for link in links {
        assert!(
            !link.contains("runs/") && !link.starts_with('/') && !link.contains(".."),
            "a link into the working tree's runs/, never committed: {link}"
        );
        let path = format!("{dir}/{}", percent_decode(&link));
        let committed = blob(repo, "HEAD", &path).unwrap_or_else(|| panic!("{path} committed"));
        let name = path.rsplit("/figures/").next().unwrap();
        let original = std::fs::read(repo.path(&format!("runs/{id}/figures/{name}"))).unwrap();
        assert_eq!(committed, original, "{path}: the run's exact bytes");
        resolved.push(path);
    }
    resolved
}

#[test]
fn approved_figures_are_committed_beside_the_card_and_its_links_resolve() {
    let repo = fig_repo(FIG_SH, "");
    let a = approved(&repo, &[]);
    repo.git(&["commit", "-q", "-m", "approve a"]);
    let paths = assert_links_resolve(&repo, "review/fig", &a);
    assert_eq!(
        paths,
        [
            "review/fig/figures/figures/curve.svg",
            "review/fig/figures/figures/loss-0.1.png"
        ]
    );
    assert!(repo.git(&["status", "--porcelain"]).is_empty());

    // a new run: its figures beside the candidate card, the approved ones untouched
    let b = run_json(&repo, &["fig", "-p", "train.lr=0.3"]);
    repo.wb(&["review", &b]).ok();
    repo.wb(&["card", &b, "-m", "Steeper."]).ok();
    let cand = repo.path("review/fig/candidate/figures/figures/loss-0.3.png");
    assert_eq!(
        std::fs::read(&cand).unwrap(),
        std::fs::read(repo.path(&format!("runs/{b}/figures/loss-0.3.png"))).unwrap()
    );
    assert!(repo
        .path("review/fig/figures/figures/loss-0.1.png")
        .exists());

    repo.wb(&["approve", &b, "--yes"]).ok();
    assert!(
        !repo
            .path("review/fig/figures/figures/loss-0.1.png")
            .exists(),
        "the old run's figure is removed"
    );
    assert!(!repo.path("review/fig/candidate").exists());
    let staged = repo.git(&["diff", "--cached", "--name-status", "--no-renames"]);
    assert!(
        staged.contains("D\treview/fig/figures/figures/loss-0.1.png")
            && staged.contains("A\treview/fig/figures/figures/loss-0.3.png")
            && staged.contains("M\treview/fig/figures/figures/curve.svg"),
        "the approval stages the figures it presents:\n{staged}"
    );
    repo.git(&["commit", "-q", "-m", "approve b"]);
    assert_links_resolve(&repo, "review/fig", &b);
    repo.wb(&["verify"]).ok();
    repo.fsck();
}

#[test]
fn a_figure_over_the_stored_size_is_not_mirrored_and_the_card_says_why() {
    let repo = fig_repo(FIG_SH, "max_stored_size = \"1KiB\"\n");
    let a = approved(&repo, &[]);
    repo.git(&["commit", "-q", "-m", "approve"]);
    let card = repo.read("review/fig/card.md");
    assert!(
        card.contains(&format!(
            "- runs/{a}/figures/big.png — not mirrored: larger than the stage's max_stored_size"
        )),
        "{card}"
    );
    assert!(!repo.path("review/fig/figures/figures/big.png").exists());
    assert_eq!(assert_links_resolve(&repo, "review/fig", &a).len(), 2);
    let j = repo.wb(&["--json", "verify"]).ok().json();
    let figs = &j["stages"][0]["figures"];
    let big = figs
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["output"].as_str().unwrap().ends_with("big.png"))
        .unwrap();
    assert_eq!(big["path"], serde_json::Value::Null);
    assert_eq!(big["not_mirrored"]["kind"], "not_stored");
}

/// Names a record can carry from a hostile agent: markup, spaces and parentheses that
/// end a markdown link, and two names that fold to one on a case-insensitive disk.
const HOSTILE_SH: &str = r#"set -e
d="$WORKBENCH_RUN_DIR/figures"
mkdir -p "$d"
cp data/small.png "$d/a b(1).png"
printf '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><text>x</text></svg>' > "$d/\"><img src=x onerror=alert(1)>.svg"
cp data/small.png "$d/Case.png"
cp data/small.png "$d/case.png"
printf '{"score": 1}' > "$WORKBENCH_RUN_DIR/metrics.json"
"#;

#[test]
fn hostile_figure_names_stay_inert_inside_the_mirror() {
    let repo = fig_repo(HOSTILE_SH, "");
    let a = approved(&repo, &[]);
    repo.git(&["commit", "-q", "-m", "approve"]);
    let card = repo.read("review/fig/card.md");
    let figures = card.split("\nFigures:\n").nth(1).unwrap();
    let figures = figures.split("\n## ").next().unwrap();
    assert!(
        !figures.contains("<img") && figures.contains("&lt;img"),
        "markup in a name is escaped (elsewhere it is in a code span):\n{card}"
    );
    assert!(
        card.contains("(figures/figures/a%20b%281%29.png)"),
        "spaces and parentheses are percent-encoded:\n{card}"
    );
    assert!(
        card.contains("not mirrored: its name collides with the figure"),
        "{card}"
    );
    // every link resolves; every mirrored file is inside the mirror
    assert_eq!(assert_links_resolve(&repo, "review/fig", &a).len(), 3);
    for p in repo.git(&["ls-files"]).lines() {
        assert!(
            !p.contains("..") && (p.starts_with("review/fig/") || !p.starts_with("review")),
            "{p}"
        );
    }
    repo.wb(&["verify"]).ok();
    repo.fsck();
}

#[test]
fn verify_and_doctor_catch_a_tampered_missing_or_foreign_figure() {
    let repo = fig_repo(FIG_SH, "");
    approved(&repo, &[]);
    repo.git(&["commit", "-q", "-m", "approve"]);
    let fig = "review/fig/figures/figures/curve.svg";

    repo.write(fig, "<svg>edited</svg>");
    repo.git(&["commit", "-q", "-a", "-m", "tamper"]);
    let out = repo.wb(&["verify"]).fails(1, "");
    assert!(out.stdout.contains(fig), "{}", out.stdout);
    let doctor = repo.wb(&["--json", "doctor"]).json();
    assert!(doctor.to_string().contains("curve.svg"), "{doctor}");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);

    repo.git(&["rm", "-q", fig]);
    repo.git(&["commit", "-q", "-m", "drop"]);
    let out = repo.wb(&["verify"]).ok();
    assert!(
        out.stdout.contains("warning") && out.stdout.contains(fig),
        "a missing figure is a warning (an older mirror lacks them):\n{}",
        out.stdout
    );
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);

    repo.write("review/fig/figures/evil.png", "not the run's");
    // untracked mirror files are ignored: an attacker forces it in
    repo.git(&["add", "-f", "review/fig/figures/evil.png"]);
    repo.git(&["commit", "-q", "-m", "foreign"]);
    let out = repo.wb(&["verify"]).fails(1, "");
    assert!(
        out.stdout.contains("review/fig/figures/evil.png"),
        "a file under figures/ that is no figure of the run:\n{}",
        out.stdout
    );
}

#[test]
fn verify_markdown_shows_each_stage_old_new_delta_figures_and_markers() {
    let repo = fig_repo(FIG_SH, "");
    // an allowed-signers file at the base: an unsigned approval is marked
    repo.write(".workbench/allowed_signers", "");
    let a = approved(&repo, &[]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "approve a"]);
    let base = repo.git(&["rev-parse", "HEAD"]);
    let b = approved(&repo, &["-p", "train.lr=0.35"]);
    repo.git(&["commit", "-q", "-m", "approve b"]);

    let range = format!("{base}..HEAD");
    let md = repo
        .wb(&["verify", "--range", &range, "--format", "markdown"])
        .stdout;
    assert!(md.contains("### Approved results\n\n"), "{md}");
    assert!(md.contains(&format!("#### `fig`: run `{b}`\n")), "{md}");
    assert!(
        md.contains(&format!("The base of the range approved run `{a}`.")),
        "{md}"
    );
    assert!(md.contains("| score | 0.1 | 0.35 | +0.25 |"), "{md}");
    assert!(md.contains("⚠️ **unsigned**"), "{md}");
    assert!(
        md.contains("- [runs/") && md.contains("(review/fig/figures/figures/loss-0.35.png)"),
        "relative links without --figures-url:\n{md}"
    );

    let url = "https://forge.example/o/r/raw/abc/";
    let md = repo
        .wb(&[
            "verify",
            "--range",
            &range,
            "--format",
            "markdown",
            "--figures-url",
            url,
        ])
        .stdout;
    assert!(
        md.contains(&format!(
            "<img src=\"{url}review/fig/figures/figures/loss-0.35.png\""
        )),
        "thumbnails under the forge's URL:\n{md}"
    );

    let j = repo.wb(&["--json", "verify", "--range", &range]).json();
    let s = &j["stages"][0];
    assert_eq!(s["run"], b.as_str());
    assert_eq!(s["base_run"], a.as_str());
    assert_eq!(s["signature"], "unsigned");
    assert_eq!(s["metrics"][0]["old"], 0.1);
    assert_eq!(s["metrics"][0]["new"], 0.35);
    assert!((s["metrics"][0]["delta"].as_f64().unwrap() - 0.25).abs() < 1e-9);
    assert!(s["figures"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["committed"] == true));
}
