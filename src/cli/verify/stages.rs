//! `verify --format markdown`: the per-stage section, the way CML comments show
//! results on a pull request — each stage's approved run, its metrics old, new and Δ
//! against the base, its figures (thumbnails when `--figures-url` says where the
//! forge serves the tip's files, else links), and forced or unsigned markers. Record
//! text (metric names and values, paths, names) is escaped for markdown and HTML.

use crate::model::decision::SignatureStatus;
use crate::model::figures::{html_attr, markdown_text, url_path};
use crate::model::manifest::display_value;
use crate::model::text::{escape_controls, Lines};
use crate::ops::verify::{FigureLink, MetricChange, StageResult};

/// Record text for markdown: controls escaped, then markdown and HTML made inert.
fn md(s: &str) -> String {
    markdown_text(&escape_controls(s, Lines::Escape))
}

/// The section, empty when no stage has an approved run mirrored at the tip.
pub fn section(stages: &[StageResult], figures_url: Option<&str>) -> String {
    if stages.is_empty() {
        return String::new();
    }
    let mut s = String::from("### Approved results\n\n");
    for r in stages {
        s.push_str(&stage(r, figures_url));
    }
    s
}

fn stage(r: &StageResult, figures_url: Option<&str>) -> String {
    let mut s = format!(
        "#### `{}`: run `{}`{}\n\n",
        r.stage,
        r.run,
        if r.base_run.as_ref() == Some(&r.run) {
            " (unchanged)"
        } else {
            ""
        }
    );
    let mut marks = vec![format!(
        "approved by {} on {}",
        md(&r.approved_by),
        r.approved_at.date()
    )];
    if r.forced {
        let checks: Vec<String> = r.overridden_checks.iter().map(|c| md(c)).collect();
        let over = if checks.is_empty() {
            String::new()
        } else {
            format!(" ({})", checks.join(", "))
        };
        marks.push(format!("⚠️ **forced** over a failed review{over}"));
    }
    marks.push(signature(r.signature).to_string());
    s.push_str(&marks.join(" · "));
    s.push_str("\n\n");
    match &r.base_run {
        Some(b) if *b != r.run => {
            s.push_str(&format!("The base of the range approved run `{b}`.\n\n"))
        }
        Some(_) => {}
        None => s.push_str("No approved run at the base of the range.\n\n"),
    }
    if !r.metrics.is_empty() {
        s.push_str("| metric | old | new | Δ |\n| --- | ---: | ---: | ---: |\n");
        for m in &r.metrics {
            s.push_str(&metric_row(m));
        }
        s.push('\n');
    }
    if !r.figures.is_empty() {
        s.push_str(&figures(&r.figures, figures_url));
    }
    s
}

fn signature(s: SignatureStatus) -> &'static str {
    match s {
        SignatureStatus::Good => "🔏 signed",
        SignatureStatus::Unsigned => "⚠️ **unsigned**",
        SignatureStatus::Unverified => "signature not verified (no allowed-signers file)",
        SignatureStatus::BadSignature => "❌ **bad signature**",
        SignatureStatus::UnlistedSigner => "❌ **signed by a key not allowed**",
        SignatureStatus::WrongSigner => "❌ **signed by someone other than the approver**",
        SignatureStatus::InvalidRecord => "❌ **invalid approval record**",
    }
}

fn metric_row(m: &MetricChange) -> String {
    let value = |v: &Option<serde_json::Value>| {
        v.as_ref()
            .map_or("—".to_string(), |v| md(&display_value(v)))
    };
    format!(
        "| {} | {} | {} | {} |\n",
        md(&m.name),
        value(&m.old),
        value(&m.new),
        m.delta.map_or("—".to_string(), delta)
    )
}

/// A difference with its sign and at most six decimals, trailing zeros dropped.
pub fn delta(d: f64) -> String {
    if d == 0.0 {
        return "0".into();
    }
    let s = format!("{d:+.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "+" || s == "-" || s == "+0" || s == "-0" {
        format!("{d:+e}")
    } else {
        s.to_string()
    }
}

fn figures(figs: &[FigureLink], url: Option<&str>) -> String {
    let mut s = String::from("Figures:\n\n");
    for f in figs {
        let alt = md(&f.output);
        let line = match (&f.path, &f.not_mirrored) {
            (Some(p), _) if !f.committed => {
                format!("- {alt} — not committed at the tip ({})\n", md(p))
            }
            (Some(p), _) => match url {
                Some(prefix) => {
                    let sep = if prefix.ends_with('/') { "" } else { "/" };
                    let u = html_attr(&format!("{prefix}{sep}{}", url_path(p)));
                    format!(
                        "<a href=\"{u}\"><img src=\"{u}\" alt=\"{}\" width=\"360\"></a>\n",
                        html_attr(&escape_controls(&f.output, Lines::Escape))
                    )
                }
                None => format!("- [{alt}]({})\n", url_path(p)),
            },
            (None, Some(why)) => format!("- {alt} — not mirrored: {}\n", md(&why.to_string())),
            (None, None) => format!("- {alt}\n"),
        };
        s.push_str(&line);
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_keep_their_sign_and_few_decimals() {
        assert_eq!(delta(0.05000000000000004), "+0.05");
        assert_eq!(delta(-2.0), "-2");
        assert_eq!(delta(0.0), "0");
        assert_eq!(delta(1e-9), "+1e-9");
    }
}
