//! The card (`card.md`): the seed's presentation of a run for a human decision —
//! what ran, key outputs, the self-review summary, the AI interpretation marked as a
//! draft pending approval, and the recommendation. Rendering is a pure function.

use super::manifest::{display_value, RunManifest};
use super::review::ReviewRecord;
use super::text::{escape_controls, Lines};

pub const DRAFT_MARK: &str = "Draft — pending human approval.";

/// Output files shown as figures.
pub fn is_figure(path: &str) -> bool {
    let p = path.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".svg"]
        .iter()
        .any(|e| p.ends_with(e))
}

/// What a card recommends when the agent gives no recommendation of its own.
fn decision_hint(review: &ReviewRecord, run_id: &str) -> String {
    use super::review::Verdict;
    match review.verdict {
        Verdict::Pass => format!(
            "The self-review passed. Approve if the results and the interpretation hold \
             (git workbench approve {run_id}), or reject with feedback."
        ),
        Verdict::PassWithWarnings => format!(
            "The self-review passed with warnings. Weigh them before approving \
             (git workbench approve {run_id}), or reject with feedback."
        ),
        Verdict::Fail => format!(
            "The self-review failed. Reject with feedback (git workbench reject {run_id} --issue ...) \
             and run the stage again."
        ),
    }
}

/// The card's figures: each an image linked where the mirror puts it beside the card
/// (`model::figures`), or a line saying why it is not mirrored.
fn push_figures(c: &mut String, m: &RunManifest) {
    use super::figures::{figures, markdown_text, url_path};
    let figures = figures(m);
    if figures.is_empty() {
        return;
    }
    c.push_str("\nFigures:\n\n");
    for f in figures {
        let alt = markdown_text(&f.output);
        match (&f.mirrored, f.slot_path()) {
            (Ok(_), Some(rel)) => c.push_str(&format!("![{alt}]({})\n\n", url_path(&rel))),
            (Err(why), _) => c.push_str(&format!("- {alt} — not mirrored: {why}\n\n")),
            (Ok(_), None) => {}
        }
    }
}

/// Renders the card. `interpretation` is the agent's draft (None: not drafted yet).
pub fn render_card(
    m: &RunManifest,
    review: &ReviewRecord,
    interpretation: Option<&str>,
    recommendation: Option<&str>,
) -> String {
    let mut c = String::new();
    c.push_str(&format!("# {} — run {}\n\n", m.stage, m.run_id));

    c.push_str("## What ran\n\n");
    c.push_str(&format!("- Stage: `{}`\n", m.stage));
    c.push_str(&format!("- Command: `{}`\n", m.command));
    let status = m.status.as_str();
    c.push_str(&format!(
        "- Started {} and took {:.2} s ({status}, exit {})\n",
        m.started_at, m.duration_seconds, m.exit_code
    ));
    let code = match &m.code_ref.commit {
        Some(commit) => format!("`{}`", commit.short()),
        None => "no commit".to_string(),
    };
    let dirty = if m.code_ref.dirty {
        " with uncommitted changes"
    } else {
        ""
    };
    c.push_str(&format!(
        "- Code: {code}{dirty} (snapshot `{}`)\n",
        m.code_ref.tree.short()
    ));
    if m.params_used.is_empty() {
        c.push_str("- Params: none\n");
    } else {
        c.push_str("- Params:\n");
        for (k, v) in &m.params_used {
            let o = if m.overrides.contains_key(k) {
                " (override)"
            } else {
                ""
            };
            c.push_str(&format!("  - `{k}` = {}{o}\n", display_value(v)));
        }
    }

    c.push_str("\n## Key outputs\n\n");
    if m.outputs.is_empty() && m.missing_outputs.is_empty() && m.unrecorded_outputs.is_empty() {
        c.push_str("No output files.\n");
    }
    for (path, hash) in &m.outputs {
        c.push_str(&format!("- `{path}` ({})\n", &hash.to_string()[..19]));
    }
    for path in &m.missing_outputs {
        c.push_str(&format!("- `{path}` — declared but not produced\n"));
    }
    for path in &m.unrecorded_outputs {
        c.push_str(&format!(
            "- `{path}` — not recorded: the name is not UTF-8\n"
        ));
    }
    if !m.metrics.is_empty() {
        c.push_str("\n| metric | value |\n| --- | --- |\n");
        for (k, v) in &m.metrics {
            c.push_str(&format!("| {k} | {} |\n", display_value(v)));
        }
    }
    push_figures(&mut c, m);

    c.push_str("\n## Self-review\n\n");
    let failed = review.checks.iter().filter(|x| !x.pass).count();
    c.push_str(&format!(
        "Verdict: **{}** ({} checks, {} blocking issues, {} warnings)\n\n",
        review.verdict.as_str(),
        review.checks.len(),
        review.blocking_issues.len(),
        review.warnings.len()
    ));
    for check in &review.checks {
        let mark = if check.pass { "x" } else { " " };
        let kind = match (check.pass, check.blocking) {
            (true, _) => "",
            (false, true) => " — blocking",
            (false, false) => " — warning",
        };
        let note = check
            .note
            .as_deref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        let agent = if check.source == "agent" {
            " (agent)"
        } else {
            ""
        };
        c.push_str(&format!("- [{mark}] {}{agent}{kind}{note}\n", check.name));
    }
    if failed == 0 && review.checks.is_empty() {
        c.push_str("No checks ran.\n");
    }

    c.push_str("\n## AI interpretation\n\n");
    c.push_str(&format!("_{DRAFT_MARK}_\n\n"));
    match interpretation.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => {
            c.push_str(text);
            c.push('\n');
        }
        None => c.push_str("_No interpretation drafted yet._\n"),
    }

    c.push_str("\n## Recommendation\n\n");
    let default = decision_hint(review, &m.run_id);
    c.push_str(recommendation.unwrap_or(&default).trim());
    c.push('\n');
    // The card is read in terminals (`card`, `approve`, `cat`) as well as editors:
    // the control characters of record text are escaped in the file itself.
    escape_controls(&c, Lines::Keep).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::review::{CheckResult, ReviewRecord};

    #[test]
    fn card_has_the_seed_sections_in_order() {
        const R1: &str = "20260308T142233Z-1e2a";
        let (aa, bb) = ("a".repeat(64), "b".repeat(64));
        let m: RunManifest = serde_json::from_value(serde_json::json!({
            "schema": "workbench/manifest/v1", "stage": "baseline", "run_id": R1,
            "parent_run_id": null, "status": "executed",
            "params_used": {"baseline.threshold": 1.5}, "overrides": {"baseline.threshold": 1.5},
            "inputs": {}, "outputs": {"runs/R1/fig.png": format!("sha256:{aa}"),
                                      "runs/R1/m.json": format!("sha256:{bb}"),
                                      "runs/R1/big.svg": format!("sha256:{bb}")},
            "stored_outputs": ["runs/R1/fig.png", "runs/R1/m.json"],
            "code_ref": {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": true,
                         "tree": "fedcba9876543210fedcba9876543210fedcba98"},
            "command": "python3 x.py", "exit_code": 0, "started_at": "2026-03-08T14:22:33.120Z",
            "duration_seconds": 1.5, "metrics": {"precision": 0.9}, "run_dir": "runs/R1",
            "log_bytes": 0, "host": "h", "tool_version": "v"
        }))
        .unwrap();
        let review = ReviewRecord::new(
            &m.stage,
            &m.run_id,
            vec![
                CheckResult::builtin("output_files_exist", true, true, None),
                CheckResult::builtin(
                    "metrics_changed_with_params",
                    false,
                    false,
                    Some("same as R0".into()),
                ),
            ],
            crate::model::time::Timestamp::from_unix_millis(0),
            "a".into(),
        );
        let card = render_card(&m, &review, Some("Precision is high."), Some("approve"));
        let order = [
            "## What ran",
            "## Key outputs",
            "## Self-review",
            "## AI interpretation",
            "## Recommendation",
        ];
        let pos: Vec<usize> = order.iter().map(|h| card.find(h).unwrap()).collect();
        assert!(pos.windows(2).all(|w| w[0] < w[1]), "{card}");
        assert!(card.contains("`baseline.threshold` = 1.5 (override)"));
        assert!(card.contains("| precision | 0.9 |"));
        assert!(
            card.contains("![runs/R1/fig.png](figures/fig.png)"),
            "{card}"
        );
        assert!(
            card.contains(
                "- runs/R1/big.svg — not mirrored: larger than the stage's max_stored_size"
            ),
            "{card}"
        );
        assert!(card.contains("Verdict: **pass_with_warnings**"));
        assert!(card.contains("- [ ] metrics_changed_with_params — warning: same as R0"));
        assert!(card.contains(DRAFT_MARK));
        assert!(card.contains("Precision is high."));
        assert!(card.ends_with("## Recommendation\n\napprove\n"));
        assert!(card.contains("with uncommitted changes"));
        let hostile = render_card(&m, &review, Some("fine\x1b]0;pwned\x07 \u{202e}txt"), None);
        assert!(
            hostile.contains("fine\\x1b]0;pwned\\x07 \\u{202e}txt"),
            "{hostile}"
        );
        assert!(!hostile.contains('\x1b'));
        let no_draft = render_card(&m, &review, None, None);
        assert!(no_draft.contains("No interpretation drafted yet"));
        assert!(
            no_draft.contains(&format!("git workbench approve {R1}")),
            "{no_draft}"
        );
    }
}
